/*
 * test-store — the store on a real Berkeley DB environment in a temp dir:
 * tickets, messages and the Message-ID index, customers, events, the id
 * sequence across reopen, a process killed with SIGKILL before and after
 * commit (recovery gives all or nothing), the deadlock retry helper, jobs
 * and kv, two processes writing 500 tickets each, verify, hot backup, and
 * catastrophic recovery (refused while another process has the store).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "xalloc.h"
#include "tap.h"

static char dir[] = "/tmp/sg-test-store.XXXXXX";

/* One ticket + message + index + event in one transaction. */
static int
write_one(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t *idp)
{
	struct sg_ticket t = { 0 };
	struct sg_msgrec m = { 0 };
	int rc;

	if ((rc = sg_store_ticket_new_id(st, txn, &t.id)) != 0)
		return rc;
	t.subject = sg_xstrdup("subject");
	t.requestor = sg_xstrdup("a@b.test");
	t.nmessages = 1;
	m.ticket = t.id;
	m.message_id = (char *)msgid;
	m.from = "a@b.test";
	m.subject = "subject";
	if ((rc = sg_store_message_add(st, txn, &m, "raw bytes", 9)) == 0 &&
	    (rc = sg_store_event_add(st, txn, t.id, "created", "test", NULL)) == 0 &&
	    (rc = sg_store_customer_add(st, txn, "a@b.test", t.id)) == 0)
		rc = sg_store_ticket_put(st, txn, &t);
	*idp = t.id;
	sg_ticket_clear(&t);
	return rc;
}

static int
count_msgs(const struct sg_msgrec *m, void *arg)
{
	(void)m;
	(*(int *)arg)++;
	return 0;
}

static int
collect_events(const struct sg_event *e, void *arg)
{
	char *buf = arg;
	strcat(buf, e->type);
	strcat(buf, ",");
	return 0;
}

