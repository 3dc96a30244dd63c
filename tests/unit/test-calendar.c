/*
 * test-calendar — business hours: adding business time and days across a
 * weekend, a holiday and a change to daylight saving time (hours in its
 * gap and in its repeated hour), counting
 * business seconds between two times, the zone file reader (transitions
 * and the POSIX footer after them), and refusal of bad declarations.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calendar/calendar.h"
#include "lib/xalloc.h"
#include "tap.h"
#include <time.h>

static char *dir;

/* Unix time of a UTC date and time. */
static int64_t
utc(int y, int mo, int d, int h, int mi)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi };
	return (int64_t)timegm(&tm);
}

static int
have_zone(const char *tz)
{
	char *p = sg_xasprintf("/usr/share/zoneinfo/%s", tz);
	int ok = access(p, R_OK) == 0;
	free(p);
	return ok;
}

static struct sg_calendar *
cal(const char *hours, const char *tz, const char *holidays)
{
	char *err = NULL;
	struct sg_calendar *c = sg_calendar_new("t", hours, tz, holidays, &err);
	if (c == NULL)
		diag("calendar: %s", err ? err : "?");
	free(err);
	return c;
}

static void
fmt_is(const struct sg_calendar *c, int64_t t, const char *want, const char *what)
{
	char buf[64];
	sg_calendar_format(c, t, buf, sizeof(buf));
	is_str(buf, want, "%s", what);
}

/* Moscow, UTC+3 all year: a week with a weekend and a holiday. */
static void
test_weekend_holiday(void)
{
	if (!have_zone("Europe/Moscow")) {
		skip(1, "no tz database (package tzdata)");
		return;
	}
	char *hol = sg_test_write(dir, "holidays.txt", "# public holidays\n\n2026-12-07   # a Monday\n2026-01-01\n");
	struct sg_calendar *c = cal("mon-fri 09:00-18:00", "Europe/Moscow", hol);
	ok(c != NULL, "calendar with holidays");
	if (c == NULL)
		return;
	/* Thu 2026-12-03 10:00 MSK = 07:00 UTC */
	int64_t thu10 = utc(2026, 12, 3, 7, 0);
	fmt_is(c, thu10, "2026-12-03 10:00 +0300", "formatted in the zone");
	is_int(sg_calendar_add(c, thu10, 4 * 3600), utc(2026, 12, 3, 11, 0), "4h within the day: Thu 14:00");
	/* 9h + 9h = Thu 10:00 -> Fri 18:00 is 17h; 20h: weekend, Mon holiday -> Tue 12:00 */
	is_int(sg_calendar_add(c, thu10, 20 * 3600), utc(2026, 12, 8, 9, 0), "20h over weekend and holiday: Tue 12:00");
	is_int(sg_calendar_add(c, thu10, 17 * 3600), utc(2026, 12, 4, 15, 0), "used up at a closing: that closing");
	/* from outside the hours: Saturday night */
	int64_t sat = utc(2026, 12, 5, 20, 0);
	is_int(sg_calendar_add(c, sat, 3600), utc(2026, 12, 8, 7, 0), "from Saturday: Tue 10:00 (Mon holiday)");
	is_int(sg_calendar_between(c, thu10, utc(2026, 12, 8, 9, 0)), 20 * 3600, "between is the inverse of add");
	is_int(sg_calendar_between(c, sat, utc(2026, 12, 8, 6, 0)), 0, "the weekend and the holiday count nothing");
	is_int(sg_calendar_between(c, thu10, thu10), 0, "empty span");
	/* business days */
	is_int(sg_calendar_add_days(c, thu10, 1), utc(2026, 12, 4, 7, 0), "1bd from Thu 10:00: Fri 10:00");
	is_int(sg_calendar_add_days(c, thu10, 3), utc(2026, 12, 9, 7, 0), "3bd from Thu: Wed (skips weekend, holiday)");
	is_int(sg_calendar_add_days(c, utc(2026, 12, 4, 17, 0), 1), utc(2026, 12, 8, 15, 0),
	       "1bd from Friday night: the closing of Tuesday (next business day)");
	is_int(sg_calendar_add_days(c, utc(2026, 12, 3, 5, 0), 1), utc(2026, 12, 3, 15, 0),
	       "1bd from before the opening: that day's closing");
	sg_calendar_free(&c);
	ok(c == NULL, "free clears the pointer");
	free(hol);
}

