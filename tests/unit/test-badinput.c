/*
 * test-badinput — hostile mail through sg_ingest() (the CLI door, a real
 * store in a temp dir, the shipped templates, rules that route every
 * ticket to a queue with a mailbox so the forwarded copy is made too).
 * One test function per class of input; each feeds its message and
 * asserts the outcome: stored on a ticket (or, for our own mail, no new
 * ticket), no crash, bounded time (clock_gettime around sg_ingest), and
 * every header value in the decision free of CR/LF.
 *
 * Small messages are files in tests/mail/bad/ (the corpus test and the
 * message fuzz target replay them too); big ones are made here at run
 * time: deep MIME nesting, 100k parts, a header block over 1 MiB, a
 * 30 MB body with NULs. Each function has a store of its own and runs
 * alone (SG_TEST_ONLY=name).
 */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/log.h"
#include "store/record.h"
#include "fixture.h"

/* Seconds one case may take; ASan makes everything slower. */
#if defined(__SANITIZE_ADDRESS__)
#define CASE_SECS 10.0
#else
#define CASE_SECS 5.0
#endif

/* The running case: the decision on its mail and the ticket read back
 * (expect_ticket). Each test function starts a case and ends it with
 * end_case(), which clears both and closes the fixture. */
static struct sg_decision d;
static struct sg_ticket t;

/* A fresh directory, config (templates, acks on, a queue with a mailbox
 * that takes every ticket) and store. 0 when all opened. */
static int
fixture(const char *name)
{
	char *dir = sg_test_subdir(name);
	char *rules = sg_test_write(dir, "t.rules", "queue desk mailbox=desk@example.com\nrule all: always => queue desk\n");

	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
			 "ticket_tag = \"ACME\"\ndb_sync = false\ntemplate_dir = \"%s/templates\"\n"
			 "support_name = \"ACME Support\"\nrules_file = \"%s\"\n",
			 dir, top_srcdir(), rules);
	free(rules);
	free(dir);
	if (!ok(conf != NULL && conf->templates != NULL && conf->rules != NULL, "config, templates and rules load")) {
		close_fixture();
		return -1;
	}
	return open_store();
}

static void
end_case(void)
{
	sg_ticket_clear(&t);
	sg_decision_clear(&d);
	close_fixture();
}

/* One header value of ours: one line, no NUL inside its length. */
static int
one_line(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") == NULL;
}

/* Every header value the door would write is free of CR/LF. */
static int
decision_clean(void)
{
	int clean = one_line(d.subject) && one_line(d.reply_to) && one_line(d.token) && one_line(d.reject);

	for (size_t i = 0; i < d.nadd; i++)
		clean = clean && one_line(d.add[i].name) && one_line(d.add[i].value);
	for (size_t i = 0; i < d.rcpt_add.n; i++)
		clean = clean && one_line(d.rcpt_add.v[i]);
	return clean;
}

/* Ingest raw (len bytes) from env_from to the support address into d;
 * *secs is how long sg_ingest took. */
static int
feed(const char *raw, size_t len, const char *env_from, double *secs)
{
	double t0 = now_ns();
	int rc = ingest_mail((struct sg_ingest_in){ .raw = raw, .len = len, .env_from = env_from, .door = SG_DOOR_CLI,
						    .queue_id = "BADQ" }, &d);

	*secs = (now_ns() - t0) / 1e9;
	return rc;
}

static int
inbound_cb(const struct sg_msgrec *m, void *arg)
{
	*(int *)arg += m->direction == SG_DIR_IN;
	return 0;
}

/* Messages stored on ticket as received (an acknowledgement is kept too). */
static int
inbound(uint64_t ticket)
{
	int n = 0;

	sg_store_message_foreach(st, NULL, ticket, inbound_cb, &n);
	return n;
}

/* Feed raw and check the outcome every class shares: a new ticket
 * holding the message, found in bounded time, and a decision safe to
 * write as headers. The ticket is read into t. */
