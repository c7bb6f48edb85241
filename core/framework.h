/* framework.h: competency frameworks — scales, competency trees, parent rules, and the
 * import/export formats (Moodle tool_lpimportcsv CSV in fw_moodle.c, 1EdTech CASE 1.0
 * CFPackage JSON in fw_case.c).
 *
 * Storage (migration 2): one `framework` row, one `competency` row per competency.
 *  - framework.scale: JSON array, ordered from lowest to highest value:
 *      [{"name":"Not yet competent","proficient":false,"default":false},
 *       {"name":"Competent","proficient":true,"default":true}]
 *    At least one value is proficient and exactly one is the default. "default" has
 *    Moodle's meaning (scaledefault): the value awarded when a competency is completed by
 *    a rule or an activity, not the value a learner starts with. Ratings store the 0-based
 *    index into this array, so a scale cannot change once ratings exist.
 *  - competency.parent_id/sortorder/path: a tree; path is Moodle's: "/0/" at the top,
 *    else the parent's path + parent id + "/". sortorder is 0-based among siblings.
 *  - competency.rule_type: none | all | points | manual; rule_config (points only):
 *      {"base":{"points":N},"competencies":[{"idnumber":"X","points":p,"required":false}]}
 *    naming direct children by id number, N <= sum of p.
 *  - framework.source: JSON with what the import format carries that Attest does not
 *    model, so exports round-trip: {"format":"moodle-csv"|"case"|"",
 *    "descformat":"1", "scalecfg":"<Moodle scale configuration>", "case":{CFDocument},
 *    "comps":{"<idnumber>":{"descformat","outcome","related","xid","sv","sc","case":{..}}}}.
 *    Read it only through this module.
 */
#ifndef AT_FRAMEWORK_H
#define AT_FRAMEWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rc.h"

#define FRAMEWORK_MAX_FILE (20u << 20)	/* import files larger than this are refused */
#define FRAMEWORK_MAX_DEPTH 32		/* levels in a tree */
#define FRAMEWORK_MAX_IDNUMBER 100	/* characters, as Moodle's idnumber column */
#define FRAMEWORK_MAX_SCALE 100		/* values in a scale */

struct framework_scale_item {
	const char *name;
	bool proficient;
	bool is_default;
};

struct framework_scale {
	size_t n;
	struct framework_scale_item *items;
};

enum framework_rule_type {
	FRAMEWORK_RULE_NONE = 0,	/* rated directly */
	FRAMEWORK_RULE_ALL,		/* proficient when every child is */
	FRAMEWORK_RULE_POINTS,		/* enough points from proficient children */
	FRAMEWORK_RULE_MANUAL,		/* rated directly, by a person only */
};

struct framework_rule_item {
	const char *idnumber;		/* a direct child */
	int64_t points;
	bool required;			/* must be proficient whatever the points */
};

struct framework_rule {
	enum framework_rule_type type;
	int64_t base;			/* points needed (points rules) */
	size_t n;
	struct framework_rule_item *items;
};

/* The outcome of a rule: NA for none/manual (no automatic rating). */
enum framework_rule_result {
	FRAMEWORK_RULE_NA = 0,
	FRAMEWORK_RULE_MET,
	FRAMEWORK_RULE_UNMET,
};

struct framework_comp {
	int64_t id;			/* 0 until stored */
	int64_t parent_id;		/* 0 at the top */
	int64_t sortorder;		/* 0-based among siblings */
	int depth;			/* 1 at the top */
	const char *idnumber, *shortname, *description, *path;
	const char *parent_idnumber;	/* "" at the top */
	struct framework_rule rule;
	struct framework_scale *scale;	/* own scale (Moodle allows it) or NULL: inherit */
	struct framework_comp *parent;	/* NULL at the top */
	size_t nchildren;
	struct framework_comp **children;	/* by sortorder */
	const char *meta;		/* JSON object text ("{}"): format extras, see above */
	const char *where;		/* import only: "line 7", "$.CFItems[3]" for errors */
	const char *rule_src;		/* import only: raw rule text before id numbers are known */
	size_t order;			/* position in file (import) or id order (load) */
};

struct framework {
	int64_t id;
	const char *idnumber, *shortname, *description, *taxonomies;
	const char *scale_json;		/* as stored */
	struct framework_scale scale;
	const char *source;		/* JSON object text, see above */
	int64_t created_at, updated_at;
	int64_t ncomps;			/* framework_list only */
};

