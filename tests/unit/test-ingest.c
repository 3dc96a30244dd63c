/*
 * test-ingest — the entry point on a real store in a temp dir:
 * threading order (references, subject token, plus-address), duplicates,
 * forged and keyed tokens, participants (Cc), reopen and linked tickets,
 * truncation of big messages, the decision handed to the doors. Each test
 * function runs on a fresh store and config of its own (sg_test_subdir),
 * so each runs alone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "fixture.h"

/* Ingest a message built from headers + body; returns the decision. */
static int
feed(struct sg_decision *d, const char *from, const char *rcpt, const char *headers, const char *body)
{
	char *raw = sg_xasprintf("%s\r\n%s", headers, body ? body : "Hello.\r\n");
	const char *rcpts[1] = { rcpt };
	int rc = ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = from, .env_rcpt = rcpts, .nrcpt = 1,
						    .door = SG_DOOR_CLI, .queue_id = "TESTQ" }, d);

	free(raw);
	return rc;
}

/* A fresh directory for the calling test with a config (base + extra)
 * and a store in it: 0 when both opened, else -1 with nothing left open. */
static int
fixture(const char *name, const char *extra)
{
	char *dir = sg_test_subdir(name);

	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
			 "ticket_tag = \"ACME\"\ndb_sync = false\n%s", dir, extra);
	free(dir);
	ok(conf != NULL, "config loads");
	if (conf != NULL)
		ok(sg_store_open(conf->state_dir, SG_STORE_NOSYNC, &st) == 0, "store opens");
	if (st == NULL) {
		close_fixture();
		return -1;
	}
	return 0;
}

/* 1-5: a new mail, replies by references and by token, a forged token, a
 * duplicate; then the ticket they built. */
static void
test_conversation(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t = { 0 };
	uint64_t first;

	if (fixture("conversation", "") != 0)
		return;

	/* 1. a new mail */
	is_int(feed(&d, "alice@customer.test", "support@example.com",
		    "From: Alice <alice@customer.test>\r\nTo: support@example.com\r\n"
		    "Cc: Bob <bob@customer.test>\r\nSubject: Printer on fire\r\n"
		    "Message-ID: <m1@customer.test>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n", NULL),
	       SG_ING_OK, "new mail ingested");
	is_int(d.verdict, SG_V_NEW, "verdict new");
	first = d.ticket;
	ok(first >= 1, "ticket id assigned (%llu)", (unsigned long long)first);
	ok(d.subject != NULL && strstr(d.subject, "[ACME #") != NULL && strstr(d.subject, "Printer on fire"),
	   "subject gets the token: %s", d.subject ? d.subject : "(none)");
	is_str(d.reply_to, "support@example.com", "Reply-To is the support address");
	ok(d.nadd >= 3 && strcmp(d.add[0].name, "X-Support-Ticket") == 0, "X-Support-Ticket added");

	/* 2. a reply threaded by In-Reply-To */
	feed(&d, "alice@customer.test", "support@example.com",
	     "From: alice@customer.test\r\nTo: support@example.com\r\nSubject: more details\r\n"
	     "Message-ID: <m2@customer.test>\r\nIn-Reply-To: <m1@customer.test>\r\n", NULL);
	is_int(d.verdict, SG_V_FOLLOWUP, "In-Reply-To threads");
	is_int((long long)d.ticket, (long long)first, "same ticket by references");

	/* 3. a reply with only the subject token, from the Cc'd colleague */
	char *hdr = sg_xasprintf("From: bob@customer.test\r\nTo: support@example.com\r\n"
				 "Subject: AW: Re: [ACME #%llu] Printer on fire\r\nMessage-ID: <m3@customer.test>\r\n",
				 (unsigned long long)first);
	feed(&d, "bob@customer.test", "support@example.com", hdr, NULL);
	free(hdr);
	is_int(d.verdict, SG_V_FOLLOWUP, "subject token from a Cc'd participant threads");
	is_int((long long)d.ticket, (long long)first, "same ticket by token");
	ok(d.subject == NULL, "subject already has the token: not rewritten");

	/* 4. a forged token from a stranger opens a new ticket and records the claim */
	hdr = sg_xasprintf("From: mallory@evil.test\r\nTo: support@example.com\r\n"
			   "Subject: Re: [ACME #%llu] gimme\r\nMessage-ID: <m4@evil.test>\r\n",
			   (unsigned long long)first);
	feed(&d, "mallory@evil.test", "support@example.com", hdr, NULL);
	free(hdr);
	is_int(d.verdict, SG_V_NEW, "token from a non-participant opens a new ticket");
	ok(d.ticket != first, "not added to the claimed ticket");
	is_int((long long)d.claimed, (long long)first, "claimed number reported");
	is_int(events(d.ticket, "token-refused"), 1, "token-refused event on the new ticket");

	/* 5. a duplicate */
	feed(&d, "alice@customer.test", "support@example.com",
	     "From: alice@customer.test\r\nTo: support@example.com\r\nSubject: more details\r\n"
	     "Message-ID: <m2@customer.test>\r\nIn-Reply-To: <m1@customer.test>\r\n", NULL);
	is_int(d.verdict, SG_V_DUPLICATE, "same Message-ID is a duplicate");
	is_int((long long)d.ticket, (long long)first, "duplicate names its ticket");

	ok(sg_store_ticket_get(st, NULL, first, &t) == 0, "ticket readable");
	is_int(t.nmessages, 3, "ticket has exactly 3 messages");
	ok(sg_strlist_has(&t.participants, "bob@customer.test"), "Cc recorded as participant");
	is_str(t.requestor, "alice@customer.test", "requestor is From");
	is_str(t.subject, "Printer on fire", "subject kept");
	sg_ticket_clear(&t);

	sg_decision_clear(&d);
	close_fixture();
}

