/* call: one upstream call's life: started, held at the gate and
 * resumed, sent again, stalled, weighed, handed to its job (call.h).
 * Loop thread only. */
#include "call.h"

#include <assert.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "twin.h"

/* Finished transfers kept for reuse: enough for a busy steady state;
   after a burst of thousands of calls the rest is freed. */
#define CALL_POOL_MAX 512
/* How often the calls in flight are looked over for stalled answers
   (fetch_stalled()): a stalled call ends at most this much past
   --stall-timeout. */
#define CALL_STALL_CHECK_MS 250

_Static_assert(CONNS_MULTI_MAX <= WAITQ_SLOTS_MAX, "a handed-on count for every multi handle");

void call_link(struct job *j, struct fetch *f)
{
    f->prev = NULL;
    f->next = j->fetches;
    if (j->fetches)
        j->fetches->prev = f;
    j->fetches = f;
}

/* Takes f off j's list (and the hedge queue); a hedge is not one of j's
 * calls. */
static void call_unlink(struct calls *c, struct job *j, struct fetch *f)
{
    assert(f->is_hedge || j->running > 0); /* never negative */
    twin_forget(c, f);
    if (f->prev)
        f->prev->next = f->next;
    else
        j->fetches = f->next;
    if (f->next)
        f->next->prev = f->prev;
    if (!f->is_hedge)
        j->running--;
}

/* Removes a transfer from its multi handle (or the waiting calls; or
 * neither: slot -1, as after a failed restart) and gives it back to the
 * pool. */
static void call_discard(struct calls *c, struct job *j, struct fetch *f, int may_close)
{
    call_unlink(c, j, f);
    if (f->waiting)
        waitq_unpark(&c->waitq, f);
    else if (f->slot >= 0) {
        if (may_close && c->conns.multiplexed)
            fetch_cancel_close(f); /* its reset would wait (fetch.h) */
        conns_remove(&c->conns, f->slot, f->easy);
    }
    fetch_release(&c->pool, f);
}

void call_drop(struct calls *c, struct job *j, struct fetch *f)
{
    call_discard(c, j, f, 1);
}

void call_drop_keep(struct calls *c, struct job *j, struct fetch *f)
{
    call_discard(c, j, f, 0);
}

void call_cancel_all(struct calls *c, struct job *j)
{
    while (j->fetches)
        call_drop(c, j, j->fetches);
    assert(j->running == 0);
}

int call_admit(struct calls *c, struct job *j, long *retry_after_s)
{
    return weigh_admit(&c->weigh, &j->trial, retry_after_s);
}

void call_trial_done(struct calls *c, const struct job *j)
{
    weigh_trial_done(&c->weigh, j->trial, j->trial_ok);
}

/* One upstream call of j ended (not cancelled; f is fetch_finish()ed):
 * counted for the metrics, and told to the breaker. */
void call_weigh(struct calls *c, struct job *j, const struct fetch *f, enum fetch_outcome out)
{
    weigh_metrics(f, out, METRICS_UP_COUNT);
    if (weigh_breaker(&c->weigh, j->trial, f))
        j->trial_ok = 1;
}

/* Every call of j carries its request id ahead of the shared headers:
 * one list node in the job, no allocation. */
void call_prepare(struct calls *c, struct job *j)
{
    snprintf(j->id_header, sizeof(j->id_header), "X-Request-Id: %s", j->req->id);
    j->headers.data = j->id_header;
    j->headers.next = c->headers;
}

void call_time_out_all(struct calls *c, struct job *j)
{
    struct fetch *f;

    for (f = j->fetches; f; f = f->next) {
        fetch_finish(f, CURLE_OPERATION_TIMEDOUT);
        if (!f->is_hedge) /* one call, weighed once */
            call_weigh(c, j, f, FETCH_FAILED);
    }
}

/* The options of a call of j started at now: its timeout is the call
 * timeout, or what is left of j's time if less. */
void call_opts(const struct calls *c, struct job *j, uint64_t now, struct fetch_opts *o)
{
    *o = (struct fetch_opts){.headers = &j->headers,
                             .connect_timeout_ms = c->cfg->connect_timeout_ms,
                             .timeout_ms = c->cfg->call_timeout_ms,
                             .max_body = c->cfg->max_body,
                             .pipewait = c->proto.pipewait,
                             .max_idle_s = c->cfg->idle_timeout_ms / 1000,
                             .http_version = c->proto.http_version,
                             .ca_file = c->cfg->ca_file,
                             .share = c->conns.share,
                             .open_socket = poller_open_socket,
                             .close_socket = poller_close_socket,
                             .connection_ready = poller_prereq,
                             .socket_data = c->poller,
                             .watch = c->proto.protocol_known ? NULL : proto_on_curl_text,
                             .watch_data = (void *)&c->proto};
    if (j->deadline_ms - now < (uint64_t)o->timeout_ms)
        o->timeout_ms = (long)(j->deadline_ms - now);
}

