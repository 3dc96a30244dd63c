/*
 * test-store-active — active.db, the index of tickets by their last time
 * (schema.h), and sg_store_ticket_foreach_since, which the report walks:
 * which tickets a walk from a time sees, that every kind of ticket write
 * (ticket_put, table_replace, table_del, an abort) keeps the index in
 * step, and that a store written before the index gets it built at open.
 */
#include "config.h"

#include <db.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/record.h"
#include "store/store.h"
#include "tap.h"

static struct sg_store *st;

/* Ticket id with the given status and times, written in its own txn. */
static int
put(uint64_t id, enum sg_status status, int64_t created, int64_t resolved, int64_t closed)
{
	struct sg_ticket t = { 0 };
	struct sg_txn *txn;

	t.id = id;
	t.status = status;
	t.subject = (char *)"s";
	t.requestor = (char *)"c@example.com";
	t.created = t.updated = created;
	t.resolved_at = resolved;
	t.closed_at = closed;
	if (sg_store_txn_begin(st, &txn) != 0)
		return -1;
	if (sg_store_ticket_put(st, txn, &t) != 0) {
		sg_store_txn_abort(&txn);
		return -1;
	}
	return sg_store_txn_commit(&txn);
}

struct seen {
	int n;
	uint64_t id[64];
	int stop_after;
};

