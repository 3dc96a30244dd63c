/*
 * calendar — see calendar.h.
 */
#include "config.h"
#include "calendar/calendar.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

#define SG_TZ_MAX_FILE (1024 * 1024)
#define SG_TZ_MAX_OFF 93600          /* |UTC offset| <= 26 hours (RFC 8536: -89999..93599) */

struct range {
	int32_t start, end;   /* local seconds of the day, start < end <= 86400 */
};

/* A POSIX TZ rule "Mm.w.d/time". */
struct tzrule {
	int month, week, wday;
	int32_t time;
};

struct zone {
	int64_t *trans;       /* transition times, ascending */
	int32_t *off;         /* offset from each transition on */
	size_t n;
	int32_t off0;         /* before the first transition */
	int footer;           /* the footer rule is usable */
	int32_t std_off, dst_off;
	int has_dst;
	struct tzrule start, end;
};

struct sg_calendar {
	char *name;
	struct range week[7][SG_CAL_MAX_RANGES];   /* 0 = Sunday */
	int nranges[7];
	int64_t weekly;        /* open seconds per week */
	struct zone z;
	int64_t *holidays;     /* local day numbers, ascending */
	size_t nholidays;
};

/* ------------------------------------------------------------ dates */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t
floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int
weekday(int64_t day)   /* 0 = Sunday; 1970-01-01 was a Thursday */
{
	int64_t w = (day + 4) % 7;
	return (int)(w < 0 ? w + 7 : w);
}

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ------------------------------------------------------------ time zone */

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t
be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* [+-]hh[:mm[:ss]] */
static const char *
tz_hms(const char *s, int32_t *out)
{
	int sign = 1;
	long h = 0, m = 0, sec = 0;

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)*s))
		return NULL;
	h = strtol(s, (char **)&s, 10);
	if (*s == ':') {
		m = strtol(s + 1, (char **)&s, 10);
		if (*s == ':')
			sec = strtol(s + 1, (char **)&s, 10);
	}
	if (h > 167 || m > 59 || sec > 59)
		return NULL;
	*out = (int32_t)(sign * (h * 3600 + m * 60 + sec));
	return s;
}

static const char *
tz_name(const char *s)
{
	if (*s == '<') {
		const char *e = strchr(s, '>');
		return e ? e + 1 : NULL;
	}
	const char *b = s;
	while (isalpha((unsigned char)*s))
		s++;
	return s - b >= 3 ? s : NULL;
}

static const char *
tz_rule(const char *s, struct tzrule *r)
{
	if (*s != 'M')
		return NULL;   /* Jn and n: not followed (calendar.h) */
	r->month = (int)strtol(s + 1, (char **)&s, 10);
	if (*s != '.')
		return NULL;
	r->week = (int)strtol(s + 1, (char **)&s, 10);
	if (*s != '.')
		return NULL;
	r->wday = (int)strtol(s + 1, (char **)&s, 10);
	if (r->month < 1 || r->month > 12 || r->week < 1 || r->week > 5 || r->wday < 0 || r->wday > 6)
		return NULL;
	r->time = 7200;
	if (*s == '/' && (s = tz_hms(s + 1, &r->time)) == NULL)
		return NULL;
	return s;
}

/* The POSIX TZ string after the data: "MSK-3", "CET-1CEST,M3.5.0,M10.5.0/3". */
static void
tz_footer(struct zone *z, const char *s)
{
	int32_t off;

	if ((s = tz_name(s)) == NULL || (s = tz_hms(s, &off)) == NULL || off <= -SG_TZ_MAX_OFF || off >= 90000)
		return;
	z->std_off = -off;   /* POSIX counts west of Greenwich */
	if (*s == '\0') {
		z->footer = 1;
		return;
	}
	if ((s = tz_name(s)) == NULL)
		return;
	z->dst_off = z->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = tz_hms(s, &off)) == NULL || off <= -SG_TZ_MAX_OFF || off >= 90000)
			return;
		z->dst_off = -off;
	}
	if (*s != ',' || (s = tz_rule(s + 1, &z->start)) == NULL || *s != ',' ||
	    (s = tz_rule(s + 1, &z->end)) == NULL || *s != '\0')
		return;
	z->has_dst = z->footer = 1;
}

