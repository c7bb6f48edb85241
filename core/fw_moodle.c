/* fw_moodle.c: Moodle's competency framework CSV (admin/tool/lpimportcsv), both ways.
 *
 * The format, as Moodle's framework_exporter writes it: a header row of 14 columns
 *   "Parent id number","Id number",Shortname,Description,"Description format",
 *   "Scale values","Scale configuration","Rule type (optional)","Rule outcome (optional)",
 *   "Rule config (optional)","Cross referenced competency id numbers",
 *   "Exported id (optional)","Is framework",Taxonomy
 * then one framework row (Is framework = 1: scale values as "A,B", the scale
 * configuration JSON [{"scaleid":"N"},{"id":i,"scaledefault":0|1,"proficient":0|1},...]
 * with 1-based item ids, taxonomies one term per level) and one row per competency (parent
 * by id number, empty at the top; rule type a PHP class name; rule config "null" or, for
 * points, JSON naming children by their "Exported id"; cross references comma-joined with
 * commas inside id numbers written %2C). Quoting is PHP fputcsv's: a field is quoted when
 * it holds a space, tab, CR, LF, comma, quote or backslash; quotes are doubled; rows end
 * in LF; booleans are written "1" and "".
 *
 * Reading accepts a UTF-8 BOM, CRLF or LF, quoted fields with embedded newlines, blank
 * lines; it does not check the header names (Moodle maps columns by position and writes
 * them translated) but needs 14 columns on every row. What Attest does not model
 * (description format, rule outcome, per-competency scale text, cross references,
 * exported ids, the scale configuration text) is kept in the framework's source JSON so
 * an export of an imported file is byte-identical. Normalisations on export: rows end in
 * LF, no BOM, an empty rule config is written "null", competencies come in id order with
 * every parent before its children.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/framework.h"

#define NCOLS 14
enum { C_PARENT, C_IDNUMBER, C_SHORTNAME, C_DESC, C_DESCFMT, C_SCALEVALUES, C_SCALECFG,
       C_RULETYPE, C_RULEOUTCOME, C_RULECONFIG, C_RELATED, C_EXPORTID, C_ISFRAMEWORK,
       C_TAXONOMY };

static const char HEADER[] =
	"\"Parent id number\",\"Id number\",Shortname,Description,\"Description format\","
	"\"Scale values\",\"Scale configuration\",\"Rule type (optional)\","
	"\"Rule outcome (optional)\",\"Rule config (optional)\","
	"\"Cross referenced competency id numbers\",\"Exported id (optional)\","
	"\"Is framework\",Taxonomy\n";

static const char RULE_ALL[] = "core_competency\\competency_rule_all";
static const char RULE_POINTS[] = "core_competency\\competency_rule_points";

static const char *const TAXONOMIES[] = {
	"behaviour", "competency", "concept", "domain", "indicator", "level", "outcome",
	"practice", "proficiency", "skill", "value",
};

/* ---- CSV reading ---- */

struct csv {
	const char *p, *end;
	size_t line;
};

/*
 * Read one record into *fields (arena array of *nf strings). *line is the line it starts
 * on. Returns AT_OK with *nf == 0 at the end of input.
 */
