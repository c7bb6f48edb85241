/* lti_ags.c: AGS line items, scores and results; the "score" outbox handler (lti/lti_ags.h). */
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/jsonx.h"
#include "core/log.h"
#include "core/share.h"
#include "lti/lti_ags.h"
#include "lti/lti_svc.h"

#define MT_SCORE "application/vnd.ims.lis.v1.score+json"
#define MT_LINEITEM "application/vnd.ims.lis.v2.lineitem+json"
#define MT_CONTAINER "application/vnd.ims.lis.v2.lineitemcontainer+json"
#define MT_RESULTS "application/vnd.ims.lis.v2.resultcontainer+json"
#define LINEITEM_SCOPES LTI_SCOPE_LINEITEM " " LTI_SCOPE_LINEITEM_RO
#define MAX_PAGES 50
#define LOCK_STALE 60	/* seconds after which a line item creation lock is taken over */

char *lti_ags_join(struct arena *a, const char *lineitem, const char *sub, const char *query)
{
	const char *q = strchr(lineitem, '?');
	size_t n = q ? (size_t)(q - lineitem) : strlen(lineitem);
	const char *path = arena_strndup(a, lineitem, n);
	const char *slash = n > 0 && lineitem[n - 1] == '/' ? "" : "/";

	if (q != NULL && query != NULL)
		return arena_printf(a, "%s%s%s%s&%s", path, slash, sub, q, query);
	if (q != NULL)
		return arena_printf(a, "%s%s%s%s", path, slash, sub, q);
	if (query != NULL)
		return arena_printf(a, "%s%s%s?%s", path, slash, sub, query);
	return arena_printf(a, "%s%s%s", path, slash, sub);
}

static char *add_query(struct arena *a, const char *url, const char *query)
{
	return arena_printf(a, "%s%c%s", url, strchr(url, '?') ? '&' : '?', query);
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
	       ? json_object_get_string(v) : NULL;
}

static double jnum(struct json_object *o, const char *k, double dflt)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v))
		return dflt;
	if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
		return json_object_get_double(v);
	return dflt;
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int) ?
	       json_object_get_int64(v) : 0;
}

/* ---- small storage helpers ---- */

static enum at_rc one_text(struct db *db, struct arena *a, const char *sql, int64_t p1,
			   const char *p2, const char **out)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, sql, &st);

	*out = NULL;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, p1);
		if (p2 != NULL)
			db_bind_str(st, 2, p2);
		rc = db_step(st, &row);
		if (rc == AT_OK && !row)
			rc = AT_NOTFOUND;
		if (rc == AT_OK)
			*out = arena_strdup(a, db_col_text(st, 0));
	}
	db_finalize(st);
	return rc;
}

static const char SQL_MAP_GET[] =
	"SELECT remote_id FROM lms_map WHERE platform_id = ?1 AND kind = ?2 AND local_key = ?3";
static const char SQL_MAP_PUT[] =
	"INSERT INTO lms_map (platform_id, kind, local_key, remote_id, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (platform_id, kind, local_key)"
	" DO UPDATE SET remote_id = excluded.remote_id, updated_at = excluded.updated_at";

static const char *map_get(struct lms_ctx *c, const char *kind, const char *key)
{
	struct db_stmt *st = NULL;
	bool row = false;
	const char *v = NULL;

	if (db_prepare(c->db, SQL_MAP_GET, &st) == AT_OK) {
		db_bind_i64(st, 1, c->p->id);
		db_bind_str(st, 2, kind);
		db_bind_str(st, 3, key);
		if (db_step(st, &row) == AT_OK && row)
			v = arena_strdup(c->a, db_col_text(st, 0));
	}
	db_finalize(st);
	return v;
}

static enum at_rc map_put(struct lms_ctx *c, const char *kind, const char *key, const char *v)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(c->db, SQL_MAP_PUT, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, c->p->id);
		db_bind_str(st, 2, kind);
		db_bind_str(st, 3, key);
		db_bind_str(st, 4, v);
		db_bind_i64(st, 5, c->now_ms / 1000);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

static const char SQL_MAP_DEL[] =
	"DELETE FROM lms_map WHERE platform_id = ?1 AND kind = ?2 AND local_key = ?3";