/* 6. a mail without Message-ID, twice (MTA retry) */
static void
test_no_message_id(void)
{
	struct sg_decision d = { 0 };

	if (fixture("no-message-id", "") != 0)
		return;
	feed(&d, "carol@customer.test", "support@example.com",
	     "From: carol@customer.test\r\nTo: support@example.com\r\nSubject: no id\r\n", NULL);
	is_int(d.verdict, SG_V_NEW, "mail without Message-ID opens a ticket");
	feed(&d, "carol@customer.test", "support@example.com",
	     "From: carol@customer.test\r\nTo: support@example.com\r\nSubject: no id\r\n", NULL);
	is_int(d.verdict, SG_V_DUPLICATE, "its identical retry is a duplicate");
	sg_decision_clear(&d);
	close_fixture();
}

/* 7. plus-address threading, from the requestor of a ticket */
static void
test_plus_address(void)
{
	struct sg_decision d = { 0 };
	uint64_t second;

	if (fixture("plus-address", "") != 0)
		return;
	feed(&d, "mallory@evil.test", "support@example.com",
	     "From: mallory@evil.test\r\nTo: support@example.com\r\nSubject: gimme\r\nMessage-ID: <m4@evil.test>\r\n", NULL);
	second = d.ticket;
	char *rcpt = sg_xasprintf("support+%llu@example.com", (unsigned long long)second);
	feed(&d, "mallory@evil.test", rcpt,
	     "From: mallory@evil.test\r\nTo: support@example.com\r\nSubject: plus\r\nMessage-ID: <m5@evil.test>\r\n", NULL);
	free(rcpt);
	is_int(d.verdict, SG_V_FOLLOWUP, "plus-address from a participant threads");
	is_int((long long)d.ticket, (long long)second, "plus-address names the ticket");
	sg_decision_clear(&d);
	close_fixture();
}

/* 8. not for us */
static void
test_not_for_us(void)
{
	struct sg_decision d = { 0 };

	if (fixture("not-for-us", "") != 0)
		return;
	feed(&d, "x@y.test", "sales@example.com", "From: x@y.test\r\nSubject: hi\r\nMessage-ID: <m6@y>\r\n", NULL);
	is_int(d.verdict, SG_V_IGNORED, "non-support recipient ignored");
	sg_decision_clear(&d);
	close_fixture();
}

/* 9-10: a resolved ticket reopens on a customer reply; one closed long
 * ago gets a new linked ticket instead */
static void
test_reopen(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t = { 0 };
	uint64_t first;

	if (fixture("reopen", "") != 0)
		return;
	feed(&d, "alice@customer.test", "support@example.com",
	     "From: Alice <alice@customer.test>\r\nTo: support@example.com\r\nSubject: Printer on fire\r\n"
	     "Message-ID: <m1@customer.test>\r\n", NULL);
	first = d.ticket;
	feed(&d, "alice@customer.test", "support@example.com",
	     "From: alice@customer.test\r\nTo: support@example.com\r\nSubject: more details\r\n"
	     "Message-ID: <m2@customer.test>\r\nIn-Reply-To: <m1@customer.test>\r\n", NULL);

	/* 9. resolved ticket reopens on a customer reply */
	ok(sg_store_ticket_get(st, NULL, first, &t) == 0, "read for resolve");
	t.status = SG_ST_RESOLVED;
	struct sg_txn *txn = NULL;
	sg_store_txn_begin(st, &txn);
	sg_store_ticket_put(st, txn, &t);
	sg_store_txn_commit(&txn);
	sg_ticket_clear(&t);
	feed(&d, "alice@customer.test", "support@example.com",
	     "From: alice@customer.test\r\nSubject: still broken\r\nMessage-ID: <m7@customer.test>\r\n"
	     "References: <m1@customer.test> <m2@customer.test>\r\n", NULL);
	is_int((long long)d.ticket, (long long)first, "reply to resolved ticket threads");
	sg_store_ticket_get(st, NULL, first, &t);
	is_int(t.status, SG_ST_OPEN, "resolved ticket reopened");
	sg_ticket_clear(&t);

	/* 10. closed long ago: new linked ticket */
	sg_store_ticket_get(st, NULL, first, &t);
	t.status = SG_ST_CLOSED;
	t.closed_at = time(NULL) - 40 * 86400;
	sg_store_txn_begin(st, &txn);
	sg_store_ticket_put(st, txn, &t);
	sg_store_txn_commit(&txn);
	sg_ticket_clear(&t);
	feed(&d, "alice@customer.test", "support@example.com",
	     "From: alice@customer.test\r\nSubject: again\r\nMessage-ID: <m8@customer.test>\r\n"
	     "In-Reply-To: <m7@customer.test>\r\n", NULL);
	is_int(d.verdict, SG_V_NEW, "reply to a ticket closed > reopen_days opens a new one");
	sg_store_ticket_get(st, NULL, d.ticket, &t);
	is_int((long long)t.linked, (long long)first, "new ticket linked to the old");
	sg_ticket_clear(&t);
	sg_decision_clear(&d);
	close_fixture();
}

