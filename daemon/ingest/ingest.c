/*
 * ingest — see ingest.h. The steps live in this folder:
 *   identify.c  which ticket a message claims, and whether it is granted
 *   route.c     what the rules say, applied through the ticket operations
 *   ingest.c    the entry point: facts, decision, transaction, answer
 *
 * Decide first, then write (DESIGN.md): parsing, identification with
 * read-only lookups, the rules (PCRE2) and the rendering of the
 * acknowledgement and notices all happen before the write transaction.
 * The transaction re-checks (Message-ID, the same identification) and
 * writes; a deadlock retries only the transaction. When the re-check
 * finds another answer (a concurrent copy of the same message, a ticket
 * that changed hands), the decision is made afresh, at most
 * SG_REDECIDE_MAX times.
 */
#include "config.h"
#include "ingest/ingest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest/state.h"
#include "lib/log.h"
#include "lib/lograte.h"
#include "lib/retry.h"
#include "lib/xalloc.h"
#include "mail/address.h"
#include "mail/token.h"
#include "metrics/metrics.h"
#include "notice/ack.h"
#include "notice/ratelimit.h"
#include "notice/react.h"
#include "outbound/webhook.h"
#include "sla/clock.h"
#include "sla/retention.h"
#include "ticket/daystat.h"
#include "store/store.h"
#include "ticket/slatime.h"
#include "calendar/calendar.h"
#include "ticket/ops.h"

#define MOD "ingest"
#define SG_DEADLOCK_RETRIES 8
#define SG_REDECIDE_MAX 4

const char *
sg_verdict_name(enum sg_verdict v)
{
	switch (v) {
	case SG_V_NEW: return "new";
	case SG_V_FOLLOWUP: return "follow-up";
	case SG_V_DUPLICATE: return "duplicate";
	case SG_V_IGNORED: return "ignored";
	case SG_V_AGENT: return "agent";
	case SG_V_STATUS: return "status";
	}
	return "?";
}

const char *
sg_door_name(enum sg_door d)
{
	switch (d) {
	case SG_DOOR_MILTER: return "milter";
	case SG_DOOR_IMAP: return "imap";
	case SG_DOOR_CLI: return "cli";
	}
	return "?";
}

void
sg_decision_clear(struct sg_decision *d)
{
	for (size_t i = 0; i < d->nadd; i++) {
		free(d->add[i].name);
		free(d->add[i].value);
	}
	free(d->add);
	free(d->token);
	free(d->subject);
	free(d->reply_to);
	free(d->reason);
	free(d->reject);
	sg_strlist_clear(&d->rcpt_add);
	sg_strlist_clear(&d->rcpt_del);
	memset(d, 0, sizeof(*d));
}

static void
add_header(struct sg_decision *d, const char *prefix, const char *name, const char *value)
{
	d->add = sg_xreallocarray(d->add, d->nadd + 1, sizeof(*d->add));
	d->add[d->nadd].name = sg_xasprintf("%s%s", prefix, name);
	d->add[d->nadd].value = sg_message_header_encode(value);
	d->nadd++;
}

void
sg_ingest_init(void)
{
	sg_notice_subscribe();
	sg_clock_subscribe();
	sg_webhook_subscribe();
	sg_metrics_subscribe();
	sg_daystat_subscribe();
	sg_retention_subscribe();
}

static void
clear_decision(struct sg_ingest_state *s)
{
	sg_route_clear(&s->route);
	sg_rendered_clear(&s->ack);
	for (size_t i = 0; i < s->nnotices; i++)
		sg_rendered_clear(&s->notices[i]);
	sg_xfree(&s->notices);
	s->nnotices = 0;
	s->refused = s->ack_wanted = s->own_mail = 0;
	s->ack_skip = NULL;
	s->blind = NULL;
	s->dup_discard = 0;
	s->linked = 0;
	sg_agent_clear(s);
	sg_customer_clear(s);
	sg_ticket_clear(&s->t);
}

/* ------------------------------------------------------------ 1. facts */

