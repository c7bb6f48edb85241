/* db_pg.c: the PostgreSQL backend (libpq).
 *
 * SQL arrives with ?1 .. ?N parameters and is rewritten to $1 .. $N at prepare time (never
 * inside quoted literals, quoted identifiers or comments). A statement runs with PQexecParams,
 * text format, at its first step; later steps walk the rows of the kept PGresult. Bound values
 * are owned strings until finalize. SQLSTATE class 23 maps to AT_CONFLICT, serialization
 * failures, deadlocks and lock/statement timeouts to AT_TIMEOUT, the rest to AT_DB.
 *
 * A connection found broken at prepare/exec time is reset once, but never while a transaction
 * was open on it: its earlier statements are gone, so the caller must roll back first (the
 * rollback only clears our state) or later statements would silently autocommit.
 */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "core/db_impl.h"
#include "core/mem.h"

#define PG_MAX_PARAMS 65535	/* the protocol's parameter count is 16 bits */
#define PG_BOOLOID 16		/* pg_type oid of boolean (catalog/pg_type_d.h) */

struct pdb {
	struct db base;
	PGconn *conn;
	char *err;		/* owned: last error text, "" before any */
	bool in_tx;		/* a transaction was open at the last command */
};

enum pstate { PS_NEW, PS_ROWS, PS_DONE, PS_FAILED };

struct pstmt {
	struct db_stmt base;
	char *sql;		/* owned: the text with $N */
	int nparams;		/* highest N used */
	char **vals;		/* owned: nparams owned strings, NULL binds SQL NULL */
	const char *bind_err;	/* static text: a bind was invalid, step fails */
	PGresult *res;		/* owned: rows of a PS_ROWS statement */
	int row, nrows;		/* current row (-1 before the first) and count */
	int64_t changes;
	enum pstate state;
};

static const struct db_ops pg_ops;

static struct pdb *D(struct db *db)
{
	return (struct pdb *)db;
}

