/* main.c: `attest` — subcommand dispatch, config loading, exit codes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/migrate.h"
#include "fcgi/app.h"
#include "fcgi/cli.h"
#include "fcgi/loop.h"
#include "fcgi/tmpl.h"
#include "lti/httpc.h"
#include "lti/lti_keys.h"

#define ATTEST_VERSION "0.1.0"

static const char USAGE[] =
	"usage: attest [-c FILE] COMMAND [ARGS]\n"
	"\n"
	"Attest: competency, observation-checklist and certification tool (LTI 1.3).\n"
	"\n"
	"Commands:\n"
	"  serve              run the FastCGI workers on the configured unix socket\n"
	"  cgi                answer one request from the CGI environment (tests)\n"
	"  migrate            create or upgrade the database schema\n"
	"  check              check the configuration and the database, then exit (-t)\n"
	"  config             print the effective configuration with help for each key\n"
	"  urls               print the URLs an LMS administrator needs\n"
	"  platform ...       register LTI platforms (add, list, show, remove, deployment)\n"
	"  keys ...           the tool's signing keys (init, list, rotate, prune, jwks)\n"
	"  program ...        program definitions (validate, import, list, show, schema)\n"
	"  framework ...      competency frameworks (import, export, list, show, delete)\n"
	"  sync ...           deliver the LMS outbox (run, once, status, list, retry, roster)\n"
	"  audit ...          verify the audit log's hash chain (verify), newest entries (tail [N])\n"
	"  help               this text; `attest COMMAND --help` for one command\n"
	"  version            print the version\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE  configuration file (default: $ATTEST_CONFIG or ./attest.conf)\n"
	"\n"
	"Every configuration key can be set in the environment as ATTEST_<KEY>.\n"
	"\n"
	"Exit codes: 0 ok, 1 failed, 2 usage error, 3 configuration error,\n"
	"4 database error, 5 not found, 6 already exists.\n";

static int cmd_migrate(int argc, char **argv)
{
	int applied = 0, version = 0, rc;

	if (cli_has_help(argc, argv)) {
		puts("usage: attest migrate\n\nCreate or upgrade the database schema. Safe to run"
		     " again and from several hosts at once.");
		return EXIT_OKAY;
	}
	rc = cli_open_db_applied(&applied);
	if (rc != EXIT_OKAY)
		return rc;
	(void)migrate_version(g_app.db, &version);
	printf("database schema at version %d (%d migration%s applied)\n", version, applied,
	       applied == 1 ? "" : "s");
	return EXIT_OKAY;
}

/* The page templates, before any worker forks; a broken template is a configuration error. */
static int load_templates(void)
{
	struct at_err err = { "" };

	if (tmpl_app_init(&err) != AT_OK) {
		fprintf(stderr, "attest: templates: %s\n", err.msg);
		return EXIT_CONFIG;
	}
	return EXIT_OKAY;
}