static int
read_facts(struct sg_ingest_state *s)
{
	const struct sg_ingest_in *in = s->in;

	if (in->len == 0) {
		sg_log_ctx(SG_LOG_WARN, MOD, in->queue_id, 0, "empty message");
		return SG_ING_EPARSE;
	}
	if (sg_message_parse(in->raw, in->len, &s->mi) != 0 || s->mi == NULL) {
		/* Lose nothing: the raw bytes are still stored on a ticket. */
		sg_log_ctx(SG_LOG_WARN, MOD, in->queue_id, 0, "message cannot be parsed; storing it raw");
		s->mi = sg_msginfo_empty(in->len);
		s->unparsed = 1;
	}
	if (s->mi->message_id != NULL && *s->mi->message_id != '\0') {
		s->msgid = s->mi->message_id;
	} else {
		s->synth_msgid = sg_identify_synthetic_msgid(in->raw, in->len);
		s->msgid = s->synth_msgid;
	}
	sg_identify_digest(s);
	if (s->mi->from_addr != NULL)
		s->sender = sg_xstrdup(s->mi->from_addr);
	else if (in->env_from != NULL && *in->env_from != '\0')
		s->sender = sg_addr_normalize(in->env_from);
	return SG_ING_OK;
}

/* ------------------------------------------------------ 2. the decision */

/* The fields every new ticket starts with. */
static void
ticket_base(const struct sg_ingest_state *s, struct sg_ticket *t, int64_t now)
{
	const struct sg_msginfo *mi = s->mi;

	sg_ticket_clear(t);
	t->id = s->new_id;
	t->status = SG_ST_NEW;
	t->priority = SG_PRIO_NORMAL;
	t->subject = sg_xstrdup(mi->subject ? mi->subject : "");
	t->requestor = sg_xstrdup(s->sender ? s->sender : "");
	t->requestor_name = mi->from_name ? sg_xstrdup(mi->from_name) : NULL;
	t->language = mi->language_hint ? sg_xstrdup(mi->language_hint) : NULL;
	t->created = t->updated = now;
	/* continues a ticket closed too long ago, or the one it claimed in vain */
	t->linked = s->linked ? s->linked : s->claimed_exists ? s->claimed : 0;
}

/* The new ticket as the rules will make it, for rendering only. */
static void
ticket_draft(const struct sg_ingest_state *s, struct sg_ticket *t, int64_t now)
{
	const struct sg_route *ro = &s->route;

	ticket_base(s, t, now);
	(void)sg_identify_add_participants(t, s, 1);
	if (ro->queue != NULL)
		t->queue = sg_xstrdup(ro->queue);
	if (ro->priority >= 0)
		t->priority = (enum sg_priority)ro->priority;
	if (ro->language != NULL) {
		free(t->language);
		t->language = sg_xstrdup(ro->language);
	}
	if (ro->assign != NULL)
		t->assignee = sg_xstrdup(ro->assign);
	/* the due times as the ticket operations will compute them (slatime.h) */
	if (ro->sla != NULL && s->c->rules && sg_rules_tier(s->c->rules, ro->sla) != NULL)
		t->sla_tier = sg_xstrdup(ro->sla);
	if (ro->service != NULL && s->c->rules && sg_rules_service(s->c->rules, ro->service) != NULL)
		t->service = sg_xstrdup(ro->service);
	sg_slatime_compute(s->c, t);
}

/* Render what a new ticket sends: the acknowledgement, rule notices. */
static void
render_new(struct sg_store *st, struct sg_ingest_state *s, int64_t now)
{
	const struct sg_conf *c = s->c;
	const struct sg_route *ro = &s->route;
	struct sg_ticket draft = { 0 };

	ticket_draft(s, &draft, now);
	s->ack_wanted = c->ack && !ro->no_template;
	if (s->ack_wanted && (s->ack_skip = sg_ack_suppressed(c, s->mi, s->in->env_from)) == NULL) {
		/* A read of the limits first: a flood from one address costs no
		 * rendering. The transaction checks again and counts. */
		const char *limited = NULL, *to = sg_ack_recipient(s->mi);
		if (to != NULL && sg_ratelimit_check(st, NULL, to, c->ack_limit_global, now, &limited, 0) == 0 &&
		    limited != NULL)
			s->ack.why = limited;
		else
			(void)sg_ack_prepare(c, &draft, s->mi, s->msgid, ro->template_name, &s->ack);
	}
	const struct sg_queue_def *q = ro->queue && c->rules ? sg_rules_queue(c->rules, ro->queue) : NULL;
	s->blind = q != NULL && q->blind && ro->assign == NULL ? q : NULL;
	size_t nblind = s->blind ? s->blind->agents.n : 0;
	if (ro->notify.n + nblind > 0)
		s->notices = sg_xcalloc(ro->notify.n + nblind, sizeof(*s->notices));
	for (size_t i = 0; i < ro->notify.n; i++, s->nnotices++) {
		char *to = sg_addr_normalize(ro->notify.v[i]);
		char *why = sg_xasprintf("rule %s", ro->matched.n ? ro->matched.v[ro->matched.n - 1] : "?");
		struct sg_notice n = {
			.template_name = "notify", .lang = c->default_language, .to = to, .error = why,
			.excerpt_text = s->mi->body_text,
		};
		(void)sg_notice_render(c, &draft, &n, &s->notices[i]);
		free(why);
		free(to);
	}
	for (size_t i = 0; i < nblind; i++, s->nnotices++) {
		struct sg_notice n = { .template_name = "blind", .lang = c->default_language, .to = s->blind->agents.v[i] };
		(void)sg_notice_render(c, &draft, &n, &s->notices[s->nnotices]);
	}
	sg_ticket_clear(&draft);
}

