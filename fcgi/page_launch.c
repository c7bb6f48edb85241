/* page_launch.c: POST /lti/launch — the OIDC redirect URI. Validates the id_token per the
 * 1EdTech Security Framework and LTI Core, records who launched, and starts a session.
 *
 * Order: find the platform (iss, aud/azp) → check the browser binding of state (cookie or
 * platform storage) → take the state once (atomic delete) → verify the signature with the
 * platform's JWKS (refetch once on an unknown kid) → check every claim → record the nonce
 * (replay across all workers) → deployment policy → users, course, membership → session.
 */
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "core/identity.h"
#include "core/lmsq.h"
#include "core/log.h"
#include "core/oidc.h"
#include "core/platform.h"
#include "core/sess.h"
#include "core/token.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/lti_front.h"
#include "fcgi/origins.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"
#include "lti/lti_jwks.h"
#include "lti/lti_jwt.h"

#define MAX_ID_TOKEN (64 << 10)

/* A rejected launch: log the reason, answer a plain page, never echo the token. */
static void reject(struct req *r, int status, const char *why, const char *title,
		   const char *msg)
{
	log_msg(LOG_INFO, r->rid, "op=launch reject=%s status=%d", why, status);
	http_error_page(r, status, title, msg);
}

/* The client_id the token is meant for: aud when it is a string; azp when present;
 * otherwise the first audience that names a registration of iss. */
static enum at_rc find_platform(struct req *r, struct json_object *payload,
				struct platform *p)
{
	struct json_object *iss, *aud, *azp;
	const char *issuer;

	if (!json_object_object_get_ex(payload, "iss", &iss) ||
	    !json_object_is_type(iss, json_type_string))
		return AT_BADREQ;
	issuer = json_object_get_string(iss);
	if (json_object_object_get_ex(payload, "azp", &azp) &&
	    json_object_is_type(azp, json_type_string))
		return platform_find(g_app.db, r->arena, issuer, json_object_get_string(azp), p);
	if (!json_object_object_get_ex(payload, "aud", &aud))
		return AT_BADREQ;
	if (json_object_is_type(aud, json_type_string))
		return platform_find(g_app.db, r->arena, issuer, json_object_get_string(aud), p);
	if (!json_object_is_type(aud, json_type_array))
		return AT_BADREQ;
	for (size_t i = 0; i < json_object_array_length(aud); i++) {
		struct json_object *a = json_object_array_get_idx(aud, i);

		if (json_object_is_type(a, json_type_string) &&
		    platform_find(g_app.db, r->arena, issuer, json_object_get_string(a), p) ==
		    AT_OK)
			return AT_OK;
	}
	return AT_NOTFOUND;
}

/* Cookies were blocked and the platform offers storage: a page reads the secret from
 * platform storage and posts the form again with it (web/static/lti-launch.js). */
static void storage_check_page(struct req *r, const struct platform *p, const char *id_token,
			       const char *state, const char *target)
{
	http_html_headers(r);
	html_page_begin(r, "Signing in");
	html(r, "<main class='center'><p>Signing you in to Attest…</p>"
		"<form id='lti-launch' method='post' action='/lti/launch' data-target='");
	html_attr(r, target);
	html(r, "' data-origin='");
	html_attr(r, platform_url_origin(r->arena, p->auth_endpoint));
	html(r, "' data-key='");
	html_attr(r, arena_printf(r->arena, "attest-%s", state));
	html(r, "'>");
	html_hidden(r, "id_token", id_token);
	html_hidden(r, "state", state);
	html_hidden(r, "lti_storage_target", target);
	html(r, "<input type='hidden' name='state_secret' value=''>"
		"</form><p id='lti-launch-error' class='error' hidden>Attest could not confirm "
		"this sign-in with your learning platform. Please launch it again.</p></main>"
		"<script src='/static/lti-launch.js'></script>");
	html_page_end(r);
}

static const char *role_names(struct arena *a, const struct lti_claims *c)
{
	char *s = arena_strdup(a, "");

	for (size_t i = 0; i < c->nroles; i++)
		s = arena_printf(a, "%s%s%s", s, i ? " " : "", c->roles[i]);
	return s;
}

static void learn_origin(struct req *r, int64_t platform_id, const char *url, int64_t now)
{
	char *o = platform_url_origin(r->arena, url);

	if (o != NULL && platform_origin_add(g_app.db, platform_id, o, now) == AT_OK)
		origins_invalidate();
}

