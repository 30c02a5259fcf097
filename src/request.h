/* request: one FastCGI request, from accept to its answer.
 *
 * request_read() takes a connection through libfcgi: params,
 * then the input (the body, read to the end or up to a cap, and thrown
 * away). It works out there and then what is asked (route, request id)
 * and frees everything libfcgi allocated for it; from then on the
 * request is a socket, a FastCGI request id and a few hundred bytes,
 * however long the upstream takes. request_finish() writes the answer as
 * FastCGI records (record.h) and closes the socket at once: libfcgi's
 * own close would shut it down and wait, up to 2 s, for the web server
 * to hang up, which costs a round trip per request and lets a silent
 * peer stall the thread that answers. With the input read there is
 * nothing left for a TCP peer to be reset over (only a body past the
 * cap could be).
 * The struct request is owned by whoever holds it last; request_finish()
 * and request_drop() free it. One request is touched by one thread at a
 * time. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stdint.h>

#include "reply.h"
#include "route.h"

#define REQUEST_INPUT_MAX (8 * 1024 * 1024) /* input read and thrown away */
#define REQUEST_IO_TIMEOUT_MS 1000           /* a stalled peer, per read; per answer */

#define REQUEST_ID_MAX 64

struct request {
    int fd;                           /* the web server's connection; ours */
    unsigned fcgi_id;                 /* FastCGI request id */
    uint64_t started_ms;
    struct route route;               /* what is asked, from the params */
    int upstream_calls;               /* made for this request */
    char id[REQUEST_ID_MAX + 1];      /* request id: the web server's, or ours */
};

enum request_accept_result { REQUEST_OK, REQUEST_ERROR };

/* Bounds every read on fd: a web server sends params and input at
 * once; a peer that stalls must not hold the acceptor. The acceptor sets
 * it on every connection it accepts (sockets do not all inherit it from
 * the listener) and usually hands over only requests that have fully
 * arrived (intake.h); this bounds the rest. Answers have their own bound
 * (record.h). */
int request_limit_io(int fd);
/* Reads the request on fd, a connection just accepted, and takes it:
 * *out is set on REQUEST_OK. On REQUEST_ERROR fd is closed. */
enum request_accept_result request_read(int fd, struct request **out);
/* Writes the answer, finishes and frees the request, and logs one line
 * for it (route, status, ms, upstream calls, request id). Returns 0, or
 * -1 when the web server was gone (the request is freed all the same). */
int request_finish(struct request *r, const struct reply *reply);
/* Frees a request that gets no answer (its client left), and logs it. */
void request_drop(struct request *r);
/* Requests accepted and not yet finished or dropped, in this process. */
long request_in_flight(void);

#endif
