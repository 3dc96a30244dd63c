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
#include "ticket/slatime.h"
#include "calendar/calendar.h"

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

/* The system's overdue reason (clock.h). */
static const char *
system_reason(const struct sg_ticket *t)
{
	if (t->assignee == NULL)
		return "not assigned";
	if (t->transfers > 0)
		return "waiting on another team";
	return "no agent reply";
}

/* One SLA entry in one transaction: fire its threshold (the bit, the
 * event, the reason, the next timer, all committed together), or move
 * an entry that is no longer where the ticket's timer belongs. */
static int
fire_sla(struct sg_store *st, const struct sg_conf *c, const struct sg_due_entry *e, int64_t now, int *fired)
{
	struct sg_op op = { .st = st, .c = c, .now = now, .actor = "system" };
	enum sg_slatime_kind k = e->kind == SG_DUE_SLA_FR ? SG_SLATIME_FR : SG_SLATIME_RES;
	struct sg_ticket t = { 0 };
	struct sg_slatime_next before;
	int rc;

	*fired = 0;
	if ((rc = sg_store_txn_begin(st, &op.txn)) != 0)
		return rc;
	rc = sg_due_del(st, op.txn, e->kind, e->id, e->due);
	if (rc == 0 || rc == SG_STORE_NOTFOUND)
		rc = sg_store_ticket_get(st, op.txn, e->id, &t);
	if (rc == 0) {
		sg_slatime_next(c, &t, &before);
		before.at[k] = 0;   /* this entry is gone already */
		int64_t at = 0;
		struct sg_slatime_next cur;
		sg_slatime_next(c, &t, &cur);
		at = cur.at[k];
		if (at != 0 && at <= now) {
			unsigned warn = k == SG_SLATIME_FR ? SG_SLA_FR_WARN : SG_SLA_RES_WARN;
			unsigned breach = k == SG_SLATIME_FR ? SG_SLA_FR_BREACH : SG_SLA_RES_BREACH;
			int64_t due = k == SG_SLATIME_FR ? t.first_response_due : t.due;
			const char *what = k == SG_SLATIME_FR ? "first-response" : "resolution";
			int is_breach = now >= due;   /* past the due: the breach (a warning now would be noise) */
			char when[40];
			sg_calendar_format(sg_slatime_calendar(c, &t), due, when, sizeof(when));
			t.sla_fired |= (uint8_t)(is_breach ? warn | breach : warn);
			if (is_breach && t.reason == NULL)
				rc = sg_op_reason(&op, &t, system_reason(&t));
			if (rc == 0 && is_breach)
				rc = sg_event_emit(&op, &t, SG_EV_SLA_BREACH, t.sla_tier, what, "%s target missed: due %s%s%s",
						   what, when, t.reason ? "; reason: " : "", t.reason ? t.reason : "");
			else if (rc == 0)
				rc = sg_event_emit(&op, &t, SG_EV_SLA_WARNING, t.sla_tier, what, "%s: %d%% of the target passed, due %s",
						   what, sg_slatime_warn_pct(c, &t), when);
			/* webhooks and metrics subscribe to these events (outbound/webhook.c, metrics/) */
			*fired = rc == 0;
		}
		if (rc == 0)
			rc = sg_slatime_resched(&op, &t, &before);
		if (rc == 0 && *fired)
			rc = sg_store_ticket_put(st, op.txn, &t);
	}
	if (rc == SG_STORE_NOTFOUND)
		rc = 0;   /* the ticket is gone: the entry with it */
	if (rc == 0)
		rc = sg_store_txn_commit(&op.txn);
	else
		*fired = 0;
	sg_store_txn_abort(&op.txn);
	sg_ticket_clear(&t);
	return rc;
}

static int
run_sla(struct sg_store *st, const struct sg_conf *c, int64_t now, uint8_t kind, size_t *n)
{
	struct sg_due_list d;
	int rc = sg_due_collect(st, kind, now, SG_CLOCK_BATCH, &d);

	for (size_t i = 0; rc == 0 && i < d.n; i++) {
		int fired = 0;
		rc = SG_STORE_DEADLOCK;
		for (int a = 0; a < SG_CLOCK_RETRIES && rc == SG_STORE_DEADLOCK; a++)
			rc = fire_sla(st, c, &d.v[i], now, &fired);
		if (rc == 0 && fired) {
			(*n)++;
			sg_log_ctx(SG_LOG_INFO, MOD, NULL, d.v[i].id, "SLA %s threshold fired",
				   kind == SG_DUE_SLA_FR ? "first-response" : "resolution");
		}
	}
	sg_due_list_clear(&d);
	return rc;
}

int
sg_clock_run_sla(struct sg_store *st, const struct sg_conf *c, int64_t now, size_t *fired)
{
	size_t n = 0;
	int rc = run_sla(st, c, now, SG_DUE_SLA_FR, &n);

	if (rc == 0)
		rc = run_sla(st, c, now, SG_DUE_SLA_RES, &n);
	if (fired != NULL)
		*fired = n;
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
static int clock_pass(void *arg);
static struct sg_worker clock_worker = SG_WORKER_INIT(clock_pass, NULL, 60);

/* Keys stepped over looking for the next timer (jobs' entries lie
 * between): past that the thread simply wakes at its period. */
#define SG_CLOCK_PEEK 256

static int
clock_pass(void *arg)
{
	struct sg_conf *c = sg_conf_current();
	int64_t now = (int64_t)time(NULL), next = 0;

	(void)arg;
	if (!sg_store_writable(clock_store))   /* a replica: the master runs the timers */
		sg_conf_unref(&c);
	if (c != NULL && sg_clock_run_once(clock_store, c, now, NULL) != 0)
		sg_log(SG_LOG_WARN, MOD, "timer pass failed; next pass in a minute");
	if (c != NULL && sg_clock_run_sla(clock_store, c, now, NULL) != 0)
		sg_log(SG_LOG_WARN, MOD, "SLA timer pass failed; next pass in a minute");
	if (c != NULL && sg_retention_run_once(clock_store, c, now, NULL) != 0)
		sg_log(SG_LOG_WARN, MOD, "retention pass failed; next pass in a minute");
	sg_conf_unref(&c);
	/* wake for the next timer when it comes before the period is over */
	if (sg_due_next(clock_store, SG_DUE_AUTOCLOSE, SG_DUE_SLA_RES, now, SG_CLOCK_PEEK, &next) == 0 && next > now)
		clock_worker.wait = next - now < clock_worker.period ? (int)(next - now) : 0;
	return 0;
}

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
