/*
 * test-ack — the acknowledgement of new tickets on a real store: the loop
 * matrix (one case per suppression rule, plus the Auto-Submitted: no
 * control), the job and the outbound copy, the per-address rate limit,
 * no second ack for a duplicate, language choice. Each test function runs
 * on a fresh store of its own (sg_test_subdir).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "store/record.h"
#include "fixture.h"

static int seq;

/* Ingest raw from env_from to the support address; sg_ingest's code. */
static int
ingest_raw(const char *raw, const char *env_from, struct sg_decision *d)
{
	return ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = env_from, .door = SG_DOOR_CLI }, d);
}

/* Ingest a new mail with extra headers; returns jobs created. */
static int
feed(const char *from, const char *env_from, const char *extra, const char *ctype, struct sg_decision *d)
{
	char *raw = sg_xasprintf("From: %s\r\nTo: support@example.com\r\nSubject: case %d\r\n"
				 "Message-ID: <ack-%d@customer.example>\r\n%s%s\r\nHello, I need help.\r\n",
				 from, seq, seq, extra, ctype ? ctype : "");
	seq++;
	int r = ingest_raw(raw, env_from, d);
	free(raw);
	return r == SG_ING_OK ? (int)d->jobs : -1;
}

/* A fresh directory with a config (templates, admin address)
 * and an empty store; the Message-ID counter restarts at 0. 0 when all
 * opened, else -1 with nothing left open. */
static int
fixture(const char *name)
{
	char *dir = sg_test_subdir(name);

	seq = 0;
	conf = load_conf(dir, "support_address = {\"support@example.com\", \"help@example.com\"}\nstate_dir = \"%s/state\"\n"
			 "ticket_tag = \"ACME\"\ndb_sync = false\ntemplate_dir = \"%s/templates\"\n"
			 "support_name = \"ACME Support\"\nadmin_address = \"postmaster@example.com\"\n",
			 dir, top_srcdir());
	free(dir);
	ok(conf != NULL && conf->templates != NULL, "config with templates loads");
	return open_store();
}

static void
test_loop_matrix(void)
{
	struct sg_decision d = { 0 };

	if (fixture("loop-matrix") != 0)
		return;
	static const struct {
		const char *name, *from, *env_from, *extra, *ctype;
		int want;
	} matrix[] = {
		{ "plain customer mail", "alice@customer.example", "alice@customer.example", "", NULL, 1 },
		{ "Auto-Submitted: no is a human", "al2@customer.example", "al2@customer.example", "Auto-Submitted: no\r\n", NULL, 1 },
		{ "Auto-Submitted: auto-replied", "a3@customer.example", "a3@customer.example", "Auto-Submitted: auto-replied\r\n", NULL, 0 },
		{ "Auto-Submitted: auto-generated", "a4@customer.example", "a4@customer.example", "Auto-Submitted: auto-generated\r\n", NULL, 0 },
		{ "null return path", "a5@customer.example", "", "", NULL, 0 },
		{ "MAILER-DAEMON", "MAILER-DAEMON@mx.example", "x@mx.example", "", NULL, 0 },
		{ "postmaster", "postmaster@mx.example", "x@mx.example", "", NULL, 0 },
		{ "owner-list", "owner-news@lists.example", "x@lists.example", "", NULL, 0 },
		{ "list-request", "news-request@lists.example", "x@lists.example", "", NULL, 0 },
		{ "noreply sender", "noreply@shop.example", "x@shop.example", "", NULL, 0 },
		{ "List-Id header", "a6@customer.example", "a6@customer.example", "List-Id: <news.lists.example>\r\n", NULL, 0 },
		{ "List-Unsubscribe header", "a7@customer.example", "a7@customer.example", "List-Unsubscribe: <mailto:x@y>\r\n", NULL, 0 },
		{ "Precedence: bulk", "a8@customer.example", "a8@customer.example", "Precedence: bulk\r\n", NULL, 0 },
		{ "Precedence: junk", "a9@customer.example", "a9@customer.example", "Precedence: junk\r\n", NULL, 0 },
		{ "Precedence: list", "b1@customer.example", "b1@customer.example", "Precedence: list\r\n", NULL, 0 },
		{ "X-Loop", "b2@customer.example", "b2@customer.example", "X-Loop: support@other.example\r\n", NULL, 0 },
		{ "X-Auto-Response-Suppress: All", "b3@customer.example", "b3@customer.example", "X-Auto-Response-Suppress: All\r\n", NULL, 0 },
		{ "X-Auto-Response-Suppress: OOF", "b4@customer.example", "b4@customer.example", "X-Auto-Response-Suppress: DR, OOF\r\n", NULL, 0 },
		{ "X-Auto-Response-Suppress: AutoReply", "b5@customer.example", "b5@customer.example", "X-Auto-Response-Suppress: AutoReply\r\n", NULL, 0 },
		{ "X-Auto-Response-Suppress: DR only", "b6@customer.example", "b6@customer.example", "X-Auto-Response-Suppress: DR\r\n", NULL, 1 },
		{ "multipart/report DSN", "b7@customer.example", "b7@customer.example", "MIME-Version: 1.0\r\n",
		  "Content-Type: multipart/report; report-type=delivery-status; boundary=\"zz\"\r\n", 0 },
		{ "our own support address", "help@example.com", "help@example.com", "", NULL, -1 },
	};
	for (size_t i = 0; i < sizeof(matrix) / sizeof(matrix[0]); i++) {
		int before = count_jobs();
		int got = feed(matrix[i].from, matrix[i].env_from, matrix[i].extra, matrix[i].ctype, &d);
		if (matrix[i].want < 0) {   /* our own mail come back: a loop, no ticket */
			ok(got == 0 && count_jobs() == before && d.verdict == SG_V_IGNORED && d.ticket == 0,
			   "%s: no ticket, not acknowledged (%s)", matrix[i].name, sg_verdict_name(d.verdict));
			continue;
		}
		ok(got == matrix[i].want && count_jobs() - before == matrix[i].want && d.verdict == SG_V_NEW,
		   "%s: %s (ticket %llu)", matrix[i].name, matrix[i].want ? "acknowledged" : "ticketed, not acknowledged",
		   (unsigned long long)d.ticket);
	}
	sg_decision_clear(&d);
	close_fixture();
}