/*
 * A whole framework in memory, from framework_load or an import parser. items holds the
 * competencies depth first (top-level by sortorder, each followed by its subtree);
 * by_order holds the same pointers in file order (import) or id order (load).
 */
struct framework_tree {
	struct framework fw;
	size_t n;
	struct framework_comp **items;
	struct framework_comp **by_order;
	const char *notes;		/* import: newline-separated remarks ("" if none) */
};

/* Import options and result. */
enum framework_format { FRAMEWORK_FMT_GUESS = 0, FRAMEWORK_FMT_MOODLE, FRAMEWORK_FMT_CASE };

struct framework_import_result {
	int64_t framework_id;
	size_t ncomps, created, updated, deleted;
	bool replaced;
	const char *notes;		/* arena; "" if none */
};

/* ---- scales and rules (pure) ---- */

/*
 * Parse and validate a scale JSON text (the stored form). Returns AT_OK and fills *out
 * (strings from a); AT_BADREQ with err naming the problem (not an array, no value, a
 * name empty or containing a comma, not exactly one default, no proficient value).
 */
enum at_rc framework_scale_parse(struct arena *a, const char *json, struct framework_scale *out,
				 struct at_err *err);
/* Validate an in-memory scale by the same rules. */
enum at_rc framework_scale_check(const struct framework_scale *s, struct at_err *err);
/* The stored JSON text of s (from a). */
char *framework_scale_json(struct arena *a, const struct framework_scale *s);
bool framework_scale_equal(const struct framework_scale *x, const struct framework_scale *y);

const char *framework_rule_name(enum framework_rule_type t);	/* "none", "all", ... */
/* "none" "all" "points" "manual" -> *out; AT_BADREQ otherwise. */
enum at_rc framework_rule_type_parse(const char *s, enum framework_rule_type *out);
/*
 * Parse a stored rule (type name + rule_config). Points rules need a config with base
 * points >= 1, at least one child, points >= 0, no id number twice and base <= total.
 * Whether the id numbers are children is checked by framework_tree_link.
 */
enum at_rc framework_rule_parse(struct arena *a, const char *type, const char *config,
				struct framework_rule *out, struct at_err *err);
char *framework_rule_config_json(struct arena *a, const struct framework_rule *r); /* "" if none */

/*
 * Evaluate rule r of a parent given its direct children: idnumbers[i] is proficient when
 * proficient[i]. ALL: met when there is at least one child and all are proficient.
 * POINTS: met when every required child is proficient and the points of the proficient
 * listed children reach base (children not listed count 0). NONE/MANUAL: NA. Pure.
 */
enum framework_rule_result framework_rule_eval(const struct framework_rule *r, size_t n,
					       const char *const *idnumbers,
					       const bool *proficient);

/* ---- trees ---- */

/*
 * Link the competencies of t (by_order filled, parent_idnumber set) into a tree: checks
 * id numbers (non-empty, <= 100 characters, unique), parents (known, no cycle, depth <=
 * FRAMEWORK_MAX_DEPTH), sets parent/children/depth/sortorder (file order among
 * siblings), fills items depth first and checks points rules name direct children.
 * AT_BADREQ with err "<where>: <problem>".
 */
enum at_rc framework_tree_link(struct arena *a, struct framework_tree *t, struct at_err *err);
/* The competency with idnumber, or NULL. Linear; fine for imports and exports. */
struct framework_comp *framework_tree_find(const struct framework_tree *t, const char *idnumber);

/* ---- storage ---- */

/* Create fw (id set on success; scale/scale_json normalised, from a). AT_CONFLICT if the
 * idnumber exists; AT_BADREQ for a bad scale or a missing id number or short name. */
enum at_rc framework_create(struct db *db, struct arena *a, struct framework *fw, int64_t now,
			    struct at_err *err);
enum at_rc framework_get(struct db *db, struct arena *a, int64_t id, struct framework *out);
enum at_rc framework_find(struct db *db, struct arena *a, const char *idnumber,
			  struct framework *out);
/* By numeric id if ref is all digits and exists, else by idnumber. */
enum at_rc framework_resolve(struct db *db, struct arena *a, const char *ref,
			     struct framework *out);
