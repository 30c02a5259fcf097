/* check_items: Maestro JSON in, the service's item JSON out. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "items.h"

#define U1 "0123abcd-ef45-6789-abcd-ef0123456789"
#define U2 "fedcba98-7654-3210-fedc-ba9876543210"
#define U3 "00000000-0000-4000-8000-000000000003"

/* What a test holds, released by the teardown even when it fails. */
static char *body;
static struct jbuf out;
static struct items_packages pk;

static void setup(void)
{
    body = NULL;
    jbuf_init(&out, 1 << 16);
    pk.ids = NULL;
    pk.count = 0;
}

static void teardown(void)
{
    free(body);
    body = NULL;
    jbuf_free(&out);
    items_packages_free(&pk);
}

/* body := an exact-size heap copy of s with no NUL after it, so that
 * valgrind sees any read past len. */
static char *exact(const char *s, size_t len)
{
    free(body);
    body = malloc(len ? len : 1);
    memcpy(body, s, len);
    return body;
}

/* body := head, n opens, n closes, tail (NUL-terminated). */
static char *repeat(const char *head, const char *open, const char *close,
                    size_t n, const char *tail)
{
    size_t hl = strlen(head), ol = strlen(open), cl = strlen(close), tl = strlen(tail), i;
    char *s, *p;

    free(body);
    s = p = body = malloc(hl + n * (ol + cl) + tl + 1);
    memcpy(p, head, hl), p += hl;
    for (i = 0; i < n; i++)
        memcpy(p, open, ol), p += ol;
    for (i = 0; i < n; i++)
        memcpy(p, close, cl), p += cl;
    memcpy(p, tail, tl + 1);
    return s;
}

/* ---- bodies that are no JSON document at all ------------------------- */

struct text_case {
    const char *s;
    size_t len; /* 0: strlen(s) */
    const char *why;
};

/* A literal and its length, for literals holding a NUL byte. */
#define WITH_LEN(lit) lit, sizeof(lit) - 1

/* Each would be a well-shaped document but for the flaw named. */
static const struct text_case bad_texts[] = {
    {"", 0, "empty body"},
    {" ", 0, "blank body"},
    {"<html>oops</html>", 0, "HTML"},
    {"oops, not json", 0, "text"},
    {"{\"packages\":[", 0, "truncated"},
    {"[{\"product\":{\"code\":\"1\"},\"quantity\":1}", 0, "truncated items"},
    {"{\"packages\":[]", 0, "truncated object"},
    {"{\"packages\":[],\"x\":\"\xc3\x28\"}", 0, "invalid UTF-8 (C3 28)"},
    {"{\"packages\":[],\"x\":\"\xff\"}", 0, "invalid UTF-8 (FF)"},
    {"{\"packages\":[],\"x\":\"\xed\xa0\x80\"}", 0, "UTF-8 surrogate"},
    {"{\"packages\":[],\"x\":\"\\u0000\"}", 0, "\\u0000 escape"},
    {"{\"packages\":[],\"x\":\"a\\u0000b\"}", 0, "\\u0000 escape inside"},
    {"{\"packages\":[],\"x\":\"\\\\\\u0000\"}", 0, "\\\\ then \\u0000"},
    {WITH_LEN("{\"packages\":[],\"x\":\"a\0b\"}"), "raw NUL in a string"},
    {WITH_LEN("{\"packages\":[]}\0"), "raw NUL after the document"},
    {WITH_LEN("\0{\"packages\":[]}"), "raw NUL before the document"},
    {"{\"packages\":[],}", 0, "trailing comma"},
    {"{'packages':[]}", 0, "single quotes"},
    {"{\"packages\":[]} x", 0, "trailing garbage"},
    {"{\"packages\":[]}{}", 0, "two documents"},
    {"[]x", 0, "trailing garbage after array"},
    {"[] []", 0, "two arrays"},
    {"{\"packages\":[],\"n\":01}", 0, "number with a leading zero"},
    {"{\"packages\":[],\"n\":1.}", 0, "number ending in a point"},
    {"{\"packages\":[],\"n\":-.5}", 0, "number starting with a point"},
    {"{\"packages\":[],\"n\":[1,2,-]}", 0, "a lone minus"},
};

START_TEST(test_order_bad_text)
{
    const struct text_case *c = &bad_texts[_i];
    size_t len = c->len ? c->len : strlen(c->s);

    exact(c->s, len);
    pk.ids = (void *)1;
    pk.count = 99;
    ck_assert_msg(items_parse_order(body, len, 100, &pk) == ITEMS_BAD, "accepted: %s", c->why);
    ck_assert_ptr_null(pk.ids);
    ck_assert_uint_eq(pk.count, 0);
}
END_TEST

START_TEST(test_render_bad_text)
{
    const struct text_case *c = &bad_texts[_i];
    size_t len = c->len ? c->len : strlen(c->s);

    exact(c->s, len);
    ck_assert_msg(items_render(body, len, &out) == ITEMS_BAD, "accepted: %s", c->why);
}
END_TEST

