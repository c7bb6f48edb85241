/* program.h: program definitions — parse, validate (JSON Schema + semantic checks),
 * resolve competency references, and store them (program, checklist, checklist_item,
 * item_competency) in one transaction. The format is documented in docs/programs.md;
 * the schema in docs/program.schema.json is compiled in (program_schema()).
 *
 * Points, scores, pass marks and weights are integers in hundredths (85.00 = 8500):
 * JSON carries decimals with at most two places, we never compare floats.
 */
#ifndef AT_PROGRAM_H
#define AT_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/bizdays.h"
#include "core/db.h"
#include "core/jsonschema.h"
#include "core/rc.h"

struct json_object;

enum program_kind { PROGRAM_YESNO, PROGRAM_RATING, PROGRAM_POINTS, PROGRAM_COMMENT };

enum program_policy {
	PROGRAM_ASSESSOR_WINS,	/* the assessor's rating counts; self shown beside it */
	PROGRAM_MINIMUM,	/* the lower of assessor and self */
	PROGRAM_MEAN,		/* their mean (hundredths: 3.5 = 350) */
	PROGRAM_AGREE_WITHIN_ONE,	/* assessor's, but |assessor - self| > 1 flags review */
};

struct program_item {
	const char *key, *label;
	enum program_kind kind;
	int64_t weight;		/* hundredths, relative (default 1 = 100) */
	int64_t max_points;	/* hundredths; points items only */
	bool critical, required;
	const char **competencies;	/* idnumbers */
	size_t n_competencies;
};

struct program_field {
	const char *key, *label;
	bool required;
};

struct program_checklist {
	const char *key, *title;
	int64_t pass_mark, max_score;	/* hundredths; max_score defaults to 100 (10000) */
	bool by_assessor, by_self;	/* who may fill it in ("raters") */
	struct program_item *items;
	size_t n_items;
	struct program_field *feedback;	/* required/optional feedback fields */
	size_t n_feedback;
};

struct program_target {
	const char *competency;	/* idnumber */
	int level;		/* 1-based position on the framework scale */
};

struct program_tier {
	const char *key, *label;
	struct program_target *targets;
	size_t n_targets;
	struct json_object *requires;	/* extra condition or NULL (borrowed from root) */
};

struct program_form {
	const char *key, *title;
	const char *scored_field;	/* the rating field averaged by rules, or NULL */
	int scored_min, scored_max;
};

struct program_step {
	const char *key, *label;
	int after;	/* business days after the previous step (the first: the start) */
	int offset;	/* business days after the start (running sum) */
};

struct program {
	int64_t id;			/* 0 until stored or loaded */
	const char *key, *title, *description;
	int64_t version;
	const char **frameworks;	/* idnumbers */
	size_t n_frameworks;
	struct program_checklist *checklists;
	size_t n_checklists;
	struct program_tier *tiers;	/* ordered: the first whose targets are met wins */
	size_t n_tiers;
	enum program_policy policy;
	struct program_form *forms;
	size_t n_forms;
	int complete_within;		/* business days; -1: no deadline */
	struct program_step *steps;
	size_t n_steps;
	const char **holidays;		/* YYYY-MM-DD */
	size_t n_holidays;
	struct bizdays calendar;	/* the holidays, parsed */
	int validity_days;		/* 0: never expires */
	int recert_opens_days;		/* days before expiry recertification opens */
	const char *qual_program;	/* assessors must hold a certification in it, or NULL */
	const char *qual_outcome;	/* ... with this outcome */
	struct json_object *rule;	/* borrowed from root */
	struct json_object *root;	/* the whole definition; put when the arena is freed */
};

/* The compiled-in JSON Schema (the text of docs/program.schema.json). Static storage. */
const char *program_schema(void);

/*
 * Parse and validate a definition (text, len bytes). Returns AT_OK and sets *out (all from
 * a, nothing to free); AT_BADREQ when the JSON is malformed or invalid — rep lists every
 * problem as "PATH: message" (schema errors first, then semantic ones: duplicate keys,
 * unknown checklist/form/tier references, pass_mark above max_score, ...). No database.
 */
enum at_rc program_parse(struct arena *a, const char *text, size_t len, struct program **out,
			 struct jsonschema_report *rep);

/*
 * Store p. References are checked first: every framework exists, every competency
 * idnumber (items, tiers, evidence) exists in exactly one of the program's frameworks,
 * target levels fit the framework scale, the assessor qualification names this program
 * or one already stored. Then program + checklists + items + item_competency rows are
 * written in one transaction; on any error nothing is stored.
 * A program with the same key: AT_CONFLICT unless replace; with replace its checklists
 * are rebuilt and its version becomes max(old + 1, p->version) — refused (AT_CONFLICT)
 * when any observation exists for its checklists. Sets p->id and p->version.
 * Returns AT_OK; AT_BADREQ (rep names the bad references); AT_CONFLICT (rep says why);
 * AT_DB and friends from storage (rep has the database message).
 */
enum at_rc program_import(struct db *db, struct arena *a, struct program *p, bool replace,
			  int64_t now, struct jsonschema_report *rep);

/* Load and parse the stored definition of program key (or id when key is NULL).
 * Returns AT_OK and *out (from a); AT_NOTFOUND; AT_DB. */
enum at_rc program_load(struct db *db, struct arena *a, const char *key, int64_t id,
			struct program **out);

/* One row of program_each(). Strings borrowed for the duration of the callback. */
struct program_row {
	int64_t id, version, n_checklists, updated_at;
	const char *key, *title;
};

/* Call fn for every stored program, ordered by key. Returns AT_OK or the storage error. */
enum at_rc program_each(struct db *db, void (*fn)(const struct program_row *row, void *ud),
			void *ud);

/* Lookups in a parsed program; NULL when absent. */
const struct program_checklist *program_checklist(const struct program *p, const char *key);
const struct program_tier *program_tier(const struct program *p, const char *key);
const struct program_form *program_form(const struct program *p, const char *key);

/* Does a decided outcome close an enrolment in p? Everything but "pending" (or NULL) and,
 * for tiered programs, the rule's fallback ("not_yet" unless the rule names another: the
 * learner carries on) does — a certification or a failed program: no more deadlines or
 * escalations. */
bool program_outcome_closes(const struct program *p, const char *outcome);

/* Parse a JSON number into hundredths (85 -> 8500, 85.5 -> 8550). Returns false for a
 * non-number, more than two decimals, or |v| > 1e12. */
bool program_hundredths(struct json_object *v, int64_t *out);

#endif
