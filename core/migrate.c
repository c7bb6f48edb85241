/* migrate.c: the schema, as numbered migrations. Never edit a shipped migration: add one.
 *
 * DDL is written once; "@ID" becomes the backend's auto-increment key column.
 * All integers are BIGINT (timestamps are unix seconds); no fixed small text sizes
 * (Canvas sends long nonces, ids and names).
 */
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/migrate.h"

static const char M1[] =
	"CREATE TABLE platform ("
	" id @ID,"
	" issuer TEXT NOT NULL,"
	" client_id TEXT NOT NULL,"
	" name TEXT NOT NULL DEFAULT '',"
	" flavor TEXT NOT NULL DEFAULT 'generic',"
	" auth_endpoint TEXT NOT NULL,"
	" token_endpoint TEXT NOT NULL DEFAULT '',"
	" jwks_uri TEXT NOT NULL,"
	" auth_server TEXT NOT NULL DEFAULT '',"
	" source TEXT NOT NULL DEFAULT 'manual',"
	" scopes TEXT NOT NULL DEFAULT '',"
	" jwks_body TEXT,"
	" jwks_fetched_at BIGINT NOT NULL DEFAULT 0,"
	" jwks_expires_at BIGINT NOT NULL DEFAULT 0,"
	" jwks_lock_until BIGINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL,"
	" UNIQUE (issuer, client_id));"
	"CREATE TABLE platform_origin ("
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" origin TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" PRIMARY KEY (platform_id, origin));"
	"CREATE TABLE deployment ("
	" id @ID,"
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" deployment_id TEXT NOT NULL,"
	" learned BIGINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL,"
	" UNIQUE (platform_id, deployment_id));"
	"CREATE TABLE oidc_state ("
	" state TEXT PRIMARY KEY,"
	" secret_hash TEXT NOT NULL,"
	" nonce TEXT NOT NULL,"
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" target_link_uri TEXT NOT NULL,"
	" deployment_hint TEXT,"
	" storage BIGINT NOT NULL DEFAULT 0,"
	" expires_at BIGINT NOT NULL);"
	"CREATE INDEX oidc_state_expires ON oidc_state(expires_at);"
	"CREATE TABLE nonce_used ("
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" nonce TEXT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" PRIMARY KEY (platform_id, nonce));"
	"CREATE TABLE app_user ("
	" id @ID,"
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" sub TEXT NOT NULL,"
	" name TEXT NOT NULL DEFAULT '',"
	" given_name TEXT NOT NULL DEFAULT '',"
	" family_name TEXT NOT NULL DEFAULT '',"
	" email TEXT NOT NULL DEFAULT '',"
	" admin BIGINT NOT NULL DEFAULT 0,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" UNIQUE (platform_id, sub));"
	"CREATE TABLE context ("
	" id @ID,"
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" deployment_id BIGINT REFERENCES deployment(id) ON DELETE SET NULL,"
	" context_id TEXT NOT NULL,"
	" label TEXT NOT NULL DEFAULT '',"
	" title TEXT NOT NULL DEFAULT '',"
	" nrps_url TEXT NOT NULL DEFAULT '',"
	" ags_lineitems TEXT NOT NULL DEFAULT '',"
	" ags_scopes TEXT NOT NULL DEFAULT '',"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" UNIQUE (platform_id, context_id));"
	"CREATE TABLE membership ("
	" user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,"
	" context_id BIGINT NOT NULL REFERENCES context(id) ON DELETE CASCADE,"
	" roles TEXT NOT NULL DEFAULT '',"
	" role BIGINT NOT NULL DEFAULT 0,"
	" updated_at BIGINT NOT NULL,"
	" PRIMARY KEY (user_id, context_id));"
	"CREATE TABLE resource_link ("
	" id @ID,"
	" context_id BIGINT NOT NULL REFERENCES context(id) ON DELETE CASCADE,"
	" link_id TEXT NOT NULL,"
	" title TEXT NOT NULL DEFAULT '',"
	" ags_lineitem TEXT NOT NULL DEFAULT '',"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" UNIQUE (context_id, link_id));"
	"CREATE TABLE session ("
	" token_hash TEXT PRIMARY KEY,"
	" user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,"
	" context_id BIGINT REFERENCES context(id) ON DELETE CASCADE,"
	" resource_link_id BIGINT REFERENCES resource_link(id) ON DELETE SET NULL,"
	" role BIGINT NOT NULL DEFAULT 0,"
	" csrf TEXT NOT NULL,"
	" message_type TEXT NOT NULL DEFAULT '',"
	" launch TEXT NOT NULL DEFAULT '',"
	" frame_ancestors TEXT NOT NULL DEFAULT '',"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL);"
	"CREATE INDEX session_expires ON session(expires_at);"
	"CREATE TABLE tool_key ("
	" kid TEXT PRIMARY KEY,"
	" public_jwk TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" sign_from BIGINT NOT NULL,"
	" retire_at BIGINT);";

