/*
 * maestro-fake.c - a fake "Maestro" and product catalog upstream for the
 * api-pedidos tests, demo and benchmark.  One file, libmicrohttpd, no JSON parsing at run time.
 *
 * Routes (GET only; auth checked when --api-key / --tenant are given, else
 * 403 {"detail":"Forbidden"}; anything else under /maestro or /catalogs,
 * other methods included: 404 not-found):
 *   /maestro/v1/orders/{order}                       FIXTURES/orders/{order}.json
 *   /maestro/v1/orders/{order}/packages/{pkg}/items  FIXTURES/items/{order}/{pkg}.json
 *   /catalogs/{code}                                 FIXTURES/catalogs/{code}.json
 *   /_stats  {"requests","in_flight","max_in_flight","connections","aborted",
 *             "last_request_id"} (the X-Request-Id of the last upstream call)
 *   /_reset  zeroes the counters (max_in_flight := in_flight), {"ok":true}
 *   /_release  every answer held back until now is answered at once
 *             (later ones keep their delays), {"ok":true}: a test holds
 *             answers with a long --delay-ms until it has seen what it needs
 * {order} only matches lower-case 8-4-4-4-12 UUIDs; {pkg} matches an
 * 8-4-4-4-12 UUID exactly as its file is named, case and all (a
 * case-sensitive upstream: a package is asked for as the order wrote it).
 * {code} is 1..64 ASCII letters and digits, matched case-sensitively; an
 * unknown or malformed code: 404 with a not-found body like Maestro's.
 * /maestro and /catalogs calls ("upstream calls") are counted, delayed and
 * faulted alike; the catalogs/ directory may be absent.  Fixture files are
 * read once at start; request input never reaches a file name.
 *
 * Synthetic orders (no files):
 *   00000000-0000-4000-8000-NNNNNNNNNNNN   N (decimal, 0..100000) packages
 *     00000000-0000-4000-9000-PPPPPPPPPPPP (P = 0..N-1); the items of package
 *     P are one item: code "P<P>", description "Produto <P>", image_url
 *     "https://img.example/{w}x{h}/<P>.jpg", reference "ref-<P>",
 *     quantity P+1 (plus ignored noise fields).
 * Synthetic catalog entries (no files):
 *   syn<N>  N decimal 0..99999 without leading zeros ("syn0", "syn42"; not
 *     "syn042": 404) answers {"code":"syn<N>","brand":"Marca <N>",
 *     "description":"Produto <N>","gtin":"789<N as 9 digits><check>"}, the
 *     gtin a valid EAN-13 (syn42: "7890000000420").
 *
 * Fault scheme (CC = two decimal digits, 01..19):
 *   00000f01-0000-4000-8000-0000000000CC  the ORDER call fails with fault CC.
 *   00000f02-0000-4000-8000-0000000000CC  the order answers 3 synthetic
 *     packages (P = 0,1,2); the items call of package 1 fails with fault CC,
 *     packages 0 and 2 answer normally after an extra --sibling-ms
 *     (default 2000 ms).
 *   fault<CC>  the CATALOG call of that code fails with fault CC (only the
 *     CC listed under "catalog scope"; any other fault<CC> is an ordinary
 *     code, looked up in the fixtures: 404).
 *   CC  order scope                           items scope
 *   01  404 not-found body                    same
 *   02  500 JSON error body                   same
 *   03  200 text/html "<html>oops</html>"     same
 *   04  200 object without "packages"         200 item without product.code
 *   05  normal answer after 30000 ms          same
 *   06  Content-Length 1000, 100 bytes sent, then the connection is aborted
 *   07  package uuid "../../../etc/passwd"    as 04
 *   08  200, 9 MiB of valid JSON (order with a huge padding field / items)
 *   09  418 JSON body                         same
 *   10  200 empty body                        same
 *   11  "packages" is an object               quantity 1.5
 *   12  200 Content-Encoding: gzip (unasked; gzip of "oops, not json")
 *   13  200 "[[[...]]]" nested 10000 deep     same
 *   14  package uuid with bytes C3 28         description with bytes C3 28
 *   15  package uuid ending in \u0000         description with \u0000
 *   16  200 truncated JSON (correct Content-Length of what is sent)
 *   17  302 Location: /maestro/v1/orders/00000000-0000-4000-8000-000000000001
 *   18  package uuid is a number              quantity "abc"
 *   19  200 [1,1,1,...] with 1000000 integers same
 *   CC  catalog scope (code fault<CC>; numbered as the fault of the same
 *       kind above)
 *   01  404, the body of an unknown code
 *   02  500 JSON error body (as above)
 *   03  200 text/html "<html>oops</html>"
 *   04  200 entry without "gtin"
 *   05  the normal entry after 30000 ms
 *   06  Content-Length 1000, 100 bytes of an entry sent, connection aborted
 *   07  200 a well-formed entry of another code: the whole syn7 entry
 *   09  503 JSON error body
 *   11  200 wrong types: "description" 12345, "gtin" {"ean":"..."}
 *   14  200 "description" with bytes C3 28 (invalid UTF-8)
 *   16  200 truncated JSON (correct Content-Length of what is sent)
 *
 * Unknown CC, or a package other than P < N (synthetic) / P < 3 (fault
 * orders): 404.  Faults 05/06 and synthetic bodies are built per request;
 * every other answer is prepared once at start and shared.  The synthetic
 * and fault codes are looked at before the catalog fixtures.
 *
 * Random faults: each upstream call, after the auth check, independently
 * answers 500 or resets mid-body (half each) with probability --fail-rate %,
 * and waits --slow-ms more with probability --slow-rate %.  --delay-ms L
 * delays every upstream answer (403 and 404 included).  --slow-first N
 * makes the first N upstream answers since start wait --slow-first-ms
 * more (a cold upstream: its first connections are slow).  --slow-once-ms
 * MS makes the first ask of each URL wait MS more, and every later ask of
 * it not (a deterministic tail: a hedged call's second try is fast; the
 * URLs seen are forgotten by /_reset).  Delays add up.
 *
 * Delays never block a thread: once the request is complete the connection
 * is suspended, its due time goes into a min-heap (mutex) and one timer
 * thread resumes it when due; the next handler call queues the answer.
 * /_stats, /_reset and /_release are never delayed, faulted or counted.  On SIGTERM or
 * SIGINT pending delays are cut short, the daemon stops and we exit 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define PROG "maestro-fake"
#define UUID_LEN 36
#define KEY_LEN (2 * UUID_LEN + 1)
#define MAX_SYNTH_PACKAGES 100000ul
#define FAULT_PACKAGES 3ul
#define FAULT_CODES 20
#define FAULT_SLOW 5u
#define FAULT_RESET 6u
#define SLOW_FAULT_MS 30000u
#define SIBLING_DELAY_MS 2000u /* --sibling-ms default */
#define CONN_LIMIT 20000u
#define CONN_MEMORY ((size_t)16384) /* per-connection pool; requests are small */
#define LISTEN_BACKLOG 4096u
#define TIMER_CAP 32768u
#define TIMER_BATCH 256u
#define MAX_FIXTURES 100000u
#define MAX_FIXTURE_BYTES (64l << 20)
#define MAX_DELAY_MS 3600000ul
#define MAX_SLOW_FIRST 1000000000ul
#define MAX_THREADS 256ul
#define BIG_BODY_BYTES (9ul << 20)
#define NEST_DEPTH 10000u
#define INT_COUNT 1000000u
#define RESET_SENT 100u
#define RESET_DECLARED 1000u
#define STOP_WAIT_MS 5000u
#define CODE_MAX 64u
#define MAX_SYNTH_CODE 99999ul
#define SYN_CODE_DIGITS 5u

#define CT_JSON "application/json"
#define SYN_ORDER_PREFIX "00000000-0000-4000-8000-"
#define SYN_PKG_PREFIX "00000000-0000-4000-9000-"
#define F01_PREFIX "00000f01-0000-4000-8000-0000000000"
#define F02_PREFIX "00000f02-0000-4000-8000-0000000000"
#define F01(cc) F01_PREFIX cc
#define CATALOGS "/catalogs"
#define SYN_CODE_PREFIX "syn"
#define FAULT_CODE_PREFIX "fault"
#define CAT_KEY_PREFIX "catalogs/" /* fixture key of a catalog entry */
#define STAMP "2024-03-01T12:00:00.000Z"

/* ------------------------------------------------------------------ */
/* configuration                                                       */

