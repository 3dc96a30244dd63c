/*
 * bench-report — the cost of `supportgate report` against the cost of
 * reading the tickets table alone, in the same run on the same store.
 *
 * Fills a temp store with N tickets (argv[1], default 100,000; `make
 * bench` takes SG_BENCH_REPORT_TICKETS, 1,000,000 documented there) with
 * varied fields: 8 queues, 3 segments, 4 tiers, 50 agents, times spread
 * over 30 days, most answered and solved, some paused, reopened, rated,
 * breached. Then, best of three each: a walk of the tickets table with a
 * callback that does nothing (sg_store_ticket_foreach: every record read
 * and decoded), the full report over a period holding every ticket
 * (sg_report_run, then the text rendering), and the same with business
 * hours on a calendar (Berlin office hours, as the CLI does with the
 * tiers' calendars). Prints each and its ratio to the table read.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar/calendar.h"
#include "lib/log.h"
#include "report/aggregate.h"
#include "report/period.h"
#include "report/render.h"
#include "tests/unit/fixture.h"

#define START 1790000000LL   /* a Monday night in 2026; the period: 30 days from here */

static void
fill(uint64_t n)
{
	static const char *const queues[] = { "billing", "tech", "sales", "hardware", "network", "accounts", "field",
		"general" };
	static const char *const segments[] = { "enterprise", "smb", "retail" };
	static const char *const tiers[] = { "platinum", "gold", "silver", "bronze" };
	struct sg_txn *txn = NULL;
	unsigned seed = 4242;
	char agents[50][40];

	for (int i = 0; i < 50; i++)
		snprintf(agents[i], sizeof(agents[i]), "agent%02d@support.example", i);
	for (uint64_t i = 0; i < n; i++) {
		if (txn == NULL && sg_store_txn_begin(st, &txn) != 0)
			abort();
		struct sg_ticket t = { 0 };
		unsigned r = (unsigned)rand_r(&seed);
		int64_t c = START + (int64_t)((uint64_t)rand_r(&seed) % (30 * 86400));
		sg_store_ticket_new_id(st, txn, &t.id);
		t.subject = (char *)"The invoice shows the wrong VAT rate";
		t.requestor = (char *)"customer@example.org";
		t.queue = (char *)queues[r % 8];
		t.segment = (char *)segments[(r >> 3) % 3];
		t.sla_tier = (char *)tiers[(r >> 5) % 4];
		t.assignee = (r >> 7) % 10 ? agents[(r >> 11) % 50] : NULL;
		t.created = t.updated = c;
		t.first_response_due = c + 4 * 3600;
		t.due = c + 24 * 3600;
		if ((r >> 17) % 10 < 9)
			t.first_response_at = c + (int64_t)(rand_r(&seed) % (8 * 3600));
		int solved = (r >> 21) % 10 < 7;
		t.status = solved ? ((r >> 25) % 2 ? SG_ST_CLOSED : SG_ST_RESOLVED) : (enum sg_status)((r >> 25) % 3);
		if (solved) {
			t.resolved_at = c + (int64_t)(rand_r(&seed) % (72 * 3600));
			t.rating = (uint8_t)((r >> 27) % 6);
			t.reopens = (r >> 28) % 8 == 0;
		}
		if ((r >> 29) % 4 == 0) {
			t.paused_secs = 3600;
			t.paused_bsecs = 1800;
		}
		t.sla_fired = (uint8_t)(rand_r(&seed) % 16);
		t.transfers = (uint32_t)(rand_r(&seed) % 5);
		t.reason = t.sla_fired & SG_SLA_RES_BREACH ? (char *)"no agent reply" : NULL;
		if (sg_store_ticket_put(st, txn, &t) != 0)
			abort();
		if ((i + 1) % 10000 == 0 && sg_store_txn_commit(&txn) != 0)
			abort();
	}
	if (txn != NULL && sg_store_txn_commit(&txn) != 0)
		abort();
}

static int64_t
office_hours(void *arg, const struct sg_ticket *t, int64_t a, int64_t b)
{
	(void)t;
	return sg_calendar_between(arg, a, b);
}

static int
nothing(const struct sg_ticket *t, void *arg)
{
	(*(uint64_t *)arg) += t->id;   /* something the compiler must keep */
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	const char *dir = sg_test_dir();
	double walk = 1e300, report[2] = { 1e300, 1e300 };
	char *err = NULL;
	struct sg_calendar *cal = sg_calendar_new("office", "mon-fri 09:00-18:00", "Europe/Berlin", NULL, &err);
	struct sg_report_opts o = { 0 };

	sg_log_open_stderr("bench-report");
	sg_log_set_level(SG_LOG_ERROR);
	sg_report_tz_set("UTC");
	if (cal == NULL) {
		fprintf(stderr, "bench-report: calendar: %s\n", err ? err : "?");
		return 1;
	}
	if (n == 0 || sg_store_open(dir, SG_STORE_NOSYNC, &st) != 0)
		return 1;
	double tf = now_ns();
	fill(n);
	printf("report over %llu tickets (filled in %.1f s)\n", (unsigned long long)n, (now_ns() - tf) / 1e9);
	o.from = START;
	o.to = START + 31 * 86400;
	o.now = o.to;
	o.time_zone = "UTC";
	FILE *null = fopen("/dev/null", "w");
	for (int rep = 0; rep < 3; rep++) {
		uint64_t sum = 0;
		double t0 = now_ns();
		if (sg_store_ticket_foreach(st, nothing, &sum) != 0 || sum == 0)
			return 1;
		double t1 = now_ns();
		if (t1 - t0 < walk)
			walk = t1 - t0;
		for (int b = 0; b < 2; b++) {
			struct sg_report r;
			o.business = b ? office_hours : NULL;
			o.business_arg = cal;
			double t2 = now_ns();
			if (sg_report_run(st, &o, &r) != 0 || r.total.received != n)
				return 1;
			sg_report_text(null, &r);
			sg_report_free(&r);
			double t3 = now_ns();
			if (t3 - t2 < report[b])
				report[b] = t3 - t2;
		}
	}
	fclose(null);
	printf("  read the tickets table alone: %8.3f s  (%6.2f us/ticket)\n", walk / 1e9, walk / 1e3 / (double)n);
	printf("  full report (text):           %8.3f s  (%6.2f us/ticket)  %6.2fx the table read\n", report[0] / 1e9,
	       report[0] / 1e3 / (double)n, report[0] / walk);
	printf("  ... with business hours:      %8.3f s  (%6.2f us/ticket)  %6.2fx the table read\n", report[1] / 1e9,
	       report[1] / 1e3 / (double)n, report[1] / walk);
	close_fixture();
	sg_calendar_free(&cal);
	return 0;
}