static void map_del(struct lms_ctx *c, const char *kind, const char *key)
{
	struct db_stmt *st = NULL;

	if (db_prepare(c->db, SQL_MAP_DEL, &st) == AT_OK) {
		db_bind_i64(st, 1, c->p->id);
		db_bind_str(st, 2, kind);
		db_bind_str(st, 3, key);
		(void)db_run(st);
	}
	db_finalize(st);
}

/* ---- line items ---- */

struct placement_row {
	int64_t id, context_id, score_max;
	const char *resource_id, *title, *link_id, *lineitem_url, *lineitems;
};

static const char SQL_PLACEMENT[] =
	"SELECT p.id, p.context_id, p.score_max, p.resource_id, p.title, p.link_id,"
	" p.lineitem_url, c.ags_lineitems FROM placement p JOIN context c ON c.id = p.context_id"
	" WHERE p.id = ?1";

static enum at_rc placement_load(struct lms_ctx *c, int64_t id, struct placement_row *p)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(c->db, SQL_PLACEMENT, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		rc = db_step(st, &row);
		if (rc == AT_OK && !row)
			rc = AT_NOTFOUND;
		if (rc == AT_OK) {
			p->id = db_col_i64(st, 0);
			p->context_id = db_col_i64(st, 1);
			p->score_max = db_col_i64(st, 2);
			p->resource_id = arena_strdup(c->a, db_col_text(st, 3));
			p->title = arena_strdup(c->a, db_col_text(st, 4));
			p->link_id = arena_strdup(c->a, db_col_text(st, 5));
			p->lineitem_url = arena_strdup(c->a, db_col_text(st, 6));
			p->lineitems = arena_strdup(c->a, db_col_text(st, 7));
		}
	}
	db_finalize(st);
	return rc;
}

static const char SQL_SET_LINEITEM[] =
	"UPDATE placement SET lineitem_url = ?2 WHERE id = ?1";

static enum at_rc store_lineitem(struct lms_ctx *c, int64_t placement_id, const char *url)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(c->db, SQL_SET_LINEITEM, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, placement_id);
		db_bind_str(st, 2, url);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

/* Take the creation lock of a placement's line item (stale ones are taken over). */
static const char SQL_LOCK[] =
	"INSERT INTO lms_map (platform_id, kind, local_key, remote_id, updated_at)"
	" VALUES (?1, 'lineitem_lock', ?2, ?3, ?4) ON CONFLICT (platform_id, kind, local_key)"
	" DO UPDATE SET remote_id = excluded.remote_id, updated_at = excluded.updated_at"
	" WHERE lms_map.updated_at < ?5 RETURNING remote_id";
static const char SQL_UNLOCK[] =
	"DELETE FROM lms_map WHERE platform_id = ?1 AND kind = 'lineitem_lock' AND local_key = ?2";

static enum at_rc lock_placement(struct lms_ctx *c, const char *key, bool *held)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(c->db, SQL_LOCK, &st);

	*held = false;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, c->p->id);
		db_bind_str(st, 2, key);
		db_bind_str(st, 3, "locked");
		db_bind_i64(st, 4, c->now_ms / 1000);
		db_bind_i64(st, 5, c->now_ms / 1000 - LOCK_STALE);
		rc = db_step(st, &row);
		if (rc == AT_OK)
			rc = db_run(st);
		*held = rc == AT_OK && row;
	}
	db_finalize(st);
	return rc;
}

static void unlock_placement(struct lms_ctx *c, const char *key)
{
	struct db_stmt *st = NULL;

	if (db_prepare(c->db, SQL_UNLOCK, &st) == AT_OK) {
		db_bind_i64(st, 1, c->p->id);
		db_bind_str(st, 2, key);
		(void)db_run(st);
	}
	db_finalize(st);
}

static enum at_rc token(struct lms_ctx *c, const char *scopes, struct lti_svc_token *tok,
			struct at_err *err)
{
	return lti_svc_get(c->tokens, c->db, c->a, c->http, c->p, scopes, c->now_ms, tok, err);
}

static enum at_rc http_fail(const struct httpc_resp *r, const char *what, struct at_err *err)
{
	return at_fail(err, r->status >= 500 || r->status == 429 ? AT_UPSTREAM : AT_BADREQ,
		       "%s answered %ld: %.120s", what, r->status, r->body ? r->body : "");
}

