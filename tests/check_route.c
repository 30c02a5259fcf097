/* check_route: where the path comes from, and what it asks for. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

#define ID "0123abcd-ef45-6789-abcd-ef0123456789"

/* ---- route_pick_path: precedence ---------------------------------- */

struct pick_case {
    struct route_params p;
    const char *want; /* NULL: -1 */
};

static const struct pick_case picks[] = {
    {{"/pi", "/du", "/sn", "/ru"}, "/pi"},
    {{"", "/du", "/sn", "/ru"}, "/du"},
    {{NULL, "/du", "/sn", "/ru"}, "/du"},
    {{NULL, "", "/sn", "/ru"}, "/sn"},
    {{"", NULL, "/sn", "/ru"}, "/sn"},
    {{NULL, NULL, "", "/ru?q=1"}, "/ru"},
    {{"", "", "", "/ru"}, "/ru"},
    {{NULL, NULL, NULL, "/ru"}, "/ru"},
    {{NULL, NULL, NULL, NULL}, NULL},
    {{"", "", "", ""}, NULL},
    /* only REQUEST_URI is percent-decoded or cut at ? and # */
    {{"/a%20b", NULL, NULL, "/x"}, "/a%20b"},
    {{NULL, "/a%7Bb", NULL, "/x"}, "/a%7Bb"},
    {{NULL, NULL, "/a?b#c", "/x"}, "/a?b#c"},
};

START_TEST(test_pick_precedence)
{
    const struct pick_case *c = &picks[_i];
    char buf[ROUTE_PATH_MAX];
    long n = route_pick_path(&c->p, buf, sizeof(buf));

    if (!c->want) {
        ck_assert_int_eq(n, -1);
        return;
    }
    ck_assert_int_eq(n, (long)strlen(c->want));
    ck_assert_str_eq(buf, c->want);
}
END_TEST

/* ---- route_pick_path: REQUEST_URI decoding ------------------------- */

struct decode_case {
    const char *uri;
    const char *want; /* NULL: -1 */
};

static const struct decode_case decodes[] = {
    {"/healthcheck", "/healthcheck"},
    {"/healthcheck?", "/healthcheck"},
    {"/healthcheck?x=1&y=%2F", "/healthcheck"},
    {"/healthcheck#frag", "/healthcheck"},
    {"/healthcheck#frag?x", "/healthcheck"},
    {"/healthcheck?x#frag", "/healthcheck"},
    {"/orders/%7B" ID "%7D/items", "/orders/{" ID "}/items"},
    {"/orders/%7b" ID "%7d/items", "/orders/{" ID "}/items"},
    {"/orders/urn%3Auuid%3A" ID "/items", "/orders/urn:uuid:" ID "/items"},
    {"/%68ealthcheck", "/healthcheck"},
    {"/a%2Fb", "/a/b"},
    {"/a%2fb", "/a/b"},
    {"/a%20b", "/a b"},
    {"/a%3Fb?c", "/a?b"},
    {"/a%23b#c", "/a#b"},
    {"/a%25b", "/a%b"},
    {"/a%252Fb", "/a%2Fb"},     /* decoded once only */
    {"/a%C3%A9", "/a\xc3\xa9"},
    {"/a%zz", "/a%zz"},         /* invalid escapes stay as they are */
    {"/a%4", "/a%4"},
    {"/a%4g", "/a%4g"},
    {"/a%g4", "/a%g4"},
    {"/a%", "/a%"},
    {"/a%%41", "/a%A"},
    {"/a%?x", "/a%"},
    {"/a%4?x", "/a%4"},
    {"%", "%"},
    {"?x", ""},
    {"/a%00", NULL},            /* a NUL byte is no path */
    {"/a%00b", NULL},
    {"/a?%00", "/a"},           /* ... unless it is in the query */
};

START_TEST(test_pick_decode)
{
    const struct decode_case *c = &decodes[_i];
    struct route_params p = {NULL, NULL, NULL, c->uri};
    char buf[ROUTE_PATH_MAX];
    long n = route_pick_path(&p, buf, sizeof(buf));

    if (!c->want) {
        ck_assert_msg(n == -1, "'%s' gave %ld", c->uri, n);
        return;
    }
    ck_assert_msg(n == (long)strlen(c->want), "'%s' gave %ld", c->uri, n);
    ck_assert_str_eq(buf, c->want);
}
END_TEST