static enum at_rc csv_record(struct arena *a, struct csv *cs, char ***fields, size_t *nf,
			     size_t *line, struct at_err *err)
{
	size_t cap = NCOLS + 2, n = 0;
	char **f = arena_alloc(a, cap * sizeof(*f));
	struct buf b;
	enum at_rc rc = AT_OK;

	buf_init(&b, FRAMEWORK_MAX_FILE);
	*nf = 0;
	*line = cs->line;
	if (cs->p >= cs->end)
		goto out;
	for (;;) {
		buf_reset(&b);
		if (cs->p < cs->end && *cs->p == '"') {
			cs->p++;
			for (;;) {
				if (cs->p >= cs->end) {
					rc = at_fail(err, AT_BADREQ, "line %zu: unterminated quoted"
						     " field", *line);
					goto out;
				}
				if (*cs->p == '"') {
					if (cs->p + 1 < cs->end && cs->p[1] == '"') {
						rc = buf_append(&b, "\"", 1);
						cs->p += 2;
						if (rc != AT_OK)
							goto out;
						continue;
					}
					cs->p++;
					break;
				}
				if (*cs->p == '\n')
					cs->line++;
				rc = buf_append(&b, cs->p, 1);
				cs->p++;
				if (rc != AT_OK)
					goto out;
			}
			if (cs->p < cs->end && *cs->p != ',' && *cs->p != '\n' && *cs->p != '\r') {
				rc = at_fail(err, AT_BADREQ, "line %zu: unexpected character after a"
					     " closing quote", cs->line);
				goto out;
			}
		} else {
			const char *s = cs->p;

			while (cs->p < cs->end && *cs->p != ',' && *cs->p != '\n' && *cs->p != '\r') {
				if (*cs->p == '"') {
					rc = at_fail(err, AT_BADREQ, "line %zu: quote inside an"
						     " unquoted field", cs->line);
					goto out;
				}
				cs->p++;
			}
			rc = buf_append(&b, s, (size_t)(cs->p - s));
			if (rc != AT_OK)
				goto out;
		}
		if (n == cap) {
			char **bigger = arena_alloc(a, 2 * cap * sizeof(*bigger));

			memcpy(bigger, f, cap * sizeof(*bigger));
			f = bigger;
			cap *= 2;
		}
		f[n++] = arena_strndup(a, b.data ? b.data : "", b.len);
		if (cs->p < cs->end && *cs->p == ',') {
			cs->p++;
			continue;
		}
		/* end of record */
		if (cs->p < cs->end && *cs->p == '\r')
			cs->p++;
		if (cs->p < cs->end && *cs->p == '\n')
			cs->p++;
		cs->line++;
		break;
	}
	*fields = f;
	*nf = n;
out:
	buf_cleanup(&b);
	return rc;
}

/* ---- scales ---- */

static bool flag_of(struct json_object *v, bool *out)
{
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return true;
	}
	if (json_object_is_type(v, json_type_int)) {
		int64_t n = json_object_get_int64(v);

		*out = n != 0;
		return n == 0 || n == 1;
	}
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		*out = strcmp(s, "1") == 0;
		return strcmp(s, "0") == 0 || strcmp(s, "1") == 0 || *s == '\0';
	}
	return false;
}

static bool int_of(struct json_object *v, int64_t *out)
{
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
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

enum at_rc fw_moodle_scale(struct arena *a, const char *values, const char *config,
			   struct framework_scale *out, struct at_err *err)
{
	struct json_object *root, *it, *v;
	size_t n = 1, len;
	const char *s;

	memset(out, 0, sizeof(*out));
	if (values == NULL || *values == '\0')
		return at_fail(err, AT_BADREQ, "scale values: missing");
	for (s = values; *s; s++)
		n += *s == ',';
	if (n > FRAMEWORK_MAX_SCALE)
		return at_fail(err, AT_BADREQ, "scale values: more than %d",
			       FRAMEWORK_MAX_SCALE);
	out->items = arena_zalloc(a, n * sizeof(*out->items));
	out->n = n;
	s = values;
	for (size_t i = 0; i < n; i++) {
		const char *e = strchr(s, ',');

		len = e ? (size_t)(e - s) : strlen(s);
		out->items[i].name = arena_strndup(a, s, len);
		if (len == 0)
			return at_fail(err, AT_BADREQ, "scale values: value %zu is empty", i + 1);
		s = e ? e + 1 : s + len;
	}
	if (config == NULL || *config == '\0')
		return at_fail(err, AT_BADREQ, "scale configuration: missing");
	root = framework_json_parse(a, config, strlen(config), "scale configuration", err);
	if (root == NULL)
		return AT_BADREQ;
	if (!json_object_is_type(root, json_type_array) || json_object_array_length(root) < 1 ||
	    !json_object_is_type(json_object_array_get_idx(root, 0), json_type_object) ||
	    !json_object_object_get_ex(json_object_array_get_idx(root, 0), "scaleid", &v))
		return at_fail(err, AT_BADREQ, "scale configuration: not an array starting with"
			       " {\"scaleid\":...}");
	for (size_t i = 1; i < json_object_array_length(root); i++) {
		int64_t id = 0;
		bool def = false, prof = false;

		it = json_object_array_get_idx(root, i);
		if (!json_object_is_type(it, json_type_object) ||
		    !json_object_object_get_ex(it, "id", &v) || !int_of(v, &id))
			return at_fail(err, AT_BADREQ, "scale configuration: [%zu].id: missing", i);
		if (id < 1 || (size_t)id > n)
			return at_fail(err, AT_BADREQ, "scale configuration: [%zu].id %lld is not a"
				       " scale value (1 to %zu)", i, (long long)id, n);
		if ((json_object_object_get_ex(it, "scaledefault", &v) && !flag_of(v, &def)) ||
		    (json_object_object_get_ex(it, "proficient", &v) && !flag_of(v, &prof)))
			return at_fail(err, AT_BADREQ, "scale configuration: [%zu]: scaledefault"
				       " and proficient must be 0 or 1", i);
		out->items[id - 1].is_default = out->items[id - 1].is_default || def;
		out->items[id - 1].proficient = out->items[id - 1].proficient || prof;
	}
	return framework_scale_check(out, err);
}

/* The Moodle scale configuration for s: only the values that are default or proficient. */
static char *scale_config(struct arena *a, const struct framework_scale *s)
{
	struct json_object *arr = json_object_new_array(), *o;
	char *txt;

	o = json_object_new_object();
	json_object_object_add(o, "scaleid", json_object_new_string("0"));
	json_object_array_add(arr, o);
	for (size_t i = 0; i < s->n; i++) {
		if (!s->items[i].is_default && !s->items[i].proficient)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "id", json_object_new_int64((int64_t)i + 1));
		json_object_object_add(o, "scaledefault",
				       json_object_new_int(s->items[i].is_default ? 1 : 0));
		json_object_object_add(o, "proficient",
				       json_object_new_int(s->items[i].proficient ? 1 : 0));
		json_object_array_add(arr, o);
	}
	txt = framework_json_str(a, arr);
	json_object_put(arr);
	return txt;
}

