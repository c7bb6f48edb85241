/* test_framework.c: competency frameworks — scale validation, rule evaluation, CSV and
 * CASE parsing, import/export round trips (fixtures in tests/fixtures/frameworks and the
 * examples), rejection of broken files with nothing stored, storage and --replace. The
 * storage tests run on SQLite and, when ATTEST_TEST_PG is set, on PostgreSQL (each test in
 * its own schema). Run from the repository root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/framework.h"
#include "tests/unit/support/testdb.h"

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "fw", false, NULL); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "fw", true, NULL); }
static int setup_pure(void **state)
{
	struct testdb_fx *f = calloc(1, sizeof(*f));

	f->a = arena_new();
	*state = f;
	return 0;
}

/* Read a whole file into the arena (NUL-terminated). */
static char *slurp(struct arena *a, const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n > 0);
	rewind(fp);
	buf = arena_alloc(a, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

static const char HDR[] =
	"\"Parent id number\",\"Id number\",Shortname,Description,\"Description format\","
	"\"Scale values\",\"Scale configuration\",\"Rule type (optional)\","
	"\"Rule outcome (optional)\",\"Rule config (optional)\","
	"\"Cross referenced competency id numbers\",\"Exported id (optional)\","
	"\"Is framework\",Taxonomy\n";
#define FWROW ",F1,Frame,,1,\"No,Yes\",\"[{\"\"scaleid\"\":\"\"1\"\"},{\"\"id\"\":2," \
	"\"\"scaledefault\"\":1,\"\"proficient\"\":1}]\",,,,,,1,\"\"\n"

/* ---- pure ---- */

static void test_scale_validation(void **state)
{
	struct testdb_fx *f = *state;
	static const struct { const char *json; enum at_rc want; const char *msg; } cases[] = {
		{ "[{\"name\":\"Not yet competent\",\"proficient\":false,\"default\":true},"
		  "{\"name\":\"Competent\",\"proficient\":true,\"default\":false}]", AT_OK, "" },
		{ "[{\"name\":\"A\",\"proficient\":true,\"default\":true}]", AT_OK, "" },
		{ "[]", AT_BADREQ, "no values" },
		{ "{}", AT_BADREQ, "not a JSON array" },
		{ "[{\"name\":\"A\",\"proficient\":false,\"default\":true}]", AT_BADREQ,
		  "no proficient" },
		{ "[{\"name\":\"A\",\"proficient\":true}]", AT_BADREQ, "no default" },
		{ "[{\"name\":\"A\",\"proficient\":true,\"default\":true},"
		  "{\"name\":\"B\",\"default\":true}]", AT_BADREQ, "more than one default" },
		{ "[{\"name\":\"A,B\",\"proficient\":true,\"default\":true}]", AT_BADREQ, "comma" },
		{ "[{\"name\":\"\",\"proficient\":true,\"default\":true}]", AT_BADREQ, "no name" },
		{ "[{\"proficient\":true,\"default\":true}]", AT_BADREQ, "name: missing" },
		{ "[{\"name\":\"A\",\"proficient\":1,\"default\":true}]", AT_BADREQ,
		  "not a boolean" },
		{ "[{\"name\":\"A\",\"proficient\":true,\"default\":true},{\"name\":\"A\"}]",
		  AT_BADREQ, "twice" },
		{ "[{\"name\":\"A\"", AT_BADREQ, "invalid JSON" },
	};
	struct framework_scale s;
	struct at_err err;

	for (size_t i = 0; i < NELEM(cases); i++) {
		err.msg[0] = '\0';
		assert_int_equal(framework_scale_parse(f->a, cases[i].json, &s, &err), cases[i].want);
		if (cases[i].want != AT_OK && strstr(err.msg, cases[i].msg) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].msg);
	}
	/* stored form round-trips */
	assert_int_equal(framework_scale_parse(f->a, cases[0].json, &s, &err), AT_OK);
	assert_string_equal(framework_scale_json(f->a, &s), cases[0].json);
	/* Moodle scale text */
	assert_int_equal(fw_moodle_scale(f->a, "1,2,3,4,5", "[{\"scaleid\":\"9\"},{\"id\":3,"
					 "\"scaledefault\":1,\"proficient\":1},{\"id\":\"4\","
					 "\"scaledefault\":\"0\",\"proficient\":\"1\"},{\"id\":5,"
					 "\"proficient\":true}]", &s, &err), AT_OK);
	assert_int_equal(s.n, 5);
	assert_false(s.items[1].proficient);
	assert_true(s.items[2].proficient && s.items[2].is_default);
	assert_true(s.items[3].proficient && s.items[4].proficient && !s.items[4].is_default);
	assert_int_equal(fw_moodle_scale(f->a, "A,B", "[{\"scaleid\":\"1\"},{\"id\":3,"
					 "\"scaledefault\":1,\"proficient\":1}]", &s, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "is not a scale value"));
	assert_int_equal(fw_moodle_scale(f->a, "A,,B", "[{\"scaleid\":\"1\"}]", &s, &err),
			 AT_BADREQ);
	assert_int_equal(fw_moodle_scale(f->a, "A,B", "[{\"id\":1}]", &s, &err), AT_BADREQ);
}

