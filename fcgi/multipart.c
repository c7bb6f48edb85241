/* multipart.c: streaming multipart/form-data (RFC 7578) with bounded state.
 *
 * The delimiter is CRLF "--" boundary. A boundary holds no CR (RFC 2046 bchars, checked),
 * so CR appears in the delimiter only at its first byte: after a mismatch at position k
 * no suffix of the k matched bytes can start a new match, and those bytes are exactly
 * delim[0..k). The parser therefore keeps only a count of matched bytes, never the bytes,
 * and hands data to the caller as it arrives. The first boundary may open the body
 * without a CRLF before it: the preamble starts as if CRLF had been matched.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fcgi/multipart.h"

enum state {
	S_PREAMBLE,	/* looking for the first delimiter; bytes discarded */
	S_DELIM,	/* just after a delimiter: "--", padding or CRLF follows */
	S_DASH,		/* one '-' seen after a delimiter */
	S_PADDING,	/* blanks after a delimiter */
	S_LF,		/* CR seen after a delimiter, LF expected */
	S_HEADERS,	/* a part's header block, up to the empty line */
	S_DATA,		/* a part's body, up to the next delimiter */
	S_EPILOGUE,	/* after the closing delimiter; bytes ignored */
	S_FAILED,
};

struct multipart {
	struct multipart_cb cb;
	char delim[4 + MULTIPART_MAX_BOUNDARY + 1];	/* "\r\n--" boundary */
	size_t delim_len;
	size_t matched;		/* bytes of delim matched and not yet passed on */
	enum state st;
	enum at_rc failed;
	char msg[sizeof(((struct at_err *)0)->msg)];
	size_t padding;
	size_t nparts;
	size_t hdr_len;
	char hdr[MULTIPART_MAX_HEADER + 1];
	char val[MULTIPART_MAX_HEADER + 1];	/* decoded parameter values */
	size_t val_len;
};

static bool is_bchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("'()+_,-./:=? ", c) != NULL);
}

static bool is_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static const char *skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * Parse one parameter value at s (a token or a quoted-string with backslash escapes)
 * into out (at most cap bytes plus NUL). Returns the end of the value, NULL if malformed.
 */
static const char *param_value(const char *s, char *out, size_t cap, size_t *out_len)
{
	size_t n = 0;

	if (*s == '"') {
		for (s++; *s != '"'; s++) {
			if (*s == '\0')
				return NULL;
			if (*s == '\\' && s[1] != '\0')
				s++;
			if (n >= cap)
				return NULL;
			out[n++] = *s;
		}
		s++;
	} else {
		for (; is_tchar((unsigned char)*s); s++) {
			if (n >= cap)
				return NULL;
			out[n++] = *s;
		}
		if (n == 0)
			return NULL;
	}
	out[n] = '\0';
	*out_len = n;
	return s;
}