static char *scale_values(struct arena *a, const struct framework_scale *s)
{
	struct buf b;
	char *r;

	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < s->n; i++) {
		if (i > 0)
			(void)buf_append(&b, ",", 1);
		(void)buf_puts(&b, s->items[i].name);
	}
	r = arena_strdup(a, buf_cstr(&b));
	buf_cleanup(&b);
	return r;
}

/* The stored text (values, config) if it still describes s, else freshly written. */
static void scale_text(struct arena *a, const struct framework_scale *s, const char *sv,
		       const char *sc, const char **out_sv, const char **out_sc)
{
	struct framework_scale old;

	if (sv != NULL && sc != NULL && fw_moodle_scale(a, sv, sc, &old, NULL) == AT_OK &&
	    framework_scale_equal(&old, s)) {
		*out_sv = sv;
		*out_sc = sc;
		return;
	}
	*out_sv = scale_values(a, s);
	*out_sc = scale_config(a, s);
}

/* ---- parsing ---- */

static bool truthy(const char *s)
{
	return *s != '\0' && strcmp(s, "0") != 0;	/* PHP's idea of true */
}

static bool digits(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The competency meta object (borrowed from a) and its string members. */
static struct json_object *meta_obj(struct arena *a, const char *meta)
{
	struct json_object *o = NULL;

	if (meta != NULL && *meta == '{')
		o = framework_json_parse(a, meta, strlen(meta), "meta", NULL);
	return o && json_object_is_type(o, json_type_object) ? o : NULL;
}

static const char *mstr(struct json_object *m, const char *key, const char *def)
{
	struct json_object *v;

	if (m == NULL || !json_object_object_get_ex(m, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return def;
	return json_object_get_string(v);	/* borrowed: lives as long as the arena */
}

/* The "xid" (Moodle exported id) of every competency, "" when absent. */
static const char **xids_of(struct arena *a, const struct framework_tree *t)
{
	const char **x = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*x));

	for (size_t i = 0; i < t->n; i++)
		x[i] = mstr(meta_obj(a, t->by_order[i]->meta), "xid", "");
	return x;
}

static void meta_set(struct json_object *m, const char *k, const char *v)
{
	json_object_object_add(m, k, json_object_new_string(v));
}

/* Moodle points config (children by exported id) -> our rule, using the xid map. */
static enum at_rc points_from_moodle(struct arena *a, const char *text,
				     const struct framework_tree *t, const char **xids,
				     struct framework_rule *out, struct at_err *err)
{
	struct json_object *root, *list, *it, *v, *conv, *clist;
	enum at_rc rc;
	char *txt;

	root = framework_json_parse(a, text, strlen(text), "rule config", err);
	if (root == NULL)
		return AT_BADREQ;
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "competencies", &list) ||
	    !json_object_is_type(list, json_type_array))
		return at_fail(err, AT_BADREQ, "rule config: competencies must be an array");
	conv = json_object_new_object();
	clist = json_object_new_array();
	if (json_object_object_get_ex(root, "base", &v))
		json_object_object_add(conv, "base", json_object_get(v));
	json_object_object_add(conv, "competencies", clist);
	rc = AT_OK;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *o;
		const char *xid = NULL;
		struct framework_comp *hit = NULL;
		int64_t idv = 0;

		it = json_object_array_get_idx(list, i);
		if (!json_object_is_type(it, json_type_object) ||
		    !json_object_object_get_ex(it, "id", &v) || !int_of(v, &idv)) {
			rc = at_fail(err, AT_BADREQ, "rule config: competencies[%zu].id: missing", i);
			break;
		}
		xid = arena_printf(a, "%lld", (long long)idv);
		for (size_t k = 0; k < t->n && hit == NULL; k++)
			if (strcmp(xids[k], xid) == 0)
				hit = t->by_order[k];
		if (hit == NULL) {
			rc = at_fail(err, AT_BADREQ, "rule config: competency id %s is not an"
				     " exported id in this file", xid);
			break;
		}
		o = json_object_new_object();
		json_object_object_add(o, "idnumber", json_object_new_string(hit->idnumber));
		if (json_object_object_get_ex(it, "points", &v))
			json_object_object_add(o, "points", json_object_get(v));
		if (json_object_object_get_ex(it, "required", &v))
			json_object_object_add(o, "required", json_object_get(v));
		json_object_array_add(clist, o);
	}
	txt = framework_json_str(a, conv);
	json_object_put(conv);
	if (rc != AT_OK)
		return rc;
	return framework_rule_parse(a, "points", txt, out, err);
}

