/* check_orders: the items workflow (calls, answer assembly) and the
 * generic job that carries a workflow. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "clock.h"
#include "job.h"
#include "orders.h"

static const char order_id[UUID_STR_LEN] = "0123abcd-ef45-6789-abcd-ef0123456789";

static struct orders *j;
static char *answer;
static char order[65536];

static void setup(void)
{
    j = NULL;
    answer = NULL;
}

static void teardown(void)
{
    orders_free(j);
    free(answer);
}

static struct orders *new_job(size_t max_packages, size_t max_answer)
{
    struct orders_limits lim = {max_packages, max_answer};

    j = orders_new("http://up/maestro/v1", order_id, &lim);
    ck_assert_ptr_nonnull(j);
    return j;
}

/* An order document with n packages 00000000-0000-4000-9000-<i>. */
static const char *order_of(size_t n)
{
    char *p = order;
    size_t i;

    p += sprintf(p, "{\"id\":\"x\",\"packages\":[");
    for (i = 0; i < n; i++)
        p += sprintf(p, "%s{\"uuid\":\"00000000-0000-4000-9000-%012zu\"}", i ? "," : "", i);
    strcpy(p, "]}");
    return order;
}

/* The length of order_of(n)'s document (argument order is unspecified:
 * each call builds it again). */
static size_t order_len(size_t n)
{
    return strlen(order_of(n));
}

static enum items_status take_order(size_t n)
{
    const char *o = order_of(n);

    return orders_take_order(j, o, strlen(o));
}

static enum items_status take(size_t i, const char *body)
{
    return orders_take_package(j, i, body, strlen(body));
}

/* The job's answer as a C string (owned by the fixture). */
static const char *answer_str(void)
{
    size_t len = 12345;
    char *a = orders_answer(j, &len);

    ck_assert_ptr_nonnull(a);
    free(answer);
    answer = malloc(len + 1);
    memcpy(answer, a, len);
    answer[len] = '\0';
    free(a);
    ck_assert_uint_eq(strlen(answer), len);
    return answer;
}

#define ITEMS1(code) "[{\"product\":{\"code\":\"" code "\"},\"quantity\":1}]"
#define OUT1(code) "{\"sku\":\"" code "\",\"description\":\"\",\"image_url\":\"\",\"reference\":\"\",\"quantity\":1}"

/* ---- job_new --------------------------------------------------------- */

START_TEST(test_new)
{
    new_job(10, 1000);
    ck_assert_str_eq(j->order_id, order_id);
    ck_assert_uint_eq(j->lim.max_packages, 10);
    ck_assert_uint_eq(j->lim.max_answer, 1000);
    ck_assert_uint_eq(j->pkgs.count, 0);
    ck_assert_int_eq(j->asked, 0);
}
END_TEST

/* Before the order is known nothing may start and nothing is complete. */
START_TEST(test_before_order)
{
    new_job(10, 1000);
    ck_assert_int_eq(orders_next_package(j), -1);
    ck_assert_int_eq(orders_complete(j), 0);
    ck_assert_int_eq(take(0, ITEMS1("a")), ITEMS_BAD);
}
END_TEST

START_TEST(test_clock)
{
    uint64_t a = clock_ms(), b = clock_ms();

    ck_assert_uint_ge(b, a);
    ck_assert_uint_gt(a, 0);
}
END_TEST

/* ---- orders_take_order ---------------------------------------------------- */

START_TEST(test_order_bad)
{
    new_job(10, 1000);
    ck_assert_int_eq(orders_take_order(j, "{}", 2), ITEMS_BAD);
    ck_assert_int_eq(orders_next_package(j), -1);
    ck_assert_int_eq(orders_complete(j), 0);
}
END_TEST

START_TEST(test_order_too_big)
{
    new_job(3, 1000);
    ck_assert_int_eq(take_order(4), ITEMS_TOO_BIG);
    ck_assert_int_eq(orders_next_package(j), -1);
    ck_assert_int_eq(orders_complete(j), 0);
}
END_TEST

