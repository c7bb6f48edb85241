/* test_evidence.c: evidence files (hash, dedupe, size cap, type by content), links, notes,
 * attachment checks, review, listing and download info, on SQLite and PostgreSQL
 * (ATTEST_TEST_PG, each test in its own schema). Fixture files: tests/fixtures/evidence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/buf.h"
#include "core/evidence.h"
#include "core/token.h"
#include "fcgi/multipart.h"
#include "tests/unit/support/testdb.h"

#define FIX "tests/fixtures/evidence/"
#define TYPES "image/jpeg image/png image/webp image/heic video/mp4 video/quicktime " \
	"video/webm application/pdf text/plain " \
	"application/vnd.openxmlformats-officedocument.wordprocessingml.document " \
	"application/vnd.oasis.opendocument.text"

/* ids the fixture rows get in a fresh database */
enum { LEARNER = 1, ASSESSOR = 2, OTHER = 3, COMP1 = 1, COMP2 = 2, OBS_MINE = 1,
       OBS_OTHER = 2 };

struct fx {
	struct testdb t;
	struct db *db;		/* t.db, borrowed */
	char dir[128];
	struct arena *a;
	struct evidence_opts o;
};

static const char SEED[] =
	TESTDB_PLATFORM_SQL
	"INSERT INTO app_user (platform_id, sub, name, created_at, updated_at) VALUES"
	" (1, 'l', 'Lee Learner', 1, 1), (1, 'a', 'Ann Assessor', 1, 1),"
	" (1, 'o', 'Otto Other', 1, 1);"
	"INSERT INTO framework (idnumber, shortname, scale, created_at, updated_at)"
	" VALUES ('F', 'F', '[]', 1, 1);"
	"INSERT INTO competency (framework_id, idnumber, shortname) VALUES"
	" (1, 'C1', 'Greets'), (1, 'C2', 'Closes');"
	"INSERT INTO program (key, title, definition, created_at, updated_at)"
	" VALUES ('p', 'P', '{}', 1, 1);"
	"INSERT INTO checklist (program_id, key, title, definition) VALUES (1, 'c', 'C', '{}');"
	"INSERT INTO enrolment (program_id, user_id, started_at) VALUES (1, 1, 1), (1, 3, 1);"
	"INSERT INTO observation (enrolment_id, checklist_id, assessor_id, observed_at,"
	" created_at, updated_at) VALUES (1, 1, 2, 1, 1, 1), (2, 1, 2, 1, 1, 1);";

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void rm_rf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state, int pg)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_int_equal(testdb_open(&f->t, "evidence", pg), 0);
	f->db = f->t.db;
	assert_int_equal(db_exec(f->db, SEED), AT_OK);
	snprintf(f->dir, sizeof(f->dir), "/tmp/attest-evdir-%d-%d", (int)getpid(),
		 f->t.serial);
	rm_rf(f->dir);
	f->o.dir = f->dir;
	f->o.max_size = 1 << 20;
	f->o.types = TYPES;
	f->a = arena_new();
	*state = f;
	return 0;
}

static int setup_sqlite(void **state) { return setup(state, 0); }
static int setup_pg(void **state) { return setup(state, 1); }

static int teardown(void **state)
{
	struct fx *f = *state;

	arena_free(f->a);
	rm_rf(f->dir);
	testdb_close(&f->t);
	free(f);
	return 0;
}