static int cmd_serve(int argc, char **argv)
{
	int rc;

	if (cli_has_help(argc, argv)) {
		puts("usage: attest serve\n\nPre-fork `workers` FastCGI processes on `socket` and"
		     " supervise them\n(a worker that dies is restarted). SIGTERM or SIGINT stops"
		     " them all.\nThe schema is migrated and a signing key created first if"
		     " needed.");
		return EXIT_OKAY;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		return rc;
	rc = load_templates();
	if (rc != EXIT_OKAY)
		return rc;
	db_close(g_app.db);	/* each worker opens its own connection after fork */
	g_app.db = NULL;
	return loop_serve() == 0 ? EXIT_OKAY : EXIT_FAIL;
}

static int cmd_check(int argc, char **argv)
{
	int rc;

	if (cli_has_help(argc, argv)) {
		puts("usage: attest check\n\nCheck the configuration file and that the database"
		     " opens and migrates.");
		return EXIT_OKAY;
	}
	rc = cli_open_db();
	if (rc == EXIT_OKAY)
		rc = load_templates();
	if (rc == EXIT_OKAY)
		printf("configuration ok (%s), database ok\n",
		       g_app.conf_path ? g_app.conf_path : "defaults and environment");
	return rc;
}

static int cmd_urls(int argc, char **argv)
{
	const char *b = g_app.cfg.base_url;

	if (cli_has_help(argc, argv)) {
		puts("usage: attest urls\n\nPrint the URLs an LMS administrator pastes into"
		     " Moodle or Canvas.");
		return EXIT_OKAY;
	}
	printf("Dynamic registration URL (Moodle 4.1+, Canvas):  %s/lti/register\n", b);
	printf("Canvas JSON configuration URL:                   %s/lti/canvas.json\n", b);
	printf("Tool URL / target link URI:                      %s/lti/launch\n", b);
	printf("Initiate login URL (OIDC login):                 %s/lti/login\n", b);
	printf("Redirection URI (launch):                        %s/lti/launch\n", b);
	printf("Public keyset URL (JWKS):                        %s/.well-known/jwks.json\n", b);
	printf("Deep linking URL:                                %s/lti/launch\n", b);
	printf("Health check:                                    %s/healthz\n", b);
	return EXIT_OKAY;
}

int main(int argc, char **argv)
{
	struct at_err err = { "" };
	const char *conf = getenv("ATTEST_CONFIG");
	bool must = conf != NULL;
	int i = 1, rc;
	const char *cmd;

	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc) {
			conf = argv[i + 1];
			must = true;
			i += 2;
		} else if (strcmp(argv[i], "-t") == 0) {
			argv[i] = (char *)(uintptr_t)"check";
			break;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(USAGE, stdout);
			return EXIT_OKAY;
		} else if (strcmp(argv[i], "--version") == 0) {
			puts("attest " ATTEST_VERSION);
			return EXIT_OKAY;
		} else {
			fprintf(stderr, "attest: unknown option %s\n\n%s", argv[i], USAGE);
			return EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fputs(USAGE, stderr);
		return EXIT_USAGE;
	}
	cmd = argv[i];
	if (strcmp(cmd, "help") == 0) {
		fputs(USAGE, stdout);
		return EXIT_OKAY;
	}
	if (strcmp(cmd, "version") == 0) {
		puts("attest " ATTEST_VERSION);
		return EXIT_OKAY;
	}
	if (conf == NULL)
		conf = "attest.conf";
	if (cfg_load(&g_app.cfg, conf, must, &err) != AT_OK) {
		fprintf(stderr, "attest: configuration error: %s\n", err.msg);
		cfg_free(&g_app.cfg);
		return EXIT_CONFIG;
	}
	g_app.conf_path = conf;
	log_init((int)g_app.cfg.log_level, "attest");
	httpc_global_init();
	argc -= i;
	argv += i;
	if (strcmp(cmd, "serve") == 0)
		rc = cmd_serve(argc, argv);
	else if (strcmp(cmd, "cgi") == 0)
		rc = loop_cgi() == 0 ? EXIT_OKAY : EXIT_FAIL;
	else if (strcmp(cmd, "migrate") == 0)
		rc = cmd_migrate(argc, argv);
	else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(argc, argv);
	else if (strcmp(cmd, "config") == 0) {
		cfg_dump(&g_app.cfg, stdout);
		rc = EXIT_OKAY;
	} else if (strcmp(cmd, "urls") == 0)
		rc = cmd_urls(argc, argv);
	else if (strcmp(cmd, "platform") == 0)
		rc = cli_platform(argc, argv);
	else if (strcmp(cmd, "program") == 0)
		rc = cli_program(argc, argv);
	else if (strcmp(cmd, "framework") == 0)
		rc = cli_framework(argc, argv);
	else if (strcmp(cmd, "audit") == 0)
		rc = cli_audit(argc, argv);
	else if (strcmp(cmd, "keys") == 0)
		rc = cli_keys(argc, argv);
	else if (strcmp(cmd, "sync") == 0)
		rc = cli_sync(argc, argv);
	else {
		fprintf(stderr, "attest: unknown command '%s'\n\n%s", cmd, USAGE);
		rc = EXIT_USAGE;
	}
	db_close(g_app.db);
	httpc_global_cleanup();
	cfg_free(&g_app.cfg);
	xfree(g_app.frame_ancestors);
	tmpl_free(g_app.tmpl);
	g_app.tmpl = NULL;
	return rc;
}
