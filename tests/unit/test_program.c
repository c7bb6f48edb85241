/* test_program.c: program definitions — the compiled-in schema matches docs/, the seed
 * programs parse, validation errors name their path, and import stores everything or
 * nothing (references checked, --replace rules) on SQLite and on PostgreSQL when
 * ATTEST_TEST_PG is set (each test in its own schema). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "core/program.h"
#include "tests/unit/support/testdb.h"

static char *slurp(struct arena *a, const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n >= 0);
	rewind(f);
	buf = arena_alloc(a, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int64_t insert_id(struct db *db, const char *sql, const char *s1, const char *s2,
			 int64_t i1)
{
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t id;

	assert_int_equal(db_prepare(db, sql, &st), AT_OK);
	db_bind_str(st, 1, s1);
	db_bind_str(st, 2, s2);
	if (i1)
		db_bind_i64(st, 3, i1);
	assert_int_equal(db_step(st, &row), AT_OK);
	assert_true(row);
	id = db_col_i64(st, 0);
	assert_int_equal(db_run(st), AT_OK);
	db_finalize(st);
	return id;
}

/* A framework with these competencies (flat: the tree does not matter here). */
static void add_framework(struct db *db, const char *idnumber, const char *scale,
			  const char *const *comps, size_t n)
{
	int64_t fw = insert_id(db, "INSERT INTO framework (idnumber, shortname, scale, created_at,"
			       " updated_at) VALUES (?1, ?1, ?2, 0, 0) RETURNING id", idnumber,
			       scale, 0);

	for (size_t i = 0; i < n; i++)
		(void)insert_id(db, "INSERT INTO competency (idnumber, shortname, framework_id)"
				" VALUES (?1, ?2, ?3) RETURNING id", comps[i], comps[i], fw);
}

static const char SCALE2[] =
	"[{\"name\":\"Not yet competent\",\"proficient\":false,\"default\":false},"
	"{\"name\":\"Competent\",\"proficient\":true,\"default\":true}]";
static const char SCALE5[] =
	"[{\"name\":\"1\",\"proficient\":false,\"default\":false},"
	"{\"name\":\"2\",\"proficient\":false,\"default\":false},"
	"{\"name\":\"3\",\"proficient\":true,\"default\":true},"
	"{\"name\":\"4\",\"proficient\":true,\"default\":false},"
	"{\"name\":\"5\",\"proficient\":true,\"default\":false}]";
/* idnumbers from examples/frameworks (a subset: the tree does not matter here) */
static const char *const CALL_COMPS[] = {
	"CALL-HANDLING", "CALL-OPEN", "CALL-OPEN-GREET", "CALL-OPEN-VERIFY", "CALL-DISC",
	"CALL-DISC-PROBE", "CALL-RES", "CALL-RES-SYSTEMS", "CALL-RES-ACCURATE", "CALL-RES-HOLD",
	"CALL-CLOSE", "CALL-CLOSE-SUMMARY", "CALL-CLOSE-FURTHER", "CALL-PROF",
	"CALL-PROF-EMPATHY", "CALL-PROF-COMPLIANCE",
};
static const char *const L2T_COMPS[] = {
	"L2T-FAC", "L2T-FAC-GROUP", "L2T-FAC-DEPTH", "L2T-COT", "L2T-COT-PLAN", "L2T-COT-PLAN-2",
	"L2T-COT-DELIVER", "L2T-LRN", "L2T-LRN-SPACE", "L2T-LRN-FEEDBACK", "L2T-PRO",
	"L2T-PRO-REFLECT", "L2T-PRO-MENTOR",
};

static int setup(void **state, bool pg)
{
	struct testdb_fx *f;

	testdb_fx_setup(state, "prog", pg, NULL);
	f = *state;
	add_framework(f->db, "CALL", SCALE2, CALL_COMPS, NELEM(CALL_COMPS));
	add_framework(f->db, "L2T", SCALE5, L2T_COMPS, NELEM(L2T_COMPS));
	return 0;
}

static int setup_sqlite(void **state) { return setup(state, false); }
static int setup_pg(void **state) { return setup(state, true); }

static struct program *parse_file(struct arena *a, const char *path)
{
	struct jsonschema_report rep;
	struct program *p = NULL;
	size_t len = 0;
	char *text = slurp(a, path, &len);

