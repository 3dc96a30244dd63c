/*
 * test-identity — who speaks in a ticket (DESIGN.md), on a real store:
 * every claim path (References, our keyed Message-IDs, subject token,
 * plus-address) is granted only to the ticket's people or a proven agent;
 * a refused claim opens a linked new ticket with an event on both; our
 * Message-IDs carry a 65-bit MAC over their random part; participants
 * grow by rule and are capped; only the null sender makes a bounce.
 */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/state.h"
#include "lib/log.h"
#include "mail/token.h"
#include "ticket/ops.h"
#include "fixture.h"

static const unsigned char *secret;
static size_t secretlen;

static int
feed(struct sg_decision *d, const char *env_from, const char *auth, const char *headers)
{
	char *raw = sg_xasprintf("%s\r\nHello.\r\n", headers);
	int rc = ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = env_from, .door = SG_DOOR_MILTER,
						    .auth_user = auth, .queue_id = "IDQ" }, d);
	free(raw);
	return rc;
}

/* Open a ticket for alice and resolve it; returns its id. */
static uint64_t
alice_ticket(const char *mid)
{
	struct sg_decision d = { 0 };
	char *h = sg_xasprintf("From: alice@customer.example\r\nTo: support@example.com\r\nSubject: broken\r\n"
			       "Message-ID: <%s>\r\n", mid);
	feed(&d, "alice@customer.example", NULL, h);
	free(h);
	uint64_t id = d.ticket;
	char *done = NULL, *why = NULL;
	sg_ticket_change(st, conf, id, "status", "resolved", "test", &done, &why);
	free(done);
	free(why);
	sg_decision_clear(&d);
	return id;
}

/* A stranger's claim: new ticket linked to the claimed one, events on
 * both, the claimed ticket untouched (still resolved, same people). */
static void
expect_refused(const char *name, uint64_t claimed, const struct sg_decision *d)
{
	ok(d->verdict == SG_V_NEW && d->ticket != claimed, "%s: a stranger opens a new ticket", name);
	ok(d->claimed == claimed, "%s: the claim on #%llu is reported", name, (unsigned long long)claimed);
	struct sg_ticket *t = ticket(d->ticket);
	ok(t->linked == claimed, "%s: the new ticket is linked to the claimed one", name);
	ok(events(d->ticket, "token-refused") == 1, "%s: event on the new ticket", name);
	t = ticket(claimed);
	is_str(sg_status_name(t->status), "resolved", "%s: the claimed ticket is not reopened", name);
	ok(!sg_strlist_has(&t->participants, "mallory@evil.example"), "%s: the stranger did not join", name);
}

static void
test_references_claims(void)
{
	struct sg_decision d = { 0 };
	uint64_t id = alice_ticket("a1@customer.example");

	feed(&d, "mallory@evil.example", NULL,
	     "From: mallory@evil.example\r\nSubject: Re: broken\r\nMessage-ID: <m1@evil.example>\r\n"
	     "In-Reply-To: <a1@customer.example>\r\nCc: friend@evil.example\r\n");
	expect_refused("references", id, &d);
	ok(events(id, "token-refused") == 1, "references: event on the claimed ticket too");

	feed(&d, "alice@customer.example", NULL,
	     "From: alice@customer.example\r\nSubject: Re: broken\r\nMessage-ID: <a2@customer.example>\r\n"
	     "In-Reply-To: <a1@customer.example>\r\n");
	ok(d.verdict == SG_V_FOLLOWUP && d.ticket == id, "the requestor's reply threads by References");
	is_str(sg_status_name(ticket(id)->status), "open", "and reopens");

	/* A proven agent (SMTP AUTH of a declared agent) speaks in any ticket,
	 * and does not become a participant; the same From without AUTH proves nothing. */
	feed(&d, "anna@example.com", "anna@example.com",
	     "From: anna@example.com\r\nSubject: Re: broken\r\nMessage-ID: <g1@example.com>\r\n"
	     "In-Reply-To: <a1@customer.example>\r\n");
	ok(d.verdict == SG_V_AGENT && d.ticket == id && d.discard, "a proven agent's reply is the agent's, on the ticket");
	ok(!sg_strlist_has(&ticket(id)->participants, "anna@example.com"), "the agent is not made a participant");
	feed(&d, "anna@example.com", NULL,
	     "From: anna@example.com\r\nSubject: Re: broken\r\nMessage-ID: <g2@example.com>\r\n"
	     "In-Reply-To: <a1@customer.example>\r\n");
	ok(d.verdict == SG_V_AGENT && d.ticket == id && strstr(d.reason, "unverified") != NULL,
	   "the agent's address without AUTH proves nothing: an unverified note");
	sg_decision_clear(&d);
}

