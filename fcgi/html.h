/* html.h: escape-by-construction HTML output (cgit's html.c idea). */
#ifndef AT_HTML_H
#define AT_HTML_H

#include "fcgi/req.h"

void html_raw(struct req *r, const char *s, size_t n);
/* Only string literals: anything else is a compile error. */
#define html(r, lit) html_raw((r), "" lit, sizeof(lit) - 1)

void html_txt(struct req *r, const char *s);	/* text node: < > & " ' escaped; NULL = "" */
void html_attr(struct req *r, const char *s);	/* attribute value (caller writes the quotes) */
void html_url_arg(struct req *r, const char *s);	/* percent-encodes all but unreserved */
void html_int(struct req *r, long long v);
/* <a href='url'>label</a>, both escaped. */
void html_link(struct req *r, const char *url, const char *label);
/* <input type='hidden' name='n' value='v'>, escaped. */
void html_hidden(struct req *r, const char *name, const char *value);

/* The shared layout: doctype, head with the stylesheet, body. */
void html_page_begin(struct req *r, const char *title);
void html_page_end(struct req *r);

/* Escaping into a string, for tests and attributes built elsewhere. From r's arena. */
char *html_escape(struct arena *a, const char *s);
/* Percent-encode s (RFC 3986 unreserved kept) into a. */
char *html_urlencode(struct arena *a, const char *s);

#endif
