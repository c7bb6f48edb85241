/* cli_platform.c: `attest platform` — manual registration of LTI platforms. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/lmsmap.h"
#include "core/platform.h"
#include "fcgi/app.h"
#include "fcgi/cli.h"

static const char USAGE[] =
	"usage: attest platform add --preset moodle --url SITE_URL --client-id ID\n"
	"                           [--deployment ID]... [--name NAME]\n"
	"       attest platform add --preset canvas --client-id ID [--env prod|beta|test]\n"
	"                           [--issuer URL] [--deployment ID]... [--name NAME]\n"
	"       attest platform add --preset generic --issuer URL --client-id ID --auth URL\n"
	"                           --jwks URL [--token URL] [--deployment ID]... [--name NAME]\n"
	"       attest platform list\n"
	"       attest platform show ID\n"
	"       attest platform remove ID\n"
	"       attest platform deployment ID DEPLOYMENT_ID   (add a deployment)\n"
	"       attest platform set ID [lms_url=URL] [lms_token=TOKEN|-] [moodle_scale=SCALEID]\n"
	"                              [moodle_scale:FRAMEWORK_IDNUMBER=SCALEID]\n"
	"\n"
	"Registrations are keyed by (issuer, client id): every Canvas cloud tenant shares one\n"
	"issuer. The moodle preset derives the endpoints from the site URL\n"
	"(/mod/lti/auth.php, /mod/lti/token.php, /mod/lti/certs.php); the canvas preset uses\n"
	"Instructure's hosted endpoints; --auth, --token and --jwks override any preset.\n"
	"\n"
	"`set` configures the LMS REST APIs (docs/lms.md): lms_url is the Moodle site URL or\n"
	"the Canvas instance URL, lms_token the Moodle web service token or the Canvas API\n"
	"token (lms_token=- reads it from standard input; it is never printed back; an empty\n"
	"value clears it). moodle_scale names the Moodle scale (its id) that frameworks use.\n";

static int parse_id(const char *s, int64_t *id)
{
	int64_t n = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || n > INT64_MAX / 10 - 10)
			return -1;
		n = n * 10 + (*s - '0');
	}
	*id = n;
	return 0;
}

static int cmd_add(int argc, char **argv)
{
	struct arena *a = arena_new();
	struct platform p;
	const char *preset = "generic", *url = NULL, *env = "prod", *deps[32], *v;
	int ndeps = 0, rc = EXIT_USAGE;
	int64_t now = (int64_t)time(NULL);

	memset(&p, 0, sizeof(p));
	for (int i = 1; i < argc; i++) {
		if (cli_opt(argc, argv, &i, "--preset", &preset) ||
		    cli_opt(argc, argv, &i, "--url", &url) ||
		    cli_opt(argc, argv, &i, "--env", &env) ||
		    cli_opt(argc, argv, &i, "--issuer", &p.issuer) ||
		    cli_opt(argc, argv, &i, "--client-id", &p.client_id) ||
		    cli_opt(argc, argv, &i, "--auth", &p.auth_endpoint) ||
		    cli_opt(argc, argv, &i, "--token", &p.token_endpoint) ||
		    cli_opt(argc, argv, &i, "--jwks", &p.jwks_uri) ||
		    cli_opt(argc, argv, &i, "--name", &p.name))
			continue;
		if (cli_opt(argc, argv, &i, "--deployment", &v)) {
			if (ndeps == (int)NELEM(deps)) {
				fprintf(stderr, "attest: too many --deployment options\n");
				goto out;
			}
			deps[ndeps++] = v;
			continue;
		}
		fprintf(stderr, "attest: platform add: unexpected argument '%s'\n\n%s", argv[i],
			USAGE);
		goto out;
	}
	if (strcmp(preset, "moodle") == 0) {
		const char *site = url ? url : p.issuer;
		size_t n;

		if (site == NULL) {
			fprintf(stderr, "attest: --preset moodle needs --url (the Moodle site URL)\n");
			goto out;
		}
		n = strlen(site);
		while (n > 0 && site[n - 1] == '/')
			n--;
		site = arena_strndup(a, site, n);
		if (p.issuer == NULL)
			p.issuer = site;
		if (p.auth_endpoint == NULL)
			p.auth_endpoint = arena_printf(a, "%s/mod/lti/auth.php", site);
		if (p.token_endpoint == NULL)
			p.token_endpoint = arena_printf(a, "%s/mod/lti/token.php", site);
		if (p.jwks_uri == NULL)
			p.jwks_uri = arena_printf(a, "%s/mod/lti/certs.php", site);
		p.flavor = "moodle";
	} else if (strcmp(preset, "canvas") == 0) {
		const char *sso, *iss;

		if (strcmp(env, "prod") == 0) {
			sso = "https://sso.canvaslms.com";
			iss = "https://canvas.instructure.com";
		} else if (strcmp(env, "beta") == 0) {
			sso = "https://sso.beta.canvaslms.com";
			iss = "https://canvas.beta.instructure.com";
		} else if (strcmp(env, "test") == 0) {
			sso = "https://sso.test.canvaslms.com";
			iss = "https://canvas.test.instructure.com";
		} else {
			fprintf(stderr, "attest: --env must be prod, beta or test\n");
			goto out;
		}
		if (p.issuer == NULL)
			p.issuer = iss;
		if (p.auth_endpoint == NULL)
			p.auth_endpoint = arena_printf(a, "%s/api/lti/authorize_redirect", sso);
		if (p.token_endpoint == NULL)
			p.token_endpoint = arena_printf(a, "%s/login/oauth2/token", sso);
		if (p.jwks_uri == NULL)
			p.jwks_uri = arena_printf(a, "%s/api/lti/security/jwks", sso);
		p.flavor = "canvas";
	} else if (strcmp(preset, "generic") == 0) {
		p.flavor = "generic";
	} else {
		fprintf(stderr, "attest: unknown preset '%s' (moodle, canvas, generic)\n", preset);
		goto out;
	}
	if (p.issuer == NULL || p.client_id == NULL || p.auth_endpoint == NULL ||
	    p.jwks_uri == NULL || *p.client_id == '\0') {
		fprintf(stderr, "attest: platform add needs --issuer, --client-id, --auth and"
			" --jwks (or a preset)\n\n%s", USAGE);
		goto out;
	}
	p.source = "manual";
	if (p.name == NULL)
		p.name = p.flavor;
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	enum at_rc r = db_begin(g_app.db);

	if (r == AT_OK)
		r = platform_add(g_app.db, &p, now);
	for (int i = 0; r == AT_OK && i < ndeps; i++)
		r = platform_deployment_add(g_app.db, p.id, deps[i], 0, now, NULL);
	if (r == AT_OK)
		r = db_commit(g_app.db);
	if (r != AT_OK) {
		db_rollback(g_app.db);
		if (r == AT_CONFLICT)
			fprintf(stderr, "attest: a platform with issuer %s and client id %s (or one of"
				" those deployments) is already registered\n", p.issuer,
				p.client_id);
		else
			fprintf(stderr, "attest: could not add platform: %s\n",
				db_errmsg(g_app.db));
		rc = cli_exit_of(r);
		goto out;
	}
	printf("platform %lld added: %s (issuer %s, client id %s, %d deployment%s)\n",
	       (long long)p.id, p.name, p.issuer, p.client_id, ndeps, ndeps == 1 ? "" : "s");
	rc = EXIT_OKAY;
out:
	arena_free(a);
	return rc;
}

static void print_row(const struct platform *p, void *ud)
{
	int64_t n = 0;

	(void)ud;
	(void)platform_deployment_count(g_app.db, p->id, &n);
	printf("%-4lld %-8s %-7s %-40s %-24s %lld\n", (long long)p->id, p->flavor, p->source,
	       p->issuer, p->client_id, (long long)n);
}

static int cmd_list(void)
{
	struct arena *a = arena_new();
	int rc = cli_open_db();

	if (rc == EXIT_OKAY) {
		printf("%-4s %-8s %-7s %-40s %-24s %s\n", "ID", "FLAVOR", "SOURCE", "ISSUER",
		       "CLIENT ID", "DEPLOYMENTS");
		rc = cli_exit_of(platform_each(g_app.db, a, print_row, NULL));
	}
	arena_free(a);
	return rc;
}

static int cmd_show(const char *ids)
{
	struct arena *a = arena_new();
	struct platform p;
	int64_t id;
	int rc = EXIT_USAGE;
	enum at_rc r;

	if (parse_id(ids, &id) != 0) {
		fprintf(stderr, "attest: platform id must be a number\n");
		goto out;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	r = platform_get(g_app.db, a, id, &p);
	if (r != AT_OK) {
		fprintf(stderr, "attest: platform %lld: %s\n", (long long)id, at_strerror(r));
		rc = cli_exit_of(r);
		goto out;
	}
	printf("platform %lld (%s, %s registration)\n  name      %s\n  issuer    %s\n"
	       "  client id %s\n  auth      %s\n  token     %s\n  jwks      %s\n  scopes    %s\n"
	       "  lms url   %s\n  lms token %s\n",
	       (long long)p.id, p.flavor, p.source, p.name, p.issuer, p.client_id,
	       p.auth_endpoint, p.token_endpoint, p.jwks_uri, p.scopes,
	       p.lms_url[0] ? p.lms_url : "(not set)", p.lms_token[0] ? "set" : "not set");
	{
		char *scale = NULL;

		if (lmsmap_get(g_app.db, a, p.id, "moodle_scale", "*", &scale) == AT_OK)
			printf("  moodle scale %s\n", scale);
	}
	rc = cli_exit_of(platform_deployment_print(g_app.db, p.id, stdout));
out:
	arena_free(a);
	return rc;
}

static int cmd_remove(const char *ids)
{
	int64_t id;
	int rc;
	enum at_rc r;

	if (parse_id(ids, &id) != 0) {
		fprintf(stderr, "attest: platform id must be a number\n");
		return EXIT_USAGE;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		return rc;
	r = platform_remove(g_app.db, id);
	if (r != AT_OK) {
		fprintf(stderr, "attest: platform %lld: %s\n", (long long)id, at_strerror(r));
		return cli_exit_of(r);
	}
	printf("platform %lld removed, with its deployments, users and sessions\n",
	       (long long)id);
	return EXIT_OKAY;
}

static int cmd_deployment(const char *ids, const char *dep)
{
	int64_t id;
	int rc;
	enum at_rc r;
	struct arena *a;
	struct platform p;

	if (parse_id(ids, &id) != 0 || dep == NULL || *dep == '\0' || strlen(dep) > 255) {
		fprintf(stderr, "usage: attest platform deployment ID DEPLOYMENT_ID\n");
		return EXIT_USAGE;
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		return rc;
	a = arena_new();
	r = platform_get(g_app.db, a, id, &p);
	arena_free(a);
	if (r == AT_OK)
		r = platform_deployment_add(g_app.db, id, dep, 0, (int64_t)time(NULL), NULL);
	if (r != AT_OK) {
		fprintf(stderr, "attest: platform %lld, deployment %s: %s\n", (long long)id, dep,
			r == AT_CONFLICT ? "already registered" : at_strerror(r));
		return cli_exit_of(r);
	}
	printf("deployment %s added to platform %lld\n", dep, (long long)id);
	return EXIT_OKAY;
}

static int valid_url(const char *u)
{
	if (strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0)
		return 0;
	for (; *u; u++)
		if ((unsigned char)*u <= 0x20 || *u == 0x7f)
			return 0;
	return 1;
}

static int all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* Read a token from standard input: the first line, without its end of line. */
static char *read_token(struct arena *a)
{
	char line[4096];
	size_t n;

	if (fgets(line, sizeof(line), stdin) == NULL)
		return NULL;
	n = strcspn(line, "\r\n");
	return arena_strndup(a, line, n);
}