static void
test_our_message_ids(void)
{
	struct sg_decision d = { 0 };
	uint64_t id = alice_ticket("b1@customer.example"), got = 0;
	char *ours = sg_token_msgid_format(id, secret, secretlen, "example.com");

	ok(sg_token_msgid_parse(ours, secret, secretlen, &got) == 1 && got == id, "our Message-ID verifies");
	/* Another ticket's id under the same random part and MAC: refused. */
	char *other = sg_token_msgid_format(id + 1, secret, secretlen, "example.com");
	char *swap = sg_xasprintf("sg2.%llu.%s", (unsigned long long)id + 1, strchr(ours + 4, '.') + 1);
	ok(sg_token_msgid_parse(swap, secret, secretlen, &got) == 0, "the MAC covers the id: %s", swap);
	char *flip = sg_xstrdup(ours);
	char *mac = strchr(strchr(flip + 4, '.') + 1, '.') + 1;
	mac[0] = mac[0] == 'a' ? 'b' : 'a';
	ok(sg_token_msgid_parse(flip, secret, secretlen, &got) == 0, "one changed MAC character is refused");
	char *rnd = sg_xstrdup(ours);
	char *r = strchr(rnd + 4, '.') + 1;
	r[0] = r[0] == 'a' ? 'b' : 'a';
	ok(sg_token_msgid_parse(rnd, secret, secretlen, &got) == 0, "the MAC covers the random part");
	/* The subject token's check does not make a Message-ID. */
	char *chk = sg_token_check(id, secret, secretlen);
	char *v1 = sg_xasprintf("sg.%llu.aaaaaaaaaaaa.%s@example.com", (unsigned long long)id, chk);
	ok(sg_token_msgid_parse(v1, secret, secretlen, &got) == 1, "an old-format id is still read (as a claim)");
	char *h = sg_xasprintf("From: mallory@evil.example\r\nSubject: hi\r\nMessage-ID: <m2@evil.example>\r\n"
			       "In-Reply-To: <%s>\r\n", v1);
	feed(&d, "mallory@evil.example", NULL, h);
	expect_refused("old-format message-id", id, &d);
	free(h);
	h = sg_xasprintf("From: mallory@evil.example\r\nSubject: hi\r\nMessage-ID: <m3@evil.example>\r\n"
			 "References: <%s>\r\n", ours);
	feed(&d, "mallory@evil.example", NULL, h);
	expect_refused("our message-id", id, &d);
	free(h);
	free(v1);
	free(chk);
	free(rnd);
	free(flip);
	free(swap);
	free(other);
	free(ours);
	sg_decision_clear(&d);
}

static void
test_token_claims(void)
{
	struct sg_decision d = { 0 };
	uint64_t id = alice_ticket("c1@customer.example");
	char *tok = sg_token_format("ACME", id, secret, secretlen);
	char *h = sg_xasprintf("From: mallory@evil.example\r\nSubject: Re: %s broken\r\nMessage-ID: <m4@evil.example>\r\n", tok);

	feed(&d, "mallory@evil.example", NULL, h);
	expect_refused("subject token", id, &d);
	free(h);
	free(tok);
	sg_decision_clear(&d);
}

