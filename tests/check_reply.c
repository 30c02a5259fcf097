/* check_reply: the canned answers of SPEC.md, byte for byte. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

/* Bodies as SPEC.md writes them (this file is UTF-8: "ã" is 2 bytes). */
#define B_HEALTH "{\"status\":\"ok\"}"
#define B_NOT_FOUND "{\"detail\":\"Not Found\"}"
#define B_BAD_METHOD "{\"detail\":\"Method Not Allowed\"}"
#define B_BAD_UUID "{\"detail\":[{\"loc\":[\"path\",\"identificacao_do_pedido\"]," \
                   "\"msg\":\"value is not a valid uuid\",\"type\":\"type_error.uuid\"}]}"
#define B_ORDER_NOT_FOUND "{\"message\":\"Pedido não encontrado\"}"
#define B_BAD_GATEWAY "{\"message\":\"Falha de comunicação com o servidor remoto\"}"
#define B_UNAVAILABLE "{\"message\":\"Serviço temporariamente indisponível\"}"
#define B_TOO_LARGE "{\"message\":\"Corpo da requisição grande demais\"}"

#define CT "Content-Type: application/json\r\n"

struct canned_case {
    enum reply_kind kind;
    int status;
    const char *body;
    size_t body_len; /* counted by hand, in bytes */
    const char *head;
};

static const struct canned_case canned[] = {
    {REPLY_HEALTH, 200, B_HEALTH, 15,
     "Status: 200 OK\r\n" CT "Content-Length: 15\r\n\r\n"},
    {REPLY_NOT_FOUND, 404, B_NOT_FOUND, 22,
     "Status: 404 Not Found\r\n" CT "Content-Length: 22\r\n\r\n"},
    {REPLY_BAD_METHOD, 405, B_BAD_METHOD, 31,
     "Status: 405 Method Not Allowed\r\n" CT "Content-Length: 31\r\nAllow: GET\r\n\r\n"},
    {REPLY_BAD_METHOD_POST, 405, B_BAD_METHOD, 31,
     "Status: 405 Method Not Allowed\r\n" CT "Content-Length: 31\r\nAllow: POST\r\n\r\n"},
    {REPLY_BAD_UUID, 422, B_BAD_UUID, 114,
     "Status: 422 Unprocessable Entity\r\n" CT "Content-Length: 114\r\n\r\n"},
    {REPLY_ORDER_NOT_FOUND, 404, B_ORDER_NOT_FOUND, 36,
     "Status: 404 Not Found\r\n" CT "Content-Length: 36\r\n\r\n"},
    {REPLY_BAD_GATEWAY, 502, B_BAD_GATEWAY, 58,
     "Status: 502 Bad Gateway\r\n" CT "Content-Length: 58\r\n\r\n"},
    {REPLY_UNAVAILABLE, 503, B_UNAVAILABLE, 52,
     "Status: 503 Service Unavailable\r\n" CT "Content-Length: 52\r\nRetry-After: 1\r\n\r\n"},
    {REPLY_TOO_LARGE, 413, B_TOO_LARGE, 49,
     "Status: 413 Content Too Large\r\n" CT "Content-Length: 49\r\n\r\n"},
};

#define NCANNED (sizeof(canned) / sizeof(canned[0]))

static struct reply r;

/* ---- canned bodies ------------------------------------------------------ */

START_TEST(test_canned_body)
{
    const struct canned_case *c = &canned[_i];

    r = reply_canned(c->kind);
    ck_assert_int_eq(r.status, c->status);
    ck_assert_uint_eq(strlen(c->body), c->body_len);
    ck_assert_uint_eq(r.len, c->body_len);
    ck_assert_mem_eq(r.body, c->body, c->body_len);
}
END_TEST

/* Each canned body is one JSON document. */
START_TEST(test_canned_body_is_json)
{
    cJSON *doc;

    r = reply_canned(canned[_i].kind);
    doc = cJSON_ParseWithLength(r.body, r.len);
    ck_assert_ptr_nonnull(doc);
    ck_assert(cJSON_IsObject(doc));
    cJSON_Delete(doc);
}
END_TEST