static void test_rule_eval(void **state)
{
	struct testdb_fx *f = *state;
	static const char *const kids[] = { "a", "b", "c" };
	static const struct {
		const char *type, *config;
		bool prof[3];
		size_t n;
		enum framework_rule_result want;
	} cases[] = {
		{ "all", "", { true, true, true }, 3, FRAMEWORK_RULE_MET },
		{ "all", "", { true, false, true }, 3, FRAMEWORK_RULE_UNMET },
		{ "all", "", { false }, 0, FRAMEWORK_RULE_UNMET },
		{ "none", "", { true, true, true }, 3, FRAMEWORK_RULE_NA },
		{ "manual", "", { true, true, true }, 3, FRAMEWORK_RULE_NA },
		{ "points", "{\"base\":{\"points\":2},\"competencies\":[{\"idnumber\":\"a\","
		  "\"points\":1},{\"idnumber\":\"b\",\"points\":1},{\"idnumber\":\"c\",\"points\":1}]}",
		  { true, false, true }, 3, FRAMEWORK_RULE_MET },
		{ "points", "{\"base\":{\"points\":2},\"competencies\":[{\"idnumber\":\"a\","
		  "\"points\":1},{\"idnumber\":\"b\",\"points\":1},{\"idnumber\":\"c\",\"points\":1}]}",
		  { false, false, true }, 3, FRAMEWORK_RULE_UNMET },
		{ "points", "{\"base\":{\"points\":1},\"competencies\":[{\"idnumber\":\"a\","
		  "\"points\":1,\"required\":true},{\"idnumber\":\"b\",\"points\":5}]}",
		  { false, true, false }, 3, FRAMEWORK_RULE_UNMET },
		{ "points", "{\"base\":{\"points\":\"3\"},\"competencies\":[{\"idnumber\":\"a\","
		  "\"points\":2,\"required\":1},{\"idnumber\":\"b\",\"points\":\"1\"}]}",
		  { true, true, false }, 3, FRAMEWORK_RULE_MET },
		{ "points", "{\"base\":{\"points\":1},\"competencies\":[{\"idnumber\":\"z\","
		  "\"points\":1}]}", { true, true, true }, 3, FRAMEWORK_RULE_UNMET },
	};
	static const struct { const char *config, *msg; } bad[] = {
		{ "", "empty" },
		{ "{\"base\":{\"points\":0},\"competencies\":[{\"idnumber\":\"a\",\"points\":1}]}",
		  "base.points" },
		{ "{\"base\":{\"points\":3},\"competencies\":[{\"idnumber\":\"a\",\"points\":1}]}",
		  "exceed" },
		{ "{\"base\":{\"points\":1},\"competencies\":[]}", "non-empty" },
		{ "{\"base\":{\"points\":1},\"competencies\":[{\"idnumber\":\"a\",\"points\":-1}]}",
		  "points must" },
		{ "{\"base\":{\"points\":1},\"competencies\":[{\"idnumber\":\"a\",\"points\":1},"
		  "{\"idnumber\":\"a\",\"points\":1}]}", "twice" },
		{ "{\"base\":{\"points\":1},\"competencies\":[{\"points\":1}]}", "idnumber: missing" },
	};
	struct framework_rule r, back;
	struct at_err err;

	for (size_t i = 0; i < NELEM(cases); i++) {
		assert_int_equal(framework_rule_parse(f->a, cases[i].type, cases[i].config, &r,
						      &err), AT_OK);
		if (framework_rule_eval(&r, cases[i].n, kids, cases[i].prof) != cases[i].want)
			fail_msg("rule case %zu", i);
	}
	for (size_t i = 0; i < NELEM(bad); i++) {
		err.msg[0] = '\0';
		assert_int_equal(framework_rule_parse(f->a, "points", bad[i].config, &r, &err),
				 AT_BADREQ);
		if (strstr(err.msg, bad[i].msg) == NULL)
			fail_msg("bad rule %zu: '%s' lacks '%s'", i, err.msg, bad[i].msg);
	}
	assert_int_equal(framework_rule_parse(f->a, "some", "", &r, &err), AT_BADREQ);
	/* stored config round-trips */
	assert_int_equal(framework_rule_parse(f->a, "points", cases[7].config, &r, &err), AT_OK);
	assert_int_equal(framework_rule_parse(f->a, "points", framework_rule_config_json(f->a, &r),
					      &back, &err), AT_OK);
	assert_int_equal(back.base, 1);
	assert_int_equal(back.n, 2);
	assert_true(back.items[0].required);
	assert_int_equal(back.items[1].points, 5);
}

