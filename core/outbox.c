/* outbox.c: the durable queue of outbound LMS writes (core/outbox.h).
 *
 * Claim: one UPDATE that leases up to max due items. An item is due when it is pending,
 * next_at_ms has come, its lease is free or ran out, and no older item of its order_key is
 * still pending (so a key's items go out one at a time, in id order). On PostgreSQL the
 * candidate rows are taken with FOR UPDATE SKIP LOCKED: two workers claiming at the same
 * moment never wait for each other and never take the same row; the outer WHERE checks the
 * lease again on the row's newest version. On SQLite BEGIN IMMEDIATE serialises claims.
 * Every outcome is recorded only while the caller still holds the lease. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/outbox.h"

#define ERROR_MAX 4000	/* bytes of last_error kept (a response body when parked) */

static const char SQL_ENQUEUE[] =
	"INSERT INTO outbox (platform_id, kind, order_key, idem_key, payload, next_at_ms,"
	" created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)"
	" ON CONFLICT (idem_key) DO NOTHING RETURNING id";
static const char SQL_BY_IDEM[] = "SELECT id FROM outbox WHERE idem_key = ?1";

enum at_rc outbox_enqueue(struct db *db, int64_t platform_id, const char *kind,
			  const char *order_key, const char *idem_key, const char *payload,
			  int64_t now_ms, int64_t *id)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_ENQUEUE, &st);

	*id = 0;
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, platform_id);
	db_bind_str(st, 2, kind);
	db_bind_str(st, 3, order_key);
	db_bind_str(st, 4, idem_key);
	db_bind_str(st, 5, payload);
	db_bind_i64(st, 6, now_ms);
	db_bind_i64(st, 7, now_ms / 1000);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*id = db_col_i64(st, 0);
	if (rc == AT_OK)
		rc = db_run(st);
	if (rc != AT_OK || row)
		goto out;
	db_finalize(st);	/* the key exists already: a no-op, report that row */
	st = NULL;
	rc = db_prepare(db, SQL_BY_IDEM, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, idem_key);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*id = db_col_i64(st, 0);
	else if (rc == AT_OK)
		rc = AT_DB;
out:
	db_finalize(st);
	return rc;
}

#define COLS_Q "outbox.id, platform_id, kind, order_key, idem_key, payload, status," \
	" attempts, next_at_ms, lease_until_ms, last_status, last_error, created_at," \
	" updated_at, COALESCE(delivered_at, 0)"
#define COLS "id, platform_id, kind, order_key, idem_key, payload, status, attempts," \
	" next_at_ms, lease_until_ms, last_status, last_error, created_at, updated_at," \
	" COALESCE(delivered_at, 0)"

/* ?1 owner, ?2 now_ms, ?3 lease until, ?4 max */
static const char SQL_CLAIM_SQLITE[] =
	"UPDATE outbox SET lease_owner = ?1, lease_until_ms = ?3, updated_at = ?5"
	" WHERE id IN (SELECT o.id FROM outbox o WHERE o.status = 'pending'"
	"  AND o.next_at_ms <= ?2 AND o.lease_until_ms <= ?2"
	"  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.order_key = o.order_key"
	"   AND p.status = 'pending' AND p.id < o.id)"
	"  ORDER BY o.next_at_ms, o.id LIMIT ?4)"
	" RETURNING " COLS;
/* The CTE runs once (a subquery under IN may be rescanned and, skipping locked rows, lease
 * more than max items). */
static const char SQL_CLAIM_PG[] =
	"WITH c AS MATERIALIZED (SELECT o.id FROM outbox o WHERE o.status = 'pending'"
	"  AND o.next_at_ms <= ?2 AND o.lease_until_ms <= ?2"
	"  AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.order_key = o.order_key"
	"   AND p.status = 'pending' AND p.id < o.id)"
	"  ORDER BY o.next_at_ms, o.id LIMIT ?4 FOR UPDATE OF o SKIP LOCKED)"
	" UPDATE outbox SET lease_owner = ?1, lease_until_ms = ?3, updated_at = ?5 FROM c"
	" WHERE outbox.id = c.id AND outbox.status = 'pending' AND outbox.lease_until_ms <= ?2"
	" RETURNING " COLS_Q;

