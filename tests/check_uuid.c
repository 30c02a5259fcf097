/* check_uuid: uuid_normalize accepts the forms of SPEC.md, nothing else. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "uuid.h"

#define CANON "0123abcd-ef45-6789-abcd-ef0123456789"

struct accept_case {
    const char *in;
};

static const struct accept_case accepted[] = {
    {"0123abcd-ef45-6789-abcd-ef0123456789"},
    {"0123ABCD-EF45-6789-ABCD-EF0123456789"},
    {"0123AbCd-eF45-6789-aBcD-Ef0123456789"},
    {"0123abcdef456789abcdef0123456789"},
    {"0123ABCDEF456789ABCDEF0123456789"},
    {"{0123abcd-ef45-6789-abcd-ef0123456789}"},
    {"{0123abcdef456789abcdef0123456789}"},
    {"{0123ABCD-EF45-6789-ABCD-EF0123456789}"},
    {"urn:uuid:0123abcd-ef45-6789-abcd-ef0123456789"},
    {"urn:uuid:0123abcdef456789abcdef0123456789"},
    {"URN:UUID:0123abcd-ef45-6789-abcd-ef0123456789"},
    {"Urn:Uuid:0123ABCDEF456789ABCDEF0123456789"},
    {"urn:uuid:{0123abcd-ef45-6789-abcd-ef0123456789}"},
    {"uRn:UuId:{0123abcdef456789abcdef0123456789}"},
};

START_TEST(test_accepts)
{
    const char *in = accepted[_i].in;
    char out[UUID_STR_LEN];

    memset(out, 'X', sizeof(out));
    ck_assert_msg(uuid_normalize(in, strlen(in), out) == 0, "rejected '%s'", in);
    ck_assert_str_eq(out, CANON);
}
END_TEST

/* The input need not be NUL-terminated: only len bytes are read. */
START_TEST(test_not_terminated)
{
    static const char in[] = "0123abcd-ef45-6789-abcd-ef0123456789TRAILING";
    char *copy = malloc(36), out[UUID_STR_LEN];

    memcpy(copy, in, 36);
    ck_assert_int_eq(uuid_normalize(copy, 36, out), 0);
    ck_assert_str_eq(out, CANON);
    free(copy);
}
END_TEST

struct reject_case {
    const char *in;
    size_t len; /* 0: strlen(in) */
    const char *why;
};