int call_start(struct calls *c, struct job *j, const char *url, long index, int kind)
{
    uint64_t now = clock_ms();
    struct fetch_opts o;
    struct fetch *f;

    if (now >= j->deadline_ms)
        return -1;
    call_opts(c, j, now, &o);
    f = fetch_new(&c->pool, url, &o, j, index);
    if (!f)
        return -1;
    /* its call timeout from its first start (a wait for a connection
       counts), or its job's deadline if sooner */
    f->started_ms = now;
    f->end_ms = now + (uint64_t)c->cfg->call_timeout_ms;
    if (f->end_ms > j->deadline_ms)
        f->end_ms = j->deadline_ms;
    f->twin = NULL;
    f->hq_on = f->is_hedge = 0;
    f->hedge_at = 0;
    f->kind = (unsigned char)kind;
    f->slot = conns_add(&c->conns, f->easy);
    if (f->slot < 0) {
        fetch_release(&c->pool, f);
        return -1;
    }
    call_link(j, f);
    j->running++;
    j->req->upstream_calls++;
    twin_arm(c, f, now);
    return 0;
}

/* Adds call f again (slot -1: the next multi handle in turn) for what is
 * left of its time. 0, or -1 when no time is left or curl refused. */
static int call_restart(struct calls *c, struct fetch *f, int slot)
{
    uint64_t now = clock_ms(), end = f->end_ms;

    assert(!f->waiting);
    f->slot = -1; /* on no multi handle until added */
    if (now >= end || fetch_again(f, (long)(end - now)))
        return -1;
    /* what our queue left it may not even cover a connect: a timeout
       then says nothing of the upstream (a starved burst opened the
       breaker on such calls, "Connection timed out after 0 ms") */
    f->starved = end - now < (uint64_t)c->cfg->connect_timeout_ms;
    slot = slot < 0 ? conns_add(&c->conns, f->easy) : conns_add_at(&c->conns, slot, f->easy);
    if (slot < 0)
        return -1;
    f->slot = slot;
    return 0;
}

/* A call that died with the kept-alive connection it reused is sent
 * once more (fetch.h): a gateway closing a connection as our request
 * went out is not a failure of the upstream, nor of the order. */
static int call_try_again(struct calls *c, struct fetch *f, enum fetch_outcome out, int slot)
{
    CURLcode code = f->code;
    char why[128];

    if (out != FETCH_FAILED || f->retried || !fetch_died_with_connection(f))
        return 0;
    f->retried = 1;
    fetch_describe(f, why, sizeof(why));
    weigh_metrics(f, out, METRICS_UP_RETRIED);
    /* the same multi handle: curl has closed the dead connection there,
       while another handle may still hold one to the same dead peer */
    if (call_restart(c, f, slot)) {
        fetch_finish(f, code); /* as it ended: the caller fails the call */
        return 0;
    }
    log_debug("msg=\"upstream call sent again\" reason=\"%s\"", why);
    return 1;
}

/* Call f of job j is over (off its multi handle): it is weighed, and
 * its answer goes to the job, or its failure fails the job. */
static void call_end(struct calls *c, struct job *j, struct fetch *f, enum fetch_outcome out)
{
    const struct call_hooks *h = &c->hooks;
    char why[128];

    call_unlink(c, j, f);
    call_weigh(c, j, f, out);
    if (out == FETCH_OK)
        h->answered(h->arg, j, f, 1);
    else if (out == FETCH_NOT_FOUND)
        h->answered(h->arg, j, f, 0);
    else /* no descriptor of ours for it: our saturation, not the upstream's */
        h->fail(h->arg, j, fetch_ours(f) ? REPLY_UNAVAILABLE : REPLY_BAD_GATEWAY,
                fetch_describe(f, why, sizeof(why)));
    fetch_release(&c->pool, f);
}

static void call_on_done(struct calls *c, CURLMsg *msg)
{
    struct fetch *f = NULL;
    struct job *j;
    enum fetch_outcome out;
    int slot;

    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
    assert(!f->waiting);
    j = f->owner;
    out = fetch_finish(f, msg->data.result);
    conns_remove(&c->conns, f->slot, f->easy);
    if (fetch_held_back(f)) {
        if (f->is_hedge) { /* no room for it after all: the call goes on alone */
            f->slot = -1;
            call_drop(c, j, f);
        } else
            waitq_park(&c->waitq, f);
        return;
    }
    if (out != FETCH_FAILED)
        waitq_handed_on(&c->waitq, f->slot); /* its connection is free for a waiting call */
    proto_learn(&c->proto, f);
    slot = f->slot;
    f->slot = -1; /* off its multi handle */
    if (twin_settle(c, j, f, out, clock_ms()))
        return;
    if (call_try_again(c, f, out, slot))
        return;
    call_end(c, j, f, out);
}

/* Calls whose socket epoll refused (poller_next_unwatched()): each one's
 * job fails (502), and only it; its multi handle goes on serving the
 * others. Jobs are collected first, once each, then failed: failing one
 * frees its transfers, which later entries may name. */
