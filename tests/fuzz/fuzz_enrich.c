/* libFuzzer target: codes.c and catalog.c, the readers of
 * POST /orders/enriched (the client's body, the catalog's answers).
 *
 * The first input byte picks the reader: even, codes_parse on the rest;
 * odd, catalog_render on the rest, for the code (byte >> 1) % 4 of
 * fuzz_asked[] (so numeric and alphabetic codes are both asked). The
 * rest is copied into a buffer of exactly its size, as the service holds
 * bodies, so AddressSanitizer sees any read past the end. Invariants
 * (abort() on violation):
 *
 *   codes_parse: a known status, never CODES_NOMEM with a roomy detail;
 *     CODES_OK: no detail, count <= max, every code valid and distinct,
 *     and {"items":[those codes]} reads back the same codes;
 *     CODES_INVALID: no codes, and detail is one JSON object (clean
 *     text) {"detail":[1..max entries {"loc":[...],"msg":s,"type":s}]};
 *   catalog_render: 0: the fragment is clean JSON text, one object with
 *     exactly name, description, gtin (strings; gtin 1..64 digits); the
 *     cap is exact (cap = its length: the same; one less: -1); and
 *     catalog_answer with it is one JSON object; -1: out as it was.
 *
 * Built and run by `make fuzz` / `make fuzz-smoke` (see Makefile.am). */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "catalog.h"
#include "codes.h"
#include "jbuf.h"
#include "jsonx.h"

#define FUZZ_MAX_CODES 16
#define FUZZ_CAP (1 << 20)

static const char *const fuzz_asked[] = {"190719400", "aad6k4fgdj", "A1", "0"};

static void fuzz_fail(const char *why)
{
    fprintf(stderr, "fuzz_enrich: invariant violated: %s\n", why);
    abort();
}

/* The one JSON value of b (clean text), or abort. Caller deletes it. */
static cJSON *fuzz_json(const struct jbuf *b, const char *what)
{
    cJSON *doc;

    if (b->len == 0 || !jsonx_text_ok(b->data, b->len))
        fuzz_fail(what);
    doc = jsonx_parse(b->data, b->len);
    if (!doc)
        fuzz_fail(what);
    return doc;
}

static void fuzz_check_entry(const cJSON *e)
{
    const cJSON *loc = cJSON_GetObjectItemCaseSensitive(e, "loc");
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "msg");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
    int n = cJSON_GetArraySize(e);

    if (n != 3 || !cJSON_IsArray(loc) || !cJSON_IsString(msg) || !cJSON_IsString(type))
        fuzz_fail("codes_parse: a detail entry is not loc, msg, type");
    n = cJSON_GetArraySize(loc);
    if (n < 1 || n > 3 || strcmp(cJSON_GetArrayItem(loc, 0)->valuestring ?
                                 cJSON_GetArrayItem(loc, 0)->valuestring : "", "body") != 0)
        fuzz_fail("codes_parse: loc is not [\"body\", ...]");
}

static void fuzz_check_detail(const struct jbuf *detail)
{
    cJSON *doc = fuzz_json(detail, "codes_parse: detail is not one clean JSON value");
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(doc, "detail"), *e;
    int n = cJSON_GetArraySize(list);

    if (!cJSON_IsObject(doc) || cJSON_GetArraySize(doc) != 1 || !cJSON_IsArray(list) ||
        n < 1 || n > FUZZ_MAX_CODES)
        fuzz_fail("codes_parse: detail is not {\"detail\":[1..max entries]}");
    cJSON_ArrayForEach(e, list)
        fuzz_check_entry(e);
    cJSON_Delete(doc);
}

/* {"items":[c's codes]} gives c back. */
static void fuzz_codes_again(const struct codes *c)
{
    struct jbuf b, detail;
    struct codes again;
    size_t i;

    jbuf_init(&b, FUZZ_CAP);
    jbuf_init(&detail, FUZZ_CAP);
    jbuf_puts(&b, "{\"items\":[");
    for (i = 0; i < c->count; i++) {
        if (i)
            jbuf_putc(&b, ',');
        jbuf_put_json_str(&b, c->code[i], strlen(c->code[i]));
    }
    jbuf_puts(&b, "]}");
    if (codes_parse(b.data, b.len, FUZZ_MAX_CODES, &again, &detail) != CODES_OK ||
        again.count != c->count)
        fuzz_fail("codes_parse: its codes do not read back");
    for (i = 0; i < c->count; i++)
        if (strcmp(again.code[i], c->code[i]) != 0)
            fuzz_fail("codes_parse: its codes read back otherwise");
    codes_free(&again);
    jbuf_free(&b);
    jbuf_free(&detail);
}

