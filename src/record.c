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

/* The iovecs of one sendmsg, the record headers they point into, and
 * how much of the stream is still to be skipped (already sent). */
struct record_batch {
    struct iovec iov[RECORD_IOV];
    unsigned char head[RECORD_IOV][RECORD_HEADER_LEN];
    int niov, nhead;
    size_t skip;
};

static const unsigned char record_end_body[RECORD_HEADER_LEN]; /* status 0, complete */

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

/* Adds len bytes at p, less what is still to skip. 0 when the batch is
 * full. */
static int record_add(struct record_batch *b, const void *p, size_t len)
{
    if (b->skip >= len) {
        b->skip -= len;
        return 1;
    }
    if (b->niov == RECORD_IOV)
        return 0;
    b->iov[b->niov].iov_base = (char *)p + b->skip;
    b->iov[b->niov].iov_len = len - b->skip;
    b->niov++;
    b->skip = 0;
    return 1;
}

static int record_add_header(struct record_batch *b, int type, unsigned id, size_t len)
{
    unsigned char *h;

    if (b->skip >= RECORD_HEADER_LEN) {
        b->skip -= RECORD_HEADER_LEN;
        return 1;
    }
    if (b->niov == RECORD_IOV)
        return 0;
    h = b->head[b->nhead++]; /* one per iovec at most: never fuller than iov[] */
    record_header(h, type, id, len);
    return record_add(b, h, RECORD_HEADER_LEN);
}

/* Content bytes [from, from + len) of the parts. */
static int record_add_content(struct record_batch *b, const struct iovec *parts, int n,
                              size_t from, size_t len)
{
    size_t take;
    int i;

    for (i = 0; i < n && len > 0; i++) {
        if (from >= parts[i].iov_len) {
            from -= parts[i].iov_len;
            continue;
        }
        take = parts[i].iov_len - from;
        if (take > len)
            take = len;
        if (!record_add(b, (const char *)parts[i].iov_base + from, take))
            return 0;
        len -= take;
        from = 0;
    }
    return 1;
}

/* Fills b with the stream from byte `sent` on, as far as it holds. */
static void record_build(struct record_batch *b, unsigned id, const struct iovec *parts, int n,
                         size_t total, size_t sent)
{
    size_t off, len;

    b->niov = b->nhead = 0;
    b->skip = sent;
    for (off = 0; off < total; off += len) {
        len = total - off < RECORD_CONTENT_MAX ? total - off : RECORD_CONTENT_MAX;
        if (!record_add_header(b, RECORD_STDOUT, id, len) ||
            !record_add_content(b, parts, n, off, len))
            return;
    }
    if (record_add_header(b, RECORD_STDOUT, id, 0) &&
        record_add_header(b, RECORD_END_REQUEST, id, sizeof(record_end_body)))
        record_add(b, record_end_body, sizeof(record_end_body));
}

static size_t record_total(const struct iovec *parts, int n)
{
    size_t total = 0;
    int i;

    for (i = 0; i < n; i++)
        total += parts[i].iov_len;
    return total;
}

size_t record_framed_len(size_t content_len)
{
    size_t records = (content_len + RECORD_CONTENT_MAX - 1) / RECORD_CONTENT_MAX;

    return content_len + records * RECORD_HEADER_LEN + 3 * RECORD_HEADER_LEN;
}

int record_send_some(int fd, unsigned id, const struct iovec *parts, int n, size_t *sent)
{
    size_t total = record_total(parts, n), framed = record_framed_len(total);
    struct record_batch b;
    struct msghdr m;
    ssize_t got;

    while (*sent < framed) {
        record_build(&b, id, parts, n, total, *sent);
        memset(&m, 0, sizeof(m));
        m.msg_iov = b.iov;
        m.msg_iovlen = (size_t)b.niov;
        got = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
        *sent += (size_t)got;
    }
    return 1;
}

int record_send(int fd, unsigned id, const struct iovec *parts, int n, int timeout_ms)
{
    uint64_t start = clock_ms();
    struct pollfd p = {fd, POLLOUT, 0};
    size_t sent = 0;
    long left;
    int r;

    while ((r = record_send_some(fd, id, parts, n, &sent)) == 0) {
        left = timeout_ms - (long)(clock_ms() - start);
        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
    return r > 0 ? 0 : -1;
}
