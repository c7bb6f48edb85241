/* evidence.c: evidence files (content addressed, type checked by libmagic), links and notes;
 * attachment to competencies and observations; assessor review. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <magic.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/evidence.h"

#define HEAD_MAX (64 << 10)	/* bytes typed early, to refuse a bad type before it is all in */

enum up_state { UP_OPEN, UP_DONE, UP_FAILED };

struct evidence_upload {
	struct evidence_opts o;		/* strings copied into the arena */
	char *tmp_path;
	int fd;
	EVP_MD_CTX *md;
	int64_t size;
	enum up_state st;
	bool head_checked;
	size_t head_len;
	unsigned char *head;		/* the first HEAD_MAX bytes */
	char sha256[65];
	char *media_type;
	struct arena *a;
};

/* --- small checks --- */

bool evidence_type_allowed(const char *types, const char *t)
{
	size_t n = strlen(t);

	if (n == 0)
		return false;
	for (const char *p = types; *p != '\0';) {
		size_t len;

		while (*p == ' ' || *p == '\t')
			p++;
		len = strcspn(p, " \t");
		if (len == n && strncasecmp(p, t, n) == 0)
			return true;
		p += len;
	}
	return false;
}

/* Count UTF-8 code points of s[0..len); false for invalid UTF-8 or a NUL byte. */
static bool utf8_count(const char *s, size_t len, size_t *chars)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + len;
	size_t n = 0;

	while (p < e) {
		unsigned c = *p;
		size_t k;
		unsigned min;
		unsigned cp;

		if (c == 0)
			return false;
		if (c < 0x80) {
			p++;
			n++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			k = 1, min = 0x80, cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2, min = 0x800, cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3, min = 0x10000, cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(e - p) <= k)
			return false;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += k + 1;
		n++;
	}
	*chars = n;
	return true;
}

static bool blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* Valid UTF-8 text of 1..max characters, not only white space. */
static enum at_rc check_text(const char *what, const char *s, size_t max, struct at_err *err)
{
	size_t chars;

	if (s == NULL || blank(s))
		return at_fail(err, AT_BADREQ, "%s: must not be empty", what);
	if (!utf8_count(s, strlen(s), &chars))
		return at_fail(err, AT_BADREQ, "%s: not valid UTF-8 text", what);
	if (chars > max)
		return at_fail(err, AT_BADREQ, "%s: %zu characters, at most %zu are allowed", what,
			       chars, max);
	return AT_OK;
}

static enum at_rc check_url(const char *u, struct at_err *err)
{
	size_t len, scheme;
	const char *host;

	if (u == NULL || *u == '\0')
		return at_fail(err, AT_BADREQ, "url: must not be empty");
	len = strlen(u);
	if (len > EVIDENCE_URL_MAX)
		return at_fail(err, AT_BADREQ, "url: %zu bytes, at most %d are allowed", len,
			       EVIDENCE_URL_MAX);
	if (strncasecmp(u, "https://", 8) == 0)
		scheme = 8;
	else if (strncasecmp(u, "http://", 7) == 0)
		scheme = 7;
	else
		return at_fail(err, AT_BADREQ, "url: only http:// and https:// links are allowed");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c <= 0x20 || c == 0x7f)
			return at_fail(err, AT_BADREQ, "url: blank or control character at byte "
				       "%zu", i);
	}
	host = u + scheme;
	if (*host == '\0' || strchr("/?#@:", *host) != NULL)
		return at_fail(err, AT_BADREQ, "url: no host");
	return AT_OK;
}

/* The last path component of an uploaded name, without control bytes, quotes or
 * invalid UTF-8 (replaced by '_'), cut at a character boundary; "file" if nothing is left. */
