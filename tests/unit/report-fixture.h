/*
 * report-fixture.h — the 22 tickets of supportgate report's tests, shared
 * by tests/unit/test-report.c (which holds the expected numbers and how
 * they were worked out) and tests/helpers/report-fill.c (which writes them
 * into a store for tests/integration/t-report.sh). Needs fixture.h first
 * (st: the open store).
 *
 * The week: Monday 2026-11-02 00:00 UTC (T0) to the next Monday; the
 * reports are made as of that Monday 12:00. Business hours (the tests'
 * calendar): Monday to Friday 09:00-17:00 UTC, Wednesday 2026-11-04 a
 * holiday; paused_b is the business part of each pause on it.
 */
#ifndef SG_REPORT_FIXTURE_H
#define SG_REPORT_FIXTURE_H

#define T0 1793577600LL   /* 2026-11-02 00:00:00 UTC, a Monday */
#define DAY 86400LL
#define ANNA "anna@example.com"
#define BORIS "boris@example.com"
#define IRINA "\xd0\xb8\xd1\x80\xd0\xb8\xd0\xbd\xd0\xb0@example.com"   /* ирина@ */

struct fx {
	int id, created;          /* minutes from T0 */
	enum sg_status status;
	const char *queue, *segment, *tier, *agent;
	int fr;                   /* first response, minutes after created; -1 none */
	int fr_due, due;          /* minutes after created; 0 none */
	int resolved, closed;     /* minutes after created; 0 none */
	int paused_since;         /* minutes from T0; 0 none */
	int paused, paused_b;     /* minutes */
	int reopens, fired, rating;
	const char *reason;
	int transfers;
};

/* the fixture: times in minutes from T0 (Monday 2026-11-02 00:00 UTC) */
static const struct fx fixture[] = {
	{ 1, 540, SG_ST_RESOLVED, "billing", "enterprise", "gold", ANNA, 30, 60, 480, 240, 0, 0, 0, 0, 0, 0, 5, NULL, 0 },
	{ 2, 600, SG_ST_CLOSED, "billing", "enterprise", "gold", ANNA, 90, 60, 480, 600, 2040, 0, 0, 0, 0, 15, 2, NULL, 0 },
	{ 3, 1920, SG_ST_RESOLVED, "tech", "retail", "silver", BORIS, 120, 240, 1440, 1800, 0, 0, 480, 300, 0, 0, 4, NULL, 1 },
	{ 4, 2160, SG_ST_OPEN, "tech", "retail", "silver", BORIS, 20, 240, 1440, 0, 0, 0, 0, 0, 0, 12, 0, "waiting on another team", 3 },
	{ 5, 3360, SG_ST_PENDING, "tech", "enterprise", "gold", IRINA, 300, 60, 480, 0, 0, 3720, 0, 0, 0, 3, 0, NULL, 0 },
	{ 6, 3720, SG_ST_NEW, "billing", "retail", NULL, NULL, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0 },
	{ 7, 4860, SG_ST_RESOLVED, NULL, "retail", "silver", ANNA, 10, 240, 1440, 120, 0, 0, 0, 0, 1, 0, 3, NULL, 2 },
	{ 8, 4980, SG_ST_CLOSED, "tech", "enterprise", "gold", BORIS, 45, 60, 480, 360, 1800, 0, 0, 0, 0, 0, 5, NULL, 0 },
	{ 9, 6720, SG_ST_RESOLVED, "billing", "enterprise", "gold", IRINA, 180, 60, 480, 1200, 0, 0, 0, 0, 0, 15, 1, NULL, 1 },
	{ 10, 8160, SG_ST_OPEN, "tech", "retail", "silver", ANNA, 1560, 240, 1440, 0, 0, 0, 0, 0, 0, 15, 0, "no agent reply", 4 },
	{ 11, 9840, SG_ST_NEW, "billing", "retail", "silver", NULL, -1, 240, 1440, 0, 0, 0, 0, 0, 0, 3, 0, NULL, 0 },
	{ 12, 9180, SG_ST_CLOSED, "tech", "enterprise", "gold", BORIS, 15, 60, 480, 60, 120, 0, 0, 0, 0, 0, 4, NULL, 0 },
	{ 13, 1380, SG_ST_RESOLVED, "billing", "retail", "silver", IRINA, 480, 240, 1440, 2400, 0, 0, 0, 0, 2, 15, 2, NULL, 0 },
	{ 14, 6240, SG_ST_RESOLVED, "tech", "retail", NULL, ANNA, 60, 0, 0, 180, 0, 0, 0, 0, 0, 0, 0, NULL, 0 },
	{ 15, 8280, SG_ST_OPEN, "billing", "enterprise", "gold", ANNA, 5, 60, 480, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0 },
	{ 16, 2340, SG_ST_CLOSED, NULL, "enterprise", "gold", BORIS, 120, 60, 480, 420, 600, 0, 0, 0, 0, 3, 5, NULL, 1 },
	{ 17, 5100, SG_ST_RESOLVED, "tech", "retail", "silver", IRINA, 240, 240, 1440, 3000, 0, 0, 1800, 660, 0, 0, 4, NULL, 0 },
	{ 18, 9960, SG_ST_OPEN, "billing", "retail", "silver", ANNA, 30, 240, 1440, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0 },
	{ 19, -2280, SG_ST_RESOLVED, "tech", "enterprise", "gold", BORIS, 60, 60, 480, 2760, 0, 0, 0, 0, 0, 12, 3, NULL, 0 },
	{ 20, -4320, SG_ST_OPEN, "billing", "retail", "silver", IRINA, -1, 240, 1440, 0, 0, 0, 0, 0, 0, 12, 0, "waiting on another team", 0 },
	{ 21, 10620, SG_ST_OPEN, "tech", "retail", "silver", BORIS, -1, 240, 1440, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 0 },
	{ 22, 3840, SG_ST_RESOLVED, "billing", "enterprise", "gold", ANNA, 10, 60, 480, 6840, 0, 0, 0, 0, 0, 12, 5, NULL, 0 },
};

