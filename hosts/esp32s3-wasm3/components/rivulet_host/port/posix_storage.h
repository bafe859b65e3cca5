/* rv_storage over a POSIX directory (Linux; ESP-IDF's VFS over LittleFS offers the same calls). */
#ifndef RV_POSIX_STORAGE_H
#define RV_POSIX_STORAGE_H

#include "rv_storage.h"

/* Creates the directory if missing. 0, or -1 with the reason in err. `st` is filled in; its ctx
 * points into `*state` (keep both alive). */
typedef struct rv_posix_storage {
  char dir[512];
  char error[256];
  int lock_fd;
  int locked;
} rv_posix_storage;

int rv_posix_storage_init(rv_storage *st, rv_posix_storage *state, const char *dir, char *err, size_t errlen);

#endif
