/* jsonschema.c: a small JSON Schema (draft 2020-12 subset) validator with path-named errors.
 *
 * The validator walks schema and document together. Paths are built in one fixed buffer
 * per call frame (no allocation per level); messages go to the caller's arena. Recursion is
 * bounded (MAX_DEPTH) so a self-referencing schema cannot blow the stack.
 */
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core/buf.h"
#include "core/jsonschema.h"

#define PATH_MAX_LEN 512
#define MAX_DEPTH 64

struct ctx {
	struct json_object *root;	/* the schema root, for $ref */
	struct arena *a;
	struct jsonschema_report *rep;	/* where errors go now (scratch inside oneOf) */
	struct jsonschema_report *top;	/* the caller's report */
	int depth;
	bool broken;			/* the schema itself is invalid */
};

static void report_vadd(struct jsonschema_report *rep, struct arena *a, const char *fmt,
			va_list ap) __attribute__((format(printf, 3, 0)));

static void report_vadd(struct jsonschema_report *rep, struct arena *a, const char *fmt,
			va_list ap)
{
	char line[512];

	rep->total++;
	if (rep->n >= JSONSCHEMA_MAX_ERRORS)
		return;
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	rep->msg[rep->n++] = arena_strdup(a, line);
}

void jsonschema_report_add(struct jsonschema_report *rep, struct arena *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report_vadd(rep, a, fmt, ap);
	va_end(ap);
}

static void fail(struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	jsonschema_report_add(c->rep, c->a, "%s: %s", path, msg);
}

static void broken(struct ctx *c, const char *path, const char *what)
{
	if (!c->broken) {
		/* the schema error replaces whatever was found so far */
		c->top->n = 0;
		c->top->total = 0;
		jsonschema_report_add(c->top, c->a, "schema error at %s: %s", path, what);
	}
	c->broken = true;
}

static bool is_ident(const char *s)
{
	if (*s == '\0' || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '$'))
			return false;
	return true;
}

size_t jsonschema_path_key(char *path, size_t len, size_t cap, const char *key)
{
	int n;

	if (len >= cap)
		return len;
	if (is_ident(key))
		n = snprintf(path + len, cap - len, ".%s", key);
	else
		n = snprintf(path + len, cap - len, "[\"%s\"]", key);
	if (n < 0)
		return len;
	return (size_t)n >= cap - len ? cap - 1 : len + (size_t)n;
}

size_t jsonschema_path_index(char *path, size_t len, size_t cap, size_t i)
{
	int n;

	if (len >= cap)
		return len;
	n = snprintf(path + len, cap - len, "[%zu]", i);
	if (n < 0)
		return len;
	return (size_t)n >= cap - len ? cap - 1 : len + (size_t)n;
}

/* ---- helpers ---- */

static const char *type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "boolean";
	case json_type_double: return "number";
	case json_type_int: return "integer";
	case json_type_object: return "object";
	case json_type_array: return "array";
	case json_type_string: return "string";
	}
	return "unknown";
}

/* d is a whole number (no libm: the binary does not link it). */
static bool whole(double d)
{
	return d > -9e15 && d < 9e15 && d == (double)(int64_t)d;
}

static bool is_integral(struct json_object *v)
{
	double d;

	if (json_object_is_type(v, json_type_int))
		return true;
	if (!json_object_is_type(v, json_type_double))
		return false;
	d = json_object_get_double(v);
	return whole(d);
}

/* Does v have JSON Schema type t? -1 when t is no type name. */
static int has_type(struct json_object *v, const char *t)
{
	enum json_type jt = json_object_get_type(v);

	if (strcmp(t, "object") == 0)
		return jt == json_type_object;
	if (strcmp(t, "array") == 0)
		return jt == json_type_array;
	if (strcmp(t, "string") == 0)
		return jt == json_type_string;
	if (strcmp(t, "integer") == 0)
		return is_integral(v);
	if (strcmp(t, "number") == 0)
		return jt == json_type_int || jt == json_type_double;
	if (strcmp(t, "boolean") == 0)
		return jt == json_type_boolean;
	if (strcmp(t, "null") == 0)
		return v == NULL || jt == json_type_null;
	return -1;
}