static void
test_participants(void)
{
	struct sg_decision d = { 0 };
	GString *cc = g_string_new("From: bob@customer.example\r\nSubject: many\r\nMessage-ID: <p1@customer.example>\r\nCc: ");
	for (int i = 0; i < 100; i++)
		g_string_append_printf(cc, "%sc%d@customer.example", i ? ", " : "", i);
	g_string_append(cc, "\r\n");
	feed(&d, "bob@customer.example", NULL, cc->str);
	uint64_t id = d.ticket;
	struct sg_ticket *t = ticket(id);
	ok(t->participants.n == 25, "a new ticket keeps at most 25 participants (got %zu)", t->participants.n);
	is_int(events(id, "participants"), 1, "with an event naming the cap");
	/* A Cc'd colleague replies, bringing new people: only the sender counts. */
	feed(&d, "c1@customer.example", NULL,
	     "From: c1@customer.example\r\nSubject: Re: many\r\nMessage-ID: <p2@customer.example>\r\n"
	     "In-Reply-To: <p1@customer.example>\r\nCc: outsider@other.example\r\n");
	ok(d.verdict == SG_V_FOLLOWUP && d.ticket == id, "a participant's reply threads");
	ok(!sg_strlist_has(&ticket(id)->participants, "outsider@other.example"),
	   "someone else than the requestor brings nobody in");
	/* Thousands of recipients over many follow-ups: the record stays readable. */
	for (int k = 0; k < 20; k++) {
		g_string_printf(cc, "From: bob@customer.example\r\nSubject: Re: many\r\nMessage-ID: <pp%d@customer.example>\r\n"
			       "In-Reply-To: <p1@customer.example>\r\nCc: ", k);
		for (int i = 0; i < 300; i++)
			g_string_append_printf(cc, "%sx%d-%d@flood.example", i ? ", " : "", k, i);
		g_string_append(cc, "\r\n");
		feed(&d, "bob@customer.example", NULL, cc->str);
	}
	struct sg_ticket back = { 0 };
	ok(sg_store_ticket_get(st, NULL, id, &back) == 0 && ticket(id)->participants.n == 25,
	   "after 6,000 Cc'd addresses the ticket reads back with 25 participants");
	sg_ticket_clear(&back);
	g_string_free(cc, TRUE);
	sg_decision_clear(&d);
}

static void
test_reused_message_id(void)
{
	struct sg_decision d = { 0 };
	uint64_t id = alice_ticket("f1@customer.example");

	/* A stranger sends other content under alice's Message-ID. */
	const char *h = "From: mallory@evil.example\r\nSubject: other\r\nMessage-ID: <f1@customer.example>\r\n";
	feed(&d, "mallory@evil.example", NULL, h);
	ok(d.verdict == SG_V_NEW && d.ticket != id, "same Message-ID, other content: a new message, not a duplicate");
	is_int(events(d.ticket, "msgid-reused"), 1, "flagged on its ticket");
	uint64_t second = d.ticket;
	feed(&d, "mallory@evil.example", NULL, h);
	ok(d.verdict == SG_V_DUPLICATE && d.ticket == second, "its own retry is a duplicate of it, not of alice's");
	feed(&d, "alice@customer.example", NULL,
	     "From: alice@customer.example\r\nTo: support@example.com\r\nSubject: broken\r\nMessage-ID: <f1@customer.example>\r\n");
	ok(d.verdict == SG_V_DUPLICATE && d.ticket == id, "alice's retry is still a duplicate of hers");
	sg_decision_clear(&d);
}

/* The content digest kept beside each Message-ID and the id of a mail
 * without one are SHA-256 (here the first 16 and 20 bytes): stores
 * written by earlier releases compare against them, so they must not
 * change with the library that computes them. */
