/* page_admin_import.c: the admin's framework and program pages.
 *
 *   GET  /app/admin/frameworks          the frameworks, with export links and the import form
 *   POST /app/admin/frameworks/import   multipart: file (Moodle CSV or CASE JSON), format,
 *                                       replace — streamed through fcgi/multipart.c
 *   GET  /app/admin/frameworks/export   ?id=N&format=moodle-csv|case: the file, as
 *                                       `attest framework export` writes it
 *   GET  /app/admin/programs            the programs with their versions, the import form
 *   POST /app/admin/programs/import     multipart: file (program JSON), replace,
 *                                       action=validate|import
 *
 * The uploads are posted as multipart/form-data (routes with R_STREAM: the session and CSRF
 * tokens travel in the query string). Imports run through the same core functions as the
 * CLI, so the errors name the CSV line or the JSON path exactly as the CLI prints them;
 * nothing is stored unless the whole file imports. */
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/framework.h"
#include "core/log.h"
#include "core/program.h"
#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/multipart.h"
#include "fcgi/page_admin.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

#define CHUNK (64 << 10)		/* bytes pulled from the client at a time */
#define FIELD_MAX 64			/* bytes of a plain form field */
#define MULTIPART_SLACK (64 << 10)	/* part headers and boundaries around the file */
#define PROGRAM_MAX_FILE (4u << 20)	/* as `attest program` reads at most */

