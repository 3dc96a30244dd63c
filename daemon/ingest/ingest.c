/*
 * ingest — see ingest.h.
 *
 * Order of identification (DESIGN.md):
 *   1. Message-ID already stored           -> duplicate, nothing changes
 *   2. In-Reply-To / References we know    -> that ticket
 *      (a stored Message-ID, or one of our own outbound Message-IDs,
 *      which encode the ticket and carry the keyed check)
 *   3. subject token [TAG #N] from a participant, check valid if keyed
 *   4. plus-address support+N@ under the same rule
 *   5. otherwise a new ticket; a refused token is recorded as an event.
 *
 * All of it, and every write, happens in one transaction that is retried
 * as a whole on deadlock. The parse happens before the transaction so no
 * lock is held while GMime works.
 */
#include "config.h"
#include "ingest/ingest.h"

#include <ctype.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "notice/ack.h"
#include "outbound/queue.h"
#include "mail/address.h"
#include "lib/log.h"
#include "mail/message.h"
#include "rules/rules.h"
#include "store/store.h"
#include "mail/token.h"
#include "lib/xalloc.h"

#define MOD "ingest"
#define SG_DEADLOCK_RETRIES 8

const char *
sg_verdict_name(enum sg_verdict v)
{
	switch (v) {
	case SG_V_NEW: return "new";
	case SG_V_FOLLOWUP: return "follow-up";
	case SG_V_DUPLICATE: return "duplicate";
	case SG_V_IGNORED: return "ignored";
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

/* What the transaction found out; filled inside, used after commit. */
struct ingest_state {
	const struct sg_conf *c;
	const struct sg_ingest_in *in;
	const struct sg_msginfo *mi;
	const char *msgid;              /* message's id or our synthetic one */
	const char *sender;             /* normalised From (or envelope) */
	uint64_t plus_id;               /* from support+N@, 0 none */
	int plus_check;                 /* enum sg_check */
	const char *support_rcpt;       /* first support recipient, base form */
	/* results */
	enum sg_verdict verdict;
	uint64_t ticket;
	uint64_t claimed;
	uint64_t linked;
	const char *via;
	char *why_refused;
	size_t jobs;                    /* outbound jobs created */
	int bounce;                     /* a DSN about one of our messages */
	struct sg_route route;          /* what the rules said (new tickets) */
	int refused;                    /* rules said reject/tempfail: nothing stored */
	struct sg_ticket t;
};

static int
is_participant(const struct sg_ticket *t, const char *addr)
{
	return addr != NULL && (sg_strlist_has(&t->participants, addr) ||
				(t->requestor != NULL && strcasecmp(t->requestor, addr) == 0));
}

/* A delivery report about one of our own messages names its Message-ID
 * in the returned headers: find it, so the bounce lands on that ticket
 * as an event instead of opening a new one. */
static int
find_bounced(struct sg_store *st, struct sg_txn *txn, struct ingest_state *s)
{
	const char *raw = s->in->raw, *end = raw + s->in->len;
	int rc;

	for (const char *p = raw; p < end && p - raw < 4 * 1024 * 1024; p++) {
		if (*p != '\n' || end - p < 14 || strncasecmp(p + 1, "Message-ID:", 11) != 0)
			continue;
		const char *lt = memchr(p + 12, '<', (size_t)(end - p - 12 < 200 ? end - p - 12 : 200));
		const char *gt = lt ? memchr(lt, '>', (size_t)(end - lt < 998 ? end - lt : 998)) : NULL;
		if (lt == NULL || gt == NULL)
			continue;
		char *id = sg_xstrndup(lt + 1, (size_t)(gt - lt - 1));
		uint64_t ticket;
		uint32_t seq;
		struct sg_msgrec m;
		if (strcmp(id, s->msgid) != 0 && (rc = sg_store_msgid_lookup(st, txn, id, &ticket, &seq)) == 0 &&
		    sg_store_message_get(st, txn, ticket, seq, &m, NULL, NULL) == 0) {
			int ours = m.direction == SG_DIR_OUT;
			sg_msgrec_clear(&m);
			if (ours) {
				s->ticket = ticket;
				s->via = "bounce of our message";
				s->bounce = 1;
				free(id);
				return 0;
			}
		}
		free(id);
	}
	return 0;
}

/* Step 2: a referenced Message-ID we know. */
static int
find_by_references(struct sg_store *st, struct sg_txn *txn, struct ingest_state *s)
{
	const struct sg_msginfo *mi = s->mi;
	const struct sg_conf *c = s->c;
	uint64_t id;
	uint32_t seq;
	int rc;

	/* In-Reply-To first, then References newest first. */
	for (ssize_t i = -1; i < (ssize_t)mi->references.n; i++) {
		const char *ref = i < 0 ? mi->in_reply_to
				       : mi->references.v[mi->references.n - 1 - (size_t)i];
		if (ref == NULL || *ref == '\0')
			continue;
		rc = sg_store_msgid_lookup(st, txn, ref, &id, &seq);
		if (rc == 0) {
			s->ticket = id;
			s->via = "references";
			return 0;
		}
		if (rc != SG_STORE_NOTFOUND)
			return rc;
		if (sg_token_msgid_parse(ref, c->token_secret, c->token_secret_len, &id) == 1) {
			s->ticket = id;
			s->via = "our message-id";
			return 0;
		}
	}
	return 0;
}

/* Steps 3 and 4: a token is honoured only with a valid check (when keys
 * are on) and from a participant; otherwise it is recorded as claimed. */
static int
try_token(struct sg_store *st, struct sg_txn *txn, struct ingest_state *s, uint64_t id,
	  int check, const char *via)
{
	struct sg_ticket t = { 0 };
	int rc;

	if (s->c->token_secret != NULL && check != SG_CHECK_VALID) {
		s->claimed = id;
		s->why_refused = sg_xasprintf("%s #%llu refused: %s keyed check", via,
					      (unsigned long long)id,
					      check == SG_CHECK_NONE ? "missing" : "wrong");
		return 0;
	}
	rc = sg_store_ticket_get(st, txn, id, &t);
	if (rc == SG_STORE_NOTFOUND) {
		s->claimed = id;
		s->why_refused = sg_xasprintf("%s #%llu refused: no such ticket", via, (unsigned long long)id);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (!is_participant(&t, s->sender)) {
		s->claimed = id;
		s->why_refused = sg_xasprintf("%s #%llu refused: %s is not a participant", via,
					      (unsigned long long)id, s->sender ? s->sender : "(no sender)");
	} else {
		s->ticket = id;
		s->via = via;
	}
	sg_ticket_clear(&t);
	return 0;
}

static void
add_participants(struct sg_ticket *t, const struct ingest_state *s)
{
	const struct sg_msginfo *mi = s->mi;

	if (s->sender != NULL)
		sg_strlist_add(&t->participants, s->sender, 1);
	if (mi->reply_to_addr != NULL)
		sg_strlist_add(&t->participants, mi->reply_to_addr, 1);
	/* Cc'd colleagues (and To others than us) so their replies thread. */
	for (size_t i = 0; i < mi->cc.n; i++)
		if (!sg_conf_is_support(s->c, mi->cc.v[i], NULL))
			sg_strlist_add(&t->participants, mi->cc.v[i], 1);
	for (size_t i = 0; i < mi->to.n; i++)
		if (!sg_conf_is_support(s->c, mi->to.v[i], NULL))
			sg_strlist_add(&t->participants, mi->to.v[i], 1);
}

/* Pick an agent of queue q by its strategy; away agents are skipped.
 * Round-robin keeps a cursor per queue in the store; least-open takes the
 * agent with the fewest open tickets (ties in round-robin order). */
static int
pick_agent(struct sg_store *st, struct sg_txn *txn, const struct sg_rules *r, const struct sg_queue_def *q,
	   const char **agent)
{
	const char *cand[256];
	size_t n = 0;
	uint64_t cursor = 0;
	char *key;
	int rc;

	*agent = NULL;
	for (size_t i = 0; i < q->agents.n && n < 256; i++) {
		const struct sg_agent_def *a = sg_rules_agent(r, q->agents.v[i]);
		if (a != NULL && !a->away)
			cand[n++] = a->address;
	}
	if (n == 0 || q->strategy == SG_STRAT_NONE)
		return 0;
	key = sg_xasprintf(SG_META_RR, q->name);
	rc = sg_store_meta_get(st, txn, key, &cursor);
	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		goto out;
	size_t pick = (size_t)(cursor % n);
	if (q->strategy == SG_STRAT_LEAST_OPEN) {
		uint64_t best = UINT64_MAX;
		for (size_t k = 0; k < n; k++) {
			size_t idx = (size_t)((cursor + k) % n);
			uint64_t open = 0;
			char *ok = sg_xasprintf(SG_META_OPEN, cand[idx]);
			rc = sg_store_meta_get(st, txn, ok, &open);
			free(ok);
			if (rc != 0 && rc != SG_STORE_NOTFOUND)
				goto out;
			if (open < best) {
				best = open;
				pick = idx;
			}
		}
	}
	rc = sg_store_meta_put(st, txn, key, cursor + 1);
	*agent = cand[pick];
out:
	free(key);
	return rc == SG_STORE_NOTFOUND ? 0 : rc;
}

/* Count an assignment: open tickets and assignments per day per agent. */
static int
count_assignment(struct sg_store *st, struct sg_txn *txn, const char *agent, int64_t now, int delta)
{
	char *key = sg_xasprintf(SG_META_OPEN, agent);
	uint64_t v = 0;
	int rc = sg_store_meta_get(st, txn, key, &v);

	if (rc == 0 || rc == SG_STORE_NOTFOUND)
		rc = sg_store_meta_put(st, txn, key, delta < 0 && v == 0 ? 0 : v + (uint64_t)(int64_t)delta);
	free(key);
	if (rc == 0 && delta > 0) {
		time_t tt = (time_t)now;
		struct tm tm;
		char day[16];
		strftime(day, sizeof(day), "%Y%m%d", gmtime_r(&tt, &tm));
		key = sg_xasprintf(SG_META_DAY, agent, day);
		v = 0;
		rc = sg_store_meta_get(st, txn, key, &v);
		if (rc == 0 || rc == SG_STORE_NOTFOUND)
			rc = sg_store_meta_put(st, txn, key, v + 1);
		free(key);
	}
	return rc;
}

/* Apply the rules' route to a new ticket, with events naming the rule. */
static int
route_ticket(struct sg_store *st, struct sg_txn *txn, struct ingest_state *s, int64_t now)
{
	const struct sg_rules *r = s->c->rules;
	struct sg_ticket *t = &s->t;
	struct sg_route *ro = &s->route;
	char *actor, *detail;
	int rc = 0;

	sg_route_clear(&s->route);
	if (r == NULL)
		return 0;
	struct sg_rule_input ri = {
		.mi = s->mi, .env_from = s->in->env_from, .env_rcpt = s->in->env_rcpt, .nrcpt = s->in->nrcpt,
		.door = sg_door_name(s->in->door), .auth = s->in->auth_user, .ticket = NULL, .size = s->in->len,
	};
	sg_rules_eval(r, &ri, ro, NULL);
	actor = ro->matched.n ? sg_xasprintf("rule:%s", ro->matched.v[0]) : sg_xstrdup("system");
	if (ro->queue != NULL && strcmp(ro->queue, "default") != 0) {
		t->queue = sg_xstrdup(ro->queue);
		detail = sg_xasprintf("default -> %s", ro->queue);
		rc = sg_store_event_add(st, txn, t->id, "queue", actor, detail);
		free(detail);
	}
	if (rc == 0 && ro->priority >= 0 && ro->priority != (int)t->priority) {
		detail = sg_xasprintf("%s -> %s", sg_priority_name(t->priority), sg_priority_name(ro->priority));
		t->priority = (enum sg_priority)ro->priority;
		rc = sg_store_event_add(st, txn, t->id, "priority", actor, detail);
		free(detail);
	}
	if (rc == 0 && ro->segment != NULL) {
		t->segment = sg_xstrdup(ro->segment);
		detail = sg_xasprintf("segment %s", ro->segment);
		rc = sg_store_event_add(st, txn, t->id, "segment", actor, detail);
		free(detail);
	}
	if (rc == 0 && ro->sla != NULL) {
		long first, resolution;
		t->sla_tier = sg_xstrdup(ro->sla);
		if (sg_rules_sla(r, ro->sla, &first, &resolution) && resolution > 0)
			t->due = t->created + resolution;
		detail = sg_xasprintf("SLA tier %s", ro->sla);
		rc = sg_store_event_add(st, txn, t->id, "sla", actor, detail);
		free(detail);
	}
	for (size_t i = 0; rc == 0 && i < ro->tags.n; i++)
		sg_strlist_add(&t->tags, ro->tags.v[i], 1);
	if (rc == 0 && ro->tags.n > 0) {
		GString *g = g_string_new("tags:");
		for (size_t i = 0; i < ro->tags.n; i++)
			g_string_append_printf(g, " %s", ro->tags.v[i]);
		rc = sg_store_event_add(st, txn, t->id, "tags", actor, g->str);
		g_string_free(g, TRUE);
	}
	/* Webhook delivery comes with the webhooks feature (I3); until then
	 * the request is recorded, not silently dropped. */
	for (size_t i = 0; rc == 0 && i < ro->webhooks.n; i++) {
		detail = sg_xasprintf("webhook %s requested; no webhooks are configured, nothing sent", ro->webhooks.v[i]);
		rc = sg_store_event_add(st, txn, t->id, "webhook", actor, detail);
		sg_log_ctx(SG_LOG_WARN, MOD, s->in->queue_id, t->id, "%s", detail);
		free(detail);
	}
	if (rc == 0 && ro->language != NULL) {
		free(t->language);
		t->language = sg_xstrdup(ro->language);
	}
	const char *agent = ro->assign;
	const char *how = "rule";
	if (rc == 0 && agent == NULL && ro->assign_strategy && t->queue != NULL) {
		const struct sg_queue_def *q = sg_rules_queue(r, t->queue);
		if (q != NULL)
			rc = pick_agent(st, txn, r, q, &agent);
		how = q && q->strategy == SG_STRAT_LEAST_OPEN ? "least-open" : "round-robin";
	}
	if (rc == 0 && agent != NULL) {
		t->assignee = sg_xstrdup(agent);
		detail = sg_xasprintf("-> %s (%s)", agent, how);
		rc = sg_store_event_add(st, txn, t->id, "assignee", actor, detail);
		free(detail);
		if (rc == 0)
			rc = count_assignment(st, txn, agent, now, +1);
	}
	free(actor);
	return rc;
}

static int
create_ticket(struct sg_store *st, struct sg_txn *txn, struct ingest_state *s, int64_t now)
{
	struct sg_ticket *t = &s->t;
	const struct sg_msginfo *mi = s->mi;
	char *detail;
	int rc;

	sg_ticket_clear(t);
	rc = sg_store_ticket_new_id(st, txn, &t->id);
	if (rc != 0)
		return rc;
	t->status = SG_ST_NEW;
	t->priority = SG_PRIO_NORMAL;
	t->subject = sg_xstrdup(mi->subject ? mi->subject : "");
	t->requestor = sg_xstrdup(s->sender ? s->sender : "");
	t->requestor_name = mi->from_name ? sg_xstrdup(mi->from_name) : NULL;
	t->language = mi->language_hint ? sg_xstrdup(mi->language_hint) : NULL;
	t->created = t->updated = now;
	t->linked = s->linked;
	add_participants(t, s);
	s->ticket = t->id;
	s->verdict = SG_V_NEW;

	if (s->sender != NULL && (rc = sg_store_customer_add(st, txn, s->sender, t->id)) != 0)
		return rc;
	detail = sg_xasprintf("via %s%s%s from %s", sg_door_name(s->in->door),
			      s->in->queue_id ? " qid " : "", s->in->queue_id ? s->in->queue_id : "",
			      s->sender ? s->sender : "(unknown)");
	rc = sg_store_event_add(st, txn, t->id, "created", s->sender ? s->sender : "system", detail);
	free(detail);
	if (rc == 0 && s->claimed != 0)
		rc = sg_store_event_add(st, txn, t->id, "token-refused", "system", s->why_refused);
	if (rc == 0)
		rc = route_ticket(st, txn, s, now);
	if (rc == 0 && s->linked != 0) {
		detail = sg_xasprintf("continues #%llu (closed more than %ld days ago)",
				      (unsigned long long)s->linked, s->c->reopen_days);
		rc = sg_store_event_add(st, txn, t->id, "linked", "system", detail);
		free(detail);
		if (rc == 0) {
			detail = sg_xasprintf("continued in #%llu", (unsigned long long)t->id);
			rc = sg_store_event_add(st, txn, s->linked, "linked", "system", detail);
			free(detail);
		}
	}
	return rc;
}

/* Rules on a follow-up see the ticket (queue, status fields). They may
 * add tags, raise the priority or refuse the mail; moving a ticket to
 * another queue or agent is for people (`set`, agent commands), so queue
 * and assign actions are ignored here. */
static int
route_followup(struct sg_store *st, struct sg_txn *txn, struct ingest_state *s)
{
	const struct sg_rules *r = s->c->rules;
	struct sg_ticket *t = &s->t;
	struct sg_route *ro = &s->route;
	int rc = 0;

	sg_route_clear(ro);
	if (r == NULL)
		return 0;
	struct sg_rule_input ri = {
		.mi = s->mi, .env_from = s->in->env_from, .env_rcpt = s->in->env_rcpt, .nrcpt = s->in->nrcpt,
		.door = sg_door_name(s->in->door), .auth = s->in->auth_user, .ticket = t, .size = s->in->len,
	};
	sg_rules_eval(r, &ri, ro, NULL);
	char *actor = ro->matched.n ? sg_xasprintf("rule:%s", ro->matched.v[0]) : sg_xstrdup("system");
	if (ro->priority > (int)t->priority) {
		char *detail = sg_xasprintf("%s -> %s", sg_priority_name(t->priority), sg_priority_name(ro->priority));
		t->priority = (enum sg_priority)ro->priority;
		rc = sg_store_event_add(st, txn, t->id, "priority", actor, detail);
		free(detail);
	}
	size_t before = t->tags.n;
	for (size_t i = 0; i < ro->tags.n; i++)
		sg_strlist_add(&t->tags, ro->tags.v[i], 1);
	if (rc == 0 && t->tags.n > before) {
		GString *g = g_string_new("tags:");
		for (size_t i = before; i < t->tags.n; i++)
			g_string_append_printf(g, " %s", t->tags.v[i]);
		rc = sg_store_event_add(st, txn, t->id, "tags", actor, g->str);
		g_string_free(g, TRUE);
	}
	free(actor);
	return rc;
}

/* A follow-up: reopen when needed, learn new participants. */
static int
update_ticket(struct sg_store *st, struct sg_txn *txn, struct ingest_state *s, int64_t now, int *newticket)
{
	struct sg_ticket *t = &s->t;
	int rc;

	sg_ticket_clear(t);
	rc = sg_store_ticket_get(st, txn, s->ticket, t);
	if (rc != 0)
		return rc;
	*newticket = 0;
	if (!s->bounce && t->status == SG_ST_CLOSED && t->closed_at != 0 &&
	    now - t->closed_at > (int64_t)s->c->reopen_days * 86400) {
		/* Too old to reopen: a new ticket linked to this one. */
		s->linked = t->id;
		*newticket = 1;
		return 0;
	}
	if (s->bounce) {
		/* Not the customer speaking: no reopen, just the record. */
		char *detail = sg_xasprintf("delivery report: %.300s", s->mi->body_text ? s->mi->body_text : "");
		for (char *q = detail; *q; q++)
			if (*q == '\n' || *q == '\r')
				*q = ' ';
		rc = sg_store_event_add(st, txn, t->id, "bounce", s->sender ? s->sender : "system", detail);
		free(detail);
		if (rc != 0)
			return rc;
	} else if (t->status == SG_ST_RESOLVED || t->status == SG_ST_CLOSED || t->status == SG_ST_PENDING) {
		char *detail = sg_xasprintf("%s -> open (customer reply)", sg_status_name(t->status));
		rc = sg_store_event_add(st, txn, t->id, "status", s->sender ? s->sender : "system", detail);
		free(detail);
		if (rc != 0)
			return rc;
		t->status = SG_ST_OPEN;
		t->closed_at = 0;
	}
	add_participants(t, s);
	t->updated = now;
	s->verdict = SG_V_FOLLOWUP;
	return s->bounce ? 0 : route_followup(st, txn, s);
}

/* Where the support copy of this ticket's mail goes: the assignee, else
 * the queue's mailbox, else nowhere (NULL). */
static const char *
destination(const struct sg_conf *c, const struct sg_ticket *t)
{
	if (t->assignee != NULL)
		return t->assignee;
	if (c->rules != NULL && t->queue != NULL) {
		const struct sg_queue_def *q = sg_rules_queue(c->rules, t->queue);
		return q ? q->mailbox : NULL;
	}
	return NULL;
}

/* The IMAP door (and `supportgate ingest`) has no envelope to re-route:
 * the message is forwarded to the destination through the outbound queue,
 * marked with the ticket headers, in the same transaction. */
static int
forward_copy(struct sg_store *st, struct sg_txn *txn, struct ingest_state *s, int64_t now)
{
	const struct sg_conf *c = s->c;
	const char *dest = destination(c, &s->t);
	const char *from = c->support_from[0] ? c->support_from : c->support_address.n ? c->support_address.v[0] : NULL;

	if (dest == NULL || from == NULL)
		return 0;
	char *token = sg_token_format(c->ticket_tag, s->t.id, c->token_secret, c->token_secret_len);
	char *head = sg_xasprintf("%sTicket: %llu\r\n%sQueue: %s\r\n%sPriority: %s\r\nX-Loop: %s\r\n", c->header_prefix,
				  (unsigned long long)s->t.id, c->header_prefix, s->t.queue ? s->t.queue : "default",
				  c->header_prefix, sg_priority_name(s->t.priority), from);
	size_t hl = strlen(head), keep = s->in->len > c->max_message_size ? (size_t)c->max_message_size : s->in->len;
	struct sg_job j = { 0 };
	j.ticket = s->t.id;
	j.kind = SG_JOB_SMTP;
	j.created = j.due = now;
	j.what = "forward";
	j.mail_from = (char *)from;
	sg_strlist_add(&j.rcpts, dest, 0);
	j.payload = sg_xmalloc(hl + keep + 1);
	memcpy(j.payload, head, hl);
	memcpy(j.payload + hl, s->in->raw, keep);
	j.payload[hl + keep] = '\0';
	j.payload_len = hl + keep;
	int rc = sg_queue_add(st, txn, &j);
	if (rc == 0) {
		char *detail = sg_xasprintf("forwarded %s to %s", token, dest);
		rc = sg_store_event_add(st, txn, s->t.id, "forward", "system", detail);
		free(detail);
		s->jobs++;
	}
	free(j.payload);
	sg_strlist_clear(&j.rcpts);
	free(head);
	free(token);
	return rc;
}

static int
run_txn(struct sg_store *st, struct ingest_state *s, int64_t now)
{
	const struct sg_conf *c = s->c;
	struct sg_txn *txn = NULL;
	struct sg_msgrec m;
	uint64_t id;
	uint32_t seq;
	int rc, newticket = 1;
	size_t keep;

	free(s->why_refused);
	s->why_refused = NULL;
	sg_route_clear(&s->route);
	s->ticket = s->claimed = s->linked = 0;
	s->refused = 0;
	s->via = NULL;
	sg_ticket_clear(&s->t);

	if ((rc = sg_store_txn_begin(st, &txn)) != 0)
		return rc;
	rc = sg_store_msgid_lookup(st, txn, s->msgid, &id, &seq);
	if (rc == 0) {
		/* Read the ticket so a retried copy is marked like the first. */
		s->verdict = SG_V_DUPLICATE;
		s->ticket = id;
		rc = sg_store_ticket_get(st, txn, id, &s->t);
		sg_store_txn_abort(&txn);
		return rc == SG_STORE_NOTFOUND ? 0 : rc;
	}
	if (rc != SG_STORE_NOTFOUND)
		goto fail;
	s->bounce = 0;
	if (s->mi->is_dsn && (rc = find_bounced(st, txn, s)) != 0)
		goto fail;
	if (s->ticket == 0 && (rc = find_by_references(st, txn, s)) != 0)
		goto fail;
	if (s->ticket == 0 && c->ticket_tag != NULL) {
		int check;
		if (sg_token_find(s->mi->subject, c->ticket_tag, c->token_secret, c->token_secret_len,
				  &id, &check) == 1 && (rc = try_token(st, txn, s, id, check, "subject token")) != 0)
			goto fail;
	}
	if (s->ticket == 0 && s->plus_id != 0 && s->claimed != s->plus_id &&
	    (rc = try_token(st, txn, s, s->plus_id, s->plus_check, "plus-address")) != 0)
		goto fail;
	if (s->ticket != 0 && (rc = update_ticket(st, txn, s, now, &newticket)) != 0) {
		if (rc != SG_STORE_NOTFOUND)
			goto fail;
		/* A reference to a ticket that no longer exists: new ticket. */
		s->ticket = 0;
		newticket = 1;
	}
	if (newticket && (rc = create_ticket(st, txn, s, now)) != 0)
		goto fail;
	if (s->in->door == SG_DOOR_MILTER && (s->route.reject_text != NULL || s->route.tempfail)) {
		/* The rules refuse the mail at SMTP time: no ticket at all, so
		 * an MTA retry after tempfail is judged afresh. */
		sg_store_txn_abort(&txn);
		s->verdict = SG_V_IGNORED;
		s->refused = 1;
		return 0;
	}

	memset(&m, 0, sizeof(m));
	m.ticket = s->t.id;
	m.direction = SG_DIR_IN;
	m.from = (char *)(s->sender ? s->sender : "");
	m.message_id = (char *)s->msgid;
	m.subject = (char *)(s->mi->subject ? s->mi->subject : "");
	m.date = (int64_t)s->mi->date;
	m.received = now;
	m.size = s->in->len;
	keep = s->in->len;
	if (keep > c->max_message_size) {
		keep = (size_t)c->max_message_size;
		m.flags |= SG_MSG_TRUNCATED;
	}
	if ((rc = sg_store_message_add(st, txn, &m, s->in->raw, keep)) != 0)
		goto fail;
	if (m.flags & SG_MSG_TRUNCATED) {
		char *detail = sg_xasprintf("message %u of %zu bytes stored truncated to %zu (max_message_size)",
					    m.seq, s->in->len, keep);
		rc = sg_store_event_add(st, txn, s->t.id, "truncated", "system", detail);
		free(detail);
		if (rc != 0)
			goto fail;
	}
	if (!newticket && s->claimed != 0 &&
	    (rc = sg_store_event_add(st, txn, s->t.id, "token-refused", "system", s->why_refused)) != 0)
		goto fail;
	s->t.nmessages++;
	s->jobs = 0;
	if (newticket && c->ack && !s->route.no_template) {
		const char *why = sg_ack_suppressed(c, s->mi, s->in->env_from);
		int queued = 0;
		if (why != NULL) {
			char *detail = sg_xasprintf("no acknowledgement: %s", why);
			rc = sg_store_event_add(st, txn, s->t.id, "ack-suppressed", "system", detail);
			sg_log_ctx(SG_LOG_INFO, MOD, s->in->queue_id, s->t.id, "%s", detail);
			free(detail);
		} else {
			rc = sg_ack_queue(st, txn, c, &s->t, s->mi, s->msgid, now, &queued);
		}
		if (rc != 0)
			goto fail;
		s->jobs += (size_t)queued;
	}
	if (s->in->door != SG_DOOR_MILTER && (rc = forward_copy(st, txn, s, now)) != 0)
		goto fail;
	for (size_t i = 0; newticket && i < s->route.notify.n; i++) {
		char *why = sg_xasprintf("rule %s", s->route.matched.n ? s->route.matched.v[s->route.matched.n - 1] : "?");
		rc = sg_ack_notice(st, txn, c, &s->t, s->route.notify.v[i], why, s->mi->body_text, now);
		free(why);
		if (rc != 0)
			goto fail;
		s->jobs++;
	}
	if ((rc = sg_store_ticket_put(st, txn, &s->t)) != 0)
		goto fail;
	return sg_store_txn_commit(&txn);
fail:
	sg_store_txn_abort(&txn);
	return rc;
}

/* Messages without a Message-ID still need a stable identity so an MTA
 * retry is recognised: hash the bytes. */
static char *
synthetic_msgid(const char *raw, size_t len)
{
	gchar *h = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)raw, len);
	char *id = sg_xasprintf("%.40s@nomsgid.supportgate", h);
	g_free(h);
	return id;
}

static void
fill_decision(const struct ingest_state *s, struct sg_decision *d)
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
	const char *dest = destination(c, t);
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
	if (t->due != 0) {
		char due[64];
		time_t tt = (time_t)t->due;
		struct tm tm;
		strftime(due, sizeof(due), "%a, %d %b %Y %H:%M:%S +0000", gmtime_r(&tt, &tm));
		add_header(d, c->header_prefix, "Due", due);
	}
}

