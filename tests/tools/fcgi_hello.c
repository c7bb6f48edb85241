/*
 * fcgi_hello.c: the floor for `make bench`, the least a FastCGI responder does.
 *
 *   fcgi_hello SOCKET [WORKERS]
 *
 * Listens on the unix socket SOCKET (mode 0666, like `attest serve`),
 * pre-forks WORKERS processes (default 2) that answer every request with
 * 200 "hello", restarts a worker that dies, and stops them all on SIGTERM or
 * SIGINT. nginx in front of this measures what the machine can do at best,
 * so Attest's figures read as a fraction of it.
 */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_WORKERS 64

static volatile sig_atomic_t g_stop;

static const char REPLY[] =
	"Status: 200\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"hello";

static void on_term(int sig)
{
	(void)sig;
	g_stop = 1;
}

/* Decimal 1..MAX_WORKERS into *out. Returns 0, or -1 if s is anything else. */
static int parse_workers(const char *s, int *out)
{
	int n = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		n = n * 10 + (*s - '0');
		if (n > MAX_WORKERS)
			return -1;
	}
	if (n < 1)
		return -1;
	*out = n;
	return 0;
}

/* One worker: accept, answer, repeat. SIGTERM (default action) ends it. */
static int worker(int fd)
{
	FCGX_Request req;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);	/* nginx hung up: an error, not death */
	if (FCGX_Init() != 0)
		return 1;
	if (FCGX_InitRequest(&req, fd, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) == 0) {
		FCGX_PutStr(REPLY, (int)sizeof(REPLY) - 1, req.out);
		FCGX_Finish_r(&req);
	}
	FCGX_Free(&req, 1);
	return 0;
}

static pid_t spawn(int fd)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(worker(fd));
	if (pid < 0)
		fprintf(stderr, "fcgi_hello: fork: %s\n", strerror(errno));
	return pid;
}

int main(int argc, char **argv)
{
	pid_t kids[MAX_WORKERS] = { 0 };
	struct sigaction sa;
	int n = 2, fd;
	mode_t old;

	if (argc < 2 || argc > 3 ||
	    (argc == 3 && parse_workers(argv[2], &n) != 0)) {
		fprintf(stderr, "usage: fcgi_hello SOCKET [WORKERS 1..%d]\n",
			MAX_WORKERS);
		return 2;
	}
	unlink(argv[1]);
	old = umask(0);
	fd = FCGX_OpenSocket(argv[1], 128);
	umask(old);
	if (fd < 0) {
		fprintf(stderr, "fcgi_hello: cannot listen on %s: %s\n",
			argv[1], strerror(errno));
		return 1;
	}
	chmod(argv[1], 0666);	/* nginx workers may run as another user */

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;	/* no SA_RESTART: waitpid returns */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!g_stop) {
		int status;
		pid_t dead;

		for (int i = 0; i < n && !g_stop; i++)
			if (kids[i] <= 0)
				kids[i] = spawn(fd);
		dead = waitpid(-1, &status, 0);
		if (dead < 0) {
			if (errno == ECHILD)
				sleep(1);	/* every fork failed: retry */
			continue;
		}
		for (int i = 0; i < n; i++)
			if (kids[i] == dead) {
				kids[i] = 0;
				if (!g_stop)	/* no hot restart loop */
					usleep(100 * 1000);
			}
	}
	for (int i = 0; i < n; i++)
		if (kids[i] > 0)
			kill(kids[i], SIGTERM);
	for (int i = 0; i < n; i++)
		if (kids[i] > 0)
			waitpid(kids[i], NULL, 0);
	close(fd);
	unlink(argv[1]);
	return 0;
}