static void jstr(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void jint(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void jbool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

/* --- the upload: one file part and a few small fields --- */

enum { P_NONE, P_FILE, P_FORMAT, P_REPLACE, P_ACTION, P_IGNORE };

struct upload {
	size_t max;			/* bytes of the file */
	struct buf file;
	struct buf field;
	int cur;
	bool has_file;			/* a part named "file" with a filename came */
	const char *filename;
	const char *format, *replace, *action;
	struct arena *a;
};

static void upload_cleanup(void *ud)
{
	struct upload *u = ud;

	buf_cleanup(&u->file);
	buf_cleanup(&u->field);
}

static enum at_rc up_part(void *ud, const struct multipart_part *p, struct at_err *err)
{
	struct upload *u = ud;

	buf_reset(&u->field);
	if (p->filename != NULL) {
		if (strcmp(p->name, "file") != 0)
			return at_fail(err, AT_BADREQ, "a file goes in the field named \"file\"");
		if (u->has_file)
			return at_fail(err, AT_BADREQ, "one file per import");
		u->has_file = true;
		u->filename = arena_strdup(u->a, p->filename);
		u->cur = P_FILE;
		return AT_OK;
	}
	u->cur = strcmp(p->name, "format") == 0 ? P_FORMAT :
		 strcmp(p->name, "replace") == 0 ? P_REPLACE :
		 strcmp(p->name, "action") == 0 ? P_ACTION : P_IGNORE;
	return AT_OK;
}

static enum at_rc up_data(void *ud, const char *p, size_t n, struct at_err *err)
{
	struct upload *u = ud;

	if (u->cur == P_FILE) {
		if (buf_append(&u->file, p, n) != AT_OK)
			return at_fail(err, AT_TOOBIG, "the file is larger than %zu MiB",
				       u->max >> 20);
		return AT_OK;
	}
	if (u->cur == P_IGNORE)
		return AT_OK;
	if (buf_append(&u->field, p, n) != AT_OK)
		return at_fail(err, AT_BADREQ, "a form field is too long");
	return AT_OK;
}

static enum at_rc up_end(void *ud, struct at_err *err)
{
	struct upload *u = ud;
	const char *v = arena_strndup(u->a, u->field.data ? u->field.data : "", u->field.len);

	(void)err;
	if (u->cur == P_FORMAT)
		u->format = v;
	else if (u->cur == P_REPLACE)
		u->replace = v;
	else if (u->cur == P_ACTION)
		u->action = v;
	u->cur = P_NONE;
	return AT_OK;
}

/*
 * Read the multipart body of r into *out (from r's arena; file at most max bytes). Returns AT_OK; AT_TOOBIG
 * (the file or the body is too large: the rest of the body is not read) or AT_BADREQ
 * (malformed) with err filled.
 */
static enum at_rc read_upload(struct req *r, size_t max, struct upload **out, struct at_err *err)
{
	struct upload *u = arena_zalloc(r->arena, sizeof(*u));	/* lives as long as r */
	struct multipart_cb cb = { up_part, up_data, up_end, u };
	struct multipart *m = NULL;
	char *chunk;
	enum at_rc rc;

	*out = u;
	u->a = r->arena;
	u->max = max;
	buf_init(&u->file, max);
	buf_init(&u->field, FIELD_MAX);
	arena_on_free(r->arena, upload_cleanup, u);
	if (r->content_length > (int64_t)(max + MULTIPART_SLACK))
		return at_fail(err, AT_TOOBIG, "the file is larger than %zu MiB", max >> 20);
	rc = multipart_new(r->arena, r->content_type ? r->content_type : "", &cb, &m, err);
	chunk = arena_alloc(r->arena, CHUNK);
	while (rc == AT_OK) {
		long got = req_read(r, chunk, CHUNK);

		if (got < 0)
			return at_fail(err, AT_BADREQ, "the upload ended early: try again");
		if (got == 0)
			return multipart_finish(m, err);
		rc = multipart_feed(m, chunk, (size_t)got, err);
	}
	return rc;
}

static int status_of(enum at_rc rc)
{
	switch (rc) {
	case AT_BADREQ: return 400;
	case AT_NOTFOUND: return 404;
	case AT_CONFLICT: return 409;
	case AT_TOOBIG: return 413;
	default: return http_status_of(rc);
	}
}

/* --- frameworks --- */

static void frameworks_data(struct req *r, struct json_object *root)
{
	struct json_object *list = json_object_new_array();
	struct framework *v = NULL;
	size_t n = 0;

	if (framework_list(g_app.db, r->arena, &v, &n) != AT_OK)
		log_msg(1, r->rid, "admin: cannot list frameworks: %s", db_errmsg(g_app.db));
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object();

		jint(o, "id", v[i].id);
		jstr(o, "idnumber", v[i].idnumber);
		jstr(o, "shortname", v[i].shortname);
		jint(o, "competencies", v[i].ncomps);
		jstr(o, "updated", page_admin_time(r, v[i].updated_at));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, "frameworks", list);
}

/* The frameworks page; form (consumed, may be NULL) carries an import's error and choices. */
static void frameworks_page(struct req *r, const struct admin *ad, int status,
			    struct json_object *form)
{
	struct json_object *data = page_admin_data(r, ad, "frameworks");

	frameworks_data(r, data);
	if (form == NULL) {
		form = json_object_new_object();
		jbool(form, "fmt_guess", true);
	}
	json_object_object_add(data, "import", form);
	page_admin_render(r, status, "Competency frameworks", "frameworks", data);
}

void page_admin_frameworks(struct req *r)
{
	struct admin ad;

	if (!page_admin_load(r, &ad))
		return;
	frameworks_page(r, &ad, 0, NULL);
}

/* The form as it was sent, with the error: a message and whether nothing was stored. */
static struct json_object *fw_form(const struct upload *u, const char *error, bool nothing)
{
	struct json_object *f = json_object_new_object();
	const char *fmt = u->format ? u->format : "";

	jbool(f, "fmt_guess", strcmp(fmt, "moodle-csv") != 0 && strcmp(fmt, "case") != 0);
	jbool(f, "fmt_moodle", strcmp(fmt, "moodle-csv") == 0);
	jbool(f, "fmt_case", strcmp(fmt, "case") == 0);
	jbool(f, "replace", u->replace != NULL && *u->replace);
	jstr(f, "filename", u->filename);
	jstr(f, "error", error);
	jbool(f, "nothing_imported", nothing);
	return f;
}

void page_admin_framework_import(struct req *r)
{
	struct admin ad;
	struct upload *u;
	struct at_err err = { "" };
	struct framework_import_result res;
	struct framework fw;
	struct json_object *audit;
	enum framework_format fmt = FRAMEWORK_FMT_GUESS;
	const char *data;
	int64_t id = 0;
	enum at_rc rc;

	if (!page_admin_load(r, &ad))
		return;
	rc = read_upload(r, FRAMEWORK_MAX_FILE, &u, &err);
	if (rc != AT_OK) {
		frameworks_page(r, &ad, status_of(rc), fw_form(u, err.msg, true));
		return;
	}
	if (!u->has_file || u->file.len == 0) {
		frameworks_page(r, &ad, 400, fw_form(u, u->has_file ? "The file is empty." :
					       "Choose a file to import.", true));
		return;
	}
	if (u->format != NULL && strcmp(u->format, "moodle-csv") == 0)
		fmt = FRAMEWORK_FMT_MOODLE;
	else if (u->format != NULL && strcmp(u->format, "case") == 0)
		fmt = FRAMEWORK_FMT_CASE;
	else if (u->format != NULL && *u->format != '\0' && strcmp(u->format, "guess") != 0) {
		frameworks_page(r, &ad, 400, fw_form(u, "Choose Moodle CSV, CASE JSON or "
						      "\"by content\" as the format.", true));
		return;
	}
	data = arena_strndup(r->arena, u->file.data, u->file.len);
	/* The type check: a framework file is UTF-8 text, whatever its name says. */
	rc = framework_check_text(data, u->file.len, &err);
	if (rc != AT_OK) {
		frameworks_page(r, &ad, rc == AT_TOOBIG ? 413 : 415, fw_form(u, arena_printf(
			r->arena, "This is not a CSV or JSON text file (%s).", err.msg), true));
		return;
	}
	rc = framework_import(g_app.db, r->arena, data, u->file.len, fmt,
			      u->replace != NULL && *u->replace, (int64_t)time(NULL), &res, &err);
	if (rc != AT_OK) {
		int st = status_of(rc);

		if (st >= 500)
			log_msg(0, r->rid, "admin: framework import: %s", err.msg);
		frameworks_page(r, &ad, st, fw_form(u, st >= 500 ?
			"The database could not store the framework: try again." :
			(err.msg[0] ? err.msg : at_strerror(rc)), true));
		return;
	}
	memset(&fw, 0, sizeof(fw));
	(void)framework_get(g_app.db, r->arena, res.framework_id, &fw);
	audit = json_object_new_object();
	jstr(audit, "idnumber", fw.idnumber);
	jstr(audit, "filename", u->filename);
	jint(audit, "replaced", res.replaced);
	jint(audit, "competencies", (int64_t)res.ncomps);
	jint(audit, "created", (int64_t)res.created);
	jint(audit, "updated", (int64_t)res.updated);
	jint(audit, "deleted", (int64_t)res.deleted);
	jstr(audit, "notes", res.notes);
	page_admin_audit(r, &ad, "framework.import", "framework", res.framework_id, audit, &id);
	json_object_put(audit);
	page_admin_done(r, "/app/admin/frameworks", id);
}

/* A file name for a download: the id number with anything but [A-Za-z0-9._-] as '_'. */
static char *file_name(struct arena *a, const char *idnumber, const char *ext)
{
	size_t n = strlen(idnumber);
	char *s;

	if (n > 80)
		n = 80;
	s = arena_strndup(a, idnumber, n);
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			*p = '_';
	if (*s == '\0' || *s == '.')
		s = arena_printf(a, "framework%s", s);
	return arena_printf(a, "%s%s", s, ext);
}

void page_admin_framework_export(struct req *r)
{
	struct framework fw;
	struct framework_tree *t = NULL;
	struct at_err err = { "" };
	const char *f = req_param(r, "format");
	bool csv = f == NULL || strcmp(f, "moodle-csv") == 0;
	char *text = NULL;
	size_t len = 0;
	int64_t id;
	enum at_rc rc;

	if (!csv && strcmp(f, "case") != 0) {
		http_error_page(r, 400, "Bad request", "The format is moodle-csv or case.");
		return;
	}
	if (req_param_i64(r, "id", 1, INT64_MAX, &id) != AT_OK) {
		http_error_page(r, 404, "Not found", "There is no such framework.");
		return;
	}
	rc = framework_get(g_app.db, r->arena, id, &fw);
	if (rc == AT_OK)
		rc = framework_load(g_app.db, r->arena, fw.id, &t);
	if (rc == AT_NOTFOUND) {
		http_error_page(r, 404, "Not found", "There is no such framework.");
		return;
	}
	if (rc == AT_OK)
		rc = csv ? fw_moodle_write(r->arena, t, &text, &len, &err) :
		     fw_case_write(r->arena, t, &text, &len, &err);
	if (rc != AT_OK) {
		http_error(r, rc, "framework export %lld: %s", (long long)id, err.msg);
		return;
	}
	r->status = 200;
	(void)http_header(r, "Content-Type", csv ? "text/csv; charset=utf-8" :
			  "application/json; charset=utf-8");
	(void)http_header(r, "Content-Disposition", arena_printf(r->arena,
			  "attachment; filename=\"%s\"",
			  file_name(r->arena, fw.idnumber, csv ? ".csv" : ".json")));
	(void)http_header(r, "X-Content-Type-Options", "nosniff");
	(void)http_header(r, "Cache-Control", "no-store");
	buf_reset(&r->out);
	if (buf_append(&r->out, text, len) != AT_OK)
		http_error(r, AT_TOOBIG, "framework export %lld: %zu bytes", (long long)id, len);
}

/* --- programs --- */

static void program_row(const struct program_row *row, void *ud)
{
	struct json_object *list = ((void **)ud)[0];
	struct req *r = ((void **)ud)[1];
	struct json_object *o = json_object_new_object();

	jint(o, "id", row->id);
	jstr(o, "key", row->key);
	jstr(o, "title", row->title);
	jint(o, "version", row->version);
	jint(o, "checklists", row->n_checklists);
	jstr(o, "updated", page_admin_time(r, row->updated_at));
	json_object_array_add(list, o);
}

static void programs_page(struct req *r, const struct admin *ad, int status,
			  struct json_object *form)
{
	struct json_object *data = page_admin_data(r, ad, "programs");
	struct json_object *list = json_object_new_array();
	void *ud[2] = { list, r };

	if (program_each(g_app.db, program_row, ud) != AT_OK)
		log_msg(1, r->rid, "admin: cannot list programs: %s", db_errmsg(g_app.db));
	json_object_object_add(data, "programs", list);
	json_object_object_add(data, "import", form ? form : json_object_new_object());
	page_admin_render(r, status, "Programs", "programs", data);
}

void page_admin_programs(struct req *r)
{
	struct admin ad;

	if (!page_admin_load(r, &ad))
		return;
	programs_page(r, &ad, 0, NULL);
}

static struct json_object *prog_form(const struct upload *u, const char *error)
{
	struct json_object *f = json_object_new_object();

	jbool(f, "replace", u->replace != NULL && *u->replace);
	jstr(f, "filename", u->filename);
	jstr(f, "error", error);
	jbool(f, "nothing_imported", error != NULL && *error);
	json_object_object_add(f, "errors", json_object_new_array());
	return f;
}

/* The report's messages into form.errors ("... and N more" when some were dropped). */
static void report_into(struct req *r, struct json_object *form,
			const struct jsonschema_report *rep)
{
	struct json_object *errs;

	json_object_object_get_ex(form, "errors", &errs);
	for (size_t i = 0; i < rep->n; i++)
		json_object_array_add(errs, json_object_new_string(rep->msg[i]));
	if (rep->total > rep->n)
		json_object_array_add(errs, json_object_new_string(arena_printf(
			r->arena, "... and %zu more", rep->total - rep->n)));
}

static const char *rule_name(const struct program *p)
{
	struct json_object *t;

	if (p->rule != NULL && json_object_object_get_ex(p->rule, "type", &t) &&
	    json_object_is_type(t, json_type_string))
		return json_object_get_string(t);
	return "?";
}

void page_admin_program_import(struct req *r)
{
	struct admin ad;
	struct upload *u;
	struct at_err err = { "" };
	struct jsonschema_report rep;
	struct program *p = NULL;
	struct json_object *form, *audit;
	bool validate_only;
	const char *text;
	int64_t id = 0;
	enum at_rc rc;

	if (!page_admin_load(r, &ad))
		return;
	rc = read_upload(r, PROGRAM_MAX_FILE, &u, &err);
	if (rc != AT_OK) {
		programs_page(r, &ad, status_of(rc), prog_form(u, err.msg));
		return;
	}
	validate_only = u->action != NULL && strcmp(u->action, "validate") == 0;
	if (!u->has_file || u->file.len == 0) {
		programs_page(r, &ad, 400, prog_form(u, u->has_file ? "The file is empty." :
						       "Choose a program file (JSON)."));
		return;
	}
	text = arena_strndup(r->arena, u->file.data, u->file.len);
	if (memchr(u->file.data, '\0', u->file.len) != NULL) {
		programs_page(r, &ad, 415, prog_form(u, "This is not a JSON text file."));
		return;
	}
	rc = program_parse(r->arena, text, u->file.len, &p, &rep);
	if (rc != AT_OK) {
		form = prog_form(u, "The program is not valid:");
		report_into(r, form, &rep);
		programs_page(r, &ad, rc == AT_BADREQ || rc == AT_TOOBIG ? 400 : status_of(rc),
			      form);
		return;
	}
	if (validate_only) {
		form = prog_form(u, NULL);
		jstr(form, "valid", arena_printf(r->arena, "Program %s (version %lld) is valid: "
						 "%zu checklist%s, %zu tier%s, rule %s. Nothing was "
						 "imported yet.", p->key, (long long)p->version,
						 p->n_checklists, p->n_checklists == 1 ? "" : "s",
						 p->n_tiers, p->n_tiers == 1 ? "" : "s",
						 rule_name(p)));
		programs_page(r, &ad, 0, form);
		return;
	}
	rc = program_import(g_app.db, r->arena, p, u->replace != NULL && *u->replace,
			    (int64_t)time(NULL), &rep);
	if (rc != AT_OK) {
		int st = status_of(rc);

		if (st >= 500) {
			log_msg(0, r->rid, "admin: program import: %s", rep.n ? rep.msg[0] : "");
			form = prog_form(u, "The database could not store the program: try "
					 "again.");
		} else {
			form = prog_form(u, "The program could not be imported:");
			report_into(r, form, &rep);
		}
		programs_page(r, &ad, st, form);
		return;
	}
	audit = json_object_new_object();
	jstr(audit, "key", p->key);
	jstr(audit, "filename", u->filename);
	jint(audit, "version", p->version);
	jint(audit, "checklists", (int64_t)p->n_checklists);
	jint(audit, "replace", u->replace != NULL && *u->replace);
	page_admin_audit(r, &ad, "program.import", "program", p->id, audit, &id);
	json_object_put(audit);
	page_admin_done(r, "/app/admin/programs", id);
}
