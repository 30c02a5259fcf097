/* breaker: the circuit breaker around the upstream, one per process.
 *
 * closed: every upstream call's outcome goes into a sliding window of
 *   the last `window` calls; once it holds at least `min_calls` and the
 *   share of failures (connection failures, timeouts, 5xx: never 404s)
 *   reaches `threshold_pct`, the breaker opens.
 * open: new requests are refused at once (503, Retry-After) for
 *   `open_ms`, and nothing is called upstream.
 * half-open: then up to `trials` requests are let through, and their
 *   calls are the trial calls: one failing opens it again; `trials` of
 *   them succeeding closes it, with an empty window (so does every trial
 *   request ending without a failure, for orders of fewer calls).
 *
 * Pure state: the caller passes the time (tests use a fake clock) and
 * serialises calls (the loop thread owns it). Functions that can change
 * the state return 1 when they did, so the caller logs each transition
 * once. */
#ifndef BREAKER_H
#define BREAKER_H

#include <stdint.h>

#define BREAKER_WINDOW_MAX 1000

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

struct breaker_conf {
    int window;        /* calls remembered, 1..BREAKER_WINDOW_MAX */
    int min_calls;     /* calls needed before it may open, <= window */
    int threshold_pct; /* failure share that opens it, 1..100 */
    long open_ms;      /* how long it stays open */
    int trials;        /* requests let through when half-open */
};

struct breaker {
    struct breaker_conf conf;
    enum breaker_state state;
    unsigned char ring[BREAKER_WINDOW_MAX]; /* 1: that call failed */
    int pos, count, failures;
    uint64_t opened_ms;
    int trials_granted, trials_done, trial_successes;
    int round; /* counts half-open periods; a trial belongs to one */
};

void breaker_init(struct breaker *b, const struct breaker_conf *conf);
/* May a new request call the upstream at now? Returns 1 and sets *trial
 * (0, or the half-open round the request is a trial of), or 0 with
 * *retry_after_s (seconds, at least 1) for the 503. *changed is set when
 * the state moved (open to half-open). */
int breaker_admit(struct breaker *b, uint64_t now, int *trial, long *retry_after_s, int *changed);
/* One upstream call ended; failed: it counts against the upstream.
 * trial: the request's *trial from breaker_admit(). */
int breaker_record(struct breaker *b, int failed, int trial, uint64_t now);
/* A trial request (trial != 0) has ended, however it ended. */
int breaker_trial_done(struct breaker *b, int trial);
const char *breaker_state_name(enum breaker_state s);

#endif
