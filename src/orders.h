/* orders: the workflow of GET /orders/{id}/items (workflow.h).
 *
 * Calls: first the order (`{maestro}/orders/{id}`, index -1), then,
 * once it has named its packages, every package's items
 * (`{maestro}/orders/{id}/packages/{uuid}/items`, index = the package's
 * place in the order); the loop starts them as its fan-out allows. A 404
 * of either call is the order's 404. The answer keeps package order
 * whatever order the items arrive in: one fragment per package, joined
 * at the end.
 *
 * struct orders owns its package list and fragments; orders_free()
 * releases all. It knows nothing of curl, sockets or the request. */
#ifndef ORDERS_H
#define ORDERS_H

#include <stddef.h>

#include "items.h"
#include "jbuf.h"
#include "uuid.h"
#include "workflow.h"

struct orders_limits {
    size_t max_packages;
    size_t max_answer; /* bytes of the whole answer */
};

struct orders {
    char order_id[UUID_STR_LEN];
    const char *maestro;       /* base URL, borrowed (outlives the order) */
    struct orders_limits lim;
    int asked;                 /* the order call was handed out */
    struct items_packages pkgs;
    struct jbuf *frags;        /* pkgs.count fragments, once the order is known */
    size_t next_pkg;           /* first package not yet handed out */
    size_t done_pkgs;
    size_t answer_len;         /* bytes of fragments so far */
};

extern const struct workflow orders_workflow;

/* NULL when out of memory. maestro is borrowed. */
struct orders *orders_new(const char *maestro, const char *order_id,
                          const struct orders_limits *lim);
/* Feeds the order document. ITEMS_OK: the packages are known (maybe 0). */
enum items_status orders_take_order(struct orders *o, const char *body, size_t len);
/* Feeds package i's items. ITEMS_OK or ITEMS_BAD (shape or size). */
enum items_status orders_take_package(struct orders *o, size_t i, const char *body, size_t len);
/* Index of the next package to fetch, or -1 when none is left to start
 * (or the order is not known yet). */
long orders_next_package(struct orders *o);
int orders_complete(const struct orders *o);
/* The answer `[...]`, malloc'd, for the caller to own; NULL on OOM. */
char *orders_answer(const struct orders *o, size_t *len);
void orders_free(struct orders *o);

#endif
