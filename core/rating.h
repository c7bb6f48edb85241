/* rating.h: per-rater competency ratings (append-only) and their reconciliation.
 *
 * Moodle and Canvas keep one rating per competency, last one wins; Attest keeps every rater's.
 * A rating value is a 0-based index into the competency's framework scale.
 *
 * Reconciliation looks at the latest rating of each rater role (assessor, expert, second,
 * self) for one learner and competency, across programs:
 *   assessor_wins     the assessor side's value: the latest "assessor" rating, else "expert",
 *                     else "second"; with only a self-rating, the self value (flag SELF_ONLY).
 *   minimum           the lowest of the roles' latest values.
 *   mean              the mean of the roles' latest values, rounded down (2 and 3 give 2).
 *   agree_within_one  the assessor side's value; when a self-rating exists too and
 *                     |self - assessor side| > 1, the lower of the two with
 *                     RATING_FLAG_REVIEW: a coordinator must look (as core/rules.c decides).
 */
#ifndef AT_RATING_H
#define AT_RATING_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

enum rating_policy {
	RATING_ASSESSOR_WINS,
	RATING_MINIMUM,
	RATING_MEAN,
	RATING_AGREE_WITHIN_ONE,
};

enum {
	RATING_FLAG_REVIEW = 1,		/* raters disagree by more than one level */
	RATING_FLAG_SELF_ONLY = 2,	/* only the learner rated it */
};

/* "assessor_wins", "minimum", "mean", "agree_within_one" (NULL or "" = assessor_wins).
 * Returns AT_BADREQ for anything else. */
enum at_rc rating_policy_parse(const char *s, enum rating_policy *out);
const char *rating_policy_name(enum rating_policy p);	/* static string */

/* The policy named by a program definition: {"reconciliation": "<policy>"}; assessor_wins
 * when absent. AT_NOTFOUND for no such program, AT_BADREQ for an unknown policy. */
enum at_rc rating_policy_of_program(struct db *db, int64_t program_id,
				    enum rating_policy *out, struct at_err *err);

/* A framework scale: JSON [{"name":..,"proficient":bool,"default":bool}, ...], ordered. */
struct rating_scale {
	size_t n;			/* values 0 .. n-1 */
	const char **names;
	const bool *proficient;
	int64_t def;			/* index of the default value, -1 when none */
	int64_t framework_id;
};

/* Parse a scale (1 to 100 values, names required). Result from a. AT_BADREQ if malformed. */
enum at_rc rating_scale_parse(struct arena *a, const char *json, struct rating_scale *out,
			      struct at_err *err);
/* The scale of competency's framework. AT_NOTFOUND, AT_BADREQ (bad scale), AT_DB. */
enum at_rc rating_scale_of(struct db *db, struct arena *a, int64_t competency_id,
			   struct rating_scale *out, struct at_err *err);
/* Lowest proficient index, -1 when the scale has none. */
int64_t rating_scale_first_proficient(const struct rating_scale *s);

struct rating_in {
	int64_t learner_id, competency_id, rater_id;
	const char *rater_role;		/* assessor, self, second, expert */
	int64_t value;			/* scale index */
	int64_t observation_id;		/* 0 = none (a manual rating) */
	int64_t program_id;		/* 0 = none */
	const char *note;		/* NULL = "" */
};

/*
 * Append one rating and its audit row ("rating.record"). MUST run inside the caller's
 * transaction. Checks the role and that value indexes the competency's framework scale.
 * Returns AT_OK and sets *id (may be NULL); AT_BADREQ (err says which field);
 * AT_NOTFOUND for an unknown competency; AT_DB.
 */
enum at_rc rating_record(struct db *db, const struct rating_in *in, int64_t now, int64_t *id,
			 struct at_err *err);

/*
 * The reconciled current value for learner and competency under policy (see above).
 * Returns AT_OK with *value and *flags (RATING_FLAG_*); AT_NOTFOUND when nobody rated it.
 */
enum at_rc rating_current(struct db *db, int64_t learner_id, int64_t competency_id,
			  enum rating_policy policy, int64_t *value, int *flags);

/* As rating_current, also explaining how the value was reached, e.g.
 * "agree_within_one: assessor 3, self 1; differ by more than one level" (from a). */
enum at_rc rating_current_explain(struct db *db, struct arena *a, int64_t learner_id,
				  int64_t competency_id, enum rating_policy policy,
				  int64_t *value, int *flags, const char **how);

struct rating_row {
	int64_t id, rater_id, value, observation_id, program_id, created_at;
	const char *rater_role, *note;
	const int64_t *evidence_ids;	/* evidence behind it: attached to its observation,
					 * or the learner's evidence for this competency */
	size_t nevidence;
};

/* Every rating of learner for competency, oldest first, from a (nothing to free). */
enum at_rc rating_history(struct db *db, struct arena *a, int64_t learner_id,
			  int64_t competency_id, struct rating_row **rows, size_t *nrows);

#endif