START_TEST(test_order_at_max)
{
    new_job(3, 1000);
    ck_assert_int_eq(take_order(3), ITEMS_OK);
    ck_assert_uint_eq(j->pkgs.count, 3);
    ck_assert_str_eq(j->pkgs.ids[2], "00000000-0000-4000-9000-000000000002");
}
END_TEST

START_TEST(test_zero_packages)
{
    new_job(10, 1000);
    ck_assert_int_eq(take_order(0), ITEMS_OK);
    ck_assert_int_eq(orders_complete(j), 1);
    ck_assert_int_eq(orders_next_package(j), -1);
    ck_assert_str_eq(answer_str(), "[]");
}
END_TEST

/* ---- the workflow's calls ------------------------------------------ */

/* The order call, alone; nothing until it is answered; then each
 * package once, in order; the fan-out is the loop's. */
START_TEST(test_calls_in_order)
{
    char url[WORKFLOW_URL_MAX];
    long index = 99;

    new_job(10, 1000);
    ck_assert_int_eq(orders_workflow.next(j, url, sizeof(url), &index), 1);
    ck_assert_int_eq(index, -1);
    ck_assert_str_eq(url, "http://up/maestro/v1/orders/" "0123abcd-ef45-6789-abcd-ef0123456789");
    ck_assert_int_eq(orders_workflow.next(j, url, sizeof(url), &index), 0);
    ck_assert_int_eq(orders_workflow.take(j, -1, 1, order_of(3), order_len(3), NULL),
                     WORKFLOW_MORE);
    ck_assert_int_eq(orders_workflow.next(j, url, sizeof(url), &index), 1);
    ck_assert_int_eq(index, 0);
    ck_assert_str_eq(url, "http://up/maestro/v1/orders/0123abcd-ef45-6789-abcd-ef0123456789"
                          "/packages/00000000-0000-4000-9000-000000000000/items");
    ck_assert_int_eq(orders_workflow.next(j, url, sizeof(url), &index), 1);
    ck_assert_int_eq(index, 1);
    ck_assert_int_eq(orders_workflow.next(j, url, sizeof(url), &index), 1);
    ck_assert_int_eq(index, 2);
    ck_assert_int_eq(orders_workflow.next(j, url, sizeof(url), &index), 0);
    ck_assert_int_eq(orders_workflow.take(j, 1, 1, ITEMS1("b"), strlen(ITEMS1("b")), NULL),
                     WORKFLOW_MORE);
    ck_assert_int_eq(orders_workflow.take(j, 0, 1, ITEMS1("a"), strlen(ITEMS1("a")), NULL),
                     WORKFLOW_MORE);
    ck_assert_int_eq(orders_workflow.take(j, 2, 1, ITEMS1("c"), strlen(ITEMS1("c")), NULL),
                     WORKFLOW_DONE);
    ck_assert_str_eq(answer_str(), "[" OUT1("a") "," OUT1("b") "," OUT1("c") "]");
}
END_TEST

/* A 404 of either call is the order's 404; a bad body or too many
 * packages a 502, each with its reason. */
START_TEST(test_call_failures)
{
    struct workflow_fail fail = {REPLY_HEALTH, NULL};
    char url[WORKFLOW_URL_MAX];
    long index;

    new_job(2, 1000);
    ck_assert_int_eq(orders_workflow.take(j, -1, 0, NULL, 0, &fail), WORKFLOW_FAIL);
    ck_assert_int_eq(fail.kind, REPLY_ORDER_NOT_FOUND);
    ck_assert_int_eq(orders_workflow.take(j, -1, 1, order_of(3), order_len(3), &fail),
                     WORKFLOW_FAIL);
    ck_assert_int_eq(fail.kind, REPLY_BAD_GATEWAY);
    ck_assert_str_eq(fail.why, "too many packages");
    ck_assert_int_eq(orders_workflow.take(j, -1, 1, "{}", 2, &fail), WORKFLOW_FAIL);
    ck_assert_str_eq(fail.why, "upstream answer of the wrong shape");
    ck_assert_int_eq(orders_workflow.take(j, -1, 1, order_of(2), order_len(2), &fail),
                     WORKFLOW_MORE);
    ck_assert_int_eq(orders_workflow.next(j, url, sizeof(url), &index), 1);
    ck_assert_int_eq(orders_workflow.take(j, 0, 0, NULL, 0, &fail), WORKFLOW_FAIL);
    ck_assert_int_eq(fail.kind, REPLY_ORDER_NOT_FOUND);
}
END_TEST

