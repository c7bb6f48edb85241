/* lms_canvas.c: Canvas outcomes over the Canvas REST API (Authorization: Bearer <API
 * token>). Two outbox kinds (lti/lms.h):
 *  canvas_outcomes  a framework as an outcome group tree in the course: one group for the
 *                   framework, one subgroup per competency that has children, one outcome
 *                   per competency (vendor_guid = id number, ratings = the scale, mastery
 *                   points = the lowest proficient value); done entirely in prepare.
 *  canvas_result    Canvas has no call that writes an outcome result, so: a rubric aligned
 *                   to the outcomes is attached to the placed assignment (once), and the
 *                   learner's ratings are written as a rubric assessment on their
 *                   submission; Canvas derives the outcome results from it.
 * Ids kept in lms_map: canvas_root/<course>, canvas_group/<course>:<framework>[:<comp>],
 * canvas_outcome/<course>:<competency>, canvas_rubric/<placement>:<framework> (JSON with
 * the rubric, association and criterion ids), canvas_assessed/<placement>:<user> (JSON of
 * the values last written: a rubric assessment replaces the whole previous one). */
#include <string.h>

#include "core/framework.h"
#include "core/lmsmap.h"
#include "lti/lms_canvas.h"
#include "lti/lms_util.h"

#define MAX_PAGES 200

static int configured(struct lms_ctx *c, struct lms_result *res)
{
	return lms_util_configured(c, res, "the Canvas API is", "CANVAS_URL");
}

static void build(struct lms_ctx *c, const char *method, const char *path,
		  struct json_object *body, struct lms_req *rq)
{
	const char **h = arena_zalloc(c->a, 4 * sizeof(*h));

	h[0] = arena_printf(c->a, "Authorization: Bearer %s", c->p->lms_token);
	h[1] = "Accept: application/json";
	h[2] = body ? "Content-Type: application/json" : NULL;
	rq->method = method;
	rq->url = path[0] == '/' ? arena_printf(c->a, "%s%s", c->p->lms_url, path) : path;
	rq->headers = h;
	rq->body = body ? arena_strdup(c->a, json_object_to_json_string_ext(
					      body, JSON_C_TO_STRING_PLAIN)) : NULL;
	rq->body_len = rq->body ? strlen(rq->body) : 0;
	if (body)
		json_object_put(body);
}

/* Canvas's error message: {"errors":[{"message"}]}, {"errors":{"field":[{"message"}]}},
 * {"message"} or {"error"}. "" when none. */
static const char *error_message(struct arena *a, const struct httpc_resp *resp)
{
	struct json_object *j = lms_util_json(a, resp->body, resp->body_len), *e = NULL;

	if (j == NULL || !json_object_is_type(j, json_type_object))
		return "";
	if (json_object_object_get_ex(j, "errors", &e)) {
		if (json_object_is_type(e, json_type_array) && json_object_array_length(e) > 0)
			return lms_util_str(a, json_object_array_get_idx(e, 0), "message");
		if (json_object_is_type(e, json_type_object)) {
			json_object_object_foreach(e, field, v) {
				if (json_object_is_type(v, json_type_array) &&
				    json_object_array_length(v) > 0)
					return arena_printf(a, "%s: %s", field, lms_util_str(
						a, json_object_array_get_idx(v, 0), "message"));
			}
		}
	}
	if (*lms_util_str(a, j, "message"))
		return lms_util_str(a, j, "message");
	return lms_util_str(a, j, "error");
}

/* Judge an answer; AT_OK with the JSON (NULL for an empty 2xx body) or res filled. */
static enum at_rc judge(struct lms_ctx *c, const char *what, enum at_rc rc,
			const struct httpc_resp *resp, const struct at_err *err,
			struct json_object **out, struct lms_result *res)
{
	*out = NULL;
	if (rc != AT_OK) {
		lms_util_transport(res, what, rc, err);
		return rc;
	}
	/* Canvas throttles with 403 "Rate Limit Exceeded" (and proxies with 429) */
	if (resp->status == 403 && resp->body && strstr(resp->body, "Rate Limit Exceeded")) {
		lms_util_status(res, resp);
		lms_util_fail(res, LMS_RETRY, "%s: HTTP 403: Rate Limit Exceeded", what);
		return AT_UPSTREAM;
	}
	if (lms_util_http_failed(res, what, resp, error_message(c->a, resp)))
		return AT_UPSTREAM;
	if (resp->body_len == 0)
		return AT_OK;
	*out = lms_util_json(c->a, resp->body, resp->body_len);
	if (*out == NULL) {
		lms_util_fail(res, LMS_RETRY, "%s: the answer is not JSON: %.300s", what,
			      resp->body);
		return AT_UPSTREAM;
	}
	return AT_OK;
}