static enum at_rc check_taxonomies(const char *s, size_t line, struct at_err *err)
{
	while (*s) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		bool ok = false;

		for (size_t i = 0; i < NELEM(TAXONOMIES) && !ok; i++)
			ok = strlen(TAXONOMIES[i]) == len && memcmp(TAXONOMIES[i], s, len) == 0;
		if (!ok)
			return at_fail(err, AT_BADREQ, "line %zu: unknown taxonomy term '%.*s'"
				       " (behaviour, competency, concept, domain, indicator, level,"
				       " outcome, practice, proficiency, skill, value)", line,
				       (int)(len > 40 ? 40 : len), s);
		s = e ? e + 1 : s + len;
	}
	return AT_OK;
}

static enum at_rc parse_framework_row(struct arena *a, struct framework_tree *t, char **f,
				      size_t line, struct at_err *err)
{
	struct json_object *src;
	enum at_rc rc;
	char msg[sizeof(err->msg)];

	t->fw.idnumber = f[C_IDNUMBER];
	t->fw.shortname = f[C_SHORTNAME];
	t->fw.description = f[C_DESC];
	t->fw.taxonomies = f[C_TAXONOMY];
	if (*f[C_IDNUMBER] == '\0')
		return at_fail(err, AT_BADREQ, "line %zu: framework id number: missing", line);
	if (*f[C_SHORTNAME] == '\0')
		return at_fail(err, AT_BADREQ, "line %zu: framework short name: missing", line);
	if (!digits(f[C_DESCFMT], 2))
		return at_fail(err, AT_BADREQ, "line %zu: description format '%.20s' is not a"
			       " number", line, f[C_DESCFMT]);
	rc = fw_moodle_scale(a, f[C_SCALEVALUES], f[C_SCALECFG], &t->fw.scale, err);
	if (rc != AT_OK) {
		snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
		return at_fail(err, rc, "line %zu: %s", line, msg);
	}
	rc = check_taxonomies(f[C_TAXONOMY], line, err);
	if (rc != AT_OK)
		return rc;
	src = json_object_new_object();
	meta_set(src, "format", "moodle-csv");
	meta_set(src, "descformat", f[C_DESCFMT]);
	meta_set(src, "scalecfg", f[C_SCALECFG]);
	t->fw.source = framework_json_str(a, src);
	json_object_put(src);
	return AT_OK;
}

