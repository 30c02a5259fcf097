/* route: from FastCGI params to what the request asks for.
 *
 * Pure functions: no allocation, no I/O. The caller copies params out of
 * the FastCGI request and passes them in; results live in caller memory. */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>

#include "uuid.h"

#define ROUTE_PATH_MAX 4096 /* longer paths are answered 404 */

enum route_kind {
    ROUTE_NOT_FOUND,     /* 404 {"detail":"Not Found"} */
    ROUTE_BAD_METHOD,    /* 405, Allow: GET */
    ROUTE_HEALTH,        /* GET /healthcheck */
    ROUTE_ITEMS,         /* GET /orders/{uuid}/items; order_id is canonical */
    ROUTE_BAD_UUID,      /* /orders/{not a uuid}/items: 422 */
    ROUTE_METRICS,       /* GET /metrics (404 unless enabled) */
    ROUTE_OPENAPI,       /* GET /openapi.json */
    ROUTE_DOCS,          /* GET /docs */
    ROUTE_ENRICH,        /* POST /orders/enriched */
    ROUTE_BAD_METHOD_POST, /* /orders/enriched, not POST: 405, Allow: POST */
    ROUTE_COUNT
};

struct route {
    enum route_kind kind;
    char order_id[UUID_STR_LEN]; /* set for ROUTE_ITEMS only */
};

/* The params the path may come from, as the web server sent them (NULL
 * when absent). nginx's stock fastcgi_params lacks PATH_INFO. */
struct route_params {
    const char *path_info;
    const char *document_uri;
    const char *script_name;
    const char *request_uri;
};

/* Writes the decoded request path to buf (cap bytes, NUL-terminated):
 * PATH_INFO, else DOCUMENT_URI, else SCRIPT_NAME, else the path part of
 * REQUEST_URI, percent-decoded. Returns the length, or -1 when there is
 * no path, it does not fit, or it decodes to a NUL byte. */
long route_pick_path(const struct route_params *p, char *buf, size_t cap);

/* A short name for logs and metrics ("items", "healthcheck", ...). */
const char *route_name(enum route_kind kind);

/* Matches method and decoded path; fills *out. A NULL path (see
 * route_pick_path failing) is ROUTE_NOT_FOUND. */
void route_match(const char *method, const char *path, struct route *out);

#endif