static enum at_rc call(struct lms_ctx *c, const char *method, const char *path,
		       struct json_object *body, struct json_object **out,
		       struct httpc_resp *resp, struct lms_result *res)
{
	struct lms_req rq;
	struct at_err err = { "" };
	enum at_rc rc;
	const char *what;

	build(c, method, path, body, &rq);
	what = arena_printf(c->a, "%s %s", method, path[0] == '/' ? path :
			    path + strlen(c->p->lms_url));
	rc = httpc_request(c->a, c->http, rq.method, rq.url, rq.headers, rq.body, rq.body_len,
			   resp, &err);
	if (rc == AT_OK && resp->status >= 300 && resp->status < 400)
		return AT_OK;	/* the caller reads Location */
	return judge(c, what, rc, resp, &err, out, res);
}

/* GET every page of a list (Link: rel="next"), calling fn for each element until it
 * returns non-zero. The list is the answer, or its member named member. */
static enum at_rc list_member(struct lms_ctx *c, const char *path, const char *member,
			      int (*fn)(struct arena *a, struct json_object *e, void *ud),
			      void *ud, struct lms_result *res)
{
	const char *url = path;

	for (int page = 0; url != NULL && page < MAX_PAGES; page++) {
		struct httpc_resp resp;
		struct json_object *list = NULL;
		enum at_rc rc = call(c, "GET", url, NULL, &list, &resp, res);

		if (rc != AT_OK)
			return rc;
		if (member != NULL && !json_object_object_get_ex(list, member, &list))
			list = NULL;
		for (size_t i = 0; json_object_is_type(list, json_type_array) &&
		     i < json_object_array_length(list); i++)
			if (fn(c->a, json_object_array_get_idx(list, i), ud))
				return AT_OK;
		url = resp.link_next;
		if (url != NULL && !lms_util_same_site(c->p->lms_url, url)) {
			lms_util_fail(res, LMS_PARK, "Canvas sent a next page on another site: %s",
				      url);
			return AT_UPSTREAM;
		}
	}
	return AT_OK;
}

static enum at_rc list_all(struct lms_ctx *c, const char *path,
			   int (*fn)(struct arena *a, struct json_object *e, void *ud), void *ud,
			   struct lms_result *res)
{
	return list_member(c, path, NULL, fn, ud, res);
}

static const char *course_of(struct lms_ctx *c, int64_t context_id, struct lms_result *res)
{
	const char *course = "", *lti_ctx = "";

	if (lms_util_course(c, context_id, &course, &lti_ctx, res) != AT_OK)
		return NULL;
	if (!lms_util_digits(course)) {
		lms_util_fail(res, LMS_PARK, "no Canvas course id for context %lld (the tool"
			      " placement needs the custom field canvas_course_id=$Canvas.course.id)",
			      (long long)context_id);
		return NULL;
	}
	return course;
}

static enum at_rc remember(struct lms_ctx *c, const char *kind, const char *key,
			   const char *remote, struct lms_result *res)
{
	enum at_rc rc = lmsmap_put(c->db, c->p->id, kind, key, remote, c->now_ms / 1000);

	if (rc != AT_OK)
		lms_util_fail(res, LMS_RETRY, "recording Canvas ids: %s", db_errmsg(c->db));
	return rc;
}

/* ---- outcome groups and outcomes ---- */

static enum at_rc root_group(struct lms_ctx *c, const char *course, const char **gid,
			     struct lms_result *res)
{
	char *mapped = NULL;
	struct httpc_resp resp;
	struct json_object *j = NULL;
	enum at_rc rc;

