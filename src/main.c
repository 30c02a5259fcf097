/* api-pedidos: wires the modules together and decides when to exit. */
#include <curl/curl.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "jbuf.h"
#include "config.h"
#include "listen.h"
#include "log.h"
#include "loop.h"
#include "server.h"
#include "tls.h"
#include "request.h"

/* Every signal the service acts on comes through a signalfd that the
 * acceptor reads: blocked here, before any thread starts, so that every
 * thread (libcurl's resolver threads too) inherits the mask and no
 * system call anywhere is interrupted by one. TERM, INT and QUIT stop
 * the service; HUP, USR1 and USR2 are logged and ignored (libfcgi's own
 * SIGUSR1 handler, which would stop every accept, never runs); PIPE is
 * ignored (a web server that left fails only its own write). -1 on
 * failure. */
static int main_signals(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGUSR1, SIGUSR2};
    sigset_t set;
    size_t i;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&set, sigs[i]);
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
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
static int main_listen_fd(const struct config *cfg, struct listen_file *file)
{
    struct stat st;
    char err[256];
    int fd;

    if (cfg->listen) {
        fd = listen_open(cfg->listen, (int)cfg->backlog, file, err, sizeof(err));
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

static int main_serve(const struct config *cfg, int fd, int signal_fd)
{
    struct loop *l;
    struct server s;
    int r;

    l = loop_start(cfg);
    if (!l) {
        log_error("msg=\"cannot start the upstream loop\"");
        close(fd);
        return 1;
    }
    s = (struct server){cfg, fd, l, signal_fd};
    log_info("msg=\"serving\" upstream=\"%s\" max_in_flight=%ld fanout=%ld", cfg->maestro,
             cfg->max_in_flight, cfg->fanout);
    r = server_run(&s);
    log_info("msg=\"stopping: finishing requests in flight\" in_flight=%ld", request_in_flight());
    loop_stop(l);
    log_info("msg=\"stopped\"");
    return r ? 1 : 0;
}

/* What the threads need before the first starts: 0, or the exit
 * status (what needed freeing is freed). */
static int main_prepare(struct config *cfg, int *signal_fd)
{
    char err[256];

    log_set_level(cfg->log_level);
    jbuf_set_budget((size_t)cfg->max_memory);
    arena_install();
    main_raise_fd_limit();
    *signal_fd = main_signals();
    if (*signal_fd < 0) {
        fprintf(stderr, "api-pedidos: cannot set up signal handling\n");
        return 1;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || FCGX_Init() != 0) {
        fprintf(stderr, "api-pedidos: cannot initialise libcurl or libfcgi\n");
        return 1;
    }
    if (tls_settle_ca(cfg, err, sizeof(err))) {
        fprintf(stderr, "api-pedidos: %s\n", err);
        curl_global_cleanup();
        config_free(cfg);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct config cfg;
    char err[256];
    struct listen_file file = {0, 0, 0};
    int fd, r, signal_fd;

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
    r = main_prepare(&cfg, &signal_fd);
    if (r)
        return r;
    fd = main_listen_fd(&cfg, &file);
    if (fd >= 0) {
        r = main_serve(&cfg, fd, signal_fd);
        if (cfg.listen)
            listen_remove(cfg.listen, &file); /* only while it is still ours */
    } else
        r = fd == LISTEN_BAD_ADDRESS ? 2 : 1;
    curl_global_cleanup();
    config_free(&cfg);
    return r;
}