static void test_text_checks(void **state)
{
	static const struct { const char *s; size_t len; enum at_rc want; } cases[] = {
		{ "abc", 3, AT_OK }, { "caf\xc3\xa9", 5, AT_OK }, { "\xe2\x80\x99", 3, AT_OK },
		{ "\xf0\x9f\x98\x80", 4, AT_OK }, { "", 0, AT_BADREQ }, { "a\0b", 3, AT_BADREQ },
		{ "\xc3", 1, AT_BADREQ }, { "\xc0\xaf", 2, AT_BADREQ }, { "\xed\xa0\x80", 3, AT_BADREQ },
		{ "\xff", 1, AT_BADREQ }, { "ok\n\x80", 4, AT_BADREQ }, { "\xe0\x80\xaf", 3, AT_BADREQ },
	};
	struct at_err err;

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++)
		if (framework_check_text(cases[i].s, cases[i].len, &err) != cases[i].want)
			fail_msg("utf8 case %zu", i);
	assert_int_equal(framework_check_text("ok\n\x80", 4, &err), AT_BADREQ);
	assert_string_equal(err.msg, "line 2: invalid UTF-8");
	assert_int_equal(framework_check_text("x", (size_t)FRAMEWORK_MAX_FILE + 1, &err),
			 AT_TOOBIG);
	assert_int_equal(framework_guess_format("\xef\xbb\xbf \n{", 6), FRAMEWORK_FMT_CASE);
	assert_int_equal(framework_guess_format("\"Parent", 7), FRAMEWORK_FMT_MOODLE);
}

static void test_csv_edges(void **state)
{
	struct testdb_fx *f = *state;
	struct framework_tree *t = NULL;
	struct at_err err = { "" };
	/* BOM, CRLF, a quoted field with an embedded CRLF and doubled quotes, a blank line,
	 * a child before its parent */
	const char *csv =
		"\xef\xbb\xbf\"Parent id number\",\"Id number\",Shortname,Description,"
		"\"Description format\",\"Scale values\",\"Scale configuration\","
		"\"Rule type (optional)\",\"Rule outcome (optional)\",\"Rule config (optional)\","
		"\"Cross referenced competency id numbers\",\"Exported id (optional)\","
		"\"Is framework\",Taxonomy\r\n"
		",F1,\"Frame, one\",\"say \"\"hi\"\"\r\nnext line\",1,\"No,Yes\",\"[{\"\"scaleid\"\":"
		"\"\"1\"\"},{\"\"id\"\":2,\"\"scaledefault\"\":1,\"\"proficient\"\":1}]\",,,,,,1,"
		"\"domain,skill,behaviour\"\r\n"
		"\r\n"
		"A,A1,Child,,1,,,,0,null,,2,,\r\n"
		",A,Top,,1,,,,0,null,,1,,\r\n"
		"A1,A1a,Grandchild,,1,,,,0,null,,3,0,";

	assert_int_equal(fw_moodle_parse(f->a, csv, strlen(csv), &t, &err), AT_OK);
	assert_string_equal(t->fw.shortname, "Frame, one");
	assert_string_equal(t->fw.description, "say \"hi\"\r\nnext line");
	assert_string_equal(t->fw.taxonomies, "domain,skill,behaviour");
	assert_int_equal(t->n, 3);
	assert_string_equal(t->items[0]->idnumber, "A");
	assert_string_equal(t->items[1]->idnumber, "A1");
	assert_string_equal(t->items[2]->idnumber, "A1a");
	assert_int_equal(t->items[2]->depth, 3);
	assert_ptr_equal(t->items[2]->parent, t->items[1]);
	assert_int_equal(t->fw.scale.n, 2);
	assert_true(t->fw.scale.items[1].is_default);
}

