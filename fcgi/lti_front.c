/* lti_front.c: small shared pieces of the LTI pages. */
#include <string.h>

#include "fcgi/app.h"
#include "fcgi/lti_front.h"

const char *lti_front_redirect_uri(struct req *r)
{
	return arena_printf(r->arena, "%s/lti/launch", g_app.cfg.base_url);
}

bool lti_front_target_ok(const char *url)
{
	size_t n = strlen(g_app.cfg.base_url);

	return url != NULL && strncmp(url, g_app.cfg.base_url, n) == 0 &&
	       (url[n] == '/' || url[n] == '\0' || url[n] == '?') &&
	       strpbrk(url, "\r\n\"'<> ") == NULL;
}

char *lti_front_state_cookie(struct req *r, const char *state)
{
	/* A state is base64url: a valid cookie-name token. Only its first 22 chars are used
	 * so names stay short; the secret itself is bound to the full state. */
	return arena_printf(r->arena, "attest_state_%.22s", state);
}

bool lti_front_storage_target_ok(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	return n > 0 && n <= 64 &&
	       strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}
