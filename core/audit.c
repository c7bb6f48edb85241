/* audit.c: the append-only audit log and its hash chain (see audit.h for the format). */
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "core/audit.h"

#define VERIFY_PAGE 500

static const char TAG[] = "attest-audit-v1\n";

static const char SQL_LAST[] = "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1";
static const char SQL_INSERT[] =
	"INSERT INTO audit (id, at, actor_id, action, entity, entity_id, data, prev_hash, hash)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char SQL_PAGE[] =
	"SELECT id, at, actor_id, action, entity, entity_id, data, prev_hash, hash FROM audit"
	" WHERE id > ?1 ORDER BY id LIMIT ?2";
static const char SQL_TAIL[] =
	"SELECT id, at, actor_id, action, entity, entity_id, data, prev_hash, hash FROM audit"
	" ORDER BY id DESC LIMIT ?1";

/* One netstring field: "<len>:<bytes>," — no field can run into the next. */
static void put_field(EVP_MD_CTX *c, const char *p, size_t n)
{
	char len[32];
	int k = snprintf(len, sizeof(len), "%zu:", n);

	AT_ASSERT(EVP_DigestUpdate(c, len, (size_t)k) == 1);
	if (n > 0)
		AT_ASSERT(EVP_DigestUpdate(c, p, n) == 1);
	AT_ASSERT(EVP_DigestUpdate(c, ",", 1) == 1);
}

static void put_int(EVP_MD_CTX *c, int64_t v)
{
	char s[32];
	int k = snprintf(s, sizeof(s), "%" PRId64, v);

	put_field(c, s, (size_t)k);
}

