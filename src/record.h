/* record: a FastCGI answer, written as records on the web server's socket.
 *
 * The request is read by intake.c (record framing, params: the hostile
 * part), and its params are dropped once routed, so a request waiting on
 * the upstream holds only its body and a few hundred bytes. The answer
 * is plain framing (FastCGI 1.0, section 3.3): the
 * bytes as FCGI_STDOUT records of at most 65535 bytes, an empty
 * FCGI_STDOUT, then FCGI_END_REQUEST. Those records are one byte stream
 * whose framing depends only on the content, so a write that stops
 * anywhere resumes from a count of bytes sent: record_send_some() writes
 * what the socket takes now, with writev-style gathering, no copy of the
 * body, and never waits. Nothing here allocates. */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>
#include <sys/uio.h>

#define RECORD_CONTENT_MAX 65535 /* bytes of content in one record */

/* Bytes on the wire for an answer of content_len bytes. */
size_t record_framed_len(size_t content_len);
/* Writes parts[0..n) as the whole FCGI_STDOUT stream of request id on
 * fd, then ends the request (app status 0, FCGI_REQUEST_COMPLETE), from
 * byte *sent of those records on, as far as the socket takes without
 * waiting; *sent grows by what was written. 1 when all is written, 0
 * when the socket is full (call again once it is writable), -1 when the
 * peer is gone or failed (errno). The parts are only read. */
int record_send_some(int fd, unsigned id, const struct iovec *parts, int n, size_t *sent);
/* The same, waiting for room, at most timeout_ms in all: 0 or -1
 * (ETIMEDOUT when the time was up). For tests and callers that may
 * wait. */
int record_send(int fd, unsigned id, const struct iovec *parts, int n, int timeout_ms);

#endif
