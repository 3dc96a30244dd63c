/*
 * apply — see apply.h.
 */
#include "config.h"
#include "cmd/apply.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/conf.h"
#include "lib/xalloc.h"
#include "mail/address.h"
#include "rules/rules.h"
#include "store/store.h"
#include "ticket/ops.h"

static int
in_queue(const struct sg_rules *r, const char *agent, const char *queue)
{
	if (queue == NULL || strcmp(queue, "default") == 0)
		return 1;   /* the default queue is everyone's */
	const struct sg_queue_def *q = sg_rules_queue(r, queue);
	const struct sg_agent_def *a = sg_rules_agent(r, agent);
	return q != NULL && (sg_strlist_has(&q->agents, agent) || (a != NULL && sg_strlist_has(&a->groups, queue)));
}

static int
manages(const struct sg_rules *r, const char *agent, const char *queue)
{
	const struct sg_queue_def *q = queue ? sg_rules_queue(r, queue) : NULL;
	return q != NULL && q->manager != NULL && strcasecmp(q->manager, agent) == 0;
}

const char *
sg_cmd_agent(const struct sg_conf *c, const char *who)
{
	const struct sg_rules *r = c->rules;
	char *a = strchr(who, '@') ? sg_addr_normalize(who) : NULL;
	const struct sg_agent_def *ag = a ? sg_rules_agent(r, a) : NULL;

	free(a);
	for (size_t i = 0; ag == NULL && i < sg_rules_nagents(r); i++) {
		const struct sg_agent_def *d = sg_rules_agent_at(r, i);
		if (d->name != NULL && strcasecmp(d->name, who) == 0)
			ag = d;
	}
	return ag ? ag->address : NULL;
}

/* Why agent may not run command k with arg on t, or NULL. */
static const char *
refusal(const struct sg_conf *c, const char *agent, const struct sg_ticket *t, enum sg_cmd_kind k, const char *arg)
{
	const struct sg_rules *r = c->rules;
	int admin = sg_strlist_has(&c->admins, agent);
	int manager = manages(r, agent, t->queue);
	int member = admin || manager || in_queue(r, agent, t->queue) ||
		     (t->assignee != NULL && strcasecmp(t->assignee, agent) == 0);

	if (!member)
		return "this ticket is not in one of your queues";
	if (k == SG_CMD_STATUS && !sg_ticket_transition_ok(t->status, (enum sg_status)sg_status_parse(arg)))
		return "not allowed from the ticket's current status";
	if (k == SG_CMD_QUEUE) {
		if (strcmp(arg, "default") != 0 && sg_rules_queue(r, arg) == NULL)
			return "no such queue";
		if (!admin && !(manager && manages(r, agent, arg)))
			return "moving to another queue takes a manager of both queues";
	}
	if (k == SG_CMD_ASSIGN) {
		const char *to = sg_cmd_agent(c, arg);
		if (to == NULL)
			return "no such agent";
		if (!admin && !manager && !in_queue(r, to, t->queue))
			return "that agent is not in this ticket's queue";
	}
	if (k == SG_CMD_SLA) {
		long f, res;
		if (!sg_rules_sla(r, arg, &f, &res))
			return "no such SLA tier";
	}
	if (k == SG_CMD_SERVICE && sg_rules_service(r, arg) == NULL)
		return "no such service";
	return NULL;
}

size_t
sg_cmd_check(const struct sg_conf *c, const char *agent, const struct sg_ticket *t, const struct sg_cmdlist *cl,
	     struct sg_strlist *errors)
{
	size_t bad = 0;

	if (c->rules == NULL)
		return 0;
	for (size_t i = 0; i < cl->n; i++) {
		const char *why = refusal(c, agent, t, cl->v[i].kind, cl->v[i].arg);
		if (why != NULL) {
			char *e = sg_xasprintf("%s: %s", cl->v[i].line, why);
			sg_strlist_add(errors, e, 0);
			free(e);
			bad++;
		}
	}
	return bad;
}

static int
tags(struct sg_op *op, struct sg_ticket *t, const char *arg)
{
	struct sg_strlist add = { 0 }, del = { 0 };
	int rc;

	for (const char *p = arg; *p;) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (n > 1) {
			char *w = sg_xstrndup(p + 1, n - 1);
			sg_strlist_add(*p == '+' ? &add : &del, w, 1);
			free(w);
		}
		p += n;
	}
	rc = sg_op_tags(op, t, &add);
	if (rc == 0)
		rc = sg_op_untag(op, t, &del);
	sg_strlist_clear(&add);
	sg_strlist_clear(&del);
	return rc;
}

/* #merge N: the agent needs rights on both tickets. */
static int
merge(struct sg_op *op, struct sg_ticket *t, const char *arg, const char *agent, const char **why)
{
	struct sg_ticket target = { 0 };
	uint64_t id = strtoull(arg + (*arg == '#'), NULL, 10);
	int rc = sg_ticket_merged_into(op->st, op->txn, id, &id);

	if (rc == 0 && (rc = sg_store_ticket_get(op->st, op->txn, id, &target)) == SG_STORE_NOTFOUND) {
		*why = "no such ticket";
		return SG_OP_INVALID;
	}
	if (rc == 0 && (*why = refusal(op->c, agent, &target, SG_CMD_MERGE, arg)) != NULL)
		rc = SG_OP_INVALID;
	if (rc == 0 && (rc = sg_op_merge(op, t, &target, why)) == 0)
		rc = sg_store_ticket_put(op->st, op->txn, &target);
	sg_ticket_clear(&target);
	return rc;
}

static int
one(struct sg_op *op, struct sg_ticket *t, const struct sg_cmd *cmd, const char *agent, const char **why)
{
	switch (cmd->kind) {
	case SG_CMD_STATUS:
		return sg_op_status(op, t, (enum sg_status)sg_status_parse(cmd->arg), NULL, why);
	case SG_CMD_ASSIGN:
		return sg_op_assign(op, t, sg_cmd_agent(op->c, cmd->arg), "assign", 0, why);
	case SG_CMD_TAKE:
		return sg_op_assign(op, t, agent, "take", 0, why);
	case SG_CMD_QUEUE:
		return sg_op_queue(op, t, cmd->arg, 0, why);
	case SG_CMD_PRIORITY:
		return sg_op_priority(op, t, (enum sg_priority)sg_priority_parse(cmd->arg));
	case SG_CMD_TAG:
		return tags(op, t, cmd->arg);
	case SG_CMD_SLA:
		return sg_op_sla(op, t, cmd->arg, why);
	case SG_CMD_MERGE:
		return merge(op, t, cmd->arg, agent, why);
	case SG_CMD_REASON:
		return sg_op_reason(op, t, cmd->arg);
	case SG_CMD_SERVICE:
		return sg_op_service(op, t, cmd->arg, why);
	case SG_CMD_NOTE:
	case SG_CMD_QUIET:
		return 0;   /* how the mail is treated, not a change */
	}
	return 0;
}

int
sg_cmd_apply(struct sg_op *op, struct sg_ticket *t, const struct sg_cmdlist *cl, const char *agent,
	     struct sg_strlist *errors)
{
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < cl->n; i++) {
		const char *why = NULL;
		rc = one(op, t, &cl->v[i], agent, &why);
		if (rc == SG_OP_INVALID) {
			char *e = sg_xasprintf("%s: %s", cl->v[i].line, why ? why : "not allowed");
			sg_strlist_add(errors, e, 0);
			free(e);
		}
	}
	return rc;
}
