/*
 * period — see period.h. Local dates go through local_time() below, not
 * mktime() with tm_isdst = -1: glibc resolves a local time that occurs
 * twice (fall back) from the offset its previous call used, so the same
 * --from/--to could give other bounds later in the same process (the
 * REPL; found by tests/fuzz/fuzz-period).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "report/period.h"

int
sg_report_tz_set(const char *zone)
{
	const char *dir = getenv("TZDIR");
	char path[512];
	struct stat sb;

	if (zone == NULL || *zone == '\0')
		return 0;
	/* a name, not a path: no "..", no leading '/', sane characters */
	if (zone[0] == '/' || strstr(zone, "..") != NULL || strlen(zone) > 200 ||
	    strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_+-") != strlen(zone))
		return -1;
	if (strcmp(zone, "UTC") != 0) {
		int n = snprintf(path, sizeof(path), "%s/%s", dir != NULL && *dir ? dir : "/usr/share/zoneinfo", zone);
		if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			return -1;
	}
	if (setenv("TZ", zone, 1) != 0)
		return -1;
	tzset();
	return 0;
}

/* The latest Unix time a bound may be: the end of year 9999, as dates. */
#define MAX_TIME 253402300799LL

/* The UTC offset of the process's zone at t (0 when t is out of range). */
static long
gmtoff(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	return localtime_r(&tt, &tm) != NULL ? tm.tm_gmtoff : 0;
}

/* The Unix time of the local date and time in *tm (normalised as by
 * timegm(): 2026-02-30 becomes March 2, and *tm says so), the same in
 * every call: a time that occurs twice is its first occurrence, one in a
 * gap (spring forward) counts with the offset before the change (on the
 * clock after it: an hour later, as mktime() does). The offsets probed
 * are those two days either side: exact when the zone changes at most
 * once in four days (every zone in use). */
static int64_t
local_time(struct tm *tm)
{
	tm->tm_isdst = 0;
	int64_t local = (int64_t)timegm(tm);
	long ob = gmtoff(local - 2 * 86400), oa = gmtoff(local + 2 * 86400);

	if (gmtoff(local - ob) == ob)
		return local - ob;
	if (gmtoff(local - oa) == oa)
		return local - oa;
	return local - ob;
}

int64_t
sg_report_day_start(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return t;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return local_time(&tm);
}

int
sg_report_time(const char *s, int64_t *out, int *date_only)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, se = 0, n = 0;
	char sep;

	*date_only = 0;
	if (s[0] == '@') {
		char *end;
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (errno != 0 || end == s + 1 || *end != '\0' || v < 0 || v > MAX_TIME)
			return -1;   /* beyond year 9999 localtime_r() fails, and b - a overflows */
		*out = v;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return -1;
	if (s[n] == '\0') {
		*date_only = 1;
	} else {
		int m = 0;
		sep = s[n];
		if (sep != 'T' && sep != ' ')
			return -1;
		if (sscanf(s + n + 1, "%2d:%2d%n", &h, &mi, &m) != 2)
			return -1;
		if (s[n + 1 + m] == ':') {
			int k = 0;
			if (sscanf(s + n + 1 + m + 1, "%2d%n", &se, &k) != 1 || s[n + 1 + m + 1 + k] != '\0')
				return -1;
		} else if (s[n + 1 + m] != '\0') {
			return -1;
		}
	}
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	int64_t t = local_time(&tm);
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;   /* 2026-02-30 and the like */
	*out = t;
	return 0;
}

/* The local midnight `days` days after that of t (negative: before). */
static int64_t
add_days(int64_t t, int days)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return t + (int64_t)days * 86400;
	tm.tm_mday += days;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return local_time(&tm);
}

int
sg_report_period(const char *from, const char *to, int64_t now, int64_t *a, int64_t *b, char *err, size_t errlen)
{
	int date_only;

	if (to != NULL) {
		if (sg_report_time(to, b, &date_only) != 0) {
			snprintf(err, errlen, "--to: cannot parse '%.60s' (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or @SECONDS)", to);
			return -1;
		}
		if (date_only)
			*b = add_days(*b, 1);
	} else {
		*b = now;
	}
	if (from != NULL) {
		if (sg_report_time(from, a, &date_only) != 0) {
			snprintf(err, errlen, "--from: cannot parse '%.60s' (YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] or @SECONDS)",
				 from);
			return -1;
		}
	} else {
		/* the day of the last second of the period, and six before it */
		*a = add_days(*b - 1, -6);
	}
	if (*a >= *b) {
		snprintf(err, errlen, "the period is empty: --from must be before --to");
		return -1;
	}
	if (*b - *a > (int64_t)SG_REPORT_MAX_DAYS * 86400 + 3600) {
		snprintf(err, errlen, "the period is longer than %d days", SG_REPORT_MAX_DAYS);
		return -1;
	}
	return 0;
}