static struct pstmt *PS(struct db_stmt *st)
{
	return (struct pstmt *)st;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident(char c)
{
	return is_digit(c) || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (unsigned char)c >= 0x80;
}

/*
 * Parse a decimal integer: optional sign, digits, optional fraction (truncated toward zero,
 * as SQLite converts a REAL). Returns false on anything else or on overflow.
 */
static bool parse_i64(const char *p, int64_t *out)
{
	int64_t v = 0;		/* accumulated negative, so INT64_MIN fits */
	bool neg = false;
	const char *digits;

	if (*p == '-' || *p == '+') {
		neg = *p == '-';
		p++;
	}
	digits = p;
	while (is_digit(*p)) {
		int d = *p - '0';

		if (v < (INT64_MIN + d) / 10)
			return false;
		v = v * 10 - d;
		p++;
	}
	if (p == digits)
		return false;
	if (*p == '.') {
		p++;
		while (is_digit(*p))
			p++;
	}
	if (*p != '\0')
		return false;
	if (!neg) {
		if (v == INT64_MIN)
			return false;
		v = -v;
	}
	*out = v;
	return true;
}

/* Keep msg as the last error: one line (control bytes become spaces), no trailing blanks. */
static void set_err(struct pdb *d, const char *msg)
{
	size_t n;

	xfree(d->err);
	d->err = xstrdup(msg != NULL ? msg : "");
	for (char *p = d->err; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	n = strlen(d->err);
	while (n > 0 && d->err[n - 1] == ' ')
		d->err[--n] = '\0';
}

static enum at_rc map_sqlstate(const char *state)
{
	if (state == NULL)
		return AT_DB;
	if (strncmp(state, "23", 2) == 0)		/* integrity constraint violation */
		return AT_CONFLICT;
	if (strcmp(state, "40001") == 0 ||		/* serialization_failure */
	    strcmp(state, "40P01") == 0 ||		/* deadlock_detected */
	    strcmp(state, "55P03") == 0 ||		/* lock_not_available (lock_timeout) */
	    strcmp(state, "57014") == 0)		/* query_canceled (statement_timeout) */
		return AT_TIMEOUT;
	return AT_DB;
}

/*
 * Record the error of res (may be NULL) and map it. The terse form keeps severity and primary
 * text but drops DETAIL, which quotes row values (token hashes, e-mail) that must not reach
 * logs.
 */
static enum at_rc fail_result(struct pdb *d, const PGresult *res)
{
	char *msg = NULL;

	if (res != NULL && PQresultStatus(res) == PGRES_FATAL_ERROR)
		msg = PQresultVerboseErrorMessage(res, PQERRORS_TERSE, PQSHOW_CONTEXT_NEVER);
	if (msg != NULL && msg[0] != '\0')
		set_err(d, msg);
	else if (res != NULL && PQresultStatus(res) != PGRES_FATAL_ERROR)
		set_err(d, PQresStatus(PQresultStatus(res)));	/* e.g. an unexpected COPY */
	else
		set_err(d, PQerrorMessage(d->conn));
	PQfreemem(msg);
	return map_sqlstate(res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL);
}

/* Remember whether a transaction is open, as far as the server last told us. */
static void note_tx(struct pdb *d)
{
	switch (PQtransactionStatus(d->conn)) {
	case PQTRANS_IDLE:
		d->in_tx = false;
		break;
	case PQTRANS_INTRANS:
	case PQTRANS_INERROR:
		d->in_tx = true;
		break;
	default:		/* ACTIVE cannot happen here; UNKNOWN: connection lost */
		break;
	}
}

/* Settings every session needs (again after a reset). */
static enum at_rc session_init(struct pdb *d)
{
	PGresult *res = PQexec(d->conn, "SET client_min_messages = warning;"
			       " SET client_encoding = 'UTF8'");
	enum at_rc rc = AT_OK;

	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = fail_result(d, res);
	PQclear(res);
	return rc;
}

/* Make sure the connection is usable: reset it once if broken outside a transaction. */
static enum at_rc ensure_conn(struct pdb *d)
{
	if (PQstatus(d->conn) == CONNECTION_OK)
		return AT_OK;
	if (d->in_tx) {
		set_err(d, "connection lost inside a transaction (roll back first)");
		return AT_DB;
	}
	PQreset(d->conn);
	if (PQstatus(d->conn) != CONNECTION_OK) {
		set_err(d, PQerrorMessage(d->conn));
		return AT_DB;
	}
	return session_init(d);
}

/* Blank every occurrence of secret (n bytes) in msg. */
static void blank(char *msg, const char *secret, size_t n)
{
	char *p = msg;

	if (n == 0)
		return;
	for (;;) {
		p = memmem(p, strlen(p), secret, n);
		if (p == NULL)
			break;
		memset(p, '*', n);
		p += n;
	}
}

/*
 * libpq quotes a malformed URI whole in its error ("... in URI: "postgresql://u:pw@...""):
 * blank the password of the userinfo part and of a password= parameter before anyone logs it.
 */
static void redact(char *msg, const char *url)
{
	const char *auth = strstr(url, "://");
	const char *p;

	if (auth != NULL) {
		size_t alen;
		const char *at = NULL, *colon;

		auth += 3;
		alen = strcspn(auth, "/?#");
		for (p = auth; p < auth + alen; p++)
			if (*p == '@')
				at = p;
		colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon != NULL)
			blank(msg, colon + 1, (size_t)(at - colon - 1));
	}
	for (p = strstr(url, "password="); p != NULL; p = strstr(p + 1, "password="))
		blank(msg, p + 9, strcspn(p + 9, "&#"));
}

/*
 * Connect to conninfo (a postgresql:// URL or key=value string). Returns AT_OK and sets *out
 * (caller owns: db_close()); AT_DB when the server cannot be reached or refuses (err says why,
 * with any password in the URL blanked).
 */
enum at_rc db_pg_open(const char *conninfo, struct db **out, struct at_err *err)
{
	struct pdb *d = xcalloc(1, sizeof(*d));
	enum at_rc rc = AT_DB;

