/*
 * test-sla — SLA clocks on a real store: due times from the tier and the
 * service at creation (in the acknowledgement and X-Support-Due), the
 * pause in pending and the reopen moving the resolution due, warnings and
 * breaches each fired exactly once (also after closing and reopening the
 * store), escalation notices in the recipient's language, the reopen
 * notice to the manager, overdue reasons (agent and system), and the
 * due-index entries: one per ticket and kind at most, none left behind.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "calendar/calendar.h"
#include "sched/due.h"
#include "sla/clock.h"
#include "ticket/event.h"
#include "ticket/ops.h"
#include "ticket/slatime.h"
#include "fixture.h"

static const char rules_text[] =
	"agent anna@example.com groups=billing language=ru\n"
	"queue billing mailbox=billing@example.com agents=anna@example.com strategy=round-robin "
	"manager=lead@example.com\n"
	"queue loose mailbox=loose@example.com strategy=none manager=boss@example.com\n"
	"calendar office hours=\"mon-fri 09:00-18:00\" tz=UTC\n"
	"sla gold first-response=1h resolution=10h\n"
	"sla office first-response=2h resolution=1bd calendar=office warn=50%\n"
	"service reset resolution=2h\n"
	"rule pw: subject ~ /password/ => queue billing, assign, sla gold, service reset\n"
	"rule off: subject ~ /office/ => queue billing, assign, sla office\n"
	"rule loose: subject ~ /loose/ => queue loose, sla gold\n"
	"rule billing: subject ~ /invoice/ => queue billing, assign, sla gold\n";

static uint64_t
mail(const char *from, const char *subject)
{
	static int n;
	struct sg_decision d = { 0 };
	char *raw = sg_xasprintf("From: %s\r\nSubject: %s\r\nMessage-ID: <sla%d@customer.example>\r\n\r\nhello\r\n", from,
				 subject, ++n);
	ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = from, .door = SG_DOOR_MILTER }, &d);
	uint64_t id = d.ticket;
	sg_decision_clear(&d);
	free(raw);
	return id;
}

static const char *
due_header(const char *from, const char *subject, uint64_t *id)
{
	static char got[128];
	static int n;
	struct sg_decision d = { 0 };
	char *raw = sg_xasprintf("From: %s\r\nSubject: %s\r\nMessage-ID: <slah%d@customer.example>\r\n\r\nhello\r\n", from,
				 subject, ++n);
	got[0] = '\0';
	ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = from, .door = SG_DOOR_MILTER }, &d);
	*id = d.ticket;
	for (size_t i = 0; i < d.nadd; i++)
		if (strcmp(d.add[i].name, "X-Support-Due") == 0)
			snprintf(got, sizeof(got), "%s", d.add[i].value);
	sg_decision_clear(&d);
	free(raw);
	return got;
}

/* Does a job to `to` about ticket id read (decoded subject or body)
 * needle? */
struct reads {
	const char *to, *needle;
	uint64_t id;
	int hit;
};

static int
reads_cb(const struct sg_job *j, void *arg)
{
	struct reads *r = arg;
	int to = 0;

	for (size_t i = 0; i < j->rcpts.n; i++)
		to |= strcmp(j->rcpts.v[i], r->to) == 0;
	if (!to || j->ticket != r->id)
		return 0;
	struct sg_msginfo *mi = parse(j->payload);
	if (mi != NULL)
		r->hit |= (mi->subject && strstr(mi->subject, r->needle)) || (mi->body_text && strstr(mi->body_text, r->needle));
	sg_msginfo_free(&mi);
	return 0;
}

static int
reads(const char *to, uint64_t id, const char *needle)
{
	struct reads r = { to, needle, id, 0 };
	sg_store_job_foreach(st, reads_cb, &r);
	return r.hit;
}

