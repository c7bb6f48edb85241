/* api_evidence.c: /api/v1/evidence — streamed file uploads, links, notes, the list, the
 * download (an attachment, never rendered) and the assessor's review. Storage and type
 * checks live in core/evidence.c; here: the multipart plumbing and who may do what. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#include "core/evidence.h"
#include "core/identity.h"
#include "core/log.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/multipart.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

#define CHUNK (64 << 10)		/* bytes pulled from the client at a time */
#define FIELD_MAX (EVIDENCE_NOTE_MAX * 4 + 1)	/* bytes of one plain form field */

static void opts_of(struct evidence_opts *o)
{
	o->dir = g_app.cfg.evidence_dir;
	o->max_size = g_app.cfg.max_upload;
	o->types = g_app.cfg.evidence_types;
}

/* May the caller add evidence for learner_id? The learner themself, or an assessor or
 * admin of a course the learner is in. */
static bool may_add_for(struct req *r, int64_t learner_id)
{
	return api_may_see_learner(r, learner_id);
}

/* May the caller review learner_id's evidence? Never the learner. */
static bool may_review(struct req *r, int64_t learner_id)
{
	return r->sess->s.user_id != learner_id && api_may_see_learner(r, learner_id);
}

/* Parse a decimal id (1..INT64_MAX) of s[0..n), no sign or blanks; false otherwise. */
static bool parse_id(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v <= 0)
		return false;
	*out = v;
	return true;
}

/* "3, 5,7" into ids (arena). False for anything else; an empty string is no ids. */
static bool parse_id_list(struct arena *a, const char *s, int64_t **ids, size_t *n)
{
	size_t k = 0, cap = EVIDENCE_MAX_COMPETENCIES;
	int64_t *v = arena_alloc(a, sizeof(*v) * cap);

	for (const char *p = s; *p != '\0';) {
		const char *end;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		end = p + strcspn(p, ", ");
		if (k == cap || !parse_id(p, (size_t)(end - p), &v[k]))
			return false;
		k++;
		p = end;
		while (*p == ' ')
			p++;
		if (*p == ',') {
			p++;
			if (*p == '\0')
				return false;
		} else if (*p != '\0') {
			return false;
		}
	}
	*ids = v;
	*n = k;
	return true;
}

/* JSON variant: an array of positive integers. */
static bool json_id_list(struct req *r, struct json_object *b, int64_t **ids, size_t *n)
{
	struct json_object *arr;
	size_t len;

	*ids = NULL;
	*n = 0;
	if (!json_object_object_get_ex(b, "competency_ids", &arr) || arr == NULL)
		return true;
	if (!json_object_is_type(arr, json_type_array) ||
	    json_object_array_length(arr) > EVIDENCE_MAX_COMPETENCIES) {
		api_error(r, 400, "bad_request", "competency_ids",
			  "must be a list of at most 100 competency ids");
		return false;
	}
	len = json_object_array_length(arr);
	*ids = arena_alloc(r->arena, sizeof(**ids) * (len ? len : 1));
	for (size_t i = 0; i < len; i++) {
		struct json_object *v = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) <= 0) {
			api_error(r, 400, "bad_request", "competency_ids",
				  "must hold positive integers");
			return false;
		}
		(*ids)[i] = json_object_get_int64(v);
	}
	*n = len;
	return true;
}

/* The field a core message names ("competency_ids: no competency 9" -> competency_ids). */
static const char *field_of(struct req *r, const char *msg)
{
	size_t n = strspn(msg, "abcdefghijklmnopqrstuvwxyz_");

	if (n == 0 || msg[n] != ':')
		return NULL;
	return arena_strndup(r->arena, msg, n);
}

static struct json_object *evidence_json(const struct evidence *e)
{
	struct json_object *j = json_object_new_object();
	struct json_object *c = json_object_new_array();
	bool file = strcmp(e->kind, "file") == 0;

