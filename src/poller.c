#include "poller.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"

#define POLLER_EVENTS 256
#define POLLER_FD_RESERVE 64 /* descriptors upstream sockets leave free */
#define POLLER_FDS_MAX (1 << 20) /* descriptors tracked: far above any fd limit */

/* A curl socket as epoll has it. curl drops a socket from its set after
 * every transfer (CURL_POLL_REMOVE) and asks for it again with the next
 * one on the same kept-alive connection: deleting and adding it each
 * time was 8 epoll_ctl calls per answer (perf: 8 % of the CPU). So a
 * connection socket curl removes stays in epoll with its last events;
 * the next transfer usually wants the same ones and costs no call at all.
 * An event on a socket curl does not want is taken out then (once: an
 * idle connection the server closed).
 * Only sockets curl opened through poller_open_socket() are kept so: we
 * hear of their close (poller_close_socket(), and a closed descriptor
 * leaves epoll by itself). Others (the threaded resolver's socketpair,
 * which curl closes on its own) leave epoll when curl removes them, so
 * that no stale entry can stand for a reused descriptor number. */
struct poller_sock {
    uint32_t events;    /* registered in epoll */
    unsigned char in_epoll, wanted;
    unsigned char ours;  /* opened by poller_open_socket() */
    unsigned char slot;  /* the multi that owns it */
};

/* One multi handle and its timer. */
struct poller_multi {
    struct poller *p;
    CURLM *multi;
    long timer_ms;      /* curl's wish: -1 none, else ms from timer_set */
    uint64_t timer_set; /* when curl set it */
};

struct poller {
    int ep;             /* curl's sockets, watched peers, the wake-up */
    int wake_fd;        /* eventfd */
    struct poller_multi m[POLLER_MULTI_MAX];
    struct poller_sock *socks; /* by descriptor */
    size_t nsocks;
    struct gate gate;   /* connections in their set-up */
    int open;           /* our sockets open now */
    int open_max;       /* the most that may be: 0, no bound */
    int fd_ceiling;     /* upstream sockets stay below this descriptor */
    unsigned long ready; /* requests about to go out on a ready connection */
    CURL *unwatched[POLLER_UNWATCHED_MAX]; /* see poller_on_socket() */
    int nunwatched, taken;
    int inject;                /* test hook: registrations still to fail */
};

/* What an epoll event is about, in its data: a curl socket is its
 * descriptor (below 2^31); a watched peer is its tag pointer with the top
 * bit set (user-space pointers never have it); the wake-up is a mark of
 * its own. One flat epoll set: a nested one costs a loop check on every
 * watch. */
#define POLLER_TAG_WAKE ((uint64_t)1 << 62)
#define POLLER_TAG_PEER ((uint64_t)1 << 63)

/* The slot of descriptor s, growing the table; NULL when out of memory. */
static struct poller_sock *poller_sock_of(struct poller *p, curl_socket_t s)
{
    size_t n = p->nsocks ? p->nsocks : 64;
    struct poller_sock *grown;

    if (s < 0 || (size_t)s >= POLLER_FDS_MAX)
        return NULL;
    if ((size_t)s < p->nsocks)
        return &p->socks[s];
    while (n <= (size_t)s)
        n *= 2;
    grown = realloc(p->socks, n * sizeof(*grown));
    if (!grown)
        return NULL;
    memset(grown + p->nsocks, 0, (n - p->nsocks) * sizeof(*grown));
    p->socks = grown;
    p->nsocks = n;
    return &p->socks[s];
}

/* Registers s for events: MOD when epoll has it, ADD when not (and the
 * other one should the table be wrong). */
static int poller_set(struct poller *p, struct poller_sock *k, curl_socket_t s, uint32_t events)
{
    struct epoll_event ev = {events, {.u64 = (uint64_t)s}};
    int r;

    if (k->in_epoll && k->events == events)
        return 0;
    if (p->inject > 0) {
        p->inject--;
        errno = ENOMEM;
        return -1;
    }
    r = epoll_ctl(p->ep, k->in_epoll ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, s, &ev);
    if (r && (errno == ENOENT || errno == EEXIST))
        r = epoll_ctl(p->ep, errno == ENOENT ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, s, &ev);
    if (r)
        return -1;
    k->in_epoll = 1;
    k->events = events;
    return 0;
}

