/* breaker: the circuit breaker around the upstream, one per process.
 *
 * closed: every upstream call's outcome goes into a rolling window of
 *   time, `window_ms` long, kept in BREAKER_BUCKETS buckets (a call is
 *   O(1): a counter in the newest bucket; the oldest bucket drops out
 *   whole, so the window weighs the last 9/10 to 10/10 of window_ms).
 *   Once the window holds at least `min_calls` and the share of failures
 *   reaches `threshold_pct`, the breaker opens. What is a failure is the
 *   caller's call (fetch_health()): the breaker only counts.
 * open: new requests are refused at once (503, Retry-After) for
 *   `open_ms`, and nothing is called upstream.
 * half-open: then up to `trials` requests are let through, and their
 *   calls are the trial calls: one failing opens it again; `trials` of
 *   them succeeding closes it, with an empty window (so does every trial
 *   request ending with an upstream success and no failure, for orders of
 *   fewer calls). A trial request that ended with no upstream success
 *   (its client left, or it timed out in our own queue) closes nothing:
 *   another request takes its place.
 *
 * Pure state: the caller passes the time (tests use a fake clock) and
 * serialises calls (the loop thread owns it). Functions that can change
 * the state return 1 when they did, so the caller logs each transition
 * once. */
#ifndef BREAKER_H
#define BREAKER_H

#include <stdint.h>

#define BREAKER_BUCKETS 10
#define BREAKER_WINDOW_MIN_MS 100 /* a bucket is at least 10 ms */

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker_conf {
    long window_ms;    /* the rolling window, >= BREAKER_WINDOW_MIN_MS */
    long min_calls;    /* calls in the window needed before it may open */
    int threshold_pct; /* failure share that opens it, 1..100 */
    long open_ms;      /* how long it stays open */
    int trials;        /* requests let through when half-open */
};

struct breaker_bucket {
    uint32_t calls, failures;
};

struct breaker {
    struct breaker_conf conf;
    enum breaker_state state;
    struct breaker_bucket bucket[BREAKER_BUCKETS];
    uint64_t width; /* ms per bucket */
    uint64_t head;  /* slot of the newest bucket */
    long calls, failures; /* sums over the buckets in the window */
    uint64_t opened_ms;
    unsigned long openings; /* times it went to open, since start */
    int trials_granted, trials_done, trial_successes;
    int round; /* counts half-open periods; a trial belongs to one */
};

void breaker_init(struct breaker *b, const struct breaker_conf *conf);
/* May a new request call the upstream at now? Returns 1 and sets *trial
 * (0, or the half-open round the request is a trial of), or 0 with
 * *retry_after_s (seconds, at least 1) for the 503. *changed is set when
 * the state moved (open to half-open). */
int breaker_admit(struct breaker *b, uint64_t now, int *trial, long *retry_after_s, int *changed);
/* One upstream call ended at now; failed: it counts against the
 * upstream. trial: the request's *trial from breaker_admit(). Calls that
 * say nothing of the upstream (cancelled, timed out in our own queue)
 * are not recorded at all. */
int breaker_record(struct breaker *b, int failed, int trial, uint64_t now);
/* A trial request (trial != 0) has ended; succeeded: an upstream call
 * of it was recorded healthy (breaker_record() with failed 0). */
int breaker_trial_done(struct breaker *b, int trial, int succeeded);
/* Ages the window to now (buckets older than window_ms drop out); then
 * b->calls and b->failures are the window's, for metrics and logs. */
void breaker_advance(struct breaker *b, uint64_t now);
const char *breaker_state_name(enum breaker_state s);

#endif
