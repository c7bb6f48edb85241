/* httpc.c: outbound HTTP with libcurl, the way every LMS call goes out. */
#include <ctype.h>
#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/fault.h"
#include "lti/httpc.h"

struct ctx {
	struct buf body;
	struct arena *a;
	struct httpc_resp *resp;
};

void httpc_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void httpc_global_cleanup(void)
{
	curl_global_cleanup();
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	struct ctx *c = ud;

	return buf_append(&c->body, p, sz * n) == AT_OK ? sz * n : 0;
}

static int64_t parse_num(const char *p)
{
	int64_t n = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p) && n < 100000000) {
		n = n * 10 + (*p - '0');
		p++;
	}
	return n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct ctx *c = ud;
	size_t len = sz * n;
	char *line = arena_strndup(c->a, p, len);
	char *v;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (strncasecmp(line, "HTTP/", 5) == 0) {	/* a new response (redirect/100) */
		c->resp->max_age = -1;
		c->resp->retry_after = -1;
		c->resp->link_next = NULL;
		c->resp->location = NULL;
		return sz * n;
	}
	v = strchr(line, ':');
	if (v == NULL)
		return sz * n;
	*v++ = '\0';
	while (*v == ' ')
		v++;
	if (strcasecmp(line, "Cache-Control") == 0) {
		char *m = strcasestr(v, "max-age=");

		if (strcasestr(v, "no-store") || strcasestr(v, "no-cache"))
			c->resp->max_age = 0;
		else if (m != NULL)
			c->resp->max_age = parse_num(m + 8);
	} else if (strcasecmp(line, "Retry-After") == 0) {
		c->resp->retry_after = parse_num(v);
	} else if (strcasecmp(line, "Link") == 0) {
		char *next = httpc_link_rel(c->a, v, "next");

		if (next != NULL)
			c->resp->link_next = next;
	} else if (strcasecmp(line, "Location") == 0) {
		c->resp->location = v;
	}
	return sz * n;
}

/* Link: <url>; rel="next"; foo=bar, <url2>; rel="last prev" — rel may be quoted and hold
 * several space-separated relation types. */
char *httpc_link_rel(struct arena *a, const char *value, const char *rel)
{
	const char *p = value;
	size_t rl = strlen(rel);

	while (p != NULL && *p != '\0') {
		const char *lt = strchr(p, '<'), *gt, *end, *q;

		if (lt == NULL)
			return NULL;
		gt = strchr(lt + 1, '>');
		if (gt == NULL)
			return NULL;
		end = strchr(gt, ',');		/* params end at the next link (URLs are <>-quoted) */
		if (end == NULL)
			end = gt + strlen(gt);
		for (q = gt + 1; q < end; q++) {
			const char *v;
			size_t vl;

			if (strncasecmp(q, "rel=", 4) != 0)
				continue;
			v = q + 4;
			if (*v == '"')
				v++;
			vl = strcspn(v, "\";,");
			for (const char *w = v; w < v + vl;) {	/* each relation type */
				size_t wl = strcspn(w, " \";,");

				if (wl == rl && strncasecmp(w, rel, rl) == 0)
					return arena_strndup(a, lt + 1, (size_t)(gt - lt - 1));
				w += wl;
				while (*w == ' ')
					w++;
				if (wl == 0)
					break;
			}
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

enum at_rc httpc_request(struct arena *a, const struct httpc_opts *o, const char *method,
			 const char *url, const char *const *headers, const char *body,
			 size_t body_len, struct httpc_resp *resp, struct at_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = NULL;
	struct ctx c;
	CURL *h = NULL;
	CURLcode cc;
	char *ct = NULL;
	enum at_rc rc = AT_INTERNAL;

	memset(resp, 0, sizeof(*resp));
	resp->max_age = -1;
	resp->retry_after = -1;
	if (strncmp(url, "https://", 8) != 0 &&
	    !(o->allow_http && strncmp(url, "http://", 7) == 0))
		return at_fail(err, AT_BADREQ, "refusing non-HTTPS URL");
	if (fault_hit("httpc"))
		return at_fail(err, AT_UPSTREAM, "injected fault");
	buf_init(&c.body, o->max_reply);
	c.a = a;
	c.resp = resp;
	h = curl_easy_init();
	if (h == NULL)
		goto out;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)o->total_ms);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, o->allow_http ? "https,http" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &c);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "Attest/1.0 (LTI 1.3 tool)");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_reply);
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		struct curl_slist *t = curl_slist_append(hl, headers[i]);

		if (t == NULL)
			goto out;
		hl = t;
	}
	if (hl != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		if (body != NULL) {
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		}
	}
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		if (cc == CURLE_OPERATION_TIMEDOUT)
			rc = at_fail(err, AT_TIMEOUT, "timeout: %s", errbuf);
		else if (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED)
			rc = at_fail(err, AT_TOOBIG, "reply larger than %zu bytes", o->max_reply);
		else
			rc = at_fail(err, AT_UPSTREAM, "%s: %s", curl_easy_strerror(cc),
				     errbuf[0] ? errbuf : "-");
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	resp->content_type = arena_strdup(a, ct);
	resp->body = arena_strndup(a, buf_cstr(&c.body), c.body.len);
	resp->body_len = c.body.len;
	rc = AT_OK;
out:
	curl_slist_free_all(hl);
	if (h != NULL)
		curl_easy_cleanup(h);
	buf_cleanup(&c.body);
	return rc;
}
