/* api-pedidos: wires the modules together and decides when to exit. */
#include <curl/curl.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "config.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "server.h"
#include "tls.h"
#include "request.h"

static volatile sig_atomic_t main_stop;

static void main_on_signal(int sig)
{
    (void)sig;
    main_stop = 1;
    FCGX_ShutdownPending();
}

/* SIGTERM and SIGINT interrupt accept() (no SA_RESTART); only the
 * acceptor (this thread) takes them: the others block them. */
static void main_signals(sigset_t *stops)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = main_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(stops);
    sigaddset(stops, SIGTERM);
    sigaddset(stops, SIGINT);
}

/* Each request may hold an FastCGI socket and upstream connections. */
static void main_raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The listening socket, or a LISTEN_* error already reported. */
static int main_listen_fd(const struct config *cfg)
{
    struct stat st;
    char err[256];
    int fd;

    if (cfg->listen) {
        fd = listen_open(cfg->listen, (int)cfg->backlog, err, sizeof(err));
        if (fd < 0)
            fprintf(stderr, "api-pedidos: %s\n", err);
        return fd;
    }
    if (fstat(0, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "api-pedidos: no FastCGI socket on fd 0: start under spawn-fcgi "
                        "or pass --listen (see --help)\n");
        return LISTEN_BAD_ADDRESS;
    }
    return 0;
}

static int main_serve(const struct config *cfg, int fd, sigset_t *stops)
{
    struct loop *l;
    struct server s;
    int r;

    pthread_sigmask(SIG_BLOCK, stops, NULL);
    l = loop_start(cfg);
    pthread_sigmask(SIG_UNBLOCK, stops, NULL);
    if (!l) {
        log_error("msg=\"cannot start the upstream loop\"");
        return 1;
    }
    s = (struct server){cfg, fd, l, &main_stop};
    log_info("msg=\"serving\" upstream=\"%s\" max_in_flight=%ld fanout=%ld", cfg->maestro,
             cfg->max_in_flight, cfg->fanout);
    r = server_run(&s);
    log_info("msg=\"stopping: finishing requests in flight\" in_flight=%ld", request_in_flight());
    loop_stop(l);
    log_info("msg=\"stopped\"");
    return r ? 1 : 0;
}

int main(int argc, char **argv)
{
    struct config cfg;
    char err[256];
    sigset_t stops;
    int fd, r;

    switch (config_load(&cfg, argc, argv, err, sizeof(err))) {
    case CONFIG_EXIT:
        return 0;
    case CONFIG_ERROR:
        fprintf(stderr, "api-pedidos: %s\n", err);
        config_free(&cfg);
        return 2;
    case CONFIG_OK:
        break;
    }
    log_set_level(cfg.log_level);
    arena_install();
    main_raise_fd_limit();
    main_signals(&stops);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || FCGX_Init() != 0) {
        fprintf(stderr, "api-pedidos: cannot initialise libcurl or libfcgi\n");
        return 1;
    }
    if (tls_settle_ca(&cfg, err, sizeof(err))) {
        fprintf(stderr, "api-pedidos: %s\n", err);
        curl_global_cleanup();
        config_free(&cfg);
        return 2;
    }
    fd = main_listen_fd(&cfg);
    if (fd >= 0 && request_limit_io(fd) != 0)
        log_warn("msg=\"cannot bound reads and writes on the FastCGI socket\"");
    if (fd >= 0) {
        r = main_serve(&cfg, fd, &stops);
        if (cfg.listen && strchr(cfg.listen, '/'))
            unlink(cfg.listen); /* our own socket file: leave nothing behind */
    } else
        r = fd == LISTEN_BAD_ADDRESS ? 2 : 1;
    curl_global_cleanup();
    config_free(&cfg);
    return r;
}
