/* loop: the thread that runs every job, one turn at a time (loop.h).
 *
 * This file is the loop thread, its queues from the acceptor and its
 * timers, and the life of a job: admitted (or refused by the breaker),
 * live (its calls asked of its workflow, up to the fan-out), watched for
 * its client leaving, finished (answered, failed, past its deadline or
 * abandoned). The calls themselves are call.c's, the answers still being
 * written writer.c's. The queues are shared with the acceptor under
 * lock; everything else is the loop thread's. */
#include "loop.h"

#include <assert.h>
#include <pthread.h>
#include <stdlib.h>

#include "arena.h"
#include "call.h"
#include "twin.h"
#include "clock.h"
#include "log.h"
#include "writer.h"

#define LOOP_IDLE_WAIT_MS 1000
/* A request is watched for its client leaving once it has waited this
   long: most are answered sooner, and then a watch's epoll_ctl would buy
   nothing. */
#define LOOP_WATCH_AFTER_MS 20

struct loop {
    const struct config *cfg;
    struct calls calls;                  /* the upstream calls; the poller */
    struct writer writer;                /* answers being written */
    uint64_t last_busy;                  /* when a job was last live */
    pthread_t thread;
    pthread_mutex_t lock;
    struct job *queue_head, *queue_tail; /* guarded by lock */
    int stopping;                        /* guarded by lock */
    struct request *wqueue_head, *wqueue_tail; /* answers to write, guarded by lock */
    struct job *live_head, *live_tail;   /* loop thread only; by arrival */
    struct job *watch_next;              /* oldest live job not yet watched */
};

static void loop_link_job(struct loop *l, struct job *j)
{
    assert(!j->prev && l->live_head != j); /* on no other list */
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

/* Answers r for job j (or drops it: r NULL) and frees the job. The
 * answer is written here as far as the socket takes it; the rest is
 * written as the web server reads (writer.h). */
static void loop_answer(struct loop *l, struct job *j, const struct reply *r)
{
    struct request *writing = job_reply(j, r);

    job_free(j);
    if (writing)
        writer_start(&l->writer, writing, clock_ms());
}

/* Ends a job: cancels what it still has in flight, answers r and
 * frees it. */
static void loop_finish(struct loop *l, struct job *j, const struct reply *r)
{
    call_cancel_all(&l->calls, j);
    loop_unlink_job(l, j);
    /* a watched socket leaves epoll when job_reply() closes it, or is
       watched anew, under another tag, for writing */
    call_trial_done(&l->calls, j);
    if (j->watched && j->req && j->req->keep)
        poller_unwatch(l->calls.poller, j->req->fd); /* open after its answer */
    loop_answer(l, j, r);
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
    if (writer_owns(tag))
        writer_on_event(&l->writer, tag);
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

/* The request's deadline passed: the calls it still has in flight time
 * out now, each counted as curl's own timeout would be (on the wire or
 * connecting: against the upstream; still queued: not). With none in
 * flight (the deadline fell between calls) nothing is recorded: every
 * call it made has been weighed already. */
static void loop_deadline_passed(struct loop *l, struct job *j)
{
    call_time_out_all(&l->calls, j);
    loop_fail(l, j, REPLY_BAD_GATEWAY, "request deadline passed");
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
        if (more < 0 || call_start(&l->calls, j, url, index, j->wf->kind(index))) {
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

/* call_hooks.answered: a 2xx body goes to the workflow. */
static void loop_on_answer(void *arg, struct job *j, struct fetch *f, int found)
{
    struct loop *l = arg;

    /* cJSON before 1.7.18 reads one byte past a truncated document such
     * as `{"a":1,`: let that byte be a NUL of ours (jbuf keeps room). */
    if (found && jbuf_cstr(&f->body)) {
        loop_fail(l, j, REPLY_BAD_GATEWAY, "out of memory");
        return;
    }
    loop_take(l, j, f, found);
}

/* call_hooks.fail */
static void loop_on_call_failed(void *arg, struct job *j, enum reply_kind kind, const char *why)
{
    loop_fail(arg, j, kind, why);
}

/* Jobs past their deadline answer 502. All jobs share one timeout, so
 * the oldest is always the first to expire. */
static void loop_expire_jobs(struct loop *l, uint64_t now)
{
    while (l->live_head && l->live_head->deadline_ms <= now)
        loop_deadline_passed(l, l->live_head);
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
        loop_wake_by(&wait, l->calls.stall_check_at, now);
    }
    if (l->calls.waitq.head)
        loop_wake_by(&wait, l->calls.waitq.head->end_ms, now);
    if (twin_next_at(&l->calls))
        loop_wake_by(&wait, twin_next_at(&l->calls), now);
    if (l->writer.head)
        loop_wake_by(&wait, writer_next_deadline(&l->writer), now);
    if (l->watch_next)
        loop_wake_by(&wait, l->watch_next->started_ms + LOOP_WATCH_AFTER_MS, now);
    if (!l->live_head && l->calls.conns.used)
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
        j->watched = poller_watch(l->calls.poller, j->req->fd, j) == 0;
        if (!j->watched)
            log_warn("msg=\"cannot watch a request for its client leaving\" request_id=%s",
                     j->req->id);
    }
}

/* Once no job has been live for the idle timeout, every kept-alive
 * connection is closed (call_close_idle()). */
static void loop_idle(struct loop *l, uint64_t now)
{
    if (l->live_head) {
        l->last_busy = now;
        return;
    }
    if (!l->calls.conns.used || now < l->last_busy + (uint64_t)l->cfg->idle_timeout_ms)
        return;
    call_close_idle(&l->calls);
}

/* A job handed over: refused at once (503) when the breaker is open,
 * else live, its first calls started. */
static void loop_admit_job(struct loop *l, struct job *j)
{
    struct reply r = reply_canned(REPLY_UNAVAILABLE);

    if (!call_admit(&l->calls, j, &r.retry_after)) {
        loop_answer(l, j, &r);
        return;
    }
    call_prepare(&l->calls, j);
    loop_link_job(l, j);
    loop_fill(l, j);
}

/* Moves submitted jobs into the loop and starts their calls, and the
 * answers handed over to be written. Returns 1 when the loop should end
 * (stopping and nothing left). */
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
        w->next = NULL;
        writer_start(&l->writer, w, clock_ms());
    }
    if (j)
        l->last_busy = clock_ms(); /* a job may end before loop_idle() sees it */
    for (; j; j = next) {
        next = j->next;
        j->next = NULL;
        loop_admit_job(l, j);
    }
    return stopping && !l->live_head && !l->writer.head;
}