	assert_non_null(text);
	if (program_parse(a, text, len, &p, &rep) != AT_OK)
		fail_msg("%s: %s", path, rep.n ? rep.msg[0] : "?");
	return p;
}

/* ---- without a database ---- */

static void test_schema_in_sync(void **state)
{
	struct arena *a = arena_new();
	size_t len = 0;
	char *doc = slurp(a, "docs/program.schema.json", &len);
	struct json_object *x, *y;

	(void)state;
	if (doc == NULL) {
		arena_free(a);
		skip();
	}
	x = json_tokener_parse(doc);
	y = json_tokener_parse(program_schema());
	assert_non_null(x);
	assert_non_null(y);
	if (!json_object_equal(x, y))
		fail_msg("docs/program.schema.json and the copy in core/program.c differ: run"
			 " tests/fixtures/programs/embed-schema.py");
	json_object_put(x);
	json_object_put(y);
	arena_free(a);
}

static void test_seeds_parse(void **state)
{
	struct arena *a = arena_new();
	struct program *p = parse_file(a, "examples/programs/call-certification.json");
	const struct program_checklist *c;

	(void)state;
	assert_string_equal(p->key, "call-certification");
	assert_int_equal(p->n_checklists, 1);
	c = program_checklist(p, "call");
	assert_non_null(c);
	assert_int_equal(c->pass_mark, 8500);
	assert_int_equal(c->max_score, 10000);
	assert_int_equal(c->n_items, 10);
	assert_true(c->items[1].critical);
	assert_int_equal(c->items[3].kind, PROGRAM_POINTS);
	assert_int_equal(c->items[3].max_points, 500);
	assert_int_equal(c->items[3].weight, 1500);
	assert_false(c->items[9].required);
	assert_string_equal(c->feedback[0].key, "went_well");
	assert_true(c->feedback[0].required);
	assert_int_equal(p->complete_within, 2);
	assert_int_equal(p->n_steps, 4);
	assert_int_equal(p->steps[0].offset, 3);
	assert_int_equal(p->steps[3].offset, 6);
	assert_string_equal(p->steps[1].key, "written_cap");
	assert_int_equal(p->calendar.n, 7);

	p = parse_file(a, "examples/programs/level-two-trainer.json");
	assert_int_equal(p->n_tiers, 2);
	assert_string_equal(p->tiers[0].key, "lead");
	assert_int_equal(p->tiers[0].targets[0].level, 4);
	assert_int_equal(p->tiers[1].targets[0].level, 3);
	assert_non_null(p->tiers[0].requires);
	assert_int_equal(p->policy, PROGRAM_AGREE_WITHIN_ONE);
	assert_string_equal(p->qual_program, "level-two-trainer");
	assert_string_equal(p->qual_outcome, "lead");
	assert_non_null(program_form(p, "student-outcomes"));
	assert_string_equal(program_form(p, "student-outcomes")->scored_field, "overall");
	assert_true(program_checklist(p, "co-teach-module")->by_self);
	assert_int_equal(p->complete_within, -1);
	arena_free(a);
}

#define ITEM "{\"key\":\"a\",\"kind\":\"yesno\",\"label\":\"A\"}"
#define RULE "{\"type\":\"k_of_last_n\",\"checklist\":\"c\",\"k\":4,\"n\":5}"
#define DOC(items, rule) \
	"{\"key\":\"p\",\"title\":\"P\",\"version\":1,\"checklists\":[{\"key\":\"c\"," \
	"\"title\":\"C\",\"pass_mark\":85,\"items\":[" items "]}],\"rule\":" rule "}"
#define DOCX(extra) \
	"{\"key\":\"p\",\"title\":\"P\",\"version\":1,\"checklists\":[{\"key\":\"c\"," \
	"\"title\":\"C\",\"items\":[" ITEM "]}],\"rule\":" RULE "," extra "}"

