/*
 * bench-ingest — the ingest core without an MTA: N support mails (4 KB,
 * 60% new, 30% replies by References, 10% by subject token) through
 * sg_ingest() from THREADS threads, every mail its own synced commit
 * (durable, as before a 250), beside two baselines measured in the same
 * run on the same machine:
 *   - a bare Berkeley DB loop: THREADS threads each committing one 4 KB
 *     record per synced transaction (the group-commit ceiling);
 *   - GMime parsing alone (sg_message_parse) of the same mails, THREADS
 *     threads.
 * Prints messages/s for each and the ratios. Targets (issue 15): ingest
 * >= 2,000 durable msg/s, and within 2x of the bare commit loop.
 * Usage: bench-ingest [MAILS] [THREADS]   (default 4000 8)
 */
#include "config.h"

#include <db.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/diag.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/message.h"
#include "store/store.h"

static int nmail = 4000, nthreads = 8;
static char **mails;
static size_t *lens;
static int next_mail;
static pthread_mutex_t next_lock = PTHREAD_MUTEX_INITIALIZER;

static double
now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
take(void)
{
	pthread_mutex_lock(&next_lock);
	int i = next_mail < nmail ? next_mail++ : -1;
	pthread_mutex_unlock(&next_lock);
	return i;
}

static void
make_mails(const char *tag)
{
	mails = sg_xcalloc((size_t)nmail, sizeof(*mails));
	lens = sg_xcalloc((size_t)nmail, sizeof(*lens));
	char body[4096];
	size_t b = 0;
	while (b + 80 < sizeof(body))
		b += (size_t)snprintf(body + b, sizeof(body) - b, "line %zu of a support request of about four kilobytes\r\n", b);
	for (int i = 0; i < nmail; i++) {
		int k = i % 10;
		char hdr[512];
		if (k < 6 || i < 10)
			snprintf(hdr, sizeof(hdr), "Subject: printer %d does not print\r\n", i);
		else if (k < 9)
			snprintf(hdr, sizeof(hdr), "Subject: Re: printer %d\r\nIn-Reply-To: <%s-%d@customer.example>\r\n"
				 "References: <%s-%d@customer.example>\r\n", i - 3, tag, i - 3, tag, i - 3);
		else
			snprintf(hdr, sizeof(hdr), "Subject: Re: [ACME #1] printer\r\n");
		mails[i] = sg_xasprintf("From: Customer %d <c%d@customer.example>\r\nTo: support@example.com\r\n"
					"Message-ID: <%s-%d@customer.example>\r\nDate: Wed, 02 Dec 2026 10:00:00 +0000\r\n"
					"%s\r\n%s", i % 50, i % 50, tag, i, hdr, body);
		lens[i] = strlen(mails[i]);
	}
}

static void
free_mails(void)
{
	for (int i = 0; i < nmail; i++)
		free(mails[i]);
	free(mails);
	free(lens);
}

/* ---------------------------------------------------------- baselines */

static DB_ENV *benv;
static DB *bdb;

static void *
bare_worker(void *arg)
{
	char val[4096];
	(void)arg;
	memset(val, 'x', sizeof(val));
	for (int i; (i = take()) >= 0;) {
		int rc = DB_LOCK_DEADLOCK;
		for (int tries = 0; rc == DB_LOCK_DEADLOCK && tries < 100; tries++) {
			DB_TXN *t;
			DBT k = { .data = &i, .size = sizeof(i) }, v = { .data = val, .size = sizeof(val) };
			if ((rc = benv->txn_begin(benv, NULL, &t, 0)) != 0)
				break;
			if ((rc = bdb->put(bdb, t, &k, &v, 0)) != 0)
				t->abort(t);
			else
				rc = t->commit(t, 0);
		}
		if (rc != 0) {
			fprintf(stderr, "bench-ingest: bare commit failed: %s\n", db_strerror(rc));
			exit(1);
		}
	}
	return NULL;
}

static double
run_threads(void *(*fn)(void *))
{
	pthread_t th[64];
	double t0 = now_s();
	next_mail = 0;
	for (int i = 0; i < nthreads; i++)
		pthread_create(&th[i], NULL, fn, NULL);
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	return (double)nmail / (now_s() - t0);
}

