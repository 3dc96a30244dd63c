/*
 * bench-outbound — the cost of one outbound worker pass as deferred jobs
 * pile up: the same pass over a queue holding 10 deferred jobs and one
 * holding 100,000 (none of them due), measured in one run.
 *
 * Each measured pass finds a few jobs due (queued just before it, each on
 * a ticket of its own) plus one due job held back behind an older deferred
 * job of its ticket. Delivery is real (sg_outbound_deliver through
 * libcurl) to smtp_relay = a 127.0.0.1 port that is bound but not
 * listening, so every attempt is refused at once and ends deferred: the
 * pass is "find what is due + try it + record the deferral", with no
 * network wait in it. The due jobs of earlier passes stay queued (not
 * due), so the small queue grows by DUE per pass (10 -> 10 + DUE * passes).
 *
 * Figure: pass(N) / pass(10), median of PASSES passes each; flat = about
 * 1.0x. Stores are opened with SG_STORE_NOSYNC (commits are not flushed)
 * so disk flushes do not drown the difference.
 * Usage: bench-outbound [N]   (default 100000)
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "outbound/outbound.h"
#include "outbound/queue.h"
#include "tests/unit/fixture.h"

#define DUE 3           /* due jobs queued before each pass */
#define PASSES 9        /* measured passes (after one warm-up pass) */
#define BLOCKED_TICKET 1

/* A 127.0.0.1 port that refuses connections: bound, never listening. */
static int
closed_port(int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((*fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || bind(*fd, (struct sockaddr *)&a, len) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	return ntohs(a.sin_port);
}

static char *
payload(size_t *len)
{
	char *p = sg_xasprintf("From: Support <support@example.com>\r\nTo: <customer@customer.example>\r\n"
			       "Subject: [ACME #1] We received your request\r\nMessage-ID: <ack.1@example.com>\r\n"
			       "Auto-Submitted: auto-replied\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s",
			       "Thank you for writing to us. This is an automatic reply: your request has a ticket "
			       "number now, please keep it in the subject when you write again.\r\n");
	size_t n = strlen(p);

	/* about 1 KiB, the size of a rendered acknowledgement */
	while (n < 1000) {
		char *q = sg_xasprintf("%s> quoted line of the customer's message, %zu\r\n", p, n);
		free(p);
		p = q;
		n = strlen(p);
	}
	*len = n;
	return p;
}

/* n deferred jobs in st (two per ticket), none due for a day. */
static void
fill(size_t n, int64_t now)
{
	struct sg_txn *txn = NULL;
	size_t len;
	char *msg = payload(&len);

	for (size_t i = 0; i < n; i++) {
		struct sg_job j = { 0 };
		if (txn == NULL && sg_store_txn_begin(st, &txn) != 0)
			abort();
		j.ticket = BLOCKED_TICKET + i / 2;
		j.kind = SG_JOB_SMTP;
		j.created = now - 60;
		j.due = now + 86400;
		j.attempts = 1;
		j.last_error = "451 try again later";
		j.what = "acknowledgement";
		j.mail_from = "support@example.com";
		sg_strlist_add(&j.rcpts, "customer@customer.example", 0);
		j.payload = msg;
		j.payload_len = len;
		if (sg_queue_add(st, txn, &j) != 0)
			abort();
		sg_strlist_clear(&j.rcpts);
		if ((i + 1) % 1000 == 0 && sg_store_txn_commit(&txn) != 0)
			abort();
	}
	if (txn != NULL && sg_store_txn_commit(&txn) != 0)
		abort();
	free(msg);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Median ns of one pass over st with DUE due jobs (+1 held back) queued
 * before it. */
static double
measure(uint64_t *next_ticket)
{
	double t[PASSES];
	size_t len;
	char *msg = payload(&len);

	for (int p = -1; p < PASSES; p++) {
		struct sg_txn *txn;
		struct sg_outbound_stats s;
		int64_t now = (int64_t)time(NULL);

		if (sg_store_txn_begin(st, &txn) != 0)
			abort();
		for (int k = 0; k < DUE; k++)
			if (sg_queue_mail(st, txn, (*next_ticket)++, "notice", "support@example.com",
					  "customer@customer.example", msg, len, now, NULL) != 0)
				abort();
		if (sg_queue_mail(st, txn, BLOCKED_TICKET, "notice", "support@example.com", "customer@customer.example",
				  msg, len, now, NULL) != 0 || sg_store_txn_commit(&txn) != 0)
			abort();
		double t0 = now_ns();
		if (sg_outbound_run_once(st, conf, &s) != 0 || s.deferred != DUE || s.sent != 0) {
			fprintf(stderr, "pass: sent %u, deferred %u (want %d)\n", s.sent, s.deferred, DUE);
			abort();
		}
		if (p >= 0)
			t[p] = now_ns() - t0;
		if (getenv("SG_BENCH_VERBOSE"))
			fprintf(stderr, "pass %d: %.3f ms\n", p, (now_ns() - t0) / 1e6);
	}
	free(msg);
	qsort(t, PASSES, sizeof(t[0]), cmp_double);
	return t[PASSES / 2];
}

int
main(int argc, char **argv)
{
	size_t big = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
	static const size_t small = 10;
	const char *dir = sg_test_dir();
	int fd, port;
	uint64_t next_ticket = 1000000000;
	double pass[2];

	sg_log_open_stderr("bench-outbound");
	sg_log_set_level(SG_LOG_ERROR);
	if ((port = closed_port(&fd)) < 0)
		return 1;
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s\"\n"
			 "smtp_relay = \"smtp://127.0.0.1:%d\"\noutbound_retry_min = 600\n", dir, port);
	if (conf == NULL)
		return 1;
	for (int i = 0; i < 2; i++) {
		char *sd = sg_xasprintf("%s/s%d", dir, i);
		double t0 = now_ns();
		struct sg_outbound_stats s;
		/* a first pass on the empty store, as a daemon started on a new
		 * store makes: one-time set-up (if any) is not in the figures */
		if (sg_store_open(sd, SG_STORE_NOSYNC, &st) != 0 || sg_outbound_run_once(st, conf, &s) != 0)
			return 1;
		fill(i == 0 ? small : big, (int64_t)time(NULL));
		if (i == 1)
			printf("(filled %zu deferred jobs in %.1f s)\n", big, (now_ns() - t0) / 1e9);
		pass[i] = measure(&next_ticket);
		sg_store_close(&st);
		free(sd);
	}
	printf("outbound worker pass: %d due jobs (+1 held behind an older job of its ticket), relay refusing\n", DUE);
	printf("%16s %16s %8s\n", "deferred jobs", "pass (median)", "ratio");
	printf("%16zu %13.2f ms %7.2fx\n", small, pass[0] / 1e6, 1.0);
	printf("%16zu %13.2f ms %7.2fx\n", big, pass[1] / 1e6, pass[1] / pass[0]);
	printf("pass(%zu)/pass(%zu) = %.2f\n", big, small, pass[1] / pass[0]);
	close(fd);
	close_fixture();
	return 0;
}
