/* fold: one broken connection is one fault.
 *
 * When a connection that carries many calls at once (HTTP/2) breaks,
 * curl fails every call on it; the breaker should weigh one fault, not
 * a hundred. libcurl 7.88 names no connection (CURLINFO_CONN_ID came in
 * 8.2), but the calls of one connection share its local port: a broken-
 * connection failure on a port that already failed less than
 * FOLD_SPAN_MS before is that same fault. Only broken-connection
 * failures come here (fetch_health()): 5xx answers and timeouts are one
 * per call, whatever connection carried them.
 *
 * The memory is direct-mapped by port: O(1), no allocation. A collision
 * forgets the older port, so it may count one connection's fault twice;
 * it never folds two connections into one. Pure state: the caller passes
 * the time and serialises calls. */
#ifndef FOLD_H
#define FOLD_H

#include <stdint.h>

#define FOLD_SLOTS 256
#define FOLD_SPAN_MS 1000

struct fold {
    struct {
        uint64_t at;   /* when the fault of this port was counted */
        long port;     /* 0: empty */
    } slot[FOLD_SLOTS];
};

void fold_init(struct fold *f);
/* A call on local port `port` failed with a broken connection at now:
 * 1 when that is a new fault (to be counted), 0 when it is one counted
 * already. port 0 or out of range (no connection known): always new. */
int fold_new_fault(struct fold *f, long port, uint64_t now);

#endif
