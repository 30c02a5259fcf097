/* waitq: the upstream calls the connection gate held back, and the
 * order in which they start again.
 *
 * A call whose socket the gate refused (gate.h, fetch_held_back()) is
 * parked here, off every multi handle, keeping its place in its job and
 * its share of the fan-out. On each turn of the loop waitq_resume() says
 * which start again and where: first those whose time ran out are
 * failed, from the oldest; then a connection that a call finishing this
 * turn handed on goes to the oldest waiting call, on that connection's
 * multi handle; then the oldest take what room the gate has. Nothing
 * here knows curl: the caller starts, fails and measures the calls.
 * The queue links its calls through their wait_prev and wait_next and
 * owns none of them. Loop thread only. */
#ifndef WAITQ_H
#define WAITQ_H

#include <stdint.h>

#include "fetch.h"

#define WAITQ_SLOTS_MAX 16 /* multi handles whose handed-on connections are counted */

struct waitq {
    struct fetch *head, *tail;        /* parked calls, oldest first */
    int handed_on[WAITQ_SLOTS_MAX];   /* connections freed this turn, by slot */
};

/* What waitq_resume() does with the calls it takes off the queue: each
 * one is unparked before it is handed over, and the callee may end any
 * other parked call (waitq_unpark()) before the next is taken. */
struct waitq_ops {
    /* How many calls may start a connection of their own now (asked
     * once, after the expired waits are failed). */
    int (*room)(void *arg);
    /* Start f again on multi handle slot (-1: the next in turn). */
    void (*start)(void *arg, struct fetch *f, int slot);
    /* f's time ran out while it waited: its job fails. */
    void (*expire)(void *arg, struct fetch *f, uint64_t now);
    void *arg;
};

void waitq_init(struct waitq *q);
/* Parks f (on no multi handle: its slot becomes -1) at the end. */
void waitq_park(struct waitq *q, struct fetch *f);
/* Takes f, parked, off the queue. */
void waitq_unpark(struct waitq *q, struct fetch *f);
/* A call on multi handle slot finished with its connection whole: a
 * parked call may have it this turn. */
void waitq_handed_on(struct waitq *q, int slot);
/* Starts or fails parked calls as above, at now, over the first slots
 * multi handles; forgets the connections handed on this turn. */
void waitq_resume(struct waitq *q, int slots, uint64_t now, const struct waitq_ops *ops);

#endif
