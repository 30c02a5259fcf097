/* check_hedge: the hedge delay estimator and the hedge budget, driven by
 * a fake clock. */
#include <check.h>
#include <stdlib.h>

#include "hedge.h"

static struct hedge h;
static uint64_t now;

enum { ORDER, ITEMS, CATALOG };

static void setup(void)
{
    now = 1000000;
    hedge_init(&h, HEDGE_AUTO, 5, 5, 500, now);
}

/* n samples of kind, one in every 100 of them slow_us, the rest us,
 * spread over ms milliseconds from now (now ends at their end). */
static void samples(int kind, int n, uint64_t us, uint64_t slow_us, int slow_per_100, long ms)
{
    int i;

    for (i = 0; i < n; i++) {
        hedge_sample(&h, kind, i % 100 < slow_per_100 ? slow_us : us, now + (uint64_t)(ms * i / n));
    }
    now += (uint64_t)ms;
}

START_TEST(test_no_estimate_before_enough_samples)
{
    samples(ITEMS, HEDGE_MIN_SAMPLES - 1, 20000, 0, 0, 1000);
    ck_assert_int_eq(hedge_delay(&h, ITEMS, now), 0);
    samples(ITEMS, 1, 20000, 0, 0, 10);
    ck_assert_int_gt(hedge_delay(&h, ITEMS, now), 0);
}
END_TEST

START_TEST(test_kinds_apart)
{
    samples(ITEMS, 1000, 20000, 0, 0, 1000);
    ck_assert_int_gt(hedge_delay(&h, ITEMS, now), 0);
    ck_assert_int_eq(hedge_delay(&h, ORDER, now), 0);
    ck_assert_int_eq(hedge_delay(&h, CATALOG, now), 0);
    ck_assert_int_eq(hedge_delay(&h, -1, now), 0);
    ck_assert_int_eq(hedge_delay(&h, HEDGE_KINDS, now), 0);
}
END_TEST

/* 2 % at 1 s, the rest at 20 ms: a 5 % budget hedges past the 97.5th
 * percentile, 20 ms (within a bucket's 12.5 %), not the slow calls. */
START_TEST(test_percentile_of_the_budget)
{
    long d;

    samples(ITEMS, 1000, 20000, 1000000, 2, 2000);
    d = hedge_delay(&h, ITEMS, now);
    ck_assert_int_ge(d, 20);
    ck_assert_int_le(d, 23);
}
END_TEST

/* 10 % slow: the 97.5th percentile is the slow time (held to max_ms). */
START_TEST(test_percentile_in_the_tail)
{
    samples(ITEMS, 1000, 20000, 300000, 10, 2000);
    ck_assert_int_ge(hedge_delay(&h, ITEMS, now), 300);
    ck_assert_int_le(hedge_delay(&h, ITEMS, now), 340);
    samples(ITEMS, 1000, 20000, 3000000, 10, 2000);
    ck_assert_int_eq(hedge_delay(&h, ITEMS, now), 500);
}
END_TEST

/* 8 % slow: a 20 % budget hedges past the 90th percentile (fast), a
 * 5 % one past the 97.5th (slow). */
START_TEST(test_budget_sets_the_percentile)
{
    hedge_init(&h, HEDGE_AUTO, 20, 5, 5000, now);
    samples(ITEMS, 1000, 20000, 300000, 8, 2000);
    ck_assert_int_le(hedge_delay(&h, ITEMS, now), 23);
    hedge_init(&h, HEDGE_AUTO, 5, 5, 5000, now);
    samples(ITEMS, 1000, 20000, 300000, 8, 2000);
    ck_assert_int_ge(hedge_delay(&h, ITEMS, now), 300);
}
END_TEST

START_TEST(test_floor)
{
    samples(ITEMS, 1000, 500, 0, 0, 1000);
    ck_assert_int_eq(hedge_delay(&h, ITEMS, now), 5);
}
END_TEST

/* The upstream turns from 20 ms to 200 ms: within a window the estimate
 * follows; and with no samples for a window it has none. */
START_TEST(test_follows_change)
{
    long d;

    samples(ITEMS, 2000, 20000, 0, 0, HEDGE_WINDOW_MS);
    ck_assert_int_le(hedge_delay(&h, ITEMS, now), 23);
    samples(ITEMS, 2000, 200000, 0, 0, HEDGE_WINDOW_MS);
    d = hedge_delay(&h, ITEMS, now);
    ck_assert_int_ge(d, 200);
    ck_assert_int_le(d, 230);
    now += 2 * HEDGE_WINDOW_MS;
    ck_assert_int_eq(hedge_delay(&h, ITEMS, now), 0);
}
END_TEST

START_TEST(test_fixed_and_off)
{
    hedge_init(&h, 40, 5, 5, 500, now);
    ck_assert_int_eq(hedge_delay(&h, ITEMS, now), 40);
    hedge_init(&h, 0, 5, 5, 500, now);
    samples(ITEMS, 1000, 20000, 0, 0, 1000);
    ck_assert_int_eq(hedge_delay(&h, ITEMS, now), 0);
    hedge_init(&h, HEDGE_AUTO, 0, 5, 500, now);
    samples(ITEMS, 1000, 20000, 0, 0, 1000);
    ck_assert_int_eq(hedge_delay(&h, ITEMS, now), 0);
}
END_TEST

/* Asked at every call, the budget gives at most pct % of the calls plus
 * the burst, whatever the pattern. */
START_TEST(test_budget_share)
{
    int i, taken = 0;

    for (i = 0; i < 10000; i++) {
        hedge_count_call(&h);
        taken += hedge_take(&h);
    }
    ck_assert_int_le(taken, 10000 * 5 / 100 + HEDGE_BURST);
    ck_assert_int_ge(taken, 10000 * 5 / 100 - 1);
}
END_TEST

/* Many calls, no hedge asked, then a burst of asks: at most HEDGE_BURST. */
START_TEST(test_budget_burst_bounded)
{
    int i, taken = 0;

    for (i = 0; i < 100000; i++)
        hedge_count_call(&h);
    for (i = 0; i < 1000; i++)
        taken += hedge_take(&h);
    ck_assert_int_eq(taken, HEDGE_BURST);
}
END_TEST

START_TEST(test_budget_starts_empty)
{
    ck_assert_int_eq(hedge_take(&h), 0);
    hedge_count_call(&h);
    ck_assert_int_eq(hedge_take(&h), 0); /* 5 % of a token */
    hedge_init(&h, HEDGE_AUTO, 0, 5, 500, now);
    for (int i = 0; i < 1000; i++)
        hedge_count_call(&h);
    ck_assert_int_eq(hedge_take(&h), 0);
}
END_TEST

static Suite *hedge_suite(void)
{
    Suite *s = suite_create("hedge");
    TCase *tc = tcase_create("delay");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_no_estimate_before_enough_samples);
    tcase_add_test(tc, test_kinds_apart);
    tcase_add_test(tc, test_percentile_of_the_budget);
    tcase_add_test(tc, test_percentile_in_the_tail);
    tcase_add_test(tc, test_budget_sets_the_percentile);
    tcase_add_test(tc, test_floor);
    tcase_add_test(tc, test_follows_change);
    tcase_add_test(tc, test_fixed_and_off);
    suite_add_tcase(s, tc);

    tc = tcase_create("budget");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_budget_share);
    tcase_add_test(tc, test_budget_burst_bounded);
    tcase_add_test(tc, test_budget_starts_empty);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(hedge_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