/* A URL that does not fit is refused, never cut. */
START_TEST(test_url_too_long)
{
    char url[40];
    long index;

    new_job(10, 1000);
    ck_assert_int_eq(orders_workflow.next(j, url, sizeof(url), &index), -1);
}
END_TEST

/* An order with no packages is done with its first answer. */
START_TEST(test_done_at_once)
{
    new_job(10, 1000);
    ck_assert_int_eq(orders_workflow.take(j, -1, 1, order_of(0), order_len(0), NULL),
                     WORKFLOW_DONE);
    ck_assert_str_eq(answer_str(), "[]");
}
END_TEST

/* ---- answer assembly -------------------------------------------------- */

START_TEST(test_out_of_order)
{
    new_job(10, 10000);
    ck_assert_int_eq(take_order(4), ITEMS_OK);
    ck_assert_int_eq(take(3, "[{\"product\":{\"code\":\"d\"},\"quantity\":1},"
                             "{\"product\":{\"code\":\"d2\"},\"quantity\":1}]"), ITEMS_OK);
    ck_assert_int_eq(orders_complete(j), 0);
    ck_assert_int_eq(take(1, ITEMS1("b")), ITEMS_OK);
    ck_assert_int_eq(take(2, ITEMS1("c")), ITEMS_OK);
    ck_assert_int_eq(orders_complete(j), 0);
    ck_assert_int_eq(take(0, ITEMS1("a")), ITEMS_OK);
    ck_assert_int_eq(orders_complete(j), 1);
    ck_assert_str_eq(answer_str(), "[" OUT1("a") "," OUT1("b") "," OUT1("c") ","
                                   OUT1("d") "," OUT1("d2") "]");
}
END_TEST

START_TEST(test_empty_packages_skipped)
{
    new_job(10, 10000);
    ck_assert_int_eq(take_order(6), ITEMS_OK);
    ck_assert_int_eq(take(5, "[]"), ITEMS_OK);
    ck_assert_int_eq(take(0, "[]"), ITEMS_OK);
    ck_assert_int_eq(take(2, "[ ]"), ITEMS_OK);
    ck_assert_int_eq(take(4, ITEMS1("e")), ITEMS_OK);
    ck_assert_int_eq(take(1, ITEMS1("b")), ITEMS_OK);
    ck_assert_int_eq(take(3, "[]"), ITEMS_OK);
    ck_assert_int_eq(orders_complete(j), 1);
    ck_assert_str_eq(answer_str(), "[" OUT1("b") "," OUT1("e") "]");
}
END_TEST

START_TEST(test_all_packages_empty)
{
    new_job(10, 10000);
    ck_assert_int_eq(take_order(3), ITEMS_OK);
    ck_assert_int_eq(take(1, "[]"), ITEMS_OK);
    ck_assert_int_eq(take(0, "[]"), ITEMS_OK);
    ck_assert_int_eq(take(2, "[]"), ITEMS_OK);
    ck_assert_int_eq(orders_complete(j), 1);
    ck_assert_str_eq(answer_str(), "[]");
}
END_TEST

START_TEST(test_only_last_nonempty)
{
    new_job(10, 10000);
    ck_assert_int_eq(take_order(3), ITEMS_OK);
    ck_assert_int_eq(take(0, "[]"), ITEMS_OK);
    ck_assert_int_eq(take(1, "[]"), ITEMS_OK);
    ck_assert_int_eq(take(2, ITEMS1("c")), ITEMS_OK);
    ck_assert_str_eq(answer_str(), "[" OUT1("c") "]");
}
END_TEST

