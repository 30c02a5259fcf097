/* writer: the answers the web server's socket did not take at once.
 *
 * request_finish() writes an answer as far as the socket takes it; what
 * is left is handed here and written as the socket has room, each answer
 * within its own deadline (--write-timeout from its handing over), never
 * holding the loop: a web server that reads slowly delays only its own
 * answer. The writer owns the requests on its list until it ends them
 * (request_write_end() or request_write_cut() free them); it watches their
 * sockets through a poller it borrows. Loop thread only. */
#ifndef WRITER_H
#define WRITER_H

#include <stdint.h>

#include "poller.h"
#include "request.h"

struct writer {
    struct poller *poller;           /* borrowed */
    long timeout_ms;                 /* --write-timeout */
    struct request *head, *tail;     /* owned; by deadline (all wait as long) */
};

void writer_init(struct writer *w, struct poller *p, long timeout_ms);
/* Takes over r, whose answer the socket did not take at once (on no
 * other list: its prev and next are NULL): it is written as the socket
 * drains, and cut at now + timeout_ms. A socket epoll refuses is cut
 * at once. */
void writer_start(struct writer *w, struct request *r, uint64_t now);
/* The poller tag a writer's socket reported under (poller_run()'s
 * callback): 1 when it is one of the writer's (then writer_on_event()),
 * 0 when it is someone else's. */
int writer_owns(const void *tag);
/* The socket of tag has room (or its web server hung up: the write then
 * fails and ends it): writes more, and ends the answer once it is all
 * written or cannot be. */
void writer_on_event(struct writer *w, void *tag);
/* Cuts the answers whose deadline is at or before now (the oldest
 * first). */
void writer_expire(struct writer *w, uint64_t now);
/* When the next answer is due to be cut; 0 when none is being written. */
uint64_t writer_next_deadline(const struct writer *w);

#endif
