/* cli_framework.c: `attest framework` — import, export, list, show and delete competency
 * frameworks (Moodle tool_lpimportcsv CSV, 1EdTech CASE 1.0 JSON). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/framework.h"
#include "fcgi/app.h"
#include "fcgi/cli.h"


static const char USAGE[] =
	"usage: attest framework import FILE [--format moodle-csv|case] [--replace]\n"
	"       attest framework export ID|IDNUMBER [--format moodle-csv|case] [-o FILE]\n"
	"       attest framework list\n"
	"       attest framework show ID|IDNUMBER\n"
	"       attest framework delete ID|IDNUMBER\n"
	"\n"
	"Competency frameworks: a tree of competencies with a scale and parent rules.\n"
	"Run `attest framework COMMAND --help` for one command.\n";

static const char USAGE_IMPORT[] =
	"usage: attest framework import FILE [--format moodle-csv|case] [--replace]\n"
	"\n"
	"Import a framework from FILE (- for standard input, at most 20 MiB of UTF-8):\n"
	"  moodle-csv  the CSV of Moodle's \"Import competency framework\" tool\n"
	"              (admin/tool/lpimportcsv); a file exported from Moodle imports as is\n"
	"  case        a 1EdTech CASE 1.0 CFPackage (JSON)\n"
	"Without --format, a file starting with '{' is CASE, anything else Moodle CSV.\n"
	"The import is one transaction: any error (reported with its line or JSON path)\n"
	"stores nothing. A framework whose id number exists is refused unless --replace:\n"
	"then its competencies are replaced, keeping the ids (and ratings) of those whose\n"
	"id number is still in the file; removing one that has ratings is refused.\n"
	"Exit codes: 0 imported, 1 the file was refused, 4 database error, 6 exists.\n";

static const char USAGE_EXPORT[] =
	"usage: attest framework export ID|IDNUMBER [--format moodle-csv|case] [-o FILE]\n"
	"\n"
	"Write a framework as Moodle CSV (default; import it in Moodle under Site\n"
	"administration > Competencies > Import competency framework) or as a CASE 1.0\n"
	"CFPackage, to standard output or FILE.\n";

static const char USAGE_LIST[] =
	"usage: attest framework list\n\nList the frameworks: id, id number, competencies,"
	" short name.\n";
static const char USAGE_SHOW[] =
	"usage: attest framework show ID|IDNUMBER\n\nShow a framework: scale, taxonomies and the"
	" competency tree with its rules.\n";
static const char USAGE_DELETE[] =
	"usage: attest framework delete ID|IDNUMBER\n\nDelete a framework with its competencies"
	" (and the ratings, links and evidence links of those).\n";

static int exit_of(enum at_rc rc)
{
	switch (rc) {
	case AT_OK: return EXIT_OKAY;
	case AT_NOTFOUND: return EXIT_NOTFOUND;
	case AT_CONFLICT: return EXIT_CONFLICT;
	case AT_DB: case AT_TIMEOUT: return EXIT_DB;
	default: return EXIT_FAIL;
	}
}

static bool parse_format(const char *s, enum framework_format *out)
{
	if (strcmp(s, "moodle-csv") == 0 || strcmp(s, "moodle") == 0 || strcmp(s, "csv") == 0)
		*out = FRAMEWORK_FMT_MOODLE;
	else if (strcmp(s, "case") == 0)
		*out = FRAMEWORK_FMT_CASE;
	else
		return false;
	return true;
}

/* Read path ("-": stdin) into b, at most FRAMEWORK_MAX_FILE bytes. */
static enum at_rc read_file(const char *path, struct buf *b, struct at_err *err)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[65536];
	size_t n;
	enum at_rc rc = AT_OK;

	if (fp == NULL)
		return at_fail(err, AT_NOTFOUND, "cannot open: %s", strerror(errno));
	while (rc == AT_OK && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		rc = buf_append(b, chunk, n);
	if (rc == AT_TOOBIG)
		at_fail(err, rc, "the file is larger than %u MiB", FRAMEWORK_MAX_FILE >> 20);
	else if (ferror(fp))
		rc = at_fail(err, AT_INTERNAL, "read error: %s", strerror(errno));
	if (fp != stdin)
		fclose(fp);
	return rc;
}