/* ---- budgets and bad input ------------------------------------------- */

/* An answer of exactly max_answer bytes is fine, one byte more is not. */
START_TEST(test_max_answer_one_package)
{
    size_t need = strlen("[" OUT1("a") "]");

    new_job(10, need);
    ck_assert_int_eq(take_order(1), ITEMS_OK);
    ck_assert_int_eq(take(0, ITEMS1("a")), ITEMS_OK);
    ck_assert_uint_eq(strlen(answer_str()), need);
    orders_free(j);
    j = NULL;

    new_job(10, need - 1);
    ck_assert_int_eq(take_order(1), ITEMS_OK);
    ck_assert_int_eq(take(0, ITEMS1("a")), ITEMS_BAD);
    ck_assert_int_eq(orders_complete(j), 0);
}
END_TEST

START_TEST(test_max_answer_shared)
{
    size_t need = strlen("[" OUT1("a") "," OUT1("b") "," OUT1("c") "]");

    new_job(10, need);
    ck_assert_int_eq(take_order(3), ITEMS_OK);
    ck_assert_int_eq(take(2, ITEMS1("c")), ITEMS_OK);
    ck_assert_int_eq(take(0, ITEMS1("a")), ITEMS_OK);
    ck_assert_int_eq(take(1, ITEMS1("b")), ITEMS_OK);
    ck_assert_uint_eq(strlen(answer_str()), need);
    orders_free(j);
    j = NULL;

    new_job(10, need - 1);
    ck_assert_int_eq(take_order(3), ITEMS_OK);
    ck_assert_int_eq(take(2, ITEMS1("c")), ITEMS_OK);
    ck_assert_int_eq(take(0, ITEMS1("a")), ITEMS_OK);
    ck_assert_int_eq(take(1, ITEMS1("b")), ITEMS_BAD); /* the last straw */
    ck_assert_int_eq(orders_complete(j), 0);
}
END_TEST

/* Whatever the budget, an answer never passes it. */
START_TEST(test_max_answer_never_passed)
{
    size_t max = 60 + (size_t)_i * 7, len, k;
    static const char *const bodies[] = {ITEMS1("a"), "[]", ITEMS1("bb"), "[]", ITEMS1("ccc")};
    char *a;

    new_job(10, max);
    ck_assert_int_eq(take_order(5), ITEMS_OK);
    for (k = 0; k < 5; k++)
        if (take(k, bodies[k]) != ITEMS_OK)
            return;
    ck_assert_int_eq(orders_complete(j), 1);
    a = orders_answer(j, &len);
    ck_assert_uint_le(len, max);
    free(a);
}
END_TEST

START_TEST(test_package_bad_index)
{
    new_job(10, 1000);
    ck_assert_int_eq(take_order(2), ITEMS_OK);
    ck_assert_int_eq(take(2, ITEMS1("a")), ITEMS_BAD);
    ck_assert_int_eq(take(3, ITEMS1("a")), ITEMS_BAD);
    ck_assert_int_eq(take((size_t)-1, ITEMS1("a")), ITEMS_BAD);
    ck_assert_uint_eq(j->done_pkgs, 0);
    ck_assert_uint_eq(j->answer_len, 0);
    ck_assert_int_eq(orders_complete(j), 0);
}
END_TEST

START_TEST(test_package_bad_body)
{
    new_job(10, 1000);
    ck_assert_int_eq(take_order(2), ITEMS_OK);
    ck_assert_int_eq(take(0, ITEMS1("a")), ITEMS_OK);
    ck_assert_int_eq(take(1, "[{\"product\":{},\"quantity\":1}]"), ITEMS_BAD);
    ck_assert_int_eq(orders_complete(j), 0);
    ck_assert_int_eq(take(1, "<html>"), ITEMS_BAD);
    ck_assert_int_eq(take(1, ""), ITEMS_BAD);
    ck_assert_int_eq(orders_complete(j), 0);
}
END_TEST

