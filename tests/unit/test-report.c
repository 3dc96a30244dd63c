/*
 * test-report — supportgate report's numbers against a hand-computed
 * fixture of 22 tickets (19 received in the week, one solved in it but
 * created before, one open from before, one created after the period),
 * written through the store API into a temp store; then period parsing
 * with time zones, display widths, and each renderer.
 *
 * The week: Monday 2026-11-02 00:00 UTC (T0) to the next Monday; "now" is
 * that Monday 12:00. The fixture has a weekend (tickets 9, 10, 11), time
 * waiting for the customer (3 and 17 paused, 5 pending now), reopens (7,
 * 13), ping-pong (4, 10), every SLA outcome (met, breached, not yet),
 * overdue with and without a reason, and a ticket solved after the
 * period (22). The expected numbers (want[]) were worked out from the
 * definitions in daemon/report/aggregate.h; e.g. the total: received 19
 * (22 less 19, 20, 21), solved 12 (1, 2, 3, 7, 8, 9, 12, 13, 14, 16, 17,
 * 19), first response median 3600 s (the 9th of 17 sorted values: 5, 10,
 * 10, 15, 20, 30, 30, 45, 60, ... minutes), p90 28800 s (the 16th).
 *
 * Business hours: the office calendar (calendar/calendar.h), Monday to
 * Friday 09:00-17:00 UTC with Wednesday 4 November a holiday: ticket 5
 * answered on the holiday counts 0 business seconds, ticket 9 (Friday
 * 16:00, solved Saturday 12:00) one hour, ticket 19 (Saturday, solved
 * Monday 08:00) none; resolution less the business part of the pauses.
 */
#include "config.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar/calendar.h"
#include "lib/log.h"
#include "report/aggregate.h"
#include "report/period.h"
#include "report/render.h"
#include "tests/unit/fixture.h"

#include "tests/unit/report-fixture.h"

struct wtimes {
	uint64_t n;
	double mean, median;
	int64_t p90;
};

struct want {
	const char *dim, *key;
	uint64_t received, taken, solved, open, open_now, overdue, taken_solved;
	uint64_t fr_met, fr_breached, res_met, res_breached, transfers, pingpong, reopened, rated, rating_sum;
	uint64_t ratings[5];
	struct wtimes frt, rt, frt_b, rt_b;
};