/* Berlin: 2026-03-29 02:00 CET -> 03:00 CEST. Hours 00:00-24:00 on
 * Sunday make the gap count: that Sunday has 23 business hours. */
static void
test_dst(void)
{
	if (!have_zone("Europe/Berlin")) {
		skip(1, "no tz database (package tzdata)");
		return;
	}
	struct sg_calendar *c = cal("mon-fri 09:00-17:00; sun 00:00-24:00", "Europe/Berlin", NULL);
	ok(c != NULL, "Berlin calendar");
	if (c == NULL)
		return;
	int64_t fri = utc(2026, 3, 27, 15, 0);   /* Fri 16:00 CET */
	is_int(sg_calendar_offset(c, fri), 3600, "CET before");
	is_int(sg_calendar_offset(c, utc(2026, 3, 30, 12, 0)), 7200, "CEST after");
	is_int(sg_calendar_between(c, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)), 23 * 3600,
	       "the day of the change has 23 hours");
	/* Fri 16:00 + 2h: 1h Friday, then Sunday from local midnight (23:00 UTC Sat), 1h -> 00:00 UTC */
	is_int(sg_calendar_add(c, fri, 2 * 3600), utc(2026, 3, 29, 0, 0), "across the weekend into Sunday");
	/* Monday 09:00 is 07:00 UTC after the change */
	is_int(sg_calendar_add(c, fri, 1 * 3600 + 23 * 3600 + 1), utc(2026, 3, 30, 7, 0) + 1,
	       "Monday opens at 09:00 CEST = 07:00 UTC");
	fmt_is(c, utc(2026, 3, 30, 7, 0), "2026-03-30 09:00 +0200", "formatted in summer time");
	/* far beyond the file's transitions (fat files end in 2037): the footer rule */
	is_int(sg_calendar_offset(c, utc(2060, 7, 1, 12, 0)), 7200, "2060 summer: CEST by the footer rule");
	is_int(sg_calendar_offset(c, utc(2060, 1, 1, 12, 0)), 3600, "2060 winter: CET");
	is_int(sg_calendar_offset(c, utc(2060, 3, 28, 0, 59)), 3600, "2060-03-28 00:59 UTC: still CET");
	sg_calendar_free(&c);

	/* the fall-back day in New York has 25 hours */
	if (have_zone("America/New_York")) {
		c = cal("sun 00:00-24:00", "America/New_York", NULL);
		is_int(sg_calendar_between(c, utc(2026, 11, 1, 0, 0), utc(2026, 11, 3, 0, 0)), 25 * 3600,
		       "2026-11-01 in New York: 25 hours");
		sg_calendar_free(&c);
	}

	/* hours ending in the spring-forward gap (02:00-03:00 CET skipped on
	 * 2026-03-29): 01:30-02:15 is open from 01:30 CET to the change at
	 * 01:00 UTC, and adding never runs backwards nor counts more than
	 * between (found by fuzz-calendar) */
	c = cal("mon-sun 01:30-02:15", "Europe/Berlin", NULL);
	int64_t sat = utc(2026, 3, 28, 12, 0);
	is_int(sg_calendar_between(c, utc(2026, 3, 28, 23, 0), utc(2026, 3, 29, 22, 0)), 1800,
	       "gap day: 01:30-02:15 is open 30 minutes");
	is_int(sg_calendar_add(c, sat, 1800), utc(2026, 3, 29, 1, 0), "gap day: the count ends at the change");
	is_int(sg_calendar_add(c, sat, 1800 + 60), utc(2026, 3, 29, 23, 31), "then on to Monday 01:31 CEST");
	is_int(sg_calendar_between(c, sat, sg_calendar_add(c, sat, 3 * 2700)), 3 * 2700,
	       "between counts back what add counted");
	/* a time that occurs twice (fall back, 2026-10-25 03:00 CEST -> 02:00 CET):
	 * its first occurrence */
	sg_calendar_free(&c);
	c = cal("sun 02:15-02:45", "Europe/Berlin", NULL);
	is_int(sg_calendar_add(c, utc(2026, 10, 24, 12, 0), 1), utc(2026, 10, 25, 0, 15) + 1,
	       "fall-back day: 02:15 is its first occurrence (CEST)");
	sg_calendar_free(&c);
}

