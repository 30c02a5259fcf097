/* check_config: every setting from env and flags, and every way to get
 * one wrong. */
#include <check.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define KEY "test-key-5up3r-s3cr3t"
#define MIB (1024L * 1024L)

/* The numeric settings, as config.c should define them. */
struct num_setting {
    const char *flag; /* without the leading -- */
    const char *env;
    size_t offset;
    long def, min, max, good;
};

#define OFF(f) offsetof(struct config, f)

static const struct num_setting nums[] = {
    {"max-in-flight", "API_PEDIDOS_MAX_IN_FLIGHT", OFF(max_in_flight), 1024, 1, 100000, 50},
    {"connect-timeout", "API_PEDIDOS_CONNECT_TIMEOUT_MS", OFF(connect_timeout_ms), 2000, 1, 600000, 1500},
    {"call-timeout", "API_PEDIDOS_CALL_TIMEOUT_MS", OFF(call_timeout_ms), 5000, 1, 600000, 7000},
    {"stall-timeout", "API_PEDIDOS_STALL_TIMEOUT_MS", OFF(stall_timeout_ms), 2000, 100, 600000, 500},
    {"request-timeout", "API_PEDIDOS_REQUEST_TIMEOUT_MS", OFF(request_timeout_ms), 10000, 1, 600000, 20000},
    {"max-body", "API_PEDIDOS_MAX_BODY", OFF(max_body), 8 * MIB, 1024, 1024 * MIB, 4096},
    {"max-answer", "API_PEDIDOS_MAX_ANSWER", OFF(max_answer), 64 * MIB, 1024, 1024 * MIB, 2048},
    {"max-packages", "API_PEDIDOS_MAX_PACKAGES", OFF(max_packages), 10000, 0, 1000000, 5},
    {"fanout", "API_PEDIDOS_FANOUT", OFF(fanout), 256, 1, 10000, 8},
    {"max-connections", "API_PEDIDOS_MAX_CONNECTIONS", OFF(max_connections), 4096, 1, 16384, 64},
    {"max-connecting", "API_PEDIDOS_MAX_CONNECTING", OFF(max_connecting), 64, 1, 16384, 8},
    {"upstream-http2", "API_PEDIDOS_UPSTREAM_HTTP2", OFF(upstream_http2), 1, 0, 1, 0},
    {"backlog", "API_PEDIDOS_BACKLOG", OFF(backlog), 1024, 1, 65535, 16},
    {"breaker-window-ms", "API_PEDIDOS_BREAKER_WINDOW_MS", OFF(breaker_window_ms), 10000, 100, 3600000, 2000},
    {"breaker-min-calls", "API_PEDIDOS_BREAKER_MIN_CALLS", OFF(breaker_min_calls), 20, 1, 10000000, 5},
    {"breaker-threshold", "API_PEDIDOS_BREAKER_THRESHOLD", OFF(breaker_threshold), 50, 1, 100, 60},
    {"breaker-open-ms", "API_PEDIDOS_BREAKER_OPEN_MS", OFF(breaker_open_ms), 5000, 1, 3600000, 2000},
    {"breaker-trials", "API_PEDIDOS_BREAKER_TRIALS", OFF(breaker_trials), 3, 1, 100, 2},
};

#define NNUMS (sizeof(nums) / sizeof(nums[0]))

static const char *const other_vars[] = {
    "MAGALU_API_URL", "APIKEY", "TENANT_ID", "API_PEDIDOS_LISTEN", "API_PEDIDOS_LOG_LEVEL",
    "API_PEDIDOS_CA_FILE",
    "API_PEDIDOS_BREAKER_WINDOW",
};

static struct config cfg;
static char err[512];

static long num_of(const struct num_setting *n)
{
    return *(const long *)((const char *)&cfg + n->offset);
}

/* Forgets what an earlier getopt_long scan left behind (optind = 0 is
 * glibc's full reset). */
static void getopt_reset(void)
{
    char *argv[] = {"reset", NULL};

    optind = 0;
    opterr = 0;
    while (getopt_long(1, argv, "", NULL, NULL) != -1)
        ;
}

