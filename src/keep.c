/* keep: kept FastCGI connections between their requests (keep.h).
 * Acceptor thread, but for keep_back(). */
#include "keep.h"

#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

int keep_init(struct keep *k, int ep)
{
    struct epoll_event ev = {EPOLLIN, {.u64 = KEEP_TAG_WAKE}};

    k->ep = ep;
    k->back = k->head = k->tail = NULL;
    k->idle = k->out = 0;
    k->stopping = 0;
    k->acceptor = pthread_self();
    k->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (k->wake_fd < 0)
        return -1;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, k->wake_fd, &ev) != 0) {
        close(k->wake_fd);
        k->wake_fd = -1;
        return -1;
    }
    pthread_mutex_init(&k->lock, NULL);
    return 0;
}

static void keep_unlink(struct keep *k, struct keep_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        k->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        k->tail = c->prev;
    c->prev = c->next = NULL;
    k->idle--;
}

void keep_close(struct keep *k, struct keep_conn *c)
{
    (void)k;
    if (c->fd >= 0)
        close(c->fd); /* leaves the epoll set with it */
    free(c);
}

void keep_stop(struct keep *k)
{
    k->stopping = 1;
    keep_expire(k, UINT64_MAX);
}

void keep_free(struct keep *k)
{
    keep_stop(k);
    close(k->wake_fd);
    pthread_mutex_destroy(&k->lock);
}

struct keep_conn *keep_lend(struct keep *k, struct keep_conn *c, int fd, int keep)
{
    if (!keep || k->stopping || k->idle >= KEEP_IDLE_MAX) {
        free(c);
        return NULL;
    }
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c)
            return NULL;
        c->owner = k;
    }
    c->fd = fd;
    k->out++;
    return c;
}

void keep_back(struct keep_conn *c)
{
    struct keep *k = c->owner;
    int was_empty;
    uint64_t one = 1;

    pthread_mutex_lock(&k->lock);
    was_empty = k->back == NULL;
    c->next = k->back;
    k->back = c;
    pthread_mutex_unlock(&k->lock);
    /* the acceptor settles what came back at the end of every turn: it
       needs a wake-up only when it may be asleep */
    if (was_empty && !pthread_equal(pthread_self(), k->acceptor) &&
        write(k->wake_fd, &one, sizeof(one)) < 0) {
        /* the counter is full: a wake-up is pending anyway */
    }
}

/* Waits for the next request: in epoll for one event (no other while a
 * request holds it), on the idle list. */
void keep_rest(struct keep *k, struct keep_conn *c, uint64_t now)
{
    struct epoll_event ev = {EPOLLIN | EPOLLRDHUP | EPOLLONESHOT,
                             {.u64 = (uint64_t)(uintptr_t)c | KEEP_TAG_BIT}};

    if (k->stopping || k->idle >= KEEP_IDLE_MAX ||
        epoll_ctl(k->ep, c->armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        keep_close(k, c);
        return;
    }
    c->armed = 1;
    c->deadline_ms = now + KEEP_IDLE_MS;
    c->next = NULL;
    c->prev = k->tail;
    if (k->tail)
        k->tail->next = c;
    else
        k->head = c;
    k->tail = c;
    k->idle++;
}

void keep_settle(struct keep *k, int woken, uint64_t now)
{
    struct keep_conn *c, *next;
    uint64_t n;

    if (woken && read(k->wake_fd, &n, sizeof(n)) < 0) {
        /* nothing pending: another turn took it */
    }
    pthread_mutex_lock(&k->lock);
    c = k->back;
    k->back = NULL;
    pthread_mutex_unlock(&k->lock);
    for (; c; c = next) {
        next = c->next;
        k->out--;
        if (c->fd < 0)
            free(c);
        else
            keep_rest(k, c, now);
    }
}

int keep_owns(uint64_t tag)
{
    return (tag & KEEP_TAG_BIT) != 0 && tag > KEEP_TAG_WAKE;
}

struct keep_conn *keep_wake(struct keep *k, uint64_t tag)
{
    struct keep_conn *c = (struct keep_conn *)(uintptr_t)(tag & ~KEEP_TAG_BIT);

    keep_unlink(k, c);
    return c;
}

/* All wait as long, so the oldest is the first due. A hang-up between
 * requests, or the end of the wait, is no client leaving: nothing is
 * logged. */
void keep_expire(struct keep *k, uint64_t now)
{
    struct keep_conn *c;

    while ((c = k->head) && c->deadline_ms <= now) {
        keep_unlink(k, c);
        keep_close(k, c);
    }
}

uint64_t keep_next_deadline(const struct keep *k)
{
    return k->head ? k->head->deadline_ms : 0;
}
