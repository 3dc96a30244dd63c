/*
 * test-store — the store on a real Berkeley DB environment in a temp dir:
 * tickets, messages and the Message-ID index, customers, events, the id
 * sequence across reopen, a process killed with SIGKILL before and after
 * commit (recovery gives all or nothing), two processes writing at once,
 * verify and hot backup; the due-time index (sched/due.h: order, the scan
 * bound, delete, reschedule, abort) and a store from before it; failures
 * around a live member (the environment panicked by another process, a
 * member dying as a zombie inside its transaction, recover refused while
 * in use), threads that come and go, durability against a DB_CONFIG. Every test
 * function works on a fresh state dir of its own (sg_test_subdir), so each
 * runs alone.
 */
#include "config.h"

#include <db.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/log.h"
#include "sched/due.h"
#include "store/store.h"
#include "lib/xalloc.h"
#include "tap.h"

static char *dir;     /* the running test's state dir */

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

/* Child: open, write in a txn, die by SIGKILL before or after commit
 * (commit 1: synced; 2: commit_nowait, then flush; 3: commit_nowait
 * only). */
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
	if (commit == 1 && sg_store_txn_commit(&txn) != 0)
		_exit(4);
	if (commit >= 2 && sg_store_txn_commit_nowait(&txn) != 0)
		_exit(4);
	if (commit == 2 && sg_store_flush(st) != 0)
		_exit(6);
	kill(getpid(), SIGKILL);
	_exit(5);
}

static void
writer_child(int n, const char *tag)
{
	struct sg_store *st;

	if (sg_store_open(dir, SG_STORE_NOSYNC, &st) != 0)
		_exit(2);
	for (int i = 0; i < n; i++) {
		char *mid = sg_xasprintf("%s-%d@test", tag, i);
		int rc = SG_STORE_DEADLOCK;
		for (int a = 0; a < 20 && rc == SG_STORE_DEADLOCK; a++) {
			struct sg_txn *txn;
			uint64_t id;
			if ((rc = sg_store_txn_begin(st, &txn)) != 0)
				break;
			rc = write_one(st, txn, mid, &id);
			if (rc == 0)
				rc = sg_store_txn_commit(&txn);
			else
				sg_store_txn_abort(&txn);
		}
		free(mid);
		if (rc != 0)
			_exit(3);
	}
	sg_store_close(&st);
	_exit(0);
}

/* "id@due/aux," for each entry a scan at now returns (max entries). */
struct due_seen {
	char buf[512];
	int stop_after;   /* > 0: return 7 from the cb at that entry */
	int n;
};

static int
due_cb(const struct sg_due_entry *e, void *arg)
{
	struct due_seen *s = arg;
	size_t len = strlen(s->buf);

	snprintf(s->buf + len, sizeof(s->buf) - len, "%llu@%lld/%llu,", (unsigned long long)e->id, (long long)e->due,
		 (unsigned long long)e->aux);
	return ++s->n == s->stop_after ? 7 : 0;
}

static const char *
due_scan(struct sg_store *st, uint8_t kind, int64_t now, size_t max)
{
	static struct due_seen s;

	memset(&s, 0, sizeof(s));
	if (sg_due_scan(st, kind, now, max, due_cb, &s) != 0)
		return "(error)";
	return s.buf;
}

static int
due_put(struct sg_store *st, uint8_t kind, uint64_t id, int64_t old_due, int64_t due, uint64_t aux)
{
	struct sg_txn *txn;
	int rc;

	if ((rc = sg_store_txn_begin(st, &txn)) != 0)
		return rc;
	if ((rc = sg_due_set(st, txn, kind, id, old_due, due, aux)) != 0) {
		sg_store_txn_abort(&txn);
		return rc;
	}
	return sg_store_txn_commit(&txn);
}

/* The due-time index: (due, kind, id) order, due <= now, max, kinds apart,
 * delete, reschedule, a stopping callback, abort. */
static void
test_due_index(void)
{
	char *sd = sg_xasprintf("%s/due", sg_test_dir());
	struct sg_store *st;
	struct sg_txn *txn;
	struct due_seen s = { .stop_after = 2 };

	ok(sg_store_open(sd, SG_STORE_NOSYNC, &st) == 0, "due: store");
	is_str(due_scan(st, SG_DUE_JOB, INT64_MAX, 100), "", "due: empty index scans empty");
	ok(due_put(st, SG_DUE_JOB, 1, 0, 300, 11) == 0 && due_put(st, SG_DUE_JOB, 5, 0, 100, 15) == 0 &&
	   due_put(st, SG_DUE_JOB, 3, 0, 200, 13) == 0 && due_put(st, SG_DUE_JOB, 2, 0, 100, 12) == 0 &&
	   due_put(st, 2, 4, 0, 150, 14) == 0 && due_put(st, SG_DUE_JOB, 6, 0, (int64_t)1 << 40, 16) == 0,
	   "due: six entries, two kinds");
	is_str(due_scan(st, SG_DUE_JOB, 1000, 100), "2@100/12,5@100/15,3@200/13,1@300/11,", "due: due order, then id");
	is_str(due_scan(st, 2, 1000, 100), "4@150/14,", "due: another kind apart");
	is_str(due_scan(st, SG_DUE_JOB, 200, 100), "2@100/12,5@100/15,3@200/13,", "due: up to now inclusive");
	is_str(due_scan(st, SG_DUE_JOB, 99, 100), "", "due: nothing before the first due");
	is_str(due_scan(st, SG_DUE_JOB, 1000, 2), "2@100/12,5@100/15,", "due: at most max");
	is_str(due_scan(st, SG_DUE_JOB, 1000, 0), "", "due: max 0 reads nothing");
	is_int(sg_due_scan(st, SG_DUE_JOB, 1000, 100, due_cb, &s), 7, "due: a callback's non-zero stops the scan");
	is_int(s.n, 2, "due: ... after that entry");

	ok(due_put(st, SG_DUE_JOB, 2, 100, 250, 22) == 0, "due: reschedule 2 from 100 to 250");
	is_str(due_scan(st, SG_DUE_JOB, 1000, 100), "5@100/15,3@200/13,2@250/22,1@300/11,",
	       "due: rescheduled once, at its new time, new aux");
	ok(due_put(st, SG_DUE_JOB, 5, 0, 100, 55) == 0, "due: same due again");
	is_str(due_scan(st, SG_DUE_JOB, 100, 100), "5@100/55,", "due: replaces aux, no duplicate");
	ok(due_put(st, SG_DUE_JOB, 7, 999, 120, 0) == 0, "due: a missing old entry is no error");

	sg_store_txn_begin(st, &txn);
	is_int(sg_due_del(st, txn, SG_DUE_JOB, 3, 200), 0, "due: delete");
	is_int(sg_due_del(st, txn, SG_DUE_JOB, 3, 200), SG_STORE_NOTFOUND, "due: delete again is NOTFOUND");
	is_int(sg_due_del(st, txn, SG_DUE_JOB, 1, 299), SG_STORE_NOTFOUND, "due: delete at the wrong time is NOTFOUND");
	sg_store_txn_commit(&txn);
	is_str(due_scan(st, SG_DUE_JOB, 1000, 100), "5@100/55,7@120/0,2@250/22,1@300/11,", "due: deleted entry gone");

	sg_store_txn_begin(st, &txn);
	sg_due_set(st, txn, SG_DUE_JOB, 8, 0, 50, 0);
	sg_due_set(st, txn, SG_DUE_JOB, 1, 300, 60, 0);
	sg_store_txn_abort(&txn);
	is_str(due_scan(st, SG_DUE_JOB, 1000, 100), "5@100/55,7@120/0,2@250/22,1@300/11,", "due: abort leaves it unchanged");
	ok(due_put(st, SG_DUE_JOB, 9, 0, -5, 0) == 0, "due: a negative time is stored as 0");
	is_str(due_scan(st, SG_DUE_JOB, 0, 1), "9@0/0,", "due: ... and is due first");
	sg_store_close(&st);
	ok(sg_store_open(sd, 0, &st) == 0 && strcmp(due_scan(st, SG_DUE_JOB, 100, 100), "9@0/0,5@100/55,") == 0,
	   "due: entries survive reopen");
	sg_store_close(&st);
	free(sd);
}

