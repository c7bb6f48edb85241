/* token.h: random tokens, base64url and SHA-256 helpers (OpenSSL). */
#ifndef AT_TOKEN_H
#define AT_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/rc.h"

/* nbytes of CSPRNG output as base64url (no padding), from a. Aborts if the CSPRNG fails. */
char *token_random(struct arena *a, size_t nbytes);
/* base64url without padding of p[0..n), from a. */
char *token_b64url(struct arena *a, const void *p, size_t n);
/* Decode base64url (padding optional). Returns AT_BADREQ on bad input. *out from a. */
enum at_rc token_b64url_decode(struct arena *a, const char *s, size_t len,
			       unsigned char **out, size_t *out_len);
/* Lowercase hex SHA-256 of s, from a. */
char *token_sha256_hex(struct arena *a, const void *p, size_t n);
/* Constant-time string equality (lengths may differ). */
int token_equal(const char *a, const char *b);

#endif
