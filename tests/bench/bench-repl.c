/*
 * bench-repl — what replication costs a commit, measured in one run:
 * synchronous commits per second into a store without replication, then
 * into the master of a three-site Berkeley DB replication group on
 * 127.0.0.1 (two replica processes forked here) with the acknowledgement
 * policy quorum, serially and from 8 threads. Each commit is one small
 * write (a key of meta.db), so the figure is the commit path alone: the
 * log flush, plus for the group the round trip to a replica and its own
 * log flush before it acknowledges.
 * Usage: bench-repl [COMMITS [POLICY]]   (default 2000 per measurement,
 * quorum; POLICY as replication_ack_policy)
 */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "store/store.h"

static int commits = 2000;
static int ack = SG_REPL_ACK_QUORUM;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static unsigned
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &l);
	close(s);
	return ntohs(a.sin_port);
}

struct run {
	struct sg_store *st;
	int from, n, failed;
};

static void *
run_commits(void *arg)
{
	struct run *r = arg;
	char key[64];

	for (int i = r->from; i < r->from + r->n; i++) {
		struct sg_txn *txn = NULL;
		snprintf(key, sizeof(key), "bench-%d", i);
		if (sg_store_txn_begin(r->st, &txn) != 0 || sg_store_kv_put(r->st, txn, key, key, strlen(key)) != 0) {
			sg_store_txn_abort(&txn);
			r->failed++;
			continue;
		}
		if (sg_store_txn_commit(&txn) != 0)
			r->failed++;
	}
	return NULL;
}

/* commits/s with nthreads threads sharing commits */
static double
measure(struct sg_store *st, int nthreads, int base, int *failed)
{
	pthread_t t[8];
	struct run r[8];
	double t0 = now();

	for (int i = 0; i < nthreads; i++) {
		r[i] = (struct run){ st, base + i * (commits / nthreads), commits / nthreads, 0 };
		pthread_create(&t[i], NULL, run_commits, &r[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		*failed += r[i].failed;
	}
	return commits / (now() - t0);
}

static void
site_conf(struct sg_repl_conf *rc, char addr[3][32], const char *peers[3][2], int i)
{
	memset(rc, 0, sizeof(*rc));
	rc->local = addr[i];
	peers[i][0] = addr[(i + 1) % 3];
	peers[i][1] = addr[(i + 2) % 3];
	rc->peers = peers[i];
	rc->npeers = 2;
	rc->priority = i == 0 ? 100 : 10;
	rc->ack = ack;
	rc->creator = i == 0;
	rc->start = 1;
}

int
main(int argc, char **argv)
{
	char top[] = "/tmp/sg-bench-repl.XXXXXX", dir[4][300], addr[3][32];
	const char *peers[3][2];
	struct sg_repl_conf rc;
	struct sg_store *st = NULL;
	pid_t kid[2];
	int failed = 0;
	double off1, off8, q1, q8;

	if (argc > 1)
		commits = atoi(argv[1]) > 0 ? atoi(argv[1]) : commits;
	if (argc > 2 && (ack = sg_repl_ack_parse(argv[2])) < 0)
		return 2;
	commits -= commits % 8;
	sg_log_set_level(SG_LOG_WARN);
	if (mkdtemp(top) == NULL)
		return 1;
	for (int i = 0; i < 4; i++)
		snprintf(dir[i], sizeof(dir[i]), "%s/%d", top, i);
	for (int i = 0; i < 3; i++)
		snprintf(addr[i], sizeof(addr[i]), "127.0.0.1:%u", free_port());

	/* 1. no replication */
	if (sg_store_open(dir[3], 0, &st) != 0)
		return 1;
	off1 = measure(st, 1, 0, &failed);
	off8 = measure(st, 8, commits, &failed);
	sg_store_close(&st);

	/* 2. a group of three: two replicas in child processes */
	for (int i = 1; i <= 2; i++) {
		if ((kid[i - 1] = fork()) == 0) {
			struct sg_store *rs = NULL;
			usleep(300000);   /* the master first */
			site_conf(&rc, addr, peers, i);
			if (sg_store_open_repl(dir[i], 0, &rc, &rs) != 0)
				_exit(1);
			for (;;) {   /* as the daemon does: the sites file every second */
				sg_store_repl_publish(rs);
				sleep(1);
			}
		}
	}
	site_conf(&rc, addr, peers, 0);
	if (sg_store_open_repl(dir[0], 0, &rc, &st) != 0)
		return 1;
	for (int w = 0; w < 600; w++) {   /* both replicas joined and connected */
		struct sg_repl_status s;
		int conn = 0;
		if (sg_store_repl_status(st, &s) == 0)
			for (size_t i = 0; i < s.nsites_list; i++)
				conn += s.sites[i].connected;
		if (conn == 2)
			break;
		usleep(100000);
	}
	sleep(2);
	sg_store_repl_publish(st);
	q1 = measure(st, 1, 0, &failed);
	q8 = measure(st, 8, commits, &failed);
	sg_store_close(&st);
	for (int i = 0; i < 2; i++) {
		kill(kid[i], SIGKILL);
		waitpid(kid[i], NULL, 0);
	}
	printf("bench-repl: %d synchronous commits per measurement (one small write each)\n", commits);
	printf("  no replication      1 thread: %8.0f commits/s   8 threads: %8.0f commits/s\n", off1, off8);
	printf("  3 sites, %-9s 1 thread: %8.0f commits/s   8 threads: %8.0f commits/s\n", sg_repl_ack_name(ack), q1, q8);
	printf("  ratio (group/alone) 1 thread: %8.4f            8 threads: %8.4f\n", q1 / off1, q8 / off8);
	if (failed)
		printf("  %d commits failed\n", failed);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", top);
	return failed ? 1 : 0;
}
