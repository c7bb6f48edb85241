/* jsonschema.h: a small JSON Schema validator (a draft 2020-12 subset).
 *
 * Keywords: type, properties, required, additionalProperties (bool or schema), items,
 * enum, const, minimum, maximum, minLength, maxLength, minItems, maxItems, uniqueItems,
 * pattern (POSIX extended regex, not ECMA-262: write [0-9], not \d), oneOf, anyOf, allOf,
 * $ref to a JSON pointer in the same document ("#/$defs/name"). Annotations ($schema,
 * $id, $defs, $comment, title, description, default, examples) are ignored. Any other
 * keyword makes the schema invalid: a keyword we would silently skip is a trap.
 *
 * Errors name the JSON path of the offending value, e.g.
 * "$.checklists[0].items[2].kind: must be one of yesno, rating, points, comment".
 * oneOf/anyOf whose alternatives all carry properties.X.const (a discriminator such as
 * "type") report the errors of the alternative the document picked, not of all of them.
 */
#ifndef AT_JSONSCHEMA_H
#define AT_JSONSCHEMA_H

#include <stddef.h>

#include "core/arena.h"
#include "core/rc.h"

struct json_object;

#define JSONSCHEMA_MAX_ERRORS 20

/* The first JSONSCHEMA_MAX_ERRORS messages ("PATH: what is wrong"), in document order. */
struct jsonschema_report {
	size_t n;		/* messages kept in msg[] */
	size_t total;		/* all errors found (total > n: some were dropped) */
	const char *msg[JSONSCHEMA_MAX_ERRORS];	/* arena strings */
};

/*
 * Validate doc against schema (both borrowed; neither is changed). Returns AT_OK when doc
 * is valid; AT_BADREQ when it is not (rep lists why, messages allocated from a);
 * AT_INTERNAL when the schema itself is broken (unknown keyword, bad $ref or regex;
 * rep->msg[0] says what). rep is always initialised.
 */
enum at_rc jsonschema_validate(struct json_object *schema, struct json_object *doc,
			       struct arena *a, struct jsonschema_report *rep);

/* Append "PATH: msg" to rep (used by callers that add their own semantic checks). */
void jsonschema_report_add(struct jsonschema_report *rep, struct arena *a, const char *fmt,
			   ...) __attribute__((format(printf, 3, 4)));

/* Append a path segment to path (len bytes, cap size): ".name", "[i]" or "[\"odd name\"]".
 * Truncates safely; returns the new length. */
size_t jsonschema_path_key(char *path, size_t len, size_t cap, const char *key);
size_t jsonschema_path_index(char *path, size_t len, size_t cap, size_t i);

#endif
