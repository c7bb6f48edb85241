/* lms_moodle.c: Moodle competencies over Moodle's web services (REST protocol,
 * /webservice/rest/server.php, JSON format). Two outbox kinds (lti/lms.h):
 *  moodle_framework  push a framework — scale configuration, the competency tree (parents
 *                    before children, found again by id number) and its rules — and link
 *                    every competency to the course; done entirely in prepare.
 *  moodle_rating     core_competency_grade_competency_in_course for one learner and
 *                    competency (pushing the framework first when it is not there yet).
 * Moodle answers errors with HTTP 200 and {"exception","errorcode","message"}; the code
 * decides retry or park (errcode_verdict). Ids Moodle gives are kept in lms_map:
 * moodle_framework/<framework id>, moodle_competency/<competency id>,
 * moodle_course/<framework id>:<context id> (the course the framework was linked to). */
#include <string.h>
#include <strings.h>

#include "core/framework.h"
#include "core/lmsmap.h"
#include "lti/lms_moodle.h"
#include "lti/lms_util.h"

#define WS_PATH "/webservice/rest/server.php"

/* Moodle's competency.ruleoutcome: what a met rule does (competency.php). */
enum { OUTCOME_NONE = 0, OUTCOME_EVIDENCE = 1, OUTCOME_COMPLETE = 2, OUTCOME_RECOMMEND = 3 };
#define FORMAT_PLAIN 2

/* Error codes worth another try later: maintenance, database trouble on Moodle's side. */
static const char *const TRANSIENT_CODES[] = {
	"sitemaintenance", "dmlreadexception", "dmlwriteexception", "dbconnectionfailed",
	"dmltransactionexception", "upgraderunning", NULL,
};

static enum lms_verdict errcode_verdict(const char *code)
{
	for (size_t i = 0; TRANSIENT_CODES[i] != NULL; i++)
		if (strcmp(code, TRANSIENT_CODES[i]) == 0)
			return LMS_RETRY;
	/* invalidtoken, accessexception, nopermissions, invalidparameter, invalidrecord,
	 * codingerror, competenciesarenotenabled, ...: a person has to act */
	return LMS_PARK;
}

static int configured(struct lms_ctx *c, struct lms_result *res)
{
	return lms_util_configured(c, res, "Moodle web services are", "SITE_URL");
}

/* The request for wsfunction fn with form parameters params (without the token). */
static void build(struct lms_ctx *c, const char *fn, struct buf *params, struct lms_req *rq)
{
	struct buf *body = lms_util_buf(c->a);
	const char **h = arena_zalloc(c->a, 3 * sizeof(*h));

	lms_util_form(body, "wstoken", c->p->lms_token);
	if (params->len > 0) {
		buf_append(body, "&", 1);
		buf_append(body, params->data, params->len);
	}
	h[0] = "Content-Type: application/x-www-form-urlencoded";
	h[1] = "Accept: application/json";
	rq->method = "POST";
	rq->url = arena_printf(c->a, "%s" WS_PATH "?moodlewsrestformat=json&wsfunction=%s",
			       c->p->lms_url, fn);
	rq->headers = h;
	rq->body = arena_strndup(c->a, buf_cstr(body), body->len);
	rq->body_len = body->len;
}

/* Judge an answer of fn. Returns the parsed JSON result on success (AT_OK), else fills res
 * (verdict, status, "fn: errorcode: message") and returns an error. */
static enum at_rc judge(struct lms_ctx *c, const char *fn, enum at_rc rc,
			const struct httpc_resp *resp, const struct at_err *err,
			struct json_object **out, struct lms_result *res)
{
	struct json_object *j, *ex = NULL;

