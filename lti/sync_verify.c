/* sync_verify.c: read back what Attest delivered to the LMS (lti/sync_verify.h). */
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/jsonx.h"
#include "core/platform.h"
#include "lti/lms.h"
#include "lti/lms_canvas.h"
#include "lti/lms_moodle.h"
#include "lti/lms_util.h"
#include "lti/lti_ags.h"
#include "lti/lti_svc.h"
#include "lti/sync_verify.h"

#define PAYLOAD_DEPTH 16

/* One thing to compare: the last done item of an order key (for canvas_result, the values
 * of every done item of the key folded into "fold"). */
struct check {
	int64_t platform_id, item_id;
	const char *kind, *payload, *fold;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v))
		return 0;
	return json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
}

static double jnum(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return NAN;
	return json_object_get_double(v);
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

/* ---- collecting what was delivered ---- */

static const char SQL_ITEMS[] =
	"SELECT id, platform_id, kind, order_key, payload, status FROM outbox"
	" WHERE status IN ('done', 'pending', 'parked')"
	" AND kind IN ('score', 'moodle_rating', 'canvas_result')"
	" AND (?1 = 0 OR platform_id = ?1)"
	" ORDER BY platform_id, order_key, CASE WHEN status = 'done' THEN 0 ELSE 1 END,"
	" COALESCE(delivered_at, 0), id";

static const char SQL_PLACEMENT_CTX[] = "SELECT context_id FROM placement WHERE id = ?1";

static int64_t one_i64(struct db *db, const char *sql, int64_t p1, enum at_rc *rc)
{
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t v = 0;

	*rc = db_prepare(db, sql, &st);
	if (*rc == AT_OK) {
		db_bind_i64(st, 1, p1);
		*rc = db_step(st, &row);
		if (*rc == AT_OK && row)
			v = db_col_i64(st, 0);
	}
	db_finalize(st);
	return v;
}

/* The course (context row id) an item is about; 0 when unknown. */
static int64_t course_of_item(struct db *db, const char *kind, struct json_object *pl,
			      enum at_rc *rc)
{
	*rc = AT_OK;
	if (strcmp(kind, "score") == 0)
		return one_i64(db, SQL_PLACEMENT_CTX, jint(pl, "placement_id"), rc);
	return jint(pl, "context_id");
}

struct group {
	int64_t platform_id, item_id;
	const char *kind, *order_key;
	struct json_object *last;	/* payload of the last done item */
	struct json_object *fold;	/* canvas_result: {"<framework>": {"<competency>": v}} */
	bool any;
};

static void group_reset(struct group *g)
{
	json_object_put(g->last);
	json_object_put(g->fold);
	memset(g, 0, sizeof(*g));
}

static void fold_ratings(struct json_object *fold, struct json_object *pl)
{
	struct json_object *ratings = NULL, *fw;
	char k[32];

	snprintf(k, sizeof(k), "%" PRId64, jint(pl, "framework_id"));
	if (!json_object_object_get_ex(fold, k, &fw)) {
		fw = json_object_new_object();
		json_object_object_add(fold, k, fw);
	}
	if (!json_object_object_get_ex(pl, "ratings", &ratings) ||
	    !json_object_is_type(ratings, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(ratings); i++) {
		struct json_object *r = json_object_array_get_idx(ratings, i);
		char c[32];

		snprintf(c, sizeof(c), "%" PRId64, jint(r, "competency_id"));
		json_object_object_add(fw, c, json_object_new_int64(jint(r, "value")));
	}
}

static void group_close(struct arena *a, struct group *g, struct check **out, size_t *n,
			size_t *cap)
{
	if (g->any) {
		struct check *c;

		*out = arena_reserve(a, *out, *n, cap, sizeof(**out));
		c = &(*out)[(*n)++];
		c->platform_id = g->platform_id;
		c->item_id = g->item_id;
		c->kind = arena_strdup(a, g->kind);
		c->payload = arena_strdup(a, json_object_to_json_string_ext(g->last,
					  JSON_C_TO_STRING_PLAIN));
		c->fold = g->fold ? arena_strdup(a, json_object_to_json_string_ext(g->fold,
					  JSON_C_TO_STRING_PLAIN)) : NULL;
	}
	group_reset(g);
}

static enum at_rc collect(struct db *db, struct arena *a, const struct sync_verify_opts *o,
			  struct check **out, size_t *n, int64_t *undelivered)
{
	struct db_stmt *st = NULL;
	struct group g;
	size_t cap = 0;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_ITEMS, &st), rc2 = AT_OK;
	/* the payloads of one order key are parsed here; scores of every placement look up
	 * their course, so the rows are read first and courses after */
	struct row {
		int64_t id, platform_id;
		const char *kind, *order_key, *payload;
		bool done;
	} *rows = NULL;
	size_t nrows = 0, rcap = 0;

	*out = NULL;
	*n = 0;
	*undelivered = 0;
	memset(&g, 0, sizeof(g));
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, o->platform_id);
	while ((rc = db_step(st, &row)) == AT_OK && row) {
		rows = arena_reserve(a, rows, nrows, &rcap, sizeof(*rows));
		rows[nrows].id = db_col_i64(st, 0);
		rows[nrows].platform_id = db_col_i64(st, 1);
		rows[nrows].kind = arena_strdup(a, db_col_text(st, 2));
		rows[nrows].order_key = arena_strdup(a, db_col_text(st, 3));
		rows[nrows].payload = arena_strdup(a, db_col_text(st, 4));
		rows[nrows].done = strcmp(db_col_text(st, 5), "done") == 0;
		nrows++;
	}
	db_finalize(st);
	st = NULL;
	if (rc != AT_OK)
		goto out;
	for (size_t i = 0; i < nrows && rc2 == AT_OK; i++) {
		struct json_object *pl = jsonx_parse(NULL, rows[i].payload, strlen(rows[i].payload),
						     PAYLOAD_DEPTH, NULL);

		if (pl == NULL || !json_object_is_type(pl, json_type_object)) {
			json_object_put(pl);
			continue;
		}
		if (o->context_id > 0 && course_of_item(db, rows[i].kind, pl, &rc2) !=
		    o->context_id) {
			json_object_put(pl);
			continue;
		}
		if (!rows[i].done) {
			(*undelivered)++;
			json_object_put(pl);
			continue;
		}
		if (g.any && (g.platform_id != rows[i].platform_id ||
			      strcmp(g.order_key, rows[i].order_key) != 0))
			group_close(a, &g, out, n, &cap);
		if (!g.any) {
			g.any = true;
			g.platform_id = rows[i].platform_id;
			g.kind = rows[i].kind;
			g.order_key = rows[i].order_key;
			if (strcmp(g.kind, "canvas_result") == 0)
				g.fold = json_object_new_object();
		}
		if (g.fold != NULL)
			fold_ratings(g.fold, pl);
		json_object_put(g.last);
		g.last = pl;
		g.item_id = rows[i].id;
	}
	group_close(a, &g, out, n, &cap);
	rc = rc2;
out:
	group_reset(&g);
	db_finalize(st);
	return rc;
}

