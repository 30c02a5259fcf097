/* check_metrics: every status the service answers has its own label in
 * api_pedidos_requests_total (a 413 was once counted as status "0"). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"
#include "metrics.h"
#include "reply.h"

/* The statuses of every canned answer, and the 200 of answers built. */
static const enum reply_kind kinds[] = {REPLY_HEALTH, REPLY_NOT_FOUND, REPLY_BAD_METHOD,
                                        REPLY_BAD_UUID, REPLY_ORDER_NOT_FOUND, REPLY_BAD_GATEWAY,
                                        REPLY_UNAVAILABLE, REPLY_TOO_LARGE};

START_TEST(test_every_status_labelled)
{
    struct jbuf out;
    char line[128];
    size_t i;

    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        metrics_request(ROUTE_ENRICH, reply_canned(kinds[i]).status, 1);
    metrics_request(ROUTE_ENRICH, 0, 1); /* the client left */
    jbuf_init(&out, 1 << 20);
    ck_assert_int_eq(metrics_render(&out, 0), 0);
    ck_assert_int_eq(jbuf_cstr(&out), 0);
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        snprintf(line, sizeof(line), "api_pedidos_requests_total{route=\"%s\",status=\"%d\"} ",
                 route_name(ROUTE_ENRICH), reply_canned(kinds[i]).status);
        ck_assert_msg(strstr(out.data, line) != NULL, "no line %s", line);
    }
    snprintf(line, sizeof(line), "api_pedidos_requests_total{route=\"%s\",status=\"0\"} 1\n",
             route_name(ROUTE_ENRICH));
    ck_assert_msg(strstr(out.data, line) != NULL, "status 0 counted %s", "other than once");
    jbuf_free(&out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("requests");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_every_status_labelled);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