static int
see(const struct sg_ticket *t, void *arg)
{
	struct seen *s = arg;

	if (s->n < 64)
		s->id[s->n++] = t->id;
	return s->stop_after != 0 && s->n >= s->stop_after ? 42 : 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The ids a walk from since sees, sorted, as "1,2,3" ("ERR" on failure). */
static const char *
since(int64_t from)
{
	static char out[256];
	struct seen s = { 0 };
	size_t at = 0;

	if (sg_store_ticket_foreach_since(st, from, see, &s) != 0)
		return "ERR";
	qsort(s.id, (size_t)s.n, sizeof(s.id[0]), cmp_u64);
	out[0] = '\0';
	for (int i = 0; i < s.n && at < sizeof(out) - 24; i++)
		at += (size_t)snprintf(out + at, sizeof(out) - at, "%s%llu", i ? "," : "", (unsigned long long)s.id[i]);
	return out;
}

static void
test_since(void)
{
	char *sd = sg_xasprintf("%s/a", sg_test_dir());
	struct sg_txn *txn;

	ok(sg_store_open(sd, SG_STORE_NOSYNC, &st) == 0, "store");
	ok(put(1, SG_ST_CLOSED, 10, 2000, 3000) == 0 &&        /* last time 3000 */
	   put(2, SG_ST_OPEN, 100, 0, 0) == 0 &&                /* open: always */
	   put(3, SG_ST_RESOLVED, 500, 1500, 0) == 0 &&         /* 1500 */
	   put(4, SG_ST_CLOSED, 100, 200, 300) == 0 &&          /* 300 */
	   put(5, SG_ST_NEW, 5000, 0, 0) == 0 &&
	   put(6, SG_ST_PENDING, 50, 0, 0) == 0 &&
	   put(7, SG_ST_CLOSED, 900, 0, 950) == 0,              /* closed without a resolution: 950 */
	   "seven tickets");
	is_str(since(1000), "1,2,3,5,6", "from 1000: the open ones and those created/resolved/closed since");
	is_str(since(951), "1,2,3,5,6", "from 951: the same");
	is_str(since(950), "1,2,3,5,6,7", "from 950: closed at 950 counts");
	is_str(since(3001), "2,5,6", "after every time: the open ones only");
	is_str(since(0), "1,2,3,4,5,6,7", "from 0: every ticket (the plain walk)");
	is_str(since(301), "1,2,3,5,6,7", "from 301: through the index, ticket 4 (closed at 300) is left out");
	is_str(since(10), "1,2,3,4,5,6,7", "from the first ticket's creation: every ticket (the plain walk)");

	ok(put(4, SG_ST_OPEN, 100, 200, 300) == 0, "ticket 4 reopened");
	ok(put(2, SG_ST_CLOSED, 100, 400, 400) == 0, "ticket 2 closed at 400");
	is_str(since(1000), "1,3,4,5,6", "a write moves the ticket's entry");

	ok(sg_store_txn_begin(st, &txn) == 0 && sg_store_table_del(st, txn, SG_TB_TICKETS, "\0\0\0\0\0\0\0\3", 8) == 0 &&
	   sg_store_txn_commit(&txn) == 0, "ticket 3 deleted (table_del)");
	is_str(since(1000), "1,4,5,6", "a deleted ticket leaves the index");

	struct sg_buf b = { 0 };
	struct sg_ticket t = { .id = 1, .status = SG_ST_CLOSED, .created = 10, .resolved_at = 20, .closed_at = 30 };
	sg_rec_ticket_encode(&b, &t);
	ok(sg_store_txn_begin(st, &txn) == 0 &&
	   sg_store_table_replace(st, txn, SG_TB_TICKETS, "\0\0\0\0\0\0\0\1", 8, b.data, b.len) == 0 &&
	   sg_store_txn_commit(&txn) == 0, "ticket 1 replaced (table_replace, closed at 30)");
	is_str(since(1000), "4,5,6", "a replaced record moves the entry");
	is_str(since(30), "1,2,4,5,6,7", "... to its new time");
	is_str(since(31), "2,4,5,6,7", "... and only there");

	t.id = 9;
	t.status = SG_ST_OPEN;
	free(b.data);
	memset(&b, 0, sizeof(b));
	sg_rec_ticket_encode(&b, &t);
	ok(sg_store_txn_begin(st, &txn) == 0 &&
	   sg_store_table_put(st, txn, SG_TB_TICKETS, "\0\0\0\0\0\0\0\x09", 8, b.data, b.len) == 0, "ticket 9 put");
	sg_store_txn_abort(&txn);
	is_str(since(1000), "4,5,6", "an aborted write leaves the index as it was");
	free(b.data);
	memset(&b, 0, sizeof(b));

	struct seen s = { .stop_after = 2 };
	ok(sg_store_ticket_foreach_since(st, 1000, see, &s) == 42 && s.n == 2,
	   "a callback's non-zero stops the walk and is returned");
	sg_store_close(&st);
	free(sd);
}

struct count {
	int n, late, open;
};

static int
count(const struct sg_ticket *t, void *arg)
{
	struct count *c = arg;

	c->n++;
	c->late += t->id >= 2491;
	c->open += t->status == SG_ST_OPEN;
	return 0;
}

/* A store without active.db (as written before it existed) gets it built
 * at open, from its tickets, and marked built. */
static void
test_old_store(void)
{
	char *sd = sg_xasprintf("%s/old", sg_test_dir()), *home = sg_xasprintf("%s/old/db", sg_test_dir());
	DB_ENV *env;
	int rc, empty = 0;

	ok(sg_store_open(sd, SG_STORE_NOSYNC, &st) == 0, "old: store");
	ok(sg_store_is_empty(st, &empty) == 0 && empty == 1, "old: a new store is empty (the index's mark does not count)");
	for (uint64_t id = 1; id <= 2500; id++)   /* more than one build batch */
		if (put(id, id % 10 == 0 ? SG_ST_OPEN : SG_ST_CLOSED, (int64_t)id, 0, (int64_t)id) != 0)
			break;
	sg_store_close(&st);
	rc = db_env_create(&env, 0);
	if (rc == 0)
		rc = env->open(env, home, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL, 0640);
	if (rc == 0)
		rc = env->dbremove(env, NULL, SG_FILE_ACTIVE, NULL, DB_AUTO_COMMIT);
	env->close(env, 0);
	ok(rc == 0, "old: active.db removed: the layout of an older release");
	ok(sg_store_open(sd, SG_STORE_NOSYNC, &st) == 0, "old: the older store opens");
	struct count c = { 0 };
	ok(st != NULL && sg_store_ticket_foreach_since(st, 2491, count, &c) == 0, "old: walk");
	/* closed at 2491..2499 and 2500 (open), the 249 open ones below */
	ok(c.n == 259 && c.late == 10 && c.open == 250, "old: the built index finds them (%d: %d late, %d open)", c.n,
	   c.late, c.open);
	memset(&c, 0, sizeof(c));
	ok(st != NULL && sg_store_ticket_foreach_since(st, 2600, count, &c) == 0 && c.n == 250 && c.open == 250,
	   "old: after the last time: the 250 open ones (%d)", c.n);
	sg_store_close(&st);
	ok(sg_store_open(sd, SG_STORE_NOSYNC, &st) == 0, "old: opens again (marked: no second build)");
	memset(&c, 0, sizeof(c));
	ok(st != NULL && sg_store_ticket_foreach_since(st, 2491, count, &c) == 0 && c.n == 259,
	   "old: the same tickets after the reopen (%d)", c.n);
	/* the files are read directly: the cache's pages first (as `db verify` does) */
	ok(st != NULL && sg_store_checkpoint(st) == 0, "old: checkpoint");
	sg_store_close(&st);
	FILE *devnull = fopen("/dev/null", "w");
	ok(sg_store_verify(sd, devnull) == 0, "old: verify passes on every file, active.db included");
	fclose(devnull);
	free(home);
	free(sd);
}

static const struct sg_test tests[] = {
	{ "since", test_since },
	{ "old", test_old_store },
};

int
main(void)
{
	sg_log_open_stderr("test-store-active");
	sg_log_set_level(SG_LOG_WARN);
	return SG_TEST_RUN(tests);
}