/* A store from before due.db and jobticket.db (they are removed from the
 * environment, as an older release never made them) opens, gets both
 * files and keeps its data. */
static void
test_old_store(void)
{
	char *sd = sg_xasprintf("%s/old", sg_test_dir()), *home = sg_xasprintf("%s/old/db", sg_test_dir());
	struct sg_store *st;
	struct sg_txn *txn;
	struct sg_ticket t = { 0 };
	DB_ENV *env;
	uint64_t id = 0;
	int rc;

	ok(sg_store_open(sd, 0, &st) == 0 && sg_store_txn_begin(st, &txn) == 0 &&
	   write_one(st, txn, "old@test", &id) == 0 && sg_store_txn_commit(&txn) == 0, "old: a store with a ticket");
	sg_store_close(&st);
	rc = db_env_create(&env, 0);
	if (rc == 0)
		rc = env->open(env, home, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL, 0640);
	if (rc == 0)
		rc = env->dbremove(env, NULL, SG_FILE_DUE, NULL, DB_AUTO_COMMIT);
	if (rc == 0)
		rc = env->dbremove(env, NULL, SG_FILE_JOBTICKET, NULL, DB_AUTO_COMMIT);
	env->close(env, 0);
	char *due = sg_xasprintf("%s/%s", home, SG_FILE_DUE);
	ok(rc == 0 && access(due, F_OK) != 0, "old: due.db and jobticket.db removed: the layout of an older release");
	ok(sg_store_open(sd, 0, &st) == 0, "old: the older store opens");
	ok(access(due, F_OK) == 0, "old: due.db created on open");
	ok(st != NULL && sg_store_ticket_get(st, NULL, id, &t) == 0 && strcmp(t.subject, "subject") == 0,
	   "old: its data intact");
	sg_ticket_clear(&t);
	ok(st != NULL && due_put(st, SG_DUE_JOB, 1, 0, 10, 0) == 0 && strcmp(due_scan(st, SG_DUE_JOB, 10, 9), "1@10/0,") == 0,
	   "old: the new index works");
	ok(st != NULL && sg_store_checkpoint(st) == 0, "old: checkpoint before the files are read directly");
	sg_store_close(&st);
	FILE *devnull = fopen("/dev/null", "w");
	ok(sg_store_verify(sd, devnull) == 0, "old: verify passes on every file");
	fclose(devnull);
	free(due);
	free(home);
	free(sd);
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

/* Commit one ticket (write_one in its own transaction). */
static int
commit_one(struct sg_store *st, const char *msgid, uint64_t *idp)
{
	struct sg_txn *txn;
	int rc;

	if ((rc = sg_store_txn_begin(st, &txn)) != 0)
		return rc;
	if ((rc = write_one(st, txn, msgid, idp)) != 0) {
		sg_store_txn_abort(&txn);
		return rc;
	}
	return sg_store_txn_commit(&txn);
}

/* A fresh state dir for the calling test (becomes dir). */
static void
fresh_dir(const char *name)
{
	free(dir);
	dir = sg_test_subdir(name);
}

/* A fresh store holding one committed ticket per msgid (a NULL-ended
 * list); NULL after one failed point naming what went wrong. */
static struct sg_store *
fixture(const char *name, const char *const *msgids, uint64_t *last_id)
{
	struct sg_store *st = NULL;
	uint64_t id = 0;

	fresh_dir(name);
	if (sg_store_open(dir, 0, &st) != 0) {
		ok(0, "%s: fixture store opens", name);
		return NULL;
	}
	for (size_t i = 0; msgids != NULL && msgids[i] != NULL; i++)
		if (commit_one(st, msgids[i], &id) != 0) {
			ok(0, "%s: fixture ticket %s committed", name, msgids[i]);
			sg_store_close(&st);
			return NULL;
		}
	if (last_id != NULL)
		*last_id = id;
	return st;
}

static const char *const one_ticket[] = { "one@test", NULL };

static void
test_create(void)
{
	struct sg_store *st = NULL;
	struct sg_txn *txn = NULL;
	struct sg_ticket t = { 0 };
	uint64_t id1, tid;
	uint32_t seq;

	fresh_dir("create");
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
	sg_store_close(&st);
}

/* second message on the same ticket, and a duplicate Message-ID */
static void
test_messages(void)
{
	struct sg_txn *txn = NULL;
	uint64_t id1;
	struct sg_store *st = fixture("messages", one_ticket, &id1);

	if (st == NULL)
		return;
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
	sg_store_close(&st);
}

/* events keep order */
static void
test_events(void)
{
	struct sg_txn *txn = NULL;
	uint64_t id1;
	struct sg_store *st = fixture("events", one_ticket, &id1);

	if (st == NULL)
		return;
	sg_store_txn_begin(st, &txn);
	sg_store_event_add(st, txn, id1, "status", "agent", "open -> pending");
	sg_store_event_add(st, txn, id1, "note", "agent", NULL);
	sg_store_txn_commit(&txn);
	char evs[256] = "";
	sg_store_event_foreach(st, NULL, id1, collect_events, evs);
	is_str(evs, "created,status,note,", "events in order");
	sg_store_close(&st);
}

/* customer index */
static void
test_customers(void)
{
	struct sg_txn *txn = NULL;
	uint64_t id1, id2;
	struct sg_store *st = fixture("customers", one_ticket, &id1);

	if (st == NULL)
		return;
	sg_store_txn_begin(st, &txn);
	write_one(st, txn, "three@test", &id2);
	sg_store_txn_commit(&txn);
	uint64_t *ids;
	size_t n;
	ok(sg_store_customer_tickets(st, NULL, "a@b.test", &ids, &n) == 0 && n == 2 && ids[0] == id1 && ids[1] == id2,
	   "customer index lists both tickets in order");
	free(ids);
	is_int(sg_store_customer_tickets(st, NULL, "z@z", &ids, &n), SG_STORE_NOTFOUND, "unknown customer");
	sg_store_close(&st);
}

static void
test_meta(void)
{
	struct sg_txn *txn = NULL;
	struct sg_store *st = fixture("meta", NULL, NULL);

	if (st == NULL)
		return;
	sg_store_txn_begin(st, &txn);
	sg_store_meta_put(st, txn, "rr:billing", 3);
	sg_store_txn_commit(&txn);
	uint64_t v = 0;
	ok(sg_store_meta_get(st, NULL, "rr:billing", &v) == 0 && v == 3, "meta value");
	sg_store_close(&st);
}

/* an aborted transaction leaves nothing */
static void
test_abort(void)
{
	struct sg_txn *txn = NULL;
	uint64_t tid;
	uint32_t seq;
	struct sg_store *st = fixture("abort", one_ticket, NULL);

	if (st == NULL)
		return;
	sg_store_txn_begin(st, &txn);
	write_one(st, txn, "aborted@test", &tid);
	sg_store_txn_abort(&txn);
	is_int(sg_store_msgid_lookup(st, NULL, "aborted@test", &tid, &seq), SG_STORE_NOTFOUND, "abort leaves no index");
	sg_store_close(&st);
}

/* sequence survives close/reopen */
static void
test_reopen(void)
{
	static const char *const two[] = { "one@test", "three@test", NULL };
	struct sg_txn *txn = NULL;
	uint64_t id2, tid;
	struct sg_store *st = fixture("reopen", two, &id2);

	if (st == NULL)
		return;
	sg_store_close(&st);
	ok(sg_store_open(dir, 0, &st) == 0, "reopened");
	sg_store_txn_begin(st, &txn);
	write_one(st, txn, "four@test", &tid);
	sg_store_txn_commit(&txn);
	ok(tid > id2, "ids keep growing after reopen (%llu > %llu)", (unsigned long long)tid, (unsigned long long)id2);
	sg_store_close(&st);
}

/* kill -9 inside a transaction: nothing of it survives */
static void
test_crash_before_commit(void)
{
	static const char *const three[] = { "one@test", "three@test", "four@test", NULL };
	uint64_t tid;
	uint32_t seq;
	int status;
	struct sg_store *st = fixture("crash-before", three, NULL);

	if (st == NULL)
		return;
	sg_store_close(&st);
	status = run_child((void (*)(int, const char *))crash_child, 0, "crash-before@test");
	ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed before commit");
	ok(sg_store_open(dir, 0, &st) == 0, "environment opens after a crash (recovery)");
	is_int(sg_store_msgid_lookup(st, NULL, "crash-before@test", &tid, &seq), SG_STORE_NOTFOUND,
	       "uncommitted message absent");
	int nt = 0;
	sg_store_ticket_foreach(st, count_tickets, &nt);
	is_int(nt, 3, "no half ticket either");
	sg_store_close(&st);
}

/* kill -9 right after commit: all of it survives */
static void
test_crash_after_commit(void)
{
	struct sg_ticket t = { 0 };
	uint64_t tid;
	uint32_t seq;
	int status;
	struct sg_store *st = fixture("crash-after", one_ticket, NULL);

	if (st == NULL)
		return;
	sg_store_close(&st);
	status = run_child((void (*)(int, const char *))crash_child, 1, "crash-after@test");
	ok(WIFSIGNALED(status), "child killed after commit");
	ok(sg_store_open(dir, 0, &st) == 0, "environment opens again");
	ok(sg_store_msgid_lookup(st, NULL, "crash-after@test", &tid, &seq) == 0, "committed message present");
	ok(sg_store_ticket_get(st, NULL, tid, &t) == 0 && t.nmessages == 1, "with its ticket");
	sg_ticket_clear(&t);
	sg_store_close(&st);
}

/* Group commit: a commit without waiting is durable once flushed, and
 * not before (the process dies with it in the log buffer). */
static void
test_group_commit(void)
{
	uint64_t tid;
	uint32_t seq;
	int status;
	struct sg_store *st = fixture("group-commit", one_ticket, NULL);

	if (st == NULL)
		return;
	sg_store_close(&st);
	status = run_child((void (*)(int, const char *))crash_child, 2, "flushed@test");
	ok(WIFSIGNALED(status), "child killed after commit_nowait and flush");
	status = run_child((void (*)(int, const char *))crash_child, 3, "unflushed@test");
	ok(WIFSIGNALED(status), "child killed after commit_nowait alone");
	ok(sg_store_open(dir, 0, &st) == 0, "environment opens again (recovery)");
	ok(st != NULL && sg_store_msgid_lookup(st, NULL, "flushed@test", &tid, &seq) == 0,
	   "commit_nowait + flush: present after the crash");
	is_int(st != NULL ? sg_store_msgid_lookup(st, NULL, "unflushed@test", &tid, &seq) : -1, SG_STORE_NOTFOUND,
	       "commit_nowait without flush: lost with the process (so the door must flush before it answers)");
	ok(st != NULL && sg_store_msgid_lookup(st, NULL, "one@test", &tid, &seq) == 0, "earlier commits intact");
	sg_store_close(&st);
}

/* two processes at once */
/* The cache gives up raw message pages before the lookup indexes: 2,000
 * Message-IDs indexed, then 48 MB of raw messages (more than the 32 MB
 * cache) written after them; looking the 2,000 up again reads no page of
 * msgid.db into the cache. Without the priorities the raw pages, being
 * newer, pushed the whole index out (every page a miss). */
static void
test_cache_priority(void)
{
	struct sg_store *st = fixture("cache-priority", NULL, NULL);
	struct sg_txn *txn = NULL;
	struct sg_cache_stat before[SG_TB_COUNT], after[SG_TB_COUNT];
	char *raw = sg_xmalloc(4000);
	int bad = 0;

	if (st == NULL)
		return;
	memset(raw, 'r', 4000);
	for (int i = 0; i < 2000 && !bad; i += 200) {
		bad |= sg_store_txn_begin(st, &txn) != 0;
		for (int j = i; j < i + 200 && !bad; j++) {
			char mid[64];
			snprintf(mid, sizeof(mid), "prio-%d@test", j);
			struct sg_msgrec m = { .ticket = (uint64_t)j + 1, .message_id = mid, .from = "x", .subject = "y" };
			bad |= sg_store_message_add(st, txn, &m, "small", 5) != 0;
		}
		bad |= sg_store_txn_commit(&txn) != 0;
	}
	for (int i = 0; i < 12000 && !bad; i += 500) {
		bad |= sg_store_txn_begin(st, &txn) != 0;
		for (int j = i; j < i + 500 && !bad; j++) {
			struct sg_msgrec m = { .ticket = 100000 + (uint64_t)j, .from = "x", .subject = "y" };
			bad |= sg_store_message_add(st, txn, &m, raw, 4000) != 0;
		}
		bad |= sg_store_txn_commit(&txn) != 0;
	}
	ok(!bad, "cache: 2,000 indexed messages, then 48 MB of raw messages written");
	ok(sg_store_cache_stat(st, before) == 0 && before[SG_TB_MSGID].hits + before[SG_TB_MSGID].misses > 0,
	   "cache: msgid.db counters read");
	for (int j = 0; j < 2000; j++) {
		char mid[64];
		uint64_t tid = 0;
		uint32_t seq = 0;
		snprintf(mid, sizeof(mid), "prio-%d@test", j);
		if (sg_store_msgid_lookup(st, NULL, mid, &tid, &seq) != 0 || tid != (uint64_t)j + 1)
			bad = 1;
	}
	ok(!bad, "cache: the 2,000 Message-IDs found again");
	sg_store_cache_stat(st, after);
	uint64_t misses = after[SG_TB_MSGID].misses - before[SG_TB_MSGID].misses;
	uint64_t hits = after[SG_TB_MSGID].hits - before[SG_TB_MSGID].hits;
	diag("msgid.db: %llu pages read into the cache for 2,000 lookups (%llu found there)",
	     (unsigned long long)misses, (unsigned long long)hits);
	ok(misses == 0, "cache: no msgid.db page had to be read again");
	ok(hits >= 2000, "cache: the lookups were counted (at least a page each)");
	free(raw);
	sg_store_close(&st);
}

static void
test_concurrent(void)
{
	int before = 0, nt = 0;
	struct sg_store *st = fixture("concurrent", one_ticket, NULL);

	if (st == NULL)
		return;
	sg_store_ticket_foreach(st, count_tickets, &before);
	sg_store_close(&st);
	pid_t a = fork();
	if (a == 0)
		writer_child(300, "pa");
	pid_t b = fork();
	if (b == 0)
		writer_child(300, "pb");
	int sa, sb;
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	ok(WIFEXITED(sa) && WEXITSTATUS(sa) == 0 && WIFEXITED(sb) && WEXITSTATUS(sb) == 0,
	   "two concurrent writers finish (%d, %d)", sa, sb);
	sg_store_open(dir, 0, &st);
	sg_store_ticket_foreach(st, count_tickets, &nt);
	is_int(nt, before + 600, "600 more distinct tickets");
	sg_store_close(&st);
}

static void
test_backup(void)
{
	static const char *const data[] = { "one@test", "pb-299@test", NULL };
	uint64_t tid;
	uint32_t seq;
	struct sg_store *st = fixture("backup", data, NULL);

	if (st == NULL)
		return;
	char *bdir = sg_xasprintf("%s/backup", dir);
	ok(sg_store_backup(st, bdir) == 0, "hot backup");
	sg_store_close(&st);
	char *bstate = sg_xasprintf("%s/bstate", dir);
	char *cmd = sg_xasprintf("mkdir -p %s && mv %s %s/db", bstate, bdir, bstate);
	ok(system(cmd) == 0, "backup moved into a state dir");
	free(cmd);
	ok(sg_store_open(bstate, 0, &st) == 0, "backup opens as a store");
	ok(st != NULL && sg_store_msgid_lookup(st, NULL, "pb-299@test", &tid, &seq) == 0, "backup holds the data");
	sg_store_close(&st);
	free(bdir);
	free(bstate);
}

/* verify and catastrophic recovery of an environment that went through
 * a crash */
static void
test_verify_recover(void)
{
	uint64_t tid;
	uint32_t seq;
	struct sg_store *st = fixture("verify", one_ticket, NULL);

	if (st == NULL)
		return;
	ok(sg_store_checkpoint(st) == 0, "checkpoint before the files are read directly");
	sg_store_close(&st);
	run_child((void (*)(int, const char *))crash_child, 0, "crash-before@test");
	FILE *devnull = fopen("/dev/null", "w");
	ok(sg_store_verify(dir, devnull) == 0, "verify passes");
	fclose(devnull);
	ok(sg_store_recover(dir) == 0, "catastrophic recovery runs");
	ok(sg_store_open(dir, 0, &st) == 0 && sg_store_msgid_lookup(st, NULL, "one@test", &tid, &seq) == 0,
	   "data intact after recovery");
	sg_store_close(&st);
}


/* Scenarios that panic an environment under a live store run in a child:
 * Berkeley DB cannot free the handles of a panicked environment (every
 * call, close included, returns DB_RUNRECOVERY at its entry), about
 * 90 KB per panic that LeakSanitizer would report at exit; the child ends
 * with _exit. It returns a bit per failed check; the parent prints the
 * points (names[i] for bit i). */
static void
run_checks(int (*fn)(void), const char *const *names, int n)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		alarm(60);
		_exit(fn());
	}
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status), "%s: the scenario ran to its end (status %d)", names[0], status);
	for (int i = 0; i < n; i++)
		ok(WIFEXITED(status) && (WEXITSTATUS(status) & (1 << i)) == 0, "%s", names[i]);
}

