#include "job.h"

#include <stdlib.h>

struct job *job_new(struct request *req, const struct workflow *wf, void *ctx,
                    uint64_t now_ms, long timeout_ms)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j) {
        wf->free(ctx);
        return NULL;
    }
    j->req = req;
    j->wf = wf;
    j->ctx = ctx;
    j->started_ms = now_ms;
    j->deadline_ms = now_ms + (uint64_t)timeout_ms;
    return j;
}

const char *job_describe(const struct job *j, char *buf, size_t cap)
{
    j->wf->describe(j->ctx, buf, cap);
    return buf;
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
    if (!j)
        return;
    request_drop(j->req);
    j->wf->free(j->ctx);
    free(j);
}
