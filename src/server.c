#include "server.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "docs.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "route.h"

#define SERVER_ACCEPT_ERRORS_MAX 100 /* in a row before giving up */

static void server_answer(struct request *req, enum reply_kind kind)
{
    struct reply r = reply_canned(kind);

    request_finish(req, &r);
}

static enum reply_kind server_quick_kind(enum route_kind k)
{
    switch (k) {
    case ROUTE_HEALTH: return REPLY_HEALTH;
    case ROUTE_BAD_METHOD: return REPLY_BAD_METHOD;
    case ROUTE_BAD_UUID: return REPLY_BAD_UUID;
    default: return REPLY_NOT_FOUND;
    }
}

static void server_start_job(const struct server *s, struct request *req)
{
    const struct config *c = s->cfg;
    struct job_limits lim = {(size_t)c->max_packages, (size_t)c->max_answer, (size_t)c->fanout};
    struct job *j;

    if (request_in_flight() > c->max_in_flight) {
        server_answer(req, REPLY_UNAVAILABLE);
        return;
    }
    j = job_new(req, req->route.order_id, &lim, req->started_ms, c->request_timeout_ms);
    if (!j) {
        server_answer(req, REPLY_BAD_GATEWAY);
        return;
    }
    loop_submit(s->loop, j);
}

#define SERVER_METRICS_MAX (1024 * 1024)

static void server_metrics(const struct server *s, struct request *req)
{
    struct jbuf text;
    struct reply r;

    if (!s->cfg->metrics) {
        server_answer(req, REPLY_NOT_FOUND);
        return;
    }
    jbuf_init(&text, SERVER_METRICS_MAX);
    if (metrics_render(&text, request_in_flight()) != 0) {
        jbuf_free(&text);
        server_answer(req, REPLY_UNAVAILABLE);
        return;
    }
    r = reply_typed(text.data, text.len, "text/plain; version=0.0.4; charset=utf-8");
    request_finish(req, &r);
    jbuf_free(&text);
}

static void server_static(struct request *req, const char *body, size_t len, const char *type)
{
    struct reply r = reply_typed(body, len, type);

    request_finish(req, &r);
}

static void server_dispatch(const struct server *s, struct request *req)
{
    switch (req->route.kind) {
    case ROUTE_ITEMS:
        server_start_job(s, req);
        break;
    case ROUTE_METRICS:
        server_metrics(s, req);
        break;
    case ROUTE_OPENAPI:
        server_static(req, docs_openapi_json, docs_openapi_json_len, "application/json");
        break;
    case ROUTE_DOCS:
        server_static(req, docs_html, docs_html_len, "text/html; charset=utf-8");
        break;
    default:
        server_answer(req, server_quick_kind(req->route.kind));
    }
}

/* One accept; 1 when a request was taken, 0 when interrupted, -1 on
 * an error. */
static int server_accept_one(const struct server *s)
{
    struct request *req = NULL;

    switch (request_accept(s->listen_fd, &req)) {
    case REQUEST_OK:
        server_dispatch(s, req);
        return 1;
    case REQUEST_INTERRUPTED:
        return 0;
    default:
        return *s->stop ? 0 : -1;
    }
}

int server_run(const struct server *s)
{
    struct timespec pause = {0, 10 * 1000 * 1000};
    int errors = 0, r;

    while (!*s->stop) {
        r = server_accept_one(s);
        if (r >= 0) {
            errors = 0;
            continue;
        }
        if (++errors >= SERVER_ACCEPT_ERRORS_MAX) {
            log_error("msg=\"accept keeps failing, giving up\" error=\"%s\"", strerror(errno));
            return -1;
        }
        nanosleep(&pause, NULL); /* e.g. out of descriptors: let some close */
    }
    return 0;
}
