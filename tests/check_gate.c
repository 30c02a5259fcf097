/* check_gate: counting the upstream connections in their set-up. */
#include <check.h>
#include <stdlib.h>

#include "gate.h"

static struct gate g;

static void setup(void)
{
    gate_init(&g, 3);
}

START_TEST(test_enter_up_to_max)
{
    ck_assert_int_eq(gate_room(&g), 3);
    ck_assert_int_eq(gate_enter(&g), 1);
    ck_assert_int_eq(gate_enter(&g), 1);
    ck_assert_int_eq(gate_enter(&g), 1);
    ck_assert_int_eq(gate_room(&g), 0);
    ck_assert_int_eq(gate_enter(&g), 0);
    ck_assert_int_eq(g.connecting, 3);
}
END_TEST

/* A connection's first request frees its place; the later requests on
 * the same (reused) connection change nothing. */
START_TEST(test_ready_once_per_connection)
{
    gate_enter(&g);
    gate_enter(&g);
    gate_ready(&g, 40001);
    ck_assert_int_eq(gate_room(&g), 2);
    gate_ready(&g, 40001);
    gate_ready(&g, 40001);
    ck_assert_int_eq(gate_room(&g), 2);
    gate_ready(&g, 40002);
    ck_assert_int_eq(gate_room(&g), 3);
}
END_TEST

/* A socket closed before it was ready frees its place; a ready one that
 * closes was counted out already, and its port may be used again. */
START_TEST(test_closed)
{
    gate_enter(&g);
    gate_enter(&g);
    gate_ready(&g, 50000);
    gate_closed(&g, 50000);
    ck_assert_int_eq(gate_room(&g), 2);
    gate_closed(&g, 0); /* never connected */
    ck_assert_int_eq(gate_room(&g), 3);
    gate_enter(&g);     /* a new connection on the same port number */
    ck_assert_int_eq(gate_room(&g), 2);
    gate_ready(&g, 50000);
    ck_assert_int_eq(gate_room(&g), 3);
}
END_TEST

/* Nothing drives the count below zero or past the port range. */
/* A ready connection that closes without its port leaves a stale bit;
 * the next connection given that port is then never counted out by
 * gate_ready. Its count goes once no socket is open to back it. */
START_TEST(test_stale_port_never_blocks)
{
    gate_enter(&g);
    gate_ready(&g, 40005);
    gate_closed(&g, 0); /* closed, port not told: bit 40005 stays */
    ck_assert_int_eq(g.open, 0);
    gate_enter(&g);
    gate_ready(&g, 40005); /* a new connection on that port: no count out */
    ck_assert_int_eq(gate_room(&g), 2);
    gate_closed(&g, 40005);
    ck_assert_int_eq(g.open, 0);
    ck_assert_int_eq(g.connecting, 0);
    ck_assert_int_eq(gate_room(&g), 3);
}
END_TEST

START_TEST(test_bounds)
{
    gate_closed(&g, 0);
    gate_closed(&g, 1234);
    gate_ready(&g, 0);
    gate_ready(&g, -1);
    gate_ready(&g, GATE_PORTS);
    ck_assert_int_eq(g.connecting, 0);
    ck_assert_int_eq(gate_room(&g), 3);
    gate_init(&g, 0);
    ck_assert_int_eq(gate_room(&g), 1);
    gate_ready(&g, 65535);
    gate_closed(&g, 65535);
    ck_assert_int_eq(gate_room(&g), 1);
}
END_TEST

static Suite *gate_suite(void)
{
    Suite *s = suite_create("gate");
    TCase *tc = tcase_create("counting");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_enter_up_to_max);
    tcase_add_test(tc, test_ready_once_per_connection);
    tcase_add_test(tc, test_closed);
    tcase_add_test(tc, test_stale_port_never_blocks);
    tcase_add_test(tc, test_bounds);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(gate_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
