/* listen: the FastCGI listening socket for --listen.
 *
 * libfcgi's FCGX_OpenSocket exits the whole process when bind fails, so
 * the service opens its socket here and reports errors instead. The
 * caller owns the returned descriptor. */
#ifndef LISTEN_H
#define LISTEN_H

#include <stddef.h>
#include <sys/types.h>

enum listen_error { LISTEN_FAILED = -1, LISTEN_BAD_ADDRESS = -2 };

/* The socket file a unix listener made, as it was when made: at exit
 * the path is removed only while it is still that file. In a restart
 * that starts the new process before stopping the old one, the new one
 * has replaced the file by then, and the old one leaves it alone. */
struct listen_file {
    int made;   /* 0: no file (TCP) */
    dev_t dev;
    ino_t ino;
};

/* addr: "HOST:PORT", "[V6]:PORT", ":PORT" (every interface) or a unix
 * socket path (anything with a '/'); a socket file at the path is
 * replaced (a process being replaced keeps serving what it accepted).
 * Returns the descriptor, or a listen_error with err set. *file
 * describes the socket file made, if any. */
int listen_open(const char *addr, int backlog, struct listen_file *file, char *err,
                size_t errlen);
/* Removes path when it is still the socket file that file describes.
 * 1 when removed, 0 when left alone. */
int listen_remove(const char *path, const struct listen_file *file);

#endif
