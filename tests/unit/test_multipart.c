/* test_multipart.c: the streaming multipart/form-data parser (every chunk split of every
 * case), boundary parameters, and streamed request bodies (req_parse_ex, req_read). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/multipart.h"
#include "fcgi/req.h"
#include "fcgi/router.h"

#define CT "multipart/form-data; boundary=B"
#define CD "Content-Disposition: form-data; "

/* What the callbacks saw: "[name|filename|type]data$" per part. */
struct rec {
	struct buf b;
	int fail_at_data;	/* >0: the nth data call fails with AT_TOOBIG */
	int ndata;
};

static enum at_rc on_part(void *ud, const struct multipart_part *p, struct at_err *err)
{
	struct rec *r = ud;

	(void)err;
	return buf_printf(&r->b, "[%s|%s|%s]", p->name, p->filename ? p->filename : "-",
			  p->content_type);
}

static enum at_rc on_data(void *ud, const char *p, size_t n, struct at_err *err)
{
	struct rec *r = ud;

	assert_true(n > 0);
	if (r->fail_at_data > 0 && ++r->ndata == r->fail_at_data)
		return at_fail(err, AT_TOOBIG, "the file is larger than the limit");
	return buf_append(&r->b, p, n);
}

static enum at_rc on_end(void *ud, struct at_err *err)
{
	(void)err;
	return buf_puts(&((struct rec *)ud)->b, "$");
}

/* Parse body (len bytes) fed as the given chunk sizes (0-terminated list, the last size
 * repeating); returns the rc, r->b holds what was seen, err the message. */
static enum at_rc run(const char *ct, const char *body, size_t len, const size_t *sizes,
		      struct rec *r, struct at_err *err)
{
	struct arena *a = arena_new();
	struct multipart_cb cb = { on_part, on_data, on_end, r };
	struct multipart *m;
	size_t off = 0, k = 0;
	enum at_rc rc;

	buf_reset(&r->b);
	r->ndata = 0;
	err->msg[0] = '\0';
	rc = multipart_new(a, ct, &cb, &m, err);
	while (rc == AT_OK && off < len) {
		size_t n = sizes[k];

		if (sizes[k + 1] != 0)
			k++;
		if (n > len - off)
			n = len - off;
		rc = multipart_feed(m, body + off, n, err);
		off += n;
	}
	if (rc == AT_OK)
		rc = multipart_finish(m, err);
	arena_free(a);
	return rc;
}

/* A literal and its length (bodies may hold NUL bytes). */
#define L(s) s, sizeof(s) - 1

