/* page_deeplink.c: /lti/deeplink — Deep Linking 2.0. GET shows the picker; POST returns a
 * signed LtiDeepLinkingResponse to the platform's deep_link_return_url with an
 * auto-submitting form (SF §5.2: iss = client_id, aud = platform issuer, nonce, kid). */
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

struct item {
	const char *id, *title, *text, *path;
	int score_max;	/* > 0: ask the platform for a gradebook line item */
};

/* What can be placed. Programs and checklists join this list when they exist. */
static const struct item items[] = {
	{ "course", "Attest", "Competencies, observations and certification for this course",
	  "/lti/launch", 0 },
};

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
	http_html_headers(r);
	html_page_begin(r, "Add Attest to the course");
	html(r, "<main><h1>Add Attest to the course</h1><form method='post' "
		"action='/lti/deeplink' class='card'>");
	session_form_fields(r);
	html(r, "<fieldset><legend>Choose what to place</legend>");
	for (size_t i = 0; i < NELEM(items); i++) {
		html(r, "<label class='choice'><input type='radio' name='item' value='");
		html_attr(r, items[i].id);
		html(r, "'");
		if (i == 0)
			html(r, " checked");
		html(r, "> <strong>");
		html_txt(r, items[i].title);
		html(r, "</strong> <span>");
		html_txt(r, items[i].text);
		html(r, "</span></label>");
	}
	html(r, "</fieldset><p class='hint'>Programs and checklists appear here once a "
		"coordinator has imported them.</p><button type='submit'>Add to course</button>"
		"</form></main>");
	html_page_end(r);
}

static void respond(struct req *r)
{
	const char *which = req_param(r, "item");
	const struct item *it = NULL;
	struct json_object *facts = launch_facts(r), *jwt, *ci, *arr, *li;
	struct platform p;
	struct at_err err = { "" };
	const char *return_url, *data, *dep, *payload;
	char *compact = NULL;
	int64_t now = (int64_t)time(NULL), pid;
	struct json_object *v;
	enum at_rc rc;

	for (size_t i = 0; which != NULL && i < NELEM(items); i++)
		if (strcmp(items[i].id, which) == 0)
			it = &items[i];
	if (it == NULL) {
		http_error(r, AT_BADREQ, "choose an item to place");
		return;
	}
	return_url = jstr(facts, "dl_return_url");
	dep = jstr(facts, "deployment_id");
	data = jstr(facts, "dl_data");
	if (return_url == NULL || dep == NULL ||
	    !json_object_object_get_ex(facts, "platform_id", &v)) {
		http_error(r, AT_BADREQ, "this session did not start with a deep linking request");
		return;
	}
	pid = json_object_get_int64(v);
	rc = platform_get(g_app.db, r->arena, pid, &p);
	if (rc != AT_OK) {
		http_error(r, rc, "the platform of this session is gone");
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
	arr = json_object_new_array();
	ci = json_object_new_object();
	json_object_object_add(ci, "type", json_object_new_string("ltiResourceLink"));
	json_object_object_add(ci, "title", json_object_new_string(it->title));
	json_object_object_add(ci, "text", json_object_new_string(it->text));
	json_object_object_add(ci, "url", json_object_new_string(
		arena_printf(r->arena, "%s%s", g_app.cfg.base_url, it->path)));
	v = json_object_new_object();
	json_object_object_add(v, "attest_item", json_object_new_string(it->id));
	json_object_object_add(ci, "custom", v);
	if (it->score_max > 0 && json_object_object_get_ex(facts, "dl_accept_lineitem", &v) &&
	    json_object_get_boolean(v)) {
		li = json_object_new_object();
		json_object_object_add(li, "scoreMaximum", json_object_new_int(it->score_max));
		json_object_object_add(li, "label", json_object_new_string(it->title));
		json_object_object_add(li, "resourceId", json_object_new_string(it->id));
		json_object_object_add(li, "tag", json_object_new_string("attest"));
		json_object_object_add(ci, "lineItem", li);
	}
	json_object_array_add(arr, ci);
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
