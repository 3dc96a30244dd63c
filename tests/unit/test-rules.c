/*
 * test-rules — the rule language: every construct parses, every error
 * is reported with file:line:col, the evaluator reads each field and
 * applies each action, the shipped examples load; then routing on a real
 * store: 1,000 tickets over 5 agents round-robin within +-1, away agents
 * skipped, least-open balancing after uneven closing.
 */
#include "config.h"

#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "rules/rules.h"
#include "fixture.h"

static const char *dir;     /* sg_test_dir(): the rules and lists */

static char *
put(const char *name, const char *text)
{
	return sg_test_write(dir, name, text);
}

static struct sg_rules *
load(const char *text, char **errtext)
{
	struct sg_diag errs = { 0 };
	char *p = put("t.rules", text);
	struct sg_rules *r = sg_rules_load(p, &errs);

	*errtext = errors_text(&errs);
	free(p);
	return r;
}

static const struct { const char *text, *want; } errors[] = {
	{ "rule a subject ~ /x/ => tag t\n", "t.rules:1:7: expected ':' after the rule name" },
	{ "rule a: subjekt ~ /x/ => tag t\n", "t.rules:1:9: unknown field 'subjekt'" },
	{ "rule a: subject ~ \"x\" => tag t\n", "t.rules:1:19: expected /regex/ after ~" },
	{ "rule a: subject ~ /(x/ => tag t\n", "t.rules:1:22: regex: missing closing parenthesis" },
	{ "rule a: subject ~ /x/q => tag t\n", "t.rules:1:19: unknown regex flag 'q'" },
	{ "rule a: subject ~ /x/ tag t\n", "t.rules:1:23: expected => before the actions" },
	{ "rule a: subject ~ /x/ => fly away\n", "t.rules:1:26: unknown action 'fly'" },
	{ "rule a: subject ~ /x/ => priority extreme\n", "t.rules:1:26: priority must be low, normal, high or urgent" },
	{ "rule a: subject ~ /x/ => queue nowhere\n", "unknown queue 'nowhere'" },
	{ "rule a: (subject ~ /x/ => tag t\n", "t.rules:1:24: expected )" },
	{ "rule a: from in \"missing.txt\" => tag t\n", "t.rules:1:17: cannot read list" },
	{ "rule a: size > lots => tag t\n", "t.rules:1:14: > and < compare size" },
	{ "rule a: subject ~ /x/ => tag t\nrule a: always => stop\n", "t.rules:2:6: rule 'a' defined twice (first at line 1)" },
	{ "\n\nqueue q strategy=random\n", "t.rules:3:18: strategy must be round-robin, least-open or none" },
	{ "agent not-an-address\n", "t.rules:1:7: expected the agent's address" },
	{ "sla gold first-response=soon\n", "t.rules:1:25: 'soon' is not a duration" },
	{ "sla gold first-response=9223372036854775807d\n", "t.rules:1:25: '9223372036854775807d' is longer than 3650 days" },
	{ "sla gold resolution=99999999999999999999\n", "t.rules:1:21: '99999999999999999999' is longer than 3650 days" },
	{ "sla gold resolution=3651d\n", "t.rules:1:21: '3651d' is longer than 3650 days" },
	{ "frobnicate\n", "t.rules:1:1: expected rule, queue, agent, segment, sla, calendar, service or include" },
	{ "sla gold resolution=2d calendar=office\n", "t.rules:1:33: unknown calendar 'office' (declare it before its use)" },
	{ "sla gold resolution=2d warn=120%\n", "t.rules:1:29: warn must be a share of the target from 1% to 99%" },
	{ "sla gold resolution=2xbd\n", "t.rules:1:21: '2xbd' is not a duration (30m, 4h, 2d, 3bd)" },
	{ "calendar office tz=UTC\n", "t.rules:1:10: calendar office needs hours=" },
	{ "calendar office hours=\"mon-fri 18:00-09:00\"\n", "t.rules:1:10: calendar office: hours: bad range" },
	{ "calendar office hours=\"mon-fri 09:00-18:00\" tz=Nowhere/City\n", "calendar office: tz=Nowhere/City" },
	{ "calendar office hours=24x7 holidays=\"no-such-file\"\n", "calendar office: holidays" },
	{ "service reset calendar=x\n", "unknown calendar 'x'" },
	{ "service reset\n", "t.rules:1:9: service reset needs resolution=DURATION" },
	{ "rule a: always => service nothing\n", "unknown service 'nothing' (declare it before the rule)" },
	{ "rule a: subject ~ \"unterminated => x\n", "t.rules:1:19: unterminated string" },
	{ "queue q agents=ghost@example.com\n", "queue q: agent ghost@example.com is not declared" },
	{ "rule a: subject = x => tag t\nrule b: bogus => x\n", "t.rules:2:9: unknown field 'bogus'" },
};

static const char good[] =
	"sla gold first-response=4h resolution=2d\n"
	"agent a@example.com name=\"Ann A\" groups=billing\n"
	"agent b@example.com away=yes\n"
	"queue billing mailbox=billing@example.com agents=a@example.com,b@example.com strategy=least-open sla=gold\n"
	"segment vip list=\"vip.txt\"\n"
	"# a comment\n"
	"rule first: subject ~ /urgent|срочно/i and not header:X-Test = \"skip\" => priority urgent, continue\n"
	"rule money: (subject ~ /invoice/i or body ~ /счёт/) \\\n"
	"    and size < 1M => queue billing, tag billing, tag money, assign\n"
	"rule att: attachment-name ~ /\\.pdf$/ or attachment-type ~ /^image\\// => tag attachment\n"
	"rule who: from in \"vip.txt\" or env-rcpt ~ /^vip@/ or cc ~ /boss/ => segment vip, sla gold\n"
	"rule door: door = milter and auth = \"agent1\" => tag authenticated\n"
	"rule refuse: subject ~ /viagra/i => reject \"No spam, thanks\"\n"
	"rule later: env-from ~ /^retry@/ => tempfail\n"
	"rule q: to ~ /quarantine@/ => quarantine, template none, language ru, notify ops@example.com, webhook crm\n"
	"rule last: always => tag seen\n";

/* Load text: one point, "name: the errors", that it is refused with want
 * among the errors. */
