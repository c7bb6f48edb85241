/* program.c: program definitions — parse, validate, resolve references, store.
 *
 * A definition goes through three gates, and nothing is stored unless it passes all:
 * the JSON Schema (docs/program.schema.json, compiled in below), semantic checks that a
 * schema cannot express (unique keys, references between parts, pass mark within the
 * maximum, at most two decimals), and references into the database (frameworks and
 * competency idnumbers). The rows are then written in one transaction.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "core/program.h"

/* docs/program.schema.json, verbatim (test_program checks they are equal). */
/* schema:begin */
static const char SCHEMA[] =
	"{\n"
	"  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n"
	"  \"$id\": \"https://attest.invalid/schema/program.schema.json\",\n"
	"  \"title\": \"Attest program definition\",\n"
	"  \"description\": \"A certification program: frameworks and target levels, checklists, evidence, third-party feedback, deadlines, validity, assessor qualification and the certification rule. See docs/programs.md. Points are decimal numbers with at most two decimals (stored in hundredths).\",\n"
	"  \"type\": \"object\",\n"
	"  \"required\": [\"key\", \"title\", \"version\", \"checklists\", \"rule\"],\n"
	"  \"additionalProperties\": false,\n"
	"  \"properties\": {\n"
	"    \"$schema\": { \"type\": \"string\" },\n"
	"    \"key\": { \"$ref\": \"#/$defs/key\" },\n"
	"    \"title\": { \"$ref\": \"#/$defs/label\" },\n"
	"    \"version\": { \"type\": \"integer\", \"minimum\": 1, \"maximum\": 1000000 },\n"
	"    \"description\": { \"$ref\": \"#/$defs/text\" },\n"
	"    \"frameworks\": {\n"
	"      \"type\": \"array\",\n"
	"      \"items\": { \"$ref\": \"#/$defs/idnumber\" },\n"
	"      \"maxItems\": 20,\n"
	"      \"uniqueItems\": true\n"
	"    },\n"
	"    \"tiers\": {\n"
	"      \"type\": \"array\",\n"
	"      \"items\": { \"$ref\": \"#/$defs/tier\" },\n"
	"      \"minItems\": 1,\n"
	"      \"maxItems\": 20\n"
	"    },\n"
	"    \"reconciliation\": {\n"
	"      \"enum\": [\"assessor_wins\", \"minimum\", \"mean\", \"agree_within_one\"]\n"
	"    },\n"
	"    \"checklists\": {\n"
	"      \"type\": \"array\",\n"
	"      \"items\": { \"$ref\": \"#/$defs/checklist\" },\n"
	"      \"minItems\": 1,\n"
	"      \"maxItems\": 50\n"
	"    },\n"
	"    \"evidence\": {\n"
	"      \"type\": \"array\",\n"
	"      \"items\": { \"$ref\": \"#/$defs/evidence\" },\n"
	"      \"maxItems\": 100\n"
	"    },\n"
	"    \"feedback_forms\": {\n"
	"      \"type\": \"array\",\n"
	"      \"items\": { \"$ref\": \"#/$defs/feedback_form\" },\n"
	"      \"maxItems\": 20\n"
	"    },\n"
	"    \"deadlines\": { \"$ref\": \"#/$defs/deadlines\" },\n"
	"    \"validity\": { \"$ref\": \"#/$defs/validity\" },\n"
	"    \"assessor_qualification\": { \"$ref\": \"#/$defs/assessor_qualification\" },\n"
	"    \"rule\": { \"$ref\": \"#/$defs/rule\" }\n"
	"  },\n"
	"  \"$defs\": {\n"
	"    \"key\": {\n"
	"      \"type\": \"string\",\n"
	"      \"pattern\": \"^[a-z0-9][a-z0-9_-]*$\",\n"
	"      \"maxLength\": 64\n"
	"    },\n"
	"    \"idnumber\": { \"type\": \"string\", \"minLength\": 1, \"maxLength\": 100 },\n"
	"    \"label\": { \"type\": \"string\", \"minLength\": 1, \"maxLength\": 300 },\n"
	"    \"text\": { \"type\": \"string\", \"maxLength\": 8000 },\n"
	"    \"points\": { \"type\": \"number\", \"minimum\": 0, \"maximum\": 1000000 },\n"
	"    \"nonneg\": { \"type\": \"integer\", \"minimum\": 0, \"maximum\": 100000 },\n"
	"    \"positive\": { \"type\": \"integer\", \"minimum\": 1, \"maximum\": 100000 },\n"
	"    \"competencies\": {\n"
	"      \"type\": \"array\",\n"
	"      \"items\": { \"$ref\": \"#/$defs/idnumber\" },\n"
	"      \"maxItems\": 50,\n"
	"      \"uniqueItems\": true\n"
	"    },\n"
	"    \"date\": {\n"
	"      \"type\": \"string\",\n"
	"      \"pattern\": \"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\"\n"
	"    },\n"
	"    \"tier\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"key\", \"label\", \"targets\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"key\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"label\": { \"$ref\": \"#/$defs/label\" },\n"
	"        \"description\": { \"$ref\": \"#/$defs/text\" },\n"
	"        \"targets\": {\n"
	"          \"type\": \"array\",\n"
	"          \"minItems\": 1,\n"
	"          \"maxItems\": 200,\n"
	"          \"items\": {\n"
	"            \"type\": \"object\",\n"
	"            \"required\": [\"competency\", \"level\"],\n"
	"            \"additionalProperties\": false,\n"
	"            \"properties\": {\n"
	"              \"competency\": { \"$ref\": \"#/$defs/idnumber\" },\n"
	"              \"level\": { \"type\": \"integer\", \"minimum\": 1, \"maximum\": 100 }\n"
	"            }\n"
	"          }\n"
	"        },\n"
	"        \"requires\": { \"$ref\": \"#/$defs/condition\" }\n"
	"      }\n"
	"    },\n"
	"    \"item\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"key\", \"kind\", \"label\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"key\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"kind\": { \"enum\": [\"yesno\", \"rating\", \"points\", \"comment\"] },\n"
	"        \"label\": { \"$ref\": \"#/$defs/label\" },\n"
	"        \"help\": { \"$ref\": \"#/$defs/text\" },\n"
	"        \"competencies\": { \"$ref\": \"#/$defs/competencies\" },\n"
	"        \"weight\": { \"type\": \"number\", \"minimum\": 0, \"maximum\": 100 },\n"
	"        \"max_points\": { \"type\": \"number\", \"minimum\": 0.01, \"maximum\": 10000 },\n"
	"        \"critical\": { \"type\": \"boolean\" },\n"
	"        \"required\": { \"type\": \"boolean\" }\n"
	"      }\n"
	"    },\n"
	"    \"feedback_field\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"key\", \"label\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"key\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"label\": { \"$ref\": \"#/$defs/label\" },\n"
	"        \"help\": { \"$ref\": \"#/$defs/text\" },\n"
	"        \"required\": { \"type\": \"boolean\" }\n"
	"      }\n"
	"    },\n"
	"    \"checklist\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"key\", \"title\", \"items\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"key\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"title\": { \"$ref\": \"#/$defs/label\" },\n"
	"        \"description\": { \"$ref\": \"#/$defs/text\" },\n"
	"        \"raters\": {\n"
	"          \"type\": \"array\",\n"
	"          \"items\": { \"enum\": [\"assessor\", \"self\"] },\n"
	"          \"minItems\": 1,\n"
	"          \"uniqueItems\": true\n"
	"        },\n"
	"        \"pass_mark\": { \"$ref\": \"#/$defs/points\" },\n"
	"        \"max_score\": { \"$ref\": \"#/$defs/points\" },\n"
	"        \"items\": {\n"
	"          \"type\": \"array\",\n"
	"          \"items\": { \"$ref\": \"#/$defs/item\" },\n"
	"          \"minItems\": 1,\n"
	"          \"maxItems\": 200\n"
	"        },\n"
	"        \"feedback\": {\n"
	"          \"type\": \"array\",\n"
	"          \"items\": { \"$ref\": \"#/$defs/feedback_field\" },\n"
	"          \"maxItems\": 20\n"
	"        }\n"
	"      }\n"
	"    },\n"
	"    \"evidence\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"key\", \"label\", \"kinds\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"key\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"label\": { \"$ref\": \"#/$defs/label\" },\n"
	"        \"help\": { \"$ref\": \"#/$defs/text\" },\n"
	"        \"kinds\": {\n"
	"          \"type\": \"array\",\n"
	"          \"items\": { \"enum\": [\"file\", \"link\", \"note\"] },\n"
	"          \"minItems\": 1,\n"
	"          \"uniqueItems\": true\n"
	"        },\n"
	"        \"competencies\": { \"$ref\": \"#/$defs/competencies\" },\n"
	"        \"checklist\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"min_count\": { \"$ref\": \"#/$defs/nonneg\" },\n"
	"        \"required\": { \"type\": \"boolean\" }\n"
	"      }\n"
	"    },\n"
	"    \"form_field\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"key\", \"label\", \"kind\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"key\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"label\": { \"$ref\": \"#/$defs/label\" },\n"
	"        \"kind\": { \"enum\": [\"rating\", \"text\", \"yesno\"] },\n"
	"        \"min\": { \"type\": \"integer\", \"minimum\": 0, \"maximum\": 100 },\n"
	"        \"max\": { \"type\": \"integer\", \"minimum\": 1, \"maximum\": 100 },\n"
	"        \"required\": { \"type\": \"boolean\" },\n"
	"        \"scored\": { \"type\": \"boolean\" }\n"
	"      }\n"
	"    },\n"
	"    \"feedback_form\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"key\", \"title\", \"fields\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"key\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"title\": { \"$ref\": \"#/$defs/label\" },\n"
	"        \"description\": { \"$ref\": \"#/$defs/text\" },\n"
	"        \"link_valid_days\": { \"$ref\": \"#/$defs/positive\" },\n"
	"        \"fields\": {\n"
	"          \"type\": \"array\",\n"
	"          \"items\": { \"$ref\": \"#/$defs/form_field\" },\n"
	"          \"minItems\": 1,\n"
	"          \"maxItems\": 50\n"
	"        }\n"
	"      }\n"
	"    },\n"
	"    \"deadlines\": {\n"
	"      \"type\": \"object\",\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"complete_within_business_days\": { \"$ref\": \"#/$defs/nonneg\" },\n"
	"        \"escalation\": {\n"
	"          \"type\": \"array\",\n"
	"          \"maxItems\": 20,\n"
	"          \"items\": {\n"
	"            \"type\": \"object\",\n"
	"            \"required\": [\"key\", \"label\", \"after_business_days\"],\n"
	"            \"additionalProperties\": false,\n"
	"            \"properties\": {\n"
	"              \"key\": { \"$ref\": \"#/$defs/key\" },\n"
	"              \"label\": { \"$ref\": \"#/$defs/label\" },\n"
	"              \"help\": { \"$ref\": \"#/$defs/text\" },\n"
	"              \"after_business_days\": { \"$ref\": \"#/$defs/nonneg\" }\n"
	"            }\n"
	"          }\n"
	"        },\n"
	"        \"holidays\": {\n"
	"          \"type\": \"array\",\n"
	"          \"items\": { \"$ref\": \"#/$defs/date\" },\n"
	"          \"maxItems\": 1000,\n"
	"          \"uniqueItems\": true\n"
	"        }\n"
	"      }\n"
	"    },\n"
	"    \"validity\": {\n"
	"      \"type\": \"object\",\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"days\": { \"type\": \"integer\", \"minimum\": 1, \"maximum\": 36500 },\n"
	"        \"recertification\": {\n"
	"          \"type\": \"object\",\n"
	"          \"additionalProperties\": false,\n"
	"          \"properties\": {\n"
	"            \"opens_days_before_expiry\": { \"$ref\": \"#/$defs/nonneg\" },\n"
	"            \"rule\": { \"$ref\": \"#/$defs/rule\" }\n"
	"          }\n"
	"        }\n"
	"      }\n"
	"    },\n"
	"    \"assessor_qualification\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"program\", \"outcome\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"program\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"outcome\": { \"$ref\": \"#/$defs/key\" }\n"
	"      }\n"
	"    },\n"
	"    \"rater\": { \"enum\": [\"assessor\", \"self\"] },\n"
	"    \"k_of_last_n\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"type\", \"checklist\", \"k\", \"n\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"type\": { \"const\": \"k_of_last_n\" },\n"
	"        \"checklist\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"k\": { \"$ref\": \"#/$defs/positive\" },\n"
	"        \"n\": { \"$ref\": \"#/$defs/positive\" },\n"
	"        \"min_score\": { \"$ref\": \"#/$defs/points\" },\n"
	"        \"window_days\": { \"$ref\": \"#/$defs/positive\" },\n"
	"        \"min_distinct_assessors\": { \"$ref\": \"#/$defs/positive\" },\n"
	"        \"percent\": { \"type\": \"boolean\" },\n"
	"        \"rater\": { \"$ref\": \"#/$defs/rater\" }\n"
	"      }\n"
	"    },\n"
	"    \"count\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"type\", \"checklist\", \"min\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"type\": { \"const\": \"count\" },\n"
	"        \"checklist\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"min\": { \"$ref\": \"#/$defs/positive\" },\n"
	"        \"passed_only\": { \"type\": \"boolean\" },\n"
	"        \"distinct_sessions\": { \"type\": \"boolean\" },\n"
	"        \"rater\": { \"$ref\": \"#/$defs/rater\" }\n"
	"      }\n"
	"    },\n"
	"    \"feedback\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"type\", \"form\", \"min_responses\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"type\": { \"const\": \"feedback\" },\n"
	"        \"form\": { \"$ref\": \"#/$defs/key\" },\n"
	"        \"min_responses\": { \"$ref\": \"#/$defs/nonneg\" },\n"
	"        \"min_average\": { \"$ref\": \"#/$defs/points\" }\n"
	"      }\n"
	"    },\n"
	"    \"all\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"type\", \"rules\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"type\": { \"const\": \"all\" },\n"
	"        \"rules\": {\n"
	"          \"type\": \"array\",\n"
	"          \"items\": { \"$ref\": \"#/$defs/condition\" },\n"
	"          \"minItems\": 1,\n"
	"          \"maxItems\": 20\n"
	"        }\n"
	"      }\n"
	"    },\n"
	"    \"any\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"type\", \"rules\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"type\": { \"const\": \"any\" },\n"
	"        \"rules\": {\n"
	"          \"type\": \"array\",\n"
	"          \"items\": { \"$ref\": \"#/$defs/condition\" },\n"
	"          \"minItems\": 1,\n"
	"          \"maxItems\": 20\n"
	"        }\n"
	"      }\n"
	"    },\n"
	"    \"tiers\": {\n"
	"      \"type\": \"object\",\n"
	"      \"required\": [\"type\"],\n"
	"      \"additionalProperties\": false,\n"
	"      \"properties\": {\n"
	"        \"type\": { \"const\": \"tiers\" },\n"
	"        \"requires\": { \"$ref\": \"#/$defs/condition\" },\n"
	"        \"fallback\": { \"$ref\": \"#/$defs/key\" }\n"
	"      }\n"
	"    },\n"
	"    \"condition\": {\n"
	"      \"oneOf\": [\n"
	"        { \"$ref\": \"#/$defs/k_of_last_n\" },\n"
	"        { \"$ref\": \"#/$defs/count\" },\n"
	"        { \"$ref\": \"#/$defs/feedback\" },\n"
	"        { \"$ref\": \"#/$defs/all\" },\n"
	"        { \"$ref\": \"#/$defs/any\" }\n"
	"      ]\n"
	"    },\n"
	"    \"rule\": {\n"
	"      \"oneOf\": [\n"
	"        { \"$ref\": \"#/$defs/k_of_last_n\" },\n"
	"        { \"$ref\": \"#/$defs/count\" },\n"
	"        { \"$ref\": \"#/$defs/feedback\" },\n"
	"        { \"$ref\": \"#/$defs/all\" },\n"
	"        { \"$ref\": \"#/$defs/any\" },\n"
	"        { \"$ref\": \"#/$defs/tiers\" }\n"
	"      ]\n"
	"    }\n"
	"  }\n"
	"}\n";
