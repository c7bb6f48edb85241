/* test_observation.c: observations (drafts, validation, scoring, immutability, amendments,
 * idempotent offline create, double submit, self-evaluation, side by side, qualified
 * assessors) and decisions (propose, supersede, confirm, override, expiry) on both
 * backends. PostgreSQL runs when ATTEST_TEST_PG is set (each test in its own schema). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/audit.h"
#include "core/decision.h"
#include "core/enrolment.h"
#include "core/observation.h"
#include "core/program.h"
#include "core/rating.h"
#include "tests/unit/support/testdb.h"

/* Users: 1 learner, 2 qualified assessor, 3 novice assessor, 4 coordinator, 5 expert.
 * Scale: 0 not yet, 1 with supervision, 2 competent (proficient, default), 3 expert.
 * Checklist 1 (program calls): greet yesno critical required -> C1; listen rating required
 * -> C2; accuracy points (max 10.00, weight 2) required; notes comment; bonus yesno -> C1.
 * Checklist 2 (program trainer, which requires a 'certified' decision in calls): teach
 * rating -> C3. Enrolments: 1 learner/calls, 2 learner/trainer, 3 assessor/calls,
 * 4 novice/calls. */
static const char SEED[] =
	"INSERT INTO platform (id, issuer, client_id, auth_endpoint, jwks_uri, created_at)"
	" VALUES (1, 'https://lms.test', 'c', 'https://lms.test/a', 'https://lms.test/j', 1);"
	"INSERT INTO app_user (id, platform_id, sub, name, created_at, updated_at) VALUES"
	" (1, 1, 'learner', 'Lea', 1, 1), (2, 1, 'assessor', 'Ann', 1, 1),"
	" (3, 1, 'novice', 'Nick', 1, 1), (4, 1, 'coord', 'Cora', 1, 1),"
	" (5, 1, 'expert', 'Eve', 1, 1);"
	"INSERT INTO framework (id, idnumber, shortname, scale, created_at, updated_at) VALUES"
	" (1, 'fw', 'FW', '[{\"name\":\"not yet\",\"proficient\":false},"
	"{\"name\":\"with supervision\",\"proficient\":false},"
	"{\"name\":\"competent\",\"proficient\":true,\"default\":true},"
	"{\"name\":\"expert\",\"proficient\":true}]', 1, 1);"
	"INSERT INTO competency (id, framework_id, idnumber, shortname) VALUES"
	" (1, 1, 'c1', 'C1'), (2, 1, 'c2', 'C2'), (3, 1, 'c3', 'C3');"
	"INSERT INTO program (id, key, title, definition, created_at, updated_at) VALUES"
	" (1, 'calls', 'Calls', '{\"validity\":{\"days\":365}}', 1, 1),"
	" (2, 'trainer', 'Trainer', '{\"assessor_qualification\":"
	"{\"program\":\"calls\",\"outcome\":\"certified\"}}', 1, 1);"
	"INSERT INTO checklist (id, program_id, key, title, pass_mark, max_score, definition)"
	" VALUES (1, 1, 'call', 'Call', 8500, 10000, '{\"feedback\":[{\"key\":\"went_well\","
	"\"label\":\"What went well\",\"required\":true},{\"key\":\"improve\","
	"\"label\":\"To improve\"}]}'),"
	" (2, 2, 'module', 'Module', 0, 0, '{}');"
	"INSERT INTO checklist_item (id, checklist_id, key, position, kind, label, weight,"
	" max_points, critical, required) VALUES"
	" (1, 1, 'greet', 1, 'yesno', 'Greets the caller', 100, 0, 1, 1),"
	" (2, 1, 'listen', 2, 'rating', 'Listens', 100, 0, 0, 1),"
	" (3, 1, 'accuracy', 3, 'points', 'Accuracy', 200, 1000, 0, 1),"
	" (4, 1, 'notes', 4, 'comment', 'Notes', 100, 0, 0, 0),"
	" (5, 1, 'bonus', 5, 'yesno', 'Extra mile', 100, 0, 0, 0),"
	" (6, 2, 'teach', 1, 'rating', 'Teaches', 100, 0, 0, 1);"
	"INSERT INTO item_competency (item_id, competency_id) VALUES"
	" (1, 1), (2, 2), (5, 1), (6, 3);"
	"INSERT INTO enrolment (id, program_id, user_id, started_at) VALUES"
	" (1, 1, 1, 1), (2, 2, 1, 1), (3, 1, 2, 1), (4, 1, 3, 1);";

static int setup_sqlite(void **state) { return testdb_fx_setup(state, "obs", false, SEED); }
static int setup_pg(void **state) { return testdb_fx_setup(state, "obs", true, SEED); }

static int64_t count(struct testdb_fx *f, const char *sql)
{
	return testdb_count(f->db, sql);
}

static int64_t new_obs(struct testdb_fx *f, int64_t enrolment, int64_t checklist, int64_t rater,
		       const char *role, const char *session)
{
	struct obs_new n = { .enrolment_id = enrolment, .checklist_id = checklist,
			     .assessor_id = rater, .rater_role = role, .session_key = session,
			     .observed_at = 500 };
	struct at_err err = { "" };
	int64_t id = 0;
	bool existed = true;

	if (observation_create(f->db, &n, 1000, &id, &existed, &err) != AT_OK)
		fail_msg("create: %s", err.msg);
	assert_false(existed);
	assert_true(id > 0);
	return id;
}

static struct obs_answer yes(const char *k, int64_t v)
{
	struct obs_answer x = { .item_key = k, .has_value = true, .value = v, .text = NULL };