	d->base.ops = &pg_ops;
	d->base.kind = DB_PG;
	d->err = xstrdup("");
	d->conn = PQconnectdb(conninfo);
	if (d->conn == NULL) {
		at_fail(err, AT_DB, "cannot connect to postgresql: out of memory");
		goto fail;
	}
	if (PQstatus(d->conn) != CONNECTION_OK) {
		set_err(d, PQerrorMessage(d->conn));
		redact(d->err, conninfo);
		at_fail(err, AT_DB, "cannot connect to postgresql: %s", d->err);
		goto fail;
	}
	rc = session_init(d);
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot configure postgresql session: %s", d->err);
		goto fail;
	}
	*out = &d->base;
	return AT_OK;
fail:
	PQfinish(d->conn);
	xfree(d->err);
	xfree(d);
	return rc == AT_OK ? AT_DB : rc;
}

static void p_close(struct db *db)
{
	PQfinish(D(db)->conn);
	xfree(D(db)->err);
	xfree(db);
}

static const char *p_errmsg(struct db *db)
{
	return D(db)->err;
}

/* End of the quoted text opening at sql[i] (a ' or "); a doubled quote stays inside. */
static size_t skip_quoted(const char *sql, size_t len, size_t i)
{
	char q = sql[i];
	bool esc = q == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
		   (i < 2 || !is_ident(sql[i - 2]));	/* E'..' takes backslash escapes */
	size_t j = i + 1;

	while (j < len) {
		if (esc && sql[j] == '\\' && j + 1 < len) {
			j += 2;
		} else if (sql[j] == q) {
			if (j + 1 < len && sql[j + 1] == q)
				j += 2;
			else
				return j + 1;
		} else {
			j++;
		}
	}
	return len;
}

/*
 * Rewrite ?N to $N in a copy of sql (same length). Sets *out (caller frees) and *nparams to
 * the highest N. A bare ? is left alone (jsonb operators). AT_DB if some N is out of range.
 */
static enum at_rc rewrite(struct pdb *d, const char *sql, char **out, int *nparams)
{
	size_t len = strlen(sql);
	char *o = xstrndup(sql, len);
	size_t i = 0;
	int max = 0;

	while (i < len) {
		char c = sql[i];

		if (c == '\'' || c == '"') {
			i = skip_quoted(sql, len, i);
		} else if (c == '-' && sql[i + 1] == '-') {
			i += strcspn(sql + i, "\n");
		} else if (c == '/' && sql[i + 1] == '*') {
			const char *end = strstr(sql + i + 2, "*/");

			i = end != NULL ? (size_t)(end - sql) + 2 : len;
		} else if (c == '?' && is_digit(sql[i + 1])) {
			long n = 0;

			o[i++] = '$';
			while (is_digit(sql[i])) {
				if (n <= PG_MAX_PARAMS)
					n = n * 10 + (sql[i] - '0');
				i++;
			}
			if (n < 1 || n > PG_MAX_PARAMS) {
				set_err(d, "sql parameter number out of range (1..65535)");
				xfree(o);
				return AT_DB;
			}
			if (n > max)
				max = (int)n;
		} else {
			i++;
		}
	}
	*out = o;
	*nparams = max;
	return AT_OK;
}

static enum at_rc p_prepare(struct db *db, const char *sql, struct db_stmt **out)
{
	struct pdb *d = D(db);
	struct pstmt *s;
	char *text = NULL;
	int n = 0;
	enum at_rc rc;

	rc = ensure_conn(d);
	if (rc != AT_OK)
		return rc;
	rc = rewrite(d, sql, &text, &n);
	if (rc != AT_OK)
		return rc;
	s = xcalloc(1, sizeof(*s));
	s->base.ops = &pg_ops;
	s->base.db = db;
	s->sql = text;
	s->nparams = n;
	s->vals = xcalloc((size_t)n, sizeof(*s->vals));
	s->state = PS_NEW;
	*out = &s->base;
	return AT_OK;
}

