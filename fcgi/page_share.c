/* page_share.c: GET /evidence-share/{token} — an evidence file for an LMS, no session.
 *
 * The token in the path is the credential (core/share.h): Canvas fetches the files named
 * in a score's content_items server-side, with no Attest session. An unknown, malformed
 * or expired token, a deleted file and a file missing on disk all answer the same 404.
 * The file goes out like the session download (fcgi/api_evidence.c): streamed, as an
 * attachment with a safe name, its stored media type, nosniff, a sandboxing CSP, never
 * cached by shared caches.
 *
 * No rate limit: 256 random bits are not guessed. The token is never logged: the request
 * line that fcgi/loop.c logs after the handler shows SHARE_PATH "-" instead (r->path is
 * replaced here), and our own lines name the evidence and the platform.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/evidence.h"
#include "core/log.h"
#include "core/share.h"
#include "fcgi/app.h"
#include "fcgi/html.h"
#include "fcgi/http.h"
#include "fcgi/pages.h"

/* The file name as an ASCII quoted-string for clients that ignore filename*: anything but
 * printable ASCII, and the quote, backslash, percent and semicolon, becomes '_'. */
static char *ascii_name(struct arena *a, const char *name)
{
	size_t n = strlen(name);
	char *out = arena_alloc(a, n + 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' &&
			  c != ';') ? (char)c : '_';
	}
	out[n] = '\0';
	return out;
}

static void not_found(struct req *r)
{
	/* the router's own words for an unknown address: nothing to tell apart */
	http_error_page(r, 404, "Not found", "There is no page at this address.");
}

void page_share(struct req *r)
{
	const char *token = r->pathvar;
	struct evidence_opts o = {
		.dir = g_app.cfg.evidence_dir,
		.max_size = g_app.cfg.max_upload,
		.types = g_app.cfg.evidence_types,
	};
	struct evidence_file f;
	struct share s;
	struct at_err err = { "" };
	int64_t now = (int64_t)time(NULL);
	int fd;
	enum at_rc rc;

	r->path = SHARE_PATH "-";	/* keep the token out of the request log */
	rc = share_resolve(g_app.db, token, now, &s);
	if (rc != AT_OK) {
		if (rc != AT_NOTFOUND)
			log_msg(LOG_ERR, r->rid, "op=evidence_share rc=%s", at_strerror(rc));
		else
			log_msg(LOG_INFO, r->rid, "op=evidence_share unknown or expired token");
		if (rc == AT_NOTFOUND)
			not_found(r);
		else
			http_error(r, rc, "could not read the share");
		return;
	}
	rc = evidence_open(g_app.db, r->arena, &o, s.evidence_id, &f, &err);
	if (rc != AT_OK) {
		log_msg(rc == AT_NOTFOUND ? LOG_WARN : LOG_ERR, r->rid,
			"op=evidence_share evidence=%lld platform=%lld rc=%s detail=%s",
			(long long)s.evidence_id, (long long)s.platform_id, at_strerror(rc), err.msg);
		if (rc == AT_NOTFOUND)
			not_found(r);
		else
			http_error(r, rc, "could not open the shared file");
		return;
	}
	fd = open(f.path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_msg(LOG_ERR, r->rid, "op=evidence_share evidence=%lld errno=%d",
			(long long)s.evidence_id, errno);
		http_error(r, AT_INTERNAL, "could not open the shared file");
		return;
	}
	if (strcmp(r->method, "HEAD") != 0) {	/* a HEAD fetches nothing */
		rc = share_count_fetch(g_app.db, token, now);
		if (rc != AT_OK)	/* the download still goes out */
			log_msg(LOG_WARN, r->rid, "op=evidence_share evidence=%lld count rc=%s",
				(long long)s.evidence_id, at_strerror(rc));
		else
			s.fetches++;
	}
	log_msg(LOG_INFO, r->rid, "op=evidence_share evidence=%lld platform=%lld fetch=%lld"
		" size=%lld%s", (long long)s.evidence_id, (long long)s.platform_id,
		(long long)s.fetches, (long long)f.size,
		strcmp(r->method, "HEAD") == 0 ? " head" : "");
	/* Streamed after the headers by http_send: any size, nothing held in memory. */
	http_send_file(r, fd, f.size);
	r->status = 200;
	(void)http_header(r, "Content-Type", f.media_type);
	(void)http_header(r, "Content-Disposition",
			  arena_printf(r->arena, "attachment; filename=\"%s\"; filename*=UTF-8''%s",
				       ascii_name(r->arena, f.filename),
				       html_urlencode(r->arena, f.filename)));
	(void)http_header(r, "X-Content-Type-Options", "nosniff");
	(void)http_header(r, "Content-Security-Policy", "default-src 'none'; sandbox");
	(void)http_header(r, "Cache-Control", "private, no-store");
	(void)http_header(r, "Referrer-Policy", "no-referrer");
	(void)http_header(r, "X-Robots-Tag", "noindex, nofollow");
}