	return x;
}

/* A complete, passing set of answers for checklist 1 (score 86.66). */
static void fill_call(struct testdb_fx *f, int64_t id, int64_t rater, int64_t accuracy)
{
	struct obs_answer ans[] = { yes("greet", 1), yes("listen", 2), yes("accuracy", accuracy),
				    { .item_key = "notes", .text = "calm voice" } };
	struct obs_feedback fb[] = { { "went_well", "Clear greeting and summary" } };
	struct at_err err = { "" };

	if (observation_save(f->db, id, rater, ans, NELEM(ans), fb, NELEM(fb), 1001, &err) !=
	    AT_OK)
		fail_msg("save: %s", err.msg);
}

static void submit_ok(struct testdb_fx *f, int64_t id, int64_t rater, int64_t now)
{
	struct at_err err = { "" };

	if (observation_submit(f->db, id, rater, now, &err) != AT_OK)
		fail_msg("submit %lld: %s", (long long)id, err.msg);
}

static void audit_intact(struct testdb_fx *f)
{
	struct at_err err = { "" };
	int64_t bad = 0, n = 0;

	assert_int_equal(audit_verify(f->db, &bad, &n, &err), AT_OK);
	assert_true(n > 0);
}

/* ---- scoring ---- */

struct spec_item {
	const char *kind;
	int64_t weight, max_points;
	int critical, required, answered;
	int64_t value;
};

struct score_case {
	const char *name;
	int64_t pass_mark, max_score;
	struct spec_item items[6];
	int64_t want_score;
	int want_passed, want_critical;
};

static const struct score_case score_cases[] = {
	{ "yes/no, 3 of 4", 8500, 10000,
	  { { "yesno", 100, 0, 0, 0, 1, 1 }, { "yesno", 100, 0, 0, 0, 1, 1 },
	    { "yesno", 100, 0, 0, 0, 1, 1 }, { "yesno", 100, 0, 0, 0, 1, 0 } }, 7500, 0, 0 },
	{ "points at the pass mark 85.00", 8500, 10000,
	  { { "points", 100, 10000, 0, 1, 1, 8500 } }, 8500, 1, 0 },
	{ "points just under: 84.99", 8500, 10000,
	  { { "points", 100, 10000, 0, 1, 1, 8499 } }, 8499, 0, 0 },
	{ "weights 3:1, heavy yes", 8500, 10000,
	  { { "yesno", 300, 0, 0, 0, 1, 1 }, { "yesno", 100, 0, 0, 0, 1, 0 } }, 7500, 0, 0 },
	{ "weights 17:3 reach exactly 85", 8500, 10000,
	  { { "yesno", 1700, 0, 0, 0, 1, 1 }, { "yesno", 300, 0, 0, 0, 1, 0 } }, 8500, 1, 0 },
	{ "points and yes/no mixed", 8500, 10000,
	  { { "points", 100, 1000, 0, 0, 1, 500 }, { "yesno", 100, 0, 0, 0, 1, 1 } }, 7500, 0, 0 },
	{ "rating top of scale", 8500, 10000,
	  { { "rating", 100, 0, 0, 0, 1, 3 } }, 10000, 1, 0 },
	{ "rating 2 of 3 rounds down", 6666, 10000,
	  { { "rating", 100, 0, 0, 0, 1, 2 } }, 6666, 1, 0 },
	{ "critical yes/no answered no", 8500, 10000,
	  { { "yesno", 0, 0, 1, 1, 1, 0 }, { "points", 100, 1000, 0, 1, 1, 1000 } }, 10000, 0, 1 },
	{ "critical rating below proficient", 8500, 10000,
	  { { "rating", 0, 0, 1, 1, 1, 1 }, { "points", 100, 1000, 0, 1, 1, 1000 } }, 10000, 0, 1 },
	{ "critical rating at proficient", 8500, 10000,
	  { { "rating", 0, 0, 1, 1, 1, 2 }, { "points", 100, 1000, 0, 1, 1, 1000 } }, 10000, 1, 0 },
	{ "critical points at 0", 8500, 10000,
	  { { "points", 0, 100, 1, 1, 1, 0 }, { "yesno", 100, 0, 0, 1, 1, 1 } }, 10000, 0, 1 },
	{ "critical optional item left unanswered", 8500, 10000,
	  { { "yesno", 100, 0, 1, 0, 0, 0 }, { "yesno", 100, 0, 0, 1, 1, 1 } }, 10000, 0, 1 },
	{ "optional unanswered is not applicable", 8500, 10000,
	  { { "yesno", 100, 0, 0, 0, 1, 1 }, { "yesno", 100, 0, 0, 0, 0, 0 } }, 10000, 1, 0 },
	{ "comment items do not score", 8500, 10000,
	  { { "comment", 100, 0, 0, 0, 0, 0 }, { "yesno", 100, 0, 0, 0, 1, 1 } }, 10000, 1, 0 },
	{ "max_score 0 means 100.00; nothing answered scores 0", 0, 0,
	  { { "yesno", 100, 0, 0, 0, 0, 0 } }, 0, 1, 0 },
	{ "max_score 5.00 scales", 400, 500,
	  { { "points", 100, 1000, 0, 1, 1, 800 } }, 400, 1, 0 },
};

