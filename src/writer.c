/* writer: writes the rest of answers as the web servers read them, each
 * within its deadline (writer.h). Loop thread only. */
#include "writer.h"

#include <assert.h>

#include "log.h"

/* Answers being written are watched under their request's address with
 * the low bit set (jobs, the other watched tags, are aligned). */
#define WRITER_TAG ((uintptr_t)1)

void writer_init(struct writer *w, struct poller *p, long timeout_ms)
{
    w->poller = p;
    w->timeout_ms = timeout_ms;
    w->head = w->tail = NULL;
}

static void writer_unlink(struct writer *w, struct request *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        w->head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    else
        w->tail = r->prev;
    r->prev = r->next = NULL;
}

/* An answer the socket did not take at once: written as the socket
 * has room, within the answer's own deadline, never holding the loop. */
void writer_start(struct writer *w, struct request *r, uint64_t now)
{
    assert(!r->prev && !r->next && w->head != r); /* on no list yet */
    r->write_deadline_ms = now + (uint64_t)w->timeout_ms;
    r->prev = w->tail;
    if (w->tail)
        w->tail->next = r;
    else
        w->head = r;
    w->tail = r;
    if (poller_watch_write(w->poller, r->fd, (void *)((uintptr_t)r | WRITER_TAG))) {
        log_warn("msg=\"cannot watch a socket for writing\" request_id=%s", r->id);
        writer_unlink(w, r);
        request_write_cut(r);
    }
}

int writer_owns(const void *tag)
{
    return ((uintptr_t)tag & WRITER_TAG) != 0;
}

void writer_on_event(struct writer *w, void *tag)
{
    struct request *r = (struct request *)((uintptr_t)tag & ~WRITER_TAG);
    int done = request_write_more(r);

    if (done == 0)
        return;
    writer_unlink(w, r);
    if (done > 0 && r->keep)
        poller_unwatch(w->poller, r->fd); /* kept open for its next request */
    request_write_end(r, done > 0); /* closing the socket takes it out of epoll */
}

/* All share one timeout, so the oldest is the first to be due. */
void writer_expire(struct writer *w, uint64_t now)
{
    struct request *r;

    while ((r = w->head) && r->write_deadline_ms <= now) {
        writer_unlink(w, r);
        request_write_cut(r);
    }
}

uint64_t writer_next_deadline(const struct writer *w)
{
    return w->head ? w->head->write_deadline_ms : 0;
}