static const struct mcase {
	const char *what, *ct;
	const char *body;
	size_t len;
	enum at_rc want;
	const char *seen;	/* for AT_OK: the record; else a substring of the error */
	size_t seen_len;
} mcases[] = {
	{ "two parts, binary data with CR/LF and a near-boundary", CT,
	  L("--B\r\n" CD "name=\"a\"\r\n\r\n1\r\n--B\r\n" CD "name=\"f\"; filename=\"x.png\"\r\n"
	    "Content-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n\r\n-\r\n--\r\n--C\r\r\n\r\n--B--\r\n"),
	  AT_OK, L("[a|-|text/plain]1$[f|x.png|image/png]\x89PNG\r\n\x1a\n\r\n-\r\n--\r\n--C\r\r\n$") },
	{ "quoted boundary with a space", "multipart/form-data; boundary=\"a b:c\"",
	  L("--a b:c\r\n" CD "name=\"x\"\r\n\r\nv\r\n--a b:c--"), AT_OK, L("[x|-|text/plain]v$") },
	{ "preamble and epilogue", CT,
	  L("This is a preamble --B not at a line start\r\n--B\r\n" CD "name=x\r\n\r\n"
	    "y\r\n--B--\r\nepilogue\r\n--B\r\ngarbage"), AT_OK, L("[x|-|text/plain]y$") },
	{ "empty part, transport padding, header case", CT,
	  L("--B \t\r\ncontent-disposition: FORM-DATA; NAME=\"e\"\r\nX-Other: 1\r\n\r\n"
	    "\r\n--B--"), AT_OK, L("[e|-|text/plain]$") },
	{ "CR before the delimiter stays data", CT,
	  L("--B\r\n" CD "name=\"d\"\r\n\r\nx\r\r\n--B--"), AT_OK, L("[d|-|text/plain]x\r$") },
	{ "delimiter prefixes in data", CT,
	  L("--B\r\n" CD "name=\"d\"\r\n\r\n\r\n-\r\n--\r\n--B--"), AT_OK,
	  L("[d|-|text/plain]\r\n-\r\n--$") },
	{ "escaped quote and path in filename", CT,
	  L("--B\r\n" CD "name=\"f\"; filename=\"C:\\\\dir\\\\a\\\"b.txt\"\r\n\r\nz\r\n--B--"), AT_OK,
	  L("[f|C:\\dir\\a\"b.txt|text/plain]z$") },
	{ "NUL bytes in data", CT, L("--B\r\n" CD "name=\"n\"\r\n\r\na\0b\r\n--B--"), AT_OK,
	  L("[n|-|text/plain]a\0b$") },
	{ "missing final boundary", CT, L("--B\r\n" CD "name=\"a\"\r\n\r\ndata\r\n"),
	  AT_BADREQ, L("missing final boundary") },
	{ "no boundary at all", CT, L("just some text"), AT_BADREQ, L("missing final boundary") },
	{ "empty body", CT, L(""), AT_BADREQ, L("missing final boundary") },
	{ "part without name", CT, L("--B\r\n" CD "filename=\"x\"\r\n\r\nd\r\n--B--"),
	  AT_BADREQ, L("has no name") },
	{ "part with an empty name", CT, L("--B\r\n" CD "name=\"\"\r\n\r\nd\r\n--B--"),
	  AT_BADREQ, L("has no name") },
	{ "part without headers", CT, L("--B\r\n\r\nd\r\n--B--"), AT_BADREQ, L("has no name") },
	{ "not form-data", CT, L("--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n"
				 "d\r\n--B--"), AT_BADREQ, L("not form-data") },
	{ "two dispositions", CT,
	  L("--B\r\n" CD "name=\"a\"\r\n" CD "name=\"b\"\r\n\r\nd\r\n--B--"), AT_BADREQ,
	  L("two Content-Disposition") },
	{ "folded header", CT, L("--B\r\n" CD "name=\"a\"\r\n  folded\r\n\r\nd\r\n--B--"),
	  AT_BADREQ, L("folded") },
	{ "bare LF in headers", CT, L("--B\r\n" CD "name=\"a\"\nX: y\r\n\r\nd\r\n--B--"),
	  AT_BADREQ, L("bare CR or LF") },
	{ "header line without colon", CT, L("--B\r\nnonsense\r\n\r\nd\r\n--B--"), AT_BADREQ,
	  L("malformed part header") },
	{ "unterminated quoted name", CT, L("--B\r\n" CD "name=\"a\r\n\r\nd\r\n--B--"),
	  AT_BADREQ, L("malformed Content-Disposition") },
	{ "garbage after a boundary", CT, L("--Bx\r\n" CD "name=\"a\"\r\n\r\nd\r\n--B--"),
	  AT_BADREQ, L("unexpected byte after a boundary") },
	{ "CR without LF after a boundary", CT, L("--B\rX"), AT_BADREQ, L("CR without LF") },
	{ "single dash after a boundary", CT, L("--B\r\n" CD "name=a\r\n\r\nd\r\n--B-x"),
	  AT_BADREQ, L("unexpected byte") },
	{ "NUL in headers", CT, L("--B\r\n" CD "name=\"a\0\"\r\n\r\nd\r\n--B--"), AT_BADREQ,
	  L("NUL byte") },
	{ "bad content type", "text/plain", L("--B--"), AT_BADREQ, L("not multipart") },
};

static void check_case(const struct mcase *c, const size_t *sizes, const char *how)
{
	struct rec r;
	struct at_err err;
	enum at_rc rc;

	memset(&r, 0, sizeof(r));
	buf_init(&r.b, 1 << 16);
	rc = run(c->ct, c->body, c->len, sizes, &r, &err);
	if (rc != c->want)
		fail_msg("%s (%s): rc %s, want %s: %s", c->what, how, at_strerror(rc),
			 at_strerror(c->want), err.msg);
	if (rc == AT_OK) {
		if (r.b.len != c->seen_len || memcmp(r.b.data, c->seen, r.b.len) != 0)
			fail_msg("%s (%s): saw '%.*s'", c->what, how, (int)r.b.len,
				 r.b.data ? r.b.data : "");
	} else if (strstr(err.msg, c->seen) == NULL) {
		fail_msg("%s (%s): error '%s' does not say '%s'", c->what, how, err.msg, c->seen);
	}
	buf_cleanup(&r.b);
}

