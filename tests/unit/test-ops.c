/*
 * test-ops — the ticket operations and typed events on a real store:
 * event names are the store format, every operation records its event,
 * illegal moves change nothing, agents' open counters follow status and
 * assignee changes (also a customer's reopen), transfers and the
 * ping-pong flag with the manager's notice (a subscriber in the same
 * transaction), a failing subscriber rolls the whole change back, and the
 * ingest path: rule "template NAME" honoured, bounces of our notices
 * attach to their ticket, two racing copies of one message make one
 * ticket.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "ticket/assign.h"
#include "ticket/event.h"
#include "ticket/ops.h"
#include "fixture.h"

static const char rules_text[] =
	"agent anna@example.com groups=billing\n"
	"agent boris@example.com groups=billing\n"
	"agent chen@example.com groups=technical\n"
	"queue billing mailbox=billing@example.com agents=anna@example.com,boris@example.com "
	"strategy=round-robin manager=lead@example.com\n"
	"queue technical mailbox=tech@example.com agents=chen@example.com strategy=least-open\n"
	"sla gold first-response=4h resolution=1d\n"
	"rule vip: subject ~ /VIP/ => queue billing, assign, template notify\n"
	"rule ask: subject ~ /invoice/i => queue billing, assign\n";

static uint64_t
open_count(const char *agent)
{
	uint64_t open = 0, today = 0;
	sg_assign_load(st, agent, (int64_t)time(NULL), &open, &today);
	return open;
}

static int
ingest(const char *raw, const char *env_from, struct sg_decision *d)
{
	return ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = env_from, .door = SG_DOOR_MILTER }, d);
}

/* A delivery report from MAILER-DAEMON, Message-ID <id>, about the
 * mail whose Message-ID is about. */
static char *
dsn(const char *id, const char *about)
{
	return sg_xasprintf("From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n"
			    "Message-ID: <%s>\r\nContent-Type: multipart/report; report-type=delivery-status;"
			    " boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n"
			    "--b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <%s>\r\nSubject: x\r\n--b--\r\n",
			    id, about);
}

/* A delivery report for the mail queued to `to` (a notice, not kept in
 * the ticket's history) lands on ticket id as a bounce event. */
static void
bounce_job_to(const char *to, uint64_t id)
{
	struct sg_decision d = { 0 };
	char msgid[200] = "", *notice = NULL;

	jobs_to(to, &notice);
	mail_msgid(notice, msgid);
	free(notice);
	ok(msgid[0] != '\0', "the notice to %s has our Message-ID", to);
	char *dsn_id = sg_xasprintf("dsn-%s", msgid);
	char *report = dsn(dsn_id, msgid);
	int before = events(id, "bounce");
	ingest(report, "", &d);
	ok(d.verdict == SG_V_FOLLOWUP && d.ticket == id, "bounce of the notice to %s lands on ticket %llu", to,
	   (unsigned long long)id);
	is_int(events(id, "bounce"), before + 1, "as a bounce event, no junk ticket");
	free(report);
	free(dsn_id);
	sg_decision_clear(&d);
}

static int
change(uint64_t id, const char *field, const char *value)
{
	char *done = NULL, *why = NULL;
	int rc = sg_ticket_change(st, conf, id, field, value, "tester", &done, &why);
	free(done);
	free(why);
	return rc;
}

static void
test_event_names(void)
{
	int ok_all = 1;
	for (int i = 0; i < SG_EV_COUNT; i++)
		for (int k = 0; k < i; k++)
			ok_all &= strcmp(sg_event_type_name(i), sg_event_type_name(k)) != 0;
	ok(ok_all, "every event type has its own name");
	is_str(sg_event_type_name(SG_EV_TOKEN_REFUSED), "token-refused", "names are the stored format");
	is_str(sg_event_type_name(SG_EV_COUNT), "unknown", "out of range is 'unknown'");
}

