/* log.h: one key=value line per event on stderr; control bytes escaped, never a secret. */
#ifndef AT_LOG_H
#define AT_LOG_H

enum { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void log_init(int level, const char *prog);
/* rid: the request id or NULL. Never pass request data as fmt. */
void log_msg(int level, const char *rid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
