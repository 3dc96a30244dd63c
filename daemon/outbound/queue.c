/*
 * queue — see queue.h.
 */
#include "config.h"
#include "outbound/queue.h"

#include <stdlib.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "sched/due.h"
#include "store/schema.h"
#include "store/store.h"

#define MOD "queue"
#define REINDEX_BATCH 100

/* Missing entries are not errors: a job written before the indexes
 * existed has none until sg_queue_reindex() ran. */
static int
absent_ok(int rc)
{
	return rc == SG_STORE_NOTFOUND ? 0 : rc;
}

/* Due times are at least 1: sg_due_set() reads an old due of 0 as "no
 * entry", so an entry at 0 could never be moved. */
static int64_t
due_time(int64_t t)
{
	return t > 0 ? t : 1;
}

uint64_t
sg_queue_lane(const struct sg_job *j)
{
	if (j->ticket == 0)
		return 0;
	return j->kind == SG_JOB_WEBHOOK ? j->ticket | SG_LANE_WEBHOOK : j->ticket;
}

static int
ticket_put(struct sg_store *st, struct sg_txn *txn, const struct sg_job *j)
{
	unsigned char k[SG_KEY_JOBTICKET_LEN];

	if (j->ticket == 0)
		return 0;
	sg_key_jobticket(k, sg_queue_lane(j), j->id);
	return sg_store_index_put(st, txn, SG_TB_JOBTICKET, k, sizeof(k), "", 0);
}

/* Out of both indexes (j as stored: queued at j->due). */
static int
unindex(struct sg_store *st, struct sg_txn *txn, const struct sg_job *j)
{
	unsigned char k[SG_KEY_JOBTICKET_LEN];
	int rc;

	if (j->state != SG_JOB_QUEUED)
		return 0;
	if ((rc = absent_ok(sg_due_del(st, txn, SG_DUE_JOB, j->id, j->due))) != 0 || j->ticket == 0)
		return rc;
	sg_key_jobticket(k, sg_queue_lane(j), j->id);
	return absent_ok(sg_store_index_del(st, txn, SG_TB_JOBTICKET, k, sizeof(k)));
}

int
sg_queue_add(struct sg_store *st, struct sg_txn *txn, struct sg_job *j)
{
	int rc;

	j->state = SG_JOB_QUEUED;
	j->due = due_time(j->due);
	if ((rc = sg_store_job_add(st, txn, j)) != 0 || (rc = sg_due_set(st, txn, SG_DUE_JOB, j->id, 0, j->due, sg_queue_lane(j))) != 0)
		return rc;
	return ticket_put(st, txn, j);
}

int
sg_queue_mail(struct sg_store *st, struct sg_txn *txn, uint64_t ticket, const char *what, const char *from,
	      const char *to, const char *msg, size_t len, int64_t now, uint64_t *job_id)
{
	struct sg_job j = { 0 };
	int rc;

	j.ticket = ticket;
	j.kind = SG_JOB_SMTP;
	j.created = j.due = now;
	j.what = (char *)what;
	j.mail_from = (char *)from;
	sg_strlist_add(&j.rcpts, to, 0);
	j.payload = (char *)msg;
	j.payload_len = len;
	rc = sg_queue_add(st, txn, &j);
	sg_strlist_clear(&j.rcpts);
	if (job_id != NULL)
		*job_id = j.id;
	return rc;
}

int
sg_queue_defer(struct sg_store *st, struct sg_txn *txn, struct sg_job *j, int64_t due)
{
	int rc;

	if (j->state != SG_JOB_QUEUED) {
		sg_error(MOD, "job %llu: deferral of a dead letter", (unsigned long long)j->id);
		return SG_STORE_ERROR;
	}
	due = due_time(due);
	if ((rc = sg_due_set(st, txn, SG_DUE_JOB, j->id, j->due, due, sg_queue_lane(j))) != 0)
		return rc;
	j->due = due;
	return sg_store_job_put(st, txn, j);
}

int
sg_queue_dead(struct sg_store *st, struct sg_txn *txn, struct sg_job *j)
{
	int rc = unindex(st, txn, j);

	if (rc != 0)
		return rc;
	j->state = SG_JOB_DEAD;
	return sg_store_job_put(st, txn, j);
}

