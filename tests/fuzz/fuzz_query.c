/* fuzz_query.c: query strings and url-encoded forms must not crash, hang or leak. */
#include <stddef.h>
#include <stdint.h>

#include "fcgi/req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct arena *a = arena_new();
	struct kv *kv = NULL;
	size_t n = 0;
	char *out;

	(void)req_parse_query(a, (const char *)data, len, &kv, &n);
	(void)req_urldecode(a, (const char *)data, len, true, &out, NULL);
	arena_free(a);
	return 0;
}
