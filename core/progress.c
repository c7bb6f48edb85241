/* progress.c: daily self-reports (appended within a day) and coordinator notes. */
#include <ctype.h>
#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "core/audit.h"
#include "core/progress.h"

#define NAME(u) "COALESCE(NULLIF(" u ".name, ''), NULLIF(TRIM(" u ".given_name || ' ' || " \
	u ".family_name), ''), 'user ' || CAST(" u ".id AS TEXT))"

static const char SQL_ENROLMENT[] = "SELECT 1 FROM enrolment WHERE id = ?1";
static const char SQL_TODAY[] =
	"SELECT id, text FROM progress_report WHERE enrolment_id = ?1 AND day = ?2"
	" ORDER BY id LIMIT 1";
static const char SQL_APPEND[] = "UPDATE progress_report SET text = ?2 WHERE id = ?1";
static const char SQL_INSERT[] =
	"INSERT INTO progress_report (enrolment_id, day, text, created_at)"
	" VALUES (?1, ?2, ?3, ?4)";
static const char SQL_NOTE[] =
	"INSERT INTO note (enrolment_id, author_id, day, text, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";

static const char SQL_LIST[] =
	"SELECT 'report', r.id, r.enrolment_id, e.user_id, r.day, " NAME("u") ","
	" e.user_id, " NAME("u") ", r.text, r.created_at, 0,"
	" LOWER(" NAME("u") ")"
	" FROM progress_report r JOIN enrolment e ON e.id = r.enrolment_id"
	" JOIN app_user u ON u.id = e.user_id WHERE r.enrolment_id = ?1"
	" UNION ALL "
	"SELECT 'note', n.id, n.enrolment_id, e.user_id, n.day, " NAME("u") ","
	" n.author_id, " NAME("w") ", n.text, n.created_at, 1,"
	" LOWER(" NAME("u") ")"
	" FROM note n JOIN enrolment e ON e.id = n.enrolment_id"
	" JOIN app_user u ON u.id = e.user_id JOIN app_user w ON w.id = n.author_id"
	" WHERE n.enrolment_id = ?1"
	" ORDER BY 5, 11, 10, 2";
static const char SQL_DAY[] =
	"SELECT 'report', r.id, r.enrolment_id, e.user_id, r.day, " NAME("u") ","
	" e.user_id, " NAME("u") ", r.text, r.created_at, 0,"
	" LOWER(" NAME("u") ")"
	" FROM progress_report r JOIN enrolment e ON e.id = r.enrolment_id"
	" JOIN app_user u ON u.id = e.user_id WHERE e.program_id = ?1 AND r.day = ?2"
	" UNION ALL "
	"SELECT 'note', n.id, n.enrolment_id, e.user_id, n.day, " NAME("u") ","
	" n.author_id, " NAME("w") ", n.text, n.created_at, 1,"
	" LOWER(" NAME("u") ")"
	" FROM note n JOIN enrolment e ON e.id = n.enrolment_id"
	" JOIN app_user u ON u.id = e.user_id JOIN app_user w ON w.id = n.author_id"
	" WHERE e.program_id = ?1 AND n.day = ?2"
	" ORDER BY 12, 4, 11, 10, 2";
static const char SQL_MISSING[] =
	"SELECT 'missing', 0, e.id, e.user_id, CAST(?2 AS TEXT), " NAME("u") ","
	" e.user_id, " NAME("u") ","
	" '', 0, 0, LOWER(" NAME("u") ") FROM enrolment e JOIN app_user u ON u.id = e.user_id"
	" WHERE e.program_id = ?1 AND e.status = 'active' AND NOT EXISTS"
	" (SELECT 1 FROM progress_report r WHERE r.enrolment_id = e.id AND r.day = ?2)"
	" ORDER BY 12, 3";

