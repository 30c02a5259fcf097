/* proto: learning the upstream's HTTP version from its first TLS
 * handshake (or answer), and the connection bounds that follow
 * (proto.h). Loop thread only. */
#include "proto.h"

#include <string.h>

#include "log.h"

/* Back to the start of the probe. */
static void proto_reset(struct proto *p)
{
    p->pipewait = 0;
    p->protocol_known = !p->offer_h2;
    p->answered = !p->offer_h2;
    p->first_ready = 0;
    p->alpn = 0;
}

void proto_init(struct proto *p, const struct config *cfg)
{
    p->cfg = cfg;
    p->poller = NULL;
    p->conns = NULL;
    p->offer_h2 = strncmp(cfg->maestro, "https://", 8) == 0 && cfg->upstream_http2;
    p->http_version = cfg->upstream_http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1;
    proto_reset(p);
}

/* While probing, one connection may be in its set-up until one is
 * ready; then, until the protocol is known, as many as there are multi
 * handles (the gate counts for the whole process: libcurl 7.88, even with
 * PIPEWAIT, was seen to open 136 connections for a cold burst of 1000
 * orders). Once an answer came, --max-connecting. What the handshake's
 * ALPN tells changes where calls go and whether they PIPEWAIT, not the
 * gate: opened to 64 at the handshake, a cold burst of 1000 orders
 * under ASan on a busy Debian 13 root started 64 handshakes at once, and
 * the calls timed out on the wire opened the breaker.
 *
 * No PIPEWAIT before HTTP/2 is known: libcurl 8.14 parks a PIPEWAIT call
 * while any connection to the host is in its set-up, and wakes its
 * parked calls when a connection that multiplexes is made, not when an
 * HTTP/1.1 one is. And every call goes to the first handle, whose HTTP/2
 * bound is CONNS_MULTIPLEXED_MAX connections, until the protocol is
 * known: learned from the first answer, behind an HTTP/1.1-only gateway
 * answering in 3 s, a cold burst of 100 calls on Debian 13 reached the
 * upstream 64 to 98 at once, the rest timing out in libcurl's queue
 * ("Operation timed out after 6651 milliseconds with 0 bytes received");
 * libcurl 7.88 let more through. Learned from the handshake's ALPN, all
 * 100 are at the upstream at once on both. */
int proto_cold_gate(const struct proto *p)
{
    long max = p->cfg->max_connecting;

    if (p->answered)
        return (int)max;
    if (p->offer_h2 && !p->first_ready)
        return 1;
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

/* The upstream speaks HTTP/2 (http2 1) or HTTP/1.1: the probe ends. */
static void proto_known(struct proto *p, int http2)
{
    p->protocol_known = 1;
    if (!http2) {
        proto_bound_open(p, 0);
        conns_spread(p->conns);
        log_info("msg=\"upstream speaks HTTP/1.1: calls spread over %d handles\"", p->conns->count);
        return;
    }
    p->pipewait = 1;
    conns_multiplexed(p->conns);
    log_info("msg=\"upstream speaks HTTP/2: calls share at most %ld connections\"",
             conns_limit(p->conns, 0));
}

void proto_learn(struct proto *p, const struct fetch *f)
{
    long version = 0;

    if (p->answered || f->status == 0 ||
        curl_easy_getinfo(f->easy, CURLINFO_HTTP_VERSION, &version) != CURLE_OK)
        return;
    if (!p->protocol_known)
        proto_known(p, version == CURL_HTTP_VERSION_2_0);
    /* the first answer opens the gate: until then a cold burst's
       handshakes go CONNS_MULTI_MAX at a time (see proto_cold_gate) */
    p->answered = 1;
    poller_gate_max(p->poller, (int)p->cfg->max_connecting);
}

int proto_on_curl_text(CURL *e, curl_infotype type, char *text, size_t len, void *arg)
{
    struct proto *p = arg;

    (void)e;
    if (!p->alpn)
        p->alpn = fetch_alpn(type, text, len);
    return 0;
}

int proto_probe(struct proto *p)
{
    if (p->protocol_known || (p->first_ready && !p->alpn))
        return 0;
    if (p->alpn)
        proto_known(p, p->alpn == 2);
    else if (poller_ready_count(p->poller) == 0)
        return 0;
    p->first_ready = 1;
    poller_gate_max(p->poller, proto_cold_gate(p));
    return 1;
}

void proto_forget(struct proto *p)
{
    proto_reset(p);
    poller_gate_max(p->poller, proto_cold_gate(p));
    proto_bound_open(p, p->offer_h2);
}
