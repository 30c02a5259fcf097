/* check_intake: FastCGI requests taken apart as they arrive (records
 * split anywhere, padding, params, body, caps, aborts, garbage,
 * management records), and the listening socket's file at exit
 * (listen.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "intake.h"
#include "listen.h"

/* A growing byte string: the bytes a web server would send. */
struct wire {
    unsigned char *p;
    size_t len, cap;
};

static void wire_put(struct wire *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        w->cap = (w->len + n) * 2 + 64;
        w->p = realloc(w->p, w->cap);
        ck_assert_ptr_nonnull(w->p);
    }
    memcpy(w->p + w->len, p, n);
    w->len += n;
}

/* One record of type and id, content and padding (clen < 65536). */
static void wire_record(struct wire *w, int type, unsigned id, const void *content, size_t clen,
                        int pad)
{
    unsigned char h[8] = {1, (unsigned char)type, (unsigned char)(id >> 8), (unsigned char)id,
                          (unsigned char)(clen >> 8), (unsigned char)clen, (unsigned char)pad, 0};
    unsigned char zeros[255] = {0};

    wire_put(w, h, 8);
    wire_put(w, content, clen);
    wire_put(w, zeros, (size_t)pad);
}

/* A stream (params or stdin) of n bytes in records of at most `chunk`,
 * each padded by pad, then its empty record. */
static void wire_stream(struct wire *w, int type, const void *content, size_t n, size_t chunk,
                        int pad)
{
    size_t off, k;

    for (off = 0; off < n; off += k) {
        k = n - off < chunk ? n - off : chunk;
        wire_record(w, type, 1, (const char *)content + off, k, pad);
    }
    wire_record(w, type, 1, "", 0, 0);
}

/* role | 0x100: with FCGI_KEEP_CONN */
static void wire_begin(struct wire *w, unsigned id, int role)
{
    unsigned char b[8] = {0, (unsigned char)role, (unsigned char)(role >> 8), 0, 0, 0, 0, 0};

    wire_record(w, 1, id, b, 8, 0);
}

/* A FastCGI length: 1 byte below 128, else 4 with the high bit. */
static void pair_len(struct wire *w, size_t n)
{
    unsigned char b[4] = {(unsigned char)((n >> 24) | 0x80), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};

    if (n < 128) {
        b[0] = (unsigned char)n;
        wire_put(w, b, 1);
    } else
        wire_put(w, b, 4);
}

static void pair(struct wire *w, const char *name, size_t nlen, const char *value, size_t vlen)
{
    pair_len(w, nlen);
    pair_len(w, vlen);
    wire_put(w, name, nlen);
    wire_put(w, value, vlen);
}

static void spair(struct wire *w, const char *name, const char *value)
{
    pair(w, name, strlen(name), value, strlen(value));
}

/* BEGIN, params (method, path, a 300-byte value: 4-byte length) in
 * records of 7 bytes padded by 3, STDIN "{\"items\":[\"1\"]}" in records
 * of 5 padded by 1. */
static void whole_request(struct wire *w)
{
    struct wire params = {0};
    char big[300];
    static const char body[] = "{\"items\":[\"1\"]}";

    memset(big, 'b', sizeof(big));
    spair(&params, "REQUEST_METHOD", "POST");
    spair(&params, "PATH_INFO", "/orders/enriched");
    pair(&params, "HTTP_X_BIG", 10, big, sizeof(big));
    wire_begin(w, 1, 1);
    wire_stream(w, 4, params.p, params.len, 7, 3);
    wire_stream(w, 5, body, strlen(body), 5, 1);
    free(params.p);
}

static void check_whole(struct intake *in)
{
    const char *big = intake_param(in, "HTTP_X_BIG");
    size_t len;
    char *body;

    ck_assert_str_eq(intake_param(in, "REQUEST_METHOD"), "POST");
    ck_assert_str_eq(intake_param(in, "PATH_INFO"), "/orders/enriched");
    ck_assert_ptr_nonnull(big);
    ck_assert_uint_eq(strlen(big), 300);
    ck_assert_ptr_null(intake_param(in, "PATH"));
    ck_assert_uint_eq(in->id, 1);
    body = intake_take_body(in, &len);
    ck_assert_ptr_nonnull(body);
    ck_assert_uint_eq(len, 15);
    ck_assert_str_eq(body, "{\"items\":[\"1\"]}"); /* NUL-terminated */
    free(body);
}