	*out = NULL;
	if (rc != AT_OK) {
		lms_util_transport(res, fn, rc, err);
		return rc;
	}
	if (lms_util_http_failed(res, fn, resp, NULL))
		return AT_UPSTREAM;
	j = lms_util_json(c->a, resp->body, resp->body_len);
	if (j == NULL) {
		lms_util_fail(res, LMS_RETRY, "%s: the answer is not JSON: %.300s", fn,
			      resp->body ? resp->body : "");
		return AT_UPSTREAM;
	}
	if (json_object_is_type(j, json_type_object) &&
	    json_object_object_get_ex(j, "exception", &ex)) {
		const char *code = lms_util_str(c->a, j, "errorcode");
		const char *msg = lms_util_str(c->a, j, "message");
		const char *dbg = lms_util_str(c->a, j, "debuginfo");

		lms_util_fail(res, errcode_verdict(code), "%s: %s: %s%s%s", fn,
			      *code ? code : lms_util_str(c->a, j, "exception"), msg,
			      *dbg ? " — " : "", dbg);
		return AT_UPSTREAM;
	}
	*out = j;
	return AT_OK;
}

/* One blocking call (prepare's set-up calls). */
static enum at_rc call(struct lms_ctx *c, const char *fn, struct buf *params,
		       struct json_object **out, struct lms_result *res)
{
	struct lms_req rq;
	struct httpc_resp resp;
	struct at_err err = { "" };
	enum at_rc rc;

	build(c, fn, params, &rq);
	rc = httpc_request(c->a, c->http, rq.method, rq.url, rq.headers, rq.body, rq.body_len,
			   &resp, &err);
	return judge(c, fn, rc, &resp, &err, out, res);
}

static const char *key_of(struct arena *a, int64_t id)
{
	return arena_printf(a, "%lld", (long long)id);
}

/* ---- the scale ---- */

/* Does Moodle scale scaleid have exactly the values of s, in order? */
static enum at_rc scale_matches(struct lms_ctx *c, const char *scaleid,
				const struct framework_scale *s, int *match, struct lms_result *res)
{
	struct buf *p = lms_util_buf(c->a);
	struct json_object *vals;
	size_t n;
	enum at_rc rc;

	*match = 0;
	lms_util_form(p, "scaleid", scaleid);
	rc = call(c, "core_competency_get_scale_values", p, &vals, res);
	if (rc != AT_OK)
		return rc;
	if (!json_object_is_type(vals, json_type_array))
		return AT_OK;
	n = json_object_array_length(vals);
	if (n != s->n)
		return AT_OK;
	for (size_t i = 0; i < n; i++) {
		const char *name = lms_util_str(c->a, json_object_array_get_idx(vals, i), "name");

		if (strcasecmp(name, s->items[i].name) != 0)
			return AT_OK;
	}
	*match = 1;
	return AT_OK;
}

static const char *scaleid_of_config(struct arena *a, const char *cfg)
{
	struct json_object *j = lms_util_json(a, cfg, cfg ? strlen(cfg) : 0), *first;

	if (j == NULL || !json_object_is_type(j, json_type_array) ||
	    json_object_array_length(j) == 0)
		return "";
	first = json_object_array_get_idx(j, 0);
	return lms_util_str(a, first, "scaleid");
}

/* The Moodle scale to use for t: the one configured for this framework, the platform's
 * default, or the one the framework was imported with — the first whose values are the
 * framework's. */
static enum at_rc pick_scale(struct lms_ctx *c, const struct framework_tree *t,
			     const char **scaleid, struct lms_result *res)
{
	const char *cand[3] = { NULL, NULL, NULL };
	char *v = NULL;
	char tried[128] = "";
	size_t off = 0;

	if (lmsmap_get(c->db, c->a, c->p->id, "moodle_scale", t->fw.idnumber, &v) == AT_OK)
		cand[0] = v;
	if (lmsmap_get(c->db, c->a, c->p->id, "moodle_scale", "*", &v) == AT_OK)
		cand[1] = v;
	cand[2] = scaleid_of_config(c->a, framework_meta_str(c->a, t->fw.source, "scalecfg", ""));
	for (size_t i = 0; i < 3; i++) {
		int match = 0;
		enum at_rc rc;

		if (cand[i] == NULL || !lms_util_digits(cand[i]) || strcmp(cand[i], "0") == 0)
			continue;
		rc = scale_matches(c, cand[i], &t->fw.scale, &match, res);
		if (rc != AT_OK && res->verdict != LMS_PARK)
			return rc;	/* transient: try again later */
		if (match) {
			*scaleid = cand[i];
			return AT_OK;
		}
		off += (size_t)snprintf(tried + off, sizeof(tried) - off, " %s", cand[i]);
		if (off >= sizeof(tried))
			off = sizeof(tried) - 1;
	}
	lms_util_fail(res, LMS_PARK, "no Moodle scale with the values of framework %s (%zu"
		      " values, first \"%s\"; tried:%s): create it in Moodle and run attest"
		      " platform set %lld moodle_scale=SCALEID", t->fw.idnumber, t->fw.scale.n,
		      t->fw.scale.n ? t->fw.scale.items[0].name : "", off ? tried : " none",
		      (long long)c->p->id);
	return AT_NOTFOUND;
}