static void test_scoring(void **state)
{
	struct testdb_fx *f = *state;
	char sql[512];

	for (size_t c = 0; c < NELEM(score_cases); c++) {
		const struct score_case *sc = &score_cases[c];
		struct obs_answer ans[6];
		struct observation o;
		struct at_err err = { "" };
		int64_t cl = 100 + (int64_t)c, id;
		size_t na = 0;

		snprintf(sql, sizeof(sql), "INSERT INTO checklist (id, program_id, key, title,"
			 " pass_mark, max_score, definition) VALUES (%lld, 1, 'k%lld', 't',"
			 " %lld, %lld, '{}')", (long long)cl, (long long)cl,
			 (long long)sc->pass_mark, (long long)sc->max_score);
		assert_int_equal(db_exec(f->db, sql), AT_OK);
		for (size_t i = 0; i < 6 && sc->items[i].kind; i++) {
			const struct spec_item *it = &sc->items[i];
			int64_t iid = cl * 10 + (int64_t)i;

			snprintf(sql, sizeof(sql), "INSERT INTO checklist_item (id, checklist_id, key,"
				 " position, kind, label, weight, max_points, critical, required)"
				 " VALUES (%lld, %lld, 'i%zu', %zu, '%s', 'l', %lld, %lld, %d, %d)",
				 (long long)iid, (long long)cl, i, i, it->kind,
				 (long long)it->weight, (long long)it->max_points, it->critical,
				 it->required);
			assert_int_equal(db_exec(f->db, sql), AT_OK);
			if (strcmp(it->kind, "rating") == 0) {
				snprintf(sql, sizeof(sql), "INSERT INTO item_competency VALUES"
					 " (%lld, 2)", (long long)iid);
				assert_int_equal(db_exec(f->db, sql), AT_OK);
			}
			if (it->answered) {
				ans[na] = yes(arena_printf(f->a, "i%zu", i), it->value);
				na++;
			}
		}
		id = new_obs(f, 1, cl, 2, NULL, NULL);
		if (observation_save(f->db, id, 2, ans, na, NULL, 0, 1001, &err) != AT_OK)
			fail_msg("%s: save: %s", sc->name, err.msg);
		submit_ok(f, id, 2, 1002);
		assert_int_equal(observation_get(f->db, f->a, id, &o), AT_OK);
		assert_string_equal(o.status, "submitted");
		if (o.score != sc->want_score || o.passed != sc->want_passed ||
		    o.critical_missed != sc->want_critical)
			fail_msg("%s: score %lld passed %d critical %d; want %lld %d %d", sc->name,
				 (long long)o.score, o.passed, o.critical_missed,
				 (long long)sc->want_score, sc->want_passed, sc->want_critical);
		assert_int_equal(o.max_score, sc->max_score ? sc->max_score : 10000);
	}
	audit_intact(f);
}

/* ---- validation, immutability ---- */

static void test_validation(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct observation o;
	int64_t id = new_obs(f, 1, 1, 2, NULL, NULL);
	struct obs_answer two[] = { yes("greet", 1), yes("listen", 9) };
	struct obs_feedback blank[] = { { "went_well", "  \n " } };
	struct obs_feedback unknown[] = { { "nope", "x" } };
	char *big = arena_zalloc(f->a, OBS_TEXT_MAX + 2);
	struct {
		struct obs_answer a;
		enum at_rc rc;
		const char *names;
	} bad[] = {
		{ yes("nope", 1), AT_BADREQ, "'nope'" },
		{ yes("greet", 2), AT_BADREQ, "'greet'" },
		{ yes("greet", -1), AT_BADREQ, "'greet'" },
		{ yes("listen", 4), AT_BADREQ, "'listen'" },
		{ yes("accuracy", 1001), AT_BADREQ, "'accuracy'" },
		{ yes("accuracy", -5), AT_BADREQ, "'accuracy'" },
		{ yes("notes", 1), AT_BADREQ, "'notes'" },
		{ { .item_key = "notes", .text = big }, AT_TOOBIG, "'notes'" },
	};

	memset(big, 'x', OBS_TEXT_MAX + 1);
	for (size_t i = 0; i < NELEM(bad); i++) {
		err.msg[0] = '\0';
		assert_int_equal(observation_save(f->db, id, 2, &bad[i].a, 1, NULL, 0, 1001, &err),
				 bad[i].rc);
		if (strstr(err.msg, bad[i].names) == NULL)
			fail_msg("case %zu: '%s' does not name %s", i, err.msg, bad[i].names);
	}
	/* nothing partial: the valid first answer was not stored either */
	assert_int_equal(observation_save(f->db, id, 2, two, 2, NULL, 0, 1001, &err), AT_BADREQ);
	assert_int_equal(observation_get(f->db, f->a, id, &o), AT_OK);
	assert_int_equal(o.nanswers, 0);
	assert_int_equal(observation_save(f->db, id, 2, NULL, 0, unknown, 1, 1001, &err),
			 AT_BADREQ);
	assert_non_null(strstr(err.msg, "nope"));
	/* only the rater saves */
	assert_int_equal(observation_save(f->db, id, 3, two, 1, NULL, 0, 1001, &err),
			 AT_FORBIDDEN);
	assert_int_equal(observation_save(f->db, 999, 2, two, 1, NULL, 0, 1001, &err),
			 AT_NOTFOUND);
	/* completeness names the first missing item, then the feedback field */
	assert_int_equal(observation_submit(f->db, id, 2, 1002, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "'greet'"));
	assert_int_equal(observation_save(f->db, id, 2, two, 1, NULL, 0, 1001, &err), AT_OK);
	assert_int_equal(observation_submit(f->db, id, 2, 1002, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "'listen'"));
	{
		struct obs_answer rest[] = { yes("listen", 2), yes("accuracy", 900) };

		assert_int_equal(observation_save(f->db, id, 2, rest, 2, blank, 1, 1001, &err),
				 AT_OK);
	}
	assert_int_equal(observation_submit(f->db, id, 2, 1002, &err), AT_BADREQ);
	assert_non_null(strstr(err.msg, "'went_well'"));
	assert_non_null(strstr(err.msg, "What went well"));
	/* autosave overwrites */
	fill_call(f, id, 2, 900);
	assert_int_equal(observation_submit(f->db, id, 3, 1002, &err), AT_FORBIDDEN);
	submit_ok(f, id, 2, 1002);
	assert_int_equal(observation_get(f->db, f->a, id, &o), AT_OK);
	assert_int_equal(o.score, 8666);	/* (1 + 2/3 + 2 * 0.9) / 4 */
	assert_true(o.passed);
	assert_int_equal(o.submitted_at, 1002);
	assert_int_equal(o.nanswers, 4);
	assert_int_equal(o.nfeedback, 1);
	/* immutable */
	assert_int_equal(observation_save(f->db, id, 2, two, 1, NULL, 0, 1003, &err), AT_CONFLICT);
	assert_int_equal(observation_submit(f->db, id, 2, 1003, &err), AT_CONFLICT);
	assert_int_equal(observation_get(f->db, f->a, id, &o), AT_OK);
	assert_int_equal(o.updated_at, 1002);
	/* ratings: greet yes -> default 2 on C1 (bonus unanswered), listen 2 on C2 */
	assert_int_equal(count(f, "SELECT COUNT(*) FROM rating"), 2);
	assert_int_equal(count(f, "SELECT value FROM rating WHERE competency_id = 1"), 2);
	assert_int_equal(count(f, "SELECT value FROM rating WHERE competency_id = 2"), 2);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action ="
			       " 'observation.submit'"), 1);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action = 'rating.record'"),
			 2);
	audit_intact(f);
}

