/* token.c: randomness and encodings. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/token.h"

static const char B64URL[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

char *token_b64url(struct arena *a, const void *p, size_t n)
{
	const unsigned char *in = p;
	char *out = arena_alloc(a, (n + 2) / 3 * 4 + 1);
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = B64URL[v >> 18 & 63];
		out[o++] = B64URL[v >> 12 & 63];
		out[o++] = B64URL[v >> 6 & 63];
		out[o++] = B64URL[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		out[o++] = B64URL[v >> 18 & 63];
		out[o++] = B64URL[v >> 12 & 63];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		out[o++] = B64URL[v >> 18 & 63];
		out[o++] = B64URL[v >> 12 & 63];
		out[o++] = B64URL[v >> 6 & 63];
	}
	out[o] = '\0';
	return out;
}

static int val(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	if (c == '+')
		c = '-';
	else if (c == '/')
		c = '_';
	p = strchr(B64URL, c);
	return p ? (int)(p - B64URL) : -1;
}

enum at_rc token_b64url_decode(struct arena *a, const char *s, size_t len,
			       unsigned char **out, size_t *out_len)
{
	unsigned char *o;
	size_t n = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (len > 0 && s[len - 1] == '=')
		len--;
	if (len % 4 == 1)
		return AT_BADREQ;
	o = arena_alloc(a, len / 4 * 3 + 3);
	for (size_t i = 0; i < len; i++) {
		int v = val(s[i]);

		if (v < 0)
			return AT_BADREQ;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			o[n++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	o[n] = 0;
	*out = o;
	*out_len = n;
	return AT_OK;
}

char *token_random(struct arena *a, size_t nbytes)
{
	unsigned char raw[64];

	AT_ASSERT(nbytes <= sizeof(raw));
	AT_ASSERT(RAND_bytes(raw, (int)nbytes) == 1);
	char *t = token_b64url(a, raw, nbytes);
	OPENSSL_cleanse(raw, sizeof(raw));
	return t;
}

char *token_sha256_hex(struct arena *a, const void *p, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char *hex;

	AT_ASSERT(EVP_Digest(p, n, md, &mdlen, EVP_sha256(), NULL) == 1);
	hex = arena_alloc(a, mdlen * 2 + 1);
	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
	}
	hex[mdlen * 2] = '\0';
	return hex;
}

int token_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return 0;
	return CRYPTO_memcmp(a, b, la) == 0;
}