/* Takes s out of epoll. */
static void poller_forget(struct poller *p, struct poller_sock *k, curl_socket_t s)
{
    if (k->in_epoll)
        epoll_ctl(p->ep, EPOLL_CTL_DEL, s, NULL);
    k->in_epoll = 0;
}

/* A socket epoll refused (epoll_ctl or the table's realloc failing).
 * Returning -1 would tell libcurl 7.88 to mark the whole multi handle
 * dead: every transfer on it, and every one added until they all drain,
 * would fail. So curl hears 0, and the one transfer that wanted the
 * socket is listed for the caller to fail (poller_next_unwatched()).
 * Only when that list is full does curl hear -1. */
static int poller_refused(struct poller *p, CURL *e)
{
    if (p->nunwatched == POLLER_UNWATCHED_MAX)
        return -1;
    p->unwatched[p->nunwatched++] = e;
    return 0;
}

static int poller_on_socket(CURL *e, curl_socket_t s, int what, void *arg, void *known)
{
    struct poller_multi *m = arg;
    struct poller_sock *k = poller_sock_of(m->p, s);

    (void)known;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            k->wanted = 0;
            if (!k->ours)
                poller_forget(m->p, k, s); /* see struct poller_sock */
        }
        return 0;
    }
    if (!k)
        return poller_refused(m->p, e);
    k->wanted = 1;
    k->slot = (unsigned char)(m - m->p->m);
    if (poller_set(m->p, k, s, (what & CURL_POLL_IN ? EPOLLIN : 0) |
                                   (what & CURL_POLL_OUT ? EPOLLOUT : 0)))
        return poller_refused(m->p, e);
    return 0;
}

CURL *poller_next_unwatched(struct poller *p)
{
    if (p->taken < p->nunwatched)
        return p->unwatched[p->taken++];
    p->nunwatched = p->taken = 0;
    return NULL;
}

void poller_inject_failures(struct poller *p, int n)
{
    p->inject = n;
}

/* How many more sockets may be opened now: room in the gate, and under
 * open_max. */
static int poller_room(struct poller *p, uint64_t now)
{
    int room = gate_room(&p->gate, now);

    if (p->open_max > 0 && p->open_max - p->open < room)
        room = p->open_max - p->open;
    return room;
}

curl_socket_t poller_open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    struct poller *p = arg;
    struct poller_sock *k;
    uint64_t now = clock_ms();
    curl_socket_t s;

    (void)purpose;
    if (poller_room(p, now) <= 0) {
        errno = EAGAIN;
        return CURL_SOCKET_BAD;
    }
    s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (s < 0)
        return CURL_SOCKET_BAD;
    k = s < p->fd_ceiling ? poller_sock_of(p, s) : NULL;
    if (!k || gate_enter(&p->gate, s, now)) {
        close(s);
        /* past the ceiling, the acceptor's descriptors (poller_fd_ceiling) */
        errno = s >= p->fd_ceiling ? EMFILE : ENOMEM;
        return CURL_SOCKET_BAD;
    }
    k->in_epoll = k->wanted = 0; /* a new descriptor: epoll has it not */
    if (!k->ours)
        p->open++; /* else it closed without our hearing: counted already */
    k->ours = 1;
    return s;
}

