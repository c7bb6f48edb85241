/* cli_sync.c: `attest sync` — the outbox worker and its admin commands. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/lmsq.h"
#include "core/outbox.h"
#include "core/platform.h"
#include "fcgi/app.h"
#include "fcgi/cli.h"
#include "lti/sync.h"
#include "lti/sync_verify.h"

static const char USAGE[] =
	"usage: attest sync [run] [--batch N] [--lease SECONDS]\n"
	"       attest sync once [--batch N]\n"
	"       attest sync status\n"
	"       attest sync list [--status pending|parked|done|superseded|all] [--platform ID]"
	" [--limit N]\n"
	"       attest sync retry ID\n"
	"       attest sync roster COURSE\n"
	"       attest sync verify [--platform ID] [--course COURSE] [--verbose]\n"
	"\n"
	"Deliver the outbox of LMS writes (AGS scores, NRPS roster imports, Moodle competency\n"
	"ratings, Canvas outcome results).\n"
	"  run      (default) the long-running worker: claims due items in batches under a\n"
	"           lease, sends each batch concurrently, retries network errors, timeouts,\n"
	"           429 and 5xx with exponential backoff and jitter (Retry-After honoured),\n"
	"           parks other 4xx answers with the response body. SIGTERM or SIGINT finishes\n"
	"           the batch in hand, then exits. Run several, on several hosts, over one\n"
	"           PostgreSQL: no item is delivered by two workers at once.\n"
	"  once     deliver what is due now, then exit (cron, tests)\n"
	"  status   pending, failing (pending after a failed attempt), parked and done items\n"
	"           per platform\n"
	"  list     items, newest first (default: pending and parked), with the last error\n"
	"  retry    make a parked (or waiting) item due now, attempts reset\n"
	"  roster   queue a roster import (NRPS) of COURSE (Attest course id, or the LMS's\n"
	"           context id)\n"
	"  verify   read back from the LMS what was delivered (AGS results, Moodle course\n"
	"           ratings, Canvas outcome results) and compare it with the last done item\n"
	"           of each learner and line item / competency; one line per difference\n"
	"           (tab separated: mismatch|unreadable, kind, item, platform, detail), then a\n"
	"           summary. COURSE is Attest's course id. Exit 0 when everything matches,\n"
	"           1 when a value differs or could not be read back, 5 for an unknown\n"
	"           platform or course, 4 for a database error.\n";

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_i64(const char *s, int64_t *v)
{
	char *end = NULL;
	long long x;

	if (s == NULL || *s == '\0')
		return -1;
	x = strtoll(s, &end, 10);
	if (*end != '\0' || x < 0)
		return -1;
	*v = x;
	return 0;
}

static int cmd_run(int argc, char **argv, int once)
{
	struct sync_opts o;
	struct sync_stats st;
	struct sigaction sa;
	const char *v;
	int64_t n;
	int rc;

	sync_defaults(&o);
	o.keys_dir = g_app.cfg.keys_dir;
	o.base_url = g_app.cfg.base_url;
	o.http.connect_ms = g_app.cfg.lms_connect_ms;
	o.http.total_ms = g_app.cfg.lms_total_ms;
	o.http.max_reply = (size_t)g_app.cfg.lms_max_reply;
	o.http.allow_http = (int)g_app.cfg.lms_allow_http;
	o.once = once;
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--batch", &v) && parse_i64(v, &n) == 0 && n > 0 &&
		    n <= 1000) {
			o.batch = (size_t)n;
		} else if (cli_opt(argc, argv, &i, "--lease", &v) && parse_i64(v, &n) == 0 &&
			   n >= 1) {
			o.lease_ms = n * 1000;
		} else if (cli_opt(argc, argv, &i, "--idle-ms", &v) && parse_i64(v, &n) == 0) {
			o.idle_ms = n;
		} else {
			fprintf(stderr, "attest sync: bad argument %s\n\n%s", argv[i], USAGE);
			return EXIT_USAGE;
		}
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: sleeps end at once */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sync_run(g_app.db, &o, &g_stop, &st) != AT_OK) {
		fprintf(stderr, "attest sync: database error: %s\n", db_errmsg(g_app.db));
		return EXIT_DB;
	}
	if (once)
		printf("sync: %" PRId64 " claimed, %" PRId64 " done, %" PRId64 " to retry, %"
		       PRId64 " parked\n", st.claimed, st.done, st.retried, st.parked);
	return EXIT_OKAY;
}

struct status_ctx {
	int rc;
};

static void status_one(const struct platform *p, void *ud)
{
	struct status_ctx *s = ud;
	struct outbox_counts k;

	if (outbox_count(g_app.db, p->id, &k) != AT_OK) {
		s->rc = EXIT_DB;
		return;
	}
	printf("%-4" PRId64 " %-8s %8" PRId64 " %8" PRId64 " %8" PRId64 " %8" PRId64 "  %s\n",
	       p->id, p->flavor, k.pending, k.failing, k.parked, k.done,
	       *p->name ? p->name : p->issuer);
}

