/* twin: hedges of upstream calls, sent, raced and settled (twin.h).
 * Loop thread only. */
#include "twin.h"

#include <assert.h>

#include "jbuf.h"
#include "log.h"
#include "metrics.h"

_Static_assert(WORKFLOW_CALLS == HEDGE_KINDS, "a hedge estimate per kind of call");

void twin_init(struct calls *c, uint64_t now)
{
    long max = c->cfg->call_timeout_ms / 2;

    hedge_init(&c->hedge, c->cfg->hedge_after_ms < 0 ? HEDGE_AUTO : c->cfg->hedge_after_ms,
               (int)c->cfg->hedge_budget, c->cfg->hedge_min_ms,
               max > c->cfg->hedge_min_ms ? max : c->cfg->hedge_min_ms, now);
}

void twin_arm(struct calls *c, struct fetch *f, uint64_t now)
{
    long d = hedge_delay(&c->hedge, f->kind, now);
    int k = f->kind;

    hedge_count_call(&c->hedge);
    metrics_hedge_delay(k, d);
    if (d <= 0)
        return;
    f->hedge_at = f->started_ms + (uint64_t)d;
    f->hq_on = 1;
    f->hq_next = NULL;
    f->hq_prev = c->hq_tail[k];
    if (c->hq_tail[k])
        c->hq_tail[k]->hq_next = f;
    else
        c->hq_head[k] = f;
    c->hq_tail[k] = f;
}

void twin_forget(struct calls *c, struct fetch *f)
{
    int k = f->kind;

    if (f->twin) {
        f->twin->twin = NULL;
        f->twin = NULL;
    }
    if (!f->hq_on)
        return;
    if (f->hq_prev)
        f->hq_prev->hq_next = f->hq_next;
    else
        c->hq_head[k] = f->hq_next;
    if (f->hq_next)
        f->hq_next->hq_prev = f->hq_prev;
    else
        c->hq_tail[k] = f->hq_prev;
    f->hq_prev = f->hq_next = NULL;
    f->hq_on = 0;
}

uint64_t twin_next_at(const struct calls *c)
{
    uint64_t at = 0;
    int k;

    for (k = 0; k < HEDGE_KINDS; k++)
        if (c->hq_head[k] && (at == 0 || c->hq_head[k]->hedge_at < at))
            at = c->hq_head[k]->hedge_at;
    return at;
}

/* Whether f may get its hedge now (twin.h): 1 yes (a token of the
 * budget spent), 0 never, -1 not yet: no room left for a connection
 * (room: what this turn has not handed out yet; calls parked at the
 * gate come first) or for an answer. */
static int twin_allowed(struct calls *c, const struct fetch *f, uint64_t now, int room)
{
    const struct job *j = f->owner;

    if (f->waiting || f->twin || f->slot < 0 || now >= f->end_ms || j->trial != 0 ||
        !weigh_closed(&c->weigh))
        return 0;
    if (room <= 0 || c->waitq.head || jbuf_room() < (size_t)c->cfg->max_body)
        return -1;
    return hedge_take(&c->hedge);
}

/* The multi handle for f's hedge: over HTTP/2, where every call rides
 * the first handle's connections, another handle (its own connection);
 * over HTTP/1.1 the next in turn (a connection of its own anyway). */
static int twin_add(struct calls *c, const struct fetch *f, CURL *e)
{
    if (c->conns.multiplexed && c->conns.count > 1)
        return conns_add_at(&c->conns, (f->slot + 1) % c->conns.count, e);
    return conns_add(&c->conns, e);
}

/* Sends f's hedge: 0, or -1 when it could not (f goes on alone). */
static int twin_send(struct calls *c, struct fetch *f, uint64_t now)
{
    struct job *j = f->owner;
    struct fetch_opts o;
    struct fetch *h;
    char *url = NULL;
    char copy[WORKFLOW_URL_MAX];

    if (curl_easy_getinfo(f->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url ||
        snprintf(copy, sizeof(copy), "%s", url) >= (int)sizeof(copy))
        return -1;
    call_opts(c, j, now, &o);
    o.timeout_ms = (long)(f->end_ms - now);
    h = fetch_new(&c->pool, copy, &o, j, f->index);
    if (!h)
        return -1;
    h->started_ms = now;
    h->end_ms = f->end_ms;
    h->kind = f->kind;
    h->is_hedge = 1;
    h->slot = twin_add(c, f, h->easy);
    if (h->slot < 0) {
        fetch_release(&c->pool, h);
        return -1;
    }
    call_link(j, h);
    h->twin = f;
    f->twin = h;
    j->req->upstream_calls++;
    j->req->hedges++;
    metrics_hedge(h->kind, METRICS_HEDGE_SENT);
    return 0;
}

void twin_send_due(struct calls *c, uint64_t now)
{
    struct fetch *f;
    int k, may;
    /* the gate's room is taken only when curl opens a socket, after
       this turn: each hedge sent counts against it here */
    int room = poller_gate_room(c->poller);

    for (k = 0; k < HEDGE_KINDS; k++) {
        while ((f = c->hq_head[k]) && f->hedge_at <= now) {
            may = twin_allowed(c, f, now, room);
            if (may < 0) { /* the head waits, and the rest behind it */
                f->hedge_at = now + TWIN_RETRY_MS;
                break;
            }
            twin_forget(c, f);
            if (may && twin_send(c, f, now) == 0)
                room--;
            else if (may)
                log_debug("msg=\"could not send a hedge\"");
        }
    }
}

int twin_settle(struct calls *c, struct job *j, struct fetch *f, enum fetch_outcome out,
                uint64_t now)
{
    struct fetch *other = f->twin;

    if (out == FETCH_OK)
        hedge_sample(&c->hedge, f->kind, (now - f->started_ms) * 1000, now);
    if (!other)
        return 0;
    if (out == FETCH_FAILED) {
        /* the twin carries the call on; f is weighed as what it is */
        call_weigh(c, j, f, out);
        if (!f->is_hedge) {
            f->is_hedge = 1;
            other->is_hedge = 0;
        }
        call_drop(c, j, f);
        return 1;
    }
    metrics_hedge(f->kind, f->is_hedge ? METRICS_HEDGE_WON : METRICS_HEDGE_LOST);
    /* cancelled, weighed for nothing; a losing hedge leaves its
       connection for the next hedge (its reset goes out with that) */
    if (f->is_hedge) {
        f->is_hedge = 0;
        other->is_hedge = 1;
        call_drop(c, j, other);
    } else
        call_drop_keep(c, j, other);
    return 0;
}