static int
expect_ticket(const char *what, const char *raw, size_t len, const char *env_from)
{
	double secs;
	int rc = feed(raw, len, env_from, &secs);
	int good = is_int(rc, SG_ING_OK, "%s: ingested", what);

	good &= ok(d.verdict == SG_V_NEW && d.ticket > 0, "%s: a new ticket (%s #%llu)", what,
		   sg_verdict_name(d.verdict), (unsigned long long)d.ticket);
	good &= ok(secs < CASE_SECS, "%s: in %.2f s (< %.0f)", what, secs, CASE_SECS);
	good &= ok(decision_clean(), "%s: decision headers free of CR/LF", what);
	memset(&t, 0, sizeof(t));
	good &= ok(d.ticket > 0 && sg_store_ticket_get(st, NULL, d.ticket, &t) == 0 && inbound(d.ticket) == 1,
		   "%s: the ticket holds the message", what);
	good &= ok(one_line(t.subject) && one_line(t.requestor_name) && one_line(t.requestor),
		   "%s: ticket fields are one line", what);
	return good;
}

/* A case of a small message, tests/mail/bad/FILE from env_from: its
 * fixture, its mail (*raw, *len: the caller frees *raw) and
 * expect_ticket(what). 0, or -1 when the fixture did not open. */
static int
mail_case(const char *name, const char *file, const char *env_from, const char *what, char **raw, size_t *len)
{
	if (fixture(name) != 0)
		return -1;
	char *rel = sg_xasprintf("bad/%s", file);
	*raw = read_mail(rel, len);
	free(rel);
	expect_ticket(what, *raw, *len, env_from);
	return 0;
}

/* ------------------------------------------------------------ jobs */

struct job_find {
	const char *what;
	uint64_t ticket;
	struct sg_job job;     /* a copy of the last match */
	int n;
};

static int
job_find_cb(const struct sg_job *j, void *arg)
{
	struct job_find *f = arg;

	if (j->ticket != f->ticket || j->what == NULL || strcmp(j->what, f->what) != 0)
		return 0;
	f->n++;
	sg_job_clear(&f->job);
	f->job.what = sg_xstrdup(j->what);
	f->job.ticket = j->ticket;
	for (size_t i = 0; i < j->rcpts.n; i++)
		sg_strlist_add(&f->job.rcpts, j->rcpts.v[i], 0);
	f->job.payload = sg_xstrndup(j->payload, j->payload_len);
	f->job.payload_len = j->payload_len;
	return 0;
}

/* The job of ticket and kind ("acknowledgement", "forward"); n is how
 * many there were. Clear f->job when done. */
static void
find_job(struct job_find *f, uint64_t ticket, const char *what)
{
	memset(f, 0, sizeof(*f));
	f->what = what;
	f->ticket = ticket;
	sg_store_job_foreach(st, job_find_cb, f);
}

/* ------------------------------------------------------------ big mail */

/* depth multiparts, each inside the one before. */
static GString *
make_deep(int depth)
{
	GString *g = g_string_new("From: deep@customer.example\r\nTo: support@example.com\r\nSubject: deep nesting\r\n"
				  "Message-ID: <deep.1@customer.example>\r\nMIME-Version: 1.0\r\n");

	for (int i = 0; i < depth; i++)
		g_string_append_printf(g, "Content-Type: multipart/mixed; boundary=\"d%d\"\r\n\r\n--d%d\r\n", i, i);
	g_string_append(g, "Content-Type: text/plain\r\n\r\nat the bottom\r\n");
	for (int i = depth - 1; i >= 0; i--)
		g_string_append_printf(g, "--d%d--\r\n", i);
	return g;
}

static void
test_deep_nesting(void)
{
	if (fixture("deep-nesting") != 0)
		return;
	GString *g = make_deep(5000);
	expect_ticket("5000 nested multiparts", g->str, g->len, "deep@customer.example");
	is_str(t.requestor, "deep@customer.example", "requestor read");
	g_string_free(g, TRUE);
	end_case();
}

static void
test_many_parts(void)
{
	if (fixture("many-parts") != 0)
		return;
	GString *g = g_string_new("From: parts@customer.example\r\nTo: support@example.com\r\nSubject: many parts\r\n"
				  "Message-ID: <parts.1@customer.example>\r\nMIME-Version: 1.0\r\n"
				  "Content-Type: multipart/mixed; boundary=\"pp\"\r\n\r\n"
				  "--pp\r\nContent-Type: text/plain\r\n\r\nthe text part\r\n");
	for (int i = 0; i < 100000; i++)
		g_string_append_printf(g, "--pp\r\nContent-Type: application/octet-stream; name=\"f%d.bin\"\r\n\r\nx\r\n", i);
	g_string_append(g, "--pp--\r\n");
	expect_ticket("100,000 parts", g->str, g->len, "parts@customer.example");
	is_str(t.subject, "many parts", "subject read");
	g_string_free(g, TRUE);
	end_case();
}