/* The job and the outbound copy of the first ack */
static void
test_ack_job(void)
{
	struct sg_decision d = { 0 };

	if (fixture("ack-job") != 0)
		return;
	feed("alice@customer.example", "alice@customer.example", "", NULL, &d);
	struct sg_job j;
	ok(sg_store_job_get(st, NULL, 1, &j) == 0, "job 1 stored");
	is_str(j.rcpts.n ? j.rcpts.v[0] : "", "alice@customer.example", "one recipient: the requestor");
	is_str(j.mail_from, "support@example.com", "sent from the first support address");
	ok(strstr(j.payload, "Auto-Submitted: auto-replied") && strstr(j.payload, "X-Loop: support@example.com") &&
	   strstr(j.payload, "In-Reply-To: <ack-0@customer.example>") && strstr(j.payload, "[ACME #1]"),
	   "ack is threaded, auto-submitted, looped and carries the token");
	ok(strstr(j.payload, "From: ACME Support <support@example.com>") != NULL, "From uses support_name");
	sg_job_clear(&j);
	struct sg_ticket t;
	sg_store_ticket_get(st, NULL, 1, &t);
	is_int(t.nmessages, 2, "ticket holds the mail and the outbound ack");
	sg_ticket_clear(&t);
	sg_decision_clear(&d);
	close_fixture();
}

/* A reply to the ack threads by its Message-ID */
static void
test_reply_to_ack(void)
{
	struct sg_decision d = { 0 };
	struct sg_job j;

	if (fixture("reply-to-ack") != 0)
		return;
	feed("alice@customer.example", "alice@customer.example", "", NULL, &d);
	sg_store_job_get(st, NULL, 1, &j);
	char ourid[200] = "";
	mail_msgid(j.payload, ourid);
	sg_job_clear(&j);
	char *reply = sg_xasprintf("From: alice@customer.example\r\nSubject: thanks\r\nMessage-ID: <r1@customer.example>\r\n"
				   "In-Reply-To: <%s>\r\n\r\nok\r\n", ourid);
	ingest_raw(reply, "alice@customer.example", &d);
	ok(d.verdict == SG_V_FOLLOWUP && d.ticket == 1 && d.jobs == 0, "reply to the ack threads into ticket 1, no new ack");
	/* The same mail again (MTA retry): duplicate, no second ack */
	int before = count_jobs();
	ingest_raw(reply, "alice@customer.example", &d);
	ok(d.verdict == SG_V_DUPLICATE && count_jobs() == before, "duplicate: no second ack");
	free(reply);
	sg_decision_clear(&d);
	close_fixture();
}

/* Rate limit: 10 per 10 minutes for one address */
static void
test_rate_limit(void)
{
	struct sg_decision d = { 0 };

	if (fixture("rate-limit") != 0)
		return;
	int acked = 0;
	for (int i = 0; i < 15; i++) {
		feed("flood@customer.example", "flood@customer.example", "", NULL, &d);
		acked += jobs_to("flood@customer.example", NULL) > acked;
	}
	is_int(acked, 10, "only 10 acks in 10 minutes to one address");
	int alerts = 0;
	for (uint64_t id = 1; id <= (uint64_t)count_jobs() + 5; id++) {
		struct sg_job aj;
		if (sg_store_job_get(st, NULL, id, &aj) == 0) {
			alerts += aj.rcpts.n && strcmp(aj.rcpts.v[0], "postmaster@example.com") == 0;
			sg_job_clear(&aj);
		}
	}
	is_int(alerts, 1, "one alert to admin_address for the flood, not five");
	sg_decision_clear(&d);
	close_fixture();
}

