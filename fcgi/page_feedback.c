/* page_feedback.c: GET/POST /feedback/{token} — the public third-party feedback form.
 *
 * No session: the one-time token in the path is the credential, and as it is single-use
 * and unguessable it also stands in for a CSRF token. The form is built from the program's
 * definition (feedback_forms[].fields); every value shown goes through html_txt/html_attr.
 */
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "core/enrolment.h"
#include "core/feedback.h"
#include "core/log.h"
#include "core/program.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"

#define TEXT_MAX 4000		/* bytes of one text answer */
#define FIELDS_MAX 50

enum fkind { K_TEXT, K_RATING, K_YESNO };

struct field {
	const char *key, *label, *help;
	enum fkind kind;
	int min, max;
	bool required, scored;
};

struct form {
	const char *title, *description, *learner;
	struct field *fields;
	size_t n;
};

static const char *jstr(struct json_object *o, const char *k, const char *def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *k, int64_t def)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

static bool jbool(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

/* The definition of form key in p (strings borrowed from p->root, which lives as long as
 * r's arena). AT_NOTFOUND when the program has no such form. */
static enum at_rc form_load(struct req *r, const struct program *p, const char *key,
			    struct form *out)
{
	struct json_object *forms, *f = NULL, *fields;
	const struct program_form *pf = program_form(p, key);

	memset(out, 0, sizeof(*out));
	if (pf == NULL || p->root == NULL ||
	    !json_object_object_get_ex(p->root, "feedback_forms", &forms) ||
	    !json_object_is_type(forms, json_type_array))
		return AT_NOTFOUND;
	for (size_t i = 0; i < json_object_array_length(forms) && f == NULL; i++) {
		struct json_object *x = json_object_array_get_idx(forms, i);

		if (strcmp(jstr(x, "key", ""), key) == 0)
			f = x;
	}
	if (f == NULL || !json_object_object_get_ex(f, "fields", &fields) ||
	    !json_object_is_type(fields, json_type_array))
		return AT_NOTFOUND;
	out->title = pf->title ? pf->title : jstr(f, "title", "Feedback");
	out->description = jstr(f, "description", "");
	out->n = json_object_array_length(fields);
	if (out->n > FIELDS_MAX)
		out->n = FIELDS_MAX;
	out->fields = arena_zalloc(r->arena, sizeof(*out->fields) * (out->n ? out->n : 1));
	for (size_t i = 0; i < out->n; i++) {
		struct json_object *x = json_object_array_get_idx(fields, i);
		struct field *d = &out->fields[i];
		const char *kind = jstr(x, "kind", "text");

		d->key = jstr(x, "key", "");
		d->label = jstr(x, "label", d->key);
		d->help = jstr(x, "help", "");
		d->kind = strcmp(kind, "rating") == 0 ? K_RATING :
			  strcmp(kind, "yesno") == 0 ? K_YESNO : K_TEXT;
		d->min = (int)jint(x, "min", 1);
		d->max = (int)jint(x, "max", 5);
		if (d->min < 0 || d->max > 100 || d->min > d->max) {
			d->min = 1;
			d->max = 5;
		}
		d->required = jbool(x, "required");
		d->scored = jbool(x, "scored") ||
			    (pf->scored_field != NULL && strcmp(pf->scored_field, d->key) == 0);
	}
	return AT_OK;
}

/* A whole page with one message (status set by the caller's choice). */
static void message_page(struct req *r, int status, const char *title, const char *msg)
{
	buf_reset(&r->headers);
	buf_reset(&r->out);
	r->status = status;
	http_html_headers(r);
	html_page_begin(r, title);
	html(r, "<main class='feedback'><h1>");
	html_txt(r, title);
	html(r, "</h1><p>");
	html_txt(r, msg);
	html(r, "</p></main>");
	html_page_end(r);
}

/* The page for a link that cannot take a response (rc from feedback_link_check). */
static void link_refused(struct req *r, enum at_rc rc, const char *msg)
{
	if (rc == AT_NOTFOUND)
		message_page(r, 404, "Link not found", msg);
	else if (rc == AT_FORBIDDEN)
		message_page(r, 410, "Link expired", msg);
	else if (rc == AT_CONFLICT)
		message_page(r, 409, "Already answered",
			     "This feedback link has already been used. Thank you!");
	else
		message_page(r, 500, "Something went wrong",
			     "The feedback form could not be shown. Please try again later.");
}

static void radio(struct req *r, const struct field *d, const char *value, const char *label,
		  const char *sent)
{
	html(r, "<label class='choice'><input type='radio' name='");
	html_attr(r, d->key);
	html(r, "' value='");
	html_attr(r, value);
	html(r, "'");
	if (sent != NULL && strcmp(sent, value) == 0)
		html(r, " checked");
	if (d->required)
		html(r, " required");
	html(r, "> ");
	html_txt(r, label);
	html(r, "</label> ");
}

/* The form; with sent, the values the respondent sent come back (after an error). */
static void form_page(struct req *r, int status, const struct form *f, const char *error,
		      bool sent)
{
	r->status = status;
	http_html_headers(r);
	html_page_begin(r, f->title);
	html(r, "<main class='feedback'><h1>");
	html_txt(r, f->title);
	html(r, "</h1>");
	if (f->learner != NULL && f->learner[0] != '\0') {
		html(r, "<p class='about'>Feedback on ");
		html_txt(r, f->learner);
		html(r, "</p>");
	}
	if (f->description[0] != '\0') {
		html(r, "<p class='description'>");
		html_txt(r, f->description);
		html(r, "</p>");
	}
	if (error != NULL) {
		html(r, "<p class='error' role='alert'>");
		html_txt(r, error);
		html(r, "</p>");
	}
	html(r, "<form method='post' action='/feedback/");
	html_attr(r, r->pathvar);
	html(r, "'>");
	for (size_t i = 0; i < f->n; i++) {
		const struct field *d = &f->fields[i];
		const char *v = sent ? req_param(r, d->key) : NULL;

		if (d->kind == K_TEXT) {
			/* a text answer: its own label (a legend does not name a textarea) */
			html(r, "<div class='field'><label for='fb-");
			html_attr(r, d->key);
			html(r, "'>");
		} else {
			html(r, "<fieldset class='field'><legend>");
		}
		html_txt(r, d->label);
		if (d->required)
			html(r, " <span class='required'>(required)</span>");
		if (d->kind == K_TEXT)
			html(r, "</label>");
		else
			html(r, "</legend>");
		if (d->help[0] != '\0') {
			html(r, "<p class='help' id='fbh-");
			html_attr(r, d->key);
			html(r, "'>");
			html_txt(r, d->help);
			html(r, "</p>");
		}
		if (d->kind == K_RATING) {
			for (int k = d->min; k <= d->max; k++) {
				char num[16];

				snprintf(num, sizeof(num), "%d", k);
				radio(r, d, num, num, v);
			}
		} else if (d->kind == K_YESNO) {
			radio(r, d, "yes", "Yes", v);
			radio(r, d, "no", "No", v);
		} else {
			html(r, "<textarea id='fb-");
			html_attr(r, d->key);
			html(r, "' name='");
			html_attr(r, d->key);
			html(r, "' rows='4' maxlength='4000'");
			if (d->help[0] != '\0') {
				html(r, " aria-describedby='fbh-");
				html_attr(r, d->key);
				html(r, "'");
			}
			if (d->required)
				html(r, " required");
			html(r, ">");
			html_txt(r, v);
			html(r, "</textarea>");
		}
		if (d->kind == K_TEXT)
			html(r, "</div>");
		else
			html(r, "</fieldset>");
	}
	html(r, "<p><button type='submit'>Send feedback</button></p>"
		"<p class='note'>This link works once. No account is needed.</p></form></main>");
	html_page_end(r);
}

/* Read the answers from the form body into a JSON object (o, owned by the caller). Returns
 * NULL on success, else a message naming the field; *score is the scored rating. */
static const char *read_answers(struct req *r, const struct form *f, struct json_object *o,
				bool *has_score, int64_t *score)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct field *d = &f->fields[i];
		const char *v = req_param(r, d->key);
		bool blank = v == NULL || v[strspn(v, " \t\r\n")] == '\0';

		if (blank) {
			if (d->required)
				return arena_printf(r->arena, "Please answer \"%s\".", d->label);
			continue;
		}
		if (d->kind == K_RATING) {
			int n = 0;
			size_t len = strlen(v);

			if (len == 0 || len > 3 || strspn(v, "0123456789") != len)
				return arena_printf(r->arena, "\"%s\": choose a value from %d to %d.",
						    d->label, d->min, d->max);
			for (size_t k = 0; k < len; k++)
				n = n * 10 + (v[k] - '0');
			if (n < d->min || n > d->max)
				return arena_printf(r->arena, "\"%s\": choose a value from %d to %d.",
						    d->label, d->min, d->max);
			json_object_object_add(o, d->key, json_object_new_int(n));
			if (d->scored && !*has_score) {
				*has_score = true;
				*score = (int64_t)n * 100;
			}
		} else if (d->kind == K_YESNO) {
			if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
				return arena_printf(r->arena, "\"%s\": answer yes or no.", d->label);
			json_object_object_add(o, d->key,
					       json_object_new_boolean(strcmp(v, "yes") == 0));
		} else {
			if (strlen(v) > TEXT_MAX)
				return arena_printf(r->arena, "\"%s\": at most %d characters, please.",
						    d->label, TEXT_MAX);
			json_object_object_add(o, d->key, json_object_new_string(v));
		}
	}
	return NULL;
}

