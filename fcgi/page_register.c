/* page_register.c: GET /lti/register — LTI Dynamic Registration 1.0, tool side.
 *
 * The platform opens this page with openid_configuration and registration_token. Attest
 * fetches the platform's configuration (with the token as bearer: Canvas requires it),
 * checks that the issuer's host is the configuration URL's host, posts its client
 * registration, stores (issuer, client_id) and any deployment id, and closes the dialog
 * with the org.imsglobal.lti.close postMessage.
 */
#include <json-c/json.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/jsonx.h"
#include "core/log.h"
#include "core/platform.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/origins.h"
#include "fcgi/pages.h"
#include "lti/httpc.h"
#include "lti/lti_toolconf.h"

/* Parse body as a JSON object owned by r's arena; NULL if it is not one. */
static struct json_object *parse(struct req *r, const char *body, size_t len)
{
	struct json_object *o = jsonx_parse(r->arena, body, len, 32, NULL);

	return o != NULL && json_object_is_type(o, json_type_object) ? o : NULL;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static char *host_of(struct req *r, const char *url)
{
	const char *p = url ? strstr(url, "://") : NULL;
	size_t n;

	if (p == NULL)
		return NULL;
	p += 3;
	n = strcspn(p, ":/?#");
	return arena_strndup(r->arena, p, n);
}

static bool url_ok(const char *u)
{
	return u != NULL && (strncmp(u, "https://", 8) == 0 ||
			     (g_app.cfg.lms_allow_http && strncmp(u, "http://", 7) == 0)) &&
	       strpbrk(u, " \r\n\"'<>") == NULL && strlen(u) < 2048;
}

static void failed(struct req *r, int status, const char *msg)
{
	log_msg(LOG_INFO, r->rid, "op=register fail status=%d detail=\"%s\"", status, msg);
	http_error_page(r, status, "Registration failed", msg);
}

/* Space-separated scopes we asked for that the platform did not grant, from r's arena. */
static char *missing_scopes(struct req *r, const char *granted)
{
	char *out = arena_strdup(r->arena, "");
	const char *s = LTI_TOOL_SCOPES;

	while (*s) {
		size_t n = strcspn(s, " ");
		char *one = arena_strndup(r->arena, s, n);
		const char *g = granted;
		bool found = false;

		while (g && *g && !found) {
			size_t m = strcspn(g, " ");

			found = m == n && strncmp(g, one, n) == 0;
			g += m;
			while (*g == ' ')
				g++;
		}
		if (!found)
			out = arena_printf(r->arena, "%s%s%s", out, *out ? " " : "", one);
		s += n;
		while (*s == ' ')
			s++;
	}
	return out;
}

void page_lti_register(struct req *r)
{
	const char *conf_url = req_param(r, "openid_configuration");
	const char *rtoken = req_param(r, "registration_token");
	struct httpc_opts ho = { g_app.cfg.lms_connect_ms, g_app.cfg.lms_total_ms,
				 (size_t)g_app.cfg.lms_max_reply, (int)g_app.cfg.lms_allow_http };
	struct httpc_resp resp;
	struct at_err err = { "" };
	struct json_object *conf, *pc, *reg, *answer, *tc;
	const char *hdrs[4], *issuer, *reg_endpoint, *product = NULL, *client_id, *dep = NULL;
	const char *body, *missing;
	struct platform p;
	int64_t now = (int64_t)time(NULL);
	int nh = 0;
	enum at_rc rc;

	if (conf_url == NULL || !url_ok(conf_url)) {
		failed(r, 400, "This page is opened by your LMS during dynamic registration: the "
		       "openid_configuration parameter is missing or not an https URL.");
		return;
	}
	if (rtoken != NULL && (strlen(rtoken) > 8192 || strpbrk(rtoken, "\r\n") != NULL)) {
		failed(r, 400, "The registration token is malformed.");
		return;
	}
	hdrs[nh++] = "Accept: application/json";
	if (rtoken != NULL && *rtoken != '\0')
		hdrs[nh++] = arena_printf(r->arena, "Authorization: Bearer %s", rtoken);
	hdrs[nh] = NULL;
	rc = httpc_request(r->arena, &ho, "GET", conf_url, hdrs, NULL, 0, &resp, &err);
	if (rc != AT_OK || resp.status != 200) {
		failed(r, 502, rc != AT_OK ? "Attest could not reach the platform's OpenID "
		       "configuration." : "The platform refused to give its OpenID configuration "
		       "(is the registration token still valid?).");
		return;
	}
	conf = parse(r, resp.body, resp.body_len);
	issuer = jstr(conf, "issuer");
	reg_endpoint = jstr(conf, "registration_endpoint");
	p.auth_endpoint = jstr(conf, "authorization_endpoint");
	p.token_endpoint = jstr(conf, "token_endpoint");
	p.jwks_uri = jstr(conf, "jwks_uri");
	if (conf == NULL || issuer == NULL || reg_endpoint == NULL || p.auth_endpoint == NULL ||
	    p.jwks_uri == NULL) {
		failed(r, 502, "The platform's OpenID configuration lacks issuer, "
		       "authorization_endpoint, jwks_uri or registration_endpoint.");
		return;
	}
	if (!url_ok(issuer) || !url_ok(reg_endpoint) || !url_ok(p.auth_endpoint) ||
	    !url_ok(p.jwks_uri) || (p.token_endpoint && !url_ok(p.token_endpoint))) {
		failed(r, 502, "The platform's OpenID configuration has an endpoint that is not an "
		       "https URL.");
		return;
	}
	if (strcasecmp(host_of(r, issuer), host_of(r, conf_url)) != 0) {
		failed(r, 400, "The platform's issuer does not match the host of its OpenID "
		       "configuration URL.");
		return;
	}
	if (json_object_object_get_ex(conf, "https://purl.imsglobal.org/spec/lti-platform-"
				      "configuration", &pc))
		product = jstr(pc, "product_family_code");
	reg = lti_toolconf_registration(g_app.cfg.base_url, product);
	body = arena_strdup(r->arena, json_object_to_json_string_ext(reg, JSON_C_TO_STRING_PLAIN));
	json_object_put(reg);
	nh = 0;
	hdrs[nh++] = "Content-Type: application/json";
	hdrs[nh++] = "Accept: application/json";
	if (rtoken != NULL && *rtoken != '\0')
		hdrs[nh++] = arena_printf(r->arena, "Authorization: Bearer %s", rtoken);
	hdrs[nh] = NULL;
	rc = httpc_request(r->arena, &ho, "POST", reg_endpoint, hdrs, body, strlen(body), &resp,
			   &err);
	if (rc != AT_OK) {
		failed(r, 502, "Attest could not reach the platform's registration endpoint.");
		return;
	}
	answer = parse(r, resp.body, resp.body_len);
	if (resp.status < 200 || resp.status > 299 || answer == NULL) {
		const char *e = jstr(answer, "error");
		const char *d = jstr(answer, "error_description");

		failed(r, 502, arena_printf(r->arena, "The platform rejected the registration "
			"(HTTP %ld%s%s%s%s).", resp.status, e ? ": " : "", e ? e : "",
			d ? " — " : "", d ? d : ""));
		return;
	}
	client_id = jstr(answer, "client_id");
	if (client_id == NULL || *client_id == '\0' || strlen(client_id) > 255) {
		failed(r, 502, "The platform's registration answer has no client_id.");
		return;
	}
	if (json_object_object_get_ex(answer, "https://purl.imsglobal.org/spec/lti-tool-"
				      "configuration", &tc))
		dep = jstr(tc, "deployment_id");
	p.issuer = issuer;
	p.client_id = client_id;
	p.name = product ? product : "platform";
	p.flavor = product && strcmp(product, "moodle") == 0 ? "moodle" :
		   product && strcmp(product, "canvas") == 0 ? "canvas" : "generic";
	p.auth_server = jstr(conf, "authorization_server");
	p.source = "dynamic";
	p.scopes = jstr(answer, "scope");
	if (p.scopes == NULL)
		p.scopes = LTI_TOOL_SCOPES;
	rc = db_begin(g_app.db);
	if (rc == AT_OK)
		rc = platform_upsert(g_app.db, &p, now);
	if (rc == AT_OK && dep != NULL && *dep != '\0') {
		int64_t row;

		rc = platform_deployment_find(g_app.db, p.id, dep, &row);
		if (rc == AT_NOTFOUND)
			rc = platform_deployment_add(g_app.db, p.id, dep, 0, now, NULL);
	}
	if (rc == AT_OK)
		rc = db_commit(g_app.db);
	if (rc != AT_OK) {
		db_rollback(g_app.db);
		http_error(r, rc, "could not store the registration");
		return;
	}
	origins_invalidate();
	missing = missing_scopes(r, p.scopes);
	log_msg(LOG_INFO, r->rid, "op=register ok platform=%lld flavor=%s deployment=%s"
		" missing_scopes=%d", (long long)p.id, p.flavor, dep ? "given" : "later",
		*missing != '\0');
	http_html_headers(r);
	html_page_begin(r, "Attest registered");
	html(r, "<main class='center' id='lti-registered'><h1>Attest is registered</h1><p>");
	html_txt(r, p.flavor);
	html(r, " platform <code>");
	html_txt(r, issuer);
	html(r, "</code>, client id <code>");
	html_txt(r, client_id);
	html(r, "</code>.</p>");
	if (strcmp(p.flavor, "moodle") == 0)
		html(r, "<p class='note'>Moodle leaves a newly registered tool pending: activate it "
			"under Site administration › Plugins › Activity modules › External tool › "
			"Manage tools.</p>");
	if (dep == NULL)
		html(r, "<p class='note'>The platform did not say which deployment this is; Attest "
			"records the deployment id at the first launch.</p>");
	if (*missing != '\0') {
		html(r, "<p class='warn'>The platform did not grant these services, so grades or "
			"rosters may not sync: <code>");
		html_txt(r, missing);
		html(r, "</code></p>");
	}
	html(r, "<p><button type='button' id='lti-close'>Close</button></p></main>"
		"<script src='/static/lti-register.js'></script>");
	html_page_end(r);
}
