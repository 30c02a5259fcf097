/* request: one FastCGI request, from accept to its answer.
 *
 * request_accept() takes the next connection, its params and its input
 * (the body, read to the end or up to a cap). Reading the input at once
 * is what lets request_finish() close the socket without libfcgi's
 * shutdown-and-wait for the web server to hang up (which costs a round
 * trip per request and, for a TCP peer, avoids a reset only when unread
 * input is left behind). The struct request is owned by whoever holds it
 * last; request_finish() and request_drop() free it. Thread-safe for
 * different requests; one request is touched by one thread at a time. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stdint.h>
#include <fcgiapp.h>

#include "reply.h"

#define REQUEST_INPUT_MAX (64 * 1024) /* input read and thrown away */

struct request {
    FCGX_Request fcgx;
    int input_drained; /* all input read: the socket may close at once */
    uint64_t started_ms;
};

enum request_accept_result { REQUEST_OK, REQUEST_INTERRUPTED, REQUEST_ERROR };

/* Blocks for the next request on listen_fd; *out is set on REQUEST_OK. */
enum request_accept_result request_accept(int listen_fd, struct request **out);
/* A param copied out of the request (NULL when absent); lives as long
 * as the request. */
const char *request_param(const struct request *r, const char *name);
/* Writes the answer, finishes and frees the request. Returns 0, or -1
 * when the web server was gone (the request is freed all the same). */
int request_finish(struct request *r, const struct reply *reply);
/* Frees a request that gets no answer (its client left). */
void request_drop(struct request *r);
/* Requests accepted and not yet finished or dropped, in this process. */
long request_in_flight(void);

#endif
