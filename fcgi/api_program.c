/* api_program.c: GET /api/v1/programs[/{key}] and /api/v1/frameworks[/{id}] — the
 * definitions a client needs to render checklists and competency trees. Read-only; any
 * session may read them (they are site-wide, not learner records). */
#include <json-c/json.h>
#include <string.h>

#include "core/framework.h"
#include "core/program.h"
#include "fcgi/api.h"
#include "fcgi/app.h"
#include "fcgi/pages.h"
#include "fcgi/session.h"

static const char *kind_name(enum program_kind k)
{
	switch (k) {
	case PROGRAM_YESNO:
		return "yesno";
	case PROGRAM_RATING:
		return "rating";
	case PROGRAM_POINTS:
		return "points";
	case PROGRAM_COMMENT:
		return "comment";
	}
	return "comment";
}

static const char *policy_name(enum program_policy p)
{
	switch (p) {
	case PROGRAM_ASSESSOR_WINS:
		return "assessor_wins";
	case PROGRAM_MINIMUM:
		return "minimum";
	case PROGRAM_MEAN:
		return "mean";
	case PROGRAM_AGREE_WITHIN_ONE:
		return "agree_within_one";
	}
	return "assessor_wins";
}

static struct json_object *strings(const char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static struct json_object *checklist_json(const struct program_checklist *c)
{
	struct json_object *o = json_object_new_object(), *items, *fb, *raters;

	json_object_object_add(o, "key", json_object_new_string(c->key));
	json_object_object_add(o, "title", json_object_new_string(c->title));
	json_object_object_add(o, "pass_mark", api_hundredths(c->pass_mark));
	json_object_object_add(o, "max_score", api_hundredths(c->max_score ? c->max_score : 10000));
	raters = json_object_new_array();
	if (c->by_assessor)
		json_object_array_add(raters, json_object_new_string("assessor"));
	if (c->by_self)
		json_object_array_add(raters, json_object_new_string("self"));
	json_object_object_add(o, "raters", raters);
	items = json_object_new_array();
	for (size_t i = 0; i < c->n_items; i++) {
		const struct program_item *it = &c->items[i];
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "key", json_object_new_string(it->key));
		json_object_object_add(x, "kind", json_object_new_string(kind_name(it->kind)));
		json_object_object_add(x, "label", json_object_new_string(it->label));
		json_object_object_add(x, "critical", json_object_new_boolean(it->critical));
		json_object_object_add(x, "required", json_object_new_boolean(it->required));
		json_object_object_add(x, "competencies",
				       strings(it->competencies, it->n_competencies));
		json_object_object_add(x, "weight", api_hundredths(it->weight));
		json_object_object_add(x, "max_points", it->kind == PROGRAM_POINTS ?
				       api_hundredths(it->max_points) : NULL);
		json_object_array_add(items, x);
	}
	json_object_object_add(o, "items", items);
	fb = json_object_new_array();
	for (size_t i = 0; i < c->n_feedback; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "key", json_object_new_string(c->feedback[i].key));
		json_object_object_add(x, "label", json_object_new_string(c->feedback[i].label));
		json_object_object_add(x, "required",
				       json_object_new_boolean(c->feedback[i].required));
		json_object_array_add(fb, x);
	}
	json_object_object_add(o, "feedback", fb);
	return o;
}

/* The whole program as clients see it. */
static struct json_object *program_json(const struct program *p)
{
	struct json_object *o = json_object_new_object(), *cls, *tiers, *forms, *dl, *steps;