/* ---- reply_format_head --------------------------------------------------- */

START_TEST(test_head_exact)
{
    const struct canned_case *c = &canned[_i];
    char buf[REPLY_HEAD_MAX];
    int n;

    r = reply_canned(c->kind);
    n = reply_format_head(&r, buf, sizeof(buf));
    ck_assert_int_eq(n, (int)strlen(c->head));
    ck_assert_str_eq(buf, c->head);
}
END_TEST

/* cap must hold the head and its NUL: one byte short is -1. */
START_TEST(test_head_short_buffer)
{
    const struct canned_case *c = &canned[_i];
    size_t need = strlen(c->head), cap;
    char buf[REPLY_HEAD_MAX];

    r = reply_canned(c->kind);
    ck_assert_int_eq(reply_format_head(&r, buf, need + 1), (int)need);
    ck_assert_str_eq(buf, c->head);
    for (cap = 0; cap <= need; cap++)
        ck_assert_msg(reply_format_head(&r, buf, cap) == -1, "cap %zu accepted", cap);
}
END_TEST

START_TEST(test_head_fits_max)
{
    char buf[REPLY_HEAD_MAX];

    r = reply_canned(REPLY_UNAVAILABLE); /* the longest head */
    r.len = (size_t)-1;                  /* with the longest Content-Length */
    r.allow = "POST"; /* the longest */
    r.retry_after = 0x7fffffffffffffffL;
    ck_assert_int_gt(reply_format_head(&r, buf, sizeof(buf)), 0);
}
END_TEST

/* ---- reply_ok -------------------------------------------------------------- */

START_TEST(test_ok_borrows_body)
{
    const char *body = "[{\"sku\":\"1\",\"description\":\"Fogão\"}]";
    char buf[REPLY_HEAD_MAX];
    size_t len = strlen(body);

    ck_assert_uint_eq(len, 36); /* "ã" is two bytes */
    r = reply_ok(body, len);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_eq(r.body, body);
    ck_assert_uint_eq(r.len, len);
    ck_assert_int_gt(reply_format_head(&r, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "Status: 200 OK\r\n" CT "Content-Length: 36\r\n\r\n");
}
END_TEST

START_TEST(test_ok_empty_array)
{
    char buf[REPLY_HEAD_MAX];

    r = reply_ok("[]", 2);
    ck_assert_int_gt(reply_format_head(&r, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "Status: 200 OK\r\n" CT "Content-Length: 2\r\n\r\n");
}
END_TEST

/* The breaker's 503 carries its own wait. */
START_TEST(test_retry_after)
{
    char buf[REPLY_HEAD_MAX];

    r = reply_canned(REPLY_UNAVAILABLE);
    r.retry_after = 27;
    ck_assert_int_gt(reply_format_head(&r, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "Status: 503 Service Unavailable\r\n" CT
                          "Content-Length: 52\r\nRetry-After: 27\r\n\r\n");
}
END_TEST

static Suite *reply_suite(void)
{
    Suite *s = suite_create("reply");
    TCase *tc;

    tc = tcase_create("canned");
    tcase_add_loop_test(tc, test_canned_body, 0, NCANNED);
    tcase_add_loop_test(tc, test_canned_body_is_json, 0, NCANNED);
    suite_add_tcase(s, tc);

    tc = tcase_create("head");
    tcase_add_loop_test(tc, test_head_exact, 0, NCANNED);
    tcase_add_loop_test(tc, test_head_short_buffer, 0, NCANNED);
    tcase_add_test(tc, test_head_fits_max);
    suite_add_tcase(s, tc);

    tc = tcase_create("ok");
    tcase_add_test(tc, test_ok_borrows_body);
    tcase_add_test(tc, test_ok_empty_array);
    tcase_add_test(tc, test_retry_after);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reply_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
