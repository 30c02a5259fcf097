#include "loop.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "breaker.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "conns.h"
#include "poller.h"

#define LOOP_URL_MAX 2300 /* base (<= 2048) plus two uuids and the path */
#define LOOP_IDLE_WAIT_MS 1000
/* Finished transfers kept for reuse: enough for a busy steady state;
   after a burst of thousands of calls the rest is freed. */
#define LOOP_POOL_MAX 512
/* A request is watched for its client leaving once it has waited this
   long: most are answered sooner, and then a watch's epoll_ctl would buy
   nothing. */
#define LOOP_WATCH_AFTER_MS 20

struct loop {
    const struct config *cfg;
    struct poller *poller;
    struct conns conns;                  /* the upstream connections */
    uint64_t last_busy;                  /* when a job was last live */
    struct curl_slist *headers;
    long pipewait;                       /* 1 for an https upstream */
    struct fetch_pool pool;              /* loop thread only */
    struct breaker breaker;              /* loop thread only */
    pthread_t thread;
    pthread_mutex_t lock;
    struct job *queue_head, *queue_tail; /* guarded by lock */
    int stopping;                        /* guarded by lock */
    struct job *live_head, *live_tail;   /* loop thread only; by arrival */
    struct job *watch_next;              /* oldest live job not yet watched */
};

static void loop_link_job(struct loop *l, struct job *j)
{
    j->next = NULL;
    j->prev = l->live_tail;
    if (l->live_tail)
        l->live_tail->next = j;
    else
        l->live_head = j;
    l->live_tail = j;
    if (!l->watch_next)
        l->watch_next = j;
}

static void loop_unlink_job(struct loop *l, struct job *j)
{
    if (l->watch_next == j)
        l->watch_next = j->next;
    if (j->prev)
        j->prev->next = j->next;
    else
        l->live_head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        l->live_tail = j->prev;
}

static void loop_unlink_fetch(struct job *j, struct fetch *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        j->fetches = f->next;
    if (f->next)
        f->next->prev = f->prev;
    j->running--;
}

/* Removes a transfer from the multi handle and frees it. */
static void loop_drop_fetch(struct loop *l, struct job *j, struct fetch *f)
{
    loop_unlink_fetch(j, f);
    conns_remove(&l->conns, f->slot, f->easy);
    fetch_free(&l->pool, f);
}

static void loop_log_breaker(const struct loop *l)
{
    const struct breaker *b = &l->breaker;

    metrics_breaker_state((int)b->state);
    log_warn("msg=\"circuit breaker %s\" failures=%d calls=%d", breaker_state_name(b->state),
             b->failures, b->count);
}

/* What kind of end a finished call had, as metrics count it. */
static enum metrics_upstream loop_call_kind(const struct fetch *f, enum fetch_outcome out)
{
    if (out == FETCH_OK)
        return METRICS_UP_OK;
    if (out == FETCH_NOT_FOUND)
        return METRICS_UP_NOT_FOUND;
    if (f->code == CURLE_OK)
        return METRICS_UP_STATUS;
    if (f->code == CURLE_OPERATION_TIMEDOUT)
        return METRICS_UP_TIMEOUT;
    if (f->code == CURLE_COULDNT_CONNECT || f->code == CURLE_COULDNT_RESOLVE_HOST)
        return METRICS_UP_CONNECT;
    return METRICS_UP_ERROR;
}

static void loop_measure(const struct fetch *f, enum fetch_outcome out)
{
    curl_off_t us = 0;

    curl_easy_getinfo(f->easy, CURLINFO_TOTAL_TIME_T, &us);
    metrics_upstream(loop_call_kind(f, out), us > 0 ? (uint64_t)us : 0);
}

/* One upstream call of j ended (not cancelled): tell the breaker. */
static void loop_record(struct loop *l, const struct job *j, int failed)
{
    if (breaker_record(&l->breaker, failed, j->trial, clock_ms()))
        loop_log_breaker(l);
}

/* Ends a job: cancels what it still has in flight, answers r and
 * frees it. The answer is written here: the web server (nginx, lighttpd)
 * reads FastCGI answers at once, so this does not wait on a client (a
 * web server that stopped reading would cost at most 1 s: record.h). */
static void loop_finish(struct loop *l, struct job *j, const struct reply *r)
{
    while (j->fetches)
        loop_drop_fetch(l, j, j->fetches);
    loop_unlink_job(l, j);
    /* a watched socket leaves epoll when job_reply() closes it */
    if (j->trial && breaker_trial_done(&l->breaker, j->trial))
        loop_log_breaker(l);
    job_reply(j, r);
    job_free(j);
}

