/* server: the acceptor. Accepts FastCGI requests one after another,
 * answers the quick ones through the writer and hands those that need
 * the upstream to the loop, so it never waits on the network itself.
 * Each request lives in its own heap FCGX_Request from accept to finish. */
#ifndef SERVER_H
#define SERVER_H

#include <signal.h>
#include <stdatomic.h>

#include "config.h"
#include "loop.h"
#include "writer.h"

struct server {
    const struct config *cfg;
    int listen_fd;
    struct loop *loop;
    struct writer *writer;
    atomic_long *in_flight;           /* accepted and not yet written */
    volatile sig_atomic_t *stop;      /* set by the signal handler */
};

/* Serves until *stop is set. Returns 0, or -1 when accepting failed
 * for good. */
int server_run(const struct server *s);

#endif
