/* RESP over TCP with BSD sockets and select(): compiles against POSIX and lwIP. One turn of
 * rv_server_turn = wait (until input, writable output, or `timeout_ms`), accept, read + feed,
 * settle the loop once, write out. */
#ifndef RV_BSD_SERVER_H
#define RV_BSD_SERVER_H

#include "rv_loop.h"

typedef struct rv_server rv_server;

typedef struct rv_server_options {
  const char *bind;      /* an IPv4 address ("127.0.0.1", "0.0.0.0") */
  int port;              /* 0: any free port */
  int max_clients;       /* ≤ the loop's connection table */
  size_t out_high_water; /* a client's unsent output past which it is not read (and its sink stops) */
} rv_server_options;

rv_server *rv_server_start(rv_loop *loop, const rv_server_options *o, char *err, size_t errlen);
int rv_server_port(const rv_server *s);
/* One turn; returns the number of clients. */
int rv_server_turn(rv_server *s, int timeout_ms);
int rv_server_clients(const rv_server *s);
/* Input and output byte counters (INFO stats). */
unsigned long long rv_server_net_in(const rv_server *s);
unsigned long long rv_server_net_out(const rv_server *s);
unsigned long long rv_server_rejected(const rv_server *s);
/* Stops listening; sends what is pending (best effort, up to `linger_ms`), closes every client. */
void rv_server_stop(rv_server *s, int linger_ms);

#endif