int
sg_ingest(struct sg_store *st, const struct sg_conf *c, const struct sg_ingest_in *in,
	  struct sg_decision *out)
{
	struct ingest_state s;
	struct sg_msginfo *mi = NULL;
	char *synth = NULL, *sender = NULL, *support_base = NULL;
	int rc = SG_ING_OK;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.in = in;

	/* Only mail to a support address is ours. */
	for (size_t i = 0; i < in->nrcpt; i++) {
		char *detail = NULL;
		if (!sg_conf_is_support(c, in->env_rcpt[i], &detail))
			continue;
		if (support_base == NULL) {
			support_base = sg_addr_normalize(in->env_rcpt[i]);
			if (support_base != NULL && detail != NULL) {
				/* Reply-To is the base address, without +detail. */
				char *at = strchr(support_base, '@');
				char *plus = at ? memchr(support_base, '+', (size_t)(at - support_base)) : NULL;
				if (plus != NULL)
					memmove(plus, at, strlen(at) + 1);
			}
		}
		if (detail != NULL && s.plus_id == 0) {
			uint64_t id;
			int check;
			if (sg_token_plus_parse(detail, c->token_secret, c->token_secret_len, &id, &check) == 1) {
				s.plus_id = id;
				s.plus_check = check;
			}
		}
		free(detail);
	}
	if (support_base == NULL) {
		out->verdict = SG_V_IGNORED;
		out->reason = sg_xstrdup("no support recipient");
		return SG_ING_OK;
	}
	s.support_rcpt = support_base;
	if (in->len == 0) {
		sg_log_ctx(SG_LOG_WARN, MOD, in->queue_id, 0, "empty message");
		free(support_base);
		return SG_ING_EPARSE;
	}