static enum at_rc parse_comp_row(struct arena *a, struct framework_comp *c, char **f,
				 size_t line, struct at_err *err)
{
	struct json_object *m;
	enum at_rc rc = AT_OK;
	char msg[sizeof(err->msg)];

	c->where = arena_printf(a, "line %zu", line);
	c->parent_idnumber = f[C_PARENT];
	c->idnumber = f[C_IDNUMBER];
	c->shortname = f[C_SHORTNAME];
	c->description = f[C_DESC];
	if (*c->idnumber == '\0')
		return at_fail(err, AT_BADREQ, "line %zu: id number: missing", line);
	if (*c->shortname == '\0')
		return at_fail(err, AT_BADREQ, "line %zu: short name: missing", line);
	if (!digits(f[C_DESCFMT], 2))
		return at_fail(err, AT_BADREQ, "line %zu: description format '%.20s' is not a"
			       " number", line, f[C_DESCFMT]);
	if (!digits(f[C_RULEOUTCOME], 1) || (*f[C_RULEOUTCOME] && f[C_RULEOUTCOME][0] > '3'))
		return at_fail(err, AT_BADREQ, "line %zu: rule outcome '%.20s' is not 0, 1, 2"
			       " or 3", line, f[C_RULEOUTCOME]);
	if (!digits(f[C_EXPORTID], 18))
		return at_fail(err, AT_BADREQ, "line %zu: exported id '%.20s' is not a number",
			       line, f[C_EXPORTID]);
	if (*f[C_SCALEVALUES] != '\0') {
		c->scale = arena_zalloc(a, sizeof(*c->scale));
		rc = fw_moodle_scale(a, f[C_SCALEVALUES], f[C_SCALECFG], c->scale, err);
		if (rc != AT_OK) {
			snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
			return at_fail(err, rc, "line %zu: %s", line, msg);
		}
	} else if (*f[C_SCALECFG] != '\0') {
		return at_fail(err, AT_BADREQ, "line %zu: scale configuration without scale"
			       " values", line);
	}
	if (*f[C_RULETYPE] == '\0') {
		c->rule.type = FRAMEWORK_RULE_NONE;
	} else if (strcmp(f[C_RULETYPE], RULE_ALL) == 0) {
		c->rule.type = FRAMEWORK_RULE_ALL;
	} else if (strcmp(f[C_RULETYPE], RULE_POINTS) == 0) {
		c->rule.type = FRAMEWORK_RULE_POINTS;
		c->rule_src = f[C_RULECONFIG];
	} else {
		return at_fail(err, AT_BADREQ, "line %zu: unknown rule type '%.60s'", line,
			       f[C_RULETYPE]);
	}
	if (c->rule.type != FRAMEWORK_RULE_POINTS && *f[C_RULECONFIG] != '\0' &&
	    strcmp(f[C_RULECONFIG], "null") != 0)
		return at_fail(err, AT_BADREQ, "line %zu: rule config must be null for this rule"
			       " type", line);
	m = json_object_new_object();
	meta_set(m, "descformat", f[C_DESCFMT]);
	meta_set(m, "outcome", f[C_RULEOUTCOME]);
	if (*f[C_RELATED])
		meta_set(m, "related", f[C_RELATED]);
	if (*f[C_EXPORTID])
		meta_set(m, "xid", f[C_EXPORTID]);
	if (*f[C_RULECONFIG] && c->rule.type == FRAMEWORK_RULE_POINTS)
		meta_set(m, "rc", f[C_RULECONFIG]);
	if (c->scale != NULL) {
		meta_set(m, "sv", f[C_SCALEVALUES]);
		meta_set(m, "sc", f[C_SCALECFG]);
		meta_set(m, "scale", framework_scale_json(a, c->scale));
	}
	c->meta = framework_json_str(a, m);
	json_object_put(m);
	return AT_OK;
}

