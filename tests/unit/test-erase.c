/*
 * test-erase — personal data lifetime on a real store: the retention
 * timer erases a closed ticket after `retention` days and not before,
 * leaves a reopened one alone and takes it again when it is closed
 * again, schedules tickets closed before retention was set (one fill),
 * and `forget` erases one participant without touching the requestor;
 * the erased event names no one; the ticket's unsent mail goes with it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "sla/retention.h"
#include "store/store.h"
#include "ticket/erase.h"
#include "fixture.h"

#define DAY 86400

static struct sg_conf *conf_keep;   /* the same store, retention = 0 */

static uint64_t
new_ticket(const char *from, const char *cc, const char *msgid)
{
	struct sg_decision d = { 0 };
	char *raw = sg_xasprintf("From: Customer <%s>\r\nTo: support@example.com\r\n%s%s%sSubject: help me %s\r\n"
				 "Message-ID: <%s>\r\n\r\nMy account %s is broken.\r\n",
				 from, cc ? "Cc: " : "", cc ? cc : "", cc ? "\r\n" : "", from, msgid, from);
	uint64_t id = 0;

	if (ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = from, .door = SG_DOOR_CLI }, &d) == 0)
		id = d.ticket;
	sg_decision_clear(&d);
	free(raw);
	return id;
}

static uint64_t
reply(const char *from, uint64_t id, const char *msgid)
{
	struct sg_decision d = { 0 };
	char *raw = sg_xasprintf("From: <%s>\r\nTo: support@example.com\r\nSubject: Re: [ACME #%llu] help\r\n"
				 "Message-ID: <%s>\r\n\r\nme too, %s\r\n",
				 from, (unsigned long long)id, msgid, from);
	uint64_t got = 0;

	if (ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = from, .door = SG_DOOR_CLI }, &d) == 0)
		got = d.ticket;
	sg_decision_clear(&d);
	free(raw);
	return got;
}

static int
set(const struct sg_conf *c, uint64_t id, const char *status)
{
	char *done = NULL, *why = NULL;
	int rc = sg_ticket_change(st, c, id, "status", status, "tester", &done, &why);

	free(done);
	free(why);
	return rc;
}

static int
has_raw(uint64_t id, uint32_t seq)
{
	struct sg_msgrec m = { 0 };
	char *raw = NULL;
	size_t len = 0;
	int rc = sg_store_message_get(st, NULL, id, seq, &m, &raw, &len);

	sg_msgrec_clear(&m);
	free(raw);
	return rc == 0;
}

static size_t
erase_pass(const struct sg_conf *c, int64_t ahead)
{
	size_t n = 0;

	if (sg_retention_run_once(st, c, (int64_t)time(NULL) + ahead, &n) != 0)
		return (size_t)-1;
	return n;
}

static int
trail_mentions(uint64_t id, const char *needle)
{
	char *d = NULL;
	int found = 0;

	/* every event's detail, one by one through the fixture */
	static const char *const types[] = { "created", "ack", "ack-suppressed", "status", "erased", "status-sent" };
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (events_detail(id, types[i], &d) > 0 && d != NULL && strstr(d, needle) != NULL)
			found = 1;
		free(d);
		d = NULL;
	}
	return found;
}

static void
test_retention(void)
{
	uint64_t id = new_ticket("rita@cust.example", "sam@cust.example", "r1@cust.example");

	ok(id > 0, "ticket made");
	ok(has_raw(id, 1), "its raw message is stored");
	is_int(set(conf, id, "closed"), 0, "closed");
	is_int((int)erase_pass(conf, 29 * DAY), 0, "nothing erased after 29 days");
	ok(has_raw(id, 1), "raw still there");
	ok(job_with("rita@cust.example", "rita"), "mail to her waits in the queue");
	ok(trail_mentions(id, "rita@cust.example"), "the trail names her");
	is_int((int)erase_pass(conf, 31 * DAY), 1, "erased after 31 days");
	ok(!has_raw(id, 1), "raw message gone");
	const struct sg_ticket *t = ticket(id);
	ok(t->requestor != NULL && t->requestor[0] == '\0' && t->requestor_name == NULL && t->participants.n == 0,
	   "requestor, name and participants erased");
	ok(t->subject != NULL && t->subject[0] == '\0', "subject erased");
	ok(t->nmessages >= 1 && t->status == SG_ST_CLOSED && t->created > 0, "counts, status, times stay");
	is_int(events(id, "erased"), 1, "one erased event");
	ok(!trail_mentions(id, "rita@cust.example") && !trail_mentions(id, "sam@cust.example"),
	   "the trail names neither person any more");
	uint64_t *ids = NULL;
	size_t n = 0;
	is_int(sg_store_customer_tickets(st, NULL, "rita@cust.example", &ids, &n), SG_STORE_NOTFOUND,
	       "the customers index forgot the requestor");
	free(ids);
	ok(!job_with("rita@cust.example", "rita"), "no mail to her is left in the queue");
	is_int((int)erase_pass(conf, 62 * DAY), 0, "a later pass erases nothing again");
	is_int(events(id, "erased"), 1, "still one erased event");
}

