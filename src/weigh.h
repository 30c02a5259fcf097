/* weigh: what a finished upstream call says, to the metrics and to the
 * circuit breaker.
 *
 * Every call that ends (not one cancelled) is counted by the kind of its
 * end (metrics.h) and told to the breaker as healthy or not (breaker.h),
 * except what says nothing of the upstream: a call that timed out in our
 * own queue, and all but the first of the calls one broken connection
 * took with it (fold.h). The breaker also admits or refuses each job
 * and runs its trial rounds. struct weigh owns the breaker and the fold;
 * the transfers are the caller's. Loop thread only. */
#ifndef WEIGH_H
#define WEIGH_H

#include <stdint.h>

#include "breaker.h"
#include "config.h"
#include "fetch.h"
#include "fold.h"
#include "metrics.h"

struct weigh {
    struct breaker breaker;
    struct fold fold;
};

void weigh_init(struct weigh *w, const struct config *cfg);
/* Counts finished call f as kind (METRICS_UP_COUNT: as its outcome
 * says) with its total time. */
void weigh_metrics(const struct fetch *f, enum fetch_outcome out, enum metrics_upstream kind);
/* Tells the breaker what f (fetch_finish()ed) says of the upstream, for
 * a job in breaker trial round trial (0: none). 1 when it was recorded
 * as an upstream success. */
int weigh_breaker(struct weigh *w, int trial, const struct fetch *f);
/* 1 when a job may call the upstream now (*trial: its trial round, or
 * 0); 0 when the breaker is open (*retry_after_s for the 503). */
int weigh_admit(struct weigh *w, int *trial, long *retry_after_s);
/* A job of trial round trial (0: none) ended; succeeded: one of its calls
 * was an upstream success. */
void weigh_trial_done(struct weigh *w, int trial, int succeeded);
/* 1 when the breaker is closed (neither open nor in its trials). */
int weigh_closed(const struct weigh *w);
/* Publishes the breaker's window, aged to now, for /metrics. */
void weigh_tick(struct weigh *w, uint64_t now);

#endif
