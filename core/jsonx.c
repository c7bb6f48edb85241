/* jsonx.c: depth-limited, whole-input JSON parsing shared by every module. */
#include <limits.h>

#include "core/jsonx.h"

static void put_json(void *o)
{
	json_object_put(o);
}

struct json_object *jsonx_parse(struct arena *a, const char *text, size_t len, int depth,
				struct at_err *err)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error e;
	size_t end;

	if (text == NULL || len == 0) {
		at_fail(err, AT_BADREQ, "empty JSON");
		return NULL;
	}
	if (len > INT_MAX) {
		at_fail(err, AT_TOOBIG, "JSON too large");
		return NULL;
	}
	tok = json_tokener_new_ex(depth);
	AT_ASSERT(tok != NULL);
	o = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (e == json_tokener_success && o != NULL) {
		for (size_t i = end; i < len; i++)
			if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
				e = json_tokener_error_parse_unexpected;
	}
	if (e != json_tokener_success || o == NULL) {
		at_fail(err, AT_BADREQ, "malformed JSON: %s near byte %zu",
			e == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(e),
			end);
		json_object_put(o);
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_free(tok);
	if (a != NULL)
		arena_on_free(a, put_json, o);
	return o;
}