/* How many due-index entries of kind the ticket has. */
static int
entries(uint8_t kind, uint64_t id)
{
	struct sg_due_list l;
	int n = 0;

	sg_due_collect(st, kind, INT64_MAX, 1000000, &l);
	for (size_t i = 0; i < l.n; i++)
		n += l.v[i].id == id;
	sg_due_list_clear(&l);
	return n;
}

static int64_t
entry_at(uint8_t kind, uint64_t id)
{
	struct sg_due_list l;
	int64_t at = 0;

	sg_due_collect(st, kind, INT64_MAX, 1000000, &l);
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].id == id)
			at = l.v[i].due;
	sg_due_list_clear(&l);
	return at;
}

/* One change at a chosen time, through the operations, as the daemon
 * makes it: load, operate, write, commit. */
enum what { W_STATUS, W_FIRST_RESPONSE, W_ASSIGN_NONE };

static int
at_time(uint64_t id, int64_t now, enum what w, enum sg_status to)
{
	struct sg_op op = { .st = st, .c = conf, .now = now, .actor = "tester" };
	struct sg_ticket t = { 0 };
	const char *why = NULL;
	int rc = sg_store_txn_begin(st, &op.txn);

	if (rc == 0)
		rc = sg_store_ticket_get(st, op.txn, id, &t);
	if (rc == 0)
		rc = w == W_STATUS ? sg_op_status(&op, &t, to, NULL, &why)
		   : w == W_FIRST_RESPONSE ? sg_op_first_response(&op, &t)
					   : sg_op_assign(&op, &t, NULL, "set", 0, &why);
	if (rc == 0)
		rc = sg_store_ticket_put(st, op.txn, &t);
	if (rc == 0)
		rc = sg_store_txn_commit(&op.txn);
	sg_store_txn_abort(&op.txn);
	sg_ticket_clear(&t);
	return rc;
}

static size_t
run(int64_t now)
{
	size_t fired = 0;
	int rc = sg_clock_run_sla(st, conf, now, &fired);
	return rc == 0 ? fired : (size_t)-1;
}

static void
test_dues_at_creation(void)
{
	uint64_t id;
	const char *hdr = due_header("c1@customer.example", "invoice wrong", &id);
	const struct sg_ticket *t = ticket(id);
	int64_t created = t->created;

	is_str(t->sla_tier, "gold", "tier from the rule");
	is_int(t->first_response_due, created + 3600, "first-response due: created + 1h (24x7)");
	is_int(t->due, created + 36000, "resolution due: created + 10h");
	is_int(entries(SG_DUE_SLA_FR, id), 1, "one first-response timer");
	is_int(entry_at(SG_DUE_SLA_FR, id), created + 2880, "at the warning: 80%% of 1h");
	is_int(entry_at(SG_DUE_SLA_RES, id), created + 28800, "resolution timer at 80%% of 10h");
	ok(hdr[0] != '\0' && strstr(hdr, "+0000") != NULL, "X-Support-Due carries the due: %s", hdr);
	char due[64];
	sg_calendar_format(NULL, created + 36000, due, sizeof(due));
	ok(job_with("c1@customer.example", due), "the acknowledgement shows the due date %s", due);

	/* the service's normative time replaces the tier's resolution */
	id = mail("c2@customer.example", "password reset");
	t = ticket(id);
	is_str(t->service, "reset", "service from the rule");
	is_int(t->due, t->created + 7200, "service: resolution due created + 2h");
	is_int(t->first_response_due, t->created + 3600, "the tier's first response stays");
	ok(events(id, "service") == 1, "a service event");
}

/* Pending stops the resolution clock and moves the due; the warning and
 * the breach fire once each; a restart changes nothing. */
