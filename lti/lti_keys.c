/* lti_keys.c: the tool's own RSA keys: generation, rotation, JWKS, signing, pruning.
 *
 * OpenSSL makes and stores the keys (PKCS#8 PEM, one file per kid); cjose signs. Key
 * bytes only ever sit in OpenSSL objects or in stack buffers that are cleansed before
 * return; no error message carries key material, only kids and paths.
 */
#include <cjose/cjose.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/token.h"
#include "lti/lti_keys.h"

#define KID_BYTES	16		/* kid = base64url(SHA-256(n)[0..16)) */
#define KID_MAX		64
#define PEM_MAX		16384		/* a 4096-bit PKCS#8 PEM is ~3.3 KiB */
#define RSA_PART_MAX	1024		/* bytes of one RSA component we handle */
#define MAX_INTERVAL	(INT64_C(100) * 366 * 86400)

/* Newest first; on a tie (a rotation in the same second) a key not scheduled to retire
 * wins, so the key a rotation added signs at once when activate_in is 0. */
static const char SQL_SIGNERS[] =
	"SELECT kid FROM tool_key"
	" WHERE sign_from <= ?1 AND (retire_at IS NULL OR retire_at > ?1)"
	" ORDER BY sign_from DESC, created_at DESC,"
	" CASE WHEN retire_at IS NULL THEN 1 ELSE 0 END DESC, retire_at DESC, kid DESC";
static const char SQL_INSERT[] =
	"INSERT INTO tool_key (kid, public_jwk, created_at, sign_from, retire_at)"
	" VALUES (?1, ?2, ?3, ?4, NULL)";
static const char SQL_RETIRE_OTHERS[] =
	"UPDATE tool_key SET retire_at = ?1"
	" WHERE kid <> ?2 AND (retire_at IS NULL OR retire_at > ?1)";
static const char SQL_PUBLISHED[] =
	"SELECT kid, public_jwk FROM tool_key"
	" WHERE retire_at IS NULL OR retire_at > ?1"
	" ORDER BY sign_from, created_at, kid";
static const char SQL_ALL[] =
	"SELECT kid, created_at, sign_from, retire_at FROM tool_key"
	" ORDER BY sign_from, created_at, kid";
static const char SQL_RETIRED[] =
	"SELECT kid FROM tool_key WHERE retire_at IS NOT NULL AND retire_at <= ?1";
static const char SQL_DELETE[] =
	"DELETE FROM tool_key WHERE kid = ?1";

/* --- files ---------------------------------------------------------------------- */

