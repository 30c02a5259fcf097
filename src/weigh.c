/* weigh: finished calls counted for the metrics and told to the
 * breaker (weigh.h). Loop thread only. */
#include "weigh.h"

#include "clock.h"
#include "log.h"

void weigh_init(struct weigh *w, const struct config *c)
{
    struct breaker_conf bc = {c->breaker_window_ms, c->breaker_min_calls,
                              (int)c->breaker_threshold, c->breaker_open_ms,
                              (int)c->breaker_trials};

    breaker_init(&w->breaker, &bc);
    fold_init(&w->fold);
}

static void weigh_log_breaker(const struct weigh *w)
{
    const struct breaker *b = &w->breaker;

    metrics_breaker_state((int)b->state, b->openings);
    log_warn("msg=\"circuit breaker %s\" failures=%ld calls=%ld", breaker_state_name(b->state),
             b->failures, b->calls);
}

/* What kind of end a finished call had, as metrics count it. */
static enum metrics_upstream weigh_kind(const struct fetch *f, enum fetch_outcome out)
{
    if (out == FETCH_OK)
        return METRICS_UP_OK;
    if (out == FETCH_NOT_FOUND)
        return METRICS_UP_NOT_FOUND;
    if (f->code == CURLE_OK)
        return METRICS_UP_STATUS;
    if (f->code == CURLE_OPERATION_TIMEDOUT)
        return fetch_health(f) == FETCH_QUEUED ? METRICS_UP_QUEUED_TIMEOUT : METRICS_UP_TIMEOUT;
    if (f->code == CURLE_COULDNT_CONNECT || f->code == CURLE_COULDNT_RESOLVE_HOST)
        return METRICS_UP_CONNECT;
    return METRICS_UP_ERROR;
}

void weigh_metrics(const struct fetch *f, enum fetch_outcome out, enum metrics_upstream kind)
{
    curl_off_t us = 0;

    curl_easy_getinfo(f->easy, CURLINFO_TOTAL_TIME_T, &us);
    metrics_upstream(kind == METRICS_UP_COUNT ? weigh_kind(f, out) : kind,
                     us > 0 ? (uint64_t)us : 0);
}

/* A call that timed out in our own queue says nothing; the calls of one
 * broken connection are one fault (fold.h). */
int weigh_breaker(struct weigh *w, int trial, const struct fetch *f)
{
    enum fetch_health h = fetch_health(f);
    uint64_t now = clock_ms();

    if (h == FETCH_QUEUED)
        return 0;
    if (h == FETCH_BROKEN && !fold_new_fault(&w->fold, f->local_port, now))
        return 0;
    if (breaker_record(&w->breaker, h != FETCH_HEALTHY, trial, now))
        weigh_log_breaker(w);
    return h == FETCH_HEALTHY;
}

int weigh_admit(struct weigh *w, int *trial, long *retry_after_s)
{
    int changed;

    if (!breaker_admit(&w->breaker, clock_ms(), trial, retry_after_s, &changed))
        return 0;
    if (changed)
        weigh_log_breaker(w);
    return 1;
}

void weigh_trial_done(struct weigh *w, int trial, int succeeded)
{
    if (trial && breaker_trial_done(&w->breaker, trial, succeeded))
        weigh_log_breaker(w);
}

void weigh_tick(struct weigh *w, uint64_t now)
{
    breaker_advance(&w->breaker, now);
    metrics_breaker_window(w->breaker.calls, w->breaker.failures);
}

int weigh_closed(const struct weigh *w)
{
    return w->breaker.state == BREAKER_CLOSED;
}
