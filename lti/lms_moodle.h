/* lms_moodle.h: Moodle competencies over web services — the outbox handlers are in
 * lms_moodle_handlers (lti/lms.h); these are the calls behind them, for tools and tests. */
#ifndef AT_LMS_MOODLE_H
#define AT_LMS_MOODLE_H

#include "lti/lms.h"

/* Push framework_id (scale configuration, tree, rules) to c->p's Moodle and link its
 * competencies to the course of context_id. Blocking; idempotent (found again by id
 * number, ids kept in lms_map). AT_OK with res->verdict LMS_DONE, else res says why. */
enum at_rc lms_moodle_push_framework(struct lms_ctx *c, int64_t framework_id,
				     int64_t context_id, struct lms_result *res);

struct lms_moodle_rating {
	int64_t grade;			/* Moodle scale value (1-based), 0 when not rated */
	int proficient;
	const char *gradename, *note;	/* note of the newest evidence */
	size_t nevidence;
};

/* Read a learner's course rating back (tool_lp_data_for_user_competency_summary_in_course). */
enum at_rc lms_moodle_read_rating(struct lms_ctx *c, int64_t competency_id, int64_t context_id,
				  int64_t user_id, struct lms_moodle_rating *out,
				  struct lms_result *res);

#endif
