/*
 * ops — see ops.h.
 */
#include "config.h"
#include "ticket/ops.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf/conf.h"
#include "lib/xalloc.h"
#include "mail/address.h"
#include "rules/rules.h"
#include "store/store.h"
#include "ticket/assign.h"
#include "ticket/slatime.h"
#include "calendar/calendar.h"

#define SG_OP_RETRIES 8
#define SG_PINGPONG_TRANSFERS 2   /* more than this many hands is ping-pong */

static int
is_open(enum sg_status s)
{
	return s == SG_ST_NEW || s == SG_ST_OPEN || s == SG_ST_PENDING;
}

/* The SLA fields a status move keeps (model/ticket.h): resolved_at, the
 * pause in pending, reopens; and the resolution due (slatime.h): moved
 * by the business time paused, or spent resolved before a reopen.
 * closed_before: closed_at before the move. */
static void
sla_status_fields(struct sg_op *op, struct sg_ticket *t, enum sg_status from, enum sg_status to, int64_t closed_before)
{
	const struct sg_calendar *cal = sg_slatime_calendar(op->c, t);
	int64_t shift = 0;

	if (from == SG_ST_PENDING && t->paused_since != 0) {
		int64_t secs = op->now > t->paused_since ? op->now - t->paused_since : 0;
		shift = sg_calendar_between(cal, t->paused_since, op->now);
		t->paused_secs += secs;
		t->paused_bsecs += shift;
		t->paused_since = 0;
	}
	if (to == SG_ST_PENDING)
		t->paused_since = op->now;
	if ((from == SG_ST_RESOLVED || from == SG_ST_CLOSED) && is_open(to)) {
		/* the clock stood still since the resolution (or the close) */
		int64_t stop = from == SG_ST_RESOLVED || (t->resolved_at != 0 && t->resolved_at <= closed_before)
				       ? t->resolved_at : closed_before;
		if (stop != 0)
			shift = sg_calendar_between(cal, stop, op->now);
		t->reopens++;
	}
	if (to == SG_ST_RESOLVED)
		t->resolved_at = op->now;
	if (shift > 0 && t->due != 0)
		t->due = sg_calendar_add(cal, t->due, shift);
}

int
sg_op_status(struct sg_op *op, struct sg_ticket *t, enum sg_status to, const char *reason, const char **why)
{
	enum sg_status from = t->status;
	int64_t closed_before = t->closed_at;
	struct sg_slatime_next timers;
	int rc = 0;

	if (from == to)
		return 0;
	if (!sg_ticket_transition_ok(from, to)) {
		*why = "this status change is not allowed";
		return SG_OP_INVALID;
	}
	sg_slatime_next(op->c, t, &timers);
	t->status = to;
	t->closed_at = to == SG_ST_CLOSED ? op->now : 0;
	t->updated = op->now;
	sla_status_fields(op, t, from, to, closed_before);
	if (t->assignee != NULL && is_open(from) != is_open(to))
		rc = sg_assign_count(op->st, op->txn, t->assignee, op->now, is_open(to) ? +1 : -1);
	if (rc == 0)
		rc = sg_event_emit(op, t, SG_EV_STATUS, sg_status_name(from), sg_status_name(to), "%s -> %s%s%s%s",
				   sg_status_name(from), sg_status_name(to), reason ? " (" : "", reason ? reason : "",
				   reason ? ")" : "");
	if (rc == 0 && (from == SG_ST_RESOLVED || from == SG_ST_CLOSED) && is_open(to))
		rc = sg_event_emit(op, t, SG_EV_REOPENED, sg_status_name(from), sg_status_name(to),
				   "reopened from %s (%u reopen%s)", sg_status_name(from), t->reopens, t->reopens == 1 ? "" : "s");
	if (rc == 0)
		rc = sg_slatime_resched(op, t, &timers);
	return rc;
}

