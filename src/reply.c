#include "reply.h"

#include <stdio.h>
#include <string.h>

static const struct reply reply_table[] = {
    [REPLY_HEALTH] = {200, "{\"status\":\"ok\"}", 0, 0, 0, NULL},
    [REPLY_NOT_FOUND] = {404, "{\"detail\":\"Not Found\"}", 0, 0, 0, NULL},
    [REPLY_BAD_METHOD] = {405, "{\"detail\":\"Method Not Allowed\"}", 0, "GET", 0, NULL},
    [REPLY_BAD_METHOD_POST] = {405, "{\"detail\":\"Method Not Allowed\"}", 0, "POST", 0, NULL},
    [REPLY_BAD_UUID] = {422,
                        "{\"detail\":[{\"loc\":[\"path\",\"identificacao_do_pedido\"],"
                        "\"msg\":\"value is not a valid uuid\",\"type\":\"type_error.uuid\"}]}",
                        0, 0, 0, NULL},
    [REPLY_ORDER_NOT_FOUND] = {404, "{\"message\":\"Pedido n\xc3\xa3o encontrado\"}", 0, 0, 0, NULL},
    [REPLY_BAD_GATEWAY] = {502, "{\"message\":\"Falha de comunica\xc3\xa7\xc3\xa3o com o servidor remoto\"}",
                           0, 0, 0, NULL},
    [REPLY_UNAVAILABLE] = {503, "{\"message\":\"Servi\xc3\xa7o temporariamente indispon\xc3\xadvel\"}",
                           0, 0, 1, NULL},
    [REPLY_TOO_LARGE] = {413, "{\"message\":\"Corpo da requisi\xc3\xa7\xc3\xa3o grande demais\"}", 0, 0, 0,
                         NULL},
};

static const char *reply_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Entity";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

struct reply reply_canned(enum reply_kind kind)
{
    struct reply r = reply_table[kind];

    r.len = strlen(r.body);
    return r;
}

struct reply reply_ok(const char *body, size_t len)
{
    struct reply r = {200, body, len, 0, 0, NULL};

    return r;
}

struct reply reply_json(int status, const char *body, size_t len)
{
    struct reply r = {status, body, len, 0, 0, NULL};

    return r;
}

struct reply reply_typed(const char *body, size_t len, const char *content_type)
{
    struct reply r = {200, body, len, 0, 0, content_type};

    return r;
}

int reply_format_head(const struct reply *r, char *buf, size_t cap)
{
    char retry[40] = "", allow[16] = "";
    int n;

    if (r->retry_after > 0)
        snprintf(retry, sizeof(retry), "Retry-After: %ld\r\n", r->retry_after);
    if (r->allow)
        snprintf(allow, sizeof(allow), "Allow: %s\r\n", r->allow);
    n = snprintf(buf, cap,
                 "Status: %d %s\r\nContent-Type: %s\r\n"
                 "Content-Length: %zu\r\n%s%s\r\n",
                 r->status, reply_reason(r->status),
                 r->content_type ? r->content_type : "application/json", r->len,
                 allow, retry);
    return n > 0 && (size_t)n < cap ? n : -1;
}