/* schema:end */

#define JSON_DEPTH 48
#define MAX_DEFINITION (4u << 20)

const char *program_schema(void)
{
	return SCHEMA;
}

/* ---- small JSON readers (children are borrowed; type-checked before use) ---- */

static struct json_object *get(struct json_object *o, const char *k, enum json_type t)
{
	struct json_object *v;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, t))
		return NULL;
	return v;
}

static const char *get_str(struct json_object *o, const char *k, const char *def)
{
	struct json_object *v = get(o, k, json_type_string);

	return v ? json_object_get_string(v) : def;
}

static int64_t get_int(struct json_object *o, const char *k, int64_t def)
{
	struct json_object *v = get(o, k, json_type_int);

	return v ? json_object_get_int64(v) : def;
}

static bool get_bool(struct json_object *o, const char *k, bool def)
{
	struct json_object *v = get(o, k, json_type_boolean);

	return v ? json_object_get_boolean(v) != 0 : def;
}

static size_t arr_len(struct json_object *arr)
{
	return arr ? json_object_array_length(arr) : 0;
}

bool program_hundredths(struct json_object *v, int64_t *out)
{
	double d, h;
	int64_t r;

	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i > 10000000000 || i < -10000000000)
			return false;
		*out = i * 100;
		return true;
	}
	if (!json_object_is_type(v, json_type_double))
		return false;
	d = json_object_get_double(v);
	if (!(d >= -1e10 && d <= 1e10))
		return false;	/* also NaN */
	h = d * 100.0;
	r = (int64_t)(h + (h >= 0 ? 0.5 : -0.5));
	if (h - (double)r > 1e-6 || (double)r - h > 1e-6)
		return false;	/* more than two decimals */
	*out = r;
	return true;
}