static bool num_of(struct json_object *v, double *d)
{
	if (json_object_is_type(v, json_type_int)) {
		*d = (double)json_object_get_int64(v);
		return true;
	}
	if (json_object_is_type(v, json_type_double)) {
		*d = json_object_get_double(v);
		return true;
	}
	return false;
}

/* JSON equality where 1 and 1.0 are the same number (json_object_equal says they differ). */
static bool equal(struct json_object *x, struct json_object *y)
{
	double a, b;

	if (num_of(x, &a) && num_of(y, &b))
		return a == b;
	return json_object_equal(x, y) != 0;
}

/* A short text form of a value for messages: strings bare, others as JSON. */
static void show(struct json_object *v, char *out, size_t cap)
{
	const char *s;

	if (json_object_is_type(v, json_type_string))
		s = json_object_get_string(v);
	else
		s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
	(void)snprintf(out, cap, "%s", s ? s : "null");
}

static void fmt_num(double d, char *out, size_t cap)
{
	if (whole(d))
		(void)snprintf(out, cap, "%.0f", d);
	else
		(void)snprintf(out, cap, "%g", d);
}

static size_t utf8_len(const char *s, size_t n)
{
	size_t cp = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			cp++;
	return cp;
}

/* Resolve "#/a/b" (JSON pointer, ~0 ~1 escapes) in the schema root. */
static struct json_object *resolve(struct ctx *c, const char *ref)
{
	struct json_object *cur = c->root;
	char tok[128];

	if (strncmp(ref, "#", 1) != 0)
		return NULL;
	ref++;
	while (*ref == '/') {
		size_t n = 0;

		ref++;
		while (*ref && *ref != '/' && n + 1 < sizeof(tok)) {
			if (ref[0] == '~' && ref[1] == '0') {
				tok[n++] = '~';
				ref += 2;
			} else if (ref[0] == '~' && ref[1] == '1') {
				tok[n++] = '/';
				ref += 2;
			} else {
				tok[n++] = *ref++;
			}
		}
		tok[n] = '\0';
		if (!json_object_is_type(cur, json_type_object) ||
		    !json_object_object_get_ex(cur, tok, &cur))
			return NULL;
	}
	return *ref == '\0' ? cur : NULL;
}

static void validate(struct ctx *c, struct json_object *s, struct json_object *v, char *path,
		     size_t plen);

/* Follow $ref chains so discriminator and type probes see the real schema. */
static struct json_object *deref(struct ctx *c, struct json_object *s)
{
	struct json_object *r;

	for (int i = 0; i < 16 && json_object_is_type(s, json_type_object); i++) {
		if (!json_object_object_get_ex(s, "$ref", &r) ||
		    !json_object_is_type(r, json_type_string))
			return s;
		s = resolve(c, json_object_get_string(r));
	}
	return s;
}

/* Does v pass the "type" keyword of schema s (true when s has none)? */
static bool type_passes(struct ctx *c, struct json_object *s, struct json_object *v)
{
	struct json_object *t;

	s = deref(c, s);
	if (!json_object_is_type(s, json_type_object) ||
	    !json_object_object_get_ex(s, "type", &t))
		return true;
	if (json_object_is_type(t, json_type_string))
		return has_type(v, json_object_get_string(t)) == 1;
	if (json_object_is_type(t, json_type_array))
		for (size_t i = 0; i < json_object_array_length(t); i++) {
			struct json_object *e = json_object_array_get_idx(t, i);

			if (json_object_is_type(e, json_type_string) &&
			    has_type(v, json_object_get_string(e)) == 1)
				return true;
		}
	return false;
}

/* The const value of properties[prop] in alternative s, or NULL. */
static struct json_object *disc_const(struct ctx *c, struct json_object *s, const char *prop)
{
	struct json_object *props, *p, *k;

	s = deref(c, s);
	if (!json_object_is_type(s, json_type_object) ||
	    !json_object_object_get_ex(s, "properties", &props) ||
	    !json_object_is_type(props, json_type_object) ||
	    !json_object_object_get_ex(props, prop, &p))
		return NULL;
	p = deref(c, p);
	if (!json_object_is_type(p, json_type_object) || !json_object_object_get_ex(p, "const", &k))
		return NULL;
	return k;
}

