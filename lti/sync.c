/* sync.c: the outbox worker (lti/sync.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/outbox.h"
#include "core/platform.h"
#include "core/share.h"
#include "core/token.h"
#include "lti/lms.h"
#include "lti/lti_svc.h"
#include "lti/sync.h"

#define ERROR_BODY_MAX 900	/* bytes of a response body kept in a parked item */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const struct lms_handler *lms_handler_of(const char *kind)
{
	const struct lms_handler *sets[] = {
		lti_ags_handlers, lti_nrps_handlers, lms_moodle_handlers, lms_canvas_handlers,
	};

	for (size_t s = 0; s < NELEM(sets); s++)
		for (const struct lms_handler *h = sets[s]; h != NULL && h->kind != NULL; h++)
			if (strcmp(h->kind, kind) == 0)
				return h;
	return NULL;
}

void lms_judge(enum at_rc rc, const struct httpc_resp *resp, struct lms_result *res)
{
	res->http_status = 0;
	res->retry_after_ms = -1;
	res->error[0] = '\0';
	if (rc != AT_OK) {
		res->verdict = rc == AT_BADREQ ? LMS_PARK : LMS_RETRY;
		snprintf(res->error, sizeof(res->error), "%s", rc == AT_TIMEOUT ? "timeout" :
			 rc == AT_TOOBIG ? "reply too large" : rc == AT_BADREQ ? "refused URL" :
			 "network error");
		return;
	}
	res->http_status = resp->status;
	if (resp->retry_after >= 0)
		res->retry_after_ms = resp->retry_after * 1000;
	if (resp->status >= 200 && resp->status < 300) {
		res->verdict = LMS_DONE;
		return;
	}
	res->verdict = resp->status >= 500 || resp->status == 429 || resp->status == 408 ||
		       resp->status == 425 ? LMS_RETRY : LMS_PARK;
	snprintf(res->error, sizeof(res->error), "HTTP %ld: %.*s", resp->status,
		 ERROR_BODY_MAX, resp->body ? resp->body : "");
}

void sync_defaults(struct sync_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->http.connect_ms = 5000;
	o->http.total_ms = 20000;
	o->http.max_reply = 4 << 20;
	o->batch = 32;
	o->lease_ms = 300000;
	o->backoff_base_ms = 1000;
	o->backoff_cap_ms = 3600000;
	o->idle_ms = 1000;
}

struct slot {
	struct outbox_item *it;
	const struct lms_handler *h;
	struct platform p;
	struct lms_ctx c;
	struct lms_req rq;
	struct lms_result res;
	int sent;
	size_t call;
};

static double rnd(void)
{
	unsigned char b[4];
	FILE *f = fopen("/dev/urandom", "rb");
	uint32_t v = 0;

	if (f != NULL && fread(b, 1, 4, f) == 4)
		v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	else
		v = (uint32_t)rand();
	if (f != NULL)
		fclose(f);
	return v / 4294967296.0;
}

static void record(struct db *db, const struct sync_opts *o, const char *owner,
		   struct slot *s, struct sync_stats *st)
{
	int64_t t = now_ms(), next;
	enum at_rc rc;

	switch (s->res.verdict) {
	case LMS_DONE:
		rc = outbox_done(db, s->it->id, owner, s->res.http_status, t);
		if (rc == AT_OK)
			st->done++;
		break;
	case LMS_RETRY:
		next = s->res.retry_after_ms >= 0 ? s->res.retry_after_ms :
		       outbox_backoff_ms(s->it->attempts + 1, o->backoff_base_ms,
					 o->backoff_cap_ms, rnd());
		rc = outbox_retry_later(db, s->it->id, owner, s->res.http_status, s->res.error,
					t + next, t);
		if (rc == AT_OK)
			st->retried++;
		break;
	default:
		rc = outbox_park(db, s->it->id, owner, s->res.http_status, s->res.error, t);
		if (rc == AT_OK)
			st->parked++;
		break;
	}
	if (rc == AT_CONFLICT)
		st->lost_lease++;
	log_msg(rc == AT_OK && s->res.verdict == LMS_DONE ? LOG_DEBUG : LOG_INFO, NULL,
		"op=sync item=%" PRId64 " kind=%s platform=%" PRId64 " verdict=%s status=%ld"
		" attempts=%" PRId64 "%s", s->it->id, s->it->kind, s->it->platform_id,
		s->res.verdict == LMS_DONE ? "done" : s->res.verdict == LMS_RETRY ? "retry" :
		"park", s->res.http_status, s->it->attempts + 1,
		rc == AT_CONFLICT ? " lease=lost" : rc != AT_OK ? " record=failed" : "");
}