/* Two autoresponders ping-pong for 1,000 rounds. A peer that answers
 * every ack (without Auto-Submitted) in the thread: its replies are
 * follow-ups, never acknowledged. */
static void
test_autoresponders(void)
{
	struct sg_decision d = { 0 };
	int before;

	if (fixture("autoresponders") != 0)
		return;
	before = count_jobs();
	feed("bot1@peer.example", "bot1@peer.example", "", NULL, &d);
	uint64_t bot_ticket = d.ticket;
	char last_ack[200] = "";
	struct sg_job bj;
	if (sg_store_job_get(st, NULL, (uint64_t)count_jobs(), &bj) == 0) {
		mail_msgid(bj.payload, last_ack);
		sg_job_clear(&bj);
	}
	int followups = 0;
	for (int i = 0; i < 1000; i++) {
		char *pong = sg_xasprintf("From: bot1@peer.example\r\nSubject: Re: I am away\r\nMessage-ID: <pong-%d@peer.example>\r\n"
					  "In-Reply-To: <%s>\r\n\r\nI am away.\r\n", i, last_ack);
		ingest_raw(pong, "bot1@peer.example", &d);
		followups += d.verdict == SG_V_FOLLOWUP && d.ticket == bot_ticket;
		free(pong);
	}
	is_int(followups, 1000, "1,000 threaded auto-replies are follow-ups");
	is_int(count_jobs() - before, 1, "and get no acknowledgement (one ack in all)");
	/* A peer that starts a fresh thread each time: the rate limit holds. */
	before = count_jobs();
	for (int i = 0; i < 1000; i++)
		feed("bot2@peer.example", "bot2@peer.example", "", NULL, &d);
	is_int(count_jobs() - before, 11, "1,000 fresh auto-mails: 10 acks (10 per 10 minutes) and one admin alert");

	/* A delivery report about our ack lands on its ticket, not a new one */
	char *dsn = sg_xasprintf("From: MAILER-DAEMON@mx.example\r\nTo: support@example.com\r\nSubject: Undelivered Mail\r\n"
				 "Message-ID: <dsn-1@mx.example>\r\nMIME-Version: 1.0\r\n"
				 "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n"
				 "--b\r\nContent-Type: text/plain\r\n\r\nmailbox unknown\r\n"
				 "--b\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: support@example.com\r\n"
				 "Message-ID: <%s>\r\nSubject: ack\r\n--b--\r\n", last_ack);
	ingest_raw(dsn, "", &d);
	free(dsn);
	ok(d.verdict == SG_V_FOLLOWUP && d.ticket == bot_ticket, "bounce of our ack attached to its ticket (%s)",
	   d.reason ? d.reason : "");
	sg_decision_clear(&d);
	close_fixture();
}

/* Language: Russian text gets the Russian template */
static void
test_language(void)
{
	struct sg_decision d = { 0 };
	struct sg_job j;
	int before;

	if (fixture("language") != 0)
		return;
	before = count_jobs();
	char *ru = sg_xasprintf("From: ivan@klient.example\r\nTo: support@example.com\r\nSubject: =?UTF-8?B?0J3QtSDRgNCw0LHQvtGC0LDQtdGC?=\r\n"
				"Message-ID: <ru-1@klient.example>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
				"\xd0\x9d\xd0\xb5 \xd1\x80\xd0\xb0\xd0\xb1\xd0\xbe\xd1\x82\xd0\xb0\xd0\xb5\xd1\x82\r\n");
	ingest_raw(ru, "ivan@klient.example", &d);
	free(ru);
	ok(count_jobs() == before + 1 && sg_store_job_get(st, NULL, (uint64_t)count_jobs(), &j) == 0, "Russian mail acknowledged");
	ok(j.payload != NULL && strstr(j.payload, "=?UTF-8?") != NULL && strstr(j.payload, "charset=utf-8") != NULL,
	   "Russian ack is encoded");
	sg_job_clear(&j);
	sg_decision_clear(&d);
	close_fixture();
}

static const struct sg_test tests[] = {
	{ "loop-matrix", test_loop_matrix },
	{ "ack-job", test_ack_job },
	{ "reply-to-ack", test_reply_to_ack },
	{ "rate-limit", test_rate_limit },
	{ "autoresponders", test_autoresponders },
	{ "language", test_language },
};

int
main(void)
{
	sg_log_open_stderr("test-ack");
	sg_log_set_level(SG_LOG_WARN);
	return SG_TEST_RUN(tests);
}
