/* gate: how many upstream connections may be in their set-up at once.
 *
 * A burst of calls on a cold process wants a new connection for each
 * call at once. Over TLS every one of them is a handshake (a few ms of
 * CPU at each end, far more for the gateway), and hundreds started
 * together all reach the connect timeout together. So at most `max`
 * connections are being set up (TCP connect plus TLS handshake) at a
 * time; a call that would open one more waits (loop.c) until one is
 * ready, and meanwhile calls that finish hand their connections on.
 * Sessions made by the first handshakes are then resumed by the later
 * ones (conns.h), which costs far less.
 *
 * The gate lists the sockets in set-up, by descriptor: one enters when
 * it is opened and leaves when its first request is about to be sent
 * (curl's CURLOPT_PREREQFUNCTION, which names the connection by its
 * local port only: the listed sockets' ports are looked up to find it),
 * when it closes, or when it has been listed for longer than a set-up
 * can last (curl's connect timeout). That last rule is the floor under
 * the others: whatever curl does or does not tell us, no socket holds a
 * place longer than the connect timeout, so the gate cannot stay shut.
 * (It once counted ports instead; a port told wrongly left a count that
 * nothing gave back, and a process stayed shut for good.)
 * Pure bookkeeping: the poller calls it, loop thread only. */
#ifndef GATE_H
#define GATE_H

#include <stdint.h>

/* A socket in set-up. */
struct gate_conn {
    int fd;
    int port;            /* local port, 0 until looked up */
    uint64_t opened_ms;
};

struct gate {
    int max;             /* connections in set-up at once, >= 1 */
    long setup_ms;       /* the longest a set-up may last, > 0 */
    int n, cap;
    struct gate_conn *conn; /* n listed, owned */
};

/* Local port of descriptor fd, 0 when it has none (yet). */
typedef int (*gate_port_fn)(int fd);

/* 0, or -1 when out of memory. */
int gate_init(struct gate *g, int max, long setup_ms);
void gate_free(struct gate *g);
/* How many more sockets may start their set-up at now (ms); when none
 * may, listed sockets older than setup_ms are dropped first. */
int gate_room(struct gate *g, uint64_t now);
/* Socket fd was opened at now (the caller saw room first). A descriptor
 * already listed was closed without our hearing: its entry starts again.
 * 0, or -1 when out of memory (fd is not listed). */
int gate_enter(struct gate *g, int fd, uint64_t now);
/* A request is about to be sent on the connection of local_port: the
 * listed socket with that port (looked up with port_of) leaves; a port
 * no listed socket has is a connection that was ready already. */
void gate_ready(struct gate *g, int local_port, gate_port_fn port_of);
/* Socket fd is closing: it leaves, if listed. */
void gate_closed(struct gate *g, int fd);
/* Sets max (>= 1): the calls held back start as room appears. */
void gate_set_max(struct gate *g, int max);

#endif
