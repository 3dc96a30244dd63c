/*
 * compose — see compose.h.
 */
#include "config.h"
#include "notice/compose.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "lib/xalloc.h"
#include "mail/address.h"
#include "mail/headers.h"
#include "mail/token.h"
#include "outbound/queue.h"
#include "store/store.h"
#include "templates/template.h"
#include "calendar/calendar.h"
#include "ticket/slatime.h"

#define SG_EXCERPT_BYTES 600
#define SG_EXCERPT_LINES 8

const char *
sg_notice_from(const struct sg_conf *c)
{
	if (c->support_from[0] != '\0')
		return c->support_from;
	return c->support_address.n ? c->support_address.v[0] : NULL;
}

int
sg_notice_copy(struct sg_op *op, uint64_t ticket, const char *what, const struct sg_strlist *rcpts,
	       const char *extra, const char *raw, size_t len)
{
	const struct sg_conf *c = op->c;
	const char *from = sg_notice_from(c);
	struct sg_job j = { 0 };
	size_t rawlen;
	int rc;

	if (from == NULL || rcpts->n == 0)
		return 0;
	/* The sender's own X-Support-* fields do not travel with our copy. */
	char *body = sg_headers_strip_prefix(raw, len, c->header_prefix, &rawlen, NULL);
	char *head = sg_xasprintf("%sTicket: %llu\r\n%sX-Loop: %s\r\n", c->header_prefix, (unsigned long long)ticket,
				  extra ? extra : "", from);
	size_t hl = strlen(head), keep = rawlen > c->max_message_size ? (size_t)c->max_message_size : rawlen;
	j.ticket = ticket;
	j.kind = SG_JOB_SMTP;
	j.created = j.due = op->now;
	j.what = (char *)what;
	j.mail_from = (char *)from;
	j.rcpts = *rcpts;
	j.payload = sg_xmalloc(hl + keep + 1);
	memcpy(j.payload, head, hl);
	memcpy(j.payload + hl, body, keep);
	j.payload[hl + keep] = '\0';
	j.payload_len = hl + keep;
	if ((rc = sg_queue_add(op->st, op->txn, &j)) == 0)
		op->jobs++;
	free(j.payload);
	free(head);
	free(body);
	return rc;
}

/* The first lines of a body, cut on a UTF-8 boundary, continuation lines
 * quoted like the template's first ("> "). */
static char *
excerpt(const char *body)
{
	size_t n = 0, lines = 0;
	const char *p = body ? body : "";

	while (p[n] && n < SG_EXCERPT_BYTES && lines < SG_EXCERPT_LINES) {
		if (p[n] == '\n')
			lines++;
		n++;
	}
	while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
		n--;
	GString *g = g_string_new(NULL);
	for (size_t i = 0; i < n; i++) {
		g_string_append_c(g, p[i]);
		if (p[i] == '\n' && i + 1 < n)
			g_string_append(g, "> ");
	}
	while (g->len > 0 && g->str[g->len - 1] == '\n')
		g_string_truncate(g, g->len - 1);
	char *e = sg_xstrdup(g->str);
	g_string_free(g, TRUE);
	return e;
}

/* The status as the customer reads it, in their language. */
static const char *
status_for(const char *lang, enum sg_status st)
{
	static const char *const ru[SG_ST_COUNT] = {
		"новое", "в работе", "ждёт вашего ответа", "решено", "закрыто",
	};
	if (lang != NULL && strcmp(lang, "ru") == 0 && (unsigned)st < SG_ST_COUNT)
		return ru[st];
	return sg_status_name(st);
}

static void
when(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	buf[0] = '\0';
	if (t != 0)
		strftime(buf, size, "%Y-%m-%d %H:%M UTC", gmtime_r(&tt, &tm));
}

int
sg_notice_render(const struct sg_conf *c, const struct sg_ticket *t, const struct sg_notice *n,
		 struct sg_rendered *out)
{
	char idbuf[24], created[40], due[40];