static void setup(void)
{
    size_t i;

    for (i = 0; i < NNUMS; i++)
        unsetenv(nums[i].env);
    for (i = 0; i < sizeof(other_vars) / sizeof(other_vars[0]); i++)
        unsetenv(other_vars[i]);
    setenv("APIKEY", KEY, 1);
    memset(&cfg, 0, sizeof(cfg));
    err[0] = '\0';
    getopt_reset();
}

static void teardown(void)
{
    config_free(&cfg);
}

/* config_load with argv = prog, then the strings up to NULL. */
static enum config_result load_v(const char *const *args)
{
    char *argv[32];
    int argc = 0;

    argv[argc++] = "api-pedidos";
    while (*args)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;
    config_free(&cfg);
    err[0] = '\0';
    return config_load(&cfg, argc, argv, err, sizeof(err));
}

#define LOAD(...) load_v((const char *const[]){__VA_ARGS__, NULL})
#define LOAD0() load_v((const char *const[]){NULL})

/* An error: one line naming `what`, never the API key. */
static void assert_error(enum config_result r, const char *what)
{
    ck_assert_msg(r == CONFIG_ERROR, "no error for %s (result %d)", what, (int)r);
    ck_assert_msg(strstr(err, what) != NULL, "error '%s' does not name %s", err, what);
    ck_assert_msg(strchr(err, '\n') == NULL, "error '%s' is not one line", err);
    ck_assert_msg(strstr(err, KEY) == NULL, "error '%s' shows the API key", err);
}

/* ---- defaults and env ----------------------------------------------------- */

/* --ca-file: a readable file, from the flag or the environment (the flag
 * wins); a missing one is refused at start, naming what was wrong. */
START_TEST(test_ca_file)
{
    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    ck_assert_ptr_null(cfg.ca_file);
    ck_assert_int_eq(LOAD("--ca-file", "/etc/hostname"), CONFIG_OK);
    ck_assert_str_eq(cfg.ca_file, "/etc/hostname");
    setenv("API_PEDIDOS_CA_FILE", "/etc/passwd", 1);
    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    ck_assert_str_eq(cfg.ca_file, "/etc/passwd");
    ck_assert_int_eq(LOAD("--ca-file", "/etc/hostname"), CONFIG_OK);
    ck_assert_str_eq(cfg.ca_file, "/etc/hostname");
    assert_error(LOAD("--ca-file", "/nonexistent/ca.pem"), "--ca-file");
    ck_assert_ptr_nonnull(strstr(err, "No such file"));
    assert_error(LOAD("--ca-file", ""), "--ca-file");
    setenv("API_PEDIDOS_CA_FILE", "/nonexistent/ca.pem", 1);
    assert_error(LOAD0(), "API_PEDIDOS_CA_FILE");
}
END_TEST

START_TEST(test_defaults)
{
    size_t i;

    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    ck_assert_ptr_null(cfg.listen);
    ck_assert_str_eq(cfg.maestro, "https://alpha.api.magalu.com/maestro/v1");
    ck_assert_str_eq(cfg.catalog, "https://alpha.api.magalu.com/catalogs");
    ck_assert_str_eq(cfg.api_key, KEY);
    ck_assert_str_eq(cfg.tenant, "21fea73c-e244-497a-8540-be0d3c583596");
    ck_assert_int_eq(cfg.log_level, CONFIG_LOG_INFO);
    for (i = 0; i < NNUMS; i++)
        ck_assert_msg(num_of(&nums[i]) == nums[i].def, "%s: %ld, want %ld", nums[i].flag,
                      num_of(&nums[i]), nums[i].def);
    ck_assert_int_ge(cfg.call_timeout_ms, cfg.connect_timeout_ms);
}
END_TEST

START_TEST(test_env_strings)
{
    setenv("MAGALU_API_URL", "http://127.0.0.1:8080", 1);
    setenv("TENANT_ID", "tenant-x", 1);
    setenv("API_PEDIDOS_LISTEN", "127.0.0.1:9000", 1);
    setenv("API_PEDIDOS_LOG_LEVEL", "debug", 1);
    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    ck_assert_str_eq(cfg.maestro, "http://127.0.0.1:8080/maestro/v1");
    ck_assert_str_eq(cfg.tenant, "tenant-x");
    ck_assert_str_eq(cfg.listen, "127.0.0.1:9000");
    ck_assert_int_eq(cfg.log_level, CONFIG_LOG_DEBUG);
}
END_TEST