START_TEST(test_whole_request_ready)
{
    struct wire w = {0};
    struct intake in;

    whole_request(&w);
    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_READY);
    ck_assert_uint_eq(in.reply_len, 0);
    check_whole(&in);
    intake_free(&in);
    free(w.p);
}
END_TEST

/* Fed one byte at a time: MORE until the very last byte. */
START_TEST(test_byte_at_a_time)
{
    struct wire w = {0};
    struct intake in;
    size_t i;

    whole_request(&w);
    intake_init(&in);
    for (i = 0; i + 1 < w.len; i++)
        ck_assert_msg(intake_feed(&in, w.p + i, 1) == INTAKE_MORE, "byte %zu", i);
    ck_assert_int_eq(intake_feed(&in, w.p + i, 1), INTAKE_READY);
    check_whole(&in);
    intake_free(&in);
    free(w.p);
}
END_TEST

/* Cut in two at every byte: the same request. */
START_TEST(test_split_everywhere)
{
    struct wire w = {0};
    struct intake in;
    size_t i;

    whole_request(&w);
    for (i = 1; i < w.len; i++) {
        intake_init(&in);
        ck_assert_msg(intake_feed(&in, w.p, i) == INTAKE_MORE, "cut at %zu", i);
        ck_assert_msg(intake_feed(&in, w.p + i, w.len - i) == INTAKE_READY, "cut at %zu", i);
        check_whole(&in);
        intake_free(&in);
    }
    free(w.p);
}
END_TEST

/* A pair split over records, 4-byte lengths cut in the middle, empty
 * names and values, a name twice (the first wins), a NUL in a value
 * (reads short, as FCGX_GetParam), names compared whole. */
START_TEST(test_params_decoded)
{
    struct wire w = {0}, params = {0};
    struct intake in;
    char big[70000];

    memset(big, 'v', sizeof(big));
    big[sizeof(big) - 1] = 'z';
    spair(&params, "", "empty name");
    spair(&params, "EMPTY", "");
    spair(&params, "X", "first");
    spair(&params, "X", "second");
    pair(&params, "NUL", 3, "a\0b", 3);
    spair(&params, "PATH_INFO=x", "trick");
    pair(&params, "LONG", 4, big, 60000);
    wire_begin(&w, 1, 1);
    wire_stream(&w, 4, params.p, params.len, 3, 0); /* 3 bytes a record */
    wire_stream(&w, 5, "", 0, 1, 0);
    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_READY);
    ck_assert_str_eq(intake_param(&in, "EMPTY"), "");
    ck_assert_str_eq(intake_param(&in, "X"), "first");
    ck_assert_str_eq(intake_param(&in, "NUL"), "a");
    ck_assert_ptr_null(intake_param(&in, "PATH_INFO"));
    ck_assert_str_eq(intake_param(&in, "PATH_INFO=x"), "trick");
    ck_assert_uint_eq(strlen(intake_param(&in, "LONG")), 60000);
    ck_assert_int_eq(intake_param(&in, "LONG")[59999], 'v');
    ck_assert_ptr_null(intake_take_body(&in, &(size_t){0})); /* no body */
    intake_free(&in);
    free(params.p);
    free(w.p);
}
END_TEST

/* Params are not looked up before they are all in. */
START_TEST(test_params_not_before_end)
{
    struct wire w = {0}, params = {0};
    struct intake in;

    spair(&params, "PATH_INFO", "/x");
    wire_begin(&w, 1, 1);
    wire_record(&w, 4, 1, params.p, params.len, 0);
    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_MORE);
    ck_assert_ptr_null(intake_param(&in, "PATH_INFO"));
    intake_free(&in);
    free(params.p);
    free(w.p);
}
END_TEST

/* A request with params of n bytes as sent (one pair). */
static enum intake_state params_of(size_t n)
{
    struct wire w = {0}, params = {0};
    struct intake in;
    enum intake_state st;
    char *v = malloc(n);