/* Search the line items service for resource_id, following Link rel="next". */
static enum at_rc find_lineitem(struct lms_ctx *c, const struct lti_svc_token *tok,
				const char *lineitems, const char *resource_id, const char **url,
				struct at_err *err)
{
	const char *headers[] = { lti_svc_auth_header(c->a, tok), "Accept: " MT_CONTAINER, NULL };
	const char *next = add_query(c->a, lineitems, arena_printf(c->a, "resource_id=%s",
				     lti_svc_pct(c->a, resource_id)));
	struct httpc_resp r;
	enum at_rc rc;

	*url = NULL;
	for (int page = 0; next != NULL && page < MAX_PAGES; page++) {
		struct json_object *arr;

		rc = httpc_request(c->a, c->http, "GET", next, headers, NULL, 0, &r, err);
		if (rc != AT_OK)
			return rc;
		if (r.status != 200)
			return http_fail(&r, "line items service", err);
		arr = jsonx_parse(c->a, r.body, r.body_len, 16, err);
		if (arr == NULL || !json_object_is_type(arr, json_type_array))
			return at_fail(err, AT_UPSTREAM, "line items service: not a JSON array");
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			struct json_object *li = json_object_array_get_idx(arr, i);
			const char *rid = jstr(li, "resourceId"), *id = jstr(li, "id");

			if (rid != NULL && id != NULL && strcmp(rid, resource_id) == 0) {
				*url = id;
				return AT_OK;
			}
		}
		next = r.link_next;
	}
	return AT_OK;
}

static enum at_rc create_lineitem(struct lms_ctx *c, const struct lti_svc_token *tok,
				  const struct placement_row *p, const char **url,
				  struct at_err *err)
{
	const char *headers[] = { lti_svc_auth_header(c->a, tok), "Content-Type: " MT_LINEITEM,
				  "Accept: " MT_LINEITEM, NULL };
	struct json_object *o = json_object_new_object(), *ans;
	struct httpc_resp r;
	const char *body;
	enum at_rc rc;

	json_object_object_add(o, "scoreMaximum", json_object_new_double(p->score_max / 100.0));
	json_object_object_add(o, "label", json_object_new_string(*p->title ? p->title :
							 "Attest"));
	json_object_object_add(o, "resourceId", json_object_new_string(p->resource_id));
	json_object_object_add(o, "tag", json_object_new_string("attest"));
	if (*p->link_id)
		json_object_object_add(o, "resourceLinkId", json_object_new_string(p->link_id));
	body = arena_strdup(c->a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	rc = httpc_request(c->a, c->http, "POST", p->lineitems, headers, body, strlen(body), &r,
			   err);
	if (rc != AT_OK)
		return rc;
	if (r.status != 200 && r.status != 201)
		return http_fail(&r, "line item creation", err);
	ans = jsonx_parse(c->a, r.body, r.body_len, 16, err);
	*url = jstr(ans, "id");
	if (*url == NULL)
		return at_fail(err, AT_UPSTREAM, "line item creation: no id in the answer");
	return AT_OK;
}

enum at_rc lti_ags_lineitem(struct lms_ctx *c, int64_t placement_id, const char **url,
			    struct at_err *err)
{
	struct placement_row p;
	struct lti_svc_token tok;
	const char *key = arena_printf(c->a, "%" PRId64, placement_id);
	bool held = false;
	enum at_rc rc = placement_load(c, placement_id, &p);