static int cmp_str(const void *p, const void *q)
{
	return strcmp(*(const char *const *)p, *(const char *const *)q);
}

/* After all rows: exported ids unique, points configs mapped, cross references known. */
static enum at_rc resolve_refs(struct arena *a, struct framework_tree *t, struct at_err *err)
{
	enum at_rc rc;
	char msg[sizeof(err->msg)];
	const char **x = xids_of(a, t), **sorted;

	/* exported ids are unique: sort a copy, report the later of two equal ones */
	sorted = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*sorted));
	memcpy(sorted, x, t->n * sizeof(*sorted));
	qsort(sorted, t->n, sizeof(*sorted), cmp_str);
	for (size_t i = 1; i < t->n; i++) {
		if (*sorted[i] == '\0' || strcmp(sorted[i - 1], sorted[i]) != 0)
			continue;
		for (size_t k = 0, first = t->n; k < t->n; k++) {
			if (strcmp(x[k], sorted[i]) != 0)
				continue;
			if (first == t->n) {
				first = k;
				continue;
			}
			return at_fail(err, AT_BADREQ, "%s: exported id %s is used twice (first"
				       " at %s)", t->by_order[k]->where, x[k],
				       t->by_order[first]->where);
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		struct framework_comp *c = t->by_order[i];
		const char *rel;

		if (c->rule.type == FRAMEWORK_RULE_POINTS) {
			rc = points_from_moodle(a, c->rule_src ? c->rule_src : "", t, x, &c->rule,
						err);
			if (rc != AT_OK) {
				snprintf(msg, sizeof(msg), "%s", err ? err->msg : "");
				return at_fail(err, rc, "%s: %s", c->where, msg);
			}
		}
		rel = mstr(meta_obj(a, c->meta), "related", "");
		while (*rel) {
			const char *e = strchr(rel, ',');
			size_t len = e ? (size_t)(e - rel) : strlen(rel);
			struct buf b;
			bool found;

			buf_init(&b, 4096);
			for (size_t k = 0; k < len; k++) {
				if (k + 3 <= len && strncmp(rel + k, "%2C", 3) == 0) {
					(void)buf_append(&b, ",", 1);
					k += 2;
				} else {
					(void)buf_append(&b, rel + k, 1);
				}
			}
			found = framework_tree_find(t, buf_cstr(&b)) != NULL;
			if (!found)
				at_fail(err, AT_BADREQ, "%s: cross-referenced id number '%.60s' not"
					" found", c->where, buf_cstr(&b));
			buf_cleanup(&b);
			if (!found)
				return AT_BADREQ;
			rel = e ? e + 1 : rel + len;
		}
	}
	return AT_OK;
}

enum at_rc fw_moodle_parse(struct arena *a, const char *data, size_t len,
			   struct framework_tree **out, struct at_err *err)
{
	struct framework_tree *t = arena_zalloc(a, sizeof(*t));
	struct csv cs = { data, data + len, 1 };
	char **f = NULL;
	size_t nf = 0, line = 0, cap = 64, fwline = 0;
	enum at_rc rc;
	bool header = false;

	t->notes = "";
	rc = framework_check_text(data, len, err);
	if (rc != AT_OK)
		return rc;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		cs.p += 3;
	t->by_order = arena_alloc(a, cap * sizeof(*t->by_order));
	for (;;) {
		struct framework_comp *c;

		rc = csv_record(a, &cs, &f, &nf, &line, err);
		if (rc != AT_OK)
			return rc;
		if (nf == 0)
			break;
		if (nf == 1 && *f[0] == '\0')
			continue;	/* blank line */
		if (nf != NCOLS)
			return at_fail(err, AT_BADREQ, "line %zu: expected %d columns, found %zu",
				       line, NCOLS, nf);
		if (!header) {
			header = true;
			continue;
		}
		if (truthy(f[C_ISFRAMEWORK])) {
			if (fwline != 0)
				return at_fail(err, AT_BADREQ, "line %zu: a second framework row"
					       " (the first is on line %zu)", line, fwline);
			fwline = line;
			rc = parse_framework_row(a, t, f, line, err);
			if (rc != AT_OK)
				return rc;
			continue;
		}
		if (t->n == cap) {
			struct framework_comp **bigger = arena_alloc(a, 2 * cap * sizeof(*bigger));

			memcpy(bigger, t->by_order, cap * sizeof(*bigger));
			t->by_order = bigger;
			cap *= 2;
		}
		c = arena_zalloc(a, sizeof(*c));
		rc = parse_comp_row(a, c, f, line, err);
		if (rc != AT_OK)
			return rc;
		t->by_order[t->n++] = c;
	}
	if (!header)
		return at_fail(err, AT_BADREQ, "the file is empty");
	if (fwline == 0)
		return at_fail(err, AT_BADREQ, "no framework row (a row with \"Is framework\""
			       " set to 1)");
	rc = resolve_refs(a, t, err);
	if (rc != AT_OK)
		return rc;
	rc = framework_tree_link(a, t, err);
	if (rc != AT_OK)
		return rc;
	*out = t;
	return AT_OK;
}

