/*
 * cli-report — `supportgate report`: the managers' numbers for a period
 * (daemon/report: one pass over the tickets table, then a renderer).
 *
 *   report [--from DATE] [--to DATE] [--tz ZONE] [--now TIME]
 *          [--csv | --json | --html FILE]
 *
 * Business-hours times count on each ticket's SLA calendar (its
 * service's, else its tier's: ticket/slatime.h); shown when at least one
 * ticket of the report has one.
 * Dates are local to --tz, else report_time_zone, else TZ / the system
 * (period.h gives the forms and the default: the last 7 days). --now
 * evaluates "open now" and "overdue" as of TIME (the same forms; for
 * reproducible reports and tests). --html writes the page to FILE (a
 * temp file in the same folder, then renamed, so a browser never opens
 * half a page); the other formats go to standard output.
 * Exit: 0, 1 (store or write failure), 2 (usage).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calendar/calendar.h"
#include "cli.h"
#include "conf/conf.h"
#include "lib/xalloc.h"
#include "report/aggregate.h"
#include "report/period.h"
#include "report/render.h"
#include "store/store.h"
#include "ticket/slatime.h"

enum fmt { F_TEXT, F_CSV, F_JSON, F_HTML };

/* Business seconds on the calendar the ticket's SLA clocks count on (its
 * service's or its tier's; none: 24x7 UTC, as the clocks count). */
struct business {
	const struct sg_conf *c;
	uint64_t with_calendar;
};

static int64_t
business_secs(void *arg, const struct sg_ticket *t, int64_t a, int64_t b)
{
	struct business *z = arg;
	const struct sg_calendar *cal = sg_slatime_calendar(z->c, t);

	z->with_calendar += cal != NULL;
	return sg_calendar_between(cal, a, b);
}

/* Write the page next to path, then rename it over path. */
static int
write_html(const char *path, const struct sg_report *r)
{
	char *tmp = sg_xasprintf("%s.tmp.%ld", path, (long)getpid());
	FILE *fp = fopen(tmp, "w");
	int rc = -1;

	if (fp == NULL) {
		fprintf(stderr, "supportgate: cannot write %s: %s\n", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (sg_report_html(fp, r) == 0 && fflush(fp) == 0 && fsync(fileno(fp)) == 0)
		rc = 0;
	if (fclose(fp) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -1;
	if (rc == 0) {   /* the rename itself on disk (STYLE.md 13) */
		char *dir = sg_xstrdup(path), *slash = strrchr(dir, '/');
		if (slash == NULL)
			strcpy(dir, ".");
		else
			slash[slash == dir] = '\0';
		int dfd = open(dir, O_RDONLY | O_DIRECTORY);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
	if (rc != 0) {
		fprintf(stderr, "supportgate: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

int
sg_cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
		{ "tz", required_argument, NULL, 'z' },   { "now", required_argument, NULL, 'n' },
		{ "csv", no_argument, NULL, 'C' },        { "json", no_argument, NULL, 'J' },
		{ "html", required_argument, NULL, 'H' }, { NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL, *tz = NULL, *now_s = NULL, *html = NULL;
	enum fmt fmt = F_TEXT;
	int o, nfmt = 0;

	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (o) {
		case 'f': from = optarg; break;
		case 't': to = optarg; break;
		case 'z': tz = optarg; break;
		case 'n': now_s = optarg; break;
		case 'C': fmt = F_CSV; nfmt++; break;
		case 'J': fmt = F_JSON; nfmt++; break;
		case 'H': fmt = F_HTML; html = optarg; nfmt++; break;
		default: return sg_cli_usage("report", 2);
		}
	}
	if (optind != argc || nfmt > 1)
		return sg_cli_usage("report", 2);

	const struct sg_conf *c = sg_cli_conf();
	if (tz == NULL)
		tz = c->report_time_zone;
	if (sg_report_tz_set(tz) != 0) {
		fprintf(stderr, "supportgate: unknown time zone '%s'\n", tz);
		return 2;
	}

	struct sg_report_opts opts = { 0 };
	char err[160];
	int64_t now = (int64_t)time(NULL);
	if (now_s != NULL) {
		int date_only;
		if (sg_report_time(now_s, &now, &date_only) != 0) {
			fprintf(stderr, "supportgate: --now: cannot parse '%s'\n", now_s);
			return 2;
		}
	}
	if (sg_report_period(from, to, now, &opts.from, &opts.to, err, sizeof(err)) != 0) {
		fprintf(stderr, "supportgate: %s\n", err);
		return 2;
	}
	opts.now = now;
	opts.time_zone = tz != NULL ? tz : "";
	struct business biz = { c, 0 };
	opts.business = business_secs;
	opts.business_arg = &biz;

	struct sg_store *st = sg_cli_store(c);
	struct sg_report r;
	int rc = sg_report_run(st, &opts, &r);
	sg_store_close(&st);
	if (rc != 0) {
		fprintf(stderr, "supportgate: reading the tickets failed\n");
		sg_report_free(&r);
		return 1;
	}
	/* No ticket of the report counts on a calendar (none declared, or
	 * none of these tickets' tiers has one): business hours would only
	 * repeat calendar time, so the report says they are not available. */
	if (biz.with_calendar == 0)
		r.has_business = 0;
	switch (fmt) {
	case F_TEXT: rc = sg_report_text(stdout, &r); break;
	case F_CSV: rc = sg_report_csv(stdout, &r); break;
	case F_JSON: rc = sg_report_json(stdout, &r); break;
	case F_HTML: rc = write_html(html, &r); break;
	}
	if (fmt != F_HTML && (fflush(stdout) != 0 || rc != 0)) {
		fprintf(stderr, "supportgate: writing the report failed: %s\n", strerror(errno));
		rc = -1;
	}
	sg_report_free(&r);
	return rc == 0 ? 0 : 1;
}
