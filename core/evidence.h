/* evidence.h: evidence a learner shows — files (stored by content hash), links, notes —
 * attached to a learner, competencies and/or an observation, and reviewed by an assessor.
 *
 * Files stream into a temporary file under the evidence directory while being hashed
 * (SHA-256) and counted; the type is decided by the content (libmagic), never by the
 * name; then the file is fsynced and renamed to DIR/ab/cd/<sha256>: the same content is
 * stored once however often it is uploaded. Authorization is the caller's business.
 */
#ifndef AT_EVIDENCE_H
#define AT_EVIDENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/db.h"
#include "core/rc.h"

#define EVIDENCE_URL_MAX 2048		/* bytes of a link */
#define EVIDENCE_NOTE_MAX 20000		/* characters (UTF-8 code points) of a note */
#define EVIDENCE_COMMENT_MAX 20000	/* characters of a review comment */
#define EVIDENCE_FILENAME_MAX 255	/* bytes kept of an uploaded file's name */
#define EVIDENCE_MAX_COMPETENCIES 100

/* Where files go and what is accepted (from the configuration: evidence_dir, max_upload,
 * evidence_types). Borrowed strings. */
struct evidence_opts {
	const char *dir;
	int64_t max_size;	/* bytes */
	const char *types;	/* allowed media types, space separated */
};

/* One evidence record. Strings from the arena given to the call that filled it. */
struct evidence {
	int64_t id;
	int64_t learner_id;
	const char *kind;		/* "file", "link", "note" */
	const char *sha256;		/* files: 64 hex digits; else "" */
	int64_t size;			/* files: bytes */
	const char *media_type;		/* files: from the content */
	const char *filename;		/* files: the uploader's name for it, sanitised */
	const char *url;		/* links */
	const char *note;		/* notes; a caption for files and links */
	int64_t observation_id;		/* 0: none */
	int64_t uploaded_by;
	const char *status;		/* "pending", "accepted", "rejected" */
	int64_t reviewer_id;		/* 0: not reviewed */
	const char *review_comment;
	int64_t reviewed_at;		/* 0: not reviewed */
	int64_t created_at;
	int64_t *competency_ids;	/* ascending */
	size_t ncompetencies;
};

/* What the caller attaches a new piece of evidence to. */
struct evidence_attach {
	int64_t learner_id;		/* required */
	int64_t uploaded_by;		/* required: the acting user */
	int64_t observation_id;		/* 0: none; else one of the learner's observations */
	const int64_t *competency_ids;	/* may repeat; at most EVIDENCE_MAX_COMPETENCIES */
	size_t ncompetencies;
	const char *note;		/* optional caption (files, links); the note (notes) */
};

/* --- file uploads --- */

struct evidence_upload;

/*
 * Start an upload: creates DIR and DIR/tmp (0750) if needed and a temporary file there.
 * *out is allocated from a; freeing a removes the temporary file if the upload was not
 * finished (an aborted request leaves nothing behind). AT_INTERNAL (err says why) when
 * the directory or file cannot be made.
 */
enum at_rc evidence_upload_begin(struct arena *a, const struct evidence_opts *o,
				 struct evidence_upload **out, struct at_err *err);

/*
 * Append n bytes. AT_TOOBIG past o->max_size: the temporary file is removed at once and
 * every later call fails. AT_BADREQ when the first bytes already show a type that is not
 * allowed (err: "type video/x-msvideo is not allowed"). AT_INTERNAL on a write error.
 */
enum at_rc evidence_upload_write(struct evidence_upload *u, const void *p, size_t n,
				 struct at_err *err);

/*
 * All bytes are in: check the type of the whole content against the allow-list, fsync,
 * and move the file to DIR/ab/cd/<sha256> (0640; if that content is already stored, the
 * copy is dropped). AT_BADREQ for an empty file or a type not allowed; AT_INTERNAL on
 * I/O errors. In every failure the temporary file is gone.
 */
