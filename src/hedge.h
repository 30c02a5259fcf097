/* hedge: when an upstream call gets a second, identical call, and how
 * many such calls the upstream may be sent.
 *
 * A fan-out waits for its slowest call, so it multiplies the upstream's
 * tail: with 2 % of calls slow, an order of 11 calls is slow one time in
 * five. The remedy is the backup ("hedged") call of "The Tail at Scale"
 * (Dean and Barroso, CACM 2013), as Finagle's BackupRequestFilter and
 * gRPC's hedging policy make it: a call with no answer after a high
 * percentile of recent latency is sent once more, and the first good
 * answer wins.
 *
 * The delay, per kind of call (the caller's kinds, below HEDGE_KINDS):
 * a fixed one, or (auto) a high percentile of the time to a whole good
 * answer over the last HEDGE_WINDOW_MS, chosen from the budget as
 * Finagle does, but for half of it: a 5 % budget hedges past the 97.5th,
 * so that hedges use half the budget on average and the other half
 * meets bursts. Aimed at the whole budget (the 95th), demand equals what
 * the bucket is fed: under load (32 clients, 2 % of answers 1 s late) it
 * ran dry in bursts, a slow call then went unhedged, and p99 stayed at
 * 1042 ms. Latencies go into a fixed
 * histogram (eight buckets per power of two of microseconds: 12.5 %
 * wide), two of them, each covering half the window; the older half is
 * emptied as time moves on, so the estimate follows a change within a
 * window, and each sample costs one increment. The percentile is worked
 * out again every HEDGE_RECALC samples and when a half turns, never per
 * call. Fewer than HEDGE_MIN_SAMPLES in the window: no estimate, no hedge.
 * The delay is held within [min_ms, max_ms] (the caller passes half the
 * call timeout as max_ms).
 *
 * The budget: a token bucket fed by every original call with budget %
 * of a token, a hedge costing one (gRPC's throttling): over any stretch
 * of time, hedges are at most budget % of the calls made plus
 * HEDGE_BURST (the most it holds; it starts empty), so an upstream that
 * turns slow as a whole gets at most that much more load, never
 * double.
 *
 * Pure bookkeeping on a clock the caller gives (ms); loop thread only. */
#ifndef HEDGE_H
#define HEDGE_H

#include <stdint.h>

#define HEDGE_KINDS 3
#define HEDGE_BUCKETS 256
#define HEDGE_WINDOW_MS 10000
#define HEDGE_MIN_SAMPLES 100
#define HEDGE_RECALC 32
#define HEDGE_BURST 100         /* tokens the bucket holds at most */
#define HEDGE_TOKEN 1000        /* one hedge, in the bucket's units */
#define HEDGE_AUTO (-1)         /* hedge_init()'s after_ms: estimate it */

struct hedge_est {
    uint32_t half[2][HEDGE_BUCKETS]; /* samples by bucket, per half window */
    uint32_t count[2];
    int cur;                         /* the half being filled */
    uint64_t turned_ms;              /* when it began */
    uint32_t since_calc;             /* samples since the last estimate */
    long delay_ms;                   /* the last estimate; 0: none yet */
};

struct hedge {
    struct hedge_est est[HEDGE_KINDS];
    long after_ms;     /* HEDGE_AUTO, 0 (off) or a fixed delay */
    long min_ms, max_ms;
    int budget_pct;    /* 0..100 */
    long tokens;       /* in HEDGE_TOKEN units */
};

/* after_ms: HEDGE_AUTO, 0 for no hedging, or a fixed delay in ms;
 * budget_pct 0..100 (0: no hedging); min_ms <= max_ms. now in ms. */
void hedge_init(struct hedge *h, long after_ms, int budget_pct, long min_ms, long max_ms,
                uint64_t now);
/* A call of kind got a whole good answer in us microseconds. */
void hedge_sample(struct hedge *h, int kind, uint64_t us, uint64_t now);
/* How long after its start a call of kind gets a hedge, in ms; 0 when
 * it gets none (hedging off, or too few samples to trust). */
long hedge_delay(struct hedge *h, int kind, uint64_t now);
/* An original call was started: feeds the budget. */
void hedge_count_call(struct hedge *h);
/* 1 when the budget allows one more hedge now, and spends it; else 0. */
int hedge_take(struct hedge *h);

#endif
