#include "jbuf.h"

#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JBUF_MIN_ALLOC 256

static atomic_size_t jbuf_held_bytes;
static size_t jbuf_budget; /* 0: none */

void jbuf_set_budget(size_t bytes)
{
    jbuf_budget = bytes;
}

size_t jbuf_held(void)
{
    return atomic_load(&jbuf_held_bytes);
}

size_t jbuf_room(void)
{
    size_t held = jbuf_held();

    if (!jbuf_budget)
        return SIZE_MAX;
    return held < jbuf_budget ? jbuf_budget - held : 0;
}

void jbuf_count(size_t n)
{
    atomic_fetch_add(&jbuf_held_bytes, n);
}

void jbuf_uncount(size_t n)
{
    atomic_fetch_sub(&jbuf_held_bytes, n);
}

/* Counts n more bytes; -1 (nothing counted) when that passes the budget. */
static int jbuf_charge(size_t n)
{
    size_t before = atomic_fetch_add(&jbuf_held_bytes, n);

    if (jbuf_budget && before + n > jbuf_budget) {
        atomic_fetch_sub(&jbuf_held_bytes, n);
        return -1;
    }
    return 0;
}

/* Empty, with no allocation; cap and always kept. */
static void jbuf_reset(struct jbuf *b)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
}

void jbuf_init(struct jbuf *b, size_t cap)
{
    jbuf_reset(b);
    b->cap = cap;
    b->always = 0;
}

void jbuf_init_always(struct jbuf *b, size_t cap)
{
    jbuf_init(b, cap);
    b->always = 1;
}

void jbuf_free(struct jbuf *b)
{
    atomic_fetch_sub(&jbuf_held_bytes, b->alloc);
    free(b->data);
    jbuf_reset(b);
}

/* Makes room for `extra` more bytes (plus one for an optional NUL). */
static int jbuf_reserve(struct jbuf *b, size_t extra)
{
    size_t need, want;
    char *p;

    if (extra > b->cap || b->len > b->cap - extra)
        return -1;
    need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    want = b->alloc ? b->alloc : JBUF_MIN_ALLOC;
    while (want < need)
        want *= 2;
    if (want > b->cap + 1)
        want = b->cap + 1;
    if (b->always)
        jbuf_count(want - b->alloc);
    else if (jbuf_charge(want - b->alloc))
        return -1;
    p = realloc(b->data, want);
    if (!p) {
        atomic_fetch_sub(&jbuf_held_bytes, want - b->alloc);
        return -1;
    }
    b->data = p;
    b->alloc = want;
    return 0;
}

int jbuf_put(struct jbuf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (jbuf_reserve(b, n))
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int jbuf_putc(struct jbuf *b, char c)
{
    return jbuf_put(b, &c, 1);
}

int jbuf_puts(struct jbuf *b, const char *s)
{
    return jbuf_put(b, s, strlen(s));
}

/* The escape for byte c, or NULL when c goes out as it is. */
static const char *jbuf_escape_of(unsigned char c, char tmp[7])
{
    static const char hex[] = "0123456789abcdef";

    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default: break;
    }
    if (c >= 0x20)
        return NULL;
    memcpy(tmp, "\\u00", 4);
    tmp[4] = hex[c >> 4];
    tmp[5] = hex[c & 15];
    tmp[6] = '\0';
    return tmp;
}

int jbuf_put_json_str(struct jbuf *b, const char *s, size_t n)
{
    size_t i, run = 0;
    char tmp[7];
    const char *esc;

    if (jbuf_putc(b, '"'))
        return -1;
    for (i = 0; i < n; i++) {
        esc = jbuf_escape_of((unsigned char)s[i], tmp);
        if (!esc)
            continue;
        if (jbuf_put(b, s + run, i - run) || jbuf_puts(b, esc))
            return -1;
        run = i + 1;
    }
    if (jbuf_put(b, s + run, n - run))
        return -1;
    return jbuf_putc(b, '"');
}

int jbuf_cstr(struct jbuf *b)
{
    if (jbuf_reserve(b, 0))
        return -1;
    b->data[b->len] = '\0';
    return 0;
}

char *jbuf_take(struct jbuf *b, size_t *len)
{
    char *p = b->data;

    if (len)
        *len = b->len;
    atomic_fetch_sub(&jbuf_held_bytes, b->alloc);
    jbuf_reset(b);
    return p;
}
