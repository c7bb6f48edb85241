/* arena.h: request-scoped memory. Everything allocated dies with arena_free(). */
#ifndef AT_ARENA_H
#define AT_ARENA_H

#include <stddef.h>

struct arena;

struct arena *arena_new(void);		/* caller owns: arena_free() */
void arena_free(struct arena *a);	/* NULL-safe; runs cleanup hooks, newest first */

void *arena_alloc(struct arena *a, size_t n);	/* aborts on OOM; 16-byte aligned */
void *arena_zalloc(struct arena *a, size_t n);
char *arena_strdup(struct arena *a, const char *s);	/* NULL in, NULL out */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Room for element n of the array p (n elements of size bytes, capacity *cap), from a:
 * returns p while n < *cap, else a zeroed copy twice as large (at least 8 elements). */
void *arena_reserve(struct arena *a, void *p, size_t n, size_t *cap, size_t size);

/* Run fn(ud) when the arena is freed (json-c roots, statements, curl lists). */
void arena_on_free(struct arena *a, void (*fn)(void *), void *ud);

#endif
