/* app.h: process state, set up before the first accept and read-only in handlers. */
#ifndef AT_APP_H
#define AT_APP_H

#include <stdint.h>

#include "core/cfg.h"
#include "core/db.h"

struct tmpl_set;

struct app {
	struct cfg cfg;
	struct db *db;		/* this process's connection */
	const char *conf_path;
	char *frame_ancestors;	/* cached CSP frame-ancestors value */
	int64_t frame_ancestors_at;
	struct tmpl_set *tmpl;	/* page templates (fcgi/tmpl.h), loaded before the first accept */
};

extern struct app g_app;

#endif
