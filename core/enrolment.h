/* enrolment.h: a learner enrolled in a program within one course (context) — create, read,
 * list, status, who may manage it, and the read-only queries the API's reports need
 * (every observation and decision of an enrolment, the competencies a program rates).
 *
 * One enrolment per program and learner (UNIQUE (program_id, user_id)). The learner must be
 * a member of the course the enrolment belongs to. Statuses: active, completed, withdrawn;
 * completing sets completed_at, anything else clears it.
 */
#ifndef AT_ENROLMENT_H
#define AT_ENROLMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rc.h"

struct program;

struct enrolment {
	int64_t id, program_id, user_id, context_id;	/* context_id 0: the course is gone */
	const char *program_key, *program_title;
	const char *learner_name;	/* display name (name, else given + family, else "user N") */
	const char *status;		/* active, completed, withdrawn */
	int64_t started_at, completed_at;	/* completed_at 0: not completed */
};

/*
 * Enrol user_id in program program_key within context_id, by actor_id (audited as
 * "enrolment.create" in the same transaction). Returns AT_OK and sets *id; AT_NOTFOUND
 * (err: "program") for an unknown program; AT_BADREQ (err: "learner") when the user is not
 * a member of the context; AT_CONFLICT when the learner is enrolled in the program
 * already; AT_DB/AT_TIMEOUT (nothing stored). Opens its own transaction.
 */
enum at_rc enrolment_create(struct db *db, const char *program_key, int64_t user_id,
			    int64_t context_id, int64_t actor_id, int64_t now, int64_t *id,
			    struct at_err *err);

/* The same, for a learner who started earlier (a coordinator entering an enrolment after
 * the fact: deadlines and escalations count from started_at). AT_BADREQ "started_at" when
 * it is in the future or not positive. */
enum at_rc enrolment_create_at(struct db *db, const char *program_key, int64_t user_id,
			       int64_t context_id, int64_t actor_id, int64_t now,
			       int64_t started_at, int64_t *id, struct at_err *err);

/* A program offered to the learners of a course: placed there by deep linking (the program
 * itself or one of its checklists, table placement). Learners may enrol themselves only in
 * these; an assessor or admin of the course may enrol anyone in any program. */
struct enrolment_offer {
	int64_t id;
	const char *key, *title;
};

/* The programs placed in context_id, by title then id, each once. *out from a. */
enum at_rc enrolment_offers(struct db *db, struct arena *a, int64_t context_id,
			    struct enrolment_offer **out, size_t *n);

/* Is program_key placed in context_id? false on a storage error too (refuse when unsure). */
bool enrolment_offered(struct db *db, const char *program_key, int64_t context_id);

/* One enrolment, strings from a. AT_NOTFOUND. */
enum at_rc enrolment_get(struct db *db, struct arena *a, int64_t id, struct enrolment *out);

/* The enrolments of a learner (every course), by program key. *out from a. */
enum at_rc enrolment_list_learner(struct db *db, struct arena *a, int64_t user_id,
				  struct enrolment **out, size_t *n);

/* The enrolments of a context, of program_id (0: any), by learner name then id. */
enum at_rc enrolment_list_context(struct db *db, struct arena *a, int64_t context_id,
				  int64_t program_id, struct enrolment **out, size_t *n);

/* Set the status (active, completed, withdrawn: else AT_BADREQ) by actor_id, audited as
 * "enrolment.status". AT_NOTFOUND. Opens its own transaction. */
enum at_rc enrolment_set_status(struct db *db, int64_t id, const char *status,
				int64_t actor_id, int64_t now, struct at_err *err);

/* enrolment_set_status() inside the caller's transaction (db_begin): the change and its
 * audit row commit or roll back with the caller's. On an error the caller rolls back. */
enum at_rc enrolment_set_status_tx(struct db *db, int64_t id, const char *status,
				   int64_t actor_id, int64_t now, struct at_err *err);

/* Does user_id hold an assessor or admin role (membership.role & (2|4)) in e's course? */
bool enrolment_may_manage(struct db *db, const struct enrolment *e, int64_t user_id);

/* Is user_id a member (any role) of context_id? */
bool enrolment_is_member(struct db *db, int64_t user_id, int64_t context_id);

/* One observation as the record of learning shows it: every submitted one, amended
 * originals included (superseded_by names the submitted amendment, 0 when none). */
struct enrolment_obs {
	int64_t id, checklist_id, assessor_id, score, max_score, amends_id, superseded_by;
	int64_t observed_at, submitted_at;
	const char *checklist, *rater_role, *assessor, *session_key, *amend_reason;
	bool passed, critical_missed;
};

/* Every submitted observation of enrolment_id, oldest first (observed_at, id). From a. */
enum at_rc enrolment_observations(struct db *db, struct arena *a, int64_t enrolment_id,
				  struct enrolment_obs **out, size_t *n);

/* The ids of every decision of enrolment_id, oldest first. From a. */
enum at_rc enrolment_decision_ids(struct db *db, struct arena *a, int64_t enrolment_id,
				  int64_t **out, size_t *n);

/* A competency a program rates: linked to one of its checklist items or named by a tier. */
struct enrolment_comp {
	int64_t id;
	const char *idnumber, *shortname;
};

/* The competencies of p (stored: p->id set), in order of first mention (items, then tier
 * targets); ids resolved within the program's frameworks; unknown ones left out. From a. */
enum at_rc enrolment_program_competencies(struct db *db, struct arena *a,
					  const struct program *p, struct enrolment_comp **out,
					  size_t *n);

#endif