/* Broken Moodle files: the message names the line and the problem. */
static const struct { const char *body, *msg; bool raw; } BAD_CSV[] = {
	{ "", "empty", true },
	{ "a,b\n", "line 1: expected 14 columns, found 2", true },
	{ FWROW, "no framework row", true },	/* the framework row taken as the header */
	{ "\n\n", "the file is empty", true },
	{ FWROW "A,B,C\n", "line 3: expected 14 columns, found 3", false },
	{ FWROW ",A,Top,,1,,,,0,null,,1,,\n,A,Again,,1,,,,0,null,,2,,\n",
	  "line 4: duplicate id number 'A' (first at line 3)", false },
	{ FWROW "X,A,Top,,1,,,,0,null,,1,,\n", "line 3: parent id number 'X' not found", false },
	{ FWROW "B,A,One,,1,,,,0,null,,1,,\nA,B,Two,,1,,,,0,null,,2,,\n", "parent cycle", false },
	{ FWROW "A,A,Self,,1,,,,0,null,,1,,\n", "its own parent", false },
	{ FWROW ",,NoId,,1,,,,0,null,,1,,\n", "line 3: id number: missing", false },
	{ FWROW ",A,,,1,,,,0,null,,1,,\n", "line 3: short name: missing", false },
	{ FWROW ",A,\"unterminated,,1,,,,0,null,,1,,\n", "line 3: unterminated quoted field", false },
	{ FWROW ",A,\"x\"y,,1,,,,0,null,,1,,\n", "line 3: unexpected character after a closing", false },
	{ FWROW ",A,x\"y,,1,,,,0,null,,1,,\n", "line 3: quote inside an unquoted field", false },
	{ FWROW ",A,Top,,1,,,bogus_rule,0,null,,1,,\n", "line 3: unknown rule type 'bogus_rule'", false },
	{ FWROW ",A,Top,,1,,,,7,null,,1,,\n", "line 3: rule outcome '7'", false },
	{ FWROW ",A,Top,,1,,,\"core_competency\\competency_rule_points\",0,"
	  "\"{\"\"base\"\":{\"\"points\"\":1},\"\"competencies\"\":[{\"\"id\"\":9,\"\"points\"\":1,"
	  "\"\"required\"\":0}]}\",,1,,\n", "line 3: rule config: competency id 9 is not an exported", false },
	{ FWROW ",A,Top,,1,,,\"core_competency\\competency_rule_points\",0,"
	  "\"{\"\"base\"\":{\"\"points\"\":5},\"\"competencies\"\":[{\"\"id\"\":2,\"\"points\"\":1,"
	  "\"\"required\"\":0}]}\",,1,,\nA,B,Kid,,1,,,,0,null,,2,,\n", "line 3: rule config: base points 5"
	  " exceed", false },
	{ FWROW ",A,Top,,1,,,\"core_competency\\competency_rule_points\",0,"
	  "\"{\"\"base\"\":{\"\"points\"\":1},\"\"competencies\"\":[{\"\"id\"\":2,\"\"points\"\":1,"
	  "\"\"required\"\":0}]}\",,1,,\n,B,NotKid,,1,,,,0,null,,2,,\n",
	  "line 3: rule config: 'B' is not a child of 'A'", false },
	{ FWROW ",A,Top,,1,,,,0,null,NOPE,1,,\n", "line 3: cross-referenced id number 'NOPE'", false },
	{ FWROW ",A,Top,,1,,,,0,null,,1,,\n,B,Two,,1,,,,0,null,,1,,\n",
	  "line 4: exported id 1 is used twice (first at line 3)", false },
	{ FWROW FWROW, "line 3: a second framework row (the first is on line 2)", false },
	{ ",F1,Frame,,1,\"No,Yes\",\"[{\"\"scaleid\"\":\"\"1\"\"},{\"\"id\"\":2,"
	  "\"\"scaledefault\"\":0,\"\"proficient\"\":1}]\",,,,,,1,\n", "line 2: scale: no default", false },
	{ ",F1,Frame,,1,\"No,Yes\",\"[{\"\"scaleid\"\":\"\"1\"\"},{\"\"id\"\":1,"
	  "\"\"scaledefault\"\":1,\"\"proficient\"\":0}]\",,,,,,1,\n", "line 2: scale: no proficient", false },
	{ ",F1,Frame,,1,\"No,Yes\",\"[{\"\"scaleid\"\":\"\"1\"\"},{\"\"id\"\":2,"
	  "\"\"scaledefault\"\":1,\"\"proficient\"\":1}]\",,,,,,1,\"domain,gizmo\"\n",
	  "line 2: unknown taxonomy term 'gizmo'", false },
	{ ",F1,Frame,,1,,,,,,,,1,\n", "line 2: scale values: missing", false },
	{ FWROW ",A,Top,,1,\"x,y\",\"[{\"\"scaleid\"\":\"\"1\"\"}]\",,0,null,,1,,\n",
	  "line 3: scale: no default", false },
	{ FWROW ",A,Top,,1,,,,0,null,,1,,\n,B,Bad \xff,,1,,,,0,null,,2,,\n",
	  "line 4: invalid UTF-8", false },
};