static void
test_big_header_block(void)
{
	if (fixture("big-header-block") != 0)
		return;
	GString *g = g_string_new("From: Hugh <hugh@customer.example>\r\nTo: support@example.com\r\nSubject: big header block\r\n"
				  "Message-ID: <hdr.1@customer.example>\r\n");
	for (int i = 0; g->len < 1300 * 1024; i++)
		g_string_append_printf(g, "X-Filler-%d: %0100d\r\n", i, i);
	/* a 2 MB field too, folded once */
	g_string_append(g, "X-Huge: ");
	for (int i = 0; i < 2 * 1024 * 1024; i++)
		g_string_append_c(g, 'h');
	g_string_append(g, "\r\n more\r\n\r\nThe body after a big header block.\r\n");
	expect_ticket("1.3 MB header block", g->str, g->len, "hugh@customer.example");
	is_str(t.requestor, "hugh@customer.example", "requestor read");
	is_str(t.subject, "big header block", "subject read");
	struct job_find f;
	find_job(&f, d.ticket, "forward");
	ok(f.n == 1 && f.job.payload_len > g->len, "the forwarded copy is whole (%zu bytes)", f.job.payload_len);
	sg_job_clear(&f.job);
	struct sg_msginfo *mi = NULL;
	ok(sg_message_parse(g->str, g->len, &mi) == 0 && (mi->parse_cut & SG_CUT_FIELDS) && (mi->parse_cut & SG_CUT_LINES),
	   "the parse notes what it left out");
	sg_msginfo_free(&mi);
	g_string_free(g, TRUE);
	end_case();
}

/* 30 MB of body with NULs: over max_message_size (25M), stored cut. */
static void
test_big_body_nuls(void)
{
	const char *head = "From: nul@customer.example\r\nTo: support@example.com\r\nSubject: NULs\r\n"
			   "Message-ID: <nul.1@customer.example>\r\n\r\nreadable start\r\n";
	size_t hl = strlen(head), body = 30u * 1024 * 1024;

	if (fixture("big-body-nuls") != 0)
		return;
	char *raw = sg_xmalloc(hl + body);
	memcpy(raw, head, hl);
	for (size_t i = 0; i < body; i++)
		raw[hl + i] = i % 64 == 63 ? '\n' : i % 3 == 0 ? '\0' : (char)('a' + i % 26);
	expect_ticket("30 MB body with NULs", raw, hl + body, "nul@customer.example");
	is_int(events(d.ticket, "truncated"), 1, "stored cut to max_message_size, with an event");
	struct sg_msginfo *mi = NULL;
	ok(sg_message_parse(raw, hl + body, &mi) == 0 && strncmp(mi->body_text, "readable start", 14) == 0 &&
	   strlen(mi->body_text) <= 1024 * 1024 && g_utf8_validate(mi->body_text, -1, NULL),
	   "body text: valid UTF-8, NULs dropped, bounded (%zu bytes)", mi ? strlen(mi->body_text) : 0);
	sg_msginfo_free(&mi);
	free(raw);
	end_case();
}

/* ------------------------------------------------------------ small mail */

static void
test_cr_only(void)
{
	char *raw;
	size_t len;

	if (mail_case("cr-only", "cr-only.eml", "frank@oldmac.example", "CR-only line ends", &raw, &len) != 0)
		return;
	is_str(t.subject, "CR line ends", "subject read");
	is_str(t.requestor, "frank@oldmac.example", "requestor read");
	is_str(t.requestor_name, "Frank", "name read");
	free(raw);
	end_case();
}

static void
test_koi8_undeclared(void)
{
	char *raw;
	size_t len;

	if (mail_case("koi8-undeclared", "koi8-undeclared.eml", "ivan@klient.example", "undeclared KOI8-R body", &raw,
		      &len) != 0)
		return;
	struct job_find f;
	find_job(&f, d.ticket, "acknowledgement");
	ok(f.n == 1 && g_utf8_validate(f.job.payload, (gssize)f.job.payload_len, NULL),
	   "the acknowledgement quoting it is valid UTF-8");
	sg_job_clear(&f.job);
	struct sg_msginfo *mi = NULL;
	ok(sg_message_parse(raw, len, &mi) == 0 && g_utf8_validate(mi->body_text, -1, NULL) && mi->body_text[0] != '\0',
	   "body text is valid UTF-8");
	sg_msginfo_free(&mi);
	free(raw);
	end_case();
}