/* What is due at now: jobs and calls past their time, waiting calls
 * that may start, answers past their write deadline, requests to
 * watch, idle connections. */
static void loop_expire_due(struct loop *l, uint64_t now)
{
    loop_expire_jobs(l, now); /* its closed connections give the gate room */
    call_check_stalls(&l->calls, l->live_head, now);
    call_resume(&l->calls, now);
    weigh_tick(&l->calls.weigh, now);
    writer_expire(&l->writer, now);
    loop_watch_due(l, now);
    loop_idle(l, now);
}

/* The loop's turns, as libuv's uv_run or redis's aeProcessEvents: admit
 * what was handed over, wait for sockets and timers (peers' events go to
 * their jobs and answers as they come), dispatch the calls curl ended,
 * expire what is due. */
static void *loop_main(void *arg)
{
    struct loop *l = arg;

    l->last_busy = clock_ms();
    while (!loop_admit(l)) {
        poller_run(l->calls.poller, loop_wait_ms(l, clock_ms()), loop_on_peer, l);
        call_reap(&l->calls);
        loop_expire_due(l, clock_ms());
    }
    arena_release(); /* the cJSON arena of this thread */
    return NULL;
}

struct loop *loop_start(const struct config *cfg)
{
    struct loop *l = calloc(1, sizeof(*l));
    struct call_hooks hooks = {loop_on_answer, loop_on_call_failed, l};

    if (!l)
        return NULL;
    l->cfg = cfg;
    pthread_mutex_init(&l->lock, NULL);
    if (call_init(&l->calls, cfg, &hooks))
        goto err;
    writer_init(&l->writer, l->calls.poller, cfg->write_timeout_ms);
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        call_free(&l->calls);
        goto err;
    }
    return l;
err:
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
        poller_wake(l->calls.poller);
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
        poller_wake(l->calls.poller);
}

void loop_stop(struct loop *l)
{
    pthread_mutex_lock(&l->lock);
    l->stopping = 1;
    pthread_mutex_unlock(&l->lock);
    poller_wake(l->calls.poller);
    pthread_join(l->thread, NULL);
    call_free(&l->calls);
    pthread_mutex_destroy(&l->lock);
    free(l);
}
