/* check_jbuf: the capped buffer and its JSON string writer. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"

static struct jbuf b;

static void teardown(void)
{
    jbuf_free(&b);
}

/* ---- put and grow --------------------------------------------------- */

START_TEST(test_init_empty)
{
    jbuf_init(&b, 100);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.alloc, 0);
    ck_assert_uint_eq(b.cap, 100);
    ck_assert_int_eq(jbuf_put(&b, "", 0), 0);
    ck_assert_int_eq(jbuf_puts(&b, ""), 0);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_put_pieces)
{
    jbuf_init(&b, 100);
    ck_assert_int_eq(jbuf_put(&b, "ab", 2), 0);
    ck_assert_int_eq(jbuf_putc(&b, 'c'), 0);
    ck_assert_int_eq(jbuf_puts(&b, "def"), 0);
    ck_assert_int_eq(jbuf_put(&b, "g\0h", 3), 0);
    ck_assert_uint_eq(b.len, 9);
    ck_assert_mem_eq(b.data, "abcdefg\0h", 9);
}
END_TEST

START_TEST(test_grow_large)
{
    size_t i, n = 100000;
    char c;

    jbuf_init(&b, n);
    for (i = 0; i < n; i++) {
        c = (char)('a' + i % 26);
        ck_assert_int_eq(jbuf_putc(&b, c), 0);
    }
    ck_assert_uint_eq(b.len, n);
    ck_assert_uint_ge(b.alloc, n);
    ck_assert_uint_le(b.alloc, n + 1); /* never allocates past cap + NUL */
    for (i = 0; i < n; i++)
        ck_assert_int_eq(b.data[i], 'a' + (int)(i % 26));
    ck_assert_int_eq(jbuf_putc(&b, 'x'), -1);
    ck_assert_uint_eq(b.len, n);
}
END_TEST

START_TEST(test_grow_one_big_put)
{
    size_t n = 70000;
    char *src = malloc(n);

    memset(src, 'z', n);
    jbuf_init(&b, 1 << 20);
    ck_assert_int_eq(jbuf_put(&b, "a", 1), 0);
    ck_assert_int_eq(jbuf_put(&b, src, n), 0);
    ck_assert_uint_eq(b.len, n + 1);
    ck_assert_int_eq(b.data[0], 'a');
    ck_assert_int_eq(b.data[n], 'z');
    free(src);
}
END_TEST

/* ---- the cap, exactly ---------------------------------------------- */

/* _i: cap to try; cap bytes fit, one more does not. */
static const size_t caps[] = {0, 1, 2, 255, 256, 257, 511, 512, 1000, 4096};

START_TEST(test_cap_exact_single_put)
{
    size_t cap = caps[_i];
    char *src = malloc(cap + 1);

    memset(src, 'q', cap + 1);
    jbuf_init(&b, cap);
    ck_assert_int_eq(jbuf_put(&b, src, cap + 1), -1);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(jbuf_put(&b, src, cap), 0);
    ck_assert_uint_eq(b.len, cap);
    ck_assert_int_eq(jbuf_putc(&b, 'x'), -1);
    ck_assert_uint_eq(b.len, cap);
    if (cap)
        ck_assert_int_eq(b.data[cap - 1], 'q');
    ck_assert_int_eq(jbuf_cstr(&b), 0); /* the NUL is not counted */
    ck_assert_uint_eq(b.len, cap);
    ck_assert_int_eq(b.data[cap], '\0');
    free(src);
}
END_TEST

START_TEST(test_cap_exact_bytewise)
{
    size_t cap = caps[_i], i;

    jbuf_init(&b, cap);
    for (i = 0; i < cap; i++)
        ck_assert_int_eq(jbuf_putc(&b, (char)('0' + i % 10)), 0);
    ck_assert_int_eq(jbuf_putc(&b, 'x'), -1);
    ck_assert_int_eq(jbuf_puts(&b, "xy"), -1);
    ck_assert_uint_eq(b.len, cap);
    for (i = 0; i < cap; i++)
        ck_assert_int_eq(b.data[i], '0' + (int)(i % 10));
}
END_TEST

START_TEST(test_cap_failed_put_leaves_buffer)
{
    char before[8];

    jbuf_init(&b, 8);
    ck_assert_int_eq(jbuf_puts(&b, "abcde"), 0);
    memcpy(before, b.data, 5);
    ck_assert_int_eq(jbuf_puts(&b, "fghi"), -1);
    ck_assert_uint_eq(b.len, 5);
    ck_assert_mem_eq(b.data, before, 5);
    ck_assert_int_eq(jbuf_puts(&b, "fgh"), 0);
    ck_assert_uint_eq(b.len, 8);
    ck_assert_mem_eq(b.data, "abcdefgh", 8);
}
END_TEST

START_TEST(test_cap_huge_n)
{
    jbuf_init(&b, 16);
    ck_assert_int_eq(jbuf_puts(&b, "abc"), 0);
    ck_assert_int_eq(jbuf_put(&b, "x", (size_t)-1), -1);
    ck_assert_int_eq(jbuf_put(&b, "x", (size_t)-1 - 2), -1);
    ck_assert_uint_eq(b.len, 3);
}
END_TEST

