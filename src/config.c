#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* One numeric setting: where it is read from and what it may be. */
struct config_num {
    const char *flag;
    const char *env;
    size_t offset; /* of the long in struct config */
    long def, min, max;
    const char *help;
    const char *arg; /* what --help calls the value */
    const char *word; /* a word that stands for -1 (and for a default of
                         -1 in --help), or NULL */
};

#define CFG_OFF(field) offsetof(struct config, field)
#define MIB (1024L * 1024L)

static const struct config_num config_nums[] = {
    {"max-in-flight", "API_PEDIDOS_MAX_IN_FLIGHT", CFG_OFF(max_in_flight), 1024, 1, 100000,
     "requests held at once by one process; past it 503", "N", NULL},
    {"connect-timeout", "API_PEDIDOS_CONNECT_TIMEOUT_MS", CFG_OFF(connect_timeout_ms), 2000, 1, 600000,
     "ms to connect to the upstream", "MS", NULL},
    {"call-timeout", "API_PEDIDOS_CALL_TIMEOUT_MS", CFG_OFF(call_timeout_ms), 5000, 1, 600000,
     "ms for one upstream call, queueing included", "MS", NULL},
    {"stall-timeout", "API_PEDIDOS_STALL_TIMEOUT_MS", CFG_OFF(stall_timeout_ms), 2000, 100, 600000,
     "ms an upstream answer may send nothing once its body has begun; past it the call fails (502)", "MS", NULL},
    {"request-timeout", "API_PEDIDOS_REQUEST_TIMEOUT_MS", CFG_OFF(request_timeout_ms), 10000, 1, 600000,
     "ms for a whole request; past it 502", "MS", NULL},
    {"max-body", "API_PEDIDOS_MAX_BODY", CFG_OFF(max_body), 8 * MIB, 1024, 1024 * MIB,
     "bytes of one upstream answer; past it 502", "BYTES", NULL},
    {"max-answer", "API_PEDIDOS_MAX_ANSWER", CFG_OFF(max_answer), 64 * MIB, 1024, 1024 * MIB,
     "bytes of one answer of ours; past it 502", "BYTES", NULL},
    {"max-memory", "API_PEDIDOS_MAX_MEMORY", CFG_OFF(max_memory), 512 * MIB, 16 * MIB, 1024L * 1024 * MIB,
     "bytes of upstream bodies and answer parts one process holds at once; past it new orders 503", "BYTES", NULL},
    {"max-packages", "API_PEDIDOS_MAX_PACKAGES", CFG_OFF(max_packages), 10000, 0, 1000000,
     "packages in one order; more 502", "N", NULL},
    {"max-codes", "API_PEDIDOS_MAX_CODES", CFG_OFF(max_codes), 500, 1, 100000,
     "product codes in one POST /orders/enriched; more 422", "N", NULL},
    {"fanout", "API_PEDIDOS_FANOUT", CFG_OFF(fanout), 256, 1, 10000,
     "upstream calls at once per request (packages, catalog codes); 1 makes one at a time", "N", NULL},
    {"max-connections", "API_PEDIDOS_MAX_CONNECTIONS", CFG_OFF(max_connections), 4096, 1, 16384,
     "upstream connections per process", "N", NULL},
    {"max-connecting", "API_PEDIDOS_MAX_CONNECTING", CFG_OFF(max_connecting), 64, 1, 16384,
     "upstream connections being set up (connect, TLS handshake) at once per process; "
     "more calls wait for one", "N", NULL},
    {"write-timeout", "API_PEDIDOS_WRITE_TIMEOUT_MS", CFG_OFF(write_timeout_ms), 10000, 100, 600000,
     "ms for the web server to read one answer; past it the answer is cut, logged and counted", "MS", NULL},
    {"idle-timeout", "API_PEDIDOS_IDLE_TIMEOUT_MS", CFG_OFF(idle_timeout_ms), 60000, 1000, 3600000,
     "ms a kept-alive upstream connection may stay idle; a process idle that long closes them all", "MS", NULL},
    {"backlog", "API_PEDIDOS_BACKLOG", CFG_OFF(backlog), 1024, 1, 65535,
     "listen backlog with --listen", "N", NULL},
    {"breaker-window-ms", "API_PEDIDOS_BREAKER_WINDOW_MS", CFG_OFF(breaker_window_ms), 10000, 100, 3600000,
     "circuit breaker: upstream calls of the last MS are weighed (10 buckets)", "MS", NULL},
    {"breaker-min-calls", "API_PEDIDOS_BREAKER_MIN_CALLS", CFG_OFF(breaker_min_calls), 20, 1, 10000000,
     "circuit breaker: calls in the window needed before it may open", "N", NULL},
    {"breaker-threshold", "API_PEDIDOS_BREAKER_THRESHOLD", CFG_OFF(breaker_threshold), 50, 1, 100,
     "circuit breaker: failure percentage that opens it", "PCT", NULL},
    {"breaker-open-ms", "API_PEDIDOS_BREAKER_OPEN_MS", CFG_OFF(breaker_open_ms), 5000, 1, 3600000,
     "circuit breaker: ms it stays open (503) before trials", "MS", NULL},
    {"breaker-trials", "API_PEDIDOS_BREAKER_TRIALS", CFG_OFF(breaker_trials), 3, 1, 100,
     "circuit breaker: trial requests that must succeed to close it", "N", NULL},
    {"metrics", "API_PEDIDOS_METRICS", CFG_OFF(metrics), 0, 0, 1,
     "1 answers GET /metrics (Prometheus); keep it to internal addresses", "0|1", NULL},
    {"upstream-http2", "API_PEDIDOS_UPSTREAM_HTTP2", CFG_OFF(upstream_http2), 1, 0, 1,
     "1 offers HTTP/2 to an https upstream (ALPN), 0 keeps it to HTTP/1.1", "0|1", NULL},
    {"hedge-after", "API_PEDIDOS_HEDGE_AFTER", CFG_OFF(hedge_after_ms), -1, 0, 600000,
     "ms without an answer after which an upstream call is sent once more (a hedge); "
     "auto: a recent high percentile of that kind of call's time; 0: never", "auto|MS", "auto"},
    {"hedge-budget", "API_PEDIDOS_HEDGE_BUDGET", CFG_OFF(hedge_budget), 5, 0, 100,
     "hedges are at most this percentage of the upstream calls (auto waits for the "
     "(100 - PCT/2)th percentile); 0: never", "PCT", NULL},
    {"hedge-min-ms", "API_PEDIDOS_HEDGE_MIN_MS", CFG_OFF(hedge_min_ms), 5, 1, 600000,
     "the shortest delay hedge-after auto may choose", "MS", NULL},
};