static int
too_old(const struct sg_ingest_state *s, const struct sg_ticket *t, int64_t now)
{
	return !s->bounce && t->status == SG_ST_CLOSED && t->closed_at != 0 &&
	       now - t->closed_at > (int64_t)s->c->reopen_days * 86400;
}

/* Was this message stored before? The same Message-ID with the same
 * content is (an MTA retry); the same id with other content is another
 * message, kept under an id of its own (its retries find that one).
 * Returns 0 with *ticket when seen, SG_STORE_NOTFOUND, or a store code. */
static int
seen_before(struct sg_store *st, struct sg_txn *txn, struct sg_ingest_state *s, uint64_t *ticket, uint32_t *seqp)
{
	unsigned char dig[SG_MSGID_DIGEST_LEN];
	int has = 0, rc = sg_store_msgid_digest(st, txn, s->msgid, ticket, seqp, dig, &has);

	/* only a real Message-ID can be reused: a synthetic one hashes the bytes */
	if (rc != 0 || !has || memcmp(dig, s->digest, sizeof(dig)) == 0 || s->msgid_reused || s->synth_msgid != NULL)
		return rc;
	s->msgid_reused = 1;
	s->synth_msgid = sg_identify_reused_msgid(s);
	s->msgid = s->synth_msgid;
	return sg_store_msgid_lookup(st, txn, s->msgid, ticket, seqp);
}

/* A retried copy goes where the first went: nowhere, when the first was
 * an agent's mail (relayed by us: its id indexed as ours, seq 0, or kept
 * as an internal note), our own mail come back, or a request waiting
 * hidden in a blind queue. */
static int
first_was_discarded(struct sg_store *st, const struct sg_ingest_state *s, uint32_t seq)
{
	struct sg_msgrec m = { 0 };
	int internal = 0;

	if (seq == 0)
		return 1;
	if (sg_store_message_get(st, NULL, s->ticket, seq, &m, NULL, NULL) == 0) {
		internal = m.direction != SG_DIR_IN;
		sg_msgrec_clear(&m);
	}
	if (internal)
		return 1;
	const struct sg_queue_def *q = s->t.queue && s->c->rules ? sg_rules_queue(s->c->rules, s->t.queue) : NULL;
	return q != NULL && q->blind && s->t.assignee == NULL;
}

/* Mail from an agent (proven, or only claiming to be one) about a ticket. */
static int
decide_agent(struct sg_store *st, struct sg_ingest_state *s, struct sg_ticket *snap)
{
	int rc = 0;

	s->verdict = SG_V_AGENT;
	s->agent_target = s->ticket ? s->ticket : s->claimed;
	if (s->ticket == 0) {
		sg_ticket_clear(snap);
		if ((rc = sg_store_ticket_get(st, NULL, s->agent_target, snap)) != 0)
			return rc;
	}
	return sg_agent_decide(st, s, snap);
}