/* ---- parsing and semantic checks ---- */

struct pctx {
	struct arena *a;
	struct jsonschema_report *rep;
	struct program *p;
};

static void bad(struct pctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void bad(struct pctx *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	jsonschema_report_add(c->rep, c->a, "%s", line);
}

/* Read points at key into *out (hundredths); def when absent. */
static void points(struct pctx *c, struct json_object *o, const char *key, int64_t def,
		   int64_t *out, const char *path)
{
	struct json_object *v;

	*out = def;
	if (!json_object_object_get_ex(o, key, &v))
		return;
	if (!program_hundredths(v, out)) {
		bad(c, "%s.%s: at most two decimals", path, key);
		*out = def;
	}
}

static const char **str_list(struct arena *a, struct json_object *arr, size_t *n)
{
	const char **out;

	*n = arr_len(arr);
	out = arena_zalloc(a, (*n + 1) * sizeof(*out));
	for (size_t i = 0; i < *n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);

		out[i] = json_object_is_type(e, json_type_string) ?
			arena_strdup(a, json_object_get_string(e)) : "";
	}
	return out;
}

/* Report a key seen before among the first n of keys[]. */
static void unique(struct pctx *c, const char *const *keys, size_t n, const char *path,
		   const char *what)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(keys[i], keys[j]) == 0) {
				bad(c, "%s[%zu].key: duplicate %s key \"%s\"", path, i, what, keys[i]);
				break;
			}
}

static enum program_kind kind_of(const char *s)
{
	if (strcmp(s, "rating") == 0)
		return PROGRAM_RATING;
	if (strcmp(s, "points") == 0)
		return PROGRAM_POINTS;
	if (strcmp(s, "comment") == 0)
		return PROGRAM_COMMENT;
	return PROGRAM_YESNO;
}

static void parse_checklist(struct pctx *c, struct json_object *o, size_t ci,
			    struct program_checklist *cl)
{
	struct json_object *items = get(o, "items", json_type_array);
	struct json_object *fields = get(o, "feedback", json_type_array);
	struct json_object *raters = get(o, "raters", json_type_array);
	const char **keys;
	char path[96];
	size_t scored = 0;

