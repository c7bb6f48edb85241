/* test_bizdays.c: dates, weekdays, business-day addition and counting across weekends,
 * holidays, month and year ends, leap days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/bizdays.h"

static int32_t D(const char *s)
{
	int32_t d = 0;

	assert_int_equal(bizdays_parse(s, &d), AT_OK);
	return d;
}

static void test_parse_format(void **state)
{
	static const char *const bad[] = {
		"2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024-1-01", "24-01-01",
		"2024/01/01", "2024-01-01x", "", "1899-12-31", "2024-04-31", "abcd-ef-gh",
	};
	char out[11];
	int32_t d;

	(void)state;
	assert_int_equal(D("1970-01-01"), 0);
	assert_int_equal(D("2000-03-01") - D("2000-02-28"), 2);	/* 2000 is leap */
	assert_int_equal(D("1900-03-01") - D("1900-02-28"), 1);	/* 1900 is not */
	assert_int_equal(D("2024-02-29") + 1, D("2024-03-01"));
	for (size_t i = 0; i < NELEM(bad); i++)
		assert_int_equal(bizdays_parse(bad[i], &d), AT_BADREQ);
	assert_int_equal(bizdays_parse(NULL, &d), AT_BADREQ);
	bizdays_format(D("2031-12-31"), out);
	assert_string_equal(out, "2031-12-31");
	bizdays_format(D("1969-12-31") + 0, out);
	assert_string_equal(out, "1969-12-31");
	assert_int_equal(bizdays_of_time(0), 0);
	assert_int_equal(bizdays_of_time(86399), 0);
	assert_int_equal(bizdays_of_time(86400), 1);
	assert_int_equal(bizdays_of_time(-1), -1);
	assert_int_equal(bizdays_of_time(1704067200), D("2024-01-01"));
	assert_int_equal(bizdays_weekday(D("2024-01-01")), 0);	/* a Monday */
	assert_int_equal(bizdays_weekday(D("1970-01-01")), 3);	/* a Thursday */
	assert_int_equal(bizdays_weekday(D("1969-12-28")), 6);	/* a Sunday */
}

static const struct {
	const char *from;
	int n;
	const char *want;
} adds[] = {
	{ "2024-01-04", 0, "2024-01-04" },	/* Thu +0 */
	{ "2024-01-06", 0, "2024-01-06" },	/* Sat +0 stays */
	{ "2024-01-04", 1, "2024-01-05" },	/* Thu +1 = Fri */
	{ "2024-01-05", 1, "2024-01-08" },	/* Fri +1 = Mon */
	{ "2024-01-06", 1, "2024-01-08" },	/* Sat +1 = Mon */
	{ "2024-01-07", 1, "2024-01-08" },	/* Sun +1 = Mon */
	{ "2024-01-04", 3, "2024-01-09" },	/* over a weekend */
	{ "2024-01-01", 10, "2024-01-15" },	/* two weeks */
	{ "2024-01-31", 1, "2024-02-01" },	/* month end */
	{ "2024-02-29", 1, "2024-03-01" },	/* leap day, Thursday */
	{ "2023-12-29", 1, "2024-01-02" },	/* year end, 01-01 is a holiday */
	{ "2024-12-24", 1, "2024-12-26" },	/* Christmas */
	{ "2024-12-24", 2, "2024-12-27" },
	{ "2024-12-31", 1, "2025-01-02" },	/* New Year's Day */
	{ "2024-01-08", -1, "2024-01-05" },	/* backwards over a weekend */
	{ "2024-01-02", -1, "2023-12-29" },	/* backwards over a holiday and the year end */
};

static void test_add(void **state)
{
	static const char *const hol[] = { "2024-12-25", "2024-01-01", "2025-01-01",
					   "2024-12-25" };	/* unsorted, with a duplicate */
	struct arena *a = arena_new();
	struct bizdays cal;
	char out[11];

	(void)state;
	assert_int_equal(bizdays_init(&cal, a, hol, NELEM(hol), NULL), AT_OK);
	assert_int_equal(cal.n, 3);
	for (size_t i = 0; i < NELEM(adds); i++) {
		bizdays_format(bizdays_add(&cal, D(adds[i].from), adds[i].n), out);
		if (strcmp(out, adds[i].want) != 0)
			fail_msg("%s %+d: %s, want %s", adds[i].from, adds[i].n, out, adds[i].want);
	}
	assert_false(bizdays_is_business(&cal, D("2024-12-25")));
	assert_true(bizdays_is_business(NULL, D("2024-12-25")));
	assert_false(bizdays_is_business(NULL, D("2024-12-28")));
	/* without the calendar, 2024-12-25 counts */
	bizdays_format(bizdays_add(NULL, D("2024-12-24"), 1), out);
	assert_string_equal(out, "2024-12-25");
	arena_free(a);
}

static void test_between(void **state)
{
	static const char *const hol[] = { "2024-05-27" };	/* a Monday */
	struct arena *a = arena_new();
	struct bizdays cal;
	struct at_err err = { "" };
	static const char *const bad[] = { "2024-02-30" };

	(void)state;
	assert_int_equal(bizdays_init(&cal, a, hol, 1, NULL), AT_OK);
	assert_int_equal(bizdays_between(&cal, D("2024-05-20"), D("2024-05-20")), 0);
	assert_int_equal(bizdays_between(&cal, D("2024-05-20"), D("2024-05-24")), 4);
	assert_int_equal(bizdays_between(&cal, D("2024-05-24"), D("2024-05-28")), 1);	/* Fri->Tue */
	assert_int_equal(bizdays_between(&cal, D("2024-05-28"), D("2024-05-24")), -1);
	assert_int_equal(bizdays_between(&cal, D("2024-05-25"), D("2024-05-26")), 0);	/* weekend */
	assert_int_equal(bizdays_between(&cal, D("2024-05-31"), D("2024-06-03")), 1);	/* month */
	assert_int_equal(bizdays_between(NULL, D("2023-12-29"), D("2024-01-02")), 2);
	for (int n = 0; n < 30; n++) {
		int32_t from = D("2024-05-17");

		assert_int_equal(bizdays_between(&cal, from, bizdays_add(&cal, from, n)), n);
	}
	assert_int_equal(bizdays_init(&cal, a, bad, 1, &err), AT_BADREQ);
	assert_string_equal(err.msg, "holiday \"2024-02-30\" is not a YYYY-MM-DD date");
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_between),
	};

	return cmocka_run_group_tests_name("bizdays", tests, NULL, NULL);
}
