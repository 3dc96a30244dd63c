/*
 * bench-store — lookup cost as the store grows, and ingest cost against
 * the cost of parsing the same message, all measured in one run.
 *
 * Figures are ratios against baselines taken in the same run (machines
 * differ; ratios travel): lookups at 10k and 100k tickets against the
 * same lookups at 1k (flat = about 1.0x); a full ingest (parse + threading
 * + one transaction) against the GMime parse of the same message.
 * Usage: bench-store [MAX_TICKETS]   (default 100000)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "mail/token.h"
#include "tests/unit/fixture.h"

/* Tickets from..to-1 in st, one message each, 1,000 per transaction. */
static void
fill(uint64_t from, uint64_t to)
{
	struct sg_txn *txn = NULL;

	for (uint64_t i = from; i < to; i++) {
		if (txn == NULL)
			sg_store_txn_begin(st, &txn);
		struct sg_ticket t = { 0 };
		struct sg_msgrec m = { 0 };
		char mid[64], subj[64];
		sg_store_ticket_new_id(st, txn, &t.id);
		snprintf(mid, sizeof(mid), "bench-%llu@customer.example", (unsigned long long)i);
		snprintf(subj, sizeof(subj), "[ACME #%llu] request %llu", (unsigned long long)t.id, (unsigned long long)i);
		t.subject = subj;
		t.requestor = "bench@customer.example";
		t.nmessages = 1;
		m.ticket = t.id;
		m.message_id = mid;
		m.from = "bench@customer.example";
		m.subject = subj;
		sg_store_message_add(st, txn, &m, "x", 1);
		sg_store_ticket_put(st, txn, &t);
		if ((i + 1) % 1000 == 0)
			sg_store_txn_commit(&txn);
	}
	if (txn != NULL)
		sg_store_txn_commit(&txn);
}

/* ns per lookup in st by Message-ID and by token (find + ticket read). */
static void
measure(uint64_t n, double *by_msgid, double *by_token)
{
	const int reps = 20000;
	uint64_t tid;
	uint32_t seq;
	unsigned seed = 12345;
	double t0 = now_ns();

	for (int r = 0; r < reps; r++) {
		char mid[64];
		uint64_t i = (uint64_t)rand_r(&seed) % n;
		snprintf(mid, sizeof(mid), "bench-%llu@customer.example", (unsigned long long)i);
		if (sg_store_msgid_lookup(st, NULL, mid, &tid, &seq) != 0)
			abort();
	}
	*by_msgid = (now_ns() - t0) / reps;
	t0 = now_ns();
	for (int r = 0; r < reps; r++) {
		char subj[64];
		uint64_t id;
		int check;
		struct sg_ticket t;
		snprintf(subj, sizeof(subj), "Re: [ACME #%llu] request", (unsigned long long)(1 + (uint64_t)rand_r(&seed) % n));
		if (sg_token_find(subj, "ACME", NULL, 0, &id, &check) != 1 || sg_store_ticket_get(st, NULL, id, &t) != 0)
			abort();
		sg_ticket_clear(&t);
	}
	*by_token = (now_ns() - t0) / reps;
}

int
main(int argc, char **argv)
{
	uint64_t max = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	const char *dir = sg_test_dir();
	static const uint64_t sizes[] = { 1000, 10000, 100000, 1000000 };
	double base_m = 0, base_t = 0;

	sg_log_open_stderr("bench-store");
	sg_log_set_level(SG_LOG_ERROR);
	if (sg_store_open(dir, SG_STORE_NOSYNC, &st) != 0)
		return 1;

	printf("lookup cost as the store grows (baseline: the same lookups at 1k tickets)\n");
	printf("%10s %14s %8s %14s %8s\n", "tickets", "msgid ns/op", "ratio", "token ns/op", "ratio");
	uint64_t have = 0;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]) && sizes[i] <= max; i++) {
		fill(have, sizes[i]);
		have = sizes[i];
		double m, t;
		measure(have, &m, &t);
		if (i == 0) {
			base_m = m;
			base_t = t;
		}
		printf("%10llu %14.0f %7.2fx %14.0f %7.2fx\n", (unsigned long long)have, m, m / base_m, t, t / base_t);
	}

	/* Ingest against parse, same message, same run. */
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/ing\"\n", dir);
	struct sg_store *st2;
	char *sd = sg_xasprintf("%s/ing", dir);
	if (conf == NULL || sg_store_open(sd, 0, &st2) != 0)
		return 1;
	const int n = 2000;
#define BODY "From: Alice <alice@customer.example>\r\nTo: support@example.com\r\n" \
			   "Subject: =?UTF-8?B?0J3QtSDRgNCw0LHQvtGC0LDQtdGC?= invoice\r\nMessage-ID: <%d@bench>\r\n" \
			   "Date: Sun, 22 Nov 2026 09:12:00 +0100\r\nMIME-Version: 1.0\r\n" \
			   "Content-Type: text/plain; charset=utf-8\r\n\r\nHello, the invoice is wrong.\r\n"
	double tp = now_ns();
	for (int i = 0; i < n; i++) {
		char *raw = sg_xasprintf(BODY, i);
		struct sg_msginfo *mi;
		sg_message_parse(raw, strlen(raw), &mi);
		sg_msginfo_free(&mi);
		free(raw);
	}
	double parse = (now_ns() - tp) / n;
	const char *rc[1] = { "support@example.com" };
	double modes[2];
	for (int sync = 0; sync < 2; sync++) {
		if (sync == 0) {
			sg_store_close(&st2);
			sg_store_open(sd, SG_STORE_NOSYNC, &st2);
		} else {
			sg_store_close(&st2);
			sg_store_open(sd, 0, &st2);
		}
		double ti = now_ns();
		for (int i = 0; i < n; i++) {
			char *raw = sg_xasprintf(BODY, i + (sync + 1) * 100000);
			struct sg_ingest_in in = { .raw = raw, .len = strlen(raw), .env_from = "alice@customer.example",
						   .env_rcpt = rc, .nrcpt = 1, .door = SG_DOOR_CLI };
			struct sg_decision d;
			sg_ingest(st2, conf, &in, &d);
			sg_decision_clear(&d);
			free(raw);
		}
		modes[sync] = (now_ns() - ti) / n;
	}
	printf("\ningest of one new-ticket message (baseline: GMime parse of it, %.1f us)\n", parse / 1000);
	printf("  ingest, db_sync = false: %8.1f us  %6.1fx parse\n", modes[0] / 1000, modes[0] / parse);
	printf("  ingest, db_sync = true:  %8.1f us  %6.1fx parse  (one fsync per message)\n", modes[1] / 1000, modes[1] / parse);

	sg_store_close(&st2);
	close_fixture();
	free(sd);
	return 0;
}
