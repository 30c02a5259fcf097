/* jsonx: the strict JSON reading shared by every reader of outside bytes
 * (items.c for Maestro, codes.c for request bodies, catalog.c for the
 * Magalu catalog).
 *
 * cJSON alone is lenient where Python's json (the predecessor) is not:
 * it takes `01`, `1.`, `-.5`, stops at the first value and ignores what
 * follows, finds the first of two members with one name, and forgets how
 * a number was written. These helpers close those gaps:
 *   jsonx_text_ok  the bytes are clean UTF-8 JSON text (see below);
 *   jsonx_parse    exactly one value, strict text, cJSON's nesting cap;
 *   jsonx_member   the LAST member of a name, as Python keeps it;
 *   jsonx_raw      a member's value exactly as the document wrote it
 *                  (a number's digits, with no trip through a double).
 * None of them allocates but jsonx_parse (through cJSON, so on the
 * arena of arena.h between arena_begin() and arena_end()). */
#ifndef JSONX_H
#define JSONX_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* 1 when body[0..len) is UTF-8 with no control byte but JSON white
 * space outside strings, none at all inside them, no \u0000 escape, and
 * every number outside strings written as JSON writes numbers. */
int jsonx_text_ok(const char *body, size_t len);

/* The one JSON value of body[0..len), or NULL when the body is empty,
 * fails jsonx_text_ok, does not parse (nesting past CJSON_NESTING_LIMIT
 * included) or has anything but white space after the value. The caller
 * frees it with cJSON_Delete(). */
cJSON *jsonx_parse(const char *body, size_t len);

/* The member `name` of obj, the last one when it is given twice; NULL
 * when obj is no object or lacks it. */
const cJSON *jsonx_member(const cJSON *obj, const char *name);

/* The text of the value of `member`, a direct member of the object
 * `doc` that jsonx_parse(body, len) returned: *p points into body, *n
 * bytes long (a number as written, a string with its quotes and escapes
 * as sent). 0, or -1 when member is not a member of doc or doc is not
 * that body's object. */
int jsonx_raw(const char *body, size_t len, const cJSON *doc,
              const cJSON *member, const char **p, size_t *n);

#endif
