/* log.c: structured, escaped, truncated log lines. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

static int g_level = LOG_INFO;
static const char *g_prog = "attest";

void log_init(int level, const char *prog)
{
	g_level = level;
	if (prog != NULL)
		g_prog = prog;
}

void log_msg(int level, const char *rid, const char *fmt, ...)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	char raw[2048], out[2300], ts[32];
	size_t o = 0;
	va_list ap;
	time_t now = time(NULL);
	struct tm tm;

	if (level > g_level)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	for (const unsigned char *p = (const unsigned char *)raw; *p && o < sizeof(out) - 5; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", *p);
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s[%d] level=%s%s%s %s\n", ts, g_prog, (int)getpid(),
		level >= 0 && level <= 3 ? names[level] : "?", rid ? " rid=" : "", rid ? rid : "",
		out);
}
