/* decision.h: certification decisions — the rule proposes, a coordinator confirms or
 * overrides with a justification. Every step is audited; a confirmed or overridden decision
 * never changes again (a later change is a new proposal).
 *
 * Statuses: proposed -> confirmed | overridden; a proposal replaced by a newer one before
 * anyone decided it becomes superseded. Expiry: when the program definition has
 * {"validity": {"days": N}}, confirming or overriding sets expires_at = decided_at + N days.
 * Every function opens and commits its own transaction: do not call it inside one.
 */
#ifndef AT_DECISION_H
#define AT_DECISION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

#define DECISION_JUSTIFICATION_MIN 10	/* characters, not counting surrounding blanks */
#define DECISION_TEXT_MAX 16384

struct decision {
	int64_t id, enrolment_id;
	const char *proposed_outcome, *basis, *status;
	const char *final_outcome;	/* the outcome that counts; NULL while proposed */
	const char *justification;	/* "" unless overridden */
	int64_t proposed_at, decided_by, decided_at;	/* 0 while proposed */
	int64_t expires_at;		/* 0 = never */
	bool expired;			/* expires_at <= now (decision_current's now) */
};

/*
 * Propose outcome for enrolment on basis_json (a JSON object: what the rule saw). An older
 * proposal nobody decided becomes superseded. Audited as "decision.propose" (actor: the
 * system). Returns AT_OK and sets *id; AT_BADREQ (empty outcome, basis not a JSON object);
 * AT_NOTFOUND (enrolment).
 */
enum at_rc decision_propose(struct db *db, int64_t enrolment_id, const char *outcome,
			    const char *basis_json, int64_t now, int64_t *id,
			    struct at_err *err);

/* Confirm proposal id as coordinator. AT_CONFLICT unless it is the open proposal
 * (confirmed, overridden or superseded already); AT_NOTFOUND. Audited as
 * "decision.confirm"; the LMS items (lmsq_decision) are queued in the same transaction.
 * With closing true, when the final outcome closes the enrolment (program_outcome_closes)
 * and it is not completed yet, it is marked completed by the coordinator in that same
 * transaction too ("enrolment.status"): decision and status commit together or not at all;
 * loading the enrolment and its program is then part of the step (an error rolls back). */
enum at_rc decision_confirm(struct db *db, int64_t id, int64_t coordinator_id, bool closing,
			    int64_t now, struct at_err *err);

/* Replace proposal id's outcome with outcome, for justification (at least
 * DECISION_JUSTIFICATION_MIN characters: AT_BADREQ). AT_CONFLICT, AT_NOTFOUND and closing as
 * confirm; audited as "decision.override". */
enum at_rc decision_override(struct db *db, int64_t id, int64_t coordinator_id, bool closing,
			     const char *outcome, const char *justification, int64_t now,
			     struct at_err *err);

/* The decision in force for enrolment: the latest confirmed or overridden one (expired
 * set against now). AT_NOTFOUND when none. From a. */
enum at_rc decision_current(struct db *db, struct arena *a, int64_t enrolment_id, int64_t now,
			    struct decision *out);

/* The open proposal of enrolment, AT_NOTFOUND when none. From a. */
enum at_rc decision_pending(struct db *db, struct arena *a, int64_t enrolment_id,
			    struct decision *out);

/* One decision by id. From a. */
enum at_rc decision_get(struct db *db, struct arena *a, int64_t id, struct decision *out);

#endif