struct config {
    const char *bind, *fixtures, *api_key, *tenant;
    unsigned long port, delay_ms, slow_ms, threads, slow_first, slow_first_ms, sibling_ms;
    unsigned long slow_once_ms;
    bool watch_aborts;
    double fail_pct, slow_pct;
};

static struct config cfg = { .bind = "127.0.0.1", .threads = 1, .sibling_ms = SIBLING_DELAY_MS };

static void usage(FILE *out)
{
    fputs("usage: " PROG " --port P [--bind ADDR] [--fixtures DIR]"
          " [--delay-ms L] [--api-key K] [--tenant T] [--fail-rate PCT]"
          " [--slow-rate PCT] [--slow-ms MS] [--slow-first N] [--slow-first-ms MS]"
          " [--slow-once-ms MS] [--watch-aborts] [--sibling-ms MS] [--threads N] [--help]\n"
          "  --port P         TCP port (0: any free port)\n"
          "  --bind ADDR      IPv4/IPv6 address (default 127.0.0.1)\n"
          "  --fixtures DIR   DIR/orders/<order>.json, DIR/items/<order>/<pkg>.json,\n"
          "                   DIR/catalogs/<code>.json\n"
          "  --delay-ms L     delay every /maestro and /catalogs answer by L ms\n"
          "  --api-key K      require X-Api-Key: K (else 403)\n"
          "  --tenant T       require X-Tenant-Id: T (else 403)\n"
          "  --fail-rate PCT  PCT% of answers: 500 or reset mid-body\n"
          "  --slow-rate PCT  PCT% of answers wait --slow-ms more\n"
          "  --slow-ms MS     extra delay of slow answers (default 0)\n"
          "  --slow-first N   the first N answers since start wait --slow-first-ms more\n"
          "  --slow-first-ms MS  their extra delay (default 0)\n"
          "  --slow-once-ms MS  the first ask of each URL waits MS more, later asks\n"
          "                   of it not (default 0: off)\n"
          "  --watch-aborts   a delayed answer whose client hangs up ends at once\n"
          "                   (its socket looked at every 10 ms; off: at its due time)\n"
          "  --sibling-ms MS  extra delay of the good packages of a 00000f02 fault\n"
          "                   order (default 2000)\n"
          "  --threads N      MHD thread pool size (default 1)\n"
          "Fault orders and codes: see the header of tests/maestro-fake.c.\n", out);
}

static _Noreturn void bad_arg(const char *what, const char *value)
{
    fprintf(stderr, PROG ": bad %s '%s' (try --help)\n", what, value);
    exit(2);
}

static _Noreturn void die_usage(const char *msg)
{
    fprintf(stderr, PROG ": %s (try --help)\n", msg);
    exit(2);
}

static unsigned long parse_ulong(const char *flag, const char *s,
                                 unsigned long max)
{
    char *end;
    if (s[0] < '0' || s[0] > '9')
        bad_arg(flag, s);
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        bad_arg(flag, s);
    return v;
}

static double parse_pct(const char *flag, const char *s)
{
    char *end;
    if ((s[0] < '0' || s[0] > '9') && s[0] != '.')
        bad_arg(flag, s);
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || *end != '\0' || !(v >= 0.0 && v <= 100.0))
        bad_arg(flag, s);
    return v;
}

enum { O_PORT = 256, O_BIND, O_FIXTURES, O_DELAY, O_KEY, O_TENANT,
       O_FAIL, O_SLOWRATE, O_SLOWMS, O_SLOWFIRST, O_SLOWFIRSTMS, O_SLOWONCE, O_WATCHABORTS, O_SIBLINGMS, O_THREADS, O_HELP };

static const struct option k_options[] = {
    { "port", required_argument, NULL, O_PORT },
    { "bind", required_argument, NULL, O_BIND },
    { "fixtures", required_argument, NULL, O_FIXTURES },
    { "delay-ms", required_argument, NULL, O_DELAY },
    { "api-key", required_argument, NULL, O_KEY },
    { "tenant", required_argument, NULL, O_TENANT },
    { "fail-rate", required_argument, NULL, O_FAIL },
    { "slow-rate", required_argument, NULL, O_SLOWRATE },
    { "slow-ms", required_argument, NULL, O_SLOWMS },
    { "slow-first", required_argument, NULL, O_SLOWFIRST },
    { "slow-first-ms", required_argument, NULL, O_SLOWFIRSTMS },
    { "slow-once-ms", required_argument, NULL, O_SLOWONCE },
    { "watch-aborts", no_argument, NULL, O_WATCHABORTS },
    { "sibling-ms", required_argument, NULL, O_SIBLINGMS },
    { "threads", required_argument, NULL, O_THREADS },
    { "help", no_argument, NULL, O_HELP },
    { NULL, 0, NULL, 0 }
};

static void apply_option(int opt, const char *arg)
{
    switch (opt) {
    case O_PORT: cfg.port = parse_ulong("--port", arg, 65535); break;
    case O_BIND: cfg.bind = arg; break;
    case O_FIXTURES: cfg.fixtures = arg; break;
    case O_DELAY: cfg.delay_ms = parse_ulong("--delay-ms", arg, MAX_DELAY_MS); break;
    case O_KEY: cfg.api_key = arg; break;
    case O_TENANT: cfg.tenant = arg; break;
    case O_FAIL: cfg.fail_pct = parse_pct("--fail-rate", arg); break;
    case O_SLOWRATE: cfg.slow_pct = parse_pct("--slow-rate", arg); break;
    case O_SLOWMS: cfg.slow_ms = parse_ulong("--slow-ms", arg, MAX_DELAY_MS); break;
    case O_SLOWFIRST: cfg.slow_first = parse_ulong("--slow-first", arg, MAX_SLOW_FIRST); break;
    case O_SLOWFIRSTMS:
        cfg.slow_first_ms = parse_ulong("--slow-first-ms", arg, MAX_DELAY_MS);
        break;
    case O_WATCHABORTS: cfg.watch_aborts = true; break;
    case O_SLOWONCE: cfg.slow_once_ms = parse_ulong("--slow-once-ms", arg, MAX_DELAY_MS); break;
    case O_SIBLINGMS: cfg.sibling_ms = parse_ulong("--sibling-ms", arg, MAX_DELAY_MS); break;
    case O_THREADS: cfg.threads = parse_ulong("--threads", arg, MAX_THREADS); break;
    default: usage(stdout); exit(0);
    }
}