/* 10000 levels of nesting in a field nobody reads: still a 502. */
START_TEST(test_order_deep_nesting)
{
    char *s = repeat("{\"packages\":[],\"x\":", "[", "]", 10000, "}");

    ck_assert_int_eq(items_parse_order(s, strlen(s), 100, &pk), ITEMS_BAD);
    s = repeat("", "[", "]", 10000, "");
    ck_assert_int_eq(items_parse_order(s, strlen(s), 100, &pk), ITEMS_BAD);
    s = repeat("{\"packages\":[],\"x\":", "{\"a\":", "}", 10000, "}");
    ck_assert_int_eq(items_parse_order(s, strlen(s), 100, &pk), ITEMS_BAD);
    /* moderate nesting is fine */
    s = repeat("{\"packages\":[],\"x\":", "[", "]", 100, "}");
    ck_assert_int_eq(items_parse_order(s, strlen(s), 100, &pk), ITEMS_OK);
}
END_TEST

START_TEST(test_render_deep_nesting)
{
    char *s = repeat("[{\"quantity\":1,\"product\":{\"code\":\"1\",\"x\":", "[", "]", 10000, "}}]");

    ck_assert_int_eq(items_render(s, strlen(s), &out), ITEMS_BAD);
    s = repeat("", "[", "]", 10000, "");
    ck_assert_int_eq(items_render(s, strlen(s), &out), ITEMS_BAD);
}
END_TEST

/* ---- items_parse_order ------------------------------------------------ */

static enum items_status parse_order(const char *json, size_t max)
{
    items_packages_free(&pk);
    return items_parse_order(exact(json, strlen(json)), strlen(json), max, &pk);
}

START_TEST(test_order_in_order)
{
    ck_assert_int_eq(parse_order("{\"id\":\"x\",\"packages\":["
                                 "{\"uuid\":\"" U2 "\",\"seller\":{\"id\":\"s\"}},"
                                 "{\"uuid\":\"" U1 "\"},"
                                 "{\"uuid\":\"" U3 "\",\"items\":[1,2]}],"
                                 "\"customer\":null}", 100),
                     ITEMS_OK);
    ck_assert_uint_eq(pk.count, 3);
    ck_assert_str_eq(pk.ids[0], U2);
    ck_assert_str_eq(pk.ids[1], U1);
    ck_assert_str_eq(pk.ids[2], U3);
}
END_TEST

/* Checked, then kept as written (braces percent-encoded for the URL). */
START_TEST(test_order_as_written)
{
    ck_assert_int_eq(parse_order("{\"packages\":["
                                 "{\"uuid\":\"0123ABCD-EF45-6789-ABCD-EF0123456789\"},"
                                 "{\"uuid\":\"{fedcba98-7654-3210-FEDC-ba9876543210}\"},"
                                 "{\"uuid\":\"urn:uuid:00000000000040008000000000000003\"},"
                                 "{\"uuid\":\"\\u0030123abcdef456789abcdef0123456789\"},"
                                 "{\"uuid\":\"URN:UUID:{0123ABCD-EF45-6789-ABCD-EF0123456789}\"}]}", 100),
                     ITEMS_OK);
    ck_assert_uint_eq(pk.count, 5);
    ck_assert_str_eq(pk.ids[0], "0123ABCD-EF45-6789-ABCD-EF0123456789");
    ck_assert_str_eq(pk.ids[1], "%7Bfedcba98-7654-3210-FEDC-ba9876543210%7D");
    ck_assert_str_eq(pk.ids[2], "urn:uuid:00000000000040008000000000000003");
    ck_assert_str_eq(pk.ids[3], "0123abcdef456789abcdef0123456789");
    ck_assert_str_eq(pk.ids[4], "URN:UUID:%7B0123ABCD-EF45-6789-ABCD-EF0123456789%7D");
}
END_TEST

/* A member named twice: the last one counts, for the order too. */
START_TEST(test_order_last_member_counts)
{
    ck_assert_int_eq(parse_order("{\"packages\":[{\"uuid\":\"" U1 "\"}],"
                                 "\"packages\":[{\"uuid\":\"x\",\"uuid\":\"" U2 "\"},"
                                 "{\"uuid\":\"" U3 "\"}]}", 100),
                     ITEMS_OK);
    ck_assert_uint_eq(pk.count, 2);
    ck_assert_str_eq(pk.ids[0], U2);
    ck_assert_str_eq(pk.ids[1], U3);
    items_packages_free(&pk);
    ck_assert_int_eq(parse_order("{\"packages\":[{\"uuid\":\"" U1 "\",\"uuid\":\"../x\"}]}", 100),
                     ITEMS_BAD);
    ck_assert_int_eq(parse_order("{\"packages\":[],\"packages\":null}", 100), ITEMS_BAD);
}
END_TEST

START_TEST(test_order_no_packages)
{
    ck_assert_int_eq(parse_order("{\"packages\":[]}", 100), ITEMS_OK);
    ck_assert_uint_eq(pk.count, 0);
    items_packages_free(&pk);
    ck_assert_int_eq(parse_order(" \n{ \"packages\" : [ ] }\n", 0), ITEMS_OK);
    ck_assert_uint_eq(pk.count, 0);
}
END_TEST

/* An escaped backslash followed by the text u0000 is no NUL escape. */
START_TEST(test_order_escaped_backslash)
{
    ck_assert_int_eq(parse_order("{\"note\":\"\\\\u0000\",\"packages\":[{\"uuid\":\"" U1 "\"}]}", 10),
                     ITEMS_OK);
    ck_assert_uint_eq(pk.count, 1);
    ck_assert_str_eq(pk.ids[0], U1);
    items_packages_free(&pk);
    ck_assert_int_eq(parse_order("{\"note\":\"\\\\\\\\u0000\",\"packages\":[]}", 10), ITEMS_OK);
}
END_TEST

