#include "metrics.h"

#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>

/* Every status the service answers (reply.c), in label order; 0: no
 * whole answer (the client left, or it was cut). */
static const int metrics_statuses[] = {200, 404, 405, 413, 422, 502, 503, 0};
#define METRICS_NSTATUS (sizeof(metrics_statuses) / sizeof(metrics_statuses[0]))

/* Bucket bounds, in ms, of both latency histograms. */
static const uint64_t metrics_bounds_ms[] = {5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
#define METRICS_NBUCKET (sizeof(metrics_bounds_ms) / sizeof(metrics_bounds_ms[0]))

static const char *metrics_up_names[METRICS_UP_COUNT] = {
    "ok", "not_found", "bad_status", "timeout", "connect_error", "error", "retried",
    "queued_timeout",
};

struct metrics_hist {
    atomic_ullong bucket[METRICS_NBUCKET]; /* not cumulative: one hit each */
    atomic_ullong count;
    atomic_ullong sum_us;
};

static atomic_ullong metrics_answers[ROUTE_COUNT][METRICS_NSTATUS];
static struct metrics_hist metrics_latency[ROUTE_COUNT];
static atomic_ullong metrics_calls[METRICS_UP_COUNT];
static struct metrics_hist metrics_call_latency;
static atomic_int metrics_breaker;
static atomic_ulong metrics_openings;
static atomic_long metrics_window_calls, metrics_window_failures;
static atomic_ullong metrics_cut;
static atomic_ullong metrics_watch_failures;
static atomic_ullong metrics_accept_pauses;

static void metrics_observe(struct metrics_hist *h, uint64_t us)
{
    size_t i;

    for (i = 0; i < METRICS_NBUCKET && us > metrics_bounds_ms[i] * 1000; i++)
        continue;
    if (i < METRICS_NBUCKET)
        atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

void metrics_request(enum route_kind route, int status, uint64_t ms)
{
    size_t s;

    if ((unsigned)route >= ROUTE_COUNT)
        return;
    if (route == ROUTE_BAD_METHOD_POST)
        route = ROUTE_BAD_METHOD; /* one series: route names are labels */
    for (s = 0; s + 1 < METRICS_NSTATUS && metrics_statuses[s] != status; s++)
        continue;
    atomic_fetch_add_explicit(&metrics_answers[route][s], 1, memory_order_relaxed);
    metrics_observe(&metrics_latency[route], ms * 1000);
}

void metrics_upstream(enum metrics_upstream outcome, uint64_t us)
{
    if ((unsigned)outcome >= METRICS_UP_COUNT)
        return;
    atomic_fetch_add_explicit(&metrics_calls[outcome], 1, memory_order_relaxed);
    metrics_observe(&metrics_call_latency, us);
}

void metrics_watch_failed(void)
{
    atomic_fetch_add_explicit(&metrics_watch_failures, 1, memory_order_relaxed);
}

void metrics_accept_paused(void)
{
    atomic_fetch_add_explicit(&metrics_accept_pauses, 1, memory_order_relaxed);
}

void metrics_answer_cut(void)
{
    atomic_fetch_add_explicit(&metrics_cut, 1, memory_order_relaxed);
}

void metrics_breaker_state(int state, unsigned long openings)
{
    atomic_store(&metrics_breaker, state);
    atomic_store(&metrics_openings, openings);
}

void metrics_breaker_window(long calls, long failures)
{
    atomic_store_explicit(&metrics_window_calls, calls, memory_order_relaxed);
    atomic_store_explicit(&metrics_window_failures, failures, memory_order_relaxed);
}

/* Kinds of upstream call, as workflow.h numbers them. */
static const char *metrics_kind_names[] = {"order", "items", "catalog"};
#define METRICS_NKIND (sizeof(metrics_kind_names) / sizeof(metrics_kind_names[0]))
static const char *metrics_hedge_names[METRICS_HEDGE_COUNT] = {"sent", "won", "lost"};
static atomic_ulong metrics_hedges[METRICS_NKIND][METRICS_HEDGE_COUNT];
static atomic_long metrics_hedge_ms[METRICS_NKIND];

void metrics_hedge(int kind, enum metrics_hedge what)
{
    if (kind >= 0 && (size_t)kind < METRICS_NKIND && what < METRICS_HEDGE_COUNT)
        atomic_fetch_add_explicit(&metrics_hedges[kind][what], 1, memory_order_relaxed);
}

void metrics_hedge_delay(int kind, long ms)
{
    if (kind >= 0 && (size_t)kind < METRICS_NKIND)
        atomic_store_explicit(&metrics_hedge_ms[kind], ms, memory_order_relaxed);
}

static int metrics_printf(struct jbuf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int metrics_printf(struct jbuf *out, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(line))
        return -1;
    return jbuf_put(out, line, (size_t)n);
}

/* One histogram's series, labelled with route unless it is NULL. */
static int metrics_put_hist(struct jbuf *out, const char *name, const char *route,
                            struct metrics_hist *h)
{
    char pre[64] = "", sel[64] = "";
    unsigned long long cum = 0;
    size_t i;

    if (route) {
        snprintf(pre, sizeof(pre), "route=\"%s\",", route);
        snprintf(sel, sizeof(sel), "{route=\"%s\"}", route);
    }
    for (i = 0; i < METRICS_NBUCKET; i++) {
        cum += atomic_load(&h->bucket[i]);
        if (metrics_printf(out, "%s_bucket{%sle=\"%g\"} %llu\n", name, pre,
                           (double)metrics_bounds_ms[i] / 1000.0, cum))
            return -1;
    }
    return metrics_printf(out, "%s_bucket{%sle=\"+Inf\"} %llu\n", name, pre,
                          atomic_load(&h->count)) ||
           metrics_printf(out, "%s_sum%s %.6f\n", name, sel, (double)atomic_load(&h->sum_us) / 1e6) ||
           metrics_printf(out, "%s_count%s %llu\n", name, sel, atomic_load(&h->count));
}

static int metrics_put_requests(struct jbuf *out)
{
    size_t r, s;

    if (metrics_printf(out, "# HELP api_pedidos_requests_total Answers by route and status "
                            "(status 0: no whole answer: the client left first, or it was cut).\n"
                            "# TYPE api_pedidos_requests_total counter\n"))
        return -1;
    for (r = 0; r < ROUTE_COUNT; r++)
        for (s = 0; s < METRICS_NSTATUS && r != ROUTE_BAD_METHOD_POST; s++)
            if (metrics_printf(out, "api_pedidos_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
                               route_name((enum route_kind)r), metrics_statuses[s],
                               atomic_load(&metrics_answers[r][s])))
                return -1;
    if (metrics_printf(out, "# HELP api_pedidos_request_duration_seconds Time from accept to answer.\n"
                            "# TYPE api_pedidos_request_duration_seconds histogram\n"))
        return -1;
    for (r = 0; r < ROUTE_COUNT; r++)
        if (r != ROUTE_BAD_METHOD_POST && metrics_put_hist(out, "api_pedidos_request_duration_seconds",
                             route_name((enum route_kind)r), &metrics_latency[r]))
            return -1;
    return 0;
}

static int metrics_put_upstream(struct jbuf *out)
{
    size_t o;

    if (metrics_printf(out, "# HELP api_pedidos_upstream_calls_total Finished upstream calls by outcome.\n"
                            "# TYPE api_pedidos_upstream_calls_total counter\n"))
        return -1;
    for (o = 0; o < METRICS_UP_COUNT; o++)
        if (metrics_printf(out, "api_pedidos_upstream_calls_total{outcome=\"%s\"} %llu\n",
                           metrics_up_names[o], atomic_load(&metrics_calls[o])))
            return -1;
    return metrics_printf(out, "# HELP api_pedidos_upstream_call_duration_seconds Upstream call time.\n"
                               "# TYPE api_pedidos_upstream_call_duration_seconds histogram\n") ||
           metrics_put_hist(out, "api_pedidos_upstream_call_duration_seconds", NULL,
                            &metrics_call_latency);
}

/* The breaker: its state, why it would open (the window's calls and
 * failures) and how often it did. */
static int metrics_put_breaker(struct jbuf *out)
{
    return metrics_printf(out, "# HELP api_pedidos_circuit_breaker_state 0 closed, 1 open, 2 half-open.\n"
                               "# TYPE api_pedidos_circuit_breaker_state gauge\n"
                               "api_pedidos_circuit_breaker_state %d\n", atomic_load(&metrics_breaker)) ||
           metrics_printf(out, "# HELP api_pedidos_circuit_breaker_openings_total Times the breaker opened.\n"
                               "# TYPE api_pedidos_circuit_breaker_openings_total counter\n"
                               "api_pedidos_circuit_breaker_openings_total %lu\n",
                          atomic_load(&metrics_openings)) ||
           metrics_printf(out, "# HELP api_pedidos_circuit_breaker_window_calls Upstream calls in the breaker's window.\n"
                               "# TYPE api_pedidos_circuit_breaker_window_calls gauge\n"
                               "api_pedidos_circuit_breaker_window_calls %ld\n",
                          atomic_load(&metrics_window_calls)) ||
           metrics_printf(out, "# HELP api_pedidos_circuit_breaker_window_failures Those of them that count against the upstream.\n"
                               "# TYPE api_pedidos_circuit_breaker_window_failures gauge\n"
                               "api_pedidos_circuit_breaker_window_failures %ld\n",
                          atomic_load(&metrics_window_failures));
}

static int metrics_put_hedges(struct jbuf *out)
{
    size_t k, w;

    if (metrics_printf(out, "# HELP api_pedidos_hedges_total Hedged upstream calls by kind of call: "
                            "sent, won (the hedge answered first), lost (the original did).\n"
                            "# TYPE api_pedidos_hedges_total counter\n"))
        return -1;
    for (k = 0; k < METRICS_NKIND; k++)
        for (w = 0; w < METRICS_HEDGE_COUNT; w++)
            if (metrics_printf(out, "api_pedidos_hedges_total{kind=\"%s\",outcome=\"%s\"} %lu\n",
                               metrics_kind_names[k], metrics_hedge_names[w],
                               atomic_load(&metrics_hedges[k][w])))
                return -1;
    if (metrics_printf(out, "# HELP api_pedidos_hedge_delay_seconds How long a call of the kind "
                            "waits before its hedge (0: no hedge: off, or too few samples).\n"
                            "# TYPE api_pedidos_hedge_delay_seconds gauge\n"))
        return -1;
    for (k = 0; k < METRICS_NKIND; k++)
        if (metrics_printf(out, "api_pedidos_hedge_delay_seconds{kind=\"%s\"} %.3f\n",
                           metrics_kind_names[k], (double)atomic_load(&metrics_hedge_ms[k]) / 1000))
            return -1;
    return 0;
}

int metrics_render(struct jbuf *out, long in_flight)
{
    if (metrics_put_requests(out) || metrics_put_upstream(out) || metrics_put_hedges(out))
        return -1;
    return metrics_printf(out, "# HELP api_pedidos_requests_in_flight Requests accepted, not yet answered.\n"
                               "# TYPE api_pedidos_requests_in_flight gauge\n"
                               "api_pedidos_requests_in_flight %ld\n", in_flight) ||
           metrics_printf(out, "# HELP api_pedidos_memory_held_bytes Upstream bodies and answer "
                               "parts held now (see --max-memory).\n"
                               "# TYPE api_pedidos_memory_held_bytes gauge\n"
                               "api_pedidos_memory_held_bytes %zu\n", jbuf_held()) ||
           metrics_printf(out, "# HELP api_pedidos_answers_cut_total Answers cut because the web "
                               "server did not read them within --write-timeout.\n"
                               "# TYPE api_pedidos_answers_cut_total counter\n"
                               "api_pedidos_answers_cut_total %llu\n", atomic_load(&metrics_cut)) ||
           metrics_printf(out, "# HELP api_pedidos_upstream_watch_failures_total Requests failed "
                               "(502) because epoll refused an upstream socket.\n"
                               "# TYPE api_pedidos_upstream_watch_failures_total counter\n"
                               "api_pedidos_upstream_watch_failures_total %llu\n",
                               atomic_load(&metrics_watch_failures)) ||
           metrics_printf(out, "# HELP api_pedidos_accept_paused_total Times accepting paused "
                               "100 ms, out of descriptors.\n"
                               "# TYPE api_pedidos_accept_paused_total counter\n"
                               "api_pedidos_accept_paused_total %llu\n",
                               atomic_load(&metrics_accept_pauses)) ||
           metrics_put_breaker(out);
}
