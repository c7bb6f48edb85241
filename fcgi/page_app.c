/* page_app.c: GET /app — where a launch lands: an instructor, assessor or administrator
 * sees the course dashboard (page_coord.c), a learner their own page. GET / — what Attest
 * is, for a stray visitor.
 *
 * The learner's page moves to page_learner_home() (fcgi/page_learner.c, the learner
 * pages); until that lands, learner_page() below keeps the launch landing working. */
#include <string.h>
#include <time.h>

#include "core/identity.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

static void header_bar(struct req *r, const struct user *u, const struct context *c,
		       const char *role)
{
	html(r, "<header class='bar'><span class='brand'>Attest</span><span class='where'>");
	html_txt(r, c && c->title && *c->title ? c->title : "No course");
	html(r, "</span><span class='who'>");
	html_txt(r, u->name && *u->name ? u->name : "Signed in");
	html(r, " · ");
	html_txt(r, role);
	html(r, "</span></header>");
}

static void learner_page(struct req *r, const struct user *u, const struct context *c)
{
	html(r, "<main><h1>");
	html_txt(r, u->given_name && *u->given_name ? u->given_name : u->name);
	html(r, ", your programs</h1><section class='card'><h2>My programs</h2>"
		"<p class='empty'>You are not enrolled in a certification program in this course "
		"yet. When your coordinator adds one, it appears here with what is due next.</p>"
		"</section></main>");
	(void)c;
}

void page_app(struct req *r)
{
	struct user u;
	struct context c;
	struct context *cp = NULL;
	enum at_rc rc;
	int role = r->sess->s.role;

	if (role & (ROLE_ASSESSOR | ROLE_ADMIN)) {
		page_coord_home(r);
		return;
	}
	memset(&u, 0, sizeof(u));
	memset(&c, 0, sizeof(c));
	rc = identity_user_get(g_app.db, r->arena, r->sess->s.user_id, &u);
	if (rc != AT_OK) {
		http_error(r, rc, "cannot load the user");
		return;
	}
	if (r->sess->s.context_id > 0) {
		rc = identity_context_get(g_app.db, r->arena, r->sess->s.context_id, &c);
		if (rc != AT_OK) {
			http_error(r, rc, "cannot load the course");
			return;
		}
		cp = &c;
	}
	http_html_headers(r);
	html_page_begin(r, cp && cp->title ? cp->title : "Attest");
	header_bar(r, &u, cp, "learner");
	learner_page(r, &u, cp);
	html_page_end(r);
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
