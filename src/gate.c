#include "gate.h"

#include <stdlib.h>
#include <string.h>

#define GATE_FIRST_CAP 64

static void gate_drop(struct gate *g, int i)
{
    g->conn[i] = g->conn[--g->n];
}

static int gate_find(const struct gate *g, int fd)
{
    int i;

    for (i = 0; i < g->n; i++)
        if (g->conn[i].fd == fd)
            return i;
    return -1;
}

int gate_init(struct gate *g, int max, long setup_ms)
{
    memset(g, 0, sizeof(*g));
    g->max = max > 0 ? max : 1;
    g->setup_ms = setup_ms > 0 ? setup_ms : 1;
    g->conn = malloc(GATE_FIRST_CAP * sizeof(*g->conn));
    if (!g->conn)
        return -1;
    g->cap = GATE_FIRST_CAP;
    return 0;
}

void gate_free(struct gate *g)
{
    free(g->conn);
    g->conn = NULL;
    g->n = g->cap = 0;
}

int gate_room(struct gate *g, uint64_t now)
{
    int i = 0;

    if (g->n < g->max)
        return g->max - g->n; /* the usual case: no scan */
    while (i < g->n) {
        if (now >= g->conn[i].opened_ms && now - g->conn[i].opened_ms >= (uint64_t)g->setup_ms)
            gate_drop(g, i);
        else
            i++;
    }
    return g->max - g->n;
}

static int gate_grow(struct gate *g)
{
    struct gate_conn *grown;

    if (g->n < g->cap)
        return 0;
    grown = realloc(g->conn, (size_t)g->cap * 2 * sizeof(*grown));
    if (!grown)
        return -1;
    g->conn = grown;
    g->cap *= 2;
    return 0;
}

int gate_enter(struct gate *g, int fd, uint64_t now)
{
    int i = gate_find(g, fd);

    if (i < 0) {
        if (gate_grow(g))
            return -1;
        i = g->n++;
    }
    g->conn[i] = (struct gate_conn){.fd = fd, .port = 0, .opened_ms = now};
    return 0;
}

void gate_ready(struct gate *g, int local_port, gate_port_fn port_of)
{
    int i;

    if (local_port <= 0)
        return;
    for (i = 0; i < g->n; i++) {
        /* the port is bound by connect(), which curl calls as soon as
           the socket is open: one lookup per socket, then kept */
        if (g->conn[i].port == 0)
            g->conn[i].port = port_of(g->conn[i].fd);
        /* two listed sockets may share a port (one whose connect failed
           still tells the port it lost); the other then leaves at its
           close or its time */
        if (g->conn[i].port == local_port) {
            gate_drop(g, i);
            return;
        }
    }
}

void gate_closed(struct gate *g, int fd)
{
    int i = gate_find(g, fd);

    if (i >= 0)
        gate_drop(g, i);
}

void gate_set_max(struct gate *g, int max)
{
    g->max = max > 0 ? max : 1;
}
