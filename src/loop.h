/* loop: the thread that talks to the upstream for every request.
 *
 * An engine of upstream calls that knows nothing of orders: each job
 * (job.h) carries a workflow (workflow.h) that names its calls and
 * turns their answers into one answer. One thread owns the long-lived
 * curl multi handles of the process (conns.h): their connection pools,
 * DNS caches and HTTP/2 streams serve every request of the process.
 * Jobs arrive through loop_submit() from the acceptor; the loop starts
 * the calls each workflow asks for (at most `fanout` at once per job, at
 * most `max_connections` connections in all), holds every call to its
 * timeout and every job to its deadline, weighs every call for the
 * circuit breaker, and writes each answer. A job's first failure
 * cancels its other calls at once, as does its client leaving. Answers
 * are written without waiting: what a socket does not take at once is
 * written as it drains, each answer within its own deadline, so a web
 * server that reads slowly delays only its own.
 * The thread and the life of a job are loop.c's; the life of each call
 * is call.c's (with waitq.c and proto.c), the answers still being
 * written writer.c's. */
#ifndef LOOP_H
#define LOOP_H

#include "config.h"
#include "job.h"

struct loop;

/* NULL on failure. cfg must outlive the loop. */
struct loop *loop_start(const struct config *cfg);
/* Hands the job to the loop (thread-safe); the loop owns it from then on. */
void loop_submit(struct loop *l, struct job *j);
/* Hands over a request whose answer the socket did not take at once
 * (request_finish() returned it): the loop writes the rest as the web
 * server reads, within --write-timeout (thread-safe). */
void loop_write(struct loop *l, struct request *r);
/* Lets every job in flight finish, then stops the thread and frees l. */
void loop_stop(struct loop *l);

#endif
