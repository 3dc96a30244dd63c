/*
 * retention — see retention.h.
 */
#include "config.h"
#include "sla/retention.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "outbound/queue.h"
#include "sched/due.h"
#include "store/store.h"
#include "ticket/event.h"
#include "ticket/erase.h"

#define MOD "retention"
#define SG_RETENTION_RETRIES 8

static int64_t
when(const struct sg_conf *c, int64_t closed_at)
{
	return closed_at + (int64_t)c->retention * 86400;
}

static int
on_status(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	(void)arg;
	if (t == NULL || ev->new_value == NULL || strcmp(ev->new_value, "closed") != 0 || op->c->retention <= 0)
		return 0;
	return sg_due_set(op->st, op->txn, SG_DUE_RETENTION, t->id, 0, when(op->c, op->now), 0);
}

/* The ticket's jobs (and, with forget, every job to that address): the
 * jobs table holds only mail not yet delivered, so the walk is short. */
struct jobpick {
	uint64_t ticket;
	const char *addr;
	uint64_t *ids;
	size_t n;
};

static int
pick_job(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	struct jobpick *p = arg;
	struct sg_job j = { 0 };
	int take;

	(void)k;
	(void)kl;
	if (sg_rec_job_decode(v, vl, &j) != 0)
		return 0;
	take = j.ticket == p->ticket;
	for (size_t i = 0; !take && p->addr != NULL && i < j.rcpts.n; i++)
		take = strcasecmp(j.rcpts.v[i], p->addr) == 0;
	if (take) {
		p->ids = sg_xreallocarray(p->ids, p->n + 1, sizeof(*p->ids));
		p->ids[p->n++] = j.id;
	}
	sg_job_clear(&j);
	return 0;
}

static int
on_erased(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	struct jobpick p = { .ticket = ev->ticket, .addr = ev->new_value };
	int rc;

	(void)t;
	(void)arg;
	rc = sg_store_table_walk(op->st, op->txn, SG_TB_JOBS, pick_job, &p);
	for (size_t i = 0; rc == 0 && i < p.n; i++) {
		struct sg_job j = { 0 };
		rc = sg_store_job_get(op->st, op->txn, p.ids[i], &j);
		if (rc == 0)
			rc = sg_queue_remove(op->st, op->txn, &j);
		else if (rc == SG_STORE_NOTFOUND)
			rc = 0;
		sg_job_clear(&j);
	}
	free(p.ids);
	return rc;
}

void
sg_retention_subscribe(void)
{
	sg_event_subscribe(SG_EV_STATUS, on_status, NULL);
	sg_event_subscribe(SG_EV_ERASED, on_erased, NULL);
}

/* Schedule the closed tickets once per retention value (see retention.h). */
struct fill {
	uint64_t *ids;
	int64_t *closed;
	size_t n;
};

static int
pick_closed(const struct sg_ticket *t, void *arg)
{
	struct fill *f = arg;

	if (t->status != SG_ST_CLOSED || sg_ticket_erased(t))
		return 0;
	f->ids = sg_xreallocarray(f->ids, f->n + 1, sizeof(*f->ids));
	f->closed = sg_xreallocarray(f->closed, f->n + 1, sizeof(*f->closed));
	f->ids[f->n] = t->id;
	f->closed[f->n++] = t->closed_at;
	return 0;
}

static int
backfill(struct sg_store *st, const struct sg_conf *c)
{
	struct fill f = { 0 };
	struct sg_txn *txn = NULL;
	uint64_t done = 0;
	int rc = sg_store_meta_get(st, NULL, SG_META_RETENTION, &done);

	if (rc == SG_STORE_NOTFOUND) {
		done = 0;
		rc = 0;
	}
	if (rc != 0 || (long)done == c->retention)
		return rc;
	if (c->retention > 0 && (rc = sg_store_ticket_foreach(st, pick_closed, &f)) == 0) {
		/* batches of 500: one transaction's locks stay small */
		for (size_t i = 0; rc == 0 && i < f.n; i++) {
			if (txn == NULL && (rc = sg_store_txn_begin(st, &txn)) != 0)
				break;
			rc = sg_due_set(st, txn, SG_DUE_RETENTION, f.ids[i], 0, when(c, f.closed[i]), 0);
			if (rc == 0 && (i % 500 == 499 || i + 1 == f.n))
				rc = sg_store_txn_commit(&txn);
		}
		sg_store_txn_abort(&txn);
	}
	if (rc == 0)
		rc = sg_store_meta_put(st, NULL, SG_META_RETENTION, (uint64_t)c->retention);
	if (rc == 0 && f.n > 0)
		sg_log(SG_LOG_INFO, MOD, "retention %ld days: %zu closed ticket(s) scheduled for erasure", c->retention,
		       f.n);
	free(f.ids);
	free(f.closed);
	return rc;
}

static int
fire(struct sg_store *st, const struct sg_conf *c, const struct sg_due_entry *e, int64_t now, int *erased)
{
	struct sg_op op = { .st = st, .c = c, .now = now, .actor = "system" };
	struct sg_ticket t = { 0 };
	int rc;

	*erased = 0;
	if ((rc = sg_store_txn_begin(st, &op.txn)) != 0)
		return rc;
	rc = sg_due_del(st, op.txn, SG_DUE_RETENTION, e->id, e->due);
	if (rc == 0 || rc == SG_STORE_NOTFOUND)
		rc = sg_store_ticket_get(st, op.txn, e->id, &t);
	if (rc == 0 && t.status == SG_ST_CLOSED && c->retention > 0 && !sg_ticket_erased(&t)) {
		if (when(c, t.closed_at) > now)
			rc = sg_due_set(st, op.txn, SG_DUE_RETENTION, t.id, 0, when(c, t.closed_at), 0);
		else if ((rc = sg_op_erase(&op, &t, NULL, NULL)) == 0 && (rc = sg_store_ticket_put(st, op.txn, &t)) == 0)
			*erased = 1;
	}
	if (rc == SG_STORE_NOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = sg_store_txn_commit(&op.txn);
	sg_store_txn_abort(&op.txn);
	sg_ticket_clear(&t);
	return rc;
}

int
sg_retention_run_once(struct sg_store *st, const struct sg_conf *c, int64_t now, size_t *erased)
{
	struct sg_due_list d = { 0 };
	size_t n = 0;
	int rc = backfill(st, c);

	if (rc == 0)
		rc = sg_due_collect(st, SG_DUE_RETENTION, now, SG_RETENTION_BATCH, &d);
	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		int done = 0;
		rc = SG_STORE_DEADLOCK;
		for (int a = 0; a < SG_RETENTION_RETRIES && rc == SG_STORE_DEADLOCK; a++)
			rc = fire(st, c, &d.v[i], now, &done);
		if (rc == 0 && done) {
			n++;
			sg_log_ctx(SG_LOG_INFO, MOD, NULL, d.v[i].id, "personal data erased (%ld days after closing)",
				   c->retention);
		}
	}
	sg_due_list_clear(&d);
	if (erased != NULL)
		*erased = n;
	return rc;
}