START_TEST(test_env_num)
{
    const struct num_setting *n = &nums[_i];
    char v[32];

    snprintf(v, sizeof(v), "%ld", n->good);
    setenv(n->env, v, 1);
    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    ck_assert_int_eq(num_of(n), n->good);
}
END_TEST

START_TEST(test_flag_num)
{
    const struct num_setting *n = &nums[_i];
    char arg[64], v[32];

    snprintf(arg, sizeof(arg), "--%s=%ld", n->flag, n->good);
    ck_assert_int_eq(LOAD(arg), CONFIG_OK);
    ck_assert_int_eq(num_of(n), n->good);
    /* the two-word form too */
    snprintf(arg, sizeof(arg), "--%s", n->flag);
    snprintf(v, sizeof(v), "%ld", n->good);
    ck_assert_int_eq(LOAD(arg, v), CONFIG_OK);
    ck_assert_int_eq(num_of(n), n->good);
}
END_TEST

START_TEST(test_flag_beats_env)
{
    const struct num_setting *n = &nums[_i];
    char arg[64], v[32];

    snprintf(v, sizeof(v), "%ld", n->def);
    setenv(n->env, v, 1);
    snprintf(arg, sizeof(arg), "--%s=%ld", n->flag, n->good);
    ck_assert_int_eq(LOAD(arg), CONFIG_OK);
    ck_assert_int_eq(num_of(n), n->good);
    /* a bad env value is an error even when the flag is given */
    setenv(n->env, "junk", 1);
    assert_error(LOAD(arg), n->env);
}
END_TEST

START_TEST(test_flag_beats_env_strings)
{
    setenv("API_PEDIDOS_LISTEN", "/run/env.sock", 1);
    setenv("API_PEDIDOS_LOG_LEVEL", "error", 1);
    ck_assert_int_eq(LOAD("--listen", "/run/flag.sock", "--log-level=warn"), CONFIG_OK);
    ck_assert_str_eq(cfg.listen, "/run/flag.sock");
    ck_assert_int_eq(cfg.log_level, CONFIG_LOG_WARN);
}
END_TEST

START_TEST(test_last_flag_wins)
{
    ck_assert_int_eq(LOAD("--fanout=3", "--fanout", "5"), CONFIG_OK);
    ck_assert_int_eq(cfg.fanout, 5);
}
END_TEST

/* ---- numeric ranges --------------------------------------------------------- */

/* Both ends of each range are accepted (timeouts kept consistent). */
START_TEST(test_num_bounds_ok)
{
    const struct num_setting *n = &nums[_i];
    char lo[64], hi[64];

    snprintf(lo, sizeof(lo), "--%s=%ld", n->flag, n->min);
    snprintf(hi, sizeof(hi), "--%s=%ld", n->flag, n->max);
    ck_assert_int_eq(LOAD("--call-timeout=600000", "--connect-timeout=1", lo), CONFIG_OK);
    ck_assert_int_eq(num_of(n), n->min);
    ck_assert_int_eq(LOAD("--call-timeout=600000", "--connect-timeout=1", hi), CONFIG_OK);
    ck_assert_int_eq(num_of(n), n->max);
}
END_TEST

/* The bad values tried on every numeric setting; NULL: below min, "+":
 * above max. */
static const char *const bad_nums[] = {
    NULL, "+", "abc", "12x", "1.5", "1e3", "0x10", "", "99999999999999999999", "-", "5 ",
};

#define NBAD (sizeof(bad_nums) / sizeof(bad_nums[0]))

static const char *bad_value(const struct num_setting *n, size_t k, char buf[32])
{
    if (!bad_nums[k])
        snprintf(buf, 32, "%ld", n->min - 1);
    else if (strcmp(bad_nums[k], "+") == 0)
        snprintf(buf, 32, "%ld", n->max + 1);
    else
        return bad_nums[k];
    return buf;
}

START_TEST(test_num_bad_flag)
{
    const struct num_setting *n = &nums[_i / NBAD];
    char buf[32], arg[96], name[64];
    const char *v = bad_value(n, (size_t)_i % NBAD, buf);

    snprintf(arg, sizeof(arg), "--%s=%s", n->flag, v);
    snprintf(name, sizeof(name), "--%s", n->flag);
    assert_error(LOAD(arg), name);
    assert_error(LOAD(name, v), name);
}
END_TEST

