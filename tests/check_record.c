/* check_record: FastCGI answers as records, read back and taken apart
 * the way a web server does. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "record.h"

#define ID 0x1234u

/* What one record_send() produced, taken apart. */
struct parsed {
    char *stdout_data;
    size_t stdout_len;
    int data_records;   /* non-empty FCGI_STDOUT records */
    int ended;          /* empty FCGI_STDOUT, then END_REQUEST, then nothing */
};

struct writer {
    int fd, result, err;
    const struct iovec *parts;
    int n;
};

static void *writer_main(void *arg)
{
    struct writer *w = arg;

    w->result = record_send(w->fd, ID, w->parts, w->n, 5000);
    w->err = errno;
    close(w->fd);
    return NULL;
}

static char *read_all(int fd, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    ssize_t got;

    ck_assert_ptr_nonnull(buf);
    while ((got = read(fd, buf + n, cap - n)) > 0) {
        n += (size_t)got;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            ck_assert_ptr_nonnull(buf);
        }
    }
    *len = n;
    return buf;
}

static void parse(const unsigned char *b, size_t len, struct parsed *p)
{
    size_t at = 0, clen;
    static const unsigned char zero[8];

    memset(p, 0, sizeof(*p));
    p->stdout_data = malloc(len + 1);
    while (at + 8 <= len) {
        ck_assert_int_eq(b[at], 1);
        ck_assert_uint_eq((unsigned)(b[at + 2] << 8 | b[at + 3]), ID);
        clen = (size_t)(b[at + 4] << 8 | b[at + 5]);
        ck_assert_uint_le(at + 8 + clen + b[at + 6], len);
        if (b[at + 1] == 6 && clen > 0) {
            ck_assert_int_eq(p->ended, 0);
            memcpy(p->stdout_data + p->stdout_len, b + at + 8, clen);
            p->stdout_len += clen;
            p->data_records++;
        } else if (b[at + 1] == 6) {
            p->ended = 1; /* end of the stream */
        } else {
            ck_assert_int_eq(b[at + 1], 3); /* END_REQUEST, after the stream's end */
            ck_assert_int_eq(p->ended, 1);
            ck_assert_uint_eq(clen, 8);
            ck_assert_int_eq(memcmp(b + at + 8, zero, 8), 0);
            ck_assert_uint_eq(at + 16 + b[at + 6], len); /* nothing after it */
            p->ended = 2;
        }
        at += 8 + clen + b[at + 6];
    }
    ck_assert_uint_eq(at, len);
    ck_assert_int_eq(p->ended, 2);
}

/* Sends parts through a socket pair and parses what arrives. */
static int send_and_parse(const struct iovec *parts, int n, struct parsed *p)
{
    int sv[2];
    pthread_t t;
    struct writer w;
    size_t len;
    char *raw;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    w = (struct writer){sv[0], 0, 0, parts, n};
    ck_assert_int_eq(pthread_create(&t, NULL, writer_main, &w), 0);
    raw = read_all(sv[1], &len);
    pthread_join(t, NULL);
    close(sv[1]);
    parse((const unsigned char *)raw, len, p);
    free(raw);
    return w.result;
}

/* The concatenation of the parts. */
static char *joined(const struct iovec *parts, int n, size_t *len)
{
    size_t total = 0;
    char *out, *at;
    int i;

    for (i = 0; i < n; i++)
        total += parts[i].iov_len;
    out = at = malloc(total + 1);
    for (i = 0; i < n; i++) {
        memcpy(at, parts[i].iov_base, parts[i].iov_len);
        at += parts[i].iov_len;
    }
    *len = total;
    return out;
}

static void check_roundtrip(const struct iovec *parts, int n, int want_records)
{
    struct parsed p;
    size_t len;
    char *want = joined(parts, n, &len);

    ck_assert_int_eq(send_and_parse(parts, n, &p), 0);
    ck_assert_uint_eq(p.stdout_len, len);
    ck_assert_int_eq(memcmp(p.stdout_data, want, len), 0);
    ck_assert_int_eq(p.data_records, want_records);
    free(want);
    free(p.stdout_data);
}

START_TEST(test_small)
{
    char head[] = "Status: 200 OK\r\nContent-Type: application/json\r\n\r\n", body[] = "[]";
    struct iovec parts[2] = {{head, sizeof(head) - 1}, {body, 2}};

    check_roundtrip(parts, 2, 1); /* one record: head and body together */
}
END_TEST

START_TEST(test_nothing)
{
    check_roundtrip(NULL, 0, 0); /* the stream's end and END_REQUEST only */
}
END_TEST