static void parse_args(int argc, char **argv)
{
    bool have_port = false;
    int opt;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":", k_options, NULL)) != -1) {
        if (opt == '?' || opt == ':')
            bad_arg(opt == ':' ? "option (value missing)" : "option",
                argv[optind - 1]);
        apply_option(opt, optarg);
        have_port |= opt == O_PORT;
    }
    if (optind < argc)
        bad_arg("argument", argv[optind]);
    if (!have_port)
        die_usage("--port is required");
    if (cfg.threads == 0)
        bad_arg("--threads", "0");
}

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* xorshift64, one state per thread, seeded from time and thread. */
static uint64_t rng_next(void)
{
    static _Thread_local uint64_t s;
    if (s == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        s = ((uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30)
             ^ ((uint64_t)(uintptr_t)&s * 0x9E3779B97F4A7C15ull)) | 1u;
    }
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

static bool roll(double pct)
{
    return pct > 0.0 && (double)(rng_next() % 1000000u) < pct * 10000.0;
}

static bool is_uuid_case(const char *s, bool any_case)
{
    for (size_t i = 0; i < UUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')
                   || (any_case && c >= 'A' && c <= 'F');
        if (dash ? c != '-' : !hex)
            return false;
    }
    return true;
}

static bool is_uuid_lc(const char *s)
{
    return is_uuid_case(s, false);
}

/* Exactly n decimal digits. */
static bool parse_digits(const char *s, size_t n, unsigned long *out)
{
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    *out = v;
    return true;
}

static void put_digits(char *dst, unsigned long v, size_t width)
{
    for (size_t i = width; i-- > 0; v /= 10)
        dst[i] = (char)('0' + v % 10);
}

/* ------------------------------------------------------------------ */
/* responses                                                           */

struct canned {
    struct MHD_Response *resp;
    unsigned status;
};

enum scope { SC_ORDER, SC_ITEMS, SC_CATALOG, SC_COUNT };

static struct canned k_forbidden, k_nf_order, k_nf_items, k_nf_catalog, k_nf_local,
    k_err500, k_ok;
static struct canned k_faults[SC_COUNT][FAULT_CODES];

static struct MHD_Response *with_type(struct MHD_Response *r, const char *ctype)
{
    if (r != NULL && ctype != NULL
        && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

static struct MHD_Response *body_static(const char *s, size_t len, const char *ctype)
{
    return with_type(MHD_create_response_from_buffer(len, (void *)(uintptr_t)s,
                                                     MHD_RESPMEM_PERSISTENT), ctype);
}

static struct MHD_Response *json_static(const char *s)
{
    return body_static(s, strlen(s), CT_JSON);
}

/* Takes ownership of buf (freed by MHD, or here on failure). */
static struct MHD_Response *json_owned(char *buf, size_t len)
{
    if (buf == NULL)
        return NULL;
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
    if (r == NULL)
        free(buf);
    return with_type(r, CT_JSON);
}

static bool can(struct canned *k, struct MHD_Response *r, unsigned status)
{
    k->resp = r;
    k->status = status;
    return r != NULL;
}

static void uncan(struct canned *k)
{
    if (k->resp != NULL)
        MHD_destroy_response(k->resp);
    k->resp = NULL;
}

/* ------------------------------------------------------------------ */
/* body generators (synthetic and big fault bodies)                    */

static const char k_order_head_fmt[] =
    "{\"uuid\":\"%s\",\"number\":\"%016lu\",\"sales_channel\":{\"code\":9,"
    "\"description\":\"Site Mobile\",\"organization\":{\"uuid\":"
    "\"6a0c1d8e-3b7f-4c2a-9e51-0d4b8f7a2c13\",\"code\":\"loja_exemplo\","
    "\"description\":\"Loja Exemplo\"}},\"customer\":{\"uuid\":"
    "\"5e2b9c4d-8a1f-4e6b-b3c7-2d9f0a6e4b81\",\"name\":\"Cliente Sint\xc3\xa9tico\"},"
    "\"payment\":{\"status\":{\"code\":\"authorized\"},\"currency\":\"BRL\"},"
    "\"packages\":[";
static const char k_order_tail[] =
    "],\"created_at\":\"" STAMP "\",\"updated_at\":\"2024-03-01T12:00:02.000+0000\"}";
static const char k_pkg_head[] = "{\"uuid\":\"" SYN_PKG_PREFIX;
static const char k_pkg_tail[] =
    "\",\"seller\":{\"code\":\"vendedor_exemplo\",\"description\":\"Vendedor Exemplo\"},"
    "\"amount\":\"10.00\",\"created_at\":\"" STAMP "\",\"updated_at\":\"" STAMP "\"}";
static const char k_item_fmt[] =
    "[{\"uuid\":\"00000000-0000-4000-a000-%012lu\",\"product\":{\"code\":\"P%lu\","
    "\"seller\":{\"sku\":\"x\"},\"price\":\"10.00\",\"freight\":{\"cost\":"
    "{\"customer\":\"0.00\"}},\"discount\":\"0.00\",\"description\":\"Produto %lu\","
    "\"brand\":\"Marca Exemplo\",\"reference\":\"ref-%lu\",\"image_url\":"
    "\"https://img.example/{w}x{h}/%lu.jpg\",\"category\":{\"id\":\"UD\","
    "\"sub_category\":{\"id\":\"TEST\"}}},\"quantity\":%lu,\"value\":\"10.00\","
    "\"total\":\"10.00\",\"created_at\":\"" STAMP "\",\"updated_at\":\"" STAMP "\"}]";
static const char k_big_item[] =
    "{\"product\":{\"code\":\"BIG\",\"description\":\"Item de carga\",\"image_url\":"
    "\"https://img.example/{w}x{h}/big.jpg\",\"reference\":\"ref-big\","
    "\"price\":\"1.00\",\"seller\":{\"sku\":\"x\"}},\"quantity\":1}";

#define PKG_LEN (sizeof k_pkg_head - 1 + 12 + sizeof k_pkg_tail - 1)

static char *put_str(char *dst, const char *s, size_t len)
{
    memcpy(dst, s, len);
    return dst + len;
}

static char *put_packages(char *w, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++) {
        if (i > 0)
            *w++ = ',';
        w = put_str(w, k_pkg_head, sizeof k_pkg_head - 1);
        put_digits(w, i, 12);
        w = put_str(w + 12, k_pkg_tail, sizeof k_pkg_tail - 1);
    }
    return w;
}

/* An order like the real ones, with n synthetic packages. */
static struct MHD_Response *gen_order(const char *uuid, unsigned long n)
{
    char head[sizeof k_order_head_fmt + 64];
    int hl = snprintf(head, sizeof head, k_order_head_fmt, uuid, n);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return NULL;
    size_t len = (size_t)hl + n * (PKG_LEN + 1) + sizeof k_order_tail - 1;
    char *buf = malloc(len), *w = buf;
    if (buf == NULL)
        return NULL;
    w = put_str(w, head, (size_t)hl);
    w = put_packages(w, n);
    w = put_str(w, k_order_tail, sizeof k_order_tail - 1);
    return json_owned(buf, (size_t)(w - buf));
}

static struct MHD_Response *gen_items(unsigned long idx)
{
    char tmp[sizeof k_item_fmt + 128];
    int n = snprintf(tmp, sizeof tmp, k_item_fmt, idx, idx, idx, idx, idx, idx + 1);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return NULL;
    return with_type(MHD_create_response_from_buffer((size_t)n, tmp,
                                                     MHD_RESPMEM_MUST_COPY), CT_JSON);
}

static struct MHD_Response *gen_big_order(void)
{
    static const char head[] = "{\"uuid\":\"" F01("08") "\",\"padding\":\"";
    static const char mid[] = "\",\"packages\":[";
    size_t len = sizeof head + BIG_BODY_BYTES + sizeof mid + 3 * (PKG_LEN + 1) + 2;
    char *buf = malloc(len), *w = buf;
    if (buf == NULL)
        return NULL;
    w = put_str(w, head, sizeof head - 1);
    memset(w, 'x', BIG_BODY_BYTES);
    w = put_str(w + BIG_BODY_BYTES, mid, sizeof mid - 1);
    w = put_packages(w, FAULT_PACKAGES);
    w = put_str(w, "]}", 2);
    return json_owned(buf, (size_t)(w - buf));
}

static struct MHD_Response *gen_big_items(void)
{
    size_t item = sizeof k_big_item - 1;
    size_t count = BIG_BODY_BYTES / (item + 1) + 1;
    char *buf = malloc(count * (item + 1) + 2), *w = buf;
    if (buf == NULL)
        return NULL;
    *w++ = '[';
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            *w++ = ',';
        w = put_str(w, k_big_item, item);
    }
    *w++ = ']';
    return json_owned(buf, (size_t)(w - buf));
}

static struct MHD_Response *gen_nested(void)
{
    char *buf = malloc(2 * NEST_DEPTH);
    if (buf == NULL)
        return NULL;
    memset(buf, '[', NEST_DEPTH);
    memset(buf + NEST_DEPTH, ']', NEST_DEPTH);
    return json_owned(buf, 2 * NEST_DEPTH);
}

static struct MHD_Response *gen_ints(void)
{
    size_t len = 2 * INT_COUNT + 1;
    char *buf = malloc(len);
    if (buf == NULL)
        return NULL;
    buf[0] = '[';
    for (size_t i = 0; i < INT_COUNT; i++) {
        buf[1 + 2 * i] = '1';
        buf[2 + 2 * i] = i + 1 < INT_COUNT ? ',' : ']';
    }
    return json_owned(buf, len);
}

/* ------------------------------------------------------------------ */
/* canned bodies                                                       */

static const char k_body_nf_order[] =
    "[{\"error_code\":\"RESOURCE_NOT_FOUND\",\"message\":\"The specified resource "
    "does not found\",\"details\":[{\"issue\":\"INVALID_RESOURCE_ID\",\"description\":"
    "\"Specified resource ID does not exist\",\"location\":\"path\",\"field\":\"uuid\"}],"
    "\"links\":[{\"href\":\"https://alpha.dev.magalu.com/guides/error-messages"
    "#no_records_found\"}]}]";
static const char k_body_nf_items[] =
    "[{\"error_code\":\"RESOURCE_NOT_FOUND\",\"message\":\"The specified resource "
    "does not found\",\"details\":[{\"issue\":\"NO_RECORDS_FOUND\",\"description\":"
    "\"Records not found. Please check the input parameters and try again\"}],"
    "\"links\":[{\"href\":\"https://alpha.dev.magalu.com/guides/error-messages"
    "#no_records_found\"}]}]";
static const char k_body_500[] =
    "[{\"error_code\":\"INTERNAL_ERROR\",\"message\":\"Internal server error\"}]";
static const char k_reset_prefix[] =
    "[{\"product\":{\"code\":\"P0\",\"description\":\"Produto 0\",\"image_url\":"
    "\"https://img.example/{w}x{h}/0.jpg\",\"reference\":\"ref-0\"},\"quantity\":1}]";
static const unsigned char k_gzip[] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0xcf,
    0x2f, 0x28, 0xd6, 0x51, 0xc8, 0xcb, 0x2f, 0x51, 0xc8, 0x2a, 0xce, 0xcf,
    0x03, 0x00, 0x87, 0x8d, 0xc5, 0x15, 0x0e, 0x00, 0x00, 0x00
};
#define ITEMS_NO_CODE "[{\"product\":{\"description\":\"x\"},\"quantity\":1}]"
#define ITEM_HEAD "[{\"product\":{\"code\":\"P1\",\"image_url\":" \
    "\"https://img.example/{w}x{h}/1.jpg\",\"reference\":\"ref-1\",\"description\":"

