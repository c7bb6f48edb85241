/* lmsq.h: what the LMS must hear about a stored change — outbox items (core/outbox.h)
 * queued INSIDE the transaction of the change (so a change and its items commit or roll
 * back together). Payloads as documented in lti/lms.h; timestamps carry the change's time.
 *
 * An observation submitted (not a self-evaluation), for each placement of its program in
 * the enrolment's course (the program's placement and the placement of its checklist):
 *   "score"   running result: scoreGiven = score / max_score * the placement's scoreMaximum;
 *             checklist placement: activityProgress Completed; program placement:
 *             InProgress; gradingProgress FullyGraded; comment "Observation N: S/M (passed|
 *             not passed)"; evidence: the observation's evidence files, as paths
 *             ("/api/v1/evidence/ID/download") the handler resolves against Attest's URL.
 * and, when the platform has LMS REST credentials (platform.lms_url and lms_token):
 *   Moodle  one "moodle_rating" per rating the observation wrote (grade = value + 1);
 *   Canvas  one "canvas_result" per placement and framework with those ratings.
 * A decision confirmed or overridden, for each program placement (checklist NULL):
 *   "score"   the final grade: scoreMaximum when the final outcome is anything but fail,
 *             not_yet or pending (pass, or a tier such as lead), else 0; Completed,
 *             FullyGraded, comment "Certification decision: OUTCOME";
 * and with REST credentials the learner's reconciled rating of every competency of the
 * program's checklists (the program's reconciliation policy), as above.
 *
 * Keys: order_key "score:<placement>:<learner>", "moodle_rating:<course>:<learner>:
 * <competency>", "canvas_result:<placement>:<learner>" (delivered in order per key);
 * idem_key names the change ("score:obs:<observation>:<placement>", "score:dec:<decision>:
 * <placement>", ...), so enqueueing the same change again never adds an item. */
#ifndef AT_LMSQ_H
#define AT_LMSQ_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"

enum at_rc lmsq_observation(struct db *db, struct arena *a, int64_t observation_id,
			    int64_t now, struct at_err *err);
enum at_rc lmsq_decision(struct db *db, struct arena *a, int64_t decision_id, int64_t now,
			 struct at_err *err);

/* A roster import ("roster") of context_id: at most one per course and clock hour unless
 * force (an admin's `attest sync roster`). AT_NOTFOUND for no such course; *id = the item
 * (0 when the course has no NRPS service). */
enum at_rc lmsq_roster(struct db *db, int64_t context_id, int64_t now, bool force,
		       int64_t *id);

#endif