static int
decide(struct sg_store *st, struct sg_ingest_state *s, int64_t now)
{
	struct sg_ticket snap = { 0 };
	uint64_t id;
	uint32_t seq = 0;
	int rc;

	clear_decision(s);
	if ((rc = seen_before(st, NULL, s, &id, &seq)) == 0) {
		/* Read the ticket so a retried copy is marked like the first. */
		s->verdict = SG_V_DUPLICATE;
		s->ticket = id;
		rc = sg_store_ticket_get(st, NULL, id, &s->t);
		if (rc == 0)
			s->dup_discard = first_was_discarded(st, s, seq);
		return rc == SG_STORE_NOTFOUND ? 0 : rc;
	}
	if (rc != SG_STORE_NOTFOUND || (rc = sg_identify(st, NULL, s)) != 0)
		return rc;
	s->identified = s->ticket;
	s->identified_bounce = s->bounce;
	if (s->agent == NULL && s->sender != NULL && sg_conf_is_support(s->c, s->sender, NULL)) {
		/* Our own mail come back under a new Message-ID (a forwarder,
		 * an autoresponder): as Request Tracker does with mail from
		 * its own addresses, no ticket, no answer, no participant. */
		s->own_mail = 1;
		s->verdict = SG_V_IGNORED;
		return 0;
	}
	if (!s->bounce && s->agent == NULL && s->unverified_agent == NULL && sg_customer_is_status_request(s) &&
	    sg_ack_suppressed(s->c, s->mi, s->in->env_from) == NULL)
		return sg_customer_decide_status(st, s);
	if (s->ticket != 0 && (rc = sg_store_ticket_get(st, NULL, s->ticket, &snap)) != 0) {
		if (rc != SG_STORE_NOTFOUND)
			return rc;
		s->ticket = 0;   /* a reference to a ticket that no longer exists: new ticket */
	}
	if (s->ticket != 0 && too_old(s, &snap, now))
		s->linked = s->ticket;
	if (!s->bounce && !s->linked &&
	    ((s->agent != NULL && s->ticket != 0) || (s->unverified_agent != NULL && (s->ticket || s->claimed_exists)))) {
		rc = decide_agent(st, s, &snap);
		sg_ticket_clear(&snap);
		return rc;
	}
	s->verdict = s->ticket != 0 && !s->linked ? SG_V_FOLLOWUP : SG_V_NEW;
	if (s->verdict == SG_V_FOLLOWUP && !s->bounce && snap.status == SG_ST_RESOLVED)
		sg_customer_find_rating(s);
	if (!s->bounce)
		sg_route_decide(s, s->verdict == SG_V_FOLLOWUP ? &snap : NULL);
	sg_ticket_clear(&snap);
	if (s->in->door == SG_DOOR_MILTER && (s->route.reject_text != NULL || s->route.tempfail)) {
		/* Refused at SMTP time: no ticket at all, so an MTA retry
		 * after tempfail is judged afresh. */
		s->refused = 1;
		s->verdict = SG_V_IGNORED;
		return 0;
	}
	if (s->verdict != SG_V_NEW)
		return 0;
	/* The id is taken outside the transaction (auto-commit), so the
	 * sequence is not locked while the message is written; an id lost
	 * to a failed ingest is a gap, never a reuse. */
	if (s->new_id == 0 && (rc = sg_store_ticket_new_id(st, NULL, &s->new_id)) != 0)
		return rc;
	render_new(st, s, now);
	return 0;
}

/* ---------------------------------------------------- 3. the transaction */

static int
participants_capped(struct sg_op *op, struct sg_ticket *t, size_t dropped)
{
	return sg_event_emit(op, t, SG_EV_PARTICIPANTS, NULL, NULL,
			     "%zu address(es) not added: a ticket has at most %d participants", dropped,
			     SG_TICKET_MAX_PARTICIPANTS);
}

static int
create_ticket(struct sg_op *op, struct sg_ingest_state *s)
{
	struct sg_ticket *t = &s->t;
	int rc = 0;

	ticket_base(s, t, op->now);
	size_t dropped = sg_identify_add_participants(t, s, 1);
	if (s->sender != NULL)
		rc = sg_store_customer_add(op->st, op->txn, s->sender, t->id);
	op->actor = s->sender ? s->sender : "system";   /* the customer opens it */
	if (rc == 0)
		rc = sg_event_emit(op, t, SG_EV_CREATED, NULL, NULL, "via %s%s%s from %s", s->door,
				   s->in->queue_id ? " qid " : "", s->in->queue_id ? s->in->queue_id : "",
				   s->sender ? s->sender : "(unknown)");
	op->actor = "system";
	if (rc == 0 && s->claimed != 0)
		rc = sg_event_emit(op, t, SG_EV_TOKEN_REFUSED, NULL, NULL, "%s", s->why_refused);
	if (rc == 0 && s->claimed_exists && !s->linked)
		rc = sg_event_emit_id(op, s->claimed, SG_EV_TOKEN_REFUSED, "%s claimed this ticket and is not one of "
				      "its people: new ticket #%llu", s->sender ? s->sender : "(no sender)",
				      (unsigned long long)t->id);
	if (rc == 0 && dropped > 0)
		rc = participants_capped(op, t, dropped);
	if (rc == 0)
		rc = sg_route_apply_new(op, s);
	if (rc == 0 && s->linked != 0)
		rc = sg_event_emit(op, t, SG_EV_LINKED, NULL, NULL, "continues #%llu (closed more than %ld days ago)",
				   (unsigned long long)s->linked, s->c->reopen_days);
	if (rc == 0 && s->linked != 0)
		rc = sg_event_emit_id(op, s->linked, SG_EV_LINKED, "continued in #%llu", (unsigned long long)t->id);
	return rc;
}