/* The launch facts later pages need (deep linking), as JSON text. */
static const char *launch_json(struct req *r, const struct platform *p,
			       const struct lti_claims *c)
{
	struct json_object *o = json_object_new_object();
	const char *s;

	json_object_object_add(o, "platform_id", json_object_new_int64(p->id));
	json_object_object_add(o, "deployment_id", json_object_new_string(c->deployment_id));
	if (c->dl.return_url != NULL) {
		json_object_object_add(o, "dl_return_url",
				       json_object_new_string(c->dl.return_url));
		if (c->dl.data != NULL)
			json_object_object_add(o, "dl_data", json_object_new_string(c->dl.data));
		json_object_object_add(o, "dl_accept_lineitem",
				       json_object_new_boolean(c->dl.accept_lineitem));
		json_object_object_add(o, "dl_accept_multiple",
				       json_object_new_boolean(c->dl.accept_multiple));
	}
	s = arena_strdup(r->arena, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* A custom parameter as a string; NULL when absent or when the platform left a $variable
 * unsubstituted (Canvas sends "$Canvas.assignment.id" outside assignments). */
static const char *custom(const struct lti_claims *c, const char *key)
{
	struct json_object *v;
	const char *s;

	if (c->custom == NULL || !json_object_object_get_ex(c->custom, key, &v))
		return NULL;
	if (json_object_is_type(v, json_type_int))
		return json_object_get_string(v);
	if (!json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	return *s == '\0' || *s == '$' ? NULL : s;
}

static int is_flavor(const struct platform *p, const struct lti_claims *c, const char *f)
{
	return strcmp(p->flavor, f) == 0 || (c->tool_platform.product_family_code != NULL &&
	       strcmp(c->tool_platform.product_family_code, f) == 0);
}

/* LMS REST ids (Moodle: the context id and sub are its course and user ids; Canvas: the
 * $Canvas.* custom parameters of the tool configuration), the placement this link shows
 * (custom attest_placement, from deep linking) with its AGS line item, and, at an
 * instructor's launch, a roster import at most once an hour per course. In the launch's
 * transaction. */
static enum at_rc record_lms(struct req *r, const struct platform *p, const struct lti_claims *c,
			     const struct user *u, const struct context *ctx,
			     const struct resource_link *link, int64_t now)
{
	const char *uid = NULL, *course = NULL, *assignment = NULL, *placement;
	int64_t item = 0;
	enum at_rc rc;

	if (is_flavor(p, c, "moodle")) {
		uid = c->sub;
		course = c->context.id;
	} else if (is_flavor(p, c, "canvas")) {
		uid = custom(c, "canvas_user_id");
		course = custom(c, "canvas_course_id");
		assignment = custom(c, "canvas_assignment_id");
	}
	rc = identity_launch_ids(g_app.db, u->id, uid, ctx->id, course, link->id, assignment,
				 now);
	if (rc != AT_OK || ctx->id == 0)
		return rc;
	placement = custom(c, "attest_placement");
	if (placement != NULL && c->resource_link.id != NULL) {
		rc = identity_placement_bind(g_app.db, ctx->id, placement, c->resource_link.id,
					     c->ags.lineitem);
		if (rc == AT_NOTFOUND) {	/* a copied course: the placement lives elsewhere */
			log_msg(LOG_INFO, r->rid, "op=launch placement_unknown context=%lld",
				(long long)ctx->id);
			rc = AT_OK;
		}
		if (rc != AT_OK)
			return rc;
	}
	if ((c->role_flags & (LTI_ROLE_ASSESSOR | LTI_ROLE_ADMIN)) != 0 && c->nrps_url != NULL)
		rc = lmsq_roster(g_app.db, ctx->id, now, false, &item);
	return rc;
}

void page_lti_launch(struct req *r)
{
	const char *id_token = req_param(r, "id_token");
	const char *state = req_param(r, "state");
	const char *storage = req_param(r, "lti_storage_target");
	const char *secret;
	int64_t now = (int64_t)time(NULL);
	struct json_object *header = NULL, *payload = NULL, *claims = NULL;
	struct platform p;
	struct oidc_state st;
	struct lti_claims c;
	struct lti_expect x;
	struct lti_jwks_opts jo;
	struct at_err err = { "" };
	struct user u;
	struct context ctx;
	struct resource_link link;
	struct sess s;
	int64_t dep_row = 0;
	int fetched = 0;
	char *token = NULL, *origins = NULL;
	enum at_rc rc;

	if (req_param(r, "error") != NULL) {
		reject(r, 400, "platform_error", "The platform refused the sign-in",
		       "Your learning platform answered the sign-in request with an error. "
		       "Please launch Attest again; if it keeps failing, tell your administrator.");
		return;
	}
	if (id_token == NULL || *id_token == '\0' || state == NULL || *state == '\0') {
		reject(r, 400, "missing_fields", "Incomplete launch",
		       "The launch did not carry an id_token and a state.");
		return;
	}
	if (strlen(id_token) > MAX_ID_TOKEN || strlen(state) > 512) {
		reject(r, 413, "too_big", "Launch too large", "The launch request is too large.");
		return;
	}
	rc = lti_jwt_peek(r->arena, id_token, strlen(id_token), &header, &payload, &err);
	if (rc != AT_OK) {
		reject(r, 400, "malformed_token", "Invalid launch",
		       "The id_token is not a well-formed JWT.");
		return;
	}
	rc = find_platform(r, payload, &p);
	if (rc != AT_OK) {
		if (rc == AT_DB) {
			http_error(r, rc, "platform lookup failed");
			return;
		}
		reject(r, 401, "unknown_platform", "Unknown platform",
		       "The launch comes from an issuer and client id that are not registered "
		       "with Attest.");
		return;
	}
	/* The browser binding of state. */
	secret = req_cookie(r, lti_front_state_cookie(r, state));
	if (secret == NULL)
		secret = req_param(r, "state_secret");
	if (secret == NULL || *secret == '\0') {
		/* No cookie came back. With platform storage (the launch names the storage
		 * frame) a page fetches the secret from it; the state is not consumed yet. */
		rc = oidc_state_peek(g_app.db, r->arena, state, now, &st);
		if (rc == AT_OK && st.platform_id == p.id && lti_front_storage_target_ok(storage)) {
			storage_check_page(r, &p, id_token, state, storage);
			return;
		}
		reject(r, 401, "no_state_cookie", "Your browser blocked the sign-in",
		       "Attest could not confirm that this launch started in this browser: the "
		       "sign-in cookie did not come back, which happens when a browser blocks "
		       "cookies inside embedded frames. Open Attest in a new window from your "
		       "course (ask your administrator to set the tool to open in a new window), "
		       "or allow cookies for this site.");
		return;
	}
	rc = oidc_state_take(g_app.db, r->arena, state, now, &st);
	if (rc != AT_OK) {
		if (rc != AT_NOTFOUND) {
			http_error(r, rc, "state lookup failed");
			return;
		}
		reject(r, 401, "unknown_state", "Sign-in expired",
		       "This sign-in is unknown, expired or was already used. Please launch "
		       "Attest again from your course.");
		return;
	}
	if (st.platform_id != p.id ||
	    !token_equal(token_sha256_hex(r->arena, secret, strlen(secret)), st.secret_hash)) {
		reject(r, 401, "state_mismatch", "Sign-in mismatch",
		       "This launch does not belong to the sign-in started in this browser. "
		       "Please launch Attest again from your course.");
		return;
	}
	memset(&jo, 0, sizeof(jo));
	jo.http.connect_ms = g_app.cfg.lms_connect_ms;
	jo.http.total_ms = g_app.cfg.lms_total_ms;
	jo.http.max_reply = (size_t)g_app.cfg.lms_max_reply;
	jo.http.allow_http = (int)g_app.cfg.lms_allow_http;
	jo.default_max_age = g_app.cfg.jwks_max_age;
	jo.min_refetch = g_app.cfg.jwks_min_refetch;
	rc = lti_jwks_verify(g_app.db, r->arena, &jo, &p, id_token, strlen(id_token), now,
			     &claims, &fetched, &err);
	if (rc != AT_OK) {
		log_msg(LOG_INFO, r->rid, "op=launch reject=signature platform=%lld detail=\"%s\"",
			(long long)p.id, err.msg);
		http_error_page(r, rc == AT_UPSTREAM || rc == AT_TIMEOUT ? 502 : 401,
				"Invalid launch", rc == AT_UPSTREAM || rc == AT_TIMEOUT ?
				"Attest could not fetch your platform's signing keys. Please try "
				"again in a moment." :
				"The launch is not signed by your platform's key.");
		return;
	}
	memset(&x, 0, sizeof(x));
	x.issuer = p.issuer;
	x.client_id = p.client_id;
	x.now = now;
	x.skew = g_app.cfg.clock_skew;
	x.nonce = st.nonce;
	x.target_link_uri = st.target_link_uri;
	memset(&c, 0, sizeof(c));
	rc = lti_claims_check(r->arena, claims, &x, &c, &err);
	if (rc != AT_OK) {
		log_msg(LOG_INFO, r->rid, "op=launch reject=claims platform=%lld detail=\"%s\"",
			(long long)p.id, err.msg);
		http_error_page(r, rc == AT_BADREQ ? 400 : 401, "Invalid launch", err.msg);
		return;
	}
	rc = oidc_nonce_use(g_app.db, p.id, st.nonce, now + g_app.cfg.state_ttl +
			    g_app.cfg.clock_skew, now);
	if (rc != AT_OK) {
		if (rc == AT_CONFLICT)
			reject(r, 401, "nonce_replay", "Launch already used",
			       "This launch was already used. Please launch Attest again.");
		else
			http_error(r, rc, "nonce store failed");
		return;
	}
	if (st.deployment_hint != NULL && strcmp(st.deployment_hint, c.deployment_id) != 0) {
		reject(r, 401, "deployment_mismatch", "Invalid launch",
		       "The deployment id of the launch differs from the one given at sign-in.");
		return;
	}
	rc = platform_deployment_find(g_app.db, p.id, c.deployment_id, &dep_row);
	if (rc == AT_NOTFOUND) {
		if (strcmp(g_app.cfg.deployment_policy, "learn") != 0) {
			reject(r, 403, "unknown_deployment", "Unknown deployment",
			       "This deployment of Attest is not registered. An administrator can "
			       "add it with `attest platform deployment`.");
			return;
		}
		rc = platform_deployment_add(g_app.db, p.id, c.deployment_id, 1, now, &dep_row);
		if (rc == AT_CONFLICT)	/* another worker learned it at the same moment */
			rc = platform_deployment_find(g_app.db, p.id, c.deployment_id, &dep_row);
		if (rc == AT_OK)
			log_msg(LOG_INFO, r->rid, "op=deployment_learned platform=%lld",
				(long long)p.id);
	}
	if (rc != AT_OK) {
		http_error(r, rc, "deployment lookup failed");
		return;
	}
	learn_origin(r, p.id, c.tool_platform.url, now);
	learn_origin(r, p.id, c.return_url, now);
	learn_origin(r, p.id, c.dl.return_url, now);

	rc = db_begin(g_app.db);
	if (rc != AT_OK)
		goto dberr;
	memset(&u, 0, sizeof(u));
	u.platform_id = p.id;
	u.sub = c.sub;
	u.name = c.name;
	u.given_name = c.given_name;
	u.family_name = c.family_name;
	u.email = c.email;
	u.admin = (c.role_flags & LTI_ROLE_ADMIN) != 0;
	rc = identity_user_upsert(g_app.db, &u, now);
	if (rc != AT_OK)
		goto dberr;
	memset(&ctx, 0, sizeof(ctx));
	memset(&link, 0, sizeof(link));
	if (c.context.id != NULL) {
		ctx.platform_id = p.id;
		ctx.deployment_row = dep_row;
		ctx.context_id = c.context.id;
		ctx.label = c.context.label;
		ctx.title = c.context.title;
		ctx.nrps_url = c.nrps_url;
		ctx.ags_lineitems = c.ags.lineitems;
		ctx.ags_scopes = c.ags.scopes;
		rc = identity_context_upsert(g_app.db, &ctx, now);
		if (rc == AT_OK)
			rc = identity_membership_set(g_app.db, u.id, ctx.id, role_names(r->arena, &c),
						     c.role_flags, now);
		if (rc == AT_OK && c.resource_link.id != NULL) {
			link.context_id = ctx.id;
			link.link_id = c.resource_link.id;
			link.title = c.resource_link.title;
			link.ags_lineitem = c.ags.lineitem;
			rc = identity_link_upsert(g_app.db, &link, now);
		}
		if (rc != AT_OK)
			goto dberr;
	}
	rc = record_lms(r, &p, &c, &u, &ctx, &link, now);
	if (rc != AT_OK)
		goto dberr;
	memset(&s, 0, sizeof(s));
	s.user_id = u.id;
	s.context_id = ctx.id;
	s.link_id = link.id;
	s.role = c.role_flags;
	s.csrf = token_random(r->arena, 24);
	s.message_type = c.message_type;
	s.launch = launch_json(r, &p, &c);
	rc = platform_origins(g_app.db, r->arena, p.id, &origins);
	if (rc != AT_OK)
		goto dberr;
	s.frame_ancestors = origins;
	s.expires_at = now + g_app.cfg.session_ttl;
	rc = sess_create(g_app.db, r->arena, &s, now, &token);
	if (rc != AT_OK)
		goto dberr;
	rc = db_commit(g_app.db);
	if (rc != AT_OK)
		goto dberr;
	log_msg(LOG_INFO, r->rid, "op=launch ok platform=%lld user=%lld context=%lld type=%s"
		" roles=%d jwks_fetches=%d", (long long)p.id, (long long)u.id, (long long)ctx.id,
		c.message_type, c.role_flags, fetched);
	/* The login cookie has done its job. */
	(void)http_cookie(r, lti_front_state_cookie(r, state), "x", "/lti/", 0);
	http_redirect(r, 303, arena_printf(r->arena, "%s?s=%s",
		      strcmp(c.message_type, "LtiDeepLinkingRequest") == 0 ? "/lti/deeplink" :
		      "/app", html_urlencode(r->arena, token)));
	return;
dberr:
	db_rollback(g_app.db);
	http_error(r, rc, "could not record the launch: %s", db_errmsg(g_app.db));
}
