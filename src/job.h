/* job: one request that calls the upstream, as the loop holds it.
 *
 * A job joins a FastCGI request to the workflow that answers it
 * (workflow.h) and to the loop's bookkeeping: its calls in flight, its
 * deadline, its breaker trial, its headers. It owns the request until
 * it is answered and the workflow's state until it is freed. The loop
 * fills in and uses the rest; nothing here knows curl beyond the header
 * list node. */
#ifndef JOB_H
#define JOB_H

#include <curl/curl.h>
#include <stdint.h>

#include "fetch.h"
#include "request.h"
#include "workflow.h"

struct job {
    struct request *req;               /* owned; NULL once answered */
    const struct workflow *wf;
    void *ctx;                         /* the workflow's state, owned */
    uint64_t started_ms, deadline_ms;  /* monotonic */
    struct fetch *fetches;             /* live transfers, owned by loop */
    size_t running;                    /* how many, kept by the loop */
    int trial;                         /* breaker trial round, or 0 */
    int trial_ok;                      /* a call of it was an upstream success */
    int watched;                       /* its socket in the loop's epoll */
    struct curl_slist headers;         /* X-Request-Id, then the shared ones */
    char id_header[REQUEST_ID_MAX + 16];
    struct job *prev, *next;           /* the loop's list of jobs */
};

/* A job for req, answered by workflow wf with state ctx, due by
 * now_ms + timeout_ms. It owns req and ctx from then on; NULL when out
 * of memory, and then ctx is freed (through wf) and req is still the
 * caller's. */
struct job *job_new(struct request *req, const struct workflow *wf, void *ctx,
                    uint64_t now_ms, long timeout_ms);
/* What the job is about, for log lines (the workflow's words). */
const char *job_describe(const struct job *j, char *buf, size_t cap);
/* Answers the job's request with r, or drops it unanswered when r is
 * NULL (its client left). Once; later calls do nothing. Returns the
 * request when its answer is still being written (request_finish()),
 * for the caller to go on with; else NULL. */
struct request *job_reply(struct job *j, const struct reply *r);
/* Frees the workflow's state and the job (and drops a request still
 * unanswered). */
void job_free(struct job *j);

#endif
