#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reply_canned_def {
    int status;
    const char *body;
    const char *headers;
};

static const struct reply_canned_def reply_table[] = {
    [REPLY_HEALTH] = {200, "{\"status\":\"ok\"}", ""},
    [REPLY_NOT_FOUND] = {404, "{\"detail\":\"Not Found\"}", ""},
    [REPLY_BAD_METHOD] = {405, "{\"detail\":\"Method Not Allowed\"}", "Allow: GET\r\n"},
    [REPLY_BAD_UUID] = {422,
                        "{\"detail\":[{\"loc\":[\"path\",\"identificacao_do_pedido\"],"
                        "\"msg\":\"value is not a valid uuid\",\"type\":\"type_error.uuid\"}]}",
                        ""},
    [REPLY_ORDER_NOT_FOUND] = {404, "{\"message\":\"Pedido n\xc3\xa3o encontrado\"}", ""},
    [REPLY_BAD_GATEWAY] = {502, "{\"message\":\"Falha de comunica\xc3\xa7\xc3\xa3o com o servidor remoto\"}", ""},
    [REPLY_UNAVAILABLE] = {503, "{\"message\":\"Servi\xc3\xa7o temporariamente indispon\xc3\xadvel\"}",
                           "Retry-After: 1\r\n"},
};

static const char *reply_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 422: return "Unprocessable Entity";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

static struct reply *reply_new(FCGX_Request *req, int status)
{
    struct reply *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->req = req;
    r->status = status;
    r->headers = "";
    return r;
}

struct reply *reply_canned(FCGX_Request *req, enum reply_kind kind)
{
    const struct reply_canned_def *d = &reply_table[kind];
    struct reply *r = reply_new(req, d->status);

    if (!r)
        return NULL;
    r->body = d->body;
    r->len = strlen(d->body);
    r->headers = d->headers;
    return r;
}

struct reply *reply_ok(FCGX_Request *req, char *body, size_t len)
{
    struct reply *r = reply_new(req, 200);

    if (!r)
        return NULL;
    r->body = body;
    r->owned = body;
    r->len = len;
    return r;
}

int reply_format_head(const struct reply *r, char *buf, size_t cap)
{
    int n = snprintf(buf, cap,
                     "Status: %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n",
                     r->status, reply_reason(r->status), r->len, r->headers);

    return n > 0 && (size_t)n < cap ? n : -1;
}

int reply_send(struct reply *r)
{
    char head[REPLY_HEAD_MAX];
    int n = reply_format_head(r, head, sizeof(head)), result = 0;

    if (n < 0 || FCGX_PutStr(head, n, r->req->out) < 0 ||
        FCGX_PutStr(r->body, (int)r->len, r->req->out) < 0)
        result = -1;
    reply_drop_request(r->req);
    r->req = NULL;
    return result;
}

void reply_drop_request(FCGX_Request *req)
{
    if (!req)
        return;
    FCGX_Finish_r(req);
    FCGX_Free(req, 1);
    free(req);
}

void reply_free(struct reply *r)
{
    if (!r)
        return;
    reply_drop_request(r->req);
    free(r->owned);
    free(r);
}