static void test_create_rules(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct obs_new n = { .enrolment_id = 1, .checklist_id = 1, .assessor_id = 2,
			     .client_key = "phone-7:42", .observed_at = 500 };
	int64_t id = 0, again = 0;
	bool existed = true;

	/* idempotent offline create */
	assert_int_equal(observation_create(f->db, &n, 1000, &id, &existed, &err), AT_OK);
	assert_false(existed);
	assert_int_equal(observation_create(f->db, &n, 1001, &again, &existed, &err), AT_OK);
	assert_true(existed);
	assert_int_equal(again, id);
	fill_call(f, id, 2, 1000);
	submit_ok(f, id, 2, 1002);
	assert_int_equal(observation_create(f->db, &n, 1003, &again, &existed, &err), AT_OK);
	assert_true(existed);
	assert_int_equal(again, id);
	n.assessor_id = 5;	/* the same key from someone else */
	assert_int_equal(observation_create(f->db, &n, 1003, &again, &existed, &err),
			 AT_CONFLICT);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM observation"), 1);
	/* roles */
	n.client_key = NULL;
	n.rater_role = "boss";
	assert_int_equal(observation_create(f->db, &n, 1, &id, &existed, &err), AT_BADREQ);
	n.rater_role = "self";	/* 5 is not the learner */
	assert_int_equal(observation_create(f->db, &n, 1, &id, &existed, &err), AT_BADREQ);
	n.rater_role = "assessor";
	n.assessor_id = 1;	/* the learner assessing themself */
	assert_int_equal(observation_create(f->db, &n, 1, &id, &existed, &err), AT_BADREQ);
	n.assessor_id = 2;
	n.checklist_id = 2;	/* checklist of another program */
	assert_int_equal(observation_create(f->db, &n, 1, &id, &existed, &err), AT_BADREQ);
	n.checklist_id = 77;
	assert_int_equal(observation_create(f->db, &n, 1, &id, &existed, &err), AT_NOTFOUND);
	n.checklist_id = 1;
	n.enrolment_id = 77;
	assert_int_equal(observation_create(f->db, &n, 1, &id, &existed, &err), AT_NOTFOUND);
	n.enrolment_id = 1;
	n.assessor_id = 77;
	assert_int_equal(observation_create(f->db, &n, 1, &id, &existed, &err), AT_NOTFOUND);
}

/* Two processes submit the same draft at once: exactly one wins. */
static void test_double_submit(void **state)
{
	struct testdb_fx *f = *state;
	int64_t id = new_obs(f, 1, 1, 2, NULL, NULL);
	int go[2], ok = 0, conflict = 0;
	pid_t kids[2];

	fill_call(f, id, 2, 900);
	assert_int_equal(pipe(go), 0);
	for (int k = 0; k < 2; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			struct db *db = NULL;
			struct at_err err = { "" };
			enum at_rc rc;
			char c;
			int tries = 0;

			close(go[1]);
			if (db_open(f->t.url, &db, &err) != AT_OK)
				_exit(3);
			(void)read(go[0], &c, 1);	/* both start together */
			do
				rc = observation_submit(db, id, 2, 2000, &err);
			while (rc == AT_TIMEOUT && ++tries < 50);
			db_close(db);
			_exit(rc == AT_OK ? 0 : rc == AT_CONFLICT ? 1 : 2);
		}
	}
	close(go[0]);
	close(go[1]);
	for (int k = 0; k < 2; k++) {
		int st = 0;

		assert_int_equal(waitpid(kids[k], &st, 0), kids[k]);
		assert_true(WIFEXITED(st));
		if (WEXITSTATUS(st) == 0)
			ok++;
		else if (WEXITSTATUS(st) == 1)
			conflict++;
	}
	assert_int_equal(ok, 1);
	assert_int_equal(conflict, 1);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action ="
			       " 'observation.submit'"), 1);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM rating"), 2);
	audit_intact(f);
}

