/* arena.c: a chain of blocks plus a list of cleanup hooks. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"
#include "core/rc.h"

#define BLOCK_SIZE 8192

struct block {
	struct block *next;
	size_t used, cap;
	_Alignas(16) unsigned char data[];
};

struct hook {
	struct hook *next;
	void (*fn)(void *);
	void *ud;
};

struct arena {
	struct block *head;
	struct hook *hooks;
};

struct arena *arena_new(void)
{
	return xcalloc(1, sizeof(struct arena));
}

void arena_free(struct arena *a)
{
	if (a == NULL)
		return;
	while (a->hooks != NULL) {
		struct hook *h = a->hooks;

		a->hooks = h->next;
		h->fn(h->ud);	/* the hook itself lives in a block: freed below */
	}
	while (a->head != NULL) {
		struct block *b = a->head;

		a->head = b->next;
		xfree(b);
	}
	xfree(a);
}

void *arena_alloc(struct arena *a, size_t n)
{
	struct block *b = a->head;

	n = (n + 15) & ~(size_t)15;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > BLOCK_SIZE ? n : BLOCK_SIZE;

		b = xmalloc(sizeof(*b) + cap);
		b->used = 0;
		b->cap = cap;
		if (a->head != NULL && n > BLOCK_SIZE / 2) {
			/* keep the partly used block at the head for small allocations */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);

	memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p;

	if (s == NULL)
		return NULL;
	p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void *arena_reserve(struct arena *a, void *p, size_t n, size_t *cap, size_t size)
{
	void *grown;

	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 8;
	AT_ASSERT(*cap <= SIZE_MAX / size);
	grown = arena_zalloc(a, *cap * size);
	if (n > 0)
		memcpy(grown, p, n * size);
	return grown;
}

void arena_on_free(struct arena *a, void (*fn)(void *), void *ud)
{
	struct hook *h = arena_alloc(a, sizeof(*h));

	h->fn = fn;
	h->ud = ud;
	h->next = a->hooks;
	a->hooks = h;
}