#define CONFIG_NNUMS (sizeof(config_nums) / sizeof(config_nums[0]))

/* Settings that were removed. Given, they stop the service with a line
 * naming what replaced them: silently ignored, they would change what
 * an operator set; and getopt_long would take --breaker-window for an
 * abbreviation of --breaker-window-ms (a count read as milliseconds). */
struct config_gone {
    const char *flag, *env, *why, *flag_now, *env_now;
};

static const struct config_gone config_gones[] = {
    {"breaker-window", "API_PEDIDOS_BREAKER_WINDOW", "the breaker's window is a time now",
     "--breaker-window-ms", "API_PEDIDOS_BREAKER_WINDOW_MS"},
};

#define CONFIG_NGONE (sizeof(config_gones) / sizeof(config_gones[0]))
#define OPT_NUM_BASE 256

static const char *config_level_names[] = {"error", "warn", "info", "debug"};

static long *config_field(struct config *c, const struct config_num *n)
{
    return (long *)((char *)c + n->offset);
}

/* A value as it may be shown in a one-line error: at most 64 bytes,
 * control characters replaced, so no value can forge a log line. */
static const char *config_shown(const char *value, char *buf, size_t cap)
{
    size_t i;

    for (i = 0; value[i] && i + 1 < cap && i < 64; i++)
        buf[i] = (unsigned char)value[i] < 0x20 || value[i] == 0x7f ? '?' : value[i];
    buf[i] = '\0';
    return buf;
}

static int config_fail(char *err, size_t errlen, const char *what,
                       const char *value, const char *want)
{
    char shown[80];

    snprintf(err, errlen, "bad value for %s: '%s' (%s)", what,
             config_shown(value, shown, sizeof(shown)), want);
    return -1;
}