START_TEST(test_json_str_over_cap)
{
    jbuf_init(&b, 5);
    ck_assert_int_eq(jbuf_put_json_str(&b, "abc", 3), 0); /* "abc" is 5 */
    ck_assert_uint_eq(b.len, 5);
    jbuf_free(&b);
    jbuf_init(&b, 5);
    ck_assert_int_eq(jbuf_put_json_str(&b, "abcd", 4), -1);
    ck_assert_uint_le(b.len, 5);
    jbuf_free(&b);
    jbuf_init(&b, 5);
    ck_assert_int_eq(jbuf_put_json_str(&b, "ab\n", 3), -1); /* "ab\n" is 6 */
    ck_assert_uint_le(b.len, 5);
}
END_TEST

/* ---- jbuf_put_json_str ----------------------------------------------- */

/* The escape expected for control byte c. */
static const char *control_escape(int c, char tmp[8])
{
    switch (c) {
    case '\b': return "\\b";
    case '\t': return "\\t";
    case '\n': return "\\n";
    case '\f': return "\\f";
    case '\r': return "\\r";
    default:
        snprintf(tmp, 8, "\\u%04x", c);
        return tmp;
    }
}

START_TEST(test_json_control_char)
{
    char in[3] = {'a', (char)_i, 'z'}, tmp[8], want[16];

    snprintf(want, sizeof(want), "\"a%sz\"", control_escape(_i, tmp));
    jbuf_init(&b, 64);
    ck_assert_int_eq(jbuf_put_json_str(&b, in, 3), 0);
    ck_assert_int_eq(jbuf_cstr(&b), 0);
    ck_assert_str_eq(b.data, want);
}
END_TEST

struct esc_case {
    const char *in;
    size_t len;
    const char *want;
};

