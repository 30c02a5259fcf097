/* proto: what the loop knows of the upstream's HTTP version, and the
 * bounds on connections that follow from it.
 *
 * Over https, with --upstream-http2 1, the upstream may speak HTTP/2 or
 * HTTP/1.1, and a fresh process probes it: one connection is set up
 * first, every other call waiting at the gate; the end of its TLS
 * handshake says what ALPN chose (proto_on_curl_text()), and every
 * waiting call then starts at once (proto_probe()): over HTTP/2 they
 * share that connection (and later calls wait for a connection to share,
 * CURLOPT_PIPEWAIT), over HTTP/1.1 they open their own, spread over the
 * multi handles. The first answer decides if it comes first. After an
 * idle close it is learned again. The struct is the calls' (call.h), which borrows
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
    long pipewait;                       /* 1 once HTTP/2 is known: calls
                                            wait for a connection to share */
    long http_version;                   /* what ALPN offers */
    int protocol_known;                  /* HTTP/2 or not is known */
    int answered;                        /* an answer came: the gate opens */
    int first_ready;                     /* probing: a connection was set up */
    int alpn;                            /* probing: what a handshake's ALPN
                                            said: 2 HTTP/2, 1 HTTP/1.1, 0
                                            nothing yet */
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
/* curl's CURLOPT_DEBUGFUNCTION for the calls made while the protocol is
 * not known (arg: the struct proto): the end of a TLS handshake says
 * what ALPN chose (fetch_alpn()). */
int proto_on_curl_text(CURL *e, curl_infotype type, char *text, size_t len, void *arg);
/* Once per turn while probing: 1 when every call waiting at the gate
 * should start now (the first connection is set up, or its ALPN told the
 * protocol: then it is learned here). */
int proto_probe(struct proto *p);
/* Every connection was closed (idle): the next may speak another
 * protocol, so it is learned again. */
void proto_forget(struct proto *p);

#endif