static const char k_body_nf_catalog[] =
    "[{\"error_code\":\"RESOURCE_NOT_FOUND\",\"message\":\"The specified resource "
    "does not found\",\"details\":[{\"issue\":\"INVALID_RESOURCE_ID\",\"description\":"
    "\"Specified resource ID does not exist\",\"location\":\"path\",\"field\":\"code\"}],"
    "\"links\":[{\"href\":\"https://alpha.dev.magalu.com/guides/error-messages"
    "#no_records_found\"}]}]";
static const char k_body_503[] =
    "[{\"error_code\":\"SERVICE_UNAVAILABLE\",\"message\":\"Service temporarily "
    "unavailable\"}]";
/* At least RESET_SENT bytes: the reset fault sends that much of it. */
static const char k_cat_reset_prefix[] =
    "{\"code\":\"fault06\",\"brand\":\"Marca Falha\",\"description\":\"Produto "
    "cortado no meio do corpo da resposta\",\"gtin\":\"7800000000061\"}";
_Static_assert(sizeof k_reset_prefix > RESET_SENT && sizeof k_cat_reset_prefix > RESET_SENT,
               "reset prefixes shorter than what is sent");
#define CAT_FAULT(cc) "{\"code\":\"" FAULT_CODE_PREFIX cc "\",\"brand\":\"Marca Falha\","
/* fault07 answers the whole entry of another code (syn7, as generated). */
#define CAT_OTHER "{\"code\":\"syn7\",\"brand\":\"Marca 7\",\"description\":" \
    "\"Produto 7\",\"gtin\":\"7890000000079\"}"

/* 200 bodies of the wrong shape or content, by scope and fault code. */
static const char *const k_shape[SC_COUNT][FAULT_CODES] = {
    [SC_ORDER] = {
        [4] = "{\"uuid\":\"" F01("04") "\",\"number\":\"0000000000000004\","
              "\"payment\":{\"status\":{\"code\":\"authorized\"},\"currency\":\"BRL\"}}",
        [7] = "{\"uuid\":\"" F01("07") "\",\"packages\":[{\"uuid\":"
              "\"../../../etc/passwd\",\"amount\":\"1.00\"}]}",
        [11] = "{\"uuid\":\"" F01("11") "\",\"packages\":{\"uuid\":"
               "\"" SYN_PKG_PREFIX "000000000000\"}}",
        [14] = "{\"uuid\":\"" F01("14") "\",\"packages\":[{\"uuid\":"
               "\"" SYN_PKG_PREFIX "0000000000" "\xc3\x28" "\"}]}",
        [15] = "{\"uuid\":\"" F01("15") "\",\"packages\":[{\"uuid\":"
               "\"" SYN_PKG_PREFIX "000000000000\\u0000\"}]}",
        [16] = "{\"uuid\":\"" F01("16") "\",\"number\":\"0000000000000016\","
               "\"packages\":[{\"uuid\":\"" SYN_PKG_PREFIX "0000000",
        [18] = "{\"uuid\":\"" F01("18") "\",\"packages\":[{\"uuid\":12345678}]}",
    },
    [SC_ITEMS] = {
        [4] = ITEMS_NO_CODE,
        [7] = ITEMS_NO_CODE,
        [11] = ITEM_HEAD "\"Produto 1\"},\"quantity\":1.5}]",
        [14] = ITEM_HEAD "\"Produto " "\xc3\x28" " inv\xc3\xa1lido\"},\"quantity\":2}]",
        [15] = ITEM_HEAD "\"Produto \\u0000 nulo\"},\"quantity\":2}]",
        [16] = ITEM_HEAD "\"Produto 1\"},\"quan",
        [18] = ITEM_HEAD "\"Produto 1\"},\"quantity\":\"abc\"}]",
    },
    [SC_CATALOG] = {
        [4] = CAT_FAULT("04") "\"description\":\"Produto sem gtin\"}",
        [7] = CAT_OTHER,
        [11] = CAT_FAULT("11") "\"description\":12345,\"gtin\":{\"ean\":\"7800000000115\"}}",
        [14] = CAT_FAULT("14") "\"description\":\"Produto " "\xc3\x28" " inv\xc3\xa1lido\","
               "\"gtin\":\"7800000000146\"}",
        [16] = CAT_FAULT("16") "\"description\":\"Produto trunc",
    },
};

/* The catalog faults, and the entry fault05 answers late. */
static const bool k_cat_fault[FAULT_CODES] = {
    [1] = true, [2] = true, [3] = true, [4] = true, [5] = true, [6] = true,
    [7] = true, [9] = true, [11] = true, [14] = true, [16] = true,
};
static const char k_cat_slow[] =
    CAT_FAULT("05") "\"description\":\"Produto lento\",\"gtin\":\"7800000000054\"}";

/* cls: the prefix (static, longer than RESET_SENT) of the body sent. */
static ssize_t reset_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
    if (pos != 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    size_t n = RESET_SENT < max ? RESET_SENT : max;
    memcpy(buf, cls, n);
    return (ssize_t)n;
}

/* Not shared: MHD caches a callback response's end once it has seen it. */
static struct MHD_Response *make_reset(enum scope sc)
{
    const char *prefix = sc == SC_CATALOG ? k_cat_reset_prefix : k_reset_prefix;
    return with_type(MHD_create_response_from_callback(RESET_DECLARED, 1024, reset_reader,
                                                       (void *)(uintptr_t)prefix, NULL),
                     CT_JSON);
}

