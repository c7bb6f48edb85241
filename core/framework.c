/* framework.c: competency frameworks — scale validation, parent rules, trees, storage and
 * the import transaction. The file formats live in fw_moodle.c and fw_case.c. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/framework.h"

/* ---- small helpers ---- */

static void json_put_cb(void *o)
{
	json_object_put(o);
}

struct json_object *framework_json_parse(struct arena *a, const char *text, size_t len,
					 const char *what, struct at_err *err)
{
	struct json_tokener *tok = NULL;
	struct json_object *o = NULL;
	enum json_tokener_error jerr;

	if (len > (size_t)FRAMEWORK_MAX_FILE || len == 0) {
		at_fail(err, AT_BADREQ, "%s: %s", what, len ? "too large" : "empty");
		return NULL;
	}
	tok = json_tokener_new_ex(64);
	if (tok == NULL) {
		at_fail(err, AT_INTERNAL, "%s: out of memory", what);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (o == NULL || jerr != json_tokener_success) {
		at_fail(err, AT_BADREQ, "%s: invalid JSON (%s at byte %zu)", what,
			jerr == json_tokener_continue ? "unexpected end"
						      : json_tokener_error_desc(jerr),
			(size_t)tok->char_offset);
		json_object_put(o);
		o = NULL;
		goto out;
	}
	for (size_t i = (size_t)tok->char_offset; i < len; i++) {
		if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t') {
			at_fail(err, AT_BADREQ, "%s: trailing data after the JSON value (byte %zu)",
				what, i);
			json_object_put(o);
			o = NULL;
			goto out;
		}
	}
	arena_on_free(a, json_put_cb, o);
out:
	json_tokener_free(tok);
	return o;
}

char *framework_json_str(struct arena *a, struct json_object *o)
{
	return arena_strdup(a, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
}

const char *framework_meta_str(struct arena *a, const char *meta, const char *key,
			       const char *def)
{
	struct json_object *o, *v;

	if (meta == NULL || *meta != '{')
		return def;
	o = framework_json_parse(a, meta, strlen(meta), "meta", NULL);
	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return def;
	return arena_strdup(a, json_object_get_string(v));
}

/* Line (1-based) of byte offset off. */
static size_t line_of(const char *data, size_t off)
{
	size_t line = 1;

	for (size_t i = 0; i < off; i++)
		if (data[i] == '\n')
			line++;
	return line;
}

enum at_rc framework_check_text(const char *data, size_t len, struct at_err *err)
{
	const unsigned char *p = (const unsigned char *)data;
	size_t i = 0;

	if (len == 0)
		return at_fail(err, AT_BADREQ, "the file is empty");
	if (len > (size_t)FRAMEWORK_MAX_FILE)
		return at_fail(err, AT_TOOBIG, "the file is larger than %u MiB",
			       FRAMEWORK_MAX_FILE >> 20);
	while (i < len) {
		unsigned c = p[i];
		size_t n;
		unsigned cp;

		if (c == 0)
			return at_fail(err, AT_BADREQ, "line %zu: NUL byte", line_of(data, i));
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		for (size_t k = 1; k <= n; k++) {
			if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		i += n + 1;
	}
	return AT_OK;
bad:
	return at_fail(err, AT_BADREQ, "line %zu: invalid UTF-8", line_of(data, i));
}

enum framework_format framework_guess_format(const char *data, size_t len)
{
	size_t i = 0;

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' ||
			   data[i] == '\n'))
		i++;
	return i < len && data[i] == '{' ? FRAMEWORK_FMT_CASE : FRAMEWORK_FMT_MOODLE;
}

/* ---- scales ---- */

enum at_rc framework_scale_check(const struct framework_scale *s, struct at_err *err)
{
	size_t ndef = 0, nprof = 0;

	if (s->n == 0)
		return at_fail(err, AT_BADREQ, "scale: no values");
	if (s->n > FRAMEWORK_MAX_SCALE)
		return at_fail(err, AT_BADREQ, "scale: more than %d values", FRAMEWORK_MAX_SCALE);
	for (size_t i = 0; i < s->n; i++) {
		const char *name = s->items[i].name;

		if (name == NULL || *name == '\0')
			return at_fail(err, AT_BADREQ, "scale: value %zu has no name", i + 1);
		/* Moodle stores a scale as one comma-separated string */
		if (strchr(name, ',') != NULL)
			return at_fail(err, AT_BADREQ, "scale: value '%s' contains a comma", name);
		for (size_t k = 0; k < i; k++)
			if (strcmp(s->items[k].name, name) == 0)
				return at_fail(err, AT_BADREQ, "scale: value '%s' appears twice",
					       name);
		ndef += s->items[i].is_default;
		nprof += s->items[i].proficient;
	}
	if (ndef != 1)
		return at_fail(err, AT_BADREQ, "scale: %s default value (exactly one needed)",
			       ndef ? "more than one" : "no");
	if (nprof == 0)
		return at_fail(err, AT_BADREQ, "scale: no proficient value (at least one needed)");
	return AT_OK;
}

enum at_rc framework_scale_parse(struct arena *a, const char *json, struct framework_scale *out,
				 struct at_err *err)
{
	struct json_object *root, *it, *v;
	size_t n;