/* Another process panics the environment under a live member (as a
 * process recovering it would): the call that meets the panic fails, the
 * next one reopens, and the data is all there. */
static int
panic_scenario(void)
{
	struct sg_ticket t = { 0 };
	uint64_t id1, id2 = 0;
	int status, bad = 0;
	struct sg_store *st = fixture("panic", one_ticket, &id1);

	if (st == NULL)
		return 0xff;
	pid_t pid = fork();
	if (pid == 0) {
		char *home = sg_xasprintf("%s/db", dir);
		DB_ENV *env;
		/* join without registering; DB_PANIC_ENVIRONMENT marks the
		 * shared region for every member */
		if (db_env_create(&env, 0) != 0 || env->open(env, home, DB_JOINENV, 0) != 0)
			_exit(2);
		env->set_flags(env, DB_PANIC_ENVIRONMENT, 1);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bad |= 1;
	if (sg_store_ticket_get(st, NULL, id1, &t) != SG_STORE_ERROR)
		bad |= 2;
	sg_ticket_clear(&t);
	if (sg_store_ticket_get(st, NULL, id1, &t) != 0 || strcmp(t.subject, "subject") != 0)
		bad |= 4;
	sg_ticket_clear(&t);
	if (commit_one(st, "after-panic@test", &id2) != 0 || id2 <= id1)
		bad |= 8;
	sg_store_close(&st);
	return bad;
}

static void
test_panic_reopen(void)
{
	static const char *const names[] = {
		"panic: another process panicked the environment",
		"panic: the next call fails",
		"panic: the call after it reopens the environment and reads the ticket",
		"panic: and writes again",
	};
	run_checks(panic_scenario, names, 4);
}

/* A member dies inside a transaction while another is alive, and stays
 * a zombie (not reaped): the next process to open repairs it within a
 * bound (no spin), and the live member works on, its data intact. */
static int
dead_member_scenario(void)
{
	uint64_t id1, id2 = 0, tid;
	uint32_t seq;
	int status, bad = 0;
	struct sg_store *st = fixture("dead-member", one_ticket, &id1);

	if (st == NULL)
		return 0xff;
	pid_t writer = fork();
	if (writer == 0)
		crash_child(0, "dead-member@test");
	/* a zombie until waitpid: wait for it to die without reaping */
	siginfo_t si;
	if (waitid(P_PID, writer, &si, WEXITED | WNOWAIT) != 0 || si.si_code != CLD_KILLED)
		bad |= 1;
	pid_t opener = fork();
	if (opener == 0) {
		struct sg_store *o;
		alarm(30);   /* a spinning failchk ends here, failing the check */
		if (sg_store_open(dir, 0, &o) != 0)
			_exit(2);
		sg_store_close(&o);
		_exit(0);
	}
	waitpid(opener, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bad |= 2;
	waitpid(writer, &status, 0);
	/* the live member sees one failed call (the opener's recovery
	 * panicked its environment), then works */
	if (commit_one(st, "live@test", &id2) != 0 && commit_one(st, "live@test", &id2) != 0)
		bad |= 4;
	if (sg_store_msgid_lookup(st, NULL, "dead-member@test", &tid, &seq) != SG_STORE_NOTFOUND)
		bad |= 8;
	if (sg_store_msgid_lookup(st, NULL, "one@test", &tid, &seq) != 0 || tid != id1)
		bad |= 16;
	sg_store_close(&st);
	return bad;
}

static void
test_dead_member(void)
{
	static const char *const names[] = {
		"dead-member: the writer died inside its transaction (a zombie now)",
		"dead-member: the next process opens",
		"dead-member: the live member writes again",
		"dead-member: nothing of the dead transaction",
		"dead-member: old data intact",
	};
	run_checks(dead_member_scenario, names, 5);
}

static struct sg_store *thr_store;
static int thr_bad;

static void *
thr_commit(void *arg)
{
	uint64_t id;
	char *mid = sg_xasprintf("thread-%d@test", *(int *)arg);

	if (commit_one(thr_store, mid, &id) != 0)
		__atomic_add_fetch(&thr_bad, 1, __ATOMIC_RELAXED);
	free(mid);
	return NULL;
}

/* Threads that come and go (one per milter connection): each has an id of
 * its own in the environment's thread table, reclaimed when it is gone. */
static void
test_threads(void)
{
	int n = 1500, nt = 0;

	fresh_dir("threads");
	if (!ok(sg_store_open(dir, SG_STORE_NOSYNC, &thr_store) == 0, "threads: store"))
		return;
	for (int i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, thr_commit, &i) != 0 || pthread_join(t, NULL) != 0)
			thr_bad++;
	}
	is_int(thr_bad, 0, "threads: %d short-lived threads each committed", n);
	sg_store_ticket_foreach(thr_store, count_tickets, &nt);
	is_int(nt, n, "threads: %d tickets", n);
	sg_store_close(&thr_store);
}