/* A kid is also a file name: base64url only, so no '/', '.' or NUL can reach a path. */
static int valid_kid(const char *kid)
{
	size_t n = kid ? strlen(kid) : 0;

	if (n == 0 || n > KID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = kid[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static char *key_path(struct arena *a, const char *dir, const char *kid)
{
	return arena_printf(a, "%s/%s.pem", dir, kid);
}

static enum at_rc ensure_dir(const char *dir, struct at_err *err)
{
	struct stat st;

	if (dir == NULL || dir[0] == '\0')
		return at_fail(err, AT_INTERNAL, "keys_dir is not set");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return at_fail(err, AT_INTERNAL, "cannot create keys dir %s: %s", dir,
			       strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return at_fail(err, AT_INTERNAL, "keys dir %s is not a directory", dir);
	return AT_OK;
}

static void sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);	/* best effort: the file itself is already synced */
		close(fd);
	}
}

/* Write pk as PKCS#8 PEM to a new file path (0600, must not exist), synced. */
static enum at_rc write_private(const char *dir, const char *path, EVP_PKEY *pk,
				struct at_err *err)
{
	enum at_rc rc = AT_INTERNAL;
	BIO *mem = NULL;
	char *pem = NULL;
	long pem_len;
	size_t off = 0;
	int fd = -1, created = 0;

	mem = BIO_new(BIO_s_secmem());	/* cleared when freed */
	if (mem == NULL ||
	    PEM_write_bio_PrivateKey(mem, pk, NULL, NULL, 0, NULL, NULL) != 1) {
		at_fail(err, rc, "cannot encode the new private key");
		goto out;
	}
	pem_len = BIO_get_mem_data(mem, &pem);
	if (pem_len <= 0) {
		at_fail(err, rc, "cannot encode the new private key");
		goto out;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		at_fail(err, rc, "cannot create %s: %s", path, strerror(errno));
		goto out;
	}
	created = 1;
	while (off < (size_t)pem_len) {
		ssize_t w = write(fd, pem + off, (size_t)pem_len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			at_fail(err, rc, "cannot write %s: %s", path,
				w < 0 ? strerror(errno) : "short write");
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0) {
		at_fail(err, rc, "cannot sync %s: %s", path, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		at_fail(err, rc, "cannot close %s: %s", path, strerror(errno));
		goto out;
	}
	fd = -1;
	sync_dir(dir);
	rc = AT_OK;
out:
	if (fd >= 0)
		close(fd);
	if (rc != AT_OK && created)
		unlink(path);
	BIO_free(mem);
	ERR_clear_error();
	return rc;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;	/* our keys are not encrypted: never prompt on a terminal */
}

/* Read the private key of path (0 .. PEM_MAX bytes). Caller: EVP_PKEY_free. */
static enum at_rc load_private(const char *path, EVP_PKEY **out, struct at_err *err)
{
	enum at_rc rc = AT_INTERNAL;
	unsigned char buf[PEM_MAX];
	size_t n = 0;
	BIO *bio = NULL;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return at_fail(err, rc, "cannot open %s: %s", path, strerror(errno));
	while (n < sizeof(buf)) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			at_fail(err, rc, "cannot read %s: %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n == sizeof(buf)) {
		at_fail(err, rc, "%s is larger than %d bytes", path, PEM_MAX);
		goto out;
	}
	bio = BIO_new_mem_buf(buf, (int)n);
	if (bio != NULL)
		*out = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	if (*out == NULL || EVP_PKEY_get_base_id(*out) != EVP_PKEY_RSA) {
		EVP_PKEY_free(*out);
		*out = NULL;
		at_fail(err, rc, "%s does not hold an RSA private key", path);
		goto out;
	}
	rc = AT_OK;
out:
	BIO_free(bio);
	OPENSSL_cleanse(buf, sizeof(buf));
	close(fd);
	ERR_clear_error();
	return rc;
}

/* --- key material --------------------------------------------------------------- */

/* Big-endian bytes of RSA component name of pk into out[RSA_PART_MAX]; 0 on failure. */
static size_t rsa_part(EVP_PKEY *pk, const char *name, unsigned char *out)
{
	BIGNUM *bn = NULL;
	size_t n = 0;

	if (EVP_PKEY_get_bn_param(pk, name, &bn) == 1 && BN_num_bytes(bn) > 0 &&
	    BN_num_bytes(bn) <= RSA_PART_MAX)
		n = (size_t)BN_bn2bin(bn, out);
	BN_clear_free(bn);
	return n;
}

/* A cjose JWK holding the private key pk. Caller: cjose_jwk_release. */
static cjose_jwk_t *to_cjose(EVP_PKEY *pk)
{
	static const char *const names[8] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
		OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2,
		OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	unsigned char part[8][RSA_PART_MAX];
	size_t len[8];
	cjose_jwk_rsa_keyspec spec;
	cjose_jwk_t *jwk = NULL;
	cjose_err cerr;

	for (size_t i = 0; i < 8; i++) {
		len[i] = rsa_part(pk, names[i], part[i]);
		if (len[i] == 0)
			goto out;
	}
	spec = (cjose_jwk_rsa_keyspec){
		.n = part[0], .nlen = len[0], .e = part[1], .elen = len[1],
		.d = part[2], .dlen = len[2], .p = part[3], .plen = len[3],
		.q = part[4], .qlen = len[4], .dp = part[5], .dplen = len[5],
		.dq = part[6], .dqlen = len[6], .qi = part[7], .qilen = len[7],
	};
	jwk = cjose_jwk_create_RSA_spec(&spec, &cerr);
out:
	OPENSSL_cleanse(part, sizeof(part));
	OPENSSL_cleanse(&spec, sizeof(spec));
	ERR_clear_error();
	return jwk;
}

/*
 * Generate a key, write DIR/<kid>.pem and return its kid, public JWK text and path
 * (all from a). On failure no file is left behind.
 */
static enum at_rc new_key(struct arena *a, const char *dir, char **kid, char **jwk,
			  char **path, struct at_err *err)
{
	enum at_rc rc = AT_INTERNAL;
	EVP_PKEY *pk = NULL;
	struct json_object *o = NULL;
	unsigned char n[RSA_PART_MAX], e[RSA_PART_MAX], md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	size_t n_len, e_len;
	char *k;

	*kid = *jwk = *path = NULL;
	pk = EVP_RSA_gen(LTI_KEYS_BITS);
	if (pk == NULL) {
		at_fail(err, rc, "cannot generate an RSA key");
		goto out;
	}
	n_len = rsa_part(pk, OSSL_PKEY_PARAM_RSA_N, n);
	e_len = rsa_part(pk, OSSL_PKEY_PARAM_RSA_E, e);
	if (n_len == 0 || e_len == 0 ||
	    EVP_Digest(n, n_len, md, &md_len, EVP_sha256(), NULL) != 1 ||
	    md_len < KID_BYTES) {
		at_fail(err, rc, "cannot read the new RSA key");
		goto out;
	}
	k = token_b64url(a, md, KID_BYTES);

	o = json_object_new_object();
	json_object_object_add(o, "kty", json_object_new_string("RSA"));
	json_object_object_add(o, "n", json_object_new_string(token_b64url(a, n, n_len)));
	json_object_object_add(o, "e", json_object_new_string(token_b64url(a, e, e_len)));
	json_object_object_add(o, "kid", json_object_new_string(k));
	json_object_object_add(o, "alg", json_object_new_string("RS256"));
	json_object_object_add(o, "use", json_object_new_string("sig"));
	*jwk = arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE));
	*path = key_path(a, dir, k);
	rc = write_private(dir, *path, pk, err);
	if (rc != AT_OK) {
		*jwk = *path = NULL;
		goto out;
	}
	*kid = k;
out:
	json_object_put(o);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return rc;
}

/* --- database ------------------------------------------------------------------- */

/*
 * The kid lti_keys_sign would use now: the newest signing-capable key whose private
 * file is present. AT_OK and *kid (from a), AT_NOTFOUND if none, AT_DB.
 */
static enum at_rc pick_signer(struct db *db, struct arena *a, const char *dir,
			      int64_t now, char **kid)
{
	enum at_rc rc;
	struct db_stmt *st = NULL;
	bool row = false;

	*kid = NULL;
	rc = db_prepare(db, SQL_SIGNERS, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, now);
	for (;;) {
		const char *k;

		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto out;
		if (!row)
			break;
		k = db_col_text(st, 0);
		if (valid_kid(k) && access(key_path(a, dir, k), R_OK) == 0) {
			*kid = arena_strdup(a, k);
			goto out;
		}
	}
	rc = AT_NOTFOUND;
out:
	db_finalize(st);
	return rc;
}

static enum at_rc insert_key(struct db *db, const char *kid, const char *jwk,
			     int64_t created, int64_t sign_from)
{
	enum at_rc rc;
	struct db_stmt *st = NULL;

	rc = db_prepare(db, SQL_INSERT, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, kid);
	db_bind_str(st, 2, jwk);
	db_bind_i64(st, 3, created);
	db_bind_i64(st, 4, sign_from);
	rc = db_run(st);
out:
	db_finalize(st);
	return rc;
}

enum at_rc lti_keys_ensure(struct db *db, const char *dir, int64_t now, struct at_err *err)
{
	enum at_rc rc;
	struct arena *a = arena_new();
	char *kid = NULL, *jwk = NULL, *path = NULL;
	int in_tx = 0;

	rc = ensure_dir(dir, err);
	if (rc != AT_OK)
		goto out;
	/* under the write lock, so two workers starting together make one key */
	rc = db_begin(db);
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot start a transaction: %s", db_errmsg(db));
		goto out;
	}
	in_tx = 1;
	rc = pick_signer(db, a, dir, now, &kid);
	if (rc == AT_OK)
		goto commit;
	if (rc != AT_NOTFOUND) {
		at_fail(err, rc, "cannot read tool keys: %s", db_errmsg(db));
		goto out;
	}
	rc = new_key(a, dir, &kid, &jwk, &path, err);
	if (rc != AT_OK)
		goto out;
	rc = insert_key(db, kid, jwk, now, now);
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot store tool key: %s", db_errmsg(db));
		goto out;
	}
