/* dispatch: routes a request that came whole to what answers it.
 *
 * The quick ones are answered on the spot; those that call the upstream
 * become a job (job.h) with their workflow (workflow.h) and go to the
 * loop. Each function takes over req: it is answered, or handed on, or
 * freed. Acceptor thread only (the memory warning keeps its count in
 * static state). */
#ifndef DISPATCH_H
#define DISPATCH_H

#include "reply.h"
#include "request.h"
#include "server.h"

/* Answers req by its route (request_take() made it from a whole
 * request). */
void dispatch_request(const struct server *s, struct request *req);
/* Answers req with a canned answer, on the spot. */
void dispatch_answer(const struct server *s, struct request *req, enum reply_kind kind);
/* Logs that a request was refused for --max-memory: one warning a
 * second at most, with the count refused since the last. */
void dispatch_refuse_memory(const struct config *c);

#endif
