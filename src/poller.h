/* poller: epoll under a few curl multi handles (curl's socket API).
 *
 * curl_multi_poll() hands every socket of every transfer to poll(2) on
 * each turn of the loop; with hundreds of transfers in flight that scan
 * is most of the loop's system time. Here curl tells us which sockets to
 * watch (CURLMOPT_SOCKETFUNCTION) and when to time out
 * (CURLMOPT_TIMERFUNCTION), epoll reports only the sockets that are
 * ready, and curl_multi_socket_action() is called for exactly those, on
 * the multi handle that owns the socket.
 *
 * It also watches other descriptors for their peer hanging up (the
 * FastCGI connections of requests in flight), and has a wake-up that
 * other threads may use. All but poller_wake() belong to one thread. */
#ifndef POLLER_H
#define POLLER_H

#include <curl/curl.h>
#include <stdint.h>

#include "gate.h"

#define POLLER_MULTI_MAX 16
#define POLLER_UNWATCHED_MAX 1024 /* transfers whose socket epoll refused, per turn */

struct poller;

/* Called for each watched descriptor with an event: a hang-up
 * (EPOLLHUP, EPOLLERR), or room to write (EPOLLOUT) on one watched with
 * poller_watch_write(). */
typedef void (*poller_peer_fn)(void *tag, uint32_t events, void *arg);

/* NULL on failure. At most max_connecting upstream connections are in
 * their set-up at once, none counted longer than setup_ms (curl's
 * connect timeout: gate.h). */
struct poller *poller_new(int max_connecting, long setup_ms);
/* Frees the poller; the multi handles stay the caller's (clean them up
 * first: curl closes their sockets through poller_close_socket). */
void poller_free(struct poller *p);
/* Takes over the socket and timer callbacks of multi as slot (below
 * POLLER_MULTI_MAX); a slot may be given a new multi once the old one is
 * cleaned up. 0, or -1 when curl refused. */
int poller_attach(struct poller *p, int slot, CURLM *multi);
/* curl's CURLOPT_OPENSOCKETFUNCTION, CURLOPT_CLOSESOCKETFUNCTION and
 * CURLOPT_PREREQFUNCTION for every transfer, with the poller as their
 * data: the sockets they open and close are the ones the poller may keep
 * in epoll between calls, and the ones the gate counts. Opening fails
 * with errno EAGAIN when the gate is shut (no socket made). */
curl_socket_t poller_open_socket(void *poller, curlsocktype purpose, struct curl_sockaddr *a);
int poller_close_socket(void *poller, curl_socket_t s);
int poller_prereq(void *poller, char *remote_ip, char *local_ip, int remote_port, int local_port);
/* How many more upstream connections may start their set-up now: room
 * in the gate, and under poller_open_max(). */
int poller_gate_room(struct poller *p);
/* At most max upstream sockets open at once (0: no bound, the start):
 * past it, opening fails as when the gate is shut, and the call waits.
 * Over HTTP/2 this is what bounds the process's connections: curl's
 * limits are per multi handle, and connections a handle opened before
 * its limit was lowered stay open until its calls on them end. */
void poller_open_max(struct poller *p, int max);
/* How many requests have been about to go out on a ready connection
 * (its TCP and TLS set-up done: curl's CURLOPT_PREREQFUNCTION), ever. */
unsigned long poller_ready_count(const struct poller *p);
/* Upstream sockets open now. */
int poller_open_count(const struct poller *p);
/* Sets how many may be in their set-up at once. */
void poller_gate_max(struct poller *p, int max_connecting);
/* After poller_run(): the next transfer whose socket epoll refused
 * (curl was told all is well: an error would have made libcurl mark
 * its whole multi handle dead), for the caller to fail and remove;
 * NULL when none is left. Every one listed is still attached. */
CURL *poller_next_unwatched(struct poller *p);
/* Test hook: the next n registrations of curl sockets fail as a failing
 * epoll_ctl would. */
void poller_inject_failures(struct poller *p, int n);
/* Wakes poller_run() from another thread. */
void poller_wake(struct poller *p);
/* Watches fd until it is closed (closing is what ends the watch: no
 * epoll_ctl spent on it); on hang-up (EPOLLHUP or EPOLLERR: a peer that
 * only shut down its write side has not hung up) calls the hangup
 * function with tag.
 * 0, or -1 when epoll refused it. fd must not be dup()ed. */
int poller_watch(struct poller *p, int fd, void *tag);
/* Stops watching fd (a kept connection, open after its request: its
 * next request is the acceptor's, and its tag is gone). */
void poller_unwatch(struct poller *p, int fd);
/* Watches fd for room to write (and hang-ups) under tag, whether it was
 * watched before (its old tag is replaced) or not. 0, or -1. */
int poller_watch_write(struct poller *p, int fd, void *tag);
/* Waits at most max_ms for sockets, curl's timers or a wake-up, and lets
 * curl act on what happened. Watched descriptors are reported through
 * fn, all of them before curl acts. */
void poller_run(struct poller *p, int max_ms, poller_peer_fn fn, void *arg);

#endif
