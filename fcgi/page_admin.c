/* page_admin.c: the LMS admin's pages — GET /app/admin (the admin's own platform
 * registration, its deployments, frame origins and the tool URLs), POST
 * /app/admin/deployments (declare or remove a deployment id), GET/POST /app/admin/keys (the
 * tool's signing keys: rotate, prune), GET /app/admin/audit (the audit chain), and the
 * helpers the other admin pages share (page_admin.h).
 *
 * Every route is R_SESSION | R_ADMIN (router.c), every POST also R_CSRF. An admin sees the
 * registration of the platform they launched from and nothing of another platform. Every
 * change is audited; the message after the redirect is read back from that audit row, so
 * nothing the browser sends is ever echoed as a message. */
#include <string.h>
#include <time.h>

#include "core/audit.h"
#include "core/deployment.h"
#include "core/log.h"
#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/page_admin.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"
#include "fcgi/tmpl.h"
#include "lti/lti_keys.h"

#define AUDIT_SHOWN 50			/* audit rows on the audit page */
#define MAX_HOURS (3 * 366 * 24)	/* key schedule intervals, in hours */

/* The same list as `attest urls` (fcgi/main.c cmd_urls). */
const struct page_admin_url page_admin_urls[] = {
	{ "Dynamic registration URL (Moodle 4.1+, Canvas)", "/lti/register" },
	{ "Canvas JSON configuration URL", "/lti/canvas.json" },
	{ "Tool URL / target link URI", "/lti/launch" },
	{ "Initiate login URL (OIDC login)", "/lti/login" },
	{ "Redirection URI (launch)", "/lti/launch" },
	{ "Public keyset URL (JWKS)", "/.well-known/jwks.json" },
	{ "Deep linking URL", "/lti/launch" },
	{ "Health check", "/healthz" },
};
const size_t page_admin_nurls = sizeof(page_admin_urls) / sizeof(page_admin_urls[0]);

static const struct {
	const char *section, *path, *label;
} NAV[] = {
	{ "registration", "/app/admin", "Registration" },
	{ "keys", "/app/admin/keys", "Keys" },
	{ "frameworks", "/app/admin/frameworks", "Frameworks" },
	{ "programs", "/app/admin/programs", "Programs" },
	{ "sync", "/app/admin/sync", "Sync status" },
	{ "audit", "/app/admin/audit", "Audit log" },
};

static const char SQL_AUDIT_ROW[] =
	"SELECT actor_id, action, data FROM audit WHERE id = ?1";
static const char SQL_AUDIT_LAST[] =
	"SELECT id FROM audit WHERE actor_id = ?1 AND action = ?2 ORDER BY id DESC LIMIT 1";

