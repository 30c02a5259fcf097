#include "arena.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdlib.h>

#define ARENA_CHUNK (64 * 1024)
#define ARENA_ALIGN 16

struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    _Alignas(ARENA_ALIGN) unsigned char data[];
};

static _Thread_local int arena_active;
static _Thread_local struct arena_chunk *arena_head; /* newest first */

static struct arena_chunk *arena_new_chunk(size_t need, struct arena_chunk *next)
{
    size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;
    struct arena_chunk *c = malloc(sizeof(*c) + size);

    if (!c)
        return NULL;
    c->next = next;
    c->used = 0;
    c->size = size;
    return c;
}

static void *arena_alloc(size_t n)
{
    struct arena_chunk *c = arena_head;

    if (!arena_active)
        return malloc(n);
    n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (!c || c->size - c->used < n) {
        c = arena_new_chunk(n, arena_head);
        if (!c)
            return NULL;
        arena_head = c;
    }
    c->used += n;
    return c->data + c->used - n;
}

static void arena_free(void *p)
{
    if (!arena_active)
        free(p);
}

void arena_install(void)
{
    cJSON_Hooks hooks = {arena_alloc, arena_free};

    cJSON_InitHooks(&hooks);
}

void arena_begin(void)
{
    arena_active = 1;
}

void arena_end(void)
{
    struct arena_chunk *c = arena_head, *next;

    arena_active = 0;
    if (!c)
        return;
    /* keep one standard chunk, free the rest (a big body's) */
    while (c && (c->next || c->size > ARENA_CHUNK)) {
        next = c->next;
        free(c);
        c = next;
    }
    arena_head = c;
    if (c)
        c->used = 0;
}

void arena_release(void)
{
    arena_end();
    free(arena_head);
    arena_head = NULL;
}