/* 2: the competency core — frameworks, programs, checklists, observations, ratings,
 * evidence, third-party feedback, progress, notes, decisions, audit. */
static const char M2[] =
	"CREATE TABLE framework ("
	" id @ID,"
	" idnumber TEXT NOT NULL UNIQUE,"
	" shortname TEXT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" scale TEXT NOT NULL,"		/* JSON: [{"name":..,"proficient":bool,"default":bool}] */
	" taxonomies TEXT NOT NULL DEFAULT '',"
	" source TEXT NOT NULL DEFAULT '',"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL);"
	"CREATE TABLE competency ("
	" id @ID,"
	" framework_id BIGINT NOT NULL REFERENCES framework(id) ON DELETE CASCADE,"
	" idnumber TEXT NOT NULL,"
	" shortname TEXT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" parent_id BIGINT REFERENCES competency(id) ON DELETE CASCADE,"
	" sortorder BIGINT NOT NULL DEFAULT 0,"
	" path TEXT NOT NULL DEFAULT '/',"
	" rule_type TEXT NOT NULL DEFAULT 'none',"	/* none, all, points, manual */
	" rule_config TEXT NOT NULL DEFAULT '',"	/* JSON for points rules */
	" UNIQUE (framework_id, idnumber));"
	"CREATE INDEX competency_parent ON competency(parent_id);"
	"CREATE TABLE program ("
	" id @ID,"
	" key TEXT NOT NULL UNIQUE,"
	" version BIGINT NOT NULL DEFAULT 1,"
	" title TEXT NOT NULL,"
	" definition TEXT NOT NULL,"		/* the imported JSON definition, normalised */
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL);"
	"CREATE TABLE checklist ("
	" id @ID,"
	" program_id BIGINT NOT NULL REFERENCES program(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL,"
	" title TEXT NOT NULL,"
	" pass_mark BIGINT NOT NULL DEFAULT 0,"	/* in hundredths of a point */
	" max_score BIGINT NOT NULL DEFAULT 0,"	/* in hundredths of a point */
	" definition TEXT NOT NULL,"
	" UNIQUE (program_id, key));"
	"CREATE TABLE checklist_item ("
	" id @ID,"
	" checklist_id BIGINT NOT NULL REFERENCES checklist(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL,"
	" position BIGINT NOT NULL,"
	" kind TEXT NOT NULL,"			/* yesno, rating, points, comment */
	" label TEXT NOT NULL,"
	" weight BIGINT NOT NULL DEFAULT 100,"	/* hundredths */
	" max_points BIGINT NOT NULL DEFAULT 0,"
	" critical BIGINT NOT NULL DEFAULT 0,"
	" required BIGINT NOT NULL DEFAULT 0,"
	" UNIQUE (checklist_id, key));"
	"CREATE TABLE item_competency ("
	" item_id BIGINT NOT NULL REFERENCES checklist_item(id) ON DELETE CASCADE,"
	" competency_id BIGINT NOT NULL REFERENCES competency(id) ON DELETE CASCADE,"
	" PRIMARY KEY (item_id, competency_id));"
	"CREATE TABLE enrolment ("
	" id @ID,"
	" program_id BIGINT NOT NULL REFERENCES program(id) ON DELETE CASCADE,"
	" user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,"
	" context_id BIGINT REFERENCES context(id) ON DELETE SET NULL,"
	" status TEXT NOT NULL DEFAULT 'active',"
	" started_at BIGINT NOT NULL,"
	" completed_at BIGINT,"
	" UNIQUE (program_id, user_id));"
	"CREATE TABLE observation ("
	" id @ID,"
	" enrolment_id BIGINT NOT NULL REFERENCES enrolment(id) ON DELETE CASCADE,"
	" checklist_id BIGINT NOT NULL REFERENCES checklist(id),"
	" assessor_id BIGINT NOT NULL REFERENCES app_user(id),"
	" rater_role TEXT NOT NULL DEFAULT 'assessor',"	/* assessor, self, second, expert */
	" session_key TEXT NOT NULL DEFAULT '',"		/* one observed session, many raters */
	" client_key TEXT UNIQUE,"				/* idempotent offline submit */
	" status TEXT NOT NULL DEFAULT 'draft',"		/* draft, submitted */
	" score BIGINT NOT NULL DEFAULT 0,"			/* hundredths */
	" max_score BIGINT NOT NULL DEFAULT 0,"
	" passed BIGINT NOT NULL DEFAULT 0,"
	" critical_missed BIGINT NOT NULL DEFAULT 0,"
	" amends_id BIGINT REFERENCES observation(id),"
	" amend_reason TEXT NOT NULL DEFAULT '',"
	" observed_at BIGINT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" submitted_at BIGINT);"
	"CREATE INDEX observation_enrolment ON observation(enrolment_id, checklist_id);"
	"CREATE TABLE observation_answer ("
	" observation_id BIGINT NOT NULL REFERENCES observation(id) ON DELETE CASCADE,"
	" item_id BIGINT NOT NULL REFERENCES checklist_item(id),"
	" value BIGINT,"			/* yes=1/no=0, scale index, points (hundredths) */
	" text TEXT NOT NULL DEFAULT '',"	/* comment items and per-item comments */
	" PRIMARY KEY (observation_id, item_id));"
	"CREATE TABLE feedback_field ("
	" observation_id BIGINT NOT NULL REFERENCES observation(id) ON DELETE CASCADE,"
	" key TEXT NOT NULL,"
	" text TEXT NOT NULL,"
	" PRIMARY KEY (observation_id, key));"
	"CREATE TABLE rating ("
	" id @ID,"
	" learner_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,"
	" competency_id BIGINT NOT NULL REFERENCES competency(id) ON DELETE CASCADE,"
	" rater_id BIGINT NOT NULL REFERENCES app_user(id),"
	" rater_role TEXT NOT NULL,"
	" value BIGINT NOT NULL,"		/* index into the framework scale, 0-based */
	" observation_id BIGINT REFERENCES observation(id),"
	" program_id BIGINT REFERENCES program(id) ON DELETE SET NULL,"
	" note TEXT NOT NULL DEFAULT '',"
	" created_at BIGINT NOT NULL);"
	"CREATE INDEX rating_learner ON rating(learner_id, competency_id, created_at);"
	"CREATE TABLE evidence ("
	" id @ID,"
	" learner_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL,"			/* file, link, note */
	" sha256 TEXT NOT NULL DEFAULT '',"
	" size BIGINT NOT NULL DEFAULT 0,"
	" media_type TEXT NOT NULL DEFAULT '',"
	" filename TEXT NOT NULL DEFAULT '',"
	" url TEXT NOT NULL DEFAULT '',"
	" note TEXT NOT NULL DEFAULT '',"
	" observation_id BIGINT REFERENCES observation(id) ON DELETE SET NULL,"
	" uploaded_by BIGINT NOT NULL REFERENCES app_user(id),"
	" status TEXT NOT NULL DEFAULT 'pending',"	/* pending, accepted, rejected */
	" reviewer_id BIGINT REFERENCES app_user(id),"
	" review_comment TEXT NOT NULL DEFAULT '',"
	" reviewed_at BIGINT,"
	" created_at BIGINT NOT NULL);"
	"CREATE INDEX evidence_learner ON evidence(learner_id);"
	"CREATE TABLE evidence_competency ("
	" evidence_id BIGINT NOT NULL REFERENCES evidence(id) ON DELETE CASCADE,"
	" competency_id BIGINT NOT NULL REFERENCES competency(id) ON DELETE CASCADE,"
	" PRIMARY KEY (evidence_id, competency_id));"
	"CREATE TABLE feedback_link ("
	" id @ID,"
	" token_hash TEXT NOT NULL UNIQUE,"
	" enrolment_id BIGINT NOT NULL REFERENCES enrolment(id) ON DELETE CASCADE,"
	" form_key TEXT NOT NULL,"
	" created_by BIGINT NOT NULL REFERENCES app_user(id),"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" used_at BIGINT);"
	"CREATE TABLE feedback_response ("
	" id @ID,"
	" link_id BIGINT NOT NULL UNIQUE REFERENCES feedback_link(id) ON DELETE CASCADE,"
	" answers TEXT NOT NULL,"		/* JSON object: field key -> value */
	" score BIGINT,"			/* hundredths, when the form has a rated field */
	" created_at BIGINT NOT NULL);"
	"CREATE TABLE progress_report ("
	" id @ID,"
	" enrolment_id BIGINT NOT NULL REFERENCES enrolment(id) ON DELETE CASCADE,"
	" day TEXT NOT NULL,"			/* YYYY-MM-DD */
	" text TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE TABLE note ("
	" id @ID,"
	" enrolment_id BIGINT NOT NULL REFERENCES enrolment(id) ON DELETE CASCADE,"
	" author_id BIGINT NOT NULL REFERENCES app_user(id),"
	" day TEXT NOT NULL,"
	" text TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE TABLE decision ("
	" id @ID,"
	" enrolment_id BIGINT NOT NULL REFERENCES enrolment(id) ON DELETE CASCADE,"
	" proposed_outcome TEXT NOT NULL,"
	" basis TEXT NOT NULL,"			/* JSON: what the rule saw */
	" proposed_at BIGINT NOT NULL,"
	" status TEXT NOT NULL DEFAULT 'proposed',"	/* proposed, confirmed, overridden,
							 * superseded */
	" final_outcome TEXT,"
	" decided_by BIGINT REFERENCES app_user(id),"
	" decided_at BIGINT,"
	" justification TEXT NOT NULL DEFAULT '',"
	" expires_at BIGINT);"
	"CREATE TABLE audit ("
	" id @ID,"
	" at BIGINT NOT NULL,"
	" actor_id BIGINT,"
	" action TEXT NOT NULL,"
	" entity TEXT NOT NULL,"
	" entity_id BIGINT NOT NULL,"
	" data TEXT NOT NULL,"
	" prev_hash TEXT NOT NULL,"
	" hash TEXT NOT NULL UNIQUE);"
	/* one amendment per observation (amend the amendment to correct again) */
	"CREATE UNIQUE INDEX observation_amends ON observation(amends_id);"
	/* one daily progress report per learner and day (later ones append to it) */
	"CREATE UNIQUE INDEX progress_report_day ON progress_report(enrolment_id, day);"
	"CREATE INDEX note_enrolment ON note(enrolment_id, day);"
	"CREATE INDEX feedback_link_enrolment ON feedback_link(enrolment_id);"
	"CREATE INDEX evidence_competency_c ON evidence_competency(competency_id);"
	"CREATE INDEX evidence_sha256 ON evidence(sha256);"
	"CREATE INDEX decision_enrolment ON decision(enrolment_id);"
	"CREATE INDEX enrolment_context ON enrolment(context_id);"
	"CREATE INDEX membership_context ON membership(context_id);"
	"CREATE INDEX rating_observation ON rating(observation_id);";