static char *clean_filename(struct arena *a, const char *name)
{
	const char *base = name ? name : "";
	char *out = arena_alloc(a, EVIDENCE_FILENAME_MAX + 1);
	size_t n = 0;

	for (const char *p = base; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (const unsigned char *p = (const unsigned char *)base; *p != '\0';) {
		size_t k = 1, chars;

		if (*p >= 0xc0)
			k = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		if (*p < 0x20 || *p == 0x7f || *p == '"') {
			p++;
			continue;
		}
		if (*p >= 0x80 && !utf8_count((const char *)p, strnlen((const char *)p, k) == k ?
					      k : 1, &chars)) {
			k = 1;
			if (n + 1 > EVIDENCE_FILENAME_MAX)
				break;
			out[n++] = '_';
			p++;
			continue;
		}
		if (n + k > EVIDENCE_FILENAME_MAX)
			break;
		memcpy(out + n, p, k);
		n += k;
		p += k;
	}
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '.'))
		n--;
	out[n] = '\0';
	if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
		return arena_strdup(a, "file");
	return out;
}

char *evidence_path(struct arena *a, const char *dir, const char *sha256)
{
	if (sha256 == NULL || strlen(sha256) != 64 ||
	    strspn(sha256, "0123456789abcdef") != 64)
		return NULL;
	return arena_printf(a, "%s/%.2s/%.2s/%s", dir, sha256, sha256 + 2, sha256);
}

/* --- the upload --- */

static void upload_drop(struct evidence_upload *u)
{
	if (u->fd >= 0) {
		close(u->fd);
		u->fd = -1;
	}
	if (u->st != UP_DONE && u->tmp_path != NULL)
		unlink(u->tmp_path);
	u->tmp_path = NULL;
	EVP_MD_CTX_free(u->md);
	u->md = NULL;
	if (u->st == UP_OPEN)
		u->st = UP_FAILED;
}

static void upload_cleanup(void *ud)
{
	upload_drop(ud);
}

void evidence_upload_abort(struct evidence_upload *u)
{
	if (u != NULL)
		upload_drop(u);
}

/* mkdir -p: the evidence directory may be configured somewhere not created yet. */
static enum at_rc make_dir(const char *path, struct at_err *err)
{
	char p[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(p))
		return at_fail(err, AT_INTERNAL, "bad evidence directory");
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0750) != 0 && errno != EEXIST) {
			at_fail(err, AT_INTERNAL, "cannot create %s: %s", p, strerror(errno));
			return AT_INTERNAL;
		}
		p[i] = i == n ? '\0' : '/';
	}
	return AT_OK;
}

enum at_rc evidence_upload_begin(struct arena *a, const struct evidence_opts *o,
				 struct evidence_upload **out, struct at_err *err)
{
	struct evidence_upload *u = arena_zalloc(a, sizeof(*u));
	enum at_rc rc;
	char *tdir;

	*out = NULL;
	u->fd = -1;
	u->a = a;
	u->o.dir = arena_strdup(a, o->dir);
	u->o.types = arena_strdup(a, o->types);
	u->o.max_size = o->max_size;
	u->head = arena_alloc(a, HEAD_MAX);
	arena_on_free(a, upload_cleanup, u);
	tdir = arena_printf(a, "%s/tmp", o->dir);
	rc = make_dir(o->dir, err);
	if (rc == AT_OK)
		rc = make_dir(tdir, err);
	if (rc != AT_OK)
		goto fail;
	u->tmp_path = arena_printf(a, "%s/up-XXXXXX", tdir);
	u->fd = mkostemp(u->tmp_path, O_CLOEXEC);
	if (u->fd < 0) {
		rc = at_fail(err, AT_INTERNAL, "cannot create a file in %s: %s", tdir,
			     strerror(errno));
		u->tmp_path = NULL;
		goto fail;
	}
	u->md = EVP_MD_CTX_new();
	if (u->md == NULL || EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1) {
		rc = at_fail(err, AT_INTERNAL, "SHA-256 is not available");
		goto fail;
	}
	u->st = UP_OPEN;
	*out = u;
	return AT_OK;
fail:
	upload_drop(u);
	return rc;
}