/* ---- route_pick_path: length limit --------------------------------- */

static char *path_of(size_t len)
{
    char *s = malloc(len + 1);

    s[0] = '/';
    memset(s + 1, 'a', len - 1);
    s[len] = '\0';
    return s;
}

/* _i: which param carries the path (0..3) */
static void set_param(struct route_params *p, int which, const char *s)
{
    memset(p, 0, sizeof(*p));
    if (which == 0)
        p->path_info = s;
    else if (which == 1)
        p->document_uri = s;
    else if (which == 2)
        p->script_name = s;
    else
        p->request_uri = s;
}

START_TEST(test_pick_longest_fits)
{
    char *s = path_of(ROUTE_PATH_MAX - 1), buf[ROUTE_PATH_MAX];
    struct route_params p;

    set_param(&p, _i, s);
    ck_assert_int_eq(route_pick_path(&p, buf, sizeof(buf)), ROUTE_PATH_MAX - 1);
    ck_assert_str_eq(buf, s);
    free(s);
}
END_TEST

START_TEST(test_pick_too_long)
{
    char *s = path_of(ROUTE_PATH_MAX), buf[ROUTE_PATH_MAX];
    struct route_params p;

    set_param(&p, _i, s);
    ck_assert_int_eq(route_pick_path(&p, buf, sizeof(buf)), -1);
    free(s);
    s = path_of(100000);
    set_param(&p, _i, s);
    ck_assert_int_eq(route_pick_path(&p, buf, sizeof(buf)), -1);
    free(s);
}
END_TEST

START_TEST(test_pick_small_cap)
{
    struct route_params p = {NULL, NULL, NULL, "/abc?q"};
    char buf[8];

    memset(buf, 'X', sizeof(buf));
    ck_assert_int_eq(route_pick_path(&p, buf, 4), -1);
    ck_assert_int_eq(buf[4], 'X');
    ck_assert_int_eq(route_pick_path(&p, buf, 5), 4);
    ck_assert_str_eq(buf, "/abc");
    p.request_uri = NULL;
    p.path_info = "/abcd";
    ck_assert_int_eq(route_pick_path(&p, buf, 5), -1);
    ck_assert_int_eq(route_pick_path(&p, buf, 6), 5);
    ck_assert_str_eq(buf, "/abcd");
}
END_TEST

/* Escapes shrink the path: a raw REQUEST_URI longer than the buffer may
 * still decode into it. */
START_TEST(test_pick_decoded_length)
{
    size_t n = ROUTE_PATH_MAX - 1, i;
    char *raw = malloc(1 + 3 * (n - 1) + 1), buf[ROUTE_PATH_MAX];
    struct route_params p = {NULL, NULL, NULL, raw};

    raw[0] = '/';
    for (i = 0; i < n - 1; i++)
        memcpy(raw + 1 + 3 * i, "%41", 3);
    raw[1 + 3 * (n - 1)] = '\0';
    ck_assert_int_eq(route_pick_path(&p, buf, sizeof(buf)), (long)n);
    ck_assert_int_eq(buf[n - 1], 'A');
    ck_assert_int_eq(buf[n], '\0');
    free(raw);
}
END_TEST

/* ---- route_match ---------------------------------------------------- */

struct match_case {
    const char *method;
    const char *path;
    enum route_kind want;
};

