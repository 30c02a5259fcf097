#include "writer.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"

struct writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct reply *head, *tail; /* FIFO, guarded by lock */
    int stopping;              /* guarded by lock */
    atomic_long *in_flight;
};

/* Takes the whole queue at once, so the lock is held only to swap. */
static struct reply *writer_take_all(struct writer *w, int *stop)
{
    struct reply *batch;

    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stopping)
        pthread_cond_wait(&w->ready, &w->lock);
    batch = w->head;
    w->head = w->tail = NULL;
    *stop = w->stopping && !batch;
    pthread_mutex_unlock(&w->lock);
    return batch;
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    struct reply *r, *next;
    int stop = 0;

    while (!stop) {
        for (r = writer_take_all(w, &stop); r; r = next) {
            next = r->next;
            if (reply_send(r))
                log_debug("msg=\"web server went away before the answer\" status=%d", r->status);
            reply_free(r);
            atomic_fetch_sub(w->in_flight, 1);
        }
    }
    return NULL;
}

struct writer *writer_start(atomic_long *in_flight)
{
    struct writer *w = calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->in_flight = in_flight;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->ready, NULL);
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
        goto err;
    return w;
err:
    pthread_cond_destroy(&w->ready);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return NULL;
}

void writer_canned(struct writer *w, FCGX_Request *req, enum reply_kind kind)
{
    struct reply *r = reply_canned(req, kind);

    if (r) {
        writer_submit(w, r);
        return;
    }
    log_error("msg=\"out of memory, request dropped\"");
    reply_drop_request(req);
    atomic_fetch_sub(w->in_flight, 1);
}

void writer_submit(struct writer *w, struct reply *r)
{
    r->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = r;
    else
        w->head = r;
    w->tail = r;
    pthread_cond_signal(&w->ready);
    pthread_mutex_unlock(&w->lock);
}

void writer_stop(struct writer *w)
{
    pthread_mutex_lock(&w->lock);
    w->stopping = 1;
    pthread_cond_signal(&w->ready);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->ready);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
