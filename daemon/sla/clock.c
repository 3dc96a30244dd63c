/*
 * clock — see clock.h.
 */
#include "config.h"
#include "sla/clock.h"
#include "sla/retention.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "sched/due.h"
#include "store/store.h"
#include "ticket/event.h"
#include "ticket/ops.h"

#define MOD "clock"
#define SG_CLOCK_BATCH 1000     /* tickets closed per pass at most */
#define SG_CLOCK_RETRIES 8

static int
on_resolved(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	(void)arg;
	if (t == NULL || ev->new_value == NULL || strcmp(ev->new_value, "resolved") != 0 || op->c->autoclose_days <= 0)
		return 0;
	return sg_due_set(op->st, op->txn, SG_DUE_AUTOCLOSE, t->id, 0, op->now + op->c->autoclose_days * 86400, 0);
}

void
sg_clock_subscribe(void)
{
	sg_event_subscribe(SG_EV_STATUS, on_resolved, NULL);
}

/* One entry in one transaction: close, reschedule or drop. */
static int
fire(struct sg_store *st, const struct sg_conf *c, const struct sg_due_entry *e, int64_t now, int *closed)
{
	struct sg_op op = { .st = st, .c = c, .now = now, .actor = "system" };
	struct sg_ticket t = { 0 };
	const char *why = NULL;
	int64_t when = 0;
	int rc;

	*closed = 0;
	if ((rc = sg_store_txn_begin(st, &op.txn)) != 0)
		return rc;
	rc = sg_due_del(st, op.txn, SG_DUE_AUTOCLOSE, e->id, e->due);
	if (rc == 0 || rc == SG_STORE_NOTFOUND)
		rc = sg_store_ticket_get(st, op.txn, e->id, &t);
	if (rc == 0 && t.status == SG_ST_RESOLVED) {
		when = t.updated + c->autoclose_days * 86400;
		if (c->autoclose_days > 0 && when > now)
			rc = sg_due_set(st, op.txn, SG_DUE_AUTOCLOSE, t.id, 0, when, 0);
		else if (c->autoclose_days > 0 && (rc = sg_op_status(&op, &t, SG_ST_CLOSED, "automatic close", &why)) == 0) {
			rc = sg_store_ticket_put(st, op.txn, &t);
			*closed = rc == 0;
		}
	}
	if (rc == SG_STORE_NOTFOUND)
		rc = 0;   /* the ticket is gone: the entry with it */
	if (rc == 0)
		rc = sg_store_txn_commit(&op.txn);
	sg_store_txn_abort(&op.txn);
	sg_ticket_clear(&t);
	return rc;
}

int
sg_clock_run_once(struct sg_store *st, const struct sg_conf *c, int64_t now, size_t *fired)
{
	struct sg_due_list d;
	int rc = sg_due_collect(st, SG_DUE_AUTOCLOSE, now, SG_CLOCK_BATCH, &d);
	size_t n = 0;

	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		int closed = 0;
		rc = SG_STORE_DEADLOCK;
		for (int a = 0; a < SG_CLOCK_RETRIES && rc == SG_STORE_DEADLOCK; a++)
			rc = fire(st, c, &d.v[i], now, &closed);
		if (rc == 0 && closed) {
			n++;
			sg_log_ctx(SG_LOG_INFO, MOD, NULL, d.v[i].id, "closed automatically (%ld days after resolution)",
				   c->autoclose_days);
		}
	}
	sg_due_list_clear(&d);
	if (fired != NULL)
		*fired = n;
	return rc;
}

static struct sg_store *clock_store;

static int
clock_pass(void *arg)
{
	struct sg_conf *c = sg_conf_current();

	(void)arg;
	if (c != NULL && sg_clock_run_once(clock_store, c, (int64_t)time(NULL), NULL) != 0)
		sg_log(SG_LOG_WARN, MOD, "timer pass failed; next pass in a minute");
	if (c != NULL && sg_retention_run_once(clock_store, c, (int64_t)time(NULL), NULL) != 0)
		sg_log(SG_LOG_WARN, MOD, "retention pass failed; next pass in a minute");
	sg_conf_unref(&c);
	return 0;
}

static struct sg_worker clock_worker = SG_WORKER_INIT(clock_pass, NULL, 60);

int
sg_clock_start(struct sg_store *st)
{
	clock_store = st;
	return sg_worker_start(&clock_worker);
}

void
sg_clock_stop(void)
{
	sg_worker_stop(&clock_worker);
}