commit:
	rc = db_commit(db);
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot commit tool key: %s", db_errmsg(db));
		goto out;
	}
	in_tx = 0;
out:
	if (rc != AT_OK) {
		if (in_tx)
			db_rollback(db);
		if (path != NULL)
			unlink(path);
	}
	arena_free(a);
	return rc;
}

enum at_rc lti_keys_rotate(struct db *db, const char *dir, int64_t now, int64_t activate_in,
			   int64_t retire_in, struct arena *a, char **new_kid,
			   struct at_err *err)
{
	enum at_rc rc;
	struct db_stmt *st = NULL;
	char *kid = NULL, *jwk = NULL, *path = NULL;
	int in_tx = 0;

	*new_kid = NULL;
	if (activate_in < 0 || retire_in < 0 || activate_in > MAX_INTERVAL ||
	    retire_in > MAX_INTERVAL)
		return at_fail(err, AT_BADREQ, "key rotation intervals must be 0..100 years");
	rc = ensure_dir(dir, err);
	if (rc != AT_OK)
		goto out;
	rc = new_key(a, dir, &kid, &jwk, &path, err);
	if (rc != AT_OK)
		goto out;
	rc = db_begin(db);
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot start a transaction: %s", db_errmsg(db));
		goto out;
	}
	in_tx = 1;
	rc = insert_key(db, kid, jwk, now, now + activate_in);
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot store tool key: %s", db_errmsg(db));
		goto out;
	}
	rc = db_prepare(db, SQL_RETIRE_OTHERS, &st);
	if (rc == AT_OK) {
		db_bind_i64(st, 1, now + activate_in + retire_in);
		db_bind_str(st, 2, kid);
		rc = db_run(st);
	}
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot schedule old keys' retirement: %s", db_errmsg(db));
		goto out;
	}
	rc = db_commit(db);
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot commit key rotation: %s", db_errmsg(db));
		goto out;
	}
	in_tx = 0;
	*new_kid = kid;