static const char *scale_config(struct arena *a, const char *scaleid,
				const struct framework_scale *s)
{
	struct json_object *arr = json_object_new_array(), *o;
	const char *out;

	o = json_object_new_object();
	json_object_object_add(o, "scaleid", json_object_new_string(scaleid));
	json_object_array_add(arr, o);
	for (size_t i = 0; i < s->n; i++) {
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64((int64_t)i + 1));
		json_object_object_add(o, "scaledefault", json_object_new_int(s->items[i].is_default));
		json_object_object_add(o, "proficient", json_object_new_int(s->items[i].proficient));
		json_object_array_add(arr, o);
	}
	out = arena_strdup(a, json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return out;
}

/* ---- framework and competencies ---- */

static enum at_rc find_framework(struct lms_ctx *c, const char *idnumber, const char **id,
				 struct lms_result *res)
{
	struct buf *p = lms_util_buf(c->a);
	struct json_object *list;
	enum at_rc rc;

	*id = "";
	lms_util_form(p, "sort", "shortname");
	lms_util_form(p, "context[contextlevel]", "system");
	lms_util_form(p, "context[instanceid]", "0");
	lms_util_form(p, "includes", "children");
	lms_util_form(p, "query", idnumber);
	rc = call(c, "core_competency_list_competency_frameworks", p, &list, res);
	if (rc != AT_OK)
		return rc;
	for (size_t i = 0; json_object_is_type(list, json_type_array) &&
	     i < json_object_array_length(list); i++) {
		struct json_object *f = json_object_array_get_idx(list, i);

		if (strcmp(lms_util_str(c->a, f, "idnumber"), idnumber) == 0) {
			*id = lms_util_str(c->a, f, "id");
			return AT_OK;
		}
	}
	return AT_NOTFOUND;
}

struct remote_comp {
	const char *id, *idnumber, *parentid, *shortname, *description;
	const char *ruletype, *ruleconfig;
	int64_t ruleoutcome;
};

static enum at_rc list_competencies(struct lms_ctx *c, const char *fwid,
				    struct remote_comp **out, size_t *n, struct lms_result *res)
{
	struct buf *p = lms_util_buf(c->a);
	struct json_object *list;
	enum at_rc rc;

	*out = NULL;
	*n = 0;
	lms_util_form(p, "filters[0][column]", "competencyframeworkid");
	lms_util_form(p, "filters[0][value]", fwid);
	lms_util_form(p, "sort", "path");
	lms_util_form(p, "order", "ASC");
	rc = call(c, "core_competency_list_competencies", p, &list, res);
	if (rc != AT_OK || !json_object_is_type(list, json_type_array))
		return rc;
	*n = json_object_array_length(list);
	*out = arena_zalloc(c->a, (*n + 1) * sizeof(**out));
	for (size_t i = 0; i < *n; i++) {
		struct json_object *o = json_object_array_get_idx(list, i);
		struct remote_comp *r = &(*out)[i];

		r->id = lms_util_str(c->a, o, "id");
		r->idnumber = lms_util_str(c->a, o, "idnumber");
		r->parentid = lms_util_str(c->a, o, "parentid");
		r->shortname = lms_util_str(c->a, o, "shortname");
		r->description = lms_util_str(c->a, o, "description");
		r->ruletype = lms_util_str(c->a, o, "ruletype");
		r->ruleconfig = lms_util_str(c->a, o, "ruleconfig");
		r->ruleoutcome = lms_util_i64(o, "ruleoutcome", 0);
	}
	return AT_OK;
}

static struct remote_comp *remote_by_idnumber(struct remote_comp *r, size_t n, const char *idn)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(r[i].idnumber, idn) == 0)
			return &r[i];
	return NULL;
}

