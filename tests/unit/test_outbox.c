/* test_outbox.c: the outbox of LMS writes (core/outbox.h) on SQLite and PostgreSQL —
 * idempotent enqueue, per-key ordering, leases and takeover, outcomes only under a held
 * lease, park/requeue, supersede, counts and lists, backoff bounds, and several processes
 * claiming at once never taking the same item twice. PostgreSQL runs when ATTEST_TEST_PG
 * is set. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/outbox.h"
#include "tests/unit/support/testdb.h"

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "outbox", false, TESTDB_PLATFORM_SQL); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "outbox", true, TESTDB_PLATFORM_SQL); }

static int64_t enq(struct testdb_fx *f, const char *key, const char *idem, int64_t now)
{
	int64_t id = 0;

	assert_int_equal(db_begin(f->db), AT_OK);
	assert_int_equal(outbox_enqueue(f->db, 1, "score", key, idem, "{\"x\":1}", now, &id),
			 AT_OK);
	assert_int_equal(db_commit(f->db), AT_OK);
	assert_true(id > 0);
	return id;
}

static size_t claim(struct testdb_fx *f, const char *owner, int64_t now, int64_t lease, size_t max,
		    struct outbox_item **it)
{
	size_t n = 99;

	assert_int_equal(outbox_claim(f->db, f->a, owner, now, lease, max, it, &n), AT_OK);
	return n;
}

static void test_enqueue_idempotent(void **state)
{
	struct testdb_fx *f = *state;
	int64_t a = enq(f, "k1", "i1", 1000), b = enq(f, "k1", "i1", 2000), c;
	struct outbox_item it;

	assert_int_equal(a, b);
	c = enq(f, "k1", "i2", 1000);
	assert_true(c > a);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM outbox"), 2);
	assert_int_equal(outbox_get(f->db, f->a, a, &it), AT_OK);
	assert_string_equal(it.kind, "score");
	assert_string_equal(it.payload, "{\"x\":1}");
	assert_int_equal(it.status, OUTBOX_PENDING);
	assert_int_equal(it.next_at_ms, 1000);
	assert_int_equal(outbox_get(f->db, f->a, 999, &it), AT_NOTFOUND);
	/* a rolled back change takes its item with it */
	assert_int_equal(db_begin(f->db), AT_OK);
	assert_int_equal(outbox_enqueue(f->db, 1, "score", "k9", "gone", "{}", 1, &c), AT_OK);
	db_rollback(f->db);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM outbox WHERE idem_key = 'gone'"),
			 0);
}

/* Items of one key go out one at a time in id order; other keys are not held up. */
static void test_order_per_key(void **state)
{
	struct testdb_fx *f = *state;
	int64_t a1 = enq(f, "A", "a1", 1000), a2 = enq(f, "A", "a2", 1000);
	int64_t b1 = enq(f, "B", "b1", 1000), a3 = enq(f, "A", "a3", 1000);
	struct outbox_item *it;
	size_t n = claim(f, "w1", 5000, 60000, 10, &it);

	assert_int_equal(n, 2);
	assert_int_equal(it[0].id, a1);
	assert_int_equal(it[1].id, b1);
	/* a second worker finds nothing: a1 is leased and still pending, so a2 waits */
	assert_int_equal(claim(f, "w2", 5001, 60000, 10, &it), 0);
	assert_int_equal(outbox_done(f->db, a1, "w1", 200, 5002), AT_OK);
	n = claim(f, "w2", 5003, 60000, 10, &it);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].id, a2);
	/* a retried item keeps its successors waiting until it is due and delivered */
	assert_int_equal(outbox_retry_later(f->db, a2, "w2", 503, "busy", 9000, 5004), AT_OK);
	assert_int_equal(claim(f, "w2", 5005, 60000, 10, &it), 0);
	n = claim(f, "w2", 9000, 60000, 10, &it);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].id, a2);
	assert_int_equal(it[0].attempts, 1);
	assert_int_equal(it[0].last_status, 503);
	assert_string_equal(it[0].last_error, "busy");
	/* parked: the next one of the key goes */
	assert_int_equal(outbox_park(f->db, a2, "w2", 400, "{\"error\":\"bad\"}", 9001), AT_OK);
	n = claim(f, "w2", 9002, 60000, 10, &it);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].id, a3);
}