static const struct want want[] = {
	{ "total", "", 19, 17, 12, 7, 9, 4, 12, 10, 7, 7, 6, 12, 2, 2, 11, 38, { 1, 2, 2, 3, 3 },
	  { 17, 11700.000000, 3600.0, 28800 }, { 12, 54300.000000, 30600.0, 144000 }, { 17, 2382.352941, 600.0, 7200 }, { 12, 10800.000000, 7200.0, 25200 } },
	{ "queue", "", 2, 2, 2, 0, 0, 0, 2, 1, 1, 2, 0, 3, 0, 1, 2, 8, { 0, 0, 1, 0, 1 },
	  { 2, 3900.000000, 3900.0, 7200 }, { 2, 16200.000000, 16200.0, 25200 }, { 2, 3900.000000, 3900.0, 7200 }, { 2, 7200.000000, 7200.0, 7200 } },
	{ "queue", "billing", 9, 7, 4, 4, 5, 2, 5, 4, 4, 1, 4, 1, 0, 1, 4, 10, { 1, 2, 0, 0, 1 },
	  { 7, 7071.428571, 1800.0, 28800 }, { 4, 66600.000000, 54000.0, 144000 }, { 7, 1542.857143, 0.0, 5400 }, { 4, 18000.000000, 19800.0, 28800 } },
	{ "queue", "tech", 8, 8, 6, 3, 4, 2, 5, 5, 2, 4, 2, 8, 2, 0, 5, 20, { 0, 0, 1, 3, 1 },
	  { 8, 17700.000000, 5400.0, 93600 }, { 6, 58800.000000, 46800.0, 165600 }, { 8, 2737.500000, 600.0, 14400 }, { 6, 7200.000000, 5400.0, 21600 } },
	{ "segment", "enterprise", 9, 9, 7, 2, 2, 1, 7, 5, 4, 4, 3, 2, 0, 0, 7, 25, { 1, 1, 1, 1, 3 },
	  { 9, 5300.000000, 2700.0, 18000 }, { 7, 48342.857143, 25200.0, 165600 }, { 9, 2300.000000, 1800.0, 7200 }, { 7, 10285.714286, 7200.0, 25200 } },
	{ "segment", "retail", 10, 8, 5, 5, 7, 3, 5, 5, 3, 3, 3, 10, 2, 2, 4, 13, { 0, 1, 1, 2, 0 },
	  { 8, 18900.000000, 5400.0, 93600 }, { 5, 62640.000000, 72000.0, 144000 }, { 8, 2475.000000, 300.0, 14400 }, { 5, 11520.000000, 7200.0, 28800 } },
	{ "tier", "", 2, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, { 0, 0, 0, 0, 0 },
	  { 1, 3600.000000, 3600.0, 3600 }, { 1, 10800.000000, 10800.0, 10800 }, { 1, 0.000000, 0.0, 0 }, { 1, 7200.000000, 7200.0, 7200 } },
	{ "tier", "gold", 9, 9, 7, 2, 2, 1, 7, 5, 4, 4, 3, 2, 0, 0, 7, 25, { 1, 1, 1, 1, 3 },
	  { 9, 5300.000000, 2700.0, 18000 }, { 7, 48342.857143, 25200.0, 165600 }, { 9, 2300.000000, 1800.0, 7200 }, { 7, 10285.714286, 7200.0, 25200 } },
	{ "tier", "silver", 8, 7, 4, 4, 6, 3, 4, 5, 3, 3, 3, 10, 2, 2, 4, 13, { 0, 1, 1, 2, 0 },
	  { 7, 21085.714286, 7200.0, 93600 }, { 4, 75600.000000, 75600.0, 144000 }, { 7, 2828.571429, 600.0, 14400 }, { 4, 12600.000000, 9000.0, 28800 } },
	{ "agent", "", 2, 0, 0, 2, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, { 0, 0, 0, 0, 0 },
	  { 0, 0.000000, 0.0, 0 }, { 0, 0.000000, 0.0, 0 }, { 0, 0.000000, 0.0, 0 }, { 0, 0.000000, 0.0, 0 } },
	{ "agent", "anna@example.com", 8, 8, 4, 3, 3, 2, 5, 5, 2, 2, 3, 6, 1, 1, 3, 10, { 0, 1, 1, 0, 1 },
	  { 8, 13462.500000, 1800.0, 93600 }, { 4, 17100.000000, 12600.0, 36000 }, { 8, 975.000000, 0.0, 5400 }, { 4, 13500.000000, 10800.0, 25200 } },
	{ "agent", "boris@example.com", 5, 5, 5, 1, 2, 1, 4, 4, 1, 4, 1, 5, 1, 0, 5, 21, { 0, 0, 1, 2, 2 },
	  { 5, 3840.000000, 2700.0, 7200 }, { 5, 59040.000000, 25200.0, 165600 }, { 5, 2940.000000, 2700.0, 7200 }, { 5, 7920.000000, 7200.0, 21600 } },
	{ "agent", IRINA, 4, 4, 3, 1, 2, 1, 3, 1, 3, 1, 2, 1, 0, 1, 3, 7, { 1, 1, 0, 1, 0 },
	  { 4, 18000.000000, 16200.0, 28800 }, { 3, 96000.000000, 72000.0, 144000 }, { 4, 4500.000000, 1800.0, 14400 }, { 3, 12000.000000, 3600.0, 28800 } },
};

static struct sg_calendar *office;   /* mon-fri 09:00-17:00 UTC, 2026-11-04 off */
static int business_calls;

static int64_t
office_hours(void *arg, const struct sg_ticket *t, int64_t a, int64_t b)
{
	(*(int *)arg)++;
	(void)t;
	return sg_calendar_between(office, a, b);
}

