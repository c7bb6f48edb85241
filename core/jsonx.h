/* jsonx.h: the one way untrusted or stored JSON text is parsed (json-c, depth-limited). */
#ifndef AT_JSONX_H
#define AT_JSONX_H

#include <json-c/json.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/rc.h"

/*
 * Parse exactly len bytes of text as one JSON value nested at most depth deep; white space
 * may follow it, nothing else. Returns the root — freed with a when a is not NULL, else the
 * caller's to json_object_put() — or NULL, with err (if not NULL) saying why and where.
 */
struct json_object *jsonx_parse(struct arena *a, const char *text, size_t len, int depth,
				struct at_err *err);

#endif