static enum outbox_status status_of(const char *s)
{
	if (s == NULL)
		return OUTBOX_PENDING;
	if (strcmp(s, "done") == 0)
		return OUTBOX_DONE;
	if (strcmp(s, "parked") == 0)
		return OUTBOX_PARKED;
	if (strcmp(s, "superseded") == 0)
		return OUTBOX_SUPERSEDED;
	return OUTBOX_PENDING;
}

const char *outbox_status_name(enum outbox_status s)
{
	switch (s) {
	case OUTBOX_DONE: return "done";
	case OUTBOX_PARKED: return "parked";
	case OUTBOX_SUPERSEDED: return "superseded";
	default: return "pending";
	}
}

static void read_item(struct db_stmt *st, struct arena *a, struct outbox_item *it)
{
	memset(it, 0, sizeof(*it));
	it->id = db_col_i64(st, 0);
	it->platform_id = db_col_i64(st, 1);
	it->kind = arena_strdup(a, db_col_text(st, 2));
	it->order_key = arena_strdup(a, db_col_text(st, 3));
	it->idem_key = arena_strdup(a, db_col_text(st, 4));
	it->payload = arena_strdup(a, db_col_text(st, 5));
	it->status = status_of(db_col_text(st, 6));
	it->attempts = db_col_i64(st, 7);
	it->next_at_ms = db_col_i64(st, 8);
	it->lease_until_ms = db_col_i64(st, 9);
	it->last_status = db_col_i64(st, 10);
	it->last_error = arena_strdup(a, db_col_text(st, 11));
	it->created_at = db_col_i64(st, 12);
	it->updated_at = db_col_i64(st, 13);
	it->delivered_at = db_col_i64(st, 14);
}

static enum at_rc read_all(struct db_stmt *st, struct arena *a, size_t max,
			   struct outbox_item **items, size_t *n)
{
	size_t cap = 0;
	bool row = false;
	enum at_rc rc;

	*items = NULL;
	*n = 0;
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			return rc;
		if (*n >= max)
			continue;	/* run the statement to its end */
		*items = arena_reserve(a, *items, *n, &cap, sizeof(**items));
		read_item(st, a, &(*items)[*n]);
		(*n)++;
	}
}

static int cmp_id(const void *x, const void *y)
{
	const struct outbox_item *a = x, *b = y;

	return a->id < b->id ? -1 : a->id > b->id;
}

enum at_rc outbox_claim(struct db *db, struct arena *a, const char *owner, int64_t now_ms,
			int64_t lease_ms, size_t max, struct outbox_item **items, size_t *n)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;

	*items = NULL;
	*n = 0;
	if (max == 0)
		return AT_OK;
	rc = db_begin(db);
	if (rc != AT_OK)
		return rc;
	rc = db_prepare(db, db_kind(db) == DB_PG ? SQL_CLAIM_PG : SQL_CLAIM_SQLITE, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, owner);
	db_bind_i64(st, 2, now_ms);
	db_bind_i64(st, 3, now_ms + lease_ms);
	db_bind_i64(st, 4, (int64_t)max);
	db_bind_i64(st, 5, now_ms / 1000);
	rc = read_all(st, a, SIZE_MAX, items, n);	/* every leased row: never drop one */
	db_finalize(st);
	st = NULL;
	if (rc == AT_OK)
		rc = db_commit(db);
out:
	db_finalize(st);
	if (rc != AT_OK) {
		db_rollback(db);
		*items = NULL;
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort(*items, *n, sizeof(**items), cmp_id);
	return AT_OK;
}

/* ?1 id, ?2 owner, ?3 now_ms, ?4 now (seconds), ?5 HTTP status, ?6 error, ?7 next_at_ms */
static const char SQL_DONE[] =
	"UPDATE outbox SET status = 'done', attempts = attempts + 1, last_status = ?5,"
	" last_error = '', lease_owner = '', lease_until_ms = 0, updated_at = ?4,"
	" delivered_at = ?4"
	" WHERE id = ?1 AND status = 'pending' AND lease_owner = ?2 AND lease_until_ms > ?3";
