/* page_coord.h: helpers shared by the coordinator's pages (page_coord.c, page_reports.c). */
#ifndef AT_PAGE_COORD_H
#define AT_PAGE_COORD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "fcgi/req.h"

/* The course of ?course=ID (default: the session's) if the user is staff there; else
 * answers 404 and returns false. */
bool page_coord_course(struct req *r, int64_t *context_id);

/* The course picker data ({"id", "title", "courses": [{id, title, selected}]}), for
 * context_id. NULL after answering 500. */
struct json_object *page_coord_course_json(struct req *r, int64_t context_id);

/* A new page data object with "css": ["coord.css"] and "js": ["coord.js"]. */
struct json_object *page_coord_data(void);

/* page_coord_data() freed with r's arena, with "course": page_coord_course_json(r,
 * context_id). NULL after answering 500. */
struct json_object *page_coord_root(struct req *r, int64_t context_id);

/* o[k] = string v (NULL: ""), integer v, boolean v. */
void page_coord_str(struct json_object *o, const char *k, const char *v);
void page_coord_int(struct json_object *o, const char *k, int64_t v);
void page_coord_bool(struct json_object *o, const char *k, bool v);

/* "2026-01-05" of unix time t, "" for 0. From r's arena. */
const char *page_coord_date(struct req *r, int64_t t);

/* 303 to path (which has no query) with s=, course= and extra ("k=v&..." already
 * encoded, or NULL). */
void page_coord_redirect(struct req *r, const char *path, int64_t context_id,
			 const char *extra);

#endif
