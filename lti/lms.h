/* lms.h: delivering outbox items (core/outbox.h) to an LMS — the contract between the sync
 * worker (lti/sync.c: claims items, runs their writes concurrently with curl multi, records
 * outcomes) and the per-service handlers (lti/lti_ags.c, lti/lti_nrps.c, lti/lms_moodle.c,
 * lti/lms_canvas.c).
 *
 * Each item kind has a handler with two steps:
 *  - prepare: make the item's one write ready. It may make blocking set-up calls first
 *    (access tokens, finding or creating a line item, a Moodle framework, a Canvas rubric —
 *    each cached or recorded in lms_map so it happens once) and then either fills *rq and
 *    returns LMS_SEND, or decides without a write (res->verdict set; e.g. a multi-call push
 *    done entirely in prepare, or a permanent error).
 *  - finish: judge the write's outcome (rc != AT_OK: transport error, resp undefined).
 * The worker sends every LMS_SEND request of a batch at once and then calls finish.
 *
 * Payloads (outbox.payload, JSON), written by core/lmsq.c when a change is stored:
 *  score           {"placement_id", "user_id" (app_user id), "lineitem" (URL or ""),
 *                   "score_given", "score_max" (numbers), "activity_progress",
 *                   "grading_progress", "timestamp" (ISO 8601 with milliseconds, UTC),
 *                   "comment", "evidence": [{"evidence_id","title"}] (the observation's
 *                   files, for the Canvas submission extension: each becomes a capability
 *                   link base_url/evidence-share/TOKEN made when the score is sent, see
 *                   core/share.h; an older {"url","title"} entry naming
 *                   /api/v1/evidence/ID/download is shared the same way, any other url is
 *                   sent as it is, "/..." resolved against lms_ctx.base_url),
 *                   "new_submission" (Canvas: false for a decision)}
 *  roster          {"context_id"}                         NRPS import of one course
 *  moodle_framework {"framework_id", "context_id"}        push tree + scale, add to course
 *  moodle_rating   {"framework_id", "competency_id", "context_id", "user_id", "grade" (1-based
 *                   Moodle scale value), "note", "evidence_url"}
 *  canvas_outcomes {"framework_id", "context_id"}         outcome groups + outcomes + rubric
 *  canvas_result   {"framework_id", "placement_id", "context_id", "user_id",
 *                   "ratings": [{"competency_id", "value" (0-based scale index)}], "comment"}
 * Ids are Attest's; handlers look up the LMS's ids (context.lms_course_id,
 * app_user.lms_user_id, resource_link.lms_assignment_id, lms_map). */
#ifndef AT_LMS_H
#define AT_LMS_H

#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/outbox.h"
#include "core/platform.h"
#include "lti/httpc.h"

enum lms_verdict {
	LMS_DONE,	/* delivered (or nothing to do any more) */
	LMS_RETRY,	/* transient: network, timeout, 5xx, 429, 409 on a Moodle timestamp tie */
	LMS_PARK,	/* permanent: 4xx, missing configuration; kept for an admin */
};

enum lms_step { LMS_SEND, LMS_DECIDED };

struct lms_result {
	enum lms_verdict verdict;
	long http_status;		/* 0: no HTTP answer */
	int64_t retry_after_ms;		/* from Retry-After, -1 when absent */
	char error[1024];		/* plain text; the (capped) response body when parked */
	void *state;			/* the handler's own, from prepare to finish (arena) */
};

struct lms_req {
	const char *method, *url;
	const char **headers;		/* NULL-terminated "Name: value" lines */
	const char *body;
	size_t body_len;
};

struct lms_ctx {
	struct db *db;
	struct arena *a;		/* per batch */
	const struct platform *p;	/* the item's platform, with lms_url/lms_token */
	const struct httpc_opts *http;
	int64_t now_ms;
	void *tokens;			/* the worker's access-token cache (lti/lti_svc.h) */
	const char *base_url;		/* Attest's public URL (evidence links) */
};

/* Shared by the handlers (lti/sync.c): the verdict for an HTTP answer — 2xx DONE; 408, 425,
 * 429 and 5xx RETRY (Retry-After kept); other statuses PARK with the capped body. A
 * transport error (rc != AT_OK) is RETRY. */
void lms_judge(enum at_rc rc, const struct httpc_resp *resp, struct lms_result *res);
/* The handler of kind, NULL when none is linked in. */
const struct lms_handler *lms_handler_of(const char *kind);

struct lms_handler {
	const char *kind;
	enum lms_step (*prepare)(struct lms_ctx *c, const struct outbox_item *it,
				 struct lms_req *rq, struct lms_result *res);
	void (*finish)(struct lms_ctx *c, const struct outbox_item *it, enum at_rc rc,
		       const struct httpc_resp *resp, struct lms_result *res);
};

/* Handlers by service; each array ends with { NULL }. */
extern const struct lms_handler lti_ags_handlers[];	/* score (lti/lti_ags.c) */
extern const struct lms_handler lti_nrps_handlers[];	/* roster (lti/lti_nrps.c) */
extern const struct lms_handler lms_moodle_handlers[];	/* moodle_* (lti/lms_moodle.c) */
extern const struct lms_handler lms_canvas_handlers[];	/* canvas_* (lti/lms_canvas.c) */

#endif
