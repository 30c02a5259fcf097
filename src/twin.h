/* twin: the hedge of an upstream call, a second and identical transfer.
 *
 * Every upstream call is a GET, safe to send twice. A call with no
 * answer after the hedge delay of its kind (hedge.h: a recent high
 * percentile, or a fixed delay) gets one twin: the same URL, headers
 * and request id, for what is left of the call's time, on another multi
 * handle than the first when the upstream speaks HTTP/2 (so on another
 * connection; over HTTP/1.1 it needs one of its own anyway). The first
 * good whole answer (2xx, or a 404: an answer, not a slow call) wins and
 * the other transfer is cancelled at once, weighed for neither the
 * breaker nor the metrics. A transfer that fails while its twin runs
 * leaves the call to the twin (weighed as the failure it is); both
 * failing fails the call as one would. At most one hedge per call, and
 * at most two transfers of a call in flight: no retry while a twin runs.
 *
 * No hedge while the breaker is not closed, for a call still waiting at
 * the gate, or past the hedge budget (hedge.h). Not yet while the
 * connection gate has no room (calls parked there come first, and each
 * hedge sent in a turn counts against the room) or the memory budget
 * could not hold another answer: the hedge is tried again TWIN_RETRY_MS
 * later (a cold process sets up its first connection alone: a hedge due
 * during that handshake, 50 ms into a 1 s call, was once dropped for
 * good).
 *
 * Over HTTP/2 a cancelled original that was the last on its connection
 * closes it (call_drop(): else libcurl would hold its reset back); a
 * losing hedge keeps its connection, on the other multi handle, for the
 * next hedge (call_drop_keep()).
 *
 * The two transfers point at each other (f->twin); the hedge is marked
 * (f->is_hedge) and does not count among its job's calls (j->running):
 * when the first transfer fails or loses, the roles swap. Calls whose
 * hedge is due are queued by kind, in the order they started (one
 * delay per kind, so each queue is in order of hedge time but for the
 * delay's drift). The queue and the estimator live in struct calls
 * (call.h); the transfers are the calls'. Loop thread only. */
#ifndef TWIN_H
#define TWIN_H

#include <stdint.h>

#include "call.h"

#define TWIN_RETRY_MS 5 /* a hedge with no room yet is tried again after */

void twin_init(struct calls *c, uint64_t now);
/* A call's first transfer f started at now: feeds the hedge budget and
 * queues its hedge time, if its kind has a delay. */
void twin_arm(struct calls *c, struct fetch *f, uint64_t now);
/* f leaves (ends, is cancelled): off the hedge queue, and its twin's
 * link to it cut. */
void twin_forget(struct calls *c, struct fetch *f);
/* Sends the hedges due at now. */
void twin_send_due(struct calls *c, uint64_t now);
/* When the next hedge is due; 0: none queued. */
uint64_t twin_next_at(const struct calls *c);
/* Transfer f of job j ended as out (fetch_finish()ed, off its multi
 * handle). 1 when it is settled here (it failed while its twin runs: f
 * is weighed and gone, the twin carries the call on); 0 when the caller
 * ends the call with f as usual (a twin that lost to f is cancelled
 * first). A good answer feeds the estimator either way. */
int twin_settle(struct calls *c, struct job *j, struct fetch *f, enum fetch_outcome out,
                uint64_t now);

#endif