	json_object_object_add(j, "id", json_object_new_int64(e->id));
	json_object_object_add(j, "learner_id", json_object_new_int64(e->learner_id));
	json_object_object_add(j, "kind", json_object_new_string(e->kind));
	if (file) {
		json_object_object_add(j, "sha256", json_object_new_string(e->sha256));
		json_object_object_add(j, "size", json_object_new_int64(e->size));
		json_object_object_add(j, "media_type", json_object_new_string(e->media_type));
		json_object_object_add(j, "filename", json_object_new_string(e->filename));
	}
	if (strcmp(e->kind, "link") == 0)
		json_object_object_add(j, "url", json_object_new_string(e->url));
	json_object_object_add(j, "note", json_object_new_string(e->note));
	json_object_object_add(j, "observation_id", api_i64_or_null(e->observation_id));
	json_object_object_add(j, "uploaded_by", json_object_new_int64(e->uploaded_by));
	json_object_object_add(j, "status", json_object_new_string(e->status));
	json_object_object_add(j, "reviewer_id", api_i64_or_null(e->reviewer_id));
	json_object_object_add(j, "review_comment", json_object_new_string(e->review_comment));
	json_object_object_add(j, "reviewed_at", api_i64_or_null(e->reviewed_at));
	json_object_object_add(j, "created_at", json_object_new_int64(e->created_at));
	for (size_t i = 0; i < e->ncompetencies; i++)
		json_object_array_add(c, json_object_new_int64(e->competency_ids[i]));
	json_object_object_add(j, "competency_ids", c);
	return j;
}

/* Answer the stored record id with status (201 after adding). */
static void answer_evidence(struct req *r, int64_t id, int status)
{
	struct evidence e;
	struct json_object *j;
	enum at_rc rc = evidence_get(g_app.db, r->arena, id, &e);

	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "no such evidence");
		return;
	}
	j = evidence_json(&e);
	api_ok(r, status, j);
	json_object_put(j);
}

/* --- POST /api/v1/evidence (multipart/form-data, streamed) --- */

enum { F_NONE, F_LEARNER, F_COMPS, F_OBS, F_NOTE, F_IGNORE, F_FILE };

struct up {
	struct req *r;
	struct evidence_opts opts;
	struct evidence_upload *u;	/* the file part, finished after authorization */
	const char *filename;
	int cur;			/* F_* of the part being read */
	struct buf field;		/* a plain field's value (capped) */
	bool file_done;
	const char *learner, *comps, *obs, *note;	/* raw field values */
	int64_t learner_id;
	const char *bad_field;		/* set when a callback fails because of a field */
	int status;			/* HTTP status for a callback failure (0: from rc) */
};

static void up_cleanup(void *ud)
{
	buf_cleanup(&((struct up *)ud)->field);
}

static enum at_rc up_part(void *ud, const struct multipart_part *p, struct at_err *err)
{
	struct up *s = ud;

	buf_reset(&s->field);
	if (p->filename == NULL) {
		s->cur = strcmp(p->name, "learner_id") == 0 ? F_LEARNER :
			 strcmp(p->name, "competency_ids") == 0 ? F_COMPS :
			 strcmp(p->name, "observation_id") == 0 ? F_OBS :
			 strcmp(p->name, "note") == 0 ? F_NOTE : F_IGNORE;
		return AT_OK;
	}
	if (strcmp(p->name, "file") != 0) {
		s->bad_field = "file";
		return at_fail(err, AT_BADREQ, "a file goes in the part named \"file\", not "
			       "\"%.64s\"", p->name);
	}
	if (s->u != NULL) {
		s->bad_field = "file";
		return at_fail(err, AT_BADREQ, "one file per upload");
	}
	/* Refuse early when we already know the caller may not add for this learner: no
	 * byte of the file is written then. */
	if (s->learner != NULL && !may_add_for(s->r, s->learner_id)) {
		s->bad_field = "learner_id";
		s->status = 404;
		return at_fail(err, AT_NOTFOUND, "no such learner");
	}
	s->cur = F_FILE;
	s->filename = arena_strdup(s->r->arena, p->filename);
	return evidence_upload_begin(s->r->arena, &s->opts, &s->u, err);
}

