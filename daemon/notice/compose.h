/*
 * compose — the one path from a template to an outgoing mail: every
 * acknowledgement, notice and alert, and the CLI's `template render`, so
 * a preview can never differ from what is sent.
 *
 * sg_notice_render(): fill the template variables from the ticket and the
 *   request n, render n->template_name in the language n->lang (NULL: the
 *   ticket's, else default_language; falling back to "en"), with our keyed
 *   Message-ID and the loop headers (Auto-Submitted, X-Loop). Pure: no
 *   store access, no locks; call it before a write transaction. Returns 0
 *   and fills out (free with sg_rendered_clear), or -1 when there is
 *   nothing to send with (no templates, no such template, no sender
 *   address): out->why says which.
 * sg_notice_queue(): inside op's transaction, make the delivery job for a
 *   rendered mail (and, with SG_NOTICE_HISTORY, store it as an outbound
 *   message of the ticket with its Message-ID indexed, so a reply to it
 *   threads; without it only the Message-ID is indexed, so a bounce of a
 *   notice still lands on its ticket); counts op->jobs; *job_id (may be
 *   NULL) gets the job.
 *   Returns 0 or a store code. The event is the caller's (it knows why).
 * sg_notice_from(): the address we send from (support_from, else the
 *   first support_address), or NULL.
 */
#ifndef SG_COMPOSE_H
#define SG_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

#include "model/ticket.h"
#include "ticket/event.h"

struct sg_conf;

struct sg_notice {
	const char *template_name;  /* "ack", "notify", "rate-alert", ... */
	const char *lang;           /* or NULL */
	const char *to;             /* recipient address */
	const char *to_name;        /* or NULL */
	const char *error;          /* {{error}}: why we write, or NULL */
	const char *excerpt_text;   /* body text quoted as {{excerpt}}, or NULL */
	const char *in_reply_to;    /* without <>, or NULL */
	const char *references;     /* "<a> <b>", or NULL */
	const char *history;        /* {{history}}: the ticket's thread and the customer's tickets, or NULL */
};

struct sg_rendered {
	char *msg;                  /* complete message, CRLF */
	size_t len;
	char *message_id;           /* without <> */
	const char *from;           /* points into the config */
	char *lang;                 /* language asked for (a copy) */
	const char *why;            /* when rendering failed: static text */
};

#define SG_NOTICE_HISTORY 0x1u

const char *sg_notice_from(const struct sg_conf *c);
/* A mail as it came (raw, len bytes), copied to rcpts inside op's
 * transaction: the sender's own header_prefix fields removed, ours
 * (TICKET, and extra lines "Name: value\r\n", may be NULL) and X-Loop in
 * front, cut at max_message_size. For forwards, notes and a blind
 * queue's taken request. Counts op->jobs. Returns 0 or a store code. */
int sg_notice_copy(struct sg_op *op, uint64_t ticket, const char *what, const struct sg_strlist *rcpts,
		   const char *extra, const char *raw, size_t len);
int sg_notice_render(const struct sg_conf *c, const struct sg_ticket *t, const struct sg_notice *n,
		     struct sg_rendered *out);
void sg_rendered_clear(struct sg_rendered *r);
int sg_notice_queue(struct sg_op *op, struct sg_ticket *t, const char *what, const char *to,
		    const struct sg_rendered *r, unsigned flags, uint64_t *job_id);

#endif