static int cmd_import(int argc, char **argv)
{
	struct arena *a = arena_new();
	struct buf b;
	struct at_err err = { "" };
	struct framework_import_result res;
	enum framework_format fmt = FRAMEWORK_FMT_GUESS;
	const char *file = NULL, *v;
	bool replace = false;
	enum at_rc r;
	int rc = EXIT_USAGE;

	buf_init(&b, FRAMEWORK_MAX_FILE);
	if (cli_has_help(argc, argv)) {
		fputs(USAGE_IMPORT, stdout);
		rc = EXIT_OKAY;
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--format", &v)) {
			if (!parse_format(v, &fmt)) {
				fprintf(stderr, "attest: unknown format '%s' (moodle-csv, case)\n", v);
				goto out;
			}
		} else if (strcmp(argv[i], "--replace") == 0) {
			replace = true;
		} else if (file == NULL && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
			file = argv[i];
		} else {
			fprintf(stderr, "attest: framework import: unexpected argument '%s'\n\n%s",
				argv[i], USAGE_IMPORT);
			goto out;
		}
	}
	if (file == NULL) {
		fputs(USAGE_IMPORT, stderr);
		goto out;
	}
	r = read_file(file, &b, &err);
	if (r != AT_OK) {
		fprintf(stderr, "attest: %s: %s\n", file, err.msg);
		rc = r == AT_NOTFOUND ? EXIT_NOTFOUND : EXIT_FAIL;
		goto out;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	r = framework_import(g_app.db, a, b.data ? b.data : "", b.len, fmt, replace,
			     (int64_t)time(NULL), &res, &err);
	if (r != AT_OK) {
		fprintf(stderr, "attest: %s: %s\n", file, err.msg[0] ? err.msg : at_strerror(r));
		fprintf(stderr, "attest: nothing was imported\n");
		rc = exit_of(r);
		goto out;
	}
	if (*res.notes)
		fprintf(stderr, "%s", res.notes);
	printf("framework %lld %s: %zu competencies (%zu created, %zu updated, %zu deleted)\n",
	       (long long)res.framework_id, res.replaced ? "replaced" : "imported", res.ncomps,
	       res.created, res.updated, res.deleted);
	rc = EXIT_OKAY;
out:
	buf_cleanup(&b);
	arena_free(a);
	return rc;
}

static int cmd_export(int argc, char **argv)
{
	struct arena *a = arena_new();
	struct at_err err = { "" };
	struct framework fw;
	struct framework_tree *t = NULL;
	enum framework_format fmt = FRAMEWORK_FMT_MOODLE;
	const char *ref = NULL, *outpath = NULL, *v;
	char *text = NULL;
	size_t len = 0;
	enum at_rc r;
	int rc = EXIT_USAGE;
	FILE *fp = NULL;

	if (cli_has_help(argc, argv)) {
		fputs(USAGE_EXPORT, stdout);
		rc = EXIT_OKAY;
		goto out;
	}
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--format", &v)) {
			if (!parse_format(v, &fmt)) {
				fprintf(stderr, "attest: unknown format '%s' (moodle-csv, case)\n", v);
				goto out;
			}
		} else if (cli_opt(argc, argv, &i, "-o", &outpath) ||
			   cli_opt(argc, argv, &i, "--output", &outpath)) {
			continue;
		} else if (ref == NULL && argv[i][0] != '-') {
			ref = argv[i];
		} else {
			fprintf(stderr, "attest: framework export: unexpected argument '%s'\n\n%s",
				argv[i], USAGE_EXPORT);
			goto out;
		}
	}
	if (ref == NULL) {
		fputs(USAGE_EXPORT, stderr);
		goto out;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	r = framework_resolve(g_app.db, a, ref, &fw);
	if (r == AT_OK)
		r = framework_load(g_app.db, a, fw.id, &t);
	if (r != AT_OK) {
		fprintf(stderr, "attest: framework %s: %s\n", ref, at_strerror(r));
		rc = exit_of(r);
		goto out;
	}
	if (fmt == FRAMEWORK_FMT_CASE)
		r = fw_case_write(a, t, &text, &len, &err);
	else
		r = fw_moodle_write(a, t, &text, &len, &err);
	if (r != AT_OK) {
		fprintf(stderr, "attest: framework %s: %s\n", ref, err.msg);
		rc = EXIT_FAIL;
		goto out;
	}
	fp = outpath ? fopen(outpath, "wb") : stdout;
	if (fp == NULL) {
		fprintf(stderr, "attest: %s: %s\n", outpath, strerror(errno));
		rc = EXIT_FAIL;
		goto out;
	}
	if (fwrite(text, 1, len, fp) != len || fflush(fp) != 0) {
		fprintf(stderr, "attest: %s: write error: %s\n", outpath ? outpath : "stdout",
			strerror(errno));
		rc = EXIT_FAIL;
		goto out;
	}
	rc = EXIT_OKAY;
out:
	if (fp != NULL && fp != stdout && fclose(fp) != 0 && rc == EXIT_OKAY) {
		fprintf(stderr, "attest: %s: %s\n", outpath, strerror(errno));
		rc = EXIT_FAIL;
	}
	arena_free(a);
	return rc;
}

