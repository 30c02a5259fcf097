#include "record.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "clock.h"

#define RECORD_VERSION 1
#define RECORD_END_REQUEST 3
#define RECORD_STDOUT 6
#define RECORD_HEADER_LEN 8
#define RECORD_IOV 64 /* iovecs per sendmsg; more are sent in turns */

/* The iovecs of one sendmsg and the record headers they point into:
 * both are reused once sent. */
struct record_out {
    int fd, timeout_ms;
    uint64_t started_ms;             /* 0 until the first wait */
    struct iovec iov[RECORD_IOV];
    unsigned char head[RECORD_IOV][RECORD_HEADER_LEN];
    int niov, nhead;
};

static void record_header(unsigned char *h, int type, unsigned id, size_t len)
{
    h[0] = RECORD_VERSION;
    h[1] = (unsigned char)type;
    h[2] = (unsigned char)(id >> 8);
    h[3] = (unsigned char)id;
    h[4] = (unsigned char)(len >> 8);
    h[5] = (unsigned char)len;
    h[6] = 0; /* no padding */
    h[7] = 0;
}

/* Waits for room on the socket; -1 once the time is up. */
static int record_wait(struct record_out *o)
{
    struct pollfd p = {o->fd, POLLOUT, 0};
    long left;
    int r;

    if (o->started_ms == 0)
        o->started_ms = clock_ms();
    left = o->timeout_ms - (long)(clock_ms() - o->started_ms);

    if (left <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    r = poll(&p, 1, (int)left);
    if (r == 0)
        errno = ETIMEDOUT;
    return r > 0 ? 0 : -1;
}

/* Sends iov[0..n) whole; a partial send resumes where it stopped. */
static int record_sendv(struct record_out *o, struct iovec *iov, int n)
{
    struct msghdr m;
    ssize_t sent;

    while (n > 0) {
        memset(&m, 0, sizeof(m));
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)n;
        sent = sendmsg(o->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        if (sent < 0) {
            if (errno != EINTR && record_wait(o) < 0)
                return -1;
            continue;
        }
        for (; n > 0 && (size_t)sent >= iov->iov_len; iov++, n--)
            sent -= (ssize_t)iov->iov_len;
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + sent;
            iov->iov_len -= (size_t)sent;
        }
    }
    return 0;
}

static int record_flush(struct record_out *o)
{
    int result = record_sendv(o, o->iov, o->niov);

    o->niov = 0;
    o->nhead = 0;
    return result;
}

/* Queues len bytes at p (not copied); sends first when the batch is full. */
static int record_push(struct record_out *o, const void *p, size_t len)
{
    if (len == 0)
        return 0;
    if (o->niov == RECORD_IOV && record_flush(o) < 0)
        return -1;
    o->iov[o->niov].iov_base = (void *)p;
    o->iov[o->niov].iov_len = len;
    o->niov++;
    return 0;
}

static int record_push_header(struct record_out *o, int type, unsigned id, size_t len)
{
    unsigned char *h;

    /* every header is one iovec, so head[] is never fuller than iov[] */
    if (o->niov == RECORD_IOV && record_flush(o) < 0)
        return -1;
    h = o->head[o->nhead++];
    record_header(h, type, id, len);
    return record_push(o, h, RECORD_HEADER_LEN);
}

/* The content of one record: the next len bytes of the parts, from
 * part *i at offset *off. */
static int record_push_content(struct record_out *o, const struct iovec *parts, int n, int *i,
                               size_t *off, size_t len)
{
    size_t take;

    while (len > 0 && *i < n) {
        take = parts[*i].iov_len - *off;
        if (take > len)
            take = len;
        if (record_push(o, (const char *)parts[*i].iov_base + *off, take) < 0)
            return -1;
        *off += take;
        len -= take;
        if (*off == parts[*i].iov_len) {
            (*i)++;
            *off = 0;
        }
    }
    return 0;
}

static size_t record_total(const struct iovec *parts, int n)
{
    size_t total = 0;
    int i;

    for (i = 0; i < n; i++)
        total += parts[i].iov_len;
    return total;
}

int record_send(int fd, unsigned id, const struct iovec *parts, int n, int timeout_ms)
{
    static const unsigned char end_body[RECORD_HEADER_LEN]; /* status 0, complete */
    struct record_out o = {.fd = fd, .timeout_ms = timeout_ms};
    size_t left = record_total(parts, n), len, off = 0;
    int i = 0;

    while (left > 0) {
        len = left < RECORD_CONTENT_MAX ? left : RECORD_CONTENT_MAX;
        if (record_push_header(&o, RECORD_STDOUT, id, len) < 0 ||
            record_push_content(&o, parts, n, &i, &off, len) < 0)
            return -1;
        left -= len;
    }
    if (record_push_header(&o, RECORD_STDOUT, id, 0) < 0 ||
        record_push_header(&o, RECORD_END_REQUEST, id, sizeof(end_body)) < 0 ||
        record_push(&o, end_body, sizeof(end_body)) < 0)
        return -1;
    return record_flush(&o);
}
