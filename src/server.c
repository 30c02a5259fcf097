#include "server.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "route.h"

#define SERVER_ACCEPT_ERRORS_MAX 100 /* in a row before giving up */

static void server_route(FCGX_Request *req, struct route *rt)
{
    char path[ROUTE_PATH_MAX];
    struct route_params p = {
        FCGX_GetParam("PATH_INFO", req->envp),
        FCGX_GetParam("DOCUMENT_URI", req->envp),
        FCGX_GetParam("SCRIPT_NAME", req->envp),
        FCGX_GetParam("REQUEST_URI", req->envp),
    };

    if (route_pick_path(&p, path, sizeof(path)) < 0) {
        route_match(NULL, NULL, rt);
        return;
    }
    route_match(FCGX_GetParam("REQUEST_METHOD", req->envp), path, rt);
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

static void server_start_job(const struct server *s, FCGX_Request *req, const char *order_id)
{
    const struct config *c = s->cfg;
    struct job_limits lim = {(size_t)c->max_packages, (size_t)c->max_answer, (size_t)c->fanout};
    struct job *j;

    if (atomic_load(s->in_flight) > c->max_in_flight) {
        writer_canned(s->writer, req, REPLY_UNAVAILABLE);
        return;
    }
    j = job_new(req, order_id, &lim, job_clock_ms(), c->request_timeout_ms);
    if (!j) {
        writer_canned(s->writer, req, REPLY_BAD_GATEWAY);
        return;
    }
    loop_submit(s->loop, j);
}

static void server_dispatch(const struct server *s, FCGX_Request *req)
{
    struct route rt;

    server_route(req, &rt);
    if (rt.kind == ROUTE_ITEMS)
        server_start_job(s, req, rt.order_id);
    else
        writer_canned(s->writer, req, server_quick_kind(rt.kind));
}

/* One accept; 1 when a request was taken, 0 when interrupted, -1 on
 * an error. */
static int server_accept_one(const struct server *s)
{
    FCGX_Request *req = calloc(1, sizeof(*req));

    if (!req)
        return -1;
    if (FCGX_InitRequest(req, s->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0 ||
        FCGX_Accept_r(req) < 0) {
        int interrupted = errno == EINTR || *s->stop;

        FCGX_Free(req, 1);
        free(req);
        return interrupted ? 0 : -1;
    }
    atomic_fetch_add(s->in_flight, 1);
    server_dispatch(s, req);
    return 1;
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