/* The fixture file name, read whole into the arena. */
static char *slurp(struct arena *a, const char *name, size_t *len)
{
	char path[256];
	FILE *fp;
	char *p;
	long n;

	snprintf(path, sizeof(path), FIX "%s", name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	p = arena_alloc(a, (size_t)n + 1);
	assert_int_equal(fread(p, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	*len = (size_t)n;
	return p;
}

/* Stream p[0..len) in chunks of `chunk` bytes; the rc of the first failure or finish. */
static enum at_rc upload(struct fx *f, struct arena *a, const char *p, size_t len,
			 size_t chunk, struct evidence_upload **u, struct at_err *err)
{
	enum at_rc rc = evidence_upload_begin(a, &f->o, u, err);

	for (size_t off = 0; rc == AT_OK && off < len; off += chunk)
		rc = evidence_upload_write(*u, p + off, len - off < chunk ? len - off : chunk, err);
	if (rc == AT_OK)
		rc = evidence_upload_finish(*u, err);
	return rc;
}

static int count_files(const char *dir)
{
	char cmd[300];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -type f | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static int count_tmp(const struct fx *f)
{
	char d[200];

	snprintf(d, sizeof(d), "%s/tmp", f->dir);
	return count_files(d);
}

static void test_store_files(void **state)
{
	static const struct {
		const char *file, *type;
		size_t chunk;
	} cases[] = {
		{ "photo.png", "image/png", 7 },
		{ "report.pdf", "application/pdf", 1 },
		{ "photo-real.jpg", "image/jpeg", 4096 },
		{ "notes.txt", "text/plain", 10 },
	};
	struct fx *f = *state;
	struct at_err err = { "" };

	for (size_t i = 0; i < NELEM(cases); i++) {
		size_t len;
		char *p = slurp(f->a, cases[i].file, &len);
		struct evidence_upload *u;
		struct evidence e;
		struct stat sb;
		const int64_t comps[] = { COMP2, COMP1, COMP2 };
		struct evidence_attach at = { LEARNER, LEARNER, OBS_MINE, comps, 3, "my call" };
		int64_t id = 0;
		char *want = token_sha256_hex(f->a, p, len), *path, *d;

		if (upload(f, f->a, p, len, cases[i].chunk, &u, &err) != AT_OK)
			fail_msg("%s: %s", cases[i].file, err.msg);
		assert_string_equal(evidence_upload_sha256(u), want);
		assert_string_equal(evidence_upload_type(u), cases[i].type);
		assert_int_equal(evidence_upload_size(u), len);
		path = evidence_path(f->a, f->dir, want);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0640);
		assert_int_equal(sb.st_size, len);
		d = arena_printf(f->a, "%s/%.2s/%.2s", f->dir, want, want + 2);
		assert_int_equal(stat(d, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0750 & ~0022u);
		assert_int_equal(count_tmp(f), 0);
		assert_int_equal(evidence_add_file(f->db, u, "../../etc/\x01x\"y.bin", &at, 100,
						   &id, &err), AT_OK);
		assert_int_equal(evidence_get(f->db, f->a, id, &e), AT_OK);
		assert_string_equal(e.kind, "file");
		assert_string_equal(e.sha256, want);
		assert_string_equal(e.media_type, cases[i].type);
		assert_string_equal(e.filename, "xy.bin");	/* never trusted, only kept */
		assert_string_equal(e.status, "pending");
		assert_string_equal(e.note, "my call");
		assert_int_equal(e.observation_id, OBS_MINE);
		assert_int_equal(e.ncompetencies, 2);
		assert_int_equal(e.competency_ids[0], COMP1);
		assert_int_equal(e.competency_ids[1], COMP2);
	}
}

/* The same content twice: two records, one file. */
static void test_dedupe(void **state)
{
	struct fx *f = *state;
	struct at_err err = { "" };
	size_t len;
	char *p = slurp(f->a, "photo.png", &len);
	struct evidence_upload *u1, *u2;
	struct evidence_attach at = { LEARNER, LEARNER, 0, NULL, 0, NULL };
	struct evidence_attach at2 = { OTHER, OTHER, 0, NULL, 0, NULL };
	int64_t id1, id2;

	assert_int_equal(upload(f, f->a, p, len, 13, &u1, &err), AT_OK);
	assert_int_equal(evidence_add_file(f->db, u1, "a.png", &at, 1, &id1, &err), AT_OK);
	assert_int_equal(upload(f, f->a, p, len, 50, &u2, &err), AT_OK);
	assert_int_equal(evidence_add_file(f->db, u2, "b.png", &at2, 2, &id2, &err), AT_OK);
	assert_int_not_equal(id1, id2);
	assert_string_equal(evidence_upload_sha256(u1), evidence_upload_sha256(u2));
	assert_int_equal(count_files(f->dir), 1);
}

static void test_too_big(void **state)
{
	struct fx *f = *state;
	struct at_err err = { "" };
	size_t len;
	char *p = slurp(f->a, "photo.png", &len);
	struct evidence_upload *u;

	f->o.max_size = 50;
	assert_int_equal(upload(f, f->a, p, len, 10, &u, &err), AT_TOOBIG);
	assert_non_null(strstr(err.msg, "limit of 50 bytes"));
	assert_int_equal(count_tmp(f), 0);
	assert_int_equal(count_files(f->dir), 0);
	/* the upload is dead: no more writes, no finish, no record */
	assert_int_equal(evidence_upload_write(u, "x", 1, &err), AT_BADREQ);
	assert_int_equal(evidence_upload_finish(u, &err), AT_BADREQ);
	assert_null(evidence_upload_sha256(u));
	/* exactly at the limit is fine */
	f->o.max_size = (int64_t)len;
	assert_int_equal(upload(f, f->a, p, len, 10, &u, &err), AT_OK);
}

/* The content decides: a script named photo.jpg, an AVI, an empty file are refused. */
static void test_type_by_content(void **state)
{
	struct fx *f = *state;
	struct at_err err = { "" };
	size_t len;
	char *p;
	struct evidence_upload *u;
	struct evidence_attach at = { LEARNER, LEARNER, 0, NULL, 0, NULL };
	int64_t id = 0;
	char *big;

	p = slurp(f->a, "photo.jpg", &len);
	assert_int_equal(upload(f, f->a, p, len, 8, &u, &err), AT_BADREQ);
	assert_string_equal(err.msg, "type text/x-shellscript is not allowed");
	assert_int_equal(evidence_add_file(f->db, u, "photo.jpg", &at, 1, &id, &err),
			 AT_BADREQ);
	p = slurp(f->a, "clip.avi", &len);
	assert_int_equal(upload(f, f->a, p, len, 8, &u, &err), AT_BADREQ);
	assert_string_equal(err.msg, "type video/x-msvideo is not allowed");
	/* a long AVI is refused from its first 64 KiB, before the rest arrives */
	big = arena_alloc(f->a, 200 << 10);
	memset(big, 0, 200 << 10);
	memcpy(big, p, len);
	assert_int_equal(evidence_upload_begin(f->a, &f->o, &u, &err), AT_OK);
	assert_int_equal(evidence_upload_write(u, big, 60 << 10, &err), AT_OK);
	assert_int_equal(evidence_upload_write(u, big + (60 << 10), 60 << 10, &err),
			 AT_BADREQ);
	assert_string_equal(err.msg, "type video/x-msvideo is not allowed");
	assert_int_equal(evidence_upload_write(u, big, 10, &err), AT_BADREQ);
	/* empty */
	assert_int_equal(upload(f, f->a, "", 0, 1, &u, &err), AT_BADREQ);
	assert_string_equal(err.msg, "the file is empty");
	/* PNG refused when the allow-list lacks it */
	f->o.types = "application/pdf";
	p = slurp(f->a, "photo.png", &len);
	assert_int_equal(upload(f, f->a, p, len, 8, &u, &err), AT_BADREQ);
	assert_string_equal(err.msg, "type image/png is not allowed");
	assert_int_equal(count_files(f->dir), 0);
	assert_true(evidence_type_allowed(TYPES, "IMAGE/PNG"));
	assert_false(evidence_type_allowed(TYPES, "image/pn"));
	assert_false(evidence_type_allowed(TYPES, ""));
}

/* Freeing the request's arena mid-upload (the client went away) leaves no temp file. */
static void test_abort(void **state)
{
	struct fx *f = *state;
	struct at_err err = { "" };
	struct arena *a = arena_new();
	struct evidence_upload *u;

	assert_int_equal(evidence_upload_begin(a, &f->o, &u, &err), AT_OK);
	assert_int_equal(evidence_upload_write(u, "%PDF-1.4\n", 9, &err), AT_OK);
	assert_int_equal(count_tmp(f), 1);
	arena_free(a);
	assert_int_equal(count_tmp(f), 0);
	a = arena_new();
	assert_int_equal(evidence_upload_begin(a, &f->o, &u, &err), AT_OK);
	evidence_upload_abort(u);
	evidence_upload_abort(NULL);
	assert_int_equal(count_tmp(f), 0);
	arena_free(a);
}

static void test_links_notes(void **state)
{
	static const struct {
		const char *url;
		enum at_rc want;
	} links[] = {
		{ "https://example.org/video?id=1#t=3", AT_OK },
		{ "http://intranet.local/x", AT_OK },
		{ "HTTPS://EXAMPLE.ORG", AT_OK },
		{ "ftp://example.org/x", AT_BADREQ },
		{ "javascript:alert(1)", AT_BADREQ },
		{ "data:text/html,hi", AT_BADREQ },
		{ "https://", AT_BADREQ },
		{ "https:///path", AT_BADREQ },
		{ "https://exa mple.org", AT_BADREQ },
		{ "https://example.org/\r\nX: y", AT_BADREQ },
		{ "", AT_BADREQ },
		{ "example.org", AT_BADREQ },
	};
	struct fx *f = *state;
	struct at_err err = { "" };
	struct evidence_attach at = { LEARNER, LEARNER, 0, NULL, 0, NULL };
	struct evidence e;
	int64_t id;
	char *u, *n;
	size_t i;

	for (i = 0; i < NELEM(links); i++)
		if (evidence_add_link(f->db, links[i].url, &at, 1, &id, &err) != links[i].want)
			fail_msg("link '%s': %s", links[i].url, err.msg);
	assert_int_equal(evidence_get(f->db, f->a, id, &e), AT_OK);
	u = arena_alloc(f->a, EVIDENCE_URL_MAX + 2);
	memcpy(u, "https://x.org/", 14);
	memset(u + 14, 'a', EVIDENCE_URL_MAX - 14);
	u[EVIDENCE_URL_MAX] = '\0';
	assert_int_equal(evidence_add_link(f->db, u, &at, 1, &id, &err), AT_OK);
	assert_int_equal(evidence_get(f->db, f->a, id, &e), AT_OK);
	assert_string_equal(e.kind, "link");
	assert_int_equal(strlen(e.url), EVIDENCE_URL_MAX);
	u[EVIDENCE_URL_MAX] = 'a';
	u[EVIDENCE_URL_MAX + 1] = '\0';
	assert_int_equal(evidence_add_link(f->db, u, &at, 1, &id, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "url:"));

	/* notes: 20000 characters, counted as characters (é is 2 bytes) */
	n = arena_alloc(f->a, 2 * EVIDENCE_NOTE_MAX + 3);
	for (i = 0; i < EVIDENCE_NOTE_MAX; i++)
		memcpy(n + 2 * i, "\xc3\xa9", 2);
	n[2 * i] = '\0';
	at.note = n;
	assert_int_equal(evidence_add_note(f->db, &at, 2, &id, &err), AT_OK);
	assert_int_equal(evidence_get(f->db, f->a, id, &e), AT_OK);
	assert_string_equal(e.kind, "note");
	assert_int_equal(strlen(e.note), 2 * EVIDENCE_NOTE_MAX);
	memcpy(n + 2 * i, "x", 2);
	assert_int_equal(evidence_add_note(f->db, &at, 2, &id, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "20001 characters"));
	at.note = "";
	assert_int_equal(evidence_add_note(f->db, &at, 2, &id, &err), AT_BADREQ);
	at.note = " \n\t ";
	assert_int_equal(evidence_add_note(f->db, &at, 2, &id, &err), AT_BADREQ);
	at.note = NULL;
	assert_int_equal(evidence_add_note(f->db, &at, 2, &id, &err), AT_BADREQ);
	at.note = "bad \xff utf-8";
	assert_int_equal(evidence_add_note(f->db, &at, 2, &id, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "UTF-8"));
	at.note = "overlong \xc0\xaf";
	assert_int_equal(evidence_add_note(f->db, &at, 2, &id, &err), AT_BADREQ);
	at.note = "Handled an angry caller calmly <b>";
	assert_int_equal(evidence_add_note(f->db, &at, 2, &id, &err), AT_OK);
}

/* Bad attachments store nothing. */
static void test_attach_checks(void **state)
{
	struct fx *f = *state;
	struct at_err err = { "" };
	const int64_t bad_comp[] = { COMP1, 999 };
	struct evidence_attach at = { LEARNER, LEARNER, 0, NULL, 0, "n" };
	struct evidence *list;
	size_t n;
	int64_t id;

	at.learner_id = 999;
	assert_int_equal(evidence_add_note(f->db, &at, 1, &id, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "learner_id"));
	at.learner_id = LEARNER;
	at.competency_ids = bad_comp;
	at.ncompetencies = 2;
	assert_int_equal(evidence_add_note(f->db, &at, 1, &id, &err), AT_BADREQ);
	assert_string_equal(err.msg, "competency_ids: no competency 999");
	at.ncompetencies = 1;
	at.observation_id = OBS_OTHER;
	assert_int_equal(evidence_add_note(f->db, &at, 1, &id, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "another learner"));
	at.observation_id = 999;
	assert_int_equal(evidence_add_note(f->db, &at, 1, &id, &err), AT_BADREQ);
	assert_int_equal(evidence_list(f->db, f->a, LEARNER, &list, &n), AT_OK);
	assert_int_equal(n, 0);
	at.observation_id = OBS_MINE;
	assert_int_equal(evidence_add_note(f->db, &at, 1, &id, &err), AT_OK);
	/* a file never finished cannot be recorded */
	assert_int_equal(evidence_add_file(f->db, NULL, "x", &at, 1, &id, &err), AT_BADREQ);
}

static void test_review(void **state)
{
	struct fx *f = *state;
	struct at_err err = { "" };
	struct evidence_attach at = { LEARNER, LEARNER, 0, NULL, 0, "Closed the call well" };
	struct evidence e;
	struct audit_row *rows;
	size_t nrows;
	int64_t id1, id2, bad, count;

	assert_int_equal(evidence_add_note(f->db, &at, 10, &id1, &err), AT_OK);
	assert_int_equal(evidence_add_note(f->db, &at, 11, &id2, &err), AT_OK);
	/* a rejection needs a comment */
	assert_int_equal(evidence_review(f->db, id1, ASSESSOR, false, "", 20, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "required when rejecting"));
	assert_int_equal(evidence_review(f->db, id1, ASSESSOR, false, "  ", 20, &err),
			 AT_BADREQ);
	assert_int_equal(evidence_review(f->db, id1, ASSESSOR, false, NULL, 20, &err),
			 AT_BADREQ);
	/* not by the learner */
	assert_int_equal(evidence_review(f->db, id1, LEARNER, true, "", 20, &err), AT_FORBIDDEN);
	assert_int_equal(evidence_review(f->db, 999, ASSESSOR, true, "", 20, &err), AT_NOTFOUND);
	assert_int_equal(evidence_review(f->db, id1, ASSESSOR, true, "", 20, &err), AT_OK);
	assert_int_equal(evidence_review(f->db, id1, ASSESSOR, false, "no", 21, &err),
			 AT_CONFLICT);
	assert_int_equal(evidence_review(f->db, id2, ASSESSOR, false, "Not your own call", 22,
					 &err), AT_OK);
	assert_int_equal(evidence_get(f->db, f->a, id1, &e), AT_OK);
	assert_string_equal(e.status, "accepted");
	assert_int_equal(e.reviewer_id, ASSESSOR);
	assert_int_equal(e.reviewed_at, 20);
	assert_int_equal(evidence_get(f->db, f->a, id2, &e), AT_OK);
	assert_string_equal(e.status, "rejected");
	assert_string_equal(e.review_comment, "Not your own call");
	/* two adds and two reviews are audited, and the chain holds */
	assert_int_equal(audit_verify(f->db, &bad, &count, &err), AT_OK);
	assert_int_equal(count, 4);
	assert_int_equal(audit_tail(f->db, f->a, 1, &rows, &nrows), AT_OK);
	assert_int_equal(nrows, 1);
	assert_string_equal(rows[0].action, "evidence.review");
	assert_int_equal(rows[0].entity_id, id2);
	assert_int_equal(rows[0].actor_id, ASSESSOR);
}

static void test_list_and_open(void **state)
{
	struct fx *f = *state;
	struct at_err err = { "" };
	size_t len, n;
	char *p = slurp(f->a, "report.pdf", &len);
	const int64_t comps[] = { COMP1 };
	struct evidence_attach at = { LEARNER, LEARNER, 0, comps, 1, NULL };
	struct evidence_upload *u;
	struct evidence *list;
	struct evidence_file ef;
	int64_t fid, nid;

	assert_int_equal(upload(f, f->a, p, len, 64, &u, &err), AT_OK);
	assert_int_equal(evidence_add_file(f->db, u, "Report (final).pdf", &at, 5, &fid, &err),
			 AT_OK);
	at.note = "a note";
	at.ncompetencies = 0;
	assert_int_equal(evidence_add_note(f->db, &at, 6, &nid, &err), AT_OK);
	assert_int_equal(evidence_list(f->db, f->a, LEARNER, &list, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(list[0].id, nid);	/* newest first */
	assert_int_equal(list[0].ncompetencies, 0);
	assert_int_equal(list[1].id, fid);
	assert_int_equal(list[1].ncompetencies, 1);
	assert_int_equal(list[1].competency_ids[0], COMP1);
	assert_int_equal(evidence_list(f->db, f->a, OTHER, &list, &n), AT_OK);
	assert_int_equal(n, 0);

	assert_int_equal(evidence_open(f->db, f->a, &f->o, fid, &ef, &err), AT_OK);
	assert_string_equal(ef.media_type, "application/pdf");
	assert_int_equal(ef.size, len);
	assert_string_equal(ef.filename, "Report (final).pdf");
	assert_string_equal(ef.path, evidence_path(f->a, f->dir, evidence_upload_sha256(u)));
	assert_int_equal(access(ef.path, R_OK), 0);
	assert_int_equal(evidence_open(f->db, f->a, &f->o, nid, &ef, &err), AT_NOTFOUND);
	assert_int_equal(evidence_open(f->db, f->a, &f->o, 999, &ef, &err), AT_NOTFOUND);
	assert_int_equal(unlink(evidence_path(f->a, f->dir, evidence_upload_sha256(u))), 0);
	assert_int_equal(evidence_open(f->db, f->a, &f->o, fid, &ef, &err), AT_NOTFOUND);
	assert_non_null(strstr(err.msg, "missing"));
	assert_null(evidence_path(f->a, f->dir, "../etc/passwd"));
}

/* --- a multipart upload streamed into storage, as the HTTP layer will do it --- */

struct sink {
	struct fx *f;
	struct arena *a;
	struct evidence_upload *u;
	char *filename;
	int files;
};

static enum at_rc s_part(void *ud, const struct multipart_part *p, struct at_err *err)
{
	struct sink *s = ud;

	if (p->filename == NULL)
		return AT_OK;
	s->files++;
	s->filename = arena_strdup(s->a, p->filename);
	return evidence_upload_begin(s->a, &s->f->o, &s->u, err);
}

static enum at_rc s_data(void *ud, const char *p, size_t n, struct at_err *err)
{
	struct sink *s = ud;

	return s->u != NULL ? evidence_upload_write(s->u, p, n, err) : AT_OK;
}

static enum at_rc s_end(void *ud, struct at_err *err)
{
	struct sink *s = ud;
	enum at_rc rc = AT_OK;

	if (s->u != NULL)
		rc = evidence_upload_finish(s->u, err);
	return rc;
}

static enum at_rc feed_multipart(struct sink *s, const char *file, size_t chunk,
				 struct at_err *err)
{
	struct multipart_cb cb = { s_part, s_data, s_end, s };
	struct multipart *m;
	struct buf body;
	size_t len;
	char *p = slurp(s->a, file, &len);
	enum at_rc rc;

	buf_init(&body, 1 << 20);
	buf_printf(&body, "--xYz\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhi\r\n"
		   "--xYz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
		   "Content-Type: image/jpeg\r\n\r\n", file);
	buf_append(&body, p, len);
	buf_puts(&body, "\r\n--xYz--\r\n");
	rc = multipart_new(s->a, "multipart/form-data; boundary=\"xYz\"", &cb, &m, err);
	for (size_t off = 0; rc == AT_OK && off < body.len; off += chunk)
		rc = multipart_feed(m, body.data + off, body.len - off < chunk ? body.len - off :
				    chunk, err);
	if (rc == AT_OK)
		rc = multipart_finish(m, err);
	buf_cleanup(&body);
	return rc;
}

static void test_multipart_upload(void **state)
{
	struct fx *f = *state;
	struct at_err err = { "" };
	struct sink s = { f, f->a, NULL, NULL, 0 };
	struct evidence_attach at = { LEARNER, LEARNER, 0, NULL, 0, NULL };
	struct evidence e;
	int64_t id;

	assert_int_equal(feed_multipart(&s, "photo.png", 5, &err), AT_OK);
	assert_int_equal(s.files, 1);
	assert_string_equal(evidence_upload_type(s.u), "image/png");	/* not image/jpeg */
	assert_int_equal(evidence_add_file(f->db, s.u, s.filename, &at, 1, &id, &err), AT_OK);
	assert_int_equal(evidence_get(f->db, f->a, id, &e), AT_OK);
	assert_string_equal(e.filename, "photo.png");
	/* the script is refused through the same path, with the message of the store */
	memset(&s, 0, sizeof(s));
	s.f = f;
	s.a = f->a;
	assert_int_equal(feed_multipart(&s, "photo.jpg", 3, &err), AT_BADREQ);
	assert_string_equal(err.msg, "type text/x-shellscript is not allowed");
	assert_int_equal(count_tmp(f), 0);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_store_files), SQ(test_dedupe), SQ(test_too_big), SQ(test_type_by_content),
		SQ(test_abort), SQ(test_links_notes), SQ(test_attach_checks), SQ(test_review),
		SQ(test_list_and_open), SQ(test_multipart_upload),
	};
	const struct CMUnitTest pg[] = {
		PG(test_store_files), PG(test_dedupe), PG(test_too_big), PG(test_type_by_content),
		PG(test_abort), PG(test_links_notes), PG(test_attach_checks), PG(test_review),
		PG(test_list_and_open), PG(test_multipart_upload),
	};
	int rc;

	umask(022);
	rc = cmocka_run_group_tests_name("evidence_sqlite", sqlite, NULL, NULL);
	if (testdb_pg_url() == NULL) {
		printf("[  SKIPPED ] evidence_postgresql: ATTEST_TEST_PG is not set\n");
		return rc;
	}
	return rc + cmocka_run_group_tests_name("evidence_postgresql", pg, NULL, NULL);
}
