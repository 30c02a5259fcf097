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
#include "clock.h"
#include "dispatch.h"
#include "intake.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "route.h"

#define SERVER_ACCEPT_ERRORS_MAX 100 /* in a row before giving up */
/* Out of descriptors (or kernel memory), accepting stops this long and
 * the connections wait in the socket's backlog; nginx stops for 500 ms.
 * Closing them through a spare descriptor (libev's way) would leave
 * their requests unanswered: the web server would answer 502. Short, so
 * that a healthcheck waiting there is taken within 10 ms of a descriptor
 * coming free (with 100 ms, a soak at the limit saw healthchecks wait up
 * to 0.47 s); the pauses cost at most 100 wake-ups a second. */
#define SERVER_ACCEPT_PAUSE_MS 10
#define SERVER_ACCEPT_LOG_MS 1000    /* one log line a second at most */
#define SERVER_ACCEPT_BATCH 64       /* accepts before looking at the rest */
#define SERVER_EVENTS 64

#define SERVER_READ_BUF (32 * 1024) /* one recv() */

/* An accepted connection whose request has not fully arrived. */
struct server_conn {
    int fd;
    uint64_t deadline_ms;
    struct intake in;                 /* what came of it so far */
    struct server_conn *prev, *next;
};

/* What server_run() keeps. The waiting connections are in arrival
 * order, which is deadline order (all wait as long). */
struct server_state {
    struct server *s;
    int ep;
    int stopping;
    int errors;                       /* accept failures in a row */
    uint64_t paused_until_ms;         /* accepting paused till then; 0: not */
    uint64_t pause_logged_ms;         /* the last pause's log line */
    unsigned long pauses;             /* since that line */
    struct server_conn *head, *tail;
    size_t waiting;
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

/* A request all there, or refused once its params were in: answered
 * or handed on. Anything else closes the connection unanswered, as
 * libfcgi did (the web server answers its client 502). */
static void server_settle(struct server_state *st, int fd, struct intake *in,
                          enum intake_state state)
{
    struct request *req = NULL;
    size_t fed = in->fed;