static const struct reject_case rejected[] = {
    {"", 0, "empty"},
    {"urn:uuid:", 0, "prefix alone"},
    {"{}", 0, "braces alone"},
    {"0123abcd-ef45-6789-abcd-ef012345678", 0, "35 chars"},
    {"0123abcd-ef45-6789-abcd-ef01234567890", 0, "37 chars"},
    {"0123abcdef456789abcdef012345678", 0, "31 digits"},
    {"0123abcdef456789abcdef01234567890", 0, "33 digits"},
    {"0123abc-def45-6789-abcd-ef0123456789", 0, "first hyphen early"},
    {"0123abcde-f45-6789-abcd-ef0123456789", 0, "first hyphen late"},
    {"0123abcd-ef456-789-abcd-ef0123456789", 0, "second hyphen moved"},
    {"0123abcd-ef45-6789a-bcd-ef0123456789", 0, "third hyphen moved"},
    {"0123abcd-ef45-6789-abcde-f0123456789", 0, "fourth hyphen moved"},
    {"0123abcdef45-6789-abcd-ef0123456789-", 0, "hyphen at end"},
    {"0123abcd-ef45-6789-abcd-ef01-3456789", 0, "extra hyphen"},
    {"0123abcd--ef45-6789-abcd-ef012345678", 0, "double hyphen"},
    {"0123-abcd-ef45-6789-abcd-ef0123456789", 0, "extra hyphen, 37 long"},
    {"0123abcd-ef456789abcdef0123456789", 0, "one hyphen only"},
    {"0123abcg-ef45-6789-abcd-ef0123456789", 0, "non-hex g"},
    {"0123abcdef456789abcdef012345678z", 0, "non-hex z"},
    {"0123abcd-ef45-6789-abcd-ef012345678 ", 0, "trailing space"},
    {" 0123abcd-ef45-6789-abcd-ef012345678", 0, "leading space"},
    {"0123abcd ef45 6789 abcd ef0123456789", 0, "spaces for hyphens"},
    {" 0123abcd-ef45-6789-abcd-ef0123456789", 0, "leading space, 37"},
    {"0123abcd-ef45-6789-abcd-ef0123456789 ", 0, "trailing space, 37"},
    {"{0123abcd-ef45-6789-abcd-ef0123456789", 0, "open brace only"},
    {"0123abcd-ef45-6789-abcd-ef0123456789}", 0, "close brace only"},
    {"{{0123abcd-ef45-6789-abcd-ef0123456789}}", 0, "double braces"},
    {"}0123abcd-ef45-6789-abcd-ef0123456789{", 0, "reversed braces"},
    {"{urn:uuid:0123abcd-ef45-6789-abcd-ef0123456789}", 0, "prefix inside braces"},
    {"urn:0123abcd-ef45-6789-abcd-ef0123456789", 0, "partial prefix"},
    {"uuid:0123abcd-ef45-6789-abcd-ef0123456789", 0, "uuid: prefix"},
    {"urn:uuid:urn:uuid:0123abcd-ef45-6789-abcd-ef0123456789", 0, "prefix twice"},
    {"urn:uuid: 0123abcd-ef45-6789-abcd-ef0123456789", 0, "space after prefix"},
    {"0123abcd-ef45-6789-abcd-ef01234\0" "6789", 36, "NUL inside (36)"},
    {"0123abcdef456789abcd\0" "ef0123456789", 32, "NUL inside (32)"},
    {"0123abcd-ef45-6789-abcd-ef0123456789\0", 37, "NUL at the end"},
    {"../../x", 0, "path"},
    {"+123abcd-ef45-6789-abcd-ef0123456789", 0, "sign"},
    {"0x23abcd-ef45-6789-abcd-ef0123456789", 0, "0x"},
    {"0123abcd-ef45-6789-abcd-ef012345678\xc3\xa9", 0, "UTF-8"},
};

START_TEST(test_rejects)
{
    const struct reject_case *c = &rejected[_i];
    size_t len = c->len ? c->len : strlen(c->in);
    char out[UUID_STR_LEN];

    memset(out, 'X', sizeof(out));
    ck_assert_msg(uuid_normalize(c->in, len, out) == -1, "accepted: %s", c->why);
    ck_assert_msg(out[0] == 'X' && out[36] == 'X', "out touched: %s", c->why);
}
END_TEST

START_TEST(test_hexval)
{
    const char *digits = "0123456789abcdef", *upper = "ABCDEF";
    int i;

    for (i = 0; i < 16; i++)
        ck_assert_int_eq(uuid_hexval(digits[i]), i);
    for (i = 0; i < 6; i++)
        ck_assert_int_eq(uuid_hexval(upper[i]), 10 + i);
    ck_assert_int_eq(uuid_hexval('g'), -1);
    ck_assert_int_eq(uuid_hexval('G'), -1);
    ck_assert_int_eq(uuid_hexval('/'), -1);
    ck_assert_int_eq(uuid_hexval(':'), -1);
    ck_assert_int_eq(uuid_hexval('@'), -1);
    ck_assert_int_eq(uuid_hexval('`'), -1);
    ck_assert_int_eq(uuid_hexval('\0'), -1);
    ck_assert_int_eq(uuid_hexval((char)0xc3), -1);
}
END_TEST

static Suite *uuid_suite(void)
{
    Suite *s = suite_create("uuid");
    TCase *tc;

    tc = tcase_create("accept");
    tcase_add_loop_test(tc, test_accepts, 0, sizeof(accepted) / sizeof(accepted[0]));
    tcase_add_test(tc, test_not_terminated);
    suite_add_tcase(s, tc);

    tc = tcase_create("reject");
    tcase_add_loop_test(tc, test_rejects, 0, sizeof(rejected) / sizeof(rejected[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("hexval");
    tcase_add_test(tc, test_hexval);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(uuid_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