/* A property name whose const tells the alternatives apart, or NULL. */
static const char *discriminator(struct ctx *c, struct json_object *alts)
{
	struct json_object *first = deref(c, json_object_array_get_idx(alts, 0)), *props;
	struct json_object_iterator it, end;

	if (!json_object_is_type(first, json_type_object) ||
	    !json_object_object_get_ex(first, "properties", &props) ||
	    !json_object_is_type(props, json_type_object))
		return NULL;
	it = json_object_iter_begin(props);
	end = json_object_iter_end(props);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		size_t i, n = json_object_array_length(alts);

		for (i = 0; i < n; i++)
			if (disc_const(c, json_object_array_get_idx(alts, i), name) == NULL)
				break;
		if (i == n)
			return name;
	}
	return NULL;
}

/* Run alternative s against v into a scratch report; returns its error count. */
static size_t try_alt(struct ctx *c, struct json_object *s, struct json_object *v, char *path,
		      size_t plen, struct jsonschema_report *scratch)
{
	struct jsonschema_report *saved = c->rep;

	memset(scratch, 0, sizeof(*scratch));
	c->rep = scratch;
	validate(c, s, v, path, plen);
	c->rep = saved;
	return scratch->total;
}

static void merge(struct ctx *c, const struct jsonschema_report *from)
{
	for (size_t i = 0; i < from->n; i++)
		jsonschema_report_add(c->rep, c->a, "%s", from->msg[i]);
	c->rep->total += from->total - from->n;
}

/* Is w one of the " or "-separated words of list? */
static bool has_word(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = strstr(list, w); p; p = strstr(p + 1, w))
		if ((p == list || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' '))
			return true;
	return false;
}

static void check_alternatives(struct ctx *c, struct json_object *alts, bool one,
			       struct json_object *v, char *path, size_t plen)
{
	struct jsonschema_report scratch, best;
	size_t n = json_object_array_length(alts), matched = 0, best_n = (size_t)-1;
	const char *disc;
	struct buf types;

