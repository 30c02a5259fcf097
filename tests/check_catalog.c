/* check_catalog: the catalog documents in, the enriched answer out. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "catalog.h"

#define FRAG(name, desc, gtin) \
    "{\"name\":\"" name "\",\"description\":\"" desc "\",\"gtin\":\"" gtin "\"}"
#define DIGITS20 "12345678901234567890"
#define DIGITS64 DIGITS20 DIGITS20 DIGITS20 "1234"

/* What a test holds, released by the teardown even when it fails. */
static char *body;
static struct jbuf out;

static void setup(void)
{
    body = NULL;
    jbuf_init(&out, 1 << 16);
}

static void teardown(void)
{
    free(body);
    body = NULL;
    jbuf_free(&out);
}

/* body := an exact-size heap copy of s with no NUL after it. */
static char *exact(const char *s, size_t len)
{
    free(body);
    body = malloc(len ? len : 1);
    memcpy(body, s, len);
    return body;
}

static int render_len(const char *json, size_t len, const char *code)
{
    return catalog_render(exact(json, len), len, code, &out);
}

static int render(const char *json, const char *code)
{
    return render_len(json, strlen(json), code);
}

static const char *out_str(void)
{
    ck_assert_int_eq(jbuf_cstr(&out), 0);
    return out.data ? out.data : "";
}

/* ---- documents the service takes --------------------------------------- */

struct render_case {
    const char *json;
    const char *code;
    const char *want;
    const char *why;
};