void audit_hash(const struct audit_row *r, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	AT_ASSERT(c != NULL);
	AT_ASSERT(EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1);
	AT_ASSERT(EVP_DigestUpdate(c, TAG, sizeof(TAG) - 1) == 1);
	put_int(c, r->id);
	put_field(c, r->prev_hash, strlen(r->prev_hash));
	put_int(c, r->at);
	if (r->actor_id > 0)
		put_int(c, r->actor_id);
	else
		put_field(c, "", 0);	/* the system: no decimal is empty */
	put_field(c, r->action, strlen(r->action));
	put_field(c, r->entity, strlen(r->entity));
	put_int(c, r->entity_id);
	put_field(c, r->data, strlen(r->data));
	AT_ASSERT(EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32);
	EVP_MD_CTX_free(c);
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

enum at_rc audit_append(struct db *db, int64_t actor_id, const char *action,
			const char *entity, int64_t entity_id, const char *data_json,
			int64_t now, struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct audit_row r;
	char prev[65], hash[65];
	bool row;
	enum at_rc rc;

	if (action == NULL || *action == '\0' || entity == NULL || *entity == '\0')
		return at_fail(err, AT_BADREQ, "audit: action and entity are required");
	if (data_json == NULL)
		data_json = "{}";
	if (strlen(data_json) > AUDIT_DATA_MAX)
		return at_fail(err, AT_TOOBIG, "audit: data over %d bytes", AUDIT_DATA_MAX);
	if (db_kind(db) == DB_PG) {
		/* Key "audi"; held to commit: the next appender reads our row as the head. */
		rc = db_exec(db, "SELECT pg_advisory_xact_lock(1635083369)");
		if (rc != AT_OK)
			goto fail;
	}
	memset(&r, 0, sizeof(r));
	r.id = 1;
	memcpy(prev, AUDIT_GENESIS, sizeof(prev));
	rc = db_prepare(db, SQL_LAST, &st);
	if (rc != AT_OK)
		goto fail;
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto fail;
	if (row) {
		const char *h = db_col_text(st, 1);

		r.id = db_col_i64(st, 0) + 1;
		if (h == NULL || strlen(h) != 64) {
			rc = at_fail(err, AT_INTERNAL, "audit: head row %" PRId64 " has no hash",
				     r.id - 1);
			goto out;
		}
		memcpy(prev, h, sizeof(prev));
	}
	db_finalize(st);
	st = NULL;
	r.prev_hash = prev;
	r.at = now;
	r.actor_id = actor_id > 0 ? actor_id : 0;
	r.action = action;
	r.entity = entity;
	r.entity_id = entity_id;
	r.data = data_json;
	audit_hash(&r, hash);
	rc = db_prepare(db, SQL_INSERT, &st);
	if (rc != AT_OK)
		goto fail;
	db_bind_i64(st, 1, r.id);
	db_bind_i64(st, 2, now);
	if (r.actor_id > 0)
		db_bind_i64(st, 3, r.actor_id);
	else
		db_bind_null(st, 3);
	db_bind_str(st, 4, action);
	db_bind_str(st, 5, entity);
	db_bind_i64(st, 6, entity_id);
	db_bind_str(st, 7, data_json);
	db_bind_str(st, 8, prev);
	db_bind_str(st, 9, hash);
	rc = db_run(st);
	if (rc == AT_OK)
		goto out;
fail:
	at_fail(err, rc, "audit: %s", db_errmsg(db));
out:
	db_finalize(st);
	return rc;
}

static void read_row(struct db_stmt *st, struct audit_row *r)
{
	const char *s;

	r->id = db_col_i64(st, 0);
	r->at = db_col_i64(st, 1);
	r->actor_id = db_col_null(st, 2) ? 0 : db_col_i64(st, 2);
	s = db_col_text(st, 3);
	r->action = s ? s : "";
	s = db_col_text(st, 4);
	r->entity = s ? s : "";
	r->entity_id = db_col_i64(st, 5);
	s = db_col_text(st, 6);
	r->data = s ? s : "";
	s = db_col_text(st, 7);
	r->prev_hash = s ? s : "";
	s = db_col_text(st, 8);
	r->hash = s ? s : "";
}

enum at_rc audit_verify(struct db *db, int64_t *first_bad, int64_t *count,
			struct at_err *err)
{
	struct db_stmt *st = NULL;
	struct audit_row r;
	char prev[65], want[65];
	int64_t expect = 1, n = 0, after = 0;
	size_t page;
	bool row;
	enum at_rc rc = AT_OK;

	*first_bad = 0;
	memcpy(prev, AUDIT_GENESIS, sizeof(prev));
	do {
		page = 0;
		rc = db_prepare(db, SQL_PAGE, &st);
		if (rc != AT_OK)
			goto dberr;
		db_bind_i64(st, 1, after);
		db_bind_i64(st, 2, VERIFY_PAGE);
		for (;;) {
			rc = db_step(st, &row);
			if (rc != AT_OK)
				goto dberr;
			if (!row)
				break;
			page++;
			read_row(st, &r);
			if (r.id != expect) {
				*first_bad = r.id;
				rc = at_fail(err, AT_CONFLICT, "entry %" PRId64 ": expected id %"
					     PRId64 " (a row is missing)", r.id, expect);
				goto out;
			}
			if (strcmp(r.prev_hash, prev) != 0) {
				*first_bad = r.id;
				rc = at_fail(err, AT_CONFLICT, "entry %" PRId64 ": does not link to"
					     " the previous entry", r.id);
				goto out;
			}
			audit_hash(&r, want);
			if (strcmp(r.hash, want) != 0) {
				*first_bad = r.id;
				rc = at_fail(err, AT_CONFLICT, "entry %" PRId64 ": hash mismatch"
					     " (the entry was changed)", r.id);
				goto out;
			}
			memcpy(prev, want, sizeof(prev));
			after = r.id;
			expect = r.id + 1;
			n++;
		}
		db_finalize(st);
		st = NULL;
	} while (page == VERIFY_PAGE);
	if (count != NULL)
		*count = n;
	goto out;
dberr:
	at_fail(err, rc, "audit: %s", db_errmsg(db));
out:
	db_finalize(st);
	return rc;
}

enum at_rc audit_tail(struct db *db, struct arena *a, int64_t n, struct audit_row **rows,
		      size_t *nrows)
{
	struct db_stmt *st = NULL;
	struct audit_row *v, r;
	size_t k = 0;
	bool row;
	enum at_rc rc;

	*rows = NULL;
	*nrows = 0;
	if (n <= 0)
		return AT_OK;
	if (n > 100000)
		n = 100000;
	v = arena_zalloc(a, sizeof(*v) * (size_t)n);
	rc = db_prepare(db, SQL_TAIL, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, n);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		read_row(st, &r);
		r.action = arena_strdup(a, r.action);
		r.entity = arena_strdup(a, r.entity);
		r.data = arena_strdup(a, r.data);
		r.prev_hash = arena_strdup(a, r.prev_hash);
		r.hash = arena_strdup(a, r.hash);
		v[(size_t)n - 1 - k] = r;	/* newest last */
		k++;
	}
	if (rc == AT_OK) {
		*rows = v + ((size_t)n - k);
		*nrows = k;
	}
out:
	db_finalize(st);
	return rc;
}