	json_object_object_add(o, "id", json_object_new_int64(p->id));
	json_object_object_add(o, "key", json_object_new_string(p->key));
	json_object_object_add(o, "title", json_object_new_string(p->title));
	json_object_object_add(o, "version", json_object_new_int64(p->version));
	json_object_object_add(o, "description",
			       json_object_new_string(p->description ? p->description : ""));
	json_object_object_add(o, "frameworks", strings(p->frameworks, p->n_frameworks));
	json_object_object_add(o, "reconciliation", json_object_new_string(policy_name(p->policy)));
	cls = json_object_new_array();
	for (size_t i = 0; i < p->n_checklists; i++)
		json_object_array_add(cls, checklist_json(&p->checklists[i]));
	json_object_object_add(o, "checklists", cls);
	tiers = json_object_new_array();
	for (size_t i = 0; i < p->n_tiers; i++) {
		struct json_object *t = json_object_new_object(), *targets = json_object_new_array();

		json_object_object_add(t, "key", json_object_new_string(p->tiers[i].key));
		json_object_object_add(t, "label", json_object_new_string(p->tiers[i].label ?
					p->tiers[i].label : p->tiers[i].key));
		for (size_t k = 0; k < p->tiers[i].n_targets; k++) {
			struct json_object *x = json_object_new_object();

			json_object_object_add(x, "competency", json_object_new_string(
						       p->tiers[i].targets[k].competency));
			json_object_object_add(x, "level",
					       json_object_new_int(p->tiers[i].targets[k].level));
			json_object_array_add(targets, x);
		}
		json_object_object_add(t, "targets", targets);
		json_object_array_add(tiers, t);
	}
	json_object_object_add(o, "tiers", tiers);
	forms = json_object_new_array();
	for (size_t i = 0; i < p->n_forms; i++) {
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "key", json_object_new_string(p->forms[i].key));
		json_object_object_add(f, "title", json_object_new_string(p->forms[i].title ?
					p->forms[i].title : ""));
		json_object_array_add(forms, f);
	}
	json_object_object_add(o, "forms", forms);
	dl = json_object_new_object();
	json_object_object_add(dl, "complete_within_business_days", p->complete_within < 0 ?
			       NULL : json_object_new_int(p->complete_within));
	steps = json_object_new_array();
	for (size_t i = 0; i < p->n_steps; i++) {
		struct json_object *s = json_object_new_object();

		json_object_object_add(s, "key", json_object_new_string(p->steps[i].key));
		json_object_object_add(s, "label", json_object_new_string(p->steps[i].label ?
					p->steps[i].label : p->steps[i].key));
		json_object_object_add(s, "after_business_days",
				       json_object_new_int(p->steps[i].after));
		json_object_array_add(steps, s);
	}
	json_object_object_add(dl, "escalation", steps);
	json_object_object_add(dl, "holidays", strings(p->holidays, p->n_holidays));
	json_object_object_add(o, "deadlines", dl);
	json_object_object_add(o, "validity_days", p->validity_days > 0 ?
			       json_object_new_int(p->validity_days) : NULL);
	json_object_object_add(o, "rule", p->rule ? json_object_get(p->rule) : NULL);
	return o;
}

struct collect {
	struct arena *a;
	const char **keys;
	size_t n, cap;
};

static void collect_key(const struct program_row *row, void *ud)
{
	struct collect *c = ud;

	if (c->n == c->cap) {
		const char **nv;

		c->cap = c->cap ? c->cap * 2 : 16;
		nv = arena_alloc(c->a, c->cap * sizeof(*nv));
		if (c->n > 0)
			memcpy(nv, c->keys, c->n * sizeof(*nv));
		c->keys = nv;
	}
	c->keys[c->n++] = arena_strdup(c->a, row->key);
}

void api_programs(struct req *r)
{
	struct collect c = { r->arena, NULL, 0, 0 };
	struct json_object *o, *list;
	enum at_rc rc = program_each(g_app.db, collect_key, &c);

	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not list programs");
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < c.n; i++) {
		struct program *p = NULL;

		rc = program_load(g_app.db, r->arena, c.keys[i], 0, &p);
		if (rc == AT_NOTFOUND)
			continue;	/* deleted meanwhile */
		if (rc != AT_OK) {
			json_object_put(list);
			api_fail(r, rc, NULL, "could not load a program");
			return;
		}
		json_object_array_add(list, program_json(p));
	}
	o = json_object_new_object();
	json_object_object_add(o, "programs", list);
	api_ok(r, 200, o);
	json_object_put(o);
}

void api_program(struct req *r)
{
	struct program *p = NULL;
	struct json_object *o;
	enum at_rc rc = program_load(g_app.db, r->arena, r->pathvar, 0, &p);

	if (rc == AT_NOTFOUND && r->pathvar != NULL && strspn(r->pathvar, "0123456789") ==
	    strlen(r->pathvar)) {
		int64_t id;

		if (!api_path_id(r, &id))
			return;
		rc = program_load(g_app.db, r->arena, NULL, id, &p);
	}
	if (rc == AT_NOTFOUND) {
		api_error(r, 404, "not_found", NULL, "no such program");
		return;
	}
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not load the program");
		return;
	}
	o = program_json(p);
	api_ok(r, 200, o);
	json_object_put(o);
}

static struct json_object *scale_json(const struct framework_scale *s)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; s != NULL && i < s->n; i++) {
		struct json_object *x = json_object_new_object();