	(void)snprintf(path, sizeof(path), "$.checklists[%zu]", ci);
	cl->key = arena_strdup(c->a, get_str(o, "key", ""));
	cl->title = arena_strdup(c->a, get_str(o, "title", ""));
	cl->by_assessor = raters == NULL;
	for (size_t i = 0; i < arr_len(raters); i++) {
		const char *r = json_object_get_string(json_object_array_get_idx(raters, i));

		if (r && strcmp(r, "self") == 0)
			cl->by_self = true;
		else
			cl->by_assessor = true;
	}
	cl->n_items = arr_len(items);
	cl->items = arena_zalloc(c->a, (cl->n_items + 1) * sizeof(*cl->items));
	keys = arena_zalloc(c->a, (cl->n_items + 1) * sizeof(*keys));
	for (size_t i = 0; i < cl->n_items; i++) {
		struct json_object *it = json_object_array_get_idx(items, i);
		struct program_item *m = &cl->items[i];
		char ip[128];

		(void)snprintf(ip, sizeof(ip), "%s.items[%zu]", path, i);
		m->key = keys[i] = arena_strdup(c->a, get_str(it, "key", ""));
		m->label = arena_strdup(c->a, get_str(it, "label", ""));
		m->kind = kind_of(get_str(it, "kind", "yesno"));
		m->critical = get_bool(it, "critical", false);
		m->required = get_bool(it, "required", m->kind != PROGRAM_COMMENT);
		m->competencies = str_list(c->a, get(it, "competencies", json_type_array),
					   &m->n_competencies);
		points(c, it, "weight", 100, &m->weight, ip);
		points(c, it, "max_points", 0, &m->max_points, ip);
		if (m->kind == PROGRAM_POINTS && m->max_points <= 0)
			bad(c, "%s.max_points: a points item needs max_points", ip);
		if (m->kind != PROGRAM_POINTS && json_object_object_get_ex(it, "max_points", NULL))
			bad(c, "%s.max_points: only points items have max_points", ip);
		if (m->kind == PROGRAM_COMMENT && m->critical)
			bad(c, "%s.critical: a comment item cannot be critical", ip);
		if (m->kind == PROGRAM_RATING && m->n_competencies == 0)
			bad(c, "%s.competencies: a rating item needs a competency (its scale)", ip);
		if (m->kind != PROGRAM_COMMENT && m->weight > 0)
			scored++;
	}
	unique(c, keys, cl->n_items, arena_printf(c->a, "%s.items", path), "item");
	if (scored == 0 && json_object_object_get_ex(o, "pass_mark", NULL))
		bad(c, "%s.pass_mark: no item scores (all are comments or weigh 0)", path);
	points(c, o, "max_score", 10000, &cl->max_score, path);
	if (cl->max_score <= 0)
		bad(c, "%s.max_score: must be above 0", path);
	points(c, o, "pass_mark", 0, &cl->pass_mark, path);
	if (cl->pass_mark > cl->max_score)
		bad(c, "%s.pass_mark: above max_score", path);
	cl->n_feedback = arr_len(fields);
	cl->feedback = arena_zalloc(c->a, (cl->n_feedback + 1) * sizeof(*cl->feedback));
	keys = arena_zalloc(c->a, (cl->n_feedback + 1) * sizeof(*keys));
	for (size_t i = 0; i < cl->n_feedback; i++) {
		struct json_object *f = json_object_array_get_idx(fields, i);

		cl->feedback[i].key = keys[i] = arena_strdup(c->a, get_str(f, "key", ""));
		cl->feedback[i].label = arena_strdup(c->a, get_str(f, "label", ""));
		cl->feedback[i].required = get_bool(f, "required", false);
	}
	unique(c, keys, cl->n_feedback, arena_printf(c->a, "%s.feedback", path),
	       "feedback field");
}

static void parse_forms(struct pctx *c, struct json_object *arr)
{
	struct program *p = c->p;
	const char **keys;

	p->n_forms = arr_len(arr);
	p->forms = arena_zalloc(c->a, (p->n_forms + 1) * sizeof(*p->forms));
	keys = arena_zalloc(c->a, (p->n_forms + 1) * sizeof(*keys));
	for (size_t i = 0; i < p->n_forms; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct json_object *fields = get(o, "fields", json_type_array);
		struct program_form *f = &p->forms[i];
		const char **fk = arena_zalloc(c->a, (arr_len(fields) + 1) * sizeof(*fk));

		f->key = keys[i] = arena_strdup(c->a, get_str(o, "key", ""));
		f->title = arena_strdup(c->a, get_str(o, "title", ""));
		for (size_t j = 0; j < arr_len(fields); j++) {
			struct json_object *fo = json_object_array_get_idx(fields, j);
			const char *kind = get_str(fo, "kind", "text");
			int lo = (int)get_int(fo, "min", 1), hi = (int)get_int(fo, "max", 5);

			fk[j] = get_str(fo, "key", "");
			if (strcmp(kind, "rating") == 0 && lo >= hi)
				bad(c, "$.feedback_forms[%zu].fields[%zu].max: must be above min", i,
				    j);
			if (!get_bool(fo, "scored", false))
				continue;
			if (strcmp(kind, "rating") != 0)
				bad(c, "$.feedback_forms[%zu].fields[%zu].scored: only a rating field"
				    " can be scored", i, j);
			else if (f->scored_field != NULL)
				bad(c, "$.feedback_forms[%zu].fields[%zu].scored: a form has at most"
				    " one scored field", i, j);
			else {
				f->scored_field = arena_strdup(c->a, fk[j]);
				f->scored_min = lo;
				f->scored_max = hi;
			}
		}
		unique(c, fk, arr_len(fields), arena_printf(c->a, "$.feedback_forms[%zu].fields", i),
		       "field");
	}
	unique(c, keys, p->n_forms, "$.feedback_forms", "form");
}

static void parse_tiers(struct pctx *c, struct json_object *arr)
{
	struct program *p = c->p;
	const char **keys;

	p->n_tiers = arr_len(arr);
	p->tiers = arena_zalloc(c->a, (p->n_tiers + 1) * sizeof(*p->tiers));
	keys = arena_zalloc(c->a, (p->n_tiers + 1) * sizeof(*keys));
	for (size_t i = 0; i < p->n_tiers; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i);
		struct json_object *targets = get(o, "targets", json_type_array);
		struct program_tier *t = &p->tiers[i];

		t->key = keys[i] = arena_strdup(c->a, get_str(o, "key", ""));
		t->label = arena_strdup(c->a, get_str(o, "label", ""));
		t->requires = get(o, "requires", json_type_object);
		t->n_targets = arr_len(targets);
		t->targets = arena_zalloc(c->a, (t->n_targets + 1) * sizeof(*t->targets));
		for (size_t j = 0; j < t->n_targets; j++) {
			struct json_object *g = json_object_array_get_idx(targets, j);

			t->targets[j].competency = arena_strdup(c->a, get_str(g, "competency", ""));
			t->targets[j].level = (int)get_int(g, "level", 1);
			for (size_t k = 0; k < j; k++)
				if (strcmp(t->targets[k].competency, t->targets[j].competency) == 0)
					bad(c, "$.tiers[%zu].targets[%zu].competency: \"%s\" is listed"
					    " twice", i, j, t->targets[j].competency);
		}
	}
	unique(c, keys, p->n_tiers, "$.tiers", "tier");
}

static void parse_deadlines(struct pctx *c, struct json_object *o)
{
	struct program *p = c->p;
	struct json_object *esc = get(o, "escalation", json_type_array);
	const char **keys;
	struct at_err err = { "" };
	int off = 0;

	p->complete_within = (int)get_int(o, "complete_within_business_days", -1);
	p->n_steps = arr_len(esc);
	p->steps = arena_zalloc(c->a, (p->n_steps + 1) * sizeof(*p->steps));
	keys = arena_zalloc(c->a, (p->n_steps + 1) * sizeof(*keys));
	for (size_t i = 0; i < p->n_steps; i++) {
		struct json_object *s = json_object_array_get_idx(esc, i);

		p->steps[i].key = keys[i] = arena_strdup(c->a, get_str(s, "key", ""));
		p->steps[i].label = arena_strdup(c->a, get_str(s, "label", ""));
		p->steps[i].after = (int)get_int(s, "after_business_days", 0);
		off += p->steps[i].after;
		p->steps[i].offset = off;
	}
	unique(c, keys, p->n_steps, "$.deadlines.escalation", "step");
	p->holidays = str_list(c->a, get(o, "holidays", json_type_array), &p->n_holidays);
	for (size_t i = 0; i < p->n_holidays; i++) {
		int32_t d;

		if (bizdays_parse(p->holidays[i], &d) != AT_OK)
			bad(c, "$.deadlines.holidays[%zu]: \"%s\" is not a date", i,
			    p->holidays[i]);
	}
	if (bizdays_init(&p->calendar, c->a, p->holidays, p->n_holidays, &err) != AT_OK)
		p->calendar.n = 0;	/* already reported above */
}