/* ---- amendments ---- */

static void test_amend(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct observation o, *eff;
	size_t n;
	int64_t a1 = new_obs(f, 1, 1, 2, NULL, NULL), draft = new_obs(f, 1, 1, 2, NULL, NULL);
	int64_t b = 0, c = 0;
	struct obs_answer fix = yes("accuracy", 1000);

	fill_call(f, a1, 2, 700);	/* (1 + 2/3 + 1.4) / 4 = 76.66: fail */
	submit_ok(f, a1, 2, 1002);
	assert_int_equal(observation_amend(f->db, a1, 2, "", 1003, &b, &err), AT_BADREQ);
	assert_int_equal(observation_amend(f->db, a1, 2, " \t", 1003, &b, &err), AT_BADREQ);
	assert_int_equal(observation_amend(f->db, a1, 2, NULL, 1003, &b, &err), AT_BADREQ);
	assert_int_equal(observation_amend(f->db, a1, 3, "typo", 1003, &b, &err), AT_FORBIDDEN);
	assert_int_equal(observation_amend(f->db, draft, 2, "typo", 1003, &b, &err), AT_CONFLICT);
	assert_int_equal(observation_amend(f->db, 999, 2, "typo", 1003, &b, &err), AT_NOTFOUND);
	assert_int_equal(observation_amend(f->db, a1, 2, "accuracy was misread from the recording",
					   1003, &b, &err), AT_OK);
	assert_int_equal(observation_get(f->db, f->a, b, &o), AT_OK);
	assert_string_equal(o.status, "draft");
	assert_int_equal(o.amends_id, a1);
	assert_string_equal(o.amend_reason, "accuracy was misread from the recording");
	assert_int_equal(o.nanswers, 4);	/* copied */
	assert_int_equal(o.nfeedback, 1);
	/* until the amendment is submitted, the original stands */
	assert_int_equal(observation_effective(f->db, f->a, 1, 1, NULL, &eff, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(eff[0].id, a1);
	assert_int_equal(observation_save(f->db, b, 2, &fix, 1, NULL, 0, 1004, &err), AT_OK);
	submit_ok(f, b, 2, 1005);
	assert_int_equal(observation_effective(f->db, f->a, 1, 1, NULL, &eff, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(eff[0].id, b);
	assert_int_equal(eff[0].score, 9166);	/* (1 + 2/3 + 2) / 4 */
	assert_true(eff[0].passed);
	/* the original is untouched */
	assert_int_equal(observation_get(f->db, f->a, a1, &o), AT_OK);
	assert_string_equal(o.status, "submitted");
	assert_int_equal(o.score, 7666);
	assert_false(o.passed);
	/* one amendment per observation; correct again by amending the amendment */
	assert_int_equal(observation_amend(f->db, a1, 2, "again", 1006, &c, &err), AT_CONFLICT);
	assert_int_equal(observation_amend(f->db, b, 2, "wrong date", 1006, &c, &err), AT_OK);
	assert_int_equal(observation_effective(f->db, f->a, 1, 1, "assessor", &eff, &n), AT_OK);
	assert_int_equal(n, 1);
	assert_int_equal(eff[0].id, b);
	assert_int_equal(observation_effective(f->db, f->a, 1, 1, "self", &eff, &n), AT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action ="
			       " 'observation.amend'"), 2);
	audit_intact(f);
}

/* ---- self-evaluation, side by side, co-observed sessions ---- */

static void test_self_and_sessions(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct obs_side side;
	struct obs_answer self_ans[] = { yes("greet", 1), yes("listen", 3), yes("accuracy", 500) };
	struct obs_answer as_ans[] = { yes("greet", 0), yes("listen", 1), yes("accuracy", 900) };
	struct obs_feedback fb[] = { { "went_well", "Warm tone" } };
	struct observation o;
	int64_t s = new_obs(f, 1, 1, 1, "self", NULL), a1 = new_obs(f, 1, 1, 2, NULL, "call-9");
	int64_t e = new_obs(f, 1, 1, 5, "expert", "call-9"), v;
	int flags;

	/* the learner rates themself, no feedback fields needed, never "passes" */
	assert_int_equal(observation_save(f->db, s, 1, self_ans, 3, NULL, 0, 1001, &err), AT_OK);
	submit_ok(f, s, 1, 1002);
	assert_int_equal(observation_get(f->db, f->a, s, &o), AT_OK);
	assert_false(o.passed);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM rating WHERE rater_role = 'self'"), 2);
	assert_int_equal(observation_save(f->db, a1, 2, as_ans, 3, fb, 1, 1001, &err), AT_OK);
	submit_ok(f, a1, 2, 1003);
	assert_int_equal(observation_get(f->db, f->a, a1, &o), AT_OK);
	assert_true(o.critical_missed);	/* greet is critical and answered no */
	assert_false(o.passed);
	/* greet no -> C1 value 0 */
	assert_int_equal(count(f, "SELECT value FROM rating WHERE competency_id = 1 AND"
			       " rater_role = 'assessor'"), 0);
	assert_int_equal(observation_side_self(f->db, f->a, 1, 1, &side), AT_OK);
	assert_int_equal(side.nobs, 2);
	assert_string_equal(side.obs[0].rater_role, "self");
	assert_string_equal(side.obs[1].rater_role, "assessor");
	assert_int_equal(side.nitems, 5);
	assert_string_equal(side.rows[1].key, "listen");
	assert_int_equal(side.rows[1].cells[0].value, 3);
	assert_int_equal(side.rows[1].cells[1].value, 1);
	assert_false(side.rows[4].cells[0].answered);	/* bonus */
	/* self 3 vs assessor 1 on C2: flagged for a coordinator */
	assert_int_equal(rating_current(f->db, 1, 2, RATING_AGREE_WITHIN_ONE, &v, &flags), AT_OK);
	assert_int_equal(v, 1);
	assert_true(flags & RATING_FLAG_REVIEW);
	/* a co-observed session: both raters side by side once both submitted */
	assert_int_equal(observation_side_by_session(f->db, f->a, 1, "call-9", &side), AT_OK);
	assert_int_equal(side.nobs, 1);
	assert_int_equal(observation_save(f->db, e, 5, as_ans, 3, fb, 1, 1001, &err), AT_OK);
	submit_ok(f, e, 5, 1004);
	assert_int_equal(observation_side_by_session(f->db, f->a, 1, "call-9", &side), AT_OK);
	assert_int_equal(side.nobs, 2);
	assert_int_equal(side.obs[0].assessor_id, 2);
	assert_int_equal(side.obs[1].assessor_id, 5);
	assert_string_equal(side.obs[1].rater_role, "expert");
	assert_int_equal(observation_side_by_session(f->db, f->a, 1, "nope", &side), AT_NOTFOUND);
	assert_int_equal(observation_side_by_session(f->db, f->a, 1, "", &side), AT_BADREQ);
	assert_int_equal(observation_side_self(f->db, f->a, 2, 2, &side), AT_NOTFOUND);
}

/* ---- qualified assessors and decisions ---- */

static void decide(struct testdb_fx *f, int64_t enrolment, const char *outcome, int64_t now)
{
	struct at_err err = { "" };
	int64_t d = 0;

	assert_int_equal(decision_propose(f->db, enrolment, outcome, "{\"rule\":\"test\"}", now,
					  &d, &err), AT_OK);
	assert_int_equal(decision_confirm(f->db, d, 4, false, now, &err), AT_OK);
}

static void test_qualification(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct obs_answer t = yes("teach", 3);
	int64_t nov = new_obs(f, 2, 2, 3, NULL, NULL), ann = new_obs(f, 2, 2, 2, NULL, NULL);
	int64_t d = 0;
	const int64_t day = 86400;

	assert_int_equal(observation_save(f->db, nov, 3, &t, 1, NULL, 0, 1001, &err), AT_OK);
	assert_int_equal(observation_save(f->db, ann, 2, &t, 1, NULL, 0, 1001, &err), AT_OK);
	/* no decision at all */
	assert_int_equal(observation_submit(f->db, ann, 2, 2000, &err), AT_FORBIDDEN);
	assert_non_null(strstr(err.msg, "not qualified"));
	assert_non_null(strstr(err.msg, "'calls'"));
	/* a proposal is not enough */
	assert_int_equal(decision_propose(f->db, 3, "certified", "{}", 2000, &d, &err), AT_OK);
	assert_int_equal(observation_submit(f->db, ann, 2, 2000, &err), AT_FORBIDDEN);
	/* confirmed: qualified, but only until it expires (program calls: 365 days) */
	assert_int_equal(decision_confirm(f->db, d, 4, false, 2000, &err), AT_OK);
	assert_int_equal(observation_submit(f->db, ann, 2, 2000 + 366 * day, &err), AT_FORBIDDEN);
	submit_ok(f, ann, 2, 2001);
	/* overridden to another outcome: not qualified */
	assert_int_equal(decision_propose(f->db, 4, "certified", "{}", 2000, &d, &err), AT_OK);
	assert_int_equal(decision_override(f->db, d, 4, false, "not yet", "two calls missed the"
					   " critical greeting", 2000, &err), AT_OK);
	assert_int_equal(observation_submit(f->db, nov, 3, 2001, &err), AT_FORBIDDEN);
	/* a later certification qualifies */
	decide(f, 4, "certified", 3000);
	submit_ok(f, nov, 3, 3001);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM rating WHERE competency_id = 3"), 2);
	audit_intact(f);
}

static void test_decisions(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct decision d;
	int64_t d1 = 0, d2 = 0, d3 = 0;
	const int64_t day = 86400;

	assert_int_equal(decision_propose(f->db, 1, "pass", "not json", 10, &d1, &err), AT_BADREQ);
	assert_int_equal(decision_propose(f->db, 1, "pass", "[1]", 10, &d1, &err), AT_BADREQ);
	assert_int_equal(decision_propose(f->db, 1, " ", "{}", 10, &d1, &err), AT_BADREQ);
	assert_int_equal(decision_propose(f->db, 99, "pass", "{}", 10, &d1, &err), AT_NOTFOUND);
	assert_int_equal(decision_current(f->db, f->a, 1, 10, &d), AT_NOTFOUND);
	assert_int_equal(decision_propose(f->db, 1, "pass", "{\"passed\":4,\"of\":5}", 10, &d1,
					  &err), AT_OK);
	assert_int_equal(decision_propose(f->db, 1, "fail", "{\"passed\":3,\"of\":5}", 20, &d2,
					  &err), AT_OK);
	assert_int_equal(decision_get(f->db, f->a, d1, &d), AT_OK);
	assert_string_equal(d.status, "superseded");
	assert_int_equal(decision_confirm(f->db, d1, 4, false, 30, &err), AT_CONFLICT);
	assert_int_equal(decision_pending(f->db, f->a, 1, &d), AT_OK);
	assert_int_equal(d.id, d2);
	assert_int_equal(decision_current(f->db, f->a, 1, 30, &d), AT_NOTFOUND);
	/* override needs a real justification */
	assert_int_equal(decision_override(f->db, d2, 4, false, "pass", "too short", 30, &err),
			 AT_BADREQ);
	assert_int_equal(decision_override(f->db, d2, 4, false, "pass", "   short      ", 30, &err),
			 AT_BADREQ);
	assert_int_equal(decision_override(f->db, d2, 4, false, "pass", NULL, 30, &err),
			 AT_BADREQ);
	assert_int_equal(decision_override(f->db, d2, 4, false, "", "long enough reason", 30, &err),
			 AT_BADREQ);
	assert_int_equal(decision_override(f->db, 999, 4, false, "pass", "long enough reason", 30,
					   &err), AT_NOTFOUND);
	assert_int_equal(decision_override(f->db, d2, 4, false, "pass", "call 3 was scored on"
					   " the wrong scorecard", 30, &err), AT_OK);
	assert_int_equal(decision_current(f->db, f->a, 1, 40, &d), AT_OK);
	assert_int_equal(d.id, d2);
	assert_string_equal(d.status, "overridden");
	assert_string_equal(d.proposed_outcome, "fail");
	assert_string_equal(d.final_outcome, "pass");
	assert_int_equal(d.decided_by, 4);
	assert_int_equal(d.expires_at, 30 + 365 * day);
	assert_false(d.expired);
	assert_int_equal(decision_current(f->db, f->a, 1, 30 + 365 * day, &d), AT_OK);
	assert_true(d.expired);
	assert_int_equal(decision_pending(f->db, f->a, 1, &d), AT_NOTFOUND);
	/* immutable once decided */
	assert_int_equal(decision_confirm(f->db, d2, 4, false, 50, &err), AT_CONFLICT);
	assert_int_equal(decision_override(f->db, d2, 4, false, "fail", "changed my mind again", 50,
					   &err), AT_CONFLICT);
	/* recertification: a new proposal leaves the decided one alone */
	assert_int_equal(decision_propose(f->db, 1, "pass", "{}", 60, &d3, &err), AT_OK);
	assert_int_equal(decision_get(f->db, f->a, d2, &d), AT_OK);
	assert_string_equal(d.status, "overridden");
	assert_int_equal(decision_confirm(f->db, d3, 4, false, 70, &err), AT_OK);
	assert_int_equal(decision_current(f->db, f->a, 1, 70, &d), AT_OK);
	assert_int_equal(d.id, d3);
	assert_string_equal(d.final_outcome, "pass");
	assert_string_equal(d.justification, "");
	/* program trainer has no validity: no expiry */
	assert_int_equal(decision_propose(f->db, 2, "lead", "{}", 60, &d1, &err), AT_OK);
	assert_int_equal(decision_confirm(f->db, d1, 4, false, 70, &err), AT_OK);
	assert_int_equal(decision_current(f->db, f->a, 2, 1LL << 40, &d), AT_OK);
	assert_int_equal(d.expires_at, 0);
	assert_false(d.expired);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action = 'decision.propose'"
			       " AND data LIKE '%basis_sha256%'"), 4);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action ="
			       " 'decision.override'"), 1);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action = 'decision.confirm'"),
			 2);
	audit_intact(f);
}