static int cmd_status(void)
{
	struct arena *a = arena_new();
	struct status_ctx s = { EXIT_OKAY };
	struct outbox_counts k;
	int rc = cli_open_db();

	if (rc != EXIT_OKAY)
		goto out;
	printf("%-4s %-8s %8s %8s %8s %8s  %s\n", "ID", "FLAVOR", "PENDING", "FAILING", "PARKED",
	       "DONE", "PLATFORM");
	if (platform_each(g_app.db, a, status_one, &s) != AT_OK || s.rc != EXIT_OKAY ||
	    outbox_count(g_app.db, 0, &k) != AT_OK) {
		rc = EXIT_DB;
		goto out;
	}
	printf("%-4s %-8s %8" PRId64 " %8" PRId64 " %8" PRId64 " %8" PRId64 "\n", "all", "",
	       k.pending, k.failing, k.parked, k.done);
out:
	arena_free(a);
	return rc;
}

/* One line, no control characters (an error may be an LMS's response body). */
static void print_clean(const char *s, size_t max)
{
	for (size_t i = 0; s != NULL && s[i] != '\0' && i < max; i++)
		putchar((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i]);
}

static int cmd_list(int argc, char **argv)
{
	struct arena *a = arena_new();
	struct outbox_item *it = NULL;
	const char *v;
	int64_t platform = 0, limit = 50;
	int status = -1, rc;
	size_t n = 0;

	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--status", &v)) {
			status = strcmp(v, "pending") == 0 ? OUTBOX_PENDING :
				 strcmp(v, "parked") == 0 ? OUTBOX_PARKED :
				 strcmp(v, "done") == 0 ? OUTBOX_DONE :
				 strcmp(v, "superseded") == 0 ? OUTBOX_SUPERSEDED :
				 strcmp(v, "all") == 0 ? -2 : -3;
			if (status == -3) {
				fprintf(stderr, "attest sync list: unknown status %s\n", v);
				arena_free(a);
				return EXIT_USAGE;
			}
		} else if (!((cli_opt(argc, argv, &i, "--platform", &v) &&
			      parse_i64(v, &platform) == 0) ||
			     (cli_opt(argc, argv, &i, "--limit", &v) && parse_i64(v, &limit) == 0 &&
			      limit > 0))) {
			fprintf(stderr, "attest sync list: bad argument %s\n", argv[i]);
			arena_free(a);
			return EXIT_USAGE;
		}
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	printf("ID\tPLATFORM\tKIND\tSTATUS\tATTEMPTS\tNEXT_AT_MS\tLAST_STATUS\tORDER_KEY\tLAST_ERROR\n");
	for (int pass = 0; pass < (status == -2 ? 4 : 1); pass++) {
		int s = status == -2 ? pass : status;

		if (outbox_list(g_app.db, a, platform, s, (size_t)limit, &it, &n) != AT_OK) {
			rc = EXIT_DB;
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			printf("%" PRId64 "\t%" PRId64 "\t%s\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64
			       "\t%s\t", it[i].id, it[i].platform_id, it[i].kind,
			       outbox_status_name(it[i].status), it[i].attempts, it[i].next_at_ms,
			       it[i].last_status, it[i].order_key);
			print_clean(it[i].last_error, 300);
			putchar('\n');
		}
	}
out:
	arena_free(a);
	return rc;
}