static enum at_rc batch(struct db *db, const struct sync_opts *o, const char *owner,
			struct httpc_pool *pool, void *tokens, struct sync_stats *st,
			size_t *claimed)
{
	struct arena *a = arena_new();
	struct outbox_item *items = NULL;
	struct slot *slots;
	struct httpc_call *calls;
	size_t n = 0, ncalls = 0;
	int64_t t = now_ms();
	enum at_rc rc = outbox_claim(db, a, owner, t, o->lease_ms, o->batch, &items, &n);

	*claimed = n;
	if (rc != AT_OK || n == 0)
		goto out;
	st->batches++;
	st->claimed += (int64_t)n;
	slots = arena_zalloc(a, n * sizeof(*slots));
	calls = arena_zalloc(a, n * sizeof(*calls));
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		s->it = &items[i];
		s->res.retry_after_ms = -1;
		s->h = lms_handler_of(s->it->kind);
		if (platform_get(db, a, s->it->platform_id, &s->p) != AT_OK) {
			s->res.verdict = LMS_PARK;
			snprintf(s->res.error, sizeof(s->res.error), "platform %" PRId64 " is gone",
				 s->it->platform_id);
			continue;
		}
		if (s->h == NULL) {
			s->res.verdict = LMS_PARK;
			snprintf(s->res.error, sizeof(s->res.error), "no handler for items of kind"
				 " '%s' in this build", s->it->kind);
			continue;
		}
		s->c.db = db;
		s->c.a = a;
		s->c.p = &s->p;
		s->c.http = &o->http;
		s->c.now_ms = now_ms();
		s->c.tokens = tokens;
		s->c.base_url = o->base_url;
		if (s->h->prepare(&s->c, s->it, &s->rq, &s->res) != LMS_SEND)
			continue;
		s->sent = 1;
		s->call = ncalls;
		calls[ncalls].method = s->rq.method;
		calls[ncalls].url = s->rq.url;
		calls[ncalls].headers = s->rq.headers;
		calls[ncalls].body = s->rq.body;
		calls[ncalls].body_len = s->rq.body_len;
		ncalls++;
	}
	if (ncalls > 0)
		httpc_pool_run(pool, a, &o->http, calls, ncalls);
	for (size_t i = 0; i < n; i++) {
		struct slot *s = &slots[i];

		if (s->sent) {
			struct httpc_call *k = &calls[s->call];

			s->c.now_ms = now_ms();
			s->h->finish(&s->c, s->it, k->rc, &k->resp, &s->res);
			if (k->rc != AT_OK && s->res.error[0] == '\0')
				snprintf(s->res.error, sizeof(s->res.error), "%s", k->err.msg);
			else if (k->rc != AT_OK)
				snprintf(s->res.error + strlen(s->res.error),
					 sizeof(s->res.error) - strlen(s->res.error), ": %s",
					 k->err.msg);
		}
		record(db, o, owner, s, st);
	}
out:
	arena_free(a);
	return rc;
}

static void nap(int64_t ms, volatile sig_atomic_t *stop)
{
	while (ms > 0 && !*stop) {
		int64_t step = ms > 100 ? 100 : ms;
		struct timespec ts = { step / 1000, (long)(step % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		ms -= step;
	}
}

/* Evidence capability links past their expiry are deleted once an hour, when idle. */
static void purge_shares(struct db *db, int64_t *last)
{
	int64_t now = (int64_t)time(NULL), n = 0;

	if (now - *last < 3600)
		return;
	*last = now;
	if (share_purge(db, now, &n) == AT_OK && n > 0)
		log_msg(LOG_INFO, NULL, "op=share_purge expired=%" PRId64, n);
}

enum at_rc sync_run(struct db *db, const struct sync_opts *o, volatile sig_atomic_t *stop,
		    struct sync_stats *st)
{
	struct httpc_pool *pool = httpc_pool_new((long)(o->batch > 0 ? o->batch : 1));
	struct lti_svc_tokens *tokens = lti_svc_tokens_new(o->keys_dir);
	struct arena *a = arena_new();
	char host[128] = "host";
	const char *owner = o->owner;
	enum at_rc rc = AT_OK;
	int db_errors = 0;
	int64_t last_purge = 0;

	memset(st, 0, sizeof(*st));
	if (owner == NULL) {
		gethostname(host, sizeof(host) - 1);
		owner = arena_printf(a, "%s:%ld:%s", host, (long)getpid(), token_random(a, 6));
	}
	log_msg(LOG_INFO, NULL, "op=sync_start owner=%s batch=%zu once=%d", owner, o->batch,
		o->once);
	while (!*stop) {
		size_t n = 0;

		rc = batch(db, o, owner, pool, tokens, st, &n);
		if (rc == AT_TIMEOUT)
			continue;	/* a busy database: claim again */
		if (rc != AT_OK) {
			/* the database went away for a moment: keep trying in the long-running
			 * mode, a few times in once mode */
			log_msg(LOG_WARN, NULL, "op=sync_claim error=%s detail=\"%s\"",
				at_strerror(rc), db_errmsg(db));
			if (o->once && ++db_errors > 5)
				break;
			nap(1000, stop);
			continue;
		}
		db_errors = 0;
		if (n == 0) {
			if (o->once)
				break;
			purge_shares(db, &last_purge);
			nap(o->idle_ms, stop);
		}
	}
	log_msg(LOG_INFO, NULL, "op=sync_stop owner=%s batches=%" PRId64 " done=%" PRId64
		" retried=%" PRId64 " parked=%" PRId64 " lost_lease=%" PRId64 " tokens=%" PRId64,
		owner, st->batches, st->done, st->retried, st->parked, st->lost_lease,
		lti_svc_fetches(tokens));
	lti_svc_tokens_free(tokens);
	httpc_pool_free(pool);
	arena_free(a);
	return rc == AT_TIMEOUT || *stop ? AT_OK : rc;
}
