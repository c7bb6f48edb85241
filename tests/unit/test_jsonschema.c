/* test_jsonschema.c: the JSON Schema subset, keyword by keyword, with the error paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core/jsonschema.h"

/* Validate doc against schema; returns the rc and copies the first message into msg. */
static enum at_rc check(const char *schema, const char *doc, char *msg, size_t cap,
			size_t *total)
{
	struct json_object *s = json_tokener_parse(schema), *d = json_tokener_parse(doc);
	struct arena *a = arena_new();
	struct jsonschema_report rep;
	enum at_rc rc;

	assert_non_null(s);
	rc = jsonschema_validate(s, d, a, &rep);
	(void)snprintf(msg, cap, "%s", rep.n ? rep.msg[0] : "");
	if (total)
		*total = rep.total;
	json_object_put(s);
	json_object_put(d);
	arena_free(a);
	return rc;
}

static const struct {
	const char *schema, *doc;
	enum at_rc want;
	const char *msg;	/* the first error, exactly; NULL for valid */
} cases[] = {
	/* type */
	{ "{\"type\":\"string\"}", "\"x\"", AT_OK, NULL },
	{ "{\"type\":\"string\"}", "1", AT_BADREQ, "$: must be string, not integer" },
	{ "{\"type\":\"integer\"}", "2.0", AT_OK, NULL },
	{ "{\"type\":\"integer\"}", "2.5", AT_BADREQ, "$: must be integer, not number" },
	{ "{\"type\":\"number\"}", "2", AT_OK, NULL },
	{ "{\"type\":[\"string\",\"null\"]}", "null", AT_OK, NULL },
	{ "{\"type\":[\"string\",\"null\"]}", "true", AT_BADREQ,
	  "$: must be string or null, not boolean" },
	{ "{\"type\":\"object\"}", "[]", AT_BADREQ, "$: must be object, not array" },
	/* properties, required, additionalProperties */
	{ "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}", "{\"a\":\"x\"}",
	  AT_BADREQ, "$.a: must be integer, not string" },
	{ "{\"type\":\"object\",\"required\":[\"key\"]}", "{}", AT_BADREQ,
	  "$.key: required property is missing" },
	{ "{\"type\":\"object\",\"properties\":{\"a\":true},\"additionalProperties\":false}",
	  "{\"a\":1,\"b\":2}", AT_BADREQ, "$.b: unknown property" },
	{ "{\"type\":\"object\",\"additionalProperties\":{\"type\":\"integer\"}}",
	  "{\"x y\":\"s\"}", AT_BADREQ, "$[\"x y\"]: must be integer, not string" },
	/* items, minItems, maxItems, uniqueItems */
	{ "{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}", "[1,2,\"3\"]", AT_BADREQ,
	  "$[2]: must be integer, not string" },
	{ "{\"type\":\"array\",\"minItems\":1}", "[]", AT_BADREQ, "$: must have at least 1 item" },
	{ "{\"type\":\"array\",\"maxItems\":2}", "[1,2,3]", AT_BADREQ,
	  "$: must have at most 2 items" },
	{ "{\"type\":\"array\",\"uniqueItems\":true}", "[1,2,1]", AT_BADREQ,
	  "$[2]: duplicates item 0" },
	/* enum, const */
	{ "{\"enum\":[\"yesno\",\"rating\",\"points\",\"comment\"]}", "\"stars\"", AT_BADREQ,
	  "$: must be one of yesno, rating, points, comment" },
	{ "{\"enum\":[1,2]}", "2.0", AT_OK, NULL },
	{ "{\"const\":\"k_of_last_n\"}", "\"x\"", AT_BADREQ, "$: must be k_of_last_n" },
	/* minimum, maximum */
	{ "{\"type\":\"number\",\"minimum\":0}", "-1", AT_BADREQ, "$: must be >= 0" },
	{ "{\"type\":\"number\",\"maximum\":100}", "100.5", AT_BADREQ, "$: must be <= 100" },
	{ "{\"type\":\"number\",\"minimum\":0.01}", "0.01", AT_OK, NULL },
	/* minLength, maxLength (code points, not bytes), pattern */
	{ "{\"type\":\"string\",\"minLength\":1}", "\"\"", AT_BADREQ, "$: must not be empty" },
	{ "{\"type\":\"string\",\"maxLength\":2}", "\"\\u00e9\\u00e9\"", AT_OK, NULL },
	{ "{\"type\":\"string\",\"maxLength\":2}", "\"abc\"", AT_BADREQ,
	  "$: must be at most 2 characters" },
	{ "{\"type\":\"string\",\"pattern\":\"^[a-z]+$\"}", "\"Ab\"", AT_BADREQ,
	  "$: must match the pattern ^[a-z]+$" },
	/* $ref */
	{ "{\"$defs\":{\"k\":{\"type\":\"string\"}},\"type\":\"object\","
	  "\"properties\":{\"a\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/k\"}}}}",
	  "{\"a\":[\"x\",5]}", AT_BADREQ, "$.a[1]: must be string, not integer" },
	/* anyOf / oneOf */
	{ "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "true", AT_BADREQ,
	  "$: must be string or integer, not boolean" },
	{ "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}]}", "3", AT_OK, NULL },
	{ "{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"number\"}]}", "3", AT_BADREQ,
	  "$: matches more than one alternative" },
	{ "{\"oneOf\":[{\"type\":\"integer\"},{\"type\":\"string\"}]}", "3", AT_OK, NULL },
	/* allOf */
	{ "{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":5}]}", "3", AT_BADREQ, "$: must be >= 5" },
	/* boolean schemas */
	{ "false", "1", AT_BADREQ, "$: is not allowed here" },
	{ "true", "1", AT_OK, NULL },
	/* broken schemas */
	{ "{\"minProperties\":1}", "{}", AT_INTERNAL,
	  "schema error at $: unsupported keyword \"minProperties\"" },
	{ "{\"$ref\":\"#/$defs/none\"}", "1", AT_INTERNAL,
	  "schema error at $: $ref does not resolve in this schema" },
	{ "{\"type\":\"string\",\"pattern\":\"(\"}", "\"x\"", AT_INTERNAL,
	  "schema error at $: pattern is not a valid POSIX extended regular expression" },
	{ "{\"type\":\"strin\"}", "1", AT_INTERNAL, "schema error at $: unknown type name" },
	{ "{\"$defs\":{\"l\":{\"$ref\":\"#/$defs/l\"}},\"$ref\":\"#/$defs/l\"}", "1", AT_INTERNAL,
	  "schema error at $: schema nesting too deep (a $ref loop?)" },
};