static const char *rule_class(enum framework_rule_type t)
{
	switch (t) {
	case FRAMEWORK_RULE_ALL:
		return "core_competency\\competency_rule_all";
	case FRAMEWORK_RULE_POINTS:
		return "core_competency\\competency_rule_points";
	default:
		return "";
	}
}

/* Moodle's ruleconfig of a points rule: children by Moodle id. "" for other rules. */
static const char *rule_config(struct arena *a, const struct framework_comp *fc,
			       const char *const *remote_ids, const struct framework_tree *t)
{
	struct json_object *o, *base, *arr;
	const char *out;

	if (fc->rule.type != FRAMEWORK_RULE_POINTS)
		return "";
	o = json_object_new_object();
	base = json_object_new_object();
	json_object_object_add(base, "points", json_object_new_int64(fc->rule.base));
	json_object_object_add(o, "base", base);
	arr = json_object_new_array();
	for (size_t i = 0; i < fc->rule.n; i++) {
		struct json_object *e = json_object_new_object();
		int64_t rid = 0;

		for (size_t k = 0; k < t->n; k++)
			if (strcmp(t->items[k]->idnumber, fc->rule.items[i].idnumber) == 0)
				rid = strtoll(remote_ids[k], NULL, 10);
		json_object_object_add(e, "id", json_object_new_int64(rid));
		json_object_object_add(e, "points", json_object_new_int64(fc->rule.items[i].points));
		json_object_object_add(e, "required",
				       json_object_new_int(fc->rule.items[i].required ? 1 : 0));
		json_object_array_add(arr, e);
	}
	json_object_object_add(o, "competencies", arr);
	out = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return out;
}

static int same_json(struct arena *a, const char *x, const char *y)
{
	struct json_object *jx = lms_util_json(a, x, strlen(x));
	struct json_object *jy = lms_util_json(a, y, strlen(y));

	if (jx == NULL || jy == NULL)
		return strcmp(x, y) == 0;
	return json_object_equal(jx, jy);
}

static int64_t rule_outcome(struct arena *a, const struct framework_comp *fc)
{
	const char *o = framework_meta_str(a, fc->meta, "outcome", "");

	/* a framework imported from Moodle keeps its outcome; otherwise the rule only logs
	 * evidence: Attest rates the parent itself (core/rules.c) and pushes that rating */
	if (lms_util_digits(o) && strtoll(o, NULL, 10) <= OUTCOME_RECOMMEND)
		return strtoll(o, NULL, 10);
	return fc->rule.type == FRAMEWORK_RULE_NONE || fc->rule.type == FRAMEWORK_RULE_MANUAL
		       ? OUTCOME_NONE : OUTCOME_EVIDENCE;
}

static enum at_rc link_course(struct lms_ctx *c, const char *courseid,
			      const struct framework_tree *t, const char *const *remote_ids,
			      struct lms_result *res)
{
	struct buf *p = lms_util_buf(c->a);
	struct json_object *list;
	enum at_rc rc;

	lms_util_form(p, "id", courseid);
	rc = call(c, "core_competency_list_course_competencies", p, &list, res);
	if (rc != AT_OK)
		return rc;
	for (size_t k = 0; k < t->n; k++) {
		int linked = 0;
		struct json_object *ok;

		for (size_t i = 0; json_object_is_type(list, json_type_array) &&
		     i < json_object_array_length(list); i++) {
			struct json_object *e = json_object_array_get_idx(list, i), *comp = NULL;

			json_object_object_get_ex(e, "competency", &comp);
			if (strcmp(lms_util_str(c->a, comp, "id"), remote_ids[k]) == 0)
				linked = 1;
		}
		if (linked)
			continue;
		p = lms_util_buf(c->a);
		lms_util_form(p, "courseid", courseid);
		lms_util_form(p, "competencyid", remote_ids[k]);
		rc = call(c, "core_competency_add_competency_to_course", p, &ok, res);
		if (rc != AT_OK)
			return rc;
	}
	return AT_OK;
}

/* The Moodle course of an Attest context: lms_course_id, else (Moodle sends the course id
 * as the LTI context id) the context id when it is a number. */
