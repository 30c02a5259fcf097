#include "poller.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"

#define POLLER_EVENTS 256

struct poller {
    CURLM *multi;
    int ep;             /* curl's sockets, watched peers, the wake-up */
    int wake_fd;        /* eventfd */
    long timer_ms;      /* curl's wish: -1 none, else ms from timer_set */
    uint64_t timer_set; /* when curl set it */
};

/* What an epoll event is about, in its data: a curl socket is its
 * descriptor (below 2^31); a watched peer is its tag pointer with the top
 * bit set (user-space pointers never have it); the wake-up is a mark of
 * its own. One flat epoll set: a nested one costs a loop check on every
 * watch. */
#define POLLER_TAG_WAKE ((uint64_t)1 << 62)
#define POLLER_TAG_PEER ((uint64_t)1 << 63)

static int poller_on_socket(CURL *e, curl_socket_t s, int what, void *arg, void *known)
{
    struct poller *p = arg;
    struct epoll_event ev = {0, {.u64 = (uint64_t)s}};

    (void)e;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(p->ep, EPOLL_CTL_DEL, s, NULL);
        curl_multi_assign(p->multi, s, NULL);
        return 0;
    }
    ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    if (known)
        return epoll_ctl(p->ep, EPOLL_CTL_MOD, s, &ev) ? -1 : 0;
    if (epoll_ctl(p->ep, EPOLL_CTL_ADD, s, &ev))
        return -1;
    curl_multi_assign(p->multi, s, p); /* any non-NULL mark: "added" */
    return 0;
}

static int poller_on_timer(CURLM *m, long timeout_ms, void *arg)
{
    struct poller *p = arg;

    (void)m;
    p->timer_ms = timeout_ms;
    p->timer_set = clock_ms();
    return 0;
}

static int poller_add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {events, {.u64 = data}};

    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

struct poller *poller_new(CURLM *multi)
{
    struct poller *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->multi = multi;
    p->timer_ms = -1;
    p->ep = epoll_create1(EPOLL_CLOEXEC);
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->ep < 0 || p->wake_fd < 0 ||
        poller_add(p->ep, p->wake_fd, EPOLLIN, POLLER_TAG_WAKE) ||
        curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, poller_on_socket) ||
        curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, p) ||
        curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, poller_on_timer) ||
        curl_multi_setopt(multi, CURLMOPT_TIMERDATA, p))
        goto err;
    return p;
err:
    poller_free(p);
    return NULL;
}

void poller_free(struct poller *p)
{
    if (!p)
        return;
    if (p->ep >= 0)
        close(p->ep);
    if (p->wake_fd >= 0)
        close(p->wake_fd);
    free(p);
}

void poller_wake(struct poller *p)
{
    uint64_t one = 1;

    if (write(p->wake_fd, &one, sizeof(one)) < 0)
        return; /* the counter is full: a wake-up is pending anyway */
}

int poller_watch(struct poller *p, int fd, void *tag)
{
    return poller_add(p->ep, fd, EPOLLRDHUP, (uint64_t)(uintptr_t)tag | POLLER_TAG_PEER);
}

void poller_unwatch(struct poller *p, int fd)
{
    epoll_ctl(p->ep, EPOLL_CTL_DEL, fd, NULL);
}

/* How long epoll may sleep: curl's timer, capped by max_ms. */
static int poller_wait_ms(const struct poller *p, int max_ms)
{
    long left;

    if (p->timer_ms < 0)
        return max_ms;
    left = p->timer_ms - (long)(clock_ms() - p->timer_set);
    if (left <= 0)
        return 0;
    return left < max_ms ? (int)left : max_ms;
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
 * and its transfers, and curl must not then report on them. Each peer
 * reported is unwatched by fn (through poller_unwatch), so no stale tag
 * can come back. */
static void poller_hangups(const struct epoll_event *ev, int n, poller_hangup_fn fn, void *arg)
{
    int i;

    for (i = 0; i < n; i++) {
        if (ev[i].data.u64 != POLLER_TAG_WAKE && (ev[i].data.u64 & POLLER_TAG_PEER))
            fn((void *)(uintptr_t)(ev[i].data.u64 & ~POLLER_TAG_PEER), arg);
    }
}

void poller_run(struct poller *p, int max_ms, poller_hangup_fn fn, void *arg)
{
    struct epoll_event ev[POLLER_EVENTS];
    int n, i, running;

    n = epoll_wait(p->ep, ev, POLLER_EVENTS, poller_wait_ms(p, max_ms));
    poller_hangups(ev, n, fn, arg);
    for (i = 0; i < n; i++) {
        if (ev[i].data.u64 == POLLER_TAG_WAKE)
            poller_drain_wake(p);
        else if (ev[i].data.u64 & POLLER_TAG_PEER)
            continue; /* reported above */
        else
            curl_multi_socket_action(p->multi, (curl_socket_t)ev[i].data.u64,
                                     poller_curl_flags(ev[i].events), &running);
    }
    if (p->timer_ms >= 0 && poller_wait_ms(p, 1) == 0) {
        p->timer_ms = -1; /* curl sets it again if it still wants one */
        curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}