static void
test_digests_stable(void)
{
	const char *raw = "From: alice@customer.example\r\nSubject: broken\r\n\r\nHello.\r\n";
	struct sg_ingest_in in = { .raw = raw, .len = strlen(raw) };
	struct sg_msginfo mi = { .from_addr = (char *)"alice@customer.example", .subject = (char *)"broken" };
	struct sg_ingest_state s = { .in = &in, .mi = &mi };
	char hex[2 * SG_MSGID_DIGEST_LEN + 1];

	sg_identify_digest(&s);
	for (int i = 0; i < SG_MSGID_DIGEST_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", s.digest[i]);
	is_str(hex, "530880fdb727bef25b4aebb8d15d1593", "content digest: SHA-256 of the body (from the empty line), From and Subject");
	char *id = sg_identify_synthetic_msgid(raw, strlen(raw));
	is_str(id, "9024fc346c48c4f556cbe732864a4875cf104151@nomsgid.supportgate", "a missing Message-ID: SHA-256 of the bytes");
	free(id);
	in.raw = "Subject: x\n\nno headers end here\n";   /* LF only: the body starts after the empty line */
	in.len = strlen(in.raw);
	unsigned char lf[SG_MSGID_DIGEST_LEN];
	sg_identify_digest(&s);
	memcpy(lf, s.digest, sizeof(lf));
	in.raw = "Subject: y\n\nno headers end here\n";
	sg_identify_digest(&s);
	ok(memcmp(lf, s.digest, sizeof(lf)) == 0, "headers other than From and Subject are not part of the digest");
}

static void
test_bounces(void)
{
	struct sg_decision d = { 0 };
	uint64_t id = alice_ticket("e1@customer.example");
#define DSN(mid) \
		"From: MAILER-DAEMON@mx.example\r\nReply-To: evil@evil.example\r\nSubject: Undelivered\r\n" \
		"Message-ID: <" mid "@mx.example>\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n" \
		"\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n" \
		"Message-ID: <e1@customer.example>\r\n--b--\r\n"
	feed(&d, "", NULL, DSN("d1"));
	ok(d.verdict == SG_V_FOLLOWUP && d.ticket == id, "a report from the null sender lands on the ticket");
	is_int(events(id, "bounce"), 1, "as a bounce event");
	ok(!sg_strlist_has(&ticket(id)->participants, "evil@evil.example") &&
	   !sg_strlist_has(&ticket(id)->participants, "mailer-daemon@mx.example"), "a bounce adds nobody");
	is_str(sg_status_name(ticket(id)->status), "resolved", "and reopens nothing");
	feed(&d, "evil@evil.example", NULL, DSN("d2"));
	ok(d.ticket != id, "the same report from a real sender is no bounce: it does not enter the ticket");
	is_int(events(id, "bounce"), 1, "no second bounce event");
	sg_decision_clear(&d);
}

static const struct sg_test tests[] = {
	{ "references-claims", test_references_claims },
	{ "our-message-ids", test_our_message_ids },
	{ "token-claims", test_token_claims },
	{ "participants", test_participants },
	{ "reused-message-id", test_reused_message_id },
	{ "bounces", test_bounces },
	{ "digests-stable", test_digests_stable },
};

int
main(void)
{
	const char *dir = sg_test_dir();

	sg_log_open_stderr("test-identity");
	sg_log_set_level(SG_LOG_ERROR);
	char *sec = sg_test_write(dir, "secret", "0123456789abcdef0123456789abcdef\n");
	char *rules = sg_test_write(dir, "t.rules", "agent anna@example.com groups=billing\nqueue billing agents=anna@example.com\n");
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\nticket_tag = \"ACME\"\n"
			 "db_sync = false\nack = false\ntoken_secret_file = \"%s\"\nrules_file = \"%s\"\n", dir, sec, rules);
	free(sec);
	free(rules);
	plan_lazy();
	ok(conf != NULL && conf->token_secret != NULL, "config with a token secret");
	if (conf != NULL) {
		secret = conf->token_secret;
		secretlen = conf->token_secret_len;
	}
	return SG_FIXTURE_RUN(tests);
}
