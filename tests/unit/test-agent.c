/*
 * test-agent — the conversation loop by mail on a real store (PRODUCT.md
 * A1-A3, T5-T7): a customer writes, a proven agent (SMTP AUTH) replies
 * and the customer gets the reply from the support address with the
 * agent's address nowhere and the attachment byte for byte; commands
 * change the ticket and send only the implied notices; #note and #quiet;
 * errors, rights and unverified senders change nothing and answer the
 * agent; the customer rates; the clock closes; a status request answers
 * the sender's own tickets only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "sla/clock.h"
#include "fixture.h"

static int mailno;

static const char rules_text[] =
	"sla gold first-response=4h resolution=1d\n"
	"agent anna@example.com name=\"Anna Berg\" groups=billing\n"
	"agent boris@example.com name=\"Boris\" groups=billing\n"
	"agent chen@example.com name=\"Chen\" groups=technical\n"
	"queue billing mailbox=billing@example.com agents=anna@example.com,boris@example.com strategy=round-robin sla=gold\n"
	"queue technical mailbox=tech@example.com agents=chen@example.com strategy=round-robin\n"
	"queue secret mailbox=secret@example.com agents=anna@example.com,boris@example.com strategy=round-robin blind=yes\n"
	"rule hidden: subject ~ /audit/i => queue secret, assign\n"
	"rule bill: subject ~ /invoice|счёт/i => queue billing, sla gold, assign\n";

/* A fresh store and config for one test function. */
static void
fixture(const char *name)
{
	char *d = sg_test_subdir(name);

	free(sg_test_write(d, "t.rules", rules_text));
	close_fixture();
	conf = load_conf(d, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
			 "ticket_tag = \"ACME\"\ndb_sync = false\nsupport_name = \"ACME Support\"\n"
			 "rules_file = \"%s/t.rules\"\ntemplate_dir = \"%s/templates\"\nautoclose_days = 7\n",
			 d, d, top_srcdir());
	if (open_store() != 0) {
		printf("Bail out! fixture %s: no config or store\n", name);
		exit(1);
	}
	free(d);
}

/* Feed a mail (headers without Message-ID; one is made) through the milter door. */
static uint64_t
mail(struct sg_decision *d, const char *from, const char *auth, const char *headers, const char *body, char *mid,
     size_t midlen)
{
	char id[64];
	snprintf(id, sizeof(id), "m%d@%s", ++mailno, strchr(from, '@') + 1);
	if (mid != NULL)
		snprintf(mid, midlen, "%s", id);
	char *raw = sg_xasprintf("From: %s\r\nTo: support@example.com\r\nMessage-ID: <%s>\r\n%s\r\n%s", from, id, headers,
				 body);
	if (ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = from, .door = SG_DOOR_MILTER, .auth_user = auth,
					       .queue_id = "AGQ" }, d) != SG_ING_OK)
		diag("ingest failed for %s", id);
	free(raw);
	return d->ticket;
}

struct order {
	const char *to, *needle;
	uint64_t id;
};

static int
order_cb(const struct sg_job *j, void *arg)
{
	struct order *o = arg;
	for (size_t i = 0; i < j->rcpts.n; i++)
		if (strcmp(j->rcpts.v[i], o->to) == 0 && strstr(j->payload, o->needle) != NULL)
			o->id = j->id;   /* the last one, in job order */
	return 0;
}

/* The id of the newest job to `to` holding needle (0: none). */
static uint64_t
job_id_with(const char *to, const char *needle)
{
	struct order o = { to, needle, 0 };
	sg_store_job_foreach(st, order_cb, &o);
	return o.id;
}

static const char attachment[] =
	"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n"
	"--b1\r\nContent-Type: application/octet-stream; name=\"log.bin\"\r\nContent-Transfer-Encoding: base64\r\n"
	"Content-Disposition: attachment; filename=\"log.bin\"\r\n\r\n"
	"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4\r\n"
	"--b1--\r\n";