    ck_assert_ptr_nonnull(v);
    memset(v, 'p', n);
    pair(&params, "P", 1, v, n - 1 - 4 - 1); /* 1-byte name length, 4-byte value length */
    ck_assert_uint_eq(params.len, n);
    wire_begin(&w, 1, 1);
    wire_stream(&w, 4, params.p, params.len, 65535, 0);
    wire_stream(&w, 5, "", 0, 1, 0);
    intake_init(&in);
    st = intake_feed(&in, w.p, w.len);
    if (st == INTAKE_READY)
        ck_assert_uint_eq(strlen(intake_param(&in, "P")), n - 6);
    intake_free(&in);
    free(params.p);
    free(w.p);
    free(v);
    return st;
}

START_TEST(test_params_cap)
{
    ck_assert_int_eq(params_of(INTAKE_PARAMS_MAX), INTAKE_READY);
    ck_assert_int_eq(params_of(INTAKE_PARAMS_MAX + 1), INTAKE_BAD);
}
END_TEST

/* A length far past the cap is refused at once, before any of it
 * (CVE-2025-23016's 0x7fffffff, lengths summing past 2 GiB). */
START_TEST(test_params_huge_length)
{
    static const unsigned char lens[][8] = {{0xff, 0xff, 0xff, 0xff, 1}, {1, 0xff, 0xff, 0xff, 0xff},
                                            {0xc0, 0, 0, 0, 0xc0, 0, 0, 0}};
    struct wire w;
    struct intake in;
    size_t i;

    for (i = 0; i < 3; i++) {
        memset(&w, 0, sizeof(w));
        wire_begin(&w, 1, 1);
        wire_record(&w, 4, 1, lens[i], 8, 0);
        intake_init(&in);
        ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_BAD);
        ck_assert_str_eq(in.why, "params past 64 KiB");
        intake_free(&in);
        free(w.p);
    }
}
END_TEST

/* A request whose body is n bytes, in records of 65535. */
static enum intake_state body_of(size_t n, size_t *fed_to_end)
{
    struct wire w = {0};
    struct intake in;
    enum intake_state st = INTAKE_MORE;
    char *b = malloc(n + 1), *got;
    size_t i, len, k = 0;

    ck_assert_ptr_nonnull(b);
    for (i = 0; i < n; i++)
        b[i] = (char)('a' + i % 26);
    wire_begin(&w, 1, 1);
    wire_stream(&w, 4, "\x09\x0cPATH_INFO/healthcheck", 23, 100, 0);
    wire_stream(&w, 5, b, n, 65535, 0);
    intake_init(&in);
    for (i = 0; i < w.len && st == INTAKE_MORE; i += k) {
        k = w.len - i < 1000 ? w.len - i : 1000;
        st = intake_feed(&in, w.p + i, k);
    }
    *fed_to_end = w.len - i;
    if (st == INTAKE_READY) {
        got = intake_take_body(&in, &len);
        ck_assert_uint_eq(len, n);
        ck_assert_mem_eq(got, b, n);
        free(got);
    } else
        ck_assert_uint_eq(in.body.len, 0); /* what came is freed */
    ck_assert_str_eq(intake_param(&in, "PATH_INFO"), "/healthcheck");
    intake_free(&in);
    free(w.p);
    free(b);
    return st;
}

START_TEST(test_body_cap)
{
    size_t left;

    ck_assert_int_eq(body_of(INTAKE_BODY_MAX, &left), INTAKE_READY);
    ck_assert_uint_eq(left, 0);
    ck_assert_int_eq(body_of(INTAKE_BODY_MAX + 1, &left), INTAKE_TOO_LARGE);
    ck_assert_uint_eq(left, 0);
    /* the rest is read to its end, not kept: a web server still writing
     * it must not be reset before it reads the answer */
    ck_assert_int_eq(body_of(4 * INTAKE_BODY_MAX, &left), INTAKE_TOO_LARGE);
    ck_assert_uint_eq(left, 0);
    ck_assert_uint_eq(jbuf_held(), 0);
}
END_TEST

/* A refused body's rest is read within INTAKE_WIRE_MAX; past it the
 * refusal is settled as it stands (answered, then closed), and one
 * whose rest does not come in time is settled by the caller so. */