static const struct esc_case escs[] = {
    {"", 0, "\"\""},
    {"plain", 5, "\"plain\""},
    {"\"", 1, "\"\\\"\""},
    {"\\", 1, "\"\\\\\""},
    {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
    {"/", 1, "\"/\""},                            /* no need to escape / */
    {"\x7f", 1, "\"\x7f\""},                      /* DEL passes */
    {"\x1f\x20", 2, "\"\\u001f \""},
    {"\\u0000", 6, "\"\\\\u0000\""},
    {"\xc3\xa3o", 3, "\"\xc3\xa3o\""},            /* UTF-8 untouched */
    {"\xf0\x9f\xa7\x8a", 4, "\"\xf0\x9f\xa7\x8a\""},
    {"\xe2\x80\xa8", 3, "\"\xe2\x80\xa8\""},      /* U+2028 too */
    {"{w}x{h}", 7, "\"{w}x{h}\""},
    {"\n\n", 2, "\"\\n\\n\""},
    {"\0", 1, "\"\\u0000\""},
    {"ab\0cd", 5, "\"ab\\u0000cd\""},
};

START_TEST(test_json_escapes)
{
    const struct esc_case *c = &escs[_i];

    jbuf_init(&b, 64);
    ck_assert_int_eq(jbuf_put_json_str(&b, c->in, c->len), 0);
    ck_assert_uint_eq(b.len, strlen(c->want));
    ck_assert_mem_eq(b.data, c->want, b.len);
}
END_TEST

/* Every byte from 0x20 to 0xff except " and \ goes out as it is. */
START_TEST(test_json_passthrough_all)
{
    char in[256];
    size_t n = 0;
    int c;

    for (c = 0x20; c <= 0xff; c++)
        if (c != '"' && c != '\\')
            in[n++] = (char)c;
    jbuf_init(&b, 1024);
    ck_assert_int_eq(jbuf_put_json_str(&b, in, n), 0);
    ck_assert_uint_eq(b.len, n + 2);
    ck_assert_int_eq(b.data[0], '"');
    ck_assert_mem_eq(b.data + 1, in, n);
    ck_assert_int_eq(b.data[n + 1], '"');
}
END_TEST

START_TEST(test_json_appends)
{
    jbuf_init(&b, 64);
    ck_assert_int_eq(jbuf_puts(&b, "{\"k\":"), 0);
    ck_assert_int_eq(jbuf_put_json_str(&b, "v\tw", 3), 0);
    ck_assert_int_eq(jbuf_putc(&b, '}'), 0);
    ck_assert_int_eq(jbuf_cstr(&b), 0);
    ck_assert_str_eq(b.data, "{\"k\":\"v\\tw\"}");
}
END_TEST

/* ---- jbuf_cstr, jbuf_take, jbuf_free --------------------------------- */

START_TEST(test_cstr_empty)
{
    jbuf_init(&b, 0);
    ck_assert_int_eq(jbuf_cstr(&b), 0);
    ck_assert_ptr_nonnull(b.data);
    ck_assert_str_eq(b.data, "");
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

START_TEST(test_cstr_keeps_len)
{
    jbuf_init(&b, 10);
    ck_assert_int_eq(jbuf_puts(&b, "abc"), 0);
    ck_assert_int_eq(jbuf_cstr(&b), 0);
    ck_assert_uint_eq(b.len, 3);
    ck_assert_str_eq(b.data, "abc");
    ck_assert_int_eq(jbuf_puts(&b, "de"), 0); /* overwrites the NUL */
    ck_assert_int_eq(jbuf_cstr(&b), 0);
    ck_assert_str_eq(b.data, "abcde");
}
END_TEST

START_TEST(test_take)
{
    size_t len = 99;
    char *p;

    jbuf_init(&b, 10);
    ck_assert_int_eq(jbuf_puts(&b, "hello"), 0);
    ck_assert_int_eq(jbuf_cstr(&b), 0);
    p = jbuf_take(&b, &len);
    ck_assert_uint_eq(len, 5);
    ck_assert_str_eq(p, "hello");
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.alloc, 0);
    ck_assert_uint_eq(b.cap, 10);
    /* the buffer is usable again, with its cap */
    ck_assert_int_eq(jbuf_puts(&b, "0123456789"), 0);
    ck_assert_int_eq(jbuf_putc(&b, 'x'), -1);
    free(p);
}
END_TEST

START_TEST(test_take_empty_and_null_len)
{
    size_t len = 99;
    char *p;

    jbuf_init(&b, 10);
    p = jbuf_take(&b, &len);
    ck_assert_uint_eq(len, 0);
    free(p);
    ck_assert_int_eq(jbuf_puts(&b, "x"), 0);
    p = jbuf_take(&b, NULL);
    ck_assert_int_eq(p[0], 'x');
    free(p);
}
END_TEST

START_TEST(test_free_twice)
{
    jbuf_init(&b, 10);
    ck_assert_int_eq(jbuf_puts(&b, "x"), 0);
    jbuf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_eq(b.cap, 10);
    jbuf_free(&b);
}
END_TEST

/* --max-memory: all jbufs together never pass the budget; what is
 * freed or taken is room again. */
START_TEST(test_budget)
{
    struct jbuf a, b;
    char chunk[4096];
    size_t base = jbuf_held(), i;
    char *t;

    memset(chunk, 'x', sizeof(chunk));
    jbuf_set_budget(base + 100000);
    jbuf_init(&a, 1 << 20);
    jbuf_init(&b, 1 << 20);
    for (i = 0; jbuf_put(&a, chunk, sizeof(chunk)) == 0; i++)
        ck_assert_uint_le(jbuf_held(), base + 100000);
    ck_assert_uint_ge(a.len, 32768);          /* grew while there was room */
    ck_assert_uint_lt(a.len, 100000);
    ck_assert_int_eq(jbuf_put(&b, chunk, 65536 - 100), -1); /* another buffer: no room either */
    ck_assert_uint_eq(b.len, 0);
    ck_assert_uint_le(jbuf_room(), 100000 - 32768);
    jbuf_free(&a);
    ck_assert_uint_eq(jbuf_held(), base + b.alloc);
    ck_assert_int_eq(jbuf_put(&a, chunk, sizeof(chunk)), 0); /* room again */
    t = jbuf_take(&a, NULL);
    free(t);
    ck_assert_uint_eq(jbuf_held(), base + b.alloc);
    jbuf_free(&b);
    ck_assert_uint_eq(jbuf_held(), base);
    jbuf_set_budget(0);
    ck_assert_uint_eq(jbuf_room(), SIZE_MAX);
}
END_TEST

static Suite *jbuf_suite(void)
{
    Suite *s = suite_create("jbuf");
    TCase *tc;

    tc = tcase_create("put_grow");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_init_empty);
    tcase_add_test(tc, test_put_pieces);
    tcase_add_test(tc, test_grow_large);
    tcase_add_test(tc, test_grow_one_big_put);
    suite_add_tcase(s, tc);

    tc = tcase_create("cap");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_loop_test(tc, test_cap_exact_single_put, 0, sizeof(caps) / sizeof(caps[0]));
    tcase_add_loop_test(tc, test_cap_exact_bytewise, 0, sizeof(caps) / sizeof(caps[0]));
    tcase_add_test(tc, test_cap_failed_put_leaves_buffer);
    tcase_add_test(tc, test_cap_huge_n);
    tcase_add_test(tc, test_json_str_over_cap);
    suite_add_tcase(s, tc);

    tc = tcase_create("json_str");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_loop_test(tc, test_json_control_char, 0, 0x20);
    tcase_add_loop_test(tc, test_json_escapes, 0, sizeof(escs) / sizeof(escs[0]));
    tcase_add_test(tc, test_json_passthrough_all);
    tcase_add_test(tc, test_json_appends);
    suite_add_tcase(s, tc);

    tc = tcase_create("cstr_take");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_cstr_empty);
    tcase_add_test(tc, test_cstr_keeps_len);
    tcase_add_test(tc, test_take);
    tcase_add_test(tc, test_take_empty_and_null_len);
    tcase_add_test(tc, test_free_twice);
    tcase_add_test(tc, test_budget);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(jbuf_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
