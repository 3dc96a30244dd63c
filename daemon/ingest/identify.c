/*
 * identify — which ticket a message claims, and whether the claim is
 * granted (DESIGN.md "Who speaks in a ticket").
 *
 * Order:
 *   1. a delivery report (multipart/report from the null sender) about a
 *      mail we sent -> that ticket, as an event only (bounce);
 *   2. In-Reply-To / References to a Message-ID we know, or one of our
 *      own keyed Message-IDs;
 *   3. the subject token [TAG #N] (check valid when keys are on);
 *   4. the plus-address support+N@ under the same rule;
 *   5. otherwise a new ticket.
 * Steps 2-4 are only claims: one is granted when the sender is a
 * participant of the claimed ticket or a proven agent (SMTP AUTH identity
 * of a declared agent). A refused claim opens a new ticket linked to the
 * claimed one, with an event on both: nobody enters, reopens or reads a
 * ticket by knowing an id. The first granted claim wins; the first
 * refused one is the one recorded.
 *
 * Participants (DESIGN.md rule 4): the sender always joins (a proven
 * agent does not: agents are not participants); the other addresses of
 * a mail (Reply-To, To, Cc other than ours) join only on a new ticket or
 * when the sender is the requestor; at most SG_TICKET_MAX_PARTICIPANTS
 * per ticket (the caller records an event when the cap drops one);
 * a bounce adds nobody.
 * Every lookup here is a read. sg_identify() runs once before the write
 * transaction (txn NULL) to decide, and again inside it (txn set) to
 * re-check: the answer must be the same, else ingest decides afresh.
 */
#include "config.h"
#include "ingest/state.h"

#include <glib.h>
#include <nettle/sha2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "mail/address.h"
#include "mail/authres.h"
#include "mail/token.h"
#include "store/store.h"
#include "ticket/ops.h"

#define SG_DSN_SCAN_MAX (4 * 1024 * 1024)   /* bytes of a report searched for the returned Message-ID */

int
sg_identify_is_participant(const struct sg_ticket *t, const char *addr)
{
	return addr != NULL && (sg_strlist_has(&t->participants, addr) ||
				(t->requestor != NULL && strcasecmp(t->requestor, addr) == 0));
}

static void
join(struct sg_ticket *t, const char *addr, size_t *dropped)
{
	if (addr == NULL || sg_strlist_has(&t->participants, addr))
		return;
	if (t->participants.n >= SG_TICKET_MAX_PARTICIPANTS)
		++*dropped;
	else
		sg_strlist_add(&t->participants, addr, 1);
}

size_t
sg_identify_add_participants(struct sg_ticket *t, const struct sg_ingest_state *s, int newticket)
{
	const struct sg_msginfo *mi = s->mi;
	size_t dropped = 0;

	if (s->bounce || s->agent != NULL)
		return 0;
	join(t, s->sender, &dropped);
	if (!newticket && (s->sender == NULL || t->requestor == NULL || strcasecmp(s->sender, t->requestor) != 0))
		return dropped;
	/* The requestor brings people in: Reply-To, Cc'd colleagues, To others than us. */
	join(t, mi->reply_to_addr, &dropped);
	for (size_t i = 0; i < mi->cc.n; i++)
		if (!sg_conf_is_support(s->c, mi->cc.v[i], NULL))
			join(t, mi->cc.v[i], &dropped);
	for (size_t i = 0; i < mi->to.n; i++)
		if (!sg_conf_is_support(s->c, mi->to.v[i], NULL))
			join(t, mi->to.v[i], &dropped);
	return dropped;
}