static void
test_24x7_and_null(void)
{
	struct sg_calendar *c = cal("24x7", NULL, NULL);
	int64_t t = utc(2026, 12, 5, 20, 0);
	is_int(sg_calendar_add(c, t, 7200), t + 7200, "24x7: plain addition");
	is_int(sg_calendar_between(c, t, t + 86400 * 3), 86400 * 3, "24x7: plain difference");
	is_int(sg_calendar_add_days(NULL, t, 2), t + 2 * 86400, "no calendar: a day is 24 hours");
	is_int(sg_calendar_add(NULL, t, 5), t + 5, "no calendar: plain");
	fmt_is(NULL, utc(2026, 12, 5, 20, 7), "2026-12-05 20:07 +0000", "UTC format");
	sg_calendar_free(&c);
	/* several ranges, unions, a wrapping span */
	c = cal("mon-fri 09:00-13:00 14:00-18:00, fri 12:00-15:00; sat-sun 10:00-12:00", NULL, NULL);
	ok(c != NULL, "ranges and spans parse");
	/* Friday 2026-12-04: 09-15 + 14-18 merged = 09:00-18:00 (9h); Monday 8h */
	is_int(sg_calendar_between(c, utc(2026, 12, 4, 0, 0), utc(2026, 12, 5, 0, 0)), 9 * 3600, "Friday: merged ranges");
	is_int(sg_calendar_between(c, utc(2026, 12, 7, 0, 0), utc(2026, 12, 8, 0, 0)), 8 * 3600, "Monday: lunch break");
	is_int(sg_calendar_between(c, utc(2026, 12, 5, 0, 0), utc(2026, 12, 7, 0, 0)), 4 * 3600, "sat-sun: 2h each");
	sg_calendar_free(&c);
}

static void
test_errors(void)
{
	static const struct {
		const char *hours, *tz, *holidays, *want;
	} bad[] = {
		{ "mon-fry 09:00-18:00", NULL, NULL, "not a day" },
		{ "mon-fri 18:00-09:00", NULL, NULL, "bad range" },
		{ "mon-fri 9-18", NULL, NULL, "bad range" },
		{ "mon-fri 09:00-25:00", NULL, NULL, "bad range" },
		{ "mon-fri", NULL, NULL, "no HH:MM" },
		{ "24x7", "Mars/Olympus", NULL, "tz=Mars/Olympus" },
		{ "24x7", "../../etc/passwd", NULL, "not a zone name" },
		{ "24x7", NULL, "/nonexistent/holidays", "holidays" },
		{ "24x7", NULL, "BADFILE", ":2: expected a date" },
	};
	char *badfile = sg_test_write(dir, "bad-holidays.txt", "2026-01-01\n2026-13-01\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *err = NULL;
		const char *h = bad[i].holidays && strcmp(bad[i].holidays, "BADFILE") == 0 ? badfile : bad[i].holidays;
		struct sg_calendar *c = sg_calendar_new("x", bad[i].hours, bad[i].tz, h, &err);
		ok(c == NULL && err != NULL && strstr(err, bad[i].want) != NULL, "refused: %s / %s: %s", bad[i].hours,
		   bad[i].tz ? bad[i].tz : "-", err ? err : "(accepted)");
		sg_calendar_free(&c);
		free(err);
	}
	free(badfile);
}

static const struct sg_test tests[] = {
	{ "weekend-holiday", test_weekend_holiday },
	{ "dst", test_dst },
	{ "24x7", test_24x7_and_null },
	{ "errors", test_errors },
};

int
main(void)
{
	plan_lazy();
	dir = (char *)sg_test_dir();
	return SG_TEST_RUN(tests);
}