static void test_moodle_reject(void **state)
{
	struct testdb_fx *f = *state;
	struct framework_import_result res;
	struct at_err err;

	for (size_t i = 0; i < NELEM(BAD_CSV); i++) {
		const char *data = arena_printf(f->a, "%s%s", BAD_CSV[i].raw ? "" : HDR,
						BAD_CSV[i].body);

		err.msg[0] = '\0';
		if (framework_import(f->db, f->a, data, strlen(data), FRAMEWORK_FMT_MOODLE, false,
				     1000, &res, &err) == AT_OK)
			fail_msg("bad csv %zu was accepted", i);
		if (strstr(err.msg, BAD_CSV[i].msg) == NULL)
			fail_msg("bad csv %zu: '%s' lacks '%s'", i, err.msg, BAD_CSV[i].msg);
		assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM framework"), 0);
		assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM competency"), 0);
	}
}

static void check_roundtrip(struct testdb_fx *f, const char *path)
{
	struct framework_import_result res;
	struct framework_tree *t = NULL;
	struct at_err err = { "" };
	size_t len = 0, outlen = 0;
	char *data = slurp(f->a, path, &len), *out = NULL;

	if (framework_import(f->db, f->a, data, len, FRAMEWORK_FMT_GUESS, false, 1000, &res,
			     &err) != AT_OK)
		fail_msg("%s: %s", path, err.msg);
	assert_int_equal(framework_load(f->db, f->a, res.framework_id, &t), AT_OK);
	assert_int_equal(fw_moodle_write(f->a, t, &out, &outlen, &err), AT_OK);
	assert_int_equal(outlen, len);
	assert_memory_equal(out, data, len);
	assert_int_equal(framework_delete(f->db, res.framework_id), AT_OK);
}

static void test_moodle_roundtrip(void **state)
{
	struct testdb_fx *f = *state;
	struct framework_import_result res;
	struct framework_tree *t = NULL;
	struct framework fw;
	struct at_err err = { "" };
	size_t len = 0, outlen = 0, n = 0;
	char *data, *crlf, *out = NULL;

	check_roundtrip(f, "tests/fixtures/frameworks/moodle-export.csv");
	check_roundtrip(f, "examples/frameworks/call-certification.csv");
	check_roundtrip(f, "examples/frameworks/level-two-trainer.csv");
	/* the same file with a BOM and CRLF exports as the LF original */
	data = slurp(f->a, "tests/fixtures/frameworks/moodle-export.csv", &len);
	crlf = arena_alloc(f->a, 2 * len + 4);
	memcpy(crlf, "\xef\xbb\xbf", 3);
	n = 3;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = data[i];
	}
	assert_int_equal(framework_import(f->db, f->a, crlf, n, FRAMEWORK_FMT_GUESS, false, 1000,
					  &res, &err), AT_OK);
	assert_int_equal(framework_find(f->db, f->a, "SAFE-FW", &fw), AT_OK);
	assert_int_equal(framework_load(f->db, f->a, fw.id, &t), AT_OK);
	/* descriptions keep their CRLF (inside quotes); compare the tree instead */
	assert_int_equal(t->n, 8);
	assert_string_equal(t->items[0]->idnumber, "hazards");
	assert_int_equal(t->items[0]->rule.type, FRAMEWORK_RULE_ALL);
	assert_int_equal(fw_moodle_write(f->a, t, &out, &outlen, &err), AT_OK);
	assert_non_null(strstr(out, "core_competency\\competency_rule_points\",3,\"{\"\"base"));
	/* the points rule named children by exported id; Attest stores id numbers */
	{
		struct framework_comp *eq = framework_tree_find(t, "equipment");

		assert_non_null(eq);
		assert_int_equal(eq->rule.type, FRAMEWORK_RULE_POINTS);
		assert_int_equal(eq->rule.base, 3);
		assert_string_equal(eq->rule.items[1].idnumber, "ppe,gloves");
		assert_true(eq->rule.items[0].required);
		assert_non_null(framework_tree_find(t, "ppe,gloves")->scale);
		assert_int_equal(framework_tree_find(t, "ppe,gloves")->scale->n, 3);
	}
}