char *progress_day(struct arena *a, int64_t now)
{
	time_t t = (time_t)now;
	struct tm tm;

	gmtime_r(&t, &tm);
	return arena_printf(a, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

bool progress_day_ok(const char *d)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, dd;

	if (d == NULL || strlen(d) != 10 || d[4] != '-' || d[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)d[i]))
			return false;
	y = (d[0] - '0') * 1000 + (d[1] - '0') * 100 + (d[2] - '0') * 10 + (d[3] - '0');
	m = (d[5] - '0') * 10 + (d[6] - '0');
	dd = (d[8] - '0') * 10 + (d[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || dd < 1)
		return false;
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return dd <= 29;
	return dd <= mdays[m - 1];
}

/* UTF-8 code points of s; false for invalid UTF-8. */
static bool utf8_chars(const char *s, size_t *n)
{
	const unsigned char *p = (const unsigned char *)s;

	*n = 0;
	while (*p != '\0') {
		size_t k = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 :
			   (*p & 0xf8) == 0xf0 ? 3 : 9;
		unsigned cp = k == 0 ? *p : k == 1 ? (*p & 0x1fu) : k == 2 ? (*p & 0x0fu) :
			      (*p & 0x07u);
		static const unsigned min[] = { 0, 0x80, 0x800, 0x10000 };

		if (k == 9)
			return false;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3fu);
		}
		if (cp < min[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += k + 1;
		(*n)++;
	}
	return true;
}

static enum at_rc check(const char *day, const char *text, size_t *chars, struct at_err *err)
{
	const char *s = text;

	if (!progress_day_ok(day))
		return at_fail(err, AT_BADREQ, "day: must be a date written YYYY-MM-DD");
	if (text == NULL)
		return at_fail(err, AT_BADREQ, "text: must not be empty");
	while (isspace((unsigned char)*s))
		s++;
	if (*s == '\0')
		return at_fail(err, AT_BADREQ, "text: must not be empty");
	if (!utf8_chars(text, chars))
		return at_fail(err, AT_BADREQ, "text: not valid UTF-8 text");
	if (*chars > PROGRESS_TEXT_MAX)
		return at_fail(err, AT_BADREQ, "text: %zu characters, at most %d are allowed",
			       *chars, PROGRESS_TEXT_MAX);
	return AT_OK;
}

static enum at_rc enrolment_exists(struct db *db, int64_t id, struct at_err *err)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_ENROLMENT, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		rc = db_step(st, &row);
	}
	db_finalize(st);
	if (rc != AT_OK)
		return at_fail(err, rc, "database: %s", db_errmsg(db));
	if (!row)
		return at_fail(err, AT_BADREQ, "enrolment_id: no enrolment %lld", (long long)id);
	return AT_OK;
}

