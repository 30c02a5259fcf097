/* libFuzzer target: items.c, the code that reads every upstream body.
 *
 * Each input is fed, as an upstream body, both to items_parse_order and
 * to items_render (the same bytes, as Maestro could send either). The
 * input is copied into a buffer of exactly its size, with no NUL after
 * it, as the service holds bodies, so AddressSanitizer sees any read
 * past the end. Invariants (abort() on violation):
 *
 *   items_parse_order ITEMS_OK: count <= max, and every id is canonical
 *     lower-case 8-4-4-4-12 (uuid_normalize of it gives it back);
 *   items_render ITEMS_OK: the fragment is valid UTF-8 with no raw
 *     control byte (items_text_ok), "[" fragment "]" is one JSON value
 *     cJSON parses with nothing after it, an array of objects with
 *     exactly the keys sku, description, image_url, reference (strings)
 *     and quantity (an integer), in that order; the fragment fits the cap,
 *     and the cap is exact (cap = its length: the same fragment; one
 *     byte less: a failure that never passes the cap).
 *
 * Built and run by `make fuzz` / `make fuzz-smoke` (see Makefile.am). */
#include <ctype.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "items.h"
#include "jbuf.h"
#include "uuid.h"

#define FUZZ_MAX_PACKAGES 8
#define FUZZ_RENDER_CAP (64 * 1024)

static void fuzz_fail(const char *why)
{
    fprintf(stderr, "fuzz_items: invariant violated: %s\n", why);
    abort();
}

/* A package id as it goes into a URL: an accepted UUID form, as the
 * upstream wrote it, with only '{' and '}' percent-encoded, and no byte
 * that could leave the path segment. */
static int fuzz_is_url_id(const char *id)
{
    char plain[ITEMS_ID_MAX], canonical[UUID_STR_LEN];
    size_t n = 0;
    const char *s;

    for (s = id; *s; s++) {
        if (strncmp(s, "%7B", 3) == 0 || strncmp(s, "%7D", 3) == 0) {
            plain[n++] = s[2] == 'B' ? '{' : '}';
            s += 2;
        } else if (isalnum((unsigned char)*s) || *s == '-' || *s == ':')
            plain[n++] = *s;
        else
            return 0;
        if (n >= sizeof(plain))
            return 0;
    }
    return uuid_normalize(plain, n, canonical) == 0;
}

static void fuzz_order(const char *body, size_t len)
{
    struct items_packages p;
    enum items_status st = items_parse_order(body, len, FUZZ_MAX_PACKAGES, &p);
    size_t i;

    if (st != ITEMS_OK && st != ITEMS_BAD && st != ITEMS_TOO_BIG)
        fuzz_fail("items_parse_order: unknown status");
    if (st != ITEMS_OK) {
        if (p.ids || p.count)
            fuzz_fail("items_parse_order: failure left packages behind");
        return;
    }
    if (p.count > FUZZ_MAX_PACKAGES || (p.count && !p.ids))
        fuzz_fail("items_parse_order: count");
    for (i = 0; i < p.count; i++)
        if (!fuzz_is_url_id(p.ids[i]))
            fuzz_fail("items_parse_order: package id not a UUID as written");
    items_packages_free(&p);
}

static const char *const fuzz_keys[] = {"sku", "description", "image_url", "reference", "quantity"};

static void fuzz_check_item(const cJSON *obj)
{
    const cJSON *f;
    size_t k = 0;

    if (!cJSON_IsObject(obj))
        fuzz_fail("items_render: element is not an object");
    cJSON_ArrayForEach(f, obj) {
        if (k >= 5 || !f->string || strcmp(f->string, fuzz_keys[k]) != 0)
            fuzz_fail("items_render: keys are not exactly sku..quantity");
        if (k < 4 && !cJSON_IsString(f))
            fuzz_fail("items_render: a text field is not a string");
        if (k == 4 && (!cJSON_IsNumber(f) || f->valuedouble != floor(f->valuedouble)))
            fuzz_fail("items_render: quantity is not an integer");
        k++;
    }
    if (k != 5)
        fuzz_fail("items_render: not exactly 5 keys");
}

/* The cap is exact: with cap = the fragment's length the same fragment
 * comes out, with one byte less the render fails. */
static void fuzz_render_caps(const char *body, size_t len, const struct jbuf *full)
{
    struct jbuf b;
    enum items_status st;

    jbuf_init(&b, full->len);
    if (items_render(body, len, &b) != ITEMS_OK || b.len != full->len ||
        (b.len && memcmp(b.data, full->data, b.len) != 0))
        fuzz_fail("items_render: not the same fragment with cap = its length");
    jbuf_free(&b);
    if (full->len == 0)
        return;
    jbuf_init(&b, full->len - 1);
    st = items_render(body, len, &b);
    if (st == ITEMS_OK || b.len > b.cap)
        fuzz_fail("items_render: fragment passed a cap one byte short");
    jbuf_free(&b);
}

static void fuzz_render(const char *body, size_t len)
{
    struct jbuf out;
    char *wrapped;
    const char *end = NULL;
    cJSON *doc;
    const cJSON *item;

    jbuf_init(&out, FUZZ_RENDER_CAP);
    if (items_render(body, len, &out) != ITEMS_OK) {
        jbuf_free(&out);
        return;
    }
    if (out.len > out.cap)
        fuzz_fail("items_render: past the cap");
    if (!items_text_ok(out.data ? out.data : "", out.len))
        fuzz_fail("items_render: output is not clean UTF-8 JSON text");
    wrapped = malloc(out.len + 2);
    if (!wrapped)
        abort();
    wrapped[0] = '[';
    if (out.len)
        memcpy(wrapped + 1, out.data, out.len);
    wrapped[out.len + 1] = ']';
    doc = cJSON_ParseWithLengthOpts(wrapped, out.len + 2, &end, 0);
    if (!doc || end != wrapped + out.len + 2 || !cJSON_IsArray(doc))
        fuzz_fail("items_render: [fragment] is not one JSON array");
    cJSON_ArrayForEach(item, doc)
        fuzz_check_item(item);
    cJSON_Delete(doc);
    free(wrapped);
    fuzz_render_caps(body, len, &out);
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
    /* exactly size bytes: a read past the body is a heap overflow */
    char *body = malloc(size ? size : 1);

    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);
    fuzz_order(body, size);
    fuzz_render(body, size);
    free(body);
    return 0;
}
