/* progress.h: learners' daily progress self-reports and coordinators' notes, shown as
 * "YYYY-MM-DD - Name - Note" (the call certification's tracker format), per enrolment and
 * as an end-of-day list per program.
 *
 * One self-report per enrolment and day: a second report the same day is APPENDED to the
 * first (on a new line), never replacing it — what a learner told the coordinator stays on
 * record, as the email trail it replaces did. A day's report holds at most
 * PROGRESS_TEXT_MAX characters in all.
 */
#ifndef AT_PROGRESS_H
#define AT_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rc.h"

#define PROGRESS_TEXT_MAX 20000		/* characters of a day's report, or of a note */

/* One line of a listing. Strings from the arena of the call. */
struct progress_line {
	const char *kind;		/* "report" (the learner's) or "note" (a coordinator's) */
	int64_t id;			/* progress_report.id or note.id */
	int64_t enrolment_id;
	int64_t learner_id;
	const char *day;		/* YYYY-MM-DD */
	const char *name;		/* the learner's display name */
	int64_t author_id;		/* who wrote it: the learner for reports */
	const char *author;		/* the author's display name */
	const char *text;		/* as written */
	const char *line;		/* "YYYY-MM-DD - Name - Note", line breaks as spaces */
	int64_t created_at;
};

/* The UTC day of unix time now as "YYYY-MM-DD", from a. */
char *progress_day(struct arena *a, int64_t now);

/* True for a real calendar date written YYYY-MM-DD. */
bool progress_day_ok(const char *day);

/*
 * The learner's report for enrolment_id on day (see the top of this file for a second
 * one). text: valid UTF-8, not blank. Returns AT_OK; AT_BADREQ (err names the field) for a
 * bad day, text or an unknown enrolment; AT_TOOBIG when the day's report would pass
 * PROGRESS_TEXT_MAX characters; AT_DB.
 */
enum at_rc progress_report(struct db *db, int64_t enrolment_id, const char *day,
			   const char *text, int64_t now, struct at_err *err);

/* A coordinator's note on enrolment_id for day, by author_id. Audited ("note.add", without
 * the text). Returns AT_OK and *id; AT_BADREQ as progress_report; AT_DB. */
enum at_rc progress_note_add(struct db *db, int64_t enrolment_id, int64_t author_id,
			     const char *day, const char *text, int64_t now, int64_t *id,
			     struct at_err *err);

/* Reports and notes of one enrolment, by day, then reports before notes, then time. */
enum at_rc progress_list(struct db *db, struct arena *a, int64_t enrolment_id,
			 struct progress_line **out, size_t *n);

/* The end-of-day list of program_id for day: every report and note, by learner name, then
 * reports before notes, then time. */
enum at_rc progress_day_list(struct db *db, struct arena *a, int64_t program_id,
			     const char *day, struct progress_line **out, size_t *n);

/* Active enrolments of program_id with no report on day (who has not reported yet), as
 * lines of kind "missing" whose text is empty, by learner name. */
enum at_rc progress_missing(struct db *db, struct arena *a, int64_t program_id,
			    const char *day, struct progress_line **out, size_t *n);

#endif