/* A follow-up: the bounce record, or reopen; new participants; rules. */
static int
update_ticket(struct sg_op *op, struct sg_ingest_state *s)
{
	struct sg_ticket *t = &s->t;
	const char *why = NULL;
	int rc;

	sg_ticket_clear(t);
	if ((rc = sg_store_ticket_get(op->st, op->txn, s->ticket, t)) != 0)
		return rc == SG_STORE_NOTFOUND ? SG_ING_REDECIDE : rc;
	if (too_old(s, t, op->now))
		return SG_ING_REDECIDE;
	t->updated = op->now;
	op->actor = s->sender ? s->sender : "system";   /* the one who wrote */
	if (s->bounce)   /* not the customer speaking: no reopen, just the record */
		rc = sg_event_emit(op, t, SG_EV_BOUNCE, NULL, NULL, "delivery report: %.300s",
				   s->mi->body_text ? s->mi->body_text : "");
	else if (s->rating && t->status == SG_ST_RESOLVED)
		rc = sg_customer_write_rating(op, s);   /* a rating keeps it resolved */
	else if (t->status == SG_ST_RESOLVED || t->status == SG_ST_CLOSED || t->status == SG_ST_PENDING)
		rc = sg_op_status(op, t, SG_ST_OPEN, "customer reply", &why);
	op->actor = "system";
	if (rc != 0 || s->bounce)
		return rc;
	size_t dropped = sg_identify_add_participants(t, s, 0);
	if (dropped > 0 && (rc = participants_capped(op, t, dropped)) != 0)
		return rc;
	return sg_route_apply_followup(op, s);
}

static int
store_message(struct sg_op *op, struct sg_ingest_state *s)
{
	uint32_t seq = 0;
	size_t keep = 0;
	int rc;

	if ((rc = sg_keep_message(op, s, SG_DIR_IN, s->sender, &seq, &keep)) != 0)
		return rc;
	if (keep < s->in->len)
		rc = sg_event_emit(op, &s->t, SG_EV_TRUNCATED, NULL, NULL,
				   "message %u of %zu bytes stored truncated to %zu (max_message_size)", seq,
				   s->in->len, keep);
	char *cut = rc == 0 ? sg_msginfo_cut_note(s->mi) : NULL;
	if (cut != NULL)   /* what the bounded parse left out: the raw copy is whole */
		rc = sg_event_emit(op, &s->t, SG_EV_TRUNCATED, NULL, NULL, "message %u: %s", seq, cut);
	free(cut);
	if (rc == 0 && s->msgid_reused)
		rc = sg_event_emit(op, &s->t, SG_EV_MSGID_REUSED, NULL, NULL,
				   "message %u reuses the Message-ID of another message with other content; kept as <%s>",
				   seq, s->msgid);
	if (rc == 0 && s->verdict == SG_V_FOLLOWUP && s->claimed != 0)
		rc = sg_event_emit(op, &s->t, SG_EV_TOKEN_REFUSED, NULL, NULL, "%s", s->why_refused);
	return rc;
}

/* What the new message causes: acknowledgement, forward, notices. */
static int
outgoing(struct sg_op *op, struct sg_ingest_state *s)
{
	int rc = 0, queued = 0;

	if (s->verdict == SG_V_NEW && s->ack_wanted) {
		if (s->ack_skip != NULL) {
			char *key = sg_xasprintf("skip:%s:%s", s->sender ? s->sender : "?", s->ack_skip);
			if (sg_lograte_allow(key, op->now, 3600, NULL))
				sg_log_ctx(SG_LOG_INFO, MOD, op->queue_id, s->t.id, "no acknowledgement: %s", s->ack_skip);
			free(key);
			rc = sg_event_emit(op, &s->t, SG_EV_ACK_SUPPRESSED, NULL, NULL, "no acknowledgement: %s", s->ack_skip);
		} else {
			rc = sg_ack_queue(op, &s->t, s->mi, &s->ack, &queued);
		}
	}
	if (rc == 0 && s->in->door != SG_DOOR_MILTER && s->blind == NULL)
		rc = sg_route_forward(op, s);
	for (size_t i = 0; rc == 0 && i < s->nnotices; i++) {
		int blind = i >= s->route.notify.n;
		const char *to = blind ? s->blind->agents.v[i - s->route.notify.n] : s->route.notify.v[i];
		char *why = blind ? sg_xstrdup("new request in a blind queue")
				  : sg_xasprintf("rule %s", s->route.matched.n ? s->route.matched.v[s->route.matched.n - 1] : "?");
		char *addr = sg_addr_normalize(to);
		if (addr != NULL)
			rc = sg_notice_queue_rendered(op, &s->t, addr, &s->notices[i], why);
		free(addr);
		free(why);
	}
	return rc;
}

