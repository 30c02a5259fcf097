/* reply: the answers of SPEC.md and how one is written to FastCGI.
 *
 * A struct reply owns its FastCGI request and, when `owned` is set, its
 * body: reply_send() writes status, headers and body, finishes and frees
 * the request; reply_free() then releases the rest. */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>
#include <fcgiapp.h>

enum reply_kind {
    REPLY_HEALTH,          /* 200 {"status":"ok"} */
    REPLY_NOT_FOUND,       /* 404 {"detail":"Not Found"} */
    REPLY_BAD_METHOD,      /* 405 with Allow: GET */
    REPLY_BAD_UUID,        /* 422 pydantic-style detail */
    REPLY_ORDER_NOT_FOUND, /* 404 Pedido não encontrado */
    REPLY_BAD_GATEWAY,     /* 502 */
    REPLY_UNAVAILABLE,     /* 503 with Retry-After */
};

struct reply {
    FCGX_Request *req;
    int status;
    const char *body;
    size_t len;
    char *owned;           /* body to free, or NULL for a canned one */
    const char *headers;   /* extra header lines, each ending in \r\n */
    struct reply *next;    /* for the writer's queue */
};

/* A canned answer for req; NULL when out of memory. */
struct reply *reply_canned(FCGX_Request *req, enum reply_kind kind);
/* A 200 whose body (malloc'd, len bytes) the reply takes over. */
struct reply *reply_ok(FCGX_Request *req, char *body, size_t len);
#define REPLY_HEAD_MAX 256

/* The CGI-style head (Status, Content-Type, Content-Length, extra
 * headers, blank line) into buf; its length, or -1 if cap is short. */
int reply_format_head(const struct reply *r, char *buf, size_t cap);
/* Writes the answer, then finishes and frees the FastCGI request.
 * Returns 0, or -1 when the web server had gone (nothing to do then). */
int reply_send(struct reply *r);
void reply_free(struct reply *r);

/* Frees an accepted request that will never be answered. */
void reply_drop_request(FCGX_Request *req);

#endif
