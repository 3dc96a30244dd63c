/*
 * bench-sla — the cost of one SLA timer pass (sg_clock_run_sla, what the
 * daemon's timer thread runs each minute) with 1,000 and with N open
 * tickets whose SLA timers are all scheduled for later, measured in one
 * run.
 *
 * Each measured pass finds DUE tickets whose first-response target has
 * passed (made just before it) and fires them for real: the threshold
 * bit, the sla-breach event, the system's overdue reason, the escalation
 * notices rendered from the shipped templates and queued, the next timer,
 * one transaction each. The N other tickets hold two timers each (first
 * response and resolution) in the due-time index, none due: a pass that
 * scanned tickets would grow with N, the due-index walk does not.
 *
 * Figure: pass(N) / pass(1000), median of PASSES passes each; flat =
 * about 1.0x. Stores are opened with SG_STORE_NOSYNC.
 * Usage: bench-sla [N]   (default 100000; top_srcdir for the templates)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "sched/due.h"
#include "sla/clock.h"
#include "ticket/slatime.h"
#include "tests/unit/fixture.h"

#define DUE 3           /* tickets past their first-response due before each pass */
#define PASSES 9        /* measured passes (after one warm-up pass) */

static const char rules_text[] =
	"agent anna@example.com groups=billing\n"
	"queue billing mailbox=billing@example.com agents=anna@example.com manager=lead@example.com\n"
	"sla gold first-response=1h resolution=10h\n";

/* A ticket of the gold tier created at `created`, open and assigned,
 * its timers in the index where the ticket operations put them. */
static void
add_ticket(struct sg_txn *txn, uint64_t id, int64_t created)
{
	struct sg_ticket t = { 0 };
	struct sg_slatime_next next;

	t.id = id;
	t.status = SG_ST_OPEN;
	t.priority = SG_PRIO_NORMAL;
	t.subject = sg_xstrdup("Invoice 2026-114 shows the wrong VAT rate");
	t.requestor = sg_xstrdup("customer@customer.example");
	t.queue = sg_xstrdup("billing");
	t.assignee = sg_xstrdup("anna@example.com");
	t.sla_tier = sg_xstrdup("gold");
	sg_strlist_add(&t.participants, "customer@customer.example", 0);
	t.created = t.updated = created;
	t.nmessages = 1;
	sg_slatime_compute(conf, &t);
	sg_slatime_next(conf, &t, &next);
	if (sg_store_ticket_put(st, txn, &t) != 0 ||
	    sg_due_set(st, txn, SG_DUE_SLA_FR, id, 0, next.at[SG_SLATIME_FR], 0) != 0 ||
	    sg_due_set(st, txn, SG_DUE_SLA_RES, id, 0, next.at[SG_SLATIME_RES], 0) != 0)
		abort();
	sg_ticket_clear(&t);
}

/* n open tickets, created now: no timer due for 48 minutes. */
static void
fill(size_t n, uint64_t *next_id, int64_t now)
{
	struct sg_txn *txn = NULL;

	for (size_t i = 0; i < n; i++) {
		if (txn == NULL && sg_store_txn_begin(st, &txn) != 0)
			abort();
		add_ticket(txn, (*next_id)++, now);
		if ((i + 1) % 1000 == 0 && sg_store_txn_commit(&txn) != 0)
			abort();
	}
	if (txn != NULL && sg_store_txn_commit(&txn) != 0)
		abort();
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double
measure(uint64_t *next_id)
{
	double t[PASSES];

	for (int p = -1; p < PASSES; p++) {
		struct sg_txn *txn;
		int64_t now = (int64_t)time(NULL);
		size_t fired = 0;

		if (sg_store_txn_begin(st, &txn) != 0)
			abort();
		for (int k = 0; k < DUE; k++)
			add_ticket(txn, (*next_id)++, now - 7200);   /* first response due an hour ago */
		if (sg_store_txn_commit(&txn) != 0)
			abort();
		double t0 = now_ns();
		if (sg_clock_run_sla(st, conf, now, &fired) != 0 || fired != DUE) {
			fprintf(stderr, "pass: fired %zu (want %d)\n", fired, DUE);
			abort();
		}
		if (p >= 0)
			t[p] = now_ns() - t0;
		if (getenv("SG_BENCH_VERBOSE"))
			fprintf(stderr, "pass %d: %.3f ms\n", p, (now_ns() - t0) / 1e6);
	}
	qsort(t, PASSES, sizeof(t[0]), cmp_double);
	return t[PASSES / 2];
}

int
main(int argc, char **argv)
{
	size_t big = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	static const size_t small = 1000;
	const char *dir = sg_test_dir();
	double pass[2];

	sg_log_open_stderr("bench-sla");
	sg_log_set_level(SG_LOG_ERROR);
	free(sg_test_write(dir, "t.rules", rules_text));
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s\"\nticket_tag = \"ACME\"\n"
			 "rules_file = \"%s/t.rules\"\ntemplate_dir = \"%s/templates\"\n", dir, dir, top_srcdir());
	if (conf == NULL || conf->templates == NULL) {
		fprintf(stderr, "bench-sla: no config or templates (set top_srcdir)\n");
		return 1;
	}
	sg_ingest_init();   /* the notice subscribers: escalations are part of a pass */
	for (int i = 0; i < 2; i++) {
		char *sd = sg_xasprintf("%s/s%d", dir, i);
		uint64_t next_id = 1;
		double t0 = now_ns();
		if (sg_store_open(sd, SG_STORE_NOSYNC, &st) != 0)
			return 1;
		fill(i == 0 ? small : big, &next_id, (int64_t)time(NULL));
		printf("(filled %zu open tickets with 2 timers each in %.1f s)\n", i == 0 ? small : big,
		       (now_ns() - t0) / 1e9);
		pass[i] = measure(&next_id);
		sg_store_close(&st);
		free(sd);
	}
	printf("SLA timer pass: %d first-response breaches fired (event, reason, 2 escalation notices each)\n", DUE);
	printf("%16s %16s %8s\n", "open tickets", "pass (median)", "ratio");
	printf("%16zu %13.2f ms %7.2fx\n", small, pass[0] / 1e6, 1.0);
	printf("%16zu %13.2f ms %7.2fx\n", big, pass[1] / 1e6, pass[1] / pass[0]);
	printf("pass(%zu)/pass(%zu) = %.2f\n", big, small, pass[1] / pass[0]);
	close_fixture();
	return 0;
}