/* Local seconds since the epoch at which rule r happens in year y. */
static int64_t
rule_local(const struct tzrule *r, int64_t y)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int64_t first = days_from_civil(y, r->month, 1);
	int dim = mdays[r->month - 1] + (r->month == 2 && leap(y));
	int64_t d = first + (r->wday - weekday(first) + 7) % 7 + (int64_t)(r->week - 1) * 7;
	while (d - first >= dim)
		d -= 7;
	return d * 86400 + r->time;
}

static int32_t
footer_offset(const struct zone *z, int64_t t)
{
	if (!z->has_dst)
		return z->std_off;
	int64_t y;
	int m, d;
	civil_from_days(floordiv(t + z->std_off, 86400), &y, &m, &d);
	int64_t on = rule_local(&z->start, y) - z->std_off;   /* start in standard time */
	int64_t off = rule_local(&z->end, y) - z->dst_off;    /* end in daylight time */
	int dst = on < off ? (t >= on && t < off) : !(t >= off && t < on);
	return dst ? z->dst_off : z->std_off;
}

static int32_t
zone_offset(const struct zone *z, int64_t t)
{
	if (z->n == 0)
		return z->footer ? footer_offset(z, t) : z->off0;
	if (t < z->trans[0])
		return z->off0;
	if (t >= z->trans[z->n - 1] && z->footer)
		return footer_offset(z, t);
	size_t lo = 0, hi = z->n;   /* last transition <= t */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->off[lo];
}