	if (lmsmap_get(c->db, c->a, c->p->id, "canvas_root", course, &mapped) == AT_OK) {
		*gid = mapped;
		return AT_OK;
	}
	/* a redirect to /api/v1/courses/:id/outcome_groups/:gid */
	rc = call(c, "GET", arena_printf(c->a, "/api/v1/courses/%s/root_outcome_group", course),
		  NULL, &j, &resp, res);
	if (rc != AT_OK)
		return rc;
	if (resp.status >= 300 && resp.location != NULL) {
		const char *slash = strrchr(resp.location, '/');
		size_t n = slash ? strcspn(slash + 1, "?.#") : 0;

		*gid = n ? arena_strndup(c->a, slash + 1, n) : "";
	} else {
		*gid = lms_util_str(c->a, j, "id");
	}
	if (!lms_util_digits(*gid)) {
		lms_util_fail(res, LMS_RETRY, "no root outcome group for course %s", course);
		return AT_UPSTREAM;
	}
	return remember(c, "canvas_root", course, *gid, res);
}

struct find {
	const char *guid, *title, *found;
};

static int match_group(struct arena *a, struct json_object *e, void *ud)
{
	struct find *f = ud;
	const char *guid = lms_util_str(a, e, "vendor_guid");

	if ((*guid && strcmp(guid, f->guid) == 0) ||
	    (!*guid && strcmp(lms_util_str(a, e, "title"), f->title) == 0)) {
		f->found = lms_util_str(a, e, "id");
		return 1;
	}
	return 0;
}

static enum at_rc ensure_group(struct lms_ctx *c, const char *course, const char *parent,
			       const char *key, const char *title, const char *description,
			       const char *guid, const char **gid, struct lms_result *res)
{
	char *mapped = NULL;
	struct find f = { guid, title, NULL };
	struct json_object *body, *j = NULL;
	struct httpc_resp resp;
	enum at_rc rc;

	if (lmsmap_get(c->db, c->a, c->p->id, "canvas_group", key, &mapped) == AT_OK) {
		*gid = mapped;
		return AT_OK;
	}
	rc = list_all(c, arena_printf(c->a, "/api/v1/courses/%s/outcome_groups/%s/subgroups"
				      "?per_page=100", course, parent), match_group, &f, res);
	if (rc != AT_OK)
		return rc;
	if (f.found != NULL && *f.found) {
		*gid = f.found;
	} else {
		body = json_object_new_object();
		json_object_object_add(body, "title", json_object_new_string(title));
		json_object_object_add(body, "description", json_object_new_string(description));
		json_object_object_add(body, "vendor_guid", json_object_new_string(guid));
		rc = call(c, "POST", arena_printf(c->a, "/api/v1/courses/%s/outcome_groups/%s/"
						  "subgroups", course, parent), body, &j, &resp, res);
		if (rc != AT_OK)
			return rc;
		*gid = lms_util_str(c->a, j, "id");
	}
	if (!lms_util_digits(*gid)) {
		lms_util_fail(res, LMS_RETRY, "Canvas gave no id for outcome group %s", title);
		return AT_UPSTREAM;
	}
	return remember(c, "canvas_group", key, *gid, res);
}

static int match_outcome(struct arena *a, struct json_object *e, void *ud)
{
	struct find *f = ud;
	struct json_object *o = NULL;

	json_object_object_get_ex(e, "outcome", &o);
	if (strcmp(lms_util_str(a, o, "vendor_guid"), f->guid) == 0) {
		f->found = lms_util_str(a, o, "id");
		return 1;
	}
	return 0;
}

static int64_t mastery_of(const struct framework_scale *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].proficient)
			return (int64_t)i;
	return (int64_t)s->n - 1;
}

