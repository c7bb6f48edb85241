/* session.h: binding a request to its launch session. */
#ifndef AT_SESSION_H
#define AT_SESSION_H

#include "core/sess.h"
#include "fcgi/req.h"

struct session {
	struct sess s;
	const char *token;	/* the bearer value, to carry in links and forms */
};

/* Find the session of r (parameter s, or "Authorization: Bearer"). Sets r->sess.
 * AT_UNAUTH when absent, unknown or expired. */
enum at_rc session_load(struct req *r);
/* Link to path within the session: "path?s=TOKEN" (from r's arena). */
char *session_url(struct req *r, const char *path);
/* Hidden inputs carrying the session and csrf tokens, for forms. */
void session_form_fields(struct req *r);

#endif
