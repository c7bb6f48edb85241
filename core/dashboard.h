/* dashboard.h: what a coordinator sees of a program within a course — every learner of the
 * course roster (those who have not launched yet included) with their enrolment, group,
 * assigned assessors, attempts per checklist, decisions and escalation; the third-party
 * feedback of an enrolment; and the numbers behind the report pictures (competency
 * proficiency by group, pass rates per week or month).
 *
 * Read-only. Authorization is the caller's (dashboard_is_staff answers the question).
 * Attempts and pass rates count effective observations: submitted, by an assessor role
 * (self-evaluations left out), an amended original replaced by its submitted amendment.
 */
#ifndef AT_DASHBOARD_H
#define AT_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/assign.h"
#include "core/db.h"
#include "core/enrolment.h"
#include "core/program.h"
#include "core/rc.h"
#include "core/rules.h"

/* A course in which user_id is staff (active membership with role & 6). */
struct dashboard_course {
	int64_t id;
	const char *title, *label;
};

/* Does user_id hold an active assessor or admin membership in context_id? */
bool dashboard_is_staff(struct db *db, int64_t user_id, int64_t context_id);

/* The courses where user_id is staff, by title. From a. */
enum at_rc dashboard_courses(struct db *db, struct arena *a, int64_t user_id,
			     struct dashboard_course **out, size_t *n);

/* A program placed in a course (deep linking) or with an enrolment there. */
struct dashboard_program {
	int64_t id;
	const char *key, *title;
	bool placed;
	int64_t enrolled;	/* enrolments of the course in it */
};

/* The programs of context_id, by title. From a. */
enum at_rc dashboard_programs(struct db *db, struct arena *a, int64_t context_id,
			      struct dashboard_program **out, size_t *n);

/* Is program_id placed or used in context_id? */
bool dashboard_program_in_course(struct db *db, int64_t program_id, int64_t context_id);

/* One learner of the course for one program. */
struct dashboard_row {
	int64_t user_id;
	const char *name;
	bool roster_only;	/* never launched: app_user.launched_at = 0 and the membership
				 * came from the roster (source other than "launch") */
	bool member;		/* an active learner membership of the course */
	const char *source;	/* membership.source ("launch", "nrps"), "" without one */
	int64_t enrolment_id;	/* 0: not enrolled in the program */
	bool elsewhere;		/* enrolled in the program through another course */
	const char *status;	/* enrolment status; "" when not enrolled here */
	int64_t started_at, completed_at;
	const char *cohort;	/* "" when none */
	struct assign_person *assessors;
	size_t n_assessors;
	int64_t *attempts, *passed;	/* per program checklist (p->checklists order) */
	int64_t attempts_total;
	int64_t pending_id;		/* the open proposal, 0 when none */
	const char *pending_outcome;
	const char *decision;		/* the outcome in force, NULL when none */
	bool decision_expired;
	bool has_escalation;		/* enrolled here, active */
	struct rules_escalation esc;
};

struct dashboard_filter {
	const char *cohort;	/* NULL: any; else exactly this group ("" = no group) */
	int64_t assessor_id;	/* 0: any; else enrolments assigned to this assessor */
};

/*
 * Every learner of context_id for program p (stored: p->id set): active learner members
 * and anyone enrolled in p through this course, by name; filtered by f (NULL: none; a
 * filter on group or assessor keeps enrolled learners only). Escalations are evaluated on
 * day now. From a.
 */
enum at_rc dashboard_rows(struct db *db, struct arena *a, const struct program *p,
			  int64_t context_id, int64_t now, const struct dashboard_filter *f,
			  struct dashboard_row **out, size_t *n);

/* The distinct group labels of p's enrolments in context_id, sorted ("" left out). */
enum at_rc dashboard_cohorts(struct db *db, struct arena *a, int64_t program_id,
			     int64_t context_id, const char ***out, size_t *n);

/* A third-party feedback link of an enrolment and its response, if any. */
struct dashboard_feedback {
	int64_t id;
	const char *form_key;
	const char *created_by;		/* display name */
	int64_t created_at, expires_at, used_at;	/* used_at 0: not answered */
	bool has_response;
	const char *answers;		/* JSON object text ("" without a response) */
	bool has_score;
	int64_t score;			/* hundredths */
};

/* The feedback links of enrolment_id, newest first. From a. */
enum at_rc dashboard_feedback(struct db *db, struct arena *a, int64_t enrolment_id,
			      struct dashboard_feedback **out, size_t *n);

/* Competency proficiency by group: cell [g * n_comps + c]. */
struct dashboard_heat {
	size_t n_groups, n_comps;
	const char **groups;		/* labels, sorted; "" = learners with no group */
	int64_t *learners;		/* per group: enrolments counted */
	struct enrolment_comp *comps;	/* the program's competencies */
	int64_t *rated, *proficient;	/* per cell */
};

/*
 * The heat map of p in context_id: every enrolment that is not withdrawn, grouped by
 * cohort; per competency, how many have a current rating (reconciled by the program's
 * policy) and how many of those ratings are proficient on the framework scale. From a.
 */
enum at_rc dashboard_heatmap(struct db *db, struct arena *a, const struct program *p,
			     int64_t context_id, struct dashboard_heat *out);

/* Share proficient of a cell in hundredths of a percent (5000 = 50 %), -1 without learners. */
int64_t dashboard_share(const struct dashboard_heat *h, size_t g, size_t c);

/* One period of the pass rate chart. */
struct dashboard_period {
	char start[11];		/* YYYY-MM-DD: the Monday of the week, or the 1st of the month */
	char label[16];		/* "2026-01-05" (week of) or "2026-01" */
	int64_t total, passed;	/* effective assessor observations observed in the period */
};

/*
 * Pass rates of p's observations in context_id over the count (1..104) weeks (monthly:
 * months) up to and including the one holding now, oldest first. *out has count entries.
 */
enum at_rc dashboard_passrates(struct db *db, struct arena *a, int64_t program_id,
			       int64_t context_id, bool monthly, int count, int64_t now,
			       struct dashboard_period **out);

#endif