static void fuzz_codes_ok(const struct codes *c, const struct jbuf *detail)
{
    size_t i, j;

    if (detail->len || c->count > FUZZ_MAX_CODES || (c->count && !c->code))
        fuzz_fail("codes_parse: CODES_OK with a detail or too many codes");
    for (i = 0; i < c->count; i++) {
        if (!codes_valid(c->code[i], strlen(c->code[i])))
            fuzz_fail("codes_parse: kept a code that is not one");
        for (j = 0; j < i; j++)
            if (strcmp(c->code[i], c->code[j]) == 0)
                fuzz_fail("codes_parse: a code twice");
    }
    fuzz_codes_again(c);
}

static void fuzz_codes(const char *body, size_t len)
{
    struct codes c;
    struct jbuf detail;
    int st;

    jbuf_init(&detail, FUZZ_CAP);
    st = codes_parse(body, len, FUZZ_MAX_CODES, &c, &detail);
    if (st == CODES_OK)
        fuzz_codes_ok(&c, &detail);
    else if (st == CODES_INVALID) {
        if (c.code || c.count)
            fuzz_fail("codes_parse: a 422 left codes behind");
        fuzz_check_detail(&detail);
    } else
        fuzz_fail("codes_parse: not CODES_OK nor CODES_INVALID with a roomy detail");
    codes_free(&c);
    jbuf_free(&detail);
}

static void fuzz_check_frag(const struct jbuf *frag)
{
    static const char *const keys[] = {"name", "description", "gtin"};
    cJSON *doc = fuzz_json(frag, "catalog_render: fragment is not one clean JSON value");
    const cJSON *f;
    size_t k = 0, i;

    if (!cJSON_IsObject(doc))
        fuzz_fail("catalog_render: fragment is not an object");
    cJSON_ArrayForEach(f, doc) {
        if (k >= 3 || !f->string || strcmp(f->string, keys[k]) != 0 || !cJSON_IsString(f))
            fuzz_fail("catalog_render: not exactly name, description, gtin strings");
        k++;
    }
    f = cJSON_GetObjectItemCaseSensitive(doc, "gtin");
    if (k != 3 || !f->valuestring[0] || strlen(f->valuestring) > CATALOG_GTIN_MAX)
        fuzz_fail("catalog_render: gtin length");
    for (i = 0; f->valuestring[i]; i++)
        if (f->valuestring[i] < '0' || f->valuestring[i] > '9')
            fuzz_fail("catalog_render: gtin not digits");
    cJSON_Delete(doc);
}

static void fuzz_render_caps(const char *body, size_t len, const char *code,
                             const struct jbuf *full)
{
    struct jbuf b;

    jbuf_init(&b, full->len);
    if (catalog_render(body, len, code, &b) != 0 || b.len != full->len ||
        memcmp(b.data, full->data, b.len) != 0)
        fuzz_fail("catalog_render: not the same fragment with cap = its length");
    jbuf_free(&b);
    jbuf_init(&b, full->len - 1);
    if (catalog_render(body, len, code, &b) != -1 || b.len != 0)
        fuzz_fail("catalog_render: a fragment passed a cap one byte short");
    jbuf_free(&b);
}

/* The fragment as the answer's only item, then as missing. */
static void fuzz_answer(const char *code, const struct jbuf *frag)
{
    struct codes c;
    struct jbuf out;
    cJSON *doc;

    c.code = calloc(1, sizeof(*c.code));
    if (!c.code)
        abort();
    c.count = 1;
    strcpy(c.code[0], code);
    jbuf_init(&out, FUZZ_CAP);
    if (catalog_answer(&c, frag, &out) != 0)
        fuzz_fail("catalog_answer: failed");
    doc = fuzz_json(&out, "catalog_answer: not one clean JSON value");
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(doc, "items"), code)) ||
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "missing")) != 0)
        fuzz_fail("catalog_answer: the item is not under its code");
    cJSON_Delete(doc);
    jbuf_free(&out);
    codes_free(&c);
}

static void fuzz_catalog(const char *body, size_t len, const char *code)
{
    struct jbuf out;

    jbuf_init(&out, FUZZ_CAP);
    if (jbuf_puts(&out, "x") != 0)
        abort();
    if (catalog_render(body, len, code, &out) != 0) {
        if (out.len != 1 || out.data[0] != 'x')
            fuzz_fail("catalog_render: a refusal changed out");
        jbuf_free(&out);
        return;
    }
    jbuf_free(&out);
    if (catalog_render(body, len, code, &out) != 0)
        fuzz_fail("catalog_render: not the same verdict twice");
    fuzz_check_frag(&out);
    fuzz_render_caps(body, len, code, &out);
    fuzz_answer(code, &out);
    jbuf_free(&out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    arena_install(); /* as the service does */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body;
    size_t len;

    if (size == 0)
        return 0;
    len = size - 1;
    /* exactly len bytes: a read past the body is a heap overflow */
    body = malloc(len ? len : 1);
    if (!body)
        return 0;
    if (len)
        memcpy(body, data + 1, len);
    if (data[0] & 1)
        fuzz_catalog(body, len, fuzz_asked[(data[0] >> 1) % 4]);
    else
        fuzz_codes(body, len);
    free(body);
    return 0;
}