/* 1 MiB + 7: records of at most 65535 bytes, in order. */
START_TEST(test_large)
{
    size_t n = (1u << 20) + 7, i;
    char *body = malloc(n), head[] = "Status: 200 OK\r\n\r\n";
    struct iovec parts[2] = {{head, sizeof(head) - 1}, {body, n}};

    for (i = 0; i < n; i++)
        body[i] = (char)(i * 7 + i / 251);
    check_roundtrip(parts, 2, (int)((n + sizeof(head) - 1 + RECORD_CONTENT_MAX - 1) / RECORD_CONTENT_MAX));
    free(body);
}
END_TEST

/* Hundreds of parts, some empty: more iovecs than one send takes. */
START_TEST(test_many_parts)
{
    struct iovec parts[500];
    static char data[500 * 7];
    int i;

    for (i = 0; i < (int)sizeof(data); i++)
        data[i] = (char)('a' + i % 26);
    for (i = 0; i < 500; i++) {
        parts[i].iov_base = data + i * 7;
        parts[i].iov_len = (size_t)(i % 7); /* 0 to 6 bytes */
    }
    check_roundtrip(parts, 500, 1);
}
END_TEST

/* A web server that hung up: -1 and EPIPE, and no SIGPIPE. */
START_TEST(test_peer_gone)
{
    int sv[2];
    char body[] = "{}";
    struct iovec part = {body, 2};

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    ck_assert_int_eq(record_send(sv[0], ID, &part, 1, 1000), -1);
    ck_assert_int_eq(errno, EPIPE);
    close(sv[0]);
}
END_TEST

/* A web server that stops reading costs at most the timeout. */
START_TEST(test_stalled_peer)
{
    int sv[2], size = 4096;
    size_t n = 4u << 20;
    char *body = calloc(1, n);
    struct iovec part = {body, n};
    uint64_t t0;

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    t0 = clock_ms();
    ck_assert_int_eq(record_send(sv[0], ID, &part, 1, 200), -1);
    ck_assert_int_eq(errno, ETIMEDOUT);
    ck_assert_uint_ge(clock_ms() - t0, 190);
    ck_assert_uint_lt(clock_ms() - t0, 3000);
    close(sv[0]);
    close(sv[1]);
    free(body);
}
END_TEST

/* Written a few KB at a time, never waiting: each call takes what the
 * socket holds, then 0; read in between, the stream resumes where it
 * stopped, and the whole is the same records as one blocking send. */
START_TEST(test_resumes)
{
    int sv[2], size = 4096, r, calls = 0;
    size_t n = 300000, sent = 0, got = 0, i;
    char *body = malloc(n), *raw = malloc(n + 4096);
    static const char head[] = "Status: 200\r\n\r\n";
    const size_t hn = sizeof(head) - 1;
    struct iovec parts[2] = {{(void *)head, hn}, {body, n}};
    struct parsed p;
    ssize_t k;

    for (i = 0; i < n; i++)
        body[i] = (char)('A' + i % 23);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    while ((r = record_send_some(sv[0], ID, parts, 2, &sent)) == 0) {
        calls++;
        while ((k = recv(sv[1], raw + got, n + 4096 - got, MSG_DONTWAIT)) > 0)
            got += (size_t)k;
    }
    ck_assert_int_eq(r, 1);
    ck_assert_int_gt(calls, 10);
    ck_assert_uint_eq(sent, record_framed_len(n + hn));
    close(sv[0]);
    while ((k = recv(sv[1], raw + got, n + 4096 - got, 0)) > 0)
        got += (size_t)k;
    ck_assert_uint_eq(got, sent);
    parse((const unsigned char *)raw, got, &p);
    ck_assert_uint_eq(p.stdout_len, n + hn);
    ck_assert_int_eq(memcmp(p.stdout_data + hn, body, n), 0);
    ck_assert_int_eq(p.data_records, 5);
    free(p.stdout_data);
    free(body);
    free(raw);
    close(sv[1]);
}
END_TEST

static Suite *record_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc;

    tc = tcase_create("framing");
    tcase_add_test(tc, test_small);
    tcase_add_test(tc, test_nothing);
    tcase_add_test(tc, test_large);
    tcase_add_test(tc, test_many_parts);
    suite_add_tcase(s, tc);

    tc = tcase_create("peer");
    tcase_add_test(tc, test_peer_gone);
    tcase_add_test(tc, test_stalled_peer);
    tcase_add_test(tc, test_resumes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(record_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