/* Check the references of one rule or condition (recursively). */
static void check_rule(struct pctx *c, struct json_object *r, const char *path, bool top)
{
	const char *type = get_str(r, "type", "");
	struct json_object *rules;

	if (strcmp(type, "k_of_last_n") == 0 || strcmp(type, "count") == 0) {
		const char *ck = get_str(r, "checklist", "");
		int64_t ms;

		if (program_checklist(c->p, ck) == NULL)
			bad(c, "%s.checklist: no checklist \"%s\" in this program", path, ck);
		if (get_int(r, "k", 0) > get_int(r, "n", 0))
			bad(c, "%s.k: must not exceed n", path);
		points(c, r, "min_score", 0, &ms, path);
	} else if (strcmp(type, "feedback") == 0) {
		const char *fk = get_str(r, "form", "");
		const struct program_form *f = program_form(c->p, fk);
		int64_t avg;

		points(c, r, "min_average", 0, &avg, path);
		if (f == NULL)
			bad(c, "%s.form: no feedback form \"%s\" in this program", path, fk);
		else if (!json_object_object_get_ex(r, "min_average", NULL))
			return;
		else if (f->scored_field == NULL)
			bad(c, "%s.min_average: form \"%s\" has no scored field", path, fk);
		else if (avg > (int64_t)f->scored_max * 100)
			bad(c, "%s.min_average: above the form's maximum %d", path, f->scored_max);
	} else if (strcmp(type, "all") == 0 || strcmp(type, "any") == 0) {
		rules = get(r, "rules", json_type_array);
		for (size_t i = 0; i < arr_len(rules); i++)
			check_rule(c, json_object_array_get_idx(rules, i),
				   arena_printf(c->a, "%s.rules[%zu]", path, i), false);
	} else if (strcmp(type, "tiers") == 0) {
		const char *fb = get_str(r, "fallback", "not_yet");

		if (!top)
			bad(c, "%s: a tiers rule can only be the program's rule", path);
		if (c->p->n_tiers == 0)
			bad(c, "%s: a tiers rule needs the program's \"tiers\"", path);
		if (program_tier(c->p, fb) != NULL)
			bad(c, "%s.fallback: \"%s\" is also a tier", path, fb);
		if (get(r, "requires", json_type_object) != NULL)
			check_rule(c, get(r, "requires", json_type_object),
				   arena_printf(c->a, "%s.requires", path), false);
	}
}

static bool is_outcome(const struct program *p, const char *o)
{
	if (strcmp(get_str(p->rule, "type", ""), "tiers") == 0)
		return program_tier(p, o) != NULL ||
			strcmp(o, get_str(p->rule, "fallback", "not_yet")) == 0;
	return strcmp(o, "pass") == 0;
}

static void check_competency_refs(struct pctx *c)
{
	const struct program *p = c->p;
	bool any = false;

	for (size_t i = 0; i < p->n_checklists; i++)
		for (size_t j = 0; j < p->checklists[i].n_items; j++)
			if (p->checklists[i].items[j].n_competencies > 0)
				any = true;
	for (size_t i = 0; i < p->n_tiers; i++)
		if (p->tiers[i].n_targets > 0)
			any = true;
	if (any && p->n_frameworks == 0)
		bad(c, "$.frameworks: competencies are referenced, but no framework is named");
}

static bool only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

static void put_root(void *ud)
{
	json_object_put(ud);
}

enum at_rc program_parse(struct arena *a, const char *text, size_t len, struct program **out,
			 struct jsonschema_report *rep)
{
	struct json_tokener *tok = NULL;
	struct json_object *root = NULL, *schema = NULL, *arr;
	struct program *p;
	struct pctx c;
	const char **keys;
	enum json_tokener_error jerr;
	enum at_rc rc;

	memset(rep, 0, sizeof(*rep));
	*out = NULL;
	if (len > MAX_DEFINITION || len > (size_t)INT32_MAX) {
		jsonschema_report_add(rep, a, "$: the definition is larger than %u bytes",
				      MAX_DEFINITION);
		return AT_TOOBIG;
	}
	tok = json_tokener_new_ex(JSON_DEPTH);
	if (tok == NULL)
		return AT_INTERNAL;
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (root == NULL || jerr != json_tokener_success) {
		jsonschema_report_add(rep, a, "$: not valid JSON (%s, near byte %zu)",
				      jerr == json_tokener_continue || jerr == json_tokener_success ?
				      "unexpected end of data" : json_tokener_error_desc(jerr),
				      json_tokener_get_parse_end(tok));
		json_object_put(root);
		json_tokener_free(tok);
		return AT_BADREQ;
	}
	if (!only_space(text + json_tokener_get_parse_end(tok),
			len - json_tokener_get_parse_end(tok))) {
		jsonschema_report_add(rep, a, "$: trailing data after the JSON value (byte %zu)",
				      json_tokener_get_parse_end(tok));
		json_object_put(root);
		json_tokener_free(tok);
		return AT_BADREQ;
	}
	json_tokener_free(tok);
	arena_on_free(a, put_root, root);
	if (!json_object_is_type(root, json_type_object)) {
		jsonschema_report_add(rep, a, "$: must be object, not %s",
				      json_type_to_name(json_object_get_type(root)));
		return AT_BADREQ;
	}
	schema = json_tokener_parse(SCHEMA);
	if (schema == NULL)
		return AT_INTERNAL;
	rc = jsonschema_validate(schema, root, a, rep);
	json_object_put(schema);
	if (rc != AT_OK)
		return rc;

	p = arena_zalloc(a, sizeof(*p));
	c.a = a;
	c.rep = rep;
	c.p = p;
	p->root = root;
	p->key = arena_strdup(a, get_str(root, "key", ""));
	p->title = arena_strdup(a, get_str(root, "title", ""));
	p->description = arena_strdup(a, get_str(root, "description", ""));
	p->version = get_int(root, "version", 1);
	p->frameworks = str_list(a, get(root, "frameworks", json_type_array), &p->n_frameworks);
	p->policy = PROGRAM_ASSESSOR_WINS;
	if (strcmp(get_str(root, "reconciliation", ""), "minimum") == 0)
		p->policy = PROGRAM_MINIMUM;
	else if (strcmp(get_str(root, "reconciliation", ""), "mean") == 0)
		p->policy = PROGRAM_MEAN;
	else if (strcmp(get_str(root, "reconciliation", ""), "agree_within_one") == 0)
		p->policy = PROGRAM_AGREE_WITHIN_ONE;

	arr = get(root, "checklists", json_type_array);
	p->n_checklists = arr_len(arr);
	p->checklists = arena_zalloc(a, (p->n_checklists + 1) * sizeof(*p->checklists));
	keys = arena_zalloc(a, (p->n_checklists + 1) * sizeof(*keys));
	for (size_t i = 0; i < p->n_checklists; i++) {
		parse_checklist(&c, json_object_array_get_idx(arr, i), i, &p->checklists[i]);
		keys[i] = p->checklists[i].key;
	}
	unique(&c, keys, p->n_checklists, "$.checklists", "checklist");
	parse_tiers(&c, get(root, "tiers", json_type_array));
	parse_forms(&c, get(root, "feedback_forms", json_type_array));
	p->complete_within = -1;
	parse_deadlines(&c, get(root, "deadlines", json_type_object));

