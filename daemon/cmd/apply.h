/*
 * apply — agents' commands carried out, with the rights of their role.
 *
 * Roles (supportgate-commands(5)): an agent acts on tickets of the queues
 * they belong to (their groups, or the queue's agents list) and on
 * tickets assigned to them; a queue's manager on that queue's tickets;
 * an admin (conf `admins`) on every ticket. Tickets in the default queue
 * are every agent's. Moving a ticket to another queue takes a manager of
 * both queues (or an admin); assigning takes an agent of the ticket's
 * queue as the new assignee, unless a manager or admin assigns.
 *
 * sg_cmd_check(): may agent run every command of cl on ticket t (as it
 *   is now)? Pure (rules and config only). Each refused line goes to
 *   errors as "LINE: why"; returns the number refused.
 * sg_cmd_apply(): inside op's transaction, carry out every command on t
 *   through the ticket operations (op->actor is the agent). A value the
 *   operations refuse is added to errors and the caller must abort the
 *   transaction: nothing of a mail with an error may change the ticket.
 *   Returns 0, SG_OP_INVALID (see errors) or a store code.
 */
#ifndef SG_CMD_APPLY_H
#define SG_CMD_APPLY_H

#include "cmd/parse.h"
#include "lib/strlist.h"
#include "model/ticket.h"
#include "ticket/event.h"

struct sg_conf;

size_t sg_cmd_check(const struct sg_conf *c, const char *agent, const struct sg_ticket *t,
		    const struct sg_cmdlist *cl, struct sg_strlist *errors);
int sg_cmd_apply(struct sg_op *op, struct sg_ticket *t, const struct sg_cmdlist *cl, const char *agent,
		 struct sg_strlist *errors);
/* The agent named by ADDRESS or by display NAME (case-insensitive), or NULL. */
const char *sg_cmd_agent(const struct sg_conf *c, const char *who);

#endif
