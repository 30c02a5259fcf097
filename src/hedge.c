#include "hedge.h"

#include <string.h>

/* The bucket of a latency: below 16 us one per us, then eight per power
 * of two (the three bits under the highest set bit). */
static int hedge_bucket(uint64_t us)
{
    int msb, idx;

    if (us < 16)
        return (int)us;
    msb = 63 - __builtin_clzll(us);
    idx = 16 + (msb - 4) * 8 + (int)((us >> (msb - 3)) & 7);
    return idx < HEDGE_BUCKETS ? idx : HEDGE_BUCKETS - 1;
}

/* The upper edge of bucket idx, in us: what a percentile in it is taken
 * to be (never less than any sample in it). */
static uint64_t hedge_bucket_top(int idx)
{
    int msb;

    if (idx < 16)
        return (uint64_t)idx + 1;
    msb = 4 + (idx - 16) / 8;
    return (uint64_t)(8 + (idx - 16) % 8 + 1) << (msb - 3);
}

/* The q-th per-mille (1..999) of the window, in ms rounded up; 0 with
 * fewer than HEDGE_MIN_SAMPLES. */
static long hedge_percentile(const struct hedge_est *e, int q)
{
    uint64_t total = (uint64_t)e->count[0] + e->count[1], want, seen = 0;
    int i;

    if (total < HEDGE_MIN_SAMPLES)
        return 0;
    want = (total * (uint64_t)q + 999) / 1000;
    for (i = 0; i < HEDGE_BUCKETS; i++) {
        seen += (uint64_t)e->half[0][i] + e->half[1][i];
        if (seen >= want)
            break;
    }
    if (i == HEDGE_BUCKETS)
        i = HEDGE_BUCKETS - 1;
    return (long)((hedge_bucket_top(i) + 999) / 1000);
}

static void hedge_recalc(struct hedge *h, struct hedge_est *e)
{
    /* hedge_delay(): half the budget on average, the rest for bursts */
    int q = 1000 - h->budget_pct * 5;
    long d;

    if (q < 500)
        q = 500;
    if (q > 999)
        q = 999;
    d = hedge_percentile(e, q);
    if (d > 0 && d < h->min_ms)
        d = h->min_ms;
    if (d > h->max_ms)
        d = h->max_ms;
    e->delay_ms = d;
    e->since_calc = 0;
}

/* Moves the window to now: a half older than the window is emptied. */
static void hedge_advance(struct hedge *h, struct hedge_est *e, uint64_t now)
{
    const uint64_t half = HEDGE_WINDOW_MS / 2;

    if (now < e->turned_ms + half)
        return;
    if (now >= e->turned_ms + 2 * half) {
        memset(e->half, 0, sizeof(e->half));
        e->count[0] = e->count[1] = 0;
        e->turned_ms = now;
    } else {
        e->cur ^= 1;
        memset(e->half[e->cur], 0, sizeof(e->half[e->cur]));
        e->count[e->cur] = 0;
        e->turned_ms += half;
    }
    hedge_recalc(h, e);
}

void hedge_init(struct hedge *h, long after_ms, int budget_pct, long min_ms, long max_ms,
                uint64_t now)
{
    int k;

    memset(h, 0, sizeof(*h));
    h->after_ms = after_ms;
    h->budget_pct = budget_pct < 0 ? 0 : budget_pct > 100 ? 100 : budget_pct;
    h->min_ms = min_ms;
    h->max_ms = max_ms < min_ms ? min_ms : max_ms;
    for (k = 0; k < HEDGE_KINDS; k++)
        h->est[k].turned_ms = now;
}

void hedge_sample(struct hedge *h, int kind, uint64_t us, uint64_t now)
{
    struct hedge_est *e;

    if (kind < 0 || kind >= HEDGE_KINDS)
        return;
    e = &h->est[kind];
    hedge_advance(h, e, now);
    e->half[e->cur][hedge_bucket(us)]++;
    e->count[e->cur]++;
    /* until there is an estimate, every sample may be the one that
       makes enough */
    if (++e->since_calc >= HEDGE_RECALC || e->delay_ms == 0)
        hedge_recalc(h, e);
}

long hedge_delay(struct hedge *h, int kind, uint64_t now)
{
    if (h->after_ms == 0 || h->budget_pct == 0 || kind < 0 || kind >= HEDGE_KINDS)
        return 0;
    if (h->after_ms > 0)
        return h->after_ms;
    hedge_advance(h, &h->est[kind], now);
    return h->est[kind].delay_ms;
}

void hedge_count_call(struct hedge *h)
{
    h->tokens += (long)h->budget_pct * HEDGE_TOKEN / 100;
    if (h->tokens > (long)HEDGE_BURST * HEDGE_TOKEN)
        h->tokens = (long)HEDGE_BURST * HEDGE_TOKEN;
}

int hedge_take(struct hedge *h)
{
    if (h->tokens < HEDGE_TOKEN)
        return 0;
    h->tokens -= HEDGE_TOKEN;
    return 1;
}
