/* httpc.c: outbound HTTP with libcurl, the way every LMS call goes out. */
#include <ctype.h>
#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/fault.h"
#include "core/mem.h"
#include "lti/httpc.h"

struct ctx {
	struct buf body;
	struct arena *a;
	struct httpc_resp *resp;
	struct curl_slist *hl;
	char errbuf[CURL_ERROR_SIZE];
};

struct httpc_pool {
	CURLM *m;
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

/* Link: <url>; rel="next", <url2>; rel="differences" (RFC 8288; several headers allowed) */
static void parse_link(struct ctx *c, char *v)
{
	while (v != NULL && *v != '\0') {
		char *lt = strchr(v, '<'), *gt, *end, *rel;

		if (lt == NULL)
			return;
		gt = strchr(lt, '>');
		if (gt == NULL)
			return;
		end = strchr(gt, ',');
		if (end != NULL)
			*end = '\0';
		rel = strcasestr(gt, "rel=");
		if (rel != NULL) {
			char *url = arena_strndup(c->a, lt + 1, (size_t)(gt - lt - 1));

			rel += 4;
			if (*rel == '"')
				rel++;
			if (strncasecmp(rel, "next", 4) == 0 &&
			    (rel[4] == '"' || rel[4] == ' ' || rel[4] == ';' || rel[4] == '\0'))
				c->resp->link_next = url;
			else if (strncasecmp(rel, "differences", 11) == 0)
				c->resp->link_differences = url;
		}
		v = end != NULL ? end + 1 : NULL;
	}
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
		c->resp->link_differences = NULL;
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
		parse_link(c, v);
	} else if (strcasecmp(line, "Location") == 0) {
		c->resp->location = v;
	}
	return sz * n;
}

/* Set up h for one request; c must outlive the transfer. AT_OK or AT_BADREQ/AT_INTERNAL. */
static enum at_rc setup(CURL *h, struct ctx *c, struct arena *a, const struct httpc_opts *o,
			const char *method, const char *url, const char *const *headers,
			const char *body, size_t body_len, struct httpc_resp *resp,
			struct at_err *err)
{
	memset(resp, 0, sizeof(*resp));
	resp->max_age = -1;
	resp->retry_after = -1;
	c->errbuf[0] = '\0';
	c->hl = NULL;
	c->a = a;
	c->resp = resp;
	buf_init(&c->body, o->max_reply);
	if (strncmp(url, "https://", 8) != 0 &&
	    !(o->allow_http && strncmp(url, "http://", 7) == 0))
		return at_fail(err, AT_BADREQ, "refusing non-HTTPS URL");
	if (fault_hit("httpc"))
		return at_fail(err, AT_UPSTREAM, "injected fault");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)o->connect_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)o->total_ms);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, o->allow_http ? "https,http" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "Attest/1.0 (LTI 1.3 tool)");
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_reply);
	curl_easy_setopt(h, CURLOPT_PRIVATE, c);
	for (size_t i = 0; headers != NULL && headers[i] != NULL; i++) {
		struct curl_slist *t = curl_slist_append(c->hl, headers[i]);

		if (t == NULL)
			return at_fail(err, AT_INTERNAL, "out of memory");
		c->hl = t;
	}
	if (c->hl != NULL)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->hl);
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
	return AT_OK;
}

/* The outcome of a finished transfer; frees c's buffers. */
static enum at_rc finish(CURL *h, struct ctx *c, CURLcode cc, const struct httpc_opts *o,
			 struct at_err *err)
{
	char *ct = NULL;
	enum at_rc rc;

	if (cc != CURLE_OK) {
		if (cc == CURLE_OPERATION_TIMEDOUT)
			rc = at_fail(err, AT_TIMEOUT, "timeout: %s", c->errbuf);
		else if (cc == CURLE_WRITE_ERROR || cc == CURLE_FILESIZE_EXCEEDED)
			rc = at_fail(err, AT_TOOBIG, "reply larger than %zu bytes", o->max_reply);
		else
			rc = at_fail(err, AT_UPSTREAM, "%s: %s", curl_easy_strerror(cc),
				     c->errbuf[0] ? c->errbuf : "-");
	} else {
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->resp->status);
		curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
		c->resp->content_type = arena_strdup(c->a, ct);
		c->resp->body = arena_strndup(c->a, buf_cstr(&c->body), c->body.len);
		c->resp->body_len = c->body.len;
		rc = AT_OK;
	}
	curl_slist_free_all(c->hl);
	c->hl = NULL;
	buf_cleanup(&c->body);
	return rc;
}

