/* libFuzzer target: route.c and uuid.c, the code that reads the request
 * path and the order id.
 *
 * Input layout: byte 0 picks which params are present and the size of
 * the path buffer; the rest is split at NUL bytes into METHOD,
 * PATH_INFO, DOCUMENT_URI, SCRIPT_NAME and REQUEST_URI (FastCGI params
 * are C strings, so a NUL can only end one). Absent ones are NULL. Every
 * string and the path buffer are heap blocks of their exact size, so
 * AddressSanitizer sees any access past them. Invariants (abort()):
 *
 *   route_pick_path: -1, or n < cap with buf[n] == NUL and strlen == n
 *     (no NUL before its length);
 *   route_match: ROUTE_ITEMS only for GET/HEAD on /orders/{one segment}/items
 *     and then order_id is canonical lower-case 8-4-4-4-12; ROUTE_HEALTH
 *     only for GET/HEAD /healthcheck; ROUTE_ENRICH only for POST
 *     /orders/enriched and ROUTE_BAD_METHOD_POST only for that path with
 *     another method (or none); order_id empty for the others;
 *   uuid_normalize (on the whole input, on every field): on success the
 *     output is canonical and normalizing it gives it back (idempotent).
 *
 * Built and run by `make fuzz` / `make fuzz-smoke` (see Makefile.am). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "uuid.h"

#define FUZZ_FIELDS 5

/* Path buffer sizes: the service's own, the edges around a UUID path
 * and a few tiny ones. (0 is left out: route_pick_path is never given
 * an empty buffer.) */
static const size_t fuzz_caps[8] = {ROUTE_PATH_MAX, 1, 2, 9, 51, 52, 64, 4097};

static void fuzz_fail(const char *why)
{
    fprintf(stderr, "fuzz_route: invariant violated: %s\n", why);
    abort();
}

