/* request: one FastCGI request, from accept to its answer.
 *
 * request_accept() takes the next connection, its params and its input
 * (the body, read to the end or up to a cap, and thrown away).
 * request_finish() then closes the socket at once: libfcgi's own close
 * would shut it down and wait, up to 2 s, for the web server to hang up,
 * which costs a round trip per request and lets a silent peer stall the
 * thread that answers. With the input read there is nothing left for a
 * TCP peer to be reset over (only a body past the cap could be).
 * The struct request is owned by whoever holds it last; request_finish()
 * and request_drop() free it. One request is touched by one thread at a
 * time. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stdint.h>
#include <fcgiapp.h>

#include "reply.h"
#include "route.h"

#define REQUEST_INPUT_MAX (8 * 1024 * 1024) /* input read and thrown away */
#define REQUEST_IO_TIMEOUT_MS 1000           /* a stalled peer, per read or write */

#define REQUEST_ID_MAX 64

struct request {
    FCGX_Request fcgx;
    uint64_t started_ms;
    enum route_kind route;            /* for the log line and metrics */
    int upstream_calls;               /* made for this request */
    char id[REQUEST_ID_MAX + 1];      /* request id: the web server's, or ours */
};

enum request_accept_result { REQUEST_OK, REQUEST_INTERRUPTED, REQUEST_ERROR };

/* Bounds every read and write on fd: a web server sends params at once
 * and reads answers at once; a peer that stalls must not hold the
 * acceptor or the loop. Set on the listening socket, TCP connections
 * inherit it while libfcgi reads their params; request_accept() sets it
 * on every accepted socket (unix sockets inherit nothing). */
int request_limit_io(int fd);
/* Blocks for the next request on listen_fd; *out is set on REQUEST_OK. */
enum request_accept_result request_accept(int listen_fd, struct request **out);
/* A param copied out of the request (NULL when absent); lives as long
 * as the request. */
const char *request_param(const struct request *r, const char *name);
/* Writes the answer, finishes and frees the request, and logs one line
 * for it (route, status, ms, upstream calls, request id). Returns 0, or
 * -1 when the web server was gone (the request is freed all the same). */
int request_finish(struct request *r, const struct reply *reply);
/* Frees a request that gets no answer (its client left), and logs it. */
void request_drop(struct request *r);
/* Requests accepted and not yet finished or dropped, in this process. */
long request_in_flight(void);

#endif
