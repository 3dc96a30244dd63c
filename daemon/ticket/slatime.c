/*
 * slatime — see slatime.h.
 */
#include "config.h"
#include "ticket/slatime.h"

#include "calendar/calendar.h"
#include "conf/conf.h"
#include "rules/rules.h"
#include "sched/due.h"
#include "store/store.h"

static const uint8_t due_kind[2] = { SG_DUE_SLA_FR, SG_DUE_SLA_RES };

static const struct sg_sla_tier *
tier_of(const struct sg_conf *c, const struct sg_ticket *t)
{
	return c && c->rules ? sg_rules_tier(c->rules, t->sla_tier) : NULL;
}

static const struct sg_service_def *
service_of(const struct sg_conf *c, const struct sg_ticket *t)
{
	return c && c->rules ? sg_rules_service(c->rules, t->service) : NULL;
}

const struct sg_calendar *
sg_slatime_calendar(const struct sg_conf *c, const struct sg_ticket *t)
{
	const struct sg_service_def *sv = service_of(c, t);
	const struct sg_sla_tier *tier = tier_of(c, t);

	if (sv != NULL && sv->calendar != NULL)
		return sv->calendar;
	return tier ? tier->calendar : NULL;
}

int
sg_slatime_warn_pct(const struct sg_conf *c, const struct sg_ticket *t)
{
	const struct sg_sla_tier *tier = tier_of(c, t);

	if (tier != NULL && tier->warn_pct > 0)
		return tier->warn_pct;
	return c && c->sla_warn_percent > 0 && c->sla_warn_percent < 100 ? (int)c->sla_warn_percent : 80;
}

static int64_t
target_due(const struct sg_calendar *cal, int64_t from, const struct sg_sla_target *tg)
{
	if (tg->bdays > 0)
		return sg_calendar_add_days(cal, from, tg->bdays);
	if (tg->secs > 0)
		return sg_calendar_add(cal, from, tg->secs);
	return 0;
}

void
sg_slatime_compute(const struct sg_conf *c, struct sg_ticket *t)
{
	const struct sg_sla_tier *tier = tier_of(c, t);
	const struct sg_service_def *sv = service_of(c, t);
	const struct sg_calendar *cal = sg_slatime_calendar(c, t);
	const struct sg_sla_target none = { 0, 0 };
	const struct sg_sla_target *res = sv ? &sv->resolution : tier ? &tier->resolution : &none;

	t->first_response_due = tier ? target_due(cal, t->created, &tier->first_response) : 0;
	t->due = target_due(cal, t->created, res);
	if (t->due != 0 && t->paused_bsecs > 0)
		t->due = sg_calendar_add(cal, t->due, t->paused_bsecs);
}

int64_t
sg_slatime_warn_at(const struct sg_conf *c, const struct sg_ticket *t, enum sg_slatime_kind kind)
{
	const struct sg_calendar *cal = sg_slatime_calendar(c, t);
	int64_t pct = sg_slatime_warn_pct(c, t), due = kind == SG_SLATIME_FR ? t->first_response_due : t->due;
	int64_t paused = kind == SG_SLATIME_RES && t->paused_bsecs > 0 ? t->paused_bsecs : 0;

	if (due == 0)
		return 0;
	/* the target in business seconds, without the pauses that moved due */
	int64_t target = sg_calendar_between(cal, t->created, due) - paused;
	if (target < 0)
		target = 0;
	int64_t at = sg_calendar_add(cal, t->created, target * pct / 100 + paused);
	return at < due ? at : due;
}

void
sg_slatime_next(const struct sg_conf *c, const struct sg_ticket *t, struct sg_slatime_next *out)
{
	int done = t->status == SG_ST_RESOLVED || t->status == SG_ST_CLOSED;

	out->at[SG_SLATIME_FR] = out->at[SG_SLATIME_RES] = 0;
	if (t->first_response_due != 0 && t->first_response_at == 0 && !done && !(t->sla_fired & SG_SLA_FR_BREACH))
		out->at[SG_SLATIME_FR] = (t->sla_fired & SG_SLA_FR_WARN) ? t->first_response_due
					 : sg_slatime_warn_at(c, t, SG_SLATIME_FR);
	if (t->due != 0 && (t->status == SG_ST_NEW || t->status == SG_ST_OPEN) && !(t->sla_fired & SG_SLA_RES_BREACH))
		out->at[SG_SLATIME_RES] = (t->sla_fired & SG_SLA_RES_WARN) ? t->due : sg_slatime_warn_at(c, t, SG_SLATIME_RES);
}

int
sg_slatime_resched(struct sg_op *op, const struct sg_ticket *t, const struct sg_slatime_next *before)
{
	struct sg_slatime_next now;
	int rc = 0;

	sg_slatime_next(op->c, t, &now);
	for (int k = 0; k < 2 && rc == 0; k++) {
		if (now.at[k] == before->at[k])
			continue;
		if (now.at[k] != 0)
			rc = sg_due_set(op->st, op->txn, due_kind[k], t->id, before->at[k], now.at[k], 0);
		else if ((rc = sg_due_del(op->st, op->txn, due_kind[k], t->id, before->at[k])) == SG_STORE_NOTFOUND)
			rc = 0;
	}
	return rc;
}
