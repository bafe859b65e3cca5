/* rv_storage over a directory: write(2), fdatasync(2), rename(2) + fsync of the directory for an
 * atomic, durable replace; the owner's lock is `rivulet.pid` holding its pid (a dead owner's lock
 * is taken over), as hosts/node/fs-storage.ts does. */
#define _GNU_SOURCE
#include "posix_storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

struct rv_file {
  int fd;
  uint64_t size;
};

#define LOCK_NAME "rivulet.pid"

static int fail(rv_posix_storage *s, const char *what, const char *name) {
  snprintf(s->error, sizeof s->error, "%s %s: %s", what, name, strerror(errno));
  return -1;
}

static void path_of(rv_posix_storage *s, const char *name, char *out, size_t cap) { snprintf(out, cap, "%s/%s", s->dir, name); }

static int sync_dir(rv_posix_storage *s) {
#if defined(ESP_PLATFORM)
  (void)s;
  return 0; /* LittleFS commits metadata on close/rename */
#else
  int fd = open(s->dir, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return fail(s, "opening", s->dir);
  int r = fsync(fd);
  close(fd);
  return r == 0 ? 0 : fail(s, "fsync of", s->dir);
#endif
}

static int data_sync(int fd) {
#if defined(__linux__)
  return fdatasync(fd);
#else
  return fsync(fd);
#endif
}

static int64_t st_size(void *ctx, const char *name) {
  rv_posix_storage *s = (rv_posix_storage *)ctx;
  char p[768];
  path_of(s, name, p, sizeof p);
  struct stat sb;
  if (stat(p, &sb) != 0) return -1;
  return (int64_t)sb.st_size;
}

static int64_t st_read(void *ctx, const char *name, uint64_t at, uint8_t *buf, size_t n) {
  rv_posix_storage *s = (rv_posix_storage *)ctx;
  char p[768];
  path_of(s, name, p, sizeof p);
  int fd = open(p, O_RDONLY);
  if (fd < 0) return fail(s, "opening", name);
  size_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, buf + got, n - got, (off_t)(at + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      close(fd);
      return fail(s, "reading", name);
    }
    if (r == 0) break;
    got += (size_t)r;
  }
  close(fd);
  return (int64_t)got;
}

static rv_file *open_flags(rv_posix_storage *s, const char *name, int flags) {
  char p[768];
  path_of(s, name, p, sizeof p);
  int fd = open(p, flags | O_WRONLY | O_CREAT, 0644);
  if (fd < 0) {
    fail(s, "opening", name);
    return NULL;
  }
  rv_file *f = (rv_file *)malloc(sizeof *f);
  if (!f) {
    close(fd);
    snprintf(s->error, sizeof s->error, "out of memory");
    return NULL;
  }
  struct stat sb;
  f->fd = fd;
  f->size = fstat(fd, &sb) == 0 ? (uint64_t)sb.st_size : 0;
  return f;
}

static rv_file *st_open_append(void *ctx, const char *name) { return open_flags((rv_posix_storage *)ctx, name, O_APPEND); }
static rv_file *st_create(void *ctx, const char *name) { return open_flags((rv_posix_storage *)ctx, name, O_TRUNC); }

static int st_append(void *ctx, rv_file *f, const uint8_t *bytes, size_t n) {
  rv_posix_storage *s = (rv_posix_storage *)ctx;
  size_t done = 0;
  while (done < n) {
    ssize_t r = write(f->fd, bytes + done, n - done);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      /* a short write leaves part of a record: cut it so the file stays a sequence of records */
      if (done && ftruncate(f->fd, (off_t)f->size) == 0) done = 0;
      f->size += done;
      return fail(s, "writing", "the file");
    }
    done += (size_t)r;
  }
  f->size += n;
  return 0;
}

static int st_sync(void *ctx, rv_file *f) { return data_sync(f->fd) == 0 ? 0 : fail((rv_posix_storage *)ctx, "fsync of", "the file"); }
static uint64_t st_file_size(void *ctx, rv_file *f) {
  (void)ctx;
  return f->size;
}

static int st_close(void *ctx, rv_file *f) {
  int r = close(f->fd);
  free(f);
  return r == 0 ? 0 : fail((rv_posix_storage *)ctx, "closing", "the file");
}