	*url = NULL;
	if (rc != AT_OK)
		return at_fail(err, rc, "placement %" PRId64 " is gone", placement_id);
	if (*p.lineitem_url) {
		*url = p.lineitem_url;
		return AT_OK;
	}
	if (*p.lineitems == '\0')
		return at_fail(err, AT_NOTFOUND, "the course of placement %" PRId64 " has no AGS"
			       " line items service (no launch with the AGS claim yet)",
			       placement_id);
	rc = lock_placement(c, key, &held);
	if (rc != AT_OK)
		return rc;
	if (!held)
		return at_fail(err, AT_CONFLICT, "line item of placement %" PRId64 " is being"
			       " created by another worker", placement_id);
	rc = placement_load(c, placement_id, &p);	/* created meanwhile? */
	if (rc == AT_OK && *p.lineitem_url) {
		*url = p.lineitem_url;
		goto out;
	}
	rc = token(c, LINEITEM_SCOPES, &tok, err);
	if (rc == AT_OK && lti_svc_need(&tok, LTI_SCOPE_LINEITEM_RO, NULL) != AT_OK)
		rc = lti_svc_need(&tok, LTI_SCOPE_LINEITEM, err);
	if (rc == AT_OK)
		rc = find_lineitem(c, &tok, p.lineitems, p.resource_id, url, err);
	if (rc == AT_OK && *url == NULL) {
		rc = lti_svc_need(&tok, LTI_SCOPE_LINEITEM, err);
		if (rc == AT_OK)
			rc = create_lineitem(c, &tok, &p, url, err);
	}
	if (rc == AT_OK)
		rc = store_lineitem(c, placement_id, *url);
out:
	unlock_placement(c, key);
	return rc;
}

/* "2026-01-02T03:04:05.678Z" (or "...+02:00", "...-0500": an offset is applied) -> unix
 * seconds and milliseconds; *frac (may be NULL) tells whether a fraction was given. -1
 * when malformed. */
static int64_t parse_ts(const char *s, int *ms, bool *frac)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, fr = 0, oh = 0, om = 0;
	int64_t t;

	*ms = 0;
	if (frac != NULL)
		*frac = false;
	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return -1;
	if (s[n] == '.') {
		int digits = 0;

		for (n++; s[n] >= '0' && s[n] <= '9'; n++, digits++)
			if (digits < 3)
				fr = fr * 10 + (s[n] - '0');
		while (digits > 0 && digits < 3) {
			fr *= 10;
			digits++;
		}
		*ms = fr;
		if (frac != NULL)
			*frac = true;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm);
	if ((s[n] == '+' || s[n] == '-') &&
	    (sscanf(s + n + 1, "%2d:%2d", &oh, &om) == 2 ||
	     sscanf(s + n + 1, "%2d%2d", &oh, &om) == 2))
		t -= (s[n] == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
	return t;
}

#define CANVAS_SUBMISSION "https://canvas.instructure.com/lti/submission"

enum at_rc lti_ags_read(struct lms_ctx *c, const char *lineitem, const char *user_sub,
			struct lti_ags_res *out, struct at_err *err)
{
	struct lti_svc_token tok;
	struct httpc_resp r;
	struct json_object *arr;
	const char *url = lti_ags_join(c->a, lineitem, "results",
				       arena_printf(c->a, "user_id=%s", lti_svc_pct(c->a, user_sub)));
	enum at_rc rc = AT_OK;

	memset(out, 0, sizeof(*out));
	out->score = out->max = NAN;
	for (int attempt = 0; attempt < 2; attempt++) {
		rc = token(c, LTI_SCOPE_RESULT_RO, &tok, err);
		if (rc == AT_OK)
			rc = lti_svc_need(&tok, LTI_SCOPE_RESULT_RO, err);
		if (rc != AT_OK)
			return rc;
		{
			const char *headers[] = { lti_svc_auth_header(c->a, &tok),
						  "Accept: " MT_RESULTS, NULL };

			rc = httpc_request(c->a, c->http, "GET", url, headers, NULL, 0, &r, err);
		}
		if (rc != AT_OK)
			return rc;
		/* a cached token revoked or expired early: a new one, once */
		if (r.status != 401 || tok.fresh)
			break;
		lti_svc_forget(c->tokens, c->p->id, LTI_SCOPE_RESULT_RO);
	}
	if (r.status != 200)
		return http_fail(&r, "results service", err);
	arr = jsonx_parse(c->a, r.body, r.body_len, 16, err);
	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return at_fail(err, AT_UPSTREAM, "results service: not a JSON array");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *x = json_object_array_get_idx(arr, i), *ext = NULL;
		const char *uid = jstr(x, "userId"), *ts;
		bool frac = false;

		if (uid == NULL || strcmp(uid, user_sub) != 0)
			continue;
		out->found = 1;
		out->score = jnum(x, "resultScore", NAN);
		out->max = jnum(x, "resultMaximum", NAN);
		out->comment = jstr(x, "comment");
		out->ts_kind = LTI_AGS_TS_NONE;
		/* Moodle: the stored grade's timestamp (= the score's, in seconds); Canvas: the
		 * submission extension as sent with the score, whose submitted_at is the score's
		 * timestamp when Attest sent it */
		ts = jstr(x, "timestamp");
		if (ts == NULL && json_object_object_get_ex(x, CANVAS_SUBMISSION, &ext) &&
		    json_object_is_type(ext, json_type_object))
			ts = jstr(ext, "submitted_at");
		if (ts != NULL) {
			out->ts_sec = parse_ts(ts, &out->ts_ms, &frac);
			if (out->ts_sec >= 0)
				out->ts_kind = frac ? LTI_AGS_TS_MS : LTI_AGS_TS_SEC;
		}
	}
	return AT_OK;
}