START_TEST(test_num_bad_env)
{
    const struct num_setting *n = &nums[_i / NBAD];
    char buf[32];

    setenv(n->env, bad_value(n, (size_t)_i % NBAD, buf), 1);
    assert_error(LOAD0(), n->env);
}
END_TEST

START_TEST(test_call_shorter_than_connect)
{
    assert_error(LOAD("--connect-timeout=3000", "--call-timeout=2999"), "timeout");
    ck_assert_int_eq(LOAD("--connect-timeout=3000", "--call-timeout=3000"), CONFIG_OK);
    setenv("API_PEDIDOS_CONNECT_TIMEOUT_MS", "6000", 1); /* call: 5000 by default */
    assert_error(LOAD0(), "timeout");
}
END_TEST

/* ---- strings: upstream, key, tenant, listen, log level -------------------- */

struct url_case {
    const char *in;
    const char *want; /* NULL: an error naming MAGALU_API_URL */
};

static const struct url_case urls[] = {
    {"https://alpha.api.magalu.com", "https://alpha.api.magalu.com/maestro/v1"},
    {"http://127.0.0.1:8080", "http://127.0.0.1:8080/maestro/v1"},
    {"http://localhost:8080/", "http://localhost:8080/maestro/v1"},
    {"https://h.example///", "https://h.example/maestro/v1"},
    {"http://h/base/", "http://h/base/maestro/v1"},
    {"", "https://alpha.api.magalu.com/maestro/v1"}, /* empty: the default */
    {"ftp://h.example", NULL},
    {"file:///etc/passwd", NULL},
    {"gopher://h.example", NULL},
    {"h.example:8080", NULL},
    {"//h.example", NULL},
    {"httpx://h.example", NULL},
    {"http:/h.example", NULL},
    {"http://h.example/?x=1", NULL},
    {"http://h.example/#x", NULL},
    {"http://h example", NULL},
    {"http://", NULL},  /* no host */
    {"https://", NULL},
    {"http:///", NULL},
};

START_TEST(test_upstream_url)
{
    const struct url_case *c = &urls[_i];

    setenv("MAGALU_API_URL", c->in, 1);
    if (!c->want) {
        assert_error(LOAD0(), "MAGALU_API_URL");
        return;
    }
    char catalog[128];

    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    ck_assert_str_eq(cfg.maestro, c->want);
    /* the catalog is on the same base */
    snprintf(catalog, sizeof(catalog), "%.*s/catalogs", (int)(strlen(c->want) - strlen("/maestro/v1")),
             c->want);
    ck_assert_str_eq(cfg.catalog, catalog);
}
END_TEST

START_TEST(test_apikey_missing)
{
    unsetenv("APIKEY");
    assert_error(LOAD0(), "APIKEY");
    setenv("APIKEY", "", 1);
    assert_error(LOAD0(), "APIKEY");
    unsetenv("APIKEY");
    assert_error(LOAD("--fanout=4"), "APIKEY");
}
END_TEST

/* A key that cannot be sent is refused without being shown. */
static const char *const bad_keys[] = {
    "s3cr3t-k3y\nX-Evil: 1",
    "s3cr3t-k3y\r\nX-Evil: 1",
    "s3cr3t-k3y\r",
    "\ns3cr3t-k3y",
};

START_TEST(test_apikey_bad_hidden)
{
    setenv("APIKEY", bad_keys[_i], 1);
    ck_assert_int_eq(LOAD0(), CONFIG_ERROR);
    ck_assert_msg(strstr(err, "APIKEY") != NULL, "'%s' does not name APIKEY", err);
    ck_assert_msg(strstr(err, "s3cr3t") == NULL, "'%s' shows the key", err);
    ck_assert_msg(strstr(err, "X-Evil") == NULL, "'%s' shows the key", err);
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(test_apikey_long_hidden)
{
    char key[2000];

    memset(key, 'k', sizeof(key) - 1);
    memcpy(key, "s3cr3t", 6);
    key[sizeof(key) - 1] = '\0';
    setenv("APIKEY", key, 1);
    ck_assert_int_eq(LOAD0(), CONFIG_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "APIKEY"));
    ck_assert_ptr_null(strstr(err, "s3cr3t"));
    ck_assert_ptr_null(strstr(err, "kkkk"));
}
END_TEST

