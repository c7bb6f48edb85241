/* lti_toolconf.c: tool configuration documents. */
#include <string.h>

#include "lti/lti_toolconf.h"

const char LTI_TOOL_SCOPES[] =
	"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem "
	"https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly "
	"https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly "
	"https://purl.imsglobal.org/spec/lti-ags/scope/score "
	"https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly";

#define J_STR(o, k, v) json_object_object_add((o), (k), json_object_new_string(v))

char *lti_toolconf_domain(struct arena *a, const char *base_url)
{
	const char *p = strstr(base_url, "://");
	size_t n;

	p = p ? p + 3 : base_url;
	n = strcspn(p, "/?#");
	return arena_strndup(a, p, n);
}

static char *url(struct arena *a, const char *base, const char *path)
{
	return arena_printf(a, "%s%s", base, path);
}

static struct json_object *str_array(const char *const *v)
{
	struct json_object *arr = json_object_new_array();

	for (; *v; v++)
		json_object_array_add(arr, json_object_new_string(*v));
	return arr;
}

static struct json_object *message(const char *type, const char *target, const char *label,
				   const char *const *placements)
{
	struct json_object *m = json_object_new_object();

	J_STR(m, "type", type);
	J_STR(m, "target_link_uri", target);
	J_STR(m, "label", label);
	if (placements != NULL)
		json_object_object_add(m, "placements", str_array(placements));
	return m;
}

/* Canvas variable substitutions: the course, user and assignment ids of its REST API (the
 * launch records them: context.lms_course_id, app_user.lms_user_id,
 * resource_link.lms_assignment_id). Moodle needs none: its context id and sub are its
 * course and user ids. */
static struct json_object *canvas_custom(void)
{
	struct json_object *c = json_object_new_object();

	J_STR(c, "canvas_course_id", "$Canvas.course.id");
	J_STR(c, "canvas_user_id", "$Canvas.user.id");
	J_STR(c, "canvas_assignment_id", "$Canvas.assignment.id");
	return c;
}

struct json_object *lti_toolconf_registration(const char *base_url, const char *product)
{
	static const char *const resp[] = { "id_token", NULL };
	static const char *const grants[] = { "implicit", "client_credentials", NULL };
	static const char *const claims[] = { "iss", "sub", "name", "given_name", "family_name",
					      "email", NULL };
	static const char *const canvas_dl[] = { "link_selection", "assignment_selection",
						 NULL };
	static const char *const canvas_rl[] = { "course_navigation", NULL };
	static const char *const moodle_dl[] = { "ContentArea", NULL };
	struct arena *a = arena_new();
	struct json_object *o = json_object_new_object();
	struct json_object *tc = json_object_new_object();
	struct json_object *msgs = json_object_new_array();
	struct json_object *redirects = json_object_new_array();
	const char *launch = url(a, base_url, "/lti/launch");
	int canvas = product != NULL && strcmp(product, "canvas") == 0;

	J_STR(o, "application_type", "web");
	json_object_object_add(o, "response_types", str_array(resp));
	json_object_object_add(o, "grant_types", str_array(grants));
	J_STR(o, "initiate_login_uri", url(a, base_url, "/lti/login"));
	json_object_array_add(redirects, json_object_new_string(launch));
	json_object_object_add(o, "redirect_uris", redirects);
	J_STR(o, "client_name", "Attest");
	J_STR(o, "jwks_uri", url(a, base_url, "/.well-known/jwks.json"));
	J_STR(o, "logo_uri", url(a, base_url, "/static/attest-logo.svg"));
	J_STR(o, "token_endpoint_auth_method", "private_key_jwt");
	J_STR(o, "scope", LTI_TOOL_SCOPES);
	J_STR(tc, "domain", lti_toolconf_domain(a, base_url));
	J_STR(tc, "target_link_uri", launch);
	J_STR(tc, "description", "Competencies, observation checklists and certification");
	json_object_object_add(tc, "claims", str_array(claims));
	json_object_array_add(msgs, message("LtiResourceLinkRequest", launch, "Attest",
					    canvas ? canvas_rl : NULL));
	json_object_array_add(msgs, message("LtiDeepLinkingRequest", launch,
					    "Attest: add a program or checklist",
					    canvas ? canvas_dl : moodle_dl));
	json_object_object_add(tc, "messages", msgs);
	if (canvas)	/* Canvas substitutes these at launch: its REST ids of the launch */
		json_object_object_add(tc, "custom_parameters", canvas_custom());
	json_object_object_add(o, "https://purl.imsglobal.org/spec/lti-tool-configuration", tc);
	if (canvas)
		J_STR(o, "https://canvas.instructure.com/lti/privacy_level", "public");
	arena_free(a);
	return o;
}

static struct json_object *placement(const char *name, const char *type, const char *target,
				     const char *text)
{
	struct json_object *p = json_object_new_object();

	J_STR(p, "placement", name);
	J_STR(p, "message_type", type);
	J_STR(p, "target_link_uri", target);
	J_STR(p, "text", text);
	return p;
}

struct json_object *lti_toolconf_canvas(const char *base_url, const char *public_jwks_url)
{
	struct arena *a = arena_new();
	struct json_object *o = json_object_new_object();
	struct json_object *scopes = json_object_new_array();
	struct json_object *exts = json_object_new_array();
	struct json_object *ext = json_object_new_object();
	struct json_object *settings = json_object_new_object();
	struct json_object *pl = json_object_new_array();
	const char *launch = url(a, base_url, "/lti/launch");
	const char *s = LTI_TOOL_SCOPES;

	J_STR(o, "title", "Attest");
	J_STR(o, "description", "Competencies, observation checklists and certification");
	J_STR(o, "oidc_initiation_url", url(a, base_url, "/lti/login"));
	J_STR(o, "target_link_uri", launch);
	while (*s) {
		size_t n = strcspn(s, " ");

		json_object_array_add(scopes, json_object_new_string_len(s, (int)n));
		s += n;
		while (*s == ' ')
			s++;
	}
	json_object_object_add(o, "scopes", scopes);
	J_STR(ext, "domain", lti_toolconf_domain(a, base_url));
	J_STR(ext, "tool_id", "attest");
	J_STR(ext, "platform", "canvas.instructure.com");
	J_STR(ext, "privacy_level", "public");
	J_STR(settings, "text", "Attest");
	json_object_array_add(pl, placement("course_navigation", "LtiResourceLinkRequest", launch,
					    "Attest"));
	json_object_array_add(pl, placement("link_selection", "LtiDeepLinkingRequest", launch,
					    "Attest program or checklist"));
	json_object_array_add(pl, placement("assignment_selection", "LtiDeepLinkingRequest",
					    launch, "Attest program or checklist"));
	json_object_object_add(settings, "placements", pl);
	json_object_object_add(ext, "settings", settings);
	json_object_array_add(exts, ext);
	json_object_object_add(o, "extensions", exts);
	json_object_object_add(o, "custom_fields", canvas_custom());
	J_STR(o, "public_jwk_url", public_jwks_url);
	arena_free(a);
	return o;
}