static void
test_conversation(void)
{
	struct sg_decision d = { 0 };
	char cmid[64], *p = NULL;

	fixture("conversation");
	uint64_t id = mail(&d, "alice@customer.example", NULL, "Subject: invoice is wrong\r\n",
			   "Hello,\r\nmy invoice 2026-114 is wrong.\r\n", cmid, sizeof(cmid));
	ok(d.verdict == SG_V_NEW, "the customer's mail opens a ticket");
	is_str(ticket(id)->assignee, "anna@example.com", "routed to billing, anna takes it");
	ok(jobs_to("alice@customer.example", &p) == 1 && p && strstr(p, "We aim to resolve it by") != NULL,
	   "the acknowledgement carries the due date");
	free(p);

	/* Anna replies from her mail client, authenticated, with an attachment. */
	char *body = sg_xasprintf(attachment, "Dear Alice,\r\nwe corrected the VAT rate.\r\nAnna");
	uint64_t got = mail(&d, "anna@example.com", "anna@example.com",
			    "Subject: Re: [ACME #1] invoice is wrong\r\nMIME-Version: 1.0\r\n"
			    "Content-Type: multipart/mixed; boundary=\"b1\"\r\nCc: anna.private@home.example\r\n", body, NULL, 0);
	free(body);
	ok(got == id && d.verdict == SG_V_AGENT && d.discard, "the agent's reply is handled; the original is discarded");
	ok(jobs_to("alice@customer.example", &p) == 2 && p != NULL, "one reply goes to the customer");
	ok(p && strstr(p, "Anna Berg via ACME Support <support@example.com>") != NULL, "from the support address, by name");
	ok(p && strstr(p, "anna@example.com") == NULL && strstr(p, "anna.private") == NULL,
	   "the agent's addresses appear nowhere");
	ok(p && strstr(p, "[ACME #1]") != NULL, "the token is in the subject");
	char *irt = sg_xasprintf("In-Reply-To: <%s>", cmid);
	ok(p && strstr(p, irt) != NULL, "it continues the customer's thread");
	free(irt);
	ok(p && strstr(p, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4") != NULL,
	   "the attachment travels byte for byte");
	ok(p && strstr(p, "we corrected the VAT rate") != NULL, "with the text");
	free(p);
	is_str(sg_status_name(ticket(id)->status), "open", "the first reply opens the ticket");
	ok(events_detail(id, "reply", &p) == 1 && p && strstr(p, "first response") != NULL, "the first response is recorded");
	free(p);
	int64_t fr = ticket(id)->first_response_at;
	ok(fr > 0 && fr <= (int64_t)time(NULL), "first_response_at set by the first reply");

	/* The customer answers the reply: it threads by our Message-ID. */
	mail(&d, "alice@customer.example", NULL, "Subject: Re: [ACME #1] invoice is wrong\r\n", "Thanks, one more thing.\r\n",
	     NULL, 0);
	ok(d.verdict == SG_V_FOLLOWUP && d.ticket == id, "the customer's answer threads");

	/* Commands only: the ticket changes, the customer gets the implied notice. */
	int before = jobs_to("alice@customer.example", NULL);
	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #1]\r\n", "#status pending\r\n#tag +vat\r\n", NULL, 0);
	is_str(sg_status_name(ticket(id)->status), "pending", "#status pending");
	ok(ticket(id)->paused_since > 0, "pending starts the pause");
	ok(sg_strlist_has(&ticket(id)->tags, "vat"), "#tag +vat");

	ok(jobs_to("alice@customer.example", &p) == before + 1 && p && strstr(p, "more information") != NULL,
	   "the customer gets only the pending notice");
	free(p);

	/* #reason: the overdue reason, kept with the ticket; "-" clears it. */
	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #1]\r\n",
	     "#reason waiting for the vendor's answer\r\n", NULL, 0);
	is_str(ticket(id)->reason, "waiting for the vendor's answer", "#reason TEXT sets the overdue reason");
	ok(events(id, "reason") == 1, "with an event");
	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #1]\r\n", "#reason -\r\n", NULL, 0);
	ok(ticket(id)->reason == NULL, "#reason - clears it");
	int errs = jobs_to("anna@example.com", NULL);
	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #1]\r\n", "#service nothing\r\n", NULL, 0);
	ok(jobs_to("anna@example.com", &p) == errs + 1 && p && strstr(p, "no such service") != NULL,
	   "#service of an unknown service: the agent is told");
	free(p);

	/* #note: nothing to the customer, a copy to the other agent. */
	before = jobs_to("alice@customer.example", NULL);
	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #1]\r\n", "#note\r\nCustomer is VIP, careful.\r\n", NULL, 0);
	ok(jobs_to("alice@customer.example", NULL) == before, "#note sends the customer nothing");
	ok(jobs_to("boris@example.com", &p) == 1 && p && strstr(p, "careful") != NULL, "the queue's other agent gets the note");
	free(p);

	/* The customer replies (reopens), the agent resolves with an answer. */
	mail(&d, "alice@customer.example", NULL, "Subject: Re: [ACME #1] invoice\r\n", "Here are the details.\r\n", NULL, 0);
	is_str(sg_status_name(ticket(id)->status), "open", "the customer's reply reopens a pending ticket");
	ok(ticket(id)->paused_since == 0 && ticket(id)->paused_secs >= 0, "the pause ends");
	is_int(ticket(id)->reopens, 0, "leaving pending is no reopen");
	before = jobs_to("alice@customer.example", NULL);
	mail(&d, "anna@example.com", "anna@example.com", "Subject: Re: [ACME #1] invoice\r\n",
	     "#status resolved\r\n\r\nAll fixed, a new invoice is on its way.\r\n", NULL, 0);
	is_str(sg_status_name(ticket(id)->status), "resolved", "#status resolved with a reply");
	ok(ticket(id)->resolved_at > 0, "resolved_at set");
	is_int(ticket(id)->first_response_at, fr, "a later reply keeps the first response time");
	ok(jobs_to("alice@customer.example", NULL) == before + 2 && job_with("alice@customer.example", "1 (not at all) to 5") &&
	   job_with("alice@customer.example", "a new invoice is on its way"),
	   "the customer gets the reply and the resolution notice with the rating invitation");
	ok(job_id_with("alice@customer.example", "a new invoice is on its way") <
	   job_id_with("alice@customer.example", "1 (not at all) to 5"), "the answer goes out before the resolution notice");

	/* The customer rates. */
	before = jobs_to("alice@customer.example", NULL);
	mail(&d, "alice@customer.example", NULL, "Subject: Re: [ACME #1] resolved\r\n", "4 thanks, quick help\r\n", NULL, 0);
	ok(events_detail(id, "rating", &p) == 1 && p && strncmp(p, "4: 4 thanks", 11) == 0, "the rating is stored with its comment");
	free(p);
	is_str(sg_status_name(ticket(id)->status), "resolved", "and the ticket stays resolved");
	is_int(ticket(id)->rating, 4, "the ticket keeps the latest rating");
	ok(jobs_to("alice@customer.example", &p) == before + 1 && p && strstr(p, "Thank you for your rating") != NULL,
	   "the customer is thanked");
	free(p);

	/* The clock closes it after autoclose_days. */
	size_t fired = 0;
	sg_clock_run_once(st, conf, (int64_t)time(NULL) + 3 * 86400, &fired);
	ok(fired == 0 && ticket(id)->status == SG_ST_RESOLVED, "not before its time");
	sg_clock_run_once(st, conf, (int64_t)time(NULL) + 8 * 86400, &fired);
	ok(fired == 1 && ticket(id)->status == SG_ST_CLOSED, "closed 7 days after resolution");
	ok(jobs_to("alice@customer.example", &p) == before + 2 && p && strstr(p, "is now closed") != NULL,
	   "with the closed notice");
	free(p);
	sg_decision_clear(&d);
}