/* 3: LMS sync — placements of programs in courses (deep linking, AGS line items), rosters
 * (NRPS), assessor assignments and cohorts, LMS REST credentials and id maps, the outbox. */
static const char M3[] =
	"ALTER TABLE platform ADD COLUMN lms_url TEXT NOT NULL DEFAULT '';"	/* REST base */
	"ALTER TABLE platform ADD COLUMN lms_token TEXT NOT NULL DEFAULT '';"	/* REST token */
	"ALTER TABLE app_user ADD COLUMN lms_user_id TEXT NOT NULL DEFAULT '';"	/* REST id */
	"ALTER TABLE app_user ADD COLUMN launched_at BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE context ADD COLUMN lms_course_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE context ADD COLUMN roster_synced_at BIGINT NOT NULL DEFAULT 0;"
	"ALTER TABLE context ADD COLUMN roster_diff_url TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE resource_link ADD COLUMN lms_assignment_id TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE membership ADD COLUMN source TEXT NOT NULL DEFAULT 'launch';"	/* launch,
											 * nrps */
	"ALTER TABLE membership ADD COLUMN active BIGINT NOT NULL DEFAULT 1;"
	"ALTER TABLE enrolment ADD COLUMN cohort TEXT NOT NULL DEFAULT '';"	/* group */
	"CREATE TABLE enrolment_assessor ("
	" enrolment_id BIGINT NOT NULL REFERENCES enrolment(id) ON DELETE CASCADE,"
	" assessor_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,"
	" assigned_by BIGINT REFERENCES app_user(id) ON DELETE SET NULL,"
	" created_at BIGINT NOT NULL,"
	" PRIMARY KEY (enrolment_id, assessor_id));"
	"CREATE INDEX enrolment_assessor_a ON enrolment_assessor(assessor_id);"
	"CREATE TABLE placement ("
	" id @ID,"
	" context_id BIGINT NOT NULL REFERENCES context(id) ON DELETE CASCADE,"
	" program_id BIGINT NOT NULL REFERENCES program(id) ON DELETE CASCADE,"
	" checklist_id BIGINT REFERENCES checklist(id) ON DELETE CASCADE,"	/* NULL: program */
	" resource_id TEXT NOT NULL UNIQUE,"		/* AGS resourceId, found again by it */
	" title TEXT NOT NULL DEFAULT '',"
	" link_id TEXT NOT NULL DEFAULT '',"		/* LTI resource link, from the first launch */
	" lineitem_url TEXT NOT NULL DEFAULT '',"
	" score_max BIGINT NOT NULL DEFAULT 10000,"	/* hundredths */
	" created_by BIGINT REFERENCES app_user(id) ON DELETE SET NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE INDEX placement_context ON placement(context_id, program_id);"
	"CREATE TABLE lms_map ("
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL,"				/* framework, competency, outcome, ... */
	" local_key TEXT NOT NULL,"
	" remote_id TEXT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" PRIMARY KEY (platform_id, kind, local_key));"
	"CREATE TABLE outbox ("
	" id @ID,"
	" platform_id BIGINT NOT NULL REFERENCES platform(id) ON DELETE CASCADE,"
	" kind TEXT NOT NULL,"				/* score, lineitem, roster, moodle_rating, ... */
	" order_key TEXT NOT NULL,"			/* same key: delivered in id order */
	" idem_key TEXT NOT NULL UNIQUE,"		/* enqueueing it again is a no-op */
	" payload TEXT NOT NULL,"			/* JSON */
	" status TEXT NOT NULL DEFAULT 'pending',"	/* pending, done, parked, superseded */
	" attempts BIGINT NOT NULL DEFAULT 0,"
	" next_at_ms BIGINT NOT NULL,"
	" lease_owner TEXT NOT NULL DEFAULT '',"
	" lease_until_ms BIGINT NOT NULL DEFAULT 0,"
	" last_status BIGINT NOT NULL DEFAULT 0,"	/* last HTTP status, 0: transport error */
	" last_error TEXT NOT NULL DEFAULT '',"		/* message or (capped) response body */
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" delivered_at BIGINT);"
	"CREATE INDEX outbox_due ON outbox(status, next_at_ms);"
	"CREATE INDEX outbox_order ON outbox(order_key, id);"
	"CREATE INDEX outbox_platform ON outbox(platform_id, status);";

