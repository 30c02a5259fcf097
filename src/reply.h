/* reply: the answers of SPEC.md, as values, and their CGI head.
 *
 * A struct reply borrows its body: canned bodies are static strings, a
 * 200's body belongs to whoever built it. Nothing here allocates. */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

enum reply_kind {
    REPLY_HEALTH,          /* 200 {"status":"ok"} */
    REPLY_NOT_FOUND,       /* 404 {"detail":"Not Found"} */
    REPLY_BAD_METHOD,      /* 405 with Allow: GET */
    REPLY_BAD_METHOD_POST, /* 405 with Allow: POST */
    REPLY_BAD_UUID,        /* 422 pydantic-style detail */
    REPLY_ORDER_NOT_FOUND, /* 404 Pedido não encontrado */
    REPLY_BAD_GATEWAY,     /* 502 */
    REPLY_UNAVAILABLE,     /* 503 with Retry-After */
    REPLY_TOO_LARGE,       /* 413: a request body past 1 MiB */
};

struct reply {
    int status;
    const char *body;
    size_t len;
    const char *allow;     /* an Allow header's methods (405), or NULL */
    long retry_after;      /* seconds for Retry-After; 0: no header */
    const char *content_type; /* NULL: application/json */
};

#define REPLY_HEAD_MAX 256

/* The canned answer of SPEC.md for kind (a 503 says Retry-After: 1). */
struct reply reply_canned(enum reply_kind kind);
/* A 200 with the given JSON body (borrowed). */
struct reply reply_ok(const char *body, size_t len);
/* Any status with a JSON body (borrowed), e.g. a 422 built per request. */
struct reply reply_json(int status, const char *body, size_t len);
/* A 200 with a body (borrowed) of another type. */
struct reply reply_typed(const char *body, size_t len, const char *content_type);
/* The CGI-style head (Status, Content-Type, Content-Length, the extra
 * headers, blank line) into buf; its length, or -1 if cap is short. */
int reply_format_head(const struct reply *r, char *buf, size_t cap);

#endif
