/* origins.c: which sites may frame Attest. Recomputed at most every 30 s per worker. */
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/mem.h"
#include "core/platform.h"
#include "fcgi/app.h"
#include "fcgi/origins.h"

void origins_invalidate(void)
{
	g_app.frame_ancestors_at = 0;
}

const char *origins_frame_ancestors(void)
{
	int64_t now = (int64_t)time(NULL);
	struct arena *a;
	char *list = NULL;

	if (g_app.frame_ancestors != NULL && now - g_app.frame_ancestors_at < 30)
		return g_app.frame_ancestors;
	if (g_app.db == NULL)
		return "'self'";
	a = arena_new();
	if (platform_origins(g_app.db, a, 0, &list) != AT_OK) {
		log_msg(LOG_WARN, NULL, "op=frame_ancestors rc=db");
		list = NULL;
	}
	xfree(g_app.frame_ancestors);
	g_app.frame_ancestors = xstrdup(arena_printf(a, "'self'%s%s%s%s",
		list && *list ? " " : "", list ? list : "",
		g_app.cfg.frame_ancestors[0] ? " " : "", g_app.cfg.frame_ancestors));
	g_app.frame_ancestors_at = now;
	arena_free(a);
	return g_app.frame_ancestors;
}
