#include "items.h"
#include "arena.h"
#include "jsonx.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Above 2^53 a double no longer holds every integer, so neither a
 * quantity nor a numeric code can be trusted past it. */
#define ITEMS_EXACT_MAX 9007199254740992.0
#define ITEMS_QTY_DIGITS 15

/* Kept for its callers (tests, fuzz target): the check lives in jsonx.c,
 * shared with the other readers of outside JSON. */
int items_text_ok(const char *body, size_t len)
{
    return jsonx_text_ok(body, len);
}

/* The package's uuid, checked, as written, braces percent-encoded. */
static int items_package_id(const cJSON *pkg, char out[ITEMS_ID_MAX])
{
    const cJSON *uuid = jsonx_member(pkg, "uuid");
    char canonical[UUID_STR_LEN];
    const char *s;
    size_t n = 0;

    if (!cJSON_IsString(uuid) ||
        uuid_normalize(uuid->valuestring, strlen(uuid->valuestring), canonical))
        return -1;
    for (s = uuid->valuestring; *s && n + 4 <= ITEMS_ID_MAX; s++) {
        if (*s == '{' || *s == '}') {
            memcpy(out + n, *s == '{' ? "%7B" : "%7D", 3);
            n += 3;
        } else
            out[n++] = *s;
    }
    out[n] = '\0';
    return *s ? -1 : 0;
}

static enum items_status items_collect(const cJSON *pkgs, size_t max,
                                       struct items_packages *out)
{
    size_t n = (size_t)cJSON_GetArraySize(pkgs), i = 0;
    const cJSON *pkg;

    if (n > max)
        return ITEMS_TOO_BIG;
    out->ids = calloc(n ? n : 1, sizeof(*out->ids));
    if (!out->ids)
        return ITEMS_BAD;
    cJSON_ArrayForEach(pkg, pkgs) {
        if (items_package_id(pkg, out->ids[i]))
            return ITEMS_BAD;
        i++;
    }
    out->count = n;
    return ITEMS_OK;
}

enum items_status items_parse_order(const char *body, size_t len,
                                    size_t max_packages,
                                    struct items_packages *out)
{
    enum items_status result = ITEMS_BAD;
    cJSON *doc;
    const cJSON *pkgs;

    arena_begin();
    doc = jsonx_parse(body, len);
    pkgs = jsonx_member(doc, "packages");
    out->ids = NULL;
    out->count = 0;
    if (cJSON_IsObject(doc) && cJSON_IsArray(pkgs))
        result = items_collect(pkgs, max_packages, out);
    if (result != ITEMS_OK)
        items_packages_free(out);
    cJSON_Delete(doc);
    arena_end();
    return result;
}

void items_packages_free(struct items_packages *p)
{
    free(p->ids);
    p->ids = NULL;
    p->count = 0;
}

/* A numeric code as its decimal string: a whole number from 0 to 2^53
 * (a code with a fraction, a sign or past 2^53 names no product we can
 * trust: the answer is refused, 502). */
static int items_number_text(double v, char *buf, size_t cap)
{
    if (!isfinite(v) || v < 0 || v > ITEMS_EXACT_MAX || v != floor(v))
        return -1;
    if (v == 0)
        v = 0; /* -0.0 prints as "-0" */
    return snprintf(buf, cap, "%.0f", v) < (int)cap ? 0 : -1;
}

static int items_put_code(struct jbuf *out, const cJSON *code)
{
    char num[64];

    if (cJSON_IsString(code))
        return jbuf_put_json_str(out, code->valuestring, strlen(code->valuestring));
    if (!cJSON_IsNumber(code) || items_number_text(code->valuedouble, num, sizeof(num)))
        return ITEMS_BAD;
    return jbuf_put_json_str(out, num, strlen(num));
}

/* description, image_url, reference: a string, or "" when null/missing. */
static int items_put_text(struct jbuf *out, const cJSON *v)
{
    if (!v || cJSON_IsNull(v))
        return jbuf_puts(out, "\"\"");
    if (!cJSON_IsString(v))
        return ITEMS_BAD;
    return jbuf_put_json_str(out, v->valuestring, strlen(v->valuestring));
}

static int items_digits_value(const char *s, long long *q)
{
    size_t n = strlen(s), i;

    if (n == 0 || n > ITEMS_QTY_DIGITS)
        return -1;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    *q = strtoll(s, NULL, 10);
    return 0;
}

/* quantity: a JSON number with no fraction from 0 to 2^53, or a string
 * of digits. */
static int items_quantity(const cJSON *v, long long *q)
{
    if (cJSON_IsString(v))
        return items_digits_value(v->valuestring, q);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return -1;
    if (v->valuedouble != floor(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > ITEMS_EXACT_MAX)
        return -1;
    *q = (long long)v->valuedouble;
    return 0;
}

static int items_put_field(struct jbuf *out, const char *key)
{
    return jbuf_putc(out, ',') || jbuf_put_json_str(out, key, strlen(key)) ||
           jbuf_putc(out, ':');
}

static int items_put_item(struct jbuf *out, const cJSON *item)
{
    const cJSON *product = jsonx_member(item, "product");
    const cJSON *code = jsonx_member(product, "code");
    char num[32];
    long long q;

    if (!cJSON_IsObject(item) || !cJSON_IsObject(product) || !code ||
        items_quantity(jsonx_member(item, "quantity"), &q))
        return ITEMS_BAD;
    snprintf(num, sizeof(num), "%lld", q);
    if (jbuf_puts(out, "{\"sku\":") || items_put_code(out, code) ||
        items_put_field(out, "description") ||
        items_put_text(out, jsonx_member(product, "description")) ||
        items_put_field(out, "image_url") ||
        items_put_text(out, jsonx_member(product, "image_url")) ||
        items_put_field(out, "reference") ||
        items_put_text(out, jsonx_member(product, "reference")) ||
        items_put_field(out, "quantity") || jbuf_puts(out, num) ||
        jbuf_putc(out, '}'))
        return ITEMS_BAD;
    return ITEMS_OK;
}

enum items_status items_render(const char *body, size_t len, struct jbuf *out)
{
    enum items_status result = ITEMS_BAD;
    cJSON *doc;
    const cJSON *item;

    arena_begin();
    doc = jsonx_parse(body, len);
    if (!cJSON_IsArray(doc))
        goto fail;
    cJSON_ArrayForEach(item, doc) {
        if ((item != doc->child && jbuf_putc(out, ',')) || items_put_item(out, item))
            goto fail;
    }
    result = ITEMS_OK;
fail:
    cJSON_Delete(doc);
    arena_end();
    return result;
}