/* The fixture's store (made once per program) and its report. */
static void
run_fixture(struct sg_report *r, int business)
{
	static int filled;
	struct sg_report_opts o = { 0 };

	if (!filled) {
		char *dir = sg_test_subdir("fixture");
		conf = load_conf(dir, "state_dir = \"%s/state\"\nsupport_address = {\"support@example.com\"}\n", dir);
		free(dir);
		if (conf == NULL || open_store() != 0)
			tap_fatal("cannot open the fixture store", "fixture");
		fill_store();
		char *err = NULL, *sub = sg_test_subdir("calendar");
		char *hol = sg_test_write(sub, "holidays", "# the fixture's holiday\n2026-11-04\n");
		office = sg_calendar_new("office", "mon-fri 09:00-17:00", "UTC", hol, &err);
		if (office == NULL)
			tap_fatal("calendar", err ? err : "?");
		free(hol);
		free(sub);
		filled = 1;
	}
	if (sg_report_tz_set("UTC") != 0)
		tap_fatal("time zone", "UTC");
	o.from = T0;
	o.to = T0 + 7 * DAY;
	o.now = T0 + 7 * DAY + 12 * 3600;
	o.time_zone = "UTC";
	if (business) {
		o.business = office_hours;
		o.business_arg = &business_calls;
	}
	if (sg_report_run(st, &o, r) != 0)
		tap_fatal("sg_report_run failed", "fixture");
}

static const struct sg_report_row *
find_row(const struct sg_report *r, const char *dim, const char *key)
{
	if (strcmp(dim, "total") == 0)
		return &r->total;
	for (int d = 0; d < SG_RD_COUNT; d++)
		if (strcmp(sg_report_dim_name((enum sg_report_dim)d), dim) == 0)
			for (size_t i = 0; i < r->nrows[d]; i++)
				if (strcmp(r->rows[d][i].key, key) == 0)
					return &r->rows[d][i];
	return NULL;
}

static void
check_times(const char *what, const char *dim, const char *key, const struct sg_report_times *got,
	    const struct wtimes *w)
{
	ok(got->n == w->n && fabs(got->mean - w->mean) < 0.001 && got->median == w->median && got->p90 == w->p90,
	   "%s %s: %s n %llu mean %.3f median %.1f p90 %lld (want %llu %.3f %.1f %lld)", dim, key, what,
	   (unsigned long long)got->n, got->mean, got->median, (long long)got->p90, (unsigned long long)w->n, w->mean,
	   w->median, (long long)w->p90);
}

