/* sync.h: the `attest sync` worker — claims due outbox items under a lease, prepares each
 * through its handler (lti/lms.h), sends the batch's writes at once over a curl multi
 * handle kept across batches (keep-alive), judges them and records each outcome:
 * done; retry at now + Retry-After or exponential backoff with full jitter; or parked with
 * the response body. Several workers (processes, hosts) over one PostgreSQL never hold the
 * same item at once (core/outbox.h). */
#ifndef AT_SYNC_H
#define AT_SYNC_H

#include <signal.h>
#include <stdint.h>

#include "core/db.h"
#include "lti/httpc.h"

struct sync_opts {
	const char *keys_dir;
	const char *base_url;
	struct httpc_opts http;
	size_t batch;		/* items claimed at once */
	int64_t lease_ms;	/* must outlast a batch: prepare calls + the writes */
	int64_t backoff_base_ms, backoff_cap_ms;
	int64_t idle_ms;	/* sleep when nothing is due (long-running mode) */
	int once;		/* stop when nothing is due any more */
	const char *owner;	/* lease owner; NULL: host:pid:random */
};

struct sync_stats {
	int64_t batches, claimed, done, retried, parked, lost_lease;
};

void sync_defaults(struct sync_opts *o);

/* Run until *stop is set (SIGTERM: the batch in hand is finished first) or, with once,
 * until no item is due. Returns AT_OK, or the database error that stopped it. */
enum at_rc sync_run(struct db *db, const struct sync_opts *o, volatile sig_atomic_t *stop,
		    struct sync_stats *st);

#endif