static void fill_store(void) __attribute__((unused));
static void
fill_store(void)
{
	struct sg_txn *txn;

	if (sg_store_txn_begin(st, &txn) != 0)
		tap_fatal("txn begin", "store");
	for (size_t i = 0; i < sizeof(fixture) / sizeof(fixture[0]); i++) {
		const struct fx *f = &fixture[i];
		struct sg_ticket t = { 0 };
		int64_t c = T0 + (int64_t)f->created * 60;
		sg_store_ticket_new_id(st, txn, &t.id);
		t.status = f->status;
		t.subject = (char *)"fixture";
		t.requestor = (char *)"customer@example.org";
		t.queue = (char *)f->queue;
		t.segment = (char *)f->segment;
		t.sla_tier = (char *)f->tier;
		t.assignee = (char *)f->agent;
		t.created = t.updated = c;
		t.first_response_at = f->fr >= 0 ? c + f->fr * 60 : 0;
		t.first_response_due = f->fr_due ? c + f->fr_due * 60 : 0;
		t.due = f->due ? c + f->due * 60 : 0;
		t.resolved_at = f->resolved ? c + f->resolved * 60 : 0;
		t.closed_at = f->closed ? c + f->closed * 60 : 0;
		t.paused_since = f->paused_since ? T0 + f->paused_since * 60 : 0;
		t.paused_secs = f->paused * 60;
		t.paused_bsecs = f->paused_b * 60;
		t.reopens = (uint32_t)f->reopens;
		t.sla_fired = (uint8_t)f->fired;
		t.rating = (uint8_t)f->rating;
		t.reason = (char *)f->reason;
		t.transfers = (uint32_t)f->transfers;
		if (sg_store_ticket_put(st, txn, &t) != 0)
			tap_fatal("ticket put", "store");
	}
	if (sg_store_txn_commit(&txn) != 0)
		tap_fatal("txn commit", "store");
}

#endif