static enum at_rc up_data(void *ud, const char *p, size_t n, struct at_err *err)
{
	struct up *s = ud;

	if (s->cur == F_FILE) {
		enum at_rc rc = evidence_upload_write(s->u, p, n, err);

		if (rc != AT_OK)
			s->bad_field = "file";
		return rc;
	}
	if (s->cur == F_IGNORE)
		return AT_OK;
	if (memchr(p, '\0', n) != NULL || buf_append(&s->field, p, n) != AT_OK) {
		s->bad_field = s->cur == F_LEARNER ? "learner_id" : s->cur == F_COMPS ?
			       "competency_ids" : s->cur == F_OBS ? "observation_id" : "note";
		return at_fail(err, AT_BADREQ, "%s: too long, or not text", s->bad_field);
	}
	return AT_OK;
}

static enum at_rc up_end(void *ud, struct at_err *err)
{
	struct up *s = ud;
	const char *v = arena_strndup(s->r->arena, s->field.data ? s->field.data : "",
				      s->field.len);

	switch (s->cur) {
	case F_LEARNER:
		s->learner = v;
		if (!parse_id(v, strlen(v), &s->learner_id)) {
			s->bad_field = "learner_id";
			return at_fail(err, AT_BADREQ, "learner_id: must be a user id");
		}
		break;
	case F_COMPS:
		s->comps = v;
		break;
	case F_OBS:
		s->obs = v;
		break;
	case F_NOTE:
		s->note = v;
		break;
	case F_FILE:
		s->file_done = true;
		break;
	}
	s->cur = F_NONE;
	return AT_OK;
}

/* The status for a failed upload: a refused type is 415, too big 413. */
static void upload_fail(struct req *r, const struct up *s, enum at_rc rc, const char *msg)
{
	if (s->status != 0) {
		api_error(r, s->status, s->status == 404 ? "not_found" : "bad_request",
			  s->bad_field, msg);
		return;
	}
	if (rc == AT_BADREQ && strncmp(msg, "type ", 5) == 0 && strstr(msg, "not allowed")) {
		api_error(r, 415, "unsupported_media_type", "file", msg);
		return;
	}
	if (rc == AT_TOOBIG) {
		api_error(r, 413, "too_big", s->bad_field ? s->bad_field : "file", msg);
		return;
	}
	api_fail(r, rc, s->bad_field ? s->bad_field : field_of(r, msg), msg);
}

void api_evidence_upload(struct req *r)
{
	struct up *s = arena_zalloc(r->arena, sizeof(*s));
	struct multipart_cb cb = { up_part, up_data, up_end, s };
	struct multipart *m = NULL;
	struct evidence_attach at = { 0 };
	struct at_err err = { "" };
	char *chunk = arena_alloc(r->arena, CHUNK);
	int64_t *comps = NULL, obs_id = 0, id = 0;
	size_t ncomps = 0;
	enum at_rc rc;

	s->r = r;
	opts_of(&s->opts);
	buf_init(&s->field, FIELD_MAX);
	arena_on_free(r->arena, up_cleanup, s);
	rc = multipart_new(r->arena, r->content_type ? r->content_type : "", &cb, &m, &err);
	while (rc == AT_OK) {
		long got = req_read(r, chunk, CHUNK);

		if (got < 0) {
			rc = at_fail(&err, AT_BADREQ, "the body ended before Content-Length");
			break;
		}
		if (got == 0) {
			rc = multipart_finish(m, &err);
			break;
		}
		rc = multipart_feed(m, chunk, (size_t)got, &err);
	}
	if (rc != AT_OK) {
		evidence_upload_abort(s->u);
		upload_fail(r, s, rc, err.msg);
		return;
	}
	/* Everything is in: check the fields and the caller before the file is kept. */
	if (s->learner == NULL) {
		api_error(r, 400, "bad_request", "learner_id", "this field is required");
		goto abort;
	}
	if (s->u == NULL || !s->file_done) {
		api_error(r, 400, "bad_request", "file", "a part named \"file\" with a filename "
			  "is required");
		goto abort;
	}
	if (!may_add_for(r, s->learner_id)) {
		api_error(r, 404, "not_found", "learner_id", "no such learner");
		goto abort;
	}
	if (s->comps != NULL && !parse_id_list(r->arena, s->comps, &comps, &ncomps)) {
		api_error(r, 400, "bad_request", "competency_ids",
			  "must be a comma separated list of at most 100 competency ids");
		goto abort;
	}
	if (s->obs != NULL && s->obs[0] != '\0' &&
	    !parse_id(s->obs, strlen(s->obs), &obs_id)) {
		api_error(r, 400, "bad_request", "observation_id", "must be an observation id");
		goto abort;
	}
	rc = evidence_upload_finish(s->u, &err);
	if (rc != AT_OK) {
		s->bad_field = "file";
		upload_fail(r, s, rc, err.msg);
		return;
	}
	at.learner_id = s->learner_id;
	at.uploaded_by = r->sess->s.user_id;
	at.observation_id = obs_id;
	at.competency_ids = comps;
	at.ncompetencies = ncomps;
	at.note = s->note;
	rc = evidence_add_file(g_app.db, s->u, s->filename, &at, api_now(), &id, &err);
	if (rc != AT_OK) {
		api_fail(r, rc, field_of(r, err.msg), err.msg);
		return;
	}
	answer_evidence(r, id, 201);
	return;
abort:
	evidence_upload_abort(s->u);
}

