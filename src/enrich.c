#include "enrich.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

struct enrich *enrich_new(const char *catalog, struct codes *codes, size_t max_answer)
{
    struct enrich *e = calloc(1, sizeof(*e));
    size_t i;

    if (!e)
        return NULL;
    e->frags = calloc(codes->count ? codes->count : 1, sizeof(*e->frags));
    if (!e->frags) {
        free(e);
        return NULL;
    }
    for (i = 0; i < codes->count; i++)
        jbuf_init(&e->frags[i], max_answer);
    e->catalog = catalog;
    e->max_answer = max_answer;
    e->codes = *codes;
    memset(codes, 0, sizeof(*codes));
    return e;
}

void enrich_free(struct enrich *e)
{
    size_t i;

    if (!e)
        return;
    for (i = 0; i < e->codes.count; i++)
        jbuf_free(&e->frags[i]);
    free(e->frags);
    codes_free(&e->codes);
    free(e);
}

static int enrich_next(void *ctx, char *url, size_t cap, long *index)
{
    struct enrich *e = ctx;
    int n;

    if (e->next >= e->codes.count)
        return 0;
    *index = (long)e->next;
    n = snprintf(url, cap, "%s/%s", e->catalog, e->codes.code[e->next]);
    e->next++;
    return n > 0 && (size_t)n < cap ? 1 : -1;
}

static enum workflow_step enrich_fail(struct workflow_fail *fail, const char *why)
{
    fail->kind = REPLY_BAD_GATEWAY;
    fail->why = why;
    return WORKFLOW_FAIL;
}

/* A 404 leaves the code's fragment empty: missing. */
static enum workflow_step enrich_take(void *ctx, long index, int found, const char *body,
                                      size_t len, struct workflow_fail *fail)
{
    struct enrich *e = ctx;
    struct jbuf *f;

    if (index < 0 || (size_t)index >= e->codes.count)
        return enrich_fail(fail, "answer to a call never made");
    f = &e->frags[index];
    if (found) {
        /* what is left of the answer budget, shared by all codes */
        f->cap = e->max_answer - e->answer_len;
        if (catalog_render(body, len, e->codes.code[index], f) != 0)
            return enrich_fail(fail, "catalog answer of the wrong shape, or past --max-answer");
        e->answer_len += f->len + 1;
        if (e->answer_len >= e->max_answer)
            return enrich_fail(fail, "answer too big");
    }
    e->done++;
    return e->done == e->codes.count ? WORKFLOW_DONE : WORKFLOW_MORE;
}

static char *enrich_answer(void *ctx, size_t *len)
{
    struct enrich *e = ctx;
    struct jbuf out;

    /* codes are short ASCII: the answer is the fragments and a little */
    jbuf_init(&out, e->answer_len + e->codes.count * (CODES_CODE_MAX + 8) + 64);
    if (catalog_answer(&e->codes, e->frags, &out) != 0) {
        jbuf_free(&out);
        return NULL;
    }
    return jbuf_take(&out, len);
}

static void enrich_describe(const void *ctx, char *buf, size_t cap)
{
    const struct enrich *e = ctx;

    snprintf(buf, cap, "codes=%zu", e->codes.count);
}

static void enrich_wf_free(void *ctx)
{
    enrich_free(ctx);
}

static enum workflow_call enrich_kind(long index)
{
    (void)index;
    return WORKFLOW_CALL_CATALOG;
}

const struct workflow enrich_workflow = {
    .noun = "enrichment",
    .next = enrich_next,
    .take = enrich_take,
    .answer = enrich_answer,
    .kind = enrich_kind,
    .describe = enrich_describe,
    .free = enrich_wf_free,
};