static struct MHD_Response *make_redirect(void)
{
    struct MHD_Response *r = json_static("{\"detail\":\"Found\"}");
    if (r != NULL && MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION,
            "/maestro/v1/orders/" SYN_ORDER_PREFIX "000000000001") != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

static struct MHD_Response *make_gzip(void)
{
    struct MHD_Response *r = body_static((const char *)k_gzip, sizeof k_gzip, CT_JSON);
    if (r != NULL && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
                                             "gzip") != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

/* Only the faults of k_cat_fault; 05 and 06 are made per request. */
static bool build_catalog_fault(unsigned code, struct canned *k)
{
    if (!k_cat_fault[code])
        return true;
    if (k_shape[SC_CATALOG][code] != NULL)
        return can(k, json_static(k_shape[SC_CATALOG][code]), MHD_HTTP_OK);
    switch (code) {
    case 1: return can(k, json_static(k_body_nf_catalog), MHD_HTTP_NOT_FOUND);
    case 2: return can(k, json_static(k_body_500), MHD_HTTP_INTERNAL_SERVER_ERROR);
    case 3: return can(k, body_static("<html>oops</html>", 17, "text/html"), MHD_HTTP_OK);
    case 9: return can(k, json_static(k_body_503), MHD_HTTP_SERVICE_UNAVAILABLE);
    default: return true;
    }
}

static bool build_fault(enum scope sc, unsigned code, struct canned *k)
{
    if (sc == SC_CATALOG)
        return build_catalog_fault(code, k);
    if (k_shape[sc][code] != NULL)
        return can(k, json_static(k_shape[sc][code]), MHD_HTTP_OK);
    switch (code) {
    case 1: return can(k, json_static(sc == SC_ORDER ? k_body_nf_order
                                      : k_body_nf_items), MHD_HTTP_NOT_FOUND);
    case 2: return can(k, json_static(k_body_500), MHD_HTTP_INTERNAL_SERVER_ERROR);
    case 3: return can(k, body_static("<html>oops</html>", 17, "text/html"), MHD_HTTP_OK);
    case 8: return can(k, sc == SC_ORDER ? gen_big_order() : gen_big_items(), MHD_HTTP_OK);
    case 9: return can(k, json_static("{\"detail\":\"I'm a teapot\"}"), 418);
    case 10: return can(k, body_static("", 0, CT_JSON), MHD_HTTP_OK);
    case 12: return can(k, make_gzip(), MHD_HTTP_OK);
    case 13: return can(k, gen_nested(), MHD_HTTP_OK);
    case 17: return can(k, make_redirect(), MHD_HTTP_FOUND);
    case 19: return can(k, gen_ints(), MHD_HTTP_OK);
    default: return true; /* 05 (slow) and 06 (reset) are made per request */
    }
}

static bool build_canned(void)
{
    bool ok = can(&k_forbidden, json_static("{\"detail\":\"Forbidden\"}"), MHD_HTTP_FORBIDDEN)
        && can(&k_nf_order, json_static(k_body_nf_order), MHD_HTTP_NOT_FOUND)
        && can(&k_nf_items, json_static(k_body_nf_items), MHD_HTTP_NOT_FOUND)
        && can(&k_nf_catalog, json_static(k_body_nf_catalog), MHD_HTTP_NOT_FOUND)
        && can(&k_nf_local, json_static("{\"detail\":\"Not Found\"}"), MHD_HTTP_NOT_FOUND)
        && can(&k_err500, json_static(k_body_500), MHD_HTTP_INTERNAL_SERVER_ERROR)
        && can(&k_ok, json_static("{\"ok\":true}"), MHD_HTTP_OK);
    for (int sc = 0; ok && sc < SC_COUNT; sc++)
        for (unsigned code = 1; ok && code < FAULT_CODES; code++)
            ok = build_fault((enum scope)sc, code, &k_faults[sc][code]);
    return ok;
}

static void free_canned(void)
{
    struct canned *all[] = { &k_forbidden, &k_nf_order, &k_nf_items, &k_nf_catalog,
                             &k_nf_local, &k_err500, &k_ok };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        uncan(all[i]);
    for (int sc = 0; sc < SC_COUNT; sc++)
        for (unsigned code = 0; code < FAULT_CODES; code++)
            uncan(&k_faults[sc][code]);
}

/* ------------------------------------------------------------------ */
/* fixtures: read once, kept as ready responses, sorted by key         */

struct fixture {
    char key[KEY_LEN + 1]; /* "<order>", "<order>/<pkg>" or "catalogs/<code>" */
    struct MHD_Response *resp;
};

static struct fixture *g_fx;
static size_t g_fx_len, g_fx_cap;

static _Noreturn void fx_fail(const char *path, const char *why)
{
    fprintf(stderr, PROG ": bad fixture %s: %s\n", path, why);
    exit(2);
}

static char *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
        || st.st_size > MAX_FIXTURE_BYTES)
        fx_fail(path, fd < 0 ? strerror(errno) : "not a regular file or too big");
    char *buf = malloc((size_t)st.st_size + 1);
    size_t got = 0;
    while (buf != NULL && got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
        if (n <= 0)
            fx_fail(path, n < 0 ? strerror(errno) : "short read");
        got += (size_t)n;
    }
    close(fd);
    if (buf == NULL)
        fx_fail(path, "out of memory");
    *len = got;
    return buf;
}

static void fx_add(const char *key, const char *path)
{
    if (g_fx_len == g_fx_cap) {
        size_t cap = g_fx_cap ? 2 * g_fx_cap : 64;
        struct fixture *n = cap <= MAX_FIXTURES ? realloc(g_fx, cap * sizeof *n) : NULL;
        if (n == NULL)
            fx_fail(path, "too many fixtures");
        g_fx = n;
        g_fx_cap = cap;
    }
    size_t len;
    char *body = read_file(path, &len);
    struct fixture *f = &g_fx[g_fx_len];
    snprintf(f->key, sizeof f->key, "%s", key);
    f->resp = json_owned(body, len);
    if (f->resp == NULL)
        fx_fail(path, "cannot create response");
    g_fx_len++;
}

/* "<uuid>.json": a lower-case uuid, or with any_case (package items,
 * named as the order document writes the package uuid) any case. */
static bool is_fixture_name(const char *name, bool any_case)
{
    return strlen(name) == UUID_LEN + 5 && is_uuid_case(name, any_case)
        && strcmp(name + UUID_LEN, ".json") == 0;
}

static void join_path(char *dst, size_t cap, const char *a, const char *b)
{
    if ((size_t)snprintf(dst, cap, "%s/%s", a, b) >= cap)
        fx_fail(a, "path too long");
}

/* Adds every DIR/<uuid>.json, keyed by prefix + uuid. */
static void load_dir(const char *dir, const char *prefix, bool any_case)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (d == NULL)
        fx_fail(dir, strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX], key[KEY_LEN + 1];
        if (e->d_name[0] == '.')
            continue;
        if (!is_fixture_name(e->d_name, any_case)) {
            fprintf(stderr, PROG ": ignoring %s/%s (not <uuid>.json)\n",
                    dir, e->d_name);
            continue;
        }
        join_path(path, sizeof path, dir, e->d_name);
        snprintf(key, sizeof key, "%s%.36s", prefix, e->d_name);
        fx_add(key, path);
    }
    closedir(d);
}

/* Opens ROOT/NAME (its path left in dir), or NULL when there is none:
 * an optional fixture directory. Any other failure ends the program. */
static DIR *open_optional_dir(const char *root, const char *name, char dir[PATH_MAX])
{
    DIR *d;
    join_path(dir, PATH_MAX, root, name);
    d = opendir(dir);
    if (d == NULL && errno != ENOENT)
        fx_fail(dir, strerror(errno));
    return d;
}

static void load_items(const char *root)
{
    char dir[PATH_MAX];
    DIR *d = open_optional_dir(root, "items", dir);
    struct dirent *e;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char sub[PATH_MAX], prefix[UUID_LEN + 2];
        if (e->d_name[0] == '.')
            continue;
        if (strlen(e->d_name) != UUID_LEN || !is_uuid_lc(e->d_name))
            fx_fail(e->d_name, "items/ entries must be lower-case order uuids");
        join_path(sub, sizeof sub, dir, e->d_name);
        snprintf(prefix, sizeof prefix, "%.36s/", e->d_name);
        load_dir(sub, prefix, true);
    }
    closedir(d);
}

/* The length of the run of ASCII letters and digits s starts with, or 0 if
 * that run is longer than CODE_MAX. */
static size_t code_len(const char *s)
{
    size_t n = 0;
    while (n <= CODE_MAX && isascii((unsigned char)s[n]) && isalnum((unsigned char)s[n]))
        n++;
    return n <= CODE_MAX ? n : 0;
}

static bool is_code(const char *s)
{
    size_t n = code_len(s);
    return n > 0 && s[n] == '\0';
}

_Static_assert(sizeof CAT_KEY_PREFIX - 1 + CODE_MAX <= KEY_LEN, "catalog key too long");

/* Adds every DIR/catalogs/<code>.json, keyed CAT_KEY_PREFIX + code; no
 * catalogs directory is no catalog entries. */
static void load_catalogs(const char *root)
{
    char dir[PATH_MAX];
    DIR *d = open_optional_dir(root, "catalogs", dir);
    struct dirent *e;
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        char path[PATH_MAX], key[KEY_LEN + 1];
        size_t n = code_len(e->d_name);
        if (e->d_name[0] == '.')
            continue;
        if (n == 0 || strcmp(e->d_name + n, ".json") != 0) {
            fprintf(stderr, PROG ": ignoring %s/%s (not <code>.json)\n", dir, e->d_name);
            continue;
        }
        join_path(path, sizeof path, dir, e->d_name);
        snprintf(key, sizeof key, CAT_KEY_PREFIX "%.*s", (int)n, e->d_name);
        fx_add(key, path);
    }
    closedir(d);
}

static int fx_cmp(const void *a, const void *b)
{
    return strcmp(((const struct fixture *)a)->key, ((const struct fixture *)b)->key);
}

static void load_fixtures(const char *root)
{
    char dir[PATH_MAX];
    if (root == NULL)
        return;
    join_path(dir, sizeof dir, root, "orders");
    load_dir(dir, "", false);
    load_items(root);
    load_catalogs(root);
    if (g_fx_len > 0)
        qsort(g_fx, g_fx_len, sizeof *g_fx, fx_cmp);
}

static struct MHD_Response *fx_find(const char *key)
{
    struct fixture probe = { .resp = NULL };
    snprintf(probe.key, sizeof probe.key, "%s", key);
    const struct fixture *f =
        g_fx_len ? bsearch(&probe, g_fx, g_fx_len, sizeof *g_fx, fx_cmp) : NULL;
    return f ? f->resp : NULL;
}

