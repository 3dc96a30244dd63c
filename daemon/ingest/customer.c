/*
 * customer — what a customer can do by mail besides writing (PRODUCT.md
 * T6, T7): ask for the status of their requests, rate the help.
 *
 * Status request: a mail whose subject (Re:/token aside) or first line is
 * "status" (en) or "статус" (ru). The sender gets the status of their own
 * open tickets (the customer index of the sender's address: never anyone
 * else's), at most SG_STATUS_MAX of them, or one "no open request"
 * answer; nothing is stored or opened. Rendered before the transaction,
 * queued in it within the sender's rate limits.
 *
 * Rating: on a resolved ticket, a participant's reply whose first line is
 * a number 1-5 (or "rate N"/"оценка N") is a rating with the rest of the
 * text as comment: stored, thanked (template rated), and the ticket stays
 * resolved.
 */
#include "config.h"
#include "ingest/state.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "mail/token.h"
#include "notice/ack.h"
#include "notice/ratelimit.h"
#include "notice/react.h"
#include "store/store.h"

#define SG_STATUS_MAX 5

/* The first non-blank line of text, trimmed, at most cap bytes. */
static void
first_line(const char *text, char *out, size_t cap)
{
	const char *p = text ? text : "";
	while (*p == '\n' || *p == '\r' || *p == ' ' || *p == '\t')
		p++;
	size_t n = strcspn(p, "\r\n");
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static int
is_status_word(const char *s)
{
	return strcasecmp(s, "status") == 0 || strcmp(s, "статус") == 0 || strcmp(s, "Статус") == 0 ||
	       strcmp(s, "СТАТУС") == 0;
}

int
sg_customer_is_status_request(const struct sg_ingest_state *s)
{
	char line[64], subj[128];
	const char *p = s->mi->subject ? s->mi->subject : "";

	/* "Re: [ACME #12] status" asks too: drop reply prefixes and tokens */
	for (;;) {
		p += strspn(p, " \t");
		if (strncasecmp(p, "re:", 3) == 0 || strncasecmp(p, "aw:", 3) == 0)
			p += 3;
		else if (*p == '[' && strchr(p, ']') != NULL)
			p = strchr(p, ']') + 1;
		else
			break;
	}
	first_line(p, subj, sizeof(subj));
	first_line(s->mi->body_text, line, sizeof(line));
	return is_status_word(subj) || is_status_word(line);
}

static int
is_open(enum sg_status st)
{
	return st == SG_ST_NEW || st == SG_ST_OPEN || st == SG_ST_PENDING;
}

static void
add_answer(struct sg_ingest_state *s, const struct sg_ticket *t, const char *template_name)
{
	struct sg_notice n = {
		.template_name = template_name, .to = s->sender, .to_name = s->mi->from_name,
		.in_reply_to = s->msgid,
	};
	s->status_answers = sg_xreallocarray(s->status_answers, s->nstatus + 1, sizeof(*s->status_answers));
	s->status_ids = sg_xreallocarray(s->status_ids, s->nstatus + 1, sizeof(*s->status_ids));
	if (sg_notice_render(s->c, t, &n, &s->status_answers[s->nstatus]) == 0)
		s->status_ids[s->nstatus++] = t->id;
	else
		sg_rendered_clear(&s->status_answers[s->nstatus]);
}

int
sg_customer_decide_status(struct sg_store *st, struct sg_ingest_state *s)
{
	uint64_t *ids = NULL;
	size_t n = 0;
	int rc = s->sender ? sg_store_customer_tickets(st, NULL, s->sender, &ids, &n) : SG_STORE_NOTFOUND;

	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		return rc;
	rc = 0;
	s->verdict = SG_V_STATUS;
	for (size_t i = n; i-- > 0 && s->nstatus < SG_STATUS_MAX;) {   /* newest first */
		struct sg_ticket t = { 0 };
		if ((rc = sg_store_ticket_get(st, NULL, ids[i], &t)) == 0 && is_open(t.status))
			add_answer(s, &t, "status");
		sg_ticket_clear(&t);
		if (rc != 0 && rc != SG_STORE_NOTFOUND)
			break;
		rc = 0;
	}
	free(ids);
	if (rc == 0 && s->nstatus == 0) {
		struct sg_ticket none = { 0 };
		none.requestor = s->sender;
		none.requestor_name = s->mi->from_name;
		none.subject = (char *)"";
		add_answer(s, &none, "status-none");
	}
	return rc;
}

int
sg_customer_write_status(struct sg_op *op, struct sg_ingest_state *s)
{
	const char *why = NULL;
	int rc;

	if ((rc = sg_ratelimit_check(op->st, op->txn, s->sender, op->c->ack_limit_global, op->now, &why, 1)) != 0)
		return rc;
	if (why != NULL)
		return 0;   /* a flood of status requests gets what the limits allow */
	for (size_t i = 0; rc == 0 && i < s->nstatus; i++) {
		struct sg_ticket t = { .id = s->status_ids[i] };
		if ((rc = sg_notice_queue(op, &t, "status", s->sender, &s->status_answers[i], 0, NULL)) == 0 && t.id != 0)
			rc = sg_event_emit_id(op, t.id, SG_EV_STATUS_SENT, "status answered to %s", s->sender);
	}
	return rc;
}

void
sg_customer_clear(struct sg_ingest_state *s)
{
	for (size_t i = 0; i < s->nstatus; i++)
		sg_rendered_clear(&s->status_answers[i]);
	sg_xfree(&s->status_answers);
	sg_xfree(&s->status_ids);
	s->nstatus = 0;
	s->rating = 0;
}

void
sg_customer_find_rating(struct sg_ingest_state *s)
{
	char line[64];
	const char *p = line;

	s->rating = 0;
	first_line(s->mi->body_text, line, sizeof(line));
	if (strncasecmp(p, "rate ", 5) == 0)
		p += 5;
	else if (strncmp(p, "оценка ", strlen("оценка ")) == 0)
		p += strlen("оценка ");
	if (p[0] >= '1' && p[0] <= '5' && (p[1] == '\0' || !isalnum((unsigned char)p[1])) && p[1] != '.')
		s->rating = p[0] - '0';
}

int
sg_customer_write_rating(struct sg_op *op, struct sg_ingest_state *s)
{
	const char *body = s->mi->body_text ? s->mi->body_text : "";
	s->t.rating = (uint8_t)s->rating;
	int rc = sg_event_emit(op, &s->t, SG_EV_RATING, NULL, NULL, "%d: %.500s", s->rating, body + strspn(body, " \t\r\n"));
	return rc ? rc : sg_notice_customer(op, &s->t, "rated");
}
