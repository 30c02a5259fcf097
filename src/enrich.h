/* enrich: the workflow of POST /orders/enriched (workflow.h).
 *
 * Calls: `{catalog}/{code}` for every distinct code of the request
 * (codes.h parsed and checked them: ASCII letters and digits only, so
 * they go into the URL as they are), all at once within the loop's
 * fan-out. A 404 puts the code in "missing" and is no failure; an
 * answer of the wrong shape (catalog.h) fails the whole request (502):
 * never a partial answer. The answer keeps the request's order: one
 * fragment per code, joined by catalog_answer().
 *
 * struct enrich owns its codes and fragments; enrich_free() releases
 * all. It knows nothing of curl, sockets or the request. */
#ifndef ENRICH_H
#define ENRICH_H

#include <stddef.h>

#include "codes.h"
#include "jbuf.h"
#include "workflow.h"

struct enrich {
    const char *catalog;   /* base URL, borrowed (outlives the request) */
    struct codes codes;    /* owned */
    struct jbuf *frags;    /* one per code; empty: missing (or not in yet) */
    size_t next;           /* first code not yet asked for */
    size_t done;           /* codes answered */
    size_t max_answer;     /* bytes of the whole answer */
    size_t answer_len;     /* bytes of fragments so far */
};

extern const struct workflow enrich_workflow;

/* Takes *codes (left empty) on success; NULL when out of memory, and then
 * *codes is still the caller's. catalog is borrowed. */
struct enrich *enrich_new(const char *catalog, struct codes *codes, size_t max_answer);
void enrich_free(struct enrich *e);

#endif