static int
zone_parse(struct zone *z, const unsigned char *p, size_t len)
{
	if (len < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	int v2 = p[4] >= '2';
	size_t tsize = 4;
	for (int pass = 0; pass < 2; pass++) {
		if (len < 44 || memcmp(p, "TZif", 4) != 0)
			return -1;
		uint32_t isut = be32(p + 20), isstd = be32(p + 24), leapc = be32(p + 28), timec = be32(p + 32),
			 typec = be32(p + 36), charc = be32(p + 40);
		if (timec > 100000 || typec == 0 || typec > 256 || charc > 4096 || leapc > 10000 || isut > 256 ||
		    isstd > 256)
			return -1;
		size_t need = 44 + (size_t)timec * tsize + timec + (size_t)typec * 6 + charc + (size_t)leapc * (tsize + 4) +
			      isstd + isut;
		if (need > len)
			return -1;
		if (pass == 1 || !v2) {
			const unsigned char *tt = p + 44, *ti = tt + (size_t)timec * tsize, *ty = ti + timec;
			z->trans = sg_xreallocarray(NULL, timec ? timec : 1, sizeof(*z->trans));
			z->off = sg_xreallocarray(NULL, timec ? timec : 1, sizeof(*z->off));
			for (uint32_t i = 0; i < timec; i++) {
				if (ti[i] >= typec)
					return -1;
				z->trans[i] = tsize == 8 ? be64(tt + 8 * (size_t)i) : (int32_t)be32(tt + 4 * (size_t)i);
				z->off[i] = (int32_t)be32(ty + 6 * (size_t)ti[i]);
				/* RFC 8536: strictly ascending, offsets in -89999..93599
				 * (the search and the arithmetic rely on both) */
				if ((i > 0 && z->trans[i] <= z->trans[i - 1]) || z->off[i] <= -90000 || z->off[i] >= SG_TZ_MAX_OFF)
					return -1;
			}
			z->n = timec;
			z->off0 = (int32_t)be32(ty);
			if (z->off0 <= -90000 || z->off0 >= SG_TZ_MAX_OFF)
				return -1;
			if (pass == 1) {   /* the footer: "\nTZ\n" */
				const unsigned char *f = p + need, *end = p + len;
				if (f < end && *f == '\n') {
					const unsigned char *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
					if (nl != NULL && nl - f < 256) {
						char buf[256];
						memcpy(buf, f + 1, (size_t)(nl - f - 1));
						buf[nl - f - 1] = '\0';
						tz_footer(z, buf);
					}
				}
			}
			return 0;
		}
		p += need;   /* the v1 block: skip to the 64-bit one */
		len -= need;
		tsize = 8;
	}
	return -1;
}

static int
zone_load(struct zone *z, const char *tz, char **err)
{
	memset(z, 0, sizeof(*z));
	if (tz == NULL || strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0) {
		z->footer = 1;
		return 0;
	}
	if (tz[0] == '/' || strstr(tz, "..") != NULL || strlen(tz) > 128) {
		*err = sg_xasprintf("tz=%s: not a zone name", tz);
		return -1;
	}
	const char *dir = getenv("TZDIR");
	char *path = sg_xasprintf("%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0;
	int rc = -1;
	if (f != NULL) {
		buf = sg_xmalloc(SG_TZ_MAX_FILE);
		len = fread(buf, 1, SG_TZ_MAX_FILE, f);
		fclose(f);
		rc = zone_parse(z, buf, len);
	}
	if (rc != 0) {
		*err = f == NULL ? sg_xasprintf("tz=%s: %s (%s)", tz, strerror(errno), path)
				 : sg_xasprintf("tz=%s: not a tz database file (%s)", tz, path);
		free(z->trans);
		free(z->off);
		memset(z, 0, sizeof(*z));
	}
	free(buf);
	free(path);
	return rc;
}

/* ------------------------------------------------------------ hours, holidays */

static int
day_index(const char *s, size_t n)
{
	static const char *const names[7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	for (int i = 0; i < 7; i++)
		if (n == 3 && strncasecmp(s, names[i], 3) == 0)
			return i;
	return -1;
}

static int
hhmm(const char *s, const char **end, int32_t *out)
{
	char *e;
	long h = strtol(s, &e, 10), m;

	if (e == s || *e != ':' || !isdigit((unsigned char)e[1]))
		return -1;
	m = strtol(e + 1, &e, 10);
	if (h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0))
		return -1;
	*out = (int32_t)(h * 3600 + m * 60);
	*end = e;
	return 0;
}

/* Adds [s, e) to a day, merging overlaps. */
static int
day_add(struct sg_calendar *c, int d, int32_t s, int32_t e)
{
	struct range *r = c->week[d];
	int n = c->nranges[d];

	for (int i = 0; i < n; i++)
		if (s <= r[i].end && e >= r[i].start) {   /* overlaps or touches: merge */
			s = s < r[i].start ? s : r[i].start;
			e = e > r[i].end ? e : r[i].end;
			r[i] = r[--n];
			i = -1;
		}
	if (n >= SG_CAL_MAX_RANGES)
		return -1;
	int k = n;   /* keep sorted */
	while (k > 0 && r[k - 1].start > s) {
		r[k] = r[k - 1];
		k--;
	}
	r[k] = (struct range){ s, e };
	c->nranges[d] = n + 1;
	return 0;
}

static int
hours_parse(struct sg_calendar *c, const char *hours, char **err)
{
	if (hours == NULL || strcmp(hours, "24x7") == 0) {
		for (int d = 0; d < 7; d++)
			day_add(c, d, 0, 86400);
		return 0;
	}
	char *copy = sg_xstrdup(hours), *save = NULL;
	int rc = 0;
	for (char *g = strtok_r(copy, ",;", &save); g != NULL && rc == 0; g = strtok_r(NULL, ",;", &save)) {
		while (isspace((unsigned char)*g))
			g++;
		if (*g == '\0')
			continue;
		size_t wl = strcspn(g, " \t");
		char *dash = memchr(g, '-', wl);
		int d0 = day_index(g, dash ? (size_t)(dash - g) : wl), d1 = dash ? day_index(dash + 1, wl - (size_t)(dash - g) - 1) : d0;
		const char *p = g + wl;
		int nr = 0;
		if (d0 < 0 || d1 < 0) {
			*err = sg_xasprintf("hours: '%.*s' is not a day or span of days (mon-fri)", (int)wl, g);
			rc = -1;
			break;
		}
		for (;;) {
			int32_t s, e;
			while (isspace((unsigned char)*p))
				p++;
			if (*p == '\0')
				break;
			if (hhmm(p, &p, &s) < 0 || *p != '-' || hhmm(p + 1, &p, &e) < 0 || e <= s ||
			    (*p != '\0' && !isspace((unsigned char)*p))) {
				*err = sg_xasprintf("hours: bad range in '%s' (HH:MM-HH:MM, end after start)", g);
				rc = -1;
				break;
			}
			for (int d = d0;; d = (d + 1) % 7) {
				if (day_add(c, d, s, e) < 0) {
					*err = sg_xasprintf("hours: more than %d ranges a day", SG_CAL_MAX_RANGES);
					rc = -1;
				}
				if (d == d1)
					break;
			}
			nr++;
		}
		if (rc == 0 && nr == 0) {
			*err = sg_xasprintf("hours: '%s' has no HH:MM-HH:MM range", g);
			rc = -1;
		}
	}
	free(copy);
	return rc;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static int
holidays_load(struct sg_calendar *c, const char *path, char **err)
{
	FILE *f = fopen(path, "r");
	char line[256];
	int ln = 0;

	if (f == NULL) {
		*err = sg_xasprintf("holidays \"%s\": %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		int y, m, d, used = 0;
		ln++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			continue;
		if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used != 10 || m < 1 || m > 12 || d < 1 ||
		    d > 31 || strspn(s + used, " \t\r\n") != strlen(s + used)) {
			*err = sg_xasprintf("holidays \"%s\":%d: expected a date YYYY-MM-DD", path, ln);
			fclose(f);
			return -1;
		}
		if (c->nholidays >= SG_CAL_MAX_HOLIDAYS) {
			*err = sg_xasprintf("holidays \"%s\":%d: more than %d dates", path, ln, SG_CAL_MAX_HOLIDAYS);
			fclose(f);
			return -1;
		}
		c->holidays = sg_xreallocarray(c->holidays, c->nholidays + 1, sizeof(*c->holidays));
		c->holidays[c->nholidays++] = days_from_civil(y, m, d);
	}
	fclose(f);
	if (c->nholidays > 1)
		qsort(c->holidays, c->nholidays, sizeof(*c->holidays), cmp_i64);
	return 0;
}

struct sg_calendar *
sg_calendar_new(const char *name, const char *hours, const char *tz, const char *holidays_path, char **err)
{
	struct sg_calendar *c = sg_xcalloc(1, sizeof(*c));

	*err = NULL;
	c->name = sg_xstrdup(name ? name : "24x7");
	if (hours_parse(c, hours, err) < 0 || zone_load(&c->z, tz, err) < 0 ||
	    (holidays_path != NULL && holidays_load(c, holidays_path, err) < 0)) {
		sg_calendar_free(&c);
		return NULL;
	}
	for (int d = 0; d < 7; d++)
		for (int i = 0; i < c->nranges[d]; i++)
			c->weekly += c->week[d][i].end - c->week[d][i].start;
	if (c->weekly == 0) {
		*err = sg_xasprintf("hours: open no hour of the week");
		sg_calendar_free(&c);
		return NULL;
	}
	return c;
}

void
sg_calendar_free(struct sg_calendar **cp)
{
	struct sg_calendar *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	free(c->name);
	free(c->z.trans);
	free(c->z.off);
	free(c->holidays);
	free(c);
}

const char *
sg_calendar_name(const struct sg_calendar *c)
{
	return c ? c->name : "24x7";
}

/* ------------------------------------------------------------ arithmetic */

int32_t
sg_calendar_offset(const struct sg_calendar *c, int64_t t)
{
	return c ? zone_offset(&c->z, t) : 0;
}

/* The UTC time of local second sec of local day day: the first instant
 * at which the clock reads that local time or later. A local time that
 * occurs twice (fall back) maps to its first occurrence, one in a gap
 * (spring forward) to the change itself: the map never decreases, so a
 * range never ends before it starts (02:30 in the gap is not after 03:15)
 * and a day's hours never overlap the next day's. The offsets probed are
 * those a day either side (offsets stay within SG_TZ_MAX_OFF): exact for
 * a zone that changes at most once in two days, every zone in use. */
static int64_t
local_to_utc(const struct sg_calendar *c, int64_t day, int32_t sec)
{
	int64_t local = day * 86400 + sec;
	int32_t ob = zone_offset(&c->z, local - SG_TZ_MAX_OFF - 86400), oa = zone_offset(&c->z, local + SG_TZ_MAX_OFF + 86400);

	if (zone_offset(&c->z, local - ob) == ob)
		return local - ob;
	if (zone_offset(&c->z, local - oa) == oa)
		return local - oa;
	/* in a gap: the change lies in (local - oa, local - ob] */
	int64_t lo = local - oa, hi = local - ob;
	if (lo >= hi)
		return hi;
	int32_t olo = zone_offset(&c->z, lo);
	while (hi - lo > 1) {
		int64_t mid = lo + (hi - lo) / 2;
		if (zone_offset(&c->z, mid) == olo)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

static int
is_holiday(const struct sg_calendar *c, int64_t day)
{
	return c->nholidays > 0 && bsearch(&day, c->holidays, c->nholidays, sizeof(day), cmp_i64) != NULL;
}

static int64_t
local_day(const struct sg_calendar *c, int64_t t)
{
	return floordiv(t + zone_offset(&c->z, t), 86400);
}

/* The opening ranges of a local day in UTC; returns how many. */
static int
day_ranges(const struct sg_calendar *c, int64_t day, int64_t (*out)[2])
{
	if (is_holiday(c, day))
		return 0;
	int wd = weekday(day), n = c->nranges[wd];
	for (int i = 0; i < n; i++) {
		out[i][0] = local_to_utc(c, day, c->week[wd][i].start);
		out[i][1] = local_to_utc(c, day, c->week[wd][i].end);
		/* ordered and disjoint whatever the zone file says */
		if (i > 0 && out[i][0] < out[i - 1][1])
			out[i][0] = out[i - 1][1];
		if (out[i][1] < out[i][0])
			out[i][1] = out[i][0];
	}
	return n;
}

int64_t
sg_calendar_add(const struct sg_calendar *c, int64_t t, int64_t n)
{
	int64_t r[SG_CAL_MAX_RANGES][2];

	if (n <= 0)
		return t;
	if (c == NULL)
		return t + n;
	int64_t day = local_day(c, t) - 1;   /* the previous day's ranges may reach past midnight in UTC */
	for (int64_t k = 0; k < SG_CAL_MAX_DAYS; k++, day++) {
		int nr = day_ranges(c, day, r);
		for (int i = 0; i < nr; i++) {
			if (r[i][1] <= t)
				continue;
			int64_t from = r[i][0] > t ? r[i][0] : t, avail = r[i][1] - from;
			if (n <= avail)
				return from + n;
			n -= avail;
			t = r[i][1];
		}
	}
	return t + n;   /* cut: unreachable with a calendar open some hour a week */
}

int64_t
sg_calendar_between(const struct sg_calendar *c, int64_t a, int64_t b)
{
	int64_t r[SG_CAL_MAX_RANGES][2], sum = 0;

	if (b <= a)
		return 0;
	if (c == NULL)
		return b - a;
	/* the last day whose hours can start before b: b's own, or up to a
	 * day later when the clock went back across midnight (a local time
	 * before b is below b + the largest offset) */
	int64_t day = local_day(c, a) - 1, last = floordiv(b + SG_TZ_MAX_OFF, 86400);
	for (int64_t k = 0; day <= last && k < SG_CAL_MAX_DAYS; k++, day++) {
		int nr = day_ranges(c, day, r);
		for (int i = 0; i < nr; i++) {
			int64_t s = r[i][0] > a ? r[i][0] : a, e = r[i][1] < b ? r[i][1] : b;
			if (e > s)
				sum += e - s;
		}
	}
	return sum;
}

int64_t
sg_calendar_add_days(const struct sg_calendar *c, int64_t t, int n)
{
	int64_t r[SG_CAL_MAX_RANGES][2];

	if (n <= 0)
		return t;
	if (c == NULL)
		return t + (int64_t)n * 86400;
	/* the business day t belongs to, and how far into it t is */
	int64_t day = local_day(c, t), x = 0, k = 0;
	int nr = day_ranges(c, day, r);
	if (nr > 0 && t < r[nr - 1][1]) {
		for (int i = 0; i < nr; i++)
			if (t > r[i][0])
				x += (t < r[i][1] ? t : r[i][1]) - r[i][0];
	} else {   /* closed now: the next business day, from its opening */
		do
			day++;
		while ((nr = day_ranges(c, day, r)) == 0 && ++k < SG_CAL_MAX_DAYS);
		x = 0;
	}
	/* from an opening: the closing of the n-th business day counting this one */
	int steps = x == 0 ? n - 1 : n;
	for (; steps > 0 && k < SG_CAL_MAX_DAYS; k++) {
		day++;
		if ((nr = day_ranges(c, day, r)) > 0)
			steps--;
	}
	nr = day_ranges(c, day, r);
	if (nr == 0)
		return t + (int64_t)n * 86400;   /* cut */
	if (x == 0)
		return r[nr - 1][1];
	return sg_calendar_add(c, r[0][0], x) < r[nr - 1][1] ? sg_calendar_add(c, r[0][0], x) : r[nr - 1][1];
}

void
sg_calendar_format(const struct sg_calendar *c, int64_t t, char *buf, size_t size)
{
	int32_t off = sg_calendar_offset(c, t);
	int64_t local = t + off, day = floordiv(local, 86400), y;
	int m, d, sod = (int)(local - day * 86400), ao = off < 0 ? -off : off;

	civil_from_days(day, &y, &m, &d);
	snprintf(buf, size, "%04lld-%02d-%02d %02d:%02d %c%02d%02d", (long long)y, m, d, sod / 3600, sod / 60 % 60,
		 off < 0 ? '-' : '+', ao / 3600, ao / 60 % 60);
}
