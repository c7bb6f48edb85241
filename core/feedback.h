/* feedback.h: third-party feedback through one-time links (e.g. the students of a
 * trainer-in-training). Respondents have no account: the link's token is the credential.
 *
 * A link carries 32 random bytes (base64url); only their SHA-256 is stored. A link expires
 * and takes one submission: the claim is one conditional UPDATE, so two submissions racing
 * on any number of workers cannot both win.
 */
#ifndef AT_FEEDBACK_H
#define AT_FEEDBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rc.h"

#define FEEDBACK_ANSWERS_MAX (64 << 10)	/* bytes of a response's JSON answers */
#define FEEDBACK_SCORE_MAX 100000	/* hundredths: scores are 0.00 .. 1000.00 */
#define FEEDBACK_TTL_MAX (90 * 86400)	/* seconds a link may live */
#define FEEDBACK_TTL_DEFAULT_DAYS 14	/* days, when the form does not say */

struct program;

struct feedback_link {
	int64_t id;
	int64_t enrolment_id;
	const char *form_key;
	int64_t created_by;
	int64_t created_at;
	int64_t expires_at;
	int64_t used_at;	/* 0: not used */
};

/* The "link_valid_days" of feedback form form in p's definition (1 .. FEEDBACK_TTL_MAX in
 * days), else FEEDBACK_TTL_DEFAULT_DAYS. */
int64_t feedback_form_ttl_days(const struct program *p, const char *form);

/*
 * Make a link for enrolment_id and form form_key (1..64 bytes of [A-Za-z0-9_.-]), valid
 * for ttl seconds (1..FEEDBACK_TTL_MAX). Returns AT_OK, *token (the secret to put in the
 * URL, from a; shown once, never stored) and *link_id; AT_BADREQ for bad arguments or an
 * unknown enrolment or user; AT_DB. Audited ("feedback.link").
 */
enum at_rc feedback_link_create(struct db *db, struct arena *a, int64_t enrolment_id,
				const char *form_key, int64_t created_by, int64_t ttl,
				int64_t now, char **token, int64_t *link_id,
				struct at_err *err);

/*
 * Look a token up to show its form. Returns AT_OK and fills *out (strings from a);
 * AT_NOTFOUND for an unknown or malformed token; AT_FORBIDDEN when it has expired;
 * AT_CONFLICT when it was used already. err says which, in words fit for the respondent.
 */
enum at_rc feedback_link_check(struct db *db, struct arena *a, const char *token, int64_t now,
			       struct feedback_link *out, struct at_err *err);

/*
 * Submit the response for token: answers_json must be a JSON object (at most
 * FEEDBACK_ANSWERS_MAX bytes, nesting 16 deep; stored re-serialised); score in hundredths
 * (0..FEEDBACK_SCORE_MAX) when has_score. The link is claimed and the response stored in
 * one transaction. Returns AT_OK and *response_id; AT_CONFLICT when the link was used
 * (also by a submission racing this one); AT_FORBIDDEN when expired; AT_NOTFOUND for an
 * unknown token; AT_BADREQ for bad answers or score; AT_DB/AT_TIMEOUT (nothing stored).
 */
enum at_rc feedback_submit(struct db *db, struct arena *a, const char *token,
			   const char *answers_json, bool has_score, int64_t score, int64_t now,
			   int64_t *response_id, struct at_err *err);

/* What program rules count: responses of one enrolment (one form, or all if form_key is
 * NULL), how many carry a score, their mean in hundredths rounded half away from zero
 * (0 when none). */
struct feedback_summary {
	int64_t responses;
	int64_t scored;
	int64_t average;	/* hundredths */
	int64_t links;		/* links made, used or not */
};

enum at_rc feedback_summary(struct db *db, int64_t enrolment_id, const char *form_key,
			    struct feedback_summary *out);

#endif
