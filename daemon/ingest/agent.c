/*
 * agent — mail from an agent about a ticket (PRODUCT.md A1-A3).
 *
 * Decided before the write transaction (sg_agent_decide): the commands at
 * the top of the body are parsed and checked against the agent's rights
 * on the ticket as read; a reply is composed into the mail the customer
 * receives (notice/relay.c); an error reply to the agent is rendered.
 * Written inside it (sg_agent_write): the commands through the ticket
 * operations (their events bring the implied notices), the message kept
 * in the ticket's history, the jobs. The agent's own copy goes nowhere:
 * the milter door discards it after the commit, so the reply exists
 * exactly when its job does.
 *
 * A mail whose From is an agent but whose author is not proven is kept
 * as an internal note marked "unverified sender", relayed nowhere, and
 * the address is told why at most once an hour.
 */
#include "config.h"
#include "ingest/state.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/apply.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/address.h"
#include "mail/headers.h"
#include "mail/token.h"
#include "notice/ratelimit.h"
#include "notice/relay.h"
#include "outbound/queue.h"
#include "store/store.h"
#include "ticket/ops.h"

#define MOD "agent"
#define SG_THREAD_REFS 10

static const char unverified_text[] =
	"your mail could not be proven to come from you (no SMTP AUTH login of yours, no trusted DKIM or DMARC "
	"pass for your domain); it was kept as an internal note of the ticket and sent to nobody";

static char *
join(const struct sg_strlist *l)
{
	GString *g = g_string_new(NULL);
	for (size_t i = 0; i < l->n; i++)
		g_string_append_printf(g, "%s%s", i ? "\n  " : "", l->v[i]);
	return g_string_free(g, FALSE);
}

/* The command-error template to the agent (their language: the default). */
static void
render_to_agent(struct sg_ingest_state *s, const struct sg_ticket *t, const char *to, const char *error)
{
	struct sg_notice n = {
		.template_name = "command-error", .lang = s->c->default_language, .to = to, .error = error,
	};
	(void)sg_notice_render(s->c, t, &n, &s->agent_reply);
}

struct thread {
	char *last_in;
	GPtrArray *ids;
};

static int
thread_cb(const struct sg_msgrec *m, void *arg)
{
	struct thread *th = arg;

	if (m->message_id == NULL || *m->message_id == '\0')
		return 0;
	if (m->direction == SG_DIR_IN) {
		free(th->last_in);
		th->last_in = sg_xstrdup(m->message_id);
	}
	if (m->direction != SG_DIR_INTERNAL)
		g_ptr_array_add(th->ids, sg_xstrdup(m->message_id));
	return 0;
}

/* In-Reply-To: the customer's last message; References: the newest ids. */
static int
thread_ids(struct sg_store *st, uint64_t ticket, char **irt, char **refs)
{
	struct thread th = { NULL, g_ptr_array_new_with_free_func(free) };
	int rc = sg_store_message_foreach(st, NULL, ticket, thread_cb, &th);
	GString *g = g_string_new(NULL);

	for (guint i = th.ids->len > SG_THREAD_REFS ? th.ids->len - SG_THREAD_REFS : 0; i < th.ids->len; i++)
		g_string_append_printf(g, "%s<%s>", g->len ? " " : "", (char *)g_ptr_array_index(th.ids, i));
	*irt = th.last_in;
	*refs = g_string_free(g, FALSE);
	g_ptr_array_free(th.ids, TRUE);
	return rc == SG_STORE_NOTFOUND ? 0 : rc;
}

static const char *
agent_name(const struct sg_conf *c, const char *agent)
{
	const struct sg_agent_def *a = sg_rules_agent(c->rules, agent);
	return a && a->name ? a->name : agent;
}

