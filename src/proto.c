/* proto: learning the upstream's HTTP version from its first answer,
 * and the connection bounds that follow (proto.h). Loop thread only. */
#include "proto.h"

#include <string.h>

#include "log.h"

void proto_init(struct proto *p, const struct config *cfg)
{
    p->cfg = cfg;
    p->poller = NULL;
    p->conns = NULL;
    p->offer_h2 = strncmp(cfg->maestro, "https://", 8) == 0 && cfg->upstream_http2;
    p->pipewait = p->offer_h2;
    p->http_version = cfg->upstream_http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1;
    p->protocol_known = !p->offer_h2;
}

/* Until an answer tells whether ALPN chose HTTP/2, at most as many
 * connections as there are multi handles may be in their set-up (the
 * gate counts for the whole process): were it HTTP/2, the calls that wait
 * will all fit on it, and libcurl 7.88, even with PIPEWAIT, was seen to
 * open 136 connections for a cold burst of 1000 orders. The first answer
 * (any status) decides: over HTTP/2 the calls go to one handle
 * (conns.h), over HTTP/1.1 to all in turn; either way the gate opens to
 * --max-connecting. */
int proto_cold_gate(const struct proto *p)
{
    long max = p->cfg->max_connecting;

    return (int)(p->offer_h2 && max > CONNS_MULTI_MAX ? CONNS_MULTI_MAX : max);
}

/* While the upstream speaks HTTP/2, or may (it has not answered yet),
 * the process holds at most CONNS_MULTIPLEXED_MAX connections (never
 * more than --max-connections): the poller refuses more sockets, and a
 * call that would open one waits, as at the gate. curl's own limits are
 * per multi handle, and the connections a handle opened stay open until
 * their calls end when its limit is lowered (a cold burst of 1000 orders
 * was seen to hold 74). An upstream that turned out to speak HTTP/1.1
 * keeps the bound of --max-connections for that reason: the first
 * handle carried every call while it was probed. A plain-HTTP one has
 * only the handles' limits, which sum to --max-connections. */
void proto_bound_open(struct proto *p, int maybe_http2)
{
    long max = p->cfg->max_connections;

    if (maybe_http2 && max > CONNS_MULTIPLEXED_MAX)
        max = CONNS_MULTIPLEXED_MAX;
    poller_open_max(p->poller, p->offer_h2 ? (int)max : 0);
}

void proto_learn(struct proto *p, const struct fetch *f)
{
    long version = 0;

    if (p->protocol_known || f->status == 0 ||
        curl_easy_getinfo(f->easy, CURLINFO_HTTP_VERSION, &version) != CURLE_OK)
        return;
    p->protocol_known = 1;
    poller_gate_max(p->poller, (int)p->cfg->max_connecting);
    if (version != CURL_HTTP_VERSION_2_0) {
        /* libcurl 8.14 would keep a call waiting for a connection of its
           handle to finish instead of opening another one */
        p->pipewait = 0;
        proto_bound_open(p, 0);
        conns_spread(p->conns);
        return;
    }
    conns_multiplexed(p->conns);
    log_info("msg=\"upstream speaks HTTP/2: calls share at most %ld connections\"",
             conns_limit(p->conns, 0));
}

void proto_forget(struct proto *p)
{
    p->pipewait = p->offer_h2;
    p->protocol_known = !p->offer_h2;
    poller_gate_max(p->poller, proto_cold_gate(p));
    proto_bound_open(p, p->offer_h2);
}
