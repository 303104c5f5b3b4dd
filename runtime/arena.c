#include "config.h"
#include "runtime/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_DEFAULT (16 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct rt_arena {
	struct chunk *head;
};

static void *xcalloc(size_t n, size_t s)
{
	void *p = calloc(n, s);
	if (!p)
		abort();
	return p;
}

struct rt_arena *rt_arena_new(void)
{
	return xcalloc(1, sizeof(struct rt_arena));
}

void rt_arena_free(struct rt_arena *a)
{
	struct chunk *c, *n;

	if (!a)
		return;
	for (c = a->head; c; c = n) {
		n = c->next;
		free(c);
	}
	free(a);
}

void *rt_arena_alloc(struct rt_arena *a, size_t size)
{
	const size_t align = sizeof(max_align_t);
	struct chunk *c = a->head;
	size_t need = (size + align - 1) & ~(align - 1);
	void *p;

	if (need < size)
		abort();
	if (!c || c->size - c->used < need) {
		size_t csize = need > CHUNK_DEFAULT ? need : CHUNK_DEFAULT;
		c = xcalloc(1, sizeof(*c) + csize);
		c->size = csize;
		c->next = a->head;
		a->head = c;
	}
	p = (char *)c->data + c->used;
	c->used += need;
	return p;
}

void *rt_arena_array(struct rt_arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		abort();
	return rt_arena_alloc(a, (n * size) != 0 ? n * size : 1);
}

char *rt_arena_strndup(struct rt_arena *a, const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = rt_arena_alloc(a, len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *rt_arena_strdup(struct rt_arena *a, const char *s)
{
	return s ? rt_arena_strndup(a, s, strlen(s)) : NULL;
}

char *rt_arena_printf(struct rt_arena *a, const char *fmt, ...)
{
	va_list ap, ap2;
	int n;
	char *p;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	p = rt_arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return p;
}
