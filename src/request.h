/* request: one FastCGI request, from accept to its answer.
 *
 * request_take() makes one of a request the acceptor has read whole
 * (intake.h): it works out there and then what is asked (route, request
 * id) from the params and takes the body; the params are not kept. From
 * then on the request is a socket, a FastCGI request id, its body and a
 * few hundred bytes, however long the upstream takes. request_finish()
 * writes the answer as FastCGI records (record.h), never waiting for
 * room, and closes the socket once it is written, or gives a kept
 * connection back for the next request (keep.h): a shutdown and a wait
 * for the web server to hang up (what libfcgi's close does) would cost
 * a round trip per request and let a silent peer stall the thread that
 * answers. The input was read to its end, so there is nothing left for
 * a TCP peer to be reset over (a refused body too is read to its end,
 * intake.h).
 * The struct request is owned by whoever holds it last; request_finish()
 * and request_drop() free it, its body with it. One request is touched
 * by one thread at a time. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "intake.h"
#include "keep.h"
#include "reply.h"
#include "route.h"

#define REQUEST_ID_MAX 64

struct request {
    int fd;                           /* the web server's connection; ours */
    struct keep_conn *keep;           /* lent (FCGI_KEEP_CONN), or NULL: then
                                         fd is closed after the answer */
    unsigned fcgi_id;                 /* FastCGI request id */
    uint64_t started_ms;
    struct route route;               /* what is asked, from the params */
    int upstream_calls;               /* made for this request */
    int hedges;                       /* of them, hedges (hedge.h) */
    char id[REQUEST_ID_MAX + 1];      /* request id: the web server's, or ours */
    /* the FCGI_STDIN bytes (at most INTAKE_BODY_MAX), owned: freed with
     * the request. NULL when there were none; else body[body_len] is a
     * NUL, not counted, so a parser that reads one byte past a truncated
     * document (cJSON before 1.7.18) stays in our memory. Counted
     * against --max-memory while held. GET routes ignore it. */
    char *body;
    size_t body_len;
    /* an answer the socket did not take at once (request_finish) */
    char *out;                        /* its head and body, owned */
    size_t out_len, out_sent;         /* out_sent: bytes of its records written */
    int status;
    uint64_t write_deadline_ms;       /* kept by the loop */
    struct request *prev, *next;      /* the loop's answers being written */
};

/* A request of the connection fd, whose params are all in (intake
 * READY, TOO_LARGE or NO_MEMORY): route and id from the params, and
 * the body (on READY), taken from the intake (which keeps nothing the request
 * needs: the caller frees it). The request owns fd from then on. NULL
 * when memory ran out: fd is the caller's still. */
struct request *request_take(int fd, struct intake *in);
/* Frees the body once what it says has been taken out of it (or when
 * the route has no use for it): a body held while the upstream answers
 * would count against --max-memory for nothing. */
void request_drop_body(struct request *r);
/* Writes the answer as far as the socket takes it, never waiting. NULL
 * when that was all of it (or the web server was gone: then status 0):
 * the request is logged (route, status, ms, upstream calls, request id),
 * closed (a kept connection whose answer was whole: given back) and
 * freed. On the loop thread, a kept connection must be watched by no
 * epoll of the loop's by then. Else the socket was full: the request keeps a copy of the
 * answer and is returned, for the loop to go on with once the socket is
 * writable (request_write_more()), within its own deadline
 * (request_write_cut()). A slow reader delays only its own answer. */
struct request *request_finish(struct request *r, const struct reply *reply);
/* Writes more of a kept answer: 1 when all is written, 0 when the
 * socket is full again, -1 when the web server is gone (on 1 and -1,
 * request_write_end() comes next). */
int request_write_more(struct request *r);
/* Logs (with the answer's status when it was all written, else 0),
 * closes (or gives back, as request_finish()) and frees a request whose
 * kept answer is done. */
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