static int config_set_num(struct config *c, const struct config_num *n,
                          const char *what, const char *s, char *err, size_t errlen)
{
    char want[96], *end;
    long v;

    snprintf(want, sizeof(want), "want %s%san integer from %ld to %ld", n->word ? n->word : "",
             n->word ? " or " : "", n->min, n->max);
    if (n->word && strcmp(s, n->word) == 0) {
        *config_field(c, n) = -1;
        return 0;
    }
    errno = 0;
    v = strtol(s, &end, 10);
    if (!(*s >= '0' && *s <= '9') || errno || *end || v < n->min || v > n->max)
        return config_fail(err, errlen, what, s, want);
    *config_field(c, n) = v;
    return 0;
}

static int config_set_level(struct config *c, const char *what, const char *s,
                            char *err, size_t errlen)
{
    int i;

    for (i = 0; i <= CONFIG_LOG_DEBUG; i++) {
        if (strcmp(s, config_level_names[i]) == 0) {
            c->log_level = i;
            return 0;
        }
    }
    return config_fail(err, errlen, what, s, "want error, warn, info or debug");
}

/* base[0..n) followed by suffix, malloc'd; NULL when out of memory. */
static char *config_join(const char *base, size_t n, const char *suffix)
{
    char *s = malloc(n + strlen(suffix) + 1);

    if (!s)
        return NULL;
    memcpy(s, base, n);
    strcpy(s + n, suffix);
    return s;
}

/* The base URL must be http(s) and is kept without a trailing slash. */
static int config_set_upstream(struct config *c, const char *what, const char *s,
                               char *err, size_t errlen)
{
    size_t n = strlen(s);
    const char *host = strstr(s, "://");

    if ((strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) ||
        host[3] == '\0' || host[3] == '/' || strpbrk(s, " \t\r\n?#") || n > 2048)
        return config_fail(err, errlen, what, s, "want an http:// or https:// URL");
    while (n > 0 && s[n - 1] == '/')
        n--;
    free(c->maestro);
    free(c->catalog);
    c->maestro = config_join(s, n, "/maestro/v1");
    c->catalog = config_join(s, n, "/catalogs");
    if (!c->maestro || !c->catalog)
        return config_fail(err, errlen, what, s, "out of memory");
    return 0;
}

/* Header values must not carry line breaks into the request. */
static int config_set_header_value(char **field, const char *what, const char *s,
                                   int secret, char *err, size_t errlen)
{
    if (!*s || strpbrk(s, "\r\n") || strlen(s) > 512)
        return config_fail(err, errlen, what, secret ? "(hidden)" : s,
                           "want a non-empty value of one line");
    free(*field);
    *field = strdup(s);
    return *field ? 0 : -1;
}

/* The CA bundle must be a readable file now, not at the first call. */
static int config_set_ca_file(struct config *c, const char *what, const char *s,
                              char *err, size_t errlen)
{
    FILE *f;

    if (!*s || strlen(s) > 4096)
        return config_fail(err, errlen, what, s, "want the path of a PEM file");
    f = fopen(s, "r");
    if (!f)
        return config_fail(err, errlen, what, s, strerror(errno));
    fclose(f);
    free(c->ca_file);
    c->ca_file = strdup(s);
    return c->ca_file ? 0 : -1;
}

static int config_set_listen(struct config *c, const char *s, char *err, size_t errlen)
{
    if (!*s || strlen(s) > 100)
        return config_fail(err, errlen, "--listen", s, "want HOST:PORT, :PORT or a socket path");
    free(c->listen);
    c->listen = strdup(s);
    return c->listen ? 0 : -1;
}

static void config_defaults(struct config *c)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    c->log_level = CONFIG_LOG_INFO;
    for (i = 0; i < CONFIG_NNUMS; i++)
        *config_field(c, &config_nums[i]) = config_nums[i].def;
}