enum at_rc lti_ags_result(struct lms_ctx *c, const char *lineitem, const char *user_sub,
			  int *found, double *score, double *max, struct at_err *err)
{
	struct lti_ags_res x;
	enum at_rc rc = lti_ags_read(c, lineitem, user_sub, &x, err);

	*found = x.found;
	*score = x.score;
	*max = x.max;
	return rc;
}

/* ---- the "score" handler ---- */

struct score_state {
	const char *ts_key;	/* lms_map key of the last second sent */
	const char *marker;	/* lms_map key of the "sent" marker (kind ags_sent): the item id */
	int64_t sent_sec;
	const char *lineitem, *sub, *scopes;
	double given, max;
	char **shares;		/* capability tokens made for this attempt (core/share.h) */
	size_t nshares, shares_cap;
};

static const char *fmt_ts(struct arena *a, int64_t sec, int ms)
{
	time_t t = (time_t)sec;
	struct tm tm;
	char b[32];

	gmtime_r(&t, &tm);
	strftime(b, sizeof(b), "%Y-%m-%dT%H:%M:%S", &tm);
	return arena_printf(a, "%s.%03dZ", b, ms);
}

static void set_error(struct lms_result *res, enum lms_verdict v, const char *msg)
{
	res->verdict = v;
	snprintf(res->error, sizeof(res->error), "%s", msg);
}

static const char SQL_SUB[] = "SELECT sub FROM app_user WHERE id = ?1";

/* The evidence id an entry names: "evidence_id", or an older payload's session download
 * path /api/v1/evidence/ID/download (which Canvas could never fetch); 0 for none. */
static int64_t entry_evidence(struct json_object *e)
{
	const char *u = jstr(e, "url");
	long long id = 0;
	int n = 0;

	if (jint(e, "evidence_id") > 0)
		return jint(e, "evidence_id");
	if (u != NULL && sscanf(u, "/api/v1/evidence/%lld/download%n", &id, &n) == 1 &&
	    u[n] == '\0' && id > 0)
		return (int64_t)id;
	return 0;
}

/* Drop the shares made for an attempt the LMS refused: it will not fetch them. */
static void revoke_shares(struct lms_ctx *c, struct score_state *s)
{
	for (size_t i = 0; i < s->nshares; i++)
		(void)share_revoke(c->db, s->shares[i]);
	s->nshares = 0;
}

/*
 * The content_items of the Canvas submission extension for the payload's evidence: each
 * file gets a capability link made now (base_url/evidence-share/TOKEN, SHARE_TTL from this
 * delivery), so the token is never stored in clear, neither in the outbox nor anywhere
 * else, and a retried delivery sends fresh ones. A file deleted since is left out. *items
 * NULL when there is nothing to send. AT_DB/AT_TIMEOUT: try again later.
 */
static enum at_rc content_items(struct lms_ctx *c, struct score_state *s,
				struct json_object *pl, struct json_object **items,
				struct at_err *err)
{
	struct json_object *ev;

	*items = NULL;
	if (!json_object_object_get_ex(pl, "evidence", &ev) ||
	    !json_object_is_type(ev, json_type_array))
		return AT_OK;
	for (size_t i = 0; i < json_object_array_length(ev); i++) {
		struct json_object *e = json_object_array_get_idx(ev, i), *ci;
		const char *u = jstr(e, "url") ? jstr(e, "url") : "";
		int64_t id = entry_evidence(e);

		if (id > 0) {
			char *tok = NULL;
			enum at_rc rc = share_create(c->db, c->a, id, c->p->id, c->now_ms / 1000,
						     &tok, err);

			if (rc == AT_NOTFOUND) {
				err->msg[0] = '\0';
				continue;	/* deleted since the score was queued */
			}
			if (rc != AT_OK) {
				json_object_put(*items);
				*items = NULL;
				return rc;
			}
			s->shares = arena_reserve(c->a, s->shares, s->nshares, &s->shares_cap,
						  sizeof(*s->shares));
			s->shares[s->nshares++] = tok;
			u = share_path(c->a, tok);
		}
		if (*u == '\0')
			continue;
		if (*u == '/' && c->base_url != NULL)	/* Attest's own path */
			u = arena_printf(c->a, "%s%s", c->base_url, u);
		ci = json_object_new_object();
		json_object_object_add(ci, "type", json_object_new_string("file"));
		json_object_object_add(ci, "url", json_object_new_string(u));
		json_object_object_add(ci, "title", json_object_new_string(
			jstr(e, "title") ? jstr(e, "title") : "evidence"));
		if (*items == NULL)
			*items = json_object_new_array();
		json_object_array_add(*items, ci);
	}
	return AT_OK;
}

