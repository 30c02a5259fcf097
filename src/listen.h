/* listen: the FastCGI listening socket for --listen.
 *
 * libfcgi's FCGX_OpenSocket exits the whole process when bind fails, so
 * the service opens its socket here and reports errors instead. The
 * caller owns the returned descriptor. */
#ifndef LISTEN_H
#define LISTEN_H

#include <stddef.h>

enum listen_error { LISTEN_FAILED = -1, LISTEN_BAD_ADDRESS = -2 };

/* addr: "HOST:PORT", "[V6]:PORT", ":PORT" (every interface) or a unix
 * socket path (anything with a '/'); a stale socket file at the path is
 * replaced. Returns the descriptor, or a listen_error with err set. */
int listen_open(const char *addr, int backlog, char *err, size_t errlen);

#endif
