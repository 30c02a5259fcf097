#include "items.h"
#include "arena.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Above 2^53 a double no longer holds every integer, so neither a
 * quantity nor a numeric code can be trusted past it. */
#define ITEMS_EXACT_MAX 9007199254740992.0
#define ITEMS_QTY_DIGITS 15

/* Length of the UTF-8 sequence starting at s (at most n bytes), or 0
 * when it is malformed, overlong, a surrogate or past U+10FFFF. */
static size_t items_utf8_len(const unsigned char *s, size_t n)
{
    size_t len, i;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2, cp = s[0] & 0x1f;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3, cp = s[0] & 0x0f;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4, cp = s[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
        return 0;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* The scanner's view of where it stands in the JSON text. */
struct items_scan {
    int in_string;
    int escaped; /* the previous byte was a backslash inside a string */
};

/* Checks one ASCII byte against what JSON allows where it stands: no
 * control byte inside a string (RFC 8259 section 7), none outside but
 * white space, and no \u0000 escape (a C string would end there). */
static int items_scan_ascii(struct items_scan *st, const char *p, size_t left)
{
    unsigned char c = (unsigned char)*p;

    if (!st->in_string) {
        if (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return -1;
        st->in_string = c == '"';
        return 0;
    }
    if (c < 0x20)
        return -1;
    if (st->escaped) {
        st->escaped = 0;
        return c == 'u' && left >= 5 && memcmp(p + 1, "0000", 4) == 0 ? -1 : 0;
    }
    st->escaped = c == '\\';
    st->in_string = c != '"';
    return 0;
}

static size_t items_digits(const char *p, size_t i, size_t n)
{
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    return i;
}

/* Length of the JSON number (RFC 8259 section 6) at p[0..n), or 0 when
 * what is there is not one: `01`, `1.`, `-.5`, `1e`, `1.5.2` are not. A
 * number must end where a character that could go on one is absent. */
static size_t items_number_len(const char *p, size_t n)
{
    size_t i = p[0] == '-', d;

    if (i < n && p[i] == '0')
        i++;
    else if (i < n && p[i] >= '1' && p[i] <= '9')
        i = items_digits(p, i, n);
    else
        return 0;
    if (i < n && p[i] == '.') {
        d = items_digits(p, i + 1, n);
        if (d == i + 1)
            return 0;
        i = d;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i += i + 1 < n && (p[i + 1] == '+' || p[i + 1] == '-') ? 2 : 1;
        d = items_digits(p, i, n);
        if (d == i)
            return 0;
        i = d;
    }
    if (i < n && p[i] != '\0' && strchr("0123456789+-.eE", p[i]))
        return 0;
    return i;
}

int items_text_ok(const char *body, size_t len)
{
    struct items_scan st = {0, 0};
    size_t i = 0, step;

    while (i < len) {
        if (!st.in_string && (body[i] == '-' || (body[i] >= '0' && body[i] <= '9'))) {
            step = items_number_len(body + i, len - i);
            if (step == 0)
                return 0;
            i += step;
            continue;
        }
        if ((unsigned char)body[i] < 0x80) {
            if (items_scan_ascii(&st, body + i, len - i))
                return 0;
            i++;
            continue;
        }
        step = items_utf8_len((const unsigned char *)body + i, len - i);
        if (step == 0)
            return 0;
        st.escaped = 0;
        i += step;
    }
    return 1;
}

/* Parses exactly one JSON value: trailing bytes other than white space
 * make the body "not JSON" (cJSON alone would ignore them). */
static cJSON *items_parse(const char *body, size_t len)
{
    const char *end = NULL;
    cJSON *doc;

    if (len == 0 || !items_text_ok(body, len))
        return NULL;
    doc = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!doc)
        return NULL;
    while (end < body + len && strchr(" \t\r\n", *end))
        end++;
    if (end != body + len) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

/* The member `name` of obj, the last one when it is given twice (as
 * Python's json reads it); NULL when obj is no object or lacks it. */
static const cJSON *items_member(const cJSON *obj, const char *name)
{
    const cJSON *child, *found = NULL;

    if (!cJSON_IsObject(obj))
        return NULL;
    for (child = obj->child; child; child = child->next) {
        if (child->string && strcmp(child->string, name) == 0)
            found = child;
    }
    return found;
}

/* The package's uuid, checked, as written, braces percent-encoded. */
static int items_package_id(const cJSON *pkg, char out[ITEMS_ID_MAX])
{
    const cJSON *uuid = items_member(pkg, "uuid");
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
    doc = items_parse(body, len);
    pkgs = items_member(doc, "packages");
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

/* Prints a JSON number the way Python's str() would: integers without a
 * fraction, others in the shortest form that reads back the same. */
static int items_number_text(double v, char *buf, size_t cap)
{
    int prec;

    if (!isfinite(v) || fabs(v) > ITEMS_EXACT_MAX)
        return -1;
    if (v == floor(v))
        return snprintf(buf, cap, "%.0f", v) < (int)cap ? 0 : -1;
    for (prec = 15; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return 0;
    }
    return 0;
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

/* quantity: a JSON number with no fraction, or a string of digits. */
static int items_quantity(const cJSON *v, long long *q)
{
    if (cJSON_IsString(v))
        return items_digits_value(v->valuestring, q);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return -1;
    if (v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > ITEMS_EXACT_MAX)
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
    const cJSON *product = items_member(item, "product");
    const cJSON *code = items_member(product, "code");
    char num[32];
    long long q;

    if (!cJSON_IsObject(item) || !cJSON_IsObject(product) || !code ||
        items_quantity(items_member(item, "quantity"), &q))
        return ITEMS_BAD;
    snprintf(num, sizeof(num), "%lld", q);
    if (jbuf_puts(out, "{\"sku\":") || items_put_code(out, code) ||
        items_put_field(out, "description") ||
        items_put_text(out, items_member(product, "description")) ||
        items_put_field(out, "image_url") ||
        items_put_text(out, items_member(product, "image_url")) ||
        items_put_field(out, "reference") ||
        items_put_text(out, items_member(product, "reference")) ||
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
    doc = items_parse(body, len);
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