START_TEST(test_body_refused_bounds)
{
    static unsigned char chunk[65536];
    struct wire w = {0};
    struct intake in;
    enum intake_state st = INTAKE_MORE;
    size_t i;

    for (i = 0; i < sizeof(chunk); i += 8 + 65528) { /* STDIN records of id 1 */
        unsigned char h[8] = {1, 5, 0, 1, 0xff, 0xf8, 0, 0};

        memcpy(chunk + i, h, 8);
    }
    wire_begin(&w, 1, 1);
    wire_stream(&w, 4, "\x09\x0cPATH_INFO/healthcheck", 23, 100, 0);
    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_MORE);
    ck_assert_int_eq(intake_cut_short(&in), INTAKE_MORE); /* not refused */
    for (i = 0; i < 17; i++)
        ck_assert_int_eq(intake_feed(&in, chunk, sizeof(chunk)), INTAKE_MORE);
    ck_assert_uint_eq(in.body.len, 0);
    ck_assert_int_eq(intake_cut_short(&in), INTAKE_TOO_LARGE);
    intake_free(&in);
    intake_init(&in);
    st = intake_feed(&in, w.p, w.len);
    for (i = 0; st == INTAKE_MORE && i < 1000; i++)
        st = intake_feed(&in, chunk, sizeof(chunk));
    ck_assert_int_eq(st, INTAKE_TOO_LARGE);
    ck_assert_uint_eq(i, INTAKE_WIRE_MAX / sizeof(chunk));
    ck_assert_str_eq(intake_param(&in, "PATH_INFO"), "/healthcheck");
    intake_free(&in);
    free(w.p);
}
END_TEST

/* A full budget still lets a request's params in: a small request is
 * always read, so that it can be answered (healthcheck 200, an order
 * 503), never closed unanswered. Its params are counted all the same. */
START_TEST(test_params_past_budget)
{
    struct wire w = {0};
    struct intake in;

    jbuf_set_budget(16 * 1024 * 1024);
    jbuf_count(16 * 1024 * 1024);
    whole_request(&w);
    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_NO_MEMORY);
    ck_assert_str_eq(intake_param(&in, "PATH_INFO"), "/orders/enriched");
    ck_assert_uint_gt(jbuf_held(), 16 * 1024 * 1024);
    intake_free(&in);
    jbuf_uncount(16 * 1024 * 1024);
    jbuf_set_budget(0);
    ck_assert_uint_eq(jbuf_held(), 0);
    free(w.p);
}
END_TEST

/* The memory budget refuses a body: NO_MEMORY, params still there. */
START_TEST(test_body_budget)
{
    size_t left;

    jbuf_set_budget(64 * 1024);
    ck_assert_int_eq(body_of(200 * 1024, &left), INTAKE_NO_MEMORY);
    jbuf_set_budget(0);
    ck_assert_uint_eq(jbuf_held(), 0);
}
END_TEST

static enum intake_state feed_all(struct wire *w, struct intake *in)
{
    enum intake_state st;

    intake_init(in);
    st = intake_feed(in, w->p, w->len);
    free(w->p);
    memset(w, 0, sizeof(*w));
    return st;
}

START_TEST(test_abort)
{
    struct wire w = {0};
    struct intake in;

    wire_begin(&w, 1, 1);
    wire_record(&w, 2, 1, "", 0, 0); /* during params */
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_ABORTED);
    intake_free(&in);
    wire_begin(&w, 1, 1);
    wire_stream(&w, 4, "", 0, 1, 0);
    wire_record(&w, 5, 1, "abc", 3, 0);
    wire_record(&w, 2, 1, "", 0, 0); /* during stdin */
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_ABORTED);
    intake_free(&in);
    wire_begin(&w, 1, 1);
    wire_record(&w, 2, 7, "", 0, 0); /* another request's: skipped */
    wire_stream(&w, 4, "", 0, 1, 0);
    wire_stream(&w, 5, "", 0, 1, 0);
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_READY);
    intake_free(&in);
}
END_TEST

/* FastCGI 1.0 section 5.4: an abort is answered FCGI_END_REQUEST
 * (FCGI_REQUEST_COMPLETE), at once, for the aborted request's id. */