static const struct match_case matches[] = {
    {"GET", "/healthcheck", ROUTE_HEALTH},
    {"HEAD", "/healthcheck", ROUTE_HEALTH},
    {"POST", "/healthcheck", ROUTE_BAD_METHOD},
    {"PUT", "/healthcheck", ROUTE_BAD_METHOD},
    {"DELETE", "/healthcheck", ROUTE_BAD_METHOD},
    {"OPTIONS", "/healthcheck", ROUTE_BAD_METHOD},
    {"get", "/healthcheck", ROUTE_BAD_METHOD},
    {"GETX", "/healthcheck", ROUTE_BAD_METHOD},
    {"", "/healthcheck", ROUTE_BAD_METHOD},
    {NULL, "/healthcheck", ROUTE_BAD_METHOD},
    {"POST", "/orders/" ID "/items", ROUTE_BAD_METHOD},
    {"PATCH", "/orders/not-a-uuid/items", ROUTE_BAD_METHOD},
    {NULL, "/orders/not-a-uuid/items", ROUTE_BAD_METHOD},
    {"GET", "/orders/not-a-uuid/items", ROUTE_BAD_UUID},
    {"HEAD", "/orders/not-a-uuid/items", ROUTE_BAD_UUID},
    {"GET", "/orders/" ID "0/items", ROUTE_BAD_UUID},
    {"GET", "/orders/ " ID "/items", ROUTE_BAD_UUID},
    {"GET", "/orders/{" ID "/items", ROUTE_BAD_UUID},
    {"GET", "/orders/items/items", ROUTE_BAD_UUID},
    {"GET", "/orders//items", ROUTE_NOT_FOUND},
    {"GET", "/orders/x/y/items", ROUTE_NOT_FOUND},
    {"GET", "/orders/" ID "/x/items", ROUTE_NOT_FOUND},
    {"GET", "/orders/x/items/", ROUTE_NOT_FOUND},
    {"GET", "/orders/" ID "/items/", ROUTE_NOT_FOUND},
    {"GET", "/orders/" ID "/items/x", ROUTE_NOT_FOUND},
    {"GET", "/orders/" ID "/itemsx", ROUTE_NOT_FOUND},
    {"GET", "/orders/" ID, ROUTE_NOT_FOUND},
    {"GET", "/orders/" ID "/", ROUTE_NOT_FOUND},
    {"GET", "//orders/" ID "/items", ROUTE_NOT_FOUND},
    {"GET", "/Orders/" ID "/items", ROUTE_NOT_FOUND},
    {"GET", "orders/" ID "/items", ROUTE_NOT_FOUND},
    {"POST", "/orders/x/y/items", ROUTE_NOT_FOUND},
    {"POST", "/orders/enriched", ROUTE_ENRICH},
    {"GET", "/orders/enriched", ROUTE_BAD_METHOD_POST},
    {"HEAD", "/orders/enriched", ROUTE_BAD_METHOD_POST},
    {"PUT", "/orders/enriched", ROUTE_BAD_METHOD_POST},
    {"post", "/orders/enriched", ROUTE_BAD_METHOD_POST},
    {NULL, "/orders/enriched", ROUTE_BAD_METHOD_POST},
    {"POST", "/orders/enriched/", ROUTE_NOT_FOUND},
    {"POST", "/orders/Enriched", ROUTE_NOT_FOUND},
    {"GET", "/orders/enriched/items", ROUTE_BAD_UUID}, /* the items route, unchanged */
    {"POST", "/orders/enriched/items", ROUTE_BAD_METHOD},
    {"GET", "/healthcheck/", ROUTE_NOT_FOUND},
    {"GET", "/healthcheckx", ROUTE_NOT_FOUND},
    {"GET", "/Healthcheck", ROUTE_NOT_FOUND},
    {"GET", "healthcheck", ROUTE_NOT_FOUND},
    {"POST", "/healthcheck/", ROUTE_NOT_FOUND},
    {"GET", "/", ROUTE_NOT_FOUND},
    {"GET", "", ROUTE_NOT_FOUND},
    {"GET", "/orders", ROUTE_NOT_FOUND},
    {"GET", "/orders/", ROUTE_NOT_FOUND},
    {"GET", "/orders/items", ROUTE_NOT_FOUND},
    {"GET", "/unknown", ROUTE_NOT_FOUND},
    {"POST", "/unknown", ROUTE_NOT_FOUND},
    {"GET", "/docs", ROUTE_DOCS},
    {"HEAD", "/docs", ROUTE_DOCS},
    {"GET", "/docs/", ROUTE_NOT_FOUND},
    {"GET", "/metrics", ROUTE_METRICS},
    {"POST", "/metrics", ROUTE_BAD_METHOD},
    {"GET", "/openapi.json", ROUTE_OPENAPI},
    {"DELETE", "/openapi.json", ROUTE_BAD_METHOD},
    {"GET", "/openapi.json/x", ROUTE_NOT_FOUND},
    {"GET", NULL, ROUTE_NOT_FOUND},
    {NULL, NULL, ROUTE_NOT_FOUND},
};

