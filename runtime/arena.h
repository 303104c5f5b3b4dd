/* A bump allocator: the spec and everything hanging off it live in one
 * arena, freed at once.  Allocation failure aborts (the program cannot do
 * anything useful without memory and a half-built spec is worse). */
#ifndef HULL_ARENA_H
#define HULL_ARENA_H

#include <stddef.h>

struct rt_arena;

struct rt_arena *rt_arena_new(void);
void rt_arena_free(struct rt_arena *a);
void *rt_arena_alloc(struct rt_arena *a, size_t size);          /* zeroed */
void *rt_arena_array(struct rt_arena *a, size_t n, size_t size); /* zeroed, overflow-checked */
char *rt_arena_strdup(struct rt_arena *a, const char *s);
char *rt_arena_strndup(struct rt_arena *a, const char *s, size_t n);
char *rt_arena_printf(struct rt_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void rt_arena_freep(struct rt_arena **a) { if (*a) rt_arena_free(*a); }
#define _cleanup_arena_ __attribute__((cleanup(rt_arena_freep)))

#endif