static const struct render_case renders[] = {
    {"{\"code\": \"190719400\", \"brand\": \"Indusat\", "
     "\"description\": \"Suporte para TV Fixo at\\u00e9 70\\u201d\", \"gtin\": \"8640801116115\"}",
     "190719400",
     FRAG("Suporte para TV Fixo at\xc3\xa9 70\xe2\x80\x9d",
          "Suporte para TV Fixo at\xc3\xa9 70\xe2\x80\x9d", "8640801116115"),
     "the sample: no name, so the description"},
    {"{\"code\":\"aad6k4fgdj\",\"name\":\"Cadeira\",\"description\":\"Cadeira gamer\","
     "\"gtin\":\"0001\"}",
     "aad6k4fgdj", FRAG("Cadeira", "Cadeira gamer", "0001"), "name and description"},
    {"{\"code\":\"A1\",\"name\":null,\"description\":\"d\",\"gtin\":\"1\"}", "A1",
     FRAG("d", "d", "1"), "null name: the description"},
    {"{\"code\":\"A1\",\"name\":\"n\",\"gtin\":\"1\"}", "A1", FRAG("n", "", "1"),
     "no description"},
    {"{\"code\":\"A1\",\"name\":\"n\",\"description\":null,\"gtin\":\"1\"}", "A1",
     FRAG("n", "", "1"), "null description"},
    {"{\"code\":\"A1\",\"gtin\":\"1\"}", "A1", FRAG("", "", "1"), "neither"},
    {"{\"code\":\"A1\",\"name\":\"\",\"description\":\"d\",\"gtin\":\"1\"}", "A1",
     FRAG("", "d", "1"), "an empty name is a name"},
    {"{\"code\":190719400,\"description\":\"d\",\"gtin\":\"1\"}", "190719400",
     FRAG("d", "d", "1"), "a number code, as written"},
    {"{\"code\":\"A1\",\"gtin\":8640801116115}", "A1", FRAG("", "", "8640801116115"),
     "a number gtin"},
    {"{\"code\":\"A1\",\"gtin\":" DIGITS20 "}", "A1", FRAG("", "", DIGITS20),
     "a 20-digit gtin, past a double"},
    {"{\"code\":\"A1\",\"gtin\":0}", "A1", FRAG("", "", "0"), "gtin 0"},
    {"{\"code\":\"A1\",\"gtin\":\"" DIGITS64 "\"}", "A1", FRAG("", "", DIGITS64),
     "a 64-digit gtin string"},
    {"{\"code\":\"A1\",\"gtin\":" DIGITS64 "}", "A1", FRAG("", "", DIGITS64),
     "a 64-digit gtin number"},
    {"{\"code\":\"A1\",\"gtin\" : 99 , \"x\":[1,{\"gtin\":2}]}", "A1", FRAG("", "", "99"),
     "white space around a number gtin, a nested gtin ignored"},
    {"{\"x\":\"\\\"gtin\\\":5,\",\"code\":\"A1\",\"gtin\":7}", "A1", FRAG("", "", "7"),
     "a gtin in a string before it"},
    {"{\"code\":\"A1\",\"gtin\":1,\"gtin\":\"22\"}", "A1", FRAG("", "", "22"),
     "duplicate gtin: the last"},
    {"{\"code\":\"A1\",\"gtin\":\"1\",\"gtin\":33}", "A1", FRAG("", "", "33"),
     "duplicate gtin: the last, a number"},
    {"{\"code\":\"zz\",\"code\":\"A1\",\"gtin\":\"1\"}", "A1", FRAG("", "", "1"),
     "duplicate code: the last"},
    {"{\"code\":\"A1\",\"name\":\"a\",\"name\":\"b\",\"gtin\":\"1\"}", "A1",
     FRAG("b", "", "1"), "duplicate name: the last"},
    {"{\"code\":\"A1\",\"\\u0067tin\":12}", "A1", FRAG("", "", "12"),
     "an escaped member name, a number"},
    {"\xef\xbb\xbf{\"code\":\"A1\",\"gtin\":5}", "A1", FRAG("", "", "5"),
     "a byte order mark"},
    {"{\"code\":\"A1\",\"name\":\"q\\\"b\\\\s\\/n\\nt\\tc\\u0001\",\"gtin\":\"1\"}", "A1",
     FRAG("q\\\"b\\\\s/n\\nt\\tc\\u0001", "", "1"), "escapes re-escaped"},
    {"{\"code\":\"A1\",\"name\":\"\\ud83d\\ude00 \xf0\x9f\x98\x80\",\"gtin\":\"1\"}", "A1",
     FRAG("\xf0\x9f\x98\x80 \xf0\x9f\x98\x80", "", "1"), "emoji, escaped and raw"},
    {"{\"code\":\"A1\",\"description\":\"\\u00e9\xc3\xa9\",\"gtin\":\"1\"}", "A1",
     FRAG("\xc3\xa9\xc3\xa9", "\xc3\xa9\xc3\xa9", "1"), "accents, escaped and raw"},
    {"{\"code\":\"A1\",\"gtin\":\"1\",\"brand\":{\"x\":[1,2.5e3,-1,null,true]}}", "A1",
     FRAG("", "", "1"), "other members of any type"},
};

START_TEST(test_render_table)
{
    const struct render_case *c = &renders[_i];

    ck_assert_msg(render(c->json, c->code) == 0, "refused: %s", c->why);
    ck_assert_msg(strcmp(out_str(), c->want) == 0, "%s: %s", c->why, out_str());
}
END_TEST

/* ---- documents the service refuses (502) ------------------------------- */

struct bad_case {
    const char *json;
    size_t len; /* 0: strlen */
    const char *why;
};

#define WITH_LEN(lit) lit, sizeof(lit) - 1

