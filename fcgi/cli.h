/* cli.h: the attest command line (git/redis-cli style subcommands). */
#ifndef AT_CLI_H
#define AT_CLI_H

#include <stdbool.h>

/* Exit codes, documented in `attest help` and the README. */
enum {
	EXIT_OKAY = 0,
	EXIT_FAIL = 1,		/* the command ran and failed */
	EXIT_USAGE = 2,		/* bad arguments */
	EXIT_CONFIG = 3,	/* bad configuration */
	EXIT_DB = 4,		/* the database could not be opened or migrated */
	EXIT_NOTFOUND = 5,	/* the named thing does not exist */
	EXIT_CONFLICT = 6,	/* it exists already */
};

/* Open the database and make sure the schema is current. Prints errors. */
int cli_open_db(void);
int cli_open_db_applied(int *applied);	/* same; *applied = migrations run now */
int cli_exit_of(int rc);	/* enum at_rc -> exit code */
/* Option parsing helper: if argv[*i] is --name, take its value (next arg or =value). */
bool cli_opt(int argc, char **argv, int *i, const char *name, const char **val);
bool cli_has_help(int argc, char **argv);

int cli_platform(int argc, char **argv);	/* cli_platform.c */
int cli_keys(int argc, char **argv);		/* cli_keys.c */
int cli_audit(int argc, char **argv);		/* cli_audit.c */
int cli_framework(int argc, char **argv);	/* cli_framework.c */
int cli_program(int argc, char **argv);		/* cli_program.c */
int cli_sync(int argc, char **argv);		/* cli_sync.c */

#endif
