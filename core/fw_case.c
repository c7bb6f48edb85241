/* fw_case.c: 1EdTech CASE 1.0 CFPackage JSON (https://www.imsglobal.org/spec/case/v1p0/),
 * both ways.
 *
 * Import: CFDocument -> framework (identifier -> id number, title -> short name,
 * description); CFItems -> competencies; CFAssociations of type isChildOf -> the tree
 * (origin = child, destination = parent item or the document for the top level;
 * sequenceNumber orders siblings); other association types are ignored with a note, as is
 * a second isChildOf of one item (Attest keeps one parent). Id numbers: the items'
 * humanCodingScheme when every item has one and they are distinct, else every item's
 * identifier (one rule per package, so id numbers never mix). Short name:
 * abbreviatedStatement, else fullStatement cut to 100 characters; description:
 * fullStatement. Scale: the levels of the first criterion of the first CFRubric, lowest
 * score first; a level is proficient / the default when its description says
 * "proficient" / "proficient, default" (what the export writes), else the upper half is
 * proficient and its lowest level the default. Without a rubric: Not yet competent /
 * Competent (proficient, default). The CFDocument and each item's identifier, uri and
 * CFItemType are kept so an export writes them back.
 *
 * Export: identifiers are the stored ones; else the id number when it is a UUID; else a
 * name-based v5 UUID (SHA-1) of "competency:<framework idnumber>\n<idnumber>" (items),
 * "framework:<idnumber>" (document), "isChildOf:<child>:<parent>" (associations) in
 * Attest's namespace FW_CASE_NS — so repeated exports carry the same identifiers. URIs
 * are the stored ones or "urn:uuid:<identifier>". sequenceNumber is sortorder + 1.
 */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/framework.h"

/* Attest's namespace for v5 UUIDs (fixed forever: changing it changes every export). */
static const unsigned char FW_CASE_NS[16] = {
	0x8f, 0x6d, 0x2a, 0x4e, 0x61, 0x3b, 0x5c, 0x1d,
	0x9e, 0x27, 0x40, 0x5a, 0x0b, 0x7c, 0x33, 0xe1,
};

char *fw_case_uuid(struct arena *a, const char *name)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char *out;

	AT_ASSERT(ctx != NULL);
	AT_ASSERT(EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		  EVP_DigestUpdate(ctx, FW_CASE_NS, sizeof(FW_CASE_NS)) == 1 &&
		  EVP_DigestUpdate(ctx, name, strlen(name)) == 1 &&
		  EVP_DigestFinal_ex(ctx, md, &mdlen) == 1);
	EVP_MD_CTX_free(ctx);
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);	/* version 5 */
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	out = arena_printf(a, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			   "%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4], md[5],
			   md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13], md[14],
			   md[15]);
	return out;
}

static bool is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return false;
	}
	return true;
}

/* ---- import ---- */

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* A required non-empty string member, or NULL with err "<path>.<key>: missing". */
static const char *need_str(struct json_object *o, const char *key, const char *path,
			    struct at_err *err)
{
	const char *s = get_str(o, key);

	if (s == NULL || *s == '\0')
		at_fail(err, AT_BADREQ, "%s.%s: missing", path, key);
	return s && *s ? s : NULL;
}

/* First n UTF-8 characters of s. */
static char *utf8_cut(struct arena *a, const char *s, size_t n)
{
	size_t i = 0, chars = 0;

	while (s[i]) {
		if (((unsigned char)s[i] & 0xc0) != 0x80) {
			if (chars == n)
				break;
			chars++;
		}
		i++;
	}
	return arena_strndup(a, s, i);
}

struct item {
	struct framework_comp *c;
	const char *ident, *hcs;
	int64_t seq;		/* sequenceNumber of its isChildOf, INT64_MAX if none */
	size_t index;
};

static int cmp_item(const void *x, const void *y)
{
	const struct item *p = x, *q = y;

	if (p->seq != q->seq)
		return p->seq < q->seq ? -1 : 1;
	return p->index < q->index ? -1 : p->index > q->index;
}