		json_object_object_add(x, "value", json_object_new_int64((int64_t)i));
		json_object_object_add(x, "name", json_object_new_string(s->items[i].name));
		json_object_object_add(x, "proficient",
				       json_object_new_boolean(s->items[i].proficient));
		json_object_object_add(x, "default",
				       json_object_new_boolean(s->items[i].is_default));
		json_object_array_add(a, x);
	}
	return a;
}

static const char *rule_name(enum framework_rule_type t)
{
	switch (t) {
	case FRAMEWORK_RULE_NONE:
		return "none";
	case FRAMEWORK_RULE_ALL:
		return "all";
	case FRAMEWORK_RULE_POINTS:
		return "points";
	case FRAMEWORK_RULE_MANUAL:
		return "manual";
	}
	return "none";
}

static struct json_object *framework_head(const struct framework *fw)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(fw->id));
	json_object_object_add(o, "idnumber", json_object_new_string(fw->idnumber));
	json_object_object_add(o, "shortname", json_object_new_string(fw->shortname));
	json_object_object_add(o, "description",
			       json_object_new_string(fw->description ? fw->description : ""));
	json_object_object_add(o, "scale", scale_json(&fw->scale));
	return o;
}

/* One competency and its subtree; depth is bounded by FRAMEWORK_MAX_DEPTH. */
static struct json_object *comp_json(const struct framework_comp *c)
{
	struct json_object *o = json_object_new_object(), *kids = json_object_new_array();
	struct json_object *rule = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64(c->id));
	json_object_object_add(o, "idnumber", json_object_new_string(c->idnumber));
	json_object_object_add(o, "shortname", json_object_new_string(c->shortname));
	json_object_object_add(o, "description",
			       json_object_new_string(c->description ? c->description : ""));
	json_object_object_add(rule, "type", json_object_new_string(rule_name(c->rule.type)));
	if (c->rule.type == FRAMEWORK_RULE_POINTS) {
		struct json_object *items = json_object_new_array();

		json_object_object_add(rule, "base", json_object_new_int64(c->rule.base));
		for (size_t i = 0; i < c->rule.n; i++) {
			struct json_object *x = json_object_new_object();

			json_object_object_add(x, "idnumber",
					       json_object_new_string(c->rule.items[i].idnumber));
			json_object_object_add(x, "points",
					       json_object_new_int64(c->rule.items[i].points));
			json_object_object_add(x, "required",
					       json_object_new_boolean(c->rule.items[i].required));
			json_object_array_add(items, x);
		}
		json_object_object_add(rule, "competencies", items);
	}
	json_object_object_add(o, "rule", rule);
	if (c->scale != NULL)
		json_object_object_add(o, "scale", scale_json(c->scale));
	for (size_t i = 0; i < c->nchildren; i++)
		json_object_array_add(kids, comp_json(c->children[i]));
	json_object_object_add(o, "children", kids);
	return o;
}

void api_frameworks(struct req *r)
{
	struct framework *fws = NULL;
	size_t n = 0;
	struct json_object *o, *list;
	enum at_rc rc = framework_list(g_app.db, r->arena, &fws, &n);

	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not list frameworks");
		return;
	}
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *f = framework_head(&fws[i]);

		json_object_object_add(f, "competencies", json_object_new_int64(fws[i].ncomps));
		json_object_array_add(list, f);
	}
	o = json_object_new_object();
	json_object_object_add(o, "frameworks", list);
	api_ok(r, 200, o);
	json_object_put(o);
}

void api_framework(struct req *r)
{
	struct framework fw;
	struct framework_tree *t = NULL;
	struct json_object *o, *comps;
	enum at_rc rc = framework_resolve(g_app.db, r->arena, r->pathvar, &fw);

	if (rc == AT_OK)
		rc = framework_load(g_app.db, r->arena, fw.id, &t);
	if (rc == AT_NOTFOUND) {
		api_error(r, 404, "not_found", NULL, "no such framework");
		return;
	}
	if (rc != AT_OK) {
		api_fail(r, rc, NULL, "could not load the framework");
		return;
	}
	o = framework_head(&t->fw);
	comps = json_object_new_array();
	for (size_t i = 0; i < t->n; i++)
		if (t->items[i]->parent == NULL)
			json_object_array_add(comps, comp_json(t->items[i]));
	json_object_object_add(o, "competencies", comps);
	api_ok(r, 200, o);
	json_object_put(o);
}