static const char *const bad_orders[] = {
    "{}",
    "{\"Packages\":[]}",
    "{\"packages\":null}",
    "{\"packages\":{}}",
    "{\"packages\":{\"uuid\":\"" U1 "\"}}",
    "{\"packages\":\"" U1 "\"}",
    "{\"packages\":1}",
    "[]",
    "[{\"packages\":[]}]",
    "\"x\"",
    "null",
    "{\"packages\":[1]}",
    "{\"packages\":[\"" U1 "\"]}",
    "{\"packages\":[null]}",
    "{\"packages\":[[]]}",
    "{\"packages\":[{}]}",
    "{\"packages\":[{\"id\":\"" U1 "\"}]}",
    "{\"packages\":[{\"UUID\":\"" U1 "\"}]}",
    "{\"packages\":[{\"uuid\":null}]}",
    "{\"packages\":[{\"uuid\":1}]}",
    "{\"packages\":[{\"uuid\":true}]}",
    "{\"packages\":[{\"uuid\":[\"" U1 "\"]}]}",
    "{\"packages\":[{\"uuid\":{}}]}",
    "{\"packages\":[{\"uuid\":\"\"}]}",
    "{\"packages\":[{\"uuid\":\"../../x\"}]}",
    "{\"packages\":[{\"uuid\":\"../../../etc/passwd\"}]}",
    "{\"packages\":[{\"uuid\":\"" U1 "/../x\"}]}",
    "{\"packages\":[{\"uuid\":\"" U1 "?x=1\"}]}",
    "{\"packages\":[{\"uuid\":\" " U1 "\"}]}",
    "{\"packages\":[{\"uuid\":\"" U1 "\"},{\"uuid\":\"x\"}]}",
    "{\"packages\":[{\"uuid\":\"" U1 "\"},{}]}",
    "{\"packages\":[{\"uuid\":\"" U1 "\"},7]}",
};

START_TEST(test_order_bad_shape)
{
    const char *json = bad_orders[_i];

    pk.ids = (void *)1;
    pk.count = 99;
    ck_assert_msg(items_parse_order(exact(json, strlen(json)), strlen(json), 100, &pk) == ITEMS_BAD,
                  "accepted: %s", json);
    ck_assert_ptr_null(pk.ids);
    ck_assert_uint_eq(pk.count, 0);
}
END_TEST

START_TEST(test_order_max_packages)
{
    const char *three = "{\"packages\":[{\"uuid\":\"" U1 "\"},{\"uuid\":\"" U2 "\"},{\"uuid\":\"" U3 "\"}]}";

    ck_assert_int_eq(parse_order(three, 3), ITEMS_OK);
    ck_assert_uint_eq(pk.count, 3);
    items_packages_free(&pk);
    ck_assert_int_eq(parse_order(three, 2), ITEMS_TOO_BIG);
    ck_assert_ptr_null(pk.ids);
    ck_assert_uint_eq(pk.count, 0);
    ck_assert_int_eq(parse_order(three, 0), ITEMS_TOO_BIG);
    ck_assert_int_eq(parse_order("{\"packages\":[]}", 0), ITEMS_OK);
}
END_TEST

START_TEST(test_order_many_packages)
{
    size_t n = 5000, i;
    char *p, want[UUID_STR_LEN];

    free(body);
    p = body = malloc(20 + n * 50);
    p += sprintf(p, "{\"packages\":[");
    for (i = 0; i < n; i++)
        p += sprintf(p, "%s{\"uuid\":\"00000000-0000-4000-9000-%012zu\"}", i ? "," : "", i);
    strcpy(p, "]}");
    ck_assert_int_eq(items_parse_order(body, strlen(body), n, &pk), ITEMS_OK);
    ck_assert_uint_eq(pk.count, n);
    for (i = 0; i < n; i += 997) {
        snprintf(want, sizeof(want), "00000000-0000-4000-9000-%012zu", i);
        ck_assert_str_eq(pk.ids[i], want);
    }
    items_packages_free(&pk);
    ck_assert_int_eq(items_parse_order(body, strlen(body), n - 1, &pk), ITEMS_TOO_BIG);
}
END_TEST

START_TEST(test_packages_free_twice)
{
    ck_assert_int_eq(parse_order("{\"packages\":[{\"uuid\":\"" U1 "\"}]}", 1), ITEMS_OK);
    items_packages_free(&pk);
    ck_assert_ptr_null(pk.ids);
    ck_assert_uint_eq(pk.count, 0);
    items_packages_free(&pk);
}
END_TEST

/* ---- items_render ------------------------------------------------------ */

/* The service's item, from JSON literals of its fields. */
#define ITEM(sku, d, i, r, q)                                                  \
    "{\"sku\":" sku ",\"description\":" d ",\"image_url\":" i ",\"reference\":" \
    r ",\"quantity\":" q "}"
/* An upstream item with the given product fields and quantity text. */
#define UP(prod, qty) "[{\"product\":{" prod "}" qty "}]"
#define Q(q) ",\"quantity\":" q
#define FULL_PROD "\"code\":\"213445900\",\"description\":\"Geladeira Frost Free\"," \
                  "\"image_url\":\"https://a-static.mlcdn.com.br/{w}x{h}/g.jpg\",\"reference\":\"Inox 110V\""
