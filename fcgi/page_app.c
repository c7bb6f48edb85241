/* page_app.c: GET /app — where a launch lands: an instructor, assessor or administrator
 * sees the course dashboard (page_coord.c), a learner their programs (page_learner.c).
 * GET / — what Attest is, for a stray visitor. */
#include "core/identity.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

void page_app(struct req *r)
{
	if (r->sess->s.role & (ROLE_ASSESSOR | ROLE_ADMIN))
		page_coord_home(r);
	else
		page_learner_home(r);
}

void page_index(struct req *r)
{
	http_html_headers(r);
	html_page_begin(r, "Attest");
	html(r, "<main class='center'><h1>Attest</h1><p>Competencies, observation checklists "
		"and certification for Moodle and Canvas. Launch Attest from your course.</p>"
		"<p class='hint'>Administrators: register Attest in your LMS with the dynamic "
		"registration URL <code>");
	html_txt(r, g_app.cfg.base_url);
	html(r, "/lti/register</code>.</p></main>");
	html_page_end(r);
}
