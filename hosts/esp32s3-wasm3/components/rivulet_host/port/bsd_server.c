/* RESP over TCP (see bsd_server.h). Backpressure: a client whose unsent output passes the high
 * water stops being read and its sink says stop (the rest of its output waits in the engine). */
#include "bsd_server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#if defined(ESP_PLATFORM)
#include "lwip/inet.h"
#include "lwip/sockets.h"
#else
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#endif

#define READ_CHUNK 16384
#define MAX_CLIENTS_ERROR "-ERR max number of clients reached\r\n"

typedef struct client {
  rv_server *srv;
  int fd;
  int id;
  int closing; /* the engine closed it: flush the output, then close */
  uint8_t *out;
  size_t out_len, out_cap, out_off;
} client;

struct rv_server {
  rv_loop *loop;
  rv_server_options o;
  int listen_fd;
  int port;
  client **clients; /* slots (an engine id can be reused while its old client still flushes) */
  int nclients;
  int max_ids;      /* slots */
  unsigned long long net_in, net_out, rejected;
  uint8_t buf[READ_CHUNK];
};

static int set_nonblock(int fd) {
  int fl = fcntl(fd, F_GETFL, 0);
  return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int sink_write(void *ctx, const uint8_t *bytes, size_t n) {
  client *c = (client *)ctx;
  if (c->out_len + n > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + n) cap *= 2;
    uint8_t *p = (uint8_t *)realloc(c->out, cap);
    if (!p) {
      /* no memory for this client's output: drop the client rather than the process */
      c->closing = 2;
      return 0;
    }
    c->out = p;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, bytes, n);
  c->out_len += n;
  return c->out_len - c->out_off < c->srv->o.out_high_water;
}

static void sink_closed(void *ctx) {
  client *c = (client *)ctx;
  c->closing = 1;
  c->id = -1; /* the engine already forgot it */
}

static const rv_sink client_sink = {sink_write, sink_closed};

rv_server *rv_server_start(rv_loop *loop, const rv_server_options *o, char *err, size_t errlen) {
  rv_server *s = (rv_server *)calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->loop = loop;
  s->o = *o;
  s->max_ids = o->max_clients;
  s->clients = (client **)calloc((size_t)s->max_ids, sizeof(client *));
  s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (!s->clients || s->listen_fd < 0) {
    snprintf(err, errlen, "socket: %s", strerror(errno));
    goto fail;
  }
  int one = 1;
  setsockopt(s->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)o->port);
  if (inet_pton(AF_INET, o->bind, &a.sin_addr) != 1) {
    snprintf(err, errlen, "invalid bind address %s (an IPv4 address)", o->bind);
    goto fail;
  }
  if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->listen_fd, 128) != 0) {
    snprintf(err, errlen, "Could not listen on %s:%d: %s", o->bind, o->port, strerror(errno));
    goto fail;
  }
  socklen_t len = sizeof a;
  getsockname(s->listen_fd, (struct sockaddr *)&a, &len);
  s->port = ntohs(a.sin_port);
  set_nonblock(s->listen_fd);
  return s;
fail:
  if (s->listen_fd >= 0) close(s->listen_fd);
  free(s->clients);
  free(s);
  return NULL;
}

int rv_server_port(const rv_server *s) { return s->port; }
int rv_server_clients(const rv_server *s) { return s->nclients; }
unsigned long long rv_server_net_in(const rv_server *s) { return s->net_in; }
unsigned long long rv_server_net_out(const rv_server *s) { return s->net_out; }
unsigned long long rv_server_rejected(const rv_server *s) { return s->rejected; }

static void drop(rv_server *s, client *c, int slot) {
  if (c->id >= 0) rv_loop_close(s->loop, c->id);
  close(c->fd);
  free(c->out);
  free(c);
  s->clients[slot] = NULL;
  s->nclients--;
}

static void format_addr(const struct sockaddr_in *a, char *out, size_t cap) {
  char ip[INET_ADDRSTRLEN] = "?";
  inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
  snprintf(out, cap, "%s:%d", ip, ntohs(a->sin_port));
}