static void free_fixtures(void)
{
    for (size_t i = 0; i < g_fx_len; i++)
        MHD_destroy_response(g_fx[i].resp);
    free(g_fx);
    g_fx = NULL;
    g_fx_len = g_fx_cap = 0;
}

/* ------------------------------------------------------------------ */
/* timer: min-heap of suspended connections, one thread resumes them   */

struct tentry {
    uint64_t due;
    struct MHD_Connection *conn;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thr;
    struct tentry heap[TIMER_CAP];
    size_t len;
    bool stop;
} tq = { .mu = PTHREAD_MUTEX_INITIALIZER };

static atomic_bool g_stopping;
static atomic_long g_suspended;

static void heap_swap(size_t a, size_t b)
{
    struct tentry t = tq.heap[a];
    tq.heap[a] = tq.heap[b];
    tq.heap[b] = t;
}

static size_t heap_up(size_t i)
{
    while (i > 0 && tq.heap[(i - 1) / 2].due > tq.heap[i].due) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return i;
}

static void heap_down(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < tq.len && tq.heap[l].due < tq.heap[m].due)
            m = l;
        if (r < tq.len && tq.heap[r].due < tq.heap[m].due)
            m = r;
        if (m == i)
            return;
        heap_swap(i, m);
        i = m;
    }
}

static bool timer_push(struct MHD_Connection *c, unsigned long delay_ms)
{
    pthread_mutex_lock(&tq.mu);
    bool ok = tq.len < TIMER_CAP;
    if (ok) {
        uint64_t due = atomic_load(&g_stopping) ? 0 : now_ms() + delay_ms;
        tq.heap[tq.len] = (struct tentry){ due, c };
        if (heap_up(tq.len++) == 0)
            pthread_cond_signal(&tq.cv);
    }
    pthread_mutex_unlock(&tq.mu);
    return ok;
}

static size_t pop_due(struct MHD_Connection **out, uint64_t now)
{
    size_t n = 0;
    while (n < TIMER_BATCH && tq.len > 0 && tq.heap[0].due <= now) {
        out[n++] = tq.heap[0].conn;
        tq.heap[0] = tq.heap[--tq.len];
        heap_down(0);
    }
    return n;
}

#define ABORT_WATCH_MS 10

static void timer_wait(void)
{
    if (tq.len == 0) {
        pthread_cond_wait(&tq.cv, &tq.mu);
        return;
    }
    uint64_t due = tq.heap[0].due;
    if (cfg.watch_aborts && due > now_ms() + ABORT_WATCH_MS)
        due = now_ms() + ABORT_WATCH_MS;
    struct timespec ts = { .tv_sec = (time_t)(due / 1000u),
                           .tv_nsec = (long)(due % 1000u) * 1000000l };
    pthread_cond_timedwait(&tq.cv, &tq.mu, &ts);
}

/* --watch-aborts: a suspended connection whose client hung up is due
 * now (MHD does not look at suspended sockets: without this the call
 * would stay in flight, and uncounted as aborted, until its due time). */
static void timer_reap_aborted(void)
{
    for (size_t i = 0; i < tq.len; i++) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(tq.heap[i].conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        char b;
        if (tq.heap[i].due == 0 || ci == NULL)
            continue;
        ssize_t n = recv(ci->connect_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            tq.heap[i].due = 0;
            heap_up(i);
        }
    }
}

static void *timer_main(void *arg)
{
    struct MHD_Connection *batch[TIMER_BATCH];
    (void)arg;
    pthread_mutex_lock(&tq.mu);
    while (!tq.stop) {
        if (cfg.watch_aborts)
            timer_reap_aborted();
        size_t n = pop_due(batch, now_ms());
        if (n == 0) {
            timer_wait();
            continue;
        }
        pthread_mutex_unlock(&tq.mu);
        for (size_t i = 0; i < n; i++)
            MHD_resume_connection(batch[i]);
        pthread_mutex_lock(&tq.mu);
    }
    pthread_mutex_unlock(&tq.mu);
    return NULL;
}

static bool timer_start(void)
{
    pthread_condattr_t attr;
    bool ok = pthread_condattr_init(&attr) == 0
        && pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0
        && pthread_cond_init(&tq.cv, &attr) == 0;
    pthread_condattr_destroy(&attr);
    return ok && pthread_create(&tq.thr, NULL, timer_main, NULL) == 0;
}

/* Makes every pending delay due now (/_release). */
static void timer_release(void)
{
    pthread_mutex_lock(&tq.mu);
    for (size_t i = 0; i < tq.len; i++)
        tq.heap[i].due = 0;
    pthread_cond_signal(&tq.cv);
    pthread_mutex_unlock(&tq.mu);
}

/* Makes every pending (and future) delay due now. */
static void timer_flush(void)
{
    atomic_store(&g_stopping, true);
    timer_release();
}

static void timer_stop(void)
{
    pthread_mutex_lock(&tq.mu);
    tq.stop = true;
    pthread_cond_signal(&tq.cv);
    pthread_mutex_unlock(&tq.mu);
    pthread_join(tq.thr, NULL);
    pthread_cond_destroy(&tq.cv);
}

/* ------------------------------------------------------------------ */
/* statistics                                                          */

static atomic_ullong st_requests, st_connections, st_aborted;
static atomic_llong st_in_flight, st_max_in_flight;
static pthread_mutex_t st_id_lock = PTHREAD_MUTEX_INITIALIZER;
static char st_last_id[72]; /* guarded by st_id_lock; only [A-Za-z0-9._:-] kept */

static void remember_request_id(struct MHD_Connection *c)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    size_t i, n = 0;

    pthread_mutex_lock(&st_id_lock);
    for (i = 0; v && v[i] && n + 1 < sizeof st_last_id; i++)
        if (isalnum((unsigned char)v[i]) || strchr("-_.:", v[i]))
            st_last_id[n++] = v[i];
    st_last_id[n] = '\0';
    pthread_mutex_unlock(&st_id_lock);
}

static void count_arrival(void)
{
    atomic_fetch_add_explicit(&st_requests, 1, memory_order_relaxed);
    long long cur = atomic_fetch_add(&st_in_flight, 1) + 1;
    long long max = atomic_load(&st_max_in_flight);
    while (cur > max && !atomic_compare_exchange_weak(&st_max_in_flight, &max, cur))
        ;
}

static struct MHD_Response *stats_response(void)
{
    char buf[384];
    int n;

    pthread_mutex_lock(&st_id_lock);
    n = snprintf(buf, sizeof buf,
                 "{\"requests\":%llu,\"in_flight\":%lld,\"max_in_flight\":%lld,"
                 "\"connections\":%llu,\"aborted\":%llu,\"last_request_id\":\"%s\"}",
                 atomic_load(&st_requests), atomic_load(&st_in_flight),
                 atomic_load(&st_max_in_flight), atomic_load(&st_connections),
                 atomic_load(&st_aborted), st_last_id);
    pthread_mutex_unlock(&st_id_lock);
    if (n < 0 || (size_t)n >= sizeof buf)
        return NULL;
    return with_type(MHD_create_response_from_buffer((size_t)n, buf,
                                                     MHD_RESPMEM_MUST_COPY), CT_JSON);
}

static void stats_reset(void)
{
    atomic_store(&st_requests, 0);
    atomic_store(&st_connections, 0);
    atomic_store(&st_aborted, 0);
    atomic_store(&st_max_in_flight, atomic_load(&st_in_flight));
}

/* ------------------------------------------------------------------ */
/* routing: decide the answer ("plan") of a /maestro request           */

struct plan {
    struct MHD_Response *resp;
    unsigned status;
    bool owned;
    unsigned long delay_ms;
};

enum skind { SK_NONE, SK_SYNTH, SK_FAULT_ORDER, SK_FAULT_ITEMS };

struct special {
    enum skind kind;
    unsigned long val; /* packages (SK_SYNTH) or fault code */
};

static void use_canned(struct plan *p, const struct canned *k)
{
    p->resp = k->resp;
    p->status = k->status;
    p->owned = false;
}

static void use_owned(struct plan *p, struct MHD_Response *r)
{
    if (r == NULL) {
        use_canned(p, &k_err500);
        return;
    }
    p->resp = r;
    p->status = MHD_HTTP_OK;
    p->owned = true;
}

static void use_fault(struct plan *p, enum scope sc, unsigned long code)
{
    if (code == FAULT_RESET)
        use_owned(p, make_reset(sc));
    else
        use_canned(p, &k_faults[sc][code]);
}

static void drop_plan(struct plan *p)
{
    if (p->owned && p->resp != NULL)
        MHD_destroy_response(p->resp);
    p->resp = NULL;
    p->owned = false;
}

