/* audit.h: the tamper-evident, append-only audit log (a SHA-256 hash chain).
 *
 * Row n carries hash_n = SHA-256(serialise(id_n, prev_hash_n, at, actor, action, entity,
 * entity_id, data)) and prev_hash_n = hash_(n-1); the first row chains from AUDIT_GENESIS.
 * The serialisation is unambiguous: a version tag, then every field as a netstring
 * ("<decimal length>:<bytes>,"), integers in decimal, a NULL actor as an empty field.
 * Ids are assigned by audit_append as last id + 1, so the chain is also gap-free: a deleted,
 * edited, reordered or inserted row breaks a hash, a link or the numbering.
 * What no chain can see: someone who rewrites every hash from the edited row on, or cuts
 * rows off the end. Ship `attest audit tail 1` (the head hash) somewhere else to catch that.
 *
 * Never put secrets (tokens, passwords, keys, evidence contents) into audit data.
 */
#ifndef AT_AUDIT_H
#define AT_AUDIT_H

#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/db.h"

/* prev_hash of the first row: 64 zeros. */
#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_DATA_MAX (64 * 1024)	/* bytes of data_json per row */

/*
 * Append one row. MUST run inside the caller's transaction (db_begin), so the audit row
 * commits or rolls back with the change it records. On PostgreSQL it takes a transaction
 * advisory lock first (appends are serialised across workers and hosts); on SQLite the
 * caller's BEGIN IMMEDIATE already does. actor_id <= 0 means no person: stored as NULL.
 * data_json is stored as given (NULL means "{}"). Returns AT_OK; AT_BADREQ for an empty
 * action/entity; AT_TOOBIG when data_json exceeds AUDIT_DATA_MAX; AT_DB/AT_CONFLICT/
 * AT_TIMEOUT from the database (the caller then rolls back).
 */
enum at_rc audit_append(struct db *db, int64_t actor_id, const char *action,
			const char *entity, int64_t entity_id, const char *data_json,
			int64_t now, struct at_err *err);

/*
 * Walk the whole chain in id order. Returns AT_OK with *first_bad = 0 and *count = rows when
 * intact; AT_CONFLICT with *first_bad = the id of the first row that does not verify
 * (err says why: hash mismatch, broken link, gap in ids). count may be NULL.
 */
enum at_rc audit_verify(struct db *db, int64_t *first_bad, int64_t *count,
			struct at_err *err);

struct audit_row {
	int64_t id, at, actor_id, entity_id;	/* actor_id 0 = system */
	const char *action, *entity, *data, *prev_hash, *hash;
};

/* The last n rows, oldest first, from a (nothing to free). */
enum at_rc audit_tail(struct db *db, struct arena *a, int64_t n, struct audit_row **rows,
		      size_t *nrows);

/* Lowercase hex SHA-256 of row r's canonical serialisation into out[65]. */
void audit_hash(const struct audit_row *r, char out[65]);

#endif