static int fuzz_is_canonical(const char *id)
{
    size_t i;

    if (strlen(id) != 36)
        return 0;
    for (i = 0; i < 36; i++) {
        int hyphen = i == 8 || i == 13 || i == 18 || i == 23;
        char c = id[i];
        if (hyphen ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return 1;
}

static void fuzz_uuid(const char *in, size_t len)
{
    char out[UUID_STR_LEN], again[UUID_STR_LEN];
    char *copy = malloc(len ? len : 1); /* exact size: no NUL after it */

    if (!copy)
        abort();
    if (len)
        memcpy(copy, in, len);
    memset(out, 'X', sizeof(out));
    if (uuid_normalize(copy, len, out) == 0) {
        if (!fuzz_is_canonical(out))
            fuzz_fail("uuid_normalize: output not canonical");
        if (uuid_normalize(out, 36, again) != 0 || memcmp(out, again, UUID_STR_LEN) != 0)
            fuzz_fail("uuid_normalize: not idempotent");
    } else {
        for (size_t i = 0; i < sizeof(out); i++)
            if (out[i] != 'X')
                fuzz_fail("uuid_normalize: failed but wrote to out");
    }
    free(copy);
}

static int fuzz_method_ok(const char *m)
{
    return m && (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0);
}

static void fuzz_match(const char *method, const char *path)
{
    struct route rt;
    size_t plen;

    memset(&rt, 'X', sizeof(rt));
    route_match(method, path, &rt);
    switch (rt.kind) {
    case ROUTE_ITEMS:
        plen = path ? strlen(path) : 0;
        if (!fuzz_method_ok(method) || plen <= 14 || strncmp(path, "/orders/", 8) != 0 ||
            strcmp(path + plen - 6, "/items") != 0 || memchr(path + 8, '/', plen - 14))
            fuzz_fail("route_match: ROUTE_ITEMS for another request");
        if (!fuzz_is_canonical(rt.order_id))
            fuzz_fail("route_match: ROUTE_ITEMS with a non-canonical order_id");
        return;
    case ROUTE_HEALTH:
        if (!fuzz_method_ok(method) || !path || strcmp(path, "/healthcheck") != 0)
            fuzz_fail("route_match: ROUTE_HEALTH for another request");
        break;
    case ROUTE_BAD_METHOD:
        if (fuzz_method_ok(method) || !path)
            fuzz_fail("route_match: ROUTE_BAD_METHOD for GET/HEAD or no path");
        break;
    case ROUTE_BAD_UUID:
        if (!fuzz_method_ok(method) || !path || strncmp(path, "/orders/", 8) != 0)
            fuzz_fail("route_match: ROUTE_BAD_UUID for another request");
        break;
    case ROUTE_METRICS:
    case ROUTE_OPENAPI:
    case ROUTE_DOCS:
        if (!fuzz_method_ok(method) || !path || path[0] != '/' || strchr(path + 1, '/'))
            fuzz_fail("route_match: a fixed route for another request");
        break;
    case ROUTE_ENRICH:
        if (!method || strcmp(method, "POST") != 0 || !path || strcmp(path, "/orders/enriched") != 0)
            fuzz_fail("route_match: ROUTE_ENRICH for another request");
        break;
    case ROUTE_BAD_METHOD_POST:
        if ((method && strcmp(method, "POST") == 0) || !path || strcmp(path, "/orders/enriched") != 0)
            fuzz_fail("route_match: ROUTE_BAD_METHOD_POST for another request");
        break;
    case ROUTE_NOT_FOUND:
        break;
    default:
        fuzz_fail("route_match: unknown kind");
    }
    if (rt.order_id[0] != '\0')
        fuzz_fail("route_match: order_id set for a kind other than ROUTE_ITEMS");
}

static char *fuzz_dup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);

    if (!s)
        abort();
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *field[FUZZ_FIELDS] = {NULL};
    struct route_params p;
    size_t cap, start = 1, i, k = 0;
    unsigned flags;
    char *buf;
    long n;

    if (size == 0)
        return 0;
    flags = data[0];
    fuzz_uuid((const char *)data + 1, size - 1);
    /* split the rest at NUL bytes */
    for (i = 1; i <= size && k < FUZZ_FIELDS; i++) {
        if (i == size || data[i] == 0) {
            field[k++] = fuzz_dup(data + start, i - start);
            start = i + 1;
        }
    }
    /* bits 0-3: PATH_INFO..REQUEST_URI absent; bit 4: no method */
    for (i = 0; i < FUZZ_FIELDS; i++) {
        unsigned bit = i == 0 ? 0x10u : 1u << (i - 1);
        if (field[i] && (flags & bit)) {
            free(field[i]);
            field[i] = NULL;
        }
        if (field[i])
            fuzz_uuid(field[i], strlen(field[i]));
    }
    p.path_info = field[1];
    p.document_uri = field[2];
    p.script_name = field[3];
    p.request_uri = field[4];

    cap = fuzz_caps[flags >> 5];
    buf = malloc(cap);
    if (!buf)
        abort();
    memset(buf, 'X', cap);
    n = route_pick_path(&p, buf, cap);
    if (n < -1)
        fuzz_fail("route_pick_path: below -1");
    if (n >= 0) {
        if ((size_t)n >= cap)
            fuzz_fail("route_pick_path: length not within cap");
        if (buf[n] != '\0')
            fuzz_fail("route_pick_path: not NUL-terminated at its length");
        if (strlen(buf) != (size_t)n)
            fuzz_fail("route_pick_path: a NUL before its length");
        fuzz_match(field[0], buf);
    } else {
        fuzz_match(field[0], NULL);
    }
    /* the raw fields as paths too (PATH_INFO reaches route_match as is) */
    for (i = 1; i < FUZZ_FIELDS; i++)
        if (field[i])
            fuzz_match(field[0], field[i]);
    free(buf);
    for (i = 0; i < FUZZ_FIELDS; i++)
        free(field[i]);
    return 0;
}
