/*
 * test-outbound — the outbound worker on a real store in a temp dir:
 * which relays count as loopback (plain SMTP without STARTTLS), and, with
 * delivery refused by a closed 127.0.0.1 port, what a pass reads and
 * changes: per-ticket order, deferral, dead letters and retry in the
 * due-time index, a store from before the index.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "outbound/outbound.h"
#include "outbound/queue.h"
#include "sched/due.h"
#include "store/store.h"
#include "tap.h"

static const char *dir;     /* sg_test_dir() */

static void
test_loopback(void)
{
	static const struct {
		const char *url;
		int local;
	} cases[] = {
		{ "smtp://localhost:25", 1 },
		{ "smtp://localhost", 1 },
		{ "smtp://LocalHost:25", 1 },
		{ "smtp://127.0.0.1:2525", 1 },
		{ "smtp://127.5.5.5", 1 },
		{ "smtp://[::1]", 1 },
		{ "smtp://[::1]:25", 1 },
		{ "smtps://localhost:465", 1 },
		{ "smtp://localhost.evil.example", 0 },
		{ "smtp://localhost.evil.example:25", 0 },
		{ "smtp://127.0.0.1.evil.example", 0 },
		{ "smtp://127.evil.example", 0 },
		{ "smtp://localhost@evil.example:25", 0 },
		{ "smtp://user:localhost@relay.example", 0 },
		{ "smtp://relay.example/localhost", 0 },
		{ "smtp://128.0.0.1", 0 },
		{ "smtp://10.127.0.1", 0 },
		{ "smtp://[::2]", 0 },
		{ "smtp://[::1].evil.example", 0 },
		{ "smtp://relay.example", 0 },
		{ "not a url", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(sg_outbound_is_loopback(cases[i].url), cases[i].local, "loopback: '%s' -> %d", cases[i].url,
		       cases[i].local);
}

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

static struct sg_conf *
load_conf(int port)
{
	struct sg_diag errs = { 0 };
	char *path = sg_xasprintf("%s/sg.conf", dir);
	FILE *fp = fopen(path, "w");
	struct sg_conf *c;

	if (fp == NULL)
		return NULL;
	fprintf(fp, "support_address = {\"support@example.com\"}\nstate_dir = \"%s\"\n"
		"smtp_relay = \"smtp://127.0.0.1:%d\"\noutbound_retry_min = 60\noutbound_max_age = 1\n", dir, port);
	fclose(fp);
	c = sg_conf_load(path, &errs);
	free(path);
	return c;
}

/* Queue one job in its own transaction: ticket, created and due times. */
static uint64_t
add_job(struct sg_store *st, uint64_t ticket, int64_t created, int64_t due)
{
	struct sg_txn *txn;
	struct sg_job j = { 0 };

	j.ticket = ticket;
	j.created = created;
	j.due = due;
	j.what = "notice";
	j.mail_from = "support@example.com";
	sg_strlist_add(&j.rcpts, "c@customer.example", 0);
	j.payload = "Subject: x\r\n\r\nbody\r\n";
	j.payload_len = strlen(j.payload);
	if (sg_store_txn_begin(st, &txn) != 0 || sg_queue_add(st, txn, &j) != 0 || sg_store_txn_commit(&txn) != 0)
		j.id = 0;
	sg_strlist_clear(&j.rcpts);
	return j.id;
}

static int
scan_cb(const struct sg_due_entry *e, void *arg)
{
	char *buf = arg;
	size_t len = strlen(buf);

	snprintf(buf + len, 512 - len, "%llu,", (unsigned long long)e->id);
	return 0;
}

/* The job ids a scan at now returns, "1,2,". */
static const char *
due_ids(struct sg_store *st, int64_t now)
{
	static char buf[512];

	buf[0] = '\0';
	if (sg_due_scan(st, SG_DUE_JOB, now, 100, scan_cb, buf) != 0)
		return "(error)";
	return buf;
}

static uint64_t
head_of(struct sg_store *st, uint64_t ticket)
{
	uint64_t id = 0;
	return sg_queue_head(st, NULL, ticket, &id) == 0 ? id : 0;
}

static struct sg_job
job(struct sg_store *st, uint64_t id)
{
	struct sg_job j = { 0 };
	if (sg_store_job_get(st, NULL, id, &j) != 0)
		j.id = 0;
	return j;
}

static int
has_job(struct sg_store *st, uint64_t id)
{
	struct sg_job j = job(st, id);
	int found = j.id != 0;

	sg_job_clear(&j);
	return found;
}

/* A transition of queue.c on job id in its own transaction. */
static int
change(struct sg_store *st, uint64_t id, int what, int64_t now)
{
	struct sg_txn *txn;
	struct sg_job j;
	int rc;

	if ((rc = sg_store_txn_begin(st, &txn)) != 0)
		return rc;
	if ((rc = sg_store_job_get(st, txn, id, &j)) == 0) {
		rc = what == 'r' ? sg_queue_retry(st, txn, &j, now) : what == 'x' ? sg_queue_remove(st, txn, &j)
			: what == 'd' ? sg_queue_dead(st, txn, &j) : sg_queue_defer(st, txn, &j, now);
		sg_job_clear(&j);
	}
	if (rc != 0) {
		sg_store_txn_abort(&txn);
		return rc;
	}
	return sg_store_txn_commit(&txn);
}

/* Per-ticket order: an older deferred job of ticket 5 holds back a newer
 * due one of ticket 5, not the due one of ticket 6. */
static void
test_ticket_order(struct sg_store *st, const struct sg_conf *c)
{
	int64_t now = (int64_t)time(NULL);
	uint64_t a = add_job(st, 5, now, now + 3600), b = add_job(st, 5, now, now - 10), d = add_job(st, 6, now, now - 5);
	struct sg_outbound_stats s;
	struct sg_job j;

	ok(a && b && d && a < b && b < d, "order: jobs 5a (deferred), 5b (due), 6 (due)");
	is_int((long long)head_of(st, 5), (long long)a, "order: ticket 5's head is its oldest job");
	is_int((long long)head_of(st, 6), (long long)d, "order: ticket 6's head");
	is_int((long long)head_of(st, 7), 0, "order: a ticket without jobs has no head");
	char want[64];
	snprintf(want, sizeof(want), "%llu,%llu,", (unsigned long long)b, (unsigned long long)d);
	is_str(due_ids(st, now), want, "order: only the due jobs are due");
	ok(sg_outbound_run_once(st, c, &s) == 0, "order: a pass");
	is_int(s.deferred, 1, "order: one job tried (and refused)");
	is_int(s.waiting, 1, "order: one held behind its ticket");
	j = job(st, d);
	ok(j.attempts == 1 && j.due > now && j.last_error != NULL,
	   "order: ticket 6's job was tried and deferred");
	sg_job_clear(&j);
	j = job(st, b);
	is_int(j.attempts, 0, "order: ticket 5's newer job was not tried");
	is_int(j.due, now + 3600, "order: ... and waits until the older one is due");
	sg_job_clear(&j);
	is_str(due_ids(st, now + 30), "", "order: nothing due any more (backoff 60 s +-20%%)");
	ok(sg_outbound_run_once(st, c, &s) == 0 && s.deferred + s.waiting + s.sent + s.dead == 0,
	   "order: a second pass reads nothing");
	ok(change(st, a, 'x', 0) == 0 && head_of(st, 5) == b, "order: drop the older job: the newer is the head");
	ok(change(st, b, 'x', 0) == 0 && change(st, d, 'x', 0) == 0 && head_of(st, 5) == 0 && head_of(st, 6) == 0,
	   "order: dropped jobs leave the ticket index");
	is_str(due_ids(st, INT64_MAX), "", "order: ... and the due index");
}

/* Dead letters leave both indexes (and hold nothing back); retry puts a
 * job back; a queued job is due again at its deferral. */
static void
test_dead_retry(struct sg_store *st, const struct sg_conf *c)
{
	int64_t now = (int64_t)time(NULL);
	/* created 2 h ago, outbound_max_age = 1 h: the refusal kills it */
	uint64_t e = add_job(st, 8, now - 7200, now - 1);
	struct sg_outbound_stats s;
	struct sg_job j;
	char want[64];

	ok(e && sg_outbound_run_once(st, c, &s) == 0 && s.dead == 1, "dead: too old and refused: dead letter");
	j = job(st, e);
	is_int(j.state, SG_JOB_DEAD, "dead: kept as dead");
	sg_job_clear(&j);
	is_str(due_ids(st, INT64_MAX), "", "dead: out of the due index");
	is_int((long long)head_of(st, 8), 0, "dead: out of the ticket index");
	uint64_t f = add_job(st, 8, now, now - 1);
	ok(f && sg_outbound_run_once(st, c, &s) == 0 && s.deferred == 1 && s.waiting == 0,
	   "dead: a dead letter does not hold back its ticket's next job");
	ok(change(st, f, 'x', 0) == 0, "drop: that job");
	ok(change(st, e, 'r', now) == 0, "retry: a dead letter");
	j = job(st, e);
	ok(j.state == SG_JOB_QUEUED && j.due == now, "retry: queued, due now");
	sg_job_clear(&j);
	snprintf(want, sizeof(want), "%llu,", (unsigned long long)e);
	is_str(due_ids(st, now), want, "retry: back in the due index");
	is_int((long long)head_of(st, 8), (long long)e, "retry: and at the head of its ticket again");
	ok(change(st, e, 'f', now + 500) == 0, "defer: to a later time");
	is_str(due_ids(st, now + 499), "", "defer: not due before it");
	is_str(due_ids(st, now + 500), want, "defer: due at it, once");
	ok(change(st, e, 'd', 0) == 0 && change(st, e, 'f', now) == SG_STORE_ERROR, "defer: refused for a dead letter");
	ok(change(st, e, 'x', 0) == 0, "drop: a dead letter");
	ok(!has_job(st, e) && strcmp(due_ids(st, INT64_MAX), "") == 0 && head_of(st, 8) == 0, "drop: nothing left");
}

/* A job and its index entries commit together: abort, or kill -9 before
 * the commit, leaves neither; after the commit, both. */
static void
test_atomic(const char *sd)
{
	struct sg_store *st;
	struct sg_txn *txn;
	struct sg_job j = { .ticket = 9, .due = 1, .what = "x", .payload = "", .mail_from = "a@b" };

	ok(sg_store_open(sd, 0, &st) == 0 && sg_store_txn_begin(st, &txn) == 0 && sg_queue_add(st, txn, &j) == 0,
	   "atomic: a job added in a transaction");
	sg_store_txn_abort(&txn);
	ok(!has_job(st, j.id), "atomic: abort: no job");
	is_str(due_ids(st, INT64_MAX), "", "atomic: abort: no due entry");
	is_int((long long)head_of(st, 9), 0, "atomic: abort: no ticket entry");
	sg_store_close(&st);
	for (int commit = 0; commit < 2; commit++) {
		int status;
		pid_t pid = fork();
		if (pid == 0) {
			struct sg_job k = { .ticket = 9, .due = 1, .what = "x", .payload = "", .mail_from = "a@b" };
			if (sg_store_open(sd, 0, &st) != 0 || sg_store_txn_begin(st, &txn) != 0 || sg_queue_add(st, txn, &k) != 0)
				_exit(2);
			if (commit && sg_store_txn_commit(&txn) != 0)
				_exit(3);
			kill(getpid(), SIGKILL);
			_exit(4);
		}
		waitpid(pid, &status, 0);
		ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "atomic: child killed %s commit",
		   commit ? "after" : "before");
		ok(sg_store_open(sd, 0, &st) == 0, "atomic: store opens after the kill");
		const char *ids = due_ids(st, INT64_MAX);
		uint64_t h = head_of(st, 9);
		if (commit)
			ok(h != 0 && has_job(st, h) && strtoull(ids, NULL, 10) == h && strchr(ids, ',')[1] == '\0',
			   "atomic: committed: job, due entry and ticket entry (%s)", ids);
		else
			ok(strcmp(ids, "") == 0 && h == 0, "atomic: killed before commit: no entry of it either");
		sg_store_close(&st);
	}
}

/* Jobs written by an older release (no index entries): the first pass
 * indexes them once, then delivers as usual. */
static void
test_reindex(const char *sd, const struct sg_conf *c)
{
	struct sg_store *st;
	struct sg_txn *txn;
	struct sg_outbound_stats s;
	int64_t now = (int64_t)time(NULL);
	struct sg_job due = { .ticket = 3, .created = now, .due = now - 1, .what = "x", .payload = "", .mail_from = "a@b" };
	struct sg_job later = due, dead = due;
	uint64_t v = 0;

	later.due = now + 3600;
	dead.state = SG_JOB_DEAD;
	sg_strlist_add(&due.rcpts, "c@customer.example", 0);
	ok(sg_store_open(sd, 0, &st) == 0 && sg_store_txn_begin(st, &txn) == 0 && sg_store_job_add(st, txn, &dead) == 0 &&
	   sg_store_job_add(st, txn, &later) == 0 && sg_store_job_add(st, txn, &due) == 0 &&
	   sg_store_txn_commit(&txn) == 0, "reindex: three jobs written without the indexes");
	is_str(due_ids(st, INT64_MAX), "", "reindex: not indexed");
	ok(sg_outbound_run_once(st, c, &s) == 0, "reindex: the first pass");
	is_int(s.waiting, 1, "reindex: the due job waits behind the older queued one of its ticket");
	char want[64];
	snprintf(want, sizeof(want), "%llu,%llu,", (unsigned long long)later.id, (unsigned long long)due.id);
	is_str(due_ids(st, INT64_MAX), want, "reindex: the queued jobs are indexed, the dead one not");
	is_int((long long)head_of(st, 3), (long long)later.id, "reindex: ticket order indexed");
	ok(sg_store_meta_get(st, NULL, SG_META_JOBIDX, &v) == 0 && v == SG_JOBIDX_VERSION, "reindex: recorded as done");
	sg_strlist_clear(&due.rcpts);
	sg_store_close(&st);
}

/* The table's functions share what main sets up: the configuration (a
 * relay on a closed port), a store for the queue tests, state dirs for the
 * two that open their own. */
static struct sg_conf *conf;
static struct sg_store *queue_st;
static char *atomic_dir, *reindex_dir;

static void ticket_order(void) { test_ticket_order(queue_st, conf); }
static void dead_retry(void) { test_dead_retry(queue_st, conf); }
static void atomic(void) { test_atomic(atomic_dir); }
static void reindex(void) { test_reindex(reindex_dir, conf); }

/* Retries wait outbound_retry_min, then twice as long each time (+-20%
 * jitter) up to an hour; never less than a second. */
static void
test_backoff(void)
{
	struct sg_conf c = { 0 };
	int in_band = 1, grows = 1;
	int64_t prev = 0;

	c.outbound_retry_min = 60;
	for (uint32_t n = 1; n <= 10; n++) {
		int64_t want = 60LL << (n - 1) > 3600 ? 3600 : 60LL << (n - 1);
		int64_t lo = want - want / 5, hi = want + want / 5, min = INT64_MAX, max = 0;
		for (int k = 0; k < 200; k++) {
			int64_t w = sg_outbound_backoff(&c, n);
			min = w < min ? w : min;
			max = w > max ? w : max;
		}
		in_band &= min >= lo && max <= hi;
		/* doubling (not x1) until the ceiling: the lowest draw beats the last highest */
		if (n > 1 && want < 3600)
			grows &= min > prev * 3 / 2 - prev / 5;
		prev = max;
		if (n == 10)
			ok(max <= 4320, "the ceiling holds after 10 attempts (max %lld s)", (long long)max);
	}
	ok(in_band, "every wait within +-20%% of retry_min * 2^(n-1), capped at an hour");
	ok(grows, "the wait doubles from one attempt to the next until the ceiling");
	c.outbound_retry_min = 1;
	ok(sg_outbound_backoff(&c, 1) >= 1, "never less than a second");
}

static const struct sg_test tests[] = {
	{ "backoff", test_backoff },
	{ "loopback", test_loopback },
	{ "ticket-order", ticket_order },
	{ "dead-retry", dead_retry },
	{ "atomic", atomic },
	{ "reindex", reindex },
};

int
main(void)
{
	int fd, port, rc;

	sg_log_open_stderr("test-outbound");
	sg_log_set_level(SG_LOG_ERROR);
	dir = sg_test_dir();
	if ((port = closed_port(&fd)) < 0 || (conf = load_conf(port)) == NULL)
		return 1;
	char *s1 = sg_xasprintf("%s/s1", dir);
	atomic_dir = sg_xasprintf("%s/s2", dir);
	reindex_dir = sg_xasprintf("%s/s3", dir);
	plan_lazy();
	ok(sg_store_open(s1, SG_STORE_NOSYNC, &queue_st) == 0, "store");
	rc = SG_TEST_RUN(tests);
	sg_store_close(&queue_st);
	close(fd);
	sg_conf_unref(&conf);
	free(s1);
	free(atomic_dir);
	free(reindex_dir);
	return rc;
}