static void accept_clients(rv_server *s) {
  for (;;) {
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int fd = accept(s->listen_fd, (struct sockaddr *)&peer, &len);
    if (fd < 0) return;
    if (fd >= FD_SETSIZE) {
      close(fd);
      s->rejected++;
      continue;
    }
    set_nonblock(fd);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int slot = 0;
    while (slot < s->max_ids && s->clients[slot]) slot++;
    client *c = slot < s->max_ids ? (client *)calloc(1, sizeof *c) : NULL;
    int id = c ? rv_loop_open(s->loop, &client_sink, c) : -1;
    if (id < 0) {
      if (id >= 0) rv_loop_close(s->loop, id);
      ssize_t w = send(fd, MAX_CLIENTS_ERROR, sizeof MAX_CLIENTS_ERROR - 1, 0);
      (void)w;
      close(fd);
      free(c);
      s->rejected++;
      continue;
    }
    c->srv = s;
    c->fd = fd;
    c->id = id;
    s->clients[slot] = c;
    s->nclients++;
    struct sockaddr_in local;
    len = sizeof local;
    getsockname(fd, (struct sockaddr *)&local, &len);
    char a1[40], a2[40], both[96];
    format_addr(&peer, a1, sizeof a1);
    format_addr(&local, a2, sizeof a2);
    int n = snprintf(both, sizeof both, "%s %s", a1, a2);
    rv_engine *e = rv_loop_engine(s->loop);
    rv_scratch_put(e, both, (size_t)n);
    rv_v(e, rv_conn_set_addr, id, n);
  }
}

/* Writes what the socket takes; 0 = keep, -1 = the client is gone. */
static int flush_out(rv_server *s, client *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (w <= 0) return -1;
    c->out_off += (size_t)w;
    s->net_out += (unsigned long long)w;
  }
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  if (c->id >= 0 && c->out_len - c->out_off < s->o.out_high_water) rv_loop_resume(s->loop, c->id);
  return 0;
}

static int readable(const rv_server *s, const client *c) {
  return !c->closing && c->out_len - c->out_off < s->o.out_high_water && !(c->id >= 0 && rv_loop_stalled(s->loop, c->id));
}

int rv_server_turn(rv_server *s, int timeout_ms) {
  fd_set rd, wr;
  FD_ZERO(&rd);
  FD_ZERO(&wr);
  int maxfd = s->listen_fd;
  FD_SET(s->listen_fd, &rd);
  for (int i = 0; i < s->max_ids; i++) {
    client *c = s->clients[i];
    if (!c) continue;
    if (readable(s, c)) FD_SET(c->fd, &rd);
    if (c->out_len > c->out_off) FD_SET(c->fd, &wr);
    if (c->fd > maxfd) maxfd = c->fd;
  }
  struct timeval tv;
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = (timeout_ms % 1000) * 1000;
  int n = select(maxfd + 1, &rd, &wr, NULL, timeout_ms < 0 ? NULL : &tv);
  if (n < 0 && errno != EINTR) return s->nclients;
  if (n > 0 && FD_ISSET(s->listen_fd, &rd)) accept_clients(s);
  for (int i = 0; n > 0 && i < s->max_ids; i++) {
    client *c = s->clients[i];
    if (!c || !FD_ISSET(c->fd, &rd)) continue;
    ssize_t r = recv(c->fd, s->buf, sizeof s->buf, 0);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
    if (r <= 0) {
      drop(s, c, i);
      continue;
    }
    s->net_in += (unsigned long long)r;
    rv_loop_feed(s->loop, c->id, s->buf, (size_t)r);
  }
  rv_loop_timers(s->loop);
  rv_loop_settle(s->loop);
  for (int i = 0; i < s->max_ids; i++) {
    client *c = s->clients[i];
    if (!c) continue;
    if (flush_out(s, c) != 0 || c->closing == 2 || (c->closing && c->out_len == c->out_off)) drop(s, c, i);
  }
  return s->nclients;
}

void rv_server_stop(rv_server *s, int linger_ms) {
  if (!s) return;
  close(s->listen_fd);
  for (int waited = 0; waited < linger_ms; waited += 10) {
    int pending = 0;
    for (int i = 0; i < s->max_ids; i++) {
      client *c = s->clients[i];
      if (c && flush_out(s, c) == 0 && c->out_len > c->out_off) pending = 1;
    }
    if (!pending) break;
    usleep(10000);
  }
  for (int i = 0; i < s->max_ids; i++) {
    if (s->clients[i]) drop(s, s->clients[i], i);
  }
  free(s->clients);
  free(s);
}
