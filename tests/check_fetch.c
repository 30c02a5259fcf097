/* check_fetch: what a finished call says of the upstream's health, when
 * an answer counts as stalled, and that a pooled transfer forgets what
 * its last call said. */
#include <check.h>
#include <stdlib.h>

#include "fetch.h"

struct health_case {
    CURLcode code;
    long status;
    int sent, dialed;
    enum fetch_health want;
};

static const struct health_case cases[] = {
    {CURLE_OK, 200, 1, 1, FETCH_HEALTHY},
    {CURLE_OK, 404, 1, 0, FETCH_HEALTHY},   /* never a fault */
    {CURLE_OK, 302, 1, 0, FETCH_HEALTHY},
    {CURLE_OK, 418, 1, 0, FETCH_HEALTHY},
    {CURLE_OK, 499, 1, 0, FETCH_HEALTHY},
    {CURLE_OK, 500, 1, 0, FETCH_FAULT},
    {CURLE_OK, 503, 1, 0, FETCH_FAULT},
    {CURLE_OK, 599, 1, 0, FETCH_FAULT},
    {CURLE_COULDNT_CONNECT, 0, 0, 1, FETCH_FAULT},       /* refused */
    {CURLE_COULDNT_RESOLVE_HOST, 0, 0, 0, FETCH_FAULT},
    {CURLE_SSL_CONNECT_ERROR, 0, 0, 1, FETCH_FAULT},     /* TLS */
    {CURLE_PEER_FAILED_VERIFICATION, 0, 0, 1, FETCH_FAULT},
    {CURLE_OPERATION_TIMEDOUT, 0, 1, 0, FETCH_FAULT},    /* on the wire */
    {CURLE_OPERATION_TIMEDOUT, 200, 1, 1, FETCH_FAULT},  /* mid-body */
    {CURLE_OPERATION_TIMEDOUT, 0, 0, 1, FETCH_FAULT},    /* connecting */
    {CURLE_OPERATION_TIMEDOUT, 0, 0, 0, FETCH_QUEUED},   /* in our queue */
    {CURLE_RECV_ERROR, 0, 1, 0, FETCH_BROKEN},           /* reset */
    {CURLE_SEND_ERROR, 0, 1, 0, FETCH_BROKEN},
    {CURLE_GOT_NOTHING, 0, 1, 0, FETCH_BROKEN},
    {CURLE_PARTIAL_FILE, 200, 1, 0, FETCH_BROKEN},       /* cut mid-body */
    {CURLE_HTTP2, 0, 1, 0, FETCH_BROKEN},
    {CURLE_HTTP2_STREAM, 0, 1, 0, FETCH_BROKEN},
    {CURLE_WRITE_ERROR, 200, 1, 0, FETCH_HEALTHY},       /* over our cap */
    {CURLE_FILESIZE_EXCEEDED, 200, 1, 0, FETCH_HEALTHY},
    {CURLE_WEIRD_SERVER_REPLY, 0, 1, 0, FETCH_HEALTHY},
};

START_TEST(test_health)
{
    const struct health_case *c = &cases[_i];
    struct fetch f = {0};

    f.code = c->code;
    f.status = c->status;
    f.sent = c->sent;
    f.dialed = c->dialed;
    ck_assert_msg(fetch_health(&f) == c->want, "code %d status %ld sent %d dialed %d: %d, want %d",
                  (int)c->code, c->status, c->sent, c->dialed, (int)fetch_health(&f), (int)c->want);
}
END_TEST

/* A call our queue left with less than a connect timeout: its timeout,
 * wherever it came, is our saturation; a refusal is still the upstream's. */
START_TEST(test_starved)
{
    struct fetch f = {0};

    f.starved = 1;
    f.code = CURLE_OPERATION_TIMEDOUT;
    f.dialed = 1;
    ck_assert_int_eq(fetch_health(&f), FETCH_QUEUED);
    f.sent = 1;
    ck_assert_int_eq(fetch_health(&f), FETCH_QUEUED);
    f.code = CURLE_COULDNT_CONNECT;
    ck_assert_int_eq(fetch_health(&f), FETCH_FAULT);
    f.code = CURLE_OK;
    f.status = 503;
    ck_assert_int_eq(fetch_health(&f), FETCH_FAULT);
}
END_TEST