static enum at_rc ensure_outcome(struct lms_ctx *c, const char *course, const char *gid,
				 const struct framework_tree *t, const struct framework_comp *fc,
				 const char **oid, struct lms_result *res)
{
	const char *key = arena_printf(c->a, "%s:%lld", course, (long long)fc->id);
	const struct framework_scale *s = fc->scale ? fc->scale : &t->fw.scale;
	struct find f = { fc->idnumber, fc->shortname, NULL };
	struct json_object *body, *ratings, *j = NULL, *o = NULL;
	struct httpc_resp resp;
	char *mapped = NULL;
	enum at_rc rc;

	if (lmsmap_get(c->db, c->a, c->p->id, "canvas_outcome", key, &mapped) == AT_OK) {
		*oid = mapped;
		return AT_OK;
	}
	rc = list_all(c, arena_printf(c->a, "/api/v1/courses/%s/outcome_groups/%s/outcomes"
				      "?outcome_style=full&per_page=100", course, gid),
		      match_outcome, &f, res);
	if (rc != AT_OK)
		return rc;
	if (f.found != NULL && *f.found) {
		*oid = f.found;
	} else {
		body = json_object_new_object();
		json_object_object_add(body, "title", json_object_new_string(fc->shortname));
		json_object_object_add(body, "display_name", json_object_new_string(fc->idnumber));
		json_object_object_add(body, "description", json_object_new_string(fc->description));
		json_object_object_add(body, "vendor_guid", json_object_new_string(fc->idnumber));
		json_object_object_add(body, "mastery_points", json_object_new_int64(mastery_of(s)));
		ratings = json_object_new_array();
		for (size_t i = s->n; i-- > 0;) {	/* highest first, as Canvas lists them */
			struct json_object *r = json_object_new_object();

			json_object_object_add(r, "description",
					       json_object_new_string(s->items[i].name));
			json_object_object_add(r, "points", json_object_new_int64((int64_t)i));
			json_object_array_add(ratings, r);
		}
		json_object_object_add(body, "ratings", ratings);
		/* Attest sends its current (reconciled) rating: the latest one is the result */
		json_object_object_add(body, "calculation_method", json_object_new_string("latest"));
		rc = call(c, "POST", arena_printf(c->a, "/api/v1/courses/%s/outcome_groups/%s/"
						  "outcomes", course, gid), body, &j, &resp, res);
		if (rc != AT_OK)
			return rc;
		json_object_object_get_ex(j, "outcome", &o);
		*oid = lms_util_str(c->a, o, "id");
	}
	if (!lms_util_digits(*oid)) {
		lms_util_fail(res, LMS_RETRY, "Canvas gave no id for outcome %s", fc->idnumber);
		return AT_UPSTREAM;
	}
	return remember(c, "canvas_outcome", key, *oid, res);
}

enum at_rc lms_canvas_push_outcomes(struct lms_ctx *c, int64_t framework_id, int64_t context_id,
				    struct lms_result *res)
{
	struct framework_tree *t = NULL;
	const char *course, *root, *fwgroup, **groups;
	enum at_rc rc;

	if (!configured(c, res))
		return AT_BADREQ;
	course = course_of(c, context_id, res);
	if (course == NULL)
		return AT_NOTFOUND;
	rc = framework_load(c->db, c->a, framework_id, &t);
	if (rc != AT_OK) {
		lms_util_fail(res, rc == AT_NOTFOUND ? LMS_DONE : LMS_RETRY, "framework %lld: %s",
			      (long long)framework_id, at_strerror(rc));
		return rc;
	}
	rc = root_group(c, course, &root, res);
	if (rc == AT_OK)
		rc = ensure_group(c, course, root, arena_printf(c->a, "%s:%lld", course,
								(long long)framework_id),
				  t->fw.shortname, t->fw.description, t->fw.idnumber, &fwgroup, res);
	if (rc != AT_OK)
		return rc;
	/* groups[k]: the group holding competency k's outcome (its own subgroup when it has
	 * children; t->items is depth first, so a parent's group exists before its children) */
	groups = arena_zalloc(c->a, (t->n + 1) * sizeof(*groups));
	for (size_t k = 0; k < t->n; k++) {
		const struct framework_comp *fc = t->items[k];
		const char *parent_group = fwgroup, *oid;

		if (fc->parent != NULL)
			for (size_t q = 0; q < k; q++)
				if (t->items[q] == fc->parent)
					parent_group = groups[q];
		groups[k] = parent_group;
		if (fc->nchildren > 0) {
			rc = ensure_group(c, course, parent_group,
					  arena_printf(c->a, "%s:%lld:%lld", course,
						       (long long)framework_id, (long long)fc->id),
					  fc->shortname, fc->description, fc->idnumber, &groups[k],
					  res);
			if (rc != AT_OK)
				return rc;
		}
		rc = ensure_outcome(c, course, groups[k], t, fc, &oid, res);
		if (rc != AT_OK)
			return rc;
	}
	res->verdict = LMS_DONE;
	res->error[0] = '\0';
	return AT_OK;
}

/* ---- the rubric and the assessment ---- */

struct rubric {
	const char *id, *association;
	struct json_object *criteria;	/* {"<competency id>": "<criterion id>"} */
};