	memset(out, 0, sizeof(*out));
	root = framework_json_parse(a, json ? json : "", json ? strlen(json) : 0, "scale", err);
	if (root == NULL)
		return AT_BADREQ;
	if (!json_object_is_type(root, json_type_array))
		return at_fail(err, AT_BADREQ, "scale: not a JSON array");
	n = json_object_array_length(root);
	if (n > FRAMEWORK_MAX_SCALE)
		return at_fail(err, AT_BADREQ, "scale: more than %d values", FRAMEWORK_MAX_SCALE);
	out->items = arena_zalloc(a, (n ? n : 1) * sizeof(*out->items));
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		it = json_object_array_get_idx(root, i);
		if (!json_object_is_type(it, json_type_object))
			return at_fail(err, AT_BADREQ, "scale[%zu]: not an object", i);
		if (!json_object_object_get_ex(it, "name", &v) ||
		    !json_object_is_type(v, json_type_string))
			return at_fail(err, AT_BADREQ, "scale[%zu].name: missing", i);
		out->items[i].name = arena_strdup(a, json_object_get_string(v));
		if (json_object_object_get_ex(it, "proficient", &v)) {
			if (!json_object_is_type(v, json_type_boolean))
				return at_fail(err, AT_BADREQ, "scale[%zu].proficient: not a boolean",
					       i);
			out->items[i].proficient = json_object_get_boolean(v);
		}
		if (json_object_object_get_ex(it, "default", &v)) {
			if (!json_object_is_type(v, json_type_boolean))
				return at_fail(err, AT_BADREQ, "scale[%zu].default: not a boolean", i);
			out->items[i].is_default = json_object_get_boolean(v);
		}
	}
	return framework_scale_check(out, err);
}

char *framework_scale_json(struct arena *a, const struct framework_scale *s)
{
	struct json_object *arr = json_object_new_array();
	char *txt;

	for (size_t i = 0; i < s->n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(s->items[i].name));
		json_object_object_add(o, "proficient",
				       json_object_new_boolean(s->items[i].proficient));
		json_object_object_add(o, "default",
				       json_object_new_boolean(s->items[i].is_default));
		json_object_array_add(arr, o);
	}
	txt = framework_json_str(a, arr);
	json_object_put(arr);
	return txt;
}

bool framework_scale_equal(const struct framework_scale *x, const struct framework_scale *y)
{
	if (x->n != y->n)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (strcmp(x->items[i].name, y->items[i].name) != 0 ||
		    x->items[i].proficient != y->items[i].proficient ||
		    x->items[i].is_default != y->items[i].is_default)
			return false;
	return true;
}

/* ---- rules ---- */

static const char *const RULE_NAMES[] = { "none", "all", "points", "manual" };

const char *framework_rule_name(enum framework_rule_type t)
{
	return (size_t)t < NELEM(RULE_NAMES) ? RULE_NAMES[t] : "none";
}

enum at_rc framework_rule_type_parse(const char *s, enum framework_rule_type *out)
{
	for (size_t i = 0; i < NELEM(RULE_NAMES); i++) {
		if (s != NULL && strcmp(s, RULE_NAMES[i]) == 0) {
			*out = (enum framework_rule_type)i;
			return AT_OK;
		}
	}
	if (s != NULL && *s == '\0') {
		*out = FRAMEWORK_RULE_NONE;
		return AT_OK;
	}
	return AT_BADREQ;
}

/* A non-negative integer from a JSON int, a numeric string or a boolean (Moodle writes all
 * three). Returns false when v is none of these. */
static bool json_nonneg(struct json_object *v, int64_t *out)
{
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
		return *out >= 0;
	}
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v) ? 1 : 0;
		return true;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);
		int64_t n = 0;

		if (*s == '\0' || strlen(s) > 15)
			return false;
		for (; *s; s++) {
			if (*s < '0' || *s > '9')
				return false;
			n = n * 10 + (*s - '0');
		}
		*out = n;
		return true;
	}
	return false;
}

enum at_rc framework_rule_parse(struct arena *a, const char *type, const char *config,
				struct framework_rule *out, struct at_err *err)
{
	struct json_object *root, *base, *v, *list, *it;
	int64_t total = 0;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (framework_rule_type_parse(type, &out->type) != AT_OK)
		return at_fail(err, AT_BADREQ, "unknown rule type '%s'", type ? type : "");
	if (out->type != FRAMEWORK_RULE_POINTS)
		return AT_OK;
	root = framework_json_parse(a, config ? config : "", config ? strlen(config) : 0,
				    "rule config", err);
	if (root == NULL)
		return AT_BADREQ;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "base", &base) ||
	    !json_object_is_type(base, json_type_object) ||
	    !json_object_object_get_ex(base, "points", &v) || !json_nonneg(v, &out->base) ||
	    out->base < 1)
		return at_fail(err, AT_BADREQ, "rule config: base.points must be a number >= 1");
	if (!json_object_object_get_ex(root, "competencies", &list) ||
	    !json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0)
		return at_fail(err, AT_BADREQ, "rule config: competencies must be a non-empty"
			       " array");
	n = json_object_array_length(list);
	out->items = arena_zalloc(a, n * sizeof(*out->items));
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		struct framework_rule_item *ri = &out->items[i];
		int64_t req = 0;

		it = json_object_array_get_idx(list, i);
		if (!json_object_is_type(it, json_type_object) ||
		    !json_object_object_get_ex(it, "idnumber", &v) ||
		    !json_object_is_type(v, json_type_string) || *json_object_get_string(v) == 0)
			return at_fail(err, AT_BADREQ, "rule config: competencies[%zu].idnumber:"
				       " missing", i);
		ri->idnumber = arena_strdup(a, json_object_get_string(v));
		if (!json_object_object_get_ex(it, "points", &v) || !json_nonneg(v, &ri->points) ||
		    ri->points > 1000000)
			return at_fail(err, AT_BADREQ, "rule config: competencies[%zu].points must"
				       " be a number from 0 to 1000000", i);
		if (json_object_object_get_ex(it, "required", &v) && !json_nonneg(v, &req))
			return at_fail(err, AT_BADREQ, "rule config: competencies[%zu].required"
				       " must be a boolean", i);
		ri->required = req != 0;
		for (size_t k = 0; k < i; k++)
			if (strcmp(out->items[k].idnumber, ri->idnumber) == 0)
				return at_fail(err, AT_BADREQ, "rule config: '%s' is listed twice",
					       ri->idnumber);
		total += ri->points;
	}
	if (out->base > total)
		return at_fail(err, AT_BADREQ, "rule config: base points %lld exceed the %lld"
			       " points available", (long long)out->base, (long long)total);
	return AT_OK;
}

