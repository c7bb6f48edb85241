/* assign.h: who looks after an enrolment — its group (enrolment.cohort, a free label such
 * as "Cohort 12" or "Night shift") and its assigned assessors (enrolment_assessor), set by
 * a coordinator from the program dashboard. Every change is audited in its transaction.
 *
 * An assigned assessor must hold an assessor or admin role (membership.role & 6, active)
 * in the enrolment's course. Assigning someone assigned already changes nothing.
 */
#ifndef AT_ASSIGN_H
#define AT_ASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rc.h"

#define ASSIGN_COHORT_MAX 100	/* bytes of a group label */

struct assign_person {
	int64_t id;
	const char *name;	/* display name */
};

/* The active assessors and admins of context_id, by name. From a. */
enum at_rc assign_staff(struct db *db, struct arena *a, int64_t context_id,
			struct assign_person **out, size_t *n);

/* The assessors assigned to enrolment_id, by name. From a. */
enum at_rc assign_assessors(struct db *db, struct arena *a, int64_t enrolment_id,
			    struct assign_person **out, size_t *n);

/* Assign assessor_id to enrolment_id, by actor_id ("enrolment.assessor_add"). AT_NOTFOUND
 * (err "enrolment"); AT_BADREQ (err "assessor": not staff of the enrolment's course);
 * AT_OK when assigned already (nothing written). Opens its own transaction. */
enum at_rc assign_assessor_add(struct db *db, int64_t enrolment_id, int64_t assessor_id,
			       int64_t actor_id, int64_t now, struct at_err *err);

/* Unassign ("enrolment.assessor_remove"). AT_NOTFOUND when not assigned. */
enum at_rc assign_assessor_remove(struct db *db, int64_t enrolment_id, int64_t assessor_id,
				  int64_t actor_id, int64_t now, struct at_err *err);

/* Set the group label of enrolment_id ("enrolment.cohort"): surrounding blanks trimmed,
 * "" clears it. AT_BADREQ (err "cohort") for more than ASSIGN_COHORT_MAX bytes, control
 * characters or invalid UTF-8; AT_NOTFOUND (err "enrolment"). Own transaction. */
enum at_rc assign_cohort_set(struct db *db, int64_t enrolment_id, const char *cohort,
			     int64_t actor_id, int64_t now, struct at_err *err);

#endif
