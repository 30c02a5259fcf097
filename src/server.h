/* server: the acceptor. Accepts FastCGI connections, answers the quick
 * requests on the spot and hands those that need the upstream to the
 * loop, so it never waits on the upstream itself.
 *
 * It never blocks on a connection either: one epoll holds the listening
 * socket, the signals (a signalfd) and the connections whose request has
 * not fully arrived (intake.h). A connection is read only once its whole
 * request is there; one that has not sent it within
 * SERVER_INTAKE_TIMEOUT_MS is closed, so a stalled web server costs
 * other requests nothing. Signals come only through the signalfd
 * (every thread blocks them), so no system call of any thread is ever
 * interrupted by one. */
#ifndef SERVER_H
#define SERVER_H

#include "config.h"
#include "loop.h"

#define SERVER_INTAKE_TIMEOUT_MS 1000 /* for a whole request to arrive */
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
