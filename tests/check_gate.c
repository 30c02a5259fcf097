/* check_gate: the upstream sockets in their set-up, listed by descriptor. */
#include <check.h>
#include <stdlib.h>

#include "gate.h"

#define SETUP_MS 2000

static struct gate g;
static int ports[256]; /* local port of each fake descriptor */
static int lookups;

static int port_of(int fd)
{
    lookups++;
    return fd >= 0 && fd < 256 ? ports[fd] : 0;
}

static void setup(void)
{
    int fd;

    for (fd = 0; fd < 256; fd++)
        ports[fd] = 40000 + fd;
    lookups = 0;
    ck_assert_int_eq(gate_init(&g, 3, SETUP_MS), 0);
}

static void teardown(void)
{
    gate_free(&g);
}

START_TEST(test_enter_up_to_max)
{
    ck_assert_int_eq(gate_room(&g, 0), 3);
    ck_assert_int_eq(gate_enter(&g, 10, 0), 0);
    ck_assert_int_eq(gate_enter(&g, 11, 0), 0);
    ck_assert_int_eq(gate_enter(&g, 12, 0), 0);
    ck_assert_int_eq(gate_room(&g, 1), 0);
}
END_TEST

/* A connection's first request frees its place; later requests on the
 * same (reused) connection, or on one never listed, change nothing. */
START_TEST(test_ready_once_per_connection)
{
    gate_enter(&g, 10, 0);
    gate_enter(&g, 11, 0);
    gate_ready(&g, ports[11], port_of);
    ck_assert_int_eq(gate_room(&g, 1), 2);
    gate_ready(&g, ports[11], port_of);
    gate_ready(&g, 39999, port_of);
    ck_assert_int_eq(gate_room(&g, 1), 2);
    gate_ready(&g, ports[10], port_of);
    ck_assert_int_eq(gate_room(&g, 1), 3);
}
END_TEST

/* Each listed socket's port is looked up once, not on every request. */
START_TEST(test_port_looked_up_once)
{
    gate_enter(&g, 10, 0);
    gate_enter(&g, 11, 0);
    gate_ready(&g, 39999, port_of);
    gate_ready(&g, 39998, port_of);
    gate_ready(&g, 39997, port_of);
    ck_assert_int_eq(lookups, 2);
}
END_TEST

/* A socket not connected yet has no port: it is looked up again later. */
START_TEST(test_port_not_bound_yet)
{
    gate_enter(&g, 10, 0);
    ports[10] = 0;
    gate_ready(&g, 40011, port_of);
    ck_assert_int_eq(gate_room(&g, 1), 2);
    ports[10] = 40011;
    gate_ready(&g, 40011, port_of);
    ck_assert_int_eq(gate_room(&g, 1), 3);
}
END_TEST

/* A socket closed before it was ready frees its place; one that was
 * ready, or never listed, changes nothing when it closes. */
START_TEST(test_closed)
{
    gate_enter(&g, 10, 0);
    gate_enter(&g, 11, 0);
    gate_ready(&g, ports[10], port_of);
    gate_closed(&g, 10);
    ck_assert_int_eq(gate_room(&g, 1), 2);
    gate_closed(&g, 11);
    ck_assert_int_eq(gate_room(&g, 1), 3);
    gate_closed(&g, 11);
    gate_closed(&g, 99);
    ck_assert_int_eq(gate_room(&g, 1), 3);
}
END_TEST

/* What shut a process for good with the port counting: a socket whose
 * close we never hear of, or whose ready we miss. The gate is full, and
 * opens again once those sockets have been listed for longer than a
 * set-up can last, not before (it looks only when it is full). */
START_TEST(test_lost_sockets_expire)
{
    gate_enter(&g, 10, 1000);
    gate_enter(&g, 11, 1000);
    gate_enter(&g, 12, 1500);
    ck_assert_int_eq(gate_room(&g, 1000 + SETUP_MS - 1), 0);
    ck_assert_int_eq(gate_room(&g, 1000 + SETUP_MS), 2);
    gate_enter(&g, 13, 3000);
    gate_enter(&g, 14, 3000);
    ck_assert_int_eq(gate_room(&g, 1500 + SETUP_MS - 1), 0);
    ck_assert_int_eq(gate_room(&g, 1500 + SETUP_MS), 1);
}
END_TEST

/* A descriptor listed again was closed without our hearing and opened
 * anew: it counts once, from its new opening. */
START_TEST(test_descriptor_listed_again)
{
    gate_set_max(&g, 1);
    gate_enter(&g, 10, 0);
    gate_enter(&g, 10, 1500);
    ck_assert_int_eq(g.n, 1);
    ck_assert_int_eq(gate_room(&g, SETUP_MS), 0);
    ck_assert_int_eq(gate_room(&g, 1500 + SETUP_MS), 1);
}
END_TEST

/* Two listed sockets with one port (a failed connect still tells the
 * port it lost): one leaves on the request, the other at its close. */
START_TEST(test_shared_port)
{
    ports[11] = ports[10];
    gate_enter(&g, 10, 0);
    gate_enter(&g, 11, 0);
    gate_ready(&g, ports[10], port_of);
    ck_assert_int_eq(gate_room(&g, 1), 2);
    gate_closed(&g, 10);
    gate_closed(&g, 11);
    ck_assert_int_eq(gate_room(&g, 1), 3);
}
END_TEST

/* The list grows past its first size; max is at least 1. */
START_TEST(test_bounds)
{
    int fd;

    gate_set_max(&g, 200);
    for (fd = 0; fd < 150; fd++)
        ck_assert_int_eq(gate_enter(&g, fd, 0), 0);
    ck_assert_int_eq(gate_room(&g, 1), 50);
    for (fd = 0; fd < 150; fd++)
        gate_closed(&g, fd);
    ck_assert_int_eq(gate_room(&g, 1), 200);
    gate_set_max(&g, 0);
    ck_assert_int_eq(gate_room(&g, 1), 1);
    gate_ready(&g, 0, port_of);
    gate_ready(&g, -1, port_of);
    ck_assert_int_eq(lookups, 0);
}
END_TEST

static Suite *gate_suite(void)
{
    Suite *s = suite_create("gate");
    TCase *tc = tcase_create("counting");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_enter_up_to_max);
    tcase_add_test(tc, test_ready_once_per_connection);
    tcase_add_test(tc, test_port_looked_up_once);
    tcase_add_test(tc, test_port_not_bound_yet);
    tcase_add_test(tc, test_closed);
    tcase_add_test(tc, test_lost_sockets_expire);
    tcase_add_test(tc, test_descriptor_listed_again);
    tcase_add_test(tc, test_shared_port);
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
