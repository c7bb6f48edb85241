/* lms_util.h: what the Moodle and Canvas REST handlers (lti/lms_moodle.c, lti/lms_canvas.c)
 * share: judging HTTP answers into lms_result verdicts, form encoding, JSON access, and
 * looking up the LMS's ids of Attest's courses, users and placements. */
#ifndef AT_LMS_UTIL_H
#define AT_LMS_UTIL_H

#include <json-c/json.h>
#include <stdint.h>

#include "core/buf.h"
#include "lti/lms.h"

#define LMS_UTIL_MAX_BODY (4u << 20)	/* request bodies we build */

/* A capped buffer freed with a. */
struct buf *lms_util_buf(struct arena *a);
/* Append name=value, form-encoded (RFC 3986 unreserved kept, the rest %XX), with '&'
 * before it when b is not empty. */
void lms_util_form(struct buf *b, const char *name, const char *value);
void lms_util_formf(struct buf *b, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* value percent-encoded for a URL path segment or query value, from a. */
char *lms_util_enc(struct arena *a, const char *value);

/* Set res->verdict and a printf-style plain-text message (capped, control characters
 * replaced by spaces). */
void lms_util_fail(struct lms_result *res, enum lms_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A transport failure (rc != AT_OK from httpc): RETRY with the reason. */
void lms_util_transport(struct lms_result *res, const char *what, enum at_rc rc,
			const struct at_err *err);
/* Record status and Retry-After of an answer in res. */
void lms_util_status(struct lms_result *res, const struct httpc_resp *resp);
/* RETRY for 408, 425, 429 and 5xx; PARK for any other status >= 300 (the message names
 * what, the status and detail, then the capped body). Returns 1 when resp is a failure
 * (res is then set), 0 for 2xx. */
int lms_util_http_failed(struct lms_result *res, const char *what, const struct httpc_resp *resp,
			 const char *detail);

/* Parse a JSON answer (depth-capped; freed with a); NULL if it is not JSON. */
struct json_object *lms_util_json(struct arena *a, const char *text, size_t len);
/* Member key of o as a string ("" if absent; numbers as decimal text), from a. */
const char *lms_util_str(struct arena *a, struct json_object *o, const char *key);
/* Member key of o as an integer (strings of digits accepted), def when absent or not one. */
int64_t lms_util_i64(struct json_object *o, const char *key, int64_t def);

/* Ids the LMS gives Attest's things. Strings from a, "" when unknown.
 *  context: lms_course_id (from the launch) and the LTI context id;
 *  user: lms_user_id (from the launch or roster) and the LTI sub;
 *  placement: the LMS assignment id of its resource link. AT_NOTFOUND if the row is absent
 *  or belongs to another platform. */
enum at_rc lms_util_context(struct db *db, struct arena *a, int64_t platform_id,
			    int64_t context_id, const char **course_id, const char **lti_context);
enum at_rc lms_util_user(struct db *db, struct arena *a, int64_t platform_id, int64_t user_id,
			 const char **lms_user_id, const char **sub);
enum at_rc lms_util_assignment(struct db *db, struct arena *a, int64_t placement_id,
			       int64_t *context_id, const char **assignment_id);

/* 1 when c's platform has lms_url and lms_token; else 0 with res PARKed: "<service> not
 * configured for platform N: attest platform set N lms_url=<url_hint> lms_token=TOKEN"
 * (service says what with its verb: "the Canvas API is"). */
int lms_util_configured(struct lms_ctx *c, struct lms_result *res, const char *service,
			const char *url_hint);
/* The outbox item's payload as a JSON object (from c->a), or NULL with res PARKed. */
struct json_object *lms_util_payload(struct lms_ctx *c, const struct outbox_item *it,
				     struct lms_result *res);
/* lms_util_context() for a handler: AT_OK, or AT_NOTFOUND with res PARKed ("context N is
 * not a course of platform P"). */
enum at_rc lms_util_course(struct lms_ctx *c, int64_t context_id, const char **course_id,
			   const char **lti_context, struct lms_result *res);
/* The finish of a handler whose prepare decides everything (never LMS_SEND): nothing. */
void lms_util_no_finish(struct lms_ctx *c, const struct outbox_item *it, enum at_rc rc,
			const struct httpc_resp *resp, struct lms_result *res);

/* 1 when s is a non-empty string of ASCII digits. */
int lms_util_digits(const char *s);
/* 1 when url starts with base followed by '/', '?' or the end (the token goes only there). */
int lms_util_same_site(const char *base, const char *url);

#endif
