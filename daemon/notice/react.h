/*
 * react — the notices that follow ticket events (subscribers, event.h).
 *
 * sg_notice_subscribe(): register them; called once at start-up by every
 *   program that changes tickets (the daemon, the CLI, tests), before
 *   threads start: SG_EV_PINGPONG tells the queue's manager; SG_EV_STATUS
 *   to pending, resolved (with the rating invitation) or closed tells the
 *   customer; SG_EV_ASSIGNEE tells the customer when assign_notice is on.
 *   Customer notices are skipped under #quiet (op->quiet), pass the loop
 *   guards and rate limits of the acknowledgement, and are kept in the
 *   ticket's history (a reply to one threads).
 * sg_notice_send(): render template n for ticket t and queue it inside
 *   op's transaction, recording SG_EV_NOTIFY "notice to ADDR: WHY". For
 *   reactions, which run under the write transaction: they are rare
 *   (a ping-pong flag, an escalation), unlike the per-message
 *   acknowledgement, which ingest renders before its transaction.
 *   Nothing to send with (no templates) is not an error. Returns 0 or a
 *   store code.
 * sg_notice_queue_rendered(): the same with a mail rendered beforehand.
 */
#ifndef SG_REACT_H
#define SG_REACT_H

#include "notice/compose.h"
#include "ticket/event.h"

void sg_notice_subscribe(void);
/* A notice from template_name to t's requestor, as the reactions send
 * them (threaded, in the history, guards and limits, not under #quiet).
 * Returns 0 or a store code. */
int sg_notice_customer(struct sg_op *op, struct sg_ticket *t, const char *template_name);
int sg_notice_send(struct sg_op *op, struct sg_ticket *t, const struct sg_notice *n, const char *why);
int sg_notice_queue_rendered(struct sg_op *op, struct sg_ticket *t, const char *to, const struct sg_rendered *r,
			     const char *why);

#endif