/*
 * Exactly once (lti/lti_ags.h): may an earlier attempt of this item have reached the
 * platform? Then its result is read back, and the platform holds this very score when the
 * value, the timestamp (where the platform shows one) and the comment (where it shows one)
 * are those of the attempt.
 */
static void remember_ts(struct lms_ctx *c, const struct score_state *s)
{
	(void)map_put(c, "ags_ts", s->ts_key, arena_printf(c->a, "%" PRId64, s->sent_sec));
}

enum held { HELD, NOT_HELD, UNREADABLE_NOW, UNREADABLE };

static bool maybe_sent(const struct outbox_item *it, const char *marker)
{
	if (marker != NULL)
		return true;
	/* items whose last attempt predates the markers: a transport error, 408 or 5xx */
	return it->attempts > 0 && (it->last_status == 0 || it->last_status == 408 ||
				    it->last_status >= 500);
}

static enum held held_by_lms(struct lms_ctx *c, const struct score_state *s,
			     const char *comment, int64_t sec, int ms, struct at_err *err)
{
	struct lti_ags_res r;
	enum at_rc rc = lti_ags_read(c, s->lineitem, s->sub, &r, err);
	double max;

	if (rc == AT_UPSTREAM || rc == AT_TIMEOUT || rc == AT_DB || rc == AT_TOOBIG)
		return UNREADABLE_NOW;
	if (rc != AT_OK)
		return UNREADABLE;
	if (!r.found || isnan(r.score))
		return NOT_HELD;
	max = isnan(r.max) || r.max <= 0 ? 1 : r.max;	/* AGS: no resultMaximum = out of 1 */
	if (fabs(r.score / max * s->max - s->given) >= 0.005)
		return NOT_HELD;
	if (r.ts_kind != LTI_AGS_TS_NONE &&
	    (r.ts_sec != sec || (r.ts_kind == LTI_AGS_TS_MS && r.ts_ms != ms)))
		return NOT_HELD;
	if (comment != NULL && *comment && r.comment != NULL && strcmp(comment, r.comment) != 0)
		return NOT_HELD;
	return HELD;
}

static enum lms_step score_prepare(struct lms_ctx *c, const struct outbox_item *it,
				   struct lms_req *rq, struct lms_result *res)
{
	struct score_state *s = arena_zalloc(c->a, sizeof(*s));
	struct json_object *pl = jsonx_parse(c->a, it->payload, strlen(it->payload), 16, NULL);
	struct json_object *body, *sub;
	struct lti_svc_token tok;
	struct at_err err = { "" };
	const char *last, *ts, *text, *sent;
	const char **headers;
	int64_t sec, placement_id = jint(pl, "placement_id");
	int ms = 0;
	enum at_rc rc;

