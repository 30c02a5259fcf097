/* backoff: the accept pauses of the acceptor (backoff.h). */
#include "backoff.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

int backoff_start(struct backoff *b, int err, uint64_t now)
{
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM)
        return 0;
    b->until_ms = now + BACKOFF_PAUSE_MS;
    b->pauses++;
    metrics_accept_paused();
    if (now - b->logged_ms < BACKOFF_LOG_MS)
        return 1;
    log_warn("msg=\"accept paused: out of descriptors\" error=\"%s\" pauses=%lu pause_ms=%d",
             strerror(err), b->pauses, BACKOFF_PAUSE_MS);
    b->logged_ms = now;
    b->pauses = 0;
    return 1;
}

int backoff_over(struct backoff *b, uint64_t now)
{
    if (!b->until_ms || now < b->until_ms)
        return 0;
    b->until_ms = 0;
    return 1;
}