static const struct {
	const char *doc;
	const char *msg;	/* the first error; NULL: valid */
} bad_cases[] = {
	{ DOC(ITEM, RULE), NULL },
	{ DOC("{\"key\":\"a\",\"kind\":\"stars\",\"label\":\"A\"}", RULE),
	  "$.checklists[0].items[0].kind: must be one of yesno, rating, points, comment" },
	{ DOC(ITEM "," ITEM "," "{\"key\":\"b\",\"label\":\"B\"}", RULE),
	  "$.checklists[0].items[2].kind: required property is missing" },
	{ DOC("{\"key\":\"A b\",\"kind\":\"yesno\",\"label\":\"A\"}", RULE),
	  "$.checklists[0].items[0].key: must match the pattern ^[a-z0-9][a-z0-9_-]*$" },
	{ DOC("{\"key\":\"a\",\"kind\":\"yesno\",\"label\":\"A\",\"weight\":\"1\"}", RULE),
	  "$.checklists[0].items[0].weight: must be number, not string" },
	{ DOC(ITEM "," ITEM, RULE), "$.checklists[0].items[1].key: duplicate item key \"a\"" },
	{ DOC("{\"key\":\"a\",\"kind\":\"points\",\"label\":\"A\"}", RULE),
	  "$.checklists[0].items[0].max_points: a points item needs max_points" },
	{ DOC("{\"key\":\"a\",\"kind\":\"yesno\",\"label\":\"A\",\"max_points\":2}", RULE),
	  "$.checklists[0].items[0].max_points: only points items have max_points" },
	{ DOC("{\"key\":\"a\",\"kind\":\"comment\",\"label\":\"A\",\"critical\":true}", RULE),
	  "$.checklists[0].items[0].critical: a comment item cannot be critical" },
	{ DOC("{\"key\":\"a\",\"kind\":\"rating\",\"label\":\"A\"}", RULE),
	  "$.checklists[0].items[0].competencies: a rating item needs a competency (its scale)" },
	{ DOC("{\"key\":\"a\",\"kind\":\"yesno\",\"label\":\"A\",\"weight\":0.125}", RULE),
	  "$.checklists[0].items[0].weight: at most two decimals" },
	{ DOC(ITEM, "{\"type\":\"k_of_last_n\",\"checklist\":\"nope\",\"k\":4,\"n\":5}"),
	  "$.rule.checklist: no checklist \"nope\" in this program" },
	{ DOC(ITEM, "{\"type\":\"k_of_last_n\",\"checklist\":\"c\",\"k\":6,\"n\":5}"),
	  "$.rule.k: must not exceed n" },
	{ DOC(ITEM, "{\"type\":\"k_of_last_n\",\"checklist\":\"c\",\"k\":\"4\",\"n\":5}"),
	  "$.rule.k: must be integer, not string" },
	{ DOC(ITEM, "{\"type\":\"best_of\",\"checklist\":\"c\"}"),
	  "$.rule.type: must be one of k_of_last_n, count, feedback, all, any, tiers" },
	{ DOC(ITEM, "{\"type\":\"all\",\"rules\":[{\"type\":\"count\",\"checklist\":\"c\","
	      "\"min\":0}]}"), "$.rule.rules[0].min: must be >= 1" },
	{ DOC(ITEM, "{\"type\":\"all\",\"rules\":[{\"type\":\"tiers\"}]}"),
	  "$.rule.rules[0].type: must be one of k_of_last_n, count, feedback, all, any" },
	{ DOC(ITEM, "{\"type\":\"tiers\"}"), "$.rule: a tiers rule needs the program's \"tiers\"" },
	{ DOC(ITEM, "{\"type\":\"feedback\",\"form\":\"f\",\"min_responses\":3}"),
	  "$.rule.form: no feedback form \"f\" in this program" },
	{ "{\"key\":\"p\",\"title\":\"P\",\"version\":1,\"checklists\":[{\"key\":\"c\","
	  "\"title\":\"C\",\"pass_mark\":101,\"items\":[" ITEM "]}],\"rule\":" RULE "}",
	  "$.checklists[0].pass_mark: above max_score" },
	{ "{\"key\":\"p\",\"title\":\"P\",\"version\":1,\"checklists\":[{\"key\":\"c\","
	  "\"title\":\"C\",\"items\":[" ITEM "]}]}", "$.rule: required property is missing" },
	{ "{\"key\":\"p\",\"title\":5,\"version\":1,\"checklists\":[{\"key\":\"c\","
	  "\"title\":\"C\",\"items\":[" ITEM "]}],\"rule\":" RULE "}",
	  "$.title: must be string, not integer" },
	{ DOCX("\"colour\":\"blue\""), "$.colour: unknown property" },
	{ DOCX("\"deadlines\":{\"holidays\":[\"2025-02-30\"]}"),
	  "$.deadlines.holidays[0]: \"2025-02-30\" is not a date" },
	{ DOCX("\"deadlines\":{\"escalation\":[{\"key\":\"x\",\"label\":\"X\","
	       "\"after_business_days\":-1}]}"),
	  "$.deadlines.escalation[0].after_business_days: must be >= 0" },
	{ DOCX("\"validity\":{\"recertification\":{\"opens_days_before_expiry\":30}}"),
	  "$.validity.recertification: needs validity.days (an expiry)" },
	{ DOCX("\"reconciliation\":\"average\""),
	  "$.reconciliation: must be one of assessor_wins, minimum, mean, agree_within_one" },
	{ DOCX("\"assessor_qualification\":{\"program\":\"p\",\"outcome\":\"gold\"}"),
	  "$.assessor_qualification.outcome: \"gold\" is not an outcome of this program" },
	{ DOCX("\"tiers\":[{\"key\":\"t\",\"label\":\"T\",\"targets\":[{\"competency\":\"X\","
	       "\"level\":3}]}]"),
	  "$.frameworks: competencies are referenced, but no framework is named" },
	{ DOCX("\"feedback_forms\":[{\"key\":\"f\",\"title\":\"F\",\"fields\":[{\"key\":\"a\","
	       "\"label\":\"A\",\"kind\":\"text\",\"scored\":true}]}]"),
	  "$.feedback_forms[0].fields[0].scored: only a rating field can be scored" },
	{ "[1]", "$: must be object, not array" },
	{ "{\"key\":", "$: not valid JSON (unexpected end of data, near byte 7)" },
};