static void
test_ops_and_counters(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t = { 0 };

	ingest("From: c1@customer.example\r\nSubject: invoice wrong\r\nMessage-ID: <o1@customer.example>\r\n\r\nhi\r\n",
	       "c1@customer.example", &d);
	uint64_t id = d.ticket;
	sg_store_ticket_get(st, NULL, id, &t);
	is_str(t.assignee, "anna@example.com", "rule routes to billing, round-robin gives anna");
	is_int((int)open_count("anna@example.com"), 1, "anna has one open ticket");
	is_int(events(id, "queue"), 1, "routing recorded a queue event");
	is_int((int)t.transfers, 0, "routing is not a transfer");
	sg_ticket_clear(&t);

	ok(change(id, "status", "resolved") == 0, "set status resolved");
	is_int((int)open_count("anna@example.com"), 0, "resolved: anna's open count drops");
	int before = events(id, NULL);
	ok(change(id, "status", "pending") == SG_OP_INVALID, "resolved -> pending is refused");
	is_int(events(id, NULL), before, "a refused change records nothing");
	ok(change(id, "queue", "nowhere") == SG_OP_INVALID, "unknown queue is refused");
	ok(change(id, "assignee", "ghost@example.com") == SG_OP_INVALID, "unknown agent is refused");

	/* The customer replies: reopened, and the counter follows. */
	ingest("From: c1@customer.example\r\nSubject: Re: invoice wrong\r\nMessage-ID: <o2@customer.example>\r\n"
	       "In-Reply-To: <o1@customer.example>\r\n\r\nstill wrong\r\n", "c1@customer.example", &d);
	ok(d.verdict == SG_V_FOLLOWUP && d.ticket == id, "reply threads");
	sg_store_ticket_get(st, NULL, id, &t);
	is_str(sg_status_name(t.status), "open", "customer reply reopens");
	sg_ticket_clear(&t);
	is_int((int)open_count("anna@example.com"), 1, "reopen counts as open again (no drift)");

	/* The reopen above (resolved -> open) told billing's manager at once. */
	int lead0 = jobs_to("lead@example.com", NULL);
	is_int(lead0, 1, "the manager heard of the reopen");
	is_int(events(id, "reopened"), 1, "a reopened event");
	/* Transfers: the third flags ping-pong and tells the manager. */
	ok(change(id, "queue", "technical") == 0, "transfer 1: queue");
	ok(change(id, "assignee", "chen@example.com") == 0, "transfer 2: assignee");
	is_int((int)open_count("anna@example.com"), 0, "anna lost it");
	is_int((int)open_count("chen@example.com"), 1, "chen has it");
	is_int(events(id, "ping-pong"), 0, "two transfers: no flag");
	ok(change(id, "queue", "billing") == 0, "transfer 3: queue");
	sg_store_ticket_get(st, NULL, id, &t);
	is_int((int)t.transfers, 3, "three transfers counted");
	ok(sg_strlist_has(&t.tags, "ping-pong"), "tagged ping-pong");
	sg_ticket_clear(&t);
	is_int(events(id, "ping-pong"), 1, "ping-pong event");
	is_int(jobs_to("lead@example.com", NULL), lead0 + 1, "the queue's manager is told (subscriber)");
	ok(change(id, "assignee", "boris@example.com") == 0, "transfer 4");
	is_int(jobs_to("lead@example.com", NULL), lead0 + 1, "flagged once: no second notice");
	sg_decision_clear(&d);
	bounce_job_to("lead@example.com", id);
}

static int
failing(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	(void)op;
	(void)t;
	(void)ev;
	++*(int *)arg;
	return SG_STORE_ERROR;
}

static void
test_subscriber_in_transaction(void)
{
	struct sg_decision d = { 0 };
	int calls = 0;

	ingest("From: c2@customer.example\r\nSubject: hello\r\nMessage-ID: <o3@customer.example>\r\n\r\nhi\r\n",
	       "c2@customer.example", &d);
	uint64_t id = d.ticket;
	sg_event_subscribe(SG_EV_NOTE, failing, &calls);
	int before = events(id, NULL);
	ok(change(id, "note", "internal remark") == SG_STORE_ERROR, "a failing subscriber fails the change");
	is_int(calls, 1, "the subscriber ran once");
	is_int(events(id, NULL), before, "and nothing of the change was committed");
	sg_event_unsubscribe_all();
	sg_ingest_init();
	ok(change(id, "note", "internal remark") == 0, "without it the note is recorded");
	is_int(events(id, "note"), 1, "one note event");
	sg_decision_clear(&d);
}

static void
test_ingest_paths(void)
{
	struct sg_decision d = { 0 };
	struct sg_job j = { 0 };

	/* rule "template notify": the acknowledgement uses that template */
	ingest("From: v@customer.example\r\nSubject: VIP order\r\nMessage-ID: <o4@customer.example>\r\n\r\nhi\r\n",
	       "v@customer.example", &d);
	uint64_t id = d.ticket;
	ok(d.jobs == 1, "one job for the VIP ticket");
	uint64_t last = 0;
	for (uint64_t k = 1; k < 1000; k++)
		if (sg_store_job_get(st, NULL, k, &j) == 0) {
			if (j.ticket == id)
				last = k;
			sg_job_clear(&j);
		}
	ok(last != 0 && sg_store_job_get(st, NULL, last, &j) == 0, "its job is stored");
	ok(j.payload && strstr(j.payload, "needs your attention") != NULL, "rule template 'notify' was used for the ack");
	char ourid[200] = "";
	mail_msgid(j.payload, ourid);
	sg_job_clear(&j);

	/* The IMAP/CLI door forwards the copy; a sender's X-Support-* stay behind. */
	const char *fwd = "From: f@customer.example\r\nSubject: invoice copy\r\nMessage-ID: <o5@customer.example>\r\n"
			  "X-Support-Ticket: 999\r\nX-Support-Queue: vip\r\n\r\nhi\r\n";
	ingest_mail((struct sg_ingest_in){ .raw = fwd, .env_from = "f@customer.example", .door = SG_DOOR_CLI }, &d);
	struct sg_job fj = { 0 };
	uint64_t fid = 0;
	for (uint64_t k = 1; k < 1000; k++)
		if (sg_store_job_get(st, NULL, k, &fj) == 0) {
			if (fj.ticket == d.ticket && strcmp(fj.what, "forward") == 0)
				fid = k;
			sg_job_clear(&fj);
		}
	ok(fid != 0 && sg_store_job_get(st, NULL, fid, &fj) == 0, "the CLI door forwards a copy to the assignee");
	ok(fj.payload && strstr(fj.payload, "X-Support-Ticket: 999") == NULL && strstr(fj.payload, "vip") == NULL,
	   "the sender's X-Support-* fields are not forwarded");
	ok(fj.payload && strstr(fj.payload, "X-Support-Queue: billing") != NULL, "ours are");
	sg_job_clear(&fj);

	/* A bounce of that mail: an event on the ticket, no new ticket. */
	char *report = dsn("dsn1@mx.example", ourid);
	ingest(report, "", &d);
	ok(d.verdict == SG_V_FOLLOWUP && d.ticket == id, "bounce of our mail lands on its ticket");
	is_int(events(id, "bounce"), 1, "as a bounce event");
	free(report);
	sg_decision_clear(&d);
}

