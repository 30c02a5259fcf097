/* server: the acceptor. Accepts FastCGI connections, answers the quick
 * requests on the spot and hands those that need the upstream to the
 * loop, so it never waits on the upstream itself.
 *
 * It never blocks on a connection either: one epoll holds the listening
 * socket, the signals (a signalfd) and the connections whose request has
 * not fully arrived. Every connection is read here, with non-blocking
 * recv() of what is there, into its intake (intake.h), which takes the
 * records apart as they come and keeps the params and the body: a
 * request that came whole (the usual case) is served after one recv(),
 * one that comes slowly, in many records or with a large body, waits in
 * epoll at no cost to the others. One that is not all there within
 * SERVER_INTAKE_TIMEOUT_MS of its accept is closed and logged, so a
 * stalled web server costs other requests nothing. A body past
 * INTAKE_BODY_MAX, or past the memory budget, is read to its end and
 * dropped, then answered 413 (503), within the same deadline (intake.h:
 * an answer given with the body unread is lost in the web server's
 * reset). Signals
 * come only through the signalfd (every thread blocks them), so no
 * system call of any thread is ever interrupted by one. */
#ifndef SERVER_H
#define SERVER_H

#include "config.h"
#include "loop.h"

#define SERVER_INTAKE_TIMEOUT_MS 1000 /* for a whole request, body included */
#define SERVER_INTAKE_MAX 1024        /* connections waiting for theirs */

struct server {
    const struct config *cfg;
    int listen_fd;     /* closed by server_run() when it stops */
    struct loop *loop;
    int signal_fd;     /* signalfd of SIGTERM, SIGINT, SIGQUIT (stop) and
                          SIGHUP, SIGUSR1, SIGUSR2 (logged, nothing else) */
};

/* Serves until a stop signal: then closes the listening socket at once
 * (the connections still queued go to a sibling process, or are refused
 * at once), reads the requests already accepted and returns 0. -1 when
 * accepting failed for good. */
int server_run(struct server *s);

#endif