static enum at_rc ensure_rubric(struct lms_ctx *c, const char *course, const char *assignment,
				int64_t placement_id, const struct framework_tree *t,
				struct rubric *out, struct lms_result *res)
{
	const char *key = arena_printf(c->a, "%lld:%lld", (long long)placement_id,
				       (long long)t->fw.id);
	char *mapped = NULL;
	struct json_object *body, *rb, *crits, *assoc, *j = NULL, *r = NULL, *list = NULL;
	struct json_object *rec, *map, *oid_to_comp;
	struct httpc_resp resp;
	enum at_rc rc;

	if (lmsmap_get(c->db, c->a, c->p->id, "canvas_rubric", key, &mapped) == AT_OK) {
		rec = lms_util_json(c->a, mapped, strlen(mapped));
		if (rec != NULL && json_object_object_get_ex(rec, "criteria", &out->criteria)) {
			out->id = lms_util_str(c->a, rec, "rubric");
			out->association = lms_util_str(c->a, rec, "association");
			return AT_OK;
		}
	}
	body = json_object_new_object();
	rb = json_object_new_object();
	crits = json_object_new_object();
	oid_to_comp = json_object_new_object();
	for (size_t k = 0; k < t->n; k++) {
		const struct framework_comp *fc = t->items[k];
		const struct framework_scale *s = fc->scale ? fc->scale : &t->fw.scale;
		struct json_object *cr = json_object_new_object(), *ratings = json_object_new_object();
		char *oid = NULL;

		if (lmsmap_get(c->db, c->a, c->p->id, "canvas_outcome",
			       arena_printf(c->a, "%s:%lld", course, (long long)fc->id), &oid) !=
		    AT_OK) {
			json_object_put(cr);
			json_object_put(ratings);
			json_object_put(body);
			json_object_put(rb);
			json_object_put(crits);
			json_object_put(oid_to_comp);
			lms_util_fail(res, LMS_RETRY, "competency %s has no Canvas outcome",
				      fc->idnumber);
			return AT_NOTFOUND;
		}
		json_object_object_add(oid_to_comp, oid, json_object_new_int64(fc->id));
		json_object_object_add(cr, "description", json_object_new_string(fc->shortname));
		json_object_object_add(cr, "long_description",
				       json_object_new_string(fc->description));
		json_object_object_add(cr, "points", json_object_new_int64((int64_t)s->n - 1));
		json_object_object_add(cr, "learning_outcome_id", json_object_new_string(oid));
		json_object_object_add(cr, "mastery_points", json_object_new_int64(mastery_of(s)));
		for (size_t i = s->n, n = 0; i-- > 0; n++) {
			struct json_object *ra = json_object_new_object();

			json_object_object_add(ra, "description",
					       json_object_new_string(s->items[i].name));
			json_object_object_add(ra, "points", json_object_new_int64((int64_t)i));
			json_object_object_add(ratings, arena_printf(c->a, "%zu", n), ra);
		}
		json_object_object_add(cr, "ratings", ratings);
		json_object_object_add(crits, arena_printf(c->a, "%zu", k), cr);
	}
	json_object_object_add(rb, "title", json_object_new_string(
				       arena_printf(c->a, "Attest: %s", t->fw.shortname)));
	json_object_object_add(rb, "free_form_criterion_comments", json_object_new_boolean(1));
	json_object_object_add(rb, "criteria", crits);
	json_object_object_add(body, "rubric", rb);
	assoc = json_object_new_object();
	json_object_object_add(assoc, "association_type", json_object_new_string("Assignment"));
	json_object_object_add(assoc, "association_id", json_object_new_string(assignment));
	json_object_object_add(assoc, "use_for_grading", json_object_new_boolean(0));
	json_object_object_add(assoc, "purpose", json_object_new_string("grading"));
	json_object_object_add(body, "rubric_association", assoc);
	rc = call(c, "POST", arena_printf(c->a, "/api/v1/courses/%s/rubrics", course), body, &j,
		  &resp, res);
	if (rc != AT_OK) {
		json_object_put(oid_to_comp);
		return rc;
	}
	if (lms_util_i64(j, "error", 0)) {	/* {"error":true,"messages":[...]} with 200 */
		json_object_put(oid_to_comp);
		lms_util_fail(res, LMS_PARK, "POST /api/v1/courses/%s/rubrics: %.600s", course,
			      resp.body);
		return AT_UPSTREAM;
	}
	json_object_object_get_ex(j, "rubric", &r);
	json_object_object_get_ex(j, "rubric_association", &assoc);
	if (!json_object_object_get_ex(r, "criteria", &list))
		json_object_object_get_ex(r, "data", &list);
	map = json_object_new_object();
	for (size_t i = 0; json_object_is_type(list, json_type_array) &&
	     i < json_object_array_length(list); i++) {
		struct json_object *cr = json_object_array_get_idx(list, i), *comp = NULL;
		const char *oid = lms_util_str(c->a, cr, "learning_outcome_id");

		if (json_object_object_get_ex(oid_to_comp, oid, &comp))
			json_object_object_add(map, json_object_get_string(comp),
					       json_object_new_string(lms_util_str(c->a, cr, "id")));
	}
	json_object_put(oid_to_comp);
	rec = json_object_new_object();
	json_object_object_add(rec, "rubric", json_object_new_string(lms_util_str(c->a, r, "id")));
	json_object_object_add(rec, "association",
			       json_object_new_string(lms_util_str(c->a, assoc, "id")));
	json_object_object_add(rec, "criteria", map);
	out->id = lms_util_str(c->a, r, "id");
	out->association = lms_util_str(c->a, assoc, "id");
	rc = remember(c, "canvas_rubric", key, json_object_to_json_string_ext(
			      rec, JSON_C_TO_STRING_PLAIN), res);
	out->criteria = lms_util_json(c->a, json_object_to_json_string(map),
				      strlen(json_object_to_json_string(map)));
	json_object_put(rec);
	if (rc == AT_OK && json_object_object_length(out->criteria) == 0) {
		lms_util_fail(res, LMS_PARK, "the Canvas rubric %s has no criterion aligned to an"
			      " outcome", out->id);
		rc = AT_UPSTREAM;
	}
	return rc;
}

