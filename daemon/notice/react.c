/*
 * react — see react.h.
 */
#include "config.h"
#include "notice/react.h"

#include <glib.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>
#include <string.h>

#include "conf/conf.h"
#include "mail/address.h"
#include "mail/token.h"
#include "notice/ratelimit.h"
#include "outbound/queue.h"
#include "store/store.h"
#include "lib/xalloc.h"
#include "rules/rules.h"

int
sg_notice_queue_rendered(struct sg_op *op, struct sg_ticket *t, const char *to, const struct sg_rendered *r,
			 const char *why)
{
	int rc;

	if (r->msg == NULL)
		return 0;
	if ((rc = sg_notice_queue(op, t, "notice", to, r, 0, NULL)) != 0)
		return rc;
	return sg_event_emit(op, t, SG_EV_NOTIFY, NULL, to, "notice to %s: %s", to, why);
}

int
sg_notice_send(struct sg_op *op, struct sg_ticket *t, const struct sg_notice *n, const char *why)
{
	struct sg_rendered r;
	int rc = 0;

	if (sg_notice_render(op->c, t, n, &r) == 0)
		rc = sg_notice_queue_rendered(op, t, n->to, &r, why);
	sg_rendered_clear(&r);
	return rc;
}

/* A notice to the customer about their ticket: in their language,
 * threaded under their first message, kept in the history, within the
 * loop guards and rate limits of the acknowledgement; nothing under
 * #quiet. */
int
sg_notice_customer(struct sg_op *op, struct sg_ticket *t, const char *template_name)
{
	const char *to = t ? t->requestor : NULL, *why = NULL;
	struct sg_msgrec m = { 0 };
	struct sg_rendered r;
	int rc;

	if (op->quiet || to == NULL || *to == '\0' || sg_addr_is_robot(to) || sg_conf_is_support(op->c, to, NULL))
		return 0;
	if ((rc = sg_ratelimit_check(op->st, op->txn, to, op->c->ack_limit_global, op->now, &why, 1)) != 0)
		return rc;
	if (why != NULL)
		return sg_event_emit(op, t, SG_EV_ACK_SUPPRESSED, NULL, NULL, "no %s notice: %s", template_name, why);
	rc = sg_store_message_get(op->st, op->txn, t->id, 1, &m, NULL, NULL);
	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		return rc;
	char *refs = m.message_id && *m.message_id ? sg_xasprintf("<%s>", m.message_id) : NULL;
	struct sg_notice n = {
		.template_name = template_name, .to = to, .to_name = t->requestor_name,
		.in_reply_to = refs ? m.message_id : NULL, .references = refs,
	};
	uint64_t job = 0;
	rc = 0;
	if (sg_notice_render(op->c, t, &n, &r) == 0 &&
	    (rc = sg_notice_queue(op, t, template_name, to, &r, SG_NOTICE_HISTORY, &job)) == 0)
		rc = sg_event_emit(op, t, SG_EV_STATUS_SENT, NULL, template_name, "%s notice (%s) queued to %s as job %llu",
				   template_name, r.lang, to, (unsigned long long)job);
	sg_rendered_clear(&r);
	sg_msgrec_clear(&m);
	free(refs);
	return rc;
}

/* pending, resolved (with the rating invitation) and closed are told;
 * a reopen by the customer's own reply is not. */
static int
on_status(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	(void)arg;
	if (t == NULL || ev->new_value == NULL)
		return 0;
	if (strcmp(ev->new_value, "pending") == 0 || strcmp(ev->new_value, "resolved") == 0 ||
	    strcmp(ev->new_value, "closed") == 0)
		return sg_notice_customer(op, t, ev->new_value);
	return 0;
}

#define SG_HANDOFF_MESSAGES 50
#define SG_HANDOFF_TICKETS 20

static void
when(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	strftime(buf, size, "%Y-%m-%d %H:%M", gmtime_r(&tt, &tm));
}

struct history {
	GString *g;
	unsigned n;
};

static int
history_msg(const struct sg_msgrec *m, void *arg)
{
	struct history *h = arg;
	char w[32];

	if (h->n++ >= SG_HANDOFF_MESSAGES)
		return 0;
	when(m->received, w, sizeof(w));
	g_string_append_printf(h->g, "  %s  %-8s %s: %s\n", w, sg_direction_name(m->direction), m->from ? m->from : "",
			       m->subject ? m->subject : "");
	return 0;
}