static int config_from_env(struct config *c, char *err, size_t errlen)
{
    const char *v;
    size_t i;

    v = getenv("MAGALU_API_URL");
    if (config_set_upstream(c, "MAGALU_API_URL", v && *v ? v : CONFIG_DEFAULT_UPSTREAM, err, errlen))
        return -1;
    v = getenv("TENANT_ID");
    if (config_set_header_value(&c->tenant, "TENANT_ID", v ? v : CONFIG_DEFAULT_TENANT, 0, err, errlen))
        return -1;
    v = getenv("APIKEY");
    if (!v || !*v) {
        snprintf(err, errlen, "APIKEY is not set (the Maestro API key, sent as X-Api-Key)");
        return -1;
    }
    if (config_set_header_value(&c->api_key, "APIKEY", v, 1, err, errlen))
        return -1;
    for (i = 0; i < CONFIG_NGONE; i++) {
        if (getenv(config_gones[i].env)) {
            snprintf(err, errlen, "%s was removed: %s, see %s", config_gones[i].env,
                     config_gones[i].why, config_gones[i].env_now);
            return -1;
        }
    }
    if ((v = getenv("API_PEDIDOS_LISTEN")) && config_set_listen(c, v, err, errlen))
        return -1;
    if ((v = getenv("API_PEDIDOS_CA_FILE")) && *v &&
        config_set_ca_file(c, "API_PEDIDOS_CA_FILE", v, err, errlen))
        return -1;
    if ((v = getenv("API_PEDIDOS_LOG_LEVEL")) && config_set_level(c, "API_PEDIDOS_LOG_LEVEL", v, err, errlen))
        return -1;
    for (i = 0; i < CONFIG_NNUMS; i++) {
        v = getenv(config_nums[i].env);
        if (v && config_set_num(c, &config_nums[i], config_nums[i].env, v, err, errlen))
            return -1;
    }
    return 0;
}

static void config_usage_num(FILE *f, const struct config_num *n)
{
    char def[24];

    if (n->word && n->def == -1)
        snprintf(def, sizeof(def), "%s", n->word);
    else
        snprintf(def, sizeof(def), "%ld", n->def);
    fprintf(f, "  --%s %-*s %s; default %s [%s]\n", n->flag, (int)(19 - strlen(n->flag)), n->arg,
            n->help, def, n->env);
}

static void config_usage(FILE *f)
{
    size_t i;

    fprintf(f,
            "Usage: api-pedidos [OPTION]...\n"
            "FastCGI service: GET /orders/{id}/items from the Magalu Maestro API,\n"
            "POST /orders/enriched from its catalog.\n"
            "Started by spawn-fcgi (the FastCGI socket on fd 0) or with --listen.\n\n"
            "  --listen ADDR          HOST:PORT, :PORT or a unix socket path [API_PEDIDOS_LISTEN]\n"
            "  --log-level LEVEL      error, warn, info or debug; default info [API_PEDIDOS_LOG_LEVEL]\n"
            "  --ca-file PATH         PEM bundle of the CAs the https upstream is checked against;\n"
            "                         default the system's store [API_PEDIDOS_CA_FILE]\n");
    for (i = 0; i < CONFIG_NNUMS; i++)
        config_usage_num(f, &config_nums[i]);
    fprintf(f,
            "  --help                 print this and exit\n"
            "  --version              print the version and exit\n\n"
            "Environment:\n"
            "  MAGALU_API_URL  upstream base; default " CONFIG_DEFAULT_UPSTREAM "\n"
            "                  (the Maestro API is $MAGALU_API_URL/maestro/v1,\n"
            "                  the catalog $MAGALU_API_URL/catalogs)\n"
            "  APIKEY          Maestro API key, sent as X-Api-Key (required)\n"
            "  TENANT_ID       sent as X-Tenant-Id; default " CONFIG_DEFAULT_TENANT "\n\n"
            "A flag beats its environment variable. A bad value: one line on stderr, exit 2.\n"
            "The upstream's certificate and host name are always verified; no option turns that off.\n");
}

static void config_options(struct option *o)
{
    size_t i;

    for (i = 0; i < CONFIG_NNUMS; i++)
        o[i] = (struct option){config_nums[i].flag, required_argument, NULL, OPT_NUM_BASE + (int)i};
    o[i++] = (struct option){"listen", required_argument, NULL, 'l'};
    o[i++] = (struct option){"log-level", required_argument, NULL, 'L'};
    o[i++] = (struct option){"ca-file", required_argument, NULL, 'C'};
    o[i++] = (struct option){"help", no_argument, NULL, 'h'};
    o[i++] = (struct option){"version", no_argument, NULL, 'V'};
    o[i] = (struct option){NULL, 0, NULL, 0};
}

/* First pass: only --help and --version, which must work whatever the
 * environment holds. */
static enum config_result config_scan_meta(int argc, char **argv)
{
    struct option opts[CONFIG_NNUMS + 6];
    int ch;