/* ---- comparing ---- */

struct verifier {
	struct db *db;
	const struct sync_verify_opts *o;
	struct sync_verify_stats *st;
	struct lti_svc_tokens *tokens;
	struct platform p;
	int64_t platform_loaded;
	struct arena *pa;		/* the platform's strings */
};

static const char SQL_SUB[] = "SELECT sub FROM app_user WHERE id = ?1";
static const char SQL_LINEITEM[] = "SELECT lineitem_url FROM placement WHERE id = ?1";
static const char SQL_COMP[] = "SELECT idnumber FROM competency WHERE id = ?1";

static const char *one_text(struct db *db, struct arena *a, const char *sql, int64_t p1)
{
	struct db_stmt *st = NULL;
	bool row = false;
	const char *v = "";

	if (db_prepare(db, sql, &st) == AT_OK) {
		db_bind_i64(st, 1, p1);
		if (db_step(st, &row) == AT_OK && row)
			v = arena_strdup(a, db_col_text(st, 0));
	}
	db_finalize(st);
	return v;
}

/* One line, no control characters (values may come from the LMS). */
static void say(struct verifier *v, const char *what, const struct check *k, const char *fmt,
		...) __attribute__((format(printf, 4, 5)));

static void say(struct verifier *v, const char *what, const struct check *k, const char *fmt,
		...)
{
	char line[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	for (char *s = line; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
	fprintf(v->o->out, "%s\t%s\titem %" PRId64 "\tplatform %" PRId64 "\t%s\n", what, k->kind,
		k->item_id, k->platform_id, line);
}

static void outcome(struct verifier *v, const struct check *k, bool same, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void outcome(struct verifier *v, const struct check *k, bool same, const char *fmt, ...)
{
	char line[1536];
	va_list ap;

	v->st->checked++;
	if (same)
		v->st->matched++;
	else
		v->st->mismatched++;
	if (same && !v->o->verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	say(v, same ? "ok" : "mismatch", k, "%s", line);
}

static void unreadable(struct verifier *v, const struct check *k, const char *what,
		       const char *why)
{
	v->st->checked++;
	v->st->unreadable++;
	say(v, "unreadable", k, "%s: %s", what, why && *why ? why : "no reason given");
}

static void ctx_init(struct verifier *v, struct lms_ctx *c, struct arena *a)
{
	memset(c, 0, sizeof(*c));
	c->db = v->db;
	c->a = a;
	c->p = &v->p;
	c->http = &v->o->http;
	c->now_ms = now_ms();
	c->tokens = v->tokens;
	c->base_url = v->o->base_url;
}

static void check_score(struct verifier *v, const struct check *k, struct arena *a,
			struct json_object *pl)
{
	struct lms_ctx c;
	struct at_err err = { "" };
	int64_t placement = jint(pl, "placement_id"), user = jint(pl, "user_id");
	const char *lineitem = jstr(pl, "lineitem");
	const char *sub = one_text(v->db, a, SQL_SUB, user);
	const char *who = arena_printf(a, "learner %" PRId64 " (%s), placement %" PRId64, user,
				       sub, placement);
	double given = jnum(pl, "score_given"), max = jnum(pl, "score_max"), got = NAN,
	       gmax = NAN, norm;
	int found = 0;

	if (*lineitem == '\0')
		lineitem = one_text(v->db, a, SQL_LINEITEM, placement);
	if (*lineitem == '\0' || *sub == '\0') {
		unreadable(v, k, who, *sub ? "no line item is known for the placement" :
			   "the learner is gone");
		return;
	}
	ctx_init(v, &c, a);
	if (lti_ags_result(&c, lineitem, sub, &found, &got, &gmax, &err) != AT_OK) {
		unreadable(v, k, arena_printf(a, "%s, line item %s", who, lineitem), err.msg);
		return;
	}
	if (!found) {
		outcome(v, k, false, "%s: Attest delivered %.2f/%.2f, the LMS has no result on %s",
			who, given, max, lineitem);
		return;
	}
	if (isnan(got)) {
		outcome(v, k, false, "%s: Attest delivered %.2f/%.2f, the LMS result has no score"
			" on %s", who, given, max, lineitem);
		return;
	}
	/* AGS: a result without resultMaximum is out of 1 */
	norm = got / (isnan(gmax) || gmax <= 0 ? 1 : gmax) * max;
	outcome(v, k, fabs(norm - given) < 0.005, "%s: Attest delivered %.2f/%.2f, the LMS has"
		" %.2f/%.2f on %s", who, given, max, got, isnan(gmax) ? 1.0 : gmax, lineitem);
}

static void check_moodle(struct verifier *v, const struct check *k, struct arena *a,
			 struct json_object *pl)
{
	struct lms_ctx c;
	struct lms_result res;
	struct lms_moodle_rating r;
	int64_t comp = jint(pl, "competency_id"), ctx = jint(pl, "context_id"),
		user = jint(pl, "user_id"), grade = jint(pl, "grade");
	const char *url = jstr(pl, "evidence_url");
	const char *who = arena_printf(a, "learner %" PRId64 ", course %" PRId64 ", competency"
				       " %" PRId64 " (%s)", user, ctx, comp,
				       one_text(v->db, a, SQL_COMP, comp));

	memset(&res, 0, sizeof(res));
	ctx_init(v, &c, a);
	if (lms_moodle_read_rating(&c, comp, ctx, user, &r, &res) != AT_OK) {
		unreadable(v, k, who, res.error);
		return;
	}
	if (r.grade != grade) {
		outcome(v, k, false, "%s: Attest delivered grade %" PRId64 ", Moodle has %" PRId64
			" (%s)", who, grade, r.grade, r.gradename ? r.gradename : "");
		return;
	}
	if (*url == '/' && v->o->base_url != NULL)
		url = arena_printf(a, "%s%s", v->o->base_url, url);
	if (*url && (r.note == NULL || strstr(r.note, url) == NULL)) {
		outcome(v, k, false, "%s: grade %" PRId64 " as delivered, but Moodle's newest"
			" evidence note does not link %s (it says: %.200s)", who, grade, url,
			r.note ? r.note : "");
		return;
	}
	outcome(v, k, true, "%s: grade %" PRId64 " (%s)", who, grade,
		r.gradename ? r.gradename : "");
}

static void check_canvas(struct verifier *v, const struct check *k, struct arena *a,
			 struct json_object *pl)
{
	struct json_object *fold = jsonx_parse(a, k->fold, strlen(k->fold), PAYLOAD_DEPTH, NULL);
	int64_t placement = jint(pl, "placement_id"), ctx = jint(pl, "context_id"),
		user = jint(pl, "user_id"), pctx = 0;
	const char *assignment = "", *alignment;
	struct lms_ctx c;

	if (fold == NULL)
		return;
	if (lms_util_assignment(v->db, a, placement, &pctx, &assignment) != AT_OK ||
	    *assignment == '\0') {
		unreadable(v, k, arena_printf(a, "learner %" PRId64 ", placement %" PRId64, user,
					      placement), "the placement has no Canvas assignment");
		return;
	}
	alignment = arena_printf(a, "assignment_%s", assignment);
	ctx_init(v, &c, a);
	json_object_object_foreach(fold, fwkey, comps) {
		struct lms_canvas_result *rs = NULL;
		struct lms_result res;
		size_t n = 0;
		int64_t fw = strtoll(fwkey, NULL, 10);

		memset(&res, 0, sizeof(res));
		if (lms_canvas_read_results(&c, fw, ctx, user, &rs, &n, &res) != AT_OK) {
			json_object_object_foreach(comps, ck, cv) {
				(void)cv;
				unreadable(v, k, arena_printf(a, "learner %" PRId64 ", placement %"
							      PRId64 ", competency %s", user,
							      placement, ck), res.error);
			}
			continue;
		}
		json_object_object_foreach(comps, ckey, cval) {
			int64_t comp = strtoll(ckey, NULL, 10), want = json_object_get_int64(cval);
			const char *who = arena_printf(a, "learner %" PRId64 ", placement %" PRId64
						       " (%s), competency %" PRId64 " (%s)", user,
						       placement, alignment, comp,
						       one_text(v->db, a, SQL_COMP, comp));
			const struct lms_canvas_result *hit = NULL;

			for (size_t i = 0; i < n; i++)
				if (rs[i].competency_id == comp && rs[i].alignment != NULL &&
				    strcmp(rs[i].alignment, alignment) == 0)
					hit = &rs[i];
			if (hit == NULL)
				outcome(v, k, false, "%s: Attest delivered %" PRId64 ", Canvas has no"
					" outcome result", who, want);
			else
				outcome(v, k, hit->score == want, "%s: Attest delivered %" PRId64
					", Canvas has %" PRId64, who, want, hit->score);
		}
	}
}

static enum at_rc load_platform(struct verifier *v, int64_t id)
{
	enum at_rc rc;

	if (v->platform_loaded == id)
		return AT_OK;
	arena_free(v->pa);
	v->pa = arena_new();
	rc = platform_get(v->db, v->pa, id, &v->p);
	v->platform_loaded = rc == AT_OK ? id : 0;
	return rc;
}

enum at_rc sync_verify(struct db *db, const struct sync_verify_opts *o,
		       struct sync_verify_stats *st)
{
	struct arena *a = arena_new();
	struct check *checks = NULL;
	struct verifier v;
	size_t n = 0;
	enum at_rc rc;

	memset(st, 0, sizeof(*st));
	memset(&v, 0, sizeof(v));
	v.db = db;
	v.o = o;
	v.st = st;
	rc = collect(db, a, o, &checks, &n, &st->undelivered);
	if (rc != AT_OK)
		goto out;
	v.tokens = lti_svc_tokens_new(o->keys_dir);
	for (size_t i = 0; i < n; i++) {
		const struct check *k = &checks[i];
		struct arena *ca = arena_new();
		struct json_object *pl = jsonx_parse(ca, k->payload, strlen(k->payload),
						     PAYLOAD_DEPTH, NULL);

		rc = load_platform(&v, k->platform_id);
		if (rc == AT_NOTFOUND) {
			unreadable(&v, k, "platform", "the platform is gone");
			rc = AT_OK;
		} else if (rc == AT_OK && strcmp(k->kind, "score") == 0) {
			check_score(&v, k, ca, pl);
		} else if (rc == AT_OK && strcmp(k->kind, "moodle_rating") == 0) {
			check_moodle(&v, k, ca, pl);
		} else if (rc == AT_OK) {
			check_canvas(&v, k, ca, pl);
		}
		arena_free(ca);
		if (rc != AT_OK)
			break;
	}
out:
	lti_svc_tokens_free(v.tokens);
	arena_free(v.pa);
	arena_free(a);
	return rc;
}
