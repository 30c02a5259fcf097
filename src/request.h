/* request: one FastCGI request, from accept to its answer.
 *
 * request_read() takes a connection through libfcgi: params,
 * then the input (the body, read to the end or up to a cap, and thrown
 * away). It works out there and then what is asked (route, request id)
 * and frees everything libfcgi allocated for it; from then on the
 * request is a socket, a FastCGI request id and a few hundred bytes,
 * however long the upstream takes. request_finish() writes the answer as
 * FastCGI records (record.h), never waiting for room, and closes the
 * socket once it is written: libfcgi's
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

#include <stddef.h>
#include <stdint.h>

#include "reply.h"
#include "route.h"

#define REQUEST_INPUT_MAX (8 * 1024 * 1024) /* input read and thrown away */
#define REQUEST_IO_TIMEOUT_MS 1000           /* a stalled peer, per read */

#define REQUEST_ID_MAX 64

struct request {
    int fd;                           /* the web server's connection; ours */
    unsigned fcgi_id;                 /* FastCGI request id */
    uint64_t started_ms;
    struct route route;               /* what is asked, from the params */
    int upstream_calls;               /* made for this request */
    char id[REQUEST_ID_MAX + 1];      /* request id: the web server's, or ours */
    /* an answer the socket did not take at once (request_finish) */
    char *out;                        /* its head and body, owned */
    size_t out_len, out_sent;         /* out_sent: bytes of its records written */
    int status;
    uint64_t write_deadline_ms;       /* kept by the loop */
    struct request *prev, *next;      /* the loop's answers being written */
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
/* Writes the answer as far as the socket takes it, never waiting. NULL
 * when that was all of it (or the web server was gone: then status 0):
 * the request is logged (route, status, ms, upstream calls, request id),
 * closed and freed. Else the socket was full: the request keeps a copy of the
 * answer and is returned, for the loop to go on with once the socket is
 * writable (request_write_more()), within its own deadline
 * (request_write_cut()). A slow reader delays only its own answer. */
struct request *request_finish(struct request *r, const struct reply *reply);
/* Writes more of a kept answer: 1 when all is written, 0 when the
 * socket is full again, -1 when the web server is gone (on 1 and -1,
 * request_write_end() comes next). */
int request_write_more(struct request *r);
/* Logs (with the answer's status when it was all written, else 0),
 * closes and frees a request whose kept answer is done. */
void request_write_end(struct request *r, int written);
/* Gives up on a kept answer past its deadline: the connection is closed
 * mid-answer (the web server sees no FCGI_END_REQUEST: never a whole
 * answer), logged as cut, counted (status 0 and
 * api_pedidos_answers_cut_total); the request is freed. */
void request_write_cut(struct request *r);
/* Frees a request that gets no answer (its client left), and logs it. */
void request_drop(struct request *r);
/* Requests accepted and not yet finished or dropped, in this process. */
long request_in_flight(void);

#endif
