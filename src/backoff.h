/* backoff: accepting paused for a moment while the process is out of
 * descriptors (or kernel memory), and said so at most once a second.
 *
 * Out of descriptors, accept() fails at once for as long as the listening
 * socket is ready: the acceptor stops watching it for BACKOFF_PAUSE_MS
 * (the connections wait in the socket's backlog; nginx stops for 500 ms),
 * goes on with the connections it has, and those closing give descriptors
 * back. Closing the waiting ones through a spare descriptor (libev's way)
 * would leave their requests unanswered: the web server would answer 502.
 * Short, so that a healthcheck waiting there is taken within 10 ms of a
 * descriptor coming free (with 100 ms, a soak at the limit saw
 * healthchecks wait up to 0.47 s); the pauses cost at most 100 wake-ups a
 * second. A moment, not a death: never given up on.
 * Pure bookkeeping on a clock the caller gives; the acceptor's thread. */
#ifndef BACKOFF_H
#define BACKOFF_H

#include <stdint.h>

#define BACKOFF_PAUSE_MS 10
#define BACKOFF_LOG_MS 1000 /* one log line a second at most */

struct backoff {
    uint64_t until_ms;     /* accepting paused till then; 0: not */
    uint64_t logged_ms;    /* the last pause's log line */
    unsigned long pauses;  /* since that line */
};

/* accept() failed with err at now: 1 when it is ours to wait out (out of
 * descriptors or memory: the pause starts, counted, logged at most once
 * a second); 0 for any other error. */
int backoff_start(struct backoff *b, int err, uint64_t now);
/* 1 when a pause is over at now (it is then forgotten). */
int backoff_over(struct backoff *b, uint64_t now);

#endif