/* The agent's mail in the transaction: the ticket as it is now; a bad
 * command changes nothing (not even the ticket record). */
static int
write_agent(struct sg_op *op, struct sg_ingest_state *s)
{
	int rc;

	sg_ticket_clear(&s->t);
	if ((rc = sg_store_ticket_get(op->st, op->txn, s->agent_target, &s->t)) != 0)
		return rc == SG_STORE_NOTFOUND ? SG_ING_REDECIDE : rc;
	if ((rc = sg_agent_write(op, s)) != 0 || s->agent_mode == SG_AGENT_ERROR)
		return rc;
	return sg_store_ticket_put(op->st, op->txn, &s->t);
}

static int
run_txn(struct sg_store *st, struct sg_ingest_state *s, int64_t now)
{
	struct sg_op op = { .st = st, .c = s->c, .now = now, .actor = "system", .queue_id = s->in->queue_id };
	uint64_t id, followup = s->ticket;
	int rc;

	if ((rc = sg_store_txn_begin(st, &op.txn)) != 0)
		return rc;
	uint32_t seq;
	rc = sg_store_txn_waited(op.txn);   /* the door waits: background work gives way */
	if (rc == 0)
		rc = seen_before(st, op.txn, s, &id, &seq);
	if (rc == 0)
		rc = SG_ING_REDECIDE;   /* a concurrent copy got in first */
	else if (rc == SG_STORE_NOTFOUND)
		rc = sg_identify(st, op.txn, s);
	if (rc == 0 && (s->ticket != s->identified || s->bounce != s->identified_bounce))
		rc = SG_ING_REDECIDE;
	if (rc == 0 && s->verdict == SG_V_AGENT) {
		rc = write_agent(&op, s);
		goto end;
	}
	if (rc == 0 && s->verdict == SG_V_STATUS) {
		rc = sg_customer_write_status(&op, s);
		goto end;
	}
	if (rc == 0 && s->verdict == SG_V_NEW) {
		s->ticket = s->new_id;
		rc = create_ticket(&op, s);
	} else if (rc == 0) {
		s->ticket = followup;
		rc = update_ticket(&op, s);
	}
	if (rc == 0)
		rc = store_message(&op, s);
	if (rc == 0)
		rc = outgoing(&op, s);
	if (rc == 0)
		rc = sg_store_ticket_put(st, op.txn, &s->t);
end:
	if (rc == 0 && s->in->kv_name != NULL)   /* the door's bookkeeping, in the same commit */
		rc = sg_store_kv_put(st, op.txn, s->in->kv_name, s->in->kv_val, s->in->kv_len);
	if (rc == 0)
		rc = sg_store_txn_commit_nowait(&op.txn);   /* flushed after the writer lock */
	sg_store_txn_abort(&op.txn);
	s->jobs = rc == 0 ? op.jobs : 0;
	return rc;
}

static void
fill_decision(const struct sg_ingest_state *s, struct sg_decision *d)
{
	const struct sg_conf *c = s->c;
	const struct sg_ticket *t = &s->t;
	const char *subj = s->mi->subject ? s->mi->subject : "";
	char idbuf[32];

	d->token = sg_token_format(c->ticket_tag, t->id, c->token_secret, c->token_secret_len);
	if (!sg_subject_has_token(subj, c->ticket_tag, t->id)) {
		char *ns = sg_subject_add_token(subj, d->token);
		d->subject = sg_message_header_encode(ns);
		free(ns);
	}
	if (s->support_rcpt != NULL)
		d->reply_to = sg_xstrdup(s->support_rcpt);
	/* Re-route the support copy to the assignee or the queue's mailbox. */
	const char *dest = sg_route_destination(c, t);
	if (dest != NULL) {
		for (size_t i = 0; i < s->in->nrcpt; i++)
			if (sg_conf_is_support(c, s->in->env_rcpt[i], NULL))
				sg_strlist_add(&d->rcpt_del, s->in->env_rcpt[i], 1);
		char *br = sg_xasprintf("<%s>", dest);
		sg_strlist_add(&d->rcpt_add, br, 1);
		free(br);
	}
	if (s->route.reject_text != NULL)
		d->reject = sg_xstrdup(s->route.reject_text);
	d->tempfail = s->route.tempfail;
	d->quarantine = s->route.quarantine;
	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)t->id);
	add_header(d, c->header_prefix, "Ticket", idbuf);
	add_header(d, c->header_prefix, "Queue", t->queue ? t->queue : "default");
	add_header(d, c->header_prefix, "Priority", sg_priority_name(t->priority));
	if (t->due != 0) {   /* RFC 5322 date in the zone of the ticket's SLA calendar */
		char due[64];
		int32_t off = sg_calendar_offset(sg_slatime_calendar(c, t), t->due);
		time_t tt = (time_t)(t->due + off);
		struct tm tm;
		size_t n = strftime(due, sizeof(due), "%a, %d %b %Y %H:%M:%S ", gmtime_r(&tt, &tm));
		int ao = off < 0 ? -off : off;
		snprintf(due + n, sizeof(due) - n, "%c%02d%02d", off < 0 ? '-' : '+', ao / 3600, ao / 60 % 60);
		add_header(d, c->header_prefix, "Due", due);
	}
}