enum at_rc progress_report(struct db *db, int64_t enrolment_id, const char *day,
			   const char *text, int64_t now, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct arena *a = arena_new();
	bool row, in_tx = false;
	size_t chars, old_chars;
	enum at_rc rc = check(day, text, &chars, err);

	if (rc != AT_OK)
		goto out;
	rc = db_begin(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = true;
	rc = enrolment_exists(db, enrolment_id, err);
	if (rc != AT_OK)
		goto out;
	rc = db_prepare(db, SQL_TODAY, &st);
	if (rc != AT_OK)
		goto db_fail;
	db_bind_i64(st, 1, enrolment_id);
	db_bind_str(st, 2, day);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto db_fail;
	if (row) {
		int64_t id = db_col_i64(st, 0);
		char *joined = arena_printf(a, "%s\n%s", db_col_text(st, 1), text);

		if (!utf8_chars(joined, &old_chars) || old_chars > PROGRESS_TEXT_MAX) {
			rc = at_fail(err, AT_TOOBIG, "text: the report of %s would pass %d "
				     "characters", day, PROGRESS_TEXT_MAX);
			goto out;
		}
		db_finalize(st);
		rc = db_prepare(db, SQL_APPEND, &st);
		if (rc != AT_OK)
			goto db_fail;
		db_bind_i64(st, 1, id);
		db_bind_str(st, 2, joined);
	} else {
		db_finalize(st);
		rc = db_prepare(db, SQL_INSERT, &st);
		if (rc != AT_OK)
			goto db_fail;
		db_bind_i64(st, 1, enrolment_id);
		db_bind_str(st, 2, day);
		db_bind_str(st, 3, text);
		db_bind_i64(st, 4, now);
	}
	rc = db_run(st);
	if (rc != AT_OK)
		goto db_fail;
	rc = db_commit(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = false;
	goto out;
db_fail:
	at_fail(err, rc, "database: %s", db_errmsg(db));
out:
	db_finalize(st);
	if (in_tx)
		db_rollback(db);
	arena_free(a);
	return rc;
}

enum at_rc progress_note_add(struct db *db, int64_t enrolment_id, int64_t author_id,
			     const char *day, const char *text, int64_t now, int64_t *id,
			     struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *o = NULL;
	bool row, in_tx = false;
	size_t chars;
	int64_t nid = 0;
	enum at_rc rc = check(day, text, &chars, err);

	if (rc != AT_OK)
		return rc;
	rc = db_begin(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = true;
	rc = enrolment_exists(db, enrolment_id, err);
	if (rc != AT_OK)
		goto out;
	rc = db_prepare(db, SQL_NOTE, &st);
	if (rc != AT_OK)
		goto db_fail;
	db_bind_i64(st, 1, enrolment_id);
	db_bind_i64(st, 2, author_id);
	db_bind_str(st, 3, day);
	db_bind_str(st, 4, text);
	db_bind_i64(st, 5, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_DB;
	if (rc == AT_OK) {
		nid = db_col_i64(st, 0);
		rc = db_run(st);
	}
	if (rc == AT_CONFLICT) {
		rc = at_fail(err, AT_BADREQ, "author_id: no user %lld", (long long)author_id);
		goto out;
	}
	if (rc != AT_OK)
		goto db_fail;
	o = json_object_new_object();
	json_object_object_add(o, "enrolment_id", json_object_new_int64(enrolment_id));
	json_object_object_add(o, "day", json_object_new_string(day));
	rc = audit_append(db, author_id, "note.add", "note", nid,
			  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), now, err);
	if (rc != AT_OK)
		goto out;
	rc = db_commit(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = false;
	*id = nid;
	goto out;
db_fail:
	at_fail(err, rc, "database: %s", db_errmsg(db));
out:
	json_object_put(o);
	db_finalize(st);
	if (in_tx)
		db_rollback(db);
	return rc;
}

/* "day - name - text" with each run of line breaks and tabs as one space. */
static char *render(struct arena *a, const char *day, const char *name, const char *text)
{
	char *line = arena_printf(a, "%s - %s - %s", day, name, text);
	char *w = line;

	for (const char *r = line; *r != '\0'; r++) {
		if (*r == '\r' || *r == '\n' || *r == '\t') {
			if (w == line || w[-1] != ' ')
				*w++ = ' ';
			continue;
		}
		*w++ = *r;
	}
	while (w > line && w[-1] == ' ')
		w--;
	*w = '\0';
	return line;
}

/* Run a listing query (bound with ?1 = id, ?2 = day if day != NULL). */
static enum at_rc list(struct db *db, struct arena *a, const char *sql, int64_t id,
		       const char *day, struct progress_line **out, size_t *n)
{
	struct db_stmt *st = NULL;
	struct progress_line *v = NULL;
	size_t count = 0, cap = 0;
	bool row;
	enum at_rc rc = db_prepare(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	if (day != NULL)
		db_bind_str(st, 2, day);
	for (;;) {
		struct progress_line *l;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		if (count == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct progress_line *nv = arena_alloc(a, nc * sizeof(*nv));

			if (count > 0)
				memcpy(nv, v, count * sizeof(*nv));
			v = nv;
			cap = nc;
		}
		l = &v[count++];
		l->kind = arena_strdup(a, db_col_text(st, 0));
		l->id = db_col_i64(st, 1);
		l->enrolment_id = db_col_i64(st, 2);
		l->learner_id = db_col_i64(st, 3);
		l->day = arena_strdup(a, db_col_text(st, 4));
		l->name = arena_strdup(a, db_col_text(st, 5));
		l->author_id = db_col_i64(st, 6);
		l->author = arena_strdup(a, db_col_text(st, 7));
		l->text = arena_strdup(a, db_col_text(st, 8));
		l->created_at = db_col_i64(st, 9);
		l->line = render(a, l->day, l->name, l->text);
	}
	if (rc == AT_OK) {
		*out = v;
		*n = count;
	}
out:
	db_finalize(st);
	return rc;
}

enum at_rc progress_list(struct db *db, struct arena *a, int64_t enrolment_id,
			 struct progress_line **out, size_t *n)
{
	return list(db, a, SQL_LIST, enrolment_id, NULL, out, n);
}

enum at_rc progress_day_list(struct db *db, struct arena *a, int64_t program_id,
			     const char *day, struct progress_line **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!progress_day_ok(day))
		return AT_BADREQ;
	return list(db, a, SQL_DAY, program_id, day, out, n);
}

enum at_rc progress_missing(struct db *db, struct arena *a, int64_t program_id,
			    const char *day, struct progress_line **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!progress_day_ok(day))
		return AT_BADREQ;
	return list(db, a, SQL_MISSING, program_id, day, out, n);
}