START_TEST(test_tenant)
{
    setenv("TENANT_ID", "bad\ttenant\x01", 1);
    ck_assert_int_eq(LOAD0(), CONFIG_OK); /* only line breaks are refused */
    setenv("TENANT_ID", "bad\ntenant", 1);
    ck_assert_int_eq(LOAD0(), CONFIG_ERROR);
    ck_assert_ptr_nonnull(strstr(err, "TENANT_ID"));
    setenv("TENANT_ID", "abc", 1);
    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    ck_assert_str_eq(cfg.tenant, "abc");
}
END_TEST

START_TEST(test_listen)
{
    ck_assert_int_eq(LOAD("--listen", "127.0.0.1:9000"), CONFIG_OK);
    ck_assert_str_eq(cfg.listen, "127.0.0.1:9000");
    ck_assert_int_eq(LOAD("--listen=/run/api-pedidos.sock"), CONFIG_OK);
    ck_assert_str_eq(cfg.listen, "/run/api-pedidos.sock");
    assert_error(LOAD("--listen="), "--listen");
    setenv("API_PEDIDOS_LISTEN", ":9000", 1);
    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    ck_assert_str_eq(cfg.listen, ":9000");
}
END_TEST

START_TEST(test_log_level)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char arg[32];
    int i;

    for (i = 0; i < 4; i++) {
        snprintf(arg, sizeof(arg), "--log-level=%s", names[i]);
        ck_assert_int_eq(LOAD(arg), CONFIG_OK);
        ck_assert_int_eq(cfg.log_level, i);
    }
    assert_error(LOAD("--log-level=verbose"), "--log-level");
    assert_error(LOAD("--log-level", "DEBUG"), "--log-level");
    setenv("API_PEDIDOS_LOG_LEVEL", "loud", 1);
    assert_error(LOAD0(), "API_PEDIDOS_LOG_LEVEL");
}
END_TEST

/* ---- the command line ------------------------------------------------------ */

START_TEST(test_unknown_flag)
{
    assert_error(LOAD("--bogus"), "--bogus");
    assert_error(LOAD("--bogus=1"), "--bogus");
    assert_error(LOAD("-x"), "-x");
    assert_error(LOAD("--fanout=2", "--nope"), "--nope");
}
END_TEST

/* A removed option stops the service with a line naming it, in every
 * form: getopt_long alone would read --breaker-window as an
 * abbreviation of --breaker-window-ms. */
START_TEST(test_removed_option)
{
    assert_error(LOAD("--breaker-window", "20"), "--breaker-window");
    assert_error(LOAD("--breaker-window=20"), "--breaker-window");
    assert_error(LOAD("--fanout=2", "--breaker-window", "100"), "breaker-window-ms");
    ck_assert_int_eq(LOAD("--breaker-window-ms", "2000"), CONFIG_OK);
    ck_assert_int_eq(cfg.breaker_window_ms, 2000);
    ck_assert_int_eq(LOAD("--breaker-window-ms=3000"), CONFIG_OK);
    ck_assert_int_eq(cfg.breaker_window_ms, 3000);
    setenv("API_PEDIDOS_BREAKER_WINDOW", "20", 1);
    assert_error(LOAD0(), "API_PEDIDOS_BREAKER_WINDOW_MS");
}
END_TEST

/* Short options are not flags of ours: the error names the first one. */
START_TEST(test_unknown_short_cluster)
{
    assert_error(LOAD("-xy"), "-x");
}
END_TEST

START_TEST(test_missing_argument)
{
    assert_error(LOAD("--fanout"), "--fanout");
    assert_error(LOAD("--listen"), "--listen");
}
END_TEST

START_TEST(test_flag_without_argument_given_one)
{
    assert_error(LOAD("--help=1"), "--help");
}
END_TEST

START_TEST(test_positional)
{
    assert_error(LOAD("serve"), "serve");
    assert_error(LOAD("--fanout=2", "extra"), "extra");
    assert_error(LOAD("extra", "--fanout=2"), "extra");
    assert_error(LOAD("--", "extra"), "extra");
}
END_TEST