static void
test_pause_and_fire_once(void)
{
	uint64_t id = mail("c3@customer.example", "invoice missing");
	int64_t c0 = ticket(id)->created;

	is_int(at_time(id, c0 + 3600 * 2, W_STATUS, SG_ST_PENDING), 0, "pending at +2h");
	is_int(entries(SG_DUE_SLA_RES, id), 0, "pending: no resolution timer");
	is_int(entries(SG_DUE_SLA_FR, id), 1, "the first-response clock runs on");
	is_int(at_time(id, c0 + 3600 * 5, W_STATUS, SG_ST_OPEN), 0, "open again at +5h");
	const struct sg_ticket *t = ticket(id);
	is_int(t->paused_secs, 3 * 3600, "3h paused");
	is_int(t->paused_bsecs, 3 * 3600, "3 business hours (24x7)");
	is_int(t->due, c0 + 13 * 3600, "due moved by the pause: +13h");
	is_int(entry_at(SG_DUE_SLA_RES, id), c0 + 8 * 3600 + 3 * 3600, "warning at 80%% of 10h plus the pause");

	/* +6h: first response long past its due: the breach only */
	ok(run(c0 + 6 * 3600) >= 1, "thresholds fired at +6h");
	is_int(events(id, "sla-breach"), 1, "first-response breach");
	is_int(events(id, "sla-warning"), 0, "no warning after the due");
	t = ticket(id);
	is_int(t->sla_fired, SG_SLA_FR_WARN | SG_SLA_FR_BREACH, "both first-response bits set");
	is_int(entries(SG_DUE_SLA_FR, id), 0, "no first-response timer left");
	is_str(t->reason, "no agent reply", "system reason: assigned, no transfer");
	ok(reads("anna@example.com", id, "Нарушен срок SLA: первый ответ (причина: no agent reply)"),
	   "the assignee's breach notice is in Russian (agent language=ru), with the reason");
	ok(reads("lead@example.com", id, "SLA breached: first response (reason: no agent reply)"),
	   "the manager's in English (default_language)");

	ok(run(c0 + 11 * 3600 + 1) >= 1, "+11h: the resolution warning");
	is_int(events(id, "sla-warning"), 1, "one warning event");
	ok(reads("anna@example.com", id, "Предупреждение SLA: решение до"), "the warning goes to the assignee");
	is_int(events(id, "notify"), 3, "three escalation notices on the ticket (two breach, one warning)");
	is_int((long long)run(c0 + 11 * 3600 + 2), 0, "again: nothing");

	sg_store_close(&st);
	ok(open_store() == 0, "store closed and opened again");
	is_int((long long)run(c0 + 12 * 3600), 0, "after the restart: nothing fires twice");
	ok(run(c0 + 13 * 3600) >= 1, "+13h: the resolution breach");
	is_int((long long)run(c0 + 20 * 3600), 0, "and never again");
	sg_store_close(&st);
	open_store();
	is_int((long long)run(c0 + 30 * 3600), 0, "nor after another restart");
	is_int(events(id, "sla-breach"), 2, "two breaches in all (first response, resolution)");
	is_int(ticket(id)->sla_fired, 0xF, "all four bits");
	is_int(entries(SG_DUE_SLA_RES, id) + entries(SG_DUE_SLA_FR, id), 0, "no timers left");
}

static void
test_reply_and_reopen(void)
{
	uint64_t id = mail("c4@customer.example", "invoice again");
	int64_t c0 = ticket(id)->created;

	is_int(at_time(id, c0 + 600, W_FIRST_RESPONSE, 0), 0, "the first reply at +10min");
	is_int(ticket(id)->first_response_at, c0 + 600, "first_response_at");
	is_int(entries(SG_DUE_SLA_FR, id), 0, "the reply stops the first-response clock");
	is_int((long long)run(c0 + 7200), 0, "nothing fires for the first response");

	int before = jobs_to("lead@example.com", NULL);
	is_int(at_time(id, c0 + 3600, W_STATUS, SG_ST_RESOLVED), 0, "resolved at +1h");
	is_int(entries(SG_DUE_SLA_RES, id), 0, "resolved: no resolution timer");
	is_int(at_time(id, c0 + 3 * 3600, W_STATUS, SG_ST_OPEN), 0, "reopened at +3h");
	const struct sg_ticket *t = ticket(id);
	is_int(t->reopens, 1, "a reopen counted");
	is_int(t->due, c0 + 12 * 3600, "due moved by the 2h spent resolved");
	is_int(events(id, "reopened"), 1, "a reopened event");
	ok(jobs_to("lead@example.com", NULL) == before + 1 && job_with("lead@example.com", "Reopened: invoice again"),
	   "the queue's manager is told at once");
	is_int(entries(SG_DUE_SLA_RES, id), 1, "the resolution clock resumes");
}