START_TEST(test_abort_answered)
{
    static const unsigned char end[16] = {1, 3, 0, 5, 0, 8, 0, 0};
    struct wire w = {0};
    struct intake in;

    wire_begin(&w, 5, 1);
    wire_stream(&w, 4, "", 0, 1, 0);
    wire_record(&w, 2, 5, "", 0, 0);
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_ABORTED);
    ck_assert_uint_eq(in.reply_len, 16);
    ck_assert_mem_eq(in.reply, end, 16);
    intake_free(&in);
}
END_TEST

/* A second FCGI_BEGIN_REQUEST with the live request's id: skipped, not
 * answered (an FCGI_CANT_MPX_CONN for that id would be a second end of
 * the live request). */
START_TEST(test_begin_same_id)
{
    struct wire w = {0};
    struct intake in;

    wire_begin(&w, 1, 1);
    wire_begin(&w, 1, 1);
    wire_stream(&w, 4, "\x09\x0cPATH_INFO/healthcheck", 23, 100, 0);
    wire_stream(&w, 5, "", 0, 1, 0);
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_READY);
    ck_assert_uint_eq(in.reply_len, 0);
    ck_assert_str_eq(intake_param(&in, "PATH_INFO"), "/healthcheck");
    intake_free(&in);
}
END_TEST

/* The end of FCGI_STDIN settles the request only once its padding is
 * in, wherever the bytes are split; bytes past it are not taken. */
START_TEST(test_stdin_end_padding)
{
    struct wire w = {0};
    struct intake in;
    size_t head;

    wire_begin(&w, 1, 0x101);
    wire_stream(&w, 4, "\x09\x0cPATH_INFO/healthcheck", 23, 100, 0);
    head = w.len + 8;
    wire_record(&w, 5, 1, "", 0, 8);
    wire_put(&w, "\x01", 1); /* the next request's first byte */
    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, w.p, head), INTAKE_MORE);
    ck_assert_int_eq(intake_feed(&in, w.p + head, 7), INTAKE_MORE);
    ck_assert_int_eq(intake_feed(&in, w.p + head + 7, 2), INTAKE_READY);
    ck_assert_uint_eq(in.rest, 1);
    ck_assert_int_eq(in.keep, 1);
    intake_free(&in);
    free(w.p);
}
END_TEST

/* Roles but the responder: FCGI_UNKNOWN_ROLE (section 5.1). Without
 * FCGI_KEEP_CONN the connection is done; with it the refused request's
 * records are skipped and the next request is taken. */
START_TEST(test_unknown_roles)
{
    static const unsigned char refused[16] = {1, 3, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 3};
    struct wire w = {0};
    struct intake in;
    int role;

    for (role = 2; role <= 99; role += 97 - (role == 2 ? 96 : 0)) {
        wire_begin(&w, 1, role);
        wire_stream(&w, 4, "", 0, 1, 0);
        ck_assert_int_eq(feed_all(&w, &in), INTAKE_REFUSED);
        ck_assert_uint_eq(in.reply_len, 16);
        ck_assert_mem_eq(in.reply, refused, 16);
        intake_free(&in);
    }
    wire_begin(&w, 1, 0x103); /* a filter, keeping the connection */
    wire_stream(&w, 4, "\x09\x0cPATH_INFO/healthcheck", 23, 100, 0);
    wire_stream(&w, 5, "abc", 3, 100, 5);
    wire_stream(&w, 8, "data", 4, 100, 4);
    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_MORE);
    ck_assert_uint_eq(in.reply_len, 16);
    ck_assert_mem_eq(in.reply, refused, 16);
    ck_assert_int_eq(in.phase, INTAKE_BEGIN);
    free(w.p);
    memset(&w, 0, sizeof(w));
    wire_begin(&w, 1, 1);
    wire_stream(&w, 4, "\x09\x0cPATH_INFO/healthcheck", 23, 100, 0);
    wire_stream(&w, 5, "", 0, 1, 0);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_READY);
    ck_assert_int_eq(in.keep, 0);
    ck_assert_str_eq(intake_param(&in, "PATH_INFO"), "/healthcheck");
    intake_free(&in);
    free(w.p);
}
END_TEST