/* Parse the parameter name at s ("name" in "; name=value"); returns its end, NULL if none. */
static const char *param_name(const char *s, const char **name, size_t *name_len)
{
	const char *b = s;

	while (is_tchar((unsigned char)*s))
		s++;
	if (s == b)
		return NULL;
	*name = b;
	*name_len = (size_t)(s - b);
	return s;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

enum at_rc multipart_boundary(const char *ct, char *out, size_t size, struct at_err *err)
{
	static const char type[] = "multipart/form-data";
	const char *s;
	bool found = false;

	if (ct == NULL || strncasecmp(ct, type, sizeof(type) - 1) != 0)
		return at_fail(err, AT_BADREQ, "the body is not multipart/form-data");
	AT_ASSERT(size > MULTIPART_MAX_BOUNDARY);
	s = skip_ows(ct + sizeof(type) - 1);
	while (*s != '\0') {
		const char *name;
		size_t name_len, len;
		char v[MULTIPART_MAX_HEADER];

		if (*s != ';')
			return at_fail(err, AT_BADREQ, "malformed Content-Type parameters");
		s = skip_ows(s + 1);
		if (*s == '\0')
			break;	/* a trailing ';' is harmless */
		s = param_name(s, &name, &name_len);
		if (s == NULL || *s != '=')
			return at_fail(err, AT_BADREQ, "malformed Content-Type parameters");
		s = param_value(s + 1, v, sizeof(v) - 1, &len);
		if (s == NULL)
			return at_fail(err, AT_BADREQ, "malformed Content-Type parameter value");
		s = skip_ows(s);
		if (!name_is(name, name_len, "boundary"))
			continue;
		if (found)
			return at_fail(err, AT_BADREQ, "two boundary parameters");
		if (len == 0 || len > MULTIPART_MAX_BOUNDARY)
			return at_fail(err, AT_BADREQ, "the multipart boundary must be 1 to %d "
				       "characters long", MULTIPART_MAX_BOUNDARY);
		for (size_t i = 0; i < len; i++)
			if (!is_bchar((unsigned char)v[i]))
				return at_fail(err, AT_BADREQ, "bad character in the multipart "
					       "boundary");
		if (v[len - 1] == ' ')
			return at_fail(err, AT_BADREQ, "the multipart boundary ends with a space");
		memcpy(out, v, len + 1);
		found = true;
	}
	if (!found)
		return at_fail(err, AT_BADREQ, "multipart/form-data without a boundary");
	return AT_OK;
}

enum at_rc multipart_new(struct arena *a, const char *content_type,
			 const struct multipart_cb *cb, struct multipart **out,
			 struct at_err *err)
{
	char b[MULTIPART_MAX_BOUNDARY + 1];
	struct multipart *m;
	enum at_rc rc = multipart_boundary(content_type, b, sizeof(b), err);

	*out = NULL;
	if (rc != AT_OK)
		return rc;
	m = arena_zalloc(a, sizeof(*m));
	m->cb = *cb;
	m->delim_len = (size_t)snprintf(m->delim, sizeof(m->delim), "\r\n--%s", b);
	m->matched = 2;		/* the first delimiter needs no CRLF before it */
	m->st = S_PREAMBLE;
	*out = m;
	return AT_OK;
}

__attribute__((format(printf, 3, 4)))
static enum at_rc fail(struct multipart *m, enum at_rc rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->msg, sizeof(m->msg), fmt, ap);
	va_end(ap);
	m->st = S_FAILED;
	m->failed = rc;
	return rc;
}

/* A callback failed: keep its rc and message. */
static enum at_rc cb_fail(struct multipart *m, enum at_rc rc, const struct at_err *e)
{
	if (e->msg[0] != '\0')
		return fail(m, rc, "%s", e->msg);
	return fail(m, rc, "multipart: %s", at_strerror(rc));
}

/* Pass data on (S_DATA) or drop it (S_PREAMBLE). */
static enum at_rc emit(struct multipart *m, const char *p, size_t n)
{
	struct at_err e = { "" };
	enum at_rc rc;

	if (n == 0 || m->st != S_DATA || m->cb.data == NULL)
		return AT_OK;
	rc = m->cb.data(m->cb.ud, p, n, &e);
	return rc == AT_OK ? AT_OK : cb_fail(m, rc, &e);
}

/*
 * Scan for the delimiter in p[0..n); sets *used to the bytes consumed (up to and
 * including a complete delimiter, after which the state is S_DELIM).
 */
static enum at_rc scan(struct multipart *m, const char *p, size_t n, size_t *used)
{
	size_t i = 0, run = 0;	/* p[run..i) is data not yet passed on */
	enum at_rc rc;

	while (i < n) {
		if (m->matched == 0) {
			const char *cr = memchr(p + i, '\r', n - i);

			if (cr == NULL) {
				i = n;
				break;
			}
			i = (size_t)(cr - p);
			rc = emit(m, p + run, i - run);
			if (rc != AT_OK)
				return rc;
			m->matched = 1;
			run = ++i;
			continue;
		}
		if (p[i] == m->delim[m->matched]) {
			run = ++i;
			if (++m->matched < m->delim_len)
				continue;
			m->matched = 0;
			if (m->st == S_DATA && m->cb.end != NULL) {
				struct at_err e = { "" };

				rc = m->cb.end(m->cb.ud, &e);
				if (rc != AT_OK)
					return cb_fail(m, rc, &e);
			}
			m->st = S_DELIM;
			*used = i;
			return AT_OK;
		}
		/* mismatch: the held bytes were data after all; p[i] is tested again */
		rc = emit(m, m->delim, m->matched);
		if (rc != AT_OK)
			return rc;
		m->matched = 0;
		run = i;
	}
	*used = n;
	return emit(m, p + run, i - run);
}

