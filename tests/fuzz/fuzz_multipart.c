/* fuzz_multipart.c: multipart/form-data bodies must not crash, hang, leak or overrun.
 *
 * Input: the first line is the Content-Type value; the first byte after it picks the
 * chunk size, so boundaries fall at every split; the rest is the body. Each body is
 * parsed twice, in chunks and whole, and both runs must agree on the result and on a
 * digest of what the callbacks saw.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fcgi/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

struct seen {
	uint64_t h;
	size_t parts, bytes;
};

static void mix(struct seen *s, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		s->h = (s->h ^ c[i]) * 1099511628211u;
}

static enum at_rc on_part(void *ud, const struct multipart_part *p, struct at_err *err)
{
	struct seen *s = ud;

	(void)err;
	s->parts++;
	mix(s, p->name, strlen(p->name) + 1);
	if (p->filename != NULL)
		mix(s, p->filename, strlen(p->filename) + 1);
	mix(s, p->content_type, strlen(p->content_type) + 1);
	return AT_OK;
}

static enum at_rc on_data(void *ud, const char *p, size_t n, struct at_err *err)
{
	struct seen *s = ud;

	(void)err;
	if (n == 0)
		__builtin_trap();
	s->bytes += n;
	mix(s, p, n);
	return AT_OK;
}

static enum at_rc on_end(void *ud, struct at_err *err)
{
	(void)err;
	mix(ud, "$", 1);
	return AT_OK;
}

static enum at_rc parse(struct arena *a, const char *ct, const char *body, size_t len,
			size_t chunk, struct seen *s)
{
	struct multipart_cb cb = { on_part, on_data, on_end, s };
	struct multipart *m;
	struct at_err err;
	enum at_rc rc = multipart_new(a, ct, &cb, &m, &err);

	for (size_t off = 0; rc == AT_OK && off < len; off += chunk) {
		size_t n = len - off < chunk ? len - off : chunk;

		rc = multipart_feed(m, body + off, n, &err);
	}
	if (rc == AT_OK)
		rc = multipart_finish(m, &err);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *p = (const char *)data;
	const char *nl = memchr(p, '\n', len);
	struct arena *a;
	struct seen s1, s2;
	char *ct;
	size_t chunk, rest;
	enum at_rc r1, r2;

	if (nl == NULL || (size_t)(nl - p) + 1 >= len)
		return 0;
	a = arena_new();
	ct = arena_strndup(a, p, (size_t)(nl - p));
	chunk = (unsigned char)nl[1] % 97 + 1;
	rest = len - (size_t)(nl - p) - 2;
	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	r1 = parse(a, ct, nl + 2, rest, chunk, &s1);
	r2 = parse(a, ct, nl + 2, rest, rest ? rest : 1, &s2);
	if (r1 != r2 || s1.h != s2.h || s1.parts != s2.parts || s1.bytes > rest)
		__builtin_trap();
	arena_free(a);
	return 0;
}