static void
test_encoded_crlf(void)
{
	char *raw;
	size_t len;

	/* the envelope differs: the requestor can only come from From */
	if (mail_case("encoded-crlf", "crlf-names.eml", "bounce-7@mailer.example", "=?utf-8?q?=0D=0A?= in Subject and names",
		      &raw, &len) != 0)
		return;
	is_str(t.requestor, "mallory@evil.example", "the From address stays");
	ok(t.requestor_name == NULL || one_line(t.requestor_name), "the name is safe: '%s'",
	   t.requestor_name ? t.requestor_name : "(dropped)");
	ok(sg_strlist_has(&t.participants, "eve@evil.example"), "the Cc address stays");
	ok(d.subject != NULL && strstr(d.subject, "[ACME #") != NULL, "subject gets the token: %s",
	   d.subject ? d.subject : "(none)");
	struct job_find f;
	find_job(&f, d.ticket, "acknowledgement");
	ok(f.n == 1 && f.job.rcpts.n == 1 && strcmp(f.job.rcpts.v[0], "mallory@evil.example") == 0,
	   "one acknowledgement, to the address");
	ok(f.n == 1 && header_count(f.job.payload, "Bcc") == 0, "no Bcc field in the acknowledgement");
	sg_job_clear(&f.job);
	free(raw);
	end_case();
}

static void
test_two_from(void)
{
	char *raw;
	size_t len;

	if (mail_case("two-from", "two-from.eml", "ann@first.example", "two From headers", &raw, &len) != 0)
		return;
	is_str(t.requestor, "ann@first.example", "the first From is the requestor");
	is_int(count_tickets(), 1, "one ticket");
	free(raw);
	end_case();
}

/* From, Reply-To and the envelope sender all differ: the ack goes to the
 * Reply-To, and does not quote the body to it. */
static void
test_reply_to_elsewhere(void)
{
	char *raw;
	size_t len;

	if (mail_case("reply-to-elsewhere", "reply-to-elsewhere.eml", "bounces@mailer.example",
		      "From, Reply-To, envelope all different", &raw, &len) != 0)
		return;
	is_str(t.requestor, "carol@customer.example", "the requestor is the From");
	struct job_find f;
	find_job(&f, d.ticket, "acknowledgement");
	ok(f.n == 1 && f.job.rcpts.n == 1 && strcmp(f.job.rcpts.v[0], "list-archive@elsewhere.example") == 0,
	   "the acknowledgement goes to the Reply-To (%s)", f.n && f.job.rcpts.n ? f.job.rcpts.v[0] : "none");
	ok(f.n == 1 && strstr(f.job.payload, "SECRET-BODY-TEXT") == NULL, "it does not quote the body");
	sg_job_clear(&f.job);
	free(raw);
	end_case();
}

/* X-Support-* fields from the sender: the forwarded copy carries ours only. */
static void
test_forged_headers(void)
{
	char *raw;
	size_t len;

	if (mail_case("forged-headers", "forged-support-headers.eml", "dave@customer.example", "forged X-Support-* headers",
		      &raw, &len) != 0)
		return;
	ok(t.priority == SG_PRIO_NORMAL && t.queue != NULL && strcmp(t.queue, "desk") == 0,
	   "priority and queue are the rules', not the headers'");
	struct job_find f;
	find_job(&f, d.ticket, "forward");
	ok(f.n == 1 && f.job.rcpts.n == 1 && strcmp(f.job.rcpts.v[0], "desk@example.com") == 0, "forwarded to the queue");
	if (f.n == 1) {
		char *ours = sg_xasprintf("X-Support-Ticket: %llu\r\n", (unsigned long long)d.ticket);
		ok(strncmp(f.job.payload, ours, strlen(ours)) == 0, "our X-Support-Ticket leads the copy");
		free(ours);
		ok(strstr(f.job.payload, "999999") == NULL && strstr(f.job.payload, "vip") == NULL &&
		   strcasestr(f.job.payload, "urgent") == NULL && strstr(f.job.payload, "2024") == NULL,
		   "none of the forged values travel (folded lines included)");
		int ours_n = 0;
		for (const char *p = f.job.payload; (p = strcasestr(p, "X-Support-")) != NULL; p++)
			ours_n++;
		is_int(ours_n, 3, "three X-Support-* fields, all ours");
		ok(strstr(f.job.payload, "must not travel") != NULL, "the body travels");
	}
	sg_job_clear(&f.job);
	free(raw);
	end_case();
}

