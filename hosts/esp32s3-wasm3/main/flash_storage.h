/* An rv_storage whose every call runs on a task with an internal-RAM stack: flash writes disable
 * the cache, and a task whose stack is in PSRAM (the engine's) must not touch flash then. */
#ifndef RV_FLASH_STORAGE_H
#define RV_FLASH_STORAGE_H

#include "rv_storage.h"

/* Wraps `inner` (the POSIX storage over LittleFS); 0 on success. */
int rv_flash_storage_init(rv_storage *out, const rv_storage *inner);

#endif