/* The local port of a socket, 0 when it has none (never connected). */
static int poller_local_port(curl_socket_t s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (getsockname(s, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

int poller_close_socket(void *arg, curl_socket_t s)
{
    struct poller *p = arg;

    if (s >= 0 && (size_t)s < p->nsocks && p->socks[s].ours) {
        p->socks[s].in_epoll = p->socks[s].wanted = p->socks[s].ours = 0;
        gate_closed(&p->gate, s);
        p->open--;
    }
    return close(s);
}

int poller_prereq(void *arg, char *remote_ip, char *local_ip, int remote_port, int local_port)
{
    struct poller *p = arg;

    (void)remote_ip;
    (void)local_ip;
    (void)remote_port;
    gate_ready(&p->gate, local_port, poller_local_port);
    p->ready++;
    return CURL_PREREQFUNC_OK;
}

int poller_gate_room(struct poller *p)
{
    return poller_room(p, clock_ms());
}

void poller_open_max(struct poller *p, int max)
{
    p->open_max = max;
}

unsigned long poller_ready_count(const struct poller *p)
{
    return p->ready;
}

int poller_open_count(const struct poller *p)
{
    return p->open;
}

void poller_gate_max(struct poller *p, int max_connecting)
{
    gate_set_max(&p->gate, max_connecting);
}

/* An event on a socket curl no longer wants: take it out of epoll. */
static int poller_unwanted(struct poller *p, curl_socket_t s)
{
    struct poller_sock *k = (size_t)s < p->nsocks ? &p->socks[s] : NULL;

    if (k && k->wanted)
        return 0;
    epoll_ctl(p->ep, EPOLL_CTL_DEL, s, NULL);
    if (k)
        k->in_epoll = 0;
    return 1;
}

static int poller_on_timer(CURLM *multi, long timeout_ms, void *arg)
{
    struct poller_multi *m = arg;

    (void)multi;
    m->timer_ms = timeout_ms;
    m->timer_set = clock_ms();
    return 0;
}

static int poller_add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {events, {.u64 = data}};

    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Upstream sockets keep clear of the last POLLER_FD_RESERVE descriptors
 * (a quarter under a small limit; read at start), so that the acceptor
 * can still take a healthcheck; a call finding none is our saturation
 * (fetch_ours(): 503). */
static int poller_fd_ceiling(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX)
        return INT_MAX;
    return (int)(rl.rlim_cur - (rl.rlim_cur / 4 < POLLER_FD_RESERVE ? rl.rlim_cur / 4 : POLLER_FD_RESERVE));
}

struct poller *poller_new(int max_connecting, long setup_ms)
{
    struct poller *p = calloc(1, sizeof(*p));
    int i;

    if (!p)
        return NULL;
    if (gate_init(&p->gate, max_connecting, setup_ms)) {
        free(p);
        return NULL;
    }
    for (i = 0; i < POLLER_MULTI_MAX; i++) {
        p->m[i].p = p;
        p->m[i].timer_ms = -1;
    }
    p->fd_ceiling = poller_fd_ceiling();
    p->ep = epoll_create1(EPOLL_CLOEXEC);
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->ep < 0 || p->wake_fd < 0 || poller_add(p->ep, p->wake_fd, EPOLLIN, POLLER_TAG_WAKE)) {
        poller_free(p);
        return NULL;
    }
    return p;
}

int poller_attach(struct poller *p, int slot, CURLM *multi)
{
    struct poller_multi *m = &p->m[slot];

    m->multi = multi;
    m->timer_ms = -1;
    return curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, poller_on_socket) ||
                   curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, m) ||
                   curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, poller_on_timer) ||
                   curl_multi_setopt(multi, CURLMOPT_TIMERDATA, m)
               ? -1
               : 0;
}

void poller_free(struct poller *p)
{
    if (!p)
        return;
    if (p->ep >= 0)
        close(p->ep);
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    free(p->socks);
    gate_free(&p->gate);
    free(p);
}

void poller_wake(struct poller *p)
{
    uint64_t one = 1;

    if (write(p->wake_fd, &one, sizeof(one)) < 0)
        return; /* the counter is full: a wake-up is pending anyway */
}

/* No event asked for: epoll always reports EPOLLHUP and EPOLLERR, and
 * only those are a hang-up. EPOLLRDHUP is not: a web server may shut
 * down its write side once the request is sent and still read the
 * answer. On a unix socket the peer's close() is EPOLLHUP; over TCP its
 * FIN cannot be told from such a half-close, so there only a reset
 * shows (or the answer's write fails). */
int poller_watch(struct poller *p, int fd, void *tag)
{
    return poller_add(p->ep, fd, 0, (uint64_t)(uintptr_t)tag | POLLER_TAG_PEER);
}