char *framework_rule_config_json(struct arena *a, const struct framework_rule *r)
{
	struct json_object *root, *base, *list;
	char *txt;

	if (r->type != FRAMEWORK_RULE_POINTS)
		return arena_strdup(a, "");
	root = json_object_new_object();
	base = json_object_new_object();
	list = json_object_new_array();
	json_object_object_add(base, "points", json_object_new_int64(r->base));
	json_object_object_add(root, "base", base);
	for (size_t i = 0; i < r->n; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "idnumber", json_object_new_string(r->items[i].idnumber));
		json_object_object_add(o, "points", json_object_new_int64(r->items[i].points));
		json_object_object_add(o, "required", json_object_new_boolean(r->items[i].required));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, "competencies", list);
	txt = framework_json_str(a, root);
	json_object_put(root);
	return txt;
}

enum framework_rule_result framework_rule_eval(const struct framework_rule *r, size_t n,
					       const char *const *idnumbers,
					       const bool *proficient)
{
	int64_t got = 0;

	switch (r->type) {
	case FRAMEWORK_RULE_ALL:
		if (n == 0)
			return FRAMEWORK_RULE_UNMET;
		for (size_t i = 0; i < n; i++)
			if (!proficient[i])
				return FRAMEWORK_RULE_UNMET;
		return FRAMEWORK_RULE_MET;
	case FRAMEWORK_RULE_POINTS:
		for (size_t k = 0; k < r->n; k++) {
			bool prof = false;

			for (size_t i = 0; i < n; i++) {
				if (strcmp(idnumbers[i], r->items[k].idnumber) == 0) {
					prof = proficient[i];
					break;
				}
			}
			if (r->items[k].required && !prof)
				return FRAMEWORK_RULE_UNMET;
			if (prof)
				got += r->items[k].points;
		}
		return got >= r->base ? FRAMEWORK_RULE_MET : FRAMEWORK_RULE_UNMET;
	case FRAMEWORK_RULE_NONE:
	case FRAMEWORK_RULE_MANUAL:
	default:
		return FRAMEWORK_RULE_NA;
	}
}

/* ---- trees ---- */

static int cmp_idnumber(const void *x, const void *y)
{
	const struct framework_comp *const *p = x, *const *q = y;

	return strcmp((*p)->idnumber, (*q)->idnumber);
}

static int cmp_sibling(const void *x, const void *y)
{
	const struct framework_comp *const *p = x, *const *q = y;

	if ((*p)->sortorder != (*q)->sortorder)
		return (*p)->sortorder < (*q)->sortorder ? -1 : 1;
	return (*p)->order < (*q)->order ? -1 : (*p)->order > (*q)->order;
}

/* Sorted index of t's competencies by idnumber (arena). */
static struct framework_comp **index_of(struct arena *a, const struct framework_tree *t)
{
	struct framework_comp **ix = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*ix));

	memcpy(ix, t->by_order, t->n * sizeof(*ix));
	qsort(ix, t->n, sizeof(*ix), cmp_idnumber);
	return ix;
}

static struct framework_comp *ix_find(struct framework_comp **ix, size_t n, const char *idn)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix[mid]->idnumber, idn);

		if (c == 0)
			return ix[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct framework_comp *framework_tree_find(const struct framework_tree *t, const char *idnumber)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->by_order[i]->idnumber, idnumber) == 0)
			return t->by_order[i];
	return NULL;
}