/* Values are echoed in errors: a line break in one must not make the
 * error two lines (SPEC: "a one-line error naming it"; a forged second
 * line would reach the log). */
struct oneline_case {
    const char *env;  /* set to value, or NULL */
    const char *value;
    const char *arg;  /* or passed as the only argument, or NULL */
};

static const struct oneline_case onelines[] = {
    {"MAGALU_API_URL", "http://h.example\r\nX-Evil: 1", NULL},
    {"MAGALU_API_URL", "ftp://h\nlevel=error msg=forged", NULL},
    {"TENANT_ID", "bad\ntenant", NULL},
    {"API_PEDIDOS_FANOUT", "7\nlevel=error msg=forged", NULL},
    {"API_PEDIDOS_LOG_LEVEL", "info\nlevel=error msg=forged", NULL},
    {NULL, NULL, "--fanout=7\nlevel=error msg=forged"},
    {NULL, NULL, "--log-level=info\rforged"},
    {NULL, NULL, "--bo\ngus"},
    {NULL, NULL, "extra\nlevel=error msg=forged"},
};

START_TEST(test_error_is_one_line)
{
    const struct oneline_case *c = &onelines[_i];
    enum config_result r;

    if (c->env)
        setenv(c->env, c->value, 1);
    r = c->arg ? LOAD(c->arg) : LOAD0();
    ck_assert_int_eq(r, CONFIG_ERROR);
    ck_assert_msg(strpbrk(err, "\r\n") == NULL, "error is not one line: '%s'", err);
}
END_TEST

/* ---- --help and --version ---------------------------------------------------- */

/* Runs a load with stdout in a temporary file; returns what was printed
 * (static buffer). */
static const char *load_captured(enum config_result *r, const char *const *args)
{
    static char out[16384];
    FILE *tmp = tmpfile();
    int saved;
    size_t n;

    ck_assert_ptr_nonnull(tmp);
    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    dup2(fileno(tmp), STDOUT_FILENO);
    *r = load_v(args);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, sizeof(out) - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return out;
}

#define CAPTURE(r, ...) load_captured(r, (const char *const[]){__VA_ARGS__, NULL})

/* A hostile environment: none of it may stop --help or --version. */
static void bad_environment(void)
{
    unsetenv("APIKEY");
    setenv("MAGALU_API_URL", "ftp://nope", 1);
    setenv("API_PEDIDOS_FANOUT", "lots", 1);
    setenv("API_PEDIDOS_LOG_LEVEL", "loud", 1);
}

START_TEST(test_help)
{
    enum config_result r;
    const char *out;
    char flag[64];
    size_t i;

    bad_environment();
    out = CAPTURE(&r, "--help");
    ck_assert_int_eq(r, CONFIG_EXIT);
    ck_assert_ptr_nonnull(strstr(out, "Usage"));
    for (i = 0; i < NNUMS; i++) {
        snprintf(flag, sizeof(flag), "--%s", nums[i].flag);
        ck_assert_msg(strstr(out, flag) != NULL, "--help lacks %s", flag);
        ck_assert_msg(strstr(out, nums[i].env) != NULL, "--help lacks %s", nums[i].env);
    }
    for (i = 0; i < sizeof(other_vars) / sizeof(other_vars[0]); i++)
        ck_assert_msg(strstr(out, other_vars[i]) != NULL, "--help lacks %s", other_vars[i]);
    ck_assert_ptr_nonnull(strstr(out, "--listen"));
    ck_assert_ptr_nonnull(strstr(out, "--log-level"));
    ck_assert_ptr_nonnull(strstr(out, "--version"));
}
END_TEST

START_TEST(test_version)
{
    enum config_result r;
    const char *out;

    bad_environment();
    out = CAPTURE(&r, "--version");
    ck_assert_int_eq(r, CONFIG_EXIT);
    ck_assert_int_eq(strncmp(out, "api-pedidos ", 12), 0);
    ck_assert_int_eq(out[strlen(out) - 1], '\n');
    ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1); /* one line */
}
END_TEST

