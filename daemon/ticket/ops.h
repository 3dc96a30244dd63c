/*
 * ops — the ticket operations: every change to a ticket, for every caller
 * (ingest routing, the CLI's `set`, agents' mail commands, the scheduler).
 *
 * An operation changes the in-memory ticket t (loaded in op->txn by the
 * caller, written by the caller once with sg_store_ticket_put after all
 * operations of the change) and records its typed event (event.h), whose
 * subscribers run in the same transaction. Operations that change nothing
 * (same value) record nothing and return 0.
 *
 * What is decided here, once:
 *   - legal status moves (model/ticket.h), closed_at, the SLA fields
 *     (resolved_at, the pause in pending, reopens: model/ticket.h) and
 *     the SLA timers (slatime.h); a reopen from resolved or closed also
 *     records SG_EV_REOPENED;
 *   - agents' load counters (open tickets, assignments per day: assign.h)
 *     follow every status and assignee change, so reopening by a customer
 *     reply counts like any other;
 *   - a transfer is a queue or assignee change after the first routing
 *     (flag SG_OPF_ROUTING marks the routing of a new ticket); the third
 *     transfer tags the ticket "ping-pong" and records SG_EV_PINGPONG,
 *     whose subscriber tells the queue's manager.
 *
 * Returns: 0, a store code (store.h; SG_STORE_DEADLOCK: retry the whole
 * transaction), or SG_OP_INVALID with *why (a static or op-owned string
 * for the user) when the value or move is not allowed: nothing changed.
 */
#ifndef SG_OPS_H
#define SG_OPS_H

#include <stdint.h>

#include "model/ticket.h"
#include "ticket/event.h"

#define SG_OP_INVALID 10

#define SG_OPF_ROUTING 0x1u     /* first routing of a new ticket: not a transfer */

int sg_op_status(struct sg_op *op, struct sg_ticket *t, enum sg_status to, const char *reason, const char **why);
int sg_op_priority(struct sg_op *op, struct sg_ticket *t, enum sg_priority p);
/* queue "default" or one declared in the rules. */
int sg_op_queue(struct sg_op *op, struct sg_ticket *t, const char *queue, unsigned flags, const char **why);
/* agent: a declared agent's address (normalised), or NULL to unassign;
 * how says why ("rule", "round-robin", "least-open", "set"). */
int sg_op_assign(struct sg_op *op, struct sg_ticket *t, const char *agent, const char *how, unsigned flags,
		 const char **why);
/* Add tags (duplicates ignored); one event listing the new ones. */
int sg_op_tags(struct sg_op *op, struct sg_ticket *t, const struct sg_strlist *tags);
/* Remove tags (absent ones ignored); one event listing the removed ones. */
int sg_op_untag(struct sg_op *op, struct sg_ticket *t, const struct sg_strlist *tags);
int sg_op_segment(struct sg_op *op, struct sg_ticket *t, const char *segment);
/* SLA tier, service: the due times afresh from the targets (slatime.h),
 * counted from the ticket's creation, and its SLA timers moved; a target
 * whose due time changes may warn and breach again (its sla_fired bits
 * are cleared). */
int sg_op_sla(struct sg_op *op, struct sg_ticket *t, const char *tier, const char **why);
int sg_op_service(struct sg_op *op, struct sg_ticket *t, const char *service, const char **why);
/* The first agent reply relayed to the customer: first_response_at (once),
 * the first-response timer stopped. No event (the reply has its own). */
int sg_op_first_response(struct sg_op *op, struct sg_ticket *t);
/* The overdue reason (at most 500 bytes, one line); NULL, "" or "-"
 * clears it. */
int sg_op_reason(struct sg_op *op, struct sg_ticket *t, const char *text);
int sg_op_note(struct sg_op *op, struct sg_ticket *t, const char *text);
/* Merge t into target (loaded by the caller in op's transaction, written
 * by the caller): target gains t's people (within its cap), t is closed
 * ("merged into #N"), an event on both, and mail that claims t from now
 * on lands on target (sg_ticket_merged_into). */
int sg_op_merge(struct sg_op *op, struct sg_ticket *t, struct sg_ticket *target, const char **why);
/* The ticket id's mail goes to: itself, or where it was merged (chains
 * followed, at most 8 hops). Returns 0 or a store code. */
int sg_ticket_merged_into(struct sg_store *st, struct sg_txn *txn, uint64_t id, uint64_t *to);

/*
 * One named change in its own transaction, retried on deadlock: what the
 * CLI's `set N FIELD VALUE` and agents' commands call. field: status,
 * priority, queue, assignee (also "assign"), segment, sla, service,
 * reason, tag, note.
 * On success *done (new string) says what changed ("open -> pending").
 * Returns 0, SG_STORE_NOTFOUND (no such ticket), SG_OP_INVALID with *why
 * (new string), or a store code.
 */
int sg_ticket_change(struct sg_store *st, const struct sg_conf *c, uint64_t id, const char *field,
		     const char *value, const char *actor, char **done, char **why);

#endif
