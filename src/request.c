#include "request.h"

#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "clock.h"
#include "jbuf.h"
#include "log.h"
#include "metrics.h"
#include "record.h"

static atomic_long request_count;

/* A request id may travel in logs and headers: keep it to a safe set. */
static int request_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0, i;

    if (n == 0 || n > REQUEST_ID_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && !strchr("-_.:", s[i]))
            return 0;
    }
    return 1;
}

/* The client's X-Request-Id (so that a trace goes end to end), else the
 * web server's ($request_id passed as REQUEST_ID), else one of our own:
 * 16 hex digits. Only the acceptor thread calls this. */
static void request_pick_id(struct request *r, const struct intake *in)
{
    static uint64_t state;
    const char *given = intake_param(in, "HTTP_X_REQUEST_ID");

    if (!request_id_ok(given))
        given = intake_param(in, "REQUEST_ID");
    if (request_id_ok(given)) {
        snprintf(r->id, sizeof(r->id), "%s", given);
        return;
    }
    if (state == 0)
        state = ((uint64_t)getpid() << 32) ^ clock_ms() ^ 0x9e3779b97f4a7c15u;
    state ^= state << 13; /* xorshift64 */
    state ^= state >> 7;
    state ^= state << 17;
    snprintf(r->id, sizeof(r->id), "%016llx", (unsigned long long)state);
}

/* What the request asks for: the path from the params SPEC.md names, in
 * its order, then the method. */
static void request_route(struct request *r, const struct intake *in)
{
    char path[ROUTE_PATH_MAX];
    struct route_params p = {
        intake_param(in, "PATH_INFO"),
        intake_param(in, "DOCUMENT_URI"),
        intake_param(in, "SCRIPT_NAME"),
        intake_param(in, "REQUEST_URI"),
    };

    if (route_pick_path(&p, path, sizeof(path)) < 0) {
        route_match(NULL, NULL, &r->route);
        return;
    }
    route_match(intake_param(in, "REQUEST_METHOD"), path, &r->route);
}

struct request *request_take(int fd, struct intake *in)
{
    struct request *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->started_ms = clock_ms();
    r->fd = fd;
    r->fcgi_id = in->id;
    request_pick_id(r, in);
    request_route(r, in);
    r->body = intake_take_body(in, &r->body_len);
    if (r->body)
        jbuf_count(r->body_len + 1); /* --max-memory: held until freed */
    atomic_fetch_add(&request_count, 1);
    return r;
}

void request_drop_body(struct request *r)
{
    if (r->body)
        jbuf_uncount(r->body_len + 1);
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

/* A plain close(): no shutdown, no wait for the peer (see request.h);
 * a kept connection whose answer went out whole (whole) is given back
 * open instead, for the web server's next request. */
static void request_close(struct request *r, int whole)
{
    if (!r->keep || !whole) {
        close(r->fd);
        if (r->keep)
            r->keep->fd = -1;
    }
    if (r->keep)
        keep_back(r->keep);
    if (r->out)
        jbuf_uncount(r->out_len ? r->out_len : 1);
    free(r->out);
    request_drop_body(r);
    free(r);
    atomic_fetch_sub(&request_count, 1);
}

/* One line per request; status 0: nobody was answered. */
static void request_log(const struct request *r, int status)
{
    uint64_t ms = clock_ms() - r->started_ms;

    metrics_request(r->route.kind, status, ms);
    log_info("msg=request route=%s status=%d ms=%llu upstream_calls=%d hedges=%d request_id=%s",
             route_name(r->route.kind), status, (unsigned long long)ms, r->upstream_calls, r->hedges,
             r->id);
}

/* Keeps a copy of head and body for the writes still to come. */
static int request_keep(struct request *r, const struct iovec *parts, size_t sent, int status)
{
    r->out_len = parts[0].iov_len + parts[1].iov_len;
    r->out = malloc(r->out_len ? r->out_len : 1);
    if (!r->out)
        return -1;
    jbuf_count(r->out_len ? r->out_len : 1); /* --max-memory: held until written */
    memcpy(r->out, parts[0].iov_base, parts[0].iov_len);
    if (parts[1].iov_len)
        memcpy(r->out + parts[0].iov_len, parts[1].iov_base, parts[1].iov_len);
    r->out_sent = sent;
    r->status = status;
    return 0;
}

struct request *request_finish(struct request *r, const struct reply *reply)
{
    char head[REPLY_HEAD_MAX];
    int n = reply_format_head(reply, head, sizeof(head)), done = -1;
    struct iovec parts[2] = {{head, n > 0 ? (size_t)n : 0}, {(void *)reply->body, reply->len}};
    size_t sent = 0;

    if (n >= 0)
        done = record_send_some(r->fd, r->fcgi_id, parts, 2, &sent);
    if (done == 0 && request_keep(r, parts, sent, reply->status) == 0)
        return r;
    if (done == 0) {
        request_write_cut(r); /* no memory to keep it */
        return NULL;
    }
    request_log(r, done > 0 ? reply->status : 0);
    request_close(r, done > 0);
    return NULL;
}

int request_write_more(struct request *r)
{
    struct iovec part = {r->out, r->out_len};

    return record_send_some(r->fd, r->fcgi_id, &part, 1, &r->out_sent);
}

void request_write_end(struct request *r, int written)
{
    request_log(r, written ? r->status : 0);
    request_close(r, written);
}

void request_write_cut(struct request *r)
{
    log_warn("msg=\"answer cut: the web server did not read it in time\" route=%s status=%d "
             "sent=%zu of=%zu request_id=%s", route_name(r->route.kind), r->status, r->out_sent,
             record_framed_len(r->out_len), r->id);
    metrics_answer_cut();
    request_log(r, 0);
    request_close(r, 0);
}

void request_drop(struct request *r)
{
    if (!r)
        return;
    request_log(r, 0);
    request_close(r, 0);
}

long request_in_flight(void)
{
    return atomic_load(&request_count);
}