int
sg_op_priority(struct sg_op *op, struct sg_ticket *t, enum sg_priority p)
{
	enum sg_priority from = t->priority;

	if (from == p)
		return 0;
	t->priority = p;
	t->updated = op->now;
	return sg_event_emit(op, t, SG_EV_PRIORITY, sg_priority_name(from), sg_priority_name(p), "%s -> %s",
			     sg_priority_name(from), sg_priority_name(p));
}

/* A queue or assignee change after routing: count it, flag ping-pong. */
static int
transfer(struct sg_op *op, struct sg_ticket *t, unsigned flags)
{
	if (flags & SG_OPF_ROUTING)
		return 0;
	if (++t->transfers <= SG_PINGPONG_TRANSFERS || sg_strlist_has(&t->tags, "ping-pong"))
		return 0;
	sg_strlist_add(&t->tags, "ping-pong", 1);
	return sg_event_emit(op, t, SG_EV_PINGPONG, NULL, NULL, "flagged ping-pong: %u transfers", t->transfers);
}

int
sg_op_queue(struct sg_op *op, struct sg_ticket *t, const char *queue, unsigned flags, const char **why)
{
	const char *from = t->queue ? t->queue : "default";
	const struct sg_rules *r = op->c->rules;
	int rc;

	if (strcmp(queue, "default") != 0 && (r == NULL || sg_rules_queue(r, queue) == NULL)) {
		*why = "unknown queue";
		return SG_OP_INVALID;
	}
	if (strcmp(from, queue) == 0)
		return 0;
	char *old = sg_xstrdup(from);
	free(t->queue);
	t->queue = sg_xstrdup(queue);
	t->updated = op->now;
	rc = sg_event_emit(op, t, SG_EV_QUEUE, old, queue, "%s -> %s", old, queue);
	free(old);
	return rc ? rc : transfer(op, t, flags);
}

int
sg_op_assign(struct sg_op *op, struct sg_ticket *t, const char *agent, const char *how, unsigned flags,
	     const char **why)
{
	const struct sg_rules *r = op->c->rules;
	int rc = 0;

	if (agent != NULL && (r == NULL || sg_rules_agent(r, agent) == NULL)) {
		*why = "unknown agent";
		return SG_OP_INVALID;
	}
	if ((agent == NULL && t->assignee == NULL) ||
	    (agent != NULL && t->assignee != NULL && strcasecmp(agent, t->assignee) == 0))
		return 0;
	char *old = t->assignee;
	/* Taking an unassigned ticket hands nothing over: not a transfer. */
	unsigned tflags = flags | (old == NULL ? SG_OPF_ROUTING : 0);
	t->assignee = agent ? sg_xstrdup(agent) : NULL;
	t->updated = op->now;
	if (is_open(t->status)) {
		if (old != NULL)
			rc = sg_assign_count(op->st, op->txn, old, op->now, -1);
		if (rc == 0 && agent != NULL)
			rc = sg_assign_count(op->st, op->txn, agent, op->now, +1);
	}
	if (rc == 0)
		rc = sg_event_emit(op, t, SG_EV_ASSIGNEE, old, agent, "%s -> %s (%s)", old ? old : "-",
				   agent ? agent : "-", how ? how : "set");
	free(old);
	return rc ? rc : transfer(op, t, tflags);
}

int
sg_op_tags(struct sg_op *op, struct sg_ticket *t, const struct sg_strlist *tags)
{
	size_t before = t->tags.n;

	for (size_t i = 0; i < tags->n; i++)
		sg_strlist_add(&t->tags, tags->v[i], 1);
	if (t->tags.n == before)
		return 0;
	GString *g = g_string_new("tags:");
	for (size_t i = before; i < t->tags.n; i++)
		g_string_append_printf(g, " %s", t->tags.v[i]);
	t->updated = op->now;
	int rc = sg_event_emit(op, t, SG_EV_TAGS, NULL, NULL, "%s", g->str);
	g_string_free(g, TRUE);
	return rc;
}