int
sg_agent_decide(struct sg_store *st, struct sg_ingest_state *s, const struct sg_ticket *snap)
{
	const char *body = s->mi->body_text ? s->mi->body_text : "";
	size_t blen = strlen(body);

	if (s->agent == NULL) {
		s->agent_mode = SG_AGENT_UNVERIFIED;
		render_to_agent(s, snap, s->unverified_agent, unverified_text);
		return 0;
	}
	sg_cmd_parse(body, blen, &s->cmds);
	for (size_t i = 0; i < s->late_errors.n; i++)
		sg_strlist_add(&s->cmd_errors, s->late_errors.v[i], 0);
	for (size_t i = 0; i < s->cmds.errors.n; i++)
		sg_strlist_add(&s->cmd_errors, s->cmds.errors.v[i], 0);
	sg_cmd_check(s->c, s->agent, snap, &s->cmds, &s->cmd_errors);
	if (s->cmd_errors.n == 0 && s->cmds.note)
		s->agent_mode = SG_AGENT_NOTE;
	else if (s->cmd_errors.n == 0 && s->cmds.rest >= blen)
		s->agent_mode = SG_AGENT_COMMANDS;
	else if (s->cmd_errors.n == 0) {
		char *irt = NULL, *refs = NULL;
		int rc = thread_ids(st, snap->id, &irt, &refs);
		if (rc == 0 && sg_relay_compose(s->c, snap, s->in->raw, s->in->len, agent_name(s->c, s->agent),
						s->cmds.n > 0, irt, refs, &s->relay) != 0)
			sg_strlist_add(&s->cmd_errors, s->relay.why ? s->relay.why : "the reply cannot be relayed", 0);
		free(irt);
		free(refs);
		if (rc != 0)
			return rc;
		s->agent_mode = SG_AGENT_REPLY;
	}
	if (s->cmd_errors.n > 0) {
		s->agent_mode = SG_AGENT_ERROR;
		char *e = join(&s->cmd_errors);
		render_to_agent(s, snap, s->agent, e);
		free(e);
	}
	return 0;
}

void
sg_agent_clear(struct sg_ingest_state *s)
{
	sg_cmdlist_clear(&s->cmds);
	sg_strlist_clear(&s->cmd_errors);
	sg_rendered_clear(&s->relay);
	sg_rendered_clear(&s->agent_reply);
	s->agent_mode = SG_AGENT_NONE;
}

/* The agent's mail itself, kept in the history (not sent anywhere). */
static int
keep(struct sg_op *op, struct sg_ingest_state *s, enum sg_direction dir, const char *from)
{
	uint32_t seq;
	size_t kept;

	return sg_keep_message(op, s, dir, from, &seq, &kept);
}

/* A reply to the agent (errors, unverified sender), within the rate
 * limits, never kept in the customer's history. */
static int
to_agent(struct sg_op *op, struct sg_ingest_state *s, const char *to)
{
	const char *why = NULL;
	int rc;

	if (s->agent_reply.msg == NULL)
		return 0;
	if ((rc = sg_ratelimit_check(op->st, op->txn, to, op->c->ack_limit_global, op->now, &why, 1)) != 0)
		return rc;
	if (why != NULL) {
		sg_log_ctx(SG_LOG_WARN, MOD, op->queue_id, s->t.id, "no reply to agent %s: %s", to, why);
		return 0;
	}
	return sg_notice_queue(op, &s->t, "agent notice", to, &s->agent_reply, 0, NULL);
}

/* #note: a copy to the other agents of the ticket's queue. */
static int
copy_note(struct sg_op *op, struct sg_ingest_state *s)
{
	const struct sg_queue_def *q = s->t.queue ? sg_rules_queue(s->c->rules, s->t.queue) : NULL;
	struct sg_strlist to = { 0 };

	for (size_t i = 0; q != NULL && i < q->agents.n; i++)
		if (strcasecmp(q->agents.v[i], s->agent) != 0)
			sg_strlist_add(&to, q->agents.v[i], 1);
	if (s->t.assignee != NULL && strcasecmp(s->t.assignee, s->agent) != 0)
		sg_strlist_add(&to, s->t.assignee, 1);
	char *extra = sg_xasprintf("%sNote: internal, by %s\r\n", s->c->header_prefix, s->agent);
	int rc = sg_notice_copy(op, s->t.id, "internal note", &to, extra, s->in->raw, s->in->len);
	free(extra);
	sg_strlist_clear(&to);
	return rc;
}

/* The reply: in the history as sent (our Message-ID, so the customer's
 * answer threads), the agent's own Message-ID indexed so an MTA retry is
 * a duplicate, one job to the requestor and the Cc participants. */
