/* lti_keys.h: the tool's own RSA signing keys.
 *
 * Private keys are PEM files DIR/<kid>.pem (dir 0700, files 0600, never logged); their
 * public halves and schedule live in the tool_key table:
 *   created_at  when the key was made and first published in the JWKS,
 *   sign_from   when it may start signing (the newest such key signs),
 *   retire_at   NULL, or when it leaves the JWKS (kept published until then so
 *               platforms that cached the old JWKS still verify old tokens).
 * States shown by lti_keys_list: pending (sign_from > now), signing (the newest key
 * that may sign now: the one lti_keys_sign uses while its file is there), active
 * (could sign, but a newer key does), retiring (retire_at in the future, not
 * signing), retired (retire_at <= now: gone from the JWKS, removed by prune).
 */
#ifndef AT_LTI_KEYS_H
#define AT_LTI_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rc.h"

#define LTI_KEYS_BITS	2048

/*
 * Make sure a key can sign now: create dir (mode 0700; its parent must exist) if
 * missing; if no key is signing-capable (sign_from <= now, not retired, private file
 * present), generate an RSA key, write DIR/<kid>.pem (0600, O_EXCL, fsync) and insert
 * its row with sign_from = now. Idempotent. Returns AT_OK; AT_INTERNAL for file or
 * crypto failures, AT_DB/AT_TIMEOUT for the database (err says which).
 */
enum at_rc lti_keys_ensure(struct db *db, const char *dir, int64_t now, struct at_err *err);

/*
 * Rotate: add a new key, published now, signing from now + activate_in; every older key
 * not yet retired gets retire_at = now + activate_in + retire_in (an earlier retire_at
 * is kept), so it stays published through the grace period. One transaction. Returns
 * AT_OK and *new_kid (from a); AT_BADREQ for negative intervals; else as ensure.
 */
enum at_rc lti_keys_rotate(struct db *db, const char *dir, int64_t now, int64_t activate_in,
			   int64_t retire_in, struct arena *a, char **new_kid,
			   struct at_err *err);

/*
 * The tool JWKS: {"keys":[...]} with every key whose retire_at is NULL or > now (pending
 * ones included), public members only (kty, n, e, kid, alg RS256, use sig). Returns AT_OK
 * and *json (from a); AT_DB on a database error, AT_INTERNAL on a corrupt row.
 */
enum at_rc lti_keys_jwks(struct db *db, int64_t now, struct arena *a, char **json);

/*
 * Sign payload_json (a JSON object) as a compact JWS with the newest key whose sign_from
 * <= now, not retired, whose private file is readable; protected header
 * {"alg":"RS256","typ":"JWT","kid":...}. Returns AT_OK and *compact (from a);
 * AT_BADREQ if payload_json is not a JSON object; AT_NOTFOUND if no key can sign (run
 * lti_keys_ensure); AT_INTERNAL on file/crypto errors; AT_DB.
 */
enum at_rc lti_keys_sign(struct db *db, const char *dir, int64_t now, struct arena *a,
			 const char *payload_json, char **compact, struct at_err *err);

/* One key of lti_keys_info: no private material, only the schedule and its state. */
struct lti_key_info {
	const char *kid;
	const char *state;	/* pending, signing, active, retiring, retired (see above) */
	int64_t created_at, sign_from;
	int64_t retire_at;	/* 0: not scheduled to retire */
};

/* Every key, oldest first (the order of lti_keys_list), with its state at now. *out is an
 * arena array of *n. Returns AT_OK or AT_DB. */
enum at_rc lti_keys_info(struct db *db, int64_t now, struct arena *a, struct lti_key_info **out,
			 size_t *n);

/*
 * Write one line per key, oldest first: "kid state created sign_from retire_at", times
 * as UTC ISO 8601, "-" for no retire_at, fields separated by two spaces (attest keys
 * list). Returns AT_OK, AT_DB, or AT_INTERNAL when out cannot be written.
 */
enum at_rc lti_keys_list(struct db *db, int64_t now, FILE *out);

/*
 * Delete the rows and private files of keys with retire_at <= now (file first: a
 * failure leaves the row, and the next prune retries). Sets *removed to the number of
 * keys removed. Returns AT_OK; AT_INTERNAL when a file cannot be removed; AT_DB.
 */
enum at_rc lti_keys_prune(struct db *db, const char *dir, int64_t now, int *removed,
			  struct at_err *err);

#endif