static int cmp_ident(const void *x, const void *y)
{
	const struct item *const *p = x, *const *q = y;

	return strcmp((*p)->ident, (*q)->ident);
}

static struct item *find_item(struct item **ix, size_t n, const char *ident)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix[mid]->ident, ident);

		if (c == 0)
			return ix[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void note(struct arena *a, struct framework_tree *t, const char *msg)
{
	t->notes = arena_printf(a, "%snote: %s\n", t->notes, msg);
}

static enum at_rc parse_rubric(struct arena *a, struct json_object *root,
			       struct framework_tree *t, struct at_err *err)
{
	struct json_object *rubrics, *crit, *levels;
	struct framework_scale *s = &t->fw.scale;
	size_t n;
	bool marked = true;
	int64_t *key;

	if (!json_object_object_get_ex(root, "CFRubrics", &rubrics) ||
	    !json_object_is_type(rubrics, json_type_array) ||
	    json_object_array_length(rubrics) == 0) {
		s->n = 2;
		s->items = arena_zalloc(a, 2 * sizeof(*s->items));
		s->items[0].name = "Not yet competent";
		s->items[1].name = "Competent";
		s->items[1].proficient = s->items[1].is_default = true;
		note(a, t, "no CFRubrics: using the scale Not yet competent, Competent");
		return AT_OK;
	}
	if (!json_object_object_get_ex(json_object_array_get_idx(rubrics, 0), "CFRubricCriteria",
				       &crit) || !json_object_is_type(crit, json_type_array) ||
	    json_object_array_length(crit) == 0)
		return at_fail(err, AT_BADREQ, "$.CFRubrics[0].CFRubricCriteria: missing");
	if (!json_object_object_get_ex(json_object_array_get_idx(crit, 0),
				       "CFRubricCriterionLevels", &levels) ||
	    !json_object_is_type(levels, json_type_array) ||
	    json_object_array_length(levels) == 0)
		return at_fail(err, AT_BADREQ, "$.CFRubrics[0].CFRubricCriteria[0]."
			       "CFRubricCriterionLevels: missing");
	n = json_object_array_length(levels);
	if (n > FRAMEWORK_MAX_SCALE)
		return at_fail(err, AT_BADREQ, "$.CFRubrics[0]: more than %d levels",
			       FRAMEWORK_MAX_SCALE);
	s->n = n;
	s->items = arena_zalloc(a, n * sizeof(*s->items));
	key = arena_alloc(a, n * sizeof(*key));
	for (size_t i = 0; i < n; i++) {
		struct json_object *lv = json_object_array_get_idx(levels, i), *v;
		const char *name = get_str(lv, "quality"), *d = get_str(lv, "description");

		if (name == NULL || *name == '\0')
			name = d;
		if (name == NULL || *name == '\0')
			return at_fail(err, AT_BADREQ, "$.CFRubrics[0].CFRubricCriteria[0]."
				       "CFRubricCriterionLevels[%zu].quality: missing", i);
		s->items[i].name = arena_strdup(a, name);
		key[i] = (int64_t)i;
		if ((json_object_object_get_ex(lv, "score", &v) ||
		     json_object_object_get_ex(lv, "position", &v)) &&
		    (json_object_is_type(v, json_type_int) ||
		     json_object_is_type(v, json_type_double)))
			key[i] = (int64_t)(json_object_get_double(v) * 1000);
		if (d != NULL && (strcmp(d, "proficient") == 0 ||
				  strcmp(d, "proficient, default") == 0)) {
			s->items[i].proficient = true;
			s->items[i].is_default = d[10] != '\0';
		} else if (d != NULL && (strcmp(d, "not proficient") == 0 ||
					 strcmp(d, "not proficient, default") == 0)) {
			s->items[i].is_default = d[14] != '\0';
		} else {
			marked = false;
		}
	}
	/* lowest first (insertion sort: small n, stable) */
	for (size_t i = 1; i < n; i++) {
		for (size_t k = i; k > 0 && key[k - 1] > key[k]; k--) {
			struct framework_scale_item tmp = s->items[k];
			int64_t tk = key[k];

			s->items[k] = s->items[k - 1];
			s->items[k - 1] = tmp;
			key[k] = key[k - 1];
			key[k - 1] = tk;
		}
	}
	if (!marked) {
		for (size_t i = 0; i < n; i++) {
			s->items[i].proficient = i >= n / 2;
			s->items[i].is_default = i == n / 2;
		}
		note(a, t, "CFRubrics levels carry no proficiency: the upper half counts as"
		     " proficient, its lowest level is the default");
	}
	return framework_scale_check(s, err);
}

enum at_rc fw_case_parse(struct arena *a, const char *data, size_t len,
			 struct framework_tree **out, struct at_err *err)
{
	struct framework_tree *t = arena_zalloc(a, sizeof(*t));
	struct json_object *root, *doc, *items, *assocs, *src, *v, *ignored;
	struct item *it = NULL, **ix = NULL;
	size_t n = 0, nassoc = 0, multi = 0;
	const char *doc_id;
	bool use_hcs = true;
	enum at_rc rc;

	t->notes = "";
	rc = framework_check_text(data, len, err);
	if (rc != AT_OK)
		return rc;
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	root = framework_json_parse(a, data, len, "$", err);
	if (root == NULL)
		return AT_BADREQ;
	if (!json_object_is_type(root, json_type_object))
		return at_fail(err, AT_BADREQ, "$: not a JSON object (a CFPackage)");
	if (!json_object_object_get_ex(root, "CFDocument", &doc) ||
	    !json_object_is_type(doc, json_type_object))
		return at_fail(err, AT_BADREQ, "$.CFDocument: missing");
	doc_id = need_str(doc, "identifier", "$.CFDocument", err);
	if (doc_id == NULL)
		return AT_BADREQ;
	t->fw.idnumber = doc_id;
	t->fw.shortname = need_str(doc, "title", "$.CFDocument", err);
	if (t->fw.shortname == NULL)
		return AT_BADREQ;
	t->fw.description = get_str(doc, "description") ? get_str(doc, "description") : "";
	t->fw.taxonomies = "";
	rc = parse_rubric(a, root, t, err);
	if (rc != AT_OK)
		return rc;
	src = json_object_new_object();
	json_object_object_add(src, "format", json_object_new_string("case"));
	json_object_object_add(src, "case", json_object_get(doc));
	t->fw.source = framework_json_str(a, src);
	json_object_put(src);

	/* items */
	if (json_object_object_get_ex(root, "CFItems", &items)) {
		if (!json_object_is_type(items, json_type_array))
			return at_fail(err, AT_BADREQ, "$.CFItems: not an array");
		n = json_object_array_length(items);
	}
	it = arena_zalloc(a, (n ? n : 1) * sizeof(*it));
	ix = arena_alloc(a, (n ? n : 1) * sizeof(*ix));
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(items, i);
		char path[64];
		const char *full, *abbr;
		struct framework_comp *c = arena_zalloc(a, sizeof(*c));

		snprintf(path, sizeof(path), "$.CFItems[%zu]", i);
		if (!json_object_is_type(o, json_type_object))
			return at_fail(err, AT_BADREQ, "%s: not an object", path);
		it[i].ident = need_str(o, "identifier", path, err);
		if (it[i].ident == NULL)
			return AT_BADREQ;
		full = need_str(o, "fullStatement", path, err);
		if (full == NULL)
			return AT_BADREQ;
		abbr = get_str(o, "abbreviatedStatement");
		it[i].hcs = get_str(o, "humanCodingScheme");
		if (it[i].hcs == NULL || *it[i].hcs == '\0')
			use_hcs = false;
		it[i].c = c;
		it[i].seq = INT64_MAX;
		it[i].index = i;
		c->where = arena_strdup(a, path);
		c->description = full;
		c->shortname = abbr && *abbr ? abbr : utf8_cut(a, full, 100);
		c->parent_idnumber = "";
		{
			struct json_object *m = json_object_new_object(), *cm;

			cm = json_object_new_object();
			json_object_object_add(cm, "identifier", json_object_new_string(it[i].ident));
			if (get_str(o, "uri"))
				json_object_object_add(cm, "uri",
						       json_object_new_string(get_str(o, "uri")));
			if (get_str(o, "CFItemType"))
				json_object_object_add(cm, "type", json_object_new_string(
							       get_str(o, "CFItemType")));
			if (it[i].hcs && *it[i].hcs)
				json_object_object_add(cm, "hcs", json_object_new_string(it[i].hcs));
			if (abbr && *abbr)
				json_object_object_add(cm, "abbr", json_object_new_string("1"));
			json_object_object_add(m, "case", cm);
			c->meta = framework_json_str(a, m);
			json_object_put(m);
		}
		ix[i] = &it[i];
	}
	qsort(ix, n, sizeof(*ix), cmp_ident);
	for (size_t i = 1; i < n; i++)
		if (strcmp(ix[i - 1]->ident, ix[i]->ident) == 0) {
			const struct item *x = ix[i - 1]->index < ix[i]->index ? ix[i - 1] : ix[i];
			const struct item *y = x == ix[i] ? ix[i - 1] : ix[i];

			return at_fail(err, AT_BADREQ, "%s.identifier: duplicate '%s' (first at %s)",
				       y->c->where, y->ident, x->c->where);
		}
	if (use_hcs && n > 0) {
		struct item **hx = arena_alloc(a, n * sizeof(*hx));

		for (size_t i = 0; i < n; i++)
			hx[i] = &it[i];
		for (size_t i = 0; i < n && use_hcs; i++)
			for (size_t k = 0; k < i && use_hcs; k++)
				use_hcs = strcmp(hx[i]->hcs, hx[k]->hcs) != 0 &&
					  strlen(hx[i]->hcs) <= FRAMEWORK_MAX_IDNUMBER;
	}
	for (size_t i = 0; i < n; i++)
		it[i].c->idnumber = use_hcs ? it[i].hcs : it[i].ident;
	if (n > 0)
		note(a, t, use_hcs ? "id numbers are the items' humanCodingScheme"
				   : "id numbers are the items' identifiers (humanCodingScheme is"
				     " missing or not unique)");

	/* associations */
	ignored = json_object_new_object();
	if (json_object_object_get_ex(root, "CFAssociations", &assocs)) {
		if (!json_object_is_type(assocs, json_type_array)) {
			json_object_put(ignored);
			return at_fail(err, AT_BADREQ, "$.CFAssociations: not an array");
		}
		nassoc = json_object_array_length(assocs);
	}
	rc = AT_OK;
	for (size_t i = 0; i < nassoc && rc == AT_OK; i++) {
		struct json_object *o = json_object_array_get_idx(assocs, i), *on, *dn;
		char path[96];
		const char *type, *oid, *did;
		struct item *child, *parent;

		snprintf(path, sizeof(path), "$.CFAssociations[%zu]", i);
		if (!json_object_is_type(o, json_type_object)) {
			rc = at_fail(err, AT_BADREQ, "%s: not an object", path);
			break;
		}
		type = need_str(o, "associationType", path, err);
		if (type == NULL) {
			rc = AT_BADREQ;
			break;
		}
		if (strcmp(type, "isChildOf") != 0) {
			int64_t cnt = 0;

			if (json_object_object_get_ex(ignored, type, &v))
				cnt = json_object_get_int64(v);
			json_object_object_add(ignored, type, json_object_new_int64(cnt + 1));
			continue;
		}
		if (!json_object_object_get_ex(o, "originNodeURI", &on) ||
		    !json_object_is_type(on, json_type_object) ||
		    !json_object_object_get_ex(o, "destinationNodeURI", &dn) ||
		    !json_object_is_type(dn, json_type_object)) {
			rc = at_fail(err, AT_BADREQ, "%s: originNodeURI and destinationNodeURI must"
				     " be objects", path);
			break;
		}
		snprintf(path, sizeof(path), "$.CFAssociations[%zu].originNodeURI", i);
		oid = need_str(on, "identifier", path, err);
		snprintf(path, sizeof(path), "$.CFAssociations[%zu].destinationNodeURI", i);
		did = oid ? need_str(dn, "identifier", path, err) : NULL;
		if (oid == NULL || did == NULL) {
			rc = AT_BADREQ;
			break;
		}
		child = find_item(ix, n, oid);
		if (child == NULL) {
			rc = at_fail(err, AT_BADREQ, "$.CFAssociations[%zu].originNodeURI.identifier:"
				     " '%.60s' is not a CFItem of this package", i, oid);
			break;
		}
		parent = strcmp(did, doc_id) == 0 ? NULL : find_item(ix, n, did);
		if (parent == NULL && strcmp(did, doc_id) != 0) {
			rc = at_fail(err, AT_BADREQ, "$.CFAssociations[%zu].destinationNodeURI."
				     "identifier: '%.60s' is neither the CFDocument nor a CFItem",
				     i, did);
			break;
		}
		if (child->seq != INT64_MAX || *child->c->parent_idnumber != '\0' ||
		    child->c->rule_src != NULL) {
			multi++;
			continue;
		}
		child->c->parent_idnumber = parent ? parent->c->idnumber : "";
		child->c->rule_src = "linked";	/* marks "has a parent association" */
		child->seq = (int64_t)i + ((int64_t)1 << 40);
		if (json_object_object_get_ex(o, "sequenceNumber", &v) &&
		    json_object_is_type(v, json_type_int))
			child->seq = json_object_get_int64(v);
	}
	if (rc == AT_OK) {
		struct json_object_iterator p = json_object_iter_begin(ignored);
		struct json_object_iterator e = json_object_iter_end(ignored);

		for (; !json_object_iter_equal(&p, &e); json_object_iter_next(&p))
			note(a, t, arena_printf(a, "ignored %lld association(s) of type %s",
						(long long)json_object_get_int64(
							json_object_iter_peek_value(&p)),
						json_object_iter_peek_name(&p)));
		if (multi > 0)
			note(a, t, arena_printf(a, "ignored %zu further isChildOf association(s) of"
						" items that already have a parent", multi));
	}
	json_object_put(ignored);
	if (rc != AT_OK)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (it[i].c->rule_src == NULL)
			note(a, t, arena_printf(a, "%s has no isChildOf association: placed at the"
						" top level", it[i].c->where));
		it[i].c->rule_src = NULL;
	}
	/* siblings in sequenceNumber order: sort the items, keep file order on ties */
	qsort(it, n, sizeof(*it), cmp_item);
	t->n = n;
	t->by_order = arena_alloc(a, (n ? n : 1) * sizeof(*t->by_order));
	for (size_t i = 0; i < n; i++)
		t->by_order[i] = it[i].c;
	rc = framework_tree_link(a, t, err);
	if (rc != AT_OK)
		return rc;
	*out = t;
	return AT_OK;
}

