/* session.c: sessions travel in the page (never a third-party cookie after launch). */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/session.h"

enum at_rc session_load(struct req *r)
{
	const char *tok = req_param(r, "s");
	const char *auth = req_env(r, "HTTP_AUTHORIZATION");
	struct session *s;
	enum at_rc rc;

	if (tok == NULL && auth != NULL && strncasecmp(auth, "Bearer ", 7) == 0)
		tok = auth + 7;
	if (tok == NULL)
		return AT_UNAUTH;
	s = arena_zalloc(r->arena, sizeof(*s));
	rc = sess_lookup(g_app.db, r->arena, tok, (int64_t)time(NULL), &s->s);
	if (rc != AT_OK)
		return rc;
	s->token = arena_strdup(r->arena, tok);
	r->sess = s;
	return AT_OK;
}

char *session_url(struct req *r, const char *path)
{
	return arena_printf(r->arena, "%s%ss=%s", path, strchr(path, '?') ? "&" : "?",
			    html_urlencode(r->arena, r->sess->token));
}

void session_form_fields(struct req *r)
{
	html_hidden(r, "s", r->sess->token);
	html_hidden(r, "csrf", r->sess->s.csrf);
}
