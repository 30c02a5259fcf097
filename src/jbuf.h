/* jbuf: a growable byte buffer with a hard size cap.
 *
 * Every byte the service keeps from the outside world (upstream bodies,
 * answer fragments) goes into a jbuf, so nothing grows without bound: a
 * put that would pass `cap` fails and leaves the buffer as it was.
 *
 * Ownership: the jbuf owns `data`; jbuf_free() releases it. A zeroed
 * struct after jbuf_init() is an empty buffer with no allocation.
 *
 * The memory of all jbufs of the process is counted, and may be given
 * a budget (--max-memory): a growth that would pass it fails like a put
 * past the cap, so upstream bodies and answer fragments held at once
 * never pass it whatever the fan-out and the load. */
#ifndef JBUF_H
#define JBUF_H

#include <stddef.h>

struct jbuf {
    char *data;   /* not NUL-terminated unless jbuf_cstr() was called */
    size_t len;
    size_t alloc;
    size_t cap;   /* the most `len` may ever reach */
    int always;   /* counted, but never refused by the budget */
};

/* The budget of all jbufs together, in bytes (0: none). Set it once,
 * before any thread starts. */
void jbuf_set_budget(size_t bytes);
/* Bytes all jbufs hold now, and whether that is past the budget (any
 * thread). */
size_t jbuf_held(void);
/* Bytes left before the budget (SIZE_MAX when there is none). */
size_t jbuf_room(void);
/* Counts n bytes held outside any jbuf (an answer kept for a web server
 * that reads it slowly), room or not: they are held already, and new
 * orders must wait for them. jbuf_uncount() once they are freed. */
void jbuf_count(size_t n);
void jbuf_uncount(size_t n);

void jbuf_init(struct jbuf *b, size_t cap);
/* A jbuf counted against the budget like any other but never refused
 * by it (still by its cap and by malloc): for what must be read for a
 * request to be answered at all, a 503 included (its FastCGI params,
 * at most 96 KiB, for at most SERVER_INTAKE_MAX connections at once). */
void jbuf_init_always(struct jbuf *b, size_t cap);
void jbuf_free(struct jbuf *b);
/* 0 on success, -1 when the cap would be passed or memory ran out. */
int jbuf_put(struct jbuf *b, const void *p, size_t n);
int jbuf_putc(struct jbuf *b, char c);
int jbuf_puts(struct jbuf *b, const char *s);
/* Appends s (n bytes, already valid UTF-8) as a quoted JSON string:
 * escapes `"`, `\` and control characters, passes all else through. */
int jbuf_put_json_str(struct jbuf *b, const char *s, size_t n);
/* Terminates the data with a NUL (not counted in len); -1 past the cap. */
int jbuf_cstr(struct jbuf *b);
/* Hands the data to the caller (who frees it) and empties the buffer;
 * the data is no longer counted. */
char *jbuf_take(struct jbuf *b, size_t *len);

#endif
