/* cfg.c: the configuration table, parser and environment overrides. */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cfg.h"
#include "core/mem.h"

enum ctype { CFG_STR, CFG_INT };

struct key {
	const char *name;
	enum ctype type;
	int64_t min, max;
	const char *def;
	size_t off;
	const char *help;
};

#define S(f) offsetof(struct cfg, f)
static const struct key keys[] = {
	{ "base_url", CFG_STR, 0, 0, "http://localhost:8080", S(base_url),
	  "public base URL of Attest (what the LMS and browsers use)" },
	{ "database", CFG_STR, 0, 0, "sqlite:var/attest.db", S(database),
	  "sqlite:PATH or postgresql://user@host:port/db" },
	{ "socket", CFG_STR, 0, 0, "var/run/attest.sock", S(socket),
	  "FastCGI unix socket the workers listen on" },
	{ "keys_dir", CFG_STR, 0, 0, "var/keys", S(keys_dir),
	  "directory of the tool's private signing keys" },
	{ "web_dir", CFG_STR, 0, 0, "web", S(web_dir),
	  "static files (CSS, JS) served by nginx under /static/" },
	{ "deployment_policy", CFG_STR, 0, 0, "learn", S(deployment_policy),
	  "learn: a new deployment id of a registered platform is recorded at its first valid "
	  "launch; strict: only deployments added by an admin are accepted" },
	{ "frame_ancestors", CFG_STR, 0, 0, "", S(frame_ancestors),
	  "extra origins allowed to frame Attest, space separated (platforms are allowed anyway)" },
	{ "workers", CFG_INT, 1, 256, "2", S(workers), "FastCGI worker processes" },
	{ "log_level", CFG_INT, 0, 3, "2", S(log_level), "0 error, 1 warning, 2 info, 3 debug" },
	{ "max_body", CFG_INT, 1024, 64 << 20, "1048576", S(max_body),
	  "largest accepted request body in bytes (uploads excepted)" },
	{ "session_ttl", CFG_INT, 60, 7 * 86400, "28800", S(session_ttl),
	  "seconds a launch session lives" },
	{ "state_ttl", CFG_INT, 30, 3600, "600", S(state_ttl),
	  "seconds an OIDC login state (and its nonce) stays valid" },
	{ "clock_skew", CFG_INT, 0, 60, "60", S(clock_skew),
	  "seconds of leeway on id_token exp and iat" },
	{ "jwks_min_refetch", CFG_INT, 0, 3600, "10", S(jwks_min_refetch),
	  "least seconds between two platform JWKS refetches caused by an unknown kid" },
	{ "jwks_max_age", CFG_INT, 0, 86400 * 7, "3600", S(jwks_max_age),
	  "seconds a platform JWKS is cached when its response has no Cache-Control max-age" },
	{ "lms_connect_ms", CFG_INT, 100, 60000, "5000", S(lms_connect_ms),
	  "connect timeout for calls to the LMS" },
	{ "lms_total_ms", CFG_INT, 1000, 120000, "20000", S(lms_total_ms),
	  "total timeout for calls to the LMS" },
	{ "lms_max_reply", CFG_INT, 1024, 64 << 20, "4194304", S(lms_max_reply),
	  "largest accepted LMS reply in bytes" },
	{ "lms_allow_http", CFG_INT, 0, 1, "0", S(lms_allow_http),
	  "1 allows plain http:// platform URLs (local development and tests only)" },
	{ "key_grace", CFG_INT, 0, 90 * 86400, "86400", S(key_grace),
	  "seconds an old tool key stays published after a rotation" },
	{ "max_upload", CFG_INT, 1024, INT64_C(64) << 30, "524288000", S(max_upload),
	  "largest accepted upload (evidence file) in bytes; nginx's client_max_body_size "
	  "must allow it on the upload location" },
	{ "evidence_dir", CFG_STR, 0, 0, "var/evidence", S(evidence_dir),
	  "directory of evidence files, stored by SHA-256 as ab/cd/<sha256>" },
	{ "evidence_types", CFG_STR, 0, 0,
	  "image/jpeg image/png image/webp image/heic video/mp4 video/quicktime video/webm "
	  "application/pdf text/plain text/csv "
	  "application/vnd.openxmlformats-officedocument.wordprocessingml.document "
	  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet "
	  "application/vnd.oasis.opendocument.text "
	  "application/vnd.oasis.opendocument.spreadsheet", S(evidence_types),
	  "media types accepted as evidence files, space separated, checked on the content "
	  "(libmagic), never on the file name" },
};
#undef S