/* The web server closed the request's connection: its client left.
 * Cancel everything at once; nobody is there to answer. */
static void loop_on_hangup(void *tag, void *arg)
{
    struct loop *l = arg;
    struct job *j = tag;

    log_info("msg=\"client left, order cancelled\" order=%s ms=%llu", j->order_id,
             (unsigned long long)(clock_ms() - j->started_ms));
    loop_finish(l, j, NULL);
}

static void loop_fail(struct loop *l, struct job *j, enum reply_kind kind, const char *why)
{
    struct reply r = reply_canned(kind);

    log_warn("msg=\"order failed\" order=%s status=%d reason=\"%s\" ms=%llu", j->order_id,
             r.status, why, (unsigned long long)(clock_ms() - j->started_ms));
    loop_finish(l, j, &r);
}

static void loop_succeed(struct loop *l, struct job *j)
{
    struct reply r;
    size_t len;
    char *body = job_answer(j, &len);

    if (!body) {
        loop_fail(l, j, REPLY_BAD_GATEWAY, "out of memory");
        return;
    }
    log_debug("msg=\"order answered\" order=%s packages=%zu ms=%llu", j->order_id, j->pkgs.count,
              (unsigned long long)(clock_ms() - j->started_ms));
    r = reply_ok(body, len);
    loop_finish(l, j, &r);
    free(body);
}

static int loop_url(const struct loop *l, const struct job *j, long index, char *url)
{
    int n;

    if (index < 0)
        n = snprintf(url, LOOP_URL_MAX, "%s/orders/%s", l->cfg->maestro, j->order_id);
    else
        n = snprintf(url, LOOP_URL_MAX, "%s/orders/%s/packages/%s/items", l->cfg->maestro,
                     j->order_id, j->pkgs.ids[index]);
    return n > 0 && n < LOOP_URL_MAX ? 0 : -1;
}

static void loop_deadline_passed(struct loop *l, struct job *j)
{
    loop_record(l, j, 1); /* a timeout, as the breaker sees it */
    loop_fail(l, j, REPLY_BAD_GATEWAY, "request deadline passed");
}

/* Starts call `index` of job j (-1: the order). 0, or -1 when it could
 * not start (the caller fails the job). */
static int loop_add(struct loop *l, struct job *j, long index)
{
    char url[LOOP_URL_MAX];
    uint64_t now = clock_ms();
    struct fetch_opts o = {&j->headers, l->cfg->connect_timeout_ms, l->cfg->call_timeout_ms,
                           l->cfg->max_body, l->pipewait, l->cfg->idle_timeout_ms / 1000,
                           poller_open_socket, poller_close_socket, l->poller};
    struct fetch *f;

    if (now >= j->deadline_ms || loop_url(l, j, index, url))
        return -1;
    if (j->deadline_ms - now < (uint64_t)o.timeout_ms)
        o.timeout_ms = (long)(j->deadline_ms - now);
    f = fetch_new(&l->pool, url, &o, j, index);
    if (!f)
        return -1;
    f->slot = conns_add(&l->conns, f->easy);
    if (f->slot < 0) {
        fetch_free(&l->pool, f);
        return -1;
    }
    f->next = j->fetches;
    if (j->fetches)
        j->fetches->prev = f;
    j->fetches = f;
    j->running++;
    j->req->upstream_calls++;
    return 0;
}

/* Starts as many package calls as the fan-out allows; 0, or -1 when the
 * job failed and is gone. */
static int loop_fill(struct loop *l, struct job *j)
{
    long i;

    if (clock_ms() >= j->deadline_ms && j->next_pkg < j->pkgs.count) {
        loop_deadline_passed(l, j);
        return -1;
    }
    while ((i = job_next_package(j, j->running)) >= 0) {
        if (loop_add(l, j, i)) {
            loop_fail(l, j, REPLY_BAD_GATEWAY, "could not start an upstream call");
            return -1;
        }
    }
    return 0;
}

