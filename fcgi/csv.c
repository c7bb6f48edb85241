/* csv.c: CSV answers for reports (see csv.h). */
#include <string.h>

#include "fcgi/csv.h"
#include "fcgi/http.h"

static void put(struct csv *c, const char *p, size_t n)
{
	if (buf_append(&c->b, p, n) != AT_OK)
		c->toobig = true;
}

void csv_init(struct csv *c)
{
	buf_init(&c->b, CSV_MAX);
	c->first = true;
	c->toobig = false;
}

void csv_cell(struct csv *c, const char *s)
{
	bool quote;

	if (s == NULL)
		s = "";
	if (!c->first)
		put(c, ",", 1);
	c->first = false;
	quote = strpbrk(s, ",\"\r\n") != NULL;
	if (quote)
		put(c, "\"", 1);
	if (s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL)
		put(c, "'", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			put(c, "\"\"", 2);
		else
			put(c, p, 1);
	}
	if (quote)
		put(c, "\"", 1);
}

void csv_num(struct csv *c, struct arena *a, int64_t v)
{
	const char *t = arena_printf(a, "%lld", (long long)v);

	if (!c->first)
		put(c, ",", 1);
	c->first = false;
	put(c, t, strlen(t));
}

void csv_end(struct csv *c)
{
	put(c, "\r\n", 2);
	c->first = true;
}

void csv_send(struct req *r, struct csv *c, const char *name)
{
	char *fn = arena_strdup(r->arena, name);

	for (char *p = fn; *p; p++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
			   *p) == NULL)
			*p = '_';
	if (c->toobig) {
		buf_cleanup(&c->b);
		http_error_page(r, 500, "Report too large", "The report is too large.");
		return;
	}
	r->status = 200;
	(void)http_header(r, "Content-Type", "text/csv; charset=utf-8");
	(void)http_header(r, "Content-Disposition",
			  arena_printf(r->arena, "attachment; filename=\"%s\"", fn));
	(void)http_header(r, "X-Content-Type-Options", "nosniff");
	(void)http_header(r, "Cache-Control", "no-store");
	buf_reset(&r->out);
	(void)buf_append(&r->out, c->b.data, c->b.len);
	buf_cleanup(&c->b);
}