/* The ticket's thread and the requestor's other tickets, as text. */
static int
history(struct sg_op *op, const struct sg_ticket *t, char **out)
{
	struct history h = { g_string_new("The thread so far:\n"), 0 };
	uint64_t *ids = NULL;
	size_t n = 0;
	int rc = sg_store_message_foreach(op->st, op->txn, t->id, history_msg, &h);

	if (rc == 0 && t->requestor && *t->requestor)
		rc = sg_store_customer_tickets(op->st, op->txn, t->requestor, &ids, &n);
	if (rc == SG_STORE_NOTFOUND)
		rc = 0;
	g_string_append(h.g, "\nThe customer's other requests:\n");
	size_t shown = 0;
	for (size_t i = n; rc == 0 && i-- > 0 && shown < SG_HANDOFF_TICKETS;) {
		struct sg_ticket o = { 0 };
		char w[32];
		if (ids[i] == t->id || (rc = sg_store_ticket_get(op->st, op->txn, ids[i], &o)) != 0) {
			rc = rc == SG_STORE_NOTFOUND ? 0 : rc;
			continue;
		}
		char *tok = sg_token_format(op->c->ticket_tag, o.id, op->c->token_secret, op->c->token_secret_len);
		when(o.created, w, sizeof(w));
		g_string_append_printf(h.g, "  %s  %s  %-8s %s\n", w, tok, sg_status_name(o.status), o.subject ? o.subject : "");
		free(tok);
		sg_ticket_clear(&o);
		shown++;
	}
	if (shown == 0)
		g_string_append(h.g, "  none\n");
	free(ids);
	*out = g_string_free(h.g, FALSE);
	return rc;
}

/* A ticket passing to an agent (assign, take, transfer; not the first
 * routing of a new ticket, whose mail the agent receives anyway) brings
 * the whole story with it: the customer never repeats themselves. */
static int
handoff(struct sg_op *op, struct sg_ticket *t, const char *agent)
{
	char *hist = NULL;
	int rc = history(op, t, &hist);

	if (rc == 0) {
		struct sg_notice n = {
			.template_name = "handoff", .lang = op->c->default_language, .to = agent, .history = hist,
		};
		rc = sg_notice_send(op, t, &n, "handed over");
	}
	g_free(hist);
	return rc;
}

/* A blind queue's taker receives the request itself, as it came. */
static int
full_message(struct sg_op *op, struct sg_ticket *t, const char *agent)
{
	struct sg_msgrec m = { 0 };
	struct sg_strlist to = { 0 };
	char *raw = NULL;
	size_t len = 0;
	int rc = sg_store_message_get(op->st, op->txn, t->id, 1, &m, &raw, &len);

	if (rc == 0) {
		sg_strlist_add(&to, agent, 0);
		rc = sg_notice_copy(op, t->id, "taken request", &to, NULL, raw, len);
		sg_strlist_clear(&to);
		sg_msgrec_clear(&m);
	}
	free(raw);
	return rc == SG_STORE_NOTFOUND ? 0 : rc;
}

static int
on_assignee(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	int rc = 0;

	(void)arg;
	if (t == NULL || ev->new_value == NULL)
		return 0;
	const struct sg_queue_def *q = op->c->rules && t->queue ? sg_rules_queue(op->c->rules, t->queue) : NULL;
	if (q != NULL && q->blind && t->nmessages > 0)
		rc = full_message(op, t, ev->new_value);
	if (rc == 0 && t->nmessages > 0 && strcasecmp(ev->new_value, op->actor ? op->actor : "") != 0)
		rc = handoff(op, t, ev->new_value);
	else if (rc == 0 && t->nmessages > 0 && ev->old_value != NULL)
		rc = handoff(op, t, ev->new_value);   /* #take of someone else's ticket */
	if (rc == 0 && op->c->assign_notice)
		rc = sg_notice_customer(op, t, "assigned");
	return rc;
}

/* The language of notices to an address: a declared agent's own, else
 * default_language. */
static const char *
lang_of(const struct sg_conf *c, const char *addr)
{
	const struct sg_agent_def *a = c->rules ? sg_rules_agent(c->rules, addr) : NULL;
	return a && a->language && *a->language ? a->language : c->default_language;
}

