/* metrics: what Prometheus scrapes from GET /metrics (text format 0.0.4).
 *
 * Process-wide counters and histograms kept in atomics, so that the
 * acceptor and the loop record without locks and a scrape reads them
 * while they move (each value is exact; the set is not a snapshot).
 * Labels are bounded: routes and statuses from fixed lists, upstream
 * outcomes from a fixed list. No order id ever becomes a label. */
#ifndef METRICS_H
#define METRICS_H

#include <stdint.h>

#include "jbuf.h"
#include "route.h"

enum metrics_upstream {
    METRICS_UP_OK,          /* 2xx */
    METRICS_UP_NOT_FOUND,   /* 404 */
    METRICS_UP_STATUS,      /* any other status */
    METRICS_UP_TIMEOUT,
    METRICS_UP_CONNECT,     /* could not connect */
    METRICS_UP_ERROR,       /* reset, body over the cap, ... */
    METRICS_UP_RETRIED,     /* died with a reused connection, sent again */
    METRICS_UP_QUEUED_TIMEOUT, /* timed out in our queue, never sent */
    METRICS_UP_COUNT
};

/* A finished request: status 0 when its client left unanswered. */
void metrics_request(enum route_kind route, int status, uint64_t ms);
/* A finished upstream call and its duration: not one we cancelled, but
 * one its request's deadline cut counts as the timeout it is. */
void metrics_upstream(enum metrics_upstream outcome, uint64_t us);
/* An upstream call failed because epoll refused its socket. */
void metrics_watch_failed(void);
/* Accepting paused: out of descriptors (server.c). */
void metrics_accept_paused(void);
/* An answer cut because the web server did not read it in time. */
void metrics_answer_cut(void);
/* The breaker's state (a BREAKER_* value) and how many times it has
 * opened, set on every transition. */
void metrics_breaker_state(int state, unsigned long openings);
/* The calls and failures in the breaker's window now (the loop sets it
 * at every turn, so it ages while no call ends). */
void metrics_breaker_window(long calls, long failures);
/* Hedged upstream calls (hedge.h), by kind of call (a workflow_call). */
enum metrics_hedge {
    METRICS_HEDGE_SENT, /* a second, identical call went out */
    METRICS_HEDGE_WON,  /* the hedge's answer came first */
    METRICS_HEDGE_LOST, /* the original's did */
    METRICS_HEDGE_COUNT
};
void metrics_hedge(int kind, enum metrics_hedge what);
/* The hedge delay of a kind now, in ms (0: none). */
void metrics_hedge_delay(int kind, long ms);
/* Appends the exposition; in_flight is read by the caller. -1 when out
 * of memory or past out's cap. */
int metrics_render(struct jbuf *out, long in_flight);

#endif