/* 11. RFC 2047 subject and header safety of the decision */
static void
test_encoded_subject(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t = { 0 };

	if (fixture("encoded-subject", "") != 0)
		return;
	feed(&d, "ivan@customer.test", "support@example.com",
	     "From: ivan@customer.test\r\nSubject: =?UTF-8?B?0J3QtSDRgNCw0LHQvtGC0LDQtdGC?=\r\n"
	     "Message-ID: <m9@customer.test>\r\n", NULL);
	ok(d.subject != NULL && strchr(d.subject, '\n') == NULL && strstr(d.subject, "=?") != NULL,
	   "non-ASCII subject re-encoded (RFC 2047): %s", d.subject ? d.subject : "");
	sg_store_ticket_get(st, NULL, d.ticket, &t);
	is_str(t.subject, "Не работает", "decoded subject stored as UTF-8");
	sg_ticket_clear(&t);
	sg_decision_clear(&d);
	close_fixture();
}

/* 12. keyed tokens */
static void
test_keyed_token(void)
{
	struct sg_decision d = { 0 };

	char *secpath = sg_test_write(sg_test_dir(), "secret", "a-secret-of-enough-length\n");
	char *extra = sg_xasprintf("token_secret_file = \"%s\"\n", secpath);
	int rc = fixture("keyed-token", extra);
	free(extra);
	free(secpath);
	if (rc != 0)
		return;
	feed(&d, "dora@customer.test", "support@example.com",
	     "From: dora@customer.test\r\nSubject: keyed\r\nMessage-ID: <k1@customer.test>\r\n", NULL);
	uint64_t keyed = d.ticket;
	ok(d.token != NULL && strchr(d.token, '-') != NULL, "keyed token carries a check: %s", d.token ? d.token : "");
	char *good = sg_xasprintf("From: dora@customer.test\r\nSubject: Re: %s keyed\r\nMessage-ID: <k2@customer.test>\r\n", d.token);
	char *bad = sg_xasprintf("From: dora@customer.test\r\nSubject: Re: [ACME #%llu-zzz] keyed\r\nMessage-ID: <k3@customer.test>\r\n",
				 (unsigned long long)keyed);
	char *none = sg_xasprintf("From: dora@customer.test\r\nSubject: Re: [ACME #%llu] keyed\r\nMessage-ID: <k4@customer.test>\r\n",
				  (unsigned long long)keyed);
	feed(&d, "dora@customer.test", "support@example.com", good, NULL);
	is_int((long long)d.ticket, (long long)keyed, "valid keyed token threads");
	feed(&d, "dora@customer.test", "support@example.com", bad, NULL);
	ok(d.verdict == SG_V_NEW && d.claimed == keyed, "wrong check opens a new ticket");
	feed(&d, "dora@customer.test", "support@example.com", none, NULL);
	ok(d.verdict == SG_V_NEW && d.claimed == keyed, "missing check opens a new ticket when keyed");
	free(good);
	free(bad);
	free(none);
	sg_decision_clear(&d);
	close_fixture();
}

/* 13. big message stored truncated with a note */
static void
test_truncation(void)
{
	struct sg_decision d = { 0 };

	if (fixture("truncation", "max_message_size = \"64K\"\n") != 0)
		return;
	size_t big = 200000;
	char *body = sg_xmalloc(big + 1);
	for (size_t i = 0; i < big; i++)
		body[i] = (i % 76 == 75) ? '\n' : 'x';
	body[big] = '\0';
	feed(&d, "erin@customer.test", "support@example.com",
	     "From: erin@customer.test\r\nSubject: big\r\nMessage-ID: <big@customer.test>\r\n", body);
	free(body);
	is_int(d.verdict, SG_V_NEW, "big message still ticketed");
	is_int(events(d.ticket, "truncated"), 1, "truncation noted as an event");
	sg_decision_clear(&d);
	close_fixture();
}

static const struct sg_test tests[] = {
	{ "conversation", test_conversation },
	{ "no-message-id", test_no_message_id },
	{ "plus-address", test_plus_address },
	{ "not-for-us", test_not_for_us },
	{ "reopen", test_reopen },
	{ "encoded-subject", test_encoded_subject },
	{ "keyed-token", test_keyed_token },
	{ "truncation", test_truncation },
};

int
main(void)
{
	sg_log_open_stderr("test-ingest");
	sg_log_set_level(SG_LOG_WARN);
	return SG_TEST_RUN(tests);
}
