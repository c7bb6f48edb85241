/* loop.h: the FastCGI accept loop (the only libfcgi user) and the CGI entry for tests. */
#ifndef AT_LOOP_H
#define AT_LOOP_H

/* Pre-fork cfg.workers processes on the unix socket and supervise them until SIGTERM.
 * Returns a process exit code. */
int loop_serve(void);
/* Serve exactly one request from the CGI environment and stdin to stdout. */
int loop_cgi(void);

#endif
