#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "arena.h"
#include "backoff.h"
#include "clock.h"
#include "dispatch.h"
#include "intake.h"
#include "keep.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "route.h"

#define SERVER_ACCEPT_ERRORS_MAX 100 /* in a row before giving up */
#define SERVER_ACCEPT_BATCH 64       /* accepts before looking at the rest */
#define SERVER_EVENTS 64

#define SERVER_READ_BUF (32 * 1024) /* one recv() */

/* An accepted connection whose request has not fully arrived. */
struct server_conn {
    int fd;
    uint64_t deadline_ms;
    struct intake in;                 /* what came of it so far */
    struct keep_conn *kept;           /* a kept connection's, or NULL */
    struct server_conn *prev, *next;
};

/* What server_run() keeps. The waiting connections are in arrival
 * order, which is deadline order (all wait as long). */
struct server_state {
    struct server *s;
    int ep;
    int stopping;
    int errors;                       /* accept failures in a row */
    struct backoff backoff;           /* accepting paused (backoff.h) */
    struct server_conn *head, *tail;
    size_t waiting;
    struct keep keep;                 /* kept connections between requests */
    unsigned char buf[SERVER_READ_BUF]; /* every read lands here first */
};

/* epoll tags: the listening socket and the signalfd; anything else is
 * a struct server_conn. */
#define SERVER_TAG_LISTEN ((uint64_t)1)
#define SERVER_TAG_SIGNAL ((uint64_t)2)

/* Writes the answers to management records (intake.h): a few bytes on
 * a socket that has taken nothing else yet, so all or nothing. */
static int server_send_replies(int fd, struct intake *in)
{
    ssize_t n = send(fd, in->reply, in->reply_len, MSG_DONTWAIT | MSG_NOSIGNAL);

    if (n != (ssize_t)in->reply_len) {
        in->why = "management answers not read";
        return -1;
    }
    in->reply_len = 0;
    return 0;
}

/* Reads what fd holds now, never waiting, into its intake, until the
 * request is settled or the socket is empty (edge-triggered epoll wakes
 * us only for new bytes). A connection that ends or fails before its
 * request does is INTAKE_BAD. */
static enum intake_state server_read(struct server_state *st, int fd, struct intake *in)
{
    enum intake_state state = INTAKE_MORE;
    ssize_t n;

    while (state == INTAKE_MORE) {
        n = recv(fd, st->buf, sizeof(st->buf), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return INTAKE_MORE;
        if (n <= 0) {
            /* nothing said at all: a probe, not worth a log line */
            in->why = n < 0 ? "read failed" : in->fed ? "closed mid-request" : NULL;
            return INTAKE_BAD;
        }
        state = intake_feed(in, st->buf, (size_t)n);
        if (in->reply_len && server_send_replies(fd, in) < 0)
            return INTAKE_BAD;
    }
    return state;
}

/* What becomes of a connection whose request is over without a
 * request to answer: an abort (its FCGI_END_REQUEST written by
 * server_read()) leaves a kept connection for the next request; the
 * rest is closed unanswered, as libfcgi did (the web server answers its
 * client 502). */
static void server_settle_other(struct server_state *st, int fd, struct intake *in,
                                enum intake_state state, struct keep_conn *kc)
{
    if (state == INTAKE_ABORTED) {
        log_info("msg=\"FastCGI request aborted by the web server: answered\"");
        kc = keep_lend(&st->keep, kc, fd, in->keep && !in->rest);
        if (kc) {
            keep_back(kc);
            return;
        }
    } else if (state == INTAKE_REFUSED)
        log_info("msg=\"FastCGI request refused: a role other than responder\"");
    else if (in->why)
        log_info("msg=\"FastCGI connection closed: %s\" received=%zu", in->why, in->fed);
    if (kc)
        keep_close(&st->keep, kc);
    else
        close(fd);
}

/* A request all there, or refused once its params were in: answered
 * or handed on; kc: the kept connection it came on, or NULL. A request
 * read whole that asked to keep the connection (and sent nothing past
 * its end) is lent one (keep.h). */
static void server_settle_conn(struct server_state *st, int fd, struct intake *in,
                               enum intake_state state, struct keep_conn *kc)
{
    struct request *req = NULL;
    size_t fed = in->fed;