/* ---- writing ---- */

/* One field, quoted as PHP's fputcsv does. */
static enum at_rc put_field(struct buf *b, const char *s, bool last)
{
	enum at_rc rc = AT_OK;

	if (strpbrk(s, " \t\r\n,\"\\") != NULL) {
		rc = buf_append(b, "\"", 1);
		for (const char *p = s; rc == AT_OK && *p; p++)
			rc = *p == '"' ? buf_append(b, "\"\"", 2) : buf_append(b, p, 1);
		if (rc == AT_OK)
			rc = buf_append(b, "\"", 1);
	} else {
		rc = buf_puts(b, s);
	}
	if (rc == AT_OK)
		rc = buf_append(b, last ? "\n" : ",", 1);
	return rc;
}

static enum at_rc put_row(struct buf *b, const char *const *f)
{
	enum at_rc rc = AT_OK;

	for (int i = 0; rc == AT_OK && i < NCOLS; i++)
		rc = put_field(b, f[i] ? f[i] : "", i == NCOLS - 1);
	return rc;
}

/* Exported id of each competency: the stored Moodle ids when all are present and
 * distinct (a byte-identical round trip), else Attest's ids. */
static const char **export_ids(struct arena *a, const struct framework_tree *t,
			       const char **stored)
{
	const char **x = stored, **sorted;
	bool ok = true;

	sorted = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*sorted));
	memcpy(sorted, x, t->n * sizeof(*sorted));
	qsort(sorted, t->n, sizeof(*sorted), cmp_str);
	for (size_t i = 0; ok && i < t->n; i++)
		ok = *sorted[i] != '\0' && (i == 0 || strcmp(sorted[i - 1], sorted[i]) != 0);
	if (ok)
		return stored;
	x = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*x));
	for (size_t i = 0; i < t->n; i++)
		x[i] = arena_printf(a, "%lld", (long long)t->by_order[i]->id);
	return x;
}

static const char *xid_of(const struct framework_tree *t, const char **x, const char *idn)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->by_order[i]->idnumber, idn) == 0)
			return x[i];
	return "0";
}

static bool rule_equal(const struct framework_rule *p, const struct framework_rule *q)
{
	if (p->type != q->type || p->base != q->base || p->n != q->n)
		return false;
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->items[i].idnumber, q->items[i].idnumber) != 0 ||
		    p->items[i].points != q->items[i].points ||
		    p->items[i].required != q->items[i].required)
			return false;
	return true;
}

static const char *rule_config(struct arena *a, const struct framework_tree *t,
			       const char **x, const char **stored, struct json_object *m,
			       const struct framework_comp *c)
{
	struct json_object *root, *base, *list;
	struct framework_rule old;
	const char *raw;
	char *txt;

	if (c->rule.type != FRAMEWORK_RULE_POINTS)
		return "null";
	raw = mstr(m, "rc", NULL);
	/* the stored text, if it names the exported ids written now and means the same */
	if (raw != NULL && x == stored &&
	    points_from_moodle(a, raw, t, stored, &old, NULL) == AT_OK &&
	    rule_equal(&old, &c->rule))
		return raw;
	root = json_object_new_object();
	base = json_object_new_object();
	list = json_object_new_array();
	json_object_object_add(base, "points", json_object_new_int64(c->rule.base));
	json_object_object_add(root, "base", base);
	for (size_t i = 0; i < c->rule.n; i++) {
		struct json_object *o = json_object_new_object();
		const char *id = xid_of(t, x, c->rule.items[i].idnumber);
		int64_t n = 0;

		for (; *id; id++)
			n = n * 10 + (*id - '0');
		json_object_object_add(o, "id", json_object_new_int64(n));
		json_object_object_add(o, "points", json_object_new_int64(c->rule.items[i].points));
		json_object_object_add(o, "required",
				       json_object_new_int(c->rule.items[i].required ? 1 : 0));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, "competencies", list);
	txt = framework_json_str(a, root);
	json_object_put(root);
	return txt;
}