static void add_delay(struct plan *p, unsigned long ms)
{
    p->delay_ms += ms; /* each term is at most MAX_DELAY_MS */
}

static struct special parse_special(const char *order)
{
    struct special s = { SK_NONE, 0 };
    unsigned long v;
    size_t fp = sizeof F01_PREFIX - 1, sp = sizeof SYN_ORDER_PREFIX - 1;
    if (memcmp(order, SYN_ORDER_PREFIX, sp) == 0 && parse_digits(order + sp, 12, &v)
        && v <= MAX_SYNTH_PACKAGES)
        s = (struct special){ SK_SYNTH, v };
    else if (parse_digits(order + fp, 2, &v) && v >= 1 && v < FAULT_CODES) {
        if (memcmp(order, F01_PREFIX, fp) == 0)
            s = (struct special){ SK_FAULT_ORDER, v };
        else if (memcmp(order, F02_PREFIX, fp) == 0)
            s = (struct special){ SK_FAULT_ITEMS, v };
    }
    return s;
}

static void special_order(struct special s, const char *order, struct plan *p)
{
    if (s.kind == SK_SYNTH) {
        use_owned(p, gen_order(order, s.val));
        return;
    }
    if (s.kind == SK_FAULT_ORDER && s.val != FAULT_SLOW) {
        use_fault(p, SC_ORDER, s.val);
        return;
    }
    use_owned(p, gen_order(order, FAULT_PACKAGES));
    if (s.kind == SK_FAULT_ORDER)
        add_delay(p, SLOW_FAULT_MS);
}

static void special_items(struct special s, const char *pkg, struct plan *p)
{
    unsigned long idx;
    size_t pp = sizeof SYN_PKG_PREFIX - 1;
    unsigned long npk = s.kind == SK_SYNTH ? s.val : FAULT_PACKAGES;
    if (memcmp(pkg, SYN_PKG_PREFIX, pp) != 0 || !parse_digits(pkg + pp, 12, &idx)
        || idx >= npk) {
        use_canned(p, &k_nf_items);
        return;
    }
    if (s.kind == SK_FAULT_ITEMS && idx == 1 && s.val != FAULT_SLOW) {
        use_fault(p, SC_ITEMS, s.val);
        return;
    }
    use_owned(p, gen_items(idx));
    if (s.kind == SK_FAULT_ITEMS)
        add_delay(p, idx == 1 ? SLOW_FAULT_MS : cfg.sibling_ms);
}

static void serve_fixture(const char *key, const struct canned *nf, struct plan *p)
{
    struct MHD_Response *r = fx_find(key);
    if (r == NULL) {
        use_canned(p, nf);
        return;
    }
    p->resp = r;
    p->status = MHD_HTTP_OK;
    p->owned = false;
}

/* path is what follows "/maestro". */
static void route(const char *path, struct plan *p)
{
    static const char pre[] = "/v1/orders/", mid[] = "/packages/";
    char order[UUID_LEN + 1], key[KEY_LEN + 1];
    size_t n = strlen(path), o = sizeof pre - 1, k = o + UUID_LEN + sizeof mid - 1;
    if (n < o + UUID_LEN || memcmp(path, pre, o) != 0 || !is_uuid_lc(path + o)) {
        use_canned(p, &k_nf_items);
        return;
    }
    snprintf(order, sizeof order, "%.36s", path + o);
    struct special s = parse_special(order);
    if (n == o + UUID_LEN) {
        if (s.kind != SK_NONE)
            special_order(s, order, p);
        else
            serve_fixture(order, &k_nf_order, p);
    } else if (n == k + UUID_LEN + 6 && memcmp(path + o + UUID_LEN, mid, sizeof mid - 1) == 0
               && is_uuid_case(path + k, true) && strcmp(path + k + UUID_LEN, "/items") == 0) {
        snprintf(key, sizeof key, "%s/%.36s", order, path + k);
        if (s.kind != SK_NONE)
            special_items(s, key + UUID_LEN + 1, p);
        else
            serve_fixture(key, &k_nf_items, p);
    } else {
        use_canned(p, &k_nf_items);
    }
}

/* "syn<N>", N decimal 0..MAX_SYNTH_CODE without leading zeros. */
static bool parse_syn_code(const char *code, unsigned long *n)
{
    if (strncmp(code, SYN_CODE_PREFIX, sizeof SYN_CODE_PREFIX - 1) != 0)
        return false;
    const char *d = code + sizeof SYN_CODE_PREFIX - 1;
    size_t len = strlen(d);
    return len >= 1 && len <= SYN_CODE_DIGITS && (d[0] != '0' || len == 1)
        && parse_digits(d, len, n) && *n <= MAX_SYNTH_CODE;
}

/* "fault<CC>" with CC one of the catalog faults. */
static bool parse_fault_code(const char *code, unsigned long *cc)
{
    if (strncmp(code, FAULT_CODE_PREFIX, sizeof FAULT_CODE_PREFIX - 1) != 0)
        return false;
    const char *d = code + sizeof FAULT_CODE_PREFIX - 1;
    return strlen(d) == 2 && parse_digits(d, 2, cc) && *cc < FAULT_CODES
        && k_cat_fault[*cc];
}

/* "789", n in 9 digits, the EAN-13 check digit: a valid, distinct gtin. */
static void synth_gtin(char out[14], unsigned long n)
{
    unsigned sum = 0;
    memcpy(out, "789", 3);
    put_digits(out + 3, n, 9);
    for (int i = 0; i < 12; i++)
        sum += (unsigned)(out[i] - '0') * (i % 2 ? 3u : 1u);
    out[12] = (char)('0' + (10 - sum % 10) % 10);
    out[13] = '\0';
}

static struct MHD_Response *gen_catalog(unsigned long n)
{
    char gtin[14], tmp[192];
    synth_gtin(gtin, n);
    int len = snprintf(tmp, sizeof tmp, "{\"code\":\"" SYN_CODE_PREFIX "%lu\","
                       "\"brand\":\"Marca %lu\",\"description\":\"Produto %lu\","
                       "\"gtin\":\"%s\"}", n, n, n, gtin);
    if (len < 0 || (size_t)len >= sizeof tmp)
        return NULL;
    return with_type(MHD_create_response_from_buffer((size_t)len, tmp,
                                                     MHD_RESPMEM_MUST_COPY), CT_JSON);
}

static void catalog_fault(unsigned long code, struct plan *p)
{
    if (code != FAULT_SLOW) {
        use_fault(p, SC_CATALOG, code);
        return;
    }
    use_owned(p, json_static(k_cat_slow)); /* a response of its own: owned */
    add_delay(p, SLOW_FAULT_MS);
}

/* path is what follows "/catalogs". */
static void route_catalog(const char *path, struct plan *p)
{
    char key[KEY_LEN + 1];
    unsigned long v;
    const char *code = path + 1;
    if (path[0] != '/' || !is_code(code)) {
        use_canned(p, &k_nf_catalog);
    } else if (parse_syn_code(code, &v)) {
        use_owned(p, gen_catalog(v));
    } else if (parse_fault_code(code, &v)) {
        catalog_fault(v, p);
    } else {
        snprintf(key, sizeof key, CAT_KEY_PREFIX "%s", code);
        serve_fixture(key, &k_nf_catalog, p);
    }
}

static bool is_catalog_url(const char *url)
{
    return strncmp(url, CATALOGS "/", sizeof CATALOGS) == 0 || strcmp(url, CATALOGS) == 0;
}

static bool header_is(struct MHD_Connection *c, const char *name, const char *want)
{
    if (want == NULL)
        return true;
    const char *got = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    return got != NULL && strcmp(got, want) == 0;
}

static atomic_ulong st_first_answers; /* for --slow-first; never reset */

/* --slow-once-ms: the URLs asked already, by 64-bit hash, open
 * addressing; once full, no URL is slow any more (bounded). */
#define SEEN_SLOTS (1u << 16)
static uint64_t seen_urls[SEEN_SLOTS];
static unsigned seen_count;
static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t url_hash(const char *url)
{
    uint64_t h = 1469598103934665603ULL;

    for (; *url; url++)
        h = (h ^ (unsigned char)*url) * 1099511628211ULL;
    return h ? h : 1; /* 0 marks a free slot */
}