void page_feedback(struct req *r)
{
	struct feedback_link l;
	struct enrolment e;
	struct program *p = NULL;
	struct form f;
	struct at_err err = { "" };
	int64_t now = (int64_t)time(NULL);
	const char *token = r->pathvar ? r->pathvar : "";
	enum at_rc rc = feedback_link_check(g_app.db, r->arena, token, now, &l, &err);

	if (rc != AT_OK) {
		link_refused(r, rc, err.msg);
		return;
	}
	rc = enrolment_get(g_app.db, r->arena, l.enrolment_id, &e);
	if (rc == AT_OK)
		rc = program_load(g_app.db, r->arena, NULL, e.program_id, &p);
	if (rc == AT_OK)
		rc = form_load(r, p, l.form_key, &f);
	if (rc != AT_OK) {
		log_msg(LOG_ERR, r->rid, "op=feedback_form link=%lld rc=%s", (long long)l.id,
			at_strerror(rc));
		message_page(r, 500, "Something went wrong",
			     "The feedback form could not be shown. Please try again later.");
		return;
	}
	f.learner = e.learner_name;
	if (strcmp(r->method, "POST") != 0) {
		form_page(r, 200, &f, NULL, false);
		return;
	}

	struct json_object *answers = json_object_new_object();
	bool has_score = false;
	int64_t score = 0, response_id = 0;
	const char *bad = read_answers(r, &f, answers, &has_score, &score);

	if (bad != NULL) {
		json_object_put(answers);
		form_page(r, 400, &f, bad, true);
		return;
	}
	rc = feedback_submit(g_app.db, r->arena, token,
			     json_object_to_json_string_ext(answers, JSON_C_TO_STRING_PLAIN),
			     has_score, score, now, &response_id, &err);
	json_object_put(answers);
	if (rc == AT_BADREQ) {
		form_page(r, 400, &f, err.msg, true);
		return;
	}
	if (rc != AT_OK) {
		link_refused(r, rc, err.msg);
		return;
	}
	log_msg(LOG_INFO, r->rid, "op=feedback_submit link=%lld response=%lld", (long long)l.id,
		(long long)response_id);
	message_page(r, 200, "Thank you", "Your feedback has been recorded.");
}