static const char *course_of(struct lms_ctx *c, int64_t context_id, struct lms_result *res)
{
	const char *course = "", *lti_ctx = "";

	if (lms_util_course(c, context_id, &course, &lti_ctx, res) != AT_OK)
		return NULL;
	if (lms_util_digits(course))
		return course;
	if (lms_util_digits(lti_ctx))
		return lti_ctx;
	lms_util_fail(res, LMS_PARK, "no Moodle course id for context %lld (LTI context \"%s\")",
		      (long long)context_id, lti_ctx);
	return NULL;
}

enum at_rc lms_moodle_push_framework(struct lms_ctx *c, int64_t framework_id,
				     int64_t context_id, struct lms_result *res)
{
	struct framework_tree *t = NULL;
	const char *courseid, *scaleid = NULL, *fwid = NULL, **remote_ids;
	struct remote_comp *remote = NULL;
	size_t nremote = 0;
	char *mapped = NULL;
	struct json_object *j;
	struct buf *p;
	enum at_rc rc;

	if (!configured(c, res))
		return AT_BADREQ;
	courseid = course_of(c, context_id, res);
	if (courseid == NULL)
		return AT_NOTFOUND;
	rc = framework_load(c->db, c->a, framework_id, &t);
	if (rc != AT_OK) {
		lms_util_fail(res, rc == AT_NOTFOUND ? LMS_DONE : LMS_RETRY,
			      "framework %lld: %s", (long long)framework_id, at_strerror(rc));
		return rc;
	}
	/* the framework: recorded, else found by id number, else created */
	if (lmsmap_get(c->db, c->a, c->p->id, "moodle_framework", key_of(c->a, framework_id),
		       &mapped) == AT_OK)
		fwid = mapped;
	if (fwid == NULL) {
		rc = find_framework(c, t->fw.idnumber, &fwid, res);
		if (rc != AT_OK && rc != AT_NOTFOUND)
			return rc;
	}
	if (fwid == NULL || *fwid == '\0') {
		rc = pick_scale(c, t, &scaleid, res);
		if (rc != AT_OK)
			return rc;
		p = lms_util_buf(c->a);
		lms_util_form(p, "competencyframework[shortname]", t->fw.shortname);
		lms_util_form(p, "competencyframework[idnumber]", t->fw.idnumber);
		lms_util_form(p, "competencyframework[description]", t->fw.description);
		lms_util_formf(p, "competencyframework[descriptionformat]", "%d", FORMAT_PLAIN);
		lms_util_form(p, "competencyframework[visible]", "1");
		lms_util_form(p, "competencyframework[scaleid]", scaleid);
		lms_util_form(p, "competencyframework[scaleconfiguration]",
			      scale_config(c->a, scaleid, &t->fw.scale));
		lms_util_form(p, "competencyframework[contextlevel]", "system");
		lms_util_form(p, "competencyframework[instanceid]", "0");
		if (t->fw.taxonomies != NULL && t->fw.taxonomies[0] != '\0')
			lms_util_form(p, "competencyframework[taxonomies]", t->fw.taxonomies);
		rc = call(c, "core_competency_create_competency_framework", p, &j, res);
		if (rc != AT_OK)
			return rc;
		fwid = lms_util_str(c->a, j, "id");
	}
	if (!lms_util_digits(fwid)) {
		lms_util_fail(res, LMS_RETRY, "Moodle gave no framework id for %s", t->fw.idnumber);
		return AT_UPSTREAM;
	}
	rc = lmsmap_put(c->db, c->p->id, "moodle_framework", key_of(c->a, framework_id), fwid,
			c->now_ms / 1000);
	if (rc != AT_OK)
		goto dberr;
	/* competencies, parents first (t->items is depth first) */
	rc = list_competencies(c, fwid, &remote, &nremote, res);
	if (rc != AT_OK)
		return rc;
	remote_ids = arena_zalloc(c->a, (t->n + 1) * sizeof(*remote_ids));
	for (size_t k = 0; k < t->n; k++) {
		const struct framework_comp *fc = t->items[k];
		struct remote_comp *r = remote_by_idnumber(remote, nremote, fc->idnumber);
		const char *parent = "0";

		if (fc->parent != NULL)
			for (size_t q = 0; q < k; q++)
				if (t->items[q] == fc->parent)
					parent = remote_ids[q];
		if (r != NULL) {
			remote_ids[k] = r->id;
		} else {
			p = lms_util_buf(c->a);
			lms_util_form(p, "competency[shortname]", fc->shortname);
			lms_util_form(p, "competency[idnumber]", fc->idnumber);
			lms_util_form(p, "competency[description]", fc->description);
			lms_util_formf(p, "competency[descriptionformat]", "%d", FORMAT_PLAIN);
			lms_util_form(p, "competency[parentid]", parent);
			lms_util_form(p, "competency[competencyframeworkid]", fwid);
			rc = call(c, "core_competency_create_competency", p, &j, res);
			if (rc != AT_OK)
				return rc;
			remote_ids[k] = lms_util_str(c->a, j, "id");
		}
		rc = lmsmap_put(c->db, c->p->id, "moodle_competency", key_of(c->a, fc->id),
				remote_ids[k], c->now_ms / 1000);
		if (rc != AT_OK)
			goto dberr;
	}
	/* names and rules: rules name children by Moodle id, so they go once all exist */
	for (size_t k = 0; k < t->n; k++) {
		const struct framework_comp *fc = t->items[k];
		struct remote_comp *r = remote_by_idnumber(remote, nremote, fc->idnumber);
		const char *type = rule_class(fc->rule.type);
		const char *cfg = rule_config(c->a, fc, remote_ids, t);
		int64_t outcome = rule_outcome(c->a, fc);
		int rule_differs, text_differs;

		rule_differs = *type != '\0' &&
			       (r == NULL || strcmp(r->ruletype, type) != 0 ||
				r->ruleoutcome != outcome ||
				(*cfg != '\0' && !same_json(c->a, r->ruleconfig, cfg)));
		text_differs = r != NULL && (strcmp(r->shortname, fc->shortname) != 0 ||
					     strcmp(r->description, fc->description) != 0);
		if (!rule_differs && !text_differs)
			continue;
		p = lms_util_buf(c->a);
		lms_util_form(p, "competency[id]", remote_ids[k]);
		lms_util_form(p, "competency[shortname]", fc->shortname);
		lms_util_form(p, "competency[idnumber]", fc->idnumber);
		lms_util_form(p, "competency[description]", fc->description);
		lms_util_formf(p, "competency[descriptionformat]", "%d", FORMAT_PLAIN);
		if (*type != '\0') {
			lms_util_form(p, "competency[ruletype]", type);
			lms_util_formf(p, "competency[ruleoutcome]", "%lld", (long long)outcome);
			if (*cfg != '\0')
				lms_util_form(p, "competency[ruleconfig]", cfg);
		}
		rc = call(c, "core_competency_update_competency", p, &j, res);
		if (rc != AT_OK)
			return rc;
	}
	rc = link_course(c, courseid, t, remote_ids, res);
	if (rc != AT_OK)
		return rc;
	rc = lmsmap_put(c->db, c->p->id, "moodle_course",
			arena_printf(c->a, "%lld:%lld", (long long)framework_id,
				     (long long)context_id), courseid, c->now_ms / 1000);
	if (rc != AT_OK)
		goto dberr;
	res->verdict = LMS_DONE;
	res->error[0] = '\0';
	return AT_OK;
dberr:
	lms_util_fail(res, LMS_RETRY, "recording Moodle ids: %s", db_errmsg(c->db));
	return rc;
}

