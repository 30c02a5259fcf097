#include "breaker.h"

#include <string.h>

static void breaker_clear_window(struct breaker *b)
{
    memset(b->bucket, 0, sizeof(b->bucket));
    b->calls = b->failures = 0;
}

static void breaker_open(struct breaker *b, uint64_t now)
{
    b->state = BREAKER_OPEN;
    b->opened_ms = now;
    b->openings++;
}

static void breaker_close(struct breaker *b)
{
    b->state = BREAKER_CLOSED;
    breaker_clear_window(b);
}

void breaker_init(struct breaker *b, const struct breaker_conf *conf)
{
    memset(b, 0, sizeof(*b));
    b->conf = *conf;
    b->round = 1; /* trial 0 means "not a trial" */
    if (b->conf.window_ms < BREAKER_WINDOW_MIN_MS)
        b->conf.window_ms = BREAKER_WINDOW_MIN_MS;
    b->width = (uint64_t)b->conf.window_ms / BREAKER_BUCKETS;
    b->state = BREAKER_CLOSED;
}

/* Drops the buckets of the slots between the newest one and now's: at
 * most BREAKER_BUCKETS of them, however long it has been. */
void breaker_advance(struct breaker *b, uint64_t now)
{
    uint64_t slot = now / b->width, n;
    struct breaker_bucket *k;

    if (slot <= b->head)
        return; /* the same bucket (or a clock that went back: keep it) */
    n = slot - b->head;
    if (n >= BREAKER_BUCKETS) {
        breaker_clear_window(b);
    } else {
        while (n-- > 0) {
            k = &b->bucket[(b->head + n + 1) % BREAKER_BUCKETS];
            b->calls -= k->calls;
            b->failures -= k->failures;
            k->calls = k->failures = 0;
        }
    }
    b->head = slot;
}

/* Adds one outcome to the newest bucket. */
static void breaker_push(struct breaker *b, int failed, uint64_t now)
{
    struct breaker_bucket *k;

    breaker_advance(b, now);
    k = &b->bucket[b->head % BREAKER_BUCKETS];
    k->calls++;
    b->calls++;
    if (failed) {
        k->failures++;
        b->failures++;
    }
}

static int breaker_tripped(const struct breaker *b)
{
    return b->calls >= b->conf.min_calls &&
           (long long)b->failures * 100 >= (long long)b->conf.threshold_pct * b->calls;
}

int breaker_admit(struct breaker *b, uint64_t now, int *trial, long *retry_after_s, int *changed)
{
    uint64_t waited = now - b->opened_ms;

    *trial = 0;
    *changed = 0;
    if (b->state == BREAKER_OPEN && waited >= (uint64_t)b->conf.open_ms) {
        b->state = BREAKER_HALF_OPEN;
        b->trials_granted = b->trials_done = b->trial_successes = 0;
        b->round++;
        *changed = 1;
    }
    if (b->state == BREAKER_CLOSED)
        return 1;
    if (b->state == BREAKER_HALF_OPEN && b->trials_granted < b->conf.trials) {
        b->trials_granted++;
        *trial = b->round;
        return 1;
    }
    *retry_after_s = 1;
    if (b->state == BREAKER_OPEN)
        *retry_after_s = (long)((b->conf.open_ms - (long)waited + 999) / 1000);
    if (*retry_after_s < 1)
        *retry_after_s = 1;
    return 0;
}

int breaker_record(struct breaker *b, int failed, int trial, uint64_t now)
{
    if (b->state == BREAKER_CLOSED) {
        breaker_push(b, failed, now);
        if (!breaker_tripped(b))
            return 0;
        breaker_open(b, now);
        return 1;
    }
    if (b->state != BREAKER_HALF_OPEN || trial != b->round)
        return 0; /* open, or calls of requests admitted before it opened */
    if (failed) {
        breaker_open(b, now);
        return 1;
    }
    if (++b->trial_successes < b->conf.trials)
        return 0;
    breaker_close(b);
    return 1;
}

int breaker_trial_done(struct breaker *b, int trial, int succeeded)
{
    if (b->state != BREAKER_HALF_OPEN || trial != b->round)
        return 0;
    if (!succeeded) {
        /* its client left, or it timed out in our own queue: it says
           nothing of the upstream, and another request takes its place */
        if (b->trials_granted > b->trials_done)
            b->trials_granted--;
        return 0;
    }
    if (++b->trials_done < b->conf.trials)
        return 0;
    breaker_close(b);
    return 1;
}

const char *breaker_state_name(enum breaker_state s)
{
    switch (s) {
    case BREAKER_CLOSED: return "closed";
    case BREAKER_OPEN: return "open";
    default: return "half-open";
    }
}
