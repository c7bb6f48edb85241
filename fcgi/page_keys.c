/* page_keys.c: GET /.well-known/jwks.json and GET /lti/canvas.json. */
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"
#include "lti/lti_keys.h"
#include "lti/lti_toolconf.h"

void page_jwks(struct req *r)
{
	char *json = NULL;
	enum at_rc rc = lti_keys_jwks(g_app.db, (int64_t)time(NULL), r->arena, &json);

	if (rc != AT_OK) {
		http_error(r, rc, "cannot read the tool keys");
		return;
	}
	r->status = 200;
	(void)http_header(r, "Content-Type", "application/json");
	(void)http_header(r, "X-Content-Type-Options", "nosniff");
	/* Short cache: a rotated key must reach platforms well before it signs. */
	(void)http_header(r, "Cache-Control", "public, max-age=300");
	(void)buf_puts(&r->out, json);
}

void page_canvas_json(struct req *r)
{
	const char *base = g_app.cfg.base_url;
	struct json_object *o = lti_toolconf_canvas(base, arena_printf(r->arena,
				"%s/.well-known/jwks.json", base));

	http_json(r, 200, o);
	json_object_put(o);
}