static void
refused(const char *text, const char *want, const char *name)
{
	char *err;
	struct sg_rules *r = load(text, &err);

	ok(r == NULL && strstr(err, want) != NULL, "%s: %s", name, err);
	sg_rules_free(&r);
	free(err);
}

/* The rules of good[], or NULL after one failed point. */
static struct sg_rules *
good_rules(void)
{
	char *err;
	struct sg_rules *r = load(good, &err);

	if (r == NULL)
		ok(0, "every construct parses: %s", err);
	free(err);
	return r;
}

static void
test_parse_errors(void)
{
	char *err;
	struct sg_rules *r;

	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		r = load(errors[i].text, &err);
		ok(r == NULL && strstr(err, errors[i].want) != NULL, "error %zu: want '%s', got '%s'", i, errors[i].want, err);
		sg_rules_free(&r);
		free(err);
	}
}

static void
test_every_error(void)
{
	char *err;
	struct sg_rules *r;

	r = load("rule a: foo ~ /x/ => tag t\nrule b: bar ~ /y/ => tag t\n", &err);
	ok(r == NULL && strstr(err, "1:9") && strstr(err, "2:9"), "every error is reported, not only the first: %s", err);
	free(err);
	sg_rules_free(&r);
}

static void
test_constructs(void)
{
	char *err;
	struct sg_rules *r;

	r = load(good, &err);
	ok(r != NULL, "every construct parses: %s", err);
	free(err);
	if (r != NULL) {
		is_int((long long)sg_rules_count(r), 9, "9 rules");
		const struct sg_queue_def *q = sg_rules_queue(r, "billing");
		ok(q && q->strategy == SG_STRAT_LEAST_OPEN && q->agents.n == 2 && strcmp(q->mailbox, "billing@example.com") == 0,
		   "queue declaration");
		const struct sg_agent_def *a = sg_rules_agent(r, "B@Example.com");
		ok(a != NULL && a->away, "agent lookup ignores case; away flag");
		long fr, res;
		ok(sg_rules_sla(r, "gold", &fr, &res) && fr == 4 * 3600 && res == 2 * 86400, "SLA durations");
		is_str(sg_rules_segment_of(r, "clerk@branch.bigbank.example"), "vip", "segment by parent domain");
		is_str(sg_rules_segment_of(r, "boss@small.example"), "vip", "segment by address");
		ok(sg_rules_segment_of(r, "x@small.example") == NULL, "other address of that domain is not in");
	}
	sg_rules_free(&r);
}

