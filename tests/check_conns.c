/* check_conns: the connection limit split over the multi handles, the
 * handles taken in turn, the HTTP/2 split (every call on the first
 * handle), the probe of an upstream that may speak HTTP/2, and the idle
 * reset. No transfer runs here. */
#include <check.h>
#include <stdlib.h>

#include "conns.h"
#include "poller.h"

static struct poller *p;
static struct conns c;

static void setup(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    p = poller_new(64, 2000);
    ck_assert_ptr_nonnull(p);
}

static void teardown(void)
{
    conns_free(&c);
    poller_free(p);
    curl_global_cleanup();
}

static long limit_sum(void)
{
    long sum = 0;
    int i;

    for (i = 0; i < c.count; i++)
        sum += c.limit[i];
    return sum;
}

static const long split_max[] = {4096, 128, 10, 8, 3, 1};
static const int split_count[] = {8, 8, 8, 8, 3, 1};

/* Never more connections in all than the setting, never a handle with
 * none, and the shares differ by one at most. */
START_TEST(test_split)
{
    int i;

    ck_assert_int_eq(conns_init(&c, p, split_max[_i], 0), 0);
    ck_assert_int_eq(c.count, split_count[_i]);
    ck_assert_int_eq(limit_sum(), split_max[_i]);
    for (i = 0; i < c.count; i++) {
        ck_assert_int_ge(c.limit[i], 1);
        ck_assert_int_le(c.limit[i] - c.limit[c.count - 1], 1);
    }
}
END_TEST

START_TEST(test_in_turn)
{
    CURL *e[10];
    int i, slot[10];

    ck_assert_int_eq(conns_init(&c, p, 4096, 0), 0);
    ck_assert_int_eq(c.used, 0);
    for (i = 0; i < 10; i++) {
        e[i] = curl_easy_init();
        curl_easy_setopt(e[i], CURLOPT_URL, "http://127.0.0.1:9/");
        slot[i] = conns_add(&c, e[i]);
        ck_assert_int_eq(slot[i], i % CONNS_MULTI_MAX);
    }
    ck_assert_int_eq(c.used, 1);
    ck_assert_ptr_null(conns_info_read(&c)); /* nothing ran */
    for (i = 0; i < 10; i++) {
        conns_remove(&c, slot[i], e[i]);
        curl_easy_cleanup(e[i]);
    }
}
END_TEST

/* Over HTTP/2 the first handle takes every new call and what the others'
 * one connection each leaves of the setting, up to
 * CONNS_MULTIPLEXED_MAX; the sum still never exceeds the setting, and a
 * reset goes back to the split and to handles in turn. */
START_TEST(test_multiplexed)
{
    long max = split_max[_i], want, sum = 0;
    CURL *e = curl_easy_init();
    int i, slot;

    ck_assert_int_eq(conns_init(&c, p, max, 0), 0);
    conns_multiplexed(&c);
    want = max - (c.count - 1);
    if (want > CONNS_MULTIPLEXED_MAX)
        want = CONNS_MULTIPLEXED_MAX;
    ck_assert_int_eq(conns_limit(&c, 0), want);
    for (i = 0; i < c.count; i++) {
        ck_assert_int_ge(conns_limit(&c, i), 1);
        if (i > 0)
            ck_assert_int_eq(conns_limit(&c, i), 1);
        sum += conns_limit(&c, i);
    }
    ck_assert_int_le(sum, max);
    for (i = 0; i < 3; i++) {
        slot = conns_add(&c, e);
        ck_assert_int_eq(slot, 0);
        conns_remove(&c, slot, e);
    }
    ck_assert_int_eq(conns_reset(&c), 0);
    for (i = 0; i < c.count; i++)
        ck_assert_int_eq(conns_limit(&c, i), c.limit[i]);
    for (i = 0; i < c.count; i++) {
        slot = conns_add(&c, e);
        ck_assert_int_eq(slot, i); /* none was taken in turn since init */
        conns_remove(&c, slot, e);
    }
    curl_easy_cleanup(e);
}
END_TEST

/* An upstream that may speak HTTP/2: every transfer on the first handle
 * until its first answer; over HTTP/1.1 in turn from then on, until a
 * reset probes it again. */
START_TEST(test_probe)
{
    CURL *e = curl_easy_init();
    int i, slot;

    ck_assert_int_eq(conns_init(&c, p, 4096, 1), 0);
    ck_assert_int_eq(conns_limit(&c, 0), CONNS_MULTIPLEXED_MAX);
    for (i = 1; i < c.count; i++)
        ck_assert_int_eq(conns_limit(&c, i), 512);
    for (i = 0; i < 3; i++) {
        slot = conns_add(&c, e);
        ck_assert_int_eq(slot, 0);
        conns_remove(&c, slot, e);
    }
    conns_spread(&c);
    for (i = 0; i < c.count; i++)
        ck_assert_int_eq(conns_limit(&c, i), 512);
    for (i = 0; i < 3; i++) {
        slot = conns_add(&c, e);
        ck_assert_int_eq(slot, i);
        conns_remove(&c, slot, e);
    }
    ck_assert_int_eq(conns_reset(&c), 0);
    slot = conns_add(&c, e);
    ck_assert_int_eq(slot, 0);
    conns_remove(&c, slot, e);
    conns_multiplexed(&c);
    slot = conns_add(&c, e);
    ck_assert_int_eq(slot, 0);
    conns_remove(&c, slot, e);
    curl_easy_cleanup(e);
}
END_TEST

START_TEST(test_reset)
{
    CURLM *before[CONNS_MULTI_MAX];
    CURL *e = curl_easy_init();
    int i, slot;

    ck_assert_int_eq(conns_init(&c, p, 16, 0), 0);
    for (i = 0; i < c.count; i++)
        before[i] = c.multi[i];
    slot = conns_add(&c, e);
    conns_remove(&c, slot, e);
    ck_assert_int_eq(conns_reset(&c), 0);
    ck_assert_int_eq(c.used, 0);
    for (i = 0; i < c.count; i++) {
        ck_assert_ptr_nonnull(c.multi[i]);
        ck_assert_ptr_ne(c.multi[i], before[i]);
    }
    ck_assert_int_eq(limit_sum(), 16);
    /* the fresh handles take transfers */
    slot = conns_add(&c, e);
    ck_assert_int_ge(slot, 0);
    conns_remove(&c, slot, e);
    curl_easy_cleanup(e);
}
END_TEST

static Suite *conns_suite(void)
{
    Suite *s = suite_create("conns");
    TCase *tc = tcase_create("conns");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_split, 0, (int)(sizeof(split_max) / sizeof(split_max[0])));
    tcase_add_test(tc, test_in_turn);
    tcase_add_loop_test(tc, test_multiplexed, 0, (int)(sizeof(split_max) / sizeof(split_max[0])));
    tcase_add_test(tc, test_probe);
    tcase_add_test(tc, test_reset);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(conns_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