static void
test_numbers(void)
{
	struct sg_report r;
	size_t nrows = 0;

	business_calls = 0;
	run_fixture(&r, 1);
	is_int((long long)r.tickets_read, 22, "every ticket read once");
	ok(r.has_business, "business hours known (the office calendar)");
	for (int d = 0; d < SG_RD_COUNT; d++)
		nrows += r.nrows[d];
	is_int((long long)nrows, (long long)(sizeof(want) / sizeof(want[0]) - 1), "one row per group value, no more");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct want *w = &want[i];
		const struct sg_report_row *x = find_row(&r, w->dim, w->key);
		if (!ok(x != NULL, "%s '%s': present", w->dim, w->key))
			continue;
		uint64_t got[] = { x->received, x->taken, x->solved, x->open, x->open_now, x->overdue, x->taken_solved,
			x->fr_met, x->fr_breached, x->res_met, x->res_breached, x->transfers, x->pingpong, x->reopened,
			x->rated, x->rating_sum, x->ratings[0], x->ratings[1], x->ratings[2], x->ratings[3],
			x->ratings[4] };
		uint64_t exp[] = { w->received, w->taken, w->solved, w->open, w->open_now, w->overdue, w->taken_solved,
			w->fr_met, w->fr_breached, w->res_met, w->res_breached, w->transfers, w->pingpong, w->reopened,
			w->rated, w->rating_sum, w->ratings[0], w->ratings[1], w->ratings[2], w->ratings[3],
			w->ratings[4] };
		static const char *const names[] = { "received", "taken", "solved", "open", "open_now", "overdue",
			"taken_solved", "fr_met", "fr_breached", "res_met", "res_breached", "transfers", "pingpong",
			"reopened", "rated", "rating_sum", "rating 1", "rating 2", "rating 3", "rating 4", "rating 5" };
		char gotbuf[400] = "", wantbuf[400] = "";
		int same = 1;
		for (size_t k = 0; k < sizeof(got) / sizeof(got[0]); k++) {
			if (got[k] != exp[k]) {
				same = 0;
				size_t l = strlen(gotbuf);
				snprintf(gotbuf + l, sizeof(gotbuf) - l, " %s=%llu(want %llu)", names[k],
					 (unsigned long long)got[k], (unsigned long long)exp[k]);
			}
		}
		(void)wantbuf;
		ok(same, "%s '%s': every counter%s", w->dim, w->key, gotbuf);
		check_times("first response", w->dim, w->key, &x->frt, &w->frt);
		check_times("resolution", w->dim, w->key, &x->rt, &w->rt);
		check_times("first response (business)", w->dim, w->key, &x->frt_b, &w->frt_b);
		check_times("resolution (business)", w->dim, w->key, &x->rt_b, &w->rt_b);
	}

	/* per day: received and solved (UTC days of the week) */
	static const uint64_t days[7][2] = { { 3, 3 }, { 3, 1 }, { 3, 2 }, { 3, 2 }, { 2, 1 }, { 2, 2 }, { 3, 1 } };
	if (is_int((long long)r.ndays, 7, "seven days")) {
		for (int i = 0; i < 7; i++)
			ok(r.days[i].start == T0 + i * DAY && r.days[i].received == days[i][0] &&
				   r.days[i].solved == days[i][1],
			   "day %d: received %llu solved %llu", i, (unsigned long long)r.days[i].received,
			   (unsigned long long)r.days[i].solved);
	}
	static const uint64_t hist[SG_REPORT_NBUCKETS] = { 3, 5, 5, 2, 1, 1, 0 };
	for (int b = 0; b < SG_REPORT_NBUCKETS; b++)
		is_int((long long)r.frt_hist[b], (long long)hist[b], "first-response histogram %s",
		       sg_report_bucket_label[b]);
	if (is_int((long long)r.noverdue_reasons, 3, "three overdue reasons")) {
		is_str(r.overdue_reasons[0].key, "", "overdue without a reason ...");
		is_int((long long)r.overdue_reasons[0].n, 1, "... one (ticket 15: due passed, no breach fired yet)");
		is_str(r.overdue_reasons[1].key, "no agent reply", "overdue reason 2");
		is_int((long long)r.overdue_reasons[1].n, 1, "... one");
		is_str(r.overdue_reasons[2].key, "waiting on another team", "overdue reason 3");
		is_int((long long)r.overdue_reasons[2].n, 2, "... two (one from before the period)");
	}
	/* 17 first responses and 12 resolutions, once each (not per row) */
	is_int(business_calls, 17 + 12, "the business function called once per ticket and value");
	sg_report_free(&r);
	sg_report_free(&r);
	ok(r.rows[0] == NULL && r.total.key == NULL, "free twice is safe");

	run_fixture(&r, 0);
	ok(!r.has_business && r.total.frt_b.n == 0 && r.total.rt_b.n == 0 && r.total.frt.n == 17,
	   "without a calendar: calendar times only");
	sg_report_free(&r);
}