/* ---- export ---- */

struct ctx {
	struct arena *a;
	const struct framework_tree *t;
	const char *when, *doc_id, *doc_uri;
	const char **ids, **uris;	/* per competency, by order */
};

static struct json_object *link_obj(const char *title, const char *id, const char *uri)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "title", json_object_new_string(title));
	json_object_object_add(o, "identifier", json_object_new_string(id));
	json_object_object_add(o, "uri", json_object_new_string(uri));
	return o;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static struct json_object *case_of(struct arena *a, const char *meta, const char *key)
{
	struct json_object *m, *c;

	if (meta == NULL || *meta != '{')
		return NULL;
	m = framework_json_parse(a, meta, strlen(meta), "meta", NULL);
	if (m == NULL || !json_object_object_get_ex(m, key, &c) ||
	    !json_object_is_type(c, json_type_object))
		return NULL;
	return c;
}

/* CFItemType from the framework's taxonomy term for a level ("domain" -> "Domain"). */
static const char *level_term(struct arena *a, const char *tax, int depth)
{
	const char *s = tax;
	char *r;

	for (int d = 1; d < depth && s != NULL; d++) {
		s = strchr(s, ',');
		s = s ? s + 1 : NULL;
	}
	if (s == NULL || *s == '\0' || *s == ',')
		return NULL;
	r = arena_strndup(a, s, strchr(s, ',') ? (size_t)(strchr(s, ',') - s) : strlen(s));
	if (*r >= 'a' && *r <= 'z')
		*r = (char)(*r - 'a' + 'A');
	return r;
}

