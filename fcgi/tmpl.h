/* tmpl.h: HTML templates from web/templates/ (syntax: docs/templates.md), rendered with
 * data from a json-c tree through html.c's escaping. Every value is escaped for the place
 * it lands in (text, quoted attribute, URL attribute); there is no unescaped output.
 * Templates are read and checked once, before the first request (tmpl_load); a template
 * that breaks a rule (unquoted attribute value, a value inside <script>/<style> or an on*
 * or style attribute, an unclosed section) refuses to load, naming file:line. */
#ifndef AT_TMPL_H
#define AT_TMPL_H

#include <json-c/json.h>

#include "core/rc.h"
#include "fcgi/req.h"

struct tmpl_set;

/* Load every *.html under dir (names without ".html", e.g. "observe" or "part/header").
 * AT_BADREQ with err naming file:line on a template error, AT_INTERNAL if dir is unreadable. */
enum at_rc tmpl_load(const char *dir, struct tmpl_set **out, struct at_err *err);
void tmpl_free(struct tmpl_set *t);	/* NULL-safe */
/* Load <web_dir>/templates into g_app.tmpl (once; later calls do nothing). */
enum at_rc tmpl_app_init(struct at_err *err);

/* Render template name with data (not consumed) into r's output. The data root gets these
 * extra names, readable anywhere: "@s" (session token), "@csrf" (the session's CSRF
 * token), "@base" (base_url), "@rid" (request id) — empty when there is no session.
 * AT_NOTFOUND if there is no such template. */
enum at_rc tmpl_render(struct req *r, const char *name, struct json_object *data);

/* The whole page: http_html_headers, then template "layout" with {"title": title,
 * "body": <name rendered with data>}, "@role" names, etc. Answers 500 on failure. */
void tmpl_page(struct req *r, const char *title, const char *name, struct json_object *data);

#endif