/* Durability follows the flag, not a DB_CONFIG in the environment. */
static void
test_durable(void)
{
	struct sg_store *st;

	fresh_dir("durable");
	ok(sg_store_open(dir, 0, &st) == 0 && sg_store_durable(st) == 1, "durable: synchronous by default");
	sg_store_close(&st);
	ok(sg_store_open(dir, SG_STORE_NOSYNC, &st) == 0 && sg_store_durable(st) == 0, "durable: not with NOSYNC");
	sg_store_close(&st);
	char *cfg = sg_test_write(dir, "db/DB_CONFIG", "set_flags DB_TXN_NOSYNC\nset_flags DB_TXN_WRITE_NOSYNC\n");
	ok(sg_store_open(dir, 0, &st) == 0 && sg_store_durable(st) == 1,
	   "durable: a DB_CONFIG turning commits non-durable is undone");
	sg_store_close(&st);
	free(cfg);
}

/* db recover refuses while another process uses the environment. */
static void
test_recover_refused(void)
{
	int status;
	struct sg_store *st = fixture("recover-refused", one_ticket, NULL);

	if (st == NULL)
		return;
	pid_t pid = fork();
	if (pid == 0)
		_exit(sg_store_recover(dir) == SG_STORE_ERROR ? 0 : 1);
	waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "recover: refused while another process has the store open");
	uint64_t id;
	ok(commit_one(st, "still@test", &id) == 0, "recover: ... which works on");
	sg_store_close(&st);
	ok(sg_store_recover(dir) == 0, "recover: runs once alone");
}