static const char SQL_PARK[] =
	"UPDATE outbox SET status = 'parked', attempts = attempts + 1, last_status = ?5,"
	" last_error = ?6, lease_owner = '', lease_until_ms = 0, updated_at = ?4"
	" WHERE id = ?1 AND status = 'pending' AND lease_owner = ?2 AND lease_until_ms > ?3";
static const char SQL_RETRY[] =
	"UPDATE outbox SET attempts = attempts + 1, last_status = ?5, last_error = ?6,"
	" next_at_ms = ?7, lease_owner = '', lease_until_ms = 0, updated_at = ?4"
	" WHERE id = ?1 AND status = 'pending' AND lease_owner = ?2 AND lease_until_ms > ?3";

static enum at_rc outcome(struct db *db, const char *sql, int64_t id, const char *owner,
			  long http_status, const char *error, int64_t next_at_ms, int64_t now_ms)
{
	struct db_stmt *st = NULL;
	size_t len = error ? strlen(error) : 0;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc != AT_OK)
		goto out;
	if (len > ERROR_MAX)
		len = ERROR_MAX;
	while (len > 0 && ((unsigned char)error[len] & 0xC0) == 0x80)
		len--;		/* never cut a UTF-8 sequence in two */
	db_bind_i64(st, 1, id);
	db_bind_str(st, 2, owner);
	db_bind_i64(st, 3, now_ms);
	db_bind_i64(st, 4, now_ms / 1000);
	db_bind_i64(st, 5, http_status);
	if (sql != SQL_DONE)
		db_bind_text(st, 6, error ? error : "", len);
	if (sql == SQL_RETRY)
		db_bind_i64(st, 7, next_at_ms);
	rc = db_run(st);
	if (rc == AT_OK && db_changes(st) != 1)
		rc = AT_CONFLICT;	/* the lease ran out and someone else may hold it */
out:
	db_finalize(st);
	return rc;
}

enum at_rc outbox_done(struct db *db, int64_t id, const char *owner, long http_status,
		       int64_t now_ms)
{
	return outcome(db, SQL_DONE, id, owner, http_status, NULL, 0, now_ms);
}

enum at_rc outbox_retry_later(struct db *db, int64_t id, const char *owner, long http_status,
			      const char *error, int64_t next_at_ms, int64_t now_ms)
{
	return outcome(db, SQL_RETRY, id, owner, http_status, error, next_at_ms, now_ms);
}

enum at_rc outbox_park(struct db *db, int64_t id, const char *owner, long http_status,
		       const char *error, int64_t now_ms)
{
	return outcome(db, SQL_PARK, id, owner, http_status, error, 0, now_ms);
}

static const char SQL_SUPERSEDE[] =
	"UPDATE outbox SET status = 'superseded', updated_at = ?4"
	" WHERE order_key = ?1 AND id < ?2 AND status = 'pending' AND lease_until_ms <= ?3";