/* Type of a buffer or a file (path != NULL) by content; from a. */
static enum at_rc sniff(struct arena *a, const void *p, size_t n, const char *path,
			char **type, struct at_err *err)
{
	magic_t m = magic_open(MAGIC_MIME_TYPE);
	const char *t = NULL;
	enum at_rc rc = AT_INTERNAL;

	if (m == NULL) {
		at_fail(err, AT_INTERNAL, "libmagic: cannot open");
		goto out;
	}
	if (magic_load(m, NULL) != 0) {
		at_fail(err, AT_INTERNAL, "libmagic: %s", magic_error(m));
		goto out;
	}
	t = path != NULL ? magic_file(m, path) : magic_buffer(m, p, n);
	if (t == NULL) {
		at_fail(err, AT_INTERNAL, "libmagic: %s", magic_error(m));
		goto out;
	}
	*type = arena_strdup(a, t);
	rc = AT_OK;
out:
	if (m != NULL)
		magic_close(m);
	return rc;
}

/* Types a prefix may show although the whole file is of an allowed, more precise type. */
static bool type_may_refine(const char *t)
{
	static const char *const vague[] = {
		"application/octet-stream", "application/zip", "text/plain",
		"application/x-empty", "application/x-ole-storage",
	};

	for (size_t i = 0; i < NELEM(vague); i++)
		if (strcmp(t, vague[i]) == 0)
			return true;
	return false;
}

static enum at_rc up_fail(struct evidence_upload *u, enum at_rc rc)
{
	upload_drop(u);
	return rc;
}

enum at_rc evidence_upload_write(struct evidence_upload *u, const void *p, size_t n,
				 struct at_err *err)
{
	const char *c = p;

	if (u->st != UP_OPEN)
		return at_fail(err, AT_BADREQ, "the upload has already failed or ended");
	if (n > (uint64_t)(u->o.max_size - u->size)) {
		at_fail(err, AT_TOOBIG, "the file is larger than the limit of %lld bytes",
			(long long)u->o.max_size);
		return up_fail(u, AT_TOOBIG);
	}
	if (EVP_DigestUpdate(u->md, p, n) != 1) {
		at_fail(err, AT_INTERNAL, "SHA-256 update failed");
		return up_fail(u, AT_INTERNAL);
	}
	if (!u->head_checked) {
		size_t k = n < HEAD_MAX - u->head_len ? n : HEAD_MAX - u->head_len;
		char *t;
		enum at_rc rc;

		memcpy(u->head + u->head_len, p, k);
		u->head_len += k;
		if (u->head_len == HEAD_MAX) {
			u->head_checked = true;
			rc = sniff(u->a, u->head, u->head_len, NULL, &t, err);
			if (rc != AT_OK)
				return up_fail(u, rc);
			if (!type_may_refine(t) && !evidence_type_allowed(u->o.types, t)) {
				at_fail(err, AT_BADREQ, "type %s is not allowed", t);
				return up_fail(u, AT_BADREQ);
			}
		}
	}
	while (n > 0) {
		ssize_t w = write(u->fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			at_fail(err, AT_INTERNAL, "cannot write the upload: %s",
				w < 0 ? strerror(errno) : "no progress");
			return up_fail(u, AT_INTERNAL);
		}
		c += w;
		n -= (size_t)w;
		u->size += w;
	}
	return AT_OK;
}

static enum at_rc sync_dir(const char *path, struct at_err *err)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return at_fail(err, AT_INTERNAL, "cannot open %s: %s", path, strerror(errno));
	r = fsync(fd);
	close(fd);
	if (r != 0)
		return at_fail(err, AT_INTERNAL, "cannot sync %s: %s", path, strerror(errno));
	return AT_OK;
}