/* Whole tables (export/import), erasure helpers, sequences, emptiness. */
static int
count_pairs(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	(*(int *)arg)++;
	return 0;
}

static int
stop_at_first(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	(void)v;
	(void)vl;
	snprintf(arg, 64, "%.*s", (int)kl, (const char *)k);
	return 5;
}

static void
test_tables(void)
{
	char *sd = sg_xasprintf("%s/tables", sg_test_dir());
	struct sg_store *st;
	struct sg_txn *txn = NULL;
	int empty = 0, n = 0;
	uint64_t next = 0, id = 0, *ids = NULL;
	size_t nids = 0;
	char first[64] = "", *v = NULL;
	size_t vlen = 0;

	ok(sg_store_open(sd, SG_STORE_NOSYNC, &st) == 0, "tables: store");
	is_int(sg_store_is_empty(st, &empty), 0, "tables: emptiness read");
	is_int(empty, 1, "tables: a new store is empty (its sequences do not count)");
	is_int(sg_store_seq_peek(st, SG_META_SEQ_TICKET, &next), 0, "tables: peek");
	is_int((int)next, 1, "tables: the ticket sequence starts at 1");
	is_int(sg_store_seq_peek(st, "seq:nonesuch", &next), SG_STORE_ERROR, "tables: unknown sequence");

	sg_store_txn_begin(st, &txn);
	is_int(sg_store_table_put(st, txn, SG_TB_META, "b-key", 5, "1", 1), 0, "tables: put");
	is_int(sg_store_table_put(st, txn, SG_TB_META, "a-key", 5, "2", 1), 0, "tables: put another");
	is_int(sg_store_table_put(st, txn, SG_TB_META, "a-key", 5, "3", 1), SG_STORE_EXISTS, "tables: put refuses a key twice");
	is_int(sg_store_table_replace(st, txn, SG_TB_META, "a-key", 5, "4", 1), 0, "tables: replace overwrites");
	is_int(sg_store_customer_add(st, txn, "x@example.com", 7), 0, "tables: customer 7");
	is_int(sg_store_customer_add(st, txn, "x@example.com", 8), 0, "tables: customer 8");
	is_int(sg_store_table_put(st, txn, SG_TB_CUSTOMERS, "x@example.com", 13, "\0\0\0\0\0\0\0\x08", 8),
	       SG_STORE_EXISTS, "tables: a customers pair twice is refused");
	is_int(sg_store_kv_put(st, txn, "ack:x@example.com", "t", 1), 0, "tables: kv");
	is_int(sg_store_txn_commit(&txn), 0, "tables: commit");
	is_int(sg_store_is_empty(st, &empty), 0, "tables: emptiness read again");
	is_int(empty, 0, "tables: not empty any more");

	is_int(sg_store_table_walk(st, NULL, SG_TB_META, count_pairs, &n), 0, "tables: walk meta");
	is_int(n, 6, "tables: two sequences, the raw format, two keys, one kv");
	is_int(sg_store_table_walk(st, NULL, SG_TB_META, stop_at_first, first), 5, "tables: a callback's answer stops the walk");
	is_str(first, "a-key", "tables: key order");
	is_int(sg_store_meta_get(st, NULL, "a-key", &id), SG_STORE_ERROR, "tables: (a 1-byte value is not a u64)");

	sg_store_txn_begin(st, &txn);
	is_int(sg_store_customer_del(st, txn, "x@example.com", 7), 0, "tables: one customers pair removed");
	is_int(sg_store_customer_del(st, txn, "x@example.com", 7), SG_STORE_NOTFOUND, "tables: ... only once");
	is_int(sg_store_kv_del(st, txn, "ack:x@example.com"), 0, "tables: kv removed");
	is_int(sg_store_kv_del(st, txn, "ack:x@example.com"), SG_STORE_NOTFOUND, "tables: ... only once");
	is_int(sg_store_table_del(st, txn, SG_TB_META, "b-key", 5), 0, "tables: del");
	is_int(sg_store_table_del(st, txn, SG_TB_CUSTOMERS, "x@example.com", 13), SG_STORE_ERROR,
	       "tables: del refuses customers.db (pairs)");
	is_int(sg_store_txn_commit(&txn), 0, "tables: commit");
	is_int(sg_store_customer_tickets(st, NULL, "x@example.com", &ids, &nids), 0, "tables: customer lookup");
	ok(nids == 1 && ids[0] == 8, "tables: ticket 8 is left");
	free(ids);
	is_int(sg_store_kv_get(st, NULL, "ack:x@example.com", &v, &vlen), SG_STORE_NOTFOUND, "tables: kv gone");
	sg_store_txn_begin(st, &txn);
	is_int(sg_store_customer_del(st, txn, "x@example.com", 0), 0, "tables: every pair of an address");
	is_int(sg_store_txn_commit(&txn), 0, "tables: commit");
	is_int(sg_store_customer_tickets(st, NULL, "x@example.com", &ids, &nids), SG_STORE_NOTFOUND, "tables: none left");

	is_int(sg_store_seq_advance(st, SG_META_SEQ_TICKET, 100000), 0, "tables: advance the ticket sequence");
	is_int(sg_store_seq_peek(st, SG_META_SEQ_TICKET, &next), 0, "tables: peek again");
	is_int((int)next, 100000, "tables: next id is 100000");
	is_int(sg_store_seq_advance(st, SG_META_SEQ_TICKET, 5), 0, "tables: advancing backwards...");
	sg_store_ticket_new_id(st, NULL, &id);
	is_int((int)id, 100000, "tables: ... changes nothing: the next id is still 100000");
	sg_store_close(&st);
	free(sd);
}

