/* page_deeplink.c: /lti/deeplink — Deep Linking 2.0. GET shows the picker (the course
 * overview, every program and its checklists); POST records a placement per chosen program
 * or checklist and returns a signed LtiDeepLinkingResponse to the platform's
 * deep_link_return_url with an auto-submitting form (SF §5.2: iss = client_id, aud =
 * platform issuer, nonce, kid). Each placed item is an ltiResourceLink whose custom
 * attest_placement binds the link to its placement at launch, with a lineItem
 * {scoreMaximum, label, resourceId = the placement's resource_id, tag "attest"} when the
 * platform accepts line items (absent accept_lineitem counts as yes: a platform without
 * line items ignores it). */
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "core/platform.h"
#include "core/token.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"
#include "lti/lti_keys.h"

/* One thing that can be placed: the course overview, a program or one of its checklists. */
struct item {
	const char *id;		/* form value: course, program:ID, checklist:ID */
	const char *title, *text;
	int64_t program_id, checklist_id;	/* 0: none */
	int64_t score_max;	/* hundredths; > 0: ask for a gradebook line item */
};

#define MAX_ITEMS 500

static const char SQL_ITEMS[] =
	"SELECT p.id, p.title, COALESCE(k.id, 0), COALESCE(k.title, ''),"
	" COALESCE(k.max_score, 0) FROM program p LEFT JOIN checklist k ON k.program_id = p.id"
	" ORDER BY p.title, p.id, k.id";

/* The course overview, then every program followed by its checklists. */
static enum at_rc load_items(struct req *r, struct item **out, size_t *n)
{
	struct db_stmt *st = NULL;
	struct item *v = arena_zalloc(r->arena, (MAX_ITEMS * 2 + 1) * sizeof(*v));
	int64_t last = 0;
	bool row = false;
	enum at_rc rc = db_prepare(g_app.db, SQL_ITEMS, &st);

	v[0] = (struct item){ "course", "Attest", "Competencies, observations and certification"
			      " for this course (no gradebook column)", 0, 0, 0 };
	*n = 1;
	while (rc == AT_OK && *n < MAX_ITEMS * 2 - 1) {
		int64_t pid, kid;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		pid = db_col_i64(st, 0);
		kid = db_col_i64(st, 2);
		if (pid != last) {
			v[*n] = (struct item){ arena_printf(r->arena, "program:%lld", (long long)pid),
					       arena_strdup(r->arena, db_col_text(st, 1)),
					       "Program: the certification decision is the grade;"
					       " each observation shows as the running result",
					       pid, 0, 10000 };
			(*n)++;
			last = pid;
		}
		if (kid > 0) {
			int64_t max = db_col_i64(st, 4);

			v[*n] = (struct item){ arena_printf(r->arena, "checklist:%lld", (long long)kid),
					       arena_strdup(r->arena, db_col_text(st, 3)),
					       "Checklist: each observation's score is the grade",
					       pid, kid, max > 0 ? max : 10000 };
			(*n)++;
		}
	}
	db_finalize(st);
	*out = v;
	return rc;
}

static const char SQL_PLACE[] =
	"INSERT INTO placement (context_id, program_id, checklist_id, resource_id, title,"
	" score_max, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