out:
	db_finalize(st);
	if (rc != AT_OK) {
		if (in_tx)
			db_rollback(db);
		if (path != NULL)
			unlink(path);
	}
	return rc;
}

/* Copy string member key of from into to; 0 if it is missing or not a string. */
static int copy_member(struct json_object *from, struct json_object *to, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(from, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return 0;
	json_object_object_add(to, key, json_object_new_string(json_object_get_string(v)));
	return 1;
}

/* The public JWK of a row, rebuilt from kty, n, e only (so nothing else can leak). */
static struct json_object *public_jwk(const char *kid, const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new_ex(8);
	struct json_object *in = NULL, *out = NULL, *v;

	if (tok == NULL || len > INT32_MAX)
		goto out;
	in = json_tokener_parse_ex(tok, text, (int)len);
	if (in == NULL || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(in, json_type_object) ||
	    !json_object_object_get_ex(in, "kty", &v) ||
	    strcmp(json_object_get_string(v), "RSA") != 0)
		goto out;
	out = json_object_new_object();
	if (!copy_member(in, out, "kty") || !copy_member(in, out, "n") ||
	    !copy_member(in, out, "e")) {
		json_object_put(out);
		out = NULL;
		goto out;
	}
	json_object_object_add(out, "kid", json_object_new_string(kid));
	json_object_object_add(out, "alg", json_object_new_string("RS256"));
	json_object_object_add(out, "use", json_object_new_string("sig"));
out:
	json_object_put(in);
	json_tokener_free(tok);
	return out;
}

enum at_rc lti_keys_jwks(struct db *db, int64_t now, struct arena *a, char **json)
{
	enum at_rc rc;
	struct db_stmt *st = NULL;
	struct json_object *root = json_object_new_object();
	struct json_object *keys = json_object_new_array();
	bool row = false;

	*json = NULL;
	json_object_object_add(root, "keys", keys);
	rc = db_prepare(db, SQL_PUBLISHED, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, now);
	for (;;) {
		struct json_object *k;

		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto out;
		if (!row)
			break;
		if (!valid_kid(db_col_text(st, 0)) || db_col_null(st, 1)) {
			rc = AT_INTERNAL;
			goto out;
		}
		k = public_jwk(db_col_text(st, 0), db_col_text(st, 1), db_col_len(st, 1));
		if (k == NULL) {
			rc = AT_INTERNAL;
			goto out;
		}
		json_object_array_add(keys, k);
	}
	*json = arena_strdup(a, json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = AT_OK;
out:
	db_finalize(st);
	json_object_put(root);
	return rc;
}

static int is_json_object(const char *s)
{
	struct json_tokener *tok;
	struct json_object *o;
	size_t len = s ? strlen(s) : 0;
	int ok = 0;

	if (len == 0 || len > INT32_MAX)
		return 0;
	tok = json_tokener_new_ex(64);
	if (tok == NULL)
		return 0;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, s, (int)len);
	ok = o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
	     json_tokener_get_parse_end(tok) == len &&
	     json_object_is_type(o, json_type_object);
	json_object_put(o);
	json_tokener_free(tok);
	return ok;
}

enum at_rc lti_keys_sign(struct db *db, const char *dir, int64_t now, struct arena *a,
			 const char *payload_json, char **compact, struct at_err *err)
{
	enum at_rc rc;
	char *kid = NULL, *path;
	EVP_PKEY *pk = NULL;
	cjose_jwk_t *jwk = NULL;
	cjose_header_t *hdr = NULL;
	cjose_jws_t *jws = NULL;
	cjose_err cerr;
	const char *ser = NULL;

	*compact = NULL;
	if (!is_json_object(payload_json))
		return at_fail(err, AT_BADREQ, "JWT payload is not a JSON object");
	rc = pick_signer(db, a, dir, now, &kid);
	if (rc == AT_NOTFOUND) {
		at_fail(err, rc, "no tool key can sign now (run attest keys ensure)");
		goto out;
	}
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot read tool keys: %s", db_errmsg(db));
		goto out;
	}
	path = key_path(a, dir, kid);
	rc = load_private(path, &pk, err);
	if (rc != AT_OK)
		goto out;
	rc = AT_INTERNAL;
	jwk = to_cjose(pk);
	if (jwk == NULL) {
		at_fail(err, rc, "cannot use tool key %s", kid);
		goto out;
	}
	hdr = cjose_header_new(&cerr);
	if (hdr == NULL ||
	    !cjose_header_set(hdr, CJOSE_HDR_ALG, CJOSE_HDR_ALG_RS256, &cerr) ||
	    !cjose_header_set(hdr, "typ", "JWT", &cerr) ||
	    !cjose_header_set(hdr, CJOSE_HDR_KID, kid, &cerr)) {
		at_fail(err, rc, "cannot build the JWT header");
		goto out;
	}
	jws = cjose_jws_sign(jwk, hdr, (const uint8_t *)payload_json, strlen(payload_json),
			     &cerr);
	if (jws == NULL || !cjose_jws_export(jws, &ser, &cerr)) {
		at_fail(err, rc, "cannot sign with tool key %s", kid);
		goto out;
	}
	*compact = arena_strdup(a, ser);
	rc = AT_OK;
out:
	cjose_jws_release(jws);
	cjose_header_release(hdr);
	cjose_jwk_release(jwk);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return rc;
}