static void
answer(const struct sg_ingest_state *s, struct sg_decision *out)
{
	out->verdict = s->verdict;
	out->ticket = s->verdict == SG_V_NEW ? s->new_id : s->ticket;
	out->jobs = s->verdict == SG_V_DUPLICATE ? 0 : s->jobs;
	out->claimed = s->claimed;
	if (s->refused) {
		out->ticket = 0;
		out->reject = s->route.reject_text ? sg_xstrdup(s->route.reject_text) : NULL;
		out->tempfail = s->route.tempfail;
		out->reason = sg_xasprintf("refused by rule %s", s->route.matched.n ? s->route.matched.v[0] : "?");
		return;
	}
	if (s->own_mail) {
		out->ticket = 0;
		out->reason = s->ticket ? sg_xasprintf("from our own support address <%s>: a mail loop, no ticket (it "
						       "names #%llu)", s->sender, (unsigned long long)s->ticket)
					: sg_xasprintf("from our own support address <%s>: a mail loop, no ticket", s->sender);
		return;
	}
	if (s->verdict == SG_V_STATUS) {
		out->ticket = 0;
		out->discard = s->in->door == SG_DOOR_MILTER;
		out->reason = sg_xasprintf("status request answered (%zu answer(s))", s->nstatus);
		return;
	}
	if (s->verdict == SG_V_AGENT) {
		static const char *const what[] = {
			[SG_AGENT_NONE] = "?", [SG_AGENT_REPLY] = "reply relayed to the customer",
			[SG_AGENT_COMMANDS] = "commands applied", [SG_AGENT_NOTE] = "internal note",
			[SG_AGENT_ERROR] = "command error: nothing changed, the agent is told",
			[SG_AGENT_UNVERIFIED] = "unverified sender: kept as an internal note",
		};
		out->ticket = s->agent_target;
		out->discard = s->in->door == SG_DOOR_MILTER;
		out->reason = sg_xasprintf("agent %s: %s", s->agent ? s->agent : s->unverified_agent, what[s->agent_mode]);
		return;
	}
	if (s->verdict == SG_V_DUPLICATE) {
		out->reason = sg_xasprintf("Message-ID <%s> already stored", s->msgid);
		out->discard = s->dup_discard && s->in->door == SG_DOOR_MILTER;
		if (s->t.id != 0 && !out->discard)
			fill_decision(s, out);
		return;
	}
	fill_decision(s, out);
	/* a blind queue's mail reaches no agent: it waits, stored, for #take */
	out->discard = s->blind != NULL && s->in->door == SG_DOOR_MILTER;
	if (s->verdict == SG_V_NEW && s->linked)
		out->reason = sg_xasprintf("new ticket, continues closed #%llu", (unsigned long long)s->linked);
	else if (s->verdict == SG_V_NEW && s->claimed)
		out->reason = sg_xasprintf("new ticket; %s", s->why_refused);
	else if (s->verdict == SG_V_NEW)
		out->reason = sg_xstrdup("new ticket");
	else
		out->reason = sg_xasprintf("follow-up by %s", s->via ? s->via : "?");
}