/* Every case whole, byte by byte, and split in two at every position. */
static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < NELEM(mcases); i++) {
		const struct mcase *c = &mcases[i];
		size_t len = c->len;
		size_t whole[] = { len ? len : 1, 0 }, ones[] = { 1, 0 }, threes[] = { 3, 0 };
		char how[32];

		check_case(c, whole, "whole");
		check_case(c, ones, "bytewise");
		check_case(c, threes, "threes");
		for (size_t cut = 1; cut < len; cut++) {
			size_t two[] = { cut, len, 0 };

			snprintf(how, sizeof(how), "split at %zu", cut);
			check_case(c, two, how);
		}
	}
}

static void test_boundary(void **state)
{
	static const struct {
		const char *ct, *want;	/* want NULL: AT_BADREQ */
	} cases[] = {
		{ "multipart/form-data; boundary=abc", "abc" },
		{ "Multipart/Form-Data;boundary=\"a b\"", "a b" },
		{ "multipart/form-data; charset=utf-8; BOUNDARY=----WebKitFormBoundary7MA4YWxkTrZu0gW",
		  "----WebKitFormBoundary7MA4YWxkTrZu0gW" },
		{ "multipart/form-data; boundary=x;", "x" },
		{ "multipart/form-data; boundary=\"'()+_,-./:=?\"", "'()+_,-./:=?" },
		{ "multipart/form-data", NULL },
		{ "multipart/form-data; boundary=", NULL },
		{ "multipart/form-data; boundary=\"\"", NULL },
		{ "multipart/form-data; boundary=\"a b \"", NULL },
		{ "multipart/form-data; boundary=\"abc", NULL },
		{ "multipart/form-data; boundary=a\rb", NULL },
		{ "multipart/form-data; boundary=\"a\r\nb\"", NULL },
		{ "multipart/form-data; boundary=a; boundary=b", NULL },
		{ "multipart/form-data; boundary=\"a*b\"", NULL },
		{ "multipart/form-data x; boundary=a", NULL },
		{ "multipart/mixed; boundary=x", NULL },
		{ "text/plain; boundary=x", NULL },
		{ "", NULL },
	};
	char b[MULTIPART_MAX_BOUNDARY + 1], ct[200];
	struct at_err err;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		enum at_rc rc = multipart_boundary(cases[i].ct, b, sizeof(b), &err);

		if (cases[i].want == NULL) {
			if (rc != AT_BADREQ)
				fail_msg("'%s' accepted", cases[i].ct);
		} else {
			if (rc != AT_OK)
				fail_msg("'%s': %s", cases[i].ct, err.msg);
			assert_string_equal(b, cases[i].want);
		}
	}
	assert_int_equal(multipart_boundary(NULL, b, sizeof(b), &err), AT_BADREQ);
	/* 70 characters is the most */
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%070d", 7);
	assert_int_equal(multipart_boundary(ct, b, sizeof(b), &err), AT_OK);
	snprintf(ct, sizeof(ct), "multipart/form-data; boundary=%071d", 7);
	assert_int_equal(multipart_boundary(ct, b, sizeof(b), &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "1 to 70"));
}

static void test_header_too_long(void **state)
{
	struct rec r;
	struct at_err err;
	struct buf body;
	size_t sizes[] = { 1000, 0 };

	(void)state;
	memset(&r, 0, sizeof(r));
	buf_init(&r.b, 1 << 16);
	buf_init(&body, 1 << 20);
	buf_puts(&body, "--B\r\n" CD "name=\"a\"\r\nX-Long: ");
	for (int i = 0; i < MULTIPART_MAX_HEADER; i++)
		buf_puts(&body, "x");
	buf_puts(&body, "\r\n\r\nd\r\n--B--");
	assert_int_equal(run(CT, body.data, body.len, sizes, &r, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "longer than 8192"));
	/* just under the limit is fine */
	buf_reset(&body);
	buf_puts(&body, "--B\r\n" CD "name=\"a\"\r\nX-Long: ");
	for (size_t i = 0; i < MULTIPART_MAX_HEADER - 71; i++)
		buf_puts(&body, "x");
	buf_puts(&body, "\r\n\r\nd\r\n--B--");
	assert_int_equal(run(CT, body.data, body.len, sizes, &r, &err), AT_OK);
	buf_cleanup(&body);
	buf_cleanup(&r.b);
}