	res->state = s;
	if (pl == NULL || !json_object_is_type(pl, json_type_object) || placement_id <= 0) {
		set_error(res, LMS_PARK, "score payload is not a score object");
		return LMS_DECIDED;
	}
	if (one_text(c->db, c->a, SQL_SUB, jint(pl, "user_id"), NULL, &s->sub) != AT_OK) {
		set_error(res, LMS_PARK, "the learner of this score is gone");
		return LMS_DECIDED;
	}
	s->lineitem = jstr(pl, "lineitem");
	if (s->lineitem == NULL || *s->lineitem == '\0') {
		rc = lti_ags_lineitem(c, placement_id, &s->lineitem, &err);
		if (rc != AT_OK) {
			set_error(res, rc == AT_CONFLICT || rc == AT_UPSTREAM || rc == AT_TIMEOUT ||
				  rc == AT_DB ? LMS_RETRY : LMS_PARK, err.msg);
			if (rc == AT_CONFLICT)
				res->retry_after_ms = 2000;
			return LMS_DECIDED;
		}
	}
	s->scopes = LTI_SCOPE_SCORE;
	rc = token(c, s->scopes, &tok, &err);
	if (rc == AT_OK)
		rc = lti_svc_need(&tok, LTI_SCOPE_SCORE, &err);
	if (rc != AT_OK) {
		set_error(res, rc == AT_UPSTREAM || rc == AT_TIMEOUT || rc == AT_DB ? LMS_RETRY :
			  LMS_PARK, err.msg);
		return LMS_DECIDED;
	}
	/* strictly increasing seconds per learner and line item */
	sec = parse_ts(jstr(pl, "timestamp"), &ms, NULL);
	if (sec < 0) {
		sec = c->now_ms / 1000;
		ms = (int)(c->now_ms % 1000);
	}
	s->ts_key = it->order_key;
	last = map_get(c, "ags_ts", s->ts_key);
	if (last != NULL && sec <= (int64_t)strtoll(last, NULL, 10)) {
		sec = (int64_t)strtoll(last, NULL, 10) + 1;
		ms = 0;
	}
	s->given = jnum(pl, "score_given", 0);
	s->max = jnum(pl, "score_max", 100);
	/* an earlier attempt may have reached the platform: is this score there already? */
	s->marker = arena_printf(c->a, "%" PRId64, it->id);
	sent = map_get(c, "ags_sent", s->marker);
	if (maybe_sent(it, sent)) {
		int64_t was_sec = sec;
		int was_ms = ms;

		if (sent != NULL && sscanf(sent, "%" SCNd64 ".%d", &was_sec, &was_ms) != 2) {
			was_sec = sec;
			was_ms = ms;
		}
		s->sent_sec = was_sec;
		switch (held_by_lms(c, s, jstr(pl, "comment"), was_sec, was_ms, &err)) {
		case HELD:
			remember_ts(c, s);
			map_del(c, "ags_sent", s->marker);
			res->verdict = LMS_DONE;
			res->http_status = 200;
			res->error[0] = '\0';
			log_msg(LOG_INFO, NULL, "op=sync item=%" PRId64 " kind=score platform=%"
				PRId64 " read_back=held: the platform has this score already, not"
				" sent again", it->id, c->p->id);
			return LMS_DECIDED;
		case UNREADABLE_NOW:
			set_error(res, LMS_RETRY, "");
			snprintf(res->error, sizeof(res->error), "an earlier attempt may have"
				 " reached the platform; reading the result back failed, not sent"
				 " again yet: %s", err.msg);
			return LMS_DECIDED;
		case UNREADABLE:
			/* no result.readonly (or a 4xx): sent again, at least once */
			log_msg(LOG_INFO, NULL, "op=sync item=%" PRId64 " kind=score platform=%"
				PRId64 " read_back=unavailable: sent again (%s)", it->id, c->p->id,
				err.msg);
			err.msg[0] = '\0';
			break;
		case NOT_HELD:
			break;
		}
	}
	s->sent_sec = sec;
	ts = fmt_ts(c->a, sec, ms);
	body = json_object_new_object();
	json_object_object_add(body, "userId", json_object_new_string(s->sub));
	json_object_object_add(body, "scoreGiven", json_object_new_double(s->given));
	json_object_object_add(body, "scoreMaximum", json_object_new_double(s->max));
	text = jstr(pl, "comment");
	if (text != NULL && *text)
		json_object_object_add(body, "comment", json_object_new_string(text));
	text = jstr(pl, "activity_progress");
	json_object_object_add(body, "activityProgress", json_object_new_string(text ? text :
								 "Completed"));
	text = jstr(pl, "grading_progress");
	json_object_object_add(body, "gradingProgress", json_object_new_string(text ? text :
								 "FullyGraded"));
	json_object_object_add(body, "timestamp", json_object_new_string(ts));
	if (c->p->flavor != NULL && strcmp(c->p->flavor, "canvas") == 0) {
		struct json_object *ext, *items = NULL;

		rc = content_items(c, s, pl, &items, &err);
		if (rc != AT_OK) {
			json_object_put(body);
			revoke_shares(c, s);
			set_error(res, LMS_RETRY, err.msg);
			return LMS_DECIDED;
		}
		ext = json_object_new_object();
		json_object_object_add(ext, "new_submission", json_object_new_boolean(
			json_object_object_get_ex(pl, "new_submission", &sub) ?
			json_object_get_boolean(sub) : 1));
		json_object_object_add(ext, "submission_type", json_object_new_string(
			items ? "online_upload" : "external_tool"));
		json_object_object_add(ext, "submitted_at", json_object_new_string(ts));
		if (items != NULL)
			json_object_object_add(ext, "content_items", items);
		json_object_object_add(body, "https://canvas.instructure.com/lti/submission", ext);
	}
	rq->method = "POST";
	rq->url = lti_ags_join(c->a, s->lineitem, "scores", NULL);
	rq->body = arena_strdup(c->a, json_object_to_json_string_ext(body,
						JSON_C_TO_STRING_PLAIN));
	rq->body_len = strlen(rq->body);
	json_object_put(body);
	headers = arena_zalloc(c->a, 4 * sizeof(*headers));
	headers[0] = lti_svc_auth_header(c->a, &tok);
	headers[1] = "Content-Type: " MT_SCORE;
	headers[2] = "Accept: application/json";
	rq->headers = headers;
	/* the marker goes to the database before the write leaves */
	if (map_put(c, "ags_sent", s->marker, arena_printf(c->a, "%" PRId64 ".%03d", sec, ms)) !=
	    AT_OK) {
		revoke_shares(c, s);
		set_error(res, LMS_RETRY, "could not record the score as being sent");
		return LMS_DECIDED;
	}
	return LMS_SEND;
}