static int cmd_list(int argc, char **argv)
{
	struct arena *a = arena_new();
	struct framework *list = NULL;
	size_t n = 0;
	enum at_rc r;
	int rc;

	if (cli_has_help(argc, argv) || argc > 1) {
		fputs(USAGE_LIST, argc > 1 && !cli_has_help(argc, argv) ? stderr : stdout);
		rc = cli_has_help(argc, argv) ? EXIT_OKAY : EXIT_USAGE;
		goto out;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	r = framework_list(g_app.db, a, &list, &n);
	if (r != AT_OK) {
		fprintf(stderr, "attest: could not list frameworks: %s\n", db_errmsg(g_app.db));
		rc = exit_of(r);
		goto out;
	}
	printf("%-4s %-24s %-12s %s\n", "ID", "IDNUMBER", "COMPETENCIES", "SHORTNAME");
	for (size_t i = 0; i < n; i++)
		printf("%-4lld %-24s %-12lld %s\n", (long long)list[i].id, list[i].idnumber,
		       (long long)list[i].ncomps, list[i].shortname);
out:
	arena_free(a);
	return rc;
}

static void print_rule(const struct framework_comp *c)
{
	if (c->rule.type == FRAMEWORK_RULE_NONE)
		return;
	if (c->rule.type != FRAMEWORK_RULE_POINTS) {
		printf("  [rule: %s]", framework_rule_name(c->rule.type));
		return;
	}
	printf("  [rule: points >= %lld of", (long long)c->rule.base);
	for (size_t i = 0; i < c->rule.n; i++)
		printf(" %s=%lld%s", c->rule.items[i].idnumber, (long long)c->rule.items[i].points,
		       c->rule.items[i].required ? "!" : "");
	printf("]");
}

static void print_scale(const struct framework_scale *s)
{
	for (size_t i = 0; i < s->n; i++)
		printf("%s%zu %s%s%s", i ? ", " : "", i, s->items[i].name,
		       s->items[i].proficient ? " (proficient)" : "",
		       s->items[i].is_default ? " (default)" : "");
}

static int cmd_show(int argc, char **argv)
{
	struct arena *a = arena_new();
	struct framework fw;
	struct framework_tree *t = NULL;
	enum at_rc r;
	int rc = EXIT_USAGE;

	if (cli_has_help(argc, argv)) {
		fputs(USAGE_SHOW, stdout);
		rc = EXIT_OKAY;
		goto out;
	}
	if (argc != 2) {
		fputs(USAGE_SHOW, stderr);
		goto out;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	r = framework_resolve(g_app.db, a, argv[1], &fw);
	if (r == AT_OK)
		r = framework_load(g_app.db, a, fw.id, &t);
	if (r != AT_OK) {
		fprintf(stderr, "attest: framework %s: %s\n", argv[1], at_strerror(r));
		rc = exit_of(r);
		goto out;
	}
	printf("framework %lld: %s\n  short name  %s\n  scale       ", (long long)t->fw.id,
	       t->fw.idnumber, t->fw.shortname);
	print_scale(&t->fw.scale);
	printf("\n  taxonomies  %s\n  competencies %zu\n\n", *t->fw.taxonomies ?
	       t->fw.taxonomies : "-", t->n);
	for (size_t i = 0; i < t->n; i++) {
		const struct framework_comp *c = t->items[i];

		printf("%*s%s  %s", 2 * (c->depth - 1), "", c->idnumber, c->shortname);
		print_rule(c);
		if (c->scale != NULL) {
			printf("  [scale: ");
			print_scale(c->scale);
			printf("]");
		}
		printf("\n");
	}
	rc = EXIT_OKAY;
out:
	arena_free(a);
	return rc;
}

static int cmd_delete(int argc, char **argv)
{
	struct arena *a = arena_new();
	struct framework fw;
	enum at_rc r;
	int rc = EXIT_USAGE;

	if (cli_has_help(argc, argv)) {
		fputs(USAGE_DELETE, stdout);
		rc = EXIT_OKAY;
		goto out;
	}
	if (argc != 2) {
		fputs(USAGE_DELETE, stderr);
		goto out;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	r = framework_resolve(g_app.db, a, argv[1], &fw);
	if (r == AT_OK)
		r = framework_delete(g_app.db, fw.id);
	if (r != AT_OK) {
		fprintf(stderr, "attest: framework %s: %s\n", argv[1], at_strerror(r));
		rc = exit_of(r);
		goto out;
	}
	printf("framework %lld (%s) deleted\n", (long long)fw.id, fw.idnumber);
	rc = EXIT_OKAY;
out:
	arena_free(a);
	return rc;
}

int cli_framework(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "help") == 0) {
		fputs(USAGE, sub == NULL ? stderr : stdout);
		return sub == NULL ? EXIT_USAGE : EXIT_OKAY;
	}
	if (strcmp(sub, "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	if (strcmp(sub, "export") == 0)
		return cmd_export(argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0)
		return cmd_list(argc - 1, argv + 1);
	if (strcmp(sub, "show") == 0)
		return cmd_show(argc - 1, argv + 1);
	if (strcmp(sub, "delete") == 0)
		return cmd_delete(argc - 1, argv + 1);
	fprintf(stderr, "attest: framework: unknown command '%s'\n\n%s", sub, USAGE);
	return EXIT_USAGE;
}
