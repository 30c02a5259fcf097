/* check_breaker: the circuit breaker's states, driven by a fake clock. */
#include <check.h>
#include <stdlib.h>

#include "breaker.h"

static struct breaker b;
static uint64_t now;
static const struct breaker_conf defaults = {20, 10, 50, 30000, 3};

static void setup(void)
{
    breaker_init(&b, &defaults);
    now = 1000000;
}

/* admit() for a plain request; returns the trial round (or -1 refused). */
static int admit(long *retry)
{
    int trial, changed;
    long r = 0;

    if (!breaker_admit(&b, now, &trial, &r, &changed)) {
        if (retry)
            *retry = r;
        return -1;
    }
    return trial;
}

static void calls(int n, int failed)
{
    while (n-- > 0)
        breaker_record(&b, failed, 0, now);
}

/* Opens the breaker: 10 calls, 5 of them failures (50 %). */
static void trip(void)
{
    calls(5, 0);
    calls(4, 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert_int_eq(breaker_record(&b, 1, 0, now), 1);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
}

START_TEST(test_closed_admits)
{
    ck_assert_int_eq(admit(NULL), 0);
    calls(100, 0);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert_int_eq(admit(NULL), 0);
}
END_TEST

/* Below min_calls nothing opens it, even all failures. */
START_TEST(test_needs_min_calls)
{
    calls(9, 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    calls(1, 1);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
}
END_TEST

START_TEST(test_threshold_exact)
{
    trip();
}
END_TEST

START_TEST(test_below_threshold_stays_closed)
{
    calls(6, 0);
    calls(4, 1); /* 40 % */
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
}
END_TEST

/* The window slides: old failures are forgotten. */
START_TEST(test_window_slides)
{
    calls(9, 1);  /* 9 failures, not enough calls yet */
    calls(1, 0);  /* 10 calls, 90 %: open */
    ck_assert_int_eq(b.state, BREAKER_OPEN);

    breaker_init(&b, &defaults);
    calls(20, 0);
    calls(9, 1);  /* window: 11 ok + 9 failed = 45 % */
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert_int_eq(b.count, 20);
    ck_assert_int_eq(b.failures, 9);
    calls(1, 1);  /* 10 of 20 */
    ck_assert_int_eq(b.state, BREAKER_OPEN);
}
END_TEST

START_TEST(test_open_refuses_with_retry_after)
{
    long retry = 0;

    trip();
    ck_assert_int_eq(admit(&retry), -1);
    ck_assert_int_eq(retry, 30);
    now += 29500;
    ck_assert_int_eq(admit(&retry), -1);
    ck_assert_int_eq(retry, 1);
    /* calls of requests admitted before it opened change nothing */
    ck_assert_int_eq(breaker_record(&b, 1, 0, now), 0);
    ck_assert_int_eq(breaker_record(&b, 0, 0, now), 0);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
}
END_TEST

/* After the wait: exactly `trials` requests go through, then 503 again
 * until they end. */
START_TEST(test_half_open_admits_trials)
{
    int changed, trial, t1, t2, t3;
    long retry;

    trip();
    now += 30000;
    ck_assert_int_eq(breaker_admit(&b, now, &trial, &retry, &changed), 1);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
    t1 = trial;
    ck_assert_int_gt(t1, 0);
    t2 = admit(NULL);
    t3 = admit(NULL);
    ck_assert_int_eq(t2, t1);
    ck_assert_int_eq(t3, t1);
    ck_assert_int_eq(admit(&retry), -1);
    ck_assert_int_eq(retry, 1);
}
END_TEST

START_TEST(test_trials_succeed_closes)
{
    int t;

    trip();
    now += 30000;
    t = admit(NULL);
    admit(NULL);
    admit(NULL);
    ck_assert_int_eq(breaker_record(&b, 0, t, now), 0);
    ck_assert_int_eq(breaker_trial_done(&b, t), 0);
    ck_assert_int_eq(breaker_trial_done(&b, t), 0);
    ck_assert_int_eq(breaker_trial_done(&b, t), 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert_int_eq(b.count, 0); /* a fresh window */
    ck_assert_int_eq(admit(NULL), 0);
}
END_TEST

/* Trial calls: `trials` successful calls close it before the trial
 * requests end (an order of many packages is many calls). */
START_TEST(test_trial_calls_close)
{
    int t;

    trip();
    now += 30000;
    t = admit(NULL);
    ck_assert_int_eq(breaker_record(&b, 0, t, now), 0);
    ck_assert_int_eq(breaker_record(&b, 0, t, now), 0);
    ck_assert_int_eq(breaker_record(&b, 0, t, now), 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert_int_eq(breaker_trial_done(&b, t), 0); /* already closed */
}
END_TEST

START_TEST(test_trial_failure_reopens)
{
    long retry;
    int t;

    trip();
    now += 30000;
    t = admit(NULL);
    ck_assert_int_eq(breaker_record(&b, 1, t, now), 1);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
    ck_assert_int_eq(admit(&retry), -1);
    ck_assert_int_eq(retry, 30);
    /* the other trials of that round ending change nothing */
    ck_assert_int_eq(breaker_trial_done(&b, t), 0);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
}
END_TEST

/* A late trial of an earlier round neither closes nor opens the new one. */
START_TEST(test_old_round_ignored)
{
    int old, fresh;

    trip();
    now += 30000;
    old = admit(NULL);
    breaker_record(&b, 1, old, now); /* reopens */
    now += 30000;
    fresh = admit(NULL);
    ck_assert_int_ne(fresh, old);
    ck_assert_int_eq(breaker_record(&b, 1, old, now), 0);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
    ck_assert_int_eq(breaker_trial_done(&b, old), 0);
    ck_assert_int_eq(breaker_trial_done(&b, old), 0);
    ck_assert_int_eq(breaker_trial_done(&b, old), 0);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
}
END_TEST

/* Failures from requests admitted before half-open do not count then. */
START_TEST(test_half_open_ignores_non_trials)
{
    trip();
    now += 30000;
    admit(NULL);
    ck_assert_int_eq(breaker_record(&b, 1, 0, now), 0);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
}
END_TEST

START_TEST(test_settable)
{
    struct breaker_conf c = {4, 2, 100, 500, 1};
    int t;

    breaker_init(&b, &c);
    calls(1, 1);
    calls(1, 0);
    ck_assert_int_eq(b.state, BREAKER_CLOSED); /* 50 % < 100 % */
    calls(2, 1);                              /* F O F F: 75 % */
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    calls(1, 1);                              /* O F F F: the first F slid out */
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    calls(1, 1);                              /* F F F F: 100 % */
    ck_assert_int_eq(b.state, BREAKER_OPEN);
    now += 499;
    ck_assert_int_eq(admit(NULL), -1);
    now += 1;
    t = admit(NULL);
    ck_assert_int_gt(t, 0);
    ck_assert_int_eq(admit(NULL), -1);
    ck_assert_int_eq(breaker_trial_done(&b, t), 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
}
END_TEST

START_TEST(test_names)
{
    ck_assert_str_eq(breaker_state_name(BREAKER_CLOSED), "closed");
    ck_assert_str_eq(breaker_state_name(BREAKER_OPEN), "open");
    ck_assert_str_eq(breaker_state_name(BREAKER_HALF_OPEN), "half-open");
}
END_TEST

static Suite *breaker_suite(void)
{
    Suite *s = suite_create("breaker");
    TCase *tc;

    tc = tcase_create("closed");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_closed_admits);
    tcase_add_test(tc, test_needs_min_calls);
    tcase_add_test(tc, test_threshold_exact);
    tcase_add_test(tc, test_below_threshold_stays_closed);
    tcase_add_test(tc, test_window_slides);
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_open_refuses_with_retry_after);
    suite_add_tcase(s, tc);

    tc = tcase_create("half-open");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_half_open_admits_trials);
    tcase_add_test(tc, test_trials_succeed_closes);
    tcase_add_test(tc, test_trial_calls_close);
    tcase_add_test(tc, test_trial_failure_reopens);
    tcase_add_test(tc, test_old_round_ignored);
    tcase_add_test(tc, test_half_open_ignores_non_trials);
    suite_add_tcase(s, tc);

    tc = tcase_create("settings");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_settable);
    tcase_add_test(tc, test_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(breaker_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