static int st_replace(void *ctx, const char *from, const char *to) {
  rv_posix_storage *s = (rv_posix_storage *)ctx;
  char a[768], b[768];
  path_of(s, from, a, sizeof a);
  path_of(s, to, b, sizeof b);
  if (rename(a, b) != 0) return fail(s, "renaming", from);
  return sync_dir(s);
}

static int st_truncate(void *ctx, const char *name, uint64_t n) {
  rv_posix_storage *s = (rv_posix_storage *)ctx;
  char p[768];
  path_of(s, name, p, sizeof p);
  int fd = open(p, O_WRONLY);
  if (fd < 0) return fail(s, "opening", name);
  int r = ftruncate(fd, (off_t)n) == 0 && data_sync(fd) == 0 ? 0 : -1;
  if (r) fail(s, "truncating", name);
  close(fd);
  return r;
}

static int st_remove(void *ctx, const char *name) {
  rv_posix_storage *s = (rv_posix_storage *)ctx;
  char p[768];
  path_of(s, name, p, sizeof p);
  if (unlink(p) != 0 && errno != ENOENT) return fail(s, "removing", name);
  return 0;
}

static int st_list(void *ctx, void (*each)(void *arg, const char *name), void *arg) {
  rv_posix_storage *s = (rv_posix_storage *)ctx;
  DIR *d = opendir(s->dir);
  if (!d) return fail(s, "listing", s->dir);
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] != '.') each(arg, de->d_name);
  }
  closedir(d);
  return 0;
}

static int st_lock(void *ctx, const char *owner, char *err, size_t errlen) {
  rv_posix_storage *s = (rv_posix_storage *)ctx;
  (void)owner;
#if defined(ESP_PLATFORM)
  s->locked = 1; /* one firmware owns its partition */
  (void)err;
  (void)errlen;
  return 0;
#else
  char p[768];
  path_of(s, LOCK_NAME, p, sizeof p);
  for (int attempt = 0; attempt < 2; attempt++) {
    int fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      char line[32];
      int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
      if (write(fd, line, (size_t)n) != n) {
        close(fd);
        unlink(p);
        snprintf(err, errlen, "writing %s: %s", p, strerror(errno));
        return -1;
      }
      close(fd);
      s->locked = 1;
      return 0;
    }
    if (errno != EEXIST) {
      snprintf(err, errlen, "creating %s: %s", p, strerror(errno));
      return -1;
    }
    char line[32] = {0};
    int rfd = open(p, O_RDONLY);
    if (rfd >= 0) {
      ssize_t n = read(rfd, line, sizeof line - 1);
      (void)n;
      close(rfd);
    }
    long pid = atol(line);
    if (pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
      snprintf(err, errlen, "rivulet: the data directory %s is in use by pid %ld; one engine or server owns a directory at a time", s->dir, pid);
      return -1;
    }
    unlink(p); /* a dead owner's lock: take it over */
  }
  snprintf(err, errlen, "could not take the lock %s", p);
  return -1;
#endif
}

static void st_unlock(void *ctx) {
  rv_posix_storage *s = (rv_posix_storage *)ctx;
  if (!s->locked) return;
  s->locked = 0;
#if !defined(ESP_PLATFORM)
  char p[768];
  path_of(s, LOCK_NAME, p, sizeof p);
  unlink(p);
#endif
}

static const char *st_last_error(void *ctx) { return ((rv_posix_storage *)ctx)->error; }

int rv_posix_storage_init(rv_storage *st, rv_posix_storage *s, const char *dir, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  snprintf(s->dir, sizeof s->dir, "%s", dir);
  struct stat sb;
  if (stat(dir, &sb) != 0) {
    if (mkdir(dir, 0755) != 0) {
      snprintf(err, errlen, "creating the data directory %s: %s", dir, strerror(errno));
      return -1;
    }
  } else if (!S_ISDIR(sb.st_mode)) {
    snprintf(err, errlen, "%s is not a directory", dir);
    return -1;
  }
  st->ctx = s;
  st->location = s->dir;
  st->size = st_size;
  st->read = st_read;
  st->open_append = st_open_append;
  st->create = st_create;
  st->append = st_append;
  st->sync = st_sync;
  st->file_size = st_file_size;
  st->close = st_close;
  st->replace = st_replace;
  st->truncate = st_truncate;
  st->remove = st_remove;
  st->list = st_list;
  st->lock = st_lock;
  st->unlock = st_unlock;
  st->last_error = st_last_error;
  return 0;
}
