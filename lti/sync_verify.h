/* sync_verify.h: `attest sync verify` — read back from the LMS what Attest delivered and say
 * where the two differ.
 *
 * What Attest last delivered is taken from the outbox: per order key (core/lmsq.h) the done
 * items in delivery order (delivered_at, id).
 *  score          the last done score per learner and placement; read back with
 *                 GET {lineitem}/results?user_id= (AGS, scope result.readonly): the result
 *                 must exist and resultScore / resultMaximum x scoreMaximum must equal the
 *                 scoreGiven sent (to 0.005).
 *  moodle_rating  the last done rating per course, learner and competency; read back with
 *                 tool_lp_data_for_user_competency_summary_in_course: the learner's course
 *                 rating must be the grade sent, and the newest evidence note must carry
 *                 the evidence URL sent.
 *  canvas_result  every value sent per placement, learner and competency (a rubric
 *                 assessment carries the earlier values along, so the last one sent for a
 *                 competency counts); read back with GET /api/v1/courses/:id/outcome_results:
 *                 the result aligned with the placement's assignment must have that score.
 * Items still pending or parked are not compared (their count is reported). */
#ifndef AT_SYNC_VERIFY_H
#define AT_SYNC_VERIFY_H

#include <stdint.h>
#include <stdio.h>

#include "core/db.h"
#include "lti/httpc.h"

struct sync_verify_opts {
	const char *keys_dir;		/* the tool keys (AGS access tokens) */
	const char *base_url;		/* Attest's public URL (evidence links in Moodle notes) */
	struct httpc_opts http;
	int64_t platform_id;		/* 0: every platform */
	int64_t context_id;		/* Attest's course (context row id); 0: every course */
	int verbose;			/* print the values that match too */
	FILE *out;			/* one line per mismatch (and per match when verbose) */
};

struct sync_verify_stats {
	int64_t checked;		/* values compared */
	int64_t matched, mismatched;
	int64_t unreadable;		/* values the LMS could not be asked about */
	int64_t undelivered;		/* pending or parked items, not compared */
};

/* Compare; lines go to o->out. AT_OK whatever the comparison found (see st); AT_DB or
 * AT_TIMEOUT when the database failed. */
enum at_rc sync_verify(struct db *db, const struct sync_verify_opts *o,
		       struct sync_verify_stats *st);

#endif