static void test_too_many_parts(void **state)
{
	struct rec r;
	struct at_err err;
	struct buf body;
	size_t sizes[] = { 4096, 0 };

	(void)state;
	memset(&r, 0, sizeof(r));
	buf_init(&r.b, 1 << 20);
	buf_init(&body, 1 << 20);
	for (int i = 0; i <= MULTIPART_MAX_PARTS; i++)
		buf_puts(&body, "--B\r\n" CD "name=\"a\"\r\n\r\nd\r\n");
	buf_puts(&body, "--B--");
	assert_int_equal(run(CT, body.data, body.len, sizes, &r, &err), AT_TOOBIG);
	buf_cleanup(&body);
	buf_cleanup(&r.b);
}

/* A callback's failure stops the parser with its rc and message, and sticks. */
static void test_callback_failure(void **state)
{
	struct rec r;
	struct at_err err;
	const char *body = "--B\r\n" CD "name=\"f\"\r\n\r\n0123456789\r\n--B--";
	size_t sizes[] = { 1, 0 };

	(void)state;
	memset(&r, 0, sizeof(r));
	buf_init(&r.b, 1 << 16);
	r.fail_at_data = 3;
	assert_int_equal(run(CT, body, strlen(body), sizes, &r, &err), AT_TOOBIG);
	assert_string_equal(err.msg, "the file is larger than the limit");
	buf_cleanup(&r.b);
}

/* A large part in small chunks: memory stays bounded (the parser keeps no data). */
static void test_large_part(void **state)
{
	struct arena *a = arena_new();
	struct rec r;
	struct at_err err;
	struct multipart *m;
	struct multipart_cb cb = { on_part, NULL, on_end, &r };
	char chunk[4096];
	const char *head = "--B\r\n" CD "name=\"v\"; filename=\"big.mp4\"\r\n\r\n";

	(void)state;
	memset(&r, 0, sizeof(r));
	buf_init(&r.b, 1 << 10);
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)(i % 7 == 0 ? '\r' : i % 11 == 0 ? '\n' : '-');
	assert_int_equal(multipart_new(a, CT, &cb, &m, &err), AT_OK);
	assert_int_equal(multipart_feed(m, head, strlen(head), &err), AT_OK);
	for (int i = 0; i < 4096; i++)	/* 16 MiB */
		assert_int_equal(multipart_feed(m, chunk, sizeof(chunk), &err), AT_OK);
	assert_int_equal(multipart_feed(m, "\r\n--B--\r\n", 9, &err), AT_OK);
	assert_int_equal(multipart_finish(m, &err), AT_OK);
	assert_string_equal(buf_cstr(&r.b), "[v|big.mp4|text/plain]$");
	buf_cleanup(&r.b);
	arena_free(a);
}

/* --- streamed request bodies --- */

struct fake {
	const char **env;
	const char *body;
	size_t off, len;
};

static const char *f_env(void *ud, const char *name)
{
	struct fake *f = ud;

	for (size_t i = 0; f->env[i] != NULL; i += 2)
		if (strcmp(f->env[i], name) == 0)
			return f->env[i + 1];
	return NULL;
}

static long f_read(void *ud, char *p, size_t n)
{
	struct fake *f = ud;
	size_t left = f->len - f->off;

	if (n > left)
		n = left;
	if (n > 5)
		n = 5;	/* short reads, as a socket gives */
	memcpy(p, f->body + f->off, n);
	f->off += n;
	return (long)n;
}

static int f_write(void *ud, const char *p, size_t n)
{
	(void)ud;
	(void)p;
	(void)n;
	return 0;
}

static bool streams_upload(const char *method, const char *path)
{
	return strcmp(method, "POST") == 0 && strcmp(path, "/api/v1/evidence") == 0;
}