	if (n == 0) {
		broken(c, path, one ? "oneOf must not be empty" : "anyOf must not be empty");
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (try_alt(c, json_object_array_get_idx(alts, i), v, path, plen, &scratch) == 0)
			matched++;
	if (c->broken)
		return;
	if (matched == 1 || (!one && matched > 1))
		return;
	path[plen] = '\0';
	if (matched > 1) {
		fail(c, path, "matches more than one alternative");
		return;
	}
	/* Nothing matched: say why in the terms of the alternative the document meant. */
	disc = json_object_is_type(v, json_type_object) ? discriminator(c, alts) : NULL;
	if (disc != NULL) {
		struct json_object *dv;
		char want[256] = "", one_v[64];
		size_t wl = 0;

		if (!json_object_object_get_ex(v, disc, &dv)) {
			(void)jsonschema_path_key(path, plen, PATH_MAX_LEN, disc);
			fail(c, path, "required property is missing");
			path[plen] = '\0';
			return;
		}
		for (size_t i = 0; i < n; i++) {
			struct json_object *s = json_object_array_get_idx(alts, i);
			struct json_object *k = disc_const(c, s, disc);

			if (equal(k, dv)) {
				(void)try_alt(c, s, v, path, plen, &scratch);
				merge(c, &scratch);
				return;
			}
			show(k, one_v, sizeof(one_v));
			if (wl < sizeof(want))
				wl += (size_t)snprintf(want + wl, sizeof(want) - wl, "%s%s",
						       i ? ", " : "", one_v);
		}
		(void)jsonschema_path_key(path, plen, PATH_MAX_LEN, disc);
		fail(c, path, "must be one of %s", want);
		path[plen] = '\0';
		return;
	}
	/* No discriminator: if the value has none of the alternatives' types, say so;
	 * else report the alternative of the right type with the fewest errors. */
	buf_init(&types, 512);
	for (size_t i = 0; i < n; i++) {
		struct json_object *s = json_object_array_get_idx(alts, i);
		struct json_object *ds = deref(c, s), *t;

		if (!type_passes(c, s, v)) {
			if (json_object_is_type(ds, json_type_object) &&
			    json_object_object_get_ex(ds, "type", &t) &&
			    !has_word(buf_cstr(&types), json_object_get_string(t)))
				(void)buf_printf(&types, "%s%s", types.len ? " or " : "",
						 json_object_get_string(t));
			continue;
		}
		if (try_alt(c, s, v, path, plen, &scratch) < best_n) {
			best = scratch;
			best_n = scratch.total;
		}
	}
	if (best_n != (size_t)-1)
		merge(c, &best);
	else if (types.len > 0)
		fail(c, path, "must be %s, not %s", buf_cstr(&types), type_name(v));
	else
		fail(c, path, "matches none of the alternatives");
	buf_cleanup(&types);
}

static void check_type(struct ctx *c, struct json_object *t, struct json_object *v,
		       const char *path, bool *ok)
{
	*ok = true;
	if (json_object_is_type(t, json_type_string)) {
		int r = has_type(v, json_object_get_string(t));

		if (r < 0)
			broken(c, path, "unknown type name");
		else if (r == 0) {
			fail(c, path, "must be %s, not %s", json_object_get_string(t), type_name(v));
			*ok = false;
		}
		return;
	}
	if (json_object_is_type(t, json_type_array)) {
		struct buf names;

		for (size_t i = 0; i < json_object_array_length(t); i++) {
			struct json_object *e = json_object_array_get_idx(t, i);

			if (!json_object_is_type(e, json_type_string) ||
			    has_type(v, json_object_get_string(e)) < 0) {
				broken(c, path, "unknown type name");
				return;
			}
			if (has_type(v, json_object_get_string(e)) == 1)
				return;
		}
		buf_init(&names, 256);
		for (size_t i = 0; i < json_object_array_length(t); i++)
			(void)buf_printf(&names, "%s%s", i ? " or " : "",
					 json_object_get_string(json_object_array_get_idx(t, i)));
		fail(c, path, "must be %s, not %s", buf_cstr(&names), type_name(v));
		buf_cleanup(&names);
		*ok = false;
		return;
	}
	broken(c, path, "type must be a string or an array");
}

static void check_enum(struct ctx *c, struct json_object *e, struct json_object *v,
		       const char *path)
{
	struct buf list;
	char one[128];

	if (!json_object_is_type(e, json_type_array)) {
		broken(c, path, "enum must be an array");
		return;
	}
	for (size_t i = 0; i < json_object_array_length(e); i++)
		if (equal(json_object_array_get_idx(e, i), v))
			return;
	buf_init(&list, 1024);
	for (size_t i = 0; i < json_object_array_length(e); i++) {
		show(json_object_array_get_idx(e, i), one, sizeof(one));
		(void)buf_printf(&list, "%s%s", i ? ", " : "", one);
	}
	fail(c, path, "must be one of %s", buf_cstr(&list));
	buf_cleanup(&list);
}

static void check_pattern(struct ctx *c, struct json_object *p, struct json_object *v,
			  const char *path)
{
	regex_t re;

	if (!json_object_is_type(p, json_type_string) ||
	    regcomp(&re, json_object_get_string(p), REG_EXTENDED | REG_NOSUB) != 0) {
		broken(c, path, "pattern is not a valid POSIX extended regular expression");
		return;
	}
	if (json_object_is_type(v, json_type_string) &&
	    regexec(&re, json_object_get_string(v), 0, NULL, 0) != 0)
		fail(c, path, "must match the pattern %s", json_object_get_string(p));
	regfree(&re);
}

static bool want_count(struct ctx *c, struct json_object *k, const char *path, size_t *n)
{
	int64_t i;

	if (!json_object_is_type(k, json_type_int) || (i = json_object_get_int64(k)) < 0) {
		broken(c, path, "a length keyword must be a non-negative integer");
		return false;
	}
	*n = (size_t)i;
	return true;
}

static void check_object(struct ctx *c, struct json_object *s, struct json_object *v,
			 char *path, size_t plen)
{
	struct json_object *props = NULL, *req, *addl = NULL, *sub;
	struct json_object_iterator it, end;

	if (json_object_object_get_ex(s, "properties", &props) &&
	    !json_object_is_type(props, json_type_object)) {
		broken(c, path, "properties must be an object");
		return;
	}
	if (json_object_object_get_ex(s, "required", &req)) {
		if (!json_object_is_type(req, json_type_array)) {
			broken(c, path, "required must be an array");
			return;
		}
		for (size_t i = 0; i < json_object_array_length(req); i++) {
			struct json_object *name = json_object_array_get_idx(req, i);

			if (!json_object_is_type(name, json_type_string)) {
				broken(c, path, "required must list strings");
				return;
			}
			if (!json_object_object_get_ex(v, json_object_get_string(name), NULL)) {
				(void)jsonschema_path_key(path, plen, PATH_MAX_LEN,
							  json_object_get_string(name));
				fail(c, path, "required property is missing");
				path[plen] = '\0';
			}
		}
	}
	(void)json_object_object_get_ex(s, "additionalProperties", &addl);
	it = json_object_iter_begin(v);
	end = json_object_iter_end(v);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		struct json_object *val = json_object_iter_peek_value(&it);
		size_t l = jsonschema_path_key(path, plen, PATH_MAX_LEN, name);

		if (props != NULL && json_object_object_get_ex(props, name, &sub))
			validate(c, sub, val, path, l);
		else if (addl != NULL && json_object_is_type(addl, json_type_boolean)) {
			if (!json_object_get_boolean(addl))
				fail(c, path, "unknown property");
		} else if (addl != NULL) {
			validate(c, addl, val, path, l);
		}
		path[plen] = '\0';
		if (c->broken)
			return;
	}
}

