#include "catalog.h"
#include "arena.h"
#include "jsonx.h"

#include <string.h>

/* 1 when s[0..n) is 1..max ASCII digits. */
static int catalog_digits(const char *s, size_t n, size_t max)
{
    size_t i;

    if (n == 0 || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* A number member's text as the document wrote it, when that is plain
 * digits (no sign, fraction or exponent): 0, or -1. */
static int catalog_integer_text(const char *body, size_t len, const cJSON *doc,
                                const cJSON *v, size_t max, const char **p, size_t *n)
{
    if (!cJSON_IsNumber(v) || jsonx_raw(body, len, doc, v, p, n))
        return -1;
    return catalog_digits(*p, *n, max) ? 0 : -1;
}

/* The document is about the code asked. */
static int catalog_code_ok(const char *body, size_t len, const cJSON *doc, const char *code)
{
    const cJSON *v = jsonx_member(doc, "code");
    const char *p;
    size_t n;

    if (cJSON_IsString(v))
        return strcmp(v->valuestring, code) == 0 ? 0 : -1;
    if (catalog_integer_text(body, len, doc, v, CODES_CODE_MAX, &p, &n))
        return -1;
    return n == strlen(code) && memcmp(p, code, n) == 0 ? 0 : -1;
}

static int catalog_put_gtin(const char *body, size_t len, const cJSON *doc, struct jbuf *out)
{
    const cJSON *v = jsonx_member(doc, "gtin");
    const char *p;
    size_t n;

    if (cJSON_IsString(v)) {
        p = v->valuestring;
        n = strlen(p);
        if (!catalog_digits(p, n, CATALOG_GTIN_MAX))
            return -1;
    } else if (catalog_integer_text(body, len, doc, v, CATALOG_GTIN_MAX, &p, &n))
        return -1;
    return jbuf_put_json_str(out, p, n);
}

/* A text member: its string, `fallback` when missing or null, -1 for
 * any other type. */
static int catalog_text(const cJSON *v, const char *fallback, const char **s)
{
    if (!v || cJSON_IsNull(v))
        *s = fallback;
    else if (cJSON_IsString(v))
        *s = v->valuestring;
    else
        return -1;
    return 0;
}

static int catalog_put_doc(const char *body, size_t len, const cJSON *doc,
                           const char *code, struct jbuf *out)
{
    const char *desc, *name;

    if (!cJSON_IsObject(doc) || catalog_code_ok(body, len, doc, code) ||
        catalog_text(jsonx_member(doc, "description"), "", &desc) ||
        catalog_text(jsonx_member(doc, "name"), desc, &name))
        return -1;
    if (jbuf_puts(out, "{\"name\":") || jbuf_put_json_str(out, name, strlen(name)) ||
        jbuf_puts(out, ",\"description\":") || jbuf_put_json_str(out, desc, strlen(desc)) ||
        jbuf_puts(out, ",\"gtin\":") || catalog_put_gtin(body, len, doc, out) ||
        jbuf_putc(out, '}'))
        return -1;
    return 0;
}

int catalog_render(const char *body, size_t len, const char *code, struct jbuf *out)
{
    size_t start = out->len;
    cJSON *doc;
    int result;

    arena_begin();
    doc = jsonx_parse(body, len);
    result = doc ? catalog_put_doc(body, len, doc, code, out) : -1;
    cJSON_Delete(doc);
    arena_end();
    if (result)
        out->len = start; /* a 502 carries no half fragment */
    return result;
}

/* The codes whose fragment is (want_frag) or is not there, as JSON. */
static int catalog_put_codes(const struct codes *c, const struct jbuf *frags,
                             int want_frag, struct jbuf *out)
{
    size_t i;
    int first = 1;

    for (i = 0; i < c->count; i++) {
        if ((frags[i].len > 0) != want_frag)
            continue;
        if ((!first && jbuf_putc(out, ',')) ||
            jbuf_put_json_str(out, c->code[i], strlen(c->code[i])))
            return -1;
        if (want_frag && (jbuf_putc(out, ':') || jbuf_put(out, frags[i].data, frags[i].len)))
            return -1;
        first = 0;
    }
    return 0;
}

int catalog_answer(const struct codes *c, const struct jbuf *frags, struct jbuf *out)
{
    if (jbuf_puts(out, "{\"items\":{") || catalog_put_codes(c, frags, 1, out) ||
        jbuf_puts(out, "},\"missing\":[") || catalog_put_codes(c, frags, 0, out) ||
        jbuf_puts(out, "]}"))
        return -1;
    return 0;
}