START_TEST(test_match_table)
{
    const struct match_case *c = &matches[_i];
    struct route r;

    memset(&r, 'X', sizeof(r));
    route_match(c->method, c->path, &r);
    ck_assert_msg(r.kind == c->want, "%s %s: kind %d, want %d",
                  c->method ? c->method : "(null)", c->path ? c->path : "(null)",
                  (int)r.kind, (int)c->want);
    ck_assert_str_eq(r.order_id, "");
}
END_TEST

/* Every accepted form reaches ROUTE_ITEMS with the canonical id. */
static const char *const item_ids[] = {
    ID,
    "0123ABCD-EF45-6789-ABCD-EF0123456789",
    "0123abcdef456789abcdef0123456789",
    "{" ID "}",
    "{0123ABCDEF456789ABCDEF0123456789}",
    "urn:uuid:" ID,
    "URN:UUID:{0123abcdef456789abcdef0123456789}",
};

START_TEST(test_match_items)
{
    static const char *const methods[] = {"GET", "HEAD"};
    char path[128];
    struct route r;
    int m;

    snprintf(path, sizeof(path), "/orders/%s/items", item_ids[_i]);
    for (m = 0; m < 2; m++) {
        memset(&r, 'X', sizeof(r));
        route_match(methods[m], path, &r);
        ck_assert_msg(r.kind == ROUTE_ITEMS, "%s %s: kind %d", methods[m], path, (int)r.kind);
        ck_assert_str_eq(r.order_id, ID);
    }
}
END_TEST

/* From REQUEST_URI all the way to the route, as nginx sends it. */
START_TEST(test_pick_then_match)
{
    struct route_params p = {NULL, NULL, NULL, "/orders/%7B" ID "%7D/items?x=/y"};
    char buf[ROUTE_PATH_MAX];
    struct route r;

    ck_assert_int_ge(route_pick_path(&p, buf, sizeof(buf)), 0);
    route_match("GET", buf, &r);
    ck_assert_int_eq(r.kind, ROUTE_ITEMS);
    ck_assert_str_eq(r.order_id, ID);

    p.request_uri = "/orders/0123abcd%2Fef45-6789-abcd-ef0123456789/items";
    ck_assert_int_ge(route_pick_path(&p, buf, sizeof(buf)), 0);
    route_match("GET", buf, &r);
    ck_assert_int_eq(r.kind, ROUTE_NOT_FOUND);

    p.request_uri = "/orders/%00/items";
    ck_assert_int_eq(route_pick_path(&p, buf, sizeof(buf)), -1);
    route_match("GET", NULL, &r);
    ck_assert_int_eq(r.kind, ROUTE_NOT_FOUND);
}
END_TEST

static Suite *route_suite(void)
{
    Suite *s = suite_create("route");
    TCase *tc;

    tc = tcase_create("pick_precedence");
    tcase_add_loop_test(tc, test_pick_precedence, 0, sizeof(picks) / sizeof(picks[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("pick_decode");
    tcase_add_loop_test(tc, test_pick_decode, 0, sizeof(decodes) / sizeof(decodes[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("pick_length");
    tcase_add_loop_test(tc, test_pick_longest_fits, 0, 4);
    tcase_add_loop_test(tc, test_pick_too_long, 0, 4);
    tcase_add_test(tc, test_pick_small_cap);
    tcase_add_test(tc, test_pick_decoded_length);
    suite_add_tcase(s, tc);

    tc = tcase_create("match");
    tcase_add_loop_test(tc, test_match_table, 0, sizeof(matches) / sizeof(matches[0]));
    tcase_add_loop_test(tc, test_match_items, 0, sizeof(item_ids) / sizeof(item_ids[0]));
    tcase_add_test(tc, test_pick_then_match);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(route_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