/* The values to write: those written before (a rubric assessment replaces the previous
 * one whole) overlaid with the item's ratings. {"<competency id>": value}, from a. */
static struct json_object *merged_values(struct lms_ctx *c, struct json_object *j,
					 const char *key)
{
	char *prev = NULL;
	struct json_object *m = NULL, *ratings = NULL;

	if (lmsmap_get(c->db, c->a, c->p->id, "canvas_assessed", key, &prev) == AT_OK)
		m = lms_util_json(c->a, prev, strlen(prev));
	if (m == NULL || !json_object_is_type(m, json_type_object))
		m = lms_util_json(c->a, "{}", 2);
	json_object_object_get_ex(j, "ratings", &ratings);
	for (size_t i = 0; json_object_is_type(ratings, json_type_array) &&
	     i < json_object_array_length(ratings); i++) {
		struct json_object *r = json_object_array_get_idx(ratings, i);

		json_object_object_add(m, lms_util_str(c->a, r, "competency_id"),
				       json_object_new_int64(lms_util_i64(r, "value", 0)));
	}
	return m;
}

static const char *assessed_key(struct arena *a, struct json_object *j)
{
	return arena_printf(a, "%lld:%lld", (long long)lms_util_i64(j, "placement_id", 0),
			    (long long)lms_util_i64(j, "user_id", 0));
}

static enum lms_step outcomes_prepare(struct lms_ctx *c, const struct outbox_item *it,
				      struct lms_req *rq, struct lms_result *res)
{
	struct json_object *j = lms_util_payload(c, it, res);

	(void)rq;
	if (j != NULL)
		lms_canvas_push_outcomes(c, lms_util_i64(j, "framework_id", 0),
					 lms_util_i64(j, "context_id", 0), res);
	return LMS_DECIDED;
}

static enum lms_step result_prepare(struct lms_ctx *c, const struct outbox_item *it,
				    struct lms_req *rq, struct lms_result *res)
{
	struct json_object *j = lms_util_payload(c, it, res), *values, *assessment, *body;
	struct json_object *ratings = NULL;
	int64_t fw, placement, ctx, pctx = 0, user;
	const char *course, *assignment = "", *cuser = "", *sub = "", *comment;
	struct framework_tree *t = NULL;
	struct rubric rub;
	char *mapped = NULL;

