/* http.c: status, headers, cookies, redirects, errors and the final send. */
#include <errno.h>
#include <json-c/json.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/origins.h"
#include "fcgi/session.h"

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	}
	return "Status";
}

int http_status_of(enum at_rc rc)
{
	switch (rc) {
	case AT_OK: return 200;
	case AT_BADREQ: return 400;
	case AT_UNAUTH: return 401;
	case AT_FORBIDDEN: return 403;
	case AT_NOTFOUND: return 404;
	case AT_CONFLICT: return 409;
	case AT_TOOBIG: return 413;
	case AT_UPSTREAM: return 502;
	case AT_TIMEOUT: return 503;
	case AT_DB:
	case AT_INTERNAL: return 500;
	}
	return 500;
}

enum at_rc http_header(struct req *r, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") != NULL || strpbrk(value, "\r\n") != NULL)
		return AT_BADREQ;
	(void)buf_printf(&r->headers, "%s: %s\r\n", name, value);
	return AT_OK;
}

void http_status(struct req *r, int status)
{
	r->status = status;
}

static bool token_chars(const char *s)
{
	for (; *s; s++)
		if (*s <= 0x20 || *s >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", *s) != NULL)
			return false;
	return true;
}

enum at_rc http_cookie(struct req *r, const char *name, const char *value, const char *path,
		       int max_age)
{
	char line[1024];

	if (!token_chars(name) || !token_chars(value) || strpbrk(path, "\r\n;") != NULL)
		return AT_BADREQ;
	snprintf(line, sizeof(line),
		 "%s=%s; Path=%s; Max-Age=%d; HttpOnly; Secure; SameSite=None; Partitioned", name,
		 value, path, max_age);
	return http_header(r, "Set-Cookie", line);
}

void http_redirect(struct req *r, int status, const char *url)
{
	r->status = status;
	if (http_header(r, "Location", url) != AT_OK) {
		r->status = 500;
		return;
	}
	(void)http_header(r, "Cache-Control", "no-store");
}

void http_html_headers(struct req *r)
{
	char csp[4096];

	const char *fa;

	/*
	 * Who may frame this page. A session page: only the platform that launched it (its
	 * registered origins and the origins learned from its launches). The LTI flow pages
	 * (login, launch, registration and their error pages) run inside the LMS before any
	 * origin can be known — a Canvas cloud course page lives on the institution's own
	 * domain — and carry nothing a framing page could use: any ancestor. Other pages:
	 * every registered platform.
	 */
	if (r->sess != NULL)
		fa = arena_printf(r->arena, "'self'%s%s%s%s",
				  r->sess->s.frame_ancestors[0] ? " " : "",
				  r->sess->s.frame_ancestors,
				  g_app.cfg.frame_ancestors[0] ? " " : "", g_app.cfg.frame_ancestors);
	else if (strncmp(r->path, "/lti/", 5) == 0)
		fa = "*";
	else
		fa = origins_frame_ancestors();
	snprintf(csp, sizeof(csp),
		 "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
		 "media-src 'self' blob:; "
		 "form-action *; base-uri 'none'; object-src 'none'; frame-ancestors %s", fa);
	(void)http_header(r, "Content-Type", "text/html; charset=utf-8");
	(void)http_header(r, "Content-Security-Policy", csp);
	(void)http_header(r, "X-Content-Type-Options", "nosniff");
	(void)http_header(r, "Referrer-Policy", "no-referrer");
	(void)http_header(r, "Cache-Control", "no-store");
	r->is_html = true;
}

static bool wants_json(struct req *r)
{
	return strncmp(r->path, "/api/", 5) == 0 || strcmp(r->path, "/healthz") == 0;
}

enum at_rc http_error_page(struct req *r, int status, const char *title, const char *msg)
{
	buf_reset(&r->headers);
	buf_reset(&r->out);
	r->status = status;
	if (wants_json(r)) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(title));
		json_object_object_add(o, "message", json_object_new_string(msg));
		json_object_object_add(o, "request_id", json_object_new_string(r->rid));
		http_json(r, status, o);
		json_object_put(o);
		return AT_OK;
	}
	http_html_headers(r);
	html_page_begin(r, title);
	html(r, "<main class='error'><h1>");
	html_txt(r, title);
	html(r, "</h1><p>");
	html_txt(r, msg);
	html(r, "</p><p class='rid'>Request id: <code>");
	html_txt(r, r->rid);
	html(r, "</code></p></main>");
	html_page_end(r);
	return AT_OK;
}

enum at_rc http_error(struct req *r, enum at_rc rc, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	int status = http_status_of(rc);

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_msg(status >= 500 ? LOG_ERR : LOG_INFO, r->rid, "op=error status=%d rc=%s detail=%s",
		status, at_strerror(rc), detail);
	/* 4xx details are ours and safe to show; 5xx details may hold internals. */
	http_error_page(r, status, status >= 500 ? "Something went wrong" : at_strerror(rc),
			status >= 500 ? "Attest could not complete this request. "
					"Please try again; if it keeps failing, give the "
					"request id below to your administrator." : detail);
	return rc;
}

void http_json(struct req *r, int status, struct json_object *o)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &len);

	r->status = status;
	(void)http_header(r, "Content-Type", "application/json");
	(void)http_header(r, "X-Content-Type-Options", "nosniff");
	(void)http_header(r, "Cache-Control", "no-store");
	buf_reset(&r->out);
	(void)buf_append(&r->out, s, len);
}

void http_send_file(struct req *r, int fd, int64_t size)
{
	if (r->has_send_fd)
		close(r->send_fd);
	buf_reset(&r->out);
	r->has_send_fd = true;
	r->send_fd = fd;
	r->send_size = size;
}

/* Copy the file body; a short file is padded with nothing: the connection is then cut
 * short by Content-Length, which the client sees as an error (never wrong bytes). */
static void send_file(struct req *r)
{
	char chunk[64 << 10];
	int64_t left = r->send_size;

	while (left > 0) {
		ssize_t got = read(r->send_fd, chunk, left < (int64_t)sizeof(chunk) ?
				   (size_t)left : sizeof(chunk));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			log_msg(LOG_ERR, r->rid, "op=send_file short read left=%lld",
				(long long)left);
			break;
		}
		if (r->io->write(r->io->ud, chunk, (size_t)got) != 0)
			break;	/* the client went away */
		left -= got;
	}
	close(r->send_fd);
	r->has_send_fd = false;
}

void http_send(struct req *r)
{
	char head[128];
	int n;

	if (r->sent)
		return;
	r->sent = true;
	if (r->status == 0)
		r->status = 200;
	n = snprintf(head, sizeof(head), "Status: %d %s\r\nX-Request-Id: %s\r\n", r->status,
		     reason(r->status), r->rid);
	(void)r->io->write(r->io->ud, head, (size_t)n);
	if (r->headers.len > 0)
		(void)r->io->write(r->io->ud, r->headers.data, r->headers.len);
	n = snprintf(head, sizeof(head), "Content-Length: %lld\r\n\r\n",
		     r->has_send_fd ? (long long)r->send_size : (long long)r->out.len);
	(void)r->io->write(r->io->ud, head, (size_t)n);
	if (strcmp(r->method ? r->method : "GET", "HEAD") == 0) {
		if (r->has_send_fd) {
			close(r->send_fd);
			r->has_send_fd = false;
		}
		return;
	}
	if (r->has_send_fd)
		send_file(r);
	else if (r->out.len > 0)
		(void)r->io->write(r->io->ud, r->out.data, r->out.len);
}