/* A call came back 2xx: feed the body to the job and move it on. */
static void loop_on_body(struct loop *l, struct job *j, struct fetch *f)
{
    enum items_status st;

    /* cJSON before 1.7.18 reads one byte past a truncated document such
     * as `{"a":1,`: let that byte be a NUL of ours (jbuf keeps room). */
    if (jbuf_cstr(&f->body)) {
        loop_fail(l, j, REPLY_BAD_GATEWAY, "out of memory");
        return;
    }
    if (f->index < 0)
        st = job_take_order(j, f->body.data, f->body.len);
    else
        st = job_take_package(j, (size_t)f->index, f->body.data, f->body.len);
    if (st != ITEMS_OK) {
        loop_fail(l, j, REPLY_BAD_GATEWAY, st == ITEMS_TOO_BIG ? "too many packages"
                                           : "upstream answer of the wrong shape");
        return;
    }
    if (job_complete(j))
        loop_succeed(l, j);
    else
        loop_fill(l, j);
}

static void loop_on_done(struct loop *l, CURLMsg *msg)
{
    struct fetch *f = NULL;
    struct job *j;
    enum fetch_outcome out;
    char why[128];

    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
    j = f->owner;
    out = fetch_finish(f, msg->data.result);
    loop_unlink_fetch(j, f);
    conns_remove(&l->conns, f->slot, f->easy);
    loop_measure(f, out);
    loop_record(l, j, fetch_upstream_fault(f));
    if (out == FETCH_OK)
        loop_on_body(l, j, f);
    else if (out == FETCH_NOT_FOUND)
        loop_fail(l, j, REPLY_ORDER_NOT_FOUND, "upstream 404");
    else
        loop_fail(l, j, REPLY_BAD_GATEWAY, fetch_describe(f, why, sizeof(why)));
    fetch_free(&l->pool, f);
}

static void loop_reap(struct loop *l)
{
    CURLMsg *msg;

    while ((msg = conns_info_read(&l->conns)) != NULL) {
        if (msg->msg == CURLMSG_DONE)
            loop_on_done(l, msg);
    }
}

/* Jobs past their deadline answer 502. All jobs share one timeout, so
 * the oldest is always the first to expire. */
static void loop_expire(struct loop *l, uint64_t now)
{
    while (l->live_head && l->live_head->deadline_ms <= now)
        loop_deadline_passed(l, l->live_head);
}

/* Every call of j carries its request id ahead of the shared headers:
 * one list node in the job, no allocation. */
static void loop_job_headers(struct loop *l, struct job *j)
{
    snprintf(j->id_header, sizeof(j->id_header), "X-Request-Id: %s", j->req->id);
    j->headers.data = j->id_header;
    j->headers.next = l->headers;
}

/* The breaker is open: 503 at once, nothing called upstream. */
static int loop_refuse(struct loop *l, struct job *j)
{
    struct reply r = reply_canned(REPLY_UNAVAILABLE);
    int changed;

    if (breaker_admit(&l->breaker, clock_ms(), &j->trial, &r.retry_after, &changed)) {
        if (changed)
            loop_log_breaker(l);
        return 0;
    }
    job_reply(j, &r);
    job_free(j);
    return 1;
}

/* Shortens *wait (ms from now) to reach at; a past at makes it 0. */
static void loop_wake_by(uint64_t *wait, uint64_t at, uint64_t now)
{
    uint64_t until = at > now ? at - now : 0;

    if (until < *wait)
        *wait = until;
}

/* How long the loop may sleep: to the next deadline, watch or idle
 * close, at most LOOP_IDLE_WAIT_MS. */
static int loop_wait_ms(const struct loop *l, uint64_t now)
{
    uint64_t wait = LOOP_IDLE_WAIT_MS;

    if (l->live_head)
        loop_wake_by(&wait, l->live_head->deadline_ms, now);
    if (l->watch_next)
        loop_wake_by(&wait, l->watch_next->started_ms + LOOP_WATCH_AFTER_MS, now);
    if (!l->live_head && l->conns.used)
        loop_wake_by(&wait, l->last_busy + (uint64_t)l->cfg->idle_timeout_ms, now);
    return (int)wait;
}

/* Watches the requests that have waited long enough (oldest first: the
 * live list is by arrival). A request epoll refuses is still answered;
 * only its client leaving early goes unnoticed. */
static void loop_watch_due(struct loop *l, uint64_t now)
{
    struct job *j;

    while ((j = l->watch_next) && j->started_ms + LOOP_WATCH_AFTER_MS <= now) {
        l->watch_next = j->next;
        if (poller_watch(l->poller, j->req->fd, j))
            log_warn("msg=\"cannot watch a request for its client leaving\" order=%s", j->order_id);
    }
}

/* Once no job has been live for the idle timeout, every kept-alive
 * connection is closed (curl only prunes idle ones when it makes a new
 * one): an idle process holds the descriptors it started with. */