#define FULL_OUT(q) ITEM("\"213445900\"", "\"Geladeira Frost Free\"", \
                         "\"https://a-static.mlcdn.com.br/{w}x{h}/g.jpg\"", "\"Inox 110V\"", q)

struct render_case {
    const char *why;
    const char *in;
    const char *want; /* NULL: ITEMS_BAD */
};

static const struct render_case renders[] = {
    {"full item, extra fields ignored",
     "[{\"id\":9,\"product\":{" FULL_PROD ",\"price\":1999.9,\"seller\":{\"id\":\"x\"}},"
     "\"quantity\":2,\"gift\":false}]",
     FULL_OUT("2")},
    {"fields in another order", "[{\"quantity\":1,\"product\":{\"reference\":\"r\",\"image_url\":\"i\","
                                "\"description\":\"d\",\"code\":\"c\"}}]",
     ITEM("\"c\"", "\"d\"", "\"i\"", "\"r\"", "1")},
    {"description, image_url, reference missing", UP("\"code\":\"1\"", Q("1")),
     ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "1")},
    {"description, image_url, reference null",
     UP("\"code\":\"1\",\"description\":null,\"image_url\":null,\"reference\":null", Q("1")),
     ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "1")},
    {"only reference missing", UP("\"code\":\"1\",\"description\":\"d\",\"image_url\":\"i\"", Q("1")),
     ITEM("\"1\"", "\"d\"", "\"i\"", "\"\"", "1")},
    {"empty strings stay", UP("\"code\":\"\",\"description\":\"\",\"image_url\":\"\",\"reference\":\"\"", Q("1")),
     ITEM("\"\"", "\"\"", "\"\"", "\"\"", "1")},
    /* code */
    {"code number", UP("\"code\":823332600", Q("1")), ITEM("\"823332600\"", "\"\"", "\"\"", "\"\"", "1")},
    {"code big number", UP("\"code\":12345678901234", Q("1")),
     ITEM("\"12345678901234\"", "\"\"", "\"\"", "\"\"", "1")},
    {"code 0", UP("\"code\":0", Q("1")), ITEM("\"0\"", "\"\"", "\"\"", "\"\"", "1")},
    {"code 1.5 refused", UP("\"code\":1.5", Q("1")), NULL},
    {"code -1 refused", UP("\"code\":-1", Q("1")), NULL},
    {"code -0.0 is 0", UP("\"code\":-0.0", Q("1")), ITEM("\"0\"", "\"\"", "\"\"", "\"\"", "1")},
    {"code 2^53", UP("\"code\":9007199254740992", Q("1")),
     ITEM("\"9007199254740992\"", "\"\"", "\"\"", "\"\"", "1")},
    {"code past 2^53 refused", UP("\"code\":9007199254740994", Q("1")), NULL},
    {"code 1e2 is 100", UP("\"code\":1e2", Q("1")), ITEM("\"100\"", "\"\"", "\"\"", "\"\"", "1")},
    {"code string of digits stays", UP("\"code\":\"007\"", Q("1")), ITEM("\"007\"", "\"\"", "\"\"", "\"\"", "1")},
    {"code missing", UP("\"description\":\"d\"", Q("1")), NULL},
    {"code null", UP("\"code\":null", Q("1")), NULL},
    {"code true", UP("\"code\":true", Q("1")), NULL},
    {"code false", UP("\"code\":false", Q("1")), NULL},
    {"code object", UP("\"code\":{}", Q("1")), NULL},
    {"code array", UP("\"code\":[\"1\"]", Q("1")), NULL},
    {"code Code", UP("\"Code\":\"1\"", Q("1")), NULL},
    /* quantity */
    {"quantity 3", UP("\"code\":\"1\"", Q("3")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "3")},
    {"quantity 0", UP("\"code\":\"1\"", Q("0")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "0")},
    {"quantity large", UP("\"code\":\"1\"", Q("123456789012")),
     ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "123456789012")},
    {"quantity \"3\"", UP("\"code\":\"1\"", Q("\"3\"")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "3")},
    {"quantity \"007\"", UP("\"code\":\"1\"", Q("\"007\"")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "7")},
    {"quantity 2.0 (by design)", UP("\"code\":\"1\"", Q("2.0")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "2")},
    {"quantity 1e2", UP("\"code\":\"1\"", Q("1e2")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "100")},
    {"quantity 1.5", UP("\"code\":\"1\"", Q("1.5")), NULL},
    {"quantity -1 refused", UP("\"code\":\"1\"", Q("-1")), NULL},
    {"quantity 0.1", UP("\"code\":\"1\"", Q("0.1")), NULL},
    {"quantity 1e300", UP("\"code\":\"1\"", Q("1e300")), NULL},
    {"quantity \"abc\"", UP("\"code\":\"1\"", Q("\"abc\"")), NULL},
    {"quantity \"\"", UP("\"code\":\"1\"", Q("\"\"")), NULL},
    {"quantity \"-1\"", UP("\"code\":\"1\"", Q("\"-1\"")), NULL},
    {"quantity \"+1\"", UP("\"code\":\"1\"", Q("\"+1\"")), NULL},
    {"quantity \"1.0\"", UP("\"code\":\"1\"", Q("\"1.0\"")), NULL},
    {"quantity \" 1\"", UP("\"code\":\"1\"", Q("\" 1\"")), NULL},
    {"quantity \"1 \"", UP("\"code\":\"1\"", Q("\"1 \"")), NULL},
    {"quantity \"1e2\"", UP("\"code\":\"1\"", Q("\"1e2\"")), NULL},
    {"quantity 16 digits", UP("\"code\":\"1\"", Q("\"1234567890123456\"")), NULL},
    {"quantity missing", UP("\"code\":\"1\"", ""), NULL},
    {"quantity null", UP("\"code\":\"1\"", Q("null")), NULL},
    {"quantity true", UP("\"code\":\"1\"", Q("true")), NULL},
    {"quantity false", UP("\"code\":\"1\"", Q("false")), NULL},
    {"quantity object", UP("\"code\":\"1\"", Q("{}")), NULL},
    {"quantity array", UP("\"code\":\"1\"", Q("[1]")), NULL},
    /* numbers as JSON writes them, or 502 (Python's json refuses these) */
    {"quantity 01", UP("\"code\":\"1\"", Q("01")), NULL},
    {"quantity -01", UP("\"code\":\"1\"", Q("-01")), NULL},
    {"quantity 00", UP("\"code\":\"1\"", Q("00")), NULL},
    {"quantity 1.", UP("\"code\":\"1\"", Q("1.")), NULL},
    {"quantity 1.e2", UP("\"code\":\"1\"", Q("1.e2")), NULL},
    {"quantity -.5", UP("\"code\":\"1\"", Q("-.5")), NULL},
    {"quantity .5", UP("\"code\":\"1\"", Q(".5")), NULL},
    {"quantity +1", UP("\"code\":\"1\"", Q("+1")), NULL},
    {"quantity 1e", UP("\"code\":\"1\"", Q("1e")), NULL},
    {"quantity 1e+", UP("\"code\":\"1\"", Q("1e+")), NULL},
    {"quantity -", UP("\"code\":\"1\"", Q("-")), NULL},
    {"quantity 1.0.0", UP("\"code\":\"1\"", Q("1.0.0")), NULL},
    {"quantity 1e2e3", UP("\"code\":\"1\"", Q("1e2e3")), NULL},
    {"quantity 0x10", UP("\"code\":\"1\"", Q("0x10")), NULL},
    {"code 01", UP("\"code\":01", Q("1")), NULL},
    {"number in an ignored field: 1.", "[{\"x\":1.,\"product\":{\"code\":\"1\"},\"quantity\":1}]", NULL},
    {"quantity -0", UP("\"code\":\"1\"", Q("-0")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "0")},
    {"quantity 0e0", UP("\"code\":\"1\"", Q("0e0")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "0")},
    {"quantity 1E+2", UP("\"code\":\"1\"", Q("1E+2")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "100")},
    {"quantity 250e-2 is 2.5", UP("\"code\":\"1\"", Q("250e-2")), NULL},
    {"quantity 200e-2", UP("\"code\":\"1\"", Q("200e-2")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "2")},
    {"quantity 10.50e1 is 105", UP("\"code\":\"1\"", Q("10.50e1")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "105")},
    {"digits in strings are no numbers", UP("\"code\":\"01\",\"description\":\"1.\"", Q("1")),
     ITEM("\"01\"", "\"1.\"", "\"\"", "\"\"", "1")},
    /* a member named twice: the last one counts */
    {"quantity twice", UP("\"code\":\"1\"", Q("1") Q("2")), ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "2")},
    {"code twice", UP("\"code\":\"A\",\"code\":\"B\"", Q("1")), ITEM("\"B\"", "\"\"", "\"\"", "\"\"", "1")},
    {"description twice, last null", UP("\"code\":\"1\",\"description\":\"d\",\"description\":null", Q("1")),
     ITEM("\"1\"", "\"\"", "\"\"", "\"\"", "1")},
    {"product twice", "[{\"product\":{\"code\":\"A\"},\"product\":{\"code\":\"B\"},\"quantity\":1}]",
     ITEM("\"B\"", "\"\"", "\"\"", "\"\"", "1")},
    {"quantity twice, last bad", UP("\"code\":\"1\"", Q("1") Q("\"x\"")), NULL},
    /* product, item, document */
    {"product missing", "[{\"code\":\"1\",\"quantity\":1}]", NULL},
    {"product null", "[{\"product\":null,\"quantity\":1}]", NULL},
    {"product string", "[{\"product\":\"1\",\"quantity\":1}]", NULL},
    {"product array", "[{\"product\":[{\"code\":\"1\"}],\"quantity\":1}]", NULL},
    {"item number", "[1]", NULL},
    {"item string", "[\"x\"]", NULL},
    {"item null", "[null]", NULL},
    {"item array", "[[{\"product\":{\"code\":\"1\"},\"quantity\":1}]]", NULL},
    {"good item then bad", "[{\"product\":{\"code\":\"1\"},\"quantity\":1},2]", NULL},
    {"document object", "{\"product\":{\"code\":\"1\"},\"quantity\":1}", NULL},
    {"document {items:[]}", "{\"items\":[]}", NULL},
    {"document string", "\"[]\"", NULL},
    {"document number", "1", NULL},
    {"document null", "null", NULL},
    {"empty array", "[]", ""},
    {"empty array, blanks", " [ ] \n", ""},
    /* text fields of the wrong type */
    {"description number", UP("\"code\":\"1\",\"description\":12", Q("1")), NULL},
    {"description bool", UP("\"code\":\"1\",\"description\":false", Q("1")), NULL},
    {"image_url object", UP("\"code\":\"1\",\"image_url\":{}", Q("1")), NULL},
    {"reference array", UP("\"code\":\"1\",\"reference\":[]", Q("1")), NULL},
    /* unicode and escapes */
    {"raw UTF-8", UP("\"code\":\"1\",\"description\":\"Fog\xc3\xa3o 5 bocas \xe2\x80\x93 a\xc3\xa7o\"", Q("1")),
     ITEM("\"1\"", "\"Fog\xc3\xa3o 5 bocas \xe2\x80\x93 a\xc3\xa7o\"", "\"\"", "\"\"", "1")},
    {"raw emoji", UP("\"code\":\"1\",\"description\":\"Gelo \xf0\x9f\xa7\x8a\"", Q("1")),
     ITEM("\"1\"", "\"Gelo \xf0\x9f\xa7\x8a\"", "\"\"", "\"\"", "1")},
    {"\\u00e9", UP("\"code\":\"1\",\"description\":\"caf\\u00e9 \\u00C9\"", Q("1")),
     ITEM("\"1\"", "\"caf\xc3\xa9 \xc3\x89\"", "\"\"", "\"\"", "1")},
    {"surrogate pair", UP("\"code\":\"1\",\"description\":\"\\ud83e\\uddca\"", Q("1")),
     ITEM("\"1\"", "\"\xf0\x9f\xa7\x8a\"", "\"\"", "\"\"", "1")},
    {"\\u20ac", UP("\"code\":\"\\u20ac\"", Q("1")), ITEM("\"\xe2\x82\xac\"", "\"\"", "\"\"", "\"\"", "1")},
    {"quote and backslash", UP("\"code\":\"1\",\"description\":\"TV 50\\\" a\\\\b\"", Q("1")),
     ITEM("\"1\"", "\"TV 50\\\" a\\\\b\"", "\"\"", "\"\"", "1")},
    {"\\n \\t \\r \\b \\f", UP("\"code\":\"1\",\"reference\":\"a\\nb\\tc\\rd\\be\\ff\"", Q("1")),
     ITEM("\"1\"", "\"\"", "\"\"", "\"a\\nb\\tc\\rd\\be\\ff\"", "1")},
    {"\\/ becomes /", UP("\"code\":\"1\",\"image_url\":\"https:\\/\\/x\\/{w}x{h}\"", Q("1")),
     ITEM("\"1\"", "\"\"", "\"https://x/{w}x{h}\"", "\"\"", "1")},
    {"\\u0001", UP("\"code\":\"1\",\"description\":\"a\\u0001b\\u001F\"", Q("1")),
     ITEM("\"1\"", "\"a\\u0001b\\u001f\"", "\"\"", "\"\"", "1")},
    {"escaped backslash then u0000", UP("\"code\":\"1\",\"description\":\"\\\\u0000\"", Q("1")),
     ITEM("\"1\"", "\"\\\\u0000\"", "\"\"", "\"\"", "1")},
    {"DEL", UP("\"code\":\"1\",\"description\":\"\x7f\"", Q("1")),
     ITEM("\"1\"", "\"\x7f\"", "\"\"", "\"\"", "1")},
    {"raw control char (RFC 8259 s7: not JSON)", UP("\"code\":\"1\",\"description\":\"a\x01\"", Q("1")), NULL},
    {"lone high surrogate", UP("\"code\":\"1\",\"description\":\"\\ud83e\"", Q("1")), NULL},
    {"lone low surrogate", UP("\"code\":\"1\",\"description\":\"\\uddca\"", Q("1")), NULL},
    {"bad UTF-8 in description", UP("\"code\":\"1\",\"description\":\"\xc3\x28\"", Q("1")), NULL},
    {"\\u0000 in description", UP("\"code\":\"1\",\"description\":\"\\u0000\"", Q("1")), NULL},
    /* several items */
    {"three items joined by commas",
     "[{\"product\":{\"code\":\"a\"},\"quantity\":1},"
     "{\"product\":{\"code\":2,\"description\":\"d\"},\"quantity\":\"2\"},"
     "{\"product\":{\"code\":\"c\",\"reference\":\"r\"},\"quantity\":3}]",
     ITEM("\"a\"", "\"\"", "\"\"", "\"\"", "1") "," ITEM("\"2\"", "\"d\"", "\"\"", "\"\"", "2") ","
     ITEM("\"c\"", "\"\"", "\"\"", "\"r\"", "3")},
};

