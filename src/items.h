/* items: upstream Maestro JSON in, the service's item JSON out.
 *
 * Every byte here came from the network, so each function checks the
 * whole document before trusting any of it: valid UTF-8, no control
 * bytes where JSON forbids them, no \u0000 escape (a C string would cut
 * there), exactly one JSON value that cJSON accepts (nesting capped by
 * cJSON), and the exact shape SPEC.md asks for.
 * Anything else is ITEMS_BAD, which the service answers with 502.
 * cJSON's memory comes from a per-thread arena (arena.h) when
 * arena_install() was called, from malloc otherwise. */
#ifndef ITEMS_H
#define ITEMS_H

#include <stddef.h>

#include "jbuf.h"
#include "uuid.h"

enum items_status { ITEMS_OK = 0, ITEMS_BAD = -1, ITEMS_TOO_BIG = -2 };

/* The packages of an order, in the order given. Owned by the caller:
 * items_packages_free() releases `ids`. */
struct items_packages {
    char (*ids)[UUID_STR_LEN]; /* canonical package uuids */
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
 * space outside strings, none at all inside them, and no \u0000 escape. */
int items_text_ok(const char *body, size_t len);

#endif