static void test_table(void **state)
{
	char msg[512];

	(void)state;
	for (size_t i = 0; i < NELEM(cases); i++) {
		enum at_rc rc = check(cases[i].schema, cases[i].doc, msg, sizeof(msg), NULL);

		if (rc != cases[i].want || strcmp(msg, cases[i].msg ? cases[i].msg : "") != 0)
			fail_msg("case %zu: %s on %s: rc %d, \"%s\"", i, cases[i].schema,
				 cases[i].doc, rc, msg);
	}
}

/* A discriminated oneOf reports the errors of the alternative the document picked. */
static const char DISC[] =
	"{\"$defs\":{"
	"\"a\":{\"type\":\"object\",\"required\":[\"type\",\"k\"],\"additionalProperties\":false,"
	"\"properties\":{\"type\":{\"const\":\"k_of_last_n\"},\"k\":{\"type\":\"integer\","
	"\"minimum\":1}}},"
	"\"b\":{\"type\":\"object\",\"required\":[\"type\",\"rules\"],\"additionalProperties\":false,"
	"\"properties\":{\"type\":{\"const\":\"all\"},\"rules\":{\"type\":\"array\",\"items\":"
	"{\"$ref\":\"#/$defs/r\"}}}},"
	"\"r\":{\"oneOf\":[{\"$ref\":\"#/$defs/a\"},{\"$ref\":\"#/$defs/b\"}]}},"
	"\"type\":\"object\",\"properties\":{\"rule\":{\"$ref\":\"#/$defs/r\"}}}";

static void test_discriminator(void **state)
{
	char msg[512];
	size_t total = 0;

	(void)state;
	assert_int_equal(check(DISC, "{\"rule\":{\"type\":\"all\",\"rules\":[{\"type\":"
			       "\"k_of_last_n\",\"k\":1}]}}", msg, sizeof(msg), NULL), AT_OK);
	assert_int_equal(check(DISC, "{\"rule\":{\"type\":\"k_of_last_n\",\"k\":0}}", msg,
			       sizeof(msg), &total), AT_BADREQ);
	assert_string_equal(msg, "$.rule.k: must be >= 1");
	assert_int_equal(total, 1);
	assert_int_equal(check(DISC, "{\"rule\":{\"type\":\"all\",\"rules\":[{\"type\":"
			       "\"k_of_last_n\",\"k\":1,\"x\":2}]}}", msg, sizeof(msg), &total),
			 AT_BADREQ);
	assert_string_equal(msg, "$.rule.rules[0].x: unknown property");
	assert_int_equal(check(DISC, "{\"rule\":{\"type\":\"some\"}}", msg, sizeof(msg), NULL),
			 AT_BADREQ);
	assert_string_equal(msg, "$.rule.type: must be one of k_of_last_n, all");
	assert_int_equal(check(DISC, "{\"rule\":{\"k\":1}}", msg, sizeof(msg), NULL), AT_BADREQ);
	assert_string_equal(msg, "$.rule.type: required property is missing");
	assert_int_equal(check(DISC, "{\"rule\":7}", msg, sizeof(msg), NULL), AT_BADREQ);
	assert_string_equal(msg, "$.rule: must be object, not integer");
}

/* Many errors: all counted, the first JSONSCHEMA_MAX_ERRORS kept, in document order. */
static void test_many_errors(void **state)
{
	struct json_object *s = json_tokener_parse("{\"type\":\"array\",\"items\":{\"type\":"
						   "\"string\"}}");
	struct json_object *d = json_object_new_array();
	struct arena *a = arena_new();
	struct jsonschema_report rep;

	(void)state;
	for (int i = 0; i < 30; i++)
		json_object_array_add(d, json_object_new_int(i));
	assert_int_equal(jsonschema_validate(s, d, a, &rep), AT_BADREQ);
	assert_int_equal(rep.total, 30);
	assert_int_equal(rep.n, JSONSCHEMA_MAX_ERRORS);
	assert_string_equal(rep.msg[0], "$[0]: must be string, not integer");
	assert_string_equal(rep.msg[19], "$[19]: must be string, not integer");
	json_object_put(s);
	json_object_put(d);
	arena_free(a);
}

static void test_paths(void **state)
{
	char p[32] = "$";
	size_t n = 1;

	(void)state;
	n = jsonschema_path_key(p, n, sizeof(p), "checklists");
	n = jsonschema_path_index(p, n, sizeof(p), 12);
	n = jsonschema_path_key(p, n, sizeof(p), "a-b");
	assert_string_equal(p, "$.checklists[12][\"a-b\"]");
	n = jsonschema_path_key(p, n, sizeof(p), "a-very-long-key-that-overflows");
	assert_true(n < sizeof(p));
	assert_int_equal(strlen(p), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_discriminator),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_paths),
	};

	return cmocka_run_group_tests_name("jsonschema", tests, NULL, NULL);
}