/* What is not a request we take; why says so. */
START_TEST(test_garbage)
{
    struct wire w = {0};
    struct intake in;
    unsigned char v2[8] = {2, 1, 0, 1, 0, 8, 0, 0};

    wire_put(&w, "GET / HTTP/1.1\r\n", 16);
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_BAD);
    ck_assert_str_eq(in.why, "not FastCGI 1.0");
    intake_free(&in);
    wire_put(&w, v2, 8);
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_BAD);
    intake_free(&in);
    wire_record(&w, 1, 1, "\0\1", 2, 0); /* short begin */
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_BAD);
    ck_assert_str_eq(in.why, "bad FCGI_BEGIN_REQUEST");
    intake_free(&in);
    wire_begin(&w, 0, 1); /* request id 0 */
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_BAD);
    intake_free(&in);
    wire_begin(&w, 1, 1);
    wire_record(&w, 5, 1, "x", 1, 0); /* stdin during params */
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_BAD);
    ck_assert_str_eq(in.why, "unexpected record type");
    intake_free(&in);
    wire_begin(&w, 1, 1);
    wire_stream(&w, 4, "\x09\x0cPATH_INFO/h", 13, 100, 0); /* value cut short */
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_BAD);
    ck_assert_str_eq(in.why, "params end inside a pair");
    intake_free(&in);
    wire_begin(&w, 1, 1);
    wire_stream(&w, 4, "", 0, 1, 0);
    wire_stream(&w, 5, "", 0, 1, 0);
    wire_put(&w, "more", 4);
    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len - 4), INTAKE_READY);
    ck_assert_int_eq(intake_feed(&in, w.p + w.len - 4, 4), INTAKE_BAD); /* fed after its end */
    intake_free(&in);
    free(w.p);
}
END_TEST

/* Records before the begin: other ids skipped; management records
 * answered; a second begin answered FCGI_CANT_MPX_CONN. */
START_TEST(test_management_and_mpx)
{
    static const unsigned char unknown[16] = {1, 11, 0, 0, 0, 8, 0, 0, 42};
    static const unsigned char cant_mpx[16] = {1, 3, 0, 2, 0, 8, 0, 0, 0, 0, 0, 0, 1};
    struct wire w = {0}, q = {0};
    struct intake in;

    spair(&q, "FCGI_MAX_CONNS", "");
    spair(&q, "FCGI_NOPE", "");
    spair(&q, "FCGI_MPXS_CONNS", "");
    spair(&q, "FCGI_MAX_CONNS", "");
    wire_record(&w, 5, 3, "skipped", 7, 1);
    wire_record(&w, 9, 0, q.p, q.len, 0);
    intake_init(&in);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_MORE);
    /* header, then 14/1 FCGI_MAX_CONNS 1, 15/1 FCGI_MPXS_CONNS 0, padding */
    ck_assert_uint_eq(in.reply_len, 8 + 40);
    ck_assert_int_eq(in.reply[1], 10);
    ck_assert_int_eq(in.reply[5], 35);
    ck_assert_mem_eq(in.reply + 8, "\x0e\x01" "FCGI_MAX_CONNS1\x0f\x01" "FCGI_MPXS_CONNS0", 35);
    in.reply_len = 0;
    free(w.p);
    memset(&w, 0, sizeof(w));
    wire_record(&w, 42, 0, "x", 1, 0);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_MORE);
    ck_assert_uint_eq(in.reply_len, 16);
    ck_assert_mem_eq(in.reply, unknown, 16);
    in.reply_len = 0;
    free(w.p);
    memset(&w, 0, sizeof(w));
    wire_begin(&w, 1, 1);
    wire_begin(&w, 2, 1);
    wire_stream(&w, 4, "\x09\x0cPATH_INFO/healthcheck", 23, 100, 0);
    wire_stream(&w, 5, "", 0, 1, 0);
    ck_assert_int_eq(intake_feed(&in, w.p, w.len), INTAKE_READY);
    ck_assert_uint_eq(in.reply_len, 16);
    ck_assert_mem_eq(in.reply, cant_mpx, 16);
    ck_assert_str_eq(intake_param(&in, "PATH_INFO"), "/healthcheck");
    intake_free(&in);
    free(w.p);
    free(q.p);
}
END_TEST