/* --- POST /api/v1/evidence/link and /api/v1/evidence/note (JSON) --- */

static void add_json(struct req *r, bool link)
{
	struct json_object *b = api_body(r);
	struct evidence_attach at = { 0 };
	struct at_err err = { "" };
	const char *url = NULL;
	int64_t *comps, id = 0;
	size_t ncomps;
	enum at_rc rc;

	if (b == NULL ||
	    !api_i64(r, b, "learner_id", true, 1, INT64_MAX, &at.learner_id) ||
	    (link && !api_str(r, b, "url", true, EVIDENCE_URL_MAX, &url)) ||
	    !api_str(r, b, "note", !link, (size_t)EVIDENCE_NOTE_MAX * 4, &at.note) ||
	    !api_i64(r, b, "observation_id", false, 1, INT64_MAX, &at.observation_id) ||
	    !json_id_list(r, b, &comps, &ncomps))
		return;
	if (!may_add_for(r, at.learner_id)) {
		api_error(r, 404, "not_found", "learner_id", "no such learner");
		return;
	}
	at.uploaded_by = r->sess->s.user_id;
	at.competency_ids = comps;
	at.ncompetencies = ncomps;
	rc = link ? evidence_add_link(g_app.db, url, &at, api_now(), &id, &err) :
		    evidence_add_note(g_app.db, &at, api_now(), &id, &err);
	if (rc != AT_OK) {
		const char *f = field_of(r, err.msg);

		api_fail(r, rc, f ? f : link ? "url" : "note", err.msg);
		return;
	}
	answer_evidence(r, id, 201);
}

void api_evidence_link(struct req *r)
{
	add_json(r, true);
}

void api_evidence_note(struct req *r)
{
	add_json(r, false);
}

/* --- reading --- */

/* GET /api/v1/evidence?learner_id=N */
void api_evidence_list(struct req *r)
{
	struct evidence *v = NULL;
	struct json_object *j, *arr;
	int64_t learner_id;
	size_t n = 0;
	enum at_rc rc;

	if (req_param_i64(r, "learner_id", 1, INT64_MAX, &learner_id) != AT_OK) {
		api_error(r, 400, "bad_request", "learner_id", "a user id is required");
		return;
	}
	if (!api_may_see_learner(r, learner_id)) {
		api_error(r, 404, "not_found", "learner_id", "no such learner");
		return;
	}
	rc = evidence_list(g_app.db, r->arena, learner_id, &v, &n);
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not list evidence");
		return;
	}
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, evidence_json(&v[i]));
	j = json_object_new_object();
	json_object_object_add(j, "learner_id", json_object_new_int64(learner_id));
	json_object_object_add(j, "evidence", arr);
	api_ok(r, 200, j);
	json_object_put(j);
}