	if (j == NULL || !configured(c, res))
		return LMS_DECIDED;
	fw = lms_util_i64(j, "framework_id", 0);
	placement = lms_util_i64(j, "placement_id", 0);
	ctx = lms_util_i64(j, "context_id", 0);
	user = lms_util_i64(j, "user_id", 0);
	comment = lms_util_str(c->a, j, "comment");
	course = course_of(c, ctx, res);
	if (course == NULL)
		return LMS_DECIDED;
	if (lms_util_assignment(c->db, c->a, placement, &pctx, &assignment) != AT_OK ||
	    pctx != ctx) {
		lms_util_fail(res, LMS_PARK, "placement %lld is not in context %lld",
			      (long long)placement, (long long)ctx);
		return LMS_DECIDED;
	}
	if (!lms_util_digits(assignment)) {
		lms_util_fail(res, LMS_PARK, "placement %lld has no Canvas assignment id yet (the"
			      " tool placement needs canvas_assignment_id=$Canvas.assignment.id and"
			      " one launch from the assignment)", (long long)placement);
		return LMS_DECIDED;
	}
	if (lms_util_user(c->db, c->a, c->p->id, user, &cuser, &sub) != AT_OK ||
	    !lms_util_digits(cuser)) {
		lms_util_fail(res, LMS_PARK, "no Canvas user id for user %lld (the tool placement"
			      " needs canvas_user_id=$Canvas.user.id)", (long long)user);
		return LMS_DECIDED;
	}
	/* outcomes first (a framework not pushed yet), then the rubric */
	if (lmsmap_get(c->db, c->a, c->p->id, "canvas_group",
		       arena_printf(c->a, "%s:%lld", course, (long long)fw), &mapped) != AT_OK &&
	    lms_canvas_push_outcomes(c, fw, ctx, res) != AT_OK)
		return LMS_DECIDED;
	if (framework_load(c->db, c->a, fw, &t) != AT_OK) {
		lms_util_fail(res, LMS_DONE, "framework %lld is gone", (long long)fw);
		return LMS_DECIDED;
	}
	if (ensure_rubric(c, course, assignment, placement, t, &rub, res) != AT_OK) {
		if (res->verdict == LMS_RETRY && strstr(res->error, "has no Canvas outcome") &&
		    lms_canvas_push_outcomes(c, fw, ctx, res) == AT_OK)
			lms_util_fail(res, LMS_RETRY, "outcomes of framework %lld pushed again",
				      (long long)fw);
		return LMS_DECIDED;
	}
	values = merged_values(c, j, assessed_key(c->a, j));
	json_object_object_get_ex(j, "ratings", &ratings);
	assessment = json_object_new_object();
	json_object_object_foreach(values, comp, v) {
		struct json_object *crit = NULL, *e;
		int in_item = 0;

		if (!json_object_object_get_ex(rub.criteria, comp, &crit))
			continue;
		for (size_t i = 0; json_object_is_type(ratings, json_type_array) &&
		     i < json_object_array_length(ratings); i++)
			if (strcmp(lms_util_str(c->a, json_object_array_get_idx(ratings, i),
						"competency_id"), comp) == 0)
				in_item = 1;
		e = json_object_new_object();
		json_object_object_add(e, "points", json_object_new_int64(json_object_get_int64(v)));
		if (in_item && *comment)
			json_object_object_add(e, "comments", json_object_new_string(comment));
		json_object_object_add(assessment, json_object_get_string(crit), e);
	}
	if (json_object_object_length(assessment) == 0) {
		json_object_put(assessment);
		lms_util_fail(res, LMS_DONE, "no rated competency is on the rubric");
		return LMS_DECIDED;
	}
	body = json_object_new_object();
	json_object_object_add(body, "rubric_assessment", assessment);
	build(c, "PUT", arena_printf(c->a, "/api/v1/courses/%s/assignments/%s/submissions/%s",
				     course, assignment, cuser), body, rq);
	return LMS_SEND;
}

