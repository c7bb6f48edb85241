/* lti_ags.h: LTI Assignment and Grade Services 2.0 (https://www.imsglobal.org/spec/lti-ags/v2p0)
 * — line items, scores, results — and the "score" outbox handler (lti/lms.h).
 *
 * Line items: one per placement (core placement row). Created by the platform at deep
 * linking (the content item's lineItem, with resourceId = placement.resource_id and tag
 * "attest") and learned at the first launch of the link (the AGS claim's lineitem);
 * otherwise found through the line items service by resource_id, or created there, once
 * (a per-placement lock in lms_map, and the lookup first, keep it single). The URL is kept
 * in placement.lineitem_url.
 *
 * Scores: POST {lineitem}/scores (inserted before a query string: Moodle's line item URLs
 * end in ?type_id=N) as application/vnd.ims.lis.v1.score+json with userId = the learner's
 * LTI sub. Timestamps are strictly increasing per learner and line item at one-second
 * resolution (Moodle answers 409 to a timestamp not later than the stored grade's, to the
 * second): the last second sent is kept in lms_map (kind "ags_ts", key = the item's
 * order_key). A 409 is checked against the results service: when the platform holds our
 * score already (a delivery whose outcome was lost) the item is done; otherwise it is
 * retried with a later timestamp.
 *
 * Exactly once: before each send the item records a "sent" marker (lms_map kind
 * "ags_sent", key = the item id, value = the timestamp sent, "SECONDS.MMM"), dropped once
 * the platform answered the attempt below 500. An item found with its marker (the worker
 * died, or the answer was lost: timeout, dropped connection, 5xx), or an older item with
 * attempts > 0 whose last attempt ended that way, reads the learner's result back first
 * (lti_ags_read) and is done without a write when the platform already holds this score:
 * same scoreGiven (resultScore / resultMaximum × scoreMaximum, within 0.005), the same
 * timestamp where the platform shows one (Moodle's result "timestamp", to the second;
 * Canvas's submission extension "submitted_at", to the millisecond) and the same comment
 * where it shows one. Canvas accepts a score with an equal timestamp again and keeps each
 * in the submission history, so without this a lost answer meant a duplicate there. When
 * the read back is impossible (result.readonly not granted, a 4xx) the score is sent again
 * as before (at least once); when it fails transiently (5xx, timeout) the item waits. */
#ifndef AT_LTI_AGS_H
#define AT_LTI_AGS_H

#include <stdint.h>

#include "core/arena.h"
#include "lti/lms.h"

/* The URL of a line item's sub-resource ("scores", "results"): path joined before any
 * query string, extra query (may be NULL) appended. From a. */
char *lti_ags_join(struct arena *a, const char *lineitem, const char *sub, const char *query);

/* The line item URL of placement_id, found or created as described above. AT_OK and *url;
 * AT_CONFLICT when another worker is creating it right now (retry shortly); AT_FORBIDDEN
 * when the platform did not grant the needed scope; AT_NOTFOUND when the course has no
 * line items service (err says so); AT_UPSTREAM/AT_TIMEOUT. */
enum at_rc lti_ags_lineitem(struct lms_ctx *c, int64_t placement_id, const char **url,
			    struct at_err *err);

enum lti_ags_ts {
	LTI_AGS_TS_NONE,	/* the result shows no timestamp */
	LTI_AGS_TS_SEC,		/* to the second (Moodle's "timestamp") */
	LTI_AGS_TS_MS,		/* with milliseconds (Canvas's extension "submitted_at") */
};

/* A learner's result as the platform shows it (strings from c->a). */
struct lti_ags_res {
	int found;			/* 0: the platform holds no result for the learner */
	double score, max;		/* resultScore, resultMaximum; NAN when absent */
	const char *comment;		/* NULL when absent */
	enum lti_ags_ts ts_kind;
	int64_t ts_sec;			/* unix seconds (UTC) */
	int ts_ms;
};

/* GET {lineitem}/results?user_id=SUB (scope result.readonly; a 401 with a cached token gets
 * a new token, once). AT_OK with *out (found or not); AT_FORBIDDEN when the scope was not
 * granted; AT_UNAUTH when the token endpoint refused; AT_BADREQ for a 4xx; AT_UPSTREAM,
 * AT_TIMEOUT for 5xx, 429 and transport errors. */
enum at_rc lti_ags_read(struct lms_ctx *c, const char *lineitem, const char *user_sub,
			struct lti_ags_res *out, struct at_err *err);

/* Read back the result of user_sub on lineitem: *found, *score (resultScore) and *max. */
enum at_rc lti_ags_result(struct lms_ctx *c, const char *lineitem, const char *user_sub,
			  int *found, double *score, double *max, struct at_err *err);

#endif
