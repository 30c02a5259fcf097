#include "gate.h"

#include <string.h>

static int gate_port_known(const struct gate *g, int port)
{
    return port > 0 && port < GATE_PORTS && (g->ready[port / 8] >> (port % 8)) & 1;
}

static void gate_mark(struct gate *g, int port, int on)
{
    uint8_t bit = (uint8_t)(1u << (port % 8));

    if (on)
        g->ready[port / 8] |= bit;
    else
        g->ready[port / 8] &= (uint8_t)~bit;
}

static void gate_leave(struct gate *g)
{
    if (g->connecting > 0)
        g->connecting--;
}

void gate_init(struct gate *g, int max)
{
    memset(g, 0, sizeof(*g));
    g->max = max > 0 ? max : 1;
}

int gate_enter(struct gate *g)
{
    if (g->connecting >= g->max)
        return 0;
    g->connecting++;
    g->open++;
    return 1;
}

void gate_ready(struct gate *g, int local_port)
{
    if (local_port <= 0 || local_port >= GATE_PORTS || gate_port_known(g, local_port))
        return;
    gate_mark(g, local_port, 1);
    gate_leave(g);
}

void gate_closed(struct gate *g, int local_port)
{
    if (gate_port_known(g, local_port))
        gate_mark(g, local_port, 0);
    else
        gate_leave(g);
    if (g->open > 0)
        g->open--;
    if (g->connecting > g->open)
        g->connecting = g->open; /* a count no socket backs (gate.h) */
}

void gate_set_max(struct gate *g, int max)
{
    g->max = max > 0 ? max : 1;
}

int gate_room(const struct gate *g)
{
    return g->max - g->connecting;
}
