/*
 * bench-metrics — what one write of metrics_file costs as the store
 * grows: the exposition (counters + gauges: one pass over tickets.db and
 * one over jobs.db) against a bare walk of the tickets table in the same
 * run (a ratio near 1.0x: the gauges cost what reading the tickets
 * costs), and the counters alone (the per-message path adds one relaxed
 * atomic add; the render of counters is independent of the store).
 * Usage: bench-metrics [TICKETS]   (default 100000)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "metrics/metrics.h"
#include "tests/unit/fixture.h"

static void
fill(uint64_t n)
{
	struct sg_txn *txn = NULL;
	static const char *const queues[] = { "default", "billing", "tech", "sales" };

	for (uint64_t i = 0; i < n; i++) {
		if (txn == NULL)
			sg_store_txn_begin(st, &txn);
		struct sg_ticket t = { 0 };
		sg_store_ticket_new_id(st, txn, &t.id);
		t.subject = "request";
		t.requestor = "bench@customer.example";
		t.queue = (char *)queues[i % 4];
		t.status = (enum sg_status)(i % SG_ST_COUNT);
		t.created = t.updated = 1700000000;
		sg_store_ticket_put(st, txn, &t);
		if (i % 1000 == 999 || i + 1 == n)
			sg_store_txn_commit(&txn);
	}
}

static int
nothing(const struct sg_ticket *t, void *arg)
{
	(*(uint64_t *)arg) += t->id & 1;
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	const char *dir = sg_test_dir();
	char *state = sg_xasprintf("%s/state", dir);
	char *path = sg_xasprintf("%s/sg.prom", dir);

	sg_log_open_stderr("bench-metrics");
	sg_log_set_level(SG_LOG_ERROR);
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s\"\n", state);
	if (open_store() != 0)
		return 1;
	fill(n);
	uint64_t sink = 0, t0 = now_ns();
	for (int r = 0; r < 3; r++)
		sg_store_ticket_foreach(st, nothing, &sink);
	double walk = (double)(now_ns() - t0) / 3e9;
	t0 = now_ns();
	for (int r = 0; r < 3; r++)
		sg_metrics_write(st, path, 1700000000);
	double write = (double)(now_ns() - t0) / 3e9;
	char *text = NULL;
	t0 = now_ns();
	for (int r = 0; r < 1000; r++) {
		sg_metrics_render(NULL, 1700000000, &text);
		free(text);
	}
	double counters = (double)(now_ns() - t0) / 1000e9;
	t0 = now_ns();
	for (int r = 0; r < 10000000; r++)
		sg_metrics_milter(SG_MX_ACCEPT);
	double inc_ns = (double)(now_ns() - t0) / 1e7;
	printf("metrics write with %llu tickets: %.3f s; bare walk of the tickets: %.3f s (%.2fx)\n",
	       (unsigned long long)n, write, walk, walk > 0 ? write / walk : 0.0);
	printf("counters alone: %.1f us per render; one counter increment: %.1f ns\n", counters * 1e6, inc_ns);
	close_fixture();
	free(state);
	free(path);
	return sink == UINT64_MAX;
}