/* One writer at a time in this process. Every ingest transaction writes
 * the same hot pages (the newest tickets, events, jobs and messages, the
 * acknowledgement counters in meta.db), so concurrent writers gained no
 * overlap, only deadlocks: at 20 SMTP sessions most transactions were
 * deadlock victims at least once and 2-3% of support mail used up its
 * retries and was tempfailed (tests/bench/bench-milter.sh). Serialised,
 * none is. The lock covers the transaction up to its commit record in
 * the log buffer, not the disk: the flush comes after it, so the writers
 * waiting meanwhile share one fsync (group commit), and nothing is told
 * "stored" before it is on disk. Decisions (parse, rules, rendering) run
 * in parallel before it. */
static pthread_mutex_t writer = PTHREAD_MUTEX_INITIALIZER;

/* Decide, then write; decide again when the write saw another world. */
static int
decide_and_write(struct sg_store *st, struct sg_ingest_state *s)
{
	int rc = 0;

	for (int round = 0; round <= SG_REDECIDE_MAX; round++) {
		int64_t now = (int64_t)time(NULL);
		/* the decision's reads are outside a transaction, but a btree
		 * descent holds a page while it asks for the next, so a split
		 * in the outbound worker's or the clock's transaction can pick
		 * it as a deadlock victim: read again, like the write below */
		rc = SG_STORE_DEADLOCK;
		for (int attempt = 0; attempt < SG_DEADLOCK_RETRIES && rc == SG_STORE_DEADLOCK; attempt++) {
			if (attempt > 0)
				sg_retry_pause(attempt, 1000);   /* up to 1 ms x attempt */
			rc = decide(st, s, now);
		}
		if (rc != 0)
			return rc;
		if (s->verdict == SG_V_DUPLICATE)   /* the first copy may not be on disk yet: */
			return sg_store_flush(st);     /* answer for it only once it is */
		if (s->refused || s->own_mail)
			return 0;
		rc = SG_STORE_DEADLOCK;
		pthread_mutex_lock(&writer);
		for (int attempt = 0; attempt < SG_DEADLOCK_RETRIES && rc == SG_STORE_DEADLOCK; attempt++) {
			if (attempt > 0)
				sg_retry_pause(attempt, 1000);   /* up to 1 ms x attempt */
			rc = run_txn(st, s, now);
		}
		pthread_mutex_unlock(&writer);
		if (rc == 0)
			rc = sg_store_flush(st);   /* durable before the door answers */
		if (rc != SG_ING_REDECIDE)
			return rc;
	}
	return SG_STORE_DEADLOCK;
}

static int
ingest_one(struct sg_store *st, const struct sg_conf *c, const struct sg_ingest_in *in, struct sg_decision *out)
{
	struct sg_ingest_state s = { .c = c, .in = in, .door = sg_door_name(in->door) };
	int rc;

	memset(out, 0, sizeof(*out));
	if (!sg_identify_recipients(&s)) {
		out->verdict = SG_V_IGNORED;
		out->reason = sg_xstrdup("no support recipient");
		return SG_ING_OK;
	}
	if ((rc = read_facts(&s)) != SG_ING_OK)
		goto out;
	int src = decide_and_write(st, &s);
	if (src != 0) {
		sg_log_ctx(SG_LOG_ERROR, MOD, in->queue_id, s.ticket, "store failed: %s",
			   src == SG_STORE_DEADLOCK ? "deadlock retries exhausted" : "error");
		rc = SG_ING_ESTORE;
		goto out;
	}
	answer(&s, out);
	out->unparsed = s.unparsed;
	char sfrom[200], sid[200];
	sg_log_ctx(SG_LOG_INFO, MOD, in->queue_id, out->ticket, "%s from=<%s> msgid=<%s>: %s",
		   sg_verdict_name(out->verdict), sg_log_safe(sfrom, sizeof(sfrom), s.sender, 120),
		   sg_log_safe(sid, sizeof(sid), s.msgid, 120), out->reason);
out:
	clear_decision(&s);
	sg_strlist_clear(&s.late_errors);
	free(s.why_refused);
	sg_msginfo_free(&s.mi);
	free(s.synth_msgid);
	free(s.sender);
	free(s.support_rcpt);
	return rc;
}

_Static_assert(SG_MX_DOORS == SG_DOOR_CLI + 1 && SG_MX_VERDICTS == SG_V_STATUS + 1,
	       "metrics/metrics.h counts the doors and verdicts of ingest.h");

/* Every message through either door is counted once, by its verdict. */
int
sg_ingest(struct sg_store *st, const struct sg_conf *c, const struct sg_ingest_in *in, struct sg_decision *out)
{
	int rc = ingest_one(st, c, in, out);

	sg_metrics_message((unsigned)in->door, rc == SG_ING_OK ? (unsigned)out->verdict : SG_MX_VERDICT_ERROR);
	return rc;
}
