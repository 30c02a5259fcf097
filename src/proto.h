/* proto: what the loop knows of the upstream's HTTP version, and the
 * bounds on connections that follow from it.
 *
 * Over https, with --upstream-http2 1, the upstream may speak HTTP/2:
 * until its first answer tells, calls wait for a connection to share
 * (CURLOPT_PIPEWAIT), all go to one multi handle, and few connections
 * may be in their set-up. The first answer decides; after an idle close
 * it is learned again. The struct is the calls' (call.h), which borrows
 * it the poller and the connections it bounds. Loop thread only. */
#ifndef PROTO_H
#define PROTO_H

#include "config.h"
#include "conns.h"
#include "fetch.h"
#include "poller.h"

struct proto {
    const struct config *cfg;
    struct poller *poller;               /* borrowed */
    struct conns *conns;                 /* borrowed */
    int offer_h2;                        /* https, and --upstream-http2 1 */
    long pipewait;                       /* offer_h2, until an answer says
                                            HTTP/1.1: then calls no longer
                                            wait for a connection to share */
    long http_version;                   /* what ALPN offers */
    int protocol_known;                  /* an answer told HTTP/2 or not */
};

/* Nothing known yet; poller and conns are set by the caller once made. */
void proto_init(struct proto *p, const struct config *cfg);
/* How many connections may be in their set-up at once while the
 * protocol is not known. */
int proto_cold_gate(const struct proto *p);
/* Bounds the process's open upstream sockets for an upstream that
 * speaks HTTP/2 or may (maybe_http2). */
void proto_bound_open(struct proto *p, int maybe_http2);
/* The answer of f (off its multi handle) may tell the protocol: the
 * first that does sets the gate, the bounds and the handles for it. */
void proto_learn(struct proto *p, const struct fetch *f);
/* Every connection was closed (idle): the next may speak another
 * protocol, so it is learned again. */
void proto_forget(struct proto *p);

#endif
