/* cli.c: helpers shared by the subcommands. */
#include <stdio.h>
#include <string.h>

#include "core/migrate.h"
#include "fcgi/app.h"
#include "fcgi/cli.h"

int cli_exit_of(int rc)
{
	switch (rc) {
	case AT_OK: return EXIT_OKAY;
	case AT_BADREQ: return EXIT_USAGE;
	case AT_NOTFOUND: return EXIT_NOTFOUND;
	case AT_CONFLICT: return EXIT_CONFLICT;
	case AT_DB: return EXIT_DB;
	default: return EXIT_FAIL;
	}
}

bool cli_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return false;
	if (argv[*i][n] == '=') {
		*val = argv[*i] + n + 1;
		return true;
	}
	if (argv[*i][n] != '\0' || *i + 1 >= argc)
		return false;
	*val = argv[++*i];
	return true;
}

bool cli_has_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

int cli_open_db_applied(int *applied)
{
	struct at_err err = { "" };

	if (db_open(g_app.cfg.database, &g_app.db, &err) != AT_OK) {
		fprintf(stderr, "attest: %s\n", err.msg);
		return EXIT_DB;
	}
	if (migrate_run(g_app.db, applied, &err) != AT_OK) {
		fprintf(stderr, "attest: %s\n", err.msg);
		return EXIT_DB;
	}
	return EXIT_OKAY;
}

int cli_open_db(void)
{
	int applied = 0;

	return cli_open_db_applied(&applied);
}
