#include "request.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"

static atomic_long request_count;

static void request_drain(struct request *r)
{
    char sink[4096];
    long total = 0;
    int got;

    do {
        got = FCGX_GetStr(sink, sizeof(sink), r->fcgx.in);
        total += got > 0 ? got : 0;
    } while (got > 0 && total <= REQUEST_INPUT_MAX);
}

int request_limit_io(int fd)
{
    struct timeval tv = {REQUEST_IO_TIMEOUT_MS / 1000, (REQUEST_IO_TIMEOUT_MS % 1000) * 1000};

    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
        return -1;
    return setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

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
static void request_pick_id(struct request *r)
{
    static uint64_t state;
    const char *given = request_param(r, "HTTP_X_REQUEST_ID");

    if (!request_id_ok(given))
        given = request_param(r, "REQUEST_ID");
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

enum request_accept_result request_accept(int listen_fd, struct request **out)
{
    struct request *r = calloc(1, sizeof(*r));
    int interrupted;

    if (!r)
        return REQUEST_ERROR;
    if (FCGX_InitRequest(&r->fcgx, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) == 0 &&
        FCGX_Accept_r(&r->fcgx) >= 0) {
        atomic_fetch_add(&request_count, 1);
        r->started_ms = clock_ms();
        request_limit_io(r->fcgx.ipcFd); /* unix sockets do not inherit it */
        request_drain(r);
        request_pick_id(r);
        r->route = ROUTE_NOT_FOUND;
        *out = r;
        return REQUEST_OK;
    }
    /* EAGAIN: accept() itself timed out (SO_RCVTIMEO applies to it too) */
    interrupted = errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK;
    FCGX_Free(&r->fcgx, 1);
    free(r);
    return interrupted ? REQUEST_INTERRUPTED : REQUEST_ERROR;
}

const char *request_param(const struct request *r, const char *name)
{
    return FCGX_GetParam(name, r->fcgx.envp);
}

/* Finishes the FastCGI exchange and frees everything. */
static void request_close(struct request *r)
{
    FCGX_Detach(&r->fcgx); /* a plain close(), no wait for the peer */
    FCGX_Finish_r(&r->fcgx);
    FCGX_Free(&r->fcgx, 1);
    free(r);
    atomic_fetch_sub(&request_count, 1);
}

/* One line per request; status 0: nobody was answered. */
static void request_log(const struct request *r, int status)
{
    uint64_t ms = clock_ms() - r->started_ms;

    metrics_request(r->route, status, ms);
    log_info("msg=request route=%s status=%d ms=%llu upstream_calls=%d request_id=%s",
             route_name(r->route), status, (unsigned long long)ms, r->upstream_calls, r->id);
}

int request_finish(struct request *r, const struct reply *reply)
{
    char head[REPLY_HEAD_MAX];
    int n = reply_format_head(reply, head, sizeof(head)), result = 0;

    if (n < 0 || FCGX_PutStr(head, n, r->fcgx.out) < 0 ||
        FCGX_PutStr(reply->body, (int)reply->len, r->fcgx.out) < 0)
        result = -1;
    request_log(r, reply->status);
    request_close(r);
    return result;
}

void request_drop(struct request *r)
{
    if (!r)
        return;
    request_log(r, 0);
    request_close(r);
}

long request_in_flight(void)
{
    return atomic_load(&request_count);
}