/* true the first time url is asked (since start or /_reset) */
static bool first_ask(const char *url)
{
    uint64_t h = url_hash(url);
    unsigned i = (unsigned)h & (SEEN_SLOTS - 1);
    bool first = false;

    pthread_mutex_lock(&seen_lock);
    while (seen_urls[i] != 0 && seen_urls[i] != h)
        i = (i + 1) & (SEEN_SLOTS - 1);
    if (seen_urls[i] == 0 && seen_count < SEEN_SLOTS / 2) {
        seen_urls[i] = h;
        seen_count++;
        first = true;
    }
    pthread_mutex_unlock(&seen_lock);
    return first;
}

static void seen_reset(void)
{
    pthread_mutex_lock(&seen_lock);
    memset(seen_urls, 0, sizeof(seen_urls));
    seen_count = 0;
    pthread_mutex_unlock(&seen_lock);
}

static void decide(struct MHD_Connection *c, const char *url, const char *method,
                   struct plan *p)
{
    bool catalog = is_catalog_url(url);
    p->delay_ms = cfg.delay_ms;
    if (cfg.slow_first > 0 && atomic_fetch_add(&st_first_answers, 1) < cfg.slow_first)
        add_delay(p, cfg.slow_first_ms);
    remember_request_id(c);
    if (!header_is(c, "X-Api-Key", cfg.api_key) || !header_is(c, "X-Tenant-Id", cfg.tenant))
        use_canned(p, &k_forbidden);
    else if (strcmp(method, MHD_HTTP_METHOD_GET) != 0)
        use_canned(p, catalog ? &k_nf_catalog : &k_nf_items);
    else if (roll(cfg.fail_pct))
        use_fault(p, catalog ? SC_CATALOG : SC_ITEMS,
                  (rng_next() >> 32) & 1 ? 2 : FAULT_RESET);
    else {
        if (roll(cfg.slow_pct))
            add_delay(p, cfg.slow_ms);
        if (cfg.slow_once_ms > 0 && first_ask(url))
            add_delay(p, cfg.slow_once_ms);
        if (catalog)
            route_catalog(url + strlen(CATALOGS), p);
        else
            route(url + strlen("/maestro"), p);
    }
}

/* ------------------------------------------------------------------ */
/* MHD callbacks                                                       */

struct req {
    struct plan plan;
    bool waiting; /* suspended, counted in g_suspended */
    bool sent;
};

static enum MHD_Result send_plan(struct MHD_Connection *c, struct req *r)
{
    enum MHD_Result ret = MHD_queue_response(c, r->plan.status, r->plan.resp);
    drop_plan(&r->plan);
    r->sent = true;
    return ret;
}

/* Suspends c until the plan's delay has passed; false: answer now. */
static bool delay_request(struct MHD_Connection *c, struct req *r)
{
    atomic_fetch_add(&g_suspended, 1);
    if (atomic_load(&g_stopping)) {
        atomic_fetch_sub(&g_suspended, 1);
        return false;
    }
    r->waiting = true;
    MHD_suspend_connection(c);
    if (!timer_push(c, r->plan.delay_ms))
        MHD_resume_connection(c);
    return true;
}

/* First call: count and decide.  MHD 0.9.75 closes the connection when a
 * response is queued before the request is complete (first call, or a call
 * resumed from there), so the answer waits for the next call. */
static enum MHD_Result start_maestro(struct MHD_Connection *c, const char *url,
                                     const char *method, void **con_cls)
{
    struct req *r = calloc(1, sizeof *r);
    if (r == NULL)
        return MHD_NO;
    *con_cls = r;
    count_arrival();
    decide(c, url, method, &r->plan);
    return MHD_YES;
}

/* Request complete: suspend if a delay is due, else (or once resumed) answer. */
static enum MHD_Result continue_maestro(struct MHD_Connection *c, struct req *r,
                                        size_t *upload_size)
{
    if (*upload_size != 0 || r->sent) {
        *upload_size = 0; /* a body is read and ignored */
        return MHD_YES;
    }
    if (r->waiting) {
        r->waiting = false;
        atomic_fetch_sub(&g_suspended, 1);
    } else if (r->plan.delay_ms > 0 && delay_request(c, r)) {
        return MHD_YES;
    }
    return send_plan(c, r);
}

static enum MHD_Result queue_canned(struct MHD_Connection *c, const struct canned *k)
{
    return MHD_queue_response(c, k->status, k->resp);
}

static enum MHD_Result answer_local(struct MHD_Connection *c, const char *url,
                                    const char *method, size_t *upload_size)
{
    if (*upload_size != 0) {
        *upload_size = 0; /* a body is read and ignored */
        return MHD_YES;
    }
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
    if (get && strcmp(url, "/_reset") == 0) {
        stats_reset();
        seen_reset();
        return queue_canned(c, &k_ok);
    }
    if (get && strcmp(url, "/_release") == 0) {
        timer_release();
        return queue_canned(c, &k_ok);
    }
    if (!get || strcmp(url, "/_stats") != 0)
        return queue_canned(c, &k_nf_local);
    struct MHD_Response *r = stats_response();
    if (r == NULL)
        return MHD_NO;
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static char k_local_marker; /* con_cls of non-/maestro requests */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    if (*con_cls == &k_local_marker)
        return answer_local(c, url, method, upload_size);
    if (*con_cls != NULL)
        return continue_maestro(c, *con_cls, upload_size);
    if (strncmp(url, "/maestro/", 9) == 0 || strcmp(url, "/maestro") == 0
        || is_catalog_url(url))
        return start_maestro(c, url, method, con_cls);
    *con_cls = &k_local_marker;
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req *r = *con_cls;
    (void)cls;
    (void)c;
    if (r == NULL || *con_cls == &k_local_marker)
        return;
    atomic_fetch_sub(&st_in_flight, 1);
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        atomic_fetch_add(&st_aborted, 1);
    if (r->waiting)
        atomic_fetch_sub(&g_suspended, 1);
    drop_plan(&r->plan);
    free(r);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    (void)socket_context;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED)
        atomic_fetch_add_explicit(&st_connections, 1, memory_order_relaxed);
}

/* ------------------------------------------------------------------ */
/* daemon lifecycle                                                    */

/* MHD's error log, minus the line every deliberate mid-body reset causes. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof line, fmt, ap);
    if (strstr(line, "application reported error") == NULL)
        fprintf(stderr, PROG ": mhd: %s", line);
}

static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static socklen_t make_addr(struct sockaddr_storage *ss)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    if (inet_pton(AF_INET, cfg.bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg.port);
        return sizeof *v4;
    }
    if (inet_pton(AF_INET6, cfg.bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg.port);
        return sizeof *v6;
    }
    bad_arg("--bind", cfg.bind);
    return 0;
}

static struct MHD_Daemon *start_daemon(void)
{
    struct sockaddr_storage ss;
    make_addr(&ss);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
        | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    struct MHD_OptionItem pool[] = {
        { cfg.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END,
          (intptr_t)cfg.threads, NULL },
        { MHD_OPTION_END, 0, NULL }
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            MHD_OPTION_CONNECTION_LIMIT, CONN_LIMIT,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONN_MEMORY,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, LISTEN_BACKLOG,
                            MHD_OPTION_ARRAY, pool,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
                            MHD_OPTION_END);
}

static void announce(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : (unsigned)cfg.port;
    bool v6 = strchr(cfg.bind, ':') != NULL;
    fprintf(stderr, PROG ": listening on %s%s%s:%u\n", v6 ? "[" : "", cfg.bind,
            v6 ? "]" : "", port);
}

static bool wait_unsuspended(void)
{
    struct timespec tick = { 0, 1000000l };
    for (unsigned i = 0; i < STOP_WAIT_MS; i++) {
        if (atomic_load(&g_suspended) == 0)
            return true;
        nanosleep(&tick, NULL);
    }
    return false;
}

/* Resume every delayed request, then stop; MHD must not see suspended ones. */
static void shutdown_all(struct MHD_Daemon *d)
{
    timer_flush();
    if (!wait_unsuspended()) {
        fputs(PROG ": suspended requests left, exiting without cleanup\n", stderr);
        return;
    }
    MHD_stop_daemon(d);
    timer_stop();
    free_fixtures();
    free_canned();
}

int main(int argc, char **argv)
{
    sigset_t set;
    int sig;
    parse_args(argc, argv);
    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    load_fixtures(cfg.fixtures);
    if (!build_canned() || !timer_start()) {
        fputs(PROG ": out of memory\n", stderr);
        return 1;
    }
    struct MHD_Daemon *d = start_daemon();
    if (d == NULL) {
        fprintf(stderr, PROG ": cannot listen on %s:%lu\n", cfg.bind, cfg.port);
        return 1;
    }
    announce(d);
    sigwait(&set, &sig);
    shutdown_all(d);
    return 0;
}