    if (state == INTAKE_READY || state == INTAKE_TOO_LARGE || state == INTAKE_NO_MEMORY)
        req = request_take(fd, in);
    if (!req) {
        server_settle_other(st, fd, in, state, kc);
        intake_free(in);
        return;
    }
    req->keep = keep_lend(&st->keep, kc, fd, state == INTAKE_READY && in->keep && !in->rest);
    intake_free(in);
    if (state == INTAKE_READY) {
        dispatch_request(st->s, req);
    } else if (state == INTAKE_TOO_LARGE) {
        log_info("msg=\"request body past %d bytes: 413\" received=%zu request_id=%s",
                 INTAKE_BODY_MAX, fed, req->id);
        dispatch_answer(st->s, req, REPLY_TOO_LARGE);
    } else {
        dispatch_refuse_memory(st->s->cfg);
        dispatch_answer(st->s, req, REPLY_UNAVAILABLE);
    }
}

static void server_settle(struct server_state *st, int fd, struct intake *in,
                          enum intake_state state)
{
    server_settle_conn(st, fd, in, state, NULL);
}

static void server_unlink(struct server_state *st, struct server_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        st->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        st->tail = c->prev;
    st->waiting--;
}

/* Gives up on a connection whose request did not come in time. */
static void server_drop_waiting(struct server_state *st, struct server_conn *c, const char *why)
{
    log_info("msg=\"FastCGI connection closed: %s\" received=%zu", why, c->in.fed);
    server_unlink(st, c);
    if (c->kept)
        keep_close(&st->keep, c->kept);
    else
        close(c->fd); /* leaves the epoll set with it */
    intake_free(&c->in);
    free(c);
}

/* Waits for the rest of fd's request (edge-triggered: woken only by new
 * bytes or a hang-up), keeping what came of it (in, moved here); kc:
 * the kept connection it came on (in epoll already), or NULL. Past the
 * cap, or when it cannot wait, the new one is closed: the waiting
 * ones are nearer their end, and freeing one here could free a
 * connection whose event is still in this turn's batch. */
static void server_hold_conn(struct server_state *st, int fd, struct intake *in,
                             struct keep_conn *kc)
{
    struct server_conn *c = NULL;
    struct epoll_event ev = {EPOLLIN | EPOLLRDHUP | EPOLLET, {.ptr = NULL}};
    int op = kc && kc->armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    if (st->waiting < SERVER_INTAKE_MAX)
        c = malloc(sizeof(*c));
    ev.data.ptr = c;
    if (!c || epoll_ctl(st->ep, op, fd, &ev) != 0) {
        log_info("msg=\"FastCGI connection closed: %s\"",
                 c ? "cannot watch it" : "too many requests still arriving");
        free(c);
        intake_free(in);
        if (kc)
            keep_close(&st->keep, kc);
        else
            close(fd);
        return;
    }
    c->fd = fd;
    c->in = *in;
    c->kept = kc;
    c->deadline_ms = clock_ms() + SERVER_INTAKE_TIMEOUT_MS;
    c->next = NULL;
    c->prev = st->tail;
    if (st->tail)
        st->tail->next = c;
    else
        st->head = c;
    st->tail = c;
    st->waiting++;
}

static void server_hold(struct server_state *st, int fd, struct intake *in)
{
    server_hold_conn(st, fd, in, NULL);
}

/* A waiting connection whose request is settled: out of the wait (a
 * kept one goes on as server_settle_conn() says). */
static void server_settle_waiting(struct server_state *st, struct server_conn *c,
                                  enum intake_state state)
{
    int fd = c->fd;

