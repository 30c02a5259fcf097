#include "jsonx.h"

#include <string.h>

/* Length of the UTF-8 sequence starting at s (at most n bytes), or 0
 * when it is malformed, overlong, a surrogate or past U+10FFFF. */
static size_t jsonx_utf8_len(const unsigned char *s, size_t n)
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
struct jsonx_scan {
    int in_string;
    int escaped; /* the previous byte was a backslash inside a string */
};

/* Checks one ASCII byte against what JSON allows where it stands: no
 * control byte inside a string (RFC 8259 section 7), none outside but
 * white space, and no \u0000 escape (a C string would end there). */
static int jsonx_scan_ascii(struct jsonx_scan *st, const char *p, size_t left)
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

static size_t jsonx_digits(const char *p, size_t i, size_t n)
{
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    return i;
}

/* Length of the JSON number (RFC 8259 section 6) at p[0..n), or 0 when
 * what is there is not one: `01`, `1.`, `-.5`, `1e`, `1.5.2` are not. A
 * number must end where a character that could go on one is absent. */
static size_t jsonx_number_len(const char *p, size_t n)
{
    size_t i = p[0] == '-', d;

    if (i < n && p[i] == '0')
        i++;
    else if (i < n && p[i] >= '1' && p[i] <= '9')
        i = jsonx_digits(p, i, n);
    else
        return 0;
    if (i < n && p[i] == '.') {
        d = jsonx_digits(p, i + 1, n);
        if (d == i + 1)
            return 0;
        i = d;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i += i + 1 < n && (p[i + 1] == '+' || p[i + 1] == '-') ? 2 : 1;
        d = jsonx_digits(p, i, n);
        if (d == i)
            return 0;
        i = d;
    }
    if (i < n && p[i] != '\0' && strchr("0123456789+-.eE", p[i]))
        return 0;
    return i;
}

int jsonx_text_ok(const char *body, size_t len)
{
    struct jsonx_scan st = {0, 0};
    size_t i = 0, step;

    while (i < len) {
        if (!st.in_string && (body[i] == '-' || (body[i] >= '0' && body[i] <= '9'))) {
            step = jsonx_number_len(body + i, len - i);
            if (step == 0)
                return 0;
            i += step;
            continue;
        }
        if ((unsigned char)body[i] < 0x80) {
            if (jsonx_scan_ascii(&st, body + i, len - i))
                return 0;
            i++;
            continue;
        }
        step = jsonx_utf8_len((const unsigned char *)body + i, len - i);
        if (step == 0)
            return 0;
        st.escaped = 0;
        i += step;
    }
    return 1;
}

/* Parses exactly one JSON value: trailing bytes other than white space
 * make the body "not JSON" (cJSON alone would ignore them). */
cJSON *jsonx_parse(const char *body, size_t len)
{
    const char *end = NULL;
    cJSON *doc;

    if (len == 0 || !jsonx_text_ok(body, len))
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
const cJSON *jsonx_member(const cJSON *obj, const char *name)
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

/* ---- a value's text as written ---------------------------------------
 * jsonx_raw walks text that jsonx_parse accepted already (one value,
 * strict, nesting capped), so the walk below only has to find where
 * things end; it still never reads past len and gives up (0) on what it
 * does not expect. Every function returns the index just past what it
 * skipped, 0 when it cannot (nothing ends at index 0). */

static size_t jsonx_ws(const char *s, size_t i, size_t n)
{
    while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    return i;
}

static size_t jsonx_skip_string(const char *s, size_t i, size_t n)
{
    if (i >= n || s[i] != '"')
        return 0;
    for (i++; i < n; i++) {
        if (s[i] == '\\')
            i++;
        else if (s[i] == '"')
            return i + 1;
    }
    return 0;
}

/* An object or an array: counts brackets, strings skipped whole. */
static size_t jsonx_skip_nested(const char *s, size_t i, size_t n)
{
    size_t depth = 0;

    while (i < n) {
        if (s[i] == '"') {
            i = jsonx_skip_string(s, i, n);
            if (i == 0)
                return 0;
            continue;
        }
        if (s[i] == '{' || s[i] == '[')
            depth++;
        else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
            return i + 1;
        i++;
    }
    return 0;
}

static size_t jsonx_skip_value(const char *s, size_t i, size_t n)
{
    size_t start = i;

    if (i >= n)
        return 0;
    if (s[i] == '"')
        return jsonx_skip_string(s, i, n);
    if (s[i] == '{' || s[i] == '[')
        return jsonx_skip_nested(s, i, n);
    while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
           s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
        i++;
    return i > start ? i : 0;
}

/* Index of member among doc's members, or -1. */
static long jsonx_index_of(const cJSON *doc, const cJSON *member)
{
    const cJSON *c;
    long k = 0;

    if (!cJSON_IsObject(doc) || !member)
        return -1;
    for (c = doc->child; c; c = c->next, k++)
        if (c == member)
            return k;
    return -1;
}

/* From i at a member's key ("key" : value): the index of its value. */
static size_t jsonx_value_start(const char *s, size_t i, size_t n)
{
    i = jsonx_skip_string(s, jsonx_ws(s, i, n), n);
    if (i == 0)
        return 0;
    i = jsonx_ws(s, i, n);
    if (i >= n || s[i] != ':')
        return 0;
    return jsonx_ws(s, i + 1, n);
}

int jsonx_raw(const char *body, size_t len, const cJSON *doc,
              const cJSON *member, const char **p, size_t *n)
{
    long k = jsonx_index_of(doc, member), j;
    size_t i = 0, start, end;

    if (k < 0)
        return -1;
    if (len >= 3 && memcmp(body, "\xef\xbb\xbf", 3) == 0)
        i = 3; /* cJSON skips a byte order mark */
    i = jsonx_ws(body, i, len);
    if (i >= len || body[i] != '{')
        return -1;
    i++;
    for (j = 0;; j++) {
        start = jsonx_value_start(body, i, len);
        end = start ? jsonx_skip_value(body, start, len) : 0;
        if (end == 0)
            return -1;
        if (j == k)
            break;
        i = jsonx_ws(body, end, len);
        if (i >= len || body[i] != ',')
            return -1;
        i++;
    }
    *p = body + start;
    *n = end - start;
    return 0;
}