/* The competency with id in t->by_order, which a load sorted by id. */
static struct framework_comp *by_id(const struct framework_tree *t, int64_t id)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->by_order[mid]->id == id)
			return t->by_order[mid];
		if (t->by_order[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static const char *where_of(const struct framework_comp *c)
{
	return c->where ? c->where : c->idnumber;
}

/*
 * Link by parent_idnumber (import) or parent_id (load: by_parent_id). keep_order keeps
 * the given sortorder values; otherwise siblings are numbered in file order.
 */
static enum at_rc link_tree(struct arena *a, struct framework_tree *t, bool by_parent_id,
			    struct at_err *err)
{
	struct framework_comp **ix = index_of(a, t), **stack = NULL, **roots;
	size_t nroots = 0, nout = 0, sp = 0;

	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->by_order[i];

		c->parent = NULL;
		c->nchildren = 0;
		c->order = i;
		if (!by_parent_id) {
			if (c->idnumber == NULL || *c->idnumber == '\0')
				return at_fail(err, AT_BADREQ, "%s: id number: missing",
					       where_of(c));
			if (utf8_chars(c->idnumber) > FRAMEWORK_MAX_IDNUMBER)
				return at_fail(err, AT_BADREQ, "%s: id number '%.40s...' is longer"
					       " than %d characters", where_of(c), c->idnumber,
					       FRAMEWORK_MAX_IDNUMBER);
			if (c->shortname == NULL || *c->shortname == '\0')
				return at_fail(err, AT_BADREQ, "%s: short name: missing",
					       where_of(c));
		}
	}
	for (size_t i = 1; i < t->n; i++) {
		if (strcmp(ix[i - 1]->idnumber, ix[i]->idnumber) == 0) {
			const struct framework_comp *x = ix[i - 1], *y = ix[i];

			if (x->order > y->order) {
				x = ix[i];
				y = ix[i - 1];
			}
			return at_fail(err, AT_BADREQ, "%s: duplicate id number '%s' (first at %s)",
				       where_of(y), y->idnumber, where_of(x));
		}
	}
	/* parents: count children first, then fill */
	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->by_order[i], *p = NULL;

		if (by_parent_id) {
			if (c->parent_id != 0) {
				p = by_id(t, c->parent_id);
				if (p == NULL)
					return at_fail(err, AT_DB, "competency %lld: parent %lld is"
						       " not in the framework", (long long)c->id,
						       (long long)c->parent_id);
				c->parent_idnumber = p->idnumber;
			} else {
				c->parent_idnumber = "";
			}
		} else if (c->parent_idnumber != NULL && *c->parent_idnumber != '\0') {
			p = ix_find(ix, t->n, c->parent_idnumber);
			if (p == NULL)
				return at_fail(err, AT_BADREQ, "%s: parent id number '%s' not found",
					       where_of(c), c->parent_idnumber);
			if (p == c)
				return at_fail(err, AT_BADREQ, "%s: competency '%s' is its own parent",
					       where_of(c), c->idnumber);
		}
		c->parent = p;
		if (p != NULL)
			p->nchildren++;
		else
			nroots++;
	}
	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->by_order[i];

		c->children = arena_alloc(a, (c->nchildren ? c->nchildren : 1) *
					  sizeof(*c->children));
		c->nchildren = 0;
	}
	roots = arena_alloc(a, (nroots ? nroots : 1) * sizeof(*roots));
	nroots = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->by_order[i];

		if (c->parent != NULL) {
			if (!by_parent_id)
				c->sortorder = (int64_t)c->parent->nchildren;
			c->parent->children[c->parent->nchildren++] = c;
		} else {
			if (!by_parent_id)
				c->sortorder = (int64_t)nroots;
			roots[nroots++] = c;
		}
	}
	if (by_parent_id) {
		qsort(roots, nroots, sizeof(*roots), cmp_sibling);
		for (size_t i = 0; i < t->n; i++)
			qsort(t->by_order[i]->children, t->by_order[i]->nchildren,
			      sizeof(*roots), cmp_sibling);
	}
	/* depth-first walk; anything not reached sits on a parent cycle */
	t->items = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*t->items));
	stack = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*stack));
	for (size_t r = nroots; r-- > 0;)
		stack[sp++] = roots[r];
	while (sp > 0) {
		struct framework_comp *c = stack[--sp];

		c->depth = c->parent ? c->parent->depth + 1 : 1;
		if (c->depth > FRAMEWORK_MAX_DEPTH)
			return at_fail(err, AT_BADREQ, "%s: the tree is deeper than %d levels",
				       where_of(c), FRAMEWORK_MAX_DEPTH);
		t->items[nout++] = c;
		for (size_t k = c->nchildren; k-- > 0;)
			stack[sp++] = c->children[k];
	}
	if (nout != t->n) {
		for (size_t i = 0; i < t->n; i++) {
			struct framework_comp *c = t->by_order[i];

			if (c->depth == 0)
				return at_fail(err, AT_BADREQ, "%s: competency '%s' is part of a"
					       " parent cycle", where_of(c), c->idnumber);
		}
		return at_fail(err, AT_INTERNAL, "tree walk lost competencies");
	}
	/* points rules name direct children */
	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->by_order[i];

		for (size_t k = 0; c->rule.type == FRAMEWORK_RULE_POINTS && k < c->rule.n; k++) {
			struct framework_comp *ch = ix_find(ix, t->n, c->rule.items[k].idnumber);

			if (ch == NULL || ch->parent != c)
				return at_fail(err, AT_BADREQ, "%s: rule config: '%s' is not a child"
					       " of '%s'", where_of(c), c->rule.items[k].idnumber,
					       c->idnumber);
		}
	}
	return AT_OK;
}

enum at_rc framework_tree_link(struct arena *a, struct framework_tree *t, struct at_err *err)
{
	for (size_t i = 0; i < t->n; i++)
		t->by_order[i]->depth = 0;
	return link_tree(a, t, false, err);
}

/* ---- storage ---- */

#define FW_COLS "id, idnumber, shortname, description, scale, taxonomies, source, created_at," \
		" updated_at"
static const char SQL_FW_INSERT[] =
	"INSERT INTO framework (idnumber, shortname, description, scale, taxonomies, source,"
	" created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING id";
static const char SQL_FW_UPDATE[] =
	"UPDATE framework SET shortname = ?2, description = ?3, scale = ?4, taxonomies = ?5,"
	" source = ?6, updated_at = ?7 WHERE id = ?1";
static const char SQL_FW_GET[] = "SELECT " FW_COLS " FROM framework WHERE id = ?1";
static const char SQL_FW_FIND[] = "SELECT " FW_COLS " FROM framework WHERE idnumber = ?1";
static const char SQL_FW_LIST[] =
	"SELECT " FW_COLS ", (SELECT COUNT(*) FROM competency c WHERE c.framework_id ="
	" framework.id) FROM framework ORDER BY idnumber";
static const char SQL_FW_DELETE[] = "DELETE FROM framework WHERE id = ?1";
static const char SQL_FW_RATINGS[] =
	"SELECT COUNT(*) FROM rating r JOIN competency c ON c.id = r.competency_id"
	" WHERE c.framework_id = ?1";

#define C_COLS "id, framework_id, idnumber, shortname, description, parent_id, sortorder, path," \
		" rule_type, rule_config"
static const char SQL_C_INSERT[] =
	"INSERT INTO competency (framework_id, idnumber, shortname, description, parent_id,"
	" sortorder, path, rule_type, rule_config) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	" RETURNING id";
static const char SQL_C_UPDATE[] =
	"UPDATE competency SET shortname = ?2, description = ?3, parent_id = ?4, sortorder = ?5,"
	" path = ?6, rule_type = ?7, rule_config = ?8 WHERE id = ?1";
static const char SQL_C_REPARENT[] =
	"UPDATE competency SET parent_id = ?2, path = ?3, sortorder = ?4 WHERE id = ?1";
static const char SQL_C_UNPARENT[] =
	"UPDATE competency SET parent_id = NULL WHERE framework_id = ?1";
static const char SQL_C_DELETE[] = "DELETE FROM competency WHERE id = ?1";
static const char SQL_C_LIST[] =
	"SELECT " C_COLS " FROM competency WHERE framework_id = ?1 ORDER BY id";
static const char SQL_C_GET[] = "SELECT " C_COLS " FROM competency WHERE id = ?1";
static const char SQL_C_USES[] =
	"SELECT (SELECT COUNT(*) FROM rating WHERE competency_id = ?1) +"
	" (SELECT COUNT(*) FROM item_competency WHERE competency_id = ?1) +"
	" (SELECT COUNT(*) FROM evidence_competency WHERE competency_id = ?1)";