static void fmt_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
}

enum at_rc lti_keys_info(struct db *db, int64_t now, struct arena *a, struct lti_key_info **out,
			 size_t *n)
{
	enum at_rc rc;
	struct db_stmt *st = NULL;
	struct lti_key_info *v = NULL;
	size_t k = 0, cap = 0;
	char *signer = NULL;
	bool row = false;

	*out = NULL;
	*n = 0;
	/* the signer as lti_keys_sign picks it, file presence aside */
	rc = db_prepare(db, SQL_SIGNERS, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, now);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto out;
	if (row)
		signer = arena_strdup(a, db_col_text(st, 0));
	db_finalize(st);
	st = NULL;

	rc = db_prepare(db, SQL_ALL, &st);
	if (rc != AT_OK)
		goto out;
	for (;;) {
		struct lti_key_info *ki;
		const char *kid;

		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto out;
		if (!row)
			break;
		v = arena_reserve(a, v, k, &cap, sizeof(*v));
		ki = &v[k++];
		kid = db_col_text(st, 0);
		ki->kid = arena_strdup(a, kid ? kid : "?");
		ki->created_at = db_col_i64(st, 1);
		ki->sign_from = db_col_i64(st, 2);
		ki->retire_at = db_col_null(st, 3) ? 0 : db_col_i64(st, 3);
		if (ki->retire_at != 0 && ki->retire_at <= now)
			ki->state = "retired";
		else if (ki->sign_from > now)
			ki->state = "pending";
		else if (signer != NULL && kid != NULL && strcmp(kid, signer) == 0)
			ki->state = "signing";
		else if (ki->retire_at != 0)
			ki->state = "retiring";
		else
			ki->state = "active";
	}
	*out = v;
	*n = k;
out:
	db_finalize(st);
	return rc;
}