static void test_validation(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	for (size_t i = 0; i < NELEM(bad_cases); i++) {
		struct jsonschema_report rep;
		struct program *p = NULL;
		enum at_rc rc = program_parse(a, bad_cases[i].doc, strlen(bad_cases[i].doc), &p,
					      &rep);
		const char *got = rep.n ? rep.msg[0] : "";

		if (bad_cases[i].msg == NULL) {
			if (rc != AT_OK || p == NULL)
				fail_msg("case %zu should be valid: %s", i, got);
			continue;
		}
		if (rc != AT_BADREQ || p != NULL || strcmp(got, bad_cases[i].msg) != 0)
			fail_msg("case %zu: rc %d, \"%s\", want \"%s\"", i, rc, got,
				 bad_cases[i].msg);
	}
	arena_free(a);
}

static void test_hundredths(void **state)
{
	static const struct {
		const char *in;
		bool ok;
		int64_t want;
	} cases[] = {
		{ "85", true, 8500 }, { "85.5", true, 8550 }, { "85.55", true, 8555 },
		{ "0.01", true, 1 }, { "85.555", false, 0 }, { "\"85\"", false, 0 },
		{ "1e300", false, 0 }, { "-2.5", true, -250 }, { "0.29", true, 29 },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		struct json_object *v = json_tokener_parse(cases[i].in);
		int64_t got = 0;

		assert_int_equal(program_hundredths(v, &got), cases[i].ok);
		if (cases[i].ok)
			assert_int_equal(got, cases[i].want);
		json_object_put(v);
	}
}

/* ---- with a database ---- */

static enum at_rc import_file(struct testdb_fx *f, const char *path, bool replace,
			      struct program **out, char *msg, size_t cap)
{
	struct jsonschema_report rep;
	struct program *p = parse_file(f->a, path);
	enum at_rc rc = program_import(f->db, f->a, p, replace, 1000, &rep);

	(void)snprintf(msg, cap, "%s", rep.n ? rep.msg[0] : "");
	if (out)
		*out = p;
	return rc;
}

