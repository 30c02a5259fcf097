/* dispatch: a request, read whole, to what answers it (acceptor thread).
 *
 * Quick requests are answered on the spot (healthcheck, 404, 405, 422,
 * metrics, the API document); a request that calls the upstream is
 * checked, admitted (or refused 503: --max-in-flight, --max-memory),
 * given its workflow and handed to the loop as a job. Answers the
 * socket does not take at once go to the loop to be written. */
#include "dispatch.h"

#include <stdlib.h>

#include "clock.h"
#include "docs.h"
#include "enrich.h"
#include "jbuf.h"
#include "log.h"
#include "metrics.h"
#include "orders.h"
#include "route.h"

/* A 422's detail: one entry per bad code, at most --max-codes of them
   (each under 200 bytes); past it the request gets a 503 */
#define DISPATCH_DETAIL_MAX (16 * 1024 * 1024)

/* Answers on the spot; what the socket does not take at once is
 * written by the loop, so a slow reader never holds the acceptor. */
static void dispatch_finish(const struct server *s, struct request *req, const struct reply *r)
{
    struct request *writing = request_finish(req, r);

    if (writing)
        loop_write(s->loop, writing);
}

void dispatch_answer(const struct server *s, struct request *req, enum reply_kind kind)
{
    struct reply r = reply_canned(kind);

    dispatch_finish(s, req, &r);
}

static enum reply_kind dispatch_quick_kind(enum route_kind k)
{
    switch (k) {
    case ROUTE_HEALTH: return REPLY_HEALTH;
    case ROUTE_BAD_METHOD: return REPLY_BAD_METHOD;
    case ROUTE_BAD_METHOD_POST: return REPLY_BAD_METHOD_POST;
    case ROUTE_BAD_UUID: return REPLY_BAD_UUID;
    default: return REPLY_NOT_FOUND;
    }
}

/* One warning a second at most, with the orders refused since the last:
 * under overload there may be thousands a second. Acceptor thread only. */
void dispatch_refuse_memory(const struct config *c)
{
    static uint64_t last_ms;
    static long refused;
    uint64_t now = clock_ms();

    refused++;
    if (now - last_ms < 1000)
        return;
    log_warn("msg=\"memory budget reached, orders refused\" refused=%ld held=%zu max_memory=%ld",
             refused, jbuf_held(), c->max_memory);
    last_ms = now;
    refused = 0;
}

/* Room for one more request that calls the upstream: 1, or 0 when it
 * was answered 503 (over --max-in-flight, or --max-memory has less
 * room than one upstream body). */
static int dispatch_admit(const struct server *s, struct request *req)
{
    const struct config *c = s->cfg;

    if (request_in_flight() > c->max_in_flight) {
        dispatch_answer(s, req, REPLY_UNAVAILABLE);
        return 0;
    }
    if (jbuf_room() < (size_t)c->max_body) {
        dispatch_refuse_memory(c);
        dispatch_answer(s, req, REPLY_UNAVAILABLE);
        return 0;
    }
    return 1;
}

/* Hands req to the loop with its workflow; ctx NULL (out of memory)
 * or a job that cannot be made: 503, as when --max-memory is reached. */
static void dispatch_submit(const struct server *s, struct request *req,
                          const struct workflow *wf, void *ctx)
{
    struct job *j = ctx ? job_new(req, wf, ctx, req->started_ms, s->cfg->request_timeout_ms) : NULL;

    if (!j) {
        dispatch_answer(s, req, REPLY_UNAVAILABLE); /* out of memory: later, maybe */
        return;
    }
    loop_submit(s->loop, j);
}

static void dispatch_start_items(const struct server *s, struct request *req)
{
    const struct config *c = s->cfg;
    struct orders_limits lim = {(size_t)c->max_packages, (size_t)c->max_answer};

    if (dispatch_admit(s, req))
        dispatch_submit(s, req, &orders_workflow, orders_new(c->maestro, req->route.order_id, &lim));
}

#define DISPATCH_EMPTY_ENRICHED "{\"items\":{},\"missing\":[]}"

/* The body is checked here, on the spot (a bad one is a 422 at once,
 * whatever the load); no code at all needs no call. */
static void dispatch_start_enrich(const struct server *s, struct request *req)
{
    const struct config *c = s->cfg;
    struct codes codes;
    struct jbuf detail;
    struct enrich *e;
    struct reply r;
    int st;

    jbuf_init(&detail, DISPATCH_DETAIL_MAX);
    st = codes_parse(req->body, req->body_len, (size_t)c->max_codes, &codes, &detail);
    request_drop_body(req);
    if (st != CODES_OK) {
        /* out of memory: try again later, as for --max-memory */
        r = st == CODES_INVALID ? reply_json(422, detail.data, detail.len)
                                : reply_canned(REPLY_UNAVAILABLE);
        dispatch_finish(s, req, &r);
        jbuf_free(&detail);
        return;
    }
    jbuf_free(&detail);
    if (codes.count == 0) {
        r = reply_ok(DISPATCH_EMPTY_ENRICHED, sizeof(DISPATCH_EMPTY_ENRICHED) - 1);
        codes_free(&codes);
        dispatch_finish(s, req, &r);
        return;
    }
    if (!dispatch_admit(s, req)) {
        codes_free(&codes);
        return;
    }
    e = enrich_new(c->catalog, &codes, (size_t)c->max_answer);
    if (!e)
        codes_free(&codes);
    dispatch_submit(s, req, &enrich_workflow, e);
}

#define DISPATCH_METRICS_MAX (1024 * 1024)

static void dispatch_metrics(const struct server *s, struct request *req)
{
    struct jbuf text;
    struct reply r;

    if (!s->cfg->metrics) {
        dispatch_answer(s, req, REPLY_NOT_FOUND);
        return;
    }
    jbuf_init(&text, DISPATCH_METRICS_MAX);
    if (metrics_render(&text, request_in_flight()) != 0) {
        jbuf_free(&text);
        dispatch_answer(s, req, REPLY_UNAVAILABLE);
        return;
    }
    r = reply_typed(text.data, text.len, "text/plain; version=0.0.4; charset=utf-8");
    dispatch_finish(s, req, &r);
    jbuf_free(&text);
}

static void dispatch_static(const struct server *s, struct request *req, const char *body,
                          size_t len, const char *type)
{
    struct reply r = reply_typed(body, len, type);

    dispatch_finish(s, req, &r);
}

void dispatch_request(const struct server *s, struct request *req)
{
    if (req->route.kind != ROUTE_ENRICH)
        request_drop_body(req); /* no other route reads one */
    switch (req->route.kind) {
    case ROUTE_ITEMS:
        dispatch_start_items(s, req);
        break;
    case ROUTE_ENRICH:
        dispatch_start_enrich(s, req);
        break;
    case ROUTE_METRICS:
        dispatch_metrics(s, req);
        break;
    case ROUTE_OPENAPI:
        dispatch_static(s, req, docs_openapi_json, docs_openapi_json_len, "application/json");
        break;
    case ROUTE_DOCS:
        dispatch_static(s, req, docs_html, docs_html_len, "text/html; charset=utf-8");
        break;
    default:
        dispatch_answer(s, req, dispatch_quick_kind(req->route.kind));
    }
}