static void test_lease_takeover(void **state)
{
	struct testdb_fx *f = *state;
	int64_t a = enq(f, "A", "a", 1000);
	struct outbox_item *it;

	assert_int_equal(claim(f, "w1", 1000, 500, 10, &it), 1);
	assert_int_equal(claim(f, "w2", 1499, 500, 10, &it), 0);
	/* w1 crashed: its lease runs out and w2 takes over */
	assert_int_equal(claim(f, "w2", 1500, 500, 10, &it), 1);
	assert_int_equal(it[0].id, a);
	/* w1 wakes up: it cannot record anything any more */
	assert_int_equal(outbox_done(f->db, a, "w1", 200, 1600), AT_CONFLICT);
	assert_int_equal(outbox_park(f->db, a, "w1", 400, "x", 1600), AT_CONFLICT);
	assert_int_equal(outbox_retry_later(f->db, a, "w1", 500, "x", 1, 1600), AT_CONFLICT);
	/* nor can w2 after its own lease ran out */
	assert_int_equal(outbox_done(f->db, a, "w2", 200, 2000), AT_CONFLICT);
	assert_int_equal(claim(f, "w3", 2000, 500, 10, &it), 1);
	assert_int_equal(outbox_done(f->db, a, "w3", 204, 2100), AT_OK);
	assert_int_equal(outbox_done(f->db, a, "w3", 204, 2101), AT_CONFLICT);
	assert_int_equal(outbox_get(f->db, f->a, a, it), AT_OK);
	assert_int_equal(it->status, OUTBOX_DONE);
	assert_int_equal(it->delivered_at, 2);
	assert_int_equal(it->last_status, 204);
	assert_int_equal(claim(f, "w3", 99999, 500, 10, &it), 0);
}