static void loop_idle(struct loop *l, uint64_t now)
{
    if (l->live_head) {
        l->last_busy = now;
        return;
    }
    if (!l->conns.used || now < l->last_busy + (uint64_t)l->cfg->idle_timeout_ms)
        return;
    if (conns_reset(&l->conns))
        log_warn("msg=\"could not close idle upstream connections\"");
    else
        log_debug("msg=\"idle: upstream connections closed\"");
}

/* Moves submitted jobs into the loop and starts their order calls.
 * Returns 1 when the loop should end (stopping and nothing left). */
static int loop_admit(struct loop *l)
{
    struct job *j, *next;
    int stopping;

    pthread_mutex_lock(&l->lock);
    j = l->queue_head;
    l->queue_head = l->queue_tail = NULL;
    stopping = l->stopping;
    pthread_mutex_unlock(&l->lock);
    if (j)
        l->last_busy = clock_ms(); /* a job may end before loop_idle() sees it */
    for (; j; j = next) {
        next = j->next;
        if (loop_refuse(l, j))
            continue;
        loop_job_headers(l, j);
        loop_link_job(l, j);
        if (loop_add(l, j, -1))
            loop_fail(l, j, REPLY_BAD_GATEWAY, "could not start the order call");
    }
    return stopping && !l->live_head;
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    uint64_t now;

    l->last_busy = clock_ms();
    while (!loop_admit(l)) {
        poller_run(l->poller, loop_wait_ms(l, clock_ms()), loop_on_hangup, l);
        loop_reap(l);
        now = clock_ms();
        loop_expire(l, now);
        loop_watch_due(l, now);
        loop_idle(l, now);
    }
    arena_release(); /* the cJSON arena of this thread */
    return NULL;
}

static struct curl_slist *loop_headers(const struct config *cfg)
{
    char line[600];
    struct curl_slist *h = NULL, *t;

    snprintf(line, sizeof(line), "X-Api-Key: %s", cfg->api_key);
    if (!(t = curl_slist_append(h, line)))
        goto err;
    h = t;
    snprintf(line, sizeof(line), "X-Tenant-Id: %s", cfg->tenant);
    if (!(t = curl_slist_append(h, line)))
        goto err;
    h = t;
    if (!(t = curl_slist_append(h, "Accept: application/json")))
        goto err;
    return t;
err:
    curl_slist_free_all(h);
    return NULL;
}

static int loop_setup_upstream(struct loop *l)
{
    l->poller = poller_new();
    if (!l->poller)
        return -1;
    return conns_init(&l->conns, l->poller, l->cfg->max_connections);
}

static void loop_breaker_init(struct loop *l)
{
    const struct config *c = l->cfg;
    struct breaker_conf bc = {(int)c->breaker_window, (int)c->breaker_min_calls,
                              (int)c->breaker_threshold, c->breaker_open_ms,
                              (int)c->breaker_trials};

    breaker_init(&l->breaker, &bc);
}

struct loop *loop_start(const struct config *cfg)
{
    struct loop *l = calloc(1, sizeof(*l));

    if (!l)
        return NULL;
    l->cfg = cfg;
    l->pipewait = strncmp(cfg->maestro, "https://", 8) == 0;
    fetch_pool_init(&l->pool, LOOP_POOL_MAX);
    loop_breaker_init(l);
    pthread_mutex_init(&l->lock, NULL);
    l->headers = loop_headers(cfg);
    if (!l->headers || loop_setup_upstream(l))
        goto err;
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0)
        goto err;
    return l;
err:
    conns_free(&l->conns);
    poller_free(l->poller);
    curl_slist_free_all(l->headers);
    pthread_mutex_destroy(&l->lock);
    free(l);
    return NULL;
}

void loop_submit(struct loop *l, struct job *j)
{
    int was_empty;

    j->next = NULL;
    pthread_mutex_lock(&l->lock);
    was_empty = l->queue_head == NULL;
    if (l->queue_tail)
        l->queue_tail->next = j;
    else
        l->queue_head = j;
    l->queue_tail = j;
    pthread_mutex_unlock(&l->lock);
    /* the loop takes the whole queue at once: one wakeup serves all that
       arrive before it does */
    if (was_empty)
        poller_wake(l->poller);
}

void loop_stop(struct loop *l)
{
    pthread_mutex_lock(&l->lock);
    l->stopping = 1;
    pthread_mutex_unlock(&l->lock);
    poller_wake(l->poller);
    pthread_join(l->thread, NULL);
    fetch_pool_clear(&l->pool);
    conns_free(&l->conns);
    poller_free(l->poller);
    curl_slist_free_all(l->headers);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