START_TEST(test_render_table)
{
    const struct render_case *c = &renders[_i];
    size_t len = strlen(c->in);
    enum items_status st = items_render(exact(c->in, len), len, &out);

    if (!c->want) {
        ck_assert_msg(st == ITEMS_BAD, "%s: got %d, want ITEMS_BAD", c->why, (int)st);
    } else {
        ck_assert_msg(st == ITEMS_OK, "%s: got %d, want ITEMS_OK", c->why, (int)st);
        ck_assert_int_eq(jbuf_cstr(&out), 0);
        ck_assert_msg(out.len == strlen(c->want) && memcmp(out.data, c->want, out.len) == 0,
                      "%s:\n got  %s\n want %s", c->why, out.data, c->want);
    }
}
END_TEST

/* Rendering appends: a second package's items follow the first's bytes. */
START_TEST(test_render_appends)
{
    const char *a = UP("\"code\":\"a\"", Q("1")), *b = UP("\"code\":\"b\"", Q("2"));

    ck_assert_int_eq(jbuf_puts(&out, "X"), 0);
    ck_assert_int_eq(items_render(a, strlen(a), &out), ITEMS_OK);
    ck_assert_int_eq(items_render("[]", 2, &out), ITEMS_OK);
    ck_assert_int_eq(items_render(b, strlen(b), &out), ITEMS_OK);
    ck_assert_int_eq(jbuf_cstr(&out), 0);
    ck_assert_str_eq(out.data, "X" ITEM("\"a\"", "\"\"", "\"\"", "\"\"", "1")
                               ITEM("\"b\"", "\"\"", "\"\"", "\"\"", "2"));
}
END_TEST

