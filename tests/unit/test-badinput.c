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

#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "mail/message.h"
#include "store/record.h"
#include "store/store.h"
#include "lib/xalloc.h"
#include "tap.h"

/* Seconds one case may take; ASan makes everything slower. */
#if defined(__SANITIZE_ADDRESS__)
#define CASE_SECS 10.0
#else
#define CASE_SECS 5.0
#endif

static char *dir;     /* the running test's directory */
static struct sg_store *st;
static struct sg_conf *conf;

static const char *
top_srcdir(void)
{
	const char *top = getenv("top_srcdir");

	return top != NULL ? top : ".";
}

static void
close_fixture(void)
{
	sg_store_close(&st);
	sg_conf_unref(&conf);
}

/* A fresh directory, config (templates, acks on, a queue with a mailbox
 * that takes every ticket) and store. 0 when all opened. */
static int
fixture(const char *name)
{
	struct sg_diag errs = { 0 };

	free(dir);
	dir = sg_test_subdir(name);
	char *rules = sg_test_write(dir, "t.rules", "queue desk mailbox=desk@example.com\nrule all: always => queue desk\n");
	char *text = sg_xasprintf("support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
				  "ticket_tag = \"ACME\"\ndb_sync = false\ntemplate_dir = \"%s/templates\"\n"
				  "support_name = \"ACME Support\"\nrules_file = \"%s\"\n",
				  dir, top_srcdir(), rules);
	char *cpath = sg_test_write(dir, "sg.conf", text);
	conf = sg_conf_load(cpath, &errs);
	sg_diag_print(&errs, stdout);
	sg_diag_clear(&errs);
	free(cpath);
	free(text);
	free(rules);
	if (!ok(conf != NULL && conf->templates != NULL && conf->rules != NULL, "config, templates and rules load") ||
	    sg_store_open(conf->state_dir, SG_STORE_NOSYNC, &st) != 0) {
		close_fixture();
		return -1;
	}
	return 0;
}

static char *
read_mail(const char *name, size_t *len)
{
	char *path = sg_xasprintf("%s/tests/mail/bad/%s", top_srcdir(), name);
	gchar *buf = NULL;
	gsize n = 0;

	if (!g_file_get_contents(path, &buf, &n, NULL))
		printf("Bail out! cannot read %s\n", path);
	free(path);
	char *raw = sg_xmalloc(n + 1);
	memcpy(raw, buf ? buf : "", n);
	raw[n] = '\0';
	g_free(buf);
	*len = n;
	return raw;
}

/* One header value of ours: one line, no NUL inside its length. */
static int
one_line(const char *s)
{
	return s == NULL || strpbrk(s, "\r\n") == NULL;
}

/* Every header value the door would write is free of CR/LF. */
static int
decision_clean(const struct sg_decision *d)
{
	int clean = one_line(d->subject) && one_line(d->reply_to) && one_line(d->token) && one_line(d->reject);

	for (size_t i = 0; i < d->nadd; i++)
		clean = clean && one_line(d->add[i].name) && one_line(d->add[i].value);
	for (size_t i = 0; i < d->rcpt_add.n; i++)
		clean = clean && one_line(d->rcpt_add.v[i]);
	return clean;
}