    server_unlink(st, c);
    epoll_ctl(st->ep, EPOLL_CTL_DEL, fd, NULL);
    if (c->kept)
        c->kept->armed = 0;
    server_settle_conn(st, fd, &c->in, state, c->kept);
    free(c);
}

static void server_on_conn(struct server_state *st, struct server_conn *c)
{
    enum intake_state state = server_read(st, c->fd, &c->in);

    if (state != INTAKE_MORE)
        server_settle_waiting(st, c, state);
}

/* A kept connection between requests has bytes, or hung up (no client
 * leaving: nothing is logged then). Its next request is read as a new
 * connection's would be; bytes that begin none (a management record, a
 * refused request's records) leave it waiting as it was. */
static void server_on_kept(struct server_state *st, uint64_t tag)
{
    struct keep_conn *kc = keep_wake(&st->keep, tag);
    struct intake in;
    enum intake_state state;

    intake_init(&in);
    state = server_read(st, kc->fd, &in);
    if (state == INTAKE_MORE && in.phase == INTAKE_BEGIN && in.head_len == 0) {
        intake_free(&in);
        keep_rest(&st->keep, kc, kc->deadline_ms);
    } else if (state == INTAKE_MORE)
        server_hold_conn(st, kc->fd, &in, kc);
    else
        server_settle_conn(st, kc->fd, &in, state, kc);
}

/* Past the deadline: a refused body whose rest is still coming is
 * answered all the same (the web server may then miss the answer, but
 * it is not left without one); anything else is closed. */
static void server_expire(struct server_state *st, uint64_t now)
{
    struct server_conn *c;
    enum intake_state state;

    while ((c = st->head) != NULL && c->deadline_ms <= now) {
        state = intake_cut_short(&c->in);
        if (state != INTAKE_MORE)
            server_settle_waiting(st, c, state);
        else
            server_drop_waiting(st, c, "request not received in time");
    }
}

/* A connection just accepted: its request is usually all there
 * already (the web server writes it at once), and then served on the
 * spot after one recv(); else it waits in epoll. */
static void server_take(struct server_state *st, int fd)
{
    struct intake in;
    enum intake_state state;

    intake_init(&in);
    state = server_read(st, fd, &in);
    if (state == INTAKE_MORE)
        server_hold(st, fd, &in);
    else
        server_settle(st, fd, &in, state);
}

/* Out of descriptors: the listening socket leaves epoll for a moment
 * (backoff.h); server_resume() puts it back. */
static void server_resume(struct server_state *st)
{
    struct epoll_event lev = {EPOLLIN | EPOLLEXCLUSIVE, {.u64 = SERVER_TAG_LISTEN}};

    if (!backoff_over(&st->backoff, clock_ms()))
        return;
    if (!st->stopping && epoll_ctl(st->ep, EPOLL_CTL_ADD, st->s->listen_fd, &lev) != 0)
        log_error("msg=\"cannot watch the FastCGI socket\" error=\"%s\"", strerror(errno));
}

static int server_accept_failed(struct server_state *st)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        st->errors = 0;
        return 0;
    }
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
        return 0;
    if (backoff_start(&st->backoff, errno, clock_ms())) {
        epoll_ctl(st->ep, EPOLL_CTL_DEL, st->s->listen_fd, NULL);
        return -1;
    }
    if (++st->errors >= SERVER_ACCEPT_ERRORS_MAX) {
        log_error("msg=\"accept keeps failing, giving up\" error=\"%s\"", strerror(errno));
        return -2;
    }
    return 0;
}

/* Accepts what is queued, a batch at a time. A request already there
 * (the usual case: the web server writes it at once) is served on the
 * spot; others wait in epoll. 0, or -1 when accepting failed for good. */