static void
test_reopened(void)
{
	uint64_t id = new_ticket("otto@cust.example", NULL, "o1@cust.example");

	is_int(set(conf, id, "closed"), 0, "closed");
	is_int(set(conf, id, "open"), 0, "reopened");
	is_int((int)erase_pass(conf, 31 * DAY), 0, "a reopened ticket is left alone");
	ok(has_raw(id, 1), "its raw message stays");
	is_int(set(conf, id, "closed"), 0, "closed again");
	is_int((int)erase_pass(conf, 31 * DAY), 1, "then erased on its new schedule");
}

static void
test_fill(void)
{
	uint64_t meta = 0;
	uint64_t id = new_ticket("fay@cust.example", NULL, "f1@cust.example");

	/* closed while the setting was 0: no timer was set then */
	is_int(set(conf_keep, id, "closed"), 0, "closed under retention = 0");
	is_int((int)erase_pass(conf_keep, 400 * DAY), 0, "retention 0 keeps everything");
	ok(has_raw(id, 1), "raw kept");
	is_int(sg_store_meta_put(st, NULL, SG_META_RETENTION, 0), 0, "the index as filled for 0");
	is_int((int)erase_pass(conf, 31 * DAY), 1, "setting retention schedules the tickets closed before");
	ok(!has_raw(id, 1), "and erases them");
	is_int(sg_store_meta_get(st, NULL, SG_META_RETENTION, &meta), 0, "fill recorded");
	is_int((int)meta, 30, "for 30 days");
}

static void
test_forget_participant(void)
{
	uint64_t id = new_ticket("paula@cust.example", "quinn@cust.example", "p1@cust.example");
	size_t nt = 0, nm = 0;

	is_int((int)reply("quinn@cust.example", id, "q1@cust.example"), (int)id, "the Cc'd participant replies");
	is_int(sg_ticket_forget(st, conf, "Quinn@Cust.Example", "tester", &nt, &nm), 0, "forget quinn");
	is_int((int)nt, 1, "one ticket");
	is_int((int)nm, 1, "one message: quinn's");
	const struct sg_ticket *t = ticket(id);
	ok(t->requestor != NULL && strcmp(t->requestor, "paula@cust.example") == 0, "the requestor stays");
	ok(!sg_strlist_has(&t->participants, "quinn@cust.example"), "quinn is no participant any more");
	ok(has_raw(id, 1), "paula's message stays");
	char *d = NULL;
	is_int(events_detail(id, "erased", &d), 1, "an erased event");
	ok(d != NULL && strstr(d, "quinn") == NULL && strstr(d, "on request") != NULL, "without the address: %s",
	   d ? d : "");
	free(d);
	is_int(sg_ticket_forget(st, conf, "not an address", "tester", &nt, &nm), SG_OP_INVALID, "not an address");
	is_int(sg_ticket_forget(st, conf, "paula@cust.example", "tester", &nt, &nm), 0, "forget the requestor");
	ok(!has_raw(id, 1), "then her messages go");
	t = ticket(id);
	ok(t->requestor[0] == '\0' && t->subject[0] == '\0', "and her place as requestor and the subject");
}

static const struct sg_test tests[] = {
	{ "retention", test_retention },
	{ "reopened", test_reopened },
	{ "fill", test_fill },
	{ "forget-participant", test_forget_participant },
};

int
main(void)
{
	const char *dir = sg_test_dir();
	char *sub = sg_xasprintf("%s/keep", dir);

	plan_lazy();
	sg_log_open_stderr("test-erase");
	sg_log_set_level(SG_LOG_ERROR);
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
			 "ticket_tag = \"ACME\"\ndb_sync = false\ntemplate_dir = \"%s/templates\"\nretention = 30\n",
			 dir, top_srcdir());
	mkdir(sub, 0755);
	conf_keep = load_conf(sub, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
			      "ticket_tag = \"ACME\"\ndb_sync = false\ntemplate_dir = \"%s/templates\"\n",
			      dir, top_srcdir());
	free(sub);
	ok(conf != NULL && conf_keep != NULL && conf->retention == 30 && conf_keep->retention == 0, "configs");
	int rc = SG_FIXTURE_RUN(tests);
	sg_conf_unref(&conf_keep);
	return rc;
}