int
sg_op_untag(struct sg_op *op, struct sg_ticket *t, const struct sg_strlist *tags)
{
	GString *g = g_string_new("tags removed:");
	size_t removed = 0;

	for (size_t i = 0; i < tags->n; i++)
		for (size_t k = 0; k < t->tags.n; k++)
			if (strcasecmp(t->tags.v[k], tags->v[i]) == 0) {
				g_string_append_printf(g, " %s", t->tags.v[k]);
				free(t->tags.v[k]);
				memmove(&t->tags.v[k], &t->tags.v[k + 1], (t->tags.n - k - 1) * sizeof(char *));
				t->tags.n--;
				removed++;
				break;
			}
	int rc = 0;
	if (removed > 0) {
		t->updated = op->now;
		rc = sg_event_emit(op, t, SG_EV_TAGS, NULL, NULL, "%s", g->str);
	}
	g_string_free(g, TRUE);
	return rc;
}

int
sg_op_segment(struct sg_op *op, struct sg_ticket *t, const char *segment)
{
	if (t->segment != NULL && strcmp(t->segment, segment) == 0)
		return 0;
	free(t->segment);
	t->segment = sg_xstrdup(segment);
	t->updated = op->now;
	return sg_event_emit(op, t, SG_EV_SEGMENT, NULL, segment, "segment %s", segment);
}

/* After a change of tier or service: the due times afresh, the timers
 * moved, and the event. */
static int
sla_changed(struct sg_op *op, struct sg_ticket *t, const struct sg_slatime_next *timers, enum sg_event_type type,
	    const char *value, const char *what)
{
	char due[40] = "none";
	int64_t fr_before = t->first_response_due, due_before = t->due;
	int rc;

	sg_slatime_compute(op->c, t);
	/* a new target gets its own thresholds */
	if (t->first_response_due != fr_before)
		t->sla_fired &= (uint8_t)~(SG_SLA_FR_WARN | SG_SLA_FR_BREACH);
	if (t->due != due_before)
		t->sla_fired &= (uint8_t)~(SG_SLA_RES_WARN | SG_SLA_RES_BREACH);
	t->updated = op->now;
	if (t->due != 0)
		sg_calendar_format(sg_slatime_calendar(op->c, t), t->due, due, sizeof(due));
	rc = sg_event_emit(op, t, type, NULL, value, "%s %s, due %s", what, value, due);
	return rc ? rc : sg_slatime_resched(op, t, timers);
}

int
sg_op_sla(struct sg_op *op, struct sg_ticket *t, const char *tier, const char **why)
{
	struct sg_slatime_next timers;

	if (op->c->rules == NULL || sg_rules_tier(op->c->rules, tier) == NULL) {
		*why = "unknown SLA tier";
		return SG_OP_INVALID;
	}
	if (t->sla_tier != NULL && strcmp(t->sla_tier, tier) == 0)
		return 0;
	sg_slatime_next(op->c, t, &timers);
	free(t->sla_tier);
	t->sla_tier = sg_xstrdup(tier);
	return sla_changed(op, t, &timers, SG_EV_SLA, tier, "SLA tier");
}

int
sg_op_service(struct sg_op *op, struct sg_ticket *t, const char *service, const char **why)
{
	struct sg_slatime_next timers;

	if (op->c->rules == NULL || sg_rules_service(op->c->rules, service) == NULL) {
		*why = "unknown service";
		return SG_OP_INVALID;
	}
	if (t->service != NULL && strcmp(t->service, service) == 0)
		return 0;
	sg_slatime_next(op->c, t, &timers);
	free(t->service);
	t->service = sg_xstrdup(service);
	return sla_changed(op, t, &timers, SG_EV_SERVICE, service, "service");
}

int
sg_op_first_response(struct sg_op *op, struct sg_ticket *t)
{
	struct sg_slatime_next timers;

	if (t->first_response_at != 0)
		return 0;
	sg_slatime_next(op->c, t, &timers);
	t->first_response_at = op->now;
	return sg_slatime_resched(op, t, &timers);
}

#define SG_REASON_MAX 500