static void check_array(struct ctx *c, struct json_object *s, struct json_object *v,
			char *path, size_t plen)
{
	struct json_object *k;
	size_t n = json_object_array_length(v), lim;

	if (json_object_object_get_ex(s, "minItems", &k) && want_count(c, k, path, &lim) &&
	    n < lim)
		fail(c, path, "must have at least %zu item%s", lim, lim == 1 ? "" : "s");
	if (json_object_object_get_ex(s, "maxItems", &k) && want_count(c, k, path, &lim) &&
	    n > lim)
		fail(c, path, "must have at most %zu item%s", lim, lim == 1 ? "" : "s");
	if (json_object_object_get_ex(s, "uniqueItems", &k) && json_object_get_boolean(k)) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (equal(json_object_array_get_idx(v, i),
					  json_object_array_get_idx(v, j))) {
					(void)jsonschema_path_index(path, plen, PATH_MAX_LEN, i);
					fail(c, path, "duplicates item %zu", j);
					path[plen] = '\0';
					j = i;
				}
	}
	if (json_object_object_get_ex(s, "items", &k)) {
		for (size_t i = 0; i < n && !c->broken; i++) {
			size_t l = jsonschema_path_index(path, plen, PATH_MAX_LEN, i);

			validate(c, k, json_object_array_get_idx(v, i), path, l);
			path[plen] = '\0';
		}
	}
}

static void check_number(struct ctx *c, struct json_object *s, struct json_object *v,
			 const char *path)
{
	struct json_object *k;
	double d, lim;
	char txt[64];

	if (!num_of(v, &d))
		return;
	if (json_object_object_get_ex(s, "minimum", &k)) {
		if (!num_of(k, &lim))
			broken(c, path, "minimum must be a number");
		else if (d < lim) {
			fmt_num(lim, txt, sizeof(txt));
			fail(c, path, "must be >= %s", txt);
		}
	}
	if (json_object_object_get_ex(s, "maximum", &k)) {
		if (!num_of(k, &lim))
			broken(c, path, "maximum must be a number");
		else if (d > lim) {
			fmt_num(lim, txt, sizeof(txt));
			fail(c, path, "must be <= %s", txt);
		}
	}
}

static void check_string(struct ctx *c, struct json_object *s, struct json_object *v,
			 const char *path)
{
	struct json_object *k;
	size_t n = utf8_len(json_object_get_string(v), (size_t)json_object_get_string_len(v)), lim;

	if (json_object_object_get_ex(s, "minLength", &k) && want_count(c, k, path, &lim) &&
	    n < lim)
		fail(c, path, lim == 1 ? "must not be empty" : "must be at least %zu characters",
		     lim);
	if (json_object_object_get_ex(s, "maxLength", &k) && want_count(c, k, path, &lim) &&
	    n > lim)
		fail(c, path, "must be at most %zu characters", lim);
	if (json_object_object_get_ex(s, "pattern", &k))
		check_pattern(c, k, v, path);
}