/* The n bytes of d as 2n lower-case hex digits into out (2n + 1 bytes). */
static void
hex_of(char *out, const uint8_t *d, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Messages without a Message-ID still need a stable identity so an MTA
 * retry is recognised: hash the bytes (the first 20 of SHA-256). */
char *
sg_identify_synthetic_msgid(const char *raw, size_t len)
{
	struct sha256_ctx h;
	uint8_t dig[SHA256_DIGEST_SIZE];
	char hex[2 * 20 + 1];

	sha256_init(&h);
	sha256_update(&h, len, (const uint8_t *)raw);
	sha256_digest(&h, sizeof(dig), dig);
	hex_of(hex, dig, 20);
	return sg_xasprintf("%s@nomsgid.supportgate", hex);
}

/* What makes two copies of a message the same message: the body as it
 * came, the author and the subject. Not the Date or Received fields: an
 * MTA may add those anew on each retry (Postfix's cleanup adds a missing
 * Date before the milter sees the headers). An MTA retry is the same; a
 * stranger's mail under someone else's Message-ID is not.
 * SHA-256 by Nettle: it uses the CPU's SHA instructions where there are
 * some (GLib's GChecksum does not: 220 against 40 us for 64 KB here). */
void
sg_identify_digest(struct sg_ingest_state *s)
{
	const char *raw = s->in->raw, *body = raw;
	size_t len = s->in->len;
	struct sha256_ctx h;
	uint8_t dig[SHA256_DIGEST_SIZE];

	for (const char *p = raw, *end = raw + len; (p = memchr(p, '\n', (size_t)(end - p))) != NULL && p + 1 < end; p++)
		/* the header block ends at the first empty line */
		if (p[1] == '\n' || (p[1] == '\r' && p + 2 < end && p[2] == '\n')) {
			body = p + 1;
			break;
		}
	sha256_init(&h);
	sha256_update(&h, len - (size_t)(body - raw), (const uint8_t *)body);
	const char *parts[2] = { s->mi->from_addr ? s->mi->from_addr : "", s->mi->subject ? s->mi->subject : "" };
	for (int i = 0; i < 2; i++) {
		sha256_update(&h, 1, (const uint8_t *)"\n");
		sha256_update(&h, strlen(parts[i]), (const uint8_t *)parts[i]);
	}
	sha256_digest(&h, sizeof(dig), dig);
	memcpy(s->digest, dig, SG_MSGID_DIGEST_LEN);
}

/* The id a message is kept under when its Message-ID already names
 * another message: the digest in front keeps retries of it idempotent. */
char *
sg_identify_reused_msgid(const struct sg_ingest_state *s)
{
	char hex[2 * SG_MSGID_DIGEST_LEN + 1];

	hex_of(hex, s->digest, SG_MSGID_DIGEST_LEN);
	return sg_xasprintf("%s.reused.%.900s", hex, s->mi->message_id ? s->mi->message_id : "");
}

/* Support recipients: the first one's base address (for Reply-To) and a
 * plus-address claim. Returns 1 when the mail is support mail. */
int
sg_identify_recipients(struct sg_ingest_state *s)
{
	const struct sg_conf *c = s->c;
	const struct sg_ingest_in *in = s->in;

	for (size_t i = 0; i < in->nrcpt; i++) {
		char *detail = NULL;
		if (!sg_conf_is_support(c, in->env_rcpt[i], &detail))
			continue;
		if (s->support_rcpt == NULL && (s->support_rcpt = sg_addr_normalize(in->env_rcpt[i])) != NULL &&
		    detail != NULL) {
			/* Reply-To is the base address, without +detail. */
			char *at = strchr(s->support_rcpt, '@');
			char *plus = at ? memchr(s->support_rcpt, '+', (size_t)(at - s->support_rcpt)) : NULL;
			if (plus != NULL)
				memmove(plus, at, strlen(at) + 1);
		}
		uint64_t id;
		int check;
		if (detail != NULL && s->plus_id == 0 &&
		    sg_token_plus_parse(detail, c->token_secret, c->token_secret_len, &id, &check) == 1) {
			s->plus_id = id;
			s->plus_check = check;
		}
		free(detail);
	}
	return s->support_rcpt != NULL;
}

/* A Message-ID of ours: stored on a ticket or one of our keyed ids. */
static int
known_msgid(struct sg_store *st, struct sg_txn *txn, const struct sg_conf *c, const char *id, uint64_t *ticket)
{
	uint32_t seq;
	int rc = sg_store_msgid_lookup(st, txn, id, ticket, &seq);

	if (rc != SG_STORE_NOTFOUND)
		return rc;
	return sg_token_msgid_parse(id, c->token_secret, c->token_secret_len, ticket) == 1 ? 0 : SG_STORE_NOTFOUND;
}

/* A delivery report names the Message-ID of the mail it returns in the
 * returned headers. Anything we sent or relayed (acknowledgements,
 * notices, alerts with our keyed ids; forwarded copies with the
 * customer's id) lands on its ticket as an event, never as a new ticket. */
static int
find_bounced(struct sg_store *st, struct sg_txn *txn, struct sg_ingest_state *s)
{
	const char *raw = s->in->raw, *end = raw + s->in->len;
	int rc;

	for (const char *p = raw; p < end && p - raw < SG_DSN_SCAN_MAX; p++) {
		if (*p != '\n' || end - p < 14 || strncasecmp(p + 1, "Message-ID:", 11) != 0)
			continue;
		const char *lt = memchr(p + 12, '<', (size_t)(end - p - 12 < 200 ? end - p - 12 : 200));
		const char *gt = lt ? memchr(lt, '>', (size_t)(end - lt < 998 ? end - lt : 998)) : NULL;
		if (lt == NULL || gt == NULL)
			continue;
		char *id = sg_xstrndup(lt + 1, (size_t)(gt - lt - 1));
		uint64_t ticket = 0;
		rc = strcmp(id, s->msgid) == 0 ? SG_STORE_NOTFOUND : known_msgid(st, txn, s->c, id, &ticket);
		free(id);
		if (rc == 0) {
			s->ticket = ticket;
			s->via = "bounce of our message";
			s->bounce = 1;
			return 0;
		}
		if (rc != SG_STORE_NOTFOUND)
			return rc;
	}
	return 0;
}

/* Record a refused claim (the first one is kept: it is the strongest). */
static void refuse(struct sg_ingest_state *s, uint64_t id, int exists, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
refuse(struct sg_ingest_state *s, uint64_t id, int exists, const char *fmt, ...)
{
	va_list ap;
	char *why = NULL;

	if (s->claimed != 0)
		return;
	va_start(ap, fmt);
	if (vasprintf(&why, fmt, ap) < 0)
		why = NULL;
	va_end(ap);
	s->claimed = id;
	s->claimed_exists = exists;
	s->why_refused = why ? why : sg_xstrdup("claim refused");
}

/* A claim on ticket id: granted to its participants and proven agents. */
static int
claim(struct sg_store *st, struct sg_txn *txn, struct sg_ingest_state *s, uint64_t id, const char *via)
{
	struct sg_ticket t = { 0 };
	int rc = sg_ticket_merged_into(st, txn, id, &id);   /* a merged ticket's mail lands where it went */

	if (rc == 0)
		rc = sg_store_ticket_get(st, txn, id, &t);
	if (rc == SG_STORE_NOTFOUND) {
		refuse(s, id, 0, "%s #%llu refused: no such ticket", via, (unsigned long long)id);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (s->agent != NULL || sg_identify_is_participant(&t, s->sender)) {
		s->ticket = id;
		s->via = via;
	} else {
		refuse(s, id, 1, "%s #%llu refused: %s is not a participant", via, (unsigned long long)id,
		       s->sender ? s->sender : "(no sender)");
	}
	sg_ticket_clear(&t);
	return 0;
}

/* Step 2: a referenced Message-ID we know, In-Reply-To first, then
 * References newest first. */
static int
find_by_references(struct sg_store *st, struct sg_txn *txn, struct sg_ingest_state *s)
{
	const struct sg_msginfo *mi = s->mi;
	uint64_t id;
	uint32_t seq;
	int rc;

	for (ssize_t i = -1; i < (ssize_t)mi->references.n && s->ticket == 0; i++) {
		const char *ref = i < 0 ? mi->in_reply_to : mi->references.v[mi->references.n - 1 - (size_t)i];
		if (ref == NULL || *ref == '\0')
			continue;
		rc = sg_store_msgid_lookup(st, txn, ref, &id, &seq);
		if (rc == 0)
			rc = claim(st, txn, s, id, "references");
		else if (rc == SG_STORE_NOTFOUND &&
			 sg_token_msgid_parse(ref, s->c->token_secret, s->c->token_secret_len, &id) == 1)
			rc = claim(st, txn, s, id, "our message-id");
		else if (rc == SG_STORE_NOTFOUND)
			rc = 0;
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Steps 3 and 4: a token with a wrong or missing keyed check (when keys
 * are on) is refused before any lookup. */
static int
try_token(struct sg_store *st, struct sg_txn *txn, struct sg_ingest_state *s, uint64_t id, int check,
	  const char *via)
{
	if (s->c->token_secret != NULL && check != SG_CHECK_VALID) {
		refuse(s, id, 0, "%s #%llu refused: %s keyed check", via, (unsigned long long)id,
		       check == SG_CHECK_NONE ? "missing" : "wrong");
		return 0;
	}
	return claim(st, txn, s, id, via);
}

/* Only the null sender sends delivery reports (RFC 3464); a door without
 * an envelope (CLI, IMAP) goes by the Return-Path the MTA wrote. */
static int
from_null_sender(const struct sg_ingest_state *s)
{
	const char *e = s->in->env_from;

	if (e != NULL)
		return e[0] == '\0' || strcmp(e, "<>") == 0;
	return s->mi->return_path != NULL && strstr(s->mi->return_path, "<>") != NULL;
}

/* The agent an SMTP AUTH login stands for: "login=address" in
 * agent_logins, else the login itself as an address. */
static const struct sg_agent_def *
login_agent(const struct sg_conf *c, const char *login)
{
	size_t ll = strlen(login);
	const char *addr = login;

	for (size_t i = 0; i < c->agent_logins.n; i++) {
		const char *e = c->agent_logins.v[i];
		if (strncasecmp(e, login, ll) == 0 && e[ll] == '=') {
			addr = e + ll + 1;
			break;
		}
	}
	char *a = sg_addr_normalize(addr);
	const struct sg_agent_def *ag = a ? sg_rules_agent(c->rules, a) : NULL;
	free(a);
	return ag;
}

/* A proven agent (DESIGN.md rule 3): the MTA's SMTP AUTH identity of a
 * declared agent, or a trusted host's Authentication-Results showing
 * DKIM or DMARC pass for the domain of a From that is a declared agent.
 * A From header alone proves nothing: *unverified then names the agent
 * the mail pretends to come from. */
static const char *
proven_agent(const struct sg_ingest_state *s, const char **unverified)
{
	const struct sg_conf *c = s->c;
	const struct sg_agent_def *ag;

	*unverified = NULL;
	if (c->rules == NULL)
		return NULL;
	if (s->in->auth_user != NULL && s->in->auth_user[0] != '\0' && (ag = login_agent(c, s->in->auth_user)) != NULL)
		return ag->address;
	if (s->mi->from_addr == NULL || (ag = sg_rules_agent(c->rules, s->mi->from_addr)) == NULL)
		return NULL;
	const char *domain = sg_addr_domain(ag->address);
	for (size_t i = 0; i < s->mi->hdr_names.n; i++)
		if (strcasecmp(s->mi->hdr_names.v[i], "Authentication-Results") == 0 &&
		    sg_authres_pass(s->mi->hdr_values.v[i], &c->trusted_authserv_id, domain))
			return ag->address;
	*unverified = ag->address;
	return NULL;
}

int
sg_identify(struct sg_store *st, struct sg_txn *txn, struct sg_ingest_state *s)
{
	const struct sg_conf *c = s->c;
	uint64_t id;
	int check, rc = 0;

	s->ticket = s->claimed = 0;
	s->claimed_exists = s->bounce = 0;
	s->via = NULL;
	sg_xfree(&s->why_refused);
	s->agent = proven_agent(s, &s->unverified_agent);
	if (s->mi->is_dsn && from_null_sender(s) && (rc = find_bounced(st, txn, s)) != 0)
		return rc;
	if (s->ticket == 0 && (rc = find_by_references(st, txn, s)) != 0)
		return rc;
	if (s->ticket == 0 && c->ticket_tag != NULL &&
	    sg_token_find(s->mi->subject, c->ticket_tag, c->token_secret, c->token_secret_len, &id, &check) == 1 &&
	    (rc = try_token(st, txn, s, id, check, "subject token")) != 0)
		return rc;
	if (s->ticket == 0 && s->plus_id != 0 && s->claimed != s->plus_id)
		rc = try_token(st, txn, s, s->plus_id, s->plus_check, "plus-address");
	return rc;
}