	arr = get(root, "evidence", json_type_array);
	keys = arena_zalloc(a, (arr_len(arr) + 1) * sizeof(*keys));
	for (size_t i = 0; i < arr_len(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		const char *ck = get_str(e, "checklist", NULL);

		keys[i] = get_str(e, "key", "");
		if (ck != NULL && program_checklist(p, ck) == NULL)
			bad(&c, "$.evidence[%zu].checklist: no checklist \"%s\" in this program", i,
			    ck);
	}
	unique(&c, keys, arr_len(arr), "$.evidence", "evidence");

	p->validity_days = (int)get_int(get(root, "validity", json_type_object), "days", 0);
	{
		struct json_object *rc_o = get(get(root, "validity", json_type_object),
					       "recertification", json_type_object);

		p->recert_opens_days = (int)get_int(rc_o, "opens_days_before_expiry", 0);
		if (rc_o != NULL && p->validity_days == 0)
			bad(&c, "$.validity.recertification: needs validity.days (an expiry)");
		if (get(rc_o, "rule", json_type_object) != NULL)
			check_rule(&c, get(rc_o, "rule", json_type_object),
				   "$.validity.recertification.rule", true);
	}
	p->rule = get(root, "rule", json_type_object);
	check_rule(&c, p->rule, "$.rule", true);
	{
		struct json_object *q = get(root, "assessor_qualification", json_type_object);

		if (q != NULL) {
			p->qual_program = arena_strdup(a, get_str(q, "program", ""));
			p->qual_outcome = arena_strdup(a, get_str(q, "outcome", ""));
			if (strcmp(p->qual_program, p->key) == 0 && !is_outcome(p, p->qual_outcome))
				bad(&c, "$.assessor_qualification.outcome: \"%s\" is not an outcome of"
				    " this program", p->qual_outcome);
		}
	}
	check_competency_refs(&c);
	if (rep->total > 0)
		return AT_BADREQ;
	*out = p;
	return AT_OK;
}

const struct program_checklist *program_checklist(const struct program *p, const char *key)
{
	for (size_t i = 0; key != NULL && i < p->n_checklists; i++)
		if (strcmp(p->checklists[i].key, key) == 0)
			return &p->checklists[i];
	return NULL;
}

const struct program_tier *program_tier(const struct program *p, const char *key)
{
	for (size_t i = 0; key != NULL && i < p->n_tiers; i++)
		if (strcmp(p->tiers[i].key, key) == 0)
			return &p->tiers[i];
	return NULL;
}

const struct program_form *program_form(const struct program *p, const char *key)
{
	for (size_t i = 0; key != NULL && i < p->n_forms; i++)
		if (strcmp(p->forms[i].key, key) == 0)
			return &p->forms[i];
	return NULL;
}

/* ---- storage ---- */

static const char SQL_FW[] = "SELECT id, scale FROM framework WHERE idnumber = ?1";
static const char SQL_COMP[] =
	"SELECT c.id FROM competency c JOIN framework f ON f.id = c.framework_id"
	" WHERE f.idnumber = ?1 AND c.idnumber = ?2";
static const char SQL_FIND[] = "SELECT id, version FROM program WHERE key = ?1";
static const char SQL_OBS_COUNT[] =
	"SELECT COUNT(*) FROM observation o JOIN checklist c ON c.id = o.checklist_id"
	" WHERE c.program_id = ?1";
static const char SQL_DEL_IC[] =
	"DELETE FROM item_competency WHERE item_id IN (SELECT i.id FROM checklist_item i"
	" JOIN checklist c ON c.id = i.checklist_id WHERE c.program_id = ?1)";
static const char SQL_DEL_ITEMS[] =
	"DELETE FROM checklist_item WHERE checklist_id IN"
	" (SELECT id FROM checklist WHERE program_id = ?1)";
static const char SQL_DEL_CL[] = "DELETE FROM checklist WHERE program_id = ?1";
static const char SQL_UPDATE[] =
	"UPDATE program SET version = ?2, title = ?3, definition = ?4, updated_at = ?5"
	" WHERE id = ?1";
static const char SQL_INSERT[] =
	"INSERT INTO program (key, version, title, definition, created_at, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?5) RETURNING id";
static const char SQL_CL_INSERT[] =
	"INSERT INTO checklist (program_id, key, title, pass_mark, max_score, definition)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
static const char SQL_ITEM_INSERT[] =
	"INSERT INTO checklist_item (checklist_id, key, position, kind, label, weight,"
	" max_points, critical, required) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
	" RETURNING id";
static const char SQL_IC_INSERT[] =
	"INSERT INTO item_competency (item_id, competency_id) VALUES (?1, ?2)";
static const char SQL_LOAD_KEY[] =
	"SELECT id, version, definition FROM program WHERE key = ?1";
static const char SQL_LOAD_ID[] =
	"SELECT id, version, definition FROM program WHERE id = ?1";
static const char SQL_EACH[] =
	"SELECT p.id, p.key, p.version, p.title, p.updated_at,"
	" (SELECT COUNT(*) FROM checklist c WHERE c.program_id = p.id)"
	" FROM program p ORDER BY p.key";

/* A resolved competency idnumber. */
struct ref {
	const char *idnumber;
	int64_t id;
	size_t fw;	/* index into program frameworks */
};

struct ictx {
	struct db *db;
	struct arena *a;
	struct jsonschema_report *rep;
	const struct program *p;
	int64_t *fw_levels;	/* scale size per framework; 0 = unknown */
	struct ref *refs;
	size_t n_refs, cap_refs;
};

static const char *kind_name(enum program_kind k)
{
	static const char *const names[] = { "yesno", "rating", "points", "comment" };

	return names[k];
}

static enum at_rc one_i64(struct db *db, const char *sql, const char *s1, const char *s2,
			  int64_t i1, int64_t *out, bool *found)
{
	struct db_stmt *st = NULL;
	bool row = false;
	enum at_rc rc = db_prepare(db, sql, &st);

	*found = false;
	if (rc != AT_OK)
		goto out;
	if (s1 != NULL)
		db_bind_str(st, 1, s1);
	else
		db_bind_i64(st, 1, i1);
	if (s2 != NULL)
		db_bind_str(st, 2, s2);
	rc = db_step(st, &row);
	if (rc == AT_OK && row) {
		*out = db_col_i64(st, 0);
		*found = true;
		rc = db_run(st);
	}
out:
	db_finalize(st);
	return rc;
}

/* Check every framework exists; remember the size of its scale. */
static enum at_rc check_frameworks(struct ictx *c)
{
	const struct program *p = c->p;
	enum at_rc rc = AT_OK;

