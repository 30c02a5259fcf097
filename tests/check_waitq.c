/* check_waitq: the calls the connection gate held back start again in
 * the gate's order: those whose time ran out fail first, from the
 * oldest; connections handed on this turn go to the oldest waiting
 * calls, on their own multi handle; then the oldest take the gate's
 * room; a call whose time ran out while others went first fails when
 * its turn comes. No curl: the calls are plain structs. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "waitq.h"

#ifdef NDEBUG
#error "the tests rely on assert(): build them without NDEBUG"
#endif

#define N 8

static struct waitq q;
static struct fetch calls[N];
static char events[512];  /* what the ops were asked, in order */
static int room;          /* what the gate says */
static int fail_with;     /* expire(): this call's job ends its others */

static int id_of(const struct fetch *f)
{
    return (int)(f - calls);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
    size_t n = strlen(events);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(events + n, sizeof(events) - n, fmt, ap);
    va_end(ap);
}

static int ops_room(void *arg)
{
    (void)arg;
    note("R%d ", room);
    return room;
}

static void ops_start(void *arg, struct fetch *f, int slot)
{
    (void)arg;
    ck_assert(!f->waiting);
    note("S%d@%d ", id_of(f), slot);
}

/* Failing a job ends its other parked calls, as the loop does. */
static void ops_expire(void *arg, struct fetch *f, uint64_t now)
{
    int i;

    (void)arg;
    (void)now;
    ck_assert(!f->waiting);
    note("E%d ", id_of(f));
    for (i = 0; i < N; i++) {
        if (calls[i].owner == f->owner && calls[i].waiting && fail_with)
            waitq_unpark(&q, &calls[i]);
    }
}

static const struct waitq_ops ops = {ops_room, ops_start, ops_expire, NULL};

/* Call i, its job owner, must be over by end_ms, parked now. */
static void park(int i, int owner, uint64_t end_ms)
{
    calls[i].owner = &calls[owner];
    calls[i].end_ms = end_ms;
    calls[i].slot = 3;
    waitq_park(&q, &calls[i]);
}

static void setup(void)
{
    memset(calls, 0, sizeof(calls));
    waitq_init(&q);
    events[0] = '\0';
    room = 0;
    fail_with = 0;
}

START_TEST(test_park_leaves_multi)
{
    park(0, 0, 100);
    ck_assert(calls[0].waiting);
    ck_assert_int_eq(calls[0].slot, -1);
    ck_assert_ptr_eq(q.head, &calls[0]);
    waitq_unpark(&q, &calls[0]);
    ck_assert(!calls[0].waiting);
    ck_assert_ptr_null(q.head);
    ck_assert_ptr_null(q.tail);
}
END_TEST

/* The gate's room goes to the oldest; the rest keep waiting in order. */
START_TEST(test_oldest_first)
{
    park(0, 0, 1000);
    park(1, 1, 1000);
    park(2, 2, 1000);
    room = 2;
    waitq_resume(&q, 8, 10, &ops);
    ck_assert_str_eq(events, "R2 S0@-1 S1@-1 ");
    ck_assert_ptr_eq(q.head, &calls[2]);
    ck_assert_ptr_eq(q.tail, &calls[2]);
}
END_TEST

/* A connection handed on goes first, to the oldest, on its own handle;
 * then the room; the counts are forgotten at the end of the turn. */
START_TEST(test_handed_on_first)
{
    park(0, 0, 1000);
    park(1, 1, 1000);
    park(2, 2, 1000);
    park(3, 3, 1000);
    waitq_handed_on(&q, 5);
    waitq_handed_on(&q, 2);
    waitq_handed_on(&q, 2);
    room = 1;
    waitq_resume(&q, 8, 10, &ops);
    ck_assert_str_eq(events, "R1 S0@2 S1@2 S2@5 S3@-1 ");
    ck_assert_ptr_null(q.head);
    park(4, 4, 1000);
    events[0] = '\0';
    room = 0;
    waitq_resume(&q, 8, 20, &ops);
    ck_assert_str_eq(events, "R0 ");
    ck_assert_ptr_eq(q.head, &calls[4]);
}
END_TEST

/* Handles past those in use hand nothing on. */
START_TEST(test_handed_on_past_slots)
{
    park(0, 0, 1000);
    waitq_handed_on(&q, 6);
    waitq_resume(&q, 2, 10, &ops);
    ck_assert_str_eq(events, "R0 ");
    ck_assert_ptr_eq(q.head, &calls[0]);
}
END_TEST

/* The expired at the head fail before the gate is asked for room; one
 * that parked again (at the end, with less time) fails at its turn. */
START_TEST(test_expired_fail)
{
    park(0, 0, 100);
    park(1, 1, 90);
    park(2, 2, 500);
    park(3, 3, 120);
    park(4, 4, 500);
    room = 3;
    waitq_resume(&q, 8, 150, &ops);
    ck_assert_str_eq(events, "E0 E1 R3 S2@-1 E3 S4@-1 ");
    ck_assert_ptr_null(q.head);
}
END_TEST

/* A call's end at exactly now is past. */
START_TEST(test_expired_at_now)
{
    park(0, 0, 150);
    room = 1;
    waitq_resume(&q, 8, 150, &ops);
    ck_assert_str_eq(events, "E0 R1 ");
}
END_TEST

/* Failing a job takes its other parked calls off the queue at once:
 * the next taken is the next still waiting. */
START_TEST(test_failing_job_ends_its_calls)
{
    fail_with = 1;
    park(0, 0, 100);
    park(1, 1, 500);
    park(2, 0, 500);
    park(3, 3, 500);
    room = 2;
    waitq_resume(&q, 8, 150, &ops);
    ck_assert_str_eq(events, "E0 R2 S1@-1 S3@-1 ");
    ck_assert(!calls[2].waiting);
    ck_assert_ptr_null(q.head);
}
END_TEST

static Suite *waitq_suite(void)
{
    Suite *s = suite_create("waitq");
    TCase *tc = tcase_create("order");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_park_leaves_multi);
    tcase_add_test(tc, test_oldest_first);
    tcase_add_test(tc, test_handed_on_first);
    tcase_add_test(tc, test_handed_on_past_slots);
    tcase_add_test(tc, test_expired_fail);
    tcase_add_test(tc, test_expired_at_now);
    tcase_add_test(tc, test_failing_job_ends_its_calls);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(waitq_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