enum at_rc evidence_upload_finish(struct evidence_upload *u, struct at_err *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char *t = NULL, *d1, *d2, *dest;
	struct stat sb;
	enum at_rc rc;

	if (u->st != UP_OPEN)
		return at_fail(err, AT_BADREQ, "the upload has already failed or ended");
	if (u->size == 0) {
		at_fail(err, AT_BADREQ, "the file is empty");
		return up_fail(u, AT_BADREQ);
	}
	if (EVP_DigestFinal_ex(u->md, md, &md_len) != 1 || md_len != 32) {
		at_fail(err, AT_INTERNAL, "SHA-256 final failed");
		return up_fail(u, AT_INTERNAL);
	}
	for (unsigned i = 0; i < md_len; i++)
		snprintf(u->sha256 + 2 * i, 3, "%02x", md[i]);
	if (fsync(u->fd) != 0) {
		at_fail(err, AT_INTERNAL, "cannot sync the upload: %s", strerror(errno));
		return up_fail(u, AT_INTERNAL);
	}
	rc = sniff(u->a, NULL, 0, u->tmp_path, &t, err);
	if (rc != AT_OK)
		return up_fail(u, rc);
	if (!evidence_type_allowed(u->o.types, t)) {
		at_fail(err, AT_BADREQ, "type %s is not allowed", t);
		return up_fail(u, AT_BADREQ);
	}
	if (fchmod(u->fd, 0640) != 0) {
		at_fail(err, AT_INTERNAL, "cannot chmod the upload: %s", strerror(errno));
		return up_fail(u, AT_INTERNAL);
	}
	d1 = arena_printf(u->a, "%s/%.2s", u->o.dir, u->sha256);
	d2 = arena_printf(u->a, "%s/%.2s", d1, u->sha256 + 2);
	dest = evidence_path(u->a, u->o.dir, u->sha256);
	rc = make_dir(d1, err);
	if (rc == AT_OK)
		rc = make_dir(d2, err);
	if (rc != AT_OK)
		return up_fail(u, rc);
	if (stat(dest, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == u->size) {
		unlink(u->tmp_path);	/* the same content is stored already */
	} else if (rename(u->tmp_path, dest) != 0) {
		at_fail(err, AT_INTERNAL, "cannot store the upload: %s", strerror(errno));
		return up_fail(u, AT_INTERNAL);
	}
	u->st = UP_DONE;
	u->media_type = t;
	upload_drop(u);		/* closes; the temporary name is gone either way */
	return sync_dir(d2, err);
}

const char *evidence_upload_sha256(const struct evidence_upload *u)
{
	return u->st == UP_DONE ? u->sha256 : NULL;
}

int64_t evidence_upload_size(const struct evidence_upload *u)
{
	return u->size;
}

const char *evidence_upload_type(const struct evidence_upload *u)
{
	return u->media_type;
}

/* --- records --- */

static const char SQL_USER[] = "SELECT 1 FROM app_user WHERE id = ?1";
static const char SQL_COMP[] = "SELECT 1 FROM competency WHERE id = ?1";
static const char SQL_OBS[] =
	"SELECT e.user_id FROM observation o JOIN enrolment e ON e.id = o.enrolment_id"
	" WHERE o.id = ?1";
static const char SQL_INSERT[] =
	"INSERT INTO evidence (learner_id, kind, sha256, size, media_type, filename, url, note,"
	" observation_id, uploaded_by, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING id";
static const char SQL_LINK_COMP[] =
	"INSERT INTO evidence_competency (evidence_id, competency_id) VALUES (?1, ?2)";

/* Does the one-parameter query sql return a row for id? (*value: its first column) */
static enum at_rc lookup(struct db *db, const char *sql, int64_t id, bool *found,
			 int64_t *value)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	*found = false;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_step(st, found);
	if (rc == AT_OK && *found && value != NULL)
		*value = db_col_i64(st, 0);
out:
	db_finalize(st);
	return rc;
}