/* Ingest raw (len bytes) from env_from to the support address, timed. */
static int
feed(const char *raw, size_t len, const char *env_from, struct sg_decision *d, double *secs)
{
	const char *rcpt[1] = { "support@example.com" };
	struct sg_ingest_in in = { .raw = raw, .len = len, .env_from = env_from, .env_rcpt = rcpt, .nrcpt = 1,
				   .door = SG_DOOR_CLI, .queue_id = "BADQ" };
	struct timespec a, b;

	sg_decision_clear(d);
	clock_gettime(CLOCK_MONOTONIC, &a);
	int rc = sg_ingest(st, conf, &in, d);
	clock_gettime(CLOCK_MONOTONIC, &b);
	*secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
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

/* The outcome every class shares: a new ticket holding the message,
 * found in bounded time, and a decision safe to write as headers. The
 * ticket is read into t (the caller clears it). */
static int
expect_ticket(const char *what, int rc, const struct sg_decision *d, double secs, struct sg_ticket *t)
{
	int good = is_int(rc, SG_ING_OK, "%s: ingested", what);

	good &= ok(d->verdict == SG_V_NEW && d->ticket > 0, "%s: a new ticket (%s #%llu)", what,
		   sg_verdict_name(d->verdict), (unsigned long long)d->ticket);
	good &= ok(secs < CASE_SECS, "%s: in %.2f s (< %.0f)", what, secs, CASE_SECS);
	good &= ok(decision_clean(d), "%s: decision headers free of CR/LF", what);
	memset(t, 0, sizeof(*t));
	good &= ok(d->ticket > 0 && sg_store_ticket_get(st, NULL, d->ticket, t) == 0 && inbound(d->ticket) == 1,
		   "%s: the ticket holds the message", what);
	good &= ok(one_line(t->subject) && one_line(t->requestor_name) && one_line(t->requestor),
		   "%s: ticket fields are one line", what);
	return good;
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

static int
count_jobs_cb(const struct sg_job *j, void *arg)
{
	(void)j;
	(*(int *)arg)++;
	return 0;
}

static int
count_tickets_cb(const struct sg_ticket *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

static int
count(int tickets)
{
	int n = 0;

	if (tickets)
		sg_store_ticket_foreach(st, count_tickets_cb, &n);
	else
		sg_store_job_foreach(st, count_jobs_cb, &n);
	return n;
}

struct ev_count {
	const char *type;
	int n;
};

static int
ev_count_cb(const struct sg_event *e, void *arg)
{
	struct ev_count *c = arg;

	c->n += strcmp(e->type, c->type) == 0;
	return 0;
}

static int
count_events(uint64_t ticket, const char *type)
{
	struct ev_count c = { type, 0 };

	sg_store_event_foreach(st, NULL, ticket, ev_count_cb, &c);
	return c.n;
}

/* Does the header block of a rendered mail have a field named name? */
static int
has_field(const char *mail, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = mail; *p != '\0';) {
		if (*p == '\r' || *p == '\n')
			return 0;   /* the empty line: the body follows */
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			return 1;
		const char *e = strchr(p, '\n');
		if (e == NULL)
			return 0;
		p = e + 1;
	}
	return 0;
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
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;

	if (fixture("deep-nesting") != 0)
		return;
	GString *g = make_deep(5000);
	int rc = feed(g->str, g->len, "deep@customer.example", &d, &secs);
	expect_ticket("5000 nested multiparts", rc, &d, secs, &t);
	is_str(t.requestor, "deep@customer.example", "requestor read");
	sg_ticket_clear(&t);
	g_string_free(g, TRUE);
	sg_decision_clear(&d);
	close_fixture();
}

static void
test_many_parts(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;

	if (fixture("many-parts") != 0)
		return;
	GString *g = g_string_new("From: parts@customer.example\r\nTo: support@example.com\r\nSubject: many parts\r\n"
				  "Message-ID: <parts.1@customer.example>\r\nMIME-Version: 1.0\r\n"
				  "Content-Type: multipart/mixed; boundary=\"pp\"\r\n\r\n"
				  "--pp\r\nContent-Type: text/plain\r\n\r\nthe text part\r\n");
	for (int i = 0; i < 100000; i++)
		g_string_append_printf(g, "--pp\r\nContent-Type: application/octet-stream; name=\"f%d.bin\"\r\n\r\nx\r\n", i);
	g_string_append(g, "--pp--\r\n");
	int rc = feed(g->str, g->len, "parts@customer.example", &d, &secs);
	expect_ticket("100,000 parts", rc, &d, secs, &t);
	is_str(t.subject, "many parts", "subject read");
	sg_ticket_clear(&t);
	g_string_free(g, TRUE);
	sg_decision_clear(&d);
	close_fixture();
}

static void
test_big_header_block(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;

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
	int rc = feed(g->str, g->len, "hugh@customer.example", &d, &secs);
	expect_ticket("1.3 MB header block", rc, &d, secs, &t);
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
	sg_ticket_clear(&t);
	g_string_free(g, TRUE);
	sg_decision_clear(&d);
	close_fixture();
}

/* 30 MB of body with NULs: over max_message_size (25M), stored cut. */
static void
test_big_body_nuls(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;
	const char *head = "From: nul@customer.example\r\nTo: support@example.com\r\nSubject: NULs\r\n"
			   "Message-ID: <nul.1@customer.example>\r\n\r\nreadable start\r\n";
	size_t hl = strlen(head), body = 30u * 1024 * 1024;

	if (fixture("big-body-nuls") != 0)
		return;
	char *raw = sg_xmalloc(hl + body);
	memcpy(raw, head, hl);
	for (size_t i = 0; i < body; i++)
		raw[hl + i] = i % 64 == 63 ? '\n' : i % 3 == 0 ? '\0' : (char)('a' + i % 26);
	int rc = feed(raw, hl + body, "nul@customer.example", &d, &secs);
	expect_ticket("30 MB body with NULs", rc, &d, secs, &t);
	is_int(count_events(d.ticket, "truncated"), 1, "stored cut to max_message_size, with an event");
	struct sg_msginfo *mi = NULL;
	ok(sg_message_parse(raw, hl + body, &mi) == 0 && strncmp(mi->body_text, "readable start", 14) == 0 &&
	   strlen(mi->body_text) <= 1024 * 1024 && g_utf8_validate(mi->body_text, -1, NULL),
	   "body text: valid UTF-8, NULs dropped, bounded (%zu bytes)", mi ? strlen(mi->body_text) : 0);
	sg_msginfo_free(&mi);
	sg_ticket_clear(&t);
	free(raw);
	sg_decision_clear(&d);
	close_fixture();
}

/* ------------------------------------------------------------ small mail */

static void
test_cr_only(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;
	size_t len;

	if (fixture("cr-only") != 0)
		return;
	char *raw = read_mail("cr-only.eml", &len);
	int rc = feed(raw, len, "frank@oldmac.example", &d, &secs);
	expect_ticket("CR-only line ends", rc, &d, secs, &t);
	is_str(t.subject, "CR line ends", "subject read");
	is_str(t.requestor, "frank@oldmac.example", "requestor read");
	is_str(t.requestor_name, "Frank", "name read");
	sg_ticket_clear(&t);
	free(raw);
	sg_decision_clear(&d);
	close_fixture();
}

static void
test_koi8_undeclared(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;
	size_t len;

	if (fixture("koi8-undeclared") != 0)
		return;
	char *raw = read_mail("koi8-undeclared.eml", &len);
	int rc = feed(raw, len, "ivan@klient.example", &d, &secs);
	expect_ticket("undeclared KOI8-R body", rc, &d, secs, &t);
	struct job_find f;
	find_job(&f, d.ticket, "acknowledgement");
	ok(f.n == 1 && g_utf8_validate(f.job.payload, (gssize)f.job.payload_len, NULL),
	   "the acknowledgement quoting it is valid UTF-8");
	sg_job_clear(&f.job);
	struct sg_msginfo *mi = NULL;
	ok(sg_message_parse(raw, len, &mi) == 0 && g_utf8_validate(mi->body_text, -1, NULL) && mi->body_text[0] != '\0',
	   "body text is valid UTF-8");
	sg_msginfo_free(&mi);
	sg_ticket_clear(&t);
	free(raw);
	sg_decision_clear(&d);
	close_fixture();
}

static void
test_encoded_crlf(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;
	size_t len;

	if (fixture("encoded-crlf") != 0)
		return;
	char *raw = read_mail("crlf-names.eml", &len);
	/* the envelope differs: the requestor can only come from From */
	int rc = feed(raw, len, "bounce-7@mailer.example", &d, &secs);
	expect_ticket("=?utf-8?q?=0D=0A?= in Subject and names", rc, &d, secs, &t);
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
	ok(f.n == 1 && !has_field(f.job.payload, "Bcc"), "no Bcc field in the acknowledgement");
	sg_job_clear(&f.job);
	sg_ticket_clear(&t);
	free(raw);
	sg_decision_clear(&d);
	close_fixture();
}

static void
test_two_from(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;
	size_t len;

	if (fixture("two-from") != 0)
		return;
	char *raw = read_mail("two-from.eml", &len);
	int rc = feed(raw, len, "ann@first.example", &d, &secs);
	expect_ticket("two From headers", rc, &d, secs, &t);
	is_str(t.requestor, "ann@first.example", "the first From is the requestor");
	is_int(count(1), 1, "one ticket");
	sg_ticket_clear(&t);
	free(raw);
	sg_decision_clear(&d);
	close_fixture();
}

/* From, Reply-To and the envelope sender all differ: the ack goes to the
 * Reply-To, and does not quote the body to it. */
static void
test_reply_to_elsewhere(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;
	size_t len;

	if (fixture("reply-to-elsewhere") != 0)
		return;
	char *raw = read_mail("reply-to-elsewhere.eml", &len);
	int rc = feed(raw, len, "bounces@mailer.example", &d, &secs);
	expect_ticket("From, Reply-To, envelope all different", rc, &d, secs, &t);
	is_str(t.requestor, "carol@customer.example", "the requestor is the From");
	struct job_find f;
	find_job(&f, d.ticket, "acknowledgement");
	ok(f.n == 1 && f.job.rcpts.n == 1 && strcmp(f.job.rcpts.v[0], "list-archive@elsewhere.example") == 0,
	   "the acknowledgement goes to the Reply-To (%s)", f.n && f.job.rcpts.n ? f.job.rcpts.v[0] : "none");
	ok(f.n == 1 && strstr(f.job.payload, "SECRET-BODY-TEXT") == NULL, "it does not quote the body");
	sg_job_clear(&f.job);
	sg_ticket_clear(&t);
	free(raw);
	sg_decision_clear(&d);
	close_fixture();
}

/* X-Support-* fields from the sender: the forwarded copy carries ours only. */
static void
test_forged_headers(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;
	size_t len;

	if (fixture("forged-headers") != 0)
		return;
	char *raw = read_mail("forged-support-headers.eml", &len);
	int rc = feed(raw, len, "dave@customer.example", &d, &secs);
	expect_ticket("forged X-Support-* headers", rc, &d, secs, &t);
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
	sg_ticket_clear(&t);
	free(raw);
	sg_decision_clear(&d);
	close_fixture();
}

static void
test_attachment_names(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;
	size_t len;

	if (fixture("attachment-names") != 0)
		return;
	char *raw = read_mail("attachment-names.eml", &len);
	int rc = feed(raw, len, "erin@customer.example", &d, &secs);
	expect_ticket("attachment names with ../ and 10,000 characters", rc, &d, secs, &t);
	struct sg_msginfo *mi = NULL;
	ok(sg_message_parse(raw, len, &mi) == 0 && mi->attach_names.n == 2, "both attachments seen");
	if (mi != NULL && mi->attach_names.n == 2) {
		is_str(mi->attach_names.v[0], "../../etc/passwd", "a path is only a name (nothing is written by it)");
		ok(strlen(mi->attach_names.v[1]) <= 255 && one_line(mi->attach_names.v[1]), "a long name is bounded (%zu)",
		   strlen(mi->attach_names.v[1]));
	}
	sg_msginfo_free(&mi);
	sg_ticket_clear(&t);
	free(raw);
	sg_decision_clear(&d);
	close_fixture();
}

/* Our acknowledgement comes back (a forwarder, an auto-reply loop): no
 * ticket, no second acknowledgement, whatever the envelope says. */
static void
test_own_ack(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t;
	double secs;
	size_t len;

	if (fixture("own-ack") != 0)
		return;
	char *raw = read_mail("two-from.eml", &len);
	int rc = feed(raw, len, "ann@first.example", &d, &secs);
	expect_ticket("a mail that is acknowledged", rc, &d, secs, &t);
	sg_ticket_clear(&t);
	free(raw);
	struct job_find f;
	find_job(&f, d.ticket, "acknowledgement");
	if (!ok(f.n == 1, "acknowledgement queued"))
		goto out;
	int tickets = count(1), jobs = count(0);
	static const char *const senders[] = { "support@example.com", "", "ann@first.example" };
	for (size_t i = 0; i < sizeof(senders) / sizeof(senders[0]); i++) {
		rc = feed(f.job.payload, f.job.payload_len, senders[i], &d, &secs);
		is_int(rc, SG_ING_OK, "ack re-injected from <%s>: taken", senders[i]);
		ok(d.verdict != SG_V_NEW, "no new ticket (%s)", sg_verdict_name(d.verdict));
		is_int(count(1), tickets, "ticket count unchanged");
		is_int(count(0), jobs, "no job queued: no acknowledgement loop");
		ok(decision_clean(&d) && secs < CASE_SECS, "decision clean, in %.2f s", secs);
	}
out:
	sg_job_clear(&f.job);
	sg_decision_clear(&d);
	close_fixture();
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
	int rc;

	sg_log_open_stderr("test-badinput");
	sg_log_set_level(SG_LOG_ERROR);
	sg_ingest_init();
	rc = SG_TEST_RUN(tests);
	free(dir);
	return rc;
}