static const char SQL_C_SIBLINGS[] =
	"SELECT COUNT(*) FROM competency WHERE framework_id = ?1 AND COALESCE(parent_id, 0) = ?2";
static const char SQL_C_PATH[] =
	"SELECT path FROM competency WHERE id = ?1 AND framework_id = ?2";

static const char *col_str(struct arena *a, struct db_stmt *st, int col)
{
	const char *s = db_col_text(st, col);

	return arena_strndup(a, s ? s : "", s ? db_col_len(st, col) : 0);
}

static enum at_rc read_fw(struct db_stmt *st, struct arena *a, struct framework *f)
{
	memset(f, 0, sizeof(*f));
	f->id = db_col_i64(st, 0);
	f->idnumber = col_str(a, st, 1);
	f->shortname = col_str(a, st, 2);
	f->description = col_str(a, st, 3);
	f->scale_json = col_str(a, st, 4);
	f->taxonomies = col_str(a, st, 5);
	f->source = col_str(a, st, 6);
	f->created_at = db_col_i64(st, 7);
	f->updated_at = db_col_i64(st, 8);
	if (*f->source == '\0')
		f->source = "{}";
	return framework_scale_parse(a, f->scale_json, &f->scale, NULL) == AT_OK ? AT_OK : AT_DB;
}

/* Run a one-row SELECT of a framework. */
static enum at_rc fw_select(struct db *db, struct arena *a, const char *sql, int64_t id,
			    const char *idn, struct framework *out)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;

	rc = db_prepare(db, sql, &st);
	if (rc != AT_OK)
		goto out;
	if (idn != NULL)
		db_bind_str(st, 1, idn);
	else
		db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto out;
	if (!row) {
		rc = AT_NOTFOUND;
		goto out;
	}
	rc = read_fw(st, a, out);
out:
	db_finalize(st);
	return rc;
}

enum at_rc framework_get(struct db *db, struct arena *a, int64_t id, struct framework *out)
{
	return fw_select(db, a, SQL_FW_GET, id, NULL, out);
}

enum at_rc framework_find(struct db *db, struct arena *a, const char *idnumber,
			  struct framework *out)
{
	return fw_select(db, a, SQL_FW_FIND, 0, idnumber, out);
}

enum at_rc framework_resolve(struct db *db, struct arena *a, const char *ref,
			     struct framework *out)
{
	int64_t id = 0;
	const char *s = ref;
	enum at_rc rc;

	if (ref == NULL || *ref == '\0')
		return AT_NOTFOUND;
	for (; *s >= '0' && *s <= '9' && id < INT64_MAX / 10 - 10; s++)
		id = id * 10 + (*s - '0');
	if (*s == '\0') {
		rc = framework_get(db, a, id, out);
		if (rc != AT_NOTFOUND)
			return rc;
	}
	return framework_find(db, a, ref, out);
}

enum at_rc framework_list(struct db *db, struct arena *a, struct framework **out, size_t *n)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;
	size_t cap = 16;

	*n = 0;
	*out = arena_alloc(a, cap * sizeof(**out));
	rc = db_prepare(db, SQL_FW_LIST, &st);
	if (rc != AT_OK)
		goto out;
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		if (*n == cap) {
			struct framework *bigger = arena_alloc(a, 2 * cap * sizeof(*bigger));

			memcpy(bigger, *out, cap * sizeof(*bigger));
			*out = bigger;
			cap *= 2;
		}
		rc = read_fw(st, a, &(*out)[*n]);
		if (rc != AT_OK)
			break;
		(*out)[*n].ncomps = db_col_i64(st, 9);
		(*n)++;
	}
out:
	db_finalize(st);
	return rc;
}

enum at_rc framework_delete(struct db *db, int64_t id)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;

	rc = db_prepare(db, SQL_FW_DELETE, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_run(st);
	if (rc == AT_OK && db_changes(st) == 0)
		rc = AT_NOTFOUND;
out:
	db_finalize(st);
	return rc;
}

static enum at_rc fw_insert(struct db *db, struct framework *fw, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;

	rc = db_prepare(db, SQL_FW_INSERT, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, fw->idnumber);
	db_bind_str(st, 2, fw->shortname);
	db_bind_str(st, 3, fw->description ? fw->description : "");
	db_bind_str(st, 4, fw->scale_json);
	db_bind_str(st, 5, fw->taxonomies ? fw->taxonomies : "");
	db_bind_str(st, 6, fw->source ? fw->source : "");
	db_bind_i64(st, 7, now);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_DB;
	if (rc == AT_OK) {
		fw->id = db_col_i64(st, 0);
		fw->created_at = fw->updated_at = now;
	}
out:
	db_finalize(st);
	return rc;
}

/* Fill fw->scale_json from fw->scale (or the reverse) and validate. */
static enum at_rc fw_prepare(struct arena *a, struct framework *fw, struct at_err *err)
{
	enum at_rc rc;

	if (fw->idnumber == NULL || *fw->idnumber == '\0')
		return at_fail(err, AT_BADREQ, "framework id number: missing");
	if (utf8_chars(fw->idnumber) > FRAMEWORK_MAX_IDNUMBER)
		return at_fail(err, AT_BADREQ, "framework id number is longer than %d characters",
			       FRAMEWORK_MAX_IDNUMBER);
	if (fw->shortname == NULL || *fw->shortname == '\0')
		return at_fail(err, AT_BADREQ, "framework short name: missing");
	if (fw->scale.n == 0 && fw->scale_json != NULL) {
		rc = framework_scale_parse(a, fw->scale_json, &fw->scale, err);
		if (rc != AT_OK)
			return rc;
	}
	rc = framework_scale_check(&fw->scale, err);
	if (rc != AT_OK)
		return rc;
	fw->scale_json = framework_scale_json(a, &fw->scale);
	return AT_OK;
}

enum at_rc framework_create(struct db *db, struct arena *a, struct framework *fw, int64_t now,
			    struct at_err *err)
{
	enum at_rc rc;