static void test_import_seeds(void **state)
{
	struct testdb_fx *f = *state;
	struct program *p = NULL, *l = NULL;
	char msg[512];

	assert_int_equal(import_file(f, "examples/programs/call-certification.json", false, &p,
				     msg, sizeof(msg)), AT_OK);
	assert_true(p->id > 0);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM checklist"), 1);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM checklist_item"), 10);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM item_competency"), 10);
	assert_int_equal(testdb_count(f->db, "SELECT pass_mark FROM checklist"), 8500);
	assert_int_equal(testdb_count(f->db, "SELECT max_score FROM checklist"), 10000);
	assert_int_equal(testdb_count(f->db, "SELECT critical FROM checklist_item WHERE key ="
				      " 'verification'"), 1);
	assert_int_equal(testdb_count(f->db, "SELECT max_points FROM checklist_item WHERE key ="
				      " 'discovery'"), 500);
	assert_int_equal(testdb_count(f->db, "SELECT position FROM checklist_item WHERE key ="
				      " 'closing'"), 8);
	assert_int_equal(import_file(f, "examples/programs/level-two-trainer.json", false, &l,
				     msg, sizeof(msg)), AT_OK);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM checklist_item"), 22);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM item_competency"), 20);
	/* the same key again: refused without --replace */
	assert_int_equal(import_file(f, "examples/programs/call-certification.json", false, NULL,
				     msg, sizeof(msg)), AT_CONFLICT);
	assert_string_equal(msg, "program \"call-certification\" exists (version 1); use"
			    " --replace to replace it");
	/* load it back */
	{
		struct program *q = NULL;

		assert_int_equal(program_load(f->db, f->a, "call-certification", 0, &q), AT_OK);
		assert_int_equal(q->id, p->id);
		assert_int_equal(q->version, 1);
		assert_int_equal(program_checklist(q, "call")->pass_mark, 8500);
		assert_int_equal(program_load(f->db, f->a, NULL, l->id, &q), AT_OK);
		assert_string_equal(q->key, "level-two-trainer");
		assert_int_equal(program_load(f->db, f->a, "nope", 0, &q), AT_NOTFOUND);
	}
}

static void count_row(const struct program_row *r, void *ud)
{
	int *n = ud;

	assert_true(r->id > 0);
	assert_non_null(r->key);
	assert_int_equal(r->n_checklists, 1);
	(*n)++;
}

static void test_replace(void **state)
{
	struct testdb_fx *f = *state;
	struct program *p = NULL;
	char msg[512];
	int n = 0;
	int64_t user, plat, enr, cl;

	assert_int_equal(import_file(f, "examples/programs/call-certification.json", false, &p,
				     msg, sizeof(msg)), AT_OK);
	assert_int_equal(import_file(f, "examples/programs/call-certification.json", true, &p,
				     msg, sizeof(msg)), AT_OK);
	assert_int_equal(p->version, 2);
	assert_int_equal(testdb_count(f->db, "SELECT version FROM program"), 2);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM program"), 1);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM checklist_item"), 10);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM item_competency"), 10);
	{
		struct program *q = NULL;

		assert_int_equal(program_load(f->db, f->a, "call-certification", 0, &q), AT_OK);
		assert_int_equal(q->version, 2);
	}
	assert_int_equal(program_each(f->db, count_row, &n), AT_OK);
	assert_int_equal(n, 1);
	/* once an observation exists, replacing is refused and nothing changes */
	plat = insert_id(f->db, "INSERT INTO platform (issuer, client_id, auth_endpoint, jwks_uri,"
			 " created_at) VALUES (?1, ?2, 'a', 'j', 0) RETURNING id", "https://i",
			 "c", 0);
	user = insert_id(f->db, "INSERT INTO app_user (sub, name, platform_id, created_at,"
			 " updated_at) VALUES (?1, ?2, ?3, 0, 0) RETURNING id", "u1", "U", plat);
	{
		struct db_stmt *st = NULL;
		bool row;

		assert_int_equal(db_prepare(f->db, "INSERT INTO enrolment (program_id, user_id,"
					    " started_at) VALUES (?1, ?2, 0) RETURNING id", &st), AT_OK);
		db_bind_i64(st, 1, p->id);
		db_bind_i64(st, 2, user);
		assert_int_equal(db_step(st, &row), AT_OK);
		enr = db_col_i64(st, 0);
		assert_int_equal(db_run(st), AT_OK);
		db_finalize(st);
		cl = testdb_count(f->db, "SELECT id FROM checklist");
		assert_int_equal(db_prepare(f->db, "INSERT INTO observation (enrolment_id,"
					    " checklist_id, assessor_id, observed_at, created_at,"
					    " updated_at) VALUES (?1, ?2, ?3, 0, 0, 0)", &st), AT_OK);
		db_bind_i64(st, 1, enr);
		db_bind_i64(st, 2, cl);
		db_bind_i64(st, 3, user);
		assert_int_equal(db_run(st), AT_OK);
		db_finalize(st);
	}
	assert_int_equal(import_file(f, "examples/programs/call-certification.json", true, &p,
				     msg, sizeof(msg)), AT_CONFLICT);
	assert_string_equal(msg, "program \"call-certification\" has 1 observation on its"
			    " checklists: it cannot be replaced; import the new definition under"
			    " a new key");
	assert_int_equal(testdb_count(f->db, "SELECT version FROM program"), 2);
	assert_int_equal(testdb_count(f->db, "SELECT id FROM checklist"), cl);
}