/* Load evidence {id} if the caller may see its learner; false after answering 404. */
static bool visible(struct req *r, struct evidence *e)
{
	int64_t id;

	if (!api_path_id(r, &id))
		return false;
	if (evidence_get(g_app.db, r->arena, id, e) != AT_OK ||
	    !api_may_see_learner(r, e->learner_id)) {
		api_error(r, 404, "not_found", NULL, "no such evidence");
		return false;
	}
	return true;
}

/* GET /api/v1/evidence/{id} */
void api_evidence_get(struct req *r)
{
	struct evidence e;
	struct json_object *j;

	if (!visible(r, &e))
		return;
	j = evidence_json(&e);
	api_ok(r, 200, j);
	json_object_put(j);
}

/* An ASCII stand-in for a file name, for clients that ignore filename*. */
static char *ascii_name(struct arena *a, const char *name)
{
	size_t n = strlen(name);
	char *out = arena_alloc(a, n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' &&
			  c != ';') ? (char)c : '_';
	}
	out[n] = '\0';
	return out;
}

/* GET /api/v1/evidence/{id}/download */
void api_evidence_download(struct req *r)
{
	struct evidence e;
	struct evidence_file f;
	struct evidence_opts o;
	struct at_err err = { "" };
	int fd = -1;
	enum at_rc rc;

	if (!visible(r, &e))
		return;
	opts_of(&o);
	rc = evidence_open(g_app.db, r->arena, &o, e.id, &f, &err);
	if (rc != AT_OK) {
		log_msg(LOG_WARN, r->rid, "op=evidence_download id=%lld rc=%s",
			(long long)e.id, at_strerror(rc));
		api_fail(r, rc, NULL, rc == AT_NOTFOUND ? "this evidence has no file to download" :
			 err.msg);
		return;
	}
	fd = open(f.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_msg(LOG_ERR, r->rid, "op=evidence_download id=%lld errno=%d", (long long)e.id,
			errno);
		api_fail(r, AT_INTERNAL, NULL, "");
		return;
	}
	/* Streamed after the headers by http_send: any size, nothing held in memory. */
	http_send_file(r, fd, f.size);
	r->status = 200;
	(void)http_header(r, "Content-Type", f.media_type);
	(void)http_header(r, "Content-Disposition",
			  arena_printf(r->arena, "attachment; filename=\"%s\"; filename*=UTF-8''%s",
				       ascii_name(r->arena, f.filename),
				       html_urlencode(r->arena, f.filename)));
	(void)http_header(r, "X-Content-Type-Options", "nosniff");
	(void)http_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
	(void)http_header(r, "Cache-Control", "private, no-store");
	(void)http_header(r, "Referrer-Policy", "no-referrer");
}

/* POST /api/v1/evidence/{id}/review {"accept": bool, "comment"?} */
void api_evidence_review(struct req *r)
{
	struct json_object *b;
	struct evidence e;
	struct at_err err = { "" };
	const char *comment = NULL;
	bool accept = false;
	int64_t id;
	enum at_rc rc;

	if (!api_path_id(r, &id))
		return;
	b = api_body(r);
	if (b == NULL || !api_bool(r, b, "accept", true, &accept) ||
	    !api_str(r, b, "comment", false, (size_t)EVIDENCE_COMMENT_MAX * 4, &comment))
		return;
	if (evidence_get(g_app.db, r->arena, id, &e) != AT_OK ||
	    !api_may_see_learner(r, e.learner_id)) {
		api_error(r, 404, "not_found", NULL, "no such evidence");
		return;
	}
	if (!may_review(r, e.learner_id)) {
		api_error(r, 403, "forbidden", NULL, "a learner does not review their own evidence");
		return;
	}
	rc = evidence_review(g_app.db, id, r->sess->s.user_id, accept, comment,
			     api_now(), &err);
	if (rc != AT_OK) {
		api_fail(r, rc, rc == AT_BADREQ ? "comment" : NULL, err.msg);
		return;
	}
	answer_evidence(r, id, 200);
}