static void
test_period(void)
{
	int64_t a, b, t;
	char err[160];
	int date_only;

	ok(sg_report_tz_set("Europe/Moscow") == 0, "tz: Europe/Moscow (UTC+3, no DST)");
	ok(sg_report_period("2026-11-02", "2026-11-08", 0, &a, &b, err, sizeof(err)) == 0 && a == T0 - 3 * 3600 &&
		   b == T0 + 7 * DAY - 3 * 3600,
	   "dates: local midnight to the midnight after the last day");
	ok(sg_report_period("2026-11-02T09:30", "2026-11-02 18:00:30", 0, &a, &b, err, sizeof(err)) == 0 &&
		   a == T0 + 6 * 3600 + 1800 && b == T0 + 15 * 3600 + 30,
	   "local date and time, with T or a space");
	ok(sg_report_period("@1000", "@2000", 0, &a, &b, err, sizeof(err)) == 0 && a == 1000 && b == 2000,
	   "@seconds");
	ok(sg_report_period(NULL, NULL, T0 + 7 * DAY + 12 * 3600, &a, &b, err, sizeof(err)) == 0 &&
		   b == T0 + 7 * DAY + 12 * 3600 && a == T0 + DAY - 3 * 3600,
	   "default: from the local midnight six days before today to now");
	ok(sg_report_time("2026-11-02", &t, &date_only) == 0 && date_only && t == T0 - 3 * 3600, "one time");
	ok(sg_report_period("2026-02-30", NULL, T0, &a, &b, err, sizeof(err)) == -1 && strstr(err, "--from") != NULL,
	   "no 30 February: %s", err);
	ok(sg_report_period("yesterday", NULL, T0, &a, &b, err, sizeof(err)) == -1, "words are not dates");
	ok(sg_report_period("2026-11-02T25:00", NULL, T0, &a, &b, err, sizeof(err)) == -1, "hour 25");
	ok(sg_report_period("2026-11-02x", NULL, T0, &a, &b, err, sizeof(err)) == -1, "trailing junk");
	ok(sg_report_period("2026-11-09", "2026-11-02", 0, &a, &b, err, sizeof(err)) == -1 && strstr(err, "empty"),
	   "from after to: %s", err);
	ok(sg_report_period("2000-01-01", "2026-11-02", 0, &a, &b, err, sizeof(err)) == -1 && strstr(err, "longer"),
	   "longer than %d days: %s", SG_REPORT_MAX_DAYS, err);
	ok(sg_report_tz_set("Mars/Olympus_Mons") == -1, "unknown zone refused");
	ok(sg_report_tz_set("../../etc/passwd") == -1 && sg_report_tz_set("/etc/localtime") == -1, "paths refused");
	ok(sg_report_period("2026-11-02", NULL, T0 + DAY, &a, &b, err, sizeof(err)) == 0 && a == T0 - 3 * 3600,
	   "a refused zone changes nothing");

	/* a DST change inside the period: 2026-10-25 has 25 hours in Berlin */
	struct sg_report r;
	struct sg_report_opts o = { 0 };
	ok(sg_report_tz_set("Europe/Berlin") == 0, "tz: Europe/Berlin");
	sg_report_period("2026-10-24", "2026-10-26", 0, &o.from, &o.to, err, sizeof(err));
	o.now = o.to;
	char *dir = sg_test_subdir("dst");
	struct sg_conf *c = load_conf(dir, "state_dir = \"%s/state\"\nsupport_address = {\"support@example.com\"}\n", dir);
	struct sg_store *s2 = NULL;
	free(dir);
	if (c != NULL && sg_store_open(c->state_dir, SG_STORE_NOSYNC, &s2) == 0 && sg_report_run(s2, &o, &r) == 0) {
		ok(r.ndays == 3 && r.days[2].start - r.days[1].start == 25 * 3600 &&
			   r.days[1].start - r.days[0].start == 24 * 3600,
		   "days follow local midnights across the DST change (%zu days)", r.ndays);
	} else {
		ok(0, "empty store report");
	}
	sg_report_free(&r);
	sg_store_close(&s2);
	sg_conf_unref(&c);
	sg_report_tz_set("UTC");
}

static void
test_width(void)
{
	is_int((long long)sg_report_width("anna"), 4, "ASCII width");
	is_int((long long)sg_report_width(IRINA), 17, "Cyrillic: one column per letter");
	is_int((long long)sg_report_width("\xe6\x94\xaf\xe6\x8f\xb4"), 4, "CJK: two columns per character");
	is_int((long long)sg_report_width("e\xcc\x81"), 1, "a combining accent takes no column");
	is_int((long long)sg_report_width("\xff" "a\xd0"), 3, "bad bytes count one each");
	char b[32];
	sg_report_dur(3900, b, sizeof(b));
	is_str(b, "1h05m", "duration 3900 s");
	sg_report_dur(2 * DAY + 3 * 3600 + 10, b, sizeof(b));
	is_str(b, "2d03h", "duration over a day");
	sg_report_dur(45, b, sizeof(b));
	is_str(b, "45s", "duration under a minute");
}

static char *
render(int (*fn)(FILE *, const struct sg_report *), const struct sg_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	if (fp == NULL || fn(fp, r) != 0)
		tap_fatal("render", "memstream");
	fclose(fp);
	return buf;
}

/* The line of text that starts with prefix, copied; NULL when none. */
static char *
line_with(const char *text, const char *prefix)
{
	for (const char *p = text; p && *p;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return sg_xstrndup(p, l);
		p = e ? e + 1 : NULL;
	}
	return NULL;
}