static const char *const KNOWN[] = {
	"$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples",
	"$ref", "type", "properties", "required", "additionalProperties", "items", "enum",
	"const", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems",
	"uniqueItems", "pattern", "oneOf", "anyOf", "allOf",
};

static void validate(struct ctx *c, struct json_object *s, struct json_object *v, char *path,
		     size_t plen)
{
	struct json_object *k;
	struct json_object_iterator it, end;
	bool ok = true;

	path[plen] = '\0';
	if (c->broken)
		return;
	if (json_object_is_type(s, json_type_boolean)) {
		if (!json_object_get_boolean(s))
			fail(c, path, "is not allowed here");
		return;
	}
	if (!json_object_is_type(s, json_type_object)) {
		broken(c, path, "a schema must be an object or a boolean");
		return;
	}
	if (++c->depth > MAX_DEPTH) {
		broken(c, path, "schema nesting too deep (a $ref loop?)");
		c->depth--;
		return;
	}
	it = json_object_iter_begin(s);
	end = json_object_iter_end(s);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		size_t i;

		for (i = 0; i < NELEM(KNOWN); i++)
			if (strcmp(name, KNOWN[i]) == 0)
				break;
		if (i == NELEM(KNOWN)) {
			char what[160];

			(void)snprintf(what, sizeof(what), "unsupported keyword \"%s\"", name);
			broken(c, path, what);
			goto out;
		}
	}
	if (json_object_object_get_ex(s, "$ref", &k)) {
		struct json_object *target = json_object_is_type(k, json_type_string) ?
			resolve(c, json_object_get_string(k)) : NULL;

		if (target == NULL) {
			broken(c, path, "$ref does not resolve in this schema");
			goto out;
		}
		validate(c, target, v, path, plen);
		if (c->broken)
			goto out;
	}
	if (json_object_object_get_ex(s, "type", &k)) {
		check_type(c, k, v, path, &ok);
		if (!ok || c->broken)
			goto out;	/* one clear message, not a cascade */
	}
	if (json_object_object_get_ex(s, "const", &k) && !equal(k, v)) {
		char one[128];

		show(k, one, sizeof(one));
		fail(c, path, "must be %s", one);
	}
	if (json_object_object_get_ex(s, "enum", &k))
		check_enum(c, k, v, path);
	switch (json_object_get_type(v)) {
	case json_type_object:
		check_object(c, s, v, path, plen);
		break;
	case json_type_array:
		check_array(c, s, v, path, plen);
		break;
	case json_type_string:
		check_string(c, s, v, path);
		break;
	case json_type_int:
	case json_type_double:
		check_number(c, s, v, path);
		break;
	default:
		break;
	}
	if (c->broken)
		goto out;
	if (json_object_object_get_ex(s, "allOf", &k)) {
		if (!json_object_is_type(k, json_type_array)) {
			broken(c, path, "allOf must be an array");
			goto out;
		}
		for (size_t i = 0; i < json_object_array_length(k) && !c->broken; i++)
			validate(c, json_object_array_get_idx(k, i), v, path, plen);
	}
	if (json_object_object_get_ex(s, "anyOf", &k)) {
		if (!json_object_is_type(k, json_type_array))
			broken(c, path, "anyOf must be an array");
		else
			check_alternatives(c, k, false, v, path, plen);
	}
	if (json_object_object_get_ex(s, "oneOf", &k)) {
		if (!json_object_is_type(k, json_type_array))
			broken(c, path, "oneOf must be an array");
		else
			check_alternatives(c, k, true, v, path, plen);
	}
out:
	path[plen] = '\0';
	c->depth--;
}

enum at_rc jsonschema_validate(struct json_object *schema, struct json_object *doc,
			       struct arena *a, struct jsonschema_report *rep)
{
	struct ctx c;
	char path[PATH_MAX_LEN] = "$";

	memset(rep, 0, sizeof(*rep));
	memset(&c, 0, sizeof(c));
	c.root = schema;
	c.a = a;
	c.rep = rep;
	c.top = rep;
	validate(&c, schema, doc, path, 1);
	if (c.broken)
		return AT_INTERNAL;
	return rep->total == 0 ? AT_OK : AT_BADREQ;
}