/* Program 3 (tiered, fallback "later", parseable by program_load) and its enrolments
 * 5..8 (learners 1, 2, 3, 5), for the decisions that close an enrolment. */
static const char SEED_TIERED[] =
	"INSERT INTO program (id, key, title, definition, created_at, updated_at) VALUES"
	" (3, 'tiered', 'Tiered', '{\"key\":\"tiered\",\"title\":\"Tiered\",\"version\":1,"
	"\"frameworks\":[\"fw\"],\"checklists\":[{\"key\":\"c\",\"title\":\"C\",\"items\":"
	"[{\"key\":\"i\",\"kind\":\"yesno\",\"label\":\"I\"}]}],\"tiers\":[{\"key\":\"lead\","
	"\"label\":\"Lead\",\"targets\":[{\"competency\":\"c1\",\"level\":2}]}],\"rule\":"
	"{\"type\":\"tiers\",\"requires\":{\"type\":\"count\",\"checklist\":\"c\",\"min\":1},"
	"\"fallback\":\"later\"}}', 1, 1);"
	"INSERT INTO enrolment (id, program_id, user_id, started_at) VALUES"
	" (5, 3, 1, 1), (6, 3, 2, 1), (7, 3, 3, 1), (8, 3, 5, 1);";

/* Make every UPDATE of an enrolment to 'completed' fail in the database (on refuse). */
static void refuse_completed(struct testdb_fx *f, bool refuse)
{
	const char *sql;

	if (f->t.pg)
		sql = refuse ?
		      "CREATE FUNCTION no_close() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
		      " IF NEW.status = 'completed' THEN RAISE EXCEPTION 'no close'; END IF;"
		      " RETURN NEW; END $$;"
		      "CREATE TRIGGER no_close BEFORE UPDATE ON enrolment FOR EACH ROW"
		      " EXECUTE PROCEDURE no_close();" :
		      "DROP TRIGGER no_close ON enrolment; DROP FUNCTION no_close();";
	else
		sql = refuse ?
		      "CREATE TRIGGER no_close BEFORE UPDATE OF status ON enrolment"
		      " WHEN NEW.status = 'completed' BEGIN SELECT RAISE(ABORT, 'no close'); END;" :
		      "DROP TRIGGER no_close;";
	assert_int_equal(db_exec(f->db, sql), AT_OK);
}

