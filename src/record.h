/* record: a FastCGI answer, written as records on the web server's socket.
 *
 * libfcgi reads the request (record framing, params: the hostile part)
 * and is then done with it: its streams and params are freed at accept,
 * so a request waiting on the upstream holds no 17 KB of libfcgi
 * buffers. The answer is plain framing (FastCGI 1.0, section 3.3): the
 * bytes as FCGI_STDOUT records of at most 65535 bytes, an empty
 * FCGI_STDOUT, then FCGI_END_REQUEST. record_send() writes them with
 * writev-style gathering, no copy of the body, usually in one syscall.
 *
 * Each send is non-blocking; when the socket is full the caller waits for
 * room, at most timeout_ms in all. On the loop thread that wait stalls
 * every request for as long (as SO_SNDTIMEO did before): web servers read
 * FastCGI answers at once, so only a broken peer makes it happen.
 * Nothing here allocates. */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>
#include <sys/uio.h>

#define RECORD_CONTENT_MAX 65535 /* bytes of content in one record */

/* Writes parts[0..n) as the whole FCGI_STDOUT stream of request id on
 * fd, then ends the request (app status 0, FCGI_REQUEST_COMPLETE).
 * Returns 0, or -1 when the peer is gone, failed or took longer than
 * timeout_ms (errno tells which). The parts are only read. */
int record_send(int fd, unsigned id, const struct iovec *parts, int n, int timeout_ms);

#endif