int
sg_queue_retry(struct sg_store *st, struct sg_txn *txn, struct sg_job *j, int64_t now)
{
	int64_t old = j->state == SG_JOB_QUEUED ? j->due : 0;
	int rc;

	now = due_time(now);
	if ((rc = sg_due_set(st, txn, SG_DUE_JOB, j->id, old, now, sg_queue_lane(j))) != 0 ||
	    (rc = ticket_put(st, txn, j)) != 0)
		return rc;
	j->due = now;
	j->state = SG_JOB_QUEUED;
	return sg_store_job_put(st, txn, j);
}

int
sg_queue_remove(struct sg_store *st, struct sg_txn *txn, const struct sg_job *j)
{
	int rc = unindex(st, txn, j);

	return rc != 0 ? rc : sg_store_job_del(st, txn, j->id);
}

struct head {
	uint64_t ticket, id;
	int found;
};

static int
head_one(const unsigned char *key, size_t klen, const unsigned char *val, size_t vlen, void *arg)
{
	struct head *h = arg;

	(void)val;
	(void)vlen;
	if (klen == SG_KEY_JOBTICKET_LEN && sg_key_get_u64(key) == h->ticket) {
		h->id = sg_key_get_u64(key + 8);
		h->found = 1;
	}
	return 1;   /* the first key at or after (ticket, 0) answers */
}

int
sg_queue_head(struct sg_store *st, struct sg_txn *txn, uint64_t lane, uint64_t *id)
{
	unsigned char k[SG_KEY_JOBTICKET_LEN];
	struct head h = { lane, 0, 0 };
	int rc;

	sg_key_jobticket(k, lane, 0);
	rc = sg_store_index_walk(st, txn, SG_TB_JOBTICKET, k, sizeof(k), head_one, &h);
	if (rc != 0 && rc != 1)
		return rc;
	if (!h.found)
		return SG_STORE_NOTFOUND;
	*id = h.id;
	return 0;
}

struct idlist {
	uint64_t *v;
	size_t n;
};

static int
collect_id(const struct sg_job *j, void *arg)
{
	struct idlist *l = arg;

	l->v = sg_xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = j->id;
	return 0;
}

/* Index ids[0..n) as they are now, in one transaction. */
static int
reindex_batch(struct sg_store *st, const uint64_t *ids, size_t n)
{
	int rc = SG_STORE_DEADLOCK;

	for (int attempt = 0; attempt < 5 && rc == SG_STORE_DEADLOCK; attempt++) {
		struct sg_txn *txn = NULL;

		if ((rc = sg_store_txn_begin(st, &txn)) != 0)
			return rc;
		for (size_t i = 0; i < n && rc == 0; i++) {
			struct sg_job j;
			int got = sg_store_job_get(st, txn, ids[i], &j);
			if (got == SG_STORE_NOTFOUND)
				continue;   /* delivered or dropped meanwhile */
			if ((rc = got) != 0)
				break;
			if (j.state == SG_JOB_QUEUED && (rc = sg_due_set(st, txn, SG_DUE_JOB, j.id, 0, j.due, sg_queue_lane(&j))) == 0)
				rc = ticket_put(st, txn, &j);
			sg_job_clear(&j);
		}
		if (rc == 0)
			rc = sg_store_txn_commit(&txn);
		else
			sg_store_txn_abort(&txn);
	}
	return rc;
}

int
sg_queue_reindex(struct sg_store *st)
{
	struct idlist l = { 0 };
	struct sg_txn *txn = NULL;
	uint64_t v = 0;
	int rc = sg_store_meta_get(st, NULL, SG_META_JOBIDX, &v);

	if (rc == 0 && v >= SG_JOBIDX_VERSION)
		return 0;
	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		return rc;
	if ((rc = sg_store_job_foreach(st, collect_id, &l)) == 0)
		for (size_t i = 0; i < l.n && rc == 0; i += REINDEX_BATCH)
			rc = reindex_batch(st, l.v + i, l.n - i < REINDEX_BATCH ? l.n - i : REINDEX_BATCH);
	if (rc == 0 && (rc = sg_store_txn_begin(st, &txn)) == 0) {
		if ((rc = sg_store_meta_put(st, txn, SG_META_JOBIDX, SG_JOBIDX_VERSION)) == 0)
			rc = sg_store_txn_commit(&txn);
		else
			sg_store_txn_abort(&txn);
	}
	if (rc == 0 && l.n > 0)
		sg_info(MOD, "%zu job(s) from before the due-time index indexed", l.n);
	free(l.v);
	return rc;
}
