/* workflow: one kind of request that calls the upstream, as the loop
 * runs it.
 *
 * A workflow says which calls to make and how their answers become one
 * answer; it knows nothing of curl, epoll, sockets, time or the breaker.
 * The loop (loop.h) does the rest for every workflow alike: it asks for
 * calls while the fan-out has room, adds the request id and credential
 * headers, enforces the call timeouts and the request deadline, weighs
 * every call for the circuit breaker, answers 502 at once when a call
 * fails (network, timeout, a status other than 2xx and 404), cancels the
 * calls still in flight when the request ends, and writes the answer.
 *
 * The workflow's state (`ctx`) is made by its own constructor (e.g.
 * orders_new()), handed to job_new() with the workflow, and freed by the
 * loop through free() when the request ends, answered or not.
 *
 * Adding a route that calls the upstream: a module with a constructor
 * and one `const struct workflow`, a route kind (route.c), and a case in
 * dispatch_request() (dispatch.c) that checks the request, builds the state
 * and submits job_new(req, &the_workflow, state, ...) to the loop. See
 * orders.c (one call, then many) and enrich.c (many at once, 404 kept as
 * "missing"). */
#ifndef WORKFLOW_H
#define WORKFLOW_H

#include <stddef.h>

#include "reply.h"

/* Longest URL a workflow may ask for (the base URL is at most 2048). */
#define WORKFLOW_URL_MAX 2300

enum workflow_step {
    WORKFLOW_MORE, /* go on: ask next() again, wait for the calls in flight */
    WORKFLOW_DONE, /* every answer is in: answer() gives the 200 body */
    WORKFLOW_FAIL, /* the request ends with fail->kind */
};

/* The kinds of upstream call, each with a latency of its own (the hedge
 * delay is estimated per kind: hedge.h). */
enum workflow_call {
    WORKFLOW_CALL_ORDER,   /* GET {maestro}/orders/{id} */
    WORKFLOW_CALL_ITEMS,   /* GET .../packages/{uuid}/items */
    WORKFLOW_CALL_CATALOG, /* GET {catalog}/{code} */
    WORKFLOW_CALLS
};

struct workflow_fail {
    enum reply_kind kind; /* the canned answer (reply.h) */
    const char *why;      /* for the log: a static string */
};

struct workflow {
    const char *noun; /* for logs: "order" gives msg="order failed" */
    /* The next call to start now: writes its URL (cap bytes, NUL-ended)
     * and the workflow's own number for it to *index. 1 when there is
     * one, 0 when none may start until more answers come (or none is
     * left), -1 when its URL does not fit (the request fails, 502).
     * 0 on the very first ask means "no call needed": the loop asks for
     * answer() at once. 0 later with nothing in flight, after a take()
     * that said WORKFLOW_MORE, is a stuck workflow: 502. */
    int (*next)(void *ctx, char *url, size_t cap, long *index);
    /* Call `index` answered: found 1 with its 2xx body (NUL-terminated,
     * not counted in len; borrowed for the call), found 0 for a 404
     * (body NULL). On WORKFLOW_FAIL, *fail says how the request ends. */
    enum workflow_step (*take)(void *ctx, long index, int found, const char *body, size_t len,
                               struct workflow_fail *fail);
    /* The 200 body once take() said WORKFLOW_DONE: malloc'd, the caller
     * frees it; NULL when out of memory (502). */
    char *(*answer)(void *ctx, size_t *len);
    /* Which kind of upstream call call `index` is. */
    enum workflow_call (*kind)(long index);
    /* What the request is about, for log lines: "order=<uuid>". */
    void (*describe)(const void *ctx, char *buf, size_t cap);
    void (*free)(void *ctx);
};

#endif
