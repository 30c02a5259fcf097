#include "codes.h"
#include "arena.h"
#include "jsonx.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where an error stands, as pydantic names it. */
enum codes_loc { CODES_LOC_BODY, CODES_LOC_ITEMS, CODES_LOC_ELEMENT };

/* The 422 body being written: entries so far, and whether a put failed
 * (then the rest is skipped and the parse is CODES_NOMEM). */
struct codes_detail {
    struct jbuf *b;
    size_t entries;
    int failed;
};

int codes_valid(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > CODES_CODE_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
            return 0;
    }
    return 1;
}

static int codes_put_loc(struct jbuf *b, enum codes_loc loc, size_t index)
{
    char num[32];

    if (jbuf_puts(b, "\"loc\":[\"body\""))
        return -1;
    if (loc != CODES_LOC_BODY && jbuf_puts(b, ",\"items\""))
        return -1;
    if (loc == CODES_LOC_ELEMENT) {
        snprintf(num, sizeof(num), ",%zu", index);
        if (jbuf_puts(b, num))
            return -1;
    }
    return jbuf_putc(b, ']');
}

/* Appends one {"loc":...,"msg":...,"type":...} entry (the body's head
 * before the first). */
static void codes_error(struct codes_detail *d, enum codes_loc loc, size_t index,
                        const char *msg, const char *type)
{
    struct jbuf *b = d->b;

    if (d->failed)
        return;
    if (jbuf_puts(b, d->entries ? ",{" : "{\"detail\":[{") ||
        codes_put_loc(b, loc, index) || jbuf_puts(b, ",\"msg\":") ||
        jbuf_put_json_str(b, msg, strlen(msg)) || jbuf_puts(b, ",\"type\":") ||
        jbuf_put_json_str(b, type, strlen(type)) || jbuf_putc(b, '}'))
        d->failed = 1;
    d->entries++;
}

/* Closes the 422 body: CODES_INVALID, or CODES_NOMEM when it did not fit. */
static int codes_finish(struct codes_detail *d)
{
    if (!d->failed && jbuf_puts(d->b, "]}"))
        d->failed = 1;
    return d->failed ? CODES_NOMEM : CODES_INVALID;
}

/* Elements of arr, counting no further than limit + 1. */
static size_t codes_count(const cJSON *arr, size_t limit)
{
    const cJSON *e;
    size_t n = 0;

    for (e = arr->child; e && n <= limit; e = e->next)
        n++;
    return n;
}

/* One entry per element that is no code; 1 when there was any. */
static int codes_check_elements(const cJSON *arr, struct codes_detail *d)
{
    const cJSON *e;
    size_t i = 0;
    int bad = 0;

    cJSON_ArrayForEach(e, arr) {
        if (!cJSON_IsString(e)) {
            codes_error(d, CODES_LOC_ELEMENT, i, "str type expected", "type_error.str");
            bad = 1;
        } else if (!codes_valid(e->valuestring, strlen(e->valuestring))) {
            codes_error(d, CODES_LOC_ELEMENT, i, "invalid product code", "value_error.code");
            bad = 1;
        }
        i++;
    }
    return bad;
}

/* FNV-1a: the table below only needs the codes spread, not secrecy (a
 * client colliding them all costs it 500 * 500 short compares). */
static size_t codes_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    return (size_t)h;
}

/* Keeps the distinct codes of arr (n valid strings) in out, in order of
 * first appearance, through an open-addressing set of indexes + 1. */
static int codes_dedupe(const cJSON *arr, size_t n, struct codes *out)
{
    size_t slots = 16, *set, h;
    const cJSON *e;

    while (slots < 2 * n)
        slots *= 2;
    set = calloc(slots, sizeof(*set));
    out->code = calloc(n ? n : 1, sizeof(*out->code));
    if (!set || !out->code) {
        free(set);
        return -1;
    }
    cJSON_ArrayForEach(e, arr) {
        for (h = codes_hash(e->valuestring) & (slots - 1); set[h];
             h = (h + 1) & (slots - 1))
            if (strcmp(out->code[set[h] - 1], e->valuestring) == 0)
                break;
        if (set[h])
            continue;
        strcpy(out->code[out->count], e->valuestring); /* valid: <= 64 */
        set[h] = ++out->count;
    }
    free(set);
    return 0;
}

static int codes_error_max(struct codes_detail *d, size_t max)
{
    char msg[64];

    snprintf(msg, sizeof(msg), "ensure this value has at most %zu items", max);
    codes_error(d, CODES_LOC_ITEMS, 0, msg, "value_error.list.max_items");
    return codes_finish(d);
}

