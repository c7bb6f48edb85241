/* observation.h: one rater completing one checklist for one learner at one time.
 *
 * Lifecycle: create (draft) -> save answers and feedback (autosave, drafts only) -> submit
 * (validate, score, ratings, audit; immutable afterwards). A correction is an amendment:
 * a new draft linked by amends_id, carrying a reason, starting from a copy of the answers.
 * Every function here opens and commits its own transaction: do not call it inside one.
 *
 * Scoring (all integers; points and weights in hundredths):
 *   - scored items are yesno, rating and points; comment items never score;
 *   - an answered item i has weight w_i and a fraction f_i in [0, 1]:
 *       yesno  f = 1 for yes, 0 for no
 *       rating f = value / (scale size - 1)   (index 0 is the lowest; a 1-value scale is 1)
 *       points f = value / max_points
 *   - an unanswered optional item is "not applicable": it counts in neither sum;
 *   - score = max_score * sum(w_i * f_i) / sum(w_i), rounded down to a hundredth (each
 *     w_i * f_i is kept to 1/10000 of a hundredth, rounded down); max_score defaults to
 *     100.00 when the checklist says 0; no answered weight at all scores 0;
 *   - passed = score >= pass_mark and no critical miss. A critical miss is a critical item
 *     left unanswered, a yesno answered no, a rating below the first proficient scale
 *     value, or points of 0;
 *   - a self-evaluation (rater_role self) is scored the same way but never passes
 *     (passed = 0) and needs no feedback fields.
 *
 * Ratings written on submit, one per linked competency (rater and role of the observation):
 *   rating item -> its value; yesno item -> yes: the scale default when it is proficient,
 *   else the first proficient value; no: value 0 (the lowest, "not yet"); points and comment
 *   items rate nothing. Several items of one observation on one competency: the lowest wins.
 */
#ifndef AT_OBSERVATION_H
#define AT_OBSERVATION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

#define OBS_TEXT_MAX 16384	/* bytes per answer text or feedback field */
#define OBS_KEY_MAX 200		/* session_key, client_key */

struct obs_new {
	int64_t enrolment_id, checklist_id;
	int64_t assessor_id;		/* the rater; for rater_role self, the learner */
	const char *rater_role;		/* assessor, self, second, expert; NULL = assessor */
	const char *session_key;	/* one observed session, several raters; NULL = "" */
	const char *client_key;		/* idempotent offline submit; NULL = none */
	int64_t observed_at;
};

/*
 * Create a draft. With a client_key that exists already, returns that observation instead
 * (*existed = true) when it belongs to the same rater, enrolment and checklist, else
 * AT_CONFLICT. Returns AT_OK and sets *id; AT_BADREQ (bad role, a checklist of another
 * program, self-rating someone else, assessing oneself); AT_NOTFOUND (enrolment, checklist).
 */
enum at_rc observation_create(struct db *db, const struct obs_new *n, int64_t now,
			      int64_t *id, bool *existed, struct at_err *err);

struct obs_answer {
	const char *item_key;
	bool has_value;		/* false: clears the value (comment items never have one) */
	int64_t value;		/* yesno 0/1, rating scale index, points in hundredths */
	const char *text;	/* the comment, or a note on any item; NULL = "" */
};

struct obs_feedback {
	const char *key;	/* a key of the checklist definition's "feedback" list */
	const char *text;
};

/*
 * Autosave: upsert answers and feedback fields of draft id, in one transaction; nothing is
 * stored when any entry is invalid. actor must be the observation's rater (AT_FORBIDDEN).
 * Returns AT_OK; AT_CONFLICT once submitted; AT_BADREQ naming the item or field and why;
 * AT_TOOBIG for a text over OBS_TEXT_MAX; AT_NOTFOUND.
 */
enum at_rc observation_save(struct db *db, int64_t id, int64_t actor_id,
			    const struct obs_answer *ans, size_t nans,
			    const struct obs_feedback *fb, size_t nfb, int64_t now,
			    struct at_err *err);

/*
 * Submit draft id: in one transaction check the rater (AT_FORBIDDEN), the assessor
 * qualification the program requires ({"assessor_qualification": {"program": KEY,
 * "outcome": OUTCOME}}: the rater's latest confirmed/overridden, unexpired decision in
 * program KEY must have that outcome; AT_FORBIDDEN otherwise; self-evaluations are exempt),
 * completeness (AT_BADREQ naming the first missing required item or feedback field), then
 * score, mark submitted, write ratings and the audit rows. AT_CONFLICT when already
 * submitted (also for the loser of two concurrent submits).
 */
enum at_rc observation_submit(struct db *db, int64_t id, int64_t actor_id, int64_t now,
			      struct at_err *err);

/*
 * Amend submitted observation id: a new draft with amends_id = id, a copy of its answers and
 * feedback, and reason (required, not blank). Only the original rater may amend; an
 * observation can be amended once (amend the amendment to correct again: AT_CONFLICT).
 * Audited as "observation.amend". Sets *new_id.
 */
enum at_rc observation_amend(struct db *db, int64_t id, int64_t actor_id, const char *reason,
			     int64_t now, int64_t *new_id, struct at_err *err);

struct obs_item_answer {
	int64_t item_id;
	const char *key;
	bool has_value;
	int64_t value;
	const char *text;
};

struct observation {
	int64_t id, enrolment_id, checklist_id, assessor_id, learner_id, program_id;
	const char *rater_role, *session_key, *client_key, *status, *amend_reason;
	int64_t score, max_score, amends_id, observed_at, created_at, updated_at, submitted_at;
	bool passed, critical_missed;
	struct obs_item_answer *answers;	/* in item position order, answered only */
	size_t nanswers;
	struct obs_feedback *feedback;
	size_t nfeedback;
};

/* Load observation id with its answers and feedback, from a. AT_NOTFOUND. */
enum at_rc observation_get(struct db *db, struct arena *a, int64_t id,
			   struct observation *out);

/*
 * The effective submitted observations of an enrolment: submitted, and not superseded by a
 * submitted amendment (the latest amendment stands for the original). checklist_id 0 means
 * any checklist, rater_role NULL any role. Oldest first (observed_at, id); answers are not
 * loaded. From a.
 */
enum at_rc observation_effective(struct db *db, struct arena *a, int64_t enrolment_id,
				 int64_t checklist_id, const char *rater_role,
				 struct observation **out, size_t *n);

/* Side by side: per checklist item, each observation's answer (cells[j] for obs j). */
struct obs_cell {
	bool answered, has_value;
	int64_t value;
	const char *text;
};

struct obs_side_row {
	int64_t item_id;
	const char *key, *label, *kind;
	struct obs_cell *cells;
};

struct obs_side {
	size_t nobs, nitems;
	struct observation *obs;	/* the compared observations (with answers) */
	struct obs_side_row *rows;	/* nitems, in item position order */
};

/* The effective submitted observations of session_key on checklist_id (every rater of one
 * observed session), ordered by rater role (assessor, expert, second, self) then id.
 * AT_BADREQ for an empty key, AT_NOTFOUND when none. */
enum at_rc observation_side_by_session(struct db *db, struct arena *a, int64_t checklist_id,
				       const char *session_key, struct obs_side *out);

/* The latest effective submitted self-evaluation and the latest effective submitted
 * non-self observation of enrolment on checklist, in that order (a missing one is left
 * out; AT_NOTFOUND when both are). */
enum at_rc observation_side_self(struct db *db, struct arena *a, int64_t enrolment_id,
				 int64_t checklist_id, struct obs_side *out);

#endif