static const char *status_of(struct testdb_fx *f, int64_t enrolment)
{
	struct enrolment e;

	assert_int_equal(enrolment_get(f->db, f->a, enrolment, &e), AT_OK);
	return e.status;
}

/* Deciding with closing: the decision, its audit row, the enrolment's "completed" and its
 * audit row commit in one transaction — or none of them does. */
static void test_decision_closes(void **state)
{
	struct testdb_fx *f = *state;
	struct at_err err = { "" };
	struct program *p = NULL, plain = { 0 };
	struct decision d;
	struct enrolment e;
	int64_t d5 = 0, d6 = 0, d7 = 0, d8 = 0, audits;

	assert_int_equal(db_exec(f->db, SEED_TIERED), AT_OK);
	/* the rule: anything but pending and, when tiered, the rule's fallback */
	assert_int_equal(program_load(f->db, f->a, "tiered", 0, &p), AT_OK);
	assert_true(program_outcome_closes(p, "lead"));
	assert_true(program_outcome_closes(p, "not_yet"));	/* not this program's fallback */
	assert_false(program_outcome_closes(p, "later"));
	assert_false(program_outcome_closes(p, "pending"));
	assert_false(program_outcome_closes(p, NULL));
	assert_true(program_outcome_closes(&plain, "not_yet"));	/* untiered: it ends */
	assert_true(program_outcome_closes(&plain, "fail"));

	/* the fallback leaves the enrolment active; so does deciding without closing */
	assert_int_equal(decision_propose(f->db, 5, "later", "{}", 10, &d5, &err), AT_OK);
	assert_int_equal(decision_confirm(f->db, d5, 4, true, 20, &err), AT_OK);
	assert_string_equal(status_of(f, 5), "active");
	assert_int_equal(decision_propose(f->db, 6, "lead", "{}", 10, &d6, &err), AT_OK);
	assert_int_equal(decision_confirm(f->db, d6, 4, false, 20, &err), AT_OK);
	assert_string_equal(status_of(f, 6), "active");
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action = 'enrolment.status'"),
			 0);

	/* the status step fails: the decision rolls back with it */
	assert_int_equal(decision_propose(f->db, 7, "later", "{}", 10, &d7, &err), AT_OK);
	audits = count(f, "SELECT COUNT(*) FROM audit");
	refuse_completed(f, true);
	err.msg[0] = '\0';
	/* (SQLite reports RAISE(ABORT) as a constraint failure) */
	assert_int_equal(decision_override(f->db, d7, 4, true, "lead", "certified elsewhere"
					   " already", 30, &err), f->t.pg ? AT_DB : AT_CONFLICT);
	assert_non_null(strstr(err.msg, "no close"));
	assert_int_equal(decision_get(f->db, f->a, d7, &d), AT_OK);
	assert_string_equal(d.status, "proposed");
	assert_null(d.final_outcome);
	assert_int_equal(d.decided_by, 0);
	assert_string_equal(status_of(f, 7), "active");
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit"), audits);
	/* a fallback outcome does not touch the status: it still commits */
	assert_int_equal(decision_propose(f->db, 8, "later", "{}", 10, &d8, &err), AT_OK);
	assert_int_equal(decision_confirm(f->db, d8, 4, true, 30, &err), AT_OK);
	refuse_completed(f, false);

	/* it succeeds: decision and status together, each audited, by the coordinator */
	assert_int_equal(decision_override(f->db, d7, 4, true, "lead", "certified elsewhere"
					   " already", 40, &err), AT_OK);
	assert_int_equal(decision_get(f->db, f->a, d7, &d), AT_OK);
	assert_string_equal(d.status, "overridden");
	assert_string_equal(d.final_outcome, "lead");
	assert_int_equal(enrolment_get(f->db, f->a, 7, &e), AT_OK);
	assert_string_equal(e.status, "completed");
	assert_int_equal(e.completed_at, 40);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action = 'enrolment.status'"
			       " AND entity = 'enrolment' AND entity_id = 7 AND actor_id = 4"
			       " AND at = 40"), 1);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action = 'decision.override'"
			       " AND at = 40"), 1);
	/* completed already: a later closing decision writes no second status */
	assert_int_equal(decision_propose(f->db, 7, "lead", "{}", 50, &d7, &err), AT_OK);
	assert_int_equal(decision_confirm(f->db, d7, 4, true, 60, &err), AT_OK);
	assert_int_equal(count(f, "SELECT COUNT(*) FROM audit WHERE action = 'enrolment.status'"),
			 1);
	audit_intact(f);
}

#define SQ(t) cmocka_unit_test_setup_teardown(t, setup_sqlite, testdb_fx_teardown)
#define PG(t) cmocka_unit_test_setup_teardown(t, setup_pg, testdb_fx_teardown)

int main(void)
{
	const struct CMUnitTest sqlite[] = {
		SQ(test_scoring), SQ(test_validation), SQ(test_create_rules),
		SQ(test_double_submit), SQ(test_amend), SQ(test_self_and_sessions),
		SQ(test_qualification), SQ(test_decisions), SQ(test_decision_closes),
	};
	const struct CMUnitTest pg[] = {
		PG(test_scoring), PG(test_validation), PG(test_create_rules),
		PG(test_double_submit), PG(test_amend), PG(test_self_and_sessions),
		PG(test_qualification), PG(test_decisions), PG(test_decision_closes),
	};
	return TESTDB_RUN("observation", sqlite, pg);
}