/* ---- handlers ---- */

static enum lms_step framework_prepare(struct lms_ctx *c, const struct outbox_item *it,
				       struct lms_req *rq, struct lms_result *res)
{
	struct json_object *j = lms_util_payload(c, it, res);

	(void)rq;
	if (j != NULL)
		lms_moodle_push_framework(c, lms_util_i64(j, "framework_id", 0),
					  lms_util_i64(j, "context_id", 0), res);
	return LMS_DECIDED;
}

/* The note Moodle stores with the evidence (PARAM_NOTAGS): summary and evidence page. */
/* The note of a rating: the summary and the URL of its page in Attest (a path from the
 * outbox is made absolute with the base URL). */
static const char *rating_note(struct arena *a, const char *base, const char *note,
			       const char *url)
{
	if (url == NULL || *url == '\0')
		return note;
	if (url[0] == '/' && base != NULL)
		url = arena_printf(a, "%s%s", base, url);
	if (note == NULL || *note == '\0')
		return arena_printf(a, "Evidence: %s", url);
	return arena_printf(a, "%s\nEvidence: %s", note, url);
}

static enum lms_step rating_prepare(struct lms_ctx *c, const struct outbox_item *it,
				    struct lms_req *rq, struct lms_result *res)
{
	struct json_object *j = lms_util_payload(c, it, res);
	int64_t fw, comp, ctx, user, grade;
	const char *courseid, *muser = "", *sub = "", *note, *marker;
	char *mcomp = NULL, *linked = NULL, *sent = NULL;
	struct buf *p;

