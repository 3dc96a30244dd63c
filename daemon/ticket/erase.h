/*
 * erase — personal data out of tickets: retention (daemon/sla/retention.c)
 * and `supportgate forget ADDRESS` (GDPR, 152-FZ). Ticket operations
 * (ticket/ops.h): they run in an sg_op's transaction and record their
 * event like every other change.
 */
#ifndef SG_TICKET_ERASE_H
#define SG_TICKET_ERASE_H

#include <stddef.h>

#include "ticket/ops.h"

/*
 * Erase personal data from ticket t (GDPR, 152-FZ), in op's transaction;
 * counts, times, status, queue, tags and Message-IDs stay for reports.
 * addr NULL (retention): every message loses its raw bytes, sender and
 * subject; the ticket its subject, requestor, requestor's name and
 * participants (and their customers.db entries and acknowledgement
 * rate-limit state); a Message-ID that contains one of their addresses
 * is blanked and leaves the Message-ID index; in the event trail an
 * actor that was one of them becomes "erased" and their addresses and
 * the requestor's name in details become "[erased]".
 * addr set (`forget ADDRESS`, normalised, lower case): the same for that
 * person only: their messages (all messages of a ticket they requested,
 * whose conversation is theirs), their place as requestor (then also the
 * subject and name) or participant, their customers.db entry, their
 * mentions in the trail.
 * Records SG_EV_ERASED ("erased") without any address; its subscribers
 * (daemon/sla/retention.c) drop the ticket's mail not yet sent. The
 * caller writes t. *nmsg (may be NULL) = messages erased.
 * sg_ticket_erased(): t holds no personal field any more.
 */
int sg_op_erase(struct sg_op *op, struct sg_ticket *t, const char *addr, unsigned *nmsg);
int sg_ticket_erased(const struct sg_ticket *t);
/*
 * `forget ADDRESS`: sg_op_erase(addr) on every ticket that names addr
 * (customers.db, plus one walk of tickets.db for participants the index
 * does not list), each in its own transaction retried on deadlock; then
 * the address's acknowledgement and alert rate-limit entries (kv ack:,
 * alert:). addr is normalised here. *ntickets, *nmsg: what was erased.
 * Returns 0, SG_OP_INVALID (not an address) or a store code.
 */
int sg_ticket_forget(struct sg_store *st, const struct sg_conf *c, const char *addr, const char *actor,
		     size_t *ntickets, size_t *nmsg);

#endif