static void test_park_requeue_counts(void **state)
{
	struct testdb_fx *f = *state;
	int64_t a = enq(f, "A", "a", 1000), b = enq(f, "B", "b", 1000), c = enq(f, "C", "c", 1000);
	struct outbox_counts k;
	struct outbox_item *it, one;
	size_t n;
	char big[6000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(claim(f, "w", 1000, 60000, 10, &it), 3);
	assert_int_equal(outbox_park(f->db, a, "w", 422, big, 1001), AT_OK);
	assert_int_equal(outbox_retry_later(f->db, b, "w", 0, "timeout", 5000, 1001), AT_OK);
	assert_int_equal(outbox_done(f->db, c, "w", 200, 1001), AT_OK);
	assert_int_equal(outbox_count(f->db, 0, &k), AT_OK);
	assert_int_equal(k.pending, 1);
	assert_int_equal(k.failing, 1);
	assert_int_equal(k.parked, 1);
	assert_int_equal(k.done, 1);
	assert_int_equal(outbox_count(f->db, 2, &k), AT_OK);
	assert_int_equal(k.pending + k.parked + k.done, 0);
	assert_int_equal(outbox_get(f->db, f->a, a, &one), AT_OK);
	assert_int_equal(one.status, OUTBOX_PARKED);
	assert_int_equal(strlen(one.last_error), 4000);	/* capped */
	assert_int_equal(outbox_list(f->db, f->a, 0, -1, 10, &it, &n), AT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(it[0].id, b);	/* newest first */
	assert_int_equal(it[1].id, a);
	assert_int_equal(outbox_list(f->db, f->a, 1, OUTBOX_DONE, 10, &it, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(it[0].id, c);
	assert_int_equal(outbox_list(f->db, f->a, 0, -1, 1, &it, &n), AT_OK);
	assert_int_equal(n, 1);
	/* an admin's retry */
	assert_int_equal(outbox_requeue(f->db, a, 2000), AT_OK);
	assert_int_equal(outbox_get(f->db, f->a, a, &one), AT_OK);
	assert_int_equal(one.status, OUTBOX_PENDING);
	assert_int_equal(one.attempts, 0);
	assert_int_equal(outbox_requeue(f->db, c, 2000), AT_CONFLICT);
	assert_int_equal(outbox_requeue(f->db, 12345, 2000), AT_NOTFOUND);
	assert_int_equal(claim(f, "w", 2000, 60000, 10, &it), 1);
	assert_int_equal(it[0].id, a);
	assert_int_equal(outbox_requeue(f->db, a, 2001), AT_CONFLICT);	/* leased now */
}

static void test_supersede(void **state)
{
	struct testdb_fx *f = *state;
	int64_t a = enq(f, "A", "a", 1000), b = enq(f, "A", "b", 1000), c = enq(f, "A", "c", 1000);
	struct outbox_item *it, one;

	assert_int_equal(outbox_supersede_older(f->db, "A", c, 1000), AT_OK);
	assert_int_equal(outbox_get(f->db, f->a, a, &one), AT_OK);
	assert_int_equal(one.status, OUTBOX_SUPERSEDED);
	assert_int_equal(outbox_get(f->db, f->a, b, &one), AT_OK);
	assert_int_equal(one.status, OUTBOX_SUPERSEDED);
	assert_int_equal(claim(f, "w", 1000, 60000, 10, &it), 1);
	assert_int_equal(it[0].id, c);
}

/* An admin retrying an old parked item must not put its older value over a newer one of
 * the same key: the stale item is marked superseded instead. */
static void test_requeue_stale(void **state)
{
	struct testdb_fx *f = *state;
	int64_t a = enq(f, "K", "old", 1000), b, c;
	struct outbox_item *it, one;

	assert_int_equal(claim(f, "w", 1000, 60000, 10, &it), 1);
	assert_int_equal(outbox_park(f->db, a, "w", 400, "bad", 1001), AT_OK);
	/* a newer item of the key is pending: the old one is stale */
	b = enq(f, "K", "new", 2000);
	assert_int_equal(outbox_requeue(f->db, a, 3000), AT_CONFLICT);
	assert_int_equal(outbox_get(f->db, f->a, a, &one), AT_OK);
	assert_int_equal(one.status, OUTBOX_SUPERSEDED);
	assert_int_equal(claim(f, "w", 3000, 60000, 10, &it), 1);
	assert_int_equal(it[0].id, b);
	/* delivered newer items count too; a parked newer item does not make it stale */
	assert_int_equal(outbox_done(f->db, b, "w", 200, 3001), AT_OK);
	c = enq(f, "L", "l1", 4000);
	assert_int_equal(claim(f, "w", 4000, 60000, 10, &it), 1);
	assert_int_equal(outbox_park(f->db, c, "w", 400, "bad", 4001), AT_OK);
	enq(f, "L", "l2", 4002);
	assert_int_equal(claim(f, "w", 4002, 60000, 10, &it), 1);
	assert_int_equal(outbox_park(f->db, it[0].id, "w", 400, "bad", 4003), AT_OK);
	assert_int_equal(outbox_requeue(f->db, c, 5000), AT_OK);
	assert_int_equal(outbox_get(f->db, f->a, c, &one), AT_OK);
	assert_int_equal(one.status, OUTBOX_PENDING);
}

static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(outbox_backoff_ms(1, 1000, 60000, 0), 500);
	assert_int_equal(outbox_backoff_ms(1, 1000, 60000, 0.999999), 999);
	assert_int_equal(outbox_backoff_ms(3, 1000, 60000, 0), 2000);
	assert_int_equal(outbox_backoff_ms(40, 1000, 60000, 0), 30000);
	assert_true(outbox_backoff_ms(40, 1000, 60000, 0.99) < 60000);
	assert_int_equal(outbox_backoff_ms(0, 1000, 60000, 0), 500);
	for (int i = 1; i < 70; i++) {
		int64_t d = outbox_backoff_ms(i, 250, 3600000, 0.5);

		assert_true(d > 0 && d <= 3600000);
	}
}

/* Four processes claim and complete items at once: each item is delivered exactly once and
 * every key's items complete in id order. */
static void test_concurrent_workers(void **state)
{
	struct testdb_fx *f = *state;
	pid_t kids[4];
	char key[32], idem[32];

	for (int i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "k%d", i % 10);
		snprintf(idem, sizeof(idem), "i%d", i);
		enq(f, key, idem, 1000);
	}
	assert_int_equal(db_exec(f->db, "CREATE TABLE delivered (item BIGINT NOT NULL,"
				 " order_key TEXT NOT NULL, seq BIGINT NOT NULL, owner TEXT NOT NULL)"),
			 AT_OK);
	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			struct db *db = NULL;
			struct at_err err = { "" };
			struct arena *a = arena_new();
			char owner[16];
			int idle = 0, bad = 0;

			snprintf(owner, sizeof(owner), "w%d", k);
			if (db_open(f->t.url, &db, &err) != AT_OK)
				_exit(2);
			while (idle < 200 && !bad) {
				struct outbox_item *it = NULL;
				size_t n = 0;
				enum at_rc rc = outbox_claim(db, a, owner, 2000, 600000, 7, &it, &n);

				if (rc == AT_TIMEOUT) {
					usleep(1000);
					continue;
				}
				if (rc != AT_OK) {
					bad = 3;
					break;
				}
				if (n == 0) {
					idle++;
					usleep(2000);
					continue;
				}
				idle = 0;
				for (size_t i = 0; i < n; i++) {
					struct db_stmt *st = NULL;

					rc = db_prepare(db, "INSERT INTO delivered (item, order_key, seq,"
							" owner) VALUES (?1, ?2, (SELECT COUNT(*)"
							" FROM outbox WHERE order_key = ?2 AND id < ?1"
							" AND status <> 'done'), ?3)", &st);
					if (rc == AT_OK) {
						db_bind_i64(st, 1, it[i].id);
						db_bind_str(st, 2, it[i].order_key);
						db_bind_str(st, 3, owner);
						do
							rc = db_run(st);
						while (rc == AT_TIMEOUT);
					}
					db_finalize(st);
					do
						rc = rc == AT_OK || rc == AT_TIMEOUT ?
						     outbox_done(db, it[i].id, owner, 200, 2001) : rc;
					while (rc == AT_TIMEOUT);
					if (rc != AT_OK)
						bad = 4;
				}
			}
			arena_free(a);
			db_close(db);
			_exit(bad);
		}
	}
	for (int k = 0; k < 4; k++) {
		int st = 0;

		assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	if (testdb_count(f->db, "SELECT COUNT(*) FROM delivered") != 200)
		fprintf(stderr, "pending %lld leased %lld done %lld\n",
			(long long)testdb_count(f->db, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"),
			(long long)testdb_count(f->db, "SELECT COUNT(*) FROM outbox WHERE lease_owner <> ''"),
			(long long)testdb_count(f->db, "SELECT COUNT(*) FROM outbox WHERE status = 'done'"));
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM delivered"), 200);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(DISTINCT item) FROM delivered"), 200);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM outbox WHERE status = 'done'"),
			 200);
	/* per key in id order: when an item went out, every older one of its key was done */
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM delivered WHERE seq <> 0"), 0);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_enqueue_idempotent), SQ(test_order_per_key), SQ(test_lease_takeover),
		SQ(test_park_requeue_counts), SQ(test_supersede), SQ(test_requeue_stale),
		SQ(test_backoff),
		SQ(test_concurrent_workers),
	};
	const struct CMUnitTest pg[] = {
		PG(test_enqueue_idempotent), PG(test_order_per_key), PG(test_lease_takeover),
		PG(test_park_requeue_counts), PG(test_supersede), PG(test_requeue_stale),
		PG(test_concurrent_workers),
	};
	return TESTDB_RUN("outbox", sqlite, pg);
}
