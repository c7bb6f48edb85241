/* fuzz_cookies.c: Cookie headers (NUL-terminated copies of the input). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fcgi/req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct arena *a = arena_new();
	char *s = arena_strndup(a, (const char *)data, len);
	struct kv *kv = NULL;
	size_t n = 0;

	req_parse_cookies(a, s, &kv, &n);
	for (size_t i = 0; i < n; i++)
		(void)strlen(kv[i].key);
	arena_free(a);
	return 0;
}