static void
test_evaluate(void)
{
	struct sg_rules *r = good_rules();

	if (r == NULL)
		return;
	struct {
		const char *raw, *env_from, *rcpt, *door, *auth;
		const char *want_queue, *want_tags;
		int want_prio, reject, tempfail, quarantine;
	} cases[] = {
		{ "From: x@y.example\r\nSubject: URGENT invoice\r\n\r\nhi\r\n", "x@y.example", "support@example.com", "milter", NULL,
		  "billing", "billing money", SG_PRIO_URGENT, 0, 0, 0 },
		{ "From: x@y.example\r\nSubject: hello\r\n\r\nВаш счёт\r\n", "x@y.example", "support@example.com", "milter", NULL,
		  "billing", "billing money", -1, 0, 0, 0 },
		{ "From: x@y.example\r\nSubject: urgent\r\nX-Test: skip\r\n\r\nhi\r\n", "x@y.example", "support@example.com", "milter", NULL,
		  NULL, "seen", -1, 0, 0, 0 },
		{ "From: x@y.example\r\nSubject: pic\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee\r\n--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=s.png\r\n\r\nxx\r\n--b--\r\n",
		  "x@y.example", "support@example.com", "milter", NULL, NULL, "attachment", -1, 0, 0, 0 },
		{ "From: clerk@bigbank.example\r\nSubject: hi\r\n\r\nx\r\n", "x@y.example", "support@example.com", "milter", NULL,
		  NULL, "", -1, 0, 0, 0 },
		{ "From: x@y.example\r\nSubject: hi\r\n\r\nx\r\n", "x@y.example", "support@example.com", "milter", "agent1",
		  NULL, "authenticated", -1, 0, 0, 0 },
		{ "From: x@y.example\r\nSubject: cheap VIAGRA\r\n\r\nx\r\n", "x@y.example", "support@example.com", "milter", NULL,
		  NULL, "", -1, 1, 0, 0 },
		{ "From: x@y.example\r\nSubject: hi\r\n\r\nx\r\n", "retry@y.example", "support@example.com", "imap", NULL,
		  NULL, "", -1, 0, 1, 0 },
		{ "From: x@y.example\r\nTo: quarantine@example.com\r\nSubject: hi\r\n\r\nx\r\n", "x@y.example", "support@example.com", "milter", NULL,
		  NULL, "", -1, 0, 0, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sg_msginfo *mi = parse(cases[i].raw);
		const char *rc[1] = { cases[i].rcpt };
		struct sg_rule_input in = { .mi = mi, .env_from = cases[i].env_from, .env_rcpt = rc, .nrcpt = 1,
					    .door = cases[i].door, .auth = cases[i].auth, .size = strlen(cases[i].raw) };
		struct sg_route ro;
		sg_rules_eval(r, &in, &ro, NULL);
		GString *tags = g_string_new(NULL);
		for (size_t t = 0; t < ro.tags.n; t++)
			g_string_append_printf(tags, "%s%s", t ? " " : "", ro.tags.v[t]);
		ok(((ro.queue == NULL && cases[i].want_queue == NULL) ||
		    (ro.queue && cases[i].want_queue && strcmp(ro.queue, cases[i].want_queue) == 0)) &&
		   strcmp(tags->str, cases[i].want_tags) == 0 && ro.priority == cases[i].want_prio &&
		   (ro.reject_text != NULL) == cases[i].reject && ro.tempfail == cases[i].tempfail &&
		   ro.quarantine == cases[i].quarantine && !ro.budget_exhausted && ro.budget_rule == NULL,
		   "case %zu: queue=%s tags='%s' prio=%d", i, ro.queue ? ro.queue : "-", tags->str, ro.priority);
		if (i == 0)
			ok(ro.assign_strategy && ro.sla && strcmp(ro.sla, "gold") == 0, "assign by strategy; queue's SLA tier applies");
		if (i == 4)
			ok(ro.segment && strcmp(ro.segment, "vip") == 0 && ro.sla && strcmp(ro.sla, "gold") == 0, "from in list sets segment and sla");
		if (i == 8)
			ok(ro.no_template && ro.language && strcmp(ro.language, "ru") == 0 && ro.notify.n == 1 && ro.webhooks.n == 1,
			   "template none, language, notify, webhook");
		g_string_free(tags, TRUE);
		sg_route_clear(&ro);
		sg_msginfo_free(&mi);
	}
	sg_rules_free(&r);
}

/* trace for `rules test` names the field and the matched text */
static void
test_trace(void)
{
	struct sg_rules *r = good_rules();

	if (r == NULL)
		return;
	struct sg_msginfo *mi = parse("From: x@y.example\r\nSubject: Your invoice 7\r\n\r\nx\r\n");
	const char *rc[1] = { "support@example.com" };
	struct sg_rule_input in = { .mi = mi, .env_rcpt = rc, .nrcpt = 1, .door = "milter" };
	char *buf = NULL;
	size_t blen = 0;
	FILE *tr = open_memstream(&buf, &blen);
	struct sg_route ro;
	sg_rules_eval(r, &in, &ro, tr);
	fclose(tr);
	ok(strstr(buf, "rule money") && strstr(buf, "MATCH: subject ~ /invoice/i matched \"invoice\""), "trace explains the match");
	ok(strstr(buf, "rule first") && strstr(buf, "no match"), "trace lists rules that did not match");
	free(buf);
	sg_route_clear(&ro);
	sg_msginfo_free(&mi);
	sg_rules_free(&r);
}

/* A regex that blows its match limit counts as no match, quickly */
static void
test_match_limit(void)
{
	char *err;
	struct sg_rules *r;

	r = load("rule evil: body ~ /(a+)+$/ => tag evil\n", &err);
	free(err);
	char *body = sg_xmalloc(40100);
	strcpy(body, "From: x@y\r\nSubject: s\r\n\r\n");
	size_t bl = strlen(body);
	memset(body + bl, 'a', 40000);
	strcpy(body + bl + 40000, "!\r\n");
	struct sg_msginfo *mi = parse(body);
	const char *rc1[1] = { "support@example.com" };
	struct sg_rule_input ein = { .mi = mi, .env_rcpt = rc1, .nrcpt = 1, .door = "milter" };
	struct sg_route ero;
	sg_rules_eval(r, &ein, &ero, NULL);
	ok(ero.tags.n == 0 && ero.limit_hits == 1, "catastrophic regex: limit hit, counted as no match");
	sg_route_clear(&ero);
	sg_msginfo_free(&mi);
	free(body);
	sg_rules_free(&r);
}

/* The shipped examples load */
static void
test_examples(void)
{
	struct sg_rules *r;

	char *ex = sg_xasprintf("%s/rules/examples/supportgate.rules", top_srcdir());
	struct sg_diag errs = { 0 };
	r = sg_rules_load(ex, &errs);
	ok(r != NULL && errs.n == 0, "rules/examples/supportgate.rules loads");
	sg_diag_clear(&errs);
	sg_rules_free(&r);
	free(ex);
}

/* Routing on a store: the spread rules, a config naming them and a fresh
 * store in sg_test_subdir(name); st stays NULL when something failed. */
static void
routing_fixture(const char *name)
{
	char *sub = sg_test_subdir(name);

	free(sg_test_write(sub, "spread.rules",
			   "agent a1@example.com\nagent a2@example.com\nagent a3@example.com\nagent a4@example.com\nagent a5@example.com\n"
			   "agent gone@example.com away=yes\n"
			   "queue rr agents=a1@example.com,a2@example.com,gone@example.com,a3@example.com,a4@example.com,a5@example.com strategy=round-robin\n"
			   "queue lo agents=a1@example.com,a2@example.com,a3@example.com strategy=least-open\n"
			   "rule lo: subject ~ /^least/ => queue lo, assign\n"
			   "rule rr: always => queue rr, assign\n"));
	conf = load_conf(sub, "support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
			 "db_sync = false\nack = false\nrules_file = \"%s/spread.rules\"\n", sub, sub);
	ok(conf != NULL && conf->rules != NULL && open_store() == 0, "store with rules");
	free(sub);
}

/* Ingest raw (one new mail) on the routing fixture: the assignee of its
 * ticket (in ticket()'s copy), NULL when none. */
static const char *
assign_one(const char *raw)
{
	struct sg_decision d = { 0 };

	ingest_mail((struct sg_ingest_in){ .raw = raw, .env_from = "c@x", .door = SG_DOOR_CLI }, &d);
	uint64_t id = d.ticket;
	sg_decision_clear(&d);
	return ticket(id)->assignee;
}

static void
test_round_robin(void)
{
	routing_fixture("round-robin");
	int count[6] = { 0 };
	const char *names[6] = { "a1@example.com", "a2@example.com", "a3@example.com", "a4@example.com", "a5@example.com", "gone@example.com" };
	for (int i = 0; st && i < 1000; i++) {
		char *raw = sg_xasprintf("From: c%d@customer.example\r\nSubject: ticket %d\r\nMessage-ID: <rr-%d@x>\r\n\r\nhi\r\n", i, i, i);
		const char *who = assign_one(raw);
		for (int k = 0; k < 6; k++)
			if (who && strcmp(who, names[k]) == 0)
				count[k]++;
		free(raw);
	}
	int mn = 100000, mx = 0;
	for (int k = 0; k < 5; k++) {
		mn = count[k] < mn ? count[k] : mn;
		mx = count[k] > mx ? count[k] : mx;
	}
	ok(mx - mn <= 1 && mn + mx > 0, "1,000 tickets over 5 agents: spread within +-1 (%d..%d)", mn, mx);
	is_int(count[5], 0, "the away agent got none");
	close_fixture();
}

/* least-open: 9 tickets over 3 agents, then a1 closes 3 (by the
 * counter the CLI's `set` keeps), next 3 new tickets all go to a1 */
static void
test_least_open(void)
{
	routing_fixture("least-open");
	if (st == NULL) {
		close_fixture();
		return;
	}
	for (int i = 0; i < 9; i++) {
		char *raw = sg_xasprintf("From: l%d@customer.example\r\nSubject: least %d\r\nMessage-ID: <lo-%d@x>\r\n\r\nhi\r\n", i, i, i);
		assign_one(raw);
		free(raw);
	}
	struct sg_txn *txn;
	uint64_t open_a1 = 0;
	sg_store_meta_get(st, NULL, "open:a1@example.com", &open_a1);
	ok(open_a1 >= 3, "a1 has open tickets (%llu)", (unsigned long long)open_a1);
	sg_store_txn_begin(st, &txn);
	sg_store_meta_put(st, txn, "open:a1@example.com", open_a1 - 3);
	sg_store_txn_commit(&txn);
	int to_a1 = 0;
	for (int i = 0; i < 3; i++) {
		char *raw = sg_xasprintf("From: m%d@customer.example\r\nSubject: least more %d\r\nMessage-ID: <lo2-%d@x>\r\n\r\nhi\r\n", i, i, i);
		const char *who = assign_one(raw);
		to_a1 += who && strcmp(who, "a1@example.com") == 0;
		free(raw);
	}
	is_int(to_a1, 3, "least-open: after a1 closed 3, the next 3 go to a1");
	close_fixture();
}

/* Include depth and condition depth are separate bounds, each with its
 * own error; a long and/or chain needs no stack per term. */
static char *
repeat(const char *s, int n)
{
	GString *g = g_string_new(NULL);
	for (int i = 0; i < n; i++)
		g_string_append(g, s);
	return g_string_free(g, FALSE);
}

static void *
long_chain(void *arg)
{
	char *err, *terms = repeat("to=x or ", 7500);
	char *text = sg_xasprintf("rule long: %salways => tag long\n", terms);
	struct sg_rules *r = load(text, &err);
	struct sg_msginfo *mi = parse("From: a@b.example\r\nTo: c@d.example\r\nSubject: s\r\n\r\nx\r\n");
	struct sg_rule_input in = { .mi = mi, .door = "milter" };
	struct sg_route ro;
	int hit = 0;

	(void)arg;
	if (r != NULL) {
		sg_rules_eval(r, &in, &ro, NULL);
		hit = ro.tags.n == 1;
		sg_route_clear(&ro);
	}
	sg_rules_free(&r);
	sg_msginfo_free(&mi);
	free(err);
	free(text);
	free(terms);
	return hit ? arg : NULL;
}

static void
test_nesting(void)
{
	char *err, *open, *close, *text;
	struct sg_rules *r;

	open = repeat("(", 64), close = repeat(")", 64);
	char *nots = repeat("not ", 64);
	text = sg_xasprintf("rule deep: %ssubject ~ /x/%s => tag t\nrule nots: %salways => stop\n", open, close, nots);
	r = load(text, &err);
	ok(r != NULL, "conditions nested 64 deep (parentheses, not) load: %s", err);
	sg_rules_free(&r);
	free(err);
	free(text);
	free(open);
	free(close);
	free(nots);

	open = repeat("(", 65), close = repeat(")", 65);
	text = sg_xasprintf("rule deep: %ssubject ~ /x/%s => tag t\n", open, close);
	refused(text, "t.rules:1:76: conditions nested deeper than 64", "65 parentheses: error at the 65th");
	free(text);
	free(open);
	free(close);
	nots = repeat("not ", 65);
	text = sg_xasprintf("rule nots: %salways => stop\n", nots);
	refused(text, "t.rules:1:268: conditions nested deeper than 64", "65 nots: error at the 65th");
	free(text);
	free(nots);

	/* t.rules includes n1.rules ... n8.rules: 8 levels; n8 may not include */
	for (int i = 1; i <= 9; i++) {
		char *name = sg_xasprintf("n%d.rules", i);
		char *body = i < 8 ? sg_xasprintf("include \"n%d.rules\"\n", i + 1)
			   : sg_xstrdup("rule deep: ((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((always"
					 ")))))))))))))))))))))))))))))))))))))))))))))))))))))))))))) => stop\n");
		free(put(name, body));
		free(name);
		free(body);
	}
	r = load("include \"n1.rules\"\n", &err);
	ok(r != NULL, "includes 8 deep, with conditions 60 deep in the last: %s", err);
	sg_rules_free(&r);
	free(err);
	free(put("n8.rules", "include \"n9.rules\"\n"));
	free(put("n9.rules", "rule nine: always => stop\n"));
	refused("include \"n1.rules\"\n", "/n8.rules:1:9: includes nested deeper than 8",
		"a 9th include level: error at the include");

	/* a failed condition leaves no depth behind for the lines after it */
	text = repeat("rule x: not bogus ~ /x/ => tag t\n", 10);
	char *t2 = sg_xasprintf("%sinclude \"n7.rules\"\n", text);
	r = load(t2, &err);
	ok(r == NULL && strstr(err, "unknown field 'bogus'") != NULL && strstr(err, "nested") == NULL,
	   "errors in conditions do not use up the include depth: %s", err);
	sg_rules_free(&r);
	free(err);
	free(t2);
	free(text);

	/* 7,500 terms evaluate and free in a 128 KiB stack */
	pthread_attr_t attr;
	pthread_t th;
	void *res = NULL;
	static int done;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	ok(pthread_create(&th, &attr, long_chain, &done) == 0 && pthread_join(th, &res) == 0 && res == &done,
	   "a 7,500-term or chain loads, matches and frees in a 128 KiB stack");
	pthread_attr_destroy(&attr);
}

/* An include cycle is an error at the include, not 2^8 loads; the files
 * of one rule set are bounded. */
static void
test_include_cycles(void)
{
	char *err, *text;
	struct sg_rules *r;

	r = load("include \"t.rules\"\ninclude \"t.rules\"\nrule a: always => stop\n", &err);
	ok(r == NULL && strstr(err, "t.rules:1:9: include \"t.rules\" forms a cycle") != NULL &&
	   strstr(err, "t.rules:2:9: include \"t.rules\" forms a cycle") != NULL && strstr(err, "nested") == NULL,
	   "a file including itself: one error per include: %.300s", err);
	sg_rules_free(&r);
	free(err);
	free(put("cyc-a.rules", "include \"cyc-b.rules\"\n"));
	free(put("cyc-b.rules", "\ninclude \"./cyc-a.rules\"\n"));
	r = load("include \"cyc-a.rules\"\n", &err);
	ok(r == NULL && strstr(err, "/cyc-b.rules:2:9: include \"./cyc-a.rules\" forms a cycle") != NULL,
	   "a includes b includes a: error in b: %.300s", err);
	sg_rules_free(&r);
	free(err);
	free(put("leaf.rules", "# nothing\n"));
	text = repeat("include \"leaf.rules\"\n", 100);
	r = load(text, &err);
	ok(r != NULL, "100 includes of one file: %.300s", err);
	sg_rules_free(&r);
	free(err);
	free(text);
	text = repeat("include \"leaf.rules\"\n", 101);
	r = load(text, &err);
	ok(r == NULL && strstr(err, "t.rules:101:9: more than 100 files included") != NULL,
	   "101 includes: error at the 101st: %.300s", err);
	sg_rules_free(&r);
	free(err);
	free(text);
}

/* List files: a long line is one line (an error past the bound, never
 * two entries), and the entries are bounded. */
static void
test_list_lines(void)
{
	char *err, *text, *cs;
	struct sg_rules *r;

	cs = repeat("c", 1022);
	text = sg_xasprintf("bigbank.example\n#%sevil.example\n", cs);
	free(put("long.txt", text));
	free(text);
	free(cs);
	r = load("segment vip list=\"long.txt\"\n", &err);
	ok(r != NULL && sg_rules_segment_of(r, "x@bigbank.example") != NULL && sg_rules_segment_of(r, "x@evil.example") == NULL,
	   "a comment longer than 1,024 bytes stays a comment: %s", err);
	sg_rules_free(&r);
	free(err);

	cs = repeat("d", 5000);
	text = sg_xasprintf("bigbank.example\n%s.example\n", cs);
	free(put("long.txt", text));
	free(text);
	free(cs);
	r = load("\nrule a: from in \"long.txt\" => tag t\n", &err);
	ok(r == NULL && strstr(err, "/long.txt:2: line longer than 4096 bytes") != NULL && strstr(err, "t.rules:2:17:") != NULL,
	   "a 5,000-byte list line: error with the list's file:line, and where it is used: %.300s", err);
	sg_rules_free(&r);
	free(err);

	GString *g = g_string_new("# many\n");
	for (int i = 0; i < 10001; i++)
		g_string_append_printf(g, "d%d.example\n", i);
	free(put("many.txt", g->str));
	g_string_free(g, TRUE);
	r = load("segment many list=\"many.txt\"\n", &err);
	ok(r == NULL && strstr(err, "/many.txt:10002: more than 10000 entries") != NULL, "10,001 list entries: %.300s", err);
	sg_rules_free(&r);
	free(err);
	free(put("many.txt", "d1.example\nd1.example\n"));
	r = load("segment many list=\"many.txt\"\n", &err);
	ok(r != NULL && sg_rules_segment_of(r, "a@d1.example") != NULL, "a short list loads: %s", err);
	sg_rules_free(&r);
	free(err);
}

/* Sizes: the shared parser (K, M, G), overflow is an error, not a wrap. */
static void
test_sizes(void)
{
	char *err;
	struct sg_rules *r;
	struct sg_msginfo *mi = parse("From: a@b.example\r\nSubject: s\r\n\r\nx\r\n");
	struct sg_rule_input in = { .mi = mi, .door = "milter", .size = 3u << 20 };
	struct sg_route ro;

	refused("rule big: size > 35184372088832M => tag t\n", "t.rules:1:18: size '35184372088832M' is too large",
		"2^45 M does not wrap to 0");
	refused("rule big: size > 99999999999999999999 => tag t\n", "t.rules:1:18: size '99999999999999999999' is too large",
		"20 digits are too large");
	refused("rule big: size > 5X => tag t\n", "t.rules:1:16: > and < compare size with a number", "5X is no size");
	r = load("rule a: size > 2M and size < 3072k => tag a, continue\nrule b: size < 1G => tag b\n", &err);
	ok(r != NULL, "K, M and G suffixes: %s", err);
	if (r != NULL) {
		sg_rules_eval(r, &in, &ro, NULL);
		is_int((long long)ro.tags.n, 1, "3 MiB: > 2M, not < 3072k, < 1G");
		sg_route_clear(&ro);
	}
	sg_rules_free(&r);
	free(err);
	sg_msginfo_free(&mi);
}

/* SLA durations: minutes by default, m/h/d, at most 3650 days. */
static void
test_durations(void)
{
	char *err;
	struct sg_rules *r = load("sla edge first-response=3650d resolution=5256000\nsla small first-response=30 resolution=2h\n", &err);
	long fr = 0, res = 0;

	ok(r != NULL, "3650 days and 5,256,000 minutes are durations: %s", err);
	int found = r != NULL && sg_rules_sla(r, "edge", &fr, &res);
	ok(found && fr == 3650L * 86400 && res == 3650L * 86400, "the longest duration: %ld, %ld", fr, res);
	found = r != NULL && sg_rules_sla(r, "small", &fr, &res);
	ok(found && fr == 30 * 60 && res == 2 * 3600, "30 (minutes) and 2h: %ld, %ld", fr, res);
	sg_rules_free(&r);
	free(err);
}

/* Calendars, tiers with calendar and warning share, services, and the
 * service action. */
static void
test_sla_declarations(void)
{
	char *err;
	free(put("hol.txt", "2026-12-31\n"));
	struct sg_rules *r = load("calendar office hours=\"mon-fri 09:00-18:00\" tz=UTC holidays=\"hol.txt\"\n"
				  "sla gold first-response=4h resolution=3bd calendar=office warn=75%\n"
				  "sla plain first-response=1h resolution=8h\n"
				  "service reset resolution=4h\n"
				  "service repair resolution=3bd calendar=office\n"
				  "rule pw: subject ~ /password/i => sla plain, service reset\n", &err);
	ok(r != NULL, "SLA declarations load: %s", err);
	if (r == NULL) {
		free(err);
		return;
	}
	const struct sg_sla_tier *g = sg_rules_tier(r, "GOLD");
	ok(g && g->first_response.secs == 4 * 3600 && g->resolution.bdays == 3 && g->resolution.secs == 0,
	   "tier targets: 4h and 3 business days");
	ok(g && g->calendar == sg_rules_calendar(r, "office") && g->calendar != NULL && g->warn_pct == 75,
	   "tier calendar and warning share");
	const struct sg_sla_tier *pl = sg_rules_tier(r, "plain");
	ok(pl && pl->calendar == NULL && pl->warn_pct == 0, "no calendar: 24x7, the configured share");
	const struct sg_service_def *sv = sg_rules_service(r, "repair");
	ok(sv && sv->resolution.bdays == 3 && sv->calendar != NULL, "service with business days and a calendar");
	ok(sg_rules_service(r, "reset") && sg_rules_service(r, "reset")->resolution.secs == 4 * 3600, "service 4h");
	ok(sg_rules_service(r, "nothing") == NULL && sg_rules_tier(r, "nothing") == NULL, "unknown names: NULL");
	struct sg_msginfo mi = { .subject = "Password reset please", .from_addr = "c@x.example" };
	struct sg_rule_input in = { .mi = &mi, .door = "milter" };
	struct sg_route ro;
	sg_rules_eval(r, &in, &ro, NULL);
	is_str(ro.service, "reset", "rule action service");
	is_str(ro.sla, "plain", "with its tier");
	sg_route_clear(&ro);
	ok(ro.service == NULL, "route cleared");
	sg_rules_free(&r);
	free(err);
}

/* Errors found after the load name the line of the declaration. */
static void
test_post_check_lines(void)
{
	refused("agent a@example.com\n\nqueue q agents=a@example.com,ghost@example.com\n",
		"/t.rules:3:7: queue q: agent ghost@example.com is not declared", "undeclared agent: the queue's file:line:col");
	free(put("queues.rules", "# queues\nqueue sales agents=nobody@example.com\n"));
	refused("include \"queues.rules\"\n", "/queues.rules:2:7: queue sales: agent nobody@example.com is not declared",
		"undeclared agent in an included file: that file's line");
}

/* A file that cannot be read is reported where it was named; the last
 * line counts even when it ends with a backslash; a NUL is an error. */
static void
test_file_errors(void)
{
	char *err;
	struct sg_rules *r;

	refused("# x\ninclude \"missing.rules\"\n", "t.rules:2:9: cannot read include \"missing.rules\": No such file or directory",
		"a missing include: error at the include");
	refused("include \".\"\n", "t.rules:1:9: cannot read include \".\": Is a directory",
		"including a directory is an error");
	r = load("rule a: from in \".\" => tag t\n", &err);
	ok(r == NULL && strstr(err, "t.rules:1:17: cannot read list") != NULL && strstr(err, "Is a directory") != NULL,
	   "a directory as a list is an error: %s", err);
	sg_rules_free(&r);
	free(err);
	r = load("rule a: always => tag t \\\n    , tag u \\", &err);
	ok(r != NULL && sg_rules_count(r) == 1, "a file ending in a continued line keeps that line: %s", err);
	sg_rules_free(&r);
	free(err);
	struct sg_diag errs = { 0 };
	char *path = sg_xasprintf("%s/nul.rules", dir);
	FILE *fp = fopen(path, "w");
	static const char nul[] = "rule a: always => tag t\nrule b: always\0 => tag t\n";
	fwrite(nul, 1, sizeof(nul) - 1, fp);
	fclose(fp);
	r = sg_rules_load(path, &errs);
	ok(r == NULL && errs.n == 1 && strstr(errs.v[0], "nul.rules:2:15: NUL byte in the line") != NULL,
	   "a NUL byte is an error, not the end of the line: %s", errs.n ? errs.v[0] : "");
	sg_rules_free(&r);
	sg_diag_clear(&errs);
	free(path);
}

/* ------------------------------------------------------------ the regex budget */

static double
now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A message whose body is 64 KiB of 'a' (the body bound of the rules). */
static struct sg_msginfo *
hostile_msg(void)
{
	size_t n = 64 * 1024;
	char *raw = sg_xmalloc(n + 100);
	strcpy(raw, "From: x@y.example\r\nSubject: hello\r\n\r\n");
	size_t hl = strlen(raw);
	memset(raw + hl, 'a', n);
	raw[hl + n] = '\0';
	struct sg_msginfo *mi = parse(raw);
	free(raw);
	return mi;
}

/* nrules rules cycling over the patterns, names PREFIX0.., each going on;
 * then a regex rule on the subject and a string rule on the sender. */
static struct sg_rules *
hostile_rules(const char *prefix, const char *const *pats, size_t npats, int nrules)
{
	GString *g = g_string_new(NULL);
	char *err;

	for (int i = 0; i < nrules; i++)
		g_string_append_printf(g, "rule %s%d: body ~ /%s/ => tag %s%d, continue\n", prefix, i, pats[(size_t)i % npats],
				       prefix, i);
	g_string_append(g, "rule later-regex: subject ~ /hello/ => tag later-regex, continue\n"
			   "rule later-string: from = \"x@y.example\" => tag later-string\n");
	struct sg_rules *r = load(g->str, &err);
	ok(r != NULL, "%d hostile rules load: %s", nrules, err);
	free(err);
	g_string_free(g, TRUE);
	return r;
}

/* Catastrophic patterns over many rules against 64 KiB of 'a' take the
 * default budget, not minutes: /(a+)+b/ (PCRE2 gives up early by itself),
 * /(a+)+[bc]/ (stopped by its match limit), /(?=\w*[bc])/ and
 * /(?:\w*\d)?\w*[bc]/ (seconds each in one call without reaching a limit:
 * stopped between windows). Later regexes count as no match; the string
 * condition still holds. */
static void
test_budget_hostile(void)
{
	static const char *const pats[] = { "(a+)+b", "(a+)+[bc]", "(?=\\w*[bc])", "(?:\\w*\\d)?\\w*[bc]" };
	struct sg_rules *r = hostile_rules("h", pats, 4, 400);
	struct sg_msginfo *mi = hostile_msg();
	const char *rc[1] = { "support@example.com" };
	struct sg_rule_input in = { .mi = mi, .env_rcpt = rc, .nrcpt = 1, .door = "milter", .queue_id = "QBUDGET" };
	struct sg_route ro;

	if (r == NULL || mi == NULL) {
		sg_rules_free(&r);
		sg_msginfo_free(&mi);
		return;
	}
	double t0 = now_s();
	sg_rules_eval(r, &in, &ro, NULL);
	double took = now_s() - t0;
	diag("400 catastrophic rules over 64 KiB: %.3f s (budget %d ms)", took, SG_RULES_BUDGET_MS);
	/* the budget plus one window of the slowest pattern, with room for a
	 * slow or sanitized build; without the budget this takes minutes */
	ok(took < 2.0, "bounded: %.3f s < 2 s", took);
	ok(ro.budget_exhausted, "the route reports the budget spent");
	ok(ro.budget_rule != NULL && strncmp(ro.budget_rule, "h", 1) == 0, "and names the rule: %s",
	   ro.budget_rule ? ro.budget_rule : "(none)");
	ok(!sg_strlist_has(&ro.tags, "later-regex"), "a later regex condition counts as no match");
	ok(sg_strlist_has(&ro.tags, "later-string"), "a later string condition still holds");
	sg_route_clear(&ro);
	ok(ro.budget_rule == NULL && !ro.budget_exhausted, "sg_route_clear clears the budget fields");

	/* the trace says where it ran out */
	char *buf = NULL;
	size_t blen = 0;
	FILE *tr = open_memstream(&buf, &blen);
	sg_rules_eval(r, &in, &ro, tr);
	fclose(tr);
	ok(strstr(buf, "regex budget spent (") != NULL, "the trace reports the budget");
	free(buf);
	sg_route_clear(&ro);
	sg_msginfo_free(&mi);
	sg_rules_free(&r);
}

/* The unit bound is deterministic: three match limits' worth stops the
 * fourth regex, whatever the speed of the machine. */
static void
test_budget_units(void)
{
	static const char *const pats[] = { "(a+)+[bc]" };
	struct sg_rules *r = hostile_rules("u", pats, 1, 10);
	struct sg_msginfo *mi = hostile_msg();
	const char *rc[1] = { "support@example.com" };
	struct sg_rule_input in = { .mi = mi, .env_rcpt = rc, .nrcpt = 1, .door = "milter" };
	struct sg_rules_budget b = { 0, 3UL * SG_RULES_RE_MATCH_LIMIT, SG_RULES_RE_WINDOW };
	struct sg_route ro;

	if (r != NULL && mi != NULL) {
		sg_rules_eval_budget(r, &in, &ro, NULL, &b);
		ok(ro.budget_exhausted && ro.limit_hits == 3, "three limit hits spend three limits of units: %u hits",
		   ro.limit_hits);
		is_str(ro.budget_rule, "u3", "the fourth rule is the first one skipped");
		ok(!sg_strlist_has(&ro.tags, "later-regex") && sg_strlist_has(&ro.tags, "later-string"),
		   "later regexes no match, strings still evaluated");
		sg_route_clear(&ro);
		b.units = 0;
		sg_rules_eval_budget(r, &in, &ro, NULL, &b);
		ok(!ro.budget_exhausted && ro.limit_hits == 10 && sg_strlist_has(&ro.tags, "later-regex"),
		   "without any bound every rule runs (each stopped by its own limit): %u hits", ro.limit_hits);
		sg_route_clear(&ro);
		/* units left below a full match limit are all the next match gets */
		b.units = 2UL * SG_RULES_RE_MATCH_LIMIT + SG_RULES_RE_MATCH_LIMIT / 2;
		sg_rules_eval_budget(r, &in, &ro, NULL, &b);
		is_str(ro.budget_rule, "u3", "a partial limit is spent by the third match");
		sg_route_clear(&ro);
	}
	sg_msginfo_free(&mi);
	sg_rules_free(&r);
}

/* Searching in windows of start positions finds what one call finds:
 * the same rules match with the same matched text, for windows of 1 to
 * 64 bytes, across multi-byte characters, line starts, word boundaries,
 * lookbehinds and the patterns that must not be split (\G, verbs). */
static void
test_budget_windows(void)
{
	static const char rules[] =
		"rule w-lit: body ~ /needle/ => tag w-lit, continue\n"
		"rule w-word: body ~ /\\bword\\b/ => tag w-word, continue\n"
		"rule w-bol: body ~ /^line two/m => tag w-bol, continue\n"
		"rule w-behind: body ~ /(?<=x)y+/ => tag w-behind, continue\n"
		"rule w-utf: body ~ /ä+ö/ => tag w-utf, continue\n"
		"rule w-utf-i: body ~ /ÄÖ/i => tag w-utf-i, continue\n"
		"rule w-start: body ~ /\\Afirst/ => tag w-start, continue\n"
		"rule w-nostart: body ~ /^word/ => tag w-nostart, continue\n"
		"rule w-end: body ~ /end\\s*\\z/ => tag w-end, continue\n"
		"rule w-dollar: body ~ /q$/ => tag w-dollar, continue\n"
		"rule w-rep: body ~ /(?:ab)+c/ => tag w-rep, continue\n"
		"rule w-none: body ~ /absent/ => tag w-none, continue\n"
		"rule w-none-neg: body !~ /absent/ => tag w-none-neg, continue\n"
		"rule w-g: body ~ /z|\\Gline/ => tag w-g, continue\n"
		"rule w-commit: body ~ /f(*COMMIT)irsx|word/ => tag w-commit, continue\n"
		"rule w-skip: body ~ /aaa(*SKIP)(*FAIL)|a/ => tag w-skip, continue\n"
		"rule w-empty: body ~ /x*/ => tag w-empty\n";
	static const char raw[] =
		"From: x@y.example\r\nSubject: w\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
		"first line ääääö and ÄÖ, then swordfish and a word\r\n"
		"line two: xyyy abababc, the needle in the haystack\r\n"
		"aaaa and q\r\nthe end  \r\n";
	char *err;
	struct sg_rules *r = load(rules, &err);
	struct sg_msginfo *mi = parse(raw);
	const char *rc[1] = { "support@example.com" };
	struct sg_rule_input in = { .mi = mi, .env_rcpt = rc, .nrcpt = 1, .door = "milter" };

	ok(r != NULL, "window rules load: %s", err);
	free(err);
	if (r == NULL || mi == NULL) {
		sg_rules_free(&r);
		sg_msginfo_free(&mi);
		return;
	}
	char *want = NULL;
	size_t wlen = 0;
	FILE *tr = open_memstream(&want, &wlen);
	struct sg_rules_budget one = { 0, 0, 0 };
	struct sg_route ro;
	sg_rules_eval_budget(r, &in, &ro, tr, &one);
	fclose(tr);
	sg_route_clear(&ro);
	ok(strstr(want, "w-none ") != NULL && strstr(want, "MATCH: body ~ /needle/") != NULL, "one call: a trace to compare with");
	int same = 1;
	for (size_t w = 1; w <= 64; w++) {
		char *got = NULL;
		size_t glen = 0;
		struct sg_rules_budget b = { 0, 0, w };
		tr = open_memstream(&got, &glen);
		sg_rules_eval_budget(r, &in, &ro, tr, &b);
		fclose(tr);
		if (strcmp(got, want) != 0) {
			if (same)
				diag("window %zu:\n%s\none call:\n%s", w, got, want);
			same = 0;
		}
		sg_route_clear(&ro);
		free(got);
	}
	ok(same, "windows of 1..64 start positions: the same trace as one call");
	free(want);
	sg_msginfo_free(&mi);
	sg_rules_free(&r);
}

/* Ordinary mail never meets the budget: the shipped rules over the test
 * mail. */
static void
test_budget_normal_mail(void)
{
	const char *top = getenv("top_srcdir");
	char *ex = sg_xasprintf("%s/rules/examples/supportgate.rules", top ? top : ".");
	static const char *const files[] = { "list.eml", "multipart-attach.eml", "html-only.eml", "ru-koi8.eml",
					     "injection.eml", "dsn.eml", "garbage.eml" };
	struct sg_diag errs = { 0 };
	struct sg_rules *r = sg_rules_load(ex, &errs);
	int n = 0, spent = 0;

	ok(r != NULL, "the shipped rules load");
	for (size_t i = 0; r != NULL && i < sizeof(files) / sizeof(files[0]); i++) {
		char *path = sg_xasprintf("%s/tests/mail/%s", top ? top : ".", files[i]);
		gchar *raw = NULL;
		gsize len = 0;
		if (g_file_get_contents(path, &raw, &len, NULL)) {
			struct sg_msginfo *mi = NULL;
			if (sg_message_parse(raw, len, &mi) == 0 && mi != NULL) {
				const char *rc[1] = { "support@example.com" };
				struct sg_rule_input in = { .mi = mi, .env_rcpt = rc, .nrcpt = 1, .door = "milter", .size = len };
				struct sg_route ro;
				sg_rules_eval(r, &in, &ro, NULL);
				spent += ro.budget_exhausted;
				n++;
				sg_route_clear(&ro);
			}
			sg_msginfo_free(&mi);
			g_free(raw);
		}
		free(path);
	}
	ok(n >= 5 && spent == 0, "%d test mails, budget spent on %d", n, spent);
	sg_diag_clear(&errs);
	sg_rules_free(&r);
	free(ex);
}

/* The warnings of a flood are rate-limited: the same hostile mail five
 * times logs one budget line and one limit line per rule. */
static void
test_budget_log(void)
{
	static const char *const pats[] = { "(a+)+[bc]" };
	struct sg_rules *r = hostile_rules("logged", pats, 1, 4);
	struct sg_msginfo *mi = hostile_msg();
	const char *rc[1] = { "support@example.com" };
	struct sg_rule_input in = { .mi = mi, .env_rcpt = rc, .nrcpt = 1, .door = "milter", .queue_id = "QLOG" };
	struct sg_rules_budget b = { 0, 2UL * SG_RULES_RE_MATCH_LIMIT, SG_RULES_RE_WINDOW };
	char *path = sg_xasprintf("%s/log.txt", dir);
	FILE *fp = fopen(path, "w+");
	int saved = dup(STDERR_FILENO);

	if (r == NULL || mi == NULL || fp == NULL || saved < 0) {
		ok(0, "log test set-up");
	} else {
		enum sg_log_level lvl = sg_log_get_level();
		sg_log_set_level(SG_LOG_WARN);
		fflush(stderr);
		dup2(fileno(fp), STDERR_FILENO);
		for (int i = 0; i < 5; i++) {
			struct sg_route ro;
			sg_rules_eval_budget(r, &in, &ro, NULL, &b);
			sg_route_clear(&ro);
		}
		fflush(stderr);
		dup2(saved, STDERR_FILENO);
		sg_log_set_level(lvl);
		int nbudget = 0, nlimit = 0, qid = 0;
		char line[1024];
		rewind(fp);
		while (fgets(line, sizeof(line), fp) != NULL) {
			nbudget += strstr(line, "regex budget") != NULL;
			nlimit += strstr(line, "hit its limit") != NULL;
			qid += strstr(line, "QLOG") != NULL;
		}
		is_int(nbudget, 1, "five budget exhaustions, one warning");
		is_int(nlimit, 2, "ten limit hits on two rules, one warning each");
		ok(qid == nbudget + nlimit, "each line names the queue id");
	}
	if (saved >= 0)
		close(saved);
	if (fp != NULL)
		fclose(fp);
	free(path);
	sg_msginfo_free(&mi);
	sg_rules_free(&r);
}

static const struct sg_test tests[] = {
	{ "parse-errors", test_parse_errors },
	{ "sla-declarations", test_sla_declarations },
	{ "every-error", test_every_error },
	{ "constructs", test_constructs },
	{ "evaluate", test_evaluate },
	{ "trace", test_trace },
	{ "match-limit", test_match_limit },
	{ "examples", test_examples },
	{ "round-robin", test_round_robin },
	{ "least-open", test_least_open },
	{ "nesting", test_nesting },
	{ "include-cycles", test_include_cycles },
	{ "list-lines", test_list_lines },
	{ "sizes", test_sizes },
	{ "durations", test_durations },
	{ "post-check-lines", test_post_check_lines },
	{ "file-errors", test_file_errors },
	{ "budget-hostile", test_budget_hostile },
	{ "budget-units", test_budget_units },
	{ "budget-windows", test_budget_windows },
	{ "budget-normal-mail", test_budget_normal_mail },
	{ "budget-log", test_budget_log },
};

int
main(void)
{
	sg_log_open_stderr("test-rules");
	sg_log_set_level(SG_LOG_ERROR);
	dir = sg_test_dir();
	free(put("vip.txt", "# big ones\nbigbank.example\nboss@small.example\n"));
	return SG_TEST_RUN(tests);
}
