/* catalog: the Magalu catalog's answers in, POST /orders/enriched's
 * answer out.
 *
 * GET $MAGALU_API_URL/catalogs/{code} answers a document such as
 *   {"code": "190719400", "brand": "Indusat",
 *    "description": "Suporte para TV Fixo at\u00e9 70\u201d",
 *    "gtin": "8640801116115"}
 * which is read as strictly as Maestro's (jsonx.h) and becomes the
 * fragment {"name":...,"description":...,"gtin":...}; the fragments of
 * all codes then make {"items":{"<code>":<fragment>,...},"missing":[...]}.
 * Nothing here allocates but cJSON (on the per-thread arena of arena.h
 * when arena_install() was called) and the caller's jbufs. */
#ifndef CATALOG_H
#define CATALOG_H

#include <stddef.h>

#include "codes.h"
#include "jbuf.h"

/* The longest gtin kept, in digits. */
#define CATALOG_GTIN_MAX 64

/* Reads the catalog document body[0..len) for the code asked and
 * appends {"name":...,"description":...,"gtin":...} to `out`: 0, or -1
 * when the document is not acceptable (the caller answers 502) or the
 * fragment would pass out's cap; on -1, out is as it was.
 * Acceptable: strict JSON text (jsonx_text_ok), an object;
 *   code         required: a string equal to `code`, or a JSON integer
 *                whose digits as written equal it;
 *   gtin         required: a string of 1..CATALOG_GTIN_MAX ASCII digits,
 *                or a non-negative JSON integer, its digits kept as the
 *                document wrote them (no double: 20 digits survive);
 *                always written as a string;
 *   description  a string, or missing/null: "";
 *   name         a string, or missing/null: the description.
 * Strings go out with every character the upstream sent, re-escaped. */
int catalog_render(const char *body, size_t len, const char *code, struct jbuf *out);

/* Appends {"items":{"<code>":<frag>,...},"missing":["<code>",...]} to
 * `out`: c's codes in c's order, frags[i] (c->count of them) the
 * fragment of c->code[i], or empty (len 0) when that code is missing.
 * 0, or -1 when out's cap was passed (out then holds a partial answer). */
int catalog_answer(const struct codes *c, const struct jbuf *frags, struct jbuf *out);

#endif
