/* lti_nrps.c: Names and Role Provisioning Services 2.0 (https://www.imsglobal.org/spec/
 * lti-nrps/v2p0) — the "roster" outbox handler (lti/lms.h).
 *
 * GET the course's context_memberships_url (or, after a first full import, the
 * differences link the platform gave: only what changed) with Accept
 * application/vnd.ims.lti-nrps.v2.membershipcontainer+json, following Link rel="next".
 * Each member becomes an app_user (launched_at stays 0 until they launch: coordinators see
 * who has not launched yet) and a membership with source 'nrps'; Inactive or Deleted
 * members' memberships become inactive. The whole import is one transaction, done in
 * prepare (several calls), so the item needs no write of its own. */
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/jsonx.h"
#include "lti/lms.h"
#include "lti/lti_jwt.h"
#include "lti/lti_svc.h"

#define MT_MEMBERS "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
#define MAX_PAGES 1000

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
	       ? json_object_get_string(v) : NULL;
}

static const char *nz(const char *s)
{
	return s ? s : "";
}

static const char SQL_CTX[] =
	"SELECT nrps_url, roster_diff_url FROM context WHERE id = ?1 AND platform_id = ?2";
static const char SQL_USER[] =
	"INSERT INTO app_user (platform_id, sub, name, given_name, family_name, email,"
	" created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
	" ON CONFLICT (platform_id, sub) DO UPDATE SET"
	" name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE app_user.name END,"
	" given_name = CASE WHEN excluded.given_name <> '' THEN excluded.given_name"
	"  ELSE app_user.given_name END,"
	" family_name = CASE WHEN excluded.family_name <> '' THEN excluded.family_name"
	"  ELSE app_user.family_name END,"
	" email = CASE WHEN excluded.email <> '' THEN excluded.email ELSE app_user.email END,"
	" updated_at = excluded.updated_at RETURNING id";
/* A launch's membership keeps its source; the roster sets roles and whether it is active. */
static const char SQL_MEMBER[] =
	"INSERT INTO membership (user_id, context_id, roles, role, updated_at, source, active)"
	" VALUES (?1, ?2, ?3, ?4, ?5, 'nrps', ?6) ON CONFLICT (user_id, context_id) DO UPDATE SET"
	" roles = CASE WHEN excluded.roles <> '' THEN excluded.roles ELSE membership.roles END,"
	" role = CASE WHEN excluded.role <> 0 THEN excluded.role ELSE membership.role END,"
	" active = excluded.active, updated_at = excluded.updated_at";
static const char SQL_DONE[] =
	"UPDATE context SET roster_synced_at = ?2, roster_diff_url = ?3 WHERE id = ?1";

struct import {
	int64_t members, pages;
	const char *diff;
};

static enum at_rc member(struct lms_ctx *c, int64_t ctx, struct json_object *m,
			 struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *roles;
	const char *sub = jstr(m, "user_id"), *status = jstr(m, "status");
	const char *joined = "";
	unsigned flags = 0;
	bool row = false;
	int64_t uid = 0;
	enum at_rc rc;

	if (sub == NULL || *sub == '\0' || strlen(sub) > 255)
		return AT_OK;	/* not a member we can address */
	if (json_object_object_get_ex(m, "roles", &roles) &&
	    json_object_is_type(roles, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(roles); i++) {
			struct json_object *r = json_object_array_get_idx(roles, i);

			if (!json_object_is_type(r, json_type_string))
				continue;
			flags |= lti_jwt_role_flag(json_object_get_string(r));
			joined = arena_printf(c->a, "%s%s%s", joined, *joined ? " " : "",
					      json_object_get_string(r));
		}
	}
	rc = db_prepare(c->db, SQL_USER, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, c->p->id);
	db_bind_str(st, 2, sub);
	db_bind_str(st, 3, nz(jstr(m, "name")));
	db_bind_str(st, 4, nz(jstr(m, "given_name")));
	db_bind_str(st, 5, nz(jstr(m, "family_name")));
	db_bind_str(st, 6, nz(jstr(m, "email")));
	db_bind_i64(st, 7, c->now_ms / 1000);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		uid = db_col_i64(st, 0);
	if (rc == AT_OK)
		rc = db_run(st);
	db_finalize(st);
	st = NULL;
	if (rc != AT_OK || uid == 0)
		goto out;
	rc = db_prepare(c->db, SQL_MEMBER, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, uid);
	db_bind_i64(st, 2, ctx);
	db_bind_str(st, 3, joined);
	db_bind_i64(st, 4, (int64_t)flags);
	db_bind_i64(st, 5, c->now_ms / 1000);
	db_bind_i64(st, 6, status == NULL || strcmp(status, "Active") == 0);
	rc = db_run(st);
out:
	db_finalize(st);
	if (rc != AT_OK)
		at_fail(err, rc, "storing a roster member failed: %s", db_errmsg(c->db));
	return rc;
}

/* Fetch every page from url; each page's members are stored in the open transaction. */
static enum at_rc import(struct lms_ctx *c, int64_t ctx, const char *url,
			 const struct lti_svc_token *tok, struct import *im, long *status,
			 struct at_err *err)
{
	const char *headers[] = { lti_svc_auth_header(c->a, tok), "Accept: " MT_MEMBERS, NULL };
	struct httpc_resp r;
	enum at_rc rc;