static double
bare(const char *dir)
{
	char *home = sg_xasprintf("%s/bare", dir);
	mkdir(home, 0700);
	if (db_env_create(&benv, 0) != 0)
		exit(1);
	benv->set_cachesize(benv, 0, 64 * 1024 * 1024, 1);
	benv->set_lk_detect(benv, DB_LOCK_DEFAULT);
	if (benv->open(benv, home, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD, 0600) != 0 ||
	    db_create(&bdb, benv, 0) != 0 ||
	    bdb->open(bdb, NULL, "bare.db", NULL, DB_BTREE, DB_CREATE | DB_AUTO_COMMIT | DB_THREAD, 0600) != 0) {
		fprintf(stderr, "bench-ingest: cannot open the bare environment\n");
		exit(1);
	}
	double r = run_threads(bare_worker);
	bdb->close(bdb, 0);
	benv->close(benv, 0);
	free(home);
	return r;
}

static void *
parse_worker(void *arg)
{
	(void)arg;
	for (int i; (i = take()) >= 0;) {
		struct sg_msginfo *mi = NULL;
		if (sg_message_parse(mails[i], lens[i], &mi) != 0)
			exit(1);
		sg_msginfo_free(&mi);
	}
	return NULL;
}

/* ------------------------------------------------------------- ingest */

static struct sg_store *st;
static struct sg_conf *conf;

static void *
ingest_worker(void *arg)
{
	(void)arg;
	for (int i; (i = take()) >= 0;) {
		const char *rcpt[] = { "support@example.com" };
		struct sg_ingest_in in = { .raw = mails[i], .len = lens[i], .env_rcpt = rcpt, .nrcpt = 1,
					   .door = SG_DOOR_MILTER };
		struct sg_decision d = { 0 };
		if (sg_ingest(st, conf, &in, &d) != SG_ING_OK) {
			fprintf(stderr, "bench-ingest: ingest of mail %d failed\n", i);
			exit(1);
		}
		sg_decision_clear(&d);
	}
	return NULL;
}

static double
ingest(const char *dir, const char *top)
{
	char *path = sg_xasprintf("%s/sg.conf", dir);
	FILE *fp = fopen(path, "w");
	struct sg_diag errs = { 0 };

	fprintf(fp, "state_dir = \"%s/state\"\nsupport_address = {\"support@example.com\"}\nticket_tag = \"ACME\"\n"
		    "rules_file = \"%s/rules/examples/supportgate.rules\"\ntemplate_dir = \"%s/templates\"\n"
		    "smtp_relay = \"smtp://127.0.0.1:1\"\nlog_level = \"error\"\ndb_sync = true\n", dir, top, top);
	fclose(fp);
	if ((conf = sg_conf_load(path, &errs)) == NULL) {
		sg_diag_print(&errs, stderr);
		exit(1);
	}
	sg_log_set_level(SG_LOG_ERROR);
	if (sg_store_open(conf->state_dir, 0, &st) != 0)
		exit(1);
	sg_ingest_init();
	double r = run_threads(ingest_worker);
	sg_store_close(&st);
	sg_conf_unref(&conf);
	free(path);
	return r;
}

int
main(int argc, char **argv)
{
	const char *top = getenv("top_srcdir") ? getenv("top_srcdir") : ".";
	char dir[] = "/tmp/sg-bench-ingest.XXXXXX";

	if (argc > 1)
		nmail = atoi(argv[1]);
	if (argc > 2)
		nthreads = atoi(argv[2]);
	if (nmail < 100 || nthreads < 1 || nthreads > 64 || mkdtemp(dir) == NULL) {
		fprintf(stderr, "usage: bench-ingest [MAILS >= 100] [THREADS 1..64]\n");
		return 2;
	}
	sg_log_open_stderr("bench-ingest");
	sg_log_set_level(SG_LOG_ERROR);
	sg_message_init();
	printf("bench-ingest: %d mails of 4 KB, %d threads, every commit synced\n", nmail, nthreads);
	fflush(stdout);
	double b[2], p[2], g[2];
	for (int round = 0; round < 2; round++) {   /* interleaved, twice */
		char tag[16], sub[600];
		snprintf(tag, sizeof(tag), "r%d", round);
		snprintf(sub, sizeof(sub), "%s/%s", dir, tag);
		mkdir(sub, 0700);
		make_mails(tag);
		b[round] = bare(sub);
		p[round] = run_threads(parse_worker);
		g[round] = ingest(sub, top);
		free_mails();
		printf("round %d: bare synced commits %.0f/s; GMime parse alone %.0f msg/s; ingest %.0f durable msg/s; "
		       "ingest/bare %.2f; ingest/parse %.3f\n", round + 1, b[round], p[round], g[round], g[round] / b[round],
		       g[round] / p[round]);
	}
	char *rm = sg_xasprintf("rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "bench-ingest: could not remove %s\n", dir);
	free(rm);
	return 0;
}