static void
test_text(void)
{
	struct sg_report r;

	run_fixture(&r, 0);
	char *text = render(sg_report_text, &r);
	char *head = line_with(text, "agent              open now  assigned");   /* the agents table */
	char *anna = line_with(text, ANNA "   ");
	char *irina = line_with(text, IRINA "   ");
	ok(head && anna && irina, "agents table has a header and both agents");
	if (head && anna && irina) {
		ok(sg_report_width(anna) == sg_report_width(head) && sg_report_width(irina) == sg_report_width(head),
		   "rows as wide as the header in display columns (%zu %zu %zu)", sg_report_width(head),
		   sg_report_width(anna), sg_report_width(irina));
		ok(strlen(irina) > sg_report_width(irina), "(the Cyrillic row has more bytes than columns)");
		/* anna: open now 3, assigned 8, of those solved 5 (62.5%) */
		ok(strstr(anna, " 3         8       5     62.5%") != NULL, "anna's load: %s", anna);
	}
	ok(strstr(text, "business hours: not available") != NULL, "says when business hours are missing");
	char *tot = line_with(text, "total    all  ");
	ok(tot != NULL && strstr(tot, "  19  ") != NULL, "total line: %s", tot ? tot : "(none)");
	free(tot);
	free(head);
	free(anna);
	free(irina);
	free(text);
	sg_report_free(&r);
}

static void
test_csv(void)
{
	struct sg_report r;

	run_fixture(&r, 1);
	char *csv = render(sg_report_csv, &r);
	char *tot = line_with(csv, "total,");
	is_str(tot, "total,all,19,17,12,7,9,4,12,70.6,17,11700.0,3600.0,28800,12,54300.0,30600.0,144000,"
		    "17,2382.4,600.0,7200,12,10800.0,7200.0,25200,10,7,7,6,12,2,2,16.7,11,3.45,1,2,2,3,3",
	       "CSV total line");
	free(tot);
	char *day = line_with(csv, "day,2026-11-02,");
	ok(day != NULL && strncmp(day, "day,2026-11-02,3,,3,", 20) == 0, "CSV day line: %s", day ? day : "(none)");
	free(day);
	ok(strstr(csv, "\noverdue_reason,waiting on another team,,,,,,2,") != NULL, "CSV overdue reason line");
	ok(strstr(csv, "\nagent," IRINA ",4,4,3,") != NULL, "CSV Cyrillic agent line");
	/* every line has as many fields as the header (no commas in these keys) */
	int bad = 0, lines = 0;
	for (char *p = csv; *p;) {
		char *e = strchr(p, '\n');
		int n = 1;
		for (char *q = p; q < e; q++)
			n += *q == ',';
		bad += n != 41;
		lines++;
		p = e + 1;
	}
	ok(bad == 0 && lines > 20, "%d lines of 41 fields", lines);
	free(csv);
	sg_report_free(&r);

	/* quoting and formula guard */
	struct sg_report q;
	memset(&q, 0, sizeof(q));
	q.total.key = (char *)"";
	q.time_zone = (char *)"";
	struct sg_report_row row = { 0 };
	row.key = (char *)"=cmd|\"x\",y";
	q.rows[SG_RD_QUEUE] = &row;
	q.nrows[SG_RD_QUEUE] = 1;
	csv = render(sg_report_csv, &q);
	ok(strstr(csv, "\nqueue,\"'=cmd|\"\"x\"\",y\",0,") != NULL, "a formula-like key is quoted and defused");
	free(csv);
}

static void
test_json(void)
{
	struct sg_report r;
	json_error_t jerr;

	run_fixture(&r, 1);
	char *text = render(sg_report_json, &r);
	json_t *o = json_loads(text, 0, &jerr);
	ok(o != NULL, "JSON parses: %s", o ? "yes" : jerr.text);
	if (o != NULL) {
		json_t *tot = json_object_get(o, "total");
		is_int(json_integer_value(json_object_get(tot, "received")), 19, "json total.received");
		is_int(json_integer_value(json_object_get(json_object_get(tot, "rt"), "p90")), 144000, "json total.rt.p90");
		ok(json_is_true(json_object_get(o, "business_hours")), "json business_hours");
		json_t *agents = json_object_get(json_object_get(o, "by"), "agent");
		is_str(json_string_value(json_object_get(json_array_get(agents, 3), "key")), IRINA, "json agent 4 key");
		is_int(json_integer_value(json_object_get(json_array_get(agents, 3), "open_now")), 2, "json agent 4 open_now");
		json_t *h = json_object_get(o, "first_response_histogram");
		is_int(json_integer_value(json_object_get(json_array_get(h, 1), "count")), 5, "json histogram 15m-1h");
		ok(json_is_null(json_object_get(json_array_get(h, 6), "max_seconds")), "json: the last bucket is open");
		json_t *d = json_array_get(json_object_get(o, "days"), 0);
		is_str(json_string_value(json_object_get(d, "date")), "2026-11-02", "json day 1 date");
		is_int(json_integer_value(json_object_get(d, "solved")), 3, "json day 1 solved");
		json_decref(o);
	}
	free(text);
	sg_report_free(&r);

	/* a key that is not UTF-8 is kept, its bad bytes as '?' */
	struct sg_report q;
	memset(&q, 0, sizeof(q));
	q.total.key = (char *)"";
	q.time_zone = (char *)"";
	struct sg_report_row row = { 0 };
	row.key = (char *)"\xff\xfe" "bad";
	q.rows[SG_RD_QUEUE] = &row;
	q.nrows[SG_RD_QUEUE] = 1;
	text = render(sg_report_json, &q);
	o = json_loads(text, 0, &jerr);
	is_str(o ? json_string_value(json_object_get(json_array_get(json_object_get(json_object_get(o, "by"), "queue"), 0),
						      "key"))
		 : NULL,
	       "??bad", "json: a key with bad bytes is kept");
	json_decref(o);
	free(text);
}

