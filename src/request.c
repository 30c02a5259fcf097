#include "request.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "clock.h"

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

int request_finish(struct request *r, const struct reply *reply)
{
    char head[REPLY_HEAD_MAX];
    int n = reply_format_head(reply, head, sizeof(head)), result = 0;

    if (n < 0 || FCGX_PutStr(head, n, r->fcgx.out) < 0 ||
        FCGX_PutStr(reply->body, (int)reply->len, r->fcgx.out) < 0)
        result = -1;
    request_close(r);
    return result;
}

void request_drop(struct request *r)
{
    if (r)
        request_close(r);
}

long request_in_flight(void)
{
    return atomic_load(&request_count);
}
