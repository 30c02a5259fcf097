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
    int ep;             /* curl's sockets and the wake-up */
    int watch_ep;       /* watched peers, itself watched by ep */
    int wake_fd;        /* eventfd */
    long timer_ms;      /* curl's wish: -1 none, else ms from timer_set */
    uint64_t timer_set; /* when curl set it */
};

/* Marks in epoll data that are not curl sockets. */
#define POLLER_TAG_WAKE ((uint64_t)1 << 62)
#define POLLER_TAG_WATCH ((uint64_t)1 << 61)

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
    p->watch_ep = epoll_create1(EPOLL_CLOEXEC);
    p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (p->ep < 0 || p->watch_ep < 0 || p->wake_fd < 0 ||
        poller_add(p->ep, p->wake_fd, EPOLLIN, POLLER_TAG_WAKE) ||
        poller_add(p->ep, p->watch_ep, EPOLLIN, POLLER_TAG_WATCH) ||
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
    if (p->watch_ep >= 0)
        close(p->watch_ep);
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
    return poller_add(p->watch_ep, fd, EPOLLRDHUP, (uint64_t)(uintptr_t)tag);
}

void poller_unwatch(struct poller *p, int fd)
{
    epoll_ctl(p->watch_ep, EPOLL_CTL_DEL, fd, NULL);
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

static void poller_hangups(struct poller *p, poller_hangup_fn fn, void *arg)
{
    struct epoll_event ev[POLLER_EVENTS];
    int n, i;

    n = epoll_wait(p->watch_ep, ev, POLLER_EVENTS, 0);
    for (i = 0; i < n; i++)
        fn((void *)(uintptr_t)ev[i].data.u64, arg);
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

void poller_run(struct poller *p, int max_ms, poller_hangup_fn fn, void *arg)
{
    struct epoll_event ev[POLLER_EVENTS];
    int n, i, running;

    n = epoll_wait(p->ep, ev, POLLER_EVENTS, poller_wait_ms(p, max_ms));
    for (i = 0; i < n; i++) {
        if (ev[i].data.u64 == POLLER_TAG_WAKE)
            poller_drain_wake(p);
        else if (ev[i].data.u64 == POLLER_TAG_WATCH)
            poller_hangups(p, fn, arg);
        else
            curl_multi_socket_action(p->multi, (curl_socket_t)ev[i].data.u64,
                                     poller_curl_flags(ev[i].events), &running);
    }
    if (p->timer_ms >= 0 && poller_wait_ms(p, 1) == 0) {
        p->timer_ms = -1; /* curl sets it again if it still wants one */
        curl_multi_socket_action(p->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
}