/* The cap of out: exactly enough is fine, one byte less is ITEMS_BAD. */
START_TEST(test_render_cap)
{
    const char *in = "[{\"product\":{" FULL_PROD "},\"quantity\":2},{\"product\":{" FULL_PROD "},\"quantity\":2}]";
    const char *want = FULL_OUT("2") "," FULL_OUT("2");
    size_t need = strlen(want), cap;

    jbuf_free(&out);
    jbuf_init(&out, need);
    ck_assert_int_eq(items_render(in, strlen(in), &out), ITEMS_OK);
    ck_assert_uint_eq(out.len, need);
    ck_assert_mem_eq(out.data, want, need);
    jbuf_free(&out);
    for (cap = 0; cap < need; cap++) {
        jbuf_init(&out, cap);
        ck_assert_msg(items_render(in, strlen(in), &out) == ITEMS_BAD, "cap %zu accepted", cap);
        ck_assert_uint_le(out.len, cap);
        jbuf_free(&out);
    }
    jbuf_init(&out, 0);
}
END_TEST

START_TEST(test_render_many_items)
{
    size_t n = 2000, i;
    char *s, *p, one[128];

    free(body);
    s = p = body = malloc(40 + n * 60);
    p += sprintf(p, "[");
    for (i = 0; i < n; i++)
        p += sprintf(p, "%s{\"product\":{\"code\":%zu},\"quantity\":%zu}", i ? "," : "", i, i + 1);
    strcpy(p, "]");
    jbuf_free(&out);
    jbuf_init(&out, 1 << 20);
    ck_assert_int_eq(items_render(s, strlen(s), &out), ITEMS_OK);
    ck_assert_int_eq(jbuf_cstr(&out), 0);
    snprintf(one, sizeof(one), ",{\"sku\":\"1999\",\"description\":\"\",\"image_url\":\"\","
                               "\"reference\":\"\",\"quantity\":2000}");
    ck_assert_uint_gt(out.len, strlen(one));
    ck_assert_str_eq(out.data + out.len - strlen(one), one);
}
END_TEST

