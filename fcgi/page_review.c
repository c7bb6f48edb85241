/* page_review.c: GET POST /app/evidence/{id} — one piece of evidence as an assessor reviews
 * it: an image shown inline, a video played inline, any other file as a download link, a
 * link or a note as such; accept, or reject with a comment (POST, csrf).
 *
 * Authorization as the API: whoever may see the learner sees the evidence (the learner,
 * the assessors and admins of a course the learner is in); anyone else gets 404. The
 * learner and whoever uploaded it do not review it (core/evidence.c says so too).
 */
#include <inttypes.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "core/evidence.h"
#include "core/identity.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"
#include "fcgi/tmpl.h"

static void put_str(struct json_object *o, const char *k, const char *s)
{
	json_object_object_add(o, k, json_object_new_string(s != NULL ? s : ""));
}

static void put_bool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static const char *when(struct arena *a, int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;
	char buf[40];

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		return "";
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
	return arena_strdup(a, buf);
}

static const char *name_of(struct req *r, int64_t id)
{
	struct user u;

	memset(&u, 0, sizeof(u));
	if (id <= 0 || identity_user_get(g_app.db, r->arena, id, &u) != AT_OK)
		return "";
	if (u.name != NULL && *u.name)
		return u.name;
	return arena_printf(r->arena, "%s %s", u.given_name ? u.given_name : "",
			    u.family_name ? u.family_name : "");
}

static bool blank(const char *s)
{
	for (; s != NULL && *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return false;
	return true;
}

static void show(struct req *r, const struct evidence *e, int status, const char *error,
		 const char *comment, const char *decision)
{
	struct json_object *d = json_object_new_object(), *css = json_object_new_array();
	bool file = strcmp(e->kind, "file") == 0;
	bool pending = strcmp(e->status, "pending") == 0;
	bool may_review = r->sess->s.user_id != e->learner_id &&
			  r->sess->s.user_id != e->uploaded_by;
	const char *mt = e->media_type != NULL ? e->media_type : "";

	json_object_object_add(d, "id", json_object_new_int64(e->id));
	put_str(d, "learner", name_of(r, e->learner_id));
	put_str(d, "uploader", e->uploaded_by == e->learner_id ? "the learner" :
		name_of(r, e->uploaded_by));
	put_str(d, "kind", e->kind);
	put_bool(d, "is_file", file);
	put_bool(d, "is_image", file && strncmp(mt, "image/", 6) == 0 &&
		 strcmp(mt, "image/heic") != 0);	/* browsers do not draw HEIC */
	put_bool(d, "is_video", file && strncmp(mt, "video/", 6) == 0);
	put_bool(d, "is_link", strcmp(e->kind, "link") == 0);
	put_bool(d, "is_note", strcmp(e->kind, "note") == 0);
	put_str(d, "filename", e->filename);
	put_str(d, "media_type", mt);
	json_object_object_add(d, "size_kib", json_object_new_int64((e->size + 1023) / 1024));
	put_str(d, "url", e->url);
	put_str(d, "note", e->note);
	put_str(d, "status", e->status);
	put_bool(d, "pending", pending);
	put_bool(d, "accepted", strcmp(e->status, "accepted") == 0);
	put_bool(d, "rejected", strcmp(e->status, "rejected") == 0);
	put_str(d, "reviewer", name_of(r, e->reviewer_id));
	put_str(d, "review_comment", e->review_comment);
	put_str(d, "reviewed_at", when(r->arena, e->reviewed_at));
	put_str(d, "created_at", when(r->arena, e->created_at));
	json_object_object_add(d, "competencies", json_object_new_int64((int64_t)e->ncompetencies));
	put_bool(d, "may_review", pending && may_review);
	put_str(d, "comment", comment);
	put_bool(d, "chose_accept", decision != NULL && strcmp(decision, "accept") == 0);
	put_bool(d, "chose_reject", decision != NULL && strcmp(decision, "reject") == 0);
	if (error != NULL)
		put_str(d, "error", error);
	if (req_param(r, "done") != NULL && error == NULL)
		put_str(d, "flash", "Review recorded.");
	json_object_array_add(css, json_object_new_string("assess.css"));
	json_object_object_add(d, "css", css);
	if (status != 200)
		r->status = status;
	tmpl_page(r, "Evidence review", "assess/evidence", d);
	json_object_put(d);
}

/* GET POST /app/evidence/{id} */
void page_assess_evidence(struct req *r)
{
	struct evidence e;
	struct at_err err = { "" };
	const char *decision, *comment;
	int64_t id = 0;
	enum at_rc rc;

	for (const char *p = r->pathvar; p != NULL && *p; p++) {
		if (*p < '0' || *p > '9' || id > INT64_MAX / 100) {
			id = 0;
			break;
		}
		id = id * 10 + (*p - '0');
	}
	if (id <= 0 || evidence_get(g_app.db, r->arena, id, &e) != AT_OK ||
	    !api_may_see_learner(r, e.learner_id)) {
		http_error_page(r, 404, "Not found", "There is no such evidence.");
		return;
	}
	if (strcmp(r->method, "POST") != 0) {
		show(r, &e, 200, NULL, "", NULL);
		return;
	}
	decision = req_param(r, "decision");
	comment = req_param(r, "comment");
	if (r->sess->s.user_id == e.learner_id) {
		http_error_page(r, 403, "Not allowed", "A learner does not review their own "
				"evidence.");
		return;
	}
	if (decision == NULL || (strcmp(decision, "accept") != 0 &&
				 strcmp(decision, "reject") != 0)) {
		show(r, &e, 400, "Choose accept or reject.", comment, NULL);
		return;
	}
	if (strcmp(decision, "reject") == 0 && blank(comment)) {
		show(r, &e, 400, "Say why you reject it: the comment is required.", comment,
		     decision);
		return;
	}
	rc = evidence_review(g_app.db, id, r->sess->s.user_id, strcmp(decision, "accept") == 0,
			     comment, api_now(), &err);
	if (rc == AT_BADREQ || rc == AT_FORBIDDEN || rc == AT_CONFLICT) {
		(void)evidence_get(g_app.db, r->arena, id, &e);
		show(r, &e, rc == AT_BADREQ ? 400 : rc == AT_FORBIDDEN ? 403 : 409,
		     rc == AT_CONFLICT ? "This evidence was reviewed already." :
		     rc == AT_FORBIDDEN ? "You uploaded this evidence, so someone else reviews it." :
		     err.msg, comment, decision);
		return;
	}
	if (rc != AT_OK) {
		http_error(r, rc, "evidence review: %s", err.msg);
		return;
	}
	http_redirect(r, 303, session_url(r, arena_printf(r->arena, "/app/evidence/%" PRId64
							  "?done=1", id)));
}