/* An escalation to one person, in their language; {{due}} is the due
 * time of the target that fired. */
static int
escalate_to(struct sg_op *op, struct sg_ticket *t, const char *to, int breach, int first_response)
{
	const char *lang = lang_of(op->c, to);
	int ru = lang != NULL && strcmp(lang, "ru") == 0;
	const char *target = first_response ? (ru ? "первый ответ" : "first response") : (ru ? "решение" : "resolution");
	char *err = breach && t->reason ? sg_xasprintf("%s (%s: %s)", target, ru ? "причина" : "reason", t->reason)
					: sg_xstrdup(target);
	struct sg_ticket view = *t;   /* shallow: only due differs, for rendering */
	struct sg_notice n = {
		.template_name = breach ? "sla-breach" : "escalation", .lang = lang, .to = to, .error = err,
	};
	struct sg_rendered r;
	int rc = 0;

	if (first_response)
		view.due = t->first_response_due;
	if (sg_notice_render(op->c, &view, &n, &r) == 0)
		rc = sg_notice_queue_rendered(op, t, to, &r, breach ? "SLA breach" : "SLA warning");
	sg_rendered_clear(&r);
	free(err);
	return rc;
}

/* The manager of t's queue, or NULL. */
static const char *
queue_manager(const struct sg_op *op, const struct sg_ticket *t)
{
	const struct sg_rules *r = op->c->rules;
	const struct sg_queue_def *q = r && t && t->queue ? sg_rules_queue(r, t->queue) : NULL;

	return q != NULL ? q->manager : NULL;
}

/* SLA warning: the assignee (the manager when nobody is assigned);
 * breach: the assignee and the manager. */
static int
on_sla(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	const char *manager = queue_manager(op, t);
	int breach = ev->type == SG_EV_SLA_BREACH, fr = ev->new_value && strcmp(ev->new_value, "first-response") == 0;
	int rc = 0;

	(void)arg;
	if (t == NULL)
		return 0;
	if (t->assignee != NULL)
		rc = escalate_to(op, t, t->assignee, breach, fr);
	if (rc == 0 && manager != NULL && (breach || t->assignee == NULL) &&
	    (t->assignee == NULL || strcasecmp(manager, t->assignee) != 0))
		rc = escalate_to(op, t, manager, breach, fr);
	return rc;
}

/* A notice to the queue's manager at once (none without a manager). */
static int
tell_manager(struct sg_op *op, struct sg_ticket *t, const char *tmpl, int own_language, const char *text,
	     const char *why)
{
	const char *manager = queue_manager(op, t);

	if (manager == NULL)
		return 0;
	struct sg_notice n = {
		.template_name = tmpl, .lang = own_language ? lang_of(op->c, manager) : op->c->default_language,
		.to = manager, .error = text,
	};
	return sg_notice_send(op, t, &n, why);
}

/* More than two hands: the queue's manager hears of it at once. */
static int
on_pingpong(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	(void)ev;
	(void)arg;
	if (queue_manager(op, t) == NULL)
		return 0;
	char *why = sg_xasprintf("passed through %u hands (ping-pong)", t->transfers);
	int rc = tell_manager(op, t, "notify", 0, why, why);
	free(why);
	return rc;
}

/* A reopen after resolution: the queue's manager hears of it at once. */
static int
on_reopened(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	(void)ev;
	(void)arg;
	if (queue_manager(op, t) == NULL)
		return 0;
	char *times = sg_xasprintf("%u", t->reopens);
	int rc = tell_manager(op, t, "reopened", 1, times, "reopened after resolution");
	free(times);
	return rc;
}

void
sg_notice_subscribe(void)
{
	sg_event_subscribe(SG_EV_SLA_WARNING, on_sla, NULL);
	sg_event_subscribe(SG_EV_SLA_BREACH, on_sla, NULL);
	sg_event_subscribe(SG_EV_REOPENED, on_reopened, NULL);
	sg_event_subscribe(SG_EV_PINGPONG, on_pingpong, NULL);
	sg_event_subscribe(SG_EV_STATUS, on_status, NULL);
	sg_event_subscribe(SG_EV_ASSIGNEE, on_assignee, NULL);
}