static void
test_attachment_names(void)
{
	char *raw;
	size_t len;

	if (mail_case("attachment-names", "attachment-names.eml", "erin@customer.example",
		      "attachment names with ../ and 10,000 characters", &raw, &len) != 0)
		return;
	struct sg_msginfo *mi = NULL;
	ok(sg_message_parse(raw, len, &mi) == 0 && mi->attach_names.n == 2, "both attachments seen");
	if (mi != NULL && mi->attach_names.n == 2) {
		is_str(mi->attach_names.v[0], "../../etc/passwd", "a path is only a name (nothing is written by it)");
		ok(strlen(mi->attach_names.v[1]) <= 255 && one_line(mi->attach_names.v[1]), "a long name is bounded (%zu)",
		   strlen(mi->attach_names.v[1]));
	}
	sg_msginfo_free(&mi);
	free(raw);
	end_case();
}

/* Our acknowledgement comes back (a forwarder, an auto-reply loop): no
 * ticket, no second acknowledgement, whatever the envelope says. */
static void
test_own_ack(void)
{
	char *raw;
	size_t len;
	double secs;

	if (mail_case("own-ack", "two-from.eml", "ann@first.example", "a mail that is acknowledged", &raw, &len) != 0)
		return;
	free(raw);
	struct job_find f;
	find_job(&f, d.ticket, "acknowledgement");
	if (!ok(f.n == 1, "acknowledgement queued"))
		goto out;
	int tickets = count_tickets(), jobs = count_jobs();
	static const char *const senders[] = { "support@example.com", "", "ann@first.example" };
	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		int rc = feed(f.job.payload, f.job.payload_len, senders[i], &secs);
		is_int(rc, SG_ING_OK, "ack re-injected from <%s>: taken", senders[i]);
		ok(d.verdict != SG_V_NEW, "no new ticket (%s)", sg_verdict_name(d.verdict));
		is_int(count_tickets(), tickets, "ticket count unchanged");
		is_int(count_jobs(), jobs, "no job queued: no acknowledgement loop");
		ok(decision_clean() && secs < CASE_SECS, "decision clean, in %.2f s", secs);
	}
	/* the same under a new Message-ID (a forwarder that rewrites it) */
	GString *g = g_string_new_len(f.job.payload, (gssize)f.job.payload_len);
	char *mid = strcasestr(g->str, "\nMessage-ID: <");
	ok(mid != NULL, "the acknowledgement has a Message-ID");
	if (mid != NULL) {
		g_string_insert(g, mid - g->str + 15, "rewritten.");
		for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
			int rc = feed(g->str, g->len, senders[i], &secs);
			is_int(rc, SG_ING_OK, "ack under a new Message-ID from <%s>: taken", senders[i]);
			is_int(d.verdict, SG_V_IGNORED, "no ticket: our own mail (%s)", sg_verdict_name(d.verdict));
			is_int(count_tickets(), tickets, "ticket count unchanged");
			is_int(count_jobs(), jobs, "no job queued: no acknowledgement loop");
		}
	}
	g_string_free(g, TRUE);
out:
	sg_job_clear(&f.job);
	end_case();
}

static const struct sg_test tests[] = {
	{ "deep-nesting", test_deep_nesting },
	{ "many-parts", test_many_parts },
	{ "big-header-block", test_big_header_block },
	{ "big-body-nuls", test_big_body_nuls },
	{ "cr-only", test_cr_only },
	{ "koi8-undeclared", test_koi8_undeclared },
	{ "encoded-crlf", test_encoded_crlf },
	{ "two-from", test_two_from },
	{ "reply-to-elsewhere", test_reply_to_elsewhere },
	{ "forged-headers", test_forged_headers },
	{ "attachment-names", test_attachment_names },
	{ "own-ack", test_own_ack },
};

int
main(void)
{
	sg_log_open_stderr("test-badinput");
	sg_log_set_level(SG_LOG_ERROR);
	sg_ingest_init();
	return SG_TEST_RUN(tests);
}