static const struct bad_case bads[] = {
    {"", 0, "empty"},
    {"<html>502</html>", 0, "HTML"},
    {"{\"code\":\"A1\",\"gtin\":\"1\"", 0, "truncated"},
    {"{\"code\":\"A1\",\"gtin\":\"1\"} x", 0, "trailing garbage"},
    {"{\"code\":\"A1\",\"gtin\":\"1\",\"d\":\"\xff\"}", 0, "invalid UTF-8"},
    {WITH_LEN("{\"code\":\"A1\",\"gtin\":\"1\",\"d\":\"a\0\"}"), "raw NUL"},
    {"{\"code\":\"A1\",\"gtin\":\"1\",\"name\":\"a\\u0000\"}", 0, "\\u0000 escape"},
    {"{\"code\":\"A1\",\"gtin\":01}", 0, "leading zero"},
    {"[{\"code\":\"A1\",\"gtin\":\"1\"}]", 0, "an array"},
    {"\"A1\"", 0, "a string"},
    {"null", 0, "null"},
    {"{\"gtin\":\"1\"}", 0, "no code"},
    {"{\"code\":null,\"gtin\":\"1\"}", 0, "null code"},
    {"{\"code\":\"B2\",\"gtin\":\"1\"}", 0, "another code"},
    {"{\"code\":\"a1\",\"gtin\":\"1\"}", 0, "another case"},
    {"{\"code\":\"A1 \",\"gtin\":\"1\"}", 0, "code with a space"},
    {"{\"code\":\"A1\",\"code\":\"B2\",\"gtin\":\"1\"}", 0, "last code another"},
    {"{\"code\":[\"A1\"],\"gtin\":\"1\"}", 0, "code an array"},
    {"{\"code\":\"A1\"}", 0, "no gtin"},
    {"{\"code\":\"A1\",\"gtin\":null}", 0, "null gtin"},
    {"{\"code\":\"A1\",\"gtin\":\"\"}", 0, "empty gtin"},
    {"{\"code\":\"A1\",\"gtin\":\"12a\"}", 0, "gtin with a letter"},
    {"{\"code\":\"A1\",\"gtin\":\" 12\"}", 0, "gtin with a space"},
    {"{\"code\":\"A1\",\"gtin\":\"-12\"}", 0, "gtin string negative"},
    {"{\"code\":\"A1\",\"gtin\":\"\xd9\xa1\"}", 0, "gtin in Arabic-Indic digits"},
    {"{\"code\":\"A1\",\"gtin\":\"" DIGITS64 "5\"}", 0, "65-digit gtin string"},
    {"{\"code\":\"A1\",\"gtin\":" DIGITS64 "5}", 0, "65-digit gtin number"},
    {"{\"code\":\"A1\",\"gtin\":-12}", 0, "negative gtin"},
    {"{\"code\":\"A1\",\"gtin\":-0}", 0, "gtin -0"},
    {"{\"code\":\"A1\",\"gtin\":12.0}", 0, "gtin with a fraction"},
    {"{\"code\":\"A1\",\"gtin\":1e3}", 0, "gtin with an exponent"},
    {"{\"code\":\"A1\",\"gtin\":true}", 0, "gtin a boolean"},
    {"{\"code\":\"A1\",\"gtin\":[\"1\"]}", 0, "gtin an array"},
    {"{\"code\":\"A1\",\"gtin\":\"1\",\"gtin\":null}", 0, "last gtin null"},
    {"{\"code\":\"A1\",\"gtin\":\"1\",\"description\":5}", 0, "description a number"},
    {"{\"code\":\"A1\",\"gtin\":\"1\",\"description\":{}}", 0, "description an object"},
    {"{\"code\":\"A1\",\"gtin\":\"1\",\"name\":false}", 0, "name a boolean"},
    {"{\"code\":\"A1\",\"gtin\":\"1\",\"name\":[\"n\"]}", 0, "name an array"},
    {"{\"code\":1.9e8,\"gtin\":\"1\"}", 0, "code 1.9e8 for 190000000"},
};

START_TEST(test_render_bad)
{
    const struct bad_case *c = &bads[_i];
    size_t len = c->len ? c->len : strlen(c->json);
    const char *code = strcmp(c->why, "code 1.9e8 for 190000000") == 0 ? "190000000" : "A1";

    ck_assert_int_eq(jbuf_puts(&out, "kept"), 0);
    ck_assert_msg(render_len(c->json, len, code) == -1, "accepted: %s", c->why);
    ck_assert_str_eq(out_str(), "kept"); /* nothing of it left */
}
END_TEST

/* Past cJSON's nesting cap: refused; a number code whose digits differ
 * as written but not as a double (1.0 for 1, 0x for nothing). */
