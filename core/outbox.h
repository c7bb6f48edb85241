/* outbox.h: the durable queue of outbound LMS writes (scores, ratings, outcome results,
 * roster fetches). A change and the item it causes are stored in one transaction
 * (outbox_enqueue inside the caller's db_begin/db_commit); `attest sync` claims due items
 * under a lease, delivers them and records the outcome.
 *
 * Ordering: items sharing an order_key (e.g. "score:<placement>:<user>") are delivered in
 * id order — an item is claimable only when no older item of its key is still pending.
 * Idempotence: idem_key is unique; enqueueing an existing key is a no-op (AT_OK, *id = the
 * existing row). Leases: a claimed item belongs to its worker until lease_until_ms; a
 * crashed worker's items become claimable again when the lease runs out, and a worker
 * whose lease ran out cannot record an outcome (AT_CONFLICT). On PostgreSQL the claim
 * uses FOR UPDATE SKIP LOCKED, so workers on several hosts never take the same item. */
#ifndef AT_OUTBOX_H
#define AT_OUTBOX_H

#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

enum outbox_status {
	OUTBOX_PENDING,
	OUTBOX_DONE,
	OUTBOX_PARKED,		/* permanent failure: waits for an admin's retry */
	OUTBOX_SUPERSEDED,	/* a newer item of the same order_key made it pointless */
};

struct outbox_item {
	int64_t id, platform_id;
	const char *kind, *order_key, *idem_key;
	const char *payload;		/* JSON text */
	enum outbox_status status;
	int64_t attempts, next_at_ms, lease_until_ms;
	int64_t last_status;		/* last HTTP status, 0 after a transport error */
	const char *last_error;
	int64_t created_at, updated_at, delivered_at;
};

/* Queue an item due now. Call inside the transaction of the change that causes it. */
enum at_rc outbox_enqueue(struct db *db, int64_t platform_id, const char *kind,
			  const char *order_key, const char *idem_key, const char *payload,
			  int64_t now_ms, int64_t *id);

/* Claim up to max due items (pending, next_at_ms <= now_ms, lease free or expired, no
 * older pending item of the same order_key) for owner until now_ms + lease_ms. Items and
 * their strings come from a; *n is how many were claimed. */
enum at_rc outbox_claim(struct db *db, struct arena *a, const char *owner, int64_t now_ms,
			int64_t lease_ms, size_t max, struct outbox_item **items, size_t *n);

/* Outcomes of a claimed item. Each returns AT_CONFLICT when owner no longer holds the
 * lease (the item was taken over): the caller drops its result. */
enum at_rc outbox_done(struct db *db, int64_t id, const char *owner, long http_status,
		       int64_t now_ms);
/* Transient failure: retry at next_at_ms (the caller computes backoff and Retry-After). */
enum at_rc outbox_retry_later(struct db *db, int64_t id, const char *owner, long http_status,
			      const char *error, int64_t next_at_ms, int64_t now_ms);
/* Permanent failure: park with the status and the (capped) response body. */
enum at_rc outbox_park(struct db *db, int64_t id, const char *owner, long http_status,
		       const char *error, int64_t now_ms);
/* Mark pending items of order_key older than id superseded (a newer score replaces them). */
enum at_rc outbox_supersede_older(struct db *db, const char *order_key, int64_t id,
				  int64_t now_ms);

/* An admin's retry: a parked (or pending) item becomes due now with its attempts reset.
 * AT_NOTFOUND if there is no such item, AT_CONFLICT if it is done or superseded — or stale:
 * a parked item with a newer item of its order_key pending or done is marked superseded
 * instead (its older value must never land over the newer one). */
enum at_rc outbox_requeue(struct db *db, int64_t id, int64_t now_ms);

/* Counts per platform (platform_id 0: all): pending, failing (pending with attempts > 0),
 * parked, done. */
struct outbox_counts {
	int64_t pending, failing, parked, done;
};
enum at_rc outbox_count(struct db *db, int64_t platform_id, struct outbox_counts *out);
/* Items of platform_id (0: all) with status (or -1 for all but done/superseded), newest
 * first, at most max. */
enum at_rc outbox_list(struct db *db, struct arena *a, int64_t platform_id, int status,
		       size_t max, struct outbox_item **items, size_t *n);
enum at_rc outbox_get(struct db *db, struct arena *a, int64_t id, struct outbox_item *out);

const char *outbox_status_name(enum outbox_status s);

/* Backoff before attempt n (1-based): min(cap, base * 2^(n-1)) with full jitter in
 * [half, full]; rnd is a uniform value in [0, 1). */
int64_t outbox_backoff_ms(int64_t attempts, int64_t base_ms, int64_t cap_ms, double rnd);

#endif