static enum at_rc place(struct req *r, const struct item *it, const char *resource_id,
			int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(g_app.db, SQL_PLACE, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, r->sess->s.context_id);
		db_bind_i64(st, 2, it->program_id);
		if (it->checklist_id > 0)
			db_bind_i64(st, 3, it->checklist_id);
		else
			db_bind_null(st, 3);
		db_bind_str(st, 4, resource_id);
		db_bind_str(st, 5, it->title);
		db_bind_i64(st, 6, it->score_max);
		db_bind_i64(st, 7, r->sess->s.user_id);
		db_bind_i64(st, 8, now);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

static void free_json(void *p)
{
	json_object_put(p);
}

static struct json_object *launch_facts(struct req *r)
{
	struct json_object *o = json_tokener_parse(r->sess->s.launch);

	if (o != NULL)
		arena_on_free(r->arena, free_json, o);
	return o;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
	       ? json_object_get_string(v) : NULL;
}

static void picker(struct req *r)
{
	struct json_object *facts = launch_facts(r), *v;
	bool multiple = facts != NULL && json_object_object_get_ex(facts, "dl_accept_multiple", &v)
			&& json_object_get_boolean(v);
	struct item *items = NULL;
	size_t n = 0;
	enum at_rc rc = load_items(r, &items, &n);

	if (rc != AT_OK) {
		http_error(r, rc, "could not list programs");
		return;
	}
	http_html_headers(r);
	html_page_begin(r, "Add Attest to the course");
	html(r, "<main><h1>Add Attest to the course</h1><form method='post' "
		"action='/lti/deeplink' class='card'>");
	session_form_fields(r);
	html(r, "<fieldset><legend>Choose what to place</legend>");
	for (size_t i = 0; i < n; i++) {
		if (multiple)
			html(r, "<label class='choice'><input type='checkbox' name='item' value='");
		else
			html(r, "<label class='choice'><input type='radio' name='item' value='");
		html_attr(r, items[i].id);
		html(r, "'");
		if (i == 0)	/* the course overview, as before programs existed */
			html(r, " checked");
		html(r, "> <strong>");
		html_txt(r, items[i].title);
		html(r, "</strong> <span>");
		html_txt(r, items[i].text);
		html(r, "</span></label>");
	}
	html(r, "</fieldset>");
	if (n == 1)
		html(r, "<p class='hint'>Programs and checklists appear here once a coordinator has"
			" imported them.</p>");
	html(r, "<button type='submit'>Add to course</button></form></main>");
	html_page_end(r);
}

static struct json_object *content_item(struct req *r, const struct item *it,
				       const char *resource_id, bool lineitem)
{
	struct json_object *ci = json_object_new_object(), *v, *li;

	json_object_object_add(ci, "type", json_object_new_string("ltiResourceLink"));
	json_object_object_add(ci, "title", json_object_new_string(it->title));
	json_object_object_add(ci, "text", json_object_new_string(it->text));
	json_object_object_add(ci, "url", json_object_new_string(
		arena_printf(r->arena, "%s/lti/launch", g_app.cfg.base_url)));
	v = json_object_new_object();
	json_object_object_add(v, "attest_item", json_object_new_string(it->id));
	if (resource_id != NULL)	/* binds the link to its placement at launch */
		json_object_object_add(v, "attest_placement", json_object_new_string(resource_id));
	json_object_object_add(ci, "custom", v);
	if (resource_id != NULL && it->score_max > 0 && lineitem) {
		li = json_object_new_object();
		json_object_object_add(li, "scoreMaximum",
				       json_object_new_double(it->score_max / 100.0));
		json_object_object_add(li, "label", json_object_new_string(it->title));
		json_object_object_add(li, "resourceId", json_object_new_string(resource_id));
		json_object_object_add(li, "tag", json_object_new_string("attest"));
		json_object_object_add(ci, "lineItem", li);
	}
	return ci;
}

static void respond(struct req *r)
{
	struct json_object *facts = launch_facts(r), *jwt, *arr, *v;
	struct item *items = NULL;
	struct platform p;
	struct at_err err = { "" };
	const char *return_url, *data, *dep, *payload;
	char *compact = NULL;
	int64_t now = (int64_t)time(NULL), pid;
	bool lineitem, multiple;
	size_t n = 0, chosen = 0;
	enum at_rc rc;

	return_url = jstr(facts, "dl_return_url");
	dep = jstr(facts, "deployment_id");
	data = jstr(facts, "dl_data");
	if (return_url == NULL || dep == NULL ||
	    !json_object_object_get_ex(facts, "platform_id", &v)) {
		http_error(r, AT_BADREQ, "this session did not start with a deep linking request");
		return;
	}
	pid = json_object_get_int64(v);
	lineitem = !json_object_object_get_ex(facts, "dl_accept_lineitem", &v) ||
		   json_object_get_boolean(v);
	multiple = json_object_object_get_ex(facts, "dl_accept_multiple", &v) &&
		   json_object_get_boolean(v);
	rc = platform_get(g_app.db, r->arena, pid, &p);
	if (rc != AT_OK) {
		http_error(r, rc, "the platform of this session is gone");
		return;
	}
	rc = load_items(r, &items, &n);
	if (rc != AT_OK) {
		http_error(r, rc, "could not list programs");
		return;
	}
	arr = json_object_new_array();
	rc = db_begin(g_app.db);
	for (size_t k = 0; rc == AT_OK && k < r->nparams; k++) {
		const struct item *it = NULL;
		const char *rid = NULL;

		if (strcmp(r->params[k].key, "item") != 0 || (chosen > 0 && !multiple))
			continue;
		for (size_t i = 0; i < n; i++)
			if (strcmp(items[i].id, r->params[k].val) == 0)
				it = &items[i];
		if (it == NULL)
			continue;
		if (it->program_id > 0) {
			if (r->sess->s.context_id == 0) {
				rc = AT_BADREQ;
				break;
			}
			rid = arena_printf(r->arena, "attest-%s", token_random(r->arena, 12));
			rc = place(r, it, rid, now);
		}
		json_object_array_add(arr, content_item(r, it, rid, lineitem));
		chosen++;
	}
	if (rc == AT_OK && chosen == 0)
		rc = AT_BADREQ;
	if (rc == AT_OK)
		rc = db_commit(g_app.db);
	if (rc != AT_OK) {
		db_rollback(g_app.db);
		json_object_put(arr);
		http_error(r, rc, chosen == 0 ? "choose an item to place" :
			   "could not record the placement");
		return;
	}
	jwt = json_object_new_object();
	json_object_object_add(jwt, "iss", json_object_new_string(p.client_id));
	json_object_object_add(jwt, "aud", json_object_new_string(p.issuer));
	json_object_object_add(jwt, "iat", json_object_new_int64(now));
	json_object_object_add(jwt, "exp", json_object_new_int64(now + 300));
	json_object_object_add(jwt, "nonce", json_object_new_string(token_random(r->arena, 24)));
	json_object_object_add(jwt, "jti", json_object_new_string(token_random(r->arena, 16)));
	json_object_object_add(jwt, "https://purl.imsglobal.org/spec/lti/claim/message_type",
			       json_object_new_string("LtiDeepLinkingResponse"));
	json_object_object_add(jwt, "https://purl.imsglobal.org/spec/lti/claim/version",
			       json_object_new_string("1.3.0"));
	json_object_object_add(jwt, "https://purl.imsglobal.org/spec/lti/claim/deployment_id",
			       json_object_new_string(dep));
	if (data != NULL)
		json_object_object_add(jwt, "https://purl.imsglobal.org/spec/lti-dl/claim/data",
				       json_object_new_string(data));
	json_object_object_add(jwt, "https://purl.imsglobal.org/spec/lti-dl/claim/content_items",
			       arr);
	payload = arena_strdup(r->arena, json_object_to_json_string_ext(jwt,
			       JSON_C_TO_STRING_PLAIN));
	json_object_put(jwt);
	rc = lti_keys_sign(g_app.db, g_app.cfg.keys_dir, now, r->arena, payload, &compact, &err);
	if (rc != AT_OK) {
		http_error(r, rc, "could not sign the deep linking response: %s", err.msg);
		return;
	}
	http_html_headers(r);
	html_page_begin(r, "Returning to your course");
	html(r, "<main class='center'><form id='autosubmit' method='post' action='");
	html_attr(r, return_url);
	html(r, "'>");
	html_hidden(r, "JWT", compact);
	html(r, "<p>Returning to your course…</p><noscript><button type='submit'>Continue"
		"</button></noscript></form></main><script src='/static/autosubmit.js'></script>");
	html_page_end(r);
}

void page_deeplink(struct req *r)
{
	if (strcmp(r->method, "POST") == 0)
		respond(r);
	else
		picker(r);
}
