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
 * A connection counts from the socket's opening until its first request
 * is about to be sent (curl's CURLOPT_PREREQFUNCTION, which gives the
 * local port) or the socket's closing. Ready connections are remembered
 * by local port (one bit each), so that a reused connection is not
 * counted again and a closing one is known as ready or not.
 * A port is only a hint: a closing socket may no longer tell its port,
 * and a later connection may get the port of a stale bit, whose count
 * would then never be given back. Every socket being set up is an open
 * socket, so the count is held to the open sockets: a stale count is
 * dropped when the sockets it outlived close, and never blocks more
 * than the sockets still open.
 * Pure counting: the poller calls it, loop thread only. */
#ifndef GATE_H
#define GATE_H

#include <stdint.h>

#define GATE_PORTS 65536

struct gate {
    int max;        /* connections in set-up at once, >= 1 */
    int connecting; /* now, at most open */
    int open;       /* sockets opened through gate_enter, not yet closed */
    uint8_t ready[GATE_PORTS / 8]; /* local ports of ready connections */
};

void gate_init(struct gate *g, int max);
/* A socket is about to be opened: 1 (counted), or 0 when max are
 * already being set up (the caller does not open it). */
int gate_enter(struct gate *g);
/* A request is about to be sent on the connection of local_port: a new
 * connection is ready (counted out), a known one changes nothing. */
void gate_ready(struct gate *g, int local_port);
/* A socket closed; local_port 0 when it never had one. */
void gate_closed(struct gate *g, int local_port);
/* Sets max (>= 1): the calls held back start as room appears. */
void gate_set_max(struct gate *g, int max);
/* How many more connections may start their set-up now. */
int gate_room(const struct gate *g);

#endif
