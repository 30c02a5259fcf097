/* codes: the body of POST /orders/enriched, {"items": ["<code>", ...]}.
 *
 * The body comes from the client, so it is read as strictly as the
 * upstream bodies (jsonx.h: clean UTF-8, JSON numbers, one value, the
 * last of two members of one name) and a refusal is the 422 body the
 * predecessor (FastAPI, pydantic) sent, pydantic style:
 *   {"detail":[{"loc":[...],"msg":"...","type":"..."}, ...]}
 * with one entry per bad element, in order, as pydantic lists them.
 * cJSON's memory comes from the per-thread arena (arena.h) when
 * arena_install() was called. */
#ifndef CODES_H
#define CODES_H

#include <stddef.h>

#include "jbuf.h"

/* A product code: 1 to CODES_CODE_MAX ASCII letters and digits. */
#define CODES_CODE_MAX 64

enum codes_status {
    CODES_OK = 0,
    CODES_INVALID = -1, /* a 422: `detail` holds its whole body */
    CODES_NOMEM = -2    /* memory ran out, or the 422 body passed
                           detail's cap (the service answers 503:
                           detail is partial) */
};

/* The distinct codes of a request, in order of first appearance, each
 * NUL-terminated. Owned by the caller: codes_free() releases `code`
 * (and may be called twice, or on a struct codes_parse() failed on). */
struct codes {
    char (*code)[CODES_CODE_MAX + 1];
    size_t count;
};

/* Reads the request body body[0..len). CODES_OK: `out` holds its
 * distinct codes (count 0 for {"items": []}). CODES_INVALID: `out` is
 * empty and the 422 body is appended to `detail` (initialised by the
 * caller; its cap bounds it: at most max_codes entries). More than
 * max_codes elements is one error, found at the first element past
 * max_codes by a scan that allocates nothing, before any parse: what
 * follows it is not read (a body both too long and broken further on is
 * told too long).
 * A code is kept exactly (case-sensitive). */
int codes_parse(const char *body, size_t len, size_t max_codes,
                struct codes *out, struct jbuf *detail);
void codes_free(struct codes *c);

/* 1 when s[0..n) is a product code (1..CODES_CODE_MAX ASCII alnum). */
int codes_valid(const char *s, size_t n);

#endif
