/* check_jsonx: the strict JSON helpers (their text checks are also run
 * through items_text_ok in check_items). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "jsonx.h"

static cJSON *doc;

static void setup(void)
{
    doc = NULL;
}

static void teardown(void)
{
    cJSON_Delete(doc);
    doc = NULL;
}

/* The text jsonx_raw finds for the last member `name` of s. */
struct raw_case {
    const char *s;
    const char *name;
    const char *want;
};

static const struct raw_case raws[] = {
    {"{\"a\":1}", "a", "1"},
    {"{\"a\":12345678901234567890123}", "a", "12345678901234567890123"},
    {"{ \"a\" :\t-1.50e+3 \n}", "a", "-1.50e+3"},
    {"{\"x\":\"a\\\":2,\",\"a\":3}", "a", "3"},
    {"{\"x\":[{\"a\":9},[\"]\"]],\"a\":4}", "a", "4"},
    {"{\"a\":1,\"a\":2}", "a", "2"},
    {"{\"\\u0061\":5}", "a", "5"},
    {"{\"a\":\"s\\u00e9\\\"\"}", "a", "\"s\\u00e9\\\"\""},
    {"{\"a\":{\"b\":[1,2]}}", "a", "{\"b\":[1,2]}"},
    {"{\"a\":true,\"b\":null}", "b", "null"},
    {"\xef\xbb\xbf {\"a\":7}", "a", "7"},
};

START_TEST(test_raw)
{
    const struct raw_case *c = &raws[_i];
    const char *p;
    size_t n;

    doc = jsonx_parse(c->s, strlen(c->s));
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(jsonx_raw(c->s, strlen(c->s), doc, jsonx_member(doc, c->name), &p, &n), 0);
    ck_assert_uint_eq(n, strlen(c->want));
    ck_assert(memcmp(p, c->want, n) == 0);
}
END_TEST

/* A member of another object, of a nested one, none, or no object. */
START_TEST(test_raw_refused)
{
    static const char s[] = "{\"a\":{\"b\":1}}";
    const char *p;
    size_t n;
    cJSON *other;

    doc = jsonx_parse(s, strlen(s));
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(jsonx_raw(s, strlen(s), doc, jsonx_member(jsonx_member(doc, "a"), "b"),
                               &p, &n), -1);
    ck_assert_int_eq(jsonx_raw(s, strlen(s), doc, NULL, &p, &n), -1);
    other = jsonx_parse("[1]", 3);
    ck_assert_int_eq(jsonx_raw("[1]", 3, other, other->child, &p, &n), -1);
    cJSON_Delete(other);
}
END_TEST

START_TEST(test_member_last)
{
    doc = jsonx_parse("{\"a\":1,\"b\":2,\"a\":3}", 19);
    ck_assert_ptr_nonnull(doc);
    ck_assert_int_eq(jsonx_member(doc, "a")->valueint, 3);
    ck_assert_int_eq(jsonx_member(doc, "b")->valueint, 2);
    ck_assert_ptr_null(jsonx_member(doc, "A"));
    ck_assert_ptr_null(jsonx_member(doc->child, "a"));
    ck_assert_ptr_null(jsonx_member(NULL, "a"));
}
END_TEST

START_TEST(test_parse_one_value)
{
    ck_assert_ptr_null(jsonx_parse("", 0));
    ck_assert_ptr_null(jsonx_parse("{} {}", 5));
    ck_assert_ptr_null(jsonx_parse("[01]", 4));
    ck_assert_ptr_null(jsonx_parse("[\"\\u0000\"]", 10));
    doc = jsonx_parse("\t[1] \r\n", 7);
    ck_assert_ptr_nonnull(doc);
    /* len, not the NUL, ends the text */
    cJSON_Delete(doc);
    doc = jsonx_parse("[1]xyz", 3);
    ck_assert_ptr_nonnull(doc);
    ck_assert(jsonx_text_ok("[1]", 3));
    ck_assert(!jsonx_text_ok("[1.]", 4));
}
END_TEST

static Suite *jsonx_suite(void)
{
    Suite *s = suite_create("jsonx");
    TCase *tc;

    tc = tcase_create("raw");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_raw, 0, sizeof(raws) / sizeof(raws[0]));
    tcase_add_test(tc, test_raw_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_member_last);
    tcase_add_test(tc, test_parse_one_value);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jsonx_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