static int
relay(struct sg_op *op, struct sg_ingest_state *s)
{
	struct sg_ticket *t = &s->t;
	struct sg_msgrec m = { 0 };
	struct sg_job j = { 0 };
	const char *why = NULL;
	char *key;
	uint64_t first = 0;
	int rc = 0;

	if (t->status == SG_ST_NEW)
		rc = sg_op_status(op, t, SG_ST_OPEN, "agent reply", &why);
	m.ticket = t->id;
	m.direction = SG_DIR_OUT;
	m.from = (char *)s->agent;
	m.message_id = s->relay.message_id;
	m.subject = t->subject;
	m.date = m.received = op->now;
	m.size = s->relay.len;
	if (rc == 0 && (rc = sg_store_message_add(op->st, op->txn, &m, s->relay.msg, s->relay.len)) == 0)
		t->nmessages++;
	if (rc == 0)
		rc = sg_store_msgid_add(op->st, op->txn, s->msgid, t->id);
	j.ticket = t->id;
	j.kind = SG_JOB_SMTP;
	j.created = j.due = op->now;
	j.what = "agent reply";
	j.mail_from = (char *)s->relay.from;
	sg_strlist_add(&j.rcpts, t->requestor, 1);
	for (size_t i = 0; i < t->participants.n; i++)
		sg_strlist_add(&j.rcpts, t->participants.v[i], 1);
	j.payload = s->relay.msg;
	j.payload_len = s->relay.len;
	if (rc == 0 && (rc = sg_queue_add(op->st, op->txn, &j)) == 0)
		op->jobs++;
	key = sg_xasprintf(SG_META_FIRST_REPLY, (unsigned long long)t->id);
	if (rc == 0 && (rc = sg_store_meta_get(op->st, op->txn, key, &first)) == SG_STORE_NOTFOUND)
		rc = sg_store_meta_put(op->st, op->txn, key, (uint64_t)op->now);
	if (rc == 0)
		rc = sg_op_first_response(op, t);
	if (rc == 0)
		rc = sg_event_emit(op, t, SG_EV_REPLY, NULL, first ? NULL : "first", "reply by %s to %zu recipient(s)%s",
				   s->agent, j.rcpts.n, first ? "" : " (first response)");
	free(key);
	sg_strlist_clear(&j.rcpts);
	return rc;
}

int
sg_agent_write(struct sg_op *op, struct sg_ingest_state *s)
{
	struct sg_strlist late = { 0 };
	int rc;

	switch (s->agent_mode) {
	case SG_AGENT_ERROR:
		return to_agent(op, s, s->agent);
	case SG_AGENT_UNVERIFIED: {
		int due = 0;
		char *about = sg_xasprintf("unverified:%s", s->unverified_agent);
		rc = keep(op, s, SG_DIR_INTERNAL, s->unverified_agent);
		if (rc == 0)
			rc = sg_event_emit(op, &s->t, SG_EV_NOTE, NULL, NULL,
					   "unverified sender %s: kept as an internal note, relayed nowhere", s->unverified_agent);
		if (rc == 0)
			rc = sg_ratelimit_alert_due(op->st, op->txn, about, op->now, &due);
		free(about);
		return rc == 0 && due ? to_agent(op, s, s->unverified_agent) : rc;
	}
	default:
		break;
	}
	op->actor = s->agent;
	op->quiet = s->cmds.quiet;
	/* The reply first: the notices the commands imply (resolved, with the
	 * rating invitation) must reach the customer after the answer, and
	 * the outbound queue keeps a ticket's jobs in order. */
	rc = s->agent_mode == SG_AGENT_REPLY ? relay(op, s) : 0;
	if (rc == 0)
		rc = sg_cmd_apply(op, &s->t, &s->cmds, s->agent, &late);
	if (rc == SG_OP_INVALID) {
		/* the ticket changed since the check: decide again, with these errors */
		for (size_t i = 0; i < late.n; i++)
			sg_strlist_add(&s->late_errors, late.v[i], 0);
		rc = SG_ING_REDECIDE;
	}
	sg_strlist_clear(&late);
	if (rc == 0 && s->agent_mode != SG_AGENT_REPLY) {
		rc = keep(op, s, SG_DIR_INTERNAL, s->agent);
		if (rc == 0 && s->agent_mode == SG_AGENT_NOTE)
			rc = sg_event_emit(op, &s->t, SG_EV_NOTE, NULL, NULL, "note by %s: %.200s", s->agent,
					   s->mi->body_text ? s->mi->body_text + s->cmds.rest : "");
		if (rc == 0 && s->agent_mode == SG_AGENT_NOTE)
			rc = copy_note(op, s);
	}
	op->actor = "system";
	op->quiet = 0;
	return rc;
}
