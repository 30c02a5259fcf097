/* check_breaker: the circuit breaker's rolling window and states, driven
 * by a fake clock. */
#include <check.h>
#include <stdlib.h>

#include "breaker.h"

static struct breaker b;
static uint64_t now;
/* the shipped defaults: 10 s in 1 s buckets, 20 calls, 50 %, 5 s, 3 */
static const struct breaker_conf defaults = {10000, 20, 50, 5000, 3};

static void setup(void)
{
    breaker_init(&b, &defaults);
    now = 1000000; /* a bucket boundary: 1000 s */
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

/* n calls spread evenly over ms milliseconds from now; now ends at
 * their end. */
static void calls_over(int n, int failed, uint64_t ms)
{
    int i;
    uint64_t t0 = now;

    for (i = 0; i < n; i++) {
        now = t0 + ms * (uint64_t)i / (uint64_t)n;
        breaker_record(&b, failed, 0, now);
    }
    now = t0 + ms;
}

/* Opens the breaker: 20 calls, 10 of them failures (50 %). */
static void trip(void)
{
    calls(10, 0);
    calls(9, 1);
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
    calls(19, 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    calls(1, 1);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
    ck_assert_uint_eq(b.openings, 1);
}
END_TEST

START_TEST(test_threshold_exact)
{
    trip();
}
END_TEST

START_TEST(test_below_threshold_stays_closed)
{
    calls(11, 0);
    calls(9, 1); /* 45 % */
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert_int_eq(b.calls, 20);
    ck_assert_int_eq(b.failures, 9);
}
END_TEST

/* The cold start of the field: among many successes, a burst of failures
 * inside one second (calls that timed out together) stays closed, where
 * a window of the last 20 calls opened. */
START_TEST(test_burst_among_successes_stays_closed)
{
    calls_over(1000, 0, 9000); /* 9 s of a healthy upstream */
    calls_over(60, 1, 500);    /* 60 failures within half a second */
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert_int_eq(b.failures, 60);
    ck_assert_int_eq(b.calls, 1060);
    calls_over(100, 0, 400);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
}
END_TEST

/* A real outage after a quiet spell: it opens at the min_calls-th
 * failure, whatever came long before. */
START_TEST(test_outage_opens_within_min_calls)
{
    int i;

    calls_over(500, 0, 5000);
    now += 20000; /* quiet: the successes aged out */
    for (i = 1; i < 20; i++) {
        now += 10;
        ck_assert_int_eq(breaker_record(&b, 1, 0, now), 0);
    }
    now += 10;
    ck_assert_int_eq(breaker_record(&b, 1, 0, now), 1);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
    ck_assert_int_eq(b.calls, 20);
}
END_TEST

/* A total outage under steady load: the failures outweigh the window's
 * successes after half of it (5 s, give or take a bucket). */
START_TEST(test_outage_under_load_opens_in_half_a_window)
{
    uint64_t start;
    int i;

    calls_over(1000, 0, 10000); /* 100 calls a second */
    start = now;
    for (i = 0; i < 1000 && b.state == BREAKER_CLOSED; i++) {
        now += 10;
        breaker_record(&b, 1, 0, now);
    }
    ck_assert_int_eq(b.state, BREAKER_OPEN);
    ck_assert_uint_ge(now - start, 4000);
    ck_assert_uint_le(now - start, 6000);
}
END_TEST

/* Buckets age out: a bucket counts until window_ms after its start,
 * then drops out whole; an old failure no longer weighs. */
START_TEST(test_buckets_age_out)
{
    calls(15, 1);                 /* bucket 0 */
    now += 5000;
    calls(3, 0);                  /* bucket 5 */
    now += 4999;                  /* the last ms of bucket 9 */
    breaker_advance(&b, now);
    ck_assert_int_eq(b.calls, 18);
    ck_assert_int_eq(b.failures, 15);
    now += 1;                     /* bucket 10: bucket 0 is out */
    breaker_advance(&b, now);
    ck_assert_int_eq(b.calls, 3);
    ck_assert_int_eq(b.failures, 0);
    calls(10, 1);                 /* 13 calls: fewer than 20 */
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    now += 10000;                 /* a whole window later: empty */
    breaker_advance(&b, now);
    ck_assert_int_eq(b.calls, 0);
    ck_assert_int_eq(b.failures, 0);
    now += 3600000;               /* an hour idle, then a bucket */
    calls(19, 1);
    ck_assert_int_eq(b.calls, 19);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
}
END_TEST

/* Old successes age out too: the same failures weigh more once the
 * successes of ten seconds ago are gone. */
START_TEST(test_successes_age_out)
{
    calls(100, 0);
    now += 5000;
    calls(20, 1); /* 20 of 120 */
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    now += 5000;  /* the 100 successes are out: 20 of 20 */
    ck_assert_int_eq(breaker_record(&b, 1, 0, now), 1);
    ck_assert_int_eq(b.calls, 21);
}
END_TEST

START_TEST(test_open_refuses_with_retry_after)
{
    long retry = 0;

    trip();
    ck_assert_int_eq(admit(&retry), -1);
    ck_assert_int_eq(retry, 5);
    now += 4500;
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
    now += 5000;
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
    now += 5000;
    t = admit(NULL);
    admit(NULL);
    admit(NULL);
    ck_assert_int_eq(breaker_record(&b, 0, t, now), 0);
    ck_assert_int_eq(breaker_trial_done(&b, t, 1), 0);
    ck_assert_int_eq(breaker_trial_done(&b, t, 1), 0);
    ck_assert_int_eq(breaker_trial_done(&b, t, 1), 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert_int_eq(b.calls, 0); /* a fresh window */
    ck_assert_int_eq(admit(NULL), 0);
}
END_TEST

/* Trial requests that ended with no upstream success (their clients
 * left, or they timed out in our own queue) close nothing, and give
 * their places to other requests. */
START_TEST(test_trials_without_success)
{
    int t, i;

    trip();
    now += 5000;
    t = admit(NULL);
    admit(NULL);
    admit(NULL);
    ck_assert_int_eq(admit(NULL), -1); /* three trials at most */
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(breaker_trial_done(&b, t, 0), 0);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
    t = admit(NULL);
    ck_assert_int_gt(t, 0); /* a new trial took the place */
    ck_assert_int_eq(breaker_record(&b, 0, t, now), 0);
    ck_assert_int_eq(breaker_trial_done(&b, t, 1), 0);
}
END_TEST

/* Trial calls: `trials` successful calls close it before the trial
 * requests end (an order of many packages is many calls). */
START_TEST(test_trial_calls_close)
{
    int t;

    trip();
    now += 5000;
    t = admit(NULL);
    ck_assert_int_eq(breaker_record(&b, 0, t, now), 0);
    ck_assert_int_eq(breaker_record(&b, 0, t, now), 0);
    ck_assert_int_eq(breaker_record(&b, 0, t, now), 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
    ck_assert_int_eq(breaker_trial_done(&b, t, 1), 0); /* already closed */
}
END_TEST

START_TEST(test_trial_failure_reopens)
{
    long retry;
    int t;

    trip();
    now += 5000;
    t = admit(NULL);
    ck_assert_int_eq(breaker_record(&b, 1, t, now), 1);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
    ck_assert_int_eq(admit(&retry), -1);
    ck_assert_int_eq(retry, 5);
    /* the other trials of that round ending change nothing */
    ck_assert_int_eq(breaker_trial_done(&b, t, 1), 0);
    ck_assert_int_eq(b.state, BREAKER_OPEN);
}
END_TEST

/* A late trial of an earlier round neither closes nor opens the new one. */
START_TEST(test_old_round_ignored)
{
    int old, fresh;

    trip();
    now += 5000;
    old = admit(NULL);
    breaker_record(&b, 1, old, now); /* reopens */
    now += 5000;
    fresh = admit(NULL);
    ck_assert_int_ne(fresh, old);
    ck_assert_int_eq(breaker_record(&b, 1, old, now), 0);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
    ck_assert_int_eq(breaker_trial_done(&b, old, 1), 0);
    ck_assert_int_eq(breaker_trial_done(&b, old, 1), 0);
    ck_assert_int_eq(breaker_trial_done(&b, old, 1), 0);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
}
END_TEST

/* Failures from requests admitted before half-open do not count then. */
START_TEST(test_half_open_ignores_non_trials)
{
    trip();
    now += 5000;
    admit(NULL);
    ck_assert_int_eq(breaker_record(&b, 1, 0, now), 0);
    ck_assert_int_eq(b.state, BREAKER_HALF_OPEN);
}
END_TEST

START_TEST(test_settable)
{
    struct breaker_conf c = {1000, 2, 100, 500, 1};
    int t;

    breaker_init(&b, &c);
    ck_assert_uint_eq(b.width, 100);
    calls(1, 1);
    calls(1, 0);
    ck_assert_int_eq(b.state, BREAKER_CLOSED); /* 50 % < 100 % */
    now += 1000;                              /* both out */
    calls(1, 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED); /* 1 call < 2 */
    now += 100;
    calls(1, 1);                              /* F F: 100 % */
    ck_assert_int_eq(b.state, BREAKER_OPEN);
    now += 499;
    ck_assert_int_eq(admit(NULL), -1);
    now += 1;
    t = admit(NULL);
    ck_assert_int_gt(t, 0);
    ck_assert_int_eq(admit(NULL), -1);
    ck_assert_int_eq(breaker_trial_done(&b, t, 1), 1);
    ck_assert_int_eq(b.state, BREAKER_CLOSED);
}
END_TEST

/* Every opening counts, from closed and from half-open. */
START_TEST(test_openings_counted)
{
    int t;

    trip();
    now += 5000;
    t = admit(NULL);
    breaker_record(&b, 1, t, now);
    ck_assert_uint_eq(b.openings, 2);
}
END_TEST

/* A window shorter than the minimum is taken as the minimum. */
START_TEST(test_window_floor)
{
    struct breaker_conf c = {1, 1, 50, 500, 1};

    breaker_init(&b, &c);
    ck_assert_uint_eq(b.width, BREAKER_WINDOW_MIN_MS / BREAKER_BUCKETS);
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
    tcase_add_test(tc, test_burst_among_successes_stays_closed);
    tcase_add_test(tc, test_outage_opens_within_min_calls);
    tcase_add_test(tc, test_outage_under_load_opens_in_half_a_window);
    tcase_add_test(tc, test_buckets_age_out);
    tcase_add_test(tc, test_successes_age_out);
    suite_add_tcase(s, tc);

    tc = tcase_create("open");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_open_refuses_with_retry_after);
    suite_add_tcase(s, tc);

    tc = tcase_create("half-open");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_half_open_admits_trials);
    tcase_add_test(tc, test_trials_succeed_closes);
    tcase_add_test(tc, test_trials_without_success);
    tcase_add_test(tc, test_trial_calls_close);
    tcase_add_test(tc, test_trial_failure_reopens);
    tcase_add_test(tc, test_old_round_ignored);
    tcase_add_test(tc, test_half_open_ignores_non_trials);
    suite_add_tcase(s, tc);

    tc = tcase_create("settings");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_settable);
    tcase_add_test(tc, test_openings_counted);
    tcase_add_test(tc, test_window_floor);
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
