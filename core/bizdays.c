/* bizdays.c: business days on UTC dates (weekends and a holiday list skipped).
 *
 * Civil-date conversion is Howard Hinnant's days_from_civil / civil_from_days: exact for
 * the proleptic Gregorian calendar, no libc time zone involved.
 */
#include <stdlib.h>
#include <string.h>

#include "core/bizdays.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

enum at_rc bizdays_parse(const char *s, int32_t *day)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned v[8];
	int64_t y;
	unsigned m, d, dim;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return AT_BADREQ;
	for (int i = 0, j = 0; i < 10; i++) {
		if (i == 4 || i == 7)
			continue;
		if (s[i] < '0' || s[i] > '9')
			return AT_BADREQ;
		v[j++] = (unsigned)(s[i] - '0');
	}
	y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
	m = v[4] * 10 + v[5];
	d = v[6] * 10 + v[7];
	if (y < 1900 || m < 1 || m > 12 || d < 1)
		return AT_BADREQ;
	dim = mdays[m - 1] + (m == 2 && leap(y));
	if (d > dim)
		return AT_BADREQ;
	*day = (int32_t)days_from_civil(y, m, d);
	return AT_OK;
}

void bizdays_format(int32_t day, char out[static 11])
{
	int64_t y;
	unsigned m, d;

	civil_from_days(day, &y, &m, &d);
	if (y < 0)
		y = 0;
	if (y > 9999)
		y = 9999;
	/* by hand: snprintf's truncation warnings cannot see that m, d < 100 */
	out[0] = (char)('0' + y / 1000);
	out[1] = (char)('0' + y / 100 % 10);
	out[2] = (char)('0' + y / 10 % 10);
	out[3] = (char)('0' + y % 10);
	out[4] = '-';
	out[5] = (char)('0' + m / 10);
	out[6] = (char)('0' + m % 10);
	out[7] = '-';
	out[8] = (char)('0' + d / 10);
	out[9] = (char)('0' + d % 10);
	out[10] = '\0';
}

int32_t bizdays_of_time(int64_t t)
{
	int64_t q = t / 86400;

	if (t % 86400 != 0 && t < 0)
		q--;
	return (int32_t)q;
}

int bizdays_weekday(int32_t day)
{
	/* 1970-01-01 was a Thursday (3 with Monday = 0) */
	int w = (int)((day + 3) % 7);

	return w < 0 ? w + 7 : w;
}

static int cmp_day(const void *x, const void *y)
{
	int32_t a = *(const int32_t *)x, b = *(const int32_t *)y;

	return (a > b) - (a < b);
}

enum at_rc bizdays_init(struct bizdays *cal, struct arena *a, const char *const *dates,
			size_t n, struct at_err *err)
{
	int32_t *days = arena_alloc(a, (n ? n : 1) * sizeof(*days));
	size_t k = 0;

	cal->holidays = days;
	cal->n = 0;
	for (size_t i = 0; i < n; i++)
		if (bizdays_parse(dates[i], &days[i]) != AT_OK)
			return at_fail(err, AT_BADREQ, "holiday \"%s\" is not a YYYY-MM-DD date",
				       dates[i] ? dates[i] : "");
	qsort(days, n, sizeof(*days), cmp_day);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || days[k - 1] != days[i])
			days[k++] = days[i];
	cal->n = k;
	return AT_OK;
}

static bool is_holiday(const struct bizdays *cal, int32_t day)
{
	size_t lo = 0, hi;

	if (cal == NULL || cal->n == 0)
		return false;
	hi = cal->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cal->holidays[mid] == day)
			return true;
		if (cal->holidays[mid] < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

bool bizdays_is_business(const struct bizdays *cal, int32_t day)
{
	return bizdays_weekday(day) < 5 && !is_holiday(cal, day);
}

int32_t bizdays_add(const struct bizdays *cal, int32_t day, int n)
{
	int step = n < 0 ? -1 : 1;

	/* A calendar with more holidays than days would loop: holidays are few, and a year
	 * always has business days left, so the walk ends. */
	while (n != 0) {
		day += step;
		if (bizdays_is_business(cal, day))
			n -= step;
	}
	return day;
}

int bizdays_between(const struct bizdays *cal, int32_t from, int32_t to)
{
	int n = 0;

	if (to < from)
		return -bizdays_between(cal, to, from);
	for (int32_t d = from + 1; d <= to; d++)
		if (bizdays_is_business(cal, d))
			n++;
	return n;
}