struct racer {
	struct sg_decision d;
	int rc;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	r->rc = ingest("From: r@customer.example\r\nSubject: race\r\nMessage-ID: <race@customer.example>\r\n\r\nhi\r\n",
		       "r@customer.example", &r->d);
	return NULL;
}

static void
test_racing_copies(void)
{
	struct racer r[4];
	pthread_t th[4];
	int news = 0, dups = 0;

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, race, &r[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		news += r[i].rc == 0 && r[i].d.verdict == SG_V_NEW;
		dups += r[i].rc == 0 && r[i].d.verdict == SG_V_DUPLICATE;
	}
	is_int(news, 1, "four racing copies: one new ticket");
	is_int(dups, 3, "and three duplicates");
	ok(r[0].d.ticket == r[1].d.ticket && r[1].d.ticket == r[2].d.ticket && r[2].d.ticket == r[3].d.ticket,
	   "all marked with the same ticket");
	for (int i = 0; i < 4; i++)
		sg_decision_clear(&r[i].d);
}

/* The SLA fields a status move keeps (model/ticket.h), through set. */
static void
test_status_fields(void)
{
	struct sg_decision d = { 0 };
	struct sg_ticket t = { 0 };

	ingest("From: sf@customer.example\r\nSubject: fields\r\nMessage-ID: <sf1@customer.example>\r\n\r\nhi\r\n",
	       "sf@customer.example", &d);
	uint64_t id = d.ticket;
	sg_decision_clear(&d);
	is_int(change(id, "status", "pending"), 0, "to pending");
	sg_store_ticket_get(st, NULL, id, &t);
	ok(t.paused_since > 0 && t.paused_secs == 0, "pending: paused_since set");
	sg_ticket_clear(&t);
	is_int(change(id, "status", "resolved"), 0, "pending -> resolved");
	sg_store_ticket_get(st, NULL, id, &t);
	ok(t.paused_since == 0 && t.resolved_at > 0 && t.reopens == 0, "resolved: pause over, resolved_at set");
	int64_t res = t.resolved_at;
	sg_ticket_clear(&t);
	is_int(change(id, "status", "open"), 0, "reopen");
	sg_store_ticket_get(st, NULL, id, &t);
	is_int(t.reopens, 1, "resolved -> open counts a reopen");
	is_int(t.resolved_at, res, "resolved_at kept after the reopen");
	sg_ticket_clear(&t);
	is_int(change(id, "status", "closed"), 0, "close");
	is_int(change(id, "status", "open"), 0, "reopen a closed one");
	sg_store_ticket_get(st, NULL, id, &t);
	is_int(t.reopens, 2, "closed -> open counts too");
	sg_ticket_clear(&t);
}

static const struct sg_test tests[] = {
	{ "status-fields", test_status_fields },
	{ "event-names", test_event_names },
	{ "ops-and-counters", test_ops_and_counters },
	{ "subscriber-in-transaction", test_subscriber_in_transaction },
	{ "ingest-paths", test_ingest_paths },
	{ "racing-copies", test_racing_copies },
};

int
main(void)
{
	const char *dir = sg_test_dir();

	plan_lazy();
	sg_log_open_stderr("test-ops");
	sg_log_set_level(SG_LOG_ERROR);
	free(sg_test_write(dir, "t.rules", rules_text));
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
			 "ticket_tag = \"ACME\"\ndb_sync = false\nrules_file = \"%s/t.rules\"\ntemplate_dir = \"%s/templates\"\n",
			 dir, dir, top_srcdir());
	ok(conf != NULL && conf->rules != NULL && conf->templates != NULL, "config with rules and templates");
	return SG_FIXTURE_RUN(tests);
}