/* --- the pre-scan: a list past max found before any parse --- */

/* Where the pre-scan stands (codes_too_many()). */
struct codes_scan {
    size_t depth;   /* [ and { open around the byte */
    int object;     /* the document is an object */
    int key;        /* at depth 1, the next string is a member's name */
    int items_next; /* the value coming is the "items" member's */
    int in_items;   /* inside that value, an array */
    int elem;       /* an element of it has begun, no ',' since */
    size_t count;   /* its elements so far */
};

/* The index past the string whose opening quote is at p[i], or len. */
static size_t codes_skip_string(const char *p, size_t len, size_t i)
{
    for (i++; i < len; i++) {
        if (p[i] == '\\')
            i++;
        else if (p[i] == '"')
            return i + 1;
    }
    return len;
}

/* One byte outside strings (a string value is given as its '"'); 1 when
 * the "items" list has just passed max elements. */
static int codes_scan_byte(struct codes_scan *sc, char c, size_t max)
{
    size_t at = sc->depth;

    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':')
        return 0;
    if (at == 2 && sc->in_items && !sc->elem && c != ',' && c != ']') {
        sc->elem = 1;
        if (++sc->count > max)
            return 1;
    }
    if (c == ',' && at == 2)
        sc->elem = 0;
    if (c == ',' && at == 1)
        sc->key = sc->object;
    if (c == '[' || c == '{') {
        if (at == 0)
            sc->object = c == '{';
        if (at == 1)
            sc->in_items = sc->items_next && c == '[';
        sc->key = at == 0 && sc->object;
        sc->depth++;
    } else if ((c == ']' || c == '}') && at > 0)
        sc->depth--;
    if (at == 1)
        sc->items_next = 0;
    return 0;
}

/* 1 when the document's "items" member is a list of more than max
 * elements, found at the first element past max: what follows is not
 * read, and nothing is allocated. Parsed whole first, a 1 MiB body of
 * 524k elements took 56 ms of the acceptor and 42 MB of nodes. Reads
 * the structure only (brackets, commas, strings, member names as sent);
 * whether the document is JSON at all is the parser's to say. */
static int codes_too_many(const char *p, size_t len, size_t max)
{
    struct codes_scan sc = {0, 0, 0, 0, 0, 0, 0};
    size_t i = 0, end;

    while (i < len) {
        if (p[i] != '"') {
            if (codes_scan_byte(&sc, p[i++], max))
                return 1;
            continue;
        }
        end = codes_skip_string(p, len, i);
        if (sc.depth == 1 && sc.key) {
            sc.items_next = end - i == 7 && memcmp(p + i, "\"items\"", 7) == 0;
            sc.key = 0;
        } else if (codes_scan_byte(&sc, '"', max))
            return 1;
        i = end;
    }
    return 0;
}

/* The document's verdict, with doc parsed already (NULL: not JSON). */
static int codes_read(const cJSON *doc, size_t max, struct codes *out,
                      struct codes_detail *d)
{
    const cJSON *items = jsonx_member(doc, "items");
    size_t n;

    if (!doc) {
        codes_error(d, CODES_LOC_BODY, 0, "invalid JSON", "value_error.jsondecode");
        return codes_finish(d);
    }
    if (!items) {
        codes_error(d, CODES_LOC_ITEMS, 0, "field required", "value_error.missing");
        return codes_finish(d);
    }
    if (!cJSON_IsArray(items)) {
        codes_error(d, CODES_LOC_ITEMS, 0, "value is not a valid list", "type_error.list");
        return codes_finish(d);
    }
    n = codes_count(items, max);
    if (n > max)
        return codes_error_max(d, max);
    if (codes_check_elements(items, d))
        return codes_finish(d);
    return codes_dedupe(items, n, out) ? CODES_NOMEM : CODES_OK;
}

int codes_parse(const char *body, size_t len, size_t max_codes,
                struct codes *out, struct jbuf *detail)
{
    struct codes_detail d = {detail, 0, 0};
    cJSON *doc;
    int result;

    out->code = NULL;
    out->count = 0;
    if (codes_too_many(body, len, max_codes))
        return codes_error_max(&d, max_codes);
    arena_begin();
    doc = jsonx_parse(body, len);
    result = codes_read(doc, max_codes, out, &d);
    cJSON_Delete(doc);
    arena_end();
    if (result != CODES_OK)
        codes_free(out);
    return result;
}

void codes_free(struct codes *c)
{
    free(c->code);
    c->code = NULL;
    c->count = 0;
}
