#include "job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


struct job *job_new(struct request *req, const char *order_id,
                    const struct job_limits *lim, uint64_t now_ms, long timeout_ms)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j)
        return NULL;
    j->req = req;
    snprintf(j->order_id, sizeof(j->order_id), "%s", order_id);
    j->lim = *lim;
    j->started_ms = now_ms;
    j->deadline_ms = now_ms + (uint64_t)timeout_ms;
    return j;
}

enum items_status job_take_order(struct job *j, const char *body, size_t len)
{
    enum items_status st = items_parse_order(body, len, j->lim.max_packages, &j->pkgs);
    size_t i;

    if (st != ITEMS_OK)
        return st;
    j->frags = calloc(j->pkgs.count ? j->pkgs.count : 1, sizeof(*j->frags));
    if (!j->frags)
        return ITEMS_BAD;
    for (i = 0; i < j->pkgs.count; i++)
        jbuf_init(&j->frags[i], j->lim.max_answer);
    return ITEMS_OK;
}

enum items_status job_take_package(struct job *j, size_t i, const char *body, size_t len)
{
    struct jbuf *f;

    if (!j->frags || i >= j->pkgs.count)
        return ITEMS_BAD;
    f = &j->frags[i];
    /* what is left of the answer budget, shared by all packages */
    f->cap = j->lim.max_answer - j->answer_len;
    if (items_render(body, len, f) != ITEMS_OK)
        return ITEMS_BAD;
    j->answer_len += f->len + 1;
    if (j->answer_len >= j->lim.max_answer)
        return ITEMS_BAD;
    j->done_pkgs++;
    return ITEMS_OK;
}

long job_next_package(struct job *j, size_t running)
{
    if (!j->frags || j->next_pkg >= j->pkgs.count || running >= j->lim.fanout)
        return -1;
    return (long)j->next_pkg++;
}

int job_complete(const struct job *j)
{
    return j->frags && j->done_pkgs == j->pkgs.count;
}

char *job_answer(const struct job *j, size_t *len)
{
    char *out = malloc(j->answer_len + 2), *p;
    size_t i;

    if (!out)
        return NULL;
    p = out;
    *p++ = '[';
    for (i = 0; i < j->pkgs.count; i++) {
        if (j->frags[i].len == 0)
            continue;
        if (p != out + 1)
            *p++ = ',';
        memcpy(p, j->frags[i].data, j->frags[i].len);
        p += j->frags[i].len;
    }
    *p++ = ']';
    *len = (size_t)(p - out);
    return out;
}

struct request *job_reply(struct job *j, const struct reply *r)
{
    struct request *writing = NULL;

    if (!j->req)
        return NULL;
    if (r)
        writing = request_finish(j->req, r);
    else
        request_drop(j->req);
    j->req = NULL;
    return writing;
}

void job_free(struct job *j)
{
    size_t i;

    if (!j)
        return;
    request_drop(j->req);
    for (i = 0; j->frags && i < j->pkgs.count; i++)
        jbuf_free(&j->frags[i]);
    free(j->frags);
    items_packages_free(&j->pkgs);
    free(j);
}