/* ---- items_text_ok ---------------------------------------------------- */

struct utf8_case {
    const char *s;
    size_t len; /* 0: strlen(s) */
    int ok;
    const char *why;
};

static const struct utf8_case utf8s[] = {
    {"", 0, 1, "empty"},
    {"plain ascii {}[]\"\\", 0, 1, "ascii"},
    {"\x01\x1f", 0, 0, "control bytes outside a string"},
    {"\"a\x01\"", 0, 0, "control byte inside a string"},
    {"\"a\n\"", 0, 0, "raw newline inside a string"},
    {" \t\r\n[]", 0, 1, "JSON white space outside strings"},
    {"\"\x7f\"", 0, 1, "DEL is allowed"},
    {"\xc2\x80", 0, 1, "U+0080, smallest 2-byte"},
    {"\xc3\xa3", 0, 1, "a tilde"},
    {"\xdf\xbf", 0, 1, "U+07FF, largest 2-byte"},
    {"\xe0\xa0\x80", 0, 1, "U+0800, smallest 3-byte"},
    {"\xed\x9f\xbf", 0, 1, "U+D7FF, before the surrogates"},
    {"\xee\x80\x80", 0, 1, "U+E000, after the surrogates"},
    {"\xef\xbf\xbf", 0, 1, "U+FFFF"},
    {"\xf0\x90\x80\x80", 0, 1, "U+10000, smallest 4-byte"},
    {"\xf0\x9f\xa7\x8a", 0, 1, "emoji"},
    {"\xf4\x8f\xbf\xbf", 0, 1, "U+10FFFF, the largest"},
    {"\xc0\x80", 0, 0, "overlong NUL"},
    {"\xc0\xaf", 0, 0, "overlong /"},
    {"\xc1\xbf", 0, 0, "overlong 2-byte"},
    {"\xe0\x80\x80", 0, 0, "overlong 3-byte NUL"},
    {"\xe0\x80\xaf", 0, 0, "overlong 3-byte /"},
    {"\xe0\x9f\xbf", 0, 0, "overlong U+07FF in 3 bytes"},
    {"\xf0\x80\x80\x80", 0, 0, "overlong 4-byte NUL"},
    {"\xf0\x8f\xbf\xbf", 0, 0, "overlong U+FFFF in 4 bytes"},
    {"\xed\xa0\x80", 0, 0, "U+D800 high surrogate"},
    {"\xed\xad\xbf", 0, 0, "U+DB7F"},
    {"\xed\xb0\x80", 0, 0, "U+DC00 low surrogate"},
    {"\xed\xbf\xbf", 0, 0, "U+DFFF"},
    {"\xed\xa0\xbd\xed\xb8\x80", 0, 0, "CESU-8 surrogate pair"},
    {"\xf4\x90\x80\x80", 0, 0, "U+110000"},
    {"\xf5\x80\x80\x80", 0, 0, "F5 lead"},
    {"\xf8\x88\x80\x80\x80", 0, 0, "5-byte form"},
    {"\xfc\x84\x80\x80\x80\x80", 0, 0, "6-byte form"},
    {"\xfe", 0, 0, "FE"},
    {"\xff", 0, 0, "FF"},
    {"\x80", 0, 0, "lone continuation"},
    {"a\xbf", 0, 0, "continuation after ascii"},
    {"\xc3\xa3\xa3", 0, 0, "one continuation too many"},
    {"\xc3\x28", 0, 0, "C3 28"},
    {"\xe2\x28\xa1", 0, 0, "bad second byte"},
    {"\xe2\x82\x28", 0, 0, "bad third byte"},
    {"\xf0\x9f\xa7\x28", 0, 0, "bad fourth byte"},
    {"\xc3", 0, 0, "truncated 2-byte at the end"},
    {"ab\xe2\x82", 0, 0, "truncated 3-byte at the end"},
    {"ab\xf0\x9f\xa7", 0, 0, "truncated 4-byte at the end"},
    {"\xf0\x9f\xa7\x8a", 3, 0, "emoji cut by len"},
    {"\xe2\x82 ", 0, 0, "truncated then space"},
    {"a\0b", 3, 0, "NUL inside"},
    {"ab\0", 3, 0, "NUL at the end"},
    {"\0", 1, 0, "NUL alone"},
    {"\\u0000", 0, 0, "\\u0000 outside a string: 0000 is no JSON number"},
    {"\"\\u0000\"", 0, 0, "\\u0000 in a string"},
    {"\"x\\u0000", 0, 0, "\\u0000 at the very end"},
    {"\"\\u00000\"", 0, 0, "\\u0000 then 0"},
    {"\"\\\\u0000\"", 0, 1, "escaped backslash then u0000"},
    {"\"\\\\\\u0000\"", 0, 0, "three backslashes"},
    {"\"\\\\\\\\u0000\"", 0, 1, "four backslashes"},
    {"\"\\u0000", 6, 1, "\\u000 cut by len"},
    {"\\u000", 0, 0, "\\u000 outside a string: 000 is no JSON number"},
    {"\\u0001", 0, 0, "\\u0001 outside a string: 0001 is no JSON number"},
    {"\"\\u00001\"", 0, 0, "\\u0000 followed by 1"},
    {"\\U0000", 0, 0, "\\U0000 outside a string: 0000 is no JSON number"},
};

