/* Heap accounting and the --memory-budget cap of the POSIX port (capped_alloc.c). */
#ifndef RV_CAPPED_ALLOC_H
#define RV_CAPPED_ALLOC_H

#include <stddef.h>

void rv_heap_set_cap(size_t cap); /* 0 = no cap */
size_t rv_heap_cap(void);
size_t rv_heap_used(void);
size_t rv_heap_peak(void);
size_t rv_heap_failures(void);
void rv_heap_reset_peak(void);

#endif
