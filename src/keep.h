/* keep: the FastCGI connections kept for their web server's next
 * request (FCGI_KEEP_CONN, FastCGI 1.0 section 5.1).
 *
 * A request whose FCGI_BEGIN_REQUEST asked to keep the connection is
 * lent a struct keep_conn with its socket (keep_lend()). Whoever ends
 * the request, on any thread, gives it back (keep_back()): its answer
 * written whole, the socket is kept; else the request has closed it.
 * The acceptor takes what came back once a turn (keep_settle()): a
 * kept socket waits in the acceptor's epoll (level-triggered, one
 * shot: one epoll_ctl per request, and no event while a request holds
 * it) for the next FCGI_BEGIN_REQUEST, at most KEEP_IDLE_MS, and is
 * then handed to the acceptor to read (keep_wake()).
 *
 * Why: a connection per request cost nginx a socket(), connect() and
 * close() and the service an accept4() and a close() per answer, and
 * both their epoll registrations (bench part 3, doc/design.md).
 *
 * Idle for KEEP_IDLE_MS, a connection is closed: longer than nginx's
 * upstream keepalive_timeout (60 s by default), so that nginx, not the
 * service, closes an idle connection, and a request is never sent on one
 * the service is closing (doc/operations.md says what happens when it
 * is). Past KEEP_IDLE_MAX idle ones, or once stopping (keep_stop()), a
 * connection is closed after its answer, as without the flag.
 *
 * Ownership: struct keep is the acceptor's; a keep_conn is the
 * acceptor's while idle or being read, the request's while lent.
 * keep_back() is the only function for other threads. */
#ifndef KEEP_H
#define KEEP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define KEEP_IDLE_MS 75000  /* nginx's keepalive_timeout is 60 s by default */
#define KEEP_IDLE_MAX 4096  /* idle kept connections of one process */
/* epoll tags: the wake-up eventfd; a kept connection is its address
 * with the low bit set (the acceptor's other tags are small numbers or
 * aligned addresses) */
#define KEEP_TAG_WAKE ((uint64_t)3)
#define KEEP_TAG_BIT ((uint64_t)1)

struct keep;

struct keep_conn {
    int fd;                         /* -1 once the request closed it */
    int armed;                      /* registered in the acceptor's epoll */
    uint64_t deadline_ms;           /* idle: closed then */
    struct keep *owner;
    struct keep_conn *prev, *next;  /* the idle list, or the way back */
};

struct keep {
    int ep;                         /* the acceptor's epoll, borrowed */
    int wake_fd;                    /* eventfd, owned */
    pthread_t acceptor;
    pthread_mutex_t lock;
    struct keep_conn *back;         /* given back, guarded by lock */
    struct keep_conn *head, *tail;  /* idle, by deadline */
    size_t idle, out;               /* idle ones; lent ones not yet back */
    int stopping;
};

/* Called on the acceptor thread: watches the wake-up in ep under
 * KEEP_TAG_WAKE. 0, or -1 (nothing to free). */
int keep_init(struct keep *k, int ep);
/* Closes what is idle and frees k; every lent connection must be back. */
void keep_free(struct keep *k);
/* A request of fd whose connection it may keep (keep: the flag was
 * set and nothing past the request was read): c (one that woke, or
 * NULL) or a new one, lent; NULL when it is not to be kept (stopping,
 * too many idle, no memory): then c is freed and fd stays the caller's. */
struct keep_conn *keep_lend(struct keep *k, struct keep_conn *c, int fd, int keep);
/* Any thread: the request that held c is over. c->fd still open: its
 * answer was written whole (and no other epoll watches it); -1: the
 * request closed it. c is the acceptor's again. */
void keep_back(struct keep_conn *c);
/* The acceptor, once a turn (woken: after the KEEP_TAG_WAKE event):
 * what came back waits for its next request, or is closed. */
void keep_settle(struct keep *k, int woken, uint64_t now);
/* 1 when tag is a kept connection's */
int keep_owns(uint64_t tag);
/* The idle connection of tag has bytes (or a hang-up): off the idle
 * list, for the acceptor to read. */
struct keep_conn *keep_wake(struct keep *k, uint64_t tag);
/* Puts c (woken, nothing of a request read) back to wait; or closes it
 * when it cannot wait. */
void keep_rest(struct keep *k, struct keep_conn *c, uint64_t now);
/* Closes and frees c, the acceptor's (woken, or read and given up). */
void keep_close(struct keep *k, struct keep_conn *c);
/* Closes the connections idle past their deadline. */
void keep_expire(struct keep *k, uint64_t now);
/* When the next idle connection is due to be closed; 0 when none. */
uint64_t keep_next_deadline(const struct keep *k);
/* Stopping: idle connections are closed now, lent ones once back. */
void keep_stop(struct keep *k);

#endif