START_TEST(test_text_ok)
{
    const struct utf8_case *c = &utf8s[_i];
    size_t len = c->len ? c->len : strlen(c->s);

    ck_assert_msg(items_text_ok(exact(c->s, len), len) == c->ok, "%s: want %d", c->why, c->ok);
}
END_TEST

/* Every valid 2-byte sequence passes, every C0/C1 lead fails. */
START_TEST(test_text_ok_two_byte_sweep)
{
    unsigned lead, cont;
    char s[2];

    for (lead = 0xc0; lead <= 0xdf; lead++) {
        for (cont = 0x00; cont <= 0xff; cont++) {
            s[0] = (char)lead;
            s[1] = (char)cont;
            ck_assert_int_eq(items_text_ok(s, 2), lead >= 0xc2 && (cont & 0xc0) == 0x80);
        }
    }
}
END_TEST

static Suite *items_suite(void)
{
    Suite *s = suite_create("items");
    TCase *tc;

    tc = tcase_create("not_json");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_order_bad_text, 0, sizeof(bad_texts) / sizeof(bad_texts[0]));
    tcase_add_loop_test(tc, test_render_bad_text, 0, sizeof(bad_texts) / sizeof(bad_texts[0]));
    tcase_add_test(tc, test_order_deep_nesting);
    tcase_add_test(tc, test_render_deep_nesting);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse_order");
    tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_order_in_order);
    tcase_add_test(tc, test_order_as_written);
    tcase_add_test(tc, test_order_last_member_counts);
    tcase_add_test(tc, test_order_no_packages);
    tcase_add_test(tc, test_order_escaped_backslash);
    tcase_add_loop_test(tc, test_order_bad_shape, 0, sizeof(bad_orders) / sizeof(bad_orders[0]));
    tcase_add_test(tc, test_order_max_packages);
    tcase_add_test(tc, test_order_many_packages);
    tcase_add_test(tc, test_packages_free_twice);
    suite_add_tcase(s, tc);

    tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_render_table, 0, sizeof(renders) / sizeof(renders[0]));
    tcase_add_test(tc, test_render_appends);
    tcase_add_test(tc, test_render_cap);
    tcase_add_test(tc, test_render_many_items);
    suite_add_tcase(s, tc);

    tc = tcase_create("text_ok");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_text_ok, 0, sizeof(utf8s) / sizeof(utf8s[0]));
    tcase_add_test(tc, test_text_ok_two_byte_sweep);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    arena_install(); /* as the service does: cJSON on the arena */
    sr = srunner_create(items_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