START_TEST(test_render_deep_and_numbers)
{
    size_t n = 5000, i;
    char *s = malloc(64 + 2 * n), *p = s;

    p += sprintf(p, "{\"code\":\"A1\",\"gtin\":\"1\",\"x\":");
    for (i = 0; i < n; i++)
        *p++ = '[';
    for (i = 0; i < n; i++)
        *p++ = ']';
    strcpy(p, "}");
    ck_assert_int_eq(render(s, "A1"), -1);
    free(s);
    ck_assert_int_eq(render("{\"code\":1.0,\"gtin\":\"1\"}", "1"), -1);
    ck_assert_int_eq(render("{\"code\":1,\"gtin\":\"1\"}", "01"), -1);
    ck_assert_int_eq(render("{\"code\":10,\"gtin\":\"1\"}", "1"), -1);
    ck_assert_int_eq(render("{\"code\":1,\"gtin\":\"1\"}", "10"), -1);
    ck_assert_int_eq(render("{\"code\":-1,\"gtin\":\"1\"}", "1"), -1);
    ck_assert_int_eq(render("{\"code\":" DIGITS20 ",\"gtin\":\"1\"}", DIGITS20), 0);
    ck_assert_int_eq(render("{\"code\":12345678901234567891,\"gtin\":\"1\"}", DIGITS20), -1);
}
END_TEST

/* The fragment is appended; the cap is exact, and a fragment that does
 * not fit leaves out as it was. */
START_TEST(test_render_cap)
{
    static const char doc[] = "{\"code\":\"A1\",\"name\":\"abc\",\"gtin\":123}";
    static const char want[] = FRAG("abc", "", "123");

    ck_assert_int_eq(jbuf_puts(&out, "x,"), 0);
    ck_assert_int_eq(render(doc, "A1"), 0);
    ck_assert_str_eq(out_str(), "x," FRAG("abc", "", "123"));
    jbuf_free(&out);
    jbuf_init(&out, sizeof(want) - 1);
    ck_assert_int_eq(render(doc, "A1"), 0);
    ck_assert_str_eq(out_str(), want);
    jbuf_free(&out);
    jbuf_init(&out, sizeof(want) - 2);
    ck_assert_int_eq(render(doc, "A1"), -1);
    ck_assert_uint_eq(out.len, 0);
}
END_TEST

/* A long description: all of it, and the cap still holds. */
START_TEST(test_render_long_text)
{
    size_t n = 20000;
    char *s = malloc(n + 64);
    int k = sprintf(s, "{\"code\":\"A1\",\"gtin\":1,\"description\":\"");

    memset(s + k, 'd', n);
    strcpy(s + k + n, "\"}");
    ck_assert_int_eq(render(s, "A1"), 0);
    ck_assert_uint_eq(out.len, strlen(FRAG("", "", "1")) + 2 * n);
    jbuf_free(&out);
    jbuf_init(&out, 2 * n);
    ck_assert_int_eq(render(s, "A1"), -1);
    free(s);
}
END_TEST

/* ---- the answer --------------------------------------------------------- */

static struct codes cs;
static struct jbuf frags[4];

static void answer_setup(void)
{
    static const char *const codes[] = {"190719400", "aad6k4fgdj", "Z9", "q"};
    size_t i;

    setup();
    cs.code = calloc(4, sizeof(*cs.code));
    cs.count = 4;
    for (i = 0; i < 4; i++) {
        strcpy(cs.code[i], codes[i]);
        jbuf_init(&frags[i], 1 << 12);
    }
}

static void answer_teardown(void)
{
    size_t i;

    for (i = 0; i < 4; i++)
        jbuf_free(&frags[i]);
    codes_free(&cs);
    teardown();
}

START_TEST(test_answer_mixed)
{
    ck_assert_int_eq(jbuf_puts(&frags[0], FRAG("n", "d", "1")), 0);
    ck_assert_int_eq(jbuf_puts(&frags[2], FRAG("n2", "d2", "2")), 0);
    ck_assert_int_eq(catalog_answer(&cs, frags, &out), 0);
    ck_assert_str_eq(out_str(), "{\"items\":{\"190719400\":" FRAG("n", "d", "1")
                                ",\"Z9\":" FRAG("n2", "d2", "2")
                                "},\"missing\":[\"aad6k4fgdj\",\"q\"]}");
}
END_TEST