enum at_rc lti_keys_list(struct db *db, int64_t now, FILE *out)
{
	struct arena *a = arena_new();
	struct lti_key_info *v = NULL;
	size_t n = 0;
	enum at_rc rc = lti_keys_info(db, now, a, &v, &n);

	for (size_t i = 0; rc == AT_OK && i < n; i++) {
		char created_s[32], from_s[32], retire_s[32];

		fmt_time(v[i].created_at, created_s, sizeof(created_s));
		fmt_time(v[i].sign_from, from_s, sizeof(from_s));
		if (v[i].retire_at != 0)
			fmt_time(v[i].retire_at, retire_s, sizeof(retire_s));
		else
			snprintf(retire_s, sizeof(retire_s), "-");
		fprintf(out, "%s  %s  %s  %s  %s\n", v[i].kid, v[i].state, created_s, from_s,
			retire_s);
	}
	if (rc == AT_OK)
		rc = fflush(out) == 0 && !ferror(out) ? AT_OK : AT_INTERNAL;
	arena_free(a);
	return rc;
}

struct kid_list {
	struct kid_list *next;
	char *kid;
};

enum at_rc lti_keys_prune(struct db *db, const char *dir, int64_t now, int *removed,
			  struct at_err *err)
{
	enum at_rc rc;
	struct db_stmt *st = NULL;
	struct arena *a = arena_new();
	struct kid_list *list = NULL;
	bool row = false;

	*removed = 0;
	rc = db_prepare(db, SQL_RETIRED, &st);
	if (rc != AT_OK)
		goto db_fail;
	db_bind_i64(st, 1, now);
	for (;;) {
		struct kid_list *k;

		rc = db_step(st, &row);
		if (rc != AT_OK)
			goto db_fail;
		if (!row)
			break;
		k = arena_alloc(a, sizeof(*k));
		k->kid = arena_strdup(a, db_col_text(st, 0));
		k->next = list;
		list = k;
	}
	db_finalize(st);
	st = NULL;

	for (struct kid_list *k = list; k != NULL; k = k->next) {
		/* a row whose kid is no file name never had a file we wrote */
		if (k->kid != NULL && valid_kid(k->kid)) {
			const char *path = key_path(a, dir, k->kid);

			if (unlink(path) != 0 && errno != ENOENT) {
				rc = at_fail(err, AT_INTERNAL, "cannot remove %s: %s", path,
					     strerror(errno));
				goto out;
			}
		}
		rc = db_prepare(db, SQL_DELETE, &st);
		if (rc != AT_OK)
			goto db_fail;
		db_bind_str(st, 1, k->kid);
		rc = db_run(st);
		if (rc != AT_OK)
			goto db_fail;
		db_finalize(st);
		st = NULL;
		(*removed)++;
	}
	if (list != NULL)
		sync_dir(dir);
	rc = AT_OK;
	goto out;
db_fail:
	at_fail(err, rc, "cannot prune tool keys: %s", db_errmsg(db));
out:
	db_finalize(st);
	arena_free(a);
	return rc;
}