static void result_finish(struct lms_ctx *c, const struct outbox_item *it, enum at_rc rc,
			  const struct httpc_resp *resp, struct lms_result *res)
{
	struct json_object *j = NULL, *sub = NULL, *values;
	struct at_err err = { "transport error" };
	const char *key;

	if (judge(c, "PUT submission", rc, resp, &err, &sub, res) != AT_OK) {
		/* the rubric changed under us (deleted, replaced): make it again next time */
		if (rc == AT_OK && resp->status == 400 && resp->body &&
		    strstr(resp->body, "invalid rubric_assessment")) {
			j = lms_util_json(c->a, it->payload, strlen(it->payload));
			lmsmap_del(c->db, c->p->id, "canvas_rubric",
				   arena_printf(c->a, "%lld:%lld",
						(long long)lms_util_i64(j, "placement_id", 0),
						(long long)lms_util_i64(j, "framework_id", 0)));
			res->verdict = LMS_RETRY;
		}
		return;
	}
	j = lms_util_json(c->a, it->payload, strlen(it->payload));
	key = assessed_key(c->a, j);
	values = merged_values(c, j, key);
	if (lmsmap_put(c->db, c->p->id, "canvas_assessed", key, json_object_to_json_string_ext(
			       values, JSON_C_TO_STRING_PLAIN), c->now_ms / 1000) != AT_OK) {
		/* delivered all the same; the next item carries its own ratings */
		lms_util_fail(res, LMS_DONE, "delivered; recording it failed: %s",
			      db_errmsg(c->db));
		return;
	}
	res->verdict = LMS_DONE;
	res->error[0] = '\0';
}

/* ---- reading back ---- */

struct collect {
	struct lms_canvas_result *items;
	size_t n, cap;
	const char *cuser;
	struct json_object *oid_to_comp;
};

static int collect_result(struct arena *a, struct json_object *e, void *ud)
{
	struct collect *col = ud;
	struct json_object *links = NULL, *comp = NULL;
	struct lms_canvas_result *r;

	json_object_object_get_ex(e, "links", &links);
	if (strcmp(lms_util_str(a, links, "user"), col->cuser) != 0 ||
	    !json_object_object_get_ex(col->oid_to_comp, lms_util_str(a, links,
								       "learning_outcome"), &comp))
		return 0;
	col->items = arena_reserve(a, col->items, col->n, &col->cap, sizeof(*col->items));
	r = &col->items[col->n++];
	r->competency_id = json_object_get_int64(comp);
	r->score = lms_util_i64(e, "score", -1);
	r->alignment = lms_util_str(a, links, "alignment");
	r->mastery = lms_util_i64(e, "mastery", 0) != 0;
	return 0;
}

enum at_rc lms_canvas_read_results(struct lms_ctx *c, int64_t framework_id, int64_t context_id,
				   int64_t user_id, struct lms_canvas_result **out, size_t *n,
				   struct lms_result *res)
{
	const char *course, *cuser = "", *sub = "";
	struct framework_tree *t = NULL;
	struct collect col = { NULL, 0, 0, NULL, NULL };
	struct buf *q;
	enum at_rc rc;

	*out = NULL;
	*n = 0;
	if (!configured(c, res))
		return AT_BADREQ;
	course = course_of(c, context_id, res);
	if (course == NULL)
		return AT_NOTFOUND;
	if (lms_util_user(c->db, c->a, c->p->id, user_id, &cuser, &sub) != AT_OK ||
	    !lms_util_digits(cuser))
		return AT_NOTFOUND;
	rc = framework_load(c->db, c->a, framework_id, &t);
	if (rc != AT_OK)
		return rc;
	col.cuser = cuser;
	col.oid_to_comp = lms_util_json(c->a, "{}", 2);
	q = lms_util_buf(c->a);
	lms_util_form(q, "user_ids[]", cuser);
	for (size_t k = 0; k < t->n; k++) {
		char *oid = NULL;

		if (lmsmap_get(c->db, c->a, c->p->id, "canvas_outcome",
			       arena_printf(c->a, "%s:%lld", course, (long long)t->items[k]->id),
			       &oid) != AT_OK)
			continue;
		json_object_object_add(col.oid_to_comp, oid,
				       json_object_new_int64(t->items[k]->id));
		lms_util_form(q, "outcome_ids[]", oid);
	}
	lms_util_form(q, "per_page", "100");
	rc = list_member(c, arena_printf(c->a, "/api/v1/courses/%s/outcome_results?%s", course,
					 buf_cstr(q)), "outcome_results", collect_result, &col, res);
	if (rc != AT_OK)
		return rc;
	*out = col.items;
	*n = col.n;
	res->verdict = LMS_DONE;
	return AT_OK;
}

const struct lms_handler lms_canvas_handlers[] = {
	{ "canvas_outcomes", outcomes_prepare, lms_util_no_finish },
	{ "canvas_result", result_prepare, result_finish },
	{ NULL, NULL, NULL },
};