	c->fw_levels = arena_zalloc(c->a, (p->n_frameworks + 1) * sizeof(*c->fw_levels));
	for (size_t i = 0; i < p->n_frameworks && rc == AT_OK; i++) {
		struct db_stmt *st = NULL;
		bool row = false;

		rc = db_prepare(c->db, SQL_FW, &st);
		if (rc == AT_OK) {
			db_bind_str(st, 1, p->frameworks[i]);
			rc = db_step(st, &row);
		}
		if (rc == AT_OK && !row) {
			jsonschema_report_add(c->rep, c->a, "$.frameworks[%zu]: no framework with"
					      " idnumber \"%s\" (import it first)", i,
					      p->frameworks[i]);
		} else if (rc == AT_OK) {
			const char *scale = db_col_text(st, 1);
			struct json_object *s = scale ? json_tokener_parse(scale) : NULL;

			if (json_object_is_type(s, json_type_array))
				c->fw_levels[i] = (int64_t)json_object_array_length(s);
			json_object_put(s);
			rc = db_run(st);
		}
		db_finalize(st);
	}
	return rc;
}

/* Resolve idnumber among the program's frameworks; reports under path when it is
 * missing or ambiguous. *out is NULL then. */
static enum at_rc resolve(struct ictx *c, const char *idnumber, const char *path,
			  const struct ref **out)
{
	const struct program *p = c->p;
	struct ref r = { idnumber, 0, 0 };
	size_t hits = 0;
	enum at_rc rc = AT_OK;

	*out = NULL;
	for (size_t i = 0; i < c->n_refs; i++)
		if (strcmp(c->refs[i].idnumber, idnumber) == 0) {
			*out = &c->refs[i];
			return AT_OK;
		}
	for (size_t i = 0; i < p->n_frameworks && rc == AT_OK; i++) {
		int64_t id;
		bool found;

		rc = one_i64(c->db, SQL_COMP, p->frameworks[i], idnumber, 0, &id, &found);
		if (rc == AT_OK && found) {
			hits++;
			r.id = id;
			r.fw = i;
		}
	}
	if (rc != AT_OK)
		return rc;
	if (hits == 0) {
		jsonschema_report_add(c->rep, c->a, "%s: competency \"%s\" is not in %s %s", path,
				      idnumber, p->n_frameworks == 1 ? "framework" : "frameworks",
				      p->n_frameworks == 1 ? p->frameworks[0] : "named by the program");
		return AT_OK;
	}
	if (hits > 1) {
		jsonschema_report_add(c->rep, c->a, "%s: competency \"%s\" is in more than one of"
				      " the program's frameworks", path, idnumber);
		return AT_OK;
	}
	if (c->n_refs == c->cap_refs) {
		struct ref *n;

		c->cap_refs = c->cap_refs ? c->cap_refs * 2 : 64;
		n = arena_alloc(c->a, c->cap_refs * sizeof(*n));
		if (c->n_refs > 0)
			memcpy(n, c->refs, c->n_refs * sizeof(*n));
		c->refs = n;
	}
	c->refs[c->n_refs] = r;
	*out = &c->refs[c->n_refs++];
	return AT_OK;
}

static enum at_rc check_refs(struct ictx *c)
{
	const struct program *p = c->p;
	const struct ref *r;
	struct json_object *ev = get(p->root, "evidence", json_type_array);
	enum at_rc rc = check_frameworks(c);

	if (rc != AT_OK || c->rep->total > 0)
		return rc;
	for (size_t i = 0; i < p->n_checklists; i++)
		for (size_t j = 0; j < p->checklists[i].n_items; j++) {
			const struct program_item *it = &p->checklists[i].items[j];

			for (size_t k = 0; k < it->n_competencies && rc == AT_OK; k++)
				rc = resolve(c, it->competencies[k], arena_printf(c->a,
					     "$.checklists[%zu].items[%zu].competencies[%zu]", i, j, k),
					     &r);
		}
	for (size_t i = 0; i < p->n_tiers && rc == AT_OK; i++)
		for (size_t j = 0; j < p->tiers[i].n_targets && rc == AT_OK; j++) {
			const struct program_target *t = &p->tiers[i].targets[j];
			const char *path = arena_printf(c->a, "$.tiers[%zu].targets[%zu]", i, j);

			rc = resolve(c, t->competency, arena_printf(c->a, "%s.competency", path), &r);
			if (rc == AT_OK && r != NULL && c->fw_levels[r->fw] > 0 &&
			    t->level > c->fw_levels[r->fw])
				jsonschema_report_add(c->rep, c->a, "%s.level: %d is above the top of"
						      " the scale of framework %s (%lld levels)",
						      path, t->level, p->frameworks[r->fw],
						      (long long)c->fw_levels[r->fw]);
		}
	for (size_t i = 0; i < arr_len(ev) && rc == AT_OK; i++) {
		size_t n;
		const char **ids = str_list(c->a, get(json_object_array_get_idx(ev, i),
						      "competencies", json_type_array), &n);

		for (size_t k = 0; k < n && rc == AT_OK; k++)
			rc = resolve(c, ids[k], arena_printf(c->a, "$.evidence[%zu].competencies[%zu]",
							     i, k), &r);
	}
	if (rc == AT_OK && p->qual_program != NULL && strcmp(p->qual_program, p->key) != 0) {
		int64_t id;
		bool found;

		rc = one_i64(c->db, SQL_FIND, p->qual_program, NULL, 0, &id, &found);
		if (rc == AT_OK && !found)
			jsonschema_report_add(c->rep, c->a, "$.assessor_qualification.program: no"
					      " program \"%s\" (import it first)", p->qual_program);
	}
	return rc;
}

static enum at_rc exec_id(struct db *db, const char *sql, int64_t id)
{
	struct db_stmt *st = NULL;
	enum at_rc rc = db_prepare(db, sql, &st);

	if (rc == AT_OK) {
		db_bind_i64(st, 1, id);
		rc = db_run(st);
	}
	db_finalize(st);
	return rc;
}

static enum at_rc insert_returning(struct db_stmt *st, int64_t *id)
{
	bool row = false;
	enum at_rc rc = db_step(st, &row);

	if (rc == AT_OK && !row)
		rc = AT_DB;
	if (rc == AT_OK) {
		*id = db_col_i64(st, 0);
		rc = db_run(st);
	}
	return rc;
}

static enum at_rc store_checklist(struct ictx *c, int64_t program_id, size_t ci)
{
	const struct program_checklist *cl = &c->p->checklists[ci];
	struct json_object *def = json_object_array_get_idx(get(c->p->root, "checklists",
								 json_type_array), ci);
	struct db_stmt *st = NULL;
	int64_t cl_id = 0, item_id = 0;
	enum at_rc rc = db_prepare(c->db, SQL_CL_INSERT, &st);

