/* The storage interface the C host persists through: named files in one place (a directory, a
 * LittleFS partition), synchronous. It mirrors hosts/shared/storage.ts (docs/HOSTS.md) and holds
 * the same files: appendonly.aof, dump.rvs, temp-* (jobs in progress).
 *
 * | operation     | contract                                                                    |
 * |---------------|-----------------------------------------------------------------------------|
 * | size          | byte size, or -1 when the file does not exist                               |
 * | read          | up to n bytes from offset at (fewer only at the end); -1 on error           |
 * | open_append   | a handle appending at the end (created if missing)                          |
 * | create        | a handle writing a new, empty file (an existing one is truncated)           |
 * | append / sync | write all bytes at the end / make everything appended durable (fdatasync)   |
 * | replace       | atomically puts `from` in place of `to`; durable when it returns            |
 * | truncate      | cuts the file to n bytes; durable when it returns                           |
 * | remove, list  | delete if present / call back with each file name                           |
 * | lock          | makes this the only owner of the place (0), or -1 naming the holder in err  |
 *
 * Every call returning int gives 0 on success and -1 on failure, with the reason in last_error. */
#ifndef RV_STORAGE_H
#define RV_STORAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct rv_file rv_file;

typedef struct rv_storage {
  void *ctx;
  /* Where the files are, for messages ("./data", "/littlefs"). */
  const char *location;
  int64_t (*size)(void *ctx, const char *name);
  int64_t (*read)(void *ctx, const char *name, uint64_t at, uint8_t *buf, size_t n);
  rv_file *(*open_append)(void *ctx, const char *name);
  rv_file *(*create)(void *ctx, const char *name);
  int (*append)(void *ctx, rv_file *f, const uint8_t *bytes, size_t n);
  int (*sync)(void *ctx, rv_file *f);
  /* Current size of an open file, appends included. */
  uint64_t (*file_size)(void *ctx, rv_file *f);
  int (*close)(void *ctx, rv_file *f);
  int (*replace)(void *ctx, const char *from, const char *to);
  int (*truncate)(void *ctx, const char *name, uint64_t n);
  int (*remove)(void *ctx, const char *name);
  int (*list)(void *ctx, void (*each)(void *arg, const char *name), void *arg);
  int (*lock)(void *ctx, const char *owner, char *err, size_t errlen);
  void (*unlock)(void *ctx);
  const char *(*last_error)(void *ctx);
} rv_storage;

#endif