/* Bind v (owned, or NULL for SQL NULL) to parameter idx. */
static void set_val(struct pstmt *s, int idx, char *v)
{
	if (idx < 1 || idx > s->nparams) {
		s->bind_err = "bind index out of range";
		xfree(v);
		return;
	}
	xfree(s->vals[idx - 1]);
	s->vals[idx - 1] = v;
}

static void p_bind_i64(struct db_stmt *st, int idx, int64_t v)
{
	char *txt = xmalloc(24);	/* "-9223372036854775808" is 20 + NUL */

	snprintf(txt, 24, "%" PRId64, v);
	set_val(PS(st), idx, txt);
}

static void p_bind_text(struct db_stmt *st, int idx, const char *s, size_t len)
{
	if (memchr(s, '\0', len) != NULL) {
		/* text format cannot carry NUL, nor can a text value: refuse, never cut */
		PS(st)->bind_err = "text parameter contains a NUL byte";
		return;
	}
	set_val(PS(st), idx, xstrndup(s, len));
}

static void p_bind_null(struct db_stmt *st, int idx)
{
	set_val(PS(st), idx, NULL);
}

/* Count from a command tag ("UPDATE 3"); 0 when the command has none. */
static int64_t tag_changes(PGresult *res)
{
	int64_t n = 0;

	if (!parse_i64(PQcmdTuples(res), &n))
		n = 0;
	return n;
}

/* First step: send the statement and keep its rows. */
static enum at_rc run(struct pstmt *s, struct pdb *d)
{
	PGresult *res;
	enum at_rc rc = AT_OK;

	if (s->bind_err != NULL) {
		set_err(d, s->bind_err);
		return AT_DB;
	}
	res = PQexecParams(d->conn, s->sql, s->nparams, NULL,
			   (const char *const *)s->vals, NULL, NULL, 0);
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
		s->res = res;
		s->nrows = PQntuples(res);
		s->row = -1;
		s->changes = tag_changes(res);
		s->state = PS_ROWS;
		res = NULL;
		break;
	case PGRES_COMMAND_OK:
	case PGRES_EMPTY_QUERY:
		s->changes = tag_changes(res);
		s->state = PS_DONE;
		break;
	default:
		rc = fail_result(d, res);
		s->state = PS_FAILED;
		break;
	}
	PQclear(res);
	note_tx(d);
	return rc;
}

static enum at_rc p_step(struct db_stmt *st, bool *row)
{
	struct pstmt *s = PS(st);
	enum at_rc rc;

	switch (s->state) {
	case PS_NEW:
		rc = run(s, D(st->db));
		if (rc != AT_OK)
			return rc;
		break;
	case PS_FAILED:
		return AT_DB;
	case PS_DONE:
	case PS_ROWS:
		break;
	}
	if (s->state == PS_ROWS) {
		s->row++;
		if (s->row < s->nrows) {
			*row = true;
			return AT_OK;
		}
		PQclear(s->res);
		s->res = NULL;
		s->state = PS_DONE;
	}
	return AT_OK;
}

/* True when col of the current row exists. */
static bool have(const struct pstmt *s, int col)
{
	return s->state == PS_ROWS && s->row >= 0 && s->row < s->nrows && col >= 0 &&
	       col < PQnfields(s->res);
}

static bool p_col_null(struct db_stmt *st, int col)
{
	struct pstmt *s = PS(st);

	return !have(s, col) || PQgetisnull(s->res, s->row, col);
}

/* Text of col as an integer: booleans read 1/0, malformed or out-of-range text reads 0. */
static int64_t p_col_i64(struct db_stmt *st, int col)
{
	struct pstmt *s = PS(st);
	const char *v;
	int64_t n;

	if (p_col_null(st, col))
		return 0;
	v = PQgetvalue(s->res, s->row, col);
	if (PQftype(s->res, col) == PG_BOOLOID)
		return v[0] == 't';
	if (!parse_i64(v, &n))
		return 0;
	return n;
}