	if (j == NULL || !configured(c, res))
		return LMS_DECIDED;
	fw = lms_util_i64(j, "framework_id", 0);
	comp = lms_util_i64(j, "competency_id", 0);
	ctx = lms_util_i64(j, "context_id", 0);
	user = lms_util_i64(j, "user_id", 0);
	grade = lms_util_i64(j, "grade", 0);
	courseid = course_of(c, ctx, res);
	if (courseid == NULL)
		return LMS_DECIDED;
	if (lms_util_user(c->db, c->a, c->p->id, user, &muser, &sub) != AT_OK) {
		lms_util_fail(res, LMS_PARK, "user %lld is not a user of platform %lld",
			      (long long)user, (long long)c->p->id);
		return LMS_DECIDED;
	}
	if (!lms_util_digits(muser))
		muser = sub;	/* Moodle's LTI sub is the Moodle user id */
	if (!lms_util_digits(muser)) {
		lms_util_fail(res, LMS_PARK, "no Moodle user id for user %lld", (long long)user);
		return LMS_DECIDED;
	}
	if (grade < 1) {
		lms_util_fail(res, LMS_PARK, "grade %lld is not a Moodle scale value",
			      (long long)grade);
		return LMS_DECIDED;
	}
	/* a framework not yet pushed to this course: push it first */
	if (lmsmap_get(c->db, c->a, c->p->id, "moodle_course",
		       arena_printf(c->a, "%lld:%lld", (long long)fw, (long long)ctx),
		       &linked) != AT_OK ||
	    lmsmap_get(c->db, c->a, c->p->id, "moodle_competency", key_of(c->a, comp),
		       &mcomp) != AT_OK) {
		if (lms_moodle_push_framework(c, fw, ctx, res) != AT_OK)
			return LMS_DECIDED;
		if (lmsmap_get(c->db, c->a, c->p->id, "moodle_competency", key_of(c->a, comp),
			       &mcomp) != AT_OK) {
			lms_util_fail(res, LMS_PARK, "competency %lld is not in framework %lld",
				      (long long)comp, (long long)fw);
			return LMS_DECIDED;
		}
	}
	note = rating_note(c->a, c->base_url, lms_util_str(c->a, j, "note"),
			   lms_util_str(c->a, j, "evidence_url"));
	/* Moodle adds an evidence entry per call: a rating whose answer was lost (a timeout,
	 * a worker killed after sending) must not be written twice. A marker is recorded
	 * before every send; finding it, the rating is read back first, and when Moodle's
	 * newest evidence is this very rating the item is done without a write. */
	marker = key_of(c->a, it->id);
	if (lmsmap_get(c->db, c->a, c->p->id, "moodle_sent", marker, &sent) == AT_OK) {
		struct lms_moodle_rating r;
		struct lms_result rr;

		memset(&rr, 0, sizeof(rr));
		if (lms_moodle_read_rating(c, comp, ctx, user, &r, &rr) == AT_OK &&
		    r.grade == grade && r.note != NULL && strcmp(r.note, note) == 0) {
			lmsmap_del(c->db, c->p->id, "moodle_sent", marker);
			res->verdict = LMS_DONE;
			res->error[0] = '\0';
			return LMS_DECIDED;
		}
	} else if (lmsmap_put(c->db, c->p->id, "moodle_sent", marker, "1", c->now_ms / 1000) !=
		   AT_OK) {
		lms_util_fail(res, LMS_RETRY, "could not record the rating as being sent");
		return LMS_DECIDED;
	}
	p = lms_util_buf(c->a);
	lms_util_form(p, "courseid", courseid);
	lms_util_form(p, "userid", muser);
	lms_util_form(p, "competencyid", mcomp);
	lms_util_formf(p, "grade", "%lld", (long long)grade);
	lms_util_form(p, "note", note);
	build(c, "core_competency_grade_competency_in_course", p, rq);
	return LMS_SEND;
}