static void
test_reasons(void)
{
	char *done = NULL, *why = NULL;
	uint64_t id = mail("c5@customer.example", "loose ends");
	int64_t c0 = ticket(id)->created;

	ok(ticket(id)->assignee == NULL, "unassigned (strategy none)");
	is_int((long long)run(c0 + 3601), 1, "first-response breach");
	is_str(ticket(id)->reason, "not assigned", "system reason: not assigned");
	ok(reads("boss@example.com", id, "SLA breached: first response (reason: not assigned)"),
	   "unassigned: the manager gets it, with the reason");

	is_int(sg_ticket_change(st, conf, id, "reason", "waiting for the vendor", "anna@example.com", &done, &why), 0,
	       "set N reason TEXT");
	is_str(ticket(id)->reason, "waiting for the vendor", "the agent's reason replaces it");
	is_int(events(id, "reason"), 2, "an event each time");
	free(done);
	free(why);
	ok(run(c0 + 36001) >= 1, "resolution breach");
	is_str(ticket(id)->reason, "waiting for the vendor", "a set reason is kept");
	is_int(sg_ticket_change(st, conf, id, "reason", "-", "tester", &done, &why), 0, "'-' clears it");
	ok(ticket(id)->reason == NULL, "cleared");
	free(done);
	free(why);
	is_int(sg_ticket_change(st, conf, id, "service", "nothing", "tester", &done, &why), SG_OP_INVALID,
	       "unknown service refused");
	free(done);
	free(why);
}

/* A business calendar: 1bd on mon-fri 09-18 UTC. */
static void
test_calendar_tier(void)
{
	uint64_t id = mail("c6@customer.example", "office chair");
	const struct sg_ticket *t = ticket(id);
	const struct sg_calendar *cal = sg_slatime_calendar(conf, t);

	ok(cal != NULL, "the tier's calendar");
	is_int(t->first_response_due, sg_calendar_add(cal, t->created, 7200), "2 business hours");
	is_int(t->due, sg_calendar_add_days(cal, t->created, 1), "1 business day");
	int64_t fr_warn = sg_calendar_add(cal, t->created, 3600);
	is_int(entry_at(SG_DUE_SLA_FR, id), fr_warn, "warn=50%%: after 1 business hour");
}

static const struct sg_test tests[] = {
	{ "dues-at-creation", test_dues_at_creation },
	{ "pause-and-fire-once", test_pause_and_fire_once },
	{ "reply-and-reopen", test_reply_and_reopen },
	{ "reasons", test_reasons },
	{ "calendar-tier", test_calendar_tier },
};

int
main(void)
{
	const char *dir = sg_test_dir();

	plan_lazy();
	sg_log_open_stderr("test-sla");
	sg_log_set_level(SG_LOG_ERROR);
	free(sg_test_write(dir, "t.rules", rules_text));
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
			 "ticket_tag = \"ACME\"\ndb_sync = false\nrules_file = \"%s/t.rules\"\ntemplate_dir = \"%s/templates\"\n",
			 dir, dir, top_srcdir());
	ok(conf != NULL && conf->rules != NULL && conf->templates != NULL, "config with rules and templates");
	return SG_FIXTURE_RUN(tests);
}
