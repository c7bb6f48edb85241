/* html.c: the only way bytes reach an HTML response. */
#include <stdio.h>
#include <string.h>

#include "fcgi/html.h"

void html_raw(struct req *r, const char *s, size_t n)
{
	(void)buf_append(&r->out, s, n);
}

static const char *entity(char c)
{
	switch (c) {
	case '<': return "&lt;";
	case '>': return "&gt;";
	case '&': return "&amp;";
	case '"': return "&quot;";
	case '\'': return "&#x27;";
	}
	return NULL;
}

void html_txt(struct req *r, const char *s)
{
	const char *start = s;

	if (s == NULL)
		return;
	for (; *s; s++) {
		const char *e = entity(*s);

		if (e == NULL)
			continue;
		html_raw(r, start, (size_t)(s - start));
		html_raw(r, e, strlen(e));
		start = s + 1;
	}
	html_raw(r, start, (size_t)(s - start));
}

void html_attr(struct req *r, const char *s)
{
	html_txt(r, s);
}

char *html_escape(struct arena *a, const char *s)
{
	size_t n = 0;
	char *o, *p;

	for (const char *q = s; *q; q++)
		n += entity(*q) ? strlen(entity(*q)) : 1;
	o = p = arena_alloc(a, n + 1);
	for (const char *q = s; *q; q++) {
		const char *e = entity(*q);

		if (e) {
			memcpy(p, e, strlen(e));
			p += strlen(e);
		} else {
			*p++ = *q;
		}
	}
	*p = '\0';
	return o;
}

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

char *html_urlencode(struct arena *a, const char *s)
{
	char *o = arena_alloc(a, strlen(s) * 3 + 1), *p = o;

	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		if (unreserved(*q)) {
			*p++ = (char)*q;
		} else {
			*p++ = '%';
			*p++ = "0123456789ABCDEF"[*q >> 4];
			*p++ = "0123456789ABCDEF"[*q & 15];
		}
	}
	*p = '\0';
	return o;
}

void html_url_arg(struct req *r, const char *s)
{
	char *e = html_urlencode(r->arena, s ? s : "");

	html_raw(r, e, strlen(e));
}

void html_int(struct req *r, long long v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%lld", v);

	html_raw(r, b, (size_t)n);
}

void html_link(struct req *r, const char *url, const char *label)
{
	html(r, "<a href='");
	html_attr(r, url);
	html(r, "'>");
	html_txt(r, label);
	html(r, "</a>");
}

void html_hidden(struct req *r, const char *name, const char *value)
{
	html(r, "<input type='hidden' name='");
	html_attr(r, name);
	html(r, "' value='");
	html_attr(r, value);
	html(r, "'>");
}

void html_page_begin(struct req *r, const char *title)
{
	html(r, "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
		"<meta name='viewport' content='width=device-width, initial-scale=1'>"
		"<title>");
	html_txt(r, title);
	html(r, " · Attest</title><link rel='stylesheet' href='/static/attest.css'></head>"
		"<body>");
}

void html_page_end(struct req *r)
{
	html(r, "</body></html>\n");
}