	rc = fw_prepare(a, fw, err);
	if (rc != AT_OK)
		goto out;
	rc = fw_insert(db, fw, now);
	if (rc == AT_CONFLICT)
		at_fail(err, rc, "a framework with id number '%s' exists", fw->idnumber);
out:
	return rc;
}

static enum at_rc count1(struct db *db, const char *sql, int64_t id, int64_t id2, int64_t *out)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;

	*out = 0;
	rc = db_prepare(db, sql, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	if (id2 >= 0)
		db_bind_i64(st, 2, id2);
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*out = db_col_i64(st, 0);
out:
	db_finalize(st);
	return rc;
}

static enum at_rc comp_insert(struct db *db, int64_t fwid, struct framework_comp *c)
{
	struct arena *a = arena_new();
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;

	rc = db_prepare(db, SQL_C_INSERT, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, fwid);
	db_bind_str(st, 2, c->idnumber);
	db_bind_str(st, 3, c->shortname);
	db_bind_str(st, 4, c->description ? c->description : "");
	if (c->parent_id > 0)
		db_bind_i64(st, 5, c->parent_id);
	else
		db_bind_null(st, 5);
	db_bind_i64(st, 6, c->sortorder);
	db_bind_str(st, 7, c->path ? c->path : "/0/");
	db_bind_str(st, 8, framework_rule_name(c->rule.type));
	db_bind_str(st, 9, framework_rule_config_json(a, &c->rule));
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_DB;
	if (rc == AT_OK)
		c->id = db_col_i64(st, 0);
out:
	db_finalize(st);
	arena_free(a);
	return rc;
}

enum at_rc framework_comp_add(struct db *db, struct arena *a, int64_t framework_id,
			      int64_t parent_id, struct framework_comp *c, struct at_err *err)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;
	int64_t n = 0;

	if (c->idnumber == NULL || *c->idnumber == '\0' || c->shortname == NULL ||
	    *c->shortname == '\0' || utf8_chars(c->idnumber) > FRAMEWORK_MAX_IDNUMBER) {
		rc = at_fail(err, AT_BADREQ, "a competency needs an id number (at most %d"
			     " characters) and a short name", FRAMEWORK_MAX_IDNUMBER);
		goto out;
	}
	c->path = "/0/";
	c->parent_id = parent_id;
	if (parent_id > 0) {
		rc = db_prepare(db, SQL_C_PATH, &st);
		if (rc != AT_OK)
			goto out;
		db_bind_i64(st, 1, parent_id);
		db_bind_i64(st, 2, framework_id);
		rc = db_step(st, &row);
		if (rc == AT_OK && !row)
			rc = at_fail(err, AT_NOTFOUND, "parent %lld is not in framework %lld",
				     (long long)parent_id, (long long)framework_id);
		if (rc != AT_OK)
			goto out;
		c->path = arena_printf(a, "%s%lld/", db_col_text(st, 0), (long long)parent_id);
	}
	rc = count1(db, SQL_C_SIBLINGS, framework_id, parent_id > 0 ? parent_id : 0, &n);
	if (rc != AT_OK)
		goto out;
	c->sortorder = n;
	rc = comp_insert(db, framework_id, c);
	if (rc == AT_CONFLICT)
		at_fail(err, rc, "id number '%s' exists in framework %lld", c->idnumber,
			(long long)framework_id);
out:
	db_finalize(st);
	return rc;
}

static void read_comp(struct db_stmt *st, struct arena *a, struct framework_comp *c)
{
	memset(c, 0, sizeof(*c));
	c->id = db_col_i64(st, 0);
	c->idnumber = col_str(a, st, 2);
	c->shortname = col_str(a, st, 3);
	c->description = col_str(a, st, 4);
	c->parent_id = db_col_i64(st, 5);
	c->sortorder = db_col_i64(st, 6);
	c->path = col_str(a, st, 7);
	c->meta = "{}";
	c->parent_idnumber = "";
	if (framework_rule_parse(a, col_str(a, st, 8), col_str(a, st, 9), &c->rule, NULL) !=
	    AT_OK)
		c->rule.type = FRAMEWORK_RULE_NONE;	/* stored rules were validated */
}

enum at_rc framework_comp_get(struct db *db, struct arena *a, int64_t id,
			      struct framework_comp *out)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;

	rc = db_prepare(db, SQL_C_GET, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc == AT_OK && !row)
		rc = AT_NOTFOUND;
	if (rc == AT_OK)
		read_comp(st, a, out);
out:
	db_finalize(st);
	return rc;
}

/* Split fw->source into the framework part and per-competency metas. */
static void split_source(struct arena *a, struct framework_tree *t)
{
	struct json_object *src, *comps, *m;
	const char *s = t->fw.source;

	src = s && *s == '{' ? framework_json_parse(a, s, strlen(s), "source", NULL) : NULL;
	if (src == NULL || !json_object_is_type(src, json_type_object)) {
		t->fw.source = "{}";
		return;
	}
	if (json_object_object_get_ex(src, "comps", &comps) &&
	    json_object_is_type(comps, json_type_object)) {
		for (size_t i = 0; i < t->n; i++) {
			struct framework_comp *c = t->by_order[i];
			struct json_object *sc;
			struct framework_scale *scale;

			if (!json_object_object_get_ex(comps, c->idnumber, &m) ||
			    !json_object_is_type(m, json_type_object))
				continue;
			c->meta = framework_json_str(a, m);
			if (json_object_object_get_ex(m, "scale", &sc) &&
			    json_object_is_type(sc, json_type_string)) {
				scale = arena_zalloc(a, sizeof(*scale));
				if (framework_scale_parse(a, json_object_get_string(sc), scale,
							  NULL) == AT_OK)
					c->scale = scale;
			}
		}
		json_object_object_del(src, "comps");
	}
	t->fw.source = framework_json_str(a, src);
}

