/* conns: the upstream connections of one loop, in a few curl multi
 * handles that share one poller.
 *
 * Why more than one: libcurl 7.88 walks its whole connection cache on
 * every curl_multi_remove_handle() (looking for the transfer's last
 * connection by id, to close connect-only ones) and walks the host's
 * connections on every new transfer. With 1000 requests in flight that is
 * 3000 connections, walked twice per call: at the start of a burst those
 * walks were the top four user-space spots of the loop in perf; with the
 * split, the slowest answer of that burst came at 2280 ms instead of
 * 2325 to 2374 ms (bench scenario 2, one run each).
 * Split over CONNS_MULTI_MAX handles, each walk is that much shorter.
 * Transfers go to the handles in turn, so each carries an even share; the
 * per-process connection limit is split between them, and their sum never
 * exceeds it (but see the probe below).
 *
 * Over HTTP/2 the split costs more than it saves: the walks are short
 * (CONNS_MULTIPLEXED_MAX connections at most), and calls spread over
 * eight handles ride on eight times as many connections, each carrying
 * fewer streams per read, so each answer takes more reads, more TLS
 * records and more wake-ups of libcurl (bench part 8). So over https,
 * until the first TLS handshake (or answer) says which protocol the
 * upstream speaks (the probe: loop.c), every transfer goes to the first handle, which may open up to
 * CONNS_MULTIPLEXED_MAX connections. Over HTTP/2 it stays so (the others
 * keep one connection each). Over HTTP/1.1 transfers are spread from
 * then on (conns_spread()), and the first handle keeps what it opened
 * until its calls end: the loop bounds the process's sockets itself
 * (poller_open_max()). Spread before HTTP/2 was known, the other
 * handles' connections stayed open, unused, while their calls lasted: a
 * cold burst of 1000 orders held 74 connections, or, bounded to 64,
 * took the burst's p99 latency to 4.4 s (bench part 7's warm-up).
 *
 * One share handle (curl_share) holds the TLS sessions and the DNS cache
 * of all the multi handles, so a connection opened on any of them resumes
 * a session another one made instead of a full handshake, and a host
 * name is looked up once. Only the loop thread uses it: no locks.
 *
 * conns_reset() closes every kept-alive connection (after the loop has
 * been idle: descriptors go back to what they were at start).
 * Loop thread only. */
#ifndef CONNS_H
#define CONNS_H

#include <curl/curl.h>

#include "poller.h"

#define CONNS_MULTI_MAX 8
/* Connections of the one handle that carries every call once the
 * upstream is known to speak HTTP/2, and of the whole process then:
 * each connection carries up to 100 calls at once (curl's default), so
 * 64 hold 6400. Without a cap libcurl 7.88 was seen to open 16 per
 * handle for a burst that 3 would have carried. */
#define CONNS_MULTIPLEXED_MAX 64

struct conns {
    struct poller *poller;           /* borrowed */
    CURLM *multi[CONNS_MULTI_MAX];   /* owned */
    CURLSH *share;                   /* owned; set on every transfer */
    long limit[CONNS_MULTI_MAX];     /* connections each may open */
    int count;                       /* handles in use */
    int next;                        /* the one the next transfer goes to */
    int reading;                     /* conns_info_read()'s place */
    int used;                        /* a transfer was added since the reset */
    int multiplexed;                 /* the upstream answers over HTTP/2 */
    int probe;                       /* it may: offered over https */
    int first_only;                  /* every transfer to the first handle */
};

/* max_connections (>= 1) split over min(CONNS_MULTI_MAX, max_connections)
 * handles attached to p; probe: the upstream may speak HTTP/2, so every
 * transfer goes to the first handle until conns_spread() or
 * conns_multiplexed(). 0, or -1 (conns_free() cleans up either way).
 * conns_free() must come after every easy handle that used c->share is
 * cleaned up. */
int conns_init(struct conns *c, struct poller *p, long max_connections, int probe);
void conns_free(struct conns *c);
/* Adds e to the next handle in turn (over HTTP/2: to the first); its
 * slot, or -1 when curl refused. */
int conns_add(struct conns *c, CURL *e);
/* Adds e to the handle of slot (where a connection was just handed on);
 * slot, or -1 when curl refused. */
int conns_add_at(struct conns *c, int slot, CURL *e);
/* Removes e from the handle of slot. */
void conns_remove(struct conns *c, int slot, CURL *e);
/* The next message of any handle, NULL when none is left. */
CURLMsg *conns_info_read(struct conns *c);
/* The upstream answers over HTTP/2: from now on new transfers go to the
 * first handle, which may open up to CONNS_MULTIPLEXED_MAX connections
 * (never more than max_connections in all: the others keep one each). */
void conns_multiplexed(struct conns *c);
/* The upstream answers over HTTP/1.1: from now on transfers go to the
 * handles in turn, each with its share of max_connections (the first
 * keeps what it opened while probing until its calls end). */
void conns_spread(struct conns *c);
/* The connections handle i may open now: its share of max_connections,
 * or its part of the HTTP/2 split above. */
long conns_limit(const struct conns *c, int i);
/* Replaces every handle by a fresh one, without the HTTP/2 cap, closing
 * every connection; a probed upstream is probed again. No
 * transfer may be attached. 0, or -1 when one could not be replaced (it
 * is kept). */
int conns_reset(struct conns *c);

#endif