static int
count_tickets(const struct sg_ticket *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

/* Child: open, write in a txn, die by SIGKILL before or after commit. */
static void
crash_child(int commit, const char *msgid)
{
	struct sg_store *st;
	struct sg_txn *txn;
	uint64_t id;

	if (sg_store_open(dir, 0, &st) != 0)
		_exit(2);
	if (sg_store_txn_begin(st, &txn) != 0 || write_one(st, txn, msgid, &id) != 0)
		_exit(3);
	if (commit && sg_store_txn_commit(&txn) != 0)
		_exit(4);
	kill(getpid(), SIGKILL);
	_exit(5);
}

struct one_arg {
	const char *msgid;
	uint64_t id;
	int calls;
	int deadlocks;          /* fake deadlocks still to report */
	int fail;               /* body's own error code, 0 none */
};

static int
one_body(struct sg_store *st, struct sg_txn *txn, void *arg)
{
	struct one_arg *a = arg;
	int rc;

	a->calls++;
	if ((rc = write_one(st, txn, a->msgid, &a->id)) != 0)
		return rc;
	if (a->deadlocks > 0) {
		a->deadlocks--;
		return SG_STORE_DEADLOCK;
	}
	return a->fail;
}

/* Child: n tickets, one transaction each, ids appended to dir/ids-TAG. */
static void
writer_child(int n, const char *tag)
{
	struct sg_store *st;
	char *path = sg_xasprintf("%s/ids-%s", dir, tag);
	FILE *fp = fopen(path, "w");

	if (fp == NULL || sg_store_open(dir, SG_STORE_NOSYNC, &st) != 0)
		_exit(2);
	for (int i = 0; i < n; i++) {
		char *mid = sg_xasprintf("%s-%d@test", tag, i);
		struct one_arg a = { .msgid = mid };
		int rc = sg_store_txn_run(st, one_body, &a);
		free(mid);
		if (rc != 0)
			_exit(3);
		fprintf(fp, "%llu\n", (unsigned long long)a.id);
	}
	sg_store_close(&st);
	_exit(fclose(fp) == 0 ? 0 : 4);
}

/* Child: hold the store open until the parent writes to (or closes) fd. */
static void
holder_child(int fd, const char *ready)
{
	struct sg_store *st;
	char c;

	if (sg_store_open(dir, 0, &st) != 0)
		_exit(2);
	if (write(fd + 1, ready, 1) != 1)
		_exit(3);
	if (read(fd, &c, 1) < 0)
		_exit(4);
	sg_store_close(&st);
	_exit(0);
}

static int
read_ids(const char *tag, uint64_t *ids, int max)
{
	char *path = sg_xasprintf("%s/ids-%s", dir, tag);
	FILE *fp = fopen(path, "r");
	unsigned long long v;
	int n = 0;

	free(path);
	if (fp == NULL)
		return -1;
	while (n < max && fscanf(fp, "%llu", &v) == 1)
		ids[n++] = v;
	fclose(fp);
	return n;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int
count_jobs(const struct sg_job *j, void *arg)
{
	(void)j;
	(*(int *)arg)++;
	return 0;
}

static int
run_child(void (*fn)(int, const char *), int a, const char *b)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		fn(a, b);
	waitpid(pid, &status, 0);
	return status;
}

int
main(void)
{
	struct sg_store *st = NULL;
	struct sg_txn *txn = NULL;
	struct sg_ticket t = { 0 };
	uint64_t id1, id2, tid;
	uint32_t seq;
	int status;

	plan_lazy();
	sg_log_open_stderr("test-store");
	if (mkdtemp(dir) == NULL)
		return 1;
	ok(sg_store_open(dir, 0, &st) == 0, "environment created");

	ok(sg_store_txn_begin(st, &txn) == 0 && write_one(st, txn, "one@test", &id1) == 0 &&
	   sg_store_txn_commit(&txn) == 0, "first ticket committed");
	is_int((long long)id1, 1, "ids start at 1");
	ok(sg_store_ticket_get(st, NULL, id1, &t) == 0 && strcmp(t.subject, "subject") == 0, "ticket read back");
	sg_ticket_clear(&t);
	is_int(sg_store_ticket_get(st, NULL, 999, &t), SG_STORE_NOTFOUND, "missing ticket is NOTFOUND");
	ok(sg_store_msgid_lookup(st, NULL, "one@test", &tid, &seq) == 0 && tid == id1 && seq == 1,
	   "Message-ID index finds ticket and seq");
	is_int(sg_store_msgid_lookup(st, NULL, "nope@test", &tid, &seq), SG_STORE_NOTFOUND, "unknown Message-ID");

	/* second message on the same ticket, and a duplicate Message-ID */
	struct sg_msgrec m = { .ticket = id1, .message_id = "two@test", .from = "x", .subject = "y" };
	sg_store_txn_begin(st, &txn);
	ok(sg_store_message_add(st, txn, &m, "second", 6) == 0 && m.seq == 2, "second message gets seq 2");
	sg_store_txn_commit(&txn);
	m.message_id = "one@test";
	sg_store_txn_begin(st, &txn);
	is_int(sg_store_message_add(st, txn, &m, "dup", 3), SG_STORE_ERROR, "indexed Message-ID cannot be added again");
	sg_store_txn_abort(&txn);
	int nm = 0;
	sg_store_message_foreach(st, NULL, id1, count_msgs, &nm);
	is_int(nm, 2, "ticket has two messages");
	struct sg_msgrec got;
	char *raw = NULL;
	size_t rawlen = 0;
	ok(sg_store_message_get(st, NULL, id1, 2, &got, &raw, &rawlen) == 0 && rawlen == 6 &&
	   memcmp(raw, "second", 6) == 0, "raw bytes read back");
	sg_msgrec_clear(&got);
	free(raw);

	/* events keep order */
	sg_store_txn_begin(st, &txn);
	sg_store_event_add(st, txn, id1, "status", "agent", "open -> pending");
	sg_store_event_add(st, txn, id1, "note", "agent", NULL);
	sg_store_txn_commit(&txn);
	char evs[256] = "";
	sg_store_event_foreach(st, NULL, id1, collect_events, evs);
	is_str(evs, "created,status,note,", "events in order");

	/* customer index */
	sg_store_txn_begin(st, &txn);
	write_one(st, txn, "three@test", &id2);
	sg_store_txn_commit(&txn);
	uint64_t *ids;
	size_t n;
	ok(sg_store_customer_tickets(st, NULL, "a@b.test", &ids, &n) == 0 && n == 2 && ids[0] == id1 && ids[1] == id2,
	   "customer index lists both tickets in order");
	free(ids);
	is_int(sg_store_customer_tickets(st, NULL, "z@z", &ids, &n), SG_STORE_NOTFOUND, "unknown customer");

	/* meta */
	sg_store_txn_begin(st, &txn);
	sg_store_meta_put(st, txn, "rr:billing", 3);
	sg_store_txn_commit(&txn);
	uint64_t v = 0;
	ok(sg_store_meta_get(st, NULL, "rr:billing", &v) == 0 && v == 3, "meta value");

	/* an aborted transaction leaves nothing */
	sg_store_txn_begin(st, &txn);
	write_one(st, txn, "aborted@test", &tid);
	sg_store_txn_abort(&txn);
	is_int(sg_store_msgid_lookup(st, NULL, "aborted@test", &tid, &seq), SG_STORE_NOTFOUND, "abort leaves no index");

	/* sequence survives close/reopen */
	sg_store_close(&st);
	ok(sg_store_open(dir, 0, &st) == 0, "reopened");
	sg_store_txn_begin(st, &txn);
	write_one(st, txn, "four@test", &tid);
	sg_store_txn_commit(&txn);
	ok(tid > id2, "ids keep growing after reopen (%llu > %llu)", (unsigned long long)tid, (unsigned long long)id2);
	sg_store_close(&st);

	/* kill -9 inside a transaction: nothing of it survives */
	status = run_child((void (*)(int, const char *))crash_child, 0, "crash-before@test");
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed before commit");
	ok(sg_store_open(dir, 0, &st) == 0, "environment opens after a crash (recovery)");
	is_int(sg_store_msgid_lookup(st, NULL, "crash-before@test", &tid, &seq), SG_STORE_NOTFOUND,
	       "uncommitted message absent");
	int nt = 0;
	sg_store_ticket_foreach(st, count_tickets, &nt);
	is_int(nt, 3, "no half ticket either");
	sg_store_close(&st);

	/* kill -9 right after commit: all of it survives */
	status = run_child((void (*)(int, const char *))crash_child, 1, "crash-after@test");
	ok(WIFSIGNALED(status), "child killed after commit");
	ok(sg_store_open(dir, 0, &st) == 0, "environment opens again");
	ok(sg_store_msgid_lookup(st, NULL, "crash-after@test", &tid, &seq) == 0, "committed message present");
	ok(sg_store_ticket_get(st, NULL, tid, &t) == 0 && t.nmessages == 1, "with its ticket");
	sg_ticket_clear(&t);
	sg_store_close(&st);

	/* sg_store_txn_run: retries deadlocks, gives up after SG_STORE_RETRIES */
	ok(sg_store_open(dir, 0, &st) == 0, "reopened for txn_run");
	struct one_arg oa = { .msgid = "retry@test", .deadlocks = 2 };
	is_int(sg_store_txn_run(st, one_body, &oa), 0, "txn_run commits after two deadlocks");
	is_int(oa.calls, 3, "body ran three times");
	ok(sg_store_msgid_lookup(st, NULL, "retry@test", &tid, &seq) == 0 && tid == oa.id && seq == 1,
	   "only the last attempt is stored (seq 1)");
	struct one_arg ob = { .msgid = "stuck@test", .deadlocks = 100 };
	is_int(sg_store_txn_run(st, one_body, &ob), SG_STORE_DEADLOCK, "txn_run gives up on a lasting deadlock");
	is_int(ob.calls, SG_STORE_RETRIES, "after SG_STORE_RETRIES attempts");
	is_int(sg_store_msgid_lookup(st, NULL, "stuck@test", &tid, &seq), SG_STORE_NOTFOUND, "and stores nothing");
	struct one_arg oc = { .msgid = "fail@test", .fail = 42 };
	is_int(sg_store_txn_run(st, one_body, &oc), 42, "a body's own error is returned as is");
	is_int(oc.calls, 1, "without retry");
	is_int(sg_store_msgid_lookup(st, NULL, "fail@test", &tid, &seq), SG_STORE_NOTFOUND, "and aborted");

	/* jobs and kv */
	struct sg_job j = { .ticket = oa.id, .what = "ack", .mail_from = "", .payload = "P\0Q", .payload_len = 3 }, j2;
	sg_strlist_add(&j.rcpts, "a@b.test", 0);
	sg_store_txn_begin(st, &txn);
	ok(sg_store_job_add(st, txn, &j) == 0 && j.id == 1, "job added with id 1");
	ok(sg_store_kv_put(st, txn, "w:a@b.test", "\1\2\3", 3) == 0, "kv put");
	sg_store_txn_commit(&txn);
	ok(sg_store_job_get(st, NULL, j.id, &j2) == 0 && j2.payload_len == 3 && memcmp(j2.payload, "P\0Q", 3) == 0 &&
	   j2.ticket == oa.id, "job read back");
	sg_job_clear(&j2);
	char *kv = NULL;
	size_t kvlen = 0;
	ok(sg_store_kv_get(st, NULL, "w:a@b.test", &kv, &kvlen) == 0 && kvlen == 3 && memcmp(kv, "\1\2\3", 3) == 0,
	   "kv read back");
	free(kv);
	is_int(sg_store_kv_get(st, NULL, "w:none", &kv, &kvlen), SG_STORE_NOTFOUND, "unknown kv");
	is_int(sg_store_meta_get(st, NULL, "w:a@b.test", &v), SG_STORE_NOTFOUND, "kv and meta names do not mix");
	sg_store_txn_begin(st, &txn);
	ok(sg_store_job_del(st, txn, j.id) == 0, "job deleted");
	sg_store_txn_commit(&txn);
	int nj = 0;
	sg_store_job_foreach(st, count_jobs, &nj);
	is_int(nj, 0, "no job left");
	sg_strlist_clear(&j.rcpts);
	sg_store_close(&st);

	/* two processes at once: 500 tickets each, 1000 distinct ids */
	pid_t a = fork();
	if (a == 0)
		writer_child(500, "pa");
	pid_t b = fork();
	if (b == 0)
		writer_child(500, "pb");
	int sa, sb;
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	ok(WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 0,
	   "two concurrent writers finish (%d, %d)", sa, sb);
	uint64_t *all = sg_xcalloc(1001, sizeof(*all));
	int na = read_ids("pa", all, 500), nb = read_ids("pb", all + (na > 0 ? na : 0), 501);
	int distinct = 0;
	if (na == 500 && nb == 500) {
		qsort(all, 1000, sizeof(*all), cmp_u64);
		distinct = all[0] != 0;
		for (int i = 1; i < 1000; i++)
			if (all[i] == all[i - 1])
				distinct = 0;
	}
	ok(distinct, "1000 distinct ids (%d + %d)", na, nb);
	sg_store_open(dir, 0, &st);
	int found = 0;
	for (int i = 0; i < 1000 && st != NULL; i++) {
		if (sg_store_ticket_get(st, NULL, all[i], &t) == 0 && t.id == all[i])
			found++;
		sg_ticket_clear(&t);
	}
	is_int(found, 1000, "every id has its ticket");
	free(all);
	nt = 0;
	sg_store_ticket_foreach(st, count_tickets, &nt);
	is_int(nt, 4 + 1 + 1000, "1000 more tickets, nothing else");
	ok(sg_store_customer_tickets(st, NULL, "a@b.test", &ids, &n) == 0 && n == (size_t)nt,
	   "one customer index entry per ticket (%zu)", n);
	free(ids);

	/* backup and verify */
	char *bdir = sg_xasprintf("%s/backup", dir);
	ok(sg_store_backup(st, bdir) == 0, "hot backup");
	sg_store_close(&st);
	char *bstate = sg_xasprintf("%s/bstate", dir);
	char *cmd = sg_xasprintf("mkdir -p %s && mv %s %s/db", bstate, bdir, bstate);
	ok(system(cmd) == 0, "backup moved into a state dir");
	free(cmd);
	ok(sg_store_open(bstate, 0, &st) == 0, "backup opens as a store");
	ok(st != NULL && sg_store_msgid_lookup(st, NULL, "pb-499@test", &tid, &seq) == 0, "backup holds the data");
	sg_store_close(&st);
	FILE *devnull = fopen("/dev/null", "w");
	ok(sg_store_verify(dir, devnull) == 0, "verify passes");
	fclose(devnull);
	int pfd[4];
	char ready = 0;
	if (pipe(pfd) != 0 || pipe(pfd + 2) != 0)
		return 1;
	pid_t h = fork();
	if (h == 0) {
		/* holder reads pfd[0], writes pfd[3]: pass fd such that fd+1 = write end */
		int fds[2] = { pfd[0], pfd[3] };
		if (dup2(fds[0], 100) < 0 || dup2(fds[1], 101) < 0)
			_exit(5);
		holder_child(100, "r");
	}
	close(pfd[0]);
	close(pfd[3]);
	ok(read(pfd[2], &ready, 1) == 1 && ready == 'r', "another process holds the store open");
	is_int(sg_store_recover(dir), SG_STORE_ERROR, "catastrophic recovery refused meanwhile");
	close(pfd[1]);
	waitpid(h, &status, 0);
	close(pfd[2]);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "holder closed the store");
	ok(sg_store_recover(dir) == 0, "catastrophic recovery runs");
	ok(sg_store_open(dir, 0, &st) == 0 && sg_store_msgid_lookup(st, NULL, "one@test", &tid, &seq) == 0,
	   "data intact after recovery");
	sg_store_close(&st);
	free(bdir);
	free(bstate);

	cmd = sg_xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	free(cmd);
	return done_testing();
}
