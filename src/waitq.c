/* waitq: the calls the gate held back, oldest first, and the order in
 * which they start again (waitq.h). Loop thread only. */
#include "waitq.h"

#include <assert.h>
#include <string.h>

void waitq_init(struct waitq *q)
{
    memset(q, 0, sizeof(*q));
}

/* It keeps its place in its job, and its share of the fan-out, and
 * waits for a connection. */
void waitq_park(struct waitq *q, struct fetch *f)
{
    assert(!f->waiting);
    f->waiting = 1;
    f->slot = -1; /* on no multi handle */
    f->wait_next = NULL;
    f->wait_prev = q->tail;
    if (q->tail)
        q->tail->wait_next = f;
    else
        q->head = f;
    q->tail = f;
}

void waitq_unpark(struct waitq *q, struct fetch *f)
{
    assert(f->waiting && f->slot < 0);
    if (f->wait_prev)
        f->wait_prev->wait_next = f->wait_next;
    else
        q->head = f->wait_next;
    if (f->wait_next)
        f->wait_next->wait_prev = f->wait_prev;
    else
        q->tail = f->wait_prev;
    f->wait_prev = f->wait_next = NULL;
    f->waiting = 0;
}

void waitq_handed_on(struct waitq *q, int slot)
{
    assert(slot >= 0 && slot < WAITQ_SLOTS_MAX);
    q->handed_on[slot]++;
}

/* Takes f off the queue and starts it (slot -1: the next multi handle
 * in turn). The list is in order of parking, and a call held back
 * twice parks at its end again: its time is checked here too. */
static void waitq_resume_one(struct waitq *q, struct fetch *f, int slot, uint64_t now,
                             const struct waitq_ops *ops)
{
    waitq_unpark(q, f);
    if (f->end_ms <= now)
        ops->expire(ops->arg, f, now);
    else
        ops->start(ops->arg, f, slot);
}

/* First on the connections that calls finishing this turn handed on,
 * then as many as the gate has room for (a call that finds an idle
 * connection takes no room, one that finds none is held back again). */
void waitq_resume(struct waitq *q, int slots, uint64_t now, const struct waitq_ops *ops)
{
    struct fetch *f;
    int slot = 0, room;

    assert(slots <= WAITQ_SLOTS_MAX);
    while ((f = q->head) && f->end_ms <= now) {
        waitq_unpark(q, f);
        ops->expire(ops->arg, f, now);
    }
    room = ops->room(ops->arg);
    while ((f = q->head) && slot < slots) {
        if (q->handed_on[slot] == 0) {
            slot++;
            continue;
        }
        q->handed_on[slot]--;
        waitq_resume_one(q, f, slot, now, ops);
    }
    while ((f = q->head) && room-- > 0)
        waitq_resume_one(q, f, -1, now, ops);
    memset(q->handed_on, 0, sizeof(q->handed_on));
}