enum at_rc outbox_supersede_older(struct db *db, const char *order_key, int64_t id,
				  int64_t now_ms)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_SUPERSEDE, &st);

	if (rc == AT_OK) {
		db_bind_str(st, 1, order_key);
		db_bind_i64(st, 2, id);
		db_bind_i64(st, 3, now_ms);
		db_bind_i64(st, 4, now_ms / 1000);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

static const char SQL_REQUEUE[] =
	"UPDATE outbox SET status = 'pending', attempts = 0, next_at_ms = ?2, lease_owner = '',"
	" lease_until_ms = 0, updated_at = ?3"
	" WHERE id = ?1 AND (status = 'parked' OR (status = 'pending' AND lease_until_ms <= ?2))"
	" AND NOT EXISTS (SELECT 1 FROM outbox n WHERE n.order_key = outbox.order_key"
	" AND n.id > outbox.id AND n.status IN ('pending', 'done'))";
static const char SQL_STATUS[] = "SELECT status FROM outbox WHERE id = ?1";
/* A parked item with a newer item of its key delivered or on its way is stale: retrying it
 * would put an older value over a newer one in the LMS. */
static const char SQL_SUPERSEDE_STALE[] =
	"UPDATE outbox SET status = 'superseded', updated_at = ?2 WHERE id = ?1"
	" AND status = 'parked' AND EXISTS (SELECT 1 FROM outbox n"
	" WHERE n.order_key = outbox.order_key AND n.id > outbox.id"
	" AND n.status IN ('pending', 'done'))";

enum at_rc outbox_requeue(struct db *db, int64_t id, int64_t now_ms)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_REQUEUE, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	db_bind_i64(st, 2, now_ms);
	db_bind_i64(st, 3, now_ms / 1000);
	rc = db_run(st);
	if (rc != AT_OK || db_changes(st) == 1)
		goto out;
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_SUPERSEDE_STALE, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	db_bind_i64(st, 2, now_ms / 1000);
	rc = db_run(st);
	if (rc != AT_OK)
		goto out;
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_STATUS, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc == AT_OK)
		rc = row ? AT_CONFLICT : AT_NOTFOUND;	/* done, superseded, or leased now */
out:
	db_finalize(st);
	return rc;
}

static const char SQL_COUNT[] =
	"SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0),"
	" COALESCE(SUM(CASE WHEN status = 'pending' AND attempts > 0 THEN 1 ELSE 0 END), 0),"
	" COALESCE(SUM(CASE WHEN status = 'parked' THEN 1 ELSE 0 END), 0),"
	" COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0)"
	" FROM outbox WHERE ?1 = 0 OR platform_id = ?1";

enum at_rc outbox_count(struct db *db, int64_t platform_id, struct outbox_counts *out)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_COUNT, &st);

	memset(out, 0, sizeof(*out));
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, platform_id);
	rc = db_step(st, &row);
	if (rc == AT_OK && row) {
		out->pending = db_col_i64(st, 0);
		out->failing = db_col_i64(st, 1);
		out->parked = db_col_i64(st, 2);
		out->done = db_col_i64(st, 3);
	}
out:
	db_finalize(st);
	return rc;
}

/* ?3 = '' lists every status but done and superseded. */
static const char SQL_LIST[] =
	"SELECT " COLS " FROM outbox WHERE (?1 = 0 OR platform_id = ?1)"
	" AND ((?3 = '' AND status IN ('pending', 'parked')) OR status = ?3)"
	" ORDER BY id DESC LIMIT ?2";

enum at_rc outbox_list(struct db *db, struct arena *a, int64_t platform_id, int status,
		       size_t max, struct outbox_item **items, size_t *n)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, SQL_LIST, &st);

	*items = NULL;
	*n = 0;
	if (rc == AT_OK) {
		db_bind_i64(st, 1, platform_id);
		db_bind_i64(st, 2, (int64_t)max);
		db_bind_str(st, 3, status < 0 ? "" : outbox_status_name((enum outbox_status)status));
		rc = read_all(st, a, max, items, n);
	}
	db_finalize(st);
	return rc;
}

static const char SQL_GET[] = "SELECT " COLS " FROM outbox WHERE id = ?1";

enum at_rc outbox_get(struct db *db, struct arena *a, int64_t id, struct outbox_item *out)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_GET, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		rc = db_step(st, &row);
		if (rc == AT_OK && !row)
			rc = AT_NOTFOUND;
		if (rc == AT_OK)
			read_item(st, a, out);
	}
	db_finalize(st);
	return rc;
}

int64_t outbox_backoff_ms(int64_t attempts, int64_t base_ms, int64_t cap_ms, double rnd)
{
	int64_t d = base_ms;

	if (attempts < 1)
		attempts = 1;
	for (int64_t i = 1; i < attempts && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	if (rnd < 0)
		rnd = 0;
	if (rnd >= 1)
		rnd = 0.999999;
	return d / 2 + (int64_t)((double)(d - d / 2) * rnd);
}