static int cmd_retry(int argc, char **argv)
{
	int64_t id;
	enum at_rc r;
	int rc;

	if (argc != 2 || parse_i64(argv[1], &id) != 0) {
		fprintf(stderr, "usage: attest sync retry ID\n");
		return EXIT_USAGE;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		return rc;
	r = outbox_requeue(g_app.db, id, now_ms());
	if (r == AT_OK)
		printf("item %" PRId64 " is due now\n", id);
	else if (r == AT_NOTFOUND)
		fprintf(stderr, "attest sync retry: no item %" PRId64 "\n", id);
	else if (r == AT_CONFLICT)
		fprintf(stderr, "attest sync retry: item %" PRId64 " is done, superseded or being"
			" delivered right now\n", id);
	else
		fprintf(stderr, "attest sync retry: %s\n", db_errmsg(g_app.db));
	return cli_exit_of(r);
}

static const char SQL_COURSE_BY_LMS_ID[] =
	"SELECT id FROM context WHERE context_id = ?1 ORDER BY id";

static int cmd_roster(int argc, char **argv)
{
	struct db_stmt *st = NULL;
	int64_t ctx = 0, id = 0, found = 0;
	bool row = false;
	enum at_rc r;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: attest sync roster COURSE\n");
		return EXIT_USAGE;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		return rc;
	r = db_prepare(g_app.db, SQL_COURSE_BY_LMS_ID, &st);
	if (r == AT_OK) {
		db_bind_str(st, 1, argv[1]);
		while ((r = db_step(st, &row)) == AT_OK && row) {
			ctx = db_col_i64(st, 0);
			found++;
		}
	}
	db_finalize(st);
	if (r != AT_OK)
		return EXIT_DB;
	if (found > 1) {
		fprintf(stderr, "attest sync roster: several courses have the LMS id %s; give"
			" Attest's course id\n", argv[1]);
		return EXIT_USAGE;
	}
	if (found == 0 && parse_i64(argv[1], &ctx) != 0) {
		fprintf(stderr, "attest sync roster: no course %s\n", argv[1]);
		return EXIT_NOTFOUND;
	}
	r = lmsq_roster(g_app.db, ctx, (int64_t)time(NULL), true, &id);
	if (r == AT_NOTFOUND) {
		fprintf(stderr, "attest sync roster: no course %s\n", argv[1]);
		return EXIT_NOTFOUND;
	}
	if (r != AT_OK) {
		fprintf(stderr, "attest sync roster: %s\n", db_errmsg(g_app.db));
		return cli_exit_of(r);
	}
	if (id == 0) {
		fprintf(stderr, "attest sync roster: course %" PRId64 " has no names and role"
			" service (launch it with NRPS enabled first)\n", ctx);
		return EXIT_FAIL;
	}
	printf("roster import of course %" PRId64 " queued (item %" PRId64 ")\n", ctx, id);
	return EXIT_OKAY;
}

static const char SQL_CONTEXT_EXISTS[] = "SELECT platform_id FROM context WHERE id = ?1";

static int cmd_verify(int argc, char **argv)
{
	struct sync_verify_opts o;
	struct sync_verify_stats st;
	struct arena *a;
	struct platform p;
	struct db_stmt *q = NULL;
	const char *v;
	bool row = false;
	enum at_rc r;
	int rc;

	memset(&o, 0, sizeof(o));
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--verbose") == 0 || strcmp(argv[i], "-v") == 0) {
			o.verbose = 1;
		} else if (!((cli_opt(argc, argv, &i, "--platform", &v) &&
			      parse_i64(v, &o.platform_id) == 0 && o.platform_id > 0) ||
			     (cli_opt(argc, argv, &i, "--course", &v) &&
			      parse_i64(v, &o.context_id) == 0 && o.context_id > 0))) {
			fprintf(stderr, "attest sync verify: bad argument %s\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		return rc;
	if (o.platform_id > 0) {
		a = arena_new();
		r = platform_get(g_app.db, a, o.platform_id, &p);
		arena_free(a);
		if (r == AT_NOTFOUND) {
			fprintf(stderr, "attest sync verify: no platform %" PRId64 "\n",
				o.platform_id);
			return EXIT_NOTFOUND;
		}
		if (r != AT_OK)
			return EXIT_DB;
	}
	if (o.context_id > 0) {
		r = db_prepare(g_app.db, SQL_CONTEXT_EXISTS, &q);
		if (r == AT_OK) {
			db_bind_i64(q, 1, o.context_id);
			r = db_step(q, &row);
		}
		db_finalize(q);
		if (r != AT_OK)
			return EXIT_DB;
		if (!row) {
			fprintf(stderr, "attest sync verify: no course %" PRId64 "\n", o.context_id);
			return EXIT_NOTFOUND;
		}
	}
	o.keys_dir = g_app.cfg.keys_dir;
	o.base_url = g_app.cfg.base_url;
	o.http.connect_ms = g_app.cfg.lms_connect_ms;
	o.http.total_ms = g_app.cfg.lms_total_ms;
	o.http.max_reply = (size_t)g_app.cfg.lms_max_reply;
	o.http.allow_http = (int)g_app.cfg.lms_allow_http;
	o.out = stdout;
	signal(SIGPIPE, SIG_IGN);
	if (sync_verify(g_app.db, &o, &st) != AT_OK) {
		fprintf(stderr, "attest sync verify: database error: %s\n", db_errmsg(g_app.db));
		return EXIT_DB;
	}
	printf("verify: %" PRId64 " checked, %" PRId64 " match, %" PRId64 " differ, %" PRId64
	       " could not be read back; %" PRId64 " items not delivered yet (not compared)\n",
	       st.checked, st.matched, st.mismatched, st.unreadable, st.undelivered);
	return st.mismatched > 0 || st.unreadable > 0 ? EXIT_FAIL : EXIT_OKAY;
}

int cli_sync(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "run";

	if (cli_has_help(argc, argv)) {
		fputs(USAGE, stdout);
		return EXIT_OKAY;
	}
	if (argc > 1 && argv[1][0] == '-')
		return cmd_run(argc, argv, 0);
	if (strcmp(sub, "run") == 0)
		return cmd_run(argc - 1, argv + 1, 0);
	if (strcmp(sub, "once") == 0)
		return cmd_run(argc - 1, argv + 1, 1);
	if (strcmp(sub, "status") == 0)
		return cmd_status();
	if (strcmp(sub, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(sub, "retry") == 0)
		return cmd_retry(argc - 1, argv + 1);
	if (strcmp(sub, "roster") == 0)
		return cmd_roster(argc - 1, argv + 1);
	if (strcmp(sub, "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	fprintf(stderr, "attest sync: unknown command %s\n\n%s", sub, USAGE);
	return EXIT_USAGE;
}