static void call_unwatched(struct calls *c)
{
    struct job *jobs[POLLER_UNWATCHED_MAX]; /* all of them: none may wait a turn */
    struct fetch *f;
    CURL *e;
    int n = 0, i;

    while ((e = poller_next_unwatched(c->poller)) != NULL) {
        f = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&f);
        if (!f || !f->owner)
            continue; /* libcurl 8's own handle, closing a connection */
        for (i = 0; i < n && jobs[i] != f->owner; i++)
            continue;
        if (i == n)
            jobs[n++] = f->owner;
    }
    for (i = 0; i < n; i++) {
        metrics_watch_failed();
        c->hooks.fail(c->hooks.arg, jobs[i], REPLY_BAD_GATEWAY,
                      "could not watch an upstream socket");
    }
}

void call_reap(struct calls *c)
{
    CURLMsg *msg;

    call_unwatched(c);
    while ((msg = conns_info_read(&c->conns)) != NULL) {
        if (msg->msg == CURLMSG_DONE)
            call_on_done(c, msg);
    }
}

/* Calls whose answer began and then went silent for --stall-timeout
 * fail, and with them their job (fetch.h: curl would wait for them
 * until --call-timeout). One per job: failing the job ends the rest. */
void call_check_stalls(struct calls *c, struct job *jobs, uint64_t now)
{
    struct job *j, *next;
    struct fetch *f;
    enum fetch_outcome out;

    if (now < c->stall_check_at)
        return;
    c->stall_check_at = now + CALL_STALL_CHECK_MS;
    for (j = jobs; j; j = next) {
        next = j->next; /* failing j frees it, and only it */
        for (f = j->fetches; f; f = f->next) {
            if (f->waiting || !fetch_stalled(f, now, c->cfg->stall_timeout_ms))
                continue;
            conns_remove(&c->conns, f->slot, f->easy);
            f->slot = -1;
            out = fetch_stall(f);
            if (!twin_settle(c, j, f, out, now)) /* else its twin goes on */
                call_end(c, j, f, out);
            break;
        }
    }
}

static int call_gate_room(void *arg)
{
    struct calls *c = arg;

    return c->resume_all ? INT_MAX : poller_gate_room(c->poller);
}

/* A waiting call's time ran out: our own queue, not the upstream, so
 * the breaker is not told. */
static void call_wait_expired(void *arg, struct fetch *f, uint64_t now)
{
    struct calls *c = arg;

    metrics_upstream(METRICS_UP_QUEUED_TIMEOUT, (now - f->started_ms) * 1000);
    c->hooks.fail(c->hooks.arg, f->owner, REPLY_BAD_GATEWAY, "no upstream connection in time");
}

static void call_start_parked(void *arg, struct fetch *f, int slot)
{
    struct calls *c = arg;

    if (call_restart(c, f, slot))
        c->hooks.fail(c->hooks.arg, f->owner, REPLY_BAD_GATEWAY,
                      "could not start an upstream call");
}

void call_resume(struct calls *c, uint64_t now)
{
    const struct waitq_ops ops = {call_gate_room, call_start_parked, call_wait_expired, c};

    /* the probe's first connection is ready: every waiting call tries
       now (one held back again parks in a later turn) */
    c->resume_all = proto_probe(&c->proto);
    waitq_resume(&c->waitq, c->conns.count, now, &ops);
    c->resume_all = 0;
    twin_send_due(c, now);
}

/* Once no job has been live for the idle timeout, every kept-alive
 * connection is closed (curl only prunes idle ones when it makes a new
 * one): an idle process holds the descriptors it started with. */
void call_close_idle(struct calls *c)
{
    if (conns_reset(&c->conns)) {
        log_warn("msg=\"could not close idle upstream connections\"");
        return;
    }
    log_debug("msg=\"idle: upstream connections closed\"");
    /* the next connection may speak another protocol: learn it again */
    proto_forget(&c->proto);
}

static struct curl_slist *call_headers(const struct config *cfg)
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

int call_init(struct calls *c, const struct config *cfg, const struct call_hooks *hooks)
{
    memset(c, 0, sizeof(*c));
    c->cfg = cfg;
    c->hooks = *hooks;
    proto_init(&c->proto, cfg);
    fetch_pool_init(&c->pool, CALL_POOL_MAX);
    weigh_init(&c->weigh, cfg);
    waitq_init(&c->waitq);
    twin_init(c, clock_ms());
    c->headers = call_headers(cfg);
    if (!c->headers)
        goto err;
    c->poller = poller_new(proto_cold_gate(&c->proto), cfg->connect_timeout_ms);
    if (!c->poller)
        goto err;
    c->proto.poller = c->poller;
    c->proto.conns = &c->conns;
    proto_bound_open(&c->proto, c->proto.offer_h2);
    if (conns_init(&c->conns, c->poller, cfg->max_connections, c->proto.offer_h2))
        goto err;
    return 0;
err:
    conns_free(&c->conns);
    poller_free(c->poller);
    curl_slist_free_all(c->headers);
    return -1;
}

void call_free(struct calls *c)
{
    assert(!c->waitq.head);
    fetch_pool_clear(&c->pool);
    conns_free(&c->conns);
    poller_free(c->poller);
    curl_slist_free_all(c->headers);
}
