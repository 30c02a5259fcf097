/* check_fold: failures of one broken connection fold into one fault. */
#include <check.h>
#include <stdlib.h>

#include "fold.h"

static struct fold f;
static const uint64_t t0 = 5000000;

static void setup(void)
{
    fold_init(&f);
}

/* An HTTP/2 connection reset fails its 100 streams at once: one fault. */
START_TEST(test_one_connection_one_fault)
{
    int i, faults = 0;

    for (i = 0; i < 100; i++)
        faults += fold_new_fault(&f, 40000, t0 + (uint64_t)i / 10);
    ck_assert_int_eq(faults, 1);
}
END_TEST

/* Ten connections reset together (the upstream restarted): ten faults,
 * whatever order their streams fail in. */
START_TEST(test_connections_apart)
{
    int i, faults = 0;

    for (i = 0; i < 200; i++)
        faults += fold_new_fault(&f, 40000 + i % 10, t0 + (uint64_t)i);
    ck_assert_int_eq(faults, 10);
}
END_TEST

/* The span runs from the fault counted: a port failing again after it
 * (a new connection on the same port, or a connection that broke again)
 * is a new fault, even if it failed all along. */
START_TEST(test_span)
{
    ck_assert_int_eq(fold_new_fault(&f, 50000, t0), 1);
    ck_assert_int_eq(fold_new_fault(&f, 50000, t0 + 500), 0);
    ck_assert_int_eq(fold_new_fault(&f, 50000, t0 + FOLD_SPAN_MS - 1), 0);
    ck_assert_int_eq(fold_new_fault(&f, 50000, t0 + FOLD_SPAN_MS), 1);
    ck_assert_int_eq(fold_new_fault(&f, 50000, t0 + FOLD_SPAN_MS + 1), 0);
}
END_TEST

/* No port (the call never had a connection: refused, unresolved): every
 * failure is its own fault; so is a port out of range. */
START_TEST(test_no_port)
{
    ck_assert_int_eq(fold_new_fault(&f, 0, t0), 1);
    ck_assert_int_eq(fold_new_fault(&f, 0, t0), 1);
    ck_assert_int_eq(fold_new_fault(&f, -1, t0), 1);
    ck_assert_int_eq(fold_new_fault(&f, -1, t0), 1);
    ck_assert_int_eq(fold_new_fault(&f, 65536, t0), 1);
    ck_assert_int_eq(fold_new_fault(&f, 65536, t0), 1);
}
END_TEST

/* Two ports on one slot: the second evicts the first, which then counts
 * again (twice counted, never two folded into one). */
START_TEST(test_collision_counts_twice)
{
    long a = 1000, b = 1000 + FOLD_SLOTS;

    ck_assert_int_eq(fold_new_fault(&f, a, t0), 1);
    ck_assert_int_eq(fold_new_fault(&f, b, t0 + 1), 1);
    ck_assert_int_eq(fold_new_fault(&f, b, t0 + 2), 0);
    ck_assert_int_eq(fold_new_fault(&f, a, t0 + 3), 1);
}
END_TEST

/* A clock that went back (it does not, monotonic; still): not folded. */
START_TEST(test_clock_back)
{
    ck_assert_int_eq(fold_new_fault(&f, 3000, t0), 1);
    ck_assert_int_eq(fold_new_fault(&f, 3000, t0 - 1), 1);
}
END_TEST

static Suite *fold_suite(void)
{
    Suite *s = suite_create("fold");
    TCase *tc = tcase_create("fold");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_one_connection_one_fault);
    tcase_add_test(tc, test_connections_apart);
    tcase_add_test(tc, test_span);
    tcase_add_test(tc, test_no_port);
    tcase_add_test(tc, test_collision_counts_twice);
    tcase_add_test(tc, test_clock_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(fold_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