static void jstr(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void jint(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void jbool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

const char *page_admin_time(struct req *r, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[40];

	if (t == 0)
		return "";
	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		return arena_printf(r->arena, "%lld", (long long)t);
	return arena_strdup(r->arena, buf);
}

bool page_admin_load(struct req *r, struct admin *ad)
{
	enum at_rc rc;

	memset(ad, 0, sizeof(*ad));
	rc = identity_user_get(g_app.db, r->arena, r->sess->s.user_id, &ad->user);
	if (rc == AT_OK)
		rc = platform_get(g_app.db, r->arena, ad->user.platform_id, &ad->platform);
	if (rc != AT_OK) {
		http_error(r, rc, "admin page: cannot load the user or the platform");
		return false;
	}
	return true;
}

static void put_json(void *o)
{
	json_object_put(o);
}

/* The JSON object text parsed (put with r's arena), or NULL. */
static struct json_object *data_of(struct req *r, const char *text)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	struct json_object *o;

	if (tok == NULL || text == NULL) {
		if (tok != NULL)
			json_tokener_free(tok);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	json_tokener_free(tok);
	if (o == NULL)
		return NULL;
	arena_on_free(r->arena, put_json, o);
	return json_object_is_type(o, json_type_object) ? o : NULL;
}

static const char *dstr(struct json_object *d, const char *k)
{
	struct json_object *v;

	if (d != NULL && json_object_object_get_ex(d, k, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return "";
}

static int64_t dint(struct json_object *d, const char *k)
{
	struct json_object *v;

	if (d != NULL && json_object_object_get_ex(d, k, &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return 0;
}

/* The message for the audit row id, if the session's user wrote it: {"text", "lines"}. */
static struct json_object *done_message(struct req *r, int64_t id)
{
	struct db_stmt *st = NULL;
	struct json_object *msg = NULL, *d, *lines;
	const char *action, *text = NULL, *notes;
	bool row = false;

	if (db_prepare(g_app.db, SQL_AUDIT_ROW, &st) != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	if (db_step(st, &row) != AT_OK || !row || db_col_i64(st, 0) != r->sess->s.user_id)
		goto out;
	action = arena_strdup(r->arena, db_col_text(st, 1));
	d = data_of(r, db_col_text(st, 2));
	lines = json_object_new_array();
	if (strcmp(action, "deployment.add") == 0) {
		text = arena_printf(r->arena, "Deployment %s added.", dstr(d, "deployment_id"));
	} else if (strcmp(action, "deployment.remove") == 0) {
		text = arena_printf(r->arena, "Deployment %s removed.", dstr(d, "deployment_id"));
	} else if (strcmp(action, "tool_key.rotate") == 0) {
		text = arena_printf(r->arena, "New key %s published. It signs from %s; the older "
				    "keys stay published until %s.", dstr(d, "kid"),
				    page_admin_time(r, dint(d, "sign_from")),
				    page_admin_time(r, dint(d, "retire_at")));
	} else if (strcmp(action, "tool_key.prune") == 0) {
		int64_t n = dint(d, "removed");

		text = arena_printf(r->arena, "%lld retired key%s removed.", (long long)n,
				    n == 1 ? "" : "s");
	} else if (strcmp(action, "framework.import") == 0) {
		text = arena_printf(r->arena, "Framework %s %s: %lld competencies (%lld created, "
				    "%lld updated, %lld deleted).", dstr(d, "idnumber"),
				    dint(d, "replaced") ? "replaced" : "imported",
				    (long long)dint(d, "competencies"), (long long)dint(d, "created"),
				    (long long)dint(d, "updated"), (long long)dint(d, "deleted"));
		notes = dstr(d, "notes");
		while (*notes) {
			size_t n = strcspn(notes, "\n");

			if (n > 0)
				json_object_array_add(lines, json_object_new_string_len(notes, (int)n));
			notes += n;
			if (*notes == '\n')
				notes++;
		}
	} else if (strcmp(action, "program.import") == 0) {
		text = arena_printf(r->arena, "Program %s imported: version %lld, %lld "
				    "checklist%s.", dstr(d, "key"), (long long)dint(d, "version"),
				    (long long)dint(d, "checklists"),
				    dint(d, "checklists") == 1 ? "" : "s");
	} else if (strcmp(action, "outbox.requeue") == 0) {
		text = arena_printf(r->arena, "Item %lld (%s) is pending again: the sync worker "
				    "sends it on its next run.", (long long)dint(d, "item"),
				    dstr(d, "kind"));
	}
	if (text == NULL) {
		json_object_put(lines);
		goto out;
	}
	msg = json_object_new_object();
	jstr(msg, "text", text);
	json_object_object_add(msg, "lines", lines);
out:
	db_finalize(st);
	return msg;
}

struct json_object *page_admin_data(struct req *r, const struct admin *ad, const char *section)
{
	struct json_object *root = json_object_new_object();
	struct json_object *css = json_object_new_array();
	struct json_object *nav = json_object_new_array();
	const char *done = req_param(r, "done");
	int64_t id;

	json_object_array_add(css, json_object_new_string("admin.css"));
	json_object_object_add(root, "css", css);
	for (size_t i = 0; i < sizeof(NAV) / sizeof(NAV[0]); i++) {
		struct json_object *n = json_object_new_object();
		bool cur = strcmp(NAV[i].section, section) == 0;

		jstr(n, "path", NAV[i].path);
		jstr(n, "label", NAV[i].label);
		jstr(n, "current", cur ? "page" : "false");
		json_object_array_add(nav, n);
	}
	json_object_object_add(root, "admin_nav", nav);
	jstr(root, "platform_name", *ad->platform.name ? ad->platform.name : ad->platform.issuer);
	if (done != NULL && req_param_i64(r, "done", 1, INT64_MAX, &id) == AT_OK) {
		struct json_object *m = done_message(r, id);

		struct json_object *t, *l;

		/* the layout shows "flash"; the admin templates list "flash_lines" under it */
		if (m != NULL && json_object_object_get_ex(m, "text", &t) &&
		    json_object_object_get_ex(m, "lines", &l)) {
			json_object_object_add(root, "flash", json_object_get(t));
			json_object_object_add(root, "flash_lines", json_object_get(l));
		}
		json_object_put(m);
	}
	return root;
}

void page_admin_audit(struct req *r, const struct admin *ad, const char *action,
		      const char *entity, int64_t entity_id, struct json_object *data,
		      int64_t *id)
{
	struct at_err err = { "" };
	const char *text;
	int64_t now = (int64_t)time(NULL);
	enum at_rc rc;

	(void)ad;
	*id = 0;
	text = arena_strdup(r->arena, json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = db_begin(g_app.db);
	if (rc == AT_OK)
		rc = audit_append(g_app.db, r->sess->s.user_id, action, entity, entity_id, text, now,
				  &err);
	if (rc == AT_OK)
		*id = page_admin_last_audit(r, action);
	if (rc == AT_OK)
		rc = db_commit(g_app.db);
	if (rc != AT_OK) {
		db_rollback(g_app.db);
		*id = 0;
		log_msg(1, r->rid, "admin: could not audit %s: %s", action,
			err.msg[0] ? err.msg : at_strerror(rc));
	}
}

int64_t page_admin_last_audit(struct req *r, const char *action)
{
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t id = 0;

	if (db_prepare(g_app.db, SQL_AUDIT_LAST, &st) == AT_OK) {
		db_bind_i64(st, 1, r->sess->s.user_id);
		db_bind_str(st, 2, action);
		if (db_step(st, &row) == AT_OK && row)
			id = db_col_i64(st, 0);
	}
	db_finalize(st);
	return id;
}

void page_admin_done(struct req *r, const char *path, int64_t audit_id)
{
	const char *p = audit_id > 0 ? arena_printf(r->arena, "%s?done=%lld", path,
						    (long long)audit_id) : path;

	http_redirect(r, 303, session_url(r, p));
}

void page_admin_render(struct req *r, int status, const char *title, const char *name,
		       struct json_object *data)
{
	if (status != 0)
		r->status = status;
	tmpl_page(r, title, arena_printf(r->arena, "admin/%s", name), data);
	json_object_put(data);
}

/* --- GET /app/admin: registration, deployments, origins, tool URLs --- */

static void registration_data(struct req *r, const struct admin *ad, struct json_object *root)
{
	const struct platform *p = &ad->platform;
	struct json_object *o = json_object_new_object();
	struct json_object *scopes = json_object_new_array();
	struct json_object *deps = json_object_new_array();
	struct json_object *origins = json_object_new_array();
	struct json_object *urls = json_object_new_array();
	struct deployment *dv = NULL;
	struct context ctx;
	size_t nd = 0;
	char *olist = NULL;
	int64_t own_dep = 0;

	jstr(o, "name", p->name);
	jstr(o, "issuer", p->issuer);
	jstr(o, "client_id", p->client_id);
	jstr(o, "flavor", p->flavor);
	jstr(o, "source", strcmp(p->source ? p->source : "", "dynamic") == 0 ?
	     "dynamic registration" : "manual registration");
	jstr(o, "auth_endpoint", p->auth_endpoint);
	jstr(o, "token_endpoint", p->token_endpoint);
	jstr(o, "jwks_uri", p->jwks_uri);
	jstr(o, "auth_server", p->auth_server);
	jstr(o, "created", page_admin_time(r, p->created_at));
	jstr(o, "jwks_fetched", page_admin_time(r, p->jwks_fetched_at));
	jstr(o, "jwks_expires", page_admin_time(r, p->jwks_expires_at));
	for (const char *s = p->scopes ? p->scopes : ""; *s;) {
		size_t n = strcspn(s, " ");

		if (n > 0)
			json_object_array_add(scopes, json_object_new_string_len(s, (int)n));
		s += n;
		while (*s == ' ')
			s++;
	}
	json_object_object_add(o, "scopes", scopes);
	json_object_object_add(root, "platform", o);

	memset(&ctx, 0, sizeof(ctx));
	if (r->sess->s.context_id > 0 &&
	    identity_context_get(g_app.db, r->arena, r->sess->s.context_id, &ctx) == AT_OK)
		own_dep = ctx.deployment_row;
	if (deployment_list(g_app.db, r->arena, p->id, &dv, &nd) != AT_OK)
		log_msg(1, r->rid, "admin: cannot list deployments: %s", db_errmsg(g_app.db));
	for (size_t i = 0; i < nd; i++) {
		struct json_object *d = json_object_new_object();

		jstr(d, "deployment_id", dv[i].deployment_id);
		jstr(d, "how", dv[i].learned ? "learned at a first launch" : "declared");
		jbool(d, "learned", dv[i].learned);
		jstr(d, "created", page_admin_time(r, dv[i].created_at));
		jint(d, "courses", dv[i].courses);
		jbool(d, "own", dv[i].id == own_dep);
		json_object_array_add(deps, d);
	}
	json_object_object_add(root, "deployments", deps);
	jstr(root, "policy", g_app.cfg.deployment_policy);
	jbool(root, "policy_learn", strcmp(g_app.cfg.deployment_policy, "learn") == 0);

	if (platform_origins(g_app.db, r->arena, p->id, &olist) == AT_OK && olist != NULL) {
		for (const char *s = olist; *s;) {
			size_t n = strcspn(s, " ");

			if (n > 0)
				json_object_array_add(origins, json_object_new_string_len(s, (int)n));
			s += n;
			while (*s == ' ')
				s++;
		}
	}
	json_object_object_add(root, "origins", origins);

	for (size_t i = 0; i < page_admin_nurls; i++) {
		struct json_object *u = json_object_new_object();

		jstr(u, "label", page_admin_urls[i].label);
		jstr(u, "url", arena_printf(r->arena, "%s%s", g_app.cfg.base_url,
					    page_admin_urls[i].path));
		json_object_array_add(urls, u);
	}
	json_object_object_add(root, "urls", urls);
}

void page_admin_home(struct req *r)
{
	struct admin ad;
	struct json_object *data;

	if (!page_admin_load(r, &ad))
		return;
	data = page_admin_data(r, &ad, "registration");
	registration_data(r, &ad, data);
	page_admin_render(r, 0, "Registration and deployments", "registration", data);
}

/* --- POST /app/admin/deployments: action=add|remove, deployment_id --- */

void page_admin_deployments(struct req *r)
{
	struct admin ad;
	struct at_err err = { "" };
	struct json_object *data, *form;
	const char *action = req_param(r, "action");
	const char *dep = req_param(r, "deployment_id");
	int64_t now = (int64_t)time(NULL);
	enum at_rc rc;
	int status;

	if (!page_admin_load(r, &ad))
		return;
	if (action == NULL || (strcmp(action, "add") != 0 && strcmp(action, "remove") != 0)) {
		http_error_page(r, 400, "Bad request", "Unknown action.");
		return;
	}
	if (dep == NULL)
		dep = "";
	if (strcmp(action, "add") == 0) {
		rc = deployment_add(g_app.db, ad.platform.id, dep, r->sess->s.user_id, now, &err);
		if (rc == AT_OK) {
			page_admin_done(r, "/app/admin", page_admin_last_audit(r, "deployment.add"));
			return;
		}
	} else {
		struct context ctx;
		int64_t row = 0;

		memset(&ctx, 0, sizeof(ctx));
		rc = AT_OK;
		if (r->sess->s.context_id > 0 &&
		    identity_context_get(g_app.db, r->arena, r->sess->s.context_id, &ctx) == AT_OK &&
		    platform_deployment_find(g_app.db, ad.platform.id, dep, &row) == AT_OK &&
		    row == ctx.deployment_row)
			rc = at_fail(&err, AT_CONFLICT, "deployment %s is the one you launched from: "
				     "remove it from a launch through another deployment", dep);
		if (rc == AT_OK)
			rc = deployment_remove(g_app.db, ad.platform.id, dep, r->sess->s.user_id, now,
					       &err);
		if (rc == AT_OK) {
			page_admin_done(r, "/app/admin",
					page_admin_last_audit(r, "deployment.remove"));
			return;
		}
	}
	status = rc == AT_BADREQ ? 400 : rc == AT_NOTFOUND ? 404 : rc == AT_CONFLICT ? 409 :
		 http_status_of(rc);
	if (status >= 500)
		log_msg(0, r->rid, "admin: deployment %s: %s", action, err.msg);
	data = page_admin_data(r, &ad, "registration");
	registration_data(r, &ad, data);
	form = json_object_new_object();
	jstr(form, "error", status >= 500 ? "The database could not store the change: try "
	     "again." : err.msg);
	jbool(form, "add", strcmp(action, "add") == 0);
	jstr(form, "deployment_id", strcmp(action, "add") == 0 ? dep : "");
	json_object_object_add(data, "dep_form", form);
	page_admin_render(r, status, "Registration and deployments", "registration", data);
}

/* --- GET/POST /app/admin/keys --- */

static void keys_data(struct req *r, struct json_object *root)
{
	struct json_object *keys = json_object_new_array();
	struct lti_key_info *v = NULL;
	size_t n = 0;
	int64_t now = (int64_t)time(NULL);

	if (lti_keys_info(g_app.db, now, r->arena, &v, &n) != AT_OK)
		log_msg(1, r->rid, "admin: cannot list keys: %s", db_errmsg(g_app.db));
	for (size_t i = n; i-- > 0;) {	/* newest first */
		struct json_object *k = json_object_new_object();

		jstr(k, "kid", v[i].kid);
		jstr(k, "state", v[i].state);
		jstr(k, "created", page_admin_time(r, v[i].created_at));
		jstr(k, "sign_from", page_admin_time(r, v[i].sign_from));
		jstr(k, "retire_at", v[i].retire_at ? page_admin_time(r, v[i].retire_at) : "never");
		jbool(k, "published", strcmp(v[i].state, "retired") != 0);
		jbool(k, "signing", strcmp(v[i].state, "signing") == 0);
		jbool(k, "retired", strcmp(v[i].state, "retired") == 0);
		json_object_array_add(keys, k);
	}
	json_object_object_add(root, "keys", keys);
	jstr(root, "jwks_url", arena_printf(r->arena, "%s/.well-known/jwks.json",
					    g_app.cfg.base_url));
}

/* A whole number of hours 0..MAX_HOURS from parameter name; false when it is not one. */
static bool hours_param(struct req *r, const char *name, int64_t *out)
{
	const char *v = req_param(r, name);
	int64_t n = 0;

	if (v == NULL || *v == '\0' || strlen(v) > 6)
		return false;
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		n = n * 10 + (*p - '0');
	}
	if (n > MAX_HOURS)
		return false;
	*out = n;
	return true;
}

static void keys_page(struct req *r, const struct admin *ad, int status,
		      struct json_object *form)
{
	struct json_object *data = page_admin_data(r, ad, "keys");

	keys_data(r, data);
	if (form == NULL) {
		form = json_object_new_object();
		jstr(form, "activate_in", "1");
		jstr(form, "retire_in", arena_printf(r->arena, "%lld",
						     (long long)((g_app.cfg.key_grace + 3599) / 3600)));
	}
	json_object_object_add(data, "rotate", form);
	page_admin_render(r, status, "Tool keys", "keys", data);
}

static void keys_rotate(struct req *r, const struct admin *ad)
{
	struct at_err err = { "" };
	struct json_object *form = json_object_new_object(), *audit;
	const char *act = req_param(r, "activate_in"), *ret = req_param(r, "retire_in");
	int64_t ah = 0, rh = 0, now = (int64_t)time(NULL), id;
	char *kid = NULL;
	enum at_rc rc;

	jstr(form, "activate_in", act ? act : "");
	jstr(form, "retire_in", ret ? ret : "");
	if (!hours_param(r, "activate_in", &ah)) {
		jstr(form, "activate_error", arena_printf(r->arena, "Enter a whole number of hours "
							  "from 0 to %d.", MAX_HOURS));
		keys_page(r, ad, 400, form);
		return;
	}
	if (!hours_param(r, "retire_in", &rh)) {
		jstr(form, "retire_error", arena_printf(r->arena, "Enter a whole number of hours "
							"from 0 to %d.", MAX_HOURS));
		keys_page(r, ad, 400, form);
		return;
	}
	rc = lti_keys_rotate(g_app.db, g_app.cfg.keys_dir, now, ah * 3600, rh * 3600, r->arena,
			     &kid, &err);
	if (rc != AT_OK) {
		log_msg(0, r->rid, "admin: key rotation failed: %s", err.msg);
		jstr(form, "error", "The new key could not be made or stored; nothing changed. "
		     "The server log has the details.");
		keys_page(r, ad, http_status_of(rc), form);
		return;
	}
	json_object_put(form);
	audit = json_object_new_object();
	jstr(audit, "kid", kid);
	jint(audit, "activate_in", ah * 3600);
	jint(audit, "retire_in", rh * 3600);
	jint(audit, "sign_from", now + ah * 3600);
	jint(audit, "retire_at", now + ah * 3600 + rh * 3600);
	page_admin_audit(r, ad, "tool_key.rotate", "tool_key", 0, audit, &id);
	json_object_put(audit);
	page_admin_done(r, "/app/admin/keys", id);
}

static void keys_prune(struct req *r, const struct admin *ad)
{
	struct at_err err = { "" };
	struct json_object *audit;
	int removed = 0;
	int64_t id;
	enum at_rc rc = lti_keys_prune(g_app.db, g_app.cfg.keys_dir, (int64_t)time(NULL),
				       &removed, &err);

	if (rc != AT_OK) {
		struct json_object *form = NULL;

		log_msg(0, r->rid, "admin: key prune failed: %s", err.msg);
		keys_page(r, ad, http_status_of(rc), form);
		return;
	}
	audit = json_object_new_object();
	jint(audit, "removed", removed);
	page_admin_audit(r, ad, "tool_key.prune", "tool_key", 0, audit, &id);
	json_object_put(audit);
	page_admin_done(r, "/app/admin/keys", id);
}

void page_admin_keys(struct req *r)
{
	struct admin ad;
	const char *action;

	if (!page_admin_load(r, &ad))
		return;
	if (strcmp(r->method, "POST") != 0) {
		keys_page(r, &ad, 0, NULL);
		return;
	}
	action = req_param(r, "action");
	if (action != NULL && strcmp(action, "rotate") == 0)
		keys_rotate(r, &ad);
	else if (action != NULL && strcmp(action, "prune") == 0)
		keys_prune(r, &ad);
	else
		http_error_page(r, 400, "Bad request", "Unknown action.");
}

/* --- GET /app/admin/audit --- */

void page_admin_audit_log(struct req *r)
{
	struct admin ad;
	struct json_object *data, *chain = json_object_new_object(), *rows;
	struct audit_row *v = NULL;
	struct at_err err = { "" };
	int64_t bad = 0, count = 0;
	size_t n = 0;
	enum at_rc rc;

	if (!page_admin_load(r, &ad)) {
		json_object_put(chain);
		return;
	}
	data = page_admin_data(r, &ad, "audit");
	rc = audit_verify(g_app.db, &bad, &count, &err);
	jbool(chain, "intact", rc == AT_OK);
	jint(chain, "count", count);
	if (rc == AT_CONFLICT) {
		jint(chain, "first_bad", bad);
		jstr(chain, "error", err.msg);
	} else if (rc != AT_OK) {
		jstr(chain, "error", "The audit log could not be read: try again.");
		log_msg(0, r->rid, "admin: audit verify: %s", err.msg[0] ? err.msg :
			at_strerror(rc));
	}
	json_object_object_add(data, "chain", chain);
	rows = json_object_new_array();
	if (audit_tail(g_app.db, r->arena, AUDIT_SHOWN, &v, &n) != AT_OK)
		log_msg(1, r->rid, "admin: audit tail: %s", db_errmsg(g_app.db));
	for (size_t i = n; i-- > 0;) {	/* newest first */
		struct json_object *o = json_object_new_object();
		struct user u;
		bool own = false;

		jint(o, "id", v[i].id);
		jstr(o, "at", page_admin_time(r, v[i].at));
		jstr(o, "action", v[i].action);
		jstr(o, "entity", arena_printf(r->arena, "%s %lld", v[i].entity,
					       (long long)v[i].entity_id));
		jstr(o, "hash", arena_strndup(r->arena, v[i].hash ? v[i].hash : "", 12));
		if (v[i].actor_id == 0) {
			jstr(o, "actor", "system");
		} else if (identity_user_get(g_app.db, r->arena, v[i].actor_id, &u) == AT_OK &&
			   u.platform_id == ad.platform.id) {
			own = true;
			jstr(o, "actor", *u.name ? u.name : arena_printf(r->arena, "user %lld",
									 (long long)u.id));
		} else {
			jstr(o, "actor", "a user of another platform");
		}
		/* the details of another platform's actions are theirs */
		jstr(o, "data", own ? v[i].data : "");
		json_object_array_add(rows, o);
	}
	json_object_object_add(data, "entries", rows);
	jint(data, "shown", (int64_t)n);
	page_admin_render(r, 0, "Audit log", "audit", data);
}
