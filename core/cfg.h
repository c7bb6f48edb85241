/* cfg.h: configuration — one table of keys; attest.conf (key = value) then ATTEST_<KEY> env. */
#ifndef AT_CFG_H
#define AT_CFG_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

#include "core/rc.h"

struct cfg {
	char *base_url;		/* public URL of Attest, no trailing slash */
	char *database;		/* sqlite:PATH or postgresql://... */
	char *socket;		/* FastCGI unix socket path */
	char *keys_dir;		/* tool private keys (0700 dir, 0600 files) */
	char *web_dir;		/* static files served by nginx */
	char *deployment_policy; /* "learn" or "strict" */
	char *frame_ancestors;	/* extra CSP frame-ancestors origins, space separated */
	int64_t workers;
	int64_t log_level;	/* 0 error .. 3 debug */
	int64_t max_body;	/* bytes, request bodies other than uploads */
	int64_t session_ttl;	/* seconds */
	int64_t state_ttl;	/* seconds an OIDC login state lives */
	int64_t clock_skew;	/* seconds of leeway on exp/iat */
	int64_t jwks_min_refetch; /* seconds between JWKS refetches on unknown kid */
	int64_t jwks_max_age;	/* seconds a JWKS is cached when the platform says nothing */
	int64_t lms_connect_ms;
	int64_t lms_total_ms;
	int64_t lms_max_reply;	/* bytes */
	int64_t lms_allow_http;	/* 1: allow http:// platform URLs (development, tests) */
	int64_t key_grace;	/* seconds an old key stays published after rotation */
	int64_t max_upload;	/* bytes, largest streamed upload (evidence files) */
	char *evidence_dir;	/* content-addressed evidence files (0750 dirs, 0640 files) */
	char *evidence_types;	/* allowed media types of evidence files, space separated */
};

/* Fill c with defaults, then read path (if not NULL and it exists, or must_exist),
 * then the environment. Errors name file:line or the variable. Caller: cfg_free(). */
enum at_rc cfg_load(struct cfg *c, const char *path, bool must_exist, struct at_err *err);
void cfg_free(struct cfg *c);
/* Print every key with its value and help text (attest config). */
void cfg_dump(const struct cfg *c, FILE *out);

#endif
