/* page_login.c: GET|POST /lti/login — OIDC third-party initiated login (SF §5.1.1).
 *
 * The state is bound to this browser by a secret that only the browser holds: in a
 * cookie (SameSite=None; Secure; Partitioned) and, when the platform offers LTI platform
 * storage (lti_storage_target), also in the platform's storage via postMessage — which
 * works when third-party cookies are blocked. The server keeps only its hash.
 */
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/oidc.h"
#include "core/platform.h"
#include "core/token.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/lti_front.h"
#include "fcgi/pages.h"

static void add_arg(struct req *r, char **url, bool *first, const char *k, const char *v)
{
	if (v == NULL)
		return;
	*url = arena_printf(r->arena, "%s%s%s=%s", *url, *first ? "" : "&", k,
			    html_urlencode(r->arena, v));
	*first = false;
}

void page_lti_login(struct req *r)
{
	const char *iss = req_param(r, "iss");
	const char *hint = req_param(r, "login_hint");
	const char *target = req_param(r, "target_link_uri");
	const char *msg_hint = req_param(r, "lti_message_hint");
	const char *client_id = req_param(r, "client_id");
	const char *dep = req_param(r, "lti_deployment_id");
	const char *storage = req_param(r, "lti_storage_target");
	int64_t now = (int64_t)time(NULL);
	struct platform p;
	struct oidc_state s;
	char *secret, *url, *cookie;
	bool first;
	enum at_rc rc;

	if (iss == NULL || *iss == '\0' || hint == NULL || *hint == '\0' || target == NULL) {
		http_error(r, AT_BADREQ, "the login request needs iss, login_hint and"
			   " target_link_uri");
		return;
	}
	if (!lti_front_target_ok(target)) {
		http_error(r, AT_BADREQ, "target_link_uri is not an address of this Attest (%s)",
			   g_app.cfg.base_url);
		return;
	}
	rc = platform_find(g_app.db, r->arena, iss, client_id && *client_id ? client_id : NULL,
			   &p);
	if (rc == AT_CONFLICT) {
		http_error(r, AT_BADREQ, "several registrations share this issuer and the platform"
			   " sent no client_id");
		return;
	}
	if (rc != AT_OK) {
		if (rc != AT_NOTFOUND) {
			http_error(r, rc, "platform lookup failed");
			return;
		}
		log_msg(LOG_INFO, r->rid, "op=login reject=unknown_platform");
		http_error_page(r, 400, "Unknown platform",
				"This learning platform is not registered with Attest. An "
				"administrator can register it with dynamic registration or "
				"`attest platform add`.");
		return;
	}
	if (dep != NULL && *dep != '\0') {
		int64_t row;

		rc = platform_deployment_find(g_app.db, p.id, dep, &row);
		if (rc == AT_NOTFOUND && strcmp(g_app.cfg.deployment_policy, "strict") == 0) {
			log_msg(LOG_INFO, r->rid, "op=login reject=unknown_deployment platform=%lld",
				(long long)p.id);
			http_error_page(r, 403, "Unknown deployment",
					"This deployment of Attest is not registered. An "
					"administrator can add it with `attest platform "
					"deployment`.");
			return;
		}
		if (rc != AT_OK && rc != AT_NOTFOUND) {
			http_error(r, rc, "deployment lookup failed");
			return;
		}
	}
	memset(&s, 0, sizeof(s));
	secret = token_random(r->arena, 32);
	s.state = token_random(r->arena, 32);
	s.nonce = token_random(r->arena, 32);
	s.secret_hash = token_sha256_hex(r->arena, secret, strlen(secret));
	s.platform_id = p.id;
	s.target_link_uri = target;
	s.deployment_hint = dep && *dep ? dep : NULL;
	s.storage = lti_front_storage_target_ok(storage);
	s.expires_at = now + g_app.cfg.state_ttl;
	rc = oidc_state_put(g_app.db, &s, now);
	if (rc != AT_OK) {
		http_error(r, rc, "could not store the login state");
		return;
	}
	url = arena_printf(r->arena, "%s%s", p.auth_endpoint,
			   strchr(p.auth_endpoint, '?') ? "&" : "?");
	first = true;
	add_arg(r, &url, &first, "scope", "openid");
	add_arg(r, &url, &first, "response_type", "id_token");
	add_arg(r, &url, &first, "response_mode", "form_post");
	add_arg(r, &url, &first, "prompt", "none");
	add_arg(r, &url, &first, "client_id", p.client_id);
	add_arg(r, &url, &first, "redirect_uri", lti_front_redirect_uri(r));
	add_arg(r, &url, &first, "login_hint", hint);
	add_arg(r, &url, &first, "lti_message_hint", msg_hint);
	add_arg(r, &url, &first, "state", s.state);
	add_arg(r, &url, &first, "nonce", s.nonce);
	cookie = lti_front_state_cookie(r, s.state);
	(void)http_cookie(r, cookie, secret, "/lti/", (int)g_app.cfg.state_ttl);
	log_msg(LOG_INFO, r->rid, "op=login platform=%lld storage=%d", (long long)p.id,
		s.storage);
	if (!s.storage) {
		http_redirect(r, 302, url);
		return;
	}
	/* Platform storage: a page puts the secret into the platform's storage, then goes on
	 * to the authorization endpoint (web/static/lti-login.js). */
	http_html_headers(r);
	html_page_begin(r, "Signing in");
	html(r, "<main class='center'><p>Signing you in to Attest…</p>"
		"<div id='lti-login' data-auth-url='");
	html_attr(r, url);
	html(r, "' data-target='");
	html_attr(r, storage);
	html(r, "' data-origin='");
	html_attr(r, platform_url_origin(r->arena, p.auth_endpoint));
	html(r, "' data-key='");
	html_attr(r, arena_printf(r->arena, "attest-%s", s.state));
	html(r, "' data-value='");
	html_attr(r, secret);
	html(r, "'></div><noscript><p><a href='");
	html_attr(r, url);
	html(r, "'>Continue</a></p></noscript></main>"
		"<script src='/static/lti-login.js'></script>");
	html_page_end(r);
}
