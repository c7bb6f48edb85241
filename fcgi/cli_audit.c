/* cli_audit.c: `attest audit` — verify the audit hash chain, show its newest entries. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/audit.h"
#include "fcgi/app.h"
#include "fcgi/cli.h"


static const char USAGE[] =
	"usage: attest audit verify\n"
	"       attest audit tail [N]     (the newest N entries, default 20)\n"
	"\n"
	"verify walks the hash chain of the audit log and exits 0 with \"audit log intact:\n"
	"N entries\", or 1 naming the first entry that was edited, deleted, reordered or\n"
	"inserted. Keep the head hash (the last line of `attest audit tail 1`) somewhere\n"
	"else too: a chain cannot show rows cut off its end.\n";

static int cmd_verify(void)
{
	struct at_err err = { "" };
	int64_t bad = 0, n = 0;
	enum at_rc r;
	int rc = cli_open_db();

	if (rc != EXIT_OKAY)
		return rc;
	r = audit_verify(g_app.db, &bad, &n, &err);
	if (r == AT_OK) {
		printf("audit log intact: %" PRId64 " entr%s\n", n, n == 1 ? "y" : "ies");
		return EXIT_OKAY;
	}
	if (r == AT_CONFLICT) {
		printf("audit log broken at entry %" PRId64 ": %s\n", bad, err.msg);
		return EXIT_FAIL;
	}
	fprintf(stderr, "attest: audit verify: %s\n", err.msg[0] ? err.msg : at_strerror(r));
	return cli_exit_of(r);
}

static int parse_count(const char *s, int64_t *n)
{
	int64_t v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 1000000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > 100000)
		return -1;
	*n = v;
	return 0;
}

static int cmd_tail(int argc, char **argv)
{
	struct arena *a;
	struct audit_row *rows;
	size_t nrows;
	int64_t n = 20;
	enum at_rc r;
	int rc;

	if (argc > 3 || (argc == 3 && parse_count(argv[2], &n) != 0)) {
		fprintf(stderr, "attest: audit tail: N must be a number from 1 to 100000\n");
		return EXIT_USAGE;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		return rc;
	a = arena_new();
	r = audit_tail(g_app.db, a, n, &rows, &nrows);
	if (r != AT_OK) {
		fprintf(stderr, "attest: audit tail: %s\n", db_errmsg(g_app.db));
		rc = cli_exit_of(r);
		goto out;
	}
	for (size_t i = 0; i < nrows; i++) {
		char when[32] = "?";
		time_t t = (time_t)rows[i].at;
		struct tm tm;

		if (gmtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		printf("%" PRId64 " %s actor=", rows[i].id, when);
		if (rows[i].actor_id > 0)
			printf("%" PRId64, rows[i].actor_id);
		else
			fputs("system", stdout);
		printf(" %s %s/%" PRId64 " %s hash=%s\n", rows[i].action, rows[i].entity,
		       rows[i].entity_id, rows[i].data, rows[i].hash);
	}
out:
	arena_free(a);
	return rc;
}

int cli_audit(int argc, char **argv)
{
	if (argc < 2 || cli_has_help(argc, argv)) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OKAY;
	}
	if (strcmp(argv[1], "verify") == 0 && argc == 2)
		return cmd_verify();
	if (strcmp(argv[1], "tail") == 0)
		return cmd_tail(argc, argv);
	fprintf(stderr, "attest: audit: unknown command '%s'\n\n%s", argv[1], USAGE);
	return EXIT_USAGE;
}
