/* server: the acceptor. Accepts FastCGI requests one after another,
 * answers the quick ones on the spot and hands those that need the
 * upstream to the loop, so it never waits on the upstream itself. */
#ifndef SERVER_H
#define SERVER_H

#include <signal.h>

#include "config.h"
#include "loop.h"

struct server {
    const struct config *cfg;
    int listen_fd;
    struct loop *loop;
    volatile sig_atomic_t *stop; /* set by the signal handler */
};

/* Serves until *stop is set. Returns 0, or -1 when accepting failed
 * for good. */
int server_run(const struct server *s);

#endif
