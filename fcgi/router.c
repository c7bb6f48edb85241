/* router.c: method, path, session, role and CSRF checks, then the handler. */
#include <string.h>

#include "core/token.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"
#include "fcgi/router.h"
#include "fcgi/session.h"

struct route {
	const char *methods;	/* "GET", "POST", "GET POST" */
	const char *path;
	void (*fn)(struct req *r);
	int flags;
};

/*
 * A path segment "{id}" matches one segment of [A-Za-z0-9_.-] (at most 128 bytes): the
 * handler reads it as r->pathvar (api_path_id() for numbers). Everything under /api/ speaks
 * JSON: its errors are JSON too (http_error_page).
 */
static const struct route routes[] = {
	{ "GET", "/", page_index, 0 },
	{ "GET", "/healthz", page_health, 0 },
	{ "GET", "/.well-known/jwks.json", page_jwks, 0 },
	{ "GET", "/lti/canvas.json", page_canvas_json, 0 },
	{ "GET POST", "/lti/login", page_lti_login, 0 },
	{ "POST", "/lti/launch", page_lti_launch, 0 },
	{ "GET", "/lti/register", page_lti_register, 0 },
	{ "GET", "/app", page_app, R_SESSION },
	{ "GET POST", "/lti/deeplink", page_deeplink,
	  R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	/* --- pages: learner --- */
	{ "POST", "/app/enrolments", page_learner_enrol, R_SESSION | R_CSRF | R_LEARNER },
	{ "GET", "/app/enrolments/{id}", page_learner_enrolment, R_SESSION },
	{ "POST", "/app/enrolments/{id}/progress", page_learner_progress, R_SESSION | R_CSRF },
	{ "POST", "/app/enrolments/{id}/self-evaluation", page_learner_self_eval,
	  R_SESSION | R_CSRF },
	{ "GET", "/app/enrolments/{id}/evidence", page_learner_evidence, R_SESSION },
	{ "POST", "/app/enrolments/{id}/evidence", page_learner_evidence_add,
	  R_SESSION | R_CSRF },
	{ "GET", "/app/enrolments/{id}/record", page_learner_record, R_SESSION },
	{ "GET", "/app/enrolments/{id}/certificate", page_learner_certificate, R_SESSION },
	/* --- end of pages: learner --- */
	/* --- pages: assessor --- */
	{ "GET", "/app/assess", page_assess_list, R_SESSION | R_ASSESSOR | R_ADMIN },
	{ "GET POST", "/app/enrolments/{id}/observe", page_assess_observe,
	  R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	{ "GET POST", "/app/observations/{id}", page_assess_obs, R_SESSION | R_CSRF },
	{ "POST", "/app/observations/{id}/amend", page_assess_amend, R_SESSION | R_CSRF },
	{ "GET", "/app/observations/{id}/compare", page_assess_compare, R_SESSION },
	{ "GET POST", "/app/evidence/{id}", page_assess_evidence, R_SESSION | R_CSRF },
	/* --- end of pages: assessor --- */
	/* --- pages: coordinator --- */
	{ "GET", "/app/programs/{id}", page_coord_program, R_SESSION | R_ASSESSOR | R_ADMIN },
	{ "POST", "/app/programs/{id}/enrol", page_coord_enrol, R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	{ "GET", "/app/programs/{id}/day", page_coord_day, R_SESSION | R_ASSESSOR | R_ADMIN },
	{ "GET", "/app/coord/enrolments/{id}", page_coord_learner, R_SESSION | R_ASSESSOR | R_ADMIN },
	{ "POST", "/app/coord/enrolments/{id}/note", page_coord_note, R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	{ "POST", "/app/coord/enrolments/{id}/group", page_coord_group, R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	{ "POST", "/app/coord/enrolments/{id}/assessors", page_coord_assessors, R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	{ "POST", "/app/coord/enrolments/{id}/evaluate", page_coord_evaluate, R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	{ "POST", "/app/coord/enrolments/{id}/feedback", page_coord_feedback, R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	{ "POST", "/app/coord/decisions/{id}/confirm", page_coord_confirm, R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	{ "POST", "/app/coord/decisions/{id}/override", page_coord_override, R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	{ "GET", "/app/reports", page_reports, R_SESSION | R_ASSESSOR | R_ADMIN },
	/* --- end of pages: coordinator --- */
	/* --- pages: admin --- */
	{ "GET", "/app/admin", page_admin_home, R_SESSION | R_ADMIN },
	{ "POST", "/app/admin/deployments", page_admin_deployments,
	  R_SESSION | R_CSRF | R_ADMIN },
	{ "GET POST", "/app/admin/keys", page_admin_keys, R_SESSION | R_CSRF | R_ADMIN },
	{ "GET", "/app/admin/frameworks", page_admin_frameworks, R_SESSION | R_ADMIN },
	{ "POST", "/app/admin/frameworks/import", page_admin_framework_import,
	  R_SESSION | R_CSRF | R_ADMIN | R_STREAM },
	{ "GET", "/app/admin/frameworks/export", page_admin_framework_export,
	  R_SESSION | R_ADMIN },
	{ "GET", "/app/admin/programs", page_admin_programs, R_SESSION | R_ADMIN },
	{ "POST", "/app/admin/programs/import", page_admin_program_import,
	  R_SESSION | R_CSRF | R_ADMIN | R_STREAM },
	{ "GET", "/app/admin/sync", page_admin_sync, R_SESSION | R_ADMIN },
	{ "POST", "/app/admin/sync/retry", page_admin_sync_retry, R_SESSION | R_CSRF | R_ADMIN },
	{ "GET", "/app/admin/audit", page_admin_audit_log, R_SESSION | R_ADMIN },
	/* --- end of pages: admin --- */
	/* --- pages: journey --- */
	{ "POST", "/app/coord/enrolments/{id}/grant", page_coord_grant,
	  R_SESSION | R_CSRF | R_ASSESSOR | R_ADMIN },
	/* --- end of pages: journey --- */
	/* --- pages: sync --- */
	{ "GET", "/api/v1/sync/status", api_sync_status, R_SESSION | R_ADMIN },
	{ "GET", "/api/v1/sync/items", api_sync_items, R_SESSION | R_ADMIN },
	{ "POST", "/api/v1/sync/items/{id}/retry", api_sync_retry, R_SESSION | R_JSON | R_ADMIN },
	{ "GET", "/evidence-share/{id}", page_share, 0 },	/* public: the token is the credential */
	/* --- end of pages: sync --- */
	{ "GET", "/api/v1/me", api_me, R_SESSION },
	/* --- api block A: programs, frameworks, enrolments, decisions, notes, reports --- */
	{ "GET", "/api/v1/programs", api_programs, R_SESSION },
	{ "GET", "/api/v1/programs/{id}", api_program, R_SESSION },
	{ "GET", "/api/v1/frameworks", api_frameworks, R_SESSION },
	{ "GET", "/api/v1/frameworks/{id}", api_framework, R_SESSION },
	{ "GET POST", "/api/v1/enrolments", api_enrolments, R_SESSION | R_JSON },
	{ "GET", "/api/v1/enrolments/{id}", api_enrolment, R_SESSION },
	{ "POST", "/api/v1/enrolments/{id}/evaluate", api_enrolment_evaluate,
	  R_SESSION | R_JSON },
	{ "POST", "/api/v1/enrolments/{id}/progress", api_enrolment_progress,
	  R_SESSION | R_JSON },
	{ "GET POST", "/api/v1/enrolments/{id}/notes", api_enrolment_notes, R_SESSION | R_JSON },
	{ "GET", "/api/v1/enrolments/{id}/record", api_enrolment_record, R_SESSION },
	{ "POST", "/api/v1/enrolments/{id}/grant", api_enrolment_grant, R_SESSION | R_JSON },
	{ "POST", "/api/v1/decisions/{id}/confirm", api_decision_confirm, R_SESSION | R_JSON },
	{ "POST", "/api/v1/decisions/{id}/override", api_decision_override,
	  R_SESSION | R_JSON },
	{ "GET", "/api/v1/reports/progress", api_report_progress,
	  R_SESSION | R_ASSESSOR | R_ADMIN },
	{ "GET", "/api/v1/reports/day", api_report_day, R_SESSION | R_ASSESSOR | R_ADMIN },
	/* --- end of api block A --- */
	/* --- api block B: observations, evidence, feedback --- */
	{ "POST", "/api/v1/observations", api_observation_create, R_SESSION | R_JSON },
	{ "GET", "/api/v1/observations/{id}", api_observation_get, R_SESSION },
	{ "PUT", "/api/v1/observations/{id}", api_observation_save, R_SESSION | R_JSON },
	{ "POST", "/api/v1/observations/{id}/submit", api_observation_submit, R_SESSION | R_JSON },
	{ "POST", "/api/v1/observations/{id}/amend", api_observation_amend, R_SESSION | R_JSON },
	{ "GET", "/api/v1/observations/{id}/side-by-side", api_observation_side, R_SESSION },
	{ "POST", "/api/v1/evidence", api_evidence_upload, R_SESSION | R_STREAM },
	{ "GET", "/api/v1/evidence", api_evidence_list, R_SESSION },
	{ "POST", "/api/v1/evidence/link", api_evidence_link, R_SESSION | R_JSON },
	{ "POST", "/api/v1/evidence/note", api_evidence_note, R_SESSION | R_JSON },
	{ "GET", "/api/v1/evidence/{id}", api_evidence_get, R_SESSION },
	{ "GET", "/api/v1/evidence/{id}/download", api_evidence_download, R_SESSION },
	{ "POST", "/api/v1/evidence/{id}/review", api_evidence_review, R_SESSION | R_JSON },
	{ "POST", "/api/v1/feedback-links", api_feedback_link_create, R_SESSION | R_JSON },
	{ "GET POST", "/feedback/{id}", page_feedback, 0 },
	/* --- end of api block B --- */
};

static bool method_ok(const char *list, const char *m)
{
	size_t n = strlen(m);

	for (const char *p = list; (p = strstr(p, m)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

static int role_flags(int role)
{
	int f = 0;

	if (role & 1)
		f |= R_LEARNER;
	if (role & 2)
		f |= R_ASSESSOR;
	if (role & 4)
		f |= R_ADMIN;
	return f;
}

/* Does path match pattern? A "{id}" segment matches one safe segment, stored in *var. */
static bool path_match(const char *pattern, const char *path, const char **var, size_t *var_len)
{
	const char *v = strstr(pattern, "{id}");
	size_t pre, n;

	if (v == NULL)
		return strcmp(pattern, path) == 0;
	pre = (size_t)(v - pattern);
	if (strncmp(pattern, path, pre) != 0)
		return false;
	n = strspn(path + pre, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		   "0123456789_.-");
	if (n == 0 || n > 128 || strcmp(pattern + pre + 4, path + pre + n) != 0)
		return false;
	*var = path + pre;
	*var_len = n;
	return true;
}

/* The route for method and path, NULL if none; *path_found says whether the path exists.
 * Sets *var / *var_len to the {id} segment, if any. */
static const struct route *find_route(const char *method, const char *path, bool *path_found,
				      const char **var, size_t *var_len)
{
	*path_found = false;
	*var = NULL;
	*var_len = 0;
	for (size_t i = 0; i < NELEM(routes); i++) {
		if (!path_match(routes[i].path, path, var, var_len))
			continue;
		*path_found = true;
		if (method_ok(routes[i].methods, method))
			return &routes[i];
	}
	return NULL;
}

bool router_streams(const char *method, const char *path)
{
	bool path_found;
	const char *var;
	size_t var_len;
	const struct route *rt = find_route(method, path, &path_found, &var, &var_len);

	return rt != NULL && (rt->flags & R_STREAM);
}

/* The CSRF token of a POST: a form field, or for streamed bodies the query string or
 * an X-CSRF-Token header (the multipart form is not parsed before the handler). */
static const char *csrf_token(struct req *r, int flags)
{
	const char *c = req_param(r, "csrf");

	if (c == NULL && (flags & R_STREAM))
		c = req_env(r, "HTTP_X_CSRF_TOKEN");
	return c;
}

void router_dispatch(struct req *r)
{
	const struct route *rt;
	bool path_found;
	const char *method = strcmp(r->method, "HEAD") == 0 ? "GET" : r->method;
	const char *var;
	size_t var_len;

	rt = find_route(method, r->path, &path_found, &var, &var_len);
	if (var != NULL)
		r->pathvar = arena_strndup(r->arena, var, var_len);
	if (rt == NULL) {
		if (path_found) {
			http_error_page(r, 405, "Method not allowed",
					"This address does not accept that method.");
			return;
		}
		http_error_page(r, 404, "Not found", "There is no page at this address.");
		return;
	}
	/* Bodies: forms unless the route takes JSON; anything else is 415. */
	if (r->body != NULL && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0)) {
		const char *want = rt->flags & R_JSON ? "application/json" :
				   "application/x-www-form-urlencoded";

		if (!req_content_type_is(r, want)) {
			http_error_page(r, 415, "Unsupported media type",
					arena_printf(r->arena, "This address takes %s bodies.", want));
			return;
		}
	}
	if (r->stream && strcmp(method, "POST") == 0 &&
	    !req_content_type_is(r, "multipart/form-data")) {
		http_error_page(r, 415, "Unsupported media type",
				"This address takes multipart/form-data bodies.");
		return;
	}
	if (rt->flags & R_SESSION) {
		if (session_load(r) != AT_OK) {
			http_error_page(r, 401, "Session expired or missing",
					"Please launch Attest again from your course.");
			return;
		}
		int need = rt->flags & (R_LEARNER | R_ASSESSOR | R_ADMIN);

		if (need && !(role_flags(r->sess->s.role) & need)) {
			http_error_page(r, 403, "Not allowed",
					"Your role in this course does not give access to this page.");
			return;
		}
		if ((rt->flags & R_CSRF) && strcmp(method, "GET") != 0) {
			const char *c = csrf_token(r, rt->flags);

			if (c == NULL || !token_equal(c, r->sess->s.csrf)) {
				http_error_page(r, 403, "Form expired",
						"The form was not sent from this session. Reload the "
						"page and try again.");
				return;
			}
		}
	}
	rt->fn(r);
}