/* raw.db's value under (ticket, seq) as the file holds it (read with
 * Berkeley DB alone, after a checkpoint and close): its length, -1 when
 * missing; its first byte in *first. */
static long
raw_on_disk(const char *sd, uint64_t ticket, uint32_t seq, int *first)
{
	char *path = sg_xasprintf("%s/db/%s", sd, SG_FILE_RAW);
	unsigned char k[12];
	DB *db = NULL;
	DBT key, val;
	long n = -1;

	for (int i = 0; i < 8; i++)
		k[i] = (unsigned char)(ticket >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		k[8 + i] = (unsigned char)(seq >> (24 - 8 * i));
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = k;
	key.size = 12;
	val.flags = DB_DBT_MALLOC;
	if (db_create(&db, NULL, 0) == 0 && db->open(db, NULL, path, NULL, DB_BTREE, DB_RDONLY, 0) == 0 &&
	    db->get(db, NULL, &key, &val, 0) == 0) {
		n = (long)val.size;
		*first = val.size > 0 ? ((unsigned char *)val.data)[0] : -1;
		free(val.data);
	}
	if (db != NULL)
		db->close(db, 0);
	free(path);
	return n;
}

/* A mail of len bytes that compresses (text). */
static char *
text_mail(size_t len)
{
	char *s = sg_xmalloc(len + 1);
	static const char line[] = "The printer on floor 3 prints blank pages since Monday; invoice 4711 too.\r\n";

	for (size_t i = 0; i < len; i++)
		s[i] = line[(i * 7 + i / 75) % (sizeof(line) - 1)];
	s[len] = '\0';
	return s;
}

static int
walk_raw(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	char *got = arg;
	(void)k;
	(void)kl;
	snprintf(got + strlen(got), 64, "%zu:%.4s,", vl, (const char *)v);
	return 0;
}

/* One message of raw[0..len) added to ticket id (own transaction). */
static int
add_msg(struct sg_store *st, uint64_t id, const char *raw, size_t len, uint32_t *seq)
{
	struct sg_msgrec m = { .ticket = id, .from = "x", .subject = "y" };
	struct sg_txn *txn;
	int rc;

	if ((rc = sg_store_txn_begin(st, &txn)) != 0)
		return rc;
	if ((rc = sg_store_message_add(st, txn, &m, raw, len)) != 0) {
		sg_store_txn_abort(&txn);
		return rc;
	}
	*seq = m.seq;
	return sg_store_txn_commit(&txn);
}

/* The message's bytes read back equal raw[0..len). */
static int
reads_back(struct sg_store *st, uint64_t id, uint32_t seq, const char *raw, size_t len)
{
	struct sg_msgrec m;
	char *got = NULL;
	size_t n = 0;
	int good = sg_store_message_get(st, NULL, id, seq, &m, &got, &n) == 0 && n == len &&
		   memcmp(got, raw, len) == 0 && got[len] == '\0';

	if (got != NULL)
		sg_msgrec_clear(&m);
	free(got);
	return good;
}

/* A new store keeps raw messages packed: text compressed on disk, read
 * back as it came, walked (export) as it came; the store says so in
 * meta.db, which an emptiness check and the export pass over. */
static void
test_raw_packed(void)
{
	struct sg_store *st = NULL;
	uint64_t id = 0, fmt = 0;
	uint32_t s1 = 0, s2 = 0;
	int first = -1, empty = 0;
	char *big = text_mail(65536), got[256] = "";

	fresh_dir("raw-packed");
	ok(sg_store_open(dir, 0, &st) == 0, "packed: a new store");
	ok(sg_store_meta_get(st, NULL, SG_META_RAWFMT, &fmt) == 0 && fmt == SG_RAWFMT_PACKED,
	   "packed: marked so at its first open");
	ok(sg_store_is_empty(st, &empty) == 0 && empty, "packed: the mark alone is still an empty store");
	ok(commit_one(st, "p1@test", &id) == 0, "packed: a ticket");
	ok(add_msg(st, id, big, 65536, &s1) == 0 && add_msg(st, id, "short\r\n", 7, &s2) == 0, "packed: two more messages");
	ok(reads_back(st, id, s1, big, 65536) && reads_back(st, id, s2, "short\r\n", 7) &&
	   reads_back(st, id, 1, "raw bytes", 9), "packed: every message read back as it came");
	ok(sg_store_table_walk(st, NULL, SG_TB_RAW, walk_raw, got) == 0, "packed: raw.db walked");
	char want[64];
	snprintf(want, sizeof(want), "9:raw ,65536:%.4s,7:shor,", big);
	is_str(got, want, "packed: the walk (export) gives the messages' bytes");
	ok(sg_store_checkpoint(st) == 0, "packed: checkpoint before the file is read directly");
	sg_store_close(&st);
	long n = raw_on_disk(dir, id, s1, &first);
	ok(n > 0 && n < 65536 / 4 && first == 1, "packed: 64 KB of text takes %ld bytes in raw.db (method %d)", n, first);
	n = raw_on_disk(dir, id, s2, &first);
	ok(n == 8 && first == 0, "packed: a short mail stored as it is, after its method byte (%ld bytes)", n);

	/* reopened (as any later process): still packed */
	ok(sg_store_open(dir, 0, &st) == 0 && reads_back(st, id, s1, big, 65536), "packed: reopened, read back");
	/* a value that is not a packed one (written by a handle that writes
	 * as old releases did, into this packed store) is an error, not bytes */
	sg_store_close(&st);
	ok(sg_store_open(dir, SG_STORE_PLAIN_RAW, &st) == 0 && add_msg(st, id, "From: plain\r\n", 13, &s2) == 0,
	   "packed: a plain value slipped in");
	sg_store_close(&st);
	ok(sg_store_open(dir, 0, &st) == 0, "packed: reopened");
	enum sg_log_level lv = sg_log_get_level();
	sg_log_set_level(SG_LOG_FATAL);
	struct sg_msgrec m;
	char *raw = NULL;
	size_t rl = 0;
	is_int(sg_store_message_get(st, NULL, id, s2, &m, &raw, &rl), SG_STORE_ERROR, "packed: a bad value is an error");
	ok(raw == NULL, "packed: ... and no bytes");
	got[0] = '\0';
	is_int(sg_store_table_walk(st, NULL, SG_TB_RAW, walk_raw, got), SG_STORE_ERROR, "packed: it stops a walk (export)");
	sg_log_set_level(lv);
	sg_store_close(&st);
	free(big);
}

/* A store written before packing (no mark; values as they are) is read
 * as it is, keeps getting plain values, and is not marked while it holds
 * messages; emptied of them, it becomes packed at the next open. */
static void
test_raw_plain(void)
{
	struct sg_store *st = NULL;
	uint64_t id = 0, fmt = 0;
	uint32_t s1 = 0, s2 = 0;
	int first = -1;
	char *big = text_mail(20000);

	fresh_dir("raw-plain");
	ok(sg_store_open(dir, SG_STORE_PLAIN_RAW, &st) == 0, "plain: a store as an older release made it");
	is_int(sg_store_meta_get(st, NULL, SG_META_RAWFMT, &fmt), SG_STORE_NOTFOUND, "plain: not marked");
	ok(commit_one(st, "o1@test", &id) == 0 && add_msg(st, id, big, 20000, &s1) == 0, "plain: messages written");
	sg_store_close(&st);

	ok(sg_store_open(dir, 0, &st) == 0, "plain: opened by this release");
	is_int(sg_store_meta_get(st, NULL, SG_META_RAWFMT, &fmt), SG_STORE_NOTFOUND,
	       "plain: still not marked (it holds messages)");
	ok(reads_back(st, id, 1, "raw bytes", 9) && reads_back(st, id, s1, big, 20000), "plain: its messages read");
	ok(add_msg(st, id, big, 20000, &s2) == 0 && reads_back(st, id, s2, big, 20000), "plain: a new message read back");
	ok(sg_store_checkpoint(st) == 0, "plain: checkpoint");
	sg_store_close(&st);
	ok(raw_on_disk(dir, id, s2, &first) == 20000 && first == 'T', "plain: the new message as it is on disk");

	/* every message erased: the next open marks the store */
	ok(sg_store_open(dir, 0, &st) == 0, "plain: reopened");
	struct sg_txn *txn;
	unsigned char k[12] = { 0 };
	int rc = sg_store_txn_begin(st, &txn);
	for (uint32_t q = 1; rc == 0 && q <= s2; q++) {
		k[7] = (unsigned char)id;
		k[11] = (unsigned char)q;
		rc = sg_store_table_del(st, txn, SG_TB_RAW, k, 12);
	}
	ok(rc == 0 && sg_store_txn_commit(&txn) == 0, "plain: its raw messages erased");
	sg_store_close(&st);
	ok(sg_store_open(dir, 0, &st) == 0 && sg_store_meta_get(st, NULL, SG_META_RAWFMT, &fmt) == 0 &&
	   fmt == SG_RAWFMT_PACKED, "plain: emptied, marked packed at the next open");
	ok(add_msg(st, id, big, 20000, &s1) == 0 && reads_back(st, id, s1, big, 20000), "plain: and packs from then on");
	ok(sg_store_checkpoint(st) == 0, "plain: checkpoint");
	sg_store_close(&st);
	ok(raw_on_disk(dir, id, s1, &first) < 20000 / 4 && first == 1, "plain: on disk compressed");
	free(big);
}

/* Two transactions that deadlock: the background one writes b, the
 * waited one (a door's) a; then the background one asks for a (it waits)
 * and the waited one for b, closing the cycle (a in meta.db, b in
 * events.db: Berkeley DB locks B-tree pages, so two keys of one small
 * table would simply wait). Left to itself the detector rejects the
 * request that closed the cycle, the waited one's; with its priority
 * it must abort the background one, every time (SG_TEST_NO_PRIORITY=1
 * leaves the priority out: the test fails). */
struct prio_arg {
	struct sg_store *st;
	struct sg_txn *txn;
	int rc;
};

static void *
prio_background(void *arg)
{
	struct prio_arg *p = arg;

	p->rc = sg_store_table_replace(p->st, p->txn, SG_TB_META, "prio-a", 6, "B", 1);
	if (p->rc == SG_STORE_DEADLOCK)
		sg_store_txn_abort(&p->txn);
	else
		sg_store_txn_commit(&p->txn);
	return NULL;
}

static void
test_txn_priority(void)
{
	struct sg_store *st = NULL;
	int waited_ok = 1, background_lost = 1;

	fresh_dir("txn-priority");
	ok(sg_store_open(dir, SG_STORE_NOSYNC, &st) == 0, "priority: store");
	for (int round = 0; round < 10 && st != NULL; round++) {
		struct prio_arg bg = { st, NULL, -1 };
		struct sg_txn *w = NULL;
		pthread_t th;
		int rc;

		if (sg_store_txn_begin(st, &bg.txn) != 0 || sg_store_txn_begin(st, &w) != 0 ||
		    (getenv("SG_TEST_NO_PRIORITY") == NULL && sg_store_txn_waited(w) != 0)) {
			waited_ok = 0;
			break;
		}
		sg_store_table_replace(st, bg.txn, SG_TB_EVENTS, "prio-b", 6, "B", 1);
		sg_store_table_replace(st, w, SG_TB_META, "prio-a", 6, "W", 1);
		pthread_create(&th, NULL, prio_background, &bg);
		usleep(50000);   /* the background one waits for a */
		rc = sg_store_table_replace(st, w, SG_TB_EVENTS, "prio-b", 6, "W", 1);
		if (rc == 0)
			rc = sg_store_txn_commit(&w);
		else
			sg_store_txn_abort(&w);
		pthread_join(th, NULL);
		background_lost &= bg.rc == SG_STORE_DEADLOCK;
		waited_ok &= rc == 0;
	}
	ok(background_lost, "priority: the background transaction is the deadlock's victim, 10 of 10");
	ok(waited_ok, "priority: the waited one goes on and commits, 10 of 10");
	sg_store_close(&st);
}

static const struct sg_test tests[] = {
	{ "create", test_create },
	{ "messages", test_messages },
	{ "events", test_events },
	{ "customers", test_customers },
	{ "meta", test_meta },
	{ "abort", test_abort },
	{ "reopen", test_reopen },
	{ "crash-before-commit", test_crash_before_commit },
	{ "crash-after-commit", test_crash_after_commit },
	{ "group-commit", test_group_commit },
	{ "cache-priority", test_cache_priority },
	{ "concurrent", test_concurrent },
	{ "backup", test_backup },
	{ "verify-recover", test_verify_recover },
	{ "due-index", test_due_index },
	{ "old-store", test_old_store },
	{ "panic-reopen", test_panic_reopen },
	{ "dead-member", test_dead_member },
	{ "threads", test_threads },
	{ "durable", test_durable },
	{ "recover-refused", test_recover_refused },
	{ "tables", test_tables },
	{ "raw-packed", test_raw_packed },
	{ "raw-plain", test_raw_plain },
	{ "txn-priority", test_txn_priority },
};

int
main(void)
{
	int rc;

	sg_log_open_stderr("test-store");
	rc = SG_TEST_RUN(tests);
	free(dir);
	return rc;
}