static void score_finish(struct lms_ctx *c, const struct outbox_item *it, enum at_rc rc,
			 const struct httpc_resp *resp, struct lms_result *res)
{
	struct score_state *s = res->state;
	struct at_err err = { "" };
	double got = 0, max = 0;
	int found = 0;

	lms_judge(rc, resp, res);
	if (rc != AT_OK)
		return;	/* the platform may have taken it: the marker stays */
	/* a definite answer about this attempt (taken, or refused: 4xx, 409 included): an
	 * earlier attempt was ruled out by the read back in prepare */
	if (resp->status < 500)
		map_del(c, "ags_sent", s->marker);
	/* A definite refusal: the LMS will not fetch this attempt's evidence links. (After a
	 * 5xx or a lost answer it may have taken the score: the links stay until they expire.) */
	if (resp->status >= 400 && resp->status < 500)
		revoke_shares(c, s);
	if (res->verdict == LMS_DONE) {
		remember_ts(c, s);
		return;
	}
	if (resp->status == 401) {
		/* the token may have been revoked or expired early: a new one, once */
		lti_svc_forget(c->tokens, c->p->id, s->scopes);
		if (it->last_status != 401) {
			res->verdict = LMS_RETRY;
			res->retry_after_ms = 0;
		}
		return;
	}
	if (resp->status == 409) {
		/* Moodle: the stored grade is as new or newer, to the second. Is it ours (a
		 * delivery whose outcome was lost)? If not (say a teacher graded in Moodle), the
		 * next attempt goes out later than both. */
		if (s->sent_sec < c->now_ms / 1000)
			s->sent_sec = c->now_ms / 1000;
		remember_ts(c, s);
		if (lti_ags_result(c, s->lineitem, s->sub, &found, &got, &max, &err) == AT_OK &&
		    found && fabs(got / (max > 0 ? max : 1) * s->max - s->given) < 0.005) {
			res->verdict = LMS_DONE;
			return;
		}
		res->verdict = LMS_RETRY;	/* with a later timestamp */
		res->retry_after_ms = 1000;
		snprintf(res->error, sizeof(res->error), "409 from the platform: timestamp not"
			 " later than the stored grade's; resent with a later one%s%s",
			 err.msg[0] ? " (results read back failed: " : "",
			 err.msg[0] ? err.msg : "");
		if (err.msg[0])
			strncat(res->error, ")", sizeof(res->error) - strlen(res->error) - 1);
	}
}

const struct lms_handler lti_ags_handlers[] = {
	{ "score", score_prepare, score_finish },
	{ NULL, NULL, NULL },
};
