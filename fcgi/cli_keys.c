/* cli_keys.c: `attest keys` — the tool's signing keys. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fcgi/app.h"
#include "fcgi/cli.h"
#include "lti/lti_keys.h"

static const char USAGE[] =
	"usage: attest keys init                 create a signing key if there is none\n"
	"       attest keys list                 list keys and their state\n"
	"       attest keys rotate [--activate-in SECONDS] [--retire-in SECONDS]\n"
	"                                        publish a new key now; it signs after\n"
	"                                        --activate-in (default 3600) and the old\n"
	"                                        keys stay published --retire-in longer\n"
	"                                        (default: key_grace)\n"
	"       attest keys prune                delete retired keys and their files\n"
	"       attest keys jwks                 print the public JWKS\n";

static int parse_secs(const char *s, int64_t *out)
{
	int64_t n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > 100000000)
			return -1;
		n = n * 10 + (*s - '0');
	}
	*out = n;
	return 0;
}

int cli_keys(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;
	struct at_err err = { "" };
	struct arena *a;
	int64_t now = (int64_t)time(NULL);
	int rc;
	enum at_rc r = AT_OK;

	if (sub == NULL || strcmp(sub, "help") == 0 || cli_has_help(argc, argv)) {
		fputs(USAGE, sub == NULL ? stderr : stdout);
		return sub == NULL ? EXIT_USAGE : EXIT_OKAY;
	}
	if (strcmp(sub, "init") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "rotate") != 0 &&
	    strcmp(sub, "prune") != 0 && strcmp(sub, "jwks") != 0) {
		fprintf(stderr, "attest: keys: unknown subcommand '%s'\n\n%s", sub, USAGE);
		return EXIT_USAGE;
	}
	int64_t activate = 3600, retire = g_app.cfg.key_grace;

	for (int i = 2; i < argc; i++) {
		const char *v;

		if (strcmp(sub, "rotate") == 0 && cli_opt(argc, argv, &i, "--activate-in", &v) &&
		    parse_secs(v, &activate) == 0)
			continue;
		if (strcmp(sub, "rotate") == 0 && cli_opt(argc, argv, &i, "--retire-in", &v) &&
		    parse_secs(v, &retire) == 0)
			continue;
		fprintf(stderr, "attest: keys %s: bad argument '%s'\n\n%s", sub, argv[i], USAGE);
		return EXIT_USAGE;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		return rc;
	a = arena_new();
	if (strcmp(sub, "init") == 0) {
		r = lti_keys_ensure(g_app.db, g_app.cfg.keys_dir, now, &err);
		if (r == AT_OK)
			r = lti_keys_list(g_app.db, now, stdout);
	} else if (strcmp(sub, "list") == 0) {
		r = lti_keys_list(g_app.db, now, stdout);
	} else if (strcmp(sub, "rotate") == 0) {
		char *kid = NULL;

		r = lti_keys_rotate(g_app.db, g_app.cfg.keys_dir, now, activate, retire, a, &kid,
				    &err);
		if (r == AT_OK)
			printf("new key %s published; it signs in %lld s, older keys retire %lld s"
			       " after that\n", kid, (long long)activate, (long long)retire);
	} else if (strcmp(sub, "prune") == 0) {
		int removed = 0;

		r = lti_keys_prune(g_app.db, g_app.cfg.keys_dir, now, &removed, &err);
		if (r == AT_OK)
			printf("%d retired key%s removed\n", removed, removed == 1 ? "" : "s");
	} else {
		char *json = NULL;

		r = lti_keys_jwks(g_app.db, now, a, &json);
		if (r == AT_OK)
			puts(json);
	}
	if (r != AT_OK)
		fprintf(stderr, "attest: keys %s: %s\n", sub, err.msg[0] ? err.msg : at_strerror(r));
	arena_free(a);
	return cli_exit_of(r);
}
