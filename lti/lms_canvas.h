/* lms_canvas.h: Canvas outcomes over the Canvas REST API — the outbox handlers are in
 * lms_canvas_handlers (lti/lms.h); these are the calls behind them, for tools and tests. */
#ifndef AT_LMS_CANVAS_H
#define AT_LMS_CANVAS_H

#include "lti/lms.h"

/* Push framework_id as an outcome group tree with outcomes into the Canvas course of
 * context_id. Blocking; idempotent (ids in lms_map, found again by vendor_guid). */
enum at_rc lms_canvas_push_outcomes(struct lms_ctx *c, int64_t framework_id, int64_t context_id,
				    struct lms_result *res);

struct lms_canvas_result {
	int64_t competency_id;
	int64_t score;			/* points = Attest's 0-based scale value; -1 if none */
	int mastery;
	const char *alignment;		/* e.g. "assignment_12" */
};

/* A learner's outcome results for the framework's outcomes in the course
 * (GET /api/v1/courses/:id/outcome_results, every page); *out from c->a. */
enum at_rc lms_canvas_read_results(struct lms_ctx *c, int64_t framework_id, int64_t context_id,
				   int64_t user_id, struct lms_canvas_result **out, size_t *n,
				   struct lms_result *res);

#endif