static void
test_errors_and_rights(void)
{
	struct sg_decision d = { 0 };
	char *p = NULL;

	fixture("errors");
	uint64_t id = mail(&d, "bob@customer.example", NULL, "Subject: invoice missing\r\n", "Where is it?\r\n", NULL, 0);
	int cust = jobs_to("bob@customer.example", NULL);

	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #1]\r\n",
	     "#status resolved\r\n#frobnicate now\r\n\r\nDone.\r\n", NULL, 0);
	ok(d.verdict == SG_V_AGENT && ticket(id)->status == SG_ST_NEW, "a bad command: nothing changes, not even the good one");
	ok(jobs_to("bob@customer.example", NULL) == cust, "nothing reaches the customer");
	ok(jobs_to("anna@example.com", &p) == 1 && p && strstr(p, "#frobnicate now") != NULL &&
	   strstr(p, "unknown command") != NULL, "the agent gets one reply quoting the bad line");
	free(p);

	mail(&d, "chen@example.com", "chen@example.com", "Subject: [ACME #1]\r\n", "#status closed\r\n", NULL, 0);
	int nchen = jobs_to("chen@example.com", &p);
	ok(ticket(id)->status == SG_ST_NEW && nchen == 1 && p &&
	   strstr(p, "not in one of your queues") != NULL, "a command outside one's queues is refused and explained");
	free(p);

	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #1]\r\n", "#queue technical\r\n", NULL, 0);
	ok(ticket(id)->queue && strcmp(ticket(id)->queue, "billing") == 0, "an agent cannot move a ticket to another queue");
	ok(jobs_to("anna@example.com", NULL) == 2 && job_with("anna@example.com", "takes a manager of both queues"),
	   "and is told why");

	/* From an agent, no proof: kept as an unverified internal note. */
	mail(&d, "anna@example.com", NULL, "Subject: [ACME #1]\r\n", "#status closed\r\n\r\nSecret answer.\r\n", NULL, 0);
	ok(d.verdict == SG_V_AGENT && strstr(d.reason, "unverified") != NULL, "an agent's From without AUTH is unverified");
	ok(ticket(id)->status == SG_ST_NEW && jobs_to("bob@customer.example", NULL) == cust,
	   "nothing changed, nothing relayed");
	ok(jobs_to("anna@example.com", NULL) == 3 && job_with("anna@example.com", "could not be proven"),
	   "the address is told why");
	mail(&d, "anna@example.com", NULL, "Subject: [ACME #1]\r\n", "again\r\n", NULL, 0);
	is_int(jobs_to("anna@example.com", NULL), 3, "told once an hour, not per mail");

	/* #quiet: the change is made, the customer hears nothing. */
	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #1]\r\n", "#status resolved\r\n#quiet\r\n", NULL, 0);
	ok(ticket(id)->status == SG_ST_RESOLVED && jobs_to("bob@customer.example", NULL) == cust,
	   "#quiet: resolved without a notice");
	sg_decision_clear(&d);
}