static struct json_object *rubric(struct ctx *x)
{
	struct arena *a = x->a;
	const struct framework_scale *s = &x->t->fw.scale;
	struct json_object *arr = json_object_new_array(), *r = json_object_new_object();
	struct json_object *crits = json_object_new_array(), *cr = json_object_new_object();
	struct json_object *levels = json_object_new_array();
	const char *rid = fw_case_uuid(a, arena_printf(a, "rubric:%s", x->doc_id));
	const char *cid = fw_case_uuid(a, arena_printf(a, "criterion:%s", x->doc_id));

	add_str(r, "identifier", rid);
	add_str(r, "uri", arena_printf(a, "urn:uuid:%s", rid));
	add_str(r, "title", arena_printf(a, "%s scale", x->t->fw.shortname));
	add_str(r, "lastChangeDateTime", x->when);
	add_str(cr, "identifier", cid);
	add_str(cr, "uri", arena_printf(a, "urn:uuid:%s", cid));
	add_str(cr, "description", "Scale");
	json_object_object_add(cr, "position", json_object_new_int(1));
	add_str(cr, "rubricId", rid);
	add_str(cr, "lastChangeDateTime", x->when);
	for (size_t i = 0; i < s->n; i++) {
		struct json_object *lv = json_object_new_object();
		const char *lid = fw_case_uuid(a, arena_printf(a, "level:%s\n%zu", x->doc_id, i));

		add_str(lv, "identifier", lid);
		add_str(lv, "uri", arena_printf(a, "urn:uuid:%s", lid));
		add_str(lv, "description", arena_printf(a, "%sproficient%s",
							s->items[i].proficient ? "" : "not ",
							s->items[i].is_default ? ", default" : ""));
		add_str(lv, "quality", s->items[i].name);
		json_object_object_add(lv, "score", json_object_new_int64((int64_t)i + 1));
		json_object_object_add(lv, "position", json_object_new_int64((int64_t)i + 1));
		add_str(lv, "rubricCriterionId", cid);
		add_str(lv, "lastChangeDateTime", x->when);
		json_object_array_add(levels, lv);
	}
	json_object_object_add(cr, "CFRubricCriterionLevels", levels);
	json_object_array_add(crits, cr);
	json_object_object_add(r, "CFRubricCriteria", crits);
	json_object_array_add(arr, r);
	return arr;
}