/* fw->source + each competency's meta, as stored. */
static char *join_source(struct arena *a, const struct framework_tree *t)
{
	struct json_object *src = NULL, *comps, *m;
	const char *s = t->fw.source;
	char *txt;

	if (s && *s == '{')
		src = framework_json_parse(a, s, strlen(s), "source", NULL);
	if (src == NULL || !json_object_is_type(src, json_type_object))
		src = json_object_new_object();
	else
		json_object_get(src);	/* the arena puts the parsed root; we put ours */
	json_object_object_del(src, "comps");
	comps = json_object_new_object();
	for (size_t i = 0; i < t->n; i++) {
		const struct framework_comp *c = t->by_order[i];

		if (c->meta == NULL || strcmp(c->meta, "{}") == 0 || *c->meta != '{')
			continue;
		m = framework_json_parse(a, c->meta, strlen(c->meta), "meta", NULL);
		if (m == NULL || !json_object_is_type(m, json_type_object) ||
		    json_object_object_length(m) == 0)
			continue;
		json_object_object_add(comps, c->idnumber, json_object_get(m));
	}
	if (json_object_object_length(comps) > 0)
		json_object_object_add(src, "comps", comps);
	else
		json_object_put(comps);
	txt = framework_json_str(a, src);
	json_object_put(src);
	return txt;
}

enum at_rc framework_load(struct db *db, struct arena *a, int64_t id, struct framework_tree **out)
{
	struct framework_tree *t = arena_zalloc(a, sizeof(*t));
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;
	size_t cap = 64;
	struct at_err err = { "" };

	t->notes = "";
	rc = framework_get(db, a, id, &t->fw);
	if (rc != AT_OK)
		goto out;
	t->by_order = arena_alloc(a, cap * sizeof(*t->by_order));
	rc = db_prepare(db, SQL_C_LIST, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	for (;;) {
		struct framework_comp *c;

		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		if (t->n == cap) {
			struct framework_comp **bigger = arena_alloc(a, 2 * cap * sizeof(*bigger));

			memcpy(bigger, t->by_order, cap * sizeof(*bigger));
			t->by_order = bigger;
			cap *= 2;
		}
		c = arena_alloc(a, sizeof(*c));
		read_comp(st, a, c);
		t->by_order[t->n++] = c;
	}
	if (rc != AT_OK)
		goto out;
	for (size_t i = 0; i < t->n; i++)
		t->by_order[i]->depth = 0;
	rc = link_tree(a, t, true, &err);
	if (rc != AT_OK)
		goto out;
	split_source(a, t);
	*out = t;
out:
	db_finalize(st);
	return rc;
}

/* Map of existing competencies (idnumber -> id) of framework fwid, in arena a. */
struct existing {
	size_t n;
	const char **idn;
	int64_t *id;
	bool *kept;
};

static enum at_rc load_existing(struct db *db, struct arena *a, int64_t fwid, struct existing *e)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;
	bool row = false;
	size_t cap = 64;

	memset(e, 0, sizeof(*e));
	e->idn = arena_alloc(a, cap * sizeof(*e->idn));
	e->id = arena_alloc(a, cap * sizeof(*e->id));
	rc = db_prepare(db, SQL_C_LIST, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, fwid);
	for (;;) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		if (e->n == cap) {
			const char **ni = arena_alloc(a, 2 * cap * sizeof(*ni));
			int64_t *nid = arena_alloc(a, 2 * cap * sizeof(*nid));

			memcpy(ni, e->idn, cap * sizeof(*ni));
			memcpy(nid, e->id, cap * sizeof(*nid));
			e->idn = ni;
			e->id = nid;
			cap *= 2;
		}
		e->id[e->n] = db_col_i64(st, 0);
		e->idn[e->n] = col_str(a, st, 2);
		e->n++;
	}
	e->kept = arena_zalloc(a, (e->n ? e->n : 1) * sizeof(*e->kept));
out:
	db_finalize(st);
	return rc;
}

static enum at_rc comp_update(struct db *db, struct arena *a, const struct framework_comp *c)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;

	rc = db_prepare(db, SQL_C_UPDATE, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, c->id);
	db_bind_str(st, 2, c->shortname);
	db_bind_str(st, 3, c->description ? c->description : "");
	db_bind_null(st, 4);
	db_bind_i64(st, 5, c->sortorder);
	db_bind_str(st, 6, "/0/");
	db_bind_str(st, 7, framework_rule_name(c->rule.type));
	db_bind_str(st, 8, framework_rule_config_json(a, &c->rule));
	rc = db_run(st);
out:
	db_finalize(st);
	return rc;
}

static enum at_rc comp_reparent(struct db *db, const struct framework_comp *c)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;

	rc = db_prepare(db, SQL_C_REPARENT, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, c->id);
	db_bind_i64(st, 2, c->parent_id);
	db_bind_str(st, 3, c->path);
	db_bind_i64(st, 4, c->sortorder);
	rc = db_run(st);
out:
	db_finalize(st);
	return rc;
}

static enum at_rc run_i64(struct db *db, const char *sql, int64_t id)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;

	rc = db_prepare(db, sql, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, id);
	rc = db_run(st);
out:
	db_finalize(st);
	return rc;
}

static enum at_rc fw_update(struct db *db, const struct framework *fw, int64_t now)
{
	struct db_stmt *st = NULL;
	enum at_rc rc;

	rc = db_prepare(db, SQL_FW_UPDATE, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, fw->id);
	db_bind_str(st, 2, fw->shortname);
	db_bind_str(st, 3, fw->description ? fw->description : "");
	db_bind_str(st, 4, fw->scale_json);
	db_bind_str(st, 5, fw->taxonomies ? fw->taxonomies : "");
	db_bind_str(st, 6, fw->source ? fw->source : "");
	db_bind_i64(st, 7, now);
	rc = db_run(st);
out:
	db_finalize(st);
	return rc;
}

/* The stores inside the transaction; the caller begins/commits/rolls back. */
static enum at_rc store_tx(struct db *db, struct arena *a, struct framework_tree *t,
			   bool replace, int64_t now, struct framework_import_result *res,
			   struct at_err *err)
{
	struct framework old;
	struct existing ex;
	enum at_rc rc;