static enum at_rc set_value(struct cfg *c, const struct key *k, const char *v,
			    const char *where, struct at_err *err)
{
	char *p = (char *)c + k->off;

	if (k->type == CFG_STR) {
		char **s = (char **)(void *)p;

		xfree(*s);
		*s = xstrdup(v);
		return AT_OK;
	}
	int64_t n = 0;
	const char *q = v;
	int neg = 0;

	if (*q == '-') {
		neg = 1;
		q++;
	}
	if (*q == '\0')
		return at_fail(err, AT_BADREQ, "%s: %s: not a number: '%s'", where, k->name, v);
	for (; *q; q++) {
		if (!isdigit((unsigned char)*q) || n > (INT64_MAX - 9) / 10)
			return at_fail(err, AT_BADREQ, "%s: %s: not a number: '%s'", where,
				       k->name, v);
		n = n * 10 + (*q - '0');
	}
	if (neg)
		n = -n;
	if (n < k->min || n > k->max)
		return at_fail(err, AT_BADREQ, "%s: %s: %lld is out of range %lld..%lld", where,
			       k->name, (long long)n, (long long)k->min, (long long)k->max);
	*(int64_t *)(void *)p = n;
	return AT_OK;
}

static const struct key *find(const char *name, size_t len)
{
	for (size_t i = 0; i < NELEM(keys); i++)
		if (strlen(keys[i].name) == len && strncmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static enum at_rc read_file(struct cfg *c, const char *path, bool must_exist,
			    struct at_err *err)
{
	FILE *f = fopen(path, "r");
	char line[4096], where[512];
	int lineno = 0;
	enum at_rc rc = AT_OK;

	if (f == NULL) {
		if (!must_exist && errno == ENOENT)
			return AT_OK;
		return at_fail(err, AT_BADREQ, "%s: %s", path, strerror(errno));
	}
	while (rc == AT_OK && fgets(line, sizeof(line), f) != NULL) {
		char *s, *eq, *name, *val;
		const struct key *k;

		lineno++;
		snprintf(where, sizeof(where), "%s:%d", path, lineno);
		if (strchr(line, '\n') == NULL && !feof(f)) {
			rc = at_fail(err, AT_BADREQ, "%s: line too long", where);
			break;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			rc = at_fail(err, AT_BADREQ, "%s: expected 'key = value'", where);
			break;
		}
		*eq = '\0';
		name = trim(s);
		val = trim(eq + 1);
		k = find(name, strlen(name));
		if (k == NULL) {
			rc = at_fail(err, AT_BADREQ, "%s: unknown key '%s'", where, name);
			break;
		}
		rc = set_value(c, k, val, where, err);
	}
	fclose(f);
	return rc;
}

enum at_rc cfg_load(struct cfg *c, const char *path, bool must_exist, struct at_err *err)
{
	enum at_rc rc;
	char env[128];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NELEM(keys); i++) {
		rc = set_value(c, &keys[i], keys[i].def, "default", err);
		AT_ASSERT(rc == AT_OK);
	}
	if (path != NULL) {
		rc = read_file(c, path, must_exist, err);
		if (rc != AT_OK)
			return rc;
	}
	for (size_t i = 0; i < NELEM(keys); i++) {
		const char *v;
		size_t j;

		snprintf(env, sizeof(env), "ATTEST_%s", keys[i].name);
		for (j = 7; env[j]; j++)
			env[j] = (char)toupper((unsigned char)env[j]);
		v = getenv(env);
		if (v == NULL)
			continue;
		rc = set_value(c, &keys[i], v, env, err);
		if (rc != AT_OK)
			return rc;
	}
	/* checks across keys */
	size_t n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = '\0';
	if (strncmp(c->base_url, "https://", 8) != 0 && strncmp(c->base_url, "http://", 7) != 0)
		return at_fail(err, AT_BADREQ, "base_url must start with https:// or http://");
	if (strcmp(c->deployment_policy, "learn") != 0 &&
	    strcmp(c->deployment_policy, "strict") != 0)
		return at_fail(err, AT_BADREQ, "deployment_policy must be 'learn' or 'strict'");
	if (c->evidence_dir[0] == '\0')
		return at_fail(err, AT_BADREQ, "evidence_dir must not be empty");
	if (strspn(c->evidence_types, " ") == strlen(c->evidence_types))
		return at_fail(err, AT_BADREQ, "evidence_types must name at least one media type");
	return AT_OK;
}

void cfg_free(struct cfg *c)
{
	for (size_t i = 0; i < NELEM(keys); i++)
		if (keys[i].type == CFG_STR) {
			char **s = (char **)(void *)((char *)c + keys[i].off);

			xfree(*s);
			*s = NULL;
		}
}

void cfg_dump(const struct cfg *c, FILE *out)
{
	for (size_t i = 0; i < NELEM(keys); i++) {
		const char *p = (const char *)c + keys[i].off;

		fprintf(out, "# %s (default: %s)\n", keys[i].help, keys[i].def);
		if (keys[i].type == CFG_STR)
			fprintf(out, "%s = %s\n", keys[i].name, *(char *const *)(const void *)p);
		else
			fprintf(out, "%s = %lld\n", keys[i].name,
				(long long)*(const int64_t *)(const void *)p);
	}
}
