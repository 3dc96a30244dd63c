/*
 * test-ackguard — RFC 3834 loop guards on the address an acknowledgement
 * would go to, no body echoed to a third party, and the global cap
 * (ack_limit_global): exactly the cap, events, one admin alert.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "notice/ack.h"
#include "fixture.h"

static const char *
why(const char *headers)
{
	static char buf[200];
	char *raw = sg_xasprintf("%s\r\nSecret order details: card 4111.\r\n", headers);
	struct sg_msginfo *mi = parse(raw);
	const char *w = sg_ack_suppressed(conf, mi, "x@customer.example");
	snprintf(buf, sizeof(buf), "%s", w ? w : "");
	sg_msginfo_free(&mi);
	free(raw);
	return buf;
}

static void
test_guards(void)
{
	const char *base = "From: alice@customer.example\r\nSubject: help\r\n";
	struct {
		const char *extra, *name;
		int suppressed;
	} cases[] = {
		{ "", "plain mail is answered", 0 },
		{ "Auto-Submitted: no\r\n", "Auto-Submitted: no is answered", 0 },
		{ "Auto-Submitted: No (manual)\r\n", "Auto-Submitted: No with a comment is answered", 0 },
		{ "Auto-Submitted: notification\r\n", "Auto-Submitted: notification (starts with no) is not", 1 },
		{ "Auto-Submitted: auto-replied\r\n", "Auto-Submitted: auto-replied is not", 1 },
		{ "X-No-Loop: yes\r\n", "X-No-Loop is not", 1 },
		{ "Mailing-List: list x@lists.example\r\n", "Mailing-List is not", 1 },
		{ "List-Id: <x.lists.example>\r\n", "List-Id is not", 1 },
		{ "Reply-To: MAILER-DAEMON@mx.example\r\n", "a robot Reply-To is not", 1 },
		{ "Reply-To: postmaster@customer.example\r\n", "a postmaster Reply-To is not", 1 },
		{ "Reply-To: support@example.com\r\n", "our own address as Reply-To is not", 1 },
		{ "Reply-To: victim@elsewhere.example\r\n", "a third-party Reply-To is answered (without the body)", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *h = sg_xasprintf("%s%s", base, cases[i].extra);
		const char *w = why(h);
		ok((w[0] != '\0') == cases[i].suppressed, "%s (%s)", cases[i].name, w[0] ? w : "answered");
		free(h);
	}
}

static int
feed(const char *from, const char *extra, int n, struct sg_decision *d)
{
	char *raw = sg_xasprintf("From: %s\r\nSubject: case %d\r\nMessage-ID: <g%d@customer.example>\r\n%s\r\n"
				 "Secret order details: card 4111.\r\n", from, n, n, extra);
	int r = ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = from, .door = SG_DOOR_MILTER }, d);
	free(raw);
	return r;
}

struct jobs {
	int acks, alerts, echoed;
};

static int
jobs_cb(const struct sg_job *j, void *arg)
{
	struct jobs *k = arg;
	if (j->rcpts.n && strcmp(j->rcpts.v[0], "postmaster@example.com") == 0)
		k->alerts++;
	else
		k->acks++;
	if (j->rcpts.n && strcmp(j->rcpts.v[0], "victim@elsewhere.example") == 0 && strstr(j->payload, "4111") != NULL)
		k->echoed++;
	return 0;
}

static void
test_third_party_and_global_cap(void)
{
	struct sg_decision d = { 0 };
	struct jobs k = { 0 };
	int suppressed = 0;

	feed("alice@customer.example", "Reply-To: victim@elsewhere.example\r\n", 0, &d);
	sg_store_job_foreach(st, jobs_cb, &k);
	ok(k.acks == 1 && k.echoed == 0, "a Reply-To elsewhere gets the ack without the sender's body");
	/* cap 3 per hour: one used above, five more senders -> two more acks */
	for (int i = 1; i <= 5; i++) {
		char *from = sg_xasprintf("sender%d@customer.example", i);
		feed(from, "", i, &d);
		suppressed += events(d.ticket, "ack-suppressed");
		free(from);
	}
	memset(&k, 0, sizeof(k));
	sg_store_job_foreach(st, jobs_cb, &k);
	is_int(k.acks, 3, "exactly ack_limit_global acknowledgements in the hour");
	is_int(suppressed, 3, "the rest are recorded as suppressed");
	is_int(k.alerts, 1, "the admin hears once about the global cap, not once per sender");
	sg_decision_clear(&d);
}

static const struct sg_test tests[] = {
	{ "guards", test_guards },
	{ "third-party-and-global-cap", test_third_party_and_global_cap },
};

int
main(void)
{
	const char *dir = sg_test_dir();

	sg_log_open_stderr("test-ackguard");
	sg_log_set_level(SG_LOG_ERROR);
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
			 "ticket_tag = \"ACME\"\ndb_sync = false\ntemplate_dir = \"%s/templates\"\n"
			 "ack_limit_global = 3\nadmin_address = \"postmaster@example.com\"\n", dir, top_srcdir());
	plan_lazy();
	ok(conf != NULL && conf->templates != NULL, "config with templates and a global cap of 3");
	return SG_FIXTURE_RUN(tests);
}
