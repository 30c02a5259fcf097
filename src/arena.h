/* arena: bump allocation for one cJSON document at a time.
 *
 * Parsing an upstream body makes a cJSON node and one or two strings per
 * value: about a hundred malloc/free pairs per answer, a tenth of the
 * service's CPU in the profile. Between arena_begin() and arena_end(),
 * cJSON (through cJSON_InitHooks) takes its memory from a per-thread
 * arena instead, frees cost nothing, and arena_end() drops it all at
 * once. Outside such a span, and on other threads, cJSON uses malloc. */
#ifndef ARENA_H
#define ARENA_H

/* Installs the cJSON hooks; once, before any thread parses. */
void arena_install(void);
/* Everything cJSON allocates on this thread now comes from the arena.
 * Spans do not nest. */
void arena_begin(void);
/* Ends the span: what cJSON allocated in it is gone (delete its
 * documents first). The first chunk is kept for the next span. */
void arena_end(void);

/* Frees this thread's kept chunk; a thread that used the arena calls it
 * before it ends (its thread-local pointer dies with it). */
void arena_release(void);

#endif
