/* worklist.h: what waits for an assessor in one course — every learner enrolled there,
 * with the enrolment's status and what needs the assessor: drafts to finish, evidence to
 * review, self-evaluations to compare, third-party feedback received — and the rating
 * scales a checklist page needs to draw its rating items.
 *
 * Assignments (enrolment_assessor): an enrolment with assigned assessors is "assigned to
 * me" only for them; it stays in everyone's list (every assessor of the course may assess
 * every learner of it). Read-only; authorization is the caller's business.
 */
#ifndef AT_WORKLIST_H
#define AT_WORKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rating.h"
#include "core/rc.h"

struct worklist_row {
	int64_t enrolment_id, learner_id, program_id;
	const char *learner_name, *program_key, *program_title, *status, *cohort;
	int64_t started_at;
	bool assigned_to_me;	/* the enrolment has assigned assessors and I am one */
	int64_t assignees;	/* how many assessors are assigned (0: nobody in particular) */
	int64_t drafts;		/* my unsubmitted observations (not self-evaluations) */
	int64_t draft_id;	/* the newest of them, 0: none */
	int64_t evidence;	/* the learner's evidence waiting for review, not uploaded by me */
	int64_t evidence_id;	/* the oldest of it, 0: none */
	int64_t self_new;	/* submitted self-evaluations no assessor observation followed */
	int64_t self_id;	/* the newest of them, 0: none */
	int64_t feedback;	/* third-party feedback responses received */
	int64_t observations;	/* effective submitted observations by assessors (not self) */
	int64_t passed;		/* ... of which passed */
	int64_t last_id;	/* the latest of them (observed_at, id), 0: none */
	int64_t last_score, last_max_score;	/* hundredths */
	bool last_passed;
};

/*
 * The enrolments of context_id whose learner is an active member of it, as assessor_id sees
 * them: assigned to assessor_id first, then by learner name, then enrolment id. With
 * mine_only, only the enrolments assigned to assessor_id. *out from a.
 */
enum at_rc worklist_list(struct db *db, struct arena *a, int64_t context_id,
			 int64_t assessor_id, bool mine_only, struct worklist_row **out,
			 size_t *n, struct at_err *err);

/* The rating scale of a rating item: the scale of its first linked competency's framework
 * (the one core/observation.c scores with), and the lowest value that is not a critical
 * miss (the highest first-proficient index over its competencies, 0 when none is). */
struct worklist_scale {
	const char *item_key;
	struct rating_scale scale;
	int64_t proficient_from;
};

/* The scales of every rating item of checklist_id that links a competency, in item order.
 * *out from a. AT_BADREQ for a malformed stored scale. */
enum at_rc worklist_scales(struct db *db, struct arena *a, int64_t checklist_id,
			   struct worklist_scale **out, size_t *n, struct at_err *err);

/* One checklist as a page draws it: the stored items (in position order) with the rating
 * scale of each rating item, and the feedback fields of its definition. */
struct worklist_item {
	const char *key, *label, *kind;	/* kind: yesno, rating, points, comment */
	int64_t weight, max_points;	/* hundredths */
	bool critical, required;
	bool has_scale;			/* rating items linked to a competency */
	struct rating_scale scale;
	int64_t proficient_from;
};

struct worklist_field {
	const char *key, *label, *help;
	bool required;
};

struct worklist_checklist {
	int64_t id, program_id;
	const char *key, *title, *description;
	int64_t pass_mark, max_score;	/* hundredths; max_score 0 in storage reads as 100.00 */
	bool by_assessor, by_self;	/* "raters"; absent means assessors only */
	struct worklist_item *items;
	size_t nitems;
	struct worklist_field *fields;
	size_t nfields;
};

/* Load checklist id with its items and feedback fields, from a. AT_NOTFOUND; AT_BADREQ for
 * a stored definition that is not a JSON object or a malformed scale. */
enum at_rc worklist_checklist(struct db *db, struct arena *a, int64_t id,
			      struct worklist_checklist *out, struct at_err *err);

/* The checklists of program_id (id order) without their items: id, key, title, raters. */
enum at_rc worklist_checklists(struct db *db, struct arena *a, int64_t program_id,
			       struct worklist_checklist **out, size_t *n, struct at_err *err);

#endif
