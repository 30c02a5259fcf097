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
#include "fold.h"
#include "poller.h"

#define LOOP_IDLE_WAIT_MS 1000
/* Finished transfers kept for reuse: enough for a busy steady state;
   after a burst of thousands of calls the rest is freed. */
#define LOOP_POOL_MAX 512
/* A request is watched for its client leaving once it has waited this
   long: most are answered sooner, and then a watch's epoll_ctl would buy
   nothing. */
#define LOOP_WATCH_AFTER_MS 20
/* How often the calls in flight are looked over for stalled answers
   (fetch_stalled()): a stalled call ends at most this much past
   --stall-timeout. */
#define LOOP_STALL_CHECK_MS 250

struct loop {
    const struct config *cfg;
    struct poller *poller;
    struct conns conns;                  /* the upstream connections */
    uint64_t last_busy;                  /* when a job was last live */
    uint64_t stall_check_at;             /* when to look for stalled calls */
    struct curl_slist *headers;
    int offer_h2;                        /* https, and --upstream-http2 1 */
    long pipewait;                       /* offer_h2, until an answer says
                                            HTTP/1.1: then calls no longer
                                            wait for a connection to share */
    long http_version;                   /* what ALPN offers */
    int protocol_known;                  /* an answer told HTTP/2 or not */
    struct fetch_pool pool;              /* loop thread only */
    struct breaker breaker;              /* loop thread only */
    struct fold fold;                    /* loop thread only: see loop_record */
    pthread_t thread;
    pthread_mutex_t lock;
    struct job *queue_head, *queue_tail; /* guarded by lock */
    int stopping;                        /* guarded by lock */
    struct request *wqueue_head, *wqueue_tail; /* answers to write, guarded by lock */
    struct job *live_head, *live_tail;   /* loop thread only; by arrival */
    struct request *writing_head, *writing_tail; /* loop thread only; by deadline */
    struct job *watch_next;              /* oldest live job not yet watched */
    struct fetch *wait_head, *wait_tail; /* calls the gate held back, oldest first */
    int handed_on[CONNS_MULTI_MAX];      /* connections freed this turn, by slot */
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

/* Parks a call the gate held back (gate.h): it keeps its place in its
 * job, and its share of the fan-out, and waits for a connection. */
static void loop_park(struct loop *l, struct fetch *f)
{
    f->waiting = 1;
    f->wait_next = NULL;
    f->wait_prev = l->wait_tail;
    if (l->wait_tail)
        l->wait_tail->wait_next = f;
    else
        l->wait_head = f;
    l->wait_tail = f;
}

static void loop_unpark(struct loop *l, struct fetch *f)
{
    if (f->wait_prev)
        f->wait_prev->wait_next = f->wait_next;
    else
        l->wait_head = f->wait_next;
    if (f->wait_next)
        f->wait_next->wait_prev = f->wait_prev;
    else
        l->wait_tail = f->wait_prev;
    f->waiting = 0;
}

/* Removes a transfer from the multi handle (or the waiting calls) and
 * frees it. */
static void loop_drop_fetch(struct loop *l, struct job *j, struct fetch *f)
{
    loop_unlink_fetch(j, f);
    if (f->waiting)
        loop_unpark(l, f);
    else
        conns_remove(&l->conns, f->slot, f->easy);
    fetch_release(&l->pool, f);
}

static void loop_log_breaker(const struct loop *l)
{
    const struct breaker *b = &l->breaker;

    metrics_breaker_state((int)b->state, b->openings);
    log_warn("msg=\"circuit breaker %s\" failures=%ld calls=%ld", breaker_state_name(b->state),
             b->failures, b->calls);
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
        return fetch_health(f) == FETCH_QUEUED ? METRICS_UP_QUEUED_TIMEOUT : METRICS_UP_TIMEOUT;
    if (f->code == CURLE_COULDNT_CONNECT || f->code == CURLE_COULDNT_RESOLVE_HOST)
        return METRICS_UP_CONNECT;
    return METRICS_UP_ERROR;
}

/* Counts a finished call as kind (METRICS_UP_COUNT: as its outcome says). */
static void loop_measure(const struct fetch *f, enum fetch_outcome out, enum metrics_upstream kind)
{
    curl_off_t us = 0;

    curl_easy_getinfo(f->easy, CURLINFO_TOTAL_TIME_T, &us);
    metrics_upstream(kind == METRICS_UP_COUNT ? loop_call_kind(f, out) : kind,
                     us > 0 ? (uint64_t)us : 0);
}

/* One upstream call of j ended (not cancelled; f is fetch_finish()ed):
 * tell the breaker what it says of the upstream. A call that timed out
 * in our own queue says nothing; the calls of one broken connection are
 * one fault (fold.h). */
static void loop_record(struct loop *l, const struct job *j, const struct fetch *f)
{
    enum fetch_health h = fetch_health(f);
    uint64_t now = clock_ms();

    if (h == FETCH_QUEUED)
        return;
    if (h == FETCH_BROKEN && !fold_new_fault(&l->fold, f->local_port, now))
        return;
    if (breaker_record(&l->breaker, h != FETCH_HEALTHY, j->trial, now))
        loop_log_breaker(l);
}

/* Publishes the breaker's window, aged to now, for /metrics. */
static void loop_breaker_tick(struct loop *l, uint64_t now)
{
    breaker_advance(&l->breaker, now);
    metrics_breaker_window(l->breaker.calls, l->breaker.failures);
}

/* Answers being written are watched under their request's address with
 * the low bit set (jobs, the other watched tags, are aligned). */
#define LOOP_TAG_WRITING ((uintptr_t)1)

static void loop_unlink_writing(struct loop *l, struct request *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        l->writing_head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        l->writing_tail = r->prev;
}

/* An answer the socket did not take at once: written as the socket
 * has room, within the answer's own deadline, never holding the loop. */
static void loop_write_start(struct loop *l, struct request *r)
{
    r->write_deadline_ms = clock_ms() + (uint64_t)l->cfg->write_timeout_ms;
    r->next = NULL;
    r->prev = l->writing_tail;
    if (l->writing_tail)
        l->writing_tail->next = r;
    else
        l->writing_head = r;
    l->writing_tail = r;
    if (poller_watch_write(l->poller, r->fd, (void *)((uintptr_t)r | LOOP_TAG_WRITING))) {
        log_warn("msg=\"cannot watch a socket for writing\" request_id=%s", r->id);
        loop_unlink_writing(l, r);
        request_write_cut(r);
    }
}

static void loop_on_writable(struct loop *l, struct request *r)
{
    int done = request_write_more(r);

    if (done == 0)
        return;
    loop_unlink_writing(l, r);
    request_write_end(r, done > 0); /* closing the socket takes it out of epoll */
}

/* Answers past their write deadline are cut (all share one timeout, so
 * the oldest is the first). */
static void loop_expire_writing(struct loop *l, uint64_t now)
{
    struct request *r;

    while ((r = l->writing_head) && r->write_deadline_ms <= now) {
        loop_unlink_writing(l, r);
        request_write_cut(r);
    }
}

/* Ends a job: cancels what it still has in flight, answers r and
 * frees it. The answer is written here as far as the socket takes it;
 * the rest is written as the web server reads (loop_write_start()). */
static void loop_finish(struct loop *l, struct job *j, const struct reply *r)
{
    struct request *writing;

    while (j->fetches)
        loop_drop_fetch(l, j, j->fetches);
    loop_unlink_job(l, j);
    /* a watched socket leaves epoll when job_reply() closes it, or is
       watched anew, under another tag, for writing */
    if (j->trial && breaker_trial_done(&l->breaker, j->trial))
        loop_log_breaker(l);
    writing = job_reply(j, r);
    job_free(j);
    if (writing)
        loop_write_start(l, writing);
}

/* The web server closed the request's connection: its client left.
 * Cancel everything at once; nobody is there to answer. */
static void loop_on_hangup(struct loop *l, struct job *j)
{
    char what[160];

    log_info("msg=\"client left, %s cancelled\" %s ms=%llu", j->wf->noun,
             job_describe(j, what, sizeof(what)),
             (unsigned long long)(clock_ms() - j->started_ms));
    loop_finish(l, j, NULL);
}

/* A watched FastCGI socket: an answer being written has room (or its
 * web server hung up: the write then fails and ends it); a job's web
 * server hung up. */
static void loop_on_peer(void *tag, uint32_t events, void *arg)
{
    struct loop *l = arg;

    (void)events;
    if ((uintptr_t)tag & LOOP_TAG_WRITING)
        loop_on_writable(l, (struct request *)((uintptr_t)tag & ~LOOP_TAG_WRITING));
    else
        loop_on_hangup(l, tag);
}

static void loop_fail(struct loop *l, struct job *j, enum reply_kind kind, const char *why)
{
    struct reply r = reply_canned(kind);
    char what[160];

    log_warn("msg=\"%s failed\" %s status=%d reason=\"%s\" ms=%llu", j->wf->noun,
             job_describe(j, what, sizeof(what)), r.status, why,
             (unsigned long long)(clock_ms() - j->started_ms));
    loop_finish(l, j, &r);
}

static void loop_succeed(struct loop *l, struct job *j)
{
    struct reply r;
    size_t len;
    char *body = j->wf->answer(j->ctx, &len);
    char what[160];

    if (!body) {
        loop_fail(l, j, REPLY_BAD_GATEWAY, "out of memory");
        return;
    }
    log_debug("msg=\"%s answered\" %s ms=%llu", j->wf->noun, job_describe(j, what, sizeof(what)),
              (unsigned long long)(clock_ms() - j->started_ms));
    r = reply_ok(body, len);
    loop_finish(l, j, &r);
    free(body);
}

/* When call f must be over: its call timeout from its first start (a
 * wait for a connection counts), or its job's deadline if sooner. */
static uint64_t loop_call_end(const struct loop *l, const struct fetch *f)
{
    const struct job *j = f->owner;
    uint64_t end = f->started_ms + (uint64_t)l->cfg->call_timeout_ms;

    return end < j->deadline_ms ? end : j->deadline_ms;
}

/* Adds call f again (slot -1: the next multi handle in turn) for what is
 * left of its time. 0, or -1 when no time is left or curl refused. */
static int loop_restart(struct loop *l, struct fetch *f, int slot)
{
    uint64_t now = clock_ms(), end = loop_call_end(l, f);

    if (now >= end || fetch_again(f, (long)(end - now)))
        return -1;
    /* what our queue left it may not even cover a connect: a timeout
       then says nothing of the upstream (a starved burst opened the
       breaker on such calls, "Connection timed out after 0 ms") */
    f->starved = end - now < (uint64_t)l->cfg->connect_timeout_ms;
    slot = slot < 0 ? conns_add(&l->conns, f->easy) : conns_add_at(&l->conns, slot, f->easy);
    if (slot < 0)
        return -1;
    f->slot = slot;
    return 0;
}

/* The request's deadline passed: the calls it still has in flight time
 * out now, each counted as curl's own timeout would be (on the wire or
 * connecting: against the upstream; still queued: not). With none in
 * flight (the deadline fell between calls) nothing is recorded: every
 * call it made has been weighed already. */
static void loop_deadline_passed(struct loop *l, struct job *j)
{
    struct fetch *f;

    for (f = j->fetches; f; f = f->next) {
        fetch_finish(f, CURLE_OPERATION_TIMEDOUT);
        loop_measure(f, FETCH_FAILED, METRICS_UP_COUNT);
        loop_record(l, j, f);
    }
    loop_fail(l, j, REPLY_BAD_GATEWAY, "request deadline passed");
}

/* Starts a call of job j to url, the workflow's call `index`. 0, or -1
 * when it could not start (the caller fails the job). */
static int loop_add(struct loop *l, struct job *j, const char *url, long index)
{
    uint64_t now = clock_ms();
    struct fetch_opts o = {.headers = &j->headers,
                           .connect_timeout_ms = l->cfg->connect_timeout_ms,
                           .timeout_ms = l->cfg->call_timeout_ms,
                           .max_body = l->cfg->max_body,
                           .pipewait = l->pipewait,
                           .max_idle_s = l->cfg->idle_timeout_ms / 1000,
                           .http_version = l->http_version,
                           .ca_file = l->cfg->ca_file,
                           .share = l->conns.share,
                           .open_socket = poller_open_socket,
                           .close_socket = poller_close_socket,
                           .connection_ready = poller_prereq,
                           .socket_data = l->poller};
    struct fetch *f;

    if (now >= j->deadline_ms)
        return -1;
    if (j->deadline_ms - now < (uint64_t)o.timeout_ms)
        o.timeout_ms = (long)(j->deadline_ms - now);
    f = fetch_new(&l->pool, url, &o, j, index);
    if (!f)
        return -1;
    f->started_ms = now;
    f->slot = conns_add(&l->conns, f->easy);
    if (f->slot < 0) {
        fetch_release(&l->pool, f);
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

/* Starts the calls the workflow asks for, as many as the fan-out
 * allows; 0, or -1 when the job failed and is gone. A job past its
 * deadline starts nothing more: it fails. */
static int loop_fill(struct loop *l, struct job *j)
{
    char url[WORKFLOW_URL_MAX];
    long index;
    int more;

    while (j->running < (size_t)l->cfg->fanout) {
        more = j->wf->next(j->ctx, url, sizeof(url), &index);
        if (more == 0 && j->running == 0) {
            /* nothing to ask and nothing in flight: a workflow that needs
               no call at all is done; one that took answers and neither
               said done nor asks for more is stuck, and a partial answer
               is never sent */
            if (j->req->upstream_calls == 0)
                loop_succeed(l, j);
            else
                loop_fail(l, j, REPLY_BAD_GATEWAY, "workflow stalled");
            return -1;
        }
        if (more == 0)
            return 0;
        if (clock_ms() >= j->deadline_ms) {
            loop_deadline_passed(l, j);
            return -1;
        }
        if (more < 0 || loop_add(l, j, url, index)) {
            loop_fail(l, j, REPLY_BAD_GATEWAY, "could not start an upstream call");
            return -1;
        }
    }
    return 0;
}

/* A call was answered (found: 2xx, else 404): the workflow takes it and
 * says what comes next. */
static void loop_take(struct loop *l, struct job *j, struct fetch *f, int found)
{
    struct workflow_fail fail = {REPLY_BAD_GATEWAY, "upstream answer refused"};
    enum workflow_step step;

    step = j->wf->take(j->ctx, f->index, found, found ? f->body.data : NULL,
                       found ? f->body.len : 0, &fail);
    if (step == WORKFLOW_FAIL)
        loop_fail(l, j, fail.kind, fail.why);
    else if (step == WORKFLOW_DONE)
        loop_succeed(l, j);
    else
        loop_fill(l, j);
}

/* A call came back 2xx: its body goes to the workflow. */
static void loop_on_body(struct loop *l, struct job *j, struct fetch *f)
{
    /* cJSON before 1.7.18 reads one byte past a truncated document such
     * as `{"a":1,`: let that byte be a NUL of ours (jbuf keeps room). */
    if (jbuf_cstr(&f->body)) {
        loop_fail(l, j, REPLY_BAD_GATEWAY, "out of memory");
        return;
    }
    loop_take(l, j, f, 1);
}

/* Until an answer tells whether ALPN chose HTTP/2, at most as many
 * connections as there are multi handles may be in their set-up (the
 * gate counts for the whole process): were it HTTP/2, the calls that wait
 * will all fit on it, and libcurl 7.88, even with PIPEWAIT, was seen to
 * open 136 connections for a cold burst of 1000 orders. The first answer
 * (any status) decides: over HTTP/2 the calls go to one handle
 * (conns.h), over HTTP/1.1 to all in turn; either way the gate opens to
 * --max-connecting. */
static int loop_cold_gate(const struct loop *l)
{
    long max = l->cfg->max_connecting;

    return (int)(l->offer_h2 && max > CONNS_MULTI_MAX ? CONNS_MULTI_MAX : max);
}

/* While the upstream speaks HTTP/2, or may (it has not answered yet),
 * the process holds at most CONNS_MULTIPLEXED_MAX connections (never
 * more than --max-connections): the poller refuses more sockets, and a
 * call that would open one waits, as at the gate. curl's own limits are
 * per multi handle, and the connections a handle opened stay open until
 * their calls end when its limit is lowered (a cold burst of 1000 orders
 * was seen to hold 74). An upstream that turned out to speak HTTP/1.1
 * keeps the bound of --max-connections for that reason: the first
 * handle carried every call while it was probed. A plain-HTTP one has
 * only the handles' limits, which sum to --max-connections. */
static void loop_bound_open(struct loop *l, int maybe_http2)
{
    long max = l->cfg->max_connections;

    if (maybe_http2 && max > CONNS_MULTIPLEXED_MAX)
        max = CONNS_MULTIPLEXED_MAX;
    poller_open_max(l->poller, l->offer_h2 ? (int)max : 0);
}

static void loop_learn_protocol(struct loop *l, const struct fetch *f)
{
    long version = 0;

    if (l->protocol_known || f->status == 0 ||
        curl_easy_getinfo(f->easy, CURLINFO_HTTP_VERSION, &version) != CURLE_OK)
        return;
    l->protocol_known = 1;
    poller_gate_max(l->poller, (int)l->cfg->max_connecting);
    if (version != CURL_HTTP_VERSION_2_0) {
        /* libcurl 8.14 would keep a call waiting for a connection of its
           handle to finish instead of opening another one */
        l->pipewait = 0;
        loop_bound_open(l, 0);
        conns_spread(&l->conns);
        return;
    }
    conns_multiplexed(&l->conns);
    log_info("msg=\"upstream speaks HTTP/2: calls share at most %ld connections\"",
             conns_limit(&l->conns, 0));
}

/* A call that died with the kept-alive connection it reused is sent
 * once more (fetch.h): a gateway closing a connection as our request
 * went out is not a failure of the upstream, nor of the order. */
static int loop_try_again(struct loop *l, struct fetch *f, enum fetch_outcome out)
{
    CURLcode code = f->code;
    char why[128];

    if (out != FETCH_FAILED || f->retried || !fetch_died_with_connection(f))
        return 0;
    f->retried = 1;
    fetch_describe(f, why, sizeof(why));
    loop_measure(f, out, METRICS_UP_RETRIED);
    /* the same multi handle: curl has closed the dead connection there,
       while another handle may still hold one to the same dead peer */
    if (loop_restart(l, f, f->slot)) {
        fetch_finish(f, code); /* as it ended: the caller fails the call */
        return 0;
    }
    log_debug("msg=\"upstream call sent again\" reason=\"%s\"", why);
    return 1;
}

/* Call f of job j is over (off its multi handle): it is weighed, and
 * its answer goes to the workflow, or its failure fails the job. */
static void loop_end_call(struct loop *l, struct job *j, struct fetch *f, enum fetch_outcome out)
{
    char why[128];

    loop_unlink_fetch(j, f);
    loop_measure(f, out, METRICS_UP_COUNT);
    loop_record(l, j, f);
    if (out == FETCH_OK)
        loop_on_body(l, j, f);
    else if (out == FETCH_NOT_FOUND)
        loop_take(l, j, f, 0);
    else
        loop_fail(l, j, REPLY_BAD_GATEWAY, fetch_describe(f, why, sizeof(why)));
    fetch_release(&l->pool, f);
}

static void loop_on_done(struct loop *l, CURLMsg *msg)
{
    struct fetch *f = NULL;
    struct job *j;
    enum fetch_outcome out;

    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
    j = f->owner;
    out = fetch_finish(f, msg->data.result);
    conns_remove(&l->conns, f->slot, f->easy);
    if (fetch_held_back(f)) {
        loop_park(l, f);
        return;
    }
    if (out != FETCH_FAILED)
        l->handed_on[f->slot]++; /* its connection is free for a waiting call */
    loop_learn_protocol(l, f);
    if (loop_try_again(l, f, out))
        return;
    loop_end_call(l, j, f, out);
}

/* Calls whose answer began and then went silent for --stall-timeout
 * fail, and with them their job (fetch.h: curl would wait for them
 * until --call-timeout). One per job: failing the job ends the rest. */
static void loop_check_stalls(struct loop *l, uint64_t now)
{
    struct job *j, *next;
    struct fetch *f;

    if (now < l->stall_check_at)
        return;
    l->stall_check_at = now + LOOP_STALL_CHECK_MS;
    for (j = l->live_head; j; j = next) {
        next = j->next; /* failing j frees it, and only it */
        for (f = j->fetches; f; f = f->next) {
            if (f->waiting || !fetch_stalled(f, now, l->cfg->stall_timeout_ms))
                continue;
            conns_remove(&l->conns, f->slot, f->easy);
            loop_end_call(l, j, f, fetch_stall(f));
            break;
        }
    }
}

/* Calls whose socket epoll refused (poller_next_unwatched()): each one's
 * job fails (502), and only it; its multi handle goes on serving the
 * others. Jobs are collected first, once each, then failed: failing one
 * frees its transfers, which later entries may name. */
static void loop_unwatched(struct loop *l)
{
    struct job *jobs[POLLER_UNWATCHED_MAX]; /* all of them: none may wait a turn */
    struct fetch *f;
    CURL *e;
    int n = 0, i;

    while ((e = poller_next_unwatched(l->poller)) != NULL) {
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
        loop_fail(l, jobs[i], REPLY_BAD_GATEWAY, "could not watch an upstream socket");
    }
}

static void loop_reap(struct loop *l)
{
    CURLMsg *msg;

    while ((msg = conns_info_read(&l->conns)) != NULL) {
        if (msg->msg == CURLMSG_DONE)
            loop_on_done(l, msg);
    }
}

/* A waiting call's time ran out: our own queue, not the upstream, so
 * the breaker is not told. */
static void loop_wait_expired(struct loop *l, struct fetch *f, uint64_t now)
{
    metrics_upstream(METRICS_UP_QUEUED_TIMEOUT, (now - f->started_ms) * 1000);
    loop_fail(l, f->owner, REPLY_BAD_GATEWAY, "no upstream connection in time");
}

/* Takes f off the waiting calls and starts it (slot -1: the next multi
 * handle in turn). The list is in order of parking, and a call held back
 * twice parks at its end again: its time is checked here too. */
static void loop_resume_one(struct loop *l, struct fetch *f, int slot, uint64_t now)
{
    loop_unpark(l, f);
    if (loop_call_end(l, f) <= now)
        loop_wait_expired(l, f, now);
    else if (loop_restart(l, f, slot))
        loop_fail(l, f->owner, REPLY_BAD_GATEWAY, "could not start an upstream call");
}

/* Starts waiting calls again: first on the connections that calls
 * finishing this turn handed on, then as many as the gate has room for
 * (a call that finds an idle connection takes no room, one that finds
 * none is held back again). */
static void loop_resume(struct loop *l, uint64_t now)
{
    struct fetch *f;
    int slot = 0, room;

    while ((f = l->wait_head) && loop_call_end(l, f) <= now) {
        loop_unpark(l, f);
        loop_wait_expired(l, f, now);
    }
    room = poller_gate_room(l->poller);
    while ((f = l->wait_head) && slot < l->conns.count) {
        if (l->handed_on[slot] == 0) {
            slot++;
            continue;
        }
        l->handed_on[slot]--;
        loop_resume_one(l, f, slot, now);
    }
    while ((f = l->wait_head) && room-- > 0)
        loop_resume_one(l, f, -1, now);
    memset(l->handed_on, 0, sizeof(l->handed_on));
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
    struct request *writing;
    int changed;

    if (breaker_admit(&l->breaker, clock_ms(), &j->trial, &r.retry_after, &changed)) {
        if (changed)
            loop_log_breaker(l);
        return 0;
    }
    writing = job_reply(j, &r);
    job_free(j);
    if (writing)
        loop_write_start(l, writing);
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

    if (l->live_head) {
        loop_wake_by(&wait, l->live_head->deadline_ms, now);
        loop_wake_by(&wait, l->stall_check_at, now);
    }
    if (l->wait_head)
        loop_wake_by(&wait, loop_call_end(l, l->wait_head), now);
    if (l->writing_head)
        loop_wake_by(&wait, l->writing_head->write_deadline_ms, now);
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
            log_warn("msg=\"cannot watch a request for its client leaving\" request_id=%s",
                     j->req->id);
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
    if (conns_reset(&l->conns)) {
        log_warn("msg=\"could not close idle upstream connections\"");
        return;
    }
    log_debug("msg=\"idle: upstream connections closed\"");
    /* the next connection may speak another protocol: learn it again */
    l->pipewait = l->offer_h2;
    l->protocol_known = !l->offer_h2;
    poller_gate_max(l->poller, loop_cold_gate(l));
    loop_bound_open(l, l->offer_h2);
}

/* Moves submitted jobs into the loop and starts their order calls, and
 * the answers handed over to be written. Returns 1 when the loop should
 * end (stopping and nothing left). */
static int loop_admit(struct loop *l)
{
    struct job *j, *next;
    struct request *w, *wnext;
    int stopping;

    pthread_mutex_lock(&l->lock);
    j = l->queue_head;
    l->queue_head = l->queue_tail = NULL;
    w = l->wqueue_head;
    l->wqueue_head = l->wqueue_tail = NULL;
    stopping = l->stopping;
    pthread_mutex_unlock(&l->lock);
    for (; w; w = wnext) {
        wnext = w->next;
        loop_write_start(l, w);
    }
    if (j)
        l->last_busy = clock_ms(); /* a job may end before loop_idle() sees it */
    for (; j; j = next) {
        next = j->next;
        if (loop_refuse(l, j))
            continue;
        loop_job_headers(l, j);
        loop_link_job(l, j);
        loop_fill(l, j);
    }
    return stopping && !l->live_head && !l->writing_head;
}

static void *loop_main(void *arg)
{
    struct loop *l = arg;
    uint64_t now;

    l->last_busy = clock_ms();
    while (!loop_admit(l)) {
        poller_run(l->poller, loop_wait_ms(l, clock_ms()), loop_on_peer, l);
        loop_unwatched(l);
        loop_reap(l);
        now = clock_ms();
        loop_expire(l, now); /* its closed connections give the gate room */
        loop_check_stalls(l, now);
        loop_resume(l, now);
        loop_breaker_tick(l, now);
        loop_expire_writing(l, now);
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
    l->poller = poller_new(loop_cold_gate(l), l->cfg->connect_timeout_ms);
    if (!l->poller)
        return -1;
    loop_bound_open(l, l->offer_h2);
    return conns_init(&l->conns, l->poller, l->cfg->max_connections, l->offer_h2);
}

static void loop_breaker_init(struct loop *l)
{
    const struct config *c = l->cfg;
    struct breaker_conf bc = {c->breaker_window_ms, c->breaker_min_calls,
                              (int)c->breaker_threshold, c->breaker_open_ms,
                              (int)c->breaker_trials};

    breaker_init(&l->breaker, &bc);
    fold_init(&l->fold);
}

struct loop *loop_start(const struct config *cfg)
{
    struct loop *l = calloc(1, sizeof(*l));

    if (!l)
        return NULL;
    l->cfg = cfg;
    l->offer_h2 = strncmp(cfg->maestro, "https://", 8) == 0 && cfg->upstream_http2;
    l->pipewait = l->offer_h2;
    l->http_version = cfg->upstream_http2 ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_1_1;
    l->protocol_known = !l->offer_h2;
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

void loop_write(struct loop *l, struct request *r)
{
    int was_empty;

    r->next = NULL;
    pthread_mutex_lock(&l->lock);
    was_empty = l->wqueue_head == NULL && l->queue_head == NULL;
    if (l->wqueue_tail)
        l->wqueue_tail->next = r;
    else
        l->wqueue_head = r;
    l->wqueue_tail = r;
    pthread_mutex_unlock(&l->lock);
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
