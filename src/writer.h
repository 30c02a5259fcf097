/* writer: the thread that writes answers back to the web server.
 *
 * Writing and finishing a FastCGI request can block (a full socket, and
 * libfcgi's close waits for the web server to hang up), so neither the
 * acceptor nor the upstream loop ever does it: they queue a struct reply
 * here and go on. Every reply written decrements *in_flight. */
#ifndef WRITER_H
#define WRITER_H

#include <stdatomic.h>

#include "reply.h"

struct writer;

/* Starts the thread; NULL on failure. in_flight outlives the writer. */
struct writer *writer_start(atomic_long *in_flight);
/* Takes ownership of r (not NULL). Thread-safe. */
void writer_submit(struct writer *w, struct reply *r);
/* Queues a canned answer for req. When memory for it runs out, the
 * request is dropped (the web server answers 502) but still counted. */
void writer_canned(struct writer *w, FCGX_Request *req, enum reply_kind kind);
/* Writes all that is queued, stops the thread and frees the writer. */
void writer_stop(struct writer *w);

#endif
