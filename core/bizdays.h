/* bizdays.h: business-day arithmetic on UTC calendar dates.
 *
 * A day is an int32_t count of days since 1970-01-01 (UTC): no time zones, no DST.
 * Saturdays, Sundays and the calendar's holidays are not business days.
 */
#ifndef AT_BIZDAYS_H
#define AT_BIZDAYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/rc.h"

/* A holiday calendar: sorted, distinct days. Borrowed memory (arena or static). */
struct bizdays {
	const int32_t *holidays;
	size_t n;
};

/*
 * Parse "YYYY-MM-DD" (exactly; a real date between 1900 and 9999) into *day.
 * Returns AT_OK, or AT_BADREQ.
 */
enum at_rc bizdays_parse(const char *s, int32_t *day);
/* Write day as "YYYY-MM-DD" into out (at least 11 bytes). */
void bizdays_format(int32_t day, char out[static 11]);
/* The UTC day of a unix timestamp (floor division: works before 1970 too). */
int32_t bizdays_of_time(int64_t t);
/* Day of week, 0 = Monday .. 6 = Sunday. */
int bizdays_weekday(int32_t day);

/*
 * Build cal from n "YYYY-MM-DD" strings (any order, duplicates fine); the day array is
 * allocated from a. Returns AT_OK, or AT_BADREQ naming the bad date in err.
 */
enum at_rc bizdays_init(struct bizdays *cal, struct arena *a, const char *const *dates,
			size_t n, struct at_err *err);

bool bizdays_is_business(const struct bizdays *cal, int32_t day);	/* cal may be NULL */
/* The day n business days after day (n < 0: before). n = 0 returns day itself, even on a
 * weekend. From a Friday, +1 is the next Monday (unless a holiday); from a Saturday too. */
int32_t bizdays_add(const struct bizdays *cal, int32_t day, int n);
/* Business days in (from, to]: 0 when to == from; negative (-count in (to, from]) when
 * to < from. bizdays_add(cal, d, bizdays_between(cal, d, e)) <= e for business days e. */
int bizdays_between(const struct bizdays *cal, int32_t from, int32_t to);

#endif
