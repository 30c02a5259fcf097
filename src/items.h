/* items: upstream Maestro JSON in, the service's item JSON out.
 *
 * Every byte here came from the network, so each function checks the
 * whole document before trusting any of it: valid UTF-8, no control
 * bytes where JSON forbids them, no \u0000 escape (a C string would cut
 * there), numbers exactly as JSON writes them (cJSON alone takes `01`,
 * `1.`, `-.5`, which Python's json refuses), exactly one JSON value that
 * cJSON accepts (nesting capped by cJSON), and the exact shape SPEC.md
 * asks for. A member named twice counts with its last value, as in
 * Python (cJSON alone finds the first).
 * Anything else is ITEMS_BAD, which the service answers with 502.
 * cJSON's memory comes from a per-thread arena (arena.h) when
 * arena_install() was called, from malloc otherwise. */
#ifndef ITEMS_H
#define ITEMS_H

#include <stddef.h>

#include "jbuf.h"
#include "uuid.h"

enum items_status { ITEMS_OK = 0, ITEMS_BAD = -1, ITEMS_TOO_BIG = -2 };

/* Room for a package id as it goes into a URL path: the longest form
 * uuid_normalize() accepts ("urn:uuid:{...}", 47 characters) with its
 * two braces percent-encoded, and the NUL. */
#define ITEMS_ID_MAX 56

/* The packages of an order, in the order given. Owned by the caller:
 * items_packages_free() releases `ids`. */
struct items_packages {
    /* each package uuid as the upstream wrote it (checked to be a UUID
       in an accepted form, never rewritten: a case-sensitive upstream
       knows it so), with '{' and '}' percent-encoded for the URL path,
       as the predecessor's HTTP client sent them */
    char (*ids)[ITEMS_ID_MAX];
    size_t count;
};

/* Reads the order document `body[0..len)`: an object whose `packages` is
 * an array of objects, each with a `uuid` string in an accepted UUID form.
 * ITEMS_TOO_BIG when there are more than max_packages. */
enum items_status items_parse_order(const char *body, size_t len,
                                    size_t max_packages,
                                    struct items_packages *out);
void items_packages_free(struct items_packages *p);

/* Reads one package's items document (an array of objects with `product`
 * and `quantity`) and appends its items to `out` as JSON objects joined
 * by commas, no brackets (nothing for an empty array). On failure `out`
 * may hold a partial fragment: the caller discards it. Passing out's
 * cap is ITEMS_BAD too. */
enum items_status items_render(const char *body, size_t len, struct jbuf *out);

/* 1 when body[0..len) is UTF-8 with no control byte but JSON white
 * space outside strings, none at all inside them, no \u0000 escape, and
 * every number outside strings written as JSON writes numbers. The same
 * as jsonx_text_ok() (jsonx.h), where the readers share it. */
int items_text_ok(const char *body, size_t len);

#endif
