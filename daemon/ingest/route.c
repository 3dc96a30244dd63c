/*
 * route — what the rules say about a message, and carrying it out
 * through the ticket operations; where the support copy goes.
 *
 * sg_route_decide() evaluates the rules (PCRE2) before the write
 * transaction: on a new ticket with no ticket, on a follow-up with the
 * ticket as read just before. The apply functions run inside the
 * transaction and only call ticket operations (ops.h), whose events name
 * the first matching rule as the actor.
 *
 * Rules on a follow-up may add tags, raise the priority or refuse the
 * mail; moving a ticket to another queue or agent is for people (`set`,
 * agents' commands), so queue and assign actions are ignored there.
 */
#include "config.h"
#include "ingest/state.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/headers.h"
#include "mail/token.h"
#include "outbound/queue.h"
#include "store/store.h"
#include "ticket/assign.h"
#include "ticket/ops.h"

#define MOD "ingest"

void
sg_route_decide(struct sg_ingest_state *s, const struct sg_ticket *existing)
{
	sg_route_clear(&s->route);
	if (s->c->rules == NULL)
		return;
	struct sg_rule_input ri = {
		.mi = s->mi, .env_from = s->in->env_from, .env_rcpt = s->in->env_rcpt, .nrcpt = s->in->nrcpt,
		.door = s->door, .auth = s->in->auth_user, .ticket = existing, .size = s->in->len,
	};
	sg_rules_eval(s->c->rules, &ri, &s->route, NULL);
}

/* An operation refused by its own checks (an unknown queue or agent in
 * the rules) is logged and skipped: the mail is still taken. */
static int
soft(struct sg_op *op, uint64_t id, int rc, const char *why)
{
	if (rc != SG_OP_INVALID)
		return rc;
	sg_log_ctx(SG_LOG_WARN, MOD, op->queue_id, id, "rule action not applied: %s", why ? why : "?");
	return 0;
}

static int
assign_new(struct sg_op *op, struct sg_ingest_state *s)
{
	const struct sg_rules *r = s->c->rules;
	const struct sg_route *ro = &s->route;
	struct sg_ticket *t = &s->t;
	const char *agent = ro->assign, *how = "rule", *why = NULL;
	int rc = 0;

	if (agent == NULL && ro->assign_strategy && t->queue != NULL && s->blind == NULL) {
		/* a blind queue's tickets are taken (#take), never dealt out */
		const struct sg_queue_def *q = sg_rules_queue(r, t->queue);
		if (q != NULL && (rc = sg_assign_pick(op->st, op->txn, r, q, &agent)) != 0)
			return rc;
		how = q && q->strategy == SG_STRAT_LEAST_OPEN ? "least-open" : "round-robin";
	}
	if (agent == NULL)
		return 0;
	return soft(op, t->id, sg_op_assign(op, t, agent, how, SG_OPF_ROUTING, &why), why);
}

/* The events of what the rules did name the first matching rule. */
static int
as_rule(struct sg_op *op, struct sg_ingest_state *s, int (*apply)(struct sg_op *, struct sg_ingest_state *))
{
	char *rule = s->route.matched.n ? sg_xasprintf("rule:%s", s->route.matched.v[0]) : NULL;
	const char *saved = op->actor;

	op->actor = rule ? rule : "system";
	int rc = apply(op, s);
	op->actor = saved;
	free(rule);
	return rc;
}

static int
apply_new(struct sg_op *op, struct sg_ingest_state *s)
{
	const struct sg_route *ro = &s->route;
	struct sg_ticket *t = &s->t;
	const char *why = NULL;
	int rc = 0;

	if (s->c->rules == NULL)
		return 0;
	if (ro->queue != NULL && strcmp(ro->queue, "default") != 0)
		rc = soft(op, t->id, sg_op_queue(op, t, ro->queue, SG_OPF_ROUTING, &why), why);
	if (rc == 0 && ro->priority >= 0)
		rc = sg_op_priority(op, t, (enum sg_priority)ro->priority);
	if (rc == 0 && ro->segment != NULL)
		rc = sg_op_segment(op, t, ro->segment);
	if (rc == 0 && ro->sla != NULL)
		rc = soft(op, t->id, sg_op_sla(op, t, ro->sla, &why), why);
	if (rc == 0 && ro->service != NULL)
		rc = soft(op, t->id, sg_op_service(op, t, ro->service, &why), why);
	if (rc == 0 && ro->tags.n > 0)
		rc = sg_op_tags(op, t, &ro->tags);
	/* Webhook delivery comes with the webhooks feature (I3); until then
	 * the request is recorded, not silently dropped. */
	for (size_t i = 0; rc == 0 && i < ro->webhooks.n; i++) {
		sg_log_ctx(SG_LOG_WARN, MOD, op->queue_id, t->id, "webhook %s requested; none configured", ro->webhooks.v[i]);
		rc = sg_event_emit(op, t, SG_EV_WEBHOOK, NULL, ro->webhooks.v[i],
				   "webhook %s requested; no webhooks are configured, nothing sent", ro->webhooks.v[i]);
	}
	if (rc == 0 && ro->language != NULL) {
		free(t->language);
		t->language = sg_xstrdup(ro->language);
	}
	return rc ? rc : assign_new(op, s);
}

int
sg_route_apply_new(struct sg_op *op, struct sg_ingest_state *s)
{
	return as_rule(op, s, apply_new);
}

static int
apply_followup(struct sg_op *op, struct sg_ingest_state *s)
{
	const struct sg_route *ro = &s->route;
	struct sg_ticket *t = &s->t;
	int rc = 0;

	if (ro->priority > (int)t->priority)
		rc = sg_op_priority(op, t, (enum sg_priority)ro->priority);
	if (rc == 0 && ro->tags.n > 0)
		rc = sg_op_tags(op, t, &ro->tags);
	return rc;
}

int
sg_route_apply_followup(struct sg_op *op, struct sg_ingest_state *s)
{
	return as_rule(op, s, apply_followup);
}

const char *
sg_route_destination(const struct sg_conf *c, const struct sg_ticket *t)
{
	if (t->assignee != NULL)
		return t->assignee;
	if (c->rules != NULL && t->queue != NULL) {
		const struct sg_queue_def *q = sg_rules_queue(c->rules, t->queue);
		return q ? q->mailbox : NULL;
	}
	return NULL;
}

/* The IMAP door (and `supportgate ingest`) has no envelope to re-route:
 * the message is forwarded to the destination through the outbound queue,
 * marked with the ticket headers, in the same transaction. */
int
sg_route_forward(struct sg_op *op, struct sg_ingest_state *s)
{
	const struct sg_conf *c = s->c;
	const char *dest = sg_route_destination(c, &s->t);
	struct sg_strlist to = { 0 };

	if (dest == NULL || sg_notice_from(c) == NULL)
		return 0;
	sg_strlist_add(&to, dest, 0);
	char *extra = sg_xasprintf("%sQueue: %s\r\n%sPriority: %s\r\n", c->header_prefix,
				   s->t.queue ? s->t.queue : "default", c->header_prefix, sg_priority_name(s->t.priority));
	size_t before = op->jobs;
	int rc = sg_notice_copy(op, s->t.id, "forward", &to, extra, s->in->raw, s->in->len);
	if (rc == 0 && op->jobs > before) {
		char *token = sg_token_format(c->ticket_tag, s->t.id, c->token_secret, c->token_secret_len);
		rc = sg_event_emit(op, &s->t, SG_EV_FORWARD, NULL, dest, "forwarded %s to %s", token, dest);
		free(token);
	}
	free(extra);
	sg_strlist_clear(&to);
	return rc;
}