int
sg_op_reason(struct sg_op *op, struct sg_ticket *t, const char *text)
{
	int clear = text == NULL || *text == '\0' || strcmp(text, "-") == 0;
	char *r = clear ? NULL : sg_xstrndup(text, SG_REASON_MAX);

	for (char *p = r; p && *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\t')
			*p = ' ';
	if ((r == NULL && t->reason == NULL) || (r != NULL && t->reason != NULL && strcmp(r, t->reason) == 0)) {
		free(r);
		return 0;
	}
	free(t->reason);
	t->reason = r;
	t->updated = op->now;
	return sg_event_emit(op, t, SG_EV_REASON, NULL, r, "overdue reason: %s", r ? r : "(cleared)");
}

int
sg_op_note(struct sg_op *op, struct sg_ticket *t, const char *text)
{
	t->updated = op->now;
	return sg_event_emit(op, t, SG_EV_NOTE, NULL, NULL, "%.2000s", text);
}

#define SG_MERGE_PEOPLE 25      /* the same cap as ingest's participants */
#define SG_MERGE_HOPS 8

int
sg_op_merge(struct sg_op *op, struct sg_ticket *t, struct sg_ticket *target, const char **why)
{
	const char *w = NULL;
	char key[64];
	int rc;

	if (target->id == t->id) {
		*why = "a ticket cannot be merged into itself";
		return SG_OP_INVALID;
	}
	if (t->requestor && *t->requestor && target->participants.n < SG_MERGE_PEOPLE)
		sg_strlist_add(&target->participants, t->requestor, 1);
	for (size_t i = 0; i < t->participants.n && target->participants.n < SG_MERGE_PEOPLE; i++)
		sg_strlist_add(&target->participants, t->participants.v[i], 1);
	target->updated = op->now;
	snprintf(key, sizeof(key), SG_META_MERGED, (unsigned long long)t->id);
	if ((rc = sg_store_meta_put(op->st, op->txn, key, target->id)) != 0)
		return rc;
	if (t->status != SG_ST_CLOSED && (rc = sg_op_status(op, t, SG_ST_CLOSED, "merged", &w)) != 0)
		return rc == SG_OP_INVALID ? 0 : rc;
	if ((rc = sg_event_emit(op, t, SG_EV_MERGED, NULL, NULL, "merged into #%llu", (unsigned long long)target->id)) != 0)
		return rc;
	return sg_event_emit(op, target, SG_EV_MERGED, NULL, NULL, "#%llu merged into this ticket",
			     (unsigned long long)t->id);
}

int
sg_ticket_merged_into(struct sg_store *st, struct sg_txn *txn, uint64_t id, uint64_t *to)
{
	char key[64];
	uint64_t next;
	int rc = 0;

	*to = id;
	for (int hop = 0; hop < SG_MERGE_HOPS; hop++) {
		snprintf(key, sizeof(key), SG_META_MERGED, (unsigned long long)*to);
		if ((rc = sg_store_meta_get(st, txn, key, &next)) != 0)
			break;
		*to = next;
	}
	return rc == SG_STORE_NOTFOUND ? 0 : rc;
}

/* One field of `set`: parse value, call the operation. */
static int
apply_field(struct sg_op *op, struct sg_ticket *t, const char *field, const char *value, const char **why)
{
	if (strcmp(field, "status") == 0) {
		int s = sg_status_parse(value);
		if (s < 0) {
			*why = "status is new, open, pending, resolved or closed";
			return SG_OP_INVALID;
		}
		return sg_op_status(op, t, (enum sg_status)s, NULL, why);
	}
	if (strcmp(field, "priority") == 0) {
		int p = sg_priority_parse(value);
		if (p < 0) {
			*why = "priority is low, normal, high or urgent";
			return SG_OP_INVALID;
		}
		return sg_op_priority(op, t, (enum sg_priority)p);
	}
	if (strcmp(field, "queue") == 0)
		return sg_op_queue(op, t, value, 0, why);
	if (strcmp(field, "assignee") == 0 || strcmp(field, "assign") == 0) {
		if (strcmp(value, "-") == 0 || strcmp(value, "none") == 0)
			return sg_op_assign(op, t, NULL, "set", 0, why);
		char *a = sg_addr_normalize(value);
		int rc = a ? sg_op_assign(op, t, a, "set", 0, why) : (*why = "not an address", SG_OP_INVALID);
		free(a);
		return rc;
	}
	if (strcmp(field, "segment") == 0)
		return sg_op_segment(op, t, value);
	if (strcmp(field, "sla") == 0)
		return sg_op_sla(op, t, value, why);
	if (strcmp(field, "tag") == 0) {
		struct sg_strlist l = { 0 };
		sg_strlist_add(&l, value, 1);
		int rc = sg_op_tags(op, t, &l);
		sg_strlist_clear(&l);
		return rc;
	}
	if (strcmp(field, "note") == 0)
		return sg_op_note(op, t, value);
	if (strcmp(field, "service") == 0)
		return sg_op_service(op, t, value, why);
	if (strcmp(field, "reason") == 0)
		return sg_op_reason(op, t, value);
	*why = "field is status, priority, queue, assignee, segment, sla, service, reason, tag or note";
	return SG_OP_INVALID;
}

static char *
describe(const struct sg_ticket *before, const struct sg_ticket *t, const char *field, const char *value)
{
	if (strcmp(field, "status") == 0)
		return sg_xasprintf("%s -> %s", sg_status_name(before->status), sg_status_name(t->status));
	if (strcmp(field, "priority") == 0)
		return sg_xasprintf("%s -> %s", sg_priority_name(before->priority), sg_priority_name(t->priority));
	if (strcmp(field, "queue") == 0)
		return sg_xasprintf("%s -> %s", before->queue ? before->queue : "default", t->queue ? t->queue : "default");
	if (strcmp(field, "assignee") == 0 || strcmp(field, "assign") == 0)
		return sg_xasprintf("%s -> %s", before->assignee ? before->assignee : "-", t->assignee ? t->assignee : "-");
	return sg_xasprintf("%s", value);
}

int
sg_ticket_change(struct sg_store *st, const struct sg_conf *c, uint64_t id, const char *field, const char *value,
		 const char *actor, char **done, char **why)
{
	int rc = SG_STORE_DEADLOCK;

	*done = *why = NULL;
	for (int attempt = 0; attempt < SG_OP_RETRIES && rc == SG_STORE_DEADLOCK; attempt++) {
		struct sg_op op = { .st = st, .c = c, .now = (int64_t)time(NULL), .actor = actor };
		struct sg_ticket t = { 0 };
		const char *w = NULL;
		struct sg_ticket before = { 0 };

		if ((rc = sg_store_txn_begin(st, &op.txn)) != 0)
			break;
		rc = sg_store_ticket_get(st, op.txn, id, &t);
		if (rc == 0) {
			before.status = t.status;
			before.priority = t.priority;
			before.queue = t.queue ? sg_xstrdup(t.queue) : NULL;
			before.assignee = t.assignee ? sg_xstrdup(t.assignee) : NULL;
			rc = apply_field(&op, &t, field, value, &w);
		}
		if (rc == 0)
			rc = sg_store_ticket_put(st, op.txn, &t);
		if (rc == 0)
			rc = sg_store_txn_commit(&op.txn);
		sg_store_txn_abort(&op.txn);
		if (rc == 0)
			*done = describe(&before, &t, field, value);
		else if (rc == SG_OP_INVALID && strcmp(field, "status") == 0)
			*why = sg_xasprintf("cannot go from %s to %s", sg_status_name(before.status), value);
		else if (rc == SG_OP_INVALID)
			*why = sg_xasprintf("%s: %s '%s'", field, w ? w : "not allowed", value);
		sg_ticket_clear(&before);
		sg_ticket_clear(&t);
	}
	return rc;
}