enum at_rc httpc_request(struct arena *a, const struct httpc_opts *o, const char *method,
			 const char *url, const char *const *headers, const char *body,
			 size_t body_len, struct httpc_resp *resp, struct at_err *err)
{
	struct ctx c;
	CURL *h = curl_easy_init();
	enum at_rc rc;

	if (h == NULL) {
		memset(resp, 0, sizeof(*resp));
		return at_fail(err, AT_INTERNAL, "curl_easy_init failed");
	}
	rc = setup(h, &c, a, o, method, url, headers, body, body_len, resp, err);
	if (rc == AT_OK)
		rc = finish(h, &c, curl_easy_perform(h), o, err);
	else {
		curl_slist_free_all(c.hl);
		buf_cleanup(&c.body);
	}
	curl_easy_cleanup(h);
	return rc;
}

struct httpc_pool *httpc_pool_new(long max_per_host)
{
	struct httpc_pool *p = xcalloc(1, sizeof(*p));

	p->m = curl_multi_init();
	AT_ASSERT(p->m != NULL);
	curl_multi_setopt(p->m, CURLMOPT_MAX_HOST_CONNECTIONS, max_per_host);
	curl_multi_setopt(p->m, CURLMOPT_MAXCONNECTS, max_per_host * 4);
	return p;
}

void httpc_pool_free(struct httpc_pool *p)
{
	if (p == NULL)
		return;
	curl_multi_cleanup(p->m);
	xfree(p);
}

void httpc_pool_run(struct httpc_pool *p, struct arena *a, const struct httpc_opts *o,
		    struct httpc_call *calls, size_t n)
{
	struct ctx *cs = arena_zalloc(a, (n ? n : 1) * sizeof(*cs));
	CURL **hs = arena_zalloc(a, (n ? n : 1) * sizeof(*hs));
	int running = 0, left;
	CURLMsg *msg;

	for (size_t i = 0; i < n; i++) {
		struct httpc_call *k = &calls[i];

		k->err.msg[0] = '\0';
		hs[i] = curl_easy_init();
		if (hs[i] == NULL) {
			memset(&k->resp, 0, sizeof(k->resp));
			k->rc = at_fail(&k->err, AT_INTERNAL, "curl_easy_init failed");
			continue;
		}
		k->rc = setup(hs[i], &cs[i], a, o, k->method, k->url, k->headers, k->body,
			      k->body_len, &k->resp, &k->err);
		if (k->rc == AT_OK && curl_multi_add_handle(p->m, hs[i]) != CURLM_OK)
			k->rc = at_fail(&k->err, AT_INTERNAL, "curl_multi_add_handle failed");
		if (k->rc != AT_OK) {
			curl_slist_free_all(cs[i].hl);
			buf_cleanup(&cs[i].body);
			curl_easy_cleanup(hs[i]);
			hs[i] = NULL;
		} else {
			k->rc = AT_INTERNAL;	/* until its transfer finishes */
		}
	}
	do {
		if (curl_multi_perform(p->m, &running) != CURLM_OK)
			break;
		if (running > 0)
			curl_multi_poll(p->m, NULL, 0, 1000, NULL);
		while ((msg = curl_multi_info_read(p->m, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			/* msg lives inside the easy handle: copy what is needed before the
			 * handle is cleaned up. */
			CURL *done = msg->easy_handle;
			CURLcode result = msg->data.result;

			for (size_t i = 0; i < n; i++) {
				if (hs[i] != done)
					continue;
				calls[i].rc = finish(hs[i], &cs[i], result, o, &calls[i].err);
				curl_multi_remove_handle(p->m, hs[i]);
				curl_easy_cleanup(hs[i]);
				hs[i] = NULL;
				break;
			}
		}
	} while (running > 0);
	for (size_t i = 0; i < n; i++) {	/* a multi failure: give up what is left */
		if (hs[i] == NULL)
			continue;
		calls[i].rc = finish(hs[i], &cs[i], CURLE_ABORTED_BY_CALLBACK, o, &calls[i].err);
		curl_multi_remove_handle(p->m, hs[i]);
		curl_easy_cleanup(hs[i]);
	}
}