	if (rc != AT_OK)
		goto out;
	db_bind_i64(st, 1, program_id);
	db_bind_str(st, 2, cl->key);
	db_bind_str(st, 3, cl->title);
	db_bind_i64(st, 4, cl->pass_mark);
	db_bind_i64(st, 5, cl->max_score);
	db_bind_str(st, 6, json_object_to_json_string_ext(def, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	rc = insert_returning(st, &cl_id);
	for (size_t i = 0; i < cl->n_items && rc == AT_OK; i++) {
		const struct program_item *it = &cl->items[i];

		db_finalize(st);
		st = NULL;
		rc = db_prepare(c->db, SQL_ITEM_INSERT, &st);
		if (rc != AT_OK)
			goto out;
		db_bind_i64(st, 1, cl_id);
		db_bind_str(st, 2, it->key);
		db_bind_i64(st, 3, (int64_t)i);
		db_bind_str(st, 4, kind_name(it->kind));
		db_bind_str(st, 5, it->label);
		db_bind_i64(st, 6, it->weight);
		db_bind_i64(st, 7, it->max_points);
		db_bind_i64(st, 8, it->critical);
		db_bind_i64(st, 9, it->required);
		rc = insert_returning(st, &item_id);
		for (size_t k = 0; k < it->n_competencies && rc == AT_OK; k++) {
			const struct ref *r = NULL;

			rc = resolve(c, it->competencies[k], "", &r);
			if (rc != AT_OK || r == NULL) {
				rc = rc != AT_OK ? rc : AT_INTERNAL;
				goto out;
			}
			db_finalize(st);
			st = NULL;
			rc = db_prepare(c->db, SQL_IC_INSERT, &st);
			if (rc != AT_OK)
				goto out;
			db_bind_i64(st, 1, item_id);
			db_bind_i64(st, 2, r->id);
			rc = db_run(st);
		}
	}
out:
	db_finalize(st);
	return rc;
}

enum at_rc program_import(struct db *db, struct arena *a, struct program *p, bool replace,
			  int64_t now, struct jsonschema_report *rep)
{
	struct ictx c;
	struct db_stmt *st = NULL;
	int64_t id = 0, old_version = 0, n_obs = 0;
	bool found = false, row = false, open = false;
	const char *def;
	enum at_rc rc;

	memset(rep, 0, sizeof(*rep));
	memset(&c, 0, sizeof(c));
	c.db = db;
	c.a = a;
	c.rep = rep;
	c.p = p;
	rc = db_begin(db);
	if (rc != AT_OK)
		goto out;
	open = true;
	rc = check_refs(&c);
	if (rc != AT_OK)
		goto out;
	if (rep->total > 0) {
		rc = AT_BADREQ;
		goto out;
	}
	rc = db_prepare(db, SQL_FIND, &st);
	if (rc != AT_OK)
		goto out;
	db_bind_str(st, 1, p->key);
	rc = db_step(st, &row);
	if (rc == AT_OK && row) {
		found = true;
		id = db_col_i64(st, 0);
		old_version = db_col_i64(st, 1);
		rc = db_run(st);
	}
	db_finalize(st);
	st = NULL;
	if (rc != AT_OK)
		goto out;
	if (found && !replace) {
		jsonschema_report_add(rep, a, "program \"%s\" exists (version %lld); use --replace"
				      " to replace it", p->key, (long long)old_version);
		rc = AT_CONFLICT;
		goto out;
	}
	if (found) {
		rc = one_i64(db, SQL_OBS_COUNT, NULL, NULL, id, &n_obs, &row);
		if (rc != AT_OK)
			goto out;
		if (n_obs > 0) {
			jsonschema_report_add(rep, a, "program \"%s\" has %lld observation%s on its"
					      " checklists: it cannot be replaced; import the new"
					      " definition under a new key", p->key,
					      (long long)n_obs, n_obs == 1 ? "" : "s");
			rc = AT_CONFLICT;
			goto out;
		}
		p->version = p->version > old_version + 1 ? p->version : old_version + 1;
	}
	json_object_object_add(p->root, "version", json_object_new_int64(p->version));
	def = json_object_to_json_string_ext(p->root, JSON_C_TO_STRING_PLAIN |
					     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (found) {
		rc = exec_id(db, SQL_DEL_IC, id);
		if (rc == AT_OK)
			rc = exec_id(db, SQL_DEL_ITEMS, id);
		if (rc == AT_OK)
			rc = exec_id(db, SQL_DEL_CL, id);
		if (rc == AT_OK)
			rc = db_prepare(db, SQL_UPDATE, &st);
		if (rc != AT_OK)
			goto out;
		db_bind_i64(st, 1, id);
		db_bind_i64(st, 2, p->version);
		db_bind_str(st, 3, p->title);
		db_bind_str(st, 4, def);
		db_bind_i64(st, 5, now);
		rc = db_run(st);
	} else {
		rc = db_prepare(db, SQL_INSERT, &st);
		if (rc != AT_OK)
			goto out;
		db_bind_str(st, 1, p->key);
		db_bind_i64(st, 2, p->version);
		db_bind_str(st, 3, p->title);
		db_bind_str(st, 4, def);
		db_bind_i64(st, 5, now);
		rc = insert_returning(st, &id);
	}
	db_finalize(st);
	st = NULL;
	for (size_t i = 0; i < p->n_checklists && rc == AT_OK; i++)
		rc = store_checklist(&c, id, i);
	if (rc != AT_OK)
		goto out;
	rc = db_commit(db);
	if (rc != AT_OK)
		goto out;
	open = false;
	p->id = id;
out:
	db_finalize(st);
	if (open)
		db_rollback(db);
	if (rc != AT_OK && rep->total == 0)
		jsonschema_report_add(rep, a, "storage: %s (%s)", at_strerror(rc), db_errmsg(db));
	return rc;
}

enum at_rc program_load(struct db *db, struct arena *a, const char *key, int64_t id,
			struct program **out)
{
	struct jsonschema_report rep;
	struct db_stmt *st = NULL;
	bool row = false;
	int64_t pid = 0, version = 0;
	const char *def = NULL;
	enum at_rc rc = db_prepare(db, key ? SQL_LOAD_KEY : SQL_LOAD_ID, &st);

	*out = NULL;
	if (rc != AT_OK)
		goto out;
	if (key)
		db_bind_str(st, 1, key);
	else
		db_bind_i64(st, 1, id);
	rc = db_step(st, &row);
	if (rc != AT_OK)
		goto out;
	if (!row) {
		rc = AT_NOTFOUND;
		goto out;
	}
	pid = db_col_i64(st, 0);
	version = db_col_i64(st, 1);
	def = arena_strndup(a, db_col_text(st, 2) ? db_col_text(st, 2) : "", db_col_len(st, 2));
	rc = db_run(st);
	if (rc != AT_OK)
		goto out;
	rc = program_parse(a, def, strlen(def), out, &rep);
	if (rc != AT_OK) {
		rc = AT_INTERNAL;	/* a stored definition passed these checks once */
		goto out;
	}
	(*out)->id = pid;
	(*out)->version = version;
out:
	db_finalize(st);
	return rc;
}

bool program_outcome_closes(const struct program *p, const char *outcome)
{
	struct json_object *v;
	const char *fallback = "not_yet";

	if (outcome == NULL || strcmp(outcome, "pending") == 0)
		return false;
	if (p->rule != NULL && json_object_object_get_ex(p->rule, "fallback", &v) &&
	    json_object_is_type(v, json_type_string))
		fallback = json_object_get_string(v);
	return !(p->n_tiers > 0 && strcmp(outcome, fallback) == 0);
}

enum at_rc program_each(struct db *db, void (*fn)(const struct program_row *row, void *ud),
			void *ud)
{
	struct db_stmt *st = NULL;
	struct program_row r;
	bool row = false;
	enum at_rc rc = db_prepare(db, SQL_EACH, &st);

	while (rc == AT_OK) {
		rc = db_step(st, &row);
		if (rc != AT_OK || !row)
			break;
		r.id = db_col_i64(st, 0);
		r.key = db_col_text(st, 1);
		r.version = db_col_i64(st, 2);
		r.title = db_col_text(st, 3);
		r.updated_at = db_col_i64(st, 4);
		r.n_checklists = db_col_i64(st, 5);
		fn(&r, ud);
	}
	db_finalize(st);
	return rc;
}