    if (state == INTAKE_READY || state == INTAKE_TOO_LARGE || state == INTAKE_NO_MEMORY)
        req = request_take(fd, in);
    else if (state == INTAKE_ABORTED)
        log_info("msg=\"FastCGI connection closed: request aborted by the web server\"");
    else if (in->why)
        log_info("msg=\"FastCGI connection closed: %s\" received=%zu", in->why, in->fed);
    intake_free(in);
    if (!req) {
        close(fd);
        return;
    }
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
    close(c->fd); /* leaves the epoll set with it */
    intake_free(&c->in);
    free(c);
}

/* Waits for the rest of fd's request (edge-triggered: woken only by new
 * bytes or a hang-up), keeping what came of it (in, moved here). Past
 * the cap, or when it cannot wait, the new one is closed: the waiting
 * ones are nearer their end, and freeing one here could free a
 * connection whose event is still in this turn's batch. */
static void server_hold(struct server_state *st, int fd, struct intake *in)
{
    struct server_conn *c = NULL;
    struct epoll_event ev = {EPOLLIN | EPOLLRDHUP | EPOLLET, {.ptr = NULL}};

    if (st->waiting < SERVER_INTAKE_MAX)
        c = malloc(sizeof(*c));
    ev.data.ptr = c;
    if (!c || epoll_ctl(st->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
        log_info("msg=\"FastCGI connection closed: %s\"",
                 c ? "cannot watch it" : "too many requests still arriving");
        free(c);
        intake_free(in);
        close(fd);
        return;
    }
    c->fd = fd;
    c->in = *in;
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

/* A waiting connection whose request is settled: out of the wait. */
static void server_settle_waiting(struct server_state *st, struct server_conn *c,
                                  enum intake_state state)
{
    server_unlink(st, c);
    epoll_ctl(st->ep, EPOLL_CTL_DEL, c->fd, NULL);
    server_settle(st, c->fd, &c->in, state);
    free(c);
}

static void server_on_conn(struct server_state *st, struct server_conn *c)
{
    enum intake_state state = server_read(st, c->fd, &c->in);

    if (state != INTAKE_MORE)
        server_settle_waiting(st, c, state);
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

/* Out of descriptors: the listening socket leaves epoll for
 * SERVER_ACCEPT_PAUSE_MS (server_resume() puts it back), so the acceptor
 * goes on with the connections it has, and those closing give the
 * descriptors back. A moment, not a death: never given up on. */
static void server_pause(struct server_state *st, int err)
{
    uint64_t now = clock_ms();

    epoll_ctl(st->ep, EPOLL_CTL_DEL, st->s->listen_fd, NULL);
    st->paused_until_ms = now + SERVER_ACCEPT_PAUSE_MS;
    st->pauses++;
    metrics_accept_paused();
    if (now - st->pause_logged_ms < SERVER_ACCEPT_LOG_MS)
        return;
    log_warn("msg=\"accept paused: out of descriptors\" error=\"%s\" pauses=%lu pause_ms=%d",
             strerror(err), st->pauses, SERVER_ACCEPT_PAUSE_MS);
    st->pause_logged_ms = now;
    st->pauses = 0;
}

/* The pause is over: accepting again (level-triggered: what waits in
 * the backlog wakes the next turn). */
static void server_resume(struct server_state *st)
{
    struct epoll_event lev = {EPOLLIN | EPOLLEXCLUSIVE, {.u64 = SERVER_TAG_LISTEN}};

    if (!st->paused_until_ms || clock_ms() < st->paused_until_ms)
        return;
    st->paused_until_ms = 0;
    if (!st->stopping && epoll_ctl(st->ep, EPOLL_CTL_ADD, st->s->listen_fd, &lev) != 0)
        log_error("msg=\"cannot watch the FastCGI socket\" error=\"%s\"", strerror(errno));
}

/* A failed accept: 0 to go on, -1 to pause (out of descriptors), -2
 * when it keeps failing otherwise (the socket itself is broken). */
static int server_accept_failed(struct server_state *st)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        st->errors = 0;
        return 0;
    }
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO)
        return 0;
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        server_pause(st, errno);
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
        epoll_ctl(st->ep, EPOLL_CTL_ADD, st->s->signal_fd, &sev) != 0) {
        log_error("msg=\"cannot watch the FastCGI socket\" error=\"%s\"", strerror(errno));
        return -1;
    }
    return 0;
}

/* How long epoll may sleep: until the oldest waiting connection's
 * deadline or the end of an accept pause, or for good. */
static int server_wait_ms(const struct server_state *st)
{
    uint64_t now = clock_ms(), until = st->head ? st->head->deadline_ms : 0;

    if (st->paused_until_ms && (!until || st->paused_until_ms < until))
        until = st->paused_until_ms;
    if (!until)
        return -1;
    return until > now ? (int)(until - now) : 0;
}

static int server_turn(struct server_state *st)
{
    struct epoll_event ev[SERVER_EVENTS];
    int n, i, result = 0;

    n = epoll_wait(st->ep, ev, SERVER_EVENTS, server_wait_ms(st));
    for (i = 0; i < n; i++) {
        if (ev[i].data.u64 == SERVER_TAG_SIGNAL)
            server_on_signals(st);
        else if (ev[i].data.u64 == SERVER_TAG_LISTEN) {
            if (!st->stopping && server_accept(st) < 0)
                result = -1;
        } else
            server_on_conn(st, ev[i].data.ptr);
    }
    server_expire(st, clock_ms());
    server_resume(st);
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
        while (!st->stopping || st->head) {
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
    if (st->ep >= 0)
        close(st->ep);
    free(st);
    arena_release(); /* the cJSON arena of this thread (codes_parse) */
    return result;
}
