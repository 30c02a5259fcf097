#include "orders.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct orders *orders_new(const char *maestro, const char *order_id,
                          const struct orders_limits *lim)
{
    struct orders *o = calloc(1, sizeof(*o));

    if (!o)
        return NULL;
    snprintf(o->order_id, sizeof(o->order_id), "%s", order_id);
    o->maestro = maestro;
    o->lim = *lim;
    return o;
}

enum items_status orders_take_order(struct orders *o, const char *body, size_t len)
{
    enum items_status st = items_parse_order(body, len, o->lim.max_packages, &o->pkgs);
    size_t i;

    if (st != ITEMS_OK)
        return st;
    o->frags = calloc(o->pkgs.count ? o->pkgs.count : 1, sizeof(*o->frags));
    if (!o->frags)
        return ITEMS_BAD;
    for (i = 0; i < o->pkgs.count; i++)
        jbuf_init(&o->frags[i], o->lim.max_answer);
    return ITEMS_OK;
}

enum items_status orders_take_package(struct orders *o, size_t i, const char *body, size_t len)
{
    struct jbuf *f;

    if (!o->frags || i >= o->pkgs.count)
        return ITEMS_BAD;
    f = &o->frags[i];
    /* what is left of the answer budget, shared by all packages */
    f->cap = o->lim.max_answer - o->answer_len;
    if (items_render(body, len, f) != ITEMS_OK)
        return ITEMS_BAD;
    o->answer_len += f->len + 1;
    if (o->answer_len >= o->lim.max_answer)
        return ITEMS_BAD;
    o->done_pkgs++;
    return ITEMS_OK;
}

long orders_next_package(struct orders *o)
{
    if (!o->frags || o->next_pkg >= o->pkgs.count)
        return -1;
    return (long)o->next_pkg++;
}

int orders_complete(const struct orders *o)
{
    return o->frags && o->done_pkgs == o->pkgs.count;
}

char *orders_answer(const struct orders *o, size_t *len)
{
    char *out = malloc(o->answer_len + 2), *p;
    size_t i;

    if (!out)
        return NULL;
    p = out;
    *p++ = '[';
    for (i = 0; i < o->pkgs.count; i++) {
        if (o->frags[i].len == 0)
            continue;
        if (p != out + 1)
            *p++ = ',';
        memcpy(p, o->frags[i].data, o->frags[i].len);
        p += o->frags[i].len;
    }
    *p++ = ']';
    *len = (size_t)(p - out);
    return out;
}

void orders_free(struct orders *o)
{
    size_t i;

    if (!o)
        return;
    for (i = 0; o->frags && i < o->pkgs.count; i++)
        jbuf_free(&o->frags[i]);
    free(o->frags);
    items_packages_free(&o->pkgs);
    free(o);
}

/* ---- the workflow (workflow.h) ---- */

/* The order call first, alone; then the packages. */
static int orders_next(void *ctx, char *url, size_t cap, long *index)
{
    struct orders *o = ctx;
    long i;
    int n;

    if (!o->asked) {
        o->asked = 1;
        *index = -1;
        n = snprintf(url, cap, "%s/orders/%s", o->maestro, o->order_id);
    } else {
        i = orders_next_package(o);
        if (i < 0)
            return 0;
        *index = i;
        n = snprintf(url, cap, "%s/orders/%s/packages/%s/items", o->maestro, o->order_id,
                     o->pkgs.ids[i]);
    }
    return n > 0 && (size_t)n < cap ? 1 : -1;
}

static enum workflow_step orders_fail(struct workflow_fail *fail, enum reply_kind kind,
                                      const char *why)
{
    fail->kind = kind;
    fail->why = why;
    return WORKFLOW_FAIL;
}

static enum workflow_step orders_take(void *ctx, long index, int found, const char *body,
                                      size_t len, struct workflow_fail *fail)
{
    struct orders *o = ctx;
    enum items_status st;

    if (!found)
        return orders_fail(fail, REPLY_ORDER_NOT_FOUND, "upstream 404");
    if (index < 0)
        st = orders_take_order(o, body, len);
    else
        st = orders_take_package(o, (size_t)index, body, len);
    if (st == ITEMS_TOO_BIG)
        return orders_fail(fail, REPLY_BAD_GATEWAY, "too many packages");
    if (st != ITEMS_OK)
        return orders_fail(fail, REPLY_BAD_GATEWAY, "upstream answer of the wrong shape");
    return orders_complete(o) ? WORKFLOW_DONE : WORKFLOW_MORE;
}

static char *orders_wf_answer(void *ctx, size_t *len)
{
    return orders_answer(ctx, len);
}

static void orders_describe(const void *ctx, char *buf, size_t cap)
{
    const struct orders *o = ctx;

    snprintf(buf, cap, "order=%s", o->order_id);
}

static void orders_wf_free(void *ctx)
{
    orders_free(ctx);
}

/* Call -1 is the order, the others its packages' items. */
static enum workflow_call orders_kind(long index)
{
    return index < 0 ? WORKFLOW_CALL_ORDER : WORKFLOW_CALL_ITEMS;
}

const struct workflow orders_workflow = {
    .noun = "order",
    .next = orders_next,
    .take = orders_take,
    .answer = orders_wf_answer,
    .kind = orders_kind,
    .describe = orders_describe,
    .free = orders_wf_free,
};