static void test_storage_tree(void **state)
{
	struct testdb_fx *f = *state;
	struct framework fw, got, *list = NULL;
	struct framework_comp c1, c2, c3, c4, cg;
	struct framework_tree *t = NULL;
	struct at_err err = { "" };
	size_t n = 0;

	memset(&fw, 0, sizeof(fw));
	fw.idnumber = "T1";
	fw.shortname = "Tree";
	fw.scale_json = "[{\"name\":\"1\",\"proficient\":false,\"default\":false},"
			"{\"name\":\"2\",\"proficient\":true,\"default\":true}]";
	assert_int_equal(framework_create(f->db, f->a, &fw, 100, &err), AT_OK);
	assert_true(fw.id > 0);
	assert_int_equal(framework_create(f->db, f->a, &fw, 100, &err), AT_CONFLICT);
	fw.idnumber = "T2";
	fw.scale.n = 0;
	fw.scale_json = "[{\"name\":\"x\",\"proficient\":false,\"default\":true}]";
	assert_int_equal(framework_create(f->db, f->a, &fw, 100, &err), AT_BADREQ);
	fw.idnumber = "T1";
	assert_int_equal(framework_find(f->db, f->a, "T1", &got), AT_OK);
	assert_int_equal(got.scale.n, 2);
	memset(&c1, 0, sizeof(c1));
	c1.idnumber = "root";
	c1.shortname = "Root";
	c1.rule.type = FRAMEWORK_RULE_ALL;
	assert_int_equal(framework_comp_add(f->db, f->a, got.id, 0, &c1, &err), AT_OK);
	c2 = c1;
	c2.idnumber = "mid";
	c2.shortname = "Mid";
	assert_int_equal(framework_comp_add(f->db, f->a, got.id, c1.id, &c2, &err), AT_OK);
	c3 = c1;
	c3.idnumber = "leaf";
	c3.shortname = "Leaf";
	c3.rule.type = FRAMEWORK_RULE_NONE;
	assert_int_equal(framework_comp_add(f->db, f->a, got.id, c2.id, &c3, &err), AT_OK);
	c4 = c3;
	c4.idnumber = "leaf2";
	assert_int_equal(framework_comp_add(f->db, f->a, got.id, c2.id, &c4, &err), AT_OK);
	assert_int_equal(c4.sortorder, 1);
	c4.idnumber = "leaf";
	assert_int_equal(framework_comp_add(f->db, f->a, got.id, c2.id, &c4, &err), AT_CONFLICT);
	c4.idnumber = "orphan";
	assert_int_equal(framework_comp_add(f->db, f->a, got.id, 999999, &c4, &err), AT_NOTFOUND);
	assert_int_equal(framework_comp_get(f->db, f->a, c3.id, &cg), AT_OK);
	assert_string_equal(cg.path, arena_printf(f->a, "/0/%lld/%lld/", (long long)c1.id,
						  (long long)c2.id));
	assert_int_equal(framework_load(f->db, f->a, got.id, &t), AT_OK);
	assert_int_equal(t->n, 4);
	assert_string_equal(t->items[0]->idnumber, "root");
	assert_string_equal(t->items[2]->idnumber, "leaf");
	assert_string_equal(t->items[3]->idnumber, "leaf2");
	assert_int_equal(t->items[3]->depth, 3);
	assert_int_equal(t->items[0]->rule.type, FRAMEWORK_RULE_ALL);
	assert_int_equal(framework_resolve(f->db, f->a, "T1", &got), AT_OK);
	assert_int_equal(framework_resolve(f->db, f->a, arena_printf(f->a, "%lld",
						(long long)got.id), &got), AT_OK);
	assert_int_equal(framework_resolve(f->db, f->a, "nope", &got), AT_NOTFOUND);
	assert_int_equal(framework_list(f->db, f->a, &list, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(list[0].ncomps, 4);
	assert_int_equal(framework_delete(f->db, got.id), AT_OK);
	assert_int_equal(framework_delete(f->db, got.id), AT_NOTFOUND);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM competency"), 0);
}

static void test_replace(void **state)
{
	struct testdb_fx *f = *state;
	struct framework_import_result res;
	struct framework_tree *t = NULL;
	struct at_err err = { "" };
	const char *v1 = arena_printf(f->a, "%s%s", HDR, FWROW
		",A,Top,,1,,,,0,null,,1,,\nA,B,Kid,,1,,,,0,null,,2,,\nA,C,Gone,,1,,,,0,null,,3,,\n");
	const char *v2 = arena_printf(f->a, "%s%s", HDR, FWROW
		",D,New top,,1,,,,0,null,,1,,\nD,B,Kid moved,,1,,,,0,null,,2,,\n"
		"B,A,Now a grandchild,,1,,,,0,null,,3,,\n");
	int64_t id_a, id_b;

	assert_int_equal(framework_import(f->db, f->a, v1, strlen(v1), FRAMEWORK_FMT_GUESS, false,
					  1, &res, &err), AT_OK);
	assert_int_equal(framework_load(f->db, f->a, res.framework_id, &t), AT_OK);
	id_a = framework_tree_find(t, "A")->id;
	id_b = framework_tree_find(t, "B")->id;
	assert_int_equal(framework_import(f->db, f->a, v2, strlen(v2), FRAMEWORK_FMT_GUESS, false,
					  2, &res, &err), AT_CONFLICT);
	assert_non_null(strstr(err.msg, "--replace"));
	assert_int_equal(framework_import(f->db, f->a, v2, strlen(v2), FRAMEWORK_FMT_GUESS, true,
					  2, &res, &err), AT_OK);
	assert_true(res.replaced);
	assert_int_equal(res.created, 1);
	assert_int_equal(res.updated, 2);
	assert_int_equal(res.deleted, 1);
	assert_int_equal(framework_load(f->db, f->a, res.framework_id, &t), AT_OK);
	assert_int_equal(t->n, 3);
	assert_int_equal(framework_tree_find(t, "A")->id, id_a);
	assert_int_equal(framework_tree_find(t, "B")->id, id_b);
	assert_null(framework_tree_find(t, "C"));
	assert_int_equal(framework_tree_find(t, "A")->depth, 3);
	assert_string_equal(framework_tree_find(t, "A")->path,
			    arena_printf(f->a, "/0/%lld/%lld/", (long long)framework_tree_find(t,
					 "D")->id, (long long)id_b));
	assert_string_equal(framework_tree_find(t, "B")->shortname, "Kid moved");
	/* a broken replacement changes nothing */
	assert_int_equal(framework_import(f->db, f->a, v1, strlen(v1) - 5, FRAMEWORK_FMT_GUESS,
					  true, 3, &res, &err), AT_BADREQ);
	assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM competency"), 3);
}

static void test_case_roundtrip(void **state)
{
	struct testdb_fx *f = *state;
	struct framework_import_result res;
	struct framework_tree *t = NULL, *back = NULL;
	struct at_err err = { "" };
	size_t len = 0, outlen = 0, out2len = 0;
	char *data = slurp(f->a, "tests/fixtures/frameworks/case-small.json", &len);
	char *out = NULL, *out2 = NULL;

	assert_int_equal(framework_import(f->db, f->a, data, len, FRAMEWORK_FMT_GUESS, false, 1000,
					  &res, &err), AT_OK);
	assert_non_null(strstr(res.notes, "isRelatedTo"));
	assert_int_equal(framework_load(f->db, f->a, res.framework_id, &t), AT_OK);
	assert_string_equal(t->fw.idnumber, "c5e3a1b0-1d2e-4f3a-9b8c-7d6e5f4a3b21");
	assert_int_equal(t->n, 5);
	/* humanCodingScheme ids; sequenceNumber orders siblings (WC.1.1 before WC.1.2) */
	assert_string_equal(t->items[0]->idnumber, "WC.1");
	assert_string_equal(t->items[0]->shortname, "Writing");
	assert_string_equal(t->items[0]->description, "Communicates in writing");
	assert_string_equal(t->items[1]->idnumber, "WC.1.1");
	assert_string_equal(t->items[2]->idnumber, "WC.1.2");
	assert_string_equal(t->items[3]->idnumber, "WC.1.2.a");
	assert_int_equal(t->items[3]->depth, 3);
	assert_string_equal(t->items[4]->idnumber, "WC.2");
	/* rubric levels sorted by score; upper half proficient */
	assert_int_equal(t->fw.scale.n, 3);
	assert_string_equal(t->fw.scale.items[0].name, "Not competent");
	assert_false(t->fw.scale.items[0].proficient);
	assert_true(t->fw.scale.items[1].is_default);
	assert_int_equal(fw_case_write(f->a, t, &out, &outlen, &err), AT_OK);
	assert_non_null(strstr(out, "\"identifier\": \"0a000000-0000-4000-8000-000000000004\""));
	assert_non_null(strstr(out, "\"uri\": \"https://case.example.org/items/4\""));
	assert_non_null(strstr(out, "\"creator\": \"Example Standards Office\""));
	/* re-parse our export: same tree, identifiers, statements, scale */
	assert_int_equal(fw_case_parse(f->a, out, outlen, &back, &err), AT_OK);
	assert_int_equal(back->n, t->n);
	for (size_t i = 0; i < t->n; i++) {
		assert_string_equal(back->items[i]->idnumber, t->items[i]->idnumber);
		assert_string_equal(back->items[i]->shortname, t->items[i]->shortname);
		assert_string_equal(back->items[i]->description, t->items[i]->description);
		assert_string_equal(back->items[i]->parent_idnumber,
				    t->items[i]->parent ? t->items[i]->parent->idnumber : "");
	}
	assert_true(framework_scale_equal(&back->fw.scale, &t->fw.scale));
	/* export -> import --replace -> export is stable */
	assert_int_equal(framework_import(f->db, f->a, out, outlen, FRAMEWORK_FMT_CASE, true, 1000,
					  &res, &err), AT_OK);
	assert_int_equal(framework_load(f->db, f->a, res.framework_id, &t), AT_OK);
	assert_int_equal(fw_case_write(f->a, t, &out2, &out2len, &err), AT_OK);
	assert_int_equal(out2len, outlen);
	assert_memory_equal(out2, out, outlen);
	/* a Moodle framework to CASE gets stable v5 identifiers */
	assert_string_equal(fw_case_uuid(f->a, "competency:SAFE-FW\nhazards"),
			    fw_case_uuid(f->a, "competency:SAFE-FW\nhazards"));
	assert_int_equal(fw_case_uuid(f->a, "x")[14], '5');
}

static const struct { const char *json, *msg; } BAD_CASE[] = {
	{ "[]", "$: not a JSON object" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"}", "$: invalid JSON" },
	{ "{}", "$.CFDocument: missing" },
	{ "{\"CFDocument\":{\"title\":\"T\"}}", "$.CFDocument.identifier: missing" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"},\"CFItems\":[{\"fullStatement\":"
	  "\"x\"},{\"identifier\":\"i\"}]}", "$.CFItems[0].identifier: missing" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"},\"CFItems\":[{\"identifier\":"
	  "\"i\",\"fullStatement\":\"x\"},{\"identifier\":\"j\"}]}",
	  "$.CFItems[1].fullStatement: missing" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"},\"CFItems\":[{\"identifier\":"
	  "\"i\",\"fullStatement\":\"x\"},{\"identifier\":\"i\",\"fullStatement\":\"y\"}]}",
	  "$.CFItems[1].identifier: duplicate 'i' (first at $.CFItems[0])" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"},\"CFItems\":[{\"identifier\":"
	  "\"i\",\"fullStatement\":\"x\"}],\"CFAssociations\":[{\"associationType\":\"isChildOf\","
	  "\"originNodeURI\":{\"identifier\":\"i\"},\"destinationNodeURI\":{\"identifier\":\"zz\"}}]}",
	  "$.CFAssociations[0].destinationNodeURI.identifier: 'zz' is neither" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"},\"CFItems\":[{\"identifier\":"
	  "\"i\",\"fullStatement\":\"x\"}],\"CFAssociations\":[{\"associationType\":\"isChildOf\","
	  "\"originNodeURI\":{\"identifier\":\"q\"},\"destinationNodeURI\":{\"identifier\":\"d\"}}]}",
	  "$.CFAssociations[0].originNodeURI.identifier: 'q' is not a CFItem" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"},\"CFItems\":[{\"identifier\":"
	  "\"i\",\"fullStatement\":\"x\"},{\"identifier\":\"j\",\"fullStatement\":\"y\"}],"
	  "\"CFAssociations\":[{\"associationType\":\"isChildOf\",\"originNodeURI\":{\"identifier\":"
	  "\"i\"},\"destinationNodeURI\":{\"identifier\":\"j\"}},{\"associationType\":\"isChildOf\","
	  "\"originNodeURI\":{\"identifier\":\"j\"},\"destinationNodeURI\":{\"identifier\":\"i\"}}]}",
	  "parent cycle" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"},\"CFAssociations\":[{}]}",
	  "$.CFAssociations[0].associationType: missing" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"},\"CFRubrics\":[{}]}",
	  "$.CFRubrics[0].CFRubricCriteria: missing" },
	{ "{\"CFDocument\":{\"identifier\":\"d\",\"title\":\"T\"}} x", "trailing data" },
};

static void test_case_reject(void **state)
{
	struct testdb_fx *f = *state;
	struct framework_import_result res;
	struct at_err err;

	for (size_t i = 0; i < NELEM(BAD_CASE); i++) {
		err.msg[0] = '\0';
		if (framework_import(f->db, f->a, BAD_CASE[i].json, strlen(BAD_CASE[i].json),
				     FRAMEWORK_FMT_CASE, false, 1, &res, &err) == AT_OK)
			fail_msg("bad case %zu was accepted", i);
		if (strstr(err.msg, BAD_CASE[i].msg) == NULL)
			fail_msg("bad case %zu: '%s' lacks '%s'", i, err.msg, BAD_CASE[i].msg);
		assert_int_equal(testdb_count(f->db, "SELECT COUNT(*) FROM framework"), 0);
	}
}

#define PURE(t) cmocka_unit_test_setup_teardown(t, setup_pure, testdb_fx_teardown)
#define BOTH(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest pure[] = {
		PURE(test_scale_validation), PURE(test_rule_eval), PURE(test_text_checks),
		PURE(test_csv_edges),
	};
	const struct CMUnitTest sqlite[] = {
		BOTH(test_moodle_reject), BOTH(test_moodle_roundtrip), BOTH(test_storage_tree),
		BOTH(test_replace), BOTH(test_case_roundtrip), BOTH(test_case_reject),
	};
	const struct CMUnitTest pg[] = {
		PG(test_moodle_reject), PG(test_moodle_roundtrip), PG(test_storage_tree),
		PG(test_replace), PG(test_case_roundtrip), PG(test_case_reject),
	};
	int rc = cmocka_run_group_tests_name("framework_pure", pure, NULL, NULL);

	return rc + TESTDB_RUN("framework", sqlite, pg);
}
