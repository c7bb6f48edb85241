/* pages.h: every handler, one file per page or endpoint (cgit's ui-*.c). */
#ifndef AT_PAGES_H
#define AT_PAGES_H

#include "fcgi/req.h"

void page_health(struct req *r);		/* page_health.c */
void page_jwks(struct req *r);			/* page_keys.c */
void page_canvas_json(struct req *r);		/* page_keys.c */
void page_lti_login(struct req *r);		/* page_login.c */
void page_lti_launch(struct req *r);		/* page_launch.c */
void page_lti_register(struct req *r);		/* page_register.c */
void page_app(struct req *r);			/* page_app.c */
void page_deeplink(struct req *r);		/* page_deeplink.c */
void page_index(struct req *r);			/* page_app.c */

/* --- pages: learner handlers --- */
void page_learner_home(struct req *r);		/* page_learner.c: GET /app for learners */
void page_learner_enrol(struct req *r);
void page_learner_enrolment(struct req *r);
void page_learner_progress(struct req *r);
void page_learner_self_eval(struct req *r);
void page_learner_evidence(struct req *r);
void page_learner_evidence_add(struct req *r);
void page_learner_record(struct req *r);
void page_learner_certificate(struct req *r);
/* --- end of pages: learner handlers --- */
/* --- pages: assessor handlers --- */
void page_assess_list(struct req *r);		/* page_assess.c: GET /app/assess */
void page_assess_observe(struct req *r);	/* page_assess.c */
void page_assess_obs(struct req *r);		/* page_assess.c: the checklist page */
void page_assess_amend(struct req *r);		/* page_assess.c */
void page_assess_compare(struct req *r);	/* page_assess.c */
void page_assess_evidence(struct req *r);	/* page_review.c */
/* --- end of pages: assessor handlers --- */
/* --- pages: coordinator handlers --- */
void page_coord_home(struct req *r);		/* page_coord.c: GET /app for staff */
void page_coord_program(struct req *r);		/* page_coord.c */
void page_coord_enrol(struct req *r);
void page_coord_day(struct req *r);
void page_coord_learner(struct req *r);
void page_coord_note(struct req *r);
void page_coord_group(struct req *r);
void page_coord_assessors(struct req *r);
void page_coord_evaluate(struct req *r);
void page_coord_confirm(struct req *r);
void page_coord_override(struct req *r);
void page_coord_feedback(struct req *r);
void page_reports(struct req *r);		/* page_reports.c */
/* --- end of pages: coordinator handlers --- */
/* --- pages: admin handlers --- */
void page_admin_home(struct req *r);		/* page_admin.c */
void page_admin_deployments(struct req *r);
void page_admin_keys(struct req *r);
void page_admin_audit_log(struct req *r);
void page_admin_frameworks(struct req *r);	/* page_admin_import.c */
void page_admin_framework_import(struct req *r);
void page_admin_framework_export(struct req *r);
void page_admin_programs(struct req *r);
void page_admin_program_import(struct req *r);
void page_admin_sync(struct req *r);		/* page_admin_sync.c */
void page_admin_sync_retry(struct req *r);
/* --- end of pages: admin handlers --- */
/* --- pages: journey handlers --- */
void page_coord_grant(struct req *r);		/* page_coord.c: a certification held already */
/* --- end of pages: journey handlers --- */
/* --- pages: sync handlers --- */
void api_sync_status(struct req *r);		/* api_sync.c: GET /api/v1/sync/status */
void api_sync_items(struct req *r);		/* api_sync.c */
void api_sync_retry(struct req *r);		/* api_sync.c */
void page_share(struct req *r);			/* page_share.c: public, no session */
/* --- end of pages: sync handlers --- */

/* The JSON API, /api/v1/... (fcgi/api_*.c; helpers in fcgi/api.h) */
void api_me(struct req *r);			/* api_me.c */
/* --- api block A handlers --- */
void api_programs(struct req *r);		/* api_program.c */
void api_program(struct req *r);		/* api_program.c */
void api_frameworks(struct req *r);		/* api_program.c */
void api_framework(struct req *r);		/* api_program.c */
void api_enrolments(struct req *r);		/* api_enrolment.c: GET list, POST enrol */
void api_enrolment(struct req *r);		/* api_enrolment.c */
void api_enrolment_evaluate(struct req *r);	/* api_enrolment.c */
void api_enrolment_progress(struct req *r);	/* api_enrolment.c */
void api_enrolment_notes(struct req *r);	/* api_enrolment.c: GET list, POST add */
void api_decision_confirm(struct req *r);	/* api_enrolment.c */
void api_decision_override(struct req *r);	/* api_enrolment.c */
void api_enrolment_grant(struct req *r);	/* api_enrolment.c */
void api_enrolment_record(struct req *r);	/* api_report.c */
void api_report_progress(struct req *r);	/* api_report.c */
void api_report_day(struct req *r);		/* api_report.c */
/* --- end of api block A handlers --- */
/* --- api block B handlers --- */
void api_observation_create(struct req *r);	/* api_observation.c */
void api_observation_get(struct req *r);
void api_observation_save(struct req *r);
void api_observation_submit(struct req *r);
void api_observation_amend(struct req *r);
void api_observation_side(struct req *r);
void api_evidence_upload(struct req *r);	/* api_evidence.c */
void api_evidence_link(struct req *r);
void api_evidence_note(struct req *r);
void api_evidence_list(struct req *r);
void api_evidence_get(struct req *r);
void api_evidence_download(struct req *r);
void api_evidence_review(struct req *r);
void api_feedback_link_create(struct req *r);	/* api_feedback.c */
void page_feedback(struct req *r);		/* page_feedback.c: public, no session */
/* --- end of api block B handlers --- */

#endif