	if (sg_message_parse(in->raw, in->len, &mi) != 0 || mi == NULL) {
		/* Lose nothing: the raw bytes are still stored on a ticket. */
		sg_log_ctx(SG_LOG_WARN, MOD, in->queue_id, 0, "message cannot be parsed; storing it raw");
		mi = sg_msginfo_empty(in->len);
	}
	s.mi = mi;
	if (mi->message_id != NULL && *mi->message_id != '\0') {
		s.msgid = mi->message_id;
	} else {
		synth = synthetic_msgid(in->raw, in->len);
		s.msgid = synth;
	}
	if (mi->from_addr != NULL)
		sender = sg_xstrdup(mi->from_addr);
	else if (in->env_from != NULL && *in->env_from != '\0')
		sender = sg_addr_normalize(in->env_from);
	s.sender = sender;

	int64_t now = (int64_t)time(NULL);
	int src = SG_STORE_DEADLOCK;
	for (int attempt = 0; attempt < SG_DEADLOCK_RETRIES && src == SG_STORE_DEADLOCK; attempt++)
		src = run_txn(st, &s, now);
	if (src != 0) {
		sg_log_ctx(SG_LOG_ERROR, MOD, in->queue_id, s.ticket, "store failed: %s",
			   src == SG_STORE_DEADLOCK ? "deadlock retries exhausted" : "error");
		rc = SG_ING_ESTORE;
		goto out;
	}