START_TEST(test_help_among_flags)
{
    enum config_result r;

    bad_environment();
    CAPTURE(&r, "--fanout=4", "--help");
    ck_assert_int_eq(r, CONFIG_EXIT);
    CAPTURE(&r, "--version", "--fanout=4");
    ck_assert_int_eq(r, CONFIG_EXIT);
}
END_TEST

/* "--help" as the value of --listen is no request for help: the
 * environment must still be read (or the load must fail), never an OK
 * config without upstream or key. */
START_TEST(test_help_as_listen_value)
{
    enum config_result r;

    CAPTURE(&r, "--listen", "--help");
    if (r == CONFIG_OK) {
        ck_assert_ptr_nonnull(cfg.maestro);
        ck_assert_ptr_nonnull(cfg.api_key);
        ck_assert_ptr_nonnull(cfg.tenant);
    }
    bad_environment();
    CAPTURE(&r, "--listen", "--version");
    ck_assert_int_ne(r, CONFIG_OK); /* APIKEY is not set */
}
END_TEST

/* ---- repeated loads --------------------------------------------------------- */

/* config_load may be called again: nothing of an earlier command line
 * leaks into the next one. */
START_TEST(test_reload_after_error)
{
    assert_error(LOAD("-xy"), "-");
    ck_assert_msg(LOAD0() == CONFIG_OK, "second load failed: %s", err);
}
END_TEST

START_TEST(test_reload_after_ok)
{
    ck_assert_int_eq(LOAD("--fanout=3", "--listen", ":1"), CONFIG_OK);
    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    ck_assert_int_eq(cfg.fanout, 256);
    ck_assert_ptr_null(cfg.listen);
}
END_TEST

START_TEST(test_free_twice)
{
    ck_assert_int_eq(LOAD0(), CONFIG_OK);
    config_free(&cfg);
    ck_assert_ptr_null(cfg.maestro);
    ck_assert_ptr_null(cfg.api_key);
    config_free(&cfg);
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc;

    tc = tcase_create("defaults_env");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_env_strings);
    tcase_add_loop_test(tc, test_env_num, 0, NNUMS);
    tcase_add_loop_test(tc, test_flag_num, 0, NNUMS);
    tcase_add_loop_test(tc, test_flag_beats_env, 0, NNUMS);
    tcase_add_test(tc, test_flag_beats_env_strings);
    tcase_add_test(tc, test_last_flag_wins);
    suite_add_tcase(s, tc);

    tc = tcase_create("ranges");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_num_bounds_ok, 0, NNUMS);
    tcase_add_loop_test(tc, test_num_bad_flag, 0, NNUMS * NBAD);
    tcase_add_loop_test(tc, test_num_bad_env, 0, NNUMS * NBAD);
    tcase_add_test(tc, test_call_shorter_than_connect);
    suite_add_tcase(s, tc);

    tc = tcase_create("strings");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_upstream_url, 0, sizeof(urls) / sizeof(urls[0]));
    tcase_add_test(tc, test_apikey_missing);
    tcase_add_loop_test(tc, test_apikey_bad_hidden, 0, sizeof(bad_keys) / sizeof(bad_keys[0]));
    tcase_add_test(tc, test_apikey_long_hidden);
    tcase_add_test(tc, test_tenant);
    tcase_add_test(tc, test_listen);
    tcase_add_test(tc, test_log_level);
    tcase_add_test(tc, test_ca_file);
    suite_add_tcase(s, tc);

    tc = tcase_create("command_line");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_unknown_flag);
    tcase_add_test(tc, test_unknown_short_cluster);
    tcase_add_test(tc, test_removed_option);
    tcase_add_test(tc, test_missing_argument);
    tcase_add_test(tc, test_flag_without_argument_given_one);
    tcase_add_test(tc, test_positional);
    tcase_add_loop_test(tc, test_error_is_one_line, 0, sizeof(onelines) / sizeof(onelines[0]));
    suite_add_tcase(s, tc);

    tc = tcase_create("help_version");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_help);
    tcase_add_test(tc, test_version);
    tcase_add_test(tc, test_help_among_flags);
    tcase_add_test(tc, test_help_as_listen_value);
    suite_add_tcase(s, tc);

    tc = tcase_create("reload");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_reload_after_error);
    tcase_add_test(tc, test_reload_after_ok);
    tcase_add_test(tc, test_free_twice);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
