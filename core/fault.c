/* fault.c: count calls per site and fail the configured one (only if ATTEST_FAULT is set). */
#include <stdlib.h>
#include <string.h>

#include "core/fault.h"

#define MAX_SITES 8

static struct {
	int loaded;
	int n;
	struct {
		char name[32];
		long target, count;
	} site[MAX_SITES];
} g_fault;

static void load(void)
{
	const char *env = getenv("ATTEST_FAULT");

	g_fault.loaded = 1;
	while (env != NULL && *env != '\0' && g_fault.n < MAX_SITES) {
		const char *colon = strchr(env, ':');
		const char *end = strchr(env, ',');
		size_t len;
		char *stop;

		if (colon == NULL)
			return;
		len = (size_t)(colon - env);
		if (len >= sizeof(g_fault.site[0].name))
			return;
		memcpy(g_fault.site[g_fault.n].name, env, len);
		g_fault.site[g_fault.n].name[len] = '\0';
		g_fault.site[g_fault.n].target = strtol(colon + 1, &stop, 10);
		g_fault.n++;
		if (end == NULL)
			return;
		env = end + 1;
	}
}

bool fault_hit(const char *site)
{
	if (!g_fault.loaded)
		load();
	for (int i = 0; i < g_fault.n; i++)
		if (strcmp(g_fault.site[i].name, site) == 0)
			return ++g_fault.site[i].count == g_fault.site[i].target;
	return false;
}