static int server_accept(struct server_state *st)
{
    int i, fd;

    for (i = 0; i < SERVER_ACCEPT_BATCH && !st->stopping; i++) {
        fd = accept4(st->s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return server_accept_failed(st) == -2 ? -1 : 0;
        st->errors = 0;
        server_take(st, fd);
    }
    return 0;
}

static const char *server_signal_name(unsigned sig)
{
    switch (sig) {
    case SIGTERM: return "TERM";
    case SIGINT: return "INT";
    case SIGQUIT: return "QUIT";
    case SIGHUP: return "HUP";
    case SIGUSR1: return "USR1";
    case SIGUSR2: return "USR2";
    default: return "other";
    }
}

/* Stops accepting at once: the listening socket is closed, so what is
 * still queued on it goes to another process sharing it, or is refused
 * without waiting when there is none. */
static void server_stop_listening(struct server_state *st)
{
    if (st->stopping)
        return;
    st->stopping = 1;
    epoll_ctl(st->ep, EPOLL_CTL_DEL, st->s->listen_fd, NULL);
    close(st->s->listen_fd);
    st->s->listen_fd = -1;
}

/* TERM, INT, QUIT stop the service; HUP, USR1, USR2 are logged and
 * change nothing (there is no file to reopen: logs go to stderr). */
static void server_on_signals(struct server_state *st)
{
    struct signalfd_siginfo si;

    while (read(st->s->signal_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT || si.ssi_signo == SIGQUIT) {
            log_info("msg=\"signal: stop accepting, finish what was accepted\" signal=%s",
                     server_signal_name(si.ssi_signo));
            server_stop_listening(st);
        } else
            log_info("msg=\"signal ignored\" signal=%s", server_signal_name(si.ssi_signo));
    }
}

static int server_setup(struct server_state *st)
{
    struct epoll_event lev = {EPOLLIN | EPOLLEXCLUSIVE, {.u64 = SERVER_TAG_LISTEN}};
    struct epoll_event sev = {EPOLLIN, {.u64 = SERVER_TAG_SIGNAL}};
    int flags = fcntl(st->s->listen_fd, F_GETFL);

    st->ep = epoll_create1(EPOLL_CLOEXEC);
    if (st->ep < 0 || flags < 0 || fcntl(st->s->listen_fd, F_SETFL, flags | O_NONBLOCK) != 0 ||
        epoll_ctl(st->ep, EPOLL_CTL_ADD, st->s->listen_fd, &lev) != 0 ||
        epoll_ctl(st->ep, EPOLL_CTL_ADD, st->s->signal_fd, &sev) != 0 ||
        keep_init(&st->keep, st->ep) != 0) {
        log_error("msg=\"cannot watch the FastCGI socket\" error=\"%s\"", strerror(errno));
        return -1;
    }
    return 0;
}

/* How long epoll may sleep: until the oldest waiting connection's
 * deadline, the oldest idle kept one's or the end of an accept pause,
 * or for good. */
static int server_wait_ms(const struct server_state *st)
{
    uint64_t now = clock_ms(), at = keep_next_deadline(&st->keep);

    if (st->head && (!at || st->head->deadline_ms < at))
        at = st->head->deadline_ms;
    if (st->backoff.until_ms && (!at || st->backoff.until_ms < at))
        at = st->backoff.until_ms;
    if (!at)
        return -1;
    return at > now ? (int)(at - now) : 0;
}

static int server_turn(struct server_state *st)
{
    struct epoll_event ev[SERVER_EVENTS];
    int n, i, woken = 0, result = 0;

    n = epoll_wait(st->ep, ev, SERVER_EVENTS, server_wait_ms(st));
    for (i = 0; i < n; i++) {
        if (ev[i].data.u64 == SERVER_TAG_SIGNAL)
            server_on_signals(st);
        else if (ev[i].data.u64 == SERVER_TAG_LISTEN) {
            if (!st->stopping && server_accept(st) < 0)
                result = -1;
        } else if (ev[i].data.u64 == KEEP_TAG_WAKE)
            woken = 1;
        else if (keep_owns(ev[i].data.u64))
            server_on_kept(st, ev[i].data.u64);
        else
            server_on_conn(st, ev[i].data.ptr);
    }
    /* after the events: a connection given back this turn cannot have
       one still in the batch */
    if (st->stopping)
        keep_stop(&st->keep); /* idle ones now, the others after their answer */
    keep_settle(&st->keep, woken, clock_ms());
    server_expire(st, clock_ms());
    server_resume(st);
    keep_expire(&st->keep, clock_ms());
    return result;
}

int server_run(struct server *s)
{
    struct server_state *st = calloc(1, sizeof(*st));
    int result = 0;

    if (!st)
        return -1;
    st->s = s;
    if (server_setup(st) == 0) {
        /* stopping: until the requests being read are in and the kept
           connections lent to requests are back (to be closed) */
        while (!st->stopping || st->head || st->keep.out) {
            if (server_turn(st) < 0) {
                result = -1;
                break;
            }
        }
    } else
        result = -1;
    while (st->head)
        server_drop_waiting(st, st->head, "stopping");
    server_stop_listening(st);
    if (st->keep.wake_fd > 0)
        keep_free(&st->keep);
    if (st->ep >= 0)
        close(st->ep);
    free(st);
    arena_release(); /* the cJSON arena of this thread (codes_parse) */
    return result;
}