	for (const char *next = url; next != NULL; next = r.link_next) {
		struct json_object *root, *members;

		if (++im->pages > MAX_PAGES)
			return at_fail(err, AT_UPSTREAM, "more than %d roster pages", MAX_PAGES);
		rc = httpc_request(c->a, c->http, "GET", next, headers, NULL, 0, &r, err);
		if (rc != AT_OK)
			return rc;
		*status = r.status;
		if (r.status != 200)
			return at_fail(err, r.status >= 500 || r.status == 429 ? AT_UPSTREAM :
				       r.status == 401 ? AT_UNAUTH : AT_BADREQ,
				       "membership service answered %ld: %.300s", r.status,
				       r.body ? r.body : "");
		root = jsonx_parse(c->a, r.body, r.body_len, 32, err);
		if (root == NULL || !json_object_object_get_ex(root, "members", &members) ||
		    !json_object_is_type(members, json_type_array))
			return at_fail(err, AT_UPSTREAM, "membership container without members");
		for (size_t i = 0; i < json_object_array_length(members); i++) {
			rc = member(c, ctx, json_object_array_get_idx(members, i), err);
			if (rc != AT_OK)
				return rc;
			im->members++;
		}
		if (r.link_differences != NULL)
			im->diff = r.link_differences;
	}
	return AT_OK;
}

static enum lms_step roster_prepare(struct lms_ctx *c, const struct outbox_item *it,
				    struct lms_req *rq, struct lms_result *res)
{
	struct json_object *pl = jsonx_parse(c->a, it->payload, strlen(it->payload), 8, NULL);
	struct json_object *v;
	struct db_stmt *st = NULL;
	struct lti_svc_token tok;
	struct import im = { 0, 0, NULL };
	struct at_err err = { "" };
	const char *url = NULL, *diff = "";
	int64_t ctx = 0;
	long status = 0;
	bool row = false;
	enum at_rc rc;

	(void)rq;
	res->verdict = LMS_PARK;
	if (pl != NULL && json_object_object_get_ex(pl, "context_id", &v))
		ctx = json_object_get_int64(v);
	rc = db_prepare(c->db, SQL_CTX, &st);
	if (rc == AT_OK) {
		db_bind_i64(st, 1, ctx);
		db_bind_i64(st, 2, c->p->id);
		rc = db_step(st, &row);
		if (rc == AT_OK && row) {
			url = arena_strdup(c->a, db_col_text(st, 0));
			diff = arena_strdup(c->a, db_col_text(st, 1));
		}
	}
	db_finalize(st);
	if (rc != AT_OK) {
		res->verdict = LMS_RETRY;
		snprintf(res->error, sizeof(res->error), "database: %s", at_strerror(rc));
		return LMS_DECIDED;
	}
	if (url == NULL || *url == '\0') {
		snprintf(res->error, sizeof(res->error), "course %" PRId64 " has no names and role"
			 " service (launch from the course with NRPS enabled first)", ctx);
		return LMS_DECIDED;
	}
	rc = lti_svc_get(c->tokens, c->db, c->a, c->http, c->p, LTI_SCOPE_NRPS, c->now_ms, &tok,
			 &err);
	if (rc == AT_OK)
		rc = lti_svc_need(&tok, LTI_SCOPE_NRPS, &err);
	if (rc == AT_OK) {
		rc = db_begin(c->db);
		if (rc == AT_OK) {
			rc = import(c, ctx, *diff ? diff : url, &tok, &im, &status, &err);
			if (rc == AT_OK) {
				rc = db_prepare(c->db, SQL_DONE, &st);
				if (rc == AT_OK) {
					db_bind_i64(st, 1, ctx);
					db_bind_i64(st, 2, c->now_ms / 1000);
					db_bind_str(st, 3, im.diff ? im.diff : "");
					rc = db_run(st);
				}
				db_finalize(st);
			}
			if (rc == AT_OK)
				rc = db_commit(c->db);
			if (rc != AT_OK)
				db_rollback(c->db);
		}
	}
	res->http_status = status;
	if (rc == AT_UNAUTH && status == 401) {
		lti_svc_forget(c->tokens, c->p->id, LTI_SCOPE_NRPS);
		if (it->last_status != 401) {
			res->verdict = LMS_RETRY;
			res->retry_after_ms = 0;
		}
	} else if (rc == AT_OK) {
		res->verdict = LMS_DONE;
	} else if (rc == AT_UPSTREAM || rc == AT_TIMEOUT || rc == AT_DB) {
		res->verdict = LMS_RETRY;
	}
	if (rc != AT_OK)
		snprintf(res->error, sizeof(res->error), "%s", err.msg[0] ? err.msg :
			 at_strerror(rc));
	else
		snprintf(res->error, sizeof(res->error), "%" PRId64 " members in %" PRId64
			 " pages%s", im.members, im.pages, *diff ? " (differences)" : "");
	return LMS_DECIDED;
}

static void roster_finish(struct lms_ctx *c, const struct outbox_item *it, enum at_rc rc,
			  const struct httpc_resp *resp, struct lms_result *res)
{
	(void)c;
	(void)it;
	lms_judge(rc, resp, res);	/* never sent: prepare decides */
}

const struct lms_handler lti_nrps_handlers[] = {
	{ "roster", roster_prepare, roster_finish },
	{ NULL, NULL, NULL },
};