static void
test_status_request(void)
{
	struct sg_decision d = { 0 };
	char *p = NULL;

	fixture("status");
	uint64_t a = mail(&d, "carol@customer.example", NULL, "Subject: invoice one\r\n", "x\r\n", NULL, 0);
	mail(&d, "dave@customer.example", NULL, "Subject: my own\r\n", "y\r\n", NULL, 0);
	uint64_t tickets_before = d.ticket;
	int before = jobs_to("carol@customer.example", NULL);
	mail(&d, "carol@customer.example", NULL, "Subject: status\r\n", "\r\n", NULL, 0);
	ok(d.verdict == SG_V_STATUS && d.ticket == 0 && d.discard, "a status request opens nothing");
	ok(jobs_to("carol@customer.example", &p) == before + 1 && p && strstr(p, "invoice one") != NULL &&
	   strstr(p, "my own") == NULL, "the sender gets the status of her own ticket only");
	free(p);
	mail(&d, "erin@customer.example", NULL, "Subject: Статус\r\n", "\r\n", NULL, 0);
	ok(d.verdict == SG_V_STATUS && jobs_to("erin@customer.example", NULL) == 1 &&
	   job_with("erin@customer.example", "no open request"), "someone without tickets hears so (Russian keyword too)");
	mail(&d, "frank@customer.example", NULL, "Subject: hello\r\n", "y\r\n", NULL, 0);
	ok(d.ticket == tickets_before + 1 && a == 1, "no ticket was made for the status requests");
	sg_decision_clear(&d);
}

static void
test_handoff(void)
{
	struct sg_decision d = { 0 };

	fixture("handoff");
	mail(&d, "gina@customer.example", NULL, "Subject: old invoice question\r\n", "x\r\n", NULL, 0);
	uint64_t id = mail(&d, "gina@customer.example", NULL, "Subject: invoice again\r\n", "The same problem.\r\n", NULL, 0);
	is_str(ticket(id)->assignee, "boris@example.com", "round-robin gave the second ticket to boris");
	ok(jobs_to("anna@example.com", NULL) == 0, "routing a new ticket sends no handoff (the agent gets the mail)");
	mail(&d, "boris@example.com", "boris@example.com", "Subject: [ACME #2]\r\n", "#assign Anna Berg\r\n", NULL, 0);
	is_str(ticket(id)->assignee, "anna@example.com", "#assign by name");
	ok(jobs_to("anna@example.com", NULL) == 1 && job_with("anna@example.com", "The thread so far") &&
	   job_with("anna@example.com", "invoice again") && job_with("anna@example.com", "old invoice question"),
	   "the new assignee gets the thread and the customer's other requests");
	sg_decision_clear(&d);
}

