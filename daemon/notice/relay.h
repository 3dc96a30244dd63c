/*
 * relay — an agent's reply, made into the mail the customer receives
 * (PRODUCT.md A1).
 *
 * sg_relay_compose(): from the agent's message (raw, len bytes) build the
 *   copy for ticket t: From "NAME via SUPPORT_NAME" <support address>,
 *   To the requestor, Cc the other participants, Reply-To the support
 *   address, the subject with the ticket token, our keyed Message-ID,
 *   In-Reply-To/References continuing the customer's thread (in_reply_to
 *   and references as given). Every other header of the agent's mail is
 *   dropped (Received, Return-Path, the agent's From/To/Cc/Sender,
 *   DKIM-Signature, X-*): the agent's private address appears nowhere.
 *   The body stays as it came, part by part, except that a leading block
 *   of #command lines is removed from the first text/plain part; when the
 *   mail also has an HTML alternative and commands were removed, the HTML
 *   alternative is left out (it would still show them). Pure: call it
 *   before the write transaction. Returns 0 and out (free with
 *   sg_rendered_clear), or -1 with out->why.
 */
#ifndef SG_RELAY_H
#define SG_RELAY_H

#include <stddef.h>

#include "model/ticket.h"
#include "notice/compose.h"

struct sg_conf;

int sg_relay_compose(const struct sg_conf *c, const struct sg_ticket *t, const char *raw, size_t len,
		     const char *agent_name, int strip_commands, const char *in_reply_to, const char *references,
		     struct sg_rendered *out);

#endif
