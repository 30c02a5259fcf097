/* config: every setting, from the environment and the command line.
 *
 * Each setting has a flag, an environment variable and a default; a flag
 * beats the variable. config_load() checks them all before the service
 * serves anything, so a bad value stops it at start, never mid-flight.
 * The struct owns its strings (config_free releases them). */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>

#define CONFIG_DEFAULT_UPSTREAM "https://alpha.api.magalu.com"
#define CONFIG_DEFAULT_TENANT "21fea73c-e244-497a-8540-be0d3c583596"

enum log_level_value { CONFIG_LOG_ERROR, CONFIG_LOG_WARN, CONFIG_LOG_INFO, CONFIG_LOG_DEBUG };

struct config {
    char *listen;          /* NULL: the FastCGI socket is fd 0 (spawn-fcgi) */
    char *maestro;         /* $MAGALU_API_URL/maestro/v1, no trailing slash */
    char *catalog;         /* $MAGALU_API_URL/catalogs, no trailing slash */
    char *api_key;         /* secret: never logged, never answered */
    char *tenant;
    char *ca_file;         /* PEM bundle the upstream is checked against;
                              NULL: the system's (libcurl's built-in) */
    long max_in_flight;    /* requests held at once; past it: 503 */
    long connect_timeout_ms;
    long call_timeout_ms;  /* one upstream call, queueing included */
    long stall_timeout_ms; /* an answer silent this long mid-body fails */
    long request_timeout_ms; /* the whole request */
    long max_body;         /* bytes of one upstream answer */
    long max_answer;       /* bytes of our answer */
    long max_memory;       /* upstream bytes held at once by the process */
    long max_packages;     /* packages in one order; more: 502 */
    long max_codes;        /* product codes in one enrichment; more: 422 */
    long fanout;           /* upstream calls at once per request; 1 = sequential */
    long max_connections;  /* upstream connections per process */
    long max_connecting;   /* of those, in their set-up (TLS handshake) at once */
    long idle_timeout_ms;  /* upstream connections idle longer are closed */
    long write_timeout_ms; /* for the web server to read one answer */
    long backlog;          /* listen backlog with --listen */
    long breaker_window_ms;/* circuit breaker: the rolling window weighed */
    long breaker_min_calls;/* calls in the window needed before it may open */
    long breaker_threshold;/* failure percentage that opens it */
    long breaker_open_ms;  /* how long it stays open */
    long breaker_trials;   /* requests let through half-open */
    long metrics;          /* 1: answer GET /metrics */
    long upstream_http2;   /* 1: offer HTTP/2 to an https upstream */
    long hedge_after_ms;   /* -1 auto, 0 never, else a fixed delay (hedge.h) */
    long hedge_budget;     /* hedges, as a percentage of the calls */
    long hedge_min_ms;     /* the least delay auto may choose */
    int log_level;
};

enum config_result { CONFIG_OK, CONFIG_EXIT, CONFIG_ERROR };

/* Fills *c from env and argv. CONFIG_EXIT: --help or --version was
 * printed to stdout. CONFIG_ERROR: err holds the one-line reason. */
enum config_result config_load(struct config *c, int argc, char **argv,
                               char *err, size_t errlen);
void config_free(struct config *c);

#endif