static void
test_blind_queue(void)
{
	struct sg_decision d = { 0 };

	fixture("blind");
	uint64_t id = mail(&d, "hank@customer.example", NULL, "Subject: audit of account 4711\r\n",
			   "Confidential details: balance 1,234,567.\r\n", NULL, 0);
	ok(d.verdict == SG_V_NEW && d.discard, "a blind queue's mail goes to no agent's mailbox (kept in the store)");
	ok(ticket(id)->assignee == NULL, "nobody is dealt the ticket");
	ok(jobs_to("anna@example.com", NULL) == 1 && jobs_to("boris@example.com", NULL) == 1 &&
	   job_with("anna@example.com", "#take") && !job_with("anna@example.com", "1,234,567"),
	   "each agent gets a short notice without the details");
	mail(&d, "boris@example.com", "boris@example.com", "Subject: Re: [ACME #1] New request\r\n", "#take\r\n", NULL, 0);
	is_str(ticket(id)->assignee, "boris@example.com", "#take assigns it");
	ok(job_with("boris@example.com", "1,234,567"), "and the taker receives the full message");
	ok(!job_with("anna@example.com", "1,234,567"), "nobody else does");
	sg_decision_clear(&d);
}

static void
test_merge(void)
{
	struct sg_decision d = { 0 };

	fixture("merge");
	uint64_t first = mail(&d, "ivy@customer.example", NULL, "Subject: invoice wrong\r\n", "x\r\n", NULL, 0);
	uint64_t second = mail(&d, "ivy@customer.example", NULL, "Subject: invoice still wrong\r\n", "y\r\n", NULL, 0);
	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #2]\r\n", "#merge 1\r\n", NULL, 0);
	is_str(sg_status_name(ticket(second)->status), "closed", "#merge 1 closes ticket 2");
	ok(events(second, "merged") == 1 && events(first, "merged") == 1, "an event on both tickets");
	uint64_t got = mail(&d, "ivy@customer.example", NULL, "Subject: Re: [ACME #2] invoice still wrong\r\n", "z\r\n",
			    NULL, 0);
	ok(got == first && d.verdict == SG_V_FOLLOWUP, "mail for the merged ticket lands on the one it went into");
	mail(&d, "anna@example.com", "anna@example.com", "Subject: [ACME #1]\r\n", "#merge 1\r\n", NULL, 0);
	ok(job_with("anna@example.com", "cannot be merged into itself"), "a ticket cannot be merged into itself");
	sg_decision_clear(&d);
}

/* The same bytes twice through the milter door (an MTA retry). */
static void
twice(const char *raw, const char *auth, struct sg_decision *first, struct sg_decision *second)
{
	const char *from = strstr(raw, "From: ") + 6;
	char env[64];
	snprintf(env, sizeof(env), "%.*s", (int)strcspn(from, "\r"), from);
	ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = env, .door = SG_DOOR_MILTER, .auth_user = auth }, first);
	ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = env, .door = SG_DOOR_MILTER, .auth_user = auth }, second);
}

static void
test_retries(void)
{
	struct sg_decision d1 = { 0 }, d2 = { 0 };

	fixture("retries");
	uint64_t id = mail(&d1, "jack@customer.example", NULL, "Subject: invoice\r\n", "x\r\n", NULL, 0);
	int before = jobs_to("jack@customer.example", NULL);
	twice("From: anna@example.com\r\nTo: support@example.com\r\nMessage-ID: <retry-1@example.com>\r\n"
	      "Subject: Re: [ACME #1] invoice\r\n\r\nHere is the answer.\r\n", "anna@example.com", &d1, &d2);
	ok(d1.verdict == SG_V_AGENT && d2.verdict == SG_V_DUPLICATE && d2.ticket == id,
	   "an agent's reply retried by the MTA is a duplicate");
	ok(d2.discard && d2.rcpt_add.n == 0, "and its retry is discarded like the first, not delivered to a mailbox");
	is_int(jobs_to("jack@customer.example", NULL), before + 1, "the customer gets the reply once");
	twice("From: kim@customer.example\r\nTo: support@example.com\r\nMessage-ID: <retry-2@customer.example>\r\n"
	      "Subject: audit request\r\n\r\nsecret figures\r\n", NULL, &d1, &d2);
	ok(d1.discard && d2.verdict == SG_V_DUPLICATE && d2.discard && d2.rcpt_add.n == 0,
	   "a blind queue's mail retried stays hidden: discarded again, never re-routed to the queue mailbox");
	sg_decision_clear(&d1);
	sg_decision_clear(&d2);
}

static const struct sg_test tests[] = {
	{ "retries", test_retries },
	{ "merge", test_merge },
	{ "blind-queue", test_blind_queue },
	{ "handoff", test_handoff },
	{ "conversation", test_conversation },
	{ "errors-and-rights", test_errors_and_rights },
	{ "status-request", test_status_request },
};

int
main(void)
{
	sg_log_open_stderr("test-agent");
	sg_log_set_level(SG_LOG_ERROR);
	sg_ingest_init();
	int rc = SG_TEST_RUN(tests);
	close_fixture();
	return rc;
}