static void rating_finish(struct lms_ctx *c, const struct outbox_item *it, enum at_rc rc,
			  const struct httpc_resp *resp, struct lms_result *res)
{
	struct json_object *j = NULL;
	struct at_err err = { "transport error" };

	if (judge(c, "core_competency_grade_competency_in_course", rc, resp, &err, &j, res) !=
	    AT_OK) {
		/* parked: Moodle refused this write, and the read-back in prepare found no
		 * earlier one: nothing of this item is in Moodle */
		if (res->verdict == LMS_PARK)
			lmsmap_del(c->db, c->p->id, "moodle_sent", key_of(c->a, it->id));
		return;
	}
	if (lms_util_i64(j, "id", 0) <= 0) {	/* the evidence record */
		lms_util_fail(res, LMS_RETRY, "core_competency_grade_competency_in_course: no"
			      " evidence in the answer: %.300s", resp->body);
		return;
	}
	lmsmap_del(c->db, c->p->id, "moodle_sent", key_of(c->a, it->id));
	res->verdict = LMS_DONE;
	res->error[0] = '\0';
}

enum at_rc lms_moodle_read_rating(struct lms_ctx *c, int64_t competency_id, int64_t context_id,
				  int64_t user_id, struct lms_moodle_rating *out,
				  struct lms_result *res)
{
	const char *courseid, *muser = "", *sub = "";
	char *mcomp = NULL;
	struct json_object *j, *sum = NULL, *ucc = NULL, *ev = NULL;
	struct buf *p;
	enum at_rc rc;

	memset(out, 0, sizeof(*out));
	if (!configured(c, res))
		return AT_BADREQ;
	courseid = course_of(c, context_id, res);
	if (courseid == NULL)
		return AT_NOTFOUND;
	if (lms_util_user(c->db, c->a, c->p->id, user_id, &muser, &sub) != AT_OK)
		return AT_NOTFOUND;
	if (!lms_util_digits(muser))
		muser = sub;
	if (lmsmap_get(c->db, c->a, c->p->id, "moodle_competency", key_of(c->a, competency_id),
		       &mcomp) != AT_OK) {
		lms_util_fail(res, LMS_PARK, "competency %lld was never pushed to Moodle",
			      (long long)competency_id);
		return AT_NOTFOUND;
	}
	p = lms_util_buf(c->a);
	lms_util_form(p, "userid", muser);
	lms_util_form(p, "competencyid", mcomp);
	lms_util_form(p, "courseid", courseid);
	rc = call(c, "tool_lp_data_for_user_competency_summary_in_course", p, &j, res);
	if (rc != AT_OK)
		return rc;
	json_object_object_get_ex(j, "usercompetencysummary", &sum);
	json_object_object_get_ex(sum, "usercompetencycourse", &ucc);
	out->grade = lms_util_i64(ucc, "grade", 0);
	out->proficient = lms_util_i64(ucc, "proficiency", 0) != 0;
	out->gradename = lms_util_str(c->a, ucc, "gradename");
	json_object_object_get_ex(sum, "evidence", &ev);
	if (json_object_is_type(ev, json_type_array) && json_object_array_length(ev) > 0) {
		/* evidence is listed newest first */
		out->note = lms_util_str(c->a, json_object_array_get_idx(ev, 0), "note");
		out->nevidence = json_object_array_length(ev);
	} else {
		out->note = "";
	}
	res->verdict = LMS_DONE;
	return AT_OK;
}

const struct lms_handler lms_moodle_handlers[] = {
	{ "moodle_framework", framework_prepare, lms_util_no_finish },
	{ "moodle_rating", rating_prepare, rating_finish },
	{ NULL, NULL, NULL },
};