enum at_rc evidence_upload_finish(struct evidence_upload *u, struct at_err *err);

/* The finished upload's hash (64 hex digits), size and media type; borrowed from u. */
const char *evidence_upload_sha256(const struct evidence_upload *u);
int64_t evidence_upload_size(const struct evidence_upload *u);
const char *evidence_upload_type(const struct evidence_upload *u);

/* Drop an unfinished upload now (also done when its arena is freed). NULL-safe. */
void evidence_upload_abort(struct evidence_upload *u);

/* --- records --- */

/*
 * Record a finished upload as evidence of kind "file", named filename (untrusted: only
 * its last path component is kept, control bytes dropped, cut to EVIDENCE_FILENAME_MAX).
 * The evidence row, its competency rows and an audit row ("evidence.add") are written in
 * one transaction. Returns AT_OK and sets *id; AT_BADREQ (err names the field) for an
 * unfinished upload, an unknown learner, competency or observation, or an observation of
 * another learner; AT_DB/AT_TIMEOUT from the database (nothing is stored). The stored
 * file stays even if the row is not written: it is content addressed, and a file no row
 * names is harmless (a later sweep may remove it).
 */
enum at_rc evidence_add_file(struct db *db, const struct evidence_upload *u,
			     const char *filename, const struct evidence_attach *at,
			     int64_t now, int64_t *id, struct at_err *err);

/* A link: http:// or https:// with a host, at most EVIDENCE_URL_MAX bytes, no blanks or
 * control bytes. Otherwise as evidence_add_file. */
enum at_rc evidence_add_link(struct db *db, const char *url, const struct evidence_attach *at,
			     int64_t now, int64_t *id, struct at_err *err);

/* A note: at->note, valid UTF-8, not blank, at most EVIDENCE_NOTE_MAX characters.
 * Otherwise as evidence_add_file. */
enum at_rc evidence_add_note(struct db *db, const struct evidence_attach *at, int64_t now,
			     int64_t *id, struct at_err *err);

/*
 * Review pending evidence: accept, or reject with a comment (required when rejecting;
 * at most EVIDENCE_COMMENT_MAX characters). Audited ("evidence.review"). Returns AT_OK;
 * AT_NOTFOUND; AT_CONFLICT when it was already reviewed; AT_FORBIDDEN when the reviewer
 * uploaded it or is the learner; AT_BADREQ for a missing or bad comment.
 */
enum at_rc evidence_review(struct db *db, int64_t id, int64_t reviewer_id, bool accept,
			   const char *comment, int64_t now, struct at_err *err);

/* One record, from a. AT_NOTFOUND if there is none. */
enum at_rc evidence_get(struct db *db, struct arena *a, int64_t id, struct evidence *out);

/* The learner's evidence, newest first, from a (nothing to free). */
enum at_rc evidence_list(struct db *db, struct arena *a, int64_t learner_id,
			 struct evidence **out, size_t *n);

/* What the HTTP layer needs to send a file as an attachment (with nosniff). */
struct evidence_file {
	const char *path;		/* DIR/ab/cd/<sha256>, from a */
	const char *media_type;
	int64_t size;
	const char *filename;		/* sanitised; never empty */
};

/*
 * The stored file of evidence id. AT_NOTFOUND when there is no such evidence, it is not a
 * file, or the file is missing on disk (err says which); AT_INTERNAL when the file on disk
 * has another size than recorded.
 */
enum at_rc evidence_open(struct db *db, struct arena *a, const struct evidence_opts *o,
			 int64_t id, struct evidence_file *out, struct at_err *err);

/* DIR/ab/cd/<sha256> for a 64-hex-digit hash, from a; NULL for a malformed hash. */
char *evidence_path(struct arena *a, const char *dir, const char *sha256);

/* True when media type t is in the space-separated list types (exact, case-insensitive). */
bool evidence_type_allowed(const char *types, const char *t);

#endif
