/*
 * ack — the acknowledgement of a new ticket (PRODUCT.md T5): whether to
 * send one (RFC 3834 loop guards), what it says, and queueing it within
 * the rate limits (ratelimit.h).
 *
 * sg_ack_suppressed(): why this message must not be answered
 *   automatically (a static string), or NULL when a reply is fine. The
 *   checks (RFC 3834) apply to the author AND to the address the reply
 *   would go to (Reply-To): Auto-Submitted other than exactly "no",
 *   null return path, robots, our own addresses, List-* or Mailing-List,
 *   Precedence bulk/junk/list, X-Loop/X-No-Loop,
 *   X-Auto-Response-Suppress, delivery reports.
 * sg_ack_recipient(): where an acknowledgement goes (Reply-To, else
 *   From), or NULL.
 * sg_ack_prepare(): BEFORE the write transaction, render the
 *   acknowledgement (template template_name, "ack" unless a rule chose
 *   another) for the draft ticket t, threaded under the customer's
 *   message msgid. The body is quoted only when the reply goes to the
 *   author (a Reply-To elsewhere gets no excerpt). Returns 0, or -1 with
 *   r->why (nothing to send).
 * sg_ack_queue(): inside op's transaction: check the rate limits, then
 *   store r as an outbound message of t (a reply to it threads), make its
 *   job and record SG_EV_ACK; or record SG_EV_ACK_SUPPRESSED with the
 *   reason (r failed, or a limit was reached: then admin_address is told
 *   once per address per hour). *queued = 1 when a job was made.
 *   Returns 0 or a store code (the caller retries the transaction).
 */
#ifndef SG_ACK_H
#define SG_ACK_H

#include "mail/message.h"
#include "model/ticket.h"
#include "notice/compose.h"
#include "ticket/event.h"

struct sg_conf;

const char *sg_ack_suppressed(const struct sg_conf *c, const struct sg_msginfo *mi, const char *env_from);
const char *sg_ack_recipient(const struct sg_msginfo *mi);
int sg_ack_prepare(const struct sg_conf *c, const struct sg_ticket *t, const struct sg_msginfo *mi, const char *msgid,
		   const char *template_name, struct sg_rendered *r);
int sg_ack_queue(struct sg_op *op, struct sg_ticket *t, const struct sg_msginfo *mi, const struct sg_rendered *r,
		 int *queued);

#endif