static void
test_html(void)
{
	struct sg_report r;

	run_fixture(&r, 0);
	char *h = render(sg_report_html, &r);
	static const char *const charts[] = { "volume", "response", "load", "sla", "satisfaction" };
	for (int i = 0; i < 5; i++) {
		char id[64];
		snprintf(id, sizeof(id), "<svg id=\"chart-%s\"", charts[i]);
		ok(strstr(h, id) != NULL, "chart %s present", charts[i]);
	}
	static const char *const bars[] = {
		"data-series=\"received\" data-label=\"2026-11-02\" data-value=\"3\"",
		"data-series=\"solved\" data-label=\"2026-11-08\" data-value=\"1\"",
		"data-series=\"tickets\" data-label=\"15m-1h\" data-value=\"5\"",
		"data-series=\"assigned\" data-label=\"" ANNA "\" data-value=\"8\"",
		"data-series=\"open now\" data-label=\"" IRINA "\" data-value=\"2\"",
		"data-series=\"breached\" data-label=\"gold\" data-value=\"3\"",
		"data-series=\"ratings\" data-label=\"5\" data-value=\"3\"",
		"<title>gold — met: 4</title>",
		"data-note=\"57% met\"",
		"data-note=\"62% solved\"",
		"Satisfaction: 11 ratings, mean 3.45",
		"<g class=\"legend\" data-series=\"breached\">",
		"class=\"lbl\" transform=\"rotate(-30 ",
		"data-label=\"" IRINA "\">" IRINA "</text>",
		"class=\"axis\" data-axis=\"x\"",
	};
	for (size_t i = 0; i < sizeof(bars) / sizeof(bars[0]); i++)
		ok(strstr(h, bars[i]) != NULL, "html has %s", bars[i]);
	ok(strstr(h, "src=") == NULL && strstr(h, "href") == NULL && strstr(h, "<script") == NULL &&
		   strstr(h, "@import") == NULL,
	   "self-contained: no external references, no scripts");
	free(h);
	sg_report_free(&r);

	/* store strings are escaped */
	struct sg_report q;
	memset(&q, 0, sizeof(q));
	q.total.key = (char *)"";
	q.time_zone = (char *)"";
	struct sg_report_row row = { 0 };
	row.key = (char *)"<script>alert(1)</script>";
	row.open_now = 1;
	q.rows[SG_RD_AGENT] = &row;
	q.nrows[SG_RD_AGENT] = 1;
	h = render(sg_report_html, &q);
	ok(strstr(h, "<script>") == NULL && strstr(h, "&lt;script&gt;alert(1)") != NULL, "agent names escaped");
	free(h);
}

static const struct sg_test tests[] = {
	{ "numbers", test_numbers },
	{ "period", test_period },
	{ "width", test_width },
	{ "text", test_text },
	{ "csv", test_csv },
	{ "json", test_json },
	{ "html", test_html },
};

int
main(void)
{
	int rc;

	sg_log_open_stderr("test-report");
	sg_log_set_level(SG_LOG_WARN);
	rc = SG_TEST_RUN(tests);
	close_fixture();
	sg_calendar_free(&office);
	return rc;
}
