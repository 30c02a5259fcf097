/* call: the life of one upstream call, from its start to its weighing.
 *
 * The calls of every job of the process, on the long-lived curl multi
 * handles (conns.h) driven through one poller (poller.h): a call is
 * started for a job (call_start()), may wait at the connection gate and
 * start again (waitq.h), is sent once more when it died with a reused
 * connection, fails when its answer stalls, teaches the loop the
 * upstream's HTTP version (proto.h), and once over is weighed for the
 * circuit breaker and the metrics, then handed to its job through the
 * hooks: answered, or the job fails. Every call carries the request id
 * and the credential headers.
 *
 * struct calls owns the poller, the multi handles, the transfers (and
 * their pool), the waiting calls, the breaker (weigh.h) and the shared header
 * list; a job's calls hang off the job (j->fetches, j->running) but are
 * the calls' to end. It knows of a job only its calls, deadline, trial,
 * headers and request; nothing of workflows. Loop thread only, except
 * the poller's poller_wake(). */
#ifndef CALL_H
#define CALL_H

#include <stdint.h>

#include "config.h"
#include "conns.h"
#include "fetch.h"
#include "hedge.h"
#include "job.h"
#include "poller.h"
#include "proto.h"
#include "waitq.h"
#include "weigh.h"

/* How the calls tell the job's owner (the loop) what came of a call.
 * Either may free the job (and end its other calls); f is the calls'
 * again when they return. */
struct call_hooks {
    /* Call f of job j was answered: found 1 (2xx, body in f->body) or
     * 0 (404). */
    void (*answered)(void *arg, struct job *j, struct fetch *f, int found);
    /* Job j fails with the canned answer kind; why is for the log. */
    void (*fail)(void *arg, struct job *j, enum reply_kind kind, const char *why);
    void *arg;
};

struct calls {
    const struct config *cfg;
    struct poller *poller;               /* owned */
    struct conns conns;                  /* the upstream connections */
    struct proto proto;                  /* what the upstream speaks */
    struct curl_slist *headers;          /* owned: shared by every call */
    struct fetch_pool pool;
    struct weigh weigh;                  /* the breaker; the metrics */
    struct waitq waitq;                  /* calls the gate held back */
    uint64_t stall_check_at;             /* when to look for stalled calls */
    int resume_all;                      /* this turn every waiting call starts */
    struct hedge hedge;                  /* hedge delays and budget (twin.h) */
    struct fetch *hq_head[HEDGE_KINDS];  /* calls whose hedge is due, by kind, */
    struct fetch *hq_tail[HEDGE_KINDS];  /* in order of start */
    struct call_hooks hooks;
};

/* 0, or -1 (nothing is left to free). cfg must outlive c. */
int call_init(struct calls *c, const struct config *cfg, const struct call_hooks *hooks);
/* Frees everything; no job may have a call left. */
void call_free(struct calls *c);

/* Asks the breaker whether j may call the upstream now: 1, or 0 when it
 * is open (*retry_after_s: the Retry-After for the 503). */
int call_admit(struct calls *c, struct job *j, long *retry_after_s);
/* j, admitted, gets its headers: every call carries its request id. */
void call_prepare(struct calls *c, struct job *j);
/* j ends: its breaker trial, if any, is over. */
void call_trial_done(struct calls *c, const struct job *j);
/* Starts a call of job j to url, the workflow's call index, of kind (a
 * workflow_call). 0, or -1 when it could not start (the caller fails
 * the job). */
int call_start(struct calls *c, struct job *j, const char *url, long index, int kind);
/* Ends every call j has in flight or waiting, unweighed (cancelled). */
void call_cancel_all(struct calls *c, struct job *j);
/* j's deadline passed: the calls it still has time out now, each
 * weighed as curl's own timeout would be; they stay j's to cancel. */
void call_time_out_all(struct calls *c, struct job *j);

/* After poller_run(): fails the jobs of calls whose socket epoll
 * refused, then ends (and weighs, and hands over) the calls curl says
 * are done. */
void call_reap(struct calls *c);
/* Fails the calls whose answer stalled (looked at every
 * CALL_STALL_CHECK_MS), one per job of the live list from jobs. */
void call_check_stalls(struct calls *c, struct job *jobs, uint64_t now);
/* Starts again or fails the calls the gate held back (waitq.h). */
void call_resume(struct calls *c, uint64_t now);
/* Closes every kept-alive connection (no call may be in flight). */
void call_close_idle(struct calls *c);

/* Between call.c and twin.c (the hedges of calls): */
/* The options of a call of j started at now. */
void call_opts(const struct calls *c, struct job *j, uint64_t now, struct fetch_opts *o);
/* Puts transfer f on j's list (a hedge: not among j's calls). */
void call_link(struct job *j, struct fetch *f);
/* Takes f off j's list and off its multi handle (slot -1: on none) or
 * the waiting calls, and gives it back to the pool: cancelled. Over
 * HTTP/2 an unfinished f that was the last on its connection closes it
 * (fetch_cancel_close()), so that the upstream learns of the cancel. */
void call_drop(struct calls *c, struct job *j, struct fetch *f);
/* call_drop(), but the connection stays whatever it carries: for a
 * hedge that lost, whose connection (another multi handle's, over
 * HTTP/2) the next hedge would otherwise have to set up again. */
void call_drop_keep(struct calls *c, struct job *j, struct fetch *f);
/* Counts ended transfer f for the metrics and tells the breaker. */
void call_weigh(struct calls *c, struct job *j, const struct fetch *f, enum fetch_outcome out);

#endif
