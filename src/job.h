/* job: everything one /orders/{id}/items request holds while it waits.
 *
 * The job owns its FastCGI request until it is answered, its
 * package list and one answer fragment per package. It knows nothing of
 * curl: the loop feeds it bodies, asks which package to fetch next, and
 * takes the answer when job_complete() says so. job_free() releases all.
 * Fragments may arrive in any order; the answer keeps package order. */
#ifndef JOB_H
#define JOB_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "items.h"
#include "request.h"
#include "uuid.h"

struct job_limits {
    size_t max_packages;
    size_t max_answer;  /* bytes of the whole answer */
    size_t fanout;      /* package calls at once */
};

struct job {
    struct request *req;               /* owned; NULL once answered */
    char order_id[UUID_STR_LEN];
    struct job_limits lim;
    uint64_t started_ms, deadline_ms;  /* monotonic */
    struct items_packages pkgs;
    struct jbuf *frags;                /* pkgs.count fragments */
    size_t next_pkg;                   /* first package not yet started */
    size_t done_pkgs;
    size_t answer_len;                 /* bytes of fragments so far */
    struct fetch *fetches;             /* live transfers, owned by loop */
    size_t running;                    /* how many, kept by the loop */
    int trial;                         /* breaker trial round, or 0 */
    struct curl_slist headers;         /* X-Request-Id, then the shared ones */
    char id_header[REQUEST_ID_MAX + 16];
    struct job *prev, *next;           /* the loop's list of jobs */
};

/* NULL when out of memory; req is owned by the job from then on. */
struct job *job_new(struct request *req, const char *order_id,
                    const struct job_limits *lim, uint64_t now_ms, long timeout_ms);
/* Feeds the order document. ITEMS_OK: the packages are known (maybe 0). */
enum items_status job_take_order(struct job *j, const char *body, size_t len);
/* Feeds package i's items. ITEMS_OK or ITEMS_BAD (shape or size). */
enum items_status job_take_package(struct job *j, size_t i, const char *body, size_t len);
/* Index of the next package to fetch, or -1 when none may start now
 * (all started, or `running` calls already use the fan-out). */
long job_next_package(struct job *j, size_t running);
int job_complete(const struct job *j);
/* The answer `[...]`, malloc'd, for the caller to own; NULL on OOM. */
char *job_answer(const struct job *j, size_t *len);
/* Answers the job's request with r, or drops it unanswered when r is
 * NULL (its client left). Once; later calls do nothing. Returns the
 * request when its answer is still being written (request_finish()),
 * for the caller to go on with; else NULL. */
struct request *job_reply(struct job *j, const struct reply *r);
void job_free(struct job *j);

#endif