/* All frameworks by idnumber, with ncomps set; *out is an arena array of *n. */
enum at_rc framework_list(struct db *db, struct arena *a, struct framework **out, size_t *n);
/* Delete a framework and (cascade) its competencies. AT_NOTFOUND if absent. */
enum at_rc framework_delete(struct db *db, int64_t id);

/*
 * Add one competency under parent_id (0: top level) at the end of its siblings; sets
 * c->id, sortorder and path (from a). AT_CONFLICT on a duplicate idnumber; AT_NOTFOUND if the
 * parent is not in the framework.
 */
enum at_rc framework_comp_add(struct db *db, struct arena *a, int64_t framework_id,
			      int64_t parent_id, struct framework_comp *c, struct at_err *err);
/* One competency by id (rule parsed, no tree links). */
enum at_rc framework_comp_get(struct db *db, struct arena *a, int64_t id,
			      struct framework_comp *out);

/* Load framework id with all its competencies into a tree (from a). */
enum at_rc framework_load(struct db *db, struct arena *a, int64_t id, struct framework_tree **out);

/*
 * Store a linked tree in ONE transaction. When t->fw.idnumber exists: AT_CONFLICT unless
 * replace; with replace the framework row is updated, competencies whose idnumber is in t
 * keep their ids (and ratings), new ones are added and missing ones deleted — refused
 * (AT_CONFLICT) if a deleted competency has ratings or checklist links, or if the scale
 * changes while ratings exist. On any error nothing is stored.
 */
enum at_rc framework_store(struct db *db, struct arena *a, struct framework_tree *t,
			   bool replace, int64_t now, struct framework_import_result *res,
			   struct at_err *err);

/*
 * Parse data (len bytes; <= FRAMEWORK_MAX_FILE, valid UTF-8, no NUL) in format fmt
 * (GUESS: '{' first means CASE, else Moodle CSV) and store it with framework_store.
 * Errors name the line or JSON path. Nothing is stored unless AT_OK.
 */
enum at_rc framework_import(struct db *db, struct arena *a, const char *data, size_t len,
			    enum framework_format fmt, bool replace, int64_t now,
			    struct framework_import_result *res, struct at_err *err);
enum framework_format framework_guess_format(const char *data, size_t len);

/* Check data is UTF-8 without NUL; AT_BADREQ "line N: invalid UTF-8". */
enum at_rc framework_check_text(const char *data, size_t len, struct at_err *err);

/* ---- formats (fw_moodle.c, fw_case.c) ---- */

/* Parse a tool_lpimportcsv file into a linked tree (from a). AT_BADREQ "line N: ...". */
enum at_rc fw_moodle_parse(struct arena *a, const char *data, size_t len,
			   struct framework_tree **out, struct at_err *err);
/* Write t as a tool_lpimportcsv file: NUL-terminated, from a, length in *len. */
enum at_rc fw_moodle_write(struct arena *a, const struct framework_tree *t, char **out,
			   size_t *len, struct at_err *err);
/* Split a Moodle compact scale ("A,B,C") with its configuration JSON into a scale. */
enum at_rc fw_moodle_scale(struct arena *a, const char *values, const char *config,
			   struct framework_scale *out, struct at_err *err);

/* Parse a CASE 1.0 CFPackage into a linked tree. AT_BADREQ "$.CFItems[3].identifier: ...". */
enum at_rc fw_case_parse(struct arena *a, const char *data, size_t len,
			 struct framework_tree **out, struct at_err *err);
/* Write t as a CFPackage (pretty JSON, NUL-terminated, from a). */
enum at_rc fw_case_write(struct arena *a, const struct framework_tree *t, char **out,
			 size_t *len, struct at_err *err);
/* A name-based (v5, SHA-1) UUID of name in Attest's namespace, lower-case, from a. */
char *fw_case_uuid(struct arena *a, const char *name);

/* ---- meta helpers shared by the formats ---- */

struct json_object;
/*
 * Parse JSON text (len bytes) with a depth cap; the root is put when a is freed.
 * Returns NULL and fills err ("<what>: ...") on a syntax error or trailing bytes.
 */
struct json_object *framework_json_parse(struct arena *a, const char *text, size_t len,
					 const char *what, struct at_err *err);
/* Serialise o compactly (no slash escaping) into a. */
char *framework_json_str(struct arena *a, struct json_object *o);
/* A string member of the JSON object text meta, or def. From a. */
const char *framework_meta_str(struct arena *a, const char *meta, const char *key,
			       const char *def);

#endif