    config_options(opts);
    optind = 0;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 'h') {
            config_usage(stdout);
            return CONFIG_EXIT;
        }
        if (ch == 'V') {
            printf("api-pedidos %s\n", PACKAGE_VERSION);
            return CONFIG_EXIT;
        }
    }
    return CONFIG_OK;
}

static void config_unknown(int argc, char **argv, char *err, size_t errlen)
{
    char shown[80];
    const char *arg = optind - 1 < argc ? argv[optind - 1] : "";

    if (optopt && optopt < OPT_NUM_BASE && !(arg[0] == '-' && arg[1] == '-'))
        snprintf(err, errlen, "unknown option '-%c' (see --help)", optopt);
    else
        snprintf(err, errlen, "unknown or incomplete option '%s' (see --help)",
                 config_shown(arg, shown, sizeof(shown)));
}

/* -1 with err set when argv names a removed option, before getopt_long
 * could read it as an abbreviation of another. */
static int config_scan_gone(int argc, char **argv, char *err, size_t errlen)
{
    size_t i, n;
    int a;

    for (a = 1; a < argc && strcmp(argv[a], "--") != 0; a++) {
        for (i = 0; i < CONFIG_NGONE; i++) {
            n = strlen(config_gones[i].flag);
            if (strncmp(argv[a], "--", 2) == 0 && strncmp(argv[a] + 2, config_gones[i].flag, n) == 0 &&
                (argv[a][n + 2] == '\0' || argv[a][n + 2] == '=')) {
                snprintf(err, errlen, "option '--%s' was removed: %s, see %s",
                         config_gones[i].flag, config_gones[i].why, config_gones[i].flag_now);
                return -1;
            }
        }
    }
    return 0;
}

static enum config_result config_from_argv(struct config *c, int argc, char **argv,
                                           char *err, size_t errlen)
{
    struct option opts[CONFIG_NNUMS + 6];
    char what[64];
    int ch, r = 0;

    if (config_scan_gone(argc, argv, err, errlen))
        return CONFIG_ERROR;
    config_options(opts);
    optind = 0; /* 0, not 1: glibc then forgets a previous scan entirely */
    opterr = 0;
    while (r == 0 && (ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 'h' || ch == 'V') {
            continue; /* handled by config_scan_meta */
        } else if (ch == 'l') {
            r = config_set_listen(c, optarg, err, errlen);
        } else if (ch == 'L') {
            r = config_set_level(c, "--log-level", optarg, err, errlen);
        } else if (ch == 'C') {
            r = config_set_ca_file(c, "--ca-file", optarg, err, errlen);
        } else if (ch >= OPT_NUM_BASE && ch < OPT_NUM_BASE + (int)CONFIG_NNUMS) {
            snprintf(what, sizeof(what), "--%s", config_nums[ch - OPT_NUM_BASE].flag);
            r = config_set_num(c, &config_nums[ch - OPT_NUM_BASE], what, optarg, err, errlen);
        } else {
            config_unknown(argc, argv, err, errlen);
            r = -1;
        }
    }
    if (r == 0 && optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (see --help)",
                 config_shown(argv[optind], what, sizeof(what)));
        r = -1;
    }
    return r ? CONFIG_ERROR : CONFIG_OK;
}

static int config_check(const struct config *c, char *err, size_t errlen)
{
    if (c->call_timeout_ms < c->connect_timeout_ms) {
        snprintf(err, errlen, "call timeout (%ld ms) is shorter than connect timeout (%ld ms)",
                 c->call_timeout_ms, c->connect_timeout_ms);
        return -1;
    }
    return 0;
}

enum config_result config_load(struct config *c, int argc, char **argv,
                               char *err, size_t errlen)
{
    enum config_result r;

    config_defaults(c);
    if (config_scan_meta(argc, argv) == CONFIG_EXIT)
        return CONFIG_EXIT;
    if (config_from_env(c, err, errlen))
        return CONFIG_ERROR;
    r = config_from_argv(c, argc, argv, err, errlen);
    if (r == CONFIG_OK && config_check(c, err, errlen))
        r = CONFIG_ERROR;
    return r;
}

void config_free(struct config *c)
{
    free(c->listen);
    free(c->maestro);
    free(c->catalog);
    free(c->api_key);
    free(c->tenant);
    free(c->ca_file);
    memset(c, 0, sizeof(*c));
}