	memset(out, 0, sizeof(*out));
	out->from = sg_notice_from(c);
	/* a copy: the ticket it came from may be a draft freed before the queueing */
	out->lang = sg_xstrdup(n->lang ? n->lang : t->language && *t->language ? t->language : c->default_language);
	if (c->templates == NULL) {
		out->why = "no templates loaded";
		return -1;
	}
	if (out->from == NULL || n->to == NULL) {
		out->why = "no sender or recipient address";
		return -1;
	}
	char *token = sg_token_format(c->ticket_tag, t->id, c->token_secret, c->token_secret_len);
	char *ex = excerpt(n->excerpt_text);
	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)t->id);
	when(t->created, created, sizeof(created));
	due[0] = '\0';
	if (t->due != 0)   /* in the zone of the ticket's SLA calendar */
		sg_calendar_format(sg_slatime_calendar(c, t), t->due, due, sizeof(due));
	struct sg_template_values tv = { 0 };
	sg_template_set(&tv, SG_TV_TOKEN, token);
	sg_template_set(&tv, SG_TV_ID, idbuf);
	sg_template_set(&tv, SG_TV_SUBJECT, t->subject);
	sg_template_set(&tv, SG_TV_STATUS, status_for(out->lang, t->status));
	sg_template_set(&tv, SG_TV_QUEUE, t->queue ? t->queue : "default");
	sg_template_set(&tv, SG_TV_PRIORITY, sg_priority_name(t->priority));
	sg_template_set(&tv, SG_TV_AGENT_NAME, t->assignee ? t->assignee : "-");
	sg_template_set(&tv, SG_TV_CUSTOMER_NAME, t->requestor_name ? t->requestor_name : t->requestor);
	sg_template_set(&tv, SG_TV_CUSTOMER_ADDRESS, t->requestor);
	sg_template_set(&tv, SG_TV_EXCERPT, ex);
	sg_template_set(&tv, SG_TV_SUPPORT_ADDRESS, out->from);
	sg_template_set(&tv, SG_TV_SUPPORT_NAME, c->support_name);
	sg_template_set(&tv, SG_TV_ERROR, n->error);
	sg_template_set(&tv, SG_TV_CREATED, created);
	sg_template_set(&tv, SG_TV_DUE, due);
	sg_template_set(&tv, SG_TV_HISTORY, n->history);   /* "" when no SLA: {{?due}} lines go */
	out->message_id = sg_token_msgid_format(t->id, c->token_secret, c->token_secret_len, sg_addr_domain(out->from));
	struct sg_mail_envelope env = {
		.from_name = c->support_name, .from_addr = out->from,
		.to_name = n->to_name, .to_addr = n->to,
		.message_id = out->message_id, .in_reply_to = n->in_reply_to, .references = n->references,
		.loop_header = out->from, .auto_submitted = 1,
	};
	out->msg = sg_template_render(c->templates, out->lang, n->template_name, &tv, &env, &out->len);
	free(ex);
	free(token);
	if (out->msg == NULL) {
		out->why = "template missing";
		free(out->message_id);
		out->message_id = NULL;
		return -1;
	}
	return 0;
}

void
sg_rendered_clear(struct sg_rendered *r)
{
	free(r->msg);
	free(r->message_id);
	free(r->lang);
	memset(r, 0, sizeof(*r));
}

int
sg_notice_queue(struct sg_op *op, struct sg_ticket *t, const char *what, const char *to, const struct sg_rendered *r,
		unsigned flags, uint64_t *job_id)
{
	int rc;

	if (flags & SG_NOTICE_HISTORY) {
		struct sg_msgrec m = { 0 };
		m.ticket = t->id;
		m.direction = SG_DIR_OUT;
		m.from = (char *)r->from;
		m.message_id = r->message_id;
		m.subject = t->subject;
		m.date = op->now;
		m.received = op->now;
		m.size = r->len;
		if ((rc = sg_store_message_add(op->st, op->txn, &m, r->msg, r->len)) != 0)
			return rc;
		t->nmessages++;
	} else if (r->message_id != NULL &&
		   (rc = sg_store_msgid_add(op->st, op->txn, r->message_id, t->id)) != 0) {
		return rc;   /* indexed all the same: a bounce of it finds the ticket */
	}
	rc = sg_queue_mail(op->st, op->txn, t->id, what, r->from, to, r->msg, r->len, op->now, job_id);
	if (rc == 0)
		op->jobs++;
	return rc;
}