	memset(&ex, 0, sizeof(ex));
	rc = framework_find(db, a, t->fw.idnumber, &old);
	if (rc != AT_OK && rc != AT_NOTFOUND)
		return at_fail(err, rc, "could not read frameworks: %s", db_errmsg(db));
	t->fw.source = join_source(a, t);
	if (rc == AT_OK) {
		int64_t nrat = 0;

		if (!replace)
			return at_fail(err, AT_CONFLICT, "a framework with id number '%s' exists"
				       " (id %lld); use --replace to replace it", t->fw.idnumber,
				       (long long)old.id);
		t->fw.id = old.id;
		t->fw.created_at = old.created_at;
		rc = count1(db, SQL_FW_RATINGS, old.id, -1, &nrat);
		if (rc != AT_OK)
			return rc;
		if (nrat > 0 && !framework_scale_equal(&old.scale, &t->fw.scale))
			return at_fail(err, AT_CONFLICT, "the scale of '%s' cannot change: %lld"
				       " ratings use it", t->fw.idnumber, (long long)nrat);
		rc = fw_update(db, &t->fw, now);
		if (rc != AT_OK)
			return rc;
		t->fw.updated_at = now;
		rc = load_existing(db, a, old.id, &ex);
		if (rc == AT_OK)
			rc = run_i64(db, SQL_C_UNPARENT, old.id);
		if (rc != AT_OK)
			return rc;
		res->replaced = true;
	} else {
		rc = fw_insert(db, &t->fw, now);
		if (rc != AT_OK)
			return rc;
	}
	/* match kept competencies by idnumber */
	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->by_order[i];

		c->id = 0;
		for (size_t k = 0; k < ex.n; k++) {
			if (!ex.kept[k] && strcmp(ex.idn[k], c->idnumber) == 0) {
				ex.kept[k] = true;
				c->id = ex.id[k];
				break;
			}
		}
	}
	for (size_t k = 0; k < ex.n; k++) {
		int64_t uses = 0;

		if (ex.kept[k])
			continue;
		rc = count1(db, SQL_C_USES, ex.id[k], -1, &uses);
		if (rc != AT_OK)
			return rc;
		if (uses > 0)
			return at_fail(err, AT_CONFLICT, "competency '%s' is not in the new file but"
				       " has %lld ratings, evidence or checklist links", ex.idn[k],
				       (long long)uses);
		rc = run_i64(db, SQL_C_DELETE, ex.id[k]);
		if (rc != AT_OK)
			return rc;
		res->deleted++;
	}
	/* pass 1: rows in file order (ids follow the file), parents unset */
	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->by_order[i];

		c->parent_id = 0;
		c->path = "/0/";
		if (c->id != 0) {
			rc = comp_update(db, a, c);
			res->updated++;
		} else {
			rc = comp_insert(db, t->fw.id, c);
			res->created++;
		}
		if (rc != AT_OK)
			return at_fail(err, rc, "%s: could not store '%s': %s", where_of(c),
				       c->idnumber, db_errmsg(db));
	}
	/* pass 2: parents and paths, depth first so a parent's path is known */
	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->items[i];

		if (c->parent == NULL)
			continue;	/* pass 1 wrote its sortorder and "/0/" */
		c->parent_id = c->parent->id;
		c->path = arena_printf(a, "%s%lld/", c->parent->path, (long long)c->parent_id);
		rc = comp_reparent(db, c);
		if (rc != AT_OK)
			return at_fail(err, rc, "%s: could not link '%s': %s", where_of(c),
				       c->idnumber, db_errmsg(db));
	}
	res->framework_id = t->fw.id;
	res->ncomps = t->n;
	return AT_OK;
}

enum at_rc framework_store(struct db *db, struct arena *a, struct framework_tree *t,
			   bool replace, int64_t now, struct framework_import_result *res,
			   struct at_err *err)
{
	enum at_rc rc;
	const char *src;

	memset(res, 0, sizeof(*res));
	res->notes = t->notes ? t->notes : "";
	rc = fw_prepare(a, &t->fw, err);
	if (rc != AT_OK)
		return rc;
	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->by_order[i];

		if (c->scale != NULL) {
			rc = framework_scale_check(c->scale, err);
			if (rc != AT_OK) {
				char msg[sizeof(err->msg)];

				snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
				return at_fail(err, rc, "%s: %s", where_of(c), msg);
			}
		}
	}
	rc = db_begin(db);
	if (rc != AT_OK)
		return at_fail(err, rc, "could not begin a transaction: %s", db_errmsg(db));
	src = t->fw.source;
	rc = store_tx(db, a, t, replace, now, res, err);
	t->fw.source = src;	/* store_tx stored it joined with the competency metas */
	if (rc == AT_OK)
		rc = db_commit(db);
	if (rc != AT_OK) {
		db_rollback(db);
		if (err != NULL && err->msg[0] == '\0')
			at_fail(err, rc, "could not store the framework: %s", db_errmsg(db));
		res->framework_id = 0;
	}
	return rc;
}

enum at_rc framework_import(struct db *db, struct arena *a, const char *data, size_t len,
			    enum framework_format fmt, bool replace, int64_t now,
			    struct framework_import_result *res, struct at_err *err)
{
	struct framework_tree *t = NULL;
	enum at_rc rc;

	memset(res, 0, sizeof(*res));
	res->notes = "";
	if (err != NULL)
		err->msg[0] = '\0';
	rc = framework_check_text(data, len, err);
	if (rc != AT_OK)
		return rc;
	if (fmt == FRAMEWORK_FMT_GUESS)
		fmt = framework_guess_format(data, len);
	if (fmt == FRAMEWORK_FMT_CASE)
		rc = fw_case_parse(a, data, len, &t, err);
	else
		rc = fw_moodle_parse(a, data, len, &t, err);
	if (rc != AT_OK)
		return rc;
	return framework_store(db, a, t, replace, now, res, err);
}