/* Trimmed header value; the line is NUL-terminated in place. */
static char *header_value(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Store a decoded parameter value in m->val; returns it. */
static const char *disposition_param(struct multipart *m, const char **s)
{
	size_t len;
	char *out = m->val + m->val_len;
	const char *e = param_value(*s, out, sizeof(m->val) - m->val_len - 1, &len);

	if (e == NULL)
		return NULL;
	m->val_len += len + 1;
	*s = e;
	return out;
}

static enum at_rc parse_disposition(struct multipart *m, const char *s,
				    struct multipart_part *part)
{
	static const char type[] = "form-data";

	if (strncasecmp(s, type, sizeof(type) - 1) != 0 ||
	    (s[sizeof(type) - 1] != ';' && s[sizeof(type) - 1] != ' ' &&
	     s[sizeof(type) - 1] != '\t' && s[sizeof(type) - 1] != '\0'))
		return fail(m, AT_BADREQ, "multipart: Content-Disposition is not form-data");
	s = skip_ows(s + sizeof(type) - 1);
	while (*s != '\0') {
		const char *name, *v;
		size_t name_len;

		if (*s != ';')
			return fail(m, AT_BADREQ, "multipart: malformed Content-Disposition");
		s = skip_ows(s + 1);
		if (*s == '\0')
			break;
		s = param_name(s, &name, &name_len);
		if (s == NULL || *s != '=')
			return fail(m, AT_BADREQ, "multipart: malformed Content-Disposition");
		s++;
		v = disposition_param(m, &s);
		if (v == NULL)
			return fail(m, AT_BADREQ, "multipart: malformed Content-Disposition value");
		s = skip_ows(s);
		/* filename* (RFC 5987) is ignored, as RFC 7578 §4.2 asks */
		if (name_is(name, name_len, "name") && part->name == NULL)
			part->name = v;
		else if (name_is(name, name_len, "filename") && part->filename == NULL)
			part->filename = v;
	}
	return AT_OK;
}

/* The header block hdr[0..hdr_len) ends with CRLF CRLF (or is a lone CRLF). */
static enum at_rc parse_headers(struct multipart *m)
{
	struct multipart_part part = { NULL, NULL, NULL };
	char *line = m->hdr, *end = m->hdr + m->hdr_len;
	bool have_cd = false;
	enum at_rc rc;

	if (memchr(m->hdr, '\0', m->hdr_len) != NULL)
		return fail(m, AT_BADREQ, "multipart: NUL byte in part headers");
	m->hdr[m->hdr_len] = '\0';
	m->val_len = 0;
	while (line < end) {
		char *crlf = strstr(line, "\r\n"), *colon, *v;
		size_t name_len;

		AT_ASSERT(crlf != NULL);
		*crlf = '\0';
		if (*line == '\0')
			break;	/* the empty line */
		if (strchr(line, '\r') != NULL || strchr(line, '\n') != NULL)
			return fail(m, AT_BADREQ, "multipart: bare CR or LF in part headers");
		if (*line == ' ' || *line == '\t')
			return fail(m, AT_BADREQ, "multipart: folded part header");
		colon = strchr(line, ':');
		if (colon == NULL || colon == line)
			return fail(m, AT_BADREQ, "multipart: malformed part header line");
		name_len = (size_t)(colon - line);
		for (size_t i = 0; i < name_len; i++)
			if (!is_tchar((unsigned char)line[i]))
				return fail(m, AT_BADREQ, "multipart: malformed part header name");
		v = header_value(colon + 1);
		if (name_is(line, name_len, "Content-Disposition")) {
			if (have_cd)
				return fail(m, AT_BADREQ, "multipart: two Content-Disposition "
					    "headers");
			have_cd = true;
			rc = parse_disposition(m, v, &part);
			if (rc != AT_OK)
				return rc;
		} else if (name_is(line, name_len, "Content-Type")) {
			part.content_type = v;
		}
		line = crlf + 2;
	}
	if (part.name == NULL || part.name[0] == '\0')
		return fail(m, AT_BADREQ, "multipart: part %zu has no name", m->nparts);
	if (part.content_type == NULL || part.content_type[0] == '\0')
		part.content_type = "text/plain";
	if (m->cb.part != NULL) {
		struct at_err e = { "" };

		rc = m->cb.part(m->cb.ud, &part, &e);
		if (rc != AT_OK)
			return cb_fail(m, rc, &e);
	}
	return AT_OK;
}

/* Collect header bytes; returns bytes used in *used. */
static enum at_rc headers(struct multipart *m, const char *p, size_t n, size_t *used)
{
	for (size_t i = 0; i < n; i++) {
		if (m->hdr_len >= MULTIPART_MAX_HEADER)
			return fail(m, AT_BADREQ, "multipart: part headers longer than %d bytes",
				    MULTIPART_MAX_HEADER);
		m->hdr[m->hdr_len++] = p[i];
		if (p[i] != '\n')
			continue;
		if ((m->hdr_len == 2 && m->hdr[0] == '\r') ||
		    (m->hdr_len >= 4 && memcmp(m->hdr + m->hdr_len - 4, "\r\n\r\n", 4) == 0)) {
			enum at_rc rc = parse_headers(m);

			*used = i + 1;
			if (rc != AT_OK)
				return rc;
			m->st = S_DATA;
			m->matched = 0;
			return AT_OK;
		}
	}
	*used = n;
	return AT_OK;
}

/* One byte after a delimiter. */
static enum at_rc after_delim(struct multipart *m, char c)
{
	switch (m->st) {
	case S_DELIM:
		if (c == '-') {
			m->st = S_DASH;
			return AT_OK;
		}
		m->padding = 0;
		m->st = S_PADDING;
		/* fall through */
	case S_PADDING:
		if (c == ' ' || c == '\t') {
			if (++m->padding > MULTIPART_MAX_PADDING)
				return fail(m, AT_BADREQ, "multipart: too much padding after "
					    "a boundary");
			return AT_OK;
		}
		if (c != '\r')
			return fail(m, AT_BADREQ, "multipart: unexpected byte after a boundary");
		m->st = S_LF;
		return AT_OK;
	case S_LF:
		if (c != '\n')
			return fail(m, AT_BADREQ, "multipart: CR without LF after a boundary");
		if (m->nparts >= MULTIPART_MAX_PARTS)
			return fail(m, AT_TOOBIG, "multipart: more than %d parts",
				    MULTIPART_MAX_PARTS);
		m->nparts++;
		m->hdr_len = 0;
		m->st = S_HEADERS;
		return AT_OK;
	case S_DASH:
		if (c != '-')
			return fail(m, AT_BADREQ, "multipart: unexpected byte after a boundary");
		m->st = S_EPILOGUE;
		return AT_OK;
	default:
		AT_ASSERT(!"after_delim in another state");
		return AT_INTERNAL;
	}
}

enum at_rc multipart_feed(struct multipart *m, const char *p, size_t n, struct at_err *err)
{
	enum at_rc rc = AT_OK;

	while (n > 0 && rc == AT_OK) {
		size_t used = 1;

		switch (m->st) {
		case S_PREAMBLE:
		case S_DATA:
			rc = scan(m, p, n, &used);
			break;
		case S_HEADERS:
			rc = headers(m, p, n, &used);
			break;
		case S_EPILOGUE:
			used = n;
			break;
		case S_FAILED:
			rc = m->failed;
			break;
		default:
			rc = after_delim(m, *p);
			break;
		}
		p += used;
		n -= used;
	}
	if (m->st == S_FAILED)
		return at_fail(err, m->failed, "%s", m->msg);
	return rc;
}

enum at_rc multipart_finish(struct multipart *m, struct at_err *err)
{
	if (m->st == S_FAILED)
		return at_fail(err, m->failed, "%s", m->msg);
	if (m->st != S_EPILOGUE) {
		fail(m, AT_BADREQ, "multipart: missing final boundary");
		return at_fail(err, AT_BADREQ, "%s", m->msg);
	}
	return AT_OK;
}