/* 4: capability links that let an LMS fetch an evidence file without a session (Canvas
 * pulls the files named in a score's content_items into SpeedGrader). */
static const char M4[] =
	"CREATE TABLE evidence_share ("
	" token_hash TEXT PRIMARY KEY,"		/* sha256 of the random token in the URL */
	" evidence_id BIGINT NOT NULL REFERENCES evidence(id) ON DELETE CASCADE,"
	" platform_id BIGINT REFERENCES platform(id) ON DELETE CASCADE,"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" fetches BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX evidence_share_evidence ON evidence_share(evidence_id);";

static const struct {
	int version;
	const char *sql;
} migrations[] = {
	{ 1, M1 },
	{ 2, M2 },
	{ 3, M3 },
	{ 4, M4 },
};

int migrate_latest(void)
{
	return migrations[NELEM(migrations) - 1].version;
}

static const char SQL_META[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	" version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)";
static const char SQL_EXISTS_SQLITE[] =
	"SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'";
static const char SQL_EXISTS_PG[] =
	"SELECT COUNT(*) FROM information_schema.tables"
	" WHERE table_schema = current_schema() AND table_name = 'schema_version'";
static const char SQL_VERSION[] = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
static const char SQL_RECORD[] =
	"INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)";

enum at_rc migrate_version(struct db *db, int *version)
{
	struct db_stmt *st = NULL;
	bool row;
	enum at_rc rc;

	*version = 0;
	rc = db_prepare(db, db_kind(db) == DB_PG ? SQL_EXISTS_PG : SQL_EXISTS_SQLITE, &st);
	if (rc != AT_OK)
		goto out;
	rc = db_step(st, &row);
	if (rc != AT_OK || !row || db_col_i64(st, 0) == 0)
		goto out;	/* an empty database: version 0 */
	db_finalize(st);
	st = NULL;
	rc = db_prepare(db, SQL_VERSION, &st);
	if (rc != AT_OK)
		goto out;
	rc = db_step(st, &row);
	if (rc == AT_OK && row)
		*version = (int)db_col_i64(st, 0);
out:
	db_finalize(st);
	return rc;
}

/* Expand @ID for this backend into b. */
static enum at_rc expand(struct db *db, const char *sql, struct buf *b)
{
	const char *id = db_kind(db) == DB_PG ?
		"BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" :
		"INTEGER PRIMARY KEY";
	const char *p = sql, *at;
	enum at_rc rc = AT_OK;

	while (rc == AT_OK && (at = strstr(p, "@ID")) != NULL) {
		rc = buf_append(b, p, (size_t)(at - p));
		if (rc == AT_OK)
			rc = buf_puts(b, id);
		p = at + 3;
	}
	if (rc == AT_OK)
		rc = buf_puts(b, p);
	return rc;
}

enum at_rc migrate_run(struct db *db, int *applied, struct at_err *err)
{
	struct buf b;
	struct db_stmt *st = NULL;
	int current = 0;
	enum at_rc rc;

	*applied = 0;
	buf_init(&b, 1 << 20);
	rc = db_begin(db);
	if (rc != AT_OK) {
		at_fail(err, rc, "cannot begin migration: %s", db_errmsg(db));
		goto out_nt;
	}
	if (db_kind(db) == DB_PG) {
		rc = db_exec(db, "SELECT pg_advisory_xact_lock(7273726)");
		if (rc != AT_OK)
			goto out;
	}
	/* Inside the lock: two hosts migrating at once cannot both create it. */
	rc = db_exec(db, SQL_META);
	if (rc == AT_OK)
		rc = migrate_version(db, &current);
	if (rc != AT_OK)
		goto out;
	for (size_t i = 0; i < NELEM(migrations); i++) {
		if (migrations[i].version <= current)
			continue;
		buf_reset(&b);
		rc = expand(db, migrations[i].sql, &b);
		if (rc == AT_OK)
			rc = db_exec(db, buf_cstr(&b));
		if (rc != AT_OK) {
			at_fail(err, rc, "migration %d failed: %s", migrations[i].version,
				db_errmsg(db));
			goto out;
		}
		rc = db_prepare(db, SQL_RECORD, &st);
		if (rc != AT_OK)
			goto out;
		db_bind_i64(st, 1, migrations[i].version);
		db_bind_i64(st, 2, (int64_t)time(NULL));
		rc = db_run(st);
		db_finalize(st);
		st = NULL;
		if (rc != AT_OK)
			goto out;
		(*applied)++;
	}
	rc = db_commit(db);
	if (rc != AT_OK)
		at_fail(err, rc, "cannot commit migration: %s", db_errmsg(db));
out:
	if (rc != AT_OK) {
		if (err != NULL && err->msg[0] == '\0')
			at_fail(err, rc, "migration failed: %s", db_errmsg(db));
		db_rollback(db);
		*applied = 0;
	}
out_nt:
	buf_cleanup(&b);
	return rc;
}