static const struct {
	const char *doc, *msg;
} ref_cases[] = {
	{ "{\"key\":\"p\",\"title\":\"P\",\"version\":1,\"frameworks\":[\"NOPE\"],"
	  "\"checklists\":[{\"key\":\"c\",\"title\":\"C\",\"items\":[" ITEM "]}],\"rule\":" RULE "}",
	  "$.frameworks[0]: no framework with idnumber \"NOPE\" (import it first)" },
	{ "{\"key\":\"p\",\"title\":\"P\",\"version\":1,\"frameworks\":[\"CALL\"],"
	  "\"checklists\":[{\"key\":\"c\",\"title\":\"C\",\"items\":[" ITEM ",{\"key\":\"b\","
	  "\"kind\":\"yesno\",\"label\":\"B\",\"competencies\":[\"CALL-OPEN\",\"L2T-FAC\"]}]}],"
	  "\"rule\":" RULE "}",
	  "$.checklists[0].items[1].competencies[1]: competency \"L2T-FAC\" is not in framework"
	  " CALL" },
	{ "{\"key\":\"p\",\"title\":\"P\",\"version\":1,\"frameworks\":[\"L2T\"],"
	  "\"tiers\":[{\"key\":\"t\",\"label\":\"T\",\"targets\":[{\"competency\":\"L2T-FAC\","
	  "\"level\":6}]}],"
	  "\"checklists\":[{\"key\":\"c\",\"title\":\"C\",\"items\":[" ITEM "]}],\"rule\":" RULE "}",
	  "$.tiers[0].targets[0].level: 6 is above the top of the scale of framework L2T (5"
	  " levels)" },
	{ "{\"key\":\"p\",\"title\":\"P\",\"version\":1,\"frameworks\":[\"L2T\",\"CALL\"],"
	  "\"evidence\":[{\"key\":\"e\",\"label\":\"E\",\"kinds\":[\"file\"],\"competencies\":"
	  "[\"XX\"]}],"
	  "\"checklists\":[{\"key\":\"c\",\"title\":\"C\",\"items\":[" ITEM "]}],\"rule\":" RULE "}",
	  "$.evidence[0].competencies[0]: competency \"XX\" is not in frameworks named by the"
	  " program" },
	{ "{\"key\":\"p\",\"title\":\"P\",\"version\":1,\"assessor_qualification\":{\"program\":"
	  "\"other\",\"outcome\":\"pass\"},"
	  "\"checklists\":[{\"key\":\"c\",\"title\":\"C\",\"items\":[" ITEM "]}],\"rule\":" RULE "}",
	  "$.assessor_qualification.program: no program \"other\" (import it first)" },
};

static void test_bad_references(void **state)
{
	struct testdb_fx *f = *state;

	for (size_t i = 0; i < NELEM(ref_cases); i++) {
		struct jsonschema_report rep;
		struct program *p = NULL;

		assert_int_equal(program_parse(f->a, ref_cases[i].doc, strlen(ref_cases[i].doc), &p,
					       &rep), AT_OK);
		assert_int_equal(program_import(f->db, f->a, p, false, 1, &rep), AT_BADREQ);
		if (strcmp(rep.msg[0], ref_cases[i].msg) != 0)
			fail_msg("case %zu: \"%s\", want \"%s\"", i, rep.msg[0], ref_cases[i].msg);
		assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM program"), 0);
		assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM checklist"), 0);
	}
	/* the database keeps working after the rollbacks */
	{
		char msg[256];

		assert_int_equal(import_file(f, "examples/programs/call-certification.json", false,
					     NULL, msg, sizeof(msg)), AT_OK);
	}
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_schema_in_sync),
		cmocka_unit_test(test_seeds_parse),
		cmocka_unit_test(test_validation),
		cmocka_unit_test(test_hundredths),
	};
	const struct CMUnitTest sqlite[] = {
		SQ(test_import_seeds), SQ(test_replace), SQ(test_bad_references),
	};
	const struct CMUnitTest pg[] = {
		PG(test_import_seeds), PG(test_replace), PG(test_bad_references),
	};
	int rc = cmocka_run_group_tests_name("program", plain, NULL, NULL);

	return rc + TESTDB_RUN("program", sqlite, pg);
}
