/* rules.h: certification rules and escalations, evaluated as pure functions.
 *
 * rules_evaluate() and rules_escalation() read only their arguments (no SQL, no clock):
 * the caller loads the inputs (rules_load_inputs() does it from the tables) and passes
 * "now". The rule proposes an outcome; a coordinator confirms or overrides it.
 * Scores are hundredths (85.00 = 8500), percentages hundredths of a percent (80 % = 8000).
 */
#ifndef AT_RULES_H
#define AT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/program.h"
#include "core/rc.h"

struct json_object;

/* One submitted observation (amended originals left out: the amendment replaces them). */
struct rules_obs {
	int64_t id;
	const char *checklist;		/* checklist key */
	const char *rater_role;		/* "self", or an assessor role ("assessor", "expert", ..) */
	const char *session_key;	/* "" when none */
	int64_t assessor_id;
	int64_t score, max_score;	/* hundredths */
	bool passed;			/* as computed at submit */
	bool critical_missed;		/* a missed critical item fails it, whatever the score */
	int64_t observed_at;		/* unix seconds */
};

/* One competency rating. The latest per side (self / assessor) counts. */
struct rules_rating {
	const char *competency;		/* idnumber */
	const char *rater_role;		/* "self" or an assessor role */
	int64_t rater_id;
	int level;			/* 1-based position on the scale (rating.value + 1) */
	int64_t at;			/* when it was given */
};

/* Third-party feedback for one form. */
struct rules_feedback {
	const char *form;		/* form key */
	int64_t responses;		/* submitted responses */
	int64_t scored;			/* responses with a score */
	int64_t score_sum;		/* hundredths, over the scored responses */
};

struct rules_input {
	int64_t now;			/* window_days counts back from here */
	const struct rules_obs *obs;
	size_t n_obs;
	const struct rules_rating *ratings;
	size_t n_ratings;
	const struct rules_feedback *feedback;
	size_t n_feedback;
};

struct rules_result {
	const char *outcome;	/* "pass" | "fail" | "pending", or a tier key | the fallback */
	bool has_percent;	/* the rule is k_of_last_n with "percent": true */
	int64_t percent;	/* hundredths of a percent: 8000 = 80 % */
	bool review;		/* agree_within_one found a disagreement: a coordinator decides */
	const char *basis;	/* JSON text: what the rule counted and why (arena) */
};

/*
 * Evaluate rule (NULL: p->rule; or e.g. the recertification rule) over in. Returns AT_OK
 * and fills *out (strings from a); AT_BADREQ for a rule this code does not know (cannot
 * happen for a parsed program). Pure: reads nothing but its arguments.
 */
enum at_rc rules_evaluate(const struct program *p, struct json_object *rule,
			  const struct rules_input *in, struct arena *a, struct rules_result *out);

/* Where an enrolment stands on the program's deadline and escalation ladder. */
struct rules_escalation {
	int32_t start, today;	/* UTC days (bizdays) */
	int elapsed;		/* business days in (start, today] */
	int32_t deadline;	/* start + complete_within business days; -1: none */
	bool overdue;		/* not completed and today is past the deadline */
	int step;		/* the latest step due on or before today; -1: none */
	const char *step_key, *step_label;	/* borrowed from p; NULL when step < 0 */
	int32_t step_day;	/* the day it fell due */
	bool due_today;		/* step_day == today: deliver it today */
	int next;		/* the next step; -1: none */
	int32_t next_day;
};

/*
 * The escalation state on day now for an enrolment started at started_at (both unix
 * seconds, taken as UTC dates). Step i falls due on start + (sum of after_business_days
 * of steps 0..i) business days, weekends and the program's holidays skipped. A completed
 * enrolment has no step due and is never overdue. Pure.
 */
void rules_escalation(const struct program *p, int64_t started_at, int64_t now, bool completed,
		      struct rules_escalation *out);

/* An enrolment with everything rules_evaluate() needs. */
struct rules_enrolment {
	int64_t id, user_id, started_at;
	bool completed;			/* completed_at is set */
	const char *status;
	struct program *program;
	struct rules_input in;
};

/*
 * Load enrolment_id: its program (parsed), submitted observations (amended ones replaced
 * by their amendment), ratings of the learner in the program's frameworks (given for this
 * program or for none), and feedback response counts per form. All from a. Returns AT_OK;
 * AT_NOTFOUND for no such enrolment; AT_DB and friends.
 */
enum at_rc rules_load_inputs(struct db *db, struct arena *a, int64_t enrolment_id, int64_t now,
			     struct rules_enrolment *out);

#endif