START_TEST(test_answer_all_found)
{
    size_t i;

    for (i = 0; i < 4; i++)
        ck_assert_int_eq(jbuf_puts(&frags[i], "{}"), 0);
    ck_assert_int_eq(catalog_answer(&cs, frags, &out), 0);
    ck_assert_str_eq(out_str(), "{\"items\":{\"190719400\":{},\"aad6k4fgdj\":{},\"Z9\":{},"
                                "\"q\":{}},\"missing\":[]}");
}
END_TEST

START_TEST(test_answer_all_missing)
{
    ck_assert_int_eq(catalog_answer(&cs, frags, &out), 0);
    ck_assert_str_eq(out_str(), "{\"items\":{},\"missing\":[\"190719400\",\"aad6k4fgdj\","
                                "\"Z9\",\"q\"]}");
}
END_TEST

START_TEST(test_answer_none)
{
    struct codes none = {NULL, 0};

    ck_assert_int_eq(catalog_answer(&none, NULL, &out), 0);
    ck_assert_str_eq(out_str(), "{\"items\":{},\"missing\":[]}");
}
END_TEST

/* catalog_render's fragments straight into the answer. */
START_TEST(test_answer_from_render)
{
    static const char doc[] = "{\"code\":\"Z9\",\"name\":\"TV \\u201c4K\\u201d\",\"gtin\":7}";

    ck_assert_int_eq(catalog_render(doc, strlen(doc), "Z9", &frags[2]), 0);
    ck_assert_int_eq(catalog_answer(&cs, frags, &out), 0);
    ck_assert_str_eq(out_str(), "{\"items\":{\"Z9\":"
                                FRAG("TV \xe2\x80\x9c" "4K\xe2\x80\x9d", "", "7")
                                "},\"missing\":[\"190719400\",\"aad6k4fgdj\",\"q\"]}");
}
END_TEST

START_TEST(test_answer_cap)
{
    static const char want[] = "{\"items\":{\"190719400\":{}},\"missing\":[\"aad6k4fgdj\","
                               "\"Z9\",\"q\"]}";

    ck_assert_int_eq(jbuf_puts(&frags[0], "{}"), 0);
    jbuf_free(&out);
    jbuf_init(&out, sizeof(want) - 1);
    ck_assert_int_eq(catalog_answer(&cs, frags, &out), 0);
    ck_assert_str_eq(out_str(), want);
    jbuf_free(&out);
    jbuf_init(&out, sizeof(want) - 2);
    ck_assert_int_eq(catalog_answer(&cs, frags, &out), -1);
    ck_assert_uint_le(out.len, out.cap);
}
END_TEST

static Suite *catalog_suite(void)
{
    Suite *s = suite_create("catalog");
    TCase *tc;

    tc = tcase_create("render");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_render_table, 0, sizeof(renders) / sizeof(renders[0]));
    tcase_add_test(tc, test_render_cap);
    tcase_add_test(tc, test_render_long_text);
    suite_add_tcase(s, tc);

    tc = tcase_create("refuse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_render_bad, 0, sizeof(bads) / sizeof(bads[0]));
    tcase_add_test(tc, test_render_deep_and_numbers);
    suite_add_tcase(s, tc);

    tc = tcase_create("answer");
    tcase_add_checked_fixture(tc, answer_setup, answer_teardown);
    tcase_add_test(tc, test_answer_mixed);
    tcase_add_test(tc, test_answer_all_found);
    tcase_add_test(tc, test_answer_all_missing);
    tcase_add_test(tc, test_answer_none);
    tcase_add_test(tc, test_answer_from_render);
    tcase_add_test(tc, test_answer_cap);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    arena_install(); /* as the service does: cJSON on the arena */
    sr = srunner_create(catalog_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