	out->verdict = s.verdict;
	out->ticket = s.ticket;
	out->jobs = s.verdict == SG_V_DUPLICATE ? 0 : s.jobs;
	out->claimed = s.claimed;
	if (s.refused) {
		out->ticket = 0;
		out->reject = s.route.reject_text ? sg_xstrdup(s.route.reject_text) : NULL;
		out->tempfail = s.route.tempfail;
		out->reason = sg_xasprintf("refused by rule %s", s.route.matched.n ? s.route.matched.v[0] : "?");
	} else if (s.verdict == SG_V_DUPLICATE) {
		out->reason = sg_xasprintf("Message-ID <%s> already stored", s.msgid);
		if (s.t.id != 0)
			fill_decision(&s, out);
	} else {
		fill_decision(&s, out);
		if (s.verdict == SG_V_NEW && s.linked)
			out->reason = sg_xasprintf("new ticket, continues closed #%llu", (unsigned long long)s.linked);
		else if (s.verdict == SG_V_NEW && s.claimed)
			out->reason = sg_xasprintf("new ticket; %s", s.why_refused);
		else if (s.verdict == SG_V_NEW)
			out->reason = sg_xstrdup("new ticket");
		else
			out->reason = sg_xasprintf("follow-up by %s", s.via ? s.via : "?");
	}
	{
		char sfrom[200], sid[200];
		sg_log_ctx(SG_LOG_INFO, MOD, in->queue_id, s.ticket, "%s from=<%s> msgid=<%s>: %s",
			   sg_verdict_name(out->verdict), sg_log_safe(sfrom, sizeof(sfrom), s.sender, 120),
			   sg_log_safe(sid, sizeof(sid), s.msgid, 120), out->reason);
	}
out:
	sg_ticket_clear(&s.t);
	sg_route_clear(&s.route);
	free(s.why_refused);
	sg_msginfo_free(&mi);
	free(synth);
	free(sender);
	free(support_base);
	return rc;
}
