/* uuid: recognising the UUID forms SPEC.md accepts.
 *
 * Accepted, case-insensitive: 8-4-4-4-12 hex with hyphens, 32 hex digits,
 * either one inside `{}`, each optionally after a `urn:uuid:` prefix.
 * The canonical form is lower-case 8-4-4-4-12, the only form ever put
 * into an upstream URL. */
#ifndef UUID_H
#define UUID_H

#include <stddef.h>

#define UUID_STR_LEN 37 /* 36 characters and the NUL */

/* Writes the canonical form of in[0..len) to out and returns 0, or
 * returns -1 (out untouched) when the text is not an accepted form. */
int uuid_normalize(const char *in, size_t len, char out[UUID_STR_LEN]);

/* The value of one hex digit, or -1. */
int uuid_hexval(char c);

#endif
