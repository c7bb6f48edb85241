/* loop.c: pre-forked FastCGI workers, request lifecycle, one log line per request. */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/mem.h"
#include "fcgi/app.h"
#include "fcgi/http.h"
#include "fcgi/loop.h"
#include "fcgi/router.h"
#include "fcgi/tmpl.h"
#include "lti/httpc.h"

static volatile sig_atomic_t g_stop;

static int64_t now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/* The whole life of one request: parse, route, send, log, free. */
/* Paths whose last segment is a credential (evidence capability links, third-party feedback
 * links) are logged without it, whether a route matched or not. */
static const char *loggable_path(const char *p)
{
	if (strncmp(p, "/evidence-share/", 16) == 0)
		return "/evidence-share/-";
	if (strncmp(p, "/feedback/", 10) == 0)
		return "/feedback/-";
	return p;
}

static void handle(const struct req_io *io)
{
	struct req r;
	struct at_err err = { "" };
	static unsigned long seq;
	enum at_rc rc;
	const char *rid;

	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	r.io = io;
	r.started_us = now_us();
	buf_init(&r.headers, 64 << 10);
	buf_init(&r.out, 32 << 20);
	rid = io->env(io->ud, "HTTP_X_REQUEST_ID");
	if (rid != NULL && strlen(rid) < sizeof(r.rid) && strspn(rid,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == strlen(rid))
		snprintf(r.rid, sizeof(r.rid), "%s", rid);
	else
		snprintf(r.rid, sizeof(r.rid), "%x-%lx", (unsigned)getpid(), ++seq);
	rc = req_parse(&r, (size_t)g_app.cfg.max_body, &err);
	if (rc != AT_OK) {
		if (r.method == NULL)
			r.method = "GET";
		if (r.path == NULL)
			r.path = "/";
		http_error(&r, rc, "%s", err.msg);
	} else {
		router_dispatch(&r);
	}
	http_send(&r);
	log_msg(LOG_INFO, r.rid, "method=%s path=%s status=%d us=%lld", r.method,
		loggable_path(r.path), r.status, (long long)(now_us() - r.started_us));
	buf_cleanup(&r.headers);
	buf_cleanup(&r.out);
	arena_free(r.arena);
}

/* --- FastCGI --- */

struct fio {
	FCGX_Request *fr;
};

static const char *f_env(void *ud, const char *name)
{
	return FCGX_GetParam(name, ((struct fio *)ud)->fr->envp);
}

static long f_read(void *ud, char *p, size_t n)
{
	int got = FCGX_GetStr(p, n > 1 << 30 ? 1 << 30 : (int)n, ((struct fio *)ud)->fr->in);

	return got < 0 ? -1 : got;
}

static int f_write(void *ud, const char *p, size_t n)
{
	return FCGX_PutStr(p, (int)n, ((struct fio *)ud)->fr->out) == (int)n ? 0 : -1;
}

static void on_term(int sig)
{
	(void)sig;
	g_stop = 1;
}

static int open_db(void)
{
	struct at_err err = { "" };

	if (db_open(g_app.cfg.database, &g_app.db, &err) != AT_OK) {
		log_msg(LOG_ERR, NULL, "op=db_open error=\"%s\"", err.msg);
		return -1;
	}
	return 0;
}

static int worker(int fd)
{
	FCGX_Request fr;
	struct fio fio = { &fr };
	const struct req_io io = { f_env, f_read, f_write, &fio };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: accept returns on SIGTERM */
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (open_db() != 0)
		return 1;
	FCGX_Init();
	FCGX_InitRequest(&fr, fd, FCGI_FAIL_ACCEPT_ON_INTR);
	while (!g_stop && FCGX_Accept_r(&fr) == 0) {
		handle(&io);
		FCGX_Finish_r(&fr);
	}
	FCGX_Free(&fr, 1);
	db_close(g_app.db);
	g_app.db = NULL;
	return 0;
}

int loop_serve(void)
{
	int n = (int)g_app.cfg.workers, fd;
	pid_t *kids = xcalloc((size_t)n, sizeof(pid_t));
	struct sigaction sa;
	mode_t old;

	unlink(g_app.cfg.socket);
	old = umask(0);
	fd = FCGX_OpenSocket(g_app.cfg.socket, 128);
	umask(old);
	if (fd < 0) {
		log_msg(LOG_ERR, NULL, "op=listen socket=%s error=\"%s\"", g_app.cfg.socket,
			strerror(errno));
		xfree(kids);
		return 1;
	}
	/* nginx workers may run as another user: the socket's directory guards it. */
	chmod(g_app.cfg.socket, 0666);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	log_msg(LOG_INFO, NULL, "op=serve socket=%s workers=%d", g_app.cfg.socket, n);
	while (!g_stop) {
		for (int i = 0; i < n && !g_stop; i++) {
			if (kids[i] > 0)
				continue;
			pid_t pid = fork();

			if (pid == 0) {
				int code = worker(fd);

				xfree(kids);
				_exit(code);
			}
			if (pid < 0) {
				log_msg(LOG_ERR, NULL, "op=fork error=\"%s\"", strerror(errno));
				sleep(1);
				continue;
			}
			kids[i] = pid;
		}
		int status;
		pid_t dead = waitpid(-1, &status, 0);

		if (dead < 0)
			continue;
		for (int i = 0; i < n; i++)
			if (kids[i] == dead) {
				kids[i] = 0;
				if (!g_stop) {
					log_msg(LOG_WARN, NULL, "op=worker_exit pid=%d status=%d",
						(int)dead, status);
					usleep(100 * 1000);	/* no hot restart loop */
				}
			}
	}
	for (int i = 0; i < n; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	for (int i = 0; i < n; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
	close(fd);
	unlink(g_app.cfg.socket);
	xfree(kids);
	log_msg(LOG_INFO, NULL, "op=stop");
	return 0;
}

/* --- CGI (tests drive the binary this way) --- */

static const char *c_env(void *ud, const char *name)
{
	(void)ud;
	return getenv(name);
}

static long c_read(void *ud, char *p, size_t n)
{
	size_t got = fread(p, 1, n, stdin);

	(void)ud;
	return ferror(stdin) ? -1 : (long)got;
}

static int c_write(void *ud, const char *p, size_t n)
{
	(void)ud;
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

int loop_cgi(void)
{
	const struct req_io io = { c_env, c_read, c_write, NULL };

	struct at_err err = { "" };

	if (open_db() != 0)
		return 1;
	if (tmpl_app_init(&err) != AT_OK)	/* pages answer 500 without them */
		log_msg(LOG_ERR, NULL, "op=templates error=\"%s\"", err.msg);
	handle(&io);
	fflush(stdout);
	db_close(g_app.db);
	g_app.db = NULL;
	return 0;
}