/* A call is parked only when the gate said "not now" to every address
 * curl tried; one that got a socket for another address ended as any
 * other call, whatever its result. */
START_TEST(test_held_back)
{
    struct fetch f = {0};

    f.gated = 1;
    f.code = CURLE_COULDNT_CONNECT;
    ck_assert_int_eq(fetch_held_back(&f), 1);
    f.dialed = 1;
    ck_assert_int_eq(fetch_held_back(&f), 0);
    f.dialed = 0;
    f.code = CURLE_OK;
    ck_assert_int_eq(fetch_held_back(&f), 0);
    f.code = CURLE_COULDNT_CONNECT;
    f.gated = 0;
    ck_assert_int_eq(fetch_held_back(&f), 0);
}
END_TEST

/* A transfer that never ran (cancelled in the queue): nothing sent, no
 * connection, no port; and a pooled transfer starts its next call
 * clean. */
START_TEST(test_never_ran_and_reuse)
{
    struct fetch_pool p;
    struct fetch_opts o = {.connect_timeout_ms = 1000, .timeout_ms = 1000, .max_body = 4096,
                           .max_idle_s = 60, .http_version = CURL_HTTP_VERSION_1_1};
    struct fetch *f, *g;

    fetch_pool_init(&p, 4);
    f = fetch_new(&p, "http://127.0.0.1:9/x", &o, NULL, 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fetch_finish(f, CURLE_OPERATION_TIMEDOUT), FETCH_FAILED);
    ck_assert_int_eq(f->sent, 0);
    ck_assert_int_eq(f->dialed, 0);
    ck_assert_int_eq(f->local_port, 0);
    ck_assert_int_eq(fetch_health(f), FETCH_QUEUED);
    f->sent = f->dialed = 1;
    f->local_port = 40000;
    fetch_release(&p, f);
    g = fetch_new(&p, "http://127.0.0.1:9/y", &o, NULL, 1);
    ck_assert_ptr_eq(g, f); /* from the pool */
    ck_assert_int_eq(g->sent, 0);
    ck_assert_int_eq(g->dialed, 0);
    ck_assert_int_eq(g->local_port, 0);
    fetch_release(&p, g);
    fetch_pool_clear(&p);
}
END_TEST

/* Finished transfers kept in the pool hold no memory the budget counts:
 * a body buffer kept for reuse is counted again only while a call uses
 * it (with --max-memory 16 MiB, 250-package orders one after another
 * once left 65 KB each counted with nothing in flight, until every
 * order was refused 503 for good). */
START_TEST(test_pool_not_counted)
{
    static char page[60 * 1024];
    struct fetch_pool p;
    struct fetch_opts o = {.connect_timeout_ms = 1000, .timeout_ms = 1000, .max_body = 1 << 20,
                           .max_idle_s = 60, .http_version = CURL_HTTP_VERSION_1_1};
    struct fetch *f[300];
    size_t before = jbuf_held(), i;

    fetch_pool_init(&p, 512);
    for (i = 0; i < 300; i++) {
        f[i] = fetch_new(&p, "http://127.0.0.1:9/x", &o, NULL, (long)i);
        ck_assert_ptr_nonnull(f[i]);
        ck_assert_int_eq(jbuf_put(&f[i]->body, page, (i % 3 + 1) * 4096 + i), 0);
    }
    ck_assert_uint_gt(jbuf_held(), before + 300 * 4096);
    for (i = 0; i < 300; i++)
        fetch_release(&p, f[i]);
    ck_assert_uint_eq(jbuf_held(), before); /* idle: nothing counted */
    f[0] = fetch_new(&p, "http://127.0.0.1:9/y", &o, NULL, 0);
    ck_assert_uint_eq(jbuf_held(), before + f[0]->body.alloc); /* in use: counted */
    ck_assert_int_eq(jbuf_put(&f[0]->body, page, sizeof(page)), 0);
    fetch_release(&p, f[0]);
    ck_assert_uint_eq(jbuf_held(), before);
    fetch_pool_clear(&p);
    ck_assert_uint_eq(jbuf_held(), before);
}
END_TEST

