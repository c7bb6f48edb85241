/* platform.h: registered LTI platforms (keyed by issuer + client_id) and their deployments. */
#ifndef AT_PLATFORM_H
#define AT_PLATFORM_H

#include <stdint.h>
#include <stdio.h>

#include "core/arena.h"
#include "core/db.h"

struct platform {
	int64_t id;
	const char *issuer, *client_id, *name, *flavor;
	const char *auth_endpoint, *token_endpoint, *jwks_uri, *auth_server;
	const char *source;	/* "manual" or "dynamic" */
	const char *scopes;	/* granted scopes, space separated */
	const char *jwks_body;	/* cached platform JWKS, NULL if never fetched */
	int64_t jwks_fetched_at, jwks_expires_at;
	int64_t created_at;
	const char *lms_url;	/* LMS REST base (Moodle site URL, Canvas instance URL), "" if unset */
	const char *lms_token;	/* Moodle web service token or Canvas API token; a secret: never
				 * print or log it */
};

/* Insert p (id ignored). AT_CONFLICT if (issuer, client_id) exists. Sets p->id. */
enum at_rc platform_add(struct db *db, struct platform *p, int64_t now);
/* Insert or update by (issuer, client_id) (dynamic registration). Sets p->id. */
enum at_rc platform_upsert(struct db *db, struct platform *p, int64_t now);
/* Find by (issuer, client_id). client_id NULL: the only registration of issuer
 * (AT_CONFLICT if there are several, AT_NOTFOUND if none). Strings from a. */
enum at_rc platform_find(struct db *db, struct arena *a, const char *issuer,
			 const char *client_id, struct platform *out);
enum at_rc platform_get(struct db *db, struct arena *a, int64_t id, struct platform *out);
enum at_rc platform_remove(struct db *db, int64_t id);
/* Call fn for every platform, ordered by id. */
enum at_rc platform_each(struct db *db, struct arena *a,
			 void (*fn)(const struct platform *p, void *ud), void *ud);

/* Set the LMS REST base URL and/or token of platform id (NULL: leave as is, "": clear).
 * AT_NOTFOUND if there is no such platform. */
enum at_rc platform_lms_set(struct db *db, int64_t id, const char *url, const char *token);

/* Cache a fetched JWKS. */
enum at_rc platform_jwks_store(struct db *db, int64_t id, const char *body, int64_t now,
			       int64_t expires_at);
/* Take the refetch slot for id: AT_OK if this caller may fetch now (no fetch in the last
 * min_interval seconds, across all workers and hosts), AT_CONFLICT if not. */
enum at_rc platform_jwks_claim(struct db *db, int64_t id, int64_t now, int64_t min_interval);

/* Deployments. learned = 1 when recorded at a first launch under the "learn" policy. */
enum at_rc platform_deployment_add(struct db *db, int64_t platform_id, const char *deployment_id,
				   int learned, int64_t now, int64_t *row_id);
/* AT_OK and *row_id, or AT_NOTFOUND. */
enum at_rc platform_deployment_find(struct db *db, int64_t platform_id,
				    const char *deployment_id, int64_t *row_id);
enum at_rc platform_deployment_count(struct db *db, int64_t platform_id, int64_t *n);
/* Print deployments of a platform, one per line. */
enum at_rc platform_deployment_print(struct db *db, int64_t platform_id, FILE *out);

/* Frame origins learned from launches (for CSP frame-ancestors). */
enum at_rc platform_origin_add(struct db *db, int64_t platform_id, const char *origin,
			       int64_t now);
/* Space-separated list of the origins allowed to frame Attest for platform_id (0: every
 * platform): issuers' and authorization endpoints' origins plus learned ones. From a. */
enum at_rc platform_origins(struct db *db, struct arena *a, int64_t platform_id, char **out);

/* "https://host:port" of url (scheme + authority), from a; NULL if url is not http(s). */
char *platform_url_origin(struct arena *a, const char *url);

#endif