enum at_rc fw_case_write(struct arena *a, const struct framework_tree *t, char **out,
			 size_t *len, struct at_err *err)
{
	struct ctx x = { a, t, NULL, NULL, NULL, NULL, NULL };
	struct json_object *root = json_object_new_object(), *doc, *stored, *items, *assocs;
	struct json_object *docref;
	time_t when = (time_t)t->fw.updated_at;
	struct tm tm;
	char buf[40];
	const char *txt;

	(void)err;
	gmtime_r(&when, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	x.when = arena_strdup(a, buf);
	stored = case_of(a, t->fw.source, "case");
	x.doc_id = arena_strdup(a, get_str(stored, "identifier"));	/* copies: doc is edited */
	if (x.doc_id == NULL)
		x.doc_id = is_uuid(t->fw.idnumber) ? t->fw.idnumber
		       : fw_case_uuid(a, arena_printf(a, "framework:%s", t->fw.idnumber));
	x.doc_uri = arena_strdup(a, get_str(stored, "uri"));
	if (x.doc_uri == NULL)
		x.doc_uri = arena_printf(a, "urn:uuid:%s", x.doc_id);
	/* the document: the stored one with what Attest owns written over it */
	doc = stored ? json_object_get(stored) : json_object_new_object();
	if (stored == NULL) {
		add_str(doc, "creator", "Attest");
		add_str(doc, "language", "en");
	}
	add_str(doc, "identifier", x.doc_id);
	add_str(doc, "uri", x.doc_uri);
	add_str(doc, "title", t->fw.shortname);
	if (*t->fw.description)
		add_str(doc, "description", t->fw.description);
	else
		json_object_object_del(doc, "description");
	add_str(doc, "lastChangeDateTime", x.when);
	if (get_str(doc, "creator") == NULL)
		add_str(doc, "creator", "Attest");
	if (!json_object_object_get_ex(doc, "CFPackageURI", NULL))
		json_object_object_add(doc, "CFPackageURI",
				       link_obj(t->fw.shortname, x.doc_id, x.doc_uri));
	json_object_object_add(root, "CFDocument", doc);
	docref = link_obj(t->fw.shortname, x.doc_id, x.doc_uri);

	x.ids = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*x.ids));
	x.uris = arena_alloc(a, (t->n ? t->n : 1) * sizeof(*x.uris));
	for (size_t i = 0; i < t->n; i++) {
		const struct framework_comp *c = t->by_order[i];
		struct json_object *cm = case_of(a, c->meta, "case");
		const char *id = get_str(cm, "identifier"), *uri = get_str(cm, "uri");

		if (id == NULL)
			id = is_uuid(c->idnumber) ? c->idnumber
			     : fw_case_uuid(a, arena_printf(a, "competency:%s\n%s",
							    t->fw.idnumber, c->idnumber));
		x.ids[c->order] = id;
		x.uris[c->order] = uri ? uri : arena_printf(a, "urn:uuid:%s", id);
	}
	items = json_object_new_array();
	assocs = json_object_new_array();
	for (size_t i = 0; i < t->n; i++) {
		const struct framework_comp *c = t->items[i];
		struct json_object *cm = case_of(a, c->meta, "case");
		struct json_object *o = json_object_new_object(), *as;
		const char *id = x.ids[c->order], *full, *type, *hcs, *aid;
		bool abbr;

		full = *c->description ? c->description : c->shortname;
		abbr = cm ? get_str(cm, "abbr") != NULL : strcmp(c->shortname, full) != 0;
		hcs = strcmp(c->idnumber, id) != 0 ? c->idnumber : get_str(cm, "hcs");
		type = get_str(cm, "type");
		if (type == NULL)
			type = level_term(a, t->fw.taxonomies, c->depth);
		add_str(o, "identifier", id);
		add_str(o, "uri", x.uris[c->order]);
		add_str(o, "fullStatement", full);
		if (abbr)
			add_str(o, "abbreviatedStatement", c->shortname);
		if (hcs != NULL)
			add_str(o, "humanCodingScheme", hcs);
		if (type != NULL)
			add_str(o, "CFItemType", type);
		add_str(o, "lastChangeDateTime", x.when);
		json_object_object_add(o, "CFDocumentURI", json_object_get(docref));
		json_object_array_add(items, o);

		aid = fw_case_uuid(a, arena_printf(a, "isChildOf:%s:%s", id,
						   c->parent ? x.ids[c->parent->order] : x.doc_id));
		as = json_object_new_object();
		add_str(as, "identifier", aid);
		add_str(as, "uri", arena_printf(a, "urn:uuid:%s", aid));
		add_str(as, "associationType", "isChildOf");
		json_object_object_add(as, "sequenceNumber",
				       json_object_new_int64(c->sortorder + 1));
		json_object_object_add(as, "originNodeURI",
				       link_obj(c->shortname, id, x.uris[c->order]));
		json_object_object_add(as, "destinationNodeURI", c->parent
				       ? link_obj(c->parent->shortname, x.ids[c->parent->order],
						  x.uris[c->parent->order])
				       : json_object_get(docref));
		json_object_object_add(as, "CFDocumentURI", json_object_get(docref));
		add_str(as, "lastChangeDateTime", x.when);
		json_object_array_add(assocs, as);
	}
	json_object_object_add(root, "CFItems", items);
	json_object_object_add(root, "CFAssociations", assocs);
	json_object_object_add(root, "CFRubrics", rubric(&x));
	txt = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					     JSON_C_TO_STRING_SPACED |
					     JSON_C_TO_STRING_NOSLASHESCAPE);
	*out = arena_printf(a, "%s\n", txt);
	*len = strlen(*out);
	json_object_put(docref);
	json_object_put(root);
	return AT_OK;
}
