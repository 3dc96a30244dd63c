/*
 * ack — the acknowledgement of a new ticket (PRODUCT.md T5): whether to
 * send one (RFC 3834 loop guards, rate limits) and the job that sends it.
 *
 * sg_ack_suppressed(): why this message must not be answered
 *   automatically (a static string), or NULL when a reply is fine.
 * sg_ack_queue(): inside the caller's transaction, check the rate limits
 *   for the recipient, render the ack from the templates, store it as an
 *   outbound message of the ticket (its Message-ID indexed, so a reply to
 *   the ack threads), create the delivery job and an event. Returns 0 (a
 *   job was made: *queued = 1, or suppressed with an event: *queued = 0)
 *   or a store error (the caller aborts and retries the transaction).
 *
 * Rate limits per recipient (sliding windows, RFC 3834 spirit; defaults
 * after Zammad and Znuny): 10 per 10 minutes, 25 per hour, 50 per 3
 * hours, 40 per day; plus ack_limit_global per hour over everyone. The
 * recent send times live in the store (kv "ack:ADDR" and "ack:*").
 */
#ifndef SG_ACK_H
#define SG_ACK_H

#include <stdint.h>

#include "conf/conf.h"
#include "mail/message.h"
#include "model/ticket.h"

struct sg_store;
struct sg_txn;

const char *sg_ack_suppressed(const struct sg_conf *c, const struct sg_msginfo *mi, const char *env_from);

/* Pick the template language: ticket preference, message hint, default. */
const char *sg_ack_language(const struct sg_conf *c, const struct sg_ticket *t, const struct sg_msginfo *mi);

int sg_ack_queue(struct sg_store *st, struct sg_txn *txn, const struct sg_conf *c, struct sg_ticket *t,
		 const struct sg_msginfo *mi, const char *msgid, int64_t now, int *queued);

/* Queue a notice (template "notify") about ticket t to addr, saying why;
 * inside the caller's transaction. No-op without templates. */
int sg_ack_notice(struct sg_store *st, struct sg_txn *txn, const struct sg_conf *c, const struct sg_ticket *t,
		  const char *addr, const char *why, const char *excerpt_text, int64_t now);

#endif
