#include "route.h"

#include <string.h>

#define ROUTE_ORDERS "/orders/"
#define ROUTE_ITEMS_TAIL "/items"
#define ROUTE_ENRICHED "/orders/enriched"

/* Percent-decodes the path part of a raw REQUEST_URI (up to `?` or `#`).
 * Malformed escapes stay as they are, as Starlette leaves them. */
static long route_decode(const char *uri, char *buf, size_t cap)
{
    size_t n = 0;
    int hi, lo;
    char c;

    for (; *uri && *uri != '?' && *uri != '#'; uri++) {
        c = *uri;
        hi = c == '%' ? uuid_hexval(uri[1]) : -1;
        lo = hi >= 0 ? uuid_hexval(uri[2]) : -1;
        if (lo >= 0) {
            c = (char)(hi * 16 + lo);
            uri += 2;
            if (c == '\0')
                return -1;
        }
        if (n + 1 >= cap)
            return -1;
        buf[n++] = c;
    }
    buf[n] = '\0';
    return (long)n;
}

static long route_copy(const char *s, char *buf, size_t cap)
{
    size_t n = strlen(s);

    if (n >= cap)
        return -1;
    memcpy(buf, s, n + 1);
    return (long)n;
}

long route_pick_path(const struct route_params *p, char *buf, size_t cap)
{
    if (cap == 0)
        return -1;
    if (p->path_info && *p->path_info)
        return route_copy(p->path_info, buf, cap);
    if (p->document_uri && *p->document_uri)
        return route_copy(p->document_uri, buf, cap);
    if (p->script_name && *p->script_name)
        return route_copy(p->script_name, buf, cap);
    if (p->request_uri && *p->request_uri)
        return route_decode(p->request_uri, buf, cap);
    return -1;
}

static int route_method_ok(const char *method)
{
    return method && (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0);
}

/* Matches /orders/{id}/items where {id} is one non-empty segment; sets
 * *id and *len to it. */
static int route_items_path(const char *path, const char **id, size_t *len)
{
    size_t plen = strlen(path);
    size_t head = sizeof(ROUTE_ORDERS) - 1, tail = sizeof(ROUTE_ITEMS_TAIL) - 1;
    const char *seg;

    if (plen <= head + tail || strncmp(path, ROUTE_ORDERS, head) != 0)
        return 0;
    if (strcmp(path + plen - tail, ROUTE_ITEMS_TAIL) != 0)
        return 0;
    seg = path + head;
    *len = plen - head - tail;
    if (memchr(seg, '/', *len))
        return 0;
    *id = seg;
    return 1;
}

/* The routes whose path is a constant. */
static int route_fixed(const char *path, enum route_kind *kind)
{
    static const struct {
        const char *path;
        enum route_kind kind;
    } fixed[] = {
        {"/healthcheck", ROUTE_HEALTH},
        {"/metrics", ROUTE_METRICS},
        {"/openapi.json", ROUTE_OPENAPI},
        {"/docs", ROUTE_DOCS},
    };
    size_t i;

    for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        if (strcmp(path, fixed[i].path) == 0) {
            *kind = fixed[i].kind;
            return 1;
        }
    }
    return 0;
}

void route_match(const char *method, const char *path, struct route *out)
{
    const char *id;
    size_t len;

    out->kind = ROUTE_NOT_FOUND;
    out->order_id[0] = '\0';
    if (!path)
        return;
    if (strcmp(path, ROUTE_ENRICHED) == 0) {
        /* POST only: HEAD is answered like GET, which is not allowed */
        out->kind = method && strcmp(method, "POST") == 0 ? ROUTE_ENRICH : ROUTE_BAD_METHOD_POST;
        return;
    }
    if (route_fixed(path, &out->kind)) {
        if (!route_method_ok(method))
            out->kind = ROUTE_BAD_METHOD;
        return;
    }
    if (!route_items_path(path, &id, &len))
        return;
    if (!route_method_ok(method))
        out->kind = ROUTE_BAD_METHOD;
    else if (uuid_normalize(id, len, out->order_id) == 0)
        out->kind = ROUTE_ITEMS;
    else
        out->kind = ROUTE_BAD_UUID;
}

const char *route_name(enum route_kind kind)
{
    switch (kind) {
    case ROUTE_HEALTH: return "healthcheck";
    case ROUTE_ITEMS: return "items";
    case ROUTE_BAD_METHOD: return "method_not_allowed";
    case ROUTE_BAD_METHOD_POST: return "method_not_allowed";
    case ROUTE_ENRICH: return "enriched";
    case ROUTE_BAD_UUID: return "invalid_uuid";
    case ROUTE_METRICS: return "metrics";
    case ROUTE_OPENAPI: return "openapi";
    case ROUTE_DOCS: return "docs";
    default: return "not_found";
    }
}
