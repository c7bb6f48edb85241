/* cli_program.c: `attest program` — validate, import, list and show program definitions. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/program.h"
#include "fcgi/app.h"
#include "fcgi/cli.h"


static const char USAGE[] =
	"usage: attest program validate FILE\n"
	"       attest program import FILE [--replace]\n"
	"       attest program list\n"
	"       attest program show KEY\n"
	"       attest program schema\n"
	"\n"
	"A program is a JSON definition (docs/programs.md; schema: docs/program.schema.json,\n"
	"also printed by `attest program schema`). validate checks the file alone; import also\n"
	"checks that its frameworks and competency idnumbers exist (import the frameworks\n"
	"first) and stores it in one transaction: on any error nothing is stored.\n"
	"--replace replaces the program with the same key and bumps its version, unless\n"
	"observations exist for its checklists (then import it under a new key).\n"
	"Exit codes: 0 ok, 1 failed, 2 invalid definition or usage, 5 not found, 6 exists.\n";

/* Read path into the arena (capped at 4 MiB + 1 so the parser reports the size). */
static char *slurp(struct arena *a, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = (4u << 20) + 1, n = 0;
	char *buf;

	if (f == NULL)
		return NULL;
	buf = arena_alloc(a, cap + 1);
	while (n < cap) {
		size_t got = fread(buf + n, 1, cap - n, f);

		if (got == 0)
			break;
		n += got;
	}
	if (ferror(f)) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static const char *rule_name(const struct program *p)
{
	struct json_object *t;

	if (json_object_object_get_ex(p->rule, "type", &t) &&
	    json_object_is_type(t, json_type_string))
		return json_object_get_string(t);
	return "?";
}

static void print_report(const char *file, const struct jsonschema_report *rep)
{
	for (size_t i = 0; i < rep->n; i++)
		fprintf(stderr, "%s: %s\n", file, rep->msg[i]);
	if (rep->total > rep->n)
		fprintf(stderr, "%s: ... and %zu more\n", file, rep->total - rep->n);
}

static int parse(struct arena *a, const char *file, struct program **p)
{
	struct jsonschema_report rep;
	size_t len = 0;
	char *text = slurp(a, file, &len);
	enum at_rc rc;

	if (text == NULL) {
		fprintf(stderr, "attest: cannot read %s\n", file);
		return EXIT_FAIL;
	}
	rc = program_parse(a, text, len, p, &rep);
	if (rc != AT_OK) {
		print_report(file, &rep);
		return rc == AT_BADREQ || rc == AT_TOOBIG ? EXIT_USAGE : EXIT_FAIL;
	}
	return EXIT_OKAY;
}

static int cmd_validate(const char *file)
{
	struct arena *a = arena_new();
	struct program *p = NULL;
	int rc = parse(a, file, &p);

	if (rc == EXIT_OKAY)
		printf("%s: program %s (version %lld) is valid: %zu checklist%s, %zu tier%s,"
		       " rule %s\n", file, p->key, (long long)p->version, p->n_checklists,
		       p->n_checklists == 1 ? "" : "s", p->n_tiers, p->n_tiers == 1 ? "" : "s",
		       rule_name(p));
	arena_free(a);
	return rc;
}

static int cmd_import(int argc, char **argv)
{
	struct arena *a = arena_new();
	struct jsonschema_report rep;
	struct program *p = NULL;
	const char *file = NULL;
	bool replace = false;
	int rc = EXIT_USAGE;
	enum at_rc r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--replace") == 0)
			replace = true;
		else if (file == NULL && argv[i][0] != '-')
			file = argv[i];
		else {
			fprintf(stderr, "attest: program import: unexpected argument '%s'\n\n%s",
				argv[i], USAGE);
			goto out;
		}
	}
	if (file == NULL) {
		fputs(USAGE, stderr);
		goto out;
	}
	rc = parse(a, file, &p);
	if (rc != EXIT_OKAY)
		goto out;
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	r = program_import(g_app.db, a, p, replace, (int64_t)time(NULL), &rep);
	if (r != AT_OK) {
		print_report(file, &rep);
		rc = cli_exit_of(r);
		goto out;
	}
	printf("program %s imported (id %lld, version %lld, %zu checklist%s)\n", p->key,
	       (long long)p->id, (long long)p->version, p->n_checklists,
	       p->n_checklists == 1 ? "" : "s");
	rc = EXIT_OKAY;
out:
	arena_free(a);
	return rc;
}