void poller_unwatch(struct poller *p, int fd)
{
    epoll_ctl(p->ep, EPOLL_CTL_DEL, fd, NULL);
}

int poller_watch_write(struct poller *p, int fd, void *tag)
{
    struct epoll_event ev = {EPOLLOUT, {.u64 = (uint64_t)(uintptr_t)tag | POLLER_TAG_PEER}};

    if (epoll_ctl(p->ep, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    return errno == ENOENT ? epoll_ctl(p->ep, EPOLL_CTL_ADD, fd, &ev) : -1;
}

/* Milliseconds until m's timer is due (0: due), or max_ms when sooner
 * or when it has none. */
static int poller_timer_left(const struct poller_multi *m, uint64_t now, int max_ms)
{
    long left;

    if (!m->multi || m->timer_ms < 0)
        return max_ms;
    left = m->timer_ms - (long)(now - m->timer_set);
    if (left <= 0)
        return 0;
    return left < max_ms ? (int)left : max_ms;
}

/* How long epoll may sleep: the nearest curl timer, capped by max_ms. */
static int poller_wait_ms(const struct poller *p, int max_ms)
{
    uint64_t now = clock_ms();
    int i;

    for (i = 0; i < POLLER_MULTI_MAX && max_ms > 0; i++)
        max_ms = poller_timer_left(&p->m[i], now, max_ms);
    return max_ms;
}

/* Lets every multi whose timer is due act on it. */
static void poller_timers(struct poller *p)
{
    uint64_t now = clock_ms();
    int i, running;

    for (i = 0; i < POLLER_MULTI_MAX; i++) {
        if (p->m[i].multi && p->m[i].timer_ms >= 0 && poller_timer_left(&p->m[i], now, 1) == 0) {
            p->m[i].timer_ms = -1; /* curl sets it again if it still wants one */
            curl_multi_socket_action(p->m[i].multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
    }
}

static void poller_drain_wake(struct poller *p)
{
    uint64_t count;

    if (read(p->wake_fd, &count, sizeof(count)) < 0)
        return; /* already drained */
}

static int poller_curl_flags(uint32_t events)
{
    return (events & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) |
           (events & EPOLLOUT ? CURL_CSELECT_OUT : 0) | (events & EPOLLERR ? CURL_CSELECT_ERR : 0);
}

/* Peers first, and all of them before curl acts: a hang-up ends a job
 * and its transfers, and curl must not then report on them. fn closes
 * each socket it is done with, which takes it out of epoll, so no stale
 * tag can come back. */
static void poller_peers(const struct epoll_event *ev, int n, poller_peer_fn fn, void *arg)
{
    int i;

    for (i = 0; i < n; i++) {
        if (ev[i].data.u64 != POLLER_TAG_WAKE && (ev[i].data.u64 & POLLER_TAG_PEER))
            fn((void *)(uintptr_t)(ev[i].data.u64 & ~POLLER_TAG_PEER), ev[i].events, arg);
    }
}

/* A curl socket is ready: tell the multi that owns it. */
static void poller_socket_ready(struct poller *p, curl_socket_t s, uint32_t events)
{
    int running;

    if (poller_unwanted(p, s))
        return;
    curl_multi_socket_action(p->m[p->socks[s].slot].multi, s, poller_curl_flags(events), &running);
}

void poller_run(struct poller *p, int max_ms, poller_peer_fn fn, void *arg)
{
    struct epoll_event ev[POLLER_EVENTS];
    int n, i;

    n = epoll_wait(p->ep, ev, POLLER_EVENTS, poller_wait_ms(p, max_ms));
    poller_peers(ev, n, fn, arg);
    for (i = 0; i < n; i++) {
        if (ev[i].data.u64 == POLLER_TAG_WAKE)
            poller_drain_wake(p);
        else if (!(ev[i].data.u64 & POLLER_TAG_PEER))
            poller_socket_ready(p, (curl_socket_t)ev[i].data.u64, ev[i].events);
    }
    poller_timers(p);
}