/* Only an answer whose body began can stall; a stalled call is the
 * upstream's fault, says so in the log, and its transfer forgets it. */
START_TEST(test_stalled)
{
    struct fetch_pool p;
    struct fetch_opts o = {.connect_timeout_ms = 1000, .timeout_ms = 1000, .max_body = 4096,
                           .max_idle_s = 60, .http_version = CURL_HTTP_VERSION_1_1};
    struct fetch *f, *g;
    char why[128];

    fetch_pool_init(&p, 4);
    f = fetch_new(&p, "http://127.0.0.1:9/x", &o, NULL, 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fetch_stalled(f, 1000000, 2000), 0); /* no body yet */
    f->data_ms = 5000;
    f->body.len = 17;
    ck_assert_int_eq(fetch_stalled(f, 5000, 2000), 0);
    ck_assert_int_eq(fetch_stalled(f, 6999, 2000), 0);
    ck_assert_int_eq(fetch_stalled(f, 7000, 2000), 1);
    ck_assert_int_eq(fetch_stall(f), FETCH_FAILED); /* curl saw it never ran */
    ck_assert_int_eq(fetch_health(f), FETCH_FAULT);
    ck_assert_str_eq(fetch_describe(f, why, sizeof(why)), "answer stalled mid-body (17 bytes came)");
    fetch_release(&p, f);
    g = fetch_new(&p, "http://127.0.0.1:9/y", &o, NULL, 1);
    ck_assert_ptr_eq(g, f); /* from the pool */
    ck_assert_int_eq(g->stalled, 0);
    ck_assert_int_eq(fetch_stalled(g, 1000000, 2000), 0);
    fetch_release(&p, g);
    fetch_pool_clear(&p);
}
END_TEST

/* What curl says at the end of a TLS handshake (7.88 and 8.14 alike). */
START_TEST(test_alpn_lines)
{
    static const char h2[] = "ALPN: server accepted h2\n";
    static const char h1[] = "ALPN: server accepted http/1.1\n";
    static const char none[] = "ALPN: server did not agree on a protocol. Uses default.\n";
    static const char offer[] = "ALPN: curl offers h2,http/1.1\n";

    ck_assert_int_eq(fetch_alpn(CURLINFO_TEXT, h2, sizeof(h2) - 1), 2);
    ck_assert_int_eq(fetch_alpn(CURLINFO_TEXT, h1, sizeof(h1) - 1), 1);
    ck_assert_int_eq(fetch_alpn(CURLINFO_TEXT, none, sizeof(none) - 1), 1);
    ck_assert_int_eq(fetch_alpn(CURLINFO_TEXT, offer, sizeof(offer) - 1), 0);
    ck_assert_int_eq(fetch_alpn(CURLINFO_HEADER_IN, h2, sizeof(h2) - 1), 0);
    ck_assert_int_eq(fetch_alpn(CURLINFO_TEXT, h2, 23), 0); /* cut short */
}
END_TEST

static Suite *fetch_suite(void)
{
    Suite *s = suite_create("fetch");
    TCase *tc = tcase_create("health");

    tcase_add_loop_test(tc, test_health, 0, sizeof(cases) / sizeof(cases[0]));
    tcase_add_test(tc, test_never_ran_and_reuse);
    tcase_add_test(tc, test_pool_not_counted);
    tcase_add_test(tc, test_held_back);
    tcase_add_test(tc, test_starved);
    tcase_add_test(tc, test_stalled);
    tcase_add_test(tc, test_alpn_lines);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    sr = srunner_create(fetch_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