static void print_row(const struct program_row *r, void *ud)
{
	(void)ud;
	printf("%-4lld %-28s %-7lld %-10lld %s\n", (long long)r->id, r->key ? r->key : "",
	       (long long)r->version, (long long)r->n_checklists, r->title ? r->title : "");
}

static int cmd_list(void)
{
	int rc = cli_open_db();

	if (rc != EXIT_OKAY)
		return rc;
	printf("%-4s %-28s %-7s %-10s %s\n", "ID", "KEY", "VERSION", "CHECKLISTS", "TITLE");
	return cli_exit_of(program_each(g_app.db, print_row, NULL));
}

static const char *const KINDS[] = { "yesno", "rating", "points", "comment" };

static void points(const char *label, int64_t h)
{
	printf("%s%lld", label, (long long)(h / 100));
	if (h % 100 != 0)
		printf(".%02lld", (long long)(h % 100));
}

static int cmd_show(const char *key)
{
	struct arena *a = arena_new();
	struct program *p = NULL;
	int rc = cli_open_db();
	enum at_rc r;

	if (rc != EXIT_OKAY)
		goto out;
	r = program_load(g_app.db, a, key, 0, &p);
	if (r != AT_OK) {
		fprintf(stderr, "attest: program %s: %s\n", key, at_strerror(r));
		rc = cli_exit_of(r);
		goto out;
	}
	printf("program %s (id %lld, version %lld)\n  title      %s\n", p->key, (long long)p->id,
	       (long long)p->version, p->title);
	printf("  frameworks");
	for (size_t i = 0; i < p->n_frameworks; i++)
		printf(" %s", p->frameworks[i]);
	printf("\n  rule       %s\n", rule_name(p));
	for (size_t i = 0; i < p->n_checklists; i++) {
		const struct program_checklist *c = &p->checklists[i];

		printf("  checklist  %s: %s (%zu items", c->key, c->title, c->n_items);
		points(", pass mark ", c->pass_mark);
		points(" of ", c->max_score);
		printf(")\n");
		for (size_t j = 0; j < c->n_items; j++)
			printf("    %-20s %-7s%s%s %s\n", c->items[j].key,
			       KINDS[c->items[j].kind],
			       c->items[j].critical ? " critical" : "",
			       c->items[j].required ? "" : " optional", c->items[j].label);
	}
	for (size_t i = 0; i < p->n_tiers; i++)
		printf("  tier       %s: %s (%zu targets)\n", p->tiers[i].key, p->tiers[i].label,
		       p->tiers[i].n_targets);
	if (p->complete_within >= 0)
		printf("  deadline   %d business days\n", p->complete_within);
	for (size_t i = 0; i < p->n_steps; i++)
		printf("  escalation +%d (day %d): %s\n", p->steps[i].after, p->steps[i].offset,
		       p->steps[i].label);
	if (p->validity_days > 0)
		printf("  validity   %d days\n", p->validity_days);
	if (p->qual_program != NULL)
		printf("  assessors  must hold %s in %s\n", p->qual_outcome, p->qual_program);
	rc = EXIT_OKAY;
out:
	arena_free(a);
	return rc;
}

int cli_program(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0 ||
	    cli_has_help(argc, argv)) {
		fputs(USAGE, sub == NULL ? stderr : stdout);
		return sub == NULL ? EXIT_USAGE : EXIT_OKAY;
	}
	if (strcmp(sub, "validate") == 0 && argc == 3)
		return cmd_validate(argv[2]);
	if (strcmp(sub, "import") == 0)
		return cmd_import(argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0 && argc == 2)
		return cmd_list();
	if (strcmp(sub, "show") == 0 && argc == 3)
		return cmd_show(argv[2]);
	if (strcmp(sub, "schema") == 0 && argc == 2) {
		fputs(program_schema(), stdout);
		return EXIT_OKAY;
	}
	fprintf(stderr, "attest: program: bad command\n\n%s", USAGE);
	return EXIT_USAGE;
}