static int cmp_i64(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

/* A kind's fields before they go in. */
struct fields {
	const char *kind, *sha256, *media_type, *filename, *url, *note;
	int64_t size;
};

static enum at_rc check_attach(struct db *db, const struct evidence_attach *at,
			       const int64_t *comps, size_t ncomps, struct at_err *err)
{
	bool found;
	int64_t owner = 0;
	enum at_rc rc;

	if (at->learner_id <= 0 || at->uploaded_by <= 0)
		return at_fail(err, AT_BADREQ, "learner_id: required");
	rc = lookup(db, SQL_USER, at->learner_id, &found, NULL);
	if (rc == AT_OK && !found)
		return at_fail(err, AT_BADREQ, "learner_id: no user %lld",
			       (long long)at->learner_id);
	if (rc == AT_OK && at->observation_id != 0) {
		rc = lookup(db, SQL_OBS, at->observation_id, &found, &owner);
		if (rc == AT_OK && !found)
			return at_fail(err, AT_BADREQ, "observation_id: no observation %lld",
				       (long long)at->observation_id);
		if (rc == AT_OK && owner != at->learner_id)
			return at_fail(err, AT_BADREQ, "observation_id: observation %lld is of "
				       "another learner", (long long)at->observation_id);
	}
	for (size_t i = 0; rc == AT_OK && i < ncomps; i++) {
		rc = lookup(db, SQL_COMP, comps[i], &found, NULL);
		if (rc == AT_OK && !found)
			return at_fail(err, AT_BADREQ, "competency_ids: no competency %lld",
				       (long long)comps[i]);
	}
	if (rc != AT_OK)
		return at_fail(err, rc, "database: %s", db_errmsg(db));
	return AT_OK;
}

static char *audit_data(struct arena *a, const struct fields *f,
			const struct evidence_attach *at, const int64_t *comps, size_t ncomps)
{
	struct json_object *o = json_object_new_object(), *c = json_object_new_array();
	char *s;

	json_object_object_add(o, "learner_id", json_object_new_int64(at->learner_id));
	json_object_object_add(o, "kind", json_object_new_string(f->kind));
	if (f->sha256[0] != '\0') {
		json_object_object_add(o, "sha256", json_object_new_string(f->sha256));
		json_object_object_add(o, "size", json_object_new_int64(f->size));
		json_object_object_add(o, "media_type", json_object_new_string(f->media_type));
	}
	if (at->observation_id != 0)
		json_object_object_add(o, "observation_id",
				       json_object_new_int64(at->observation_id));
	for (size_t i = 0; i < ncomps; i++)
		json_object_array_add(c, json_object_new_int64(comps[i]));
	json_object_object_add(o, "competency_ids", c);
	s = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* Insert the evidence, its competencies and the audit row in one transaction. */
static enum at_rc add(struct db *db, const struct fields *f, const struct evidence_attach *at,
		      int64_t now, int64_t *id, struct at_err *err)
{
	struct arena *a = arena_new();
	struct db_stmt *st = NULL;
	int64_t *comps = NULL, new_id = 0;
	size_t ncomps = 0;
	bool row, in_tx = false;
	enum at_rc rc;

	if (at->ncompetencies > EVIDENCE_MAX_COMPETENCIES) {
		rc = at_fail(err, AT_BADREQ, "competency_ids: at most %d",
			     EVIDENCE_MAX_COMPETENCIES);
		goto out;
	}
	if (at->ncompetencies > 0) {
		comps = arena_alloc(a, at->ncompetencies * sizeof(*comps));
		memcpy(comps, at->competency_ids, at->ncompetencies * sizeof(*comps));
		qsort(comps, at->ncompetencies, sizeof(*comps), cmp_i64);
		for (size_t i = 0; i < at->ncompetencies; i++)
			if (ncomps == 0 || comps[ncomps - 1] != comps[i])
				comps[ncomps++] = comps[i];
	}
	rc = db_begin(db);
	if (rc != AT_OK) {
		at_fail(err, rc, "database: %s", db_errmsg(db));
		goto out;
	}
	in_tx = true;
	rc = check_attach(db, at, comps, ncomps, err);
	if (rc != AT_OK)
		goto out;
	rc = db_prepare(db, SQL_INSERT, &st);
	if (rc != AT_OK)
		goto db_fail;
	db_bind_i64(st, 1, at->learner_id);
	db_bind_str(st, 2, f->kind);
	db_bind_str(st, 3, f->sha256);
	db_bind_i64(st, 4, f->size);
	db_bind_str(st, 5, f->media_type);
	db_bind_str(st, 6, f->filename);
	db_bind_str(st, 7, f->url);
	db_bind_str(st, 8, f->note);
	if (at->observation_id != 0)
		db_bind_i64(st, 9, at->observation_id);
	else
		db_bind_null(st, 9);
	db_bind_i64(st, 10, at->uploaded_by);
	db_bind_i64(st, 11, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_DB;
	if (rc != AT_OK)
		goto db_fail;
	new_id = db_col_i64(st, 0);
	rc = db_run(st);
	db_finalize(st);
	st = NULL;
	if (rc != AT_OK)
		goto db_fail;
	for (size_t i = 0; i < ncomps; i++) {
		rc = db_prepare(db, SQL_LINK_COMP, &st);
		if (rc != AT_OK)
			goto db_fail;
		db_bind_i64(st, 1, new_id);
		db_bind_i64(st, 2, comps[i]);
		rc = db_run(st);
		db_finalize(st);
		st = NULL;
		if (rc != AT_OK)
			goto db_fail;
	}
	rc = audit_append(db, at->uploaded_by, "evidence.add", "evidence", new_id,
			  audit_data(a, f, at, comps, ncomps), now, err);
	if (rc != AT_OK)
		goto out;
	rc = db_commit(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = false;
	*id = new_id;
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

enum at_rc evidence_add_file(struct db *db, const struct evidence_upload *u,
			     const char *filename, const struct evidence_attach *at,
			     int64_t now, int64_t *id, struct at_err *err)
{
	struct arena *a;
	struct fields f;
	enum at_rc rc;

	if (u == NULL || u->st != UP_DONE)
		return at_fail(err, AT_BADREQ, "file: the upload is not complete");
	if (at->note != NULL && at->note[0] != '\0') {
		rc = check_text("note", at->note, EVIDENCE_NOTE_MAX, err);
		if (rc != AT_OK)
			return rc;
	}
	a = arena_new();
	f.kind = "file";
	f.sha256 = u->sha256;
	f.size = u->size;
	f.media_type = u->media_type;
	f.filename = clean_filename(a, filename);
	f.url = "";
	f.note = at->note != NULL ? at->note : "";
	rc = add(db, &f, at, now, id, err);
	arena_free(a);
	return rc;
}

enum at_rc evidence_add_link(struct db *db, const char *url, const struct evidence_attach *at,
			     int64_t now, int64_t *id, struct at_err *err)
{
	struct fields f;
	enum at_rc rc = check_url(url, err);

	if (rc != AT_OK)
		return rc;
	if (at->note != NULL && at->note[0] != '\0') {
		rc = check_text("note", at->note, EVIDENCE_NOTE_MAX, err);
		if (rc != AT_OK)
			return rc;
	}
	f.kind = "link";
	f.sha256 = f.media_type = f.filename = "";
	f.size = 0;
	f.url = url;
	f.note = at->note != NULL ? at->note : "";
	return add(db, &f, at, now, id, err);
}

enum at_rc evidence_add_note(struct db *db, const struct evidence_attach *at, int64_t now,
			     int64_t *id, struct at_err *err)
{
	struct fields f;
	enum at_rc rc = check_text("note", at->note, EVIDENCE_NOTE_MAX, err);

	if (rc != AT_OK)
		return rc;
	f.kind = "note";
	f.sha256 = f.media_type = f.filename = f.url = "";
	f.size = 0;
	f.note = at->note;
	return add(db, &f, at, now, id, err);
}

static const char SQL_REVIEW_GET[] =
	"SELECT learner_id, uploaded_by, status FROM evidence WHERE id = ?1";
static const char SQL_REVIEW[] =
	"UPDATE evidence SET status = ?2, reviewer_id = ?3, review_comment = ?4,"
	" reviewed_at = ?5 WHERE id = ?1 AND status = 'pending'";

enum at_rc evidence_review(struct db *db, int64_t id, int64_t reviewer_id, bool accept,
			   const char *comment, int64_t now, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct json_object *o = NULL;
	bool row, in_tx = false;
	enum at_rc rc;

	if (comment == NULL)
		comment = "";
	if (!accept || comment[0] != '\0') {
		rc = check_text("comment", comment, EVIDENCE_COMMENT_MAX, err);
		if (rc != AT_OK) {
			if (!accept && (comment[0] == '\0' || blank(comment)))
				at_fail(err, AT_BADREQ,
					"comment: required when rejecting evidence");
			return rc;
		}
	}
	rc = db_begin(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = true;
	rc = db_prepare(db, SQL_REVIEW_GET, &st);
	if (rc != AT_OK)
		goto db_fail;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto db_fail;
	if (!row) {
		rc = at_fail(err, AT_NOTFOUND, "no evidence %lld", (long long)id);
		goto out;
	}
	if (db_col_i64(st, 0) == reviewer_id || db_col_i64(st, 1) == reviewer_id) {
		rc = at_fail(err, AT_FORBIDDEN, "evidence cannot be reviewed by its learner or "
			     "uploader");
		goto out;
	}
	if (strcmp(db_col_text(st, 2), "pending") != 0) {
		rc = at_fail(err, AT_CONFLICT, "evidence %lld is already %s", (long long)id,
			     db_col_text(st, 2));
		goto out;
	}
	db_finalize(st);
	rc = db_prepare(db, SQL_REVIEW, &st);
	if (rc != AT_OK)
		goto db_fail;
	db_bind_i64(st, 1, id);
	db_bind_str(st, 2, accept ? "accepted" : "rejected");
	db_bind_i64(st, 3, reviewer_id);
	db_bind_str(st, 4, comment);
	db_bind_i64(st, 5, now);
	rc = db_run(st);
	if (rc != AT_OK)
		goto db_fail;
	if (db_changes(st) != 1) {
		rc = at_fail(err, AT_CONFLICT, "evidence %lld was reviewed meanwhile",
			     (long long)id);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(accept ? "accepted" :
								   "rejected"));
	json_object_object_add(o, "comment", json_object_new_string(comment));
	rc = audit_append(db, reviewer_id, "evidence.review", "evidence", id,
			  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), now, err);
	if (rc != AT_OK)
		goto out;
	rc = db_commit(db);
	if (rc != AT_OK)
		goto db_fail;
	in_tx = false;
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

#define COLS "id, learner_id, kind, sha256, size, media_type, filename, url, note," \
	" COALESCE(observation_id, 0), uploaded_by, status, COALESCE(reviewer_id, 0)," \
	" review_comment, COALESCE(reviewed_at, 0), created_at"
static const char SQL_GET[] = "SELECT " COLS " FROM evidence WHERE id = ?1";
static const char SQL_LIST[] =
	"SELECT " COLS " FROM evidence WHERE learner_id = ?1 ORDER BY created_at DESC, id DESC";
static const char SQL_COMPS[] =
	"SELECT competency_id FROM evidence_competency WHERE evidence_id = ?1"
	" ORDER BY competency_id";
static const char SQL_LIST_COMPS[] =
	"SELECT ec.evidence_id, ec.competency_id FROM evidence_competency ec"
	" JOIN evidence e ON e.id = ec.evidence_id WHERE e.learner_id = ?1"
	" ORDER BY ec.evidence_id, ec.competency_id";
#undef COLS

static void read_row(struct db_stmt *st, struct arena *a, struct evidence *e)
{
	memset(e, 0, sizeof(*e));
	e->id = db_col_i64(st, 0);
	e->learner_id = db_col_i64(st, 1);
	e->kind = arena_strdup(a, db_col_text(st, 2));
	e->sha256 = arena_strdup(a, db_col_text(st, 3));
	e->size = db_col_i64(st, 4);
	e->media_type = arena_strdup(a, db_col_text(st, 5));
	e->filename = arena_strdup(a, db_col_text(st, 6));
	e->url = arena_strdup(a, db_col_text(st, 7));
	e->note = arena_strdup(a, db_col_text(st, 8));
	e->observation_id = db_col_i64(st, 9);
	e->uploaded_by = db_col_i64(st, 10);
	e->status = arena_strdup(a, db_col_text(st, 11));
	e->reviewer_id = db_col_i64(st, 12);
	e->review_comment = arena_strdup(a, db_col_text(st, 13));
	e->reviewed_at = db_col_i64(st, 14);
	e->created_at = db_col_i64(st, 15);
}

/* Append v to the arena array *arr of *n elements (capacity doubles; old copies stay in
 * the arena until it is freed). */
static void push_i64(struct arena *a, int64_t **arr, size_t *n, size_t *cap, int64_t v)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 4;
		int64_t *na = arena_alloc(a, nc * sizeof(*na));

		if (*n > 0)
			memcpy(na, *arr, *n * sizeof(*na));
		*arr = na;
		*cap = nc;
	}
	(*arr)[(*n)++] = v;
}

enum at_rc evidence_get(struct db *db, struct arena *a, int64_t id, struct evidence *out)
{
	struct db_stmt *st = NULL;
	bool row;
	size_t cap = 0;
	enum at_rc rc = db_prepare(db, SQL_GET, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc != AT_OK)
		goto out;
	read_row(st, a, out);
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_COMPS, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		push_i64(a, &out->competency_ids, &out->ncompetencies, &cap, db_col_i64(st, 0));
	}
out:
	db_finalize(st);
	return rc;
}

enum at_rc evidence_list(struct db *db, struct arena *a, int64_t learner_id,
			 struct evidence **out, size_t *n)
{
	struct db_stmt *st = NULL;
	struct evidence *list = NULL;
	size_t cap = 0, count = 0, *ccap = NULL;
	bool row;
	enum at_rc rc = db_prepare(db, SQL_LIST, &st);

	*out = NULL;
	*n = 0;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, learner_id);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		if (count == cap) {
			size_t nc = cap ? cap * 2 : 16;
			struct evidence *nl = arena_alloc(a, nc * sizeof(*nl));

			if (count > 0)
				memcpy(nl, list, count * sizeof(*nl));
			list = nl;
			cap = nc;
		}
		read_row(st, a, &list[count++]);
	}
	if (rc != AT_OK)
		goto out;
	db_finalize(st);
	st = NULL;
	ccap = arena_zalloc(a, (count ? count : 1) * sizeof(*ccap));
	rc = db_prepare(db, SQL_LIST_COMPS, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, learner_id);
	for (;;) {
		int64_t eid;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		eid = db_col_i64(st, 0);
		for (size_t i = 0; i < count; i++)
			if (list[i].id == eid) {
				push_i64(a, &list[i].competency_ids, &list[i].ncompetencies,
					 &ccap[i], db_col_i64(st, 1));
				break;
			}
	}
	if (rc != AT_OK)
		goto out;
	*out = list;
	*n = count;
out:
	db_finalize(st);
	return rc;
}

enum at_rc evidence_open(struct db *db, struct arena *a, const struct evidence_opts *o,
			 int64_t id, struct evidence_file *out, struct at_err *err)
{
	struct evidence e;
	struct stat sb;
	char *path;
	enum at_rc rc = evidence_get(db, a, id, &e);

	if (rc == AT_NOTFOUND)
		return at_fail(err, rc, "no evidence %lld", (long long)id);
	if (rc != AT_OK)
		return at_fail(err, rc, "database: %s", db_errmsg(db));
	if (strcmp(e.kind, "file") != 0)
		return at_fail(err, AT_NOTFOUND, "evidence %lld is a %s, not a file",
			       (long long)id, e.kind);
	path = evidence_path(a, o->dir, e.sha256);
	if (path == NULL)
		return at_fail(err, AT_INTERNAL, "evidence %lld has a malformed hash",
			       (long long)id);
	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return at_fail(err, AT_NOTFOUND, "the file of evidence %lld is missing",
			       (long long)id);
	if ((int64_t)sb.st_size != e.size)
		return at_fail(err, AT_INTERNAL, "the file of evidence %lld has %lld bytes, "
			       "%lld were stored", (long long)id, (long long)sb.st_size,
			       (long long)e.size);
	out->path = path;
	out->media_type = e.media_type;
	out->size = e.size;
	out->filename = e.filename[0] != '\0' ? e.filename : "file";
	return AT_OK;
}