static void test_stream_body(void **state)
{
	const char *body = "--B\r\n" CD "name=\"a\"\r\n\r\nhello\r\n--B--\r\n";
	char len[32];
	const char *env[] = { "REQUEST_METHOD", "POST", "DOCUMENT_URI", "/api/v1/evidence",
			      "QUERY_STRING", "csrf=t", "CONTENT_TYPE", CT, "CONTENT_LENGTH",
			      len, NULL };
	struct fake f = { env, body, 0, 0 };
	struct req_io io = { f_env, f_read, f_write, &f };
	struct req r;
	struct at_err err = { "" };
	struct rec rr;
	struct multipart *m;
	struct multipart_cb cb = { on_part, on_data, on_end, &rr };
	char p[7];
	long n;

	(void)state;
	memset(&rr, 0, sizeof(rr));
	buf_init(&rr.b, 1 << 10);
	f.len = strlen(body);
	snprintf(len, sizeof(len), "%zu", f.len);
	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	r.io = &io;
	/* a body over max_body streams: only max_upload counts */
	assert_int_equal(req_parse_ex(&r, 4, 1 << 20, streams_upload, &err), AT_OK);
	assert_true(r.stream);
	assert_null(r.body);
	assert_int_equal(f.off, 0);		/* nothing read yet */
	assert_string_equal(req_param(&r, "csrf"), "t");
	assert_int_equal(multipart_new(r.arena, r.content_type, &cb, &m, &err), AT_OK);
	for (;;) {
		n = req_read(&r, p, sizeof(p));
		assert_true(n >= 0);
		if (n == 0)
			break;
		assert_int_equal(multipart_feed(m, p, (size_t)n, &err), AT_OK);
	}
	assert_int_equal(multipart_finish(m, &err), AT_OK);
	assert_string_equal(buf_cstr(&rr.b), "[a|-|text/plain]hello$");
	assert_int_equal(req_read(&r, p, sizeof(p)), 0);
	arena_free(r.arena);

	/* never past Content-Length, even if the client sends more */
	f.off = 0;
	snprintf(len, sizeof(len), "%d", 3);
	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	r.io = &io;
	assert_int_equal(req_parse_ex(&r, 4, 1 << 20, streams_upload, &err), AT_OK);
	assert_int_equal(req_read(&r, p, sizeof(p)), 3);
	assert_int_equal(req_read(&r, p, sizeof(p)), 0);
	arena_free(r.arena);

	/* over max_upload: 413 before anything is read */
	f.off = 0;
	snprintf(len, sizeof(len), "%zu", f.len);
	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	r.io = &io;
	assert_int_equal(req_parse_ex(&r, 1 << 20, 10, streams_upload, &err), AT_TOOBIG);
	assert_non_null(strstr(err.msg, "over the limit of 10"));
	assert_int_equal(f.off, 0);
	arena_free(r.arena);

	/* claims more than it sends: req_read fails, then reports the end */
	f.off = 0;
	snprintf(len, sizeof(len), "%zu", f.len + 100);
	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	r.io = &io;
	assert_int_equal(req_parse_ex(&r, 1 << 20, 1 << 20, streams_upload, &err), AT_OK);
	do
		n = req_read(&r, p, sizeof(p));
	while (n > 0);
	assert_int_equal(n, -1);
	assert_int_equal(req_read(&r, p, sizeof(p)), 0);
	arena_free(r.arena);

	/* no Content-Length: refused */
	snprintf(len, sizeof(len), "%s", "");
	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	r.io = &io;
	assert_int_equal(req_parse_ex(&r, 1 << 20, 1 << 20, streams_upload, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "Content-Length"));
	arena_free(r.arena);

	/* other routes read their body as before (and max_body applies) */
	env[3] = "/lti/launch";
	f.off = 0;
	snprintf(len, sizeof(len), "%zu", f.len);
	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	r.io = &io;
	assert_int_equal(req_parse_ex(&r, 4, 1 << 20, streams_upload, &err), AT_TOOBIG);
	arena_free(r.arena);
	f.off = 0;
	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	r.io = &io;
	assert_int_equal(req_parse_ex(&r, 1 << 20, 1 << 20, streams_upload, &err), AT_OK);
	assert_false(r.stream);
	assert_non_null(r.body);
	assert_int_equal(r.body_len, f.len);
	assert_int_equal(req_read(&r, p, sizeof(p)), 0);
	arena_free(r.arena);
	buf_cleanup(&rr.b);
}

static void test_router_streams(void **state)
{
	(void)state;
	/* no route of the table streams its body yet but those flagged R_STREAM */
	assert_false(router_streams("POST", "/lti/launch"));
	assert_false(router_streams("GET", "/"));
	assert_false(router_streams("POST", "/no/such/path"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_header_too_long),
		cmocka_unit_test(test_too_many_parts),
		cmocka_unit_test(test_callback_failure),
		cmocka_unit_test(test_large_part),
		cmocka_unit_test(test_stream_body),
		cmocka_unit_test(test_router_streams),
	};

	return cmocka_run_group_tests_name("multipart", tests, NULL, NULL);
}