static const char *p_col_text(struct db_stmt *st, int col)
{
	struct pstmt *s = PS(st);

	if (p_col_null(st, col))
		return NULL;
	return PQgetvalue(s->res, s->row, col);
}

static size_t p_col_len(struct db_stmt *st, int col)
{
	struct pstmt *s = PS(st);

	if (p_col_null(st, col))
		return 0;
	return (size_t)PQgetlength(s->res, s->row, col);
}

static int64_t p_changes(struct db_stmt *st)
{
	return PS(st)->changes;
}

static void p_finalize(struct db_stmt *st)
{
	struct pstmt *s = PS(st);

	PQclear(s->res);
	for (int i = 0; i < s->nparams; i++)
		xfree(s->vals[i]);
	xfree(s->vals);
	xfree(s->sql);
	xfree(s);
}

/*
 * ROLLBACK: also the way out of a lost connection. Not sent when nothing is open (the server
 * would warn); afterwards no transaction is open, whatever happened.
 */
static enum at_rc rollback(struct pdb *d)
{
	PGresult *res;
	enum at_rc rc = AT_OK;

	if (PQstatus(d->conn) != CONNECTION_OK) {
		d->in_tx = false;
		set_err(d, "rollback: connection lost, transaction discarded");
		return AT_DB;
	}
	if (PQtransactionStatus(d->conn) == PQTRANS_IDLE) {
		d->in_tx = false;
		return AT_OK;
	}
	res = PQexec(d->conn, "ROLLBACK");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = fail_result(d, res);
	PQclear(res);
	if (PQstatus(d->conn) != CONNECTION_OK)
		d->in_tx = false;
	else
		note_tx(d);
	return rc;
}

/*
 * Run a script. COMMIT of a transaction in which a statement failed "succeeds" on the server
 * (it rolls back, tag ROLLBACK): report that as AT_DB, or the caller would think it saved.
 */
static enum at_rc p_exec(struct db *db, const char *sql)
{
	struct pdb *d = D(db);
	PGresult *res;
	bool aborted;
	enum at_rc rc;

	if (strcmp(sql, "ROLLBACK") == 0)
		return rollback(d);
	rc = ensure_conn(d);
	if (rc != AT_OK)
		return rc;
	aborted = strcmp(sql, "COMMIT") == 0 &&
		  PQtransactionStatus(d->conn) == PQTRANS_INERROR;
	res = PQexec(d->conn, sql);
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
	case PGRES_EMPTY_QUERY:
		rc = AT_OK;
		break;
	default:
		rc = fail_result(d, res);
		break;
	}
	PQclear(res);
	note_tx(d);
	if (rc == AT_OK && aborted) {
		set_err(d, "commit: a statement of the transaction failed; it was rolled back");
		rc = AT_DB;
	}
	return rc;
}

/* BEGIN inside a transaction only warns on PostgreSQL: refuse it, as SQLite does. */
static enum at_rc p_begin(struct db *db)
{
	struct pdb *d = D(db);

	if (PQstatus(d->conn) == CONNECTION_OK &&
	    PQtransactionStatus(d->conn) != PQTRANS_IDLE) {
		set_err(d, "begin: a transaction is already open");
		return AT_DB;
	}
	return p_exec(db, "BEGIN");
}

static const struct db_ops pg_ops = {
	.close = p_close,
	.errmsg = p_errmsg,
	.prepare = p_prepare,
	.bind_i64 = p_bind_i64,
	.bind_text = p_bind_text,
	.bind_null = p_bind_null,
	.step = p_step,
	.col_i64 = p_col_i64,
	.col_text = p_col_text,
	.col_len = p_col_len,
	.col_null = p_col_null,
	.changes = p_changes,
	.finalize = p_finalize,
	.exec = p_exec,
	.begin = p_begin,
};