static enum at_rc put_comp(struct arena *a, struct buf *b, const struct framework_tree *t,
			   const char **x, const char **stored, size_t i)
{
	const struct framework_comp *c = t->by_order[i];
	const char *f[NCOLS] = { NULL };
	const char *rt = "";
	struct json_object *m = meta_obj(a, c->meta);

	f[C_PARENT] = c->parent ? c->parent->idnumber : "";
	f[C_IDNUMBER] = c->idnumber;
	f[C_SHORTNAME] = c->shortname;
	f[C_DESC] = c->description;
	f[C_DESCFMT] = mstr(m, "descformat", "1");
	if (c->scale != NULL)
		scale_text(a, c->scale, mstr(m, "sv", NULL), mstr(m, "sc", NULL),
			   &f[C_SCALEVALUES], &f[C_SCALECFG]);
	if (c->rule.type == FRAMEWORK_RULE_ALL)
		rt = RULE_ALL;
	else if (c->rule.type == FRAMEWORK_RULE_POINTS)
		rt = RULE_POINTS;
	f[C_RULETYPE] = rt;
	f[C_RULEOUTCOME] = mstr(m, "outcome", "0");
	f[C_RULECONFIG] = rule_config(a, t, x, stored, m, c);
	f[C_RELATED] = mstr(m, "related", "");
	f[C_EXPORTID] = x[i];
	f[C_ISFRAMEWORK] = "";
	f[C_TAXONOMY] = "";
	return put_row(b, f);
}

enum at_rc fw_moodle_write(struct arena *a, const struct framework_tree *t, char **out,
			   size_t *len, struct at_err *err)
{
	struct buf b;
	const char *f[NCOLS] = { NULL };
	const char **stored = xids_of(a, t), **x = export_ids(a, t, stored);
	bool *done = arena_zalloc(a, (t->n ? t->n : 1) * sizeof(*done));
	size_t *stack = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*stack));
	enum at_rc rc;

	buf_init(&b, 4 * (size_t)FRAMEWORK_MAX_FILE);
	rc = buf_puts(&b, HEADER);
	f[C_IDNUMBER] = t->fw.idnumber;
	f[C_SHORTNAME] = t->fw.shortname;
	f[C_DESC] = t->fw.description;
	f[C_DESCFMT] = framework_meta_str(a, t->fw.source, "descformat", "1");
	scale_text(a, &t->fw.scale, scale_values(a, &t->fw.scale),
		   framework_meta_str(a, t->fw.source, "scalecfg", NULL), &f[C_SCALEVALUES],
		   &f[C_SCALECFG]);
	f[C_ISFRAMEWORK] = "1";
	f[C_TAXONOMY] = t->fw.taxonomies;
	if (rc == AT_OK)
		rc = put_row(&b, f);
	/* id order, but a parent always before its children (Moodle's importer does not
	 * need it; other readers may) */
	for (size_t i = 0; rc == AT_OK && i < t->n; i++) {
		size_t sp = 0;
		const struct framework_comp *c = t->by_order[i];

		if (done[i])
			continue;
		for (; c != NULL; c = c->parent) {
			size_t k = c->order;

			if (done[k])
				break;
			stack[sp++] = k;
		}
		while (rc == AT_OK && sp > 0) {
			size_t k = stack[--sp];

			done[k] = true;
			rc = put_comp(a, &b, t, x, stored, k);
		}
	}
	if (rc != AT_OK) {
		at_fail(err, rc, "the export is too large");
		goto out;
	}
	*len = b.len;
	*out = arena_strndup(a, buf_cstr(&b), b.len);
out:
	buf_cleanup(&b);
	return rc;
}