/* Records of another request, skipped, without end: bounded too. */
START_TEST(test_wire_cap)
{
    static unsigned char chunk[65536];
    struct intake in;
    size_t i;
    enum intake_state st = INTAKE_MORE;

    for (i = 0; i < sizeof(chunk); i += 8 + 65528) { /* records of id 7, 65528 bytes */
        unsigned char h[8] = {1, 5, 0, 7, 0xff, 0xf8, 0, 0};

        memcpy(chunk + i, h, 8);
    }
    intake_init(&in);
    for (i = 0; st == INTAKE_MORE && i < 1000; i++)
        st = intake_feed(&in, chunk, sizeof(chunk));
    ck_assert_int_eq(st, INTAKE_BAD);
    ck_assert_str_eq(in.why, "records past 32 MiB");
    ck_assert_uint_eq(i, INTAKE_WIRE_MAX / sizeof(chunk) + 1);
    intake_free(&in);
}
END_TEST

/* Unread management answers are bounded: past INTAKE_REPLY_MAX the
 * connection is refused. */
START_TEST(test_management_flood)
{
    struct wire w = {0};
    struct intake in;
    int i;

    for (i = 0; i < 100; i++)
        wire_record(&w, 42, 0, "", 0, 0);
    ck_assert_int_eq(feed_all(&w, &in), INTAKE_BAD);
    ck_assert_str_eq(in.why, "management records not read");
    intake_free(&in);
}
END_TEST

/* listen.c: the socket file is removed at exit only while it is ours. */
START_TEST(test_listen_remove_own_only)
{
    char dir[] = "/tmp/check-intake.XXXXXX", path[128], err[256];
    struct listen_file a, b;
    int fa, fb;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/s.sock", dir);
    fa = listen_open(path, 8, &a, err, sizeof(err));
    ck_assert_int_ge(fa, 0);
    ck_assert_int_eq(a.made, 1);
    fb = listen_open(path, 8, &b, err, sizeof(err)); /* the new process takes the path */
    ck_assert_int_ge(fb, 0);
    close(fa);
    ck_assert_int_eq(listen_remove(path, &a), 0); /* the old one leaves it */
    ck_assert_int_eq(access(path, F_OK), 0);
    close(fb);
    ck_assert_int_eq(listen_remove(path, &b), 1);
    ck_assert_int_ne(access(path, F_OK), 0);
    rmdir(dir);
}
END_TEST

START_TEST(test_listen_tcp_no_file)
{
    struct listen_file f;
    char err[256];
    int fd = listen_open("127.0.0.1:0", 8, &f, err, sizeof(err));

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(f.made, 0);
    ck_assert_int_eq(listen_remove("/nonexistent/x", &f), 0);
    close(fd);
}
END_TEST

static Suite *intake_suite(void)
{
    Suite *s = suite_create("intake");
    TCase *scan = tcase_create("records");
    TCase *listen = tcase_create("listen file");

    tcase_add_test(scan, test_whole_request_ready);
    tcase_add_test(scan, test_byte_at_a_time);
    tcase_add_test(scan, test_split_everywhere);
    tcase_add_test(scan, test_params_decoded);
    tcase_add_test(scan, test_params_not_before_end);
    tcase_add_test(scan, test_params_cap);
    tcase_add_test(scan, test_params_huge_length);
    tcase_add_test(scan, test_body_cap);
    tcase_add_test(scan, test_body_budget);
    tcase_add_test(scan, test_body_refused_bounds);
    tcase_add_test(scan, test_params_past_budget);
    tcase_add_test(scan, test_abort);
    tcase_add_test(scan, test_abort_answered);
    tcase_add_test(scan, test_begin_same_id);
    tcase_add_test(scan, test_stdin_end_padding);
    tcase_add_test(scan, test_unknown_roles);
    tcase_add_test(scan, test_garbage);
    tcase_add_test(scan, test_management_and_mpx);
    tcase_add_test(scan, test_management_flood);
    tcase_add_test(scan, test_wire_cap);
    suite_add_tcase(s, scan);
    tcase_add_test(listen, test_listen_remove_own_only);
    tcase_add_test(listen, test_listen_tcp_no_file);
    suite_add_tcase(s, listen);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(intake_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