/* ---- ownership --------------------------------------------------------- */

/* A NULL request and fragments left half-written: job_free releases all
 * (run under valgrind with CK_FORK=no to see it). */
START_TEST(test_free_partial)
{
    new_job(10, 100000);
    ck_assert_int_eq(take_order(4), ITEMS_OK);
    ck_assert_int_eq(take(0, ITEMS1("a")), ITEMS_OK);
    /* package 1 fails after its first item was written */
    ck_assert_int_eq(take(1, "[{\"product\":{\"code\":\"ok\"},\"quantity\":1},"
                             "{\"product\":{\"code\":\"no\"},\"quantity\":1.5}]"), ITEMS_BAD);
    ck_assert_uint_gt(j->frags[1].len, 0);
    orders_free(j);
    j = NULL;
    orders_free(NULL);
}
END_TEST

START_TEST(test_free_without_order)
{
    new_job(10, 1000);
    orders_free(j);
    j = NULL;
    new_job(3, 1000);
    ck_assert_int_eq(take_order(4), ITEMS_TOO_BIG);
    orders_free(j);
    j = NULL;
}
END_TEST

static int freed_ctx;
static void count_free(void *ctx)
{
    freed_ctx++;
    free(ctx);
}
static const struct workflow counting = {.noun = "test", .free = count_free};

/* The job owns its request and the workflow's state: job_free finishes
 * and frees both, and a job whose request was answered (req NULL) frees
 * only the rest. */
START_TEST(test_request_ownership)
{
    struct request *req = calloc(1, sizeof(*req));
    struct job *g;

    ck_assert_ptr_nonnull(req);
    req->fd = -1;
    freed_ctx = 0;
    g = job_new(req, &counting, malloc(8), 1000, 500);
    ck_assert_ptr_eq(g->req, req);
    ck_assert_uint_eq(g->started_ms, 1000);
    ck_assert_uint_eq(g->deadline_ms, 1500);
    ck_assert_uint_eq(g->running, 0);
    job_free(g); /* valgrind: req is freed */
    ck_assert_int_eq(freed_ctx, 1);

    g = job_new(NULL, &counting, malloc(8), 0, 1);
    job_reply(g, NULL); /* nothing to answer: does nothing */
    job_free(g);
    ck_assert_int_eq(freed_ctx, 2);
    job_free(NULL);
}
END_TEST

static Suite *orders_suite(void)
{
    Suite *s = suite_create("orders");
    TCase *tc;

    tc = tcase_create("new");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_new);
    tcase_add_test(tc, test_before_order);
    tcase_add_test(tc, test_clock);
    suite_add_tcase(s, tc);

    tc = tcase_create("take_order");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_order_bad);
    tcase_add_test(tc, test_order_too_big);
    tcase_add_test(tc, test_order_at_max);
    tcase_add_test(tc, test_zero_packages);
    suite_add_tcase(s, tc);

    tc = tcase_create("workflow");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_calls_in_order);
    tcase_add_test(tc, test_call_failures);
    tcase_add_test(tc, test_url_too_long);
    tcase_add_test(tc, test_done_at_once);
    suite_add_tcase(s, tc);

    tc = tcase_create("answer");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_out_of_order);
    tcase_add_test(tc, test_empty_packages_skipped);
    tcase_add_test(tc, test_all_packages_empty);
    tcase_add_test(tc, test_only_last_nonempty);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_max_answer_one_package);
    tcase_add_test(tc, test_max_answer_shared);
    tcase_add_loop_test(tc, test_max_answer_never_passed, 0, 60);
    tcase_add_test(tc, test_package_bad_index);
    tcase_add_test(tc, test_package_bad_body);
    suite_add_tcase(s, tc);

    tc = tcase_create("ownership");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_free_partial);
    tcase_add_test(tc, test_free_without_order);
    tcase_add_test(tc, test_request_ownership);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    arena_install(); /* as the service does: cJSON on the arena */
    sr = srunner_create(orders_suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
