/* api_report.h: report builders of api_report.c that pages reuse. */
#ifndef AT_API_REPORT_H
#define AT_API_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "fcgi/req.h"

struct program;

/* Answer the end-of-day report of program p for the enrolments of context_id on day
 * (YYYY-MM-DD, checked by the caller), as JSON or CSV (docs/api.md, /reports/day). The
 * caller has checked that the session may see context_id. */
void api_report_day_of(struct req *r, const struct program *p, int64_t context_id,
		       const char *day, bool csv);

#endif