static int cmd_set(int argc, char **argv)
{
	struct arena *a = arena_new();
	const char *url = NULL, *token = NULL;
	const char *scale_keys[16], *scale_vals[16];
	size_t nscales = 0;
	int64_t id, now = (int64_t)time(NULL);
	int rc = EXIT_USAGE;
	enum at_rc r;
	struct platform p;

	if (argc < 3 || parse_id(argv[1], &id) != 0) {
		fprintf(stderr, "usage: attest platform set ID key=value...\n");
		goto out;
	}
	for (int i = 2; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		size_t kl = eq ? (size_t)(eq - argv[i]) : 0;
		const char *v = eq ? eq + 1 : NULL;

		if (eq == NULL) {
			fprintf(stderr, "attest: platform set: expected key=value, got '%s'\n",
				argv[i]);
			goto out;
		}
		if (kl == 7 && strncmp(argv[i], "lms_url", 7) == 0) {
			size_t n = strlen(v);

			while (n > 0 && v[n - 1] == '/')
				n--;
			url = arena_strndup(a, v, n);
			if (*url != '\0' && !valid_url(url)) {
				fprintf(stderr, "attest: lms_url must be an http(s) URL\n");
				goto out;
			}
		} else if (kl == 9 && strncmp(argv[i], "lms_token", 9) == 0) {
			token = strcmp(v, "-") == 0 ? read_token(a) : v;
			if (token == NULL) {
				fprintf(stderr, "attest: no token on standard input\n");
				goto out;
			}
			for (const char *t = token; *t; t++)
				if ((unsigned char)*t <= 0x20 || *t == 0x7f) {
					fprintf(stderr, "attest: lms_token holds a blank or control"
						" character\n");
					goto out;
				}
		} else if ((kl == 12 && strncmp(argv[i], "moodle_scale", 12) == 0) ||
			   (kl > 13 && strncmp(argv[i], "moodle_scale:", 13) == 0)) {
			if (!all_digits(v) || nscales == NELEM(scale_keys)) {
				fprintf(stderr, "attest: moodle_scale takes a Moodle scale id (a"
					" number)\n");
				goto out;
			}
			scale_keys[nscales] = kl == 12 ? "*" : arena_strndup(a, argv[i] + 13,
									      kl - 13);
			scale_vals[nscales++] = v;
		} else {
			fprintf(stderr, "attest: platform set: unknown key '%.*s' (lms_url,"
				" lms_token, moodle_scale)\n", (int)kl, argv[i]);
			goto out;
		}
	}
	rc = cli_open_db();
	if (rc != EXIT_OKAY)
		goto out;
	r = platform_get(g_app.db, a, id, &p);
	if (r == AT_OK)
		r = db_begin(g_app.db);
	if (r == AT_OK && (url != NULL || token != NULL))
		r = platform_lms_set(g_app.db, id, url, token);
	for (size_t i = 0; r == AT_OK && i < nscales; i++)
		r = lmsmap_put(g_app.db, id, "moodle_scale", scale_keys[i], scale_vals[i], now);
	if (r == AT_OK)
		r = db_commit(g_app.db);
	if (r != AT_OK) {
		db_rollback(g_app.db);
		fprintf(stderr, "attest: platform %lld: %s\n", (long long)id, at_strerror(r));
		rc = cli_exit_of(r);
		goto out;
	}
	printf("platform %lld updated:%s%s%s\n", (long long)id, url ? " lms_url" : "",
	       token ? " lms_token" : "", nscales ? " moodle_scale" : "");
	rc = EXIT_OKAY;
out:
	arena_free(a);
	return rc;
}

int cli_platform(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0 ||
	    cli_has_help(argc, argv)) {
		fputs(USAGE, sub == NULL ? stderr : stdout);
		return sub == NULL ? EXIT_USAGE : EXIT_OKAY;
	}
	if (strcmp(sub, "add") == 0)
		return cmd_add(argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0)
		return cmd_list();
	if (strcmp(sub, "show") == 0 && argc == 3)
		return cmd_show(argv[2]);
	if (strcmp(sub, "remove") == 0 && argc == 3)
		return cmd_remove(argv[2]);
	if (strcmp(sub, "set") == 0)
		return cmd_set(argc - 1, argv + 1);
	if (strcmp(sub, "deployment") == 0 && argc == 4)
		return cmd_deployment(argv[2], argv[3]);
	fprintf(stderr, "attest: platform: bad arguments\n\n%s", USAGE);
	return EXIT_USAGE;
}
