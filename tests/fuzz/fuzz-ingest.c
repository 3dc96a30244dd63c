/*
 * fuzz-ingest — the identity path of one message: raw mail through
 * sg_ingest() by the CLI door (as `supportgate ingest` calls it: the
 * envelope sender is the From address or the null sender; the
 * recipients are the support addresses in To and Cc, else the support
 * address) against a real Berkeley DB store in a private temporary
 * folder, with a token secret, rules and templates.
 *
 * The store starts with three tickets: #1 alice@customer.example (with
 * carol@customer.example, Message-ID <a1@customer.example>), #2
 * bob@other.example (resolved, <b1@other.example>) and #3
 * dave@bigbank.example (<d1@bigbank.example>); the seeds in
 * tests/fuzz/seeds-ingest claim them by References, our keyed
 * Message-IDs, subject tokens and plus-addresses, as their people and as
 * strangers; tests/fuzz/corpus-ingest holds what libFuzzer grew from them,
 * cut to the inputs that add coverage edges (-merge=1 -use_counters=0,
 * inputs under 2 KiB). Every SG_FUZZ_RESET inputs the store is made afresh, so it
 * stays small (the answer for an input depends on the inputs before it
 * only within that window). Inputs over 64 KiB are skipped. With
 * SG_FUZZ_VERBOSE set, ingest logs each verdict.
 *
 * What must hold for every input (abort() otherwise):
 *  - the ingest succeeds (only an empty message is a parse error) and
 *    the mail is never ignored (it goes to the support address), unless
 *    its author is one of our support addresses (a mail loop: no ticket,
 *    and the same again is ignored again);
 *  - a follow-up (other than a delivery report) comes from a person of
 *    the ticket as it was before: nobody enters a ticket by knowing an
 *    id; a refused claim leaves the claimed ticket's status and people
 *    as they were;
 *  - header values in the decision carry no CR or LF;
 *  - the same bytes again are a duplicate of the same ticket (the
 *    Message-ID index makes an MTA retry idempotent).
 */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/message.h"
#include "store/store.h"
#include "templates/template.h"
#include "ticket/ops.h"

#define SG_FUZZ_SEEDS "tests/fuzz/seeds-ingest tests/fuzz/corpus-ingest tests/fuzz/crashes-ingest"
#include "replay.h"

#define SG_FUZZ_MAX_INPUT (64 * 1024)
#define SG_FUZZ_RESET 1000

static const char *dir;         /* sg_fuzz_tmpdir: removed at exit, after cleanup */
static char *state;
static struct sg_conf *conf;
static struct sg_store *st;
static GHashTable *shadow;      /* ticket id -> struct sg_ticket * as last read */
static unsigned since_reset;

static void
cleanup(void)
{
	sg_store_close(&st);
	sg_conf_unref(&conf);
	if (shadow != NULL)
		g_hash_table_destroy(shadow);
	free(state);
}

static void
put(const char *name, const char *text)
{
	free(sg_fuzz_put(name, text, strlen(text)));
}

static void
ticket_free(gpointer p)
{
	sg_ticket_clear(p);
	free(p);
}

/* Remember ticket id as the store has it now. */
static void
remember(uint64_t id)
{
	struct sg_ticket *t = sg_xcalloc(1, sizeof(*t));

	if (id == 0 || sg_store_ticket_get(st, NULL, id, t) != 0) {
		ticket_free(t);
		return;
	}
	g_hash_table_replace(shadow, GUINT_TO_POINTER((guint)id), t);
}

/* Ingest as the CLI does: the envelope sender is the From address, else
 * the null sender; the recipients are the support addresses among To and
 * Cc (as `supportgate ingest --to` names them; at most 4), else the
 * support address, so a plus-address in To makes a claim. */
static int
ingest(const char *raw, size_t len, struct sg_decision *d)
{
	struct sg_msginfo *mi = NULL;
	const char *rcpt[4];
	size_t nrcpt = 0;
	char *from = NULL;

	if (sg_message_parse(raw, len, &mi) == 0 && mi != NULL) {
		if (mi->from_addr != NULL)
			from = sg_xstrdup(mi->from_addr);
		for (size_t i = 0; i < mi->to.n + mi->cc.n && nrcpt < 4; i++) {
			const char *a = i < mi->to.n ? mi->to.v[i] : mi->cc.v[i - mi->to.n];
			if (sg_conf_is_support(conf, a, NULL))
				rcpt[nrcpt++] = a;
		}
	}
	if (nrcpt == 0)
		rcpt[nrcpt++] = "support@example.com";
	struct sg_ingest_in in = {
		.raw = raw, .len = len, .env_from = from ? from : "", .env_rcpt = rcpt, .nrcpt = nrcpt,
		.door = SG_DOOR_CLI, .queue_id = "FUZZ",
	};
	int rc = sg_ingest(st, conf, &in, d);
	sg_msginfo_free(&mi);
	free(from);
	return rc;
}

static uint64_t
seed_ticket(const char *raw)
{
	struct sg_decision d = { 0 };

	if (ingest(raw, strlen(raw), &d) != SG_ING_OK || d.verdict != SG_V_NEW)
		abort();
	uint64_t id = d.ticket;
	sg_decision_clear(&d);
	remember(id);
	return id;
}

/* A fresh store with the three tickets the seeds talk about. */
static void
reset_store(void)
{
	sg_store_close(&st);
	sg_fuzz_rmtree(state);
	if (mkdir(state, 0700) != 0 || sg_store_open(state, SG_STORE_NOSYNC, &st) != 0)
		abort();
	g_hash_table_remove_all(shadow);
	since_reset = 0;
	uint64_t a = seed_ticket("From: Alice <alice@customer.example>\r\nTo: support@example.com\r\n"
				 "Cc: carol@customer.example\r\nSubject: printer broken\r\n"
				 "Message-ID: <a1@customer.example>\r\n\r\nIt jams.\r\n");
	uint64_t b = seed_ticket("From: bob@other.example\r\nTo: support@example.com\r\nSubject: invoice 4711\r\n"
				 "Message-ID: <b1@other.example>\r\n\r\nPlease resend the invoice.\r\n");
	uint64_t c = seed_ticket("From: dave@bigbank.example\r\nTo: support@example.com\r\nSubject: URGENT outage\r\n"
				 "Message-ID: <d1@bigbank.example>\r\n\r\nEverything is down.\r\n");
	char *done = NULL, *why = NULL;
	if (a != 1 || b != 2 || c != 3 ||
	    sg_ticket_change(st, conf, b, "status", "resolved", "fuzz", &done, &why) != 0)
		abort();
	free(done);
	free(why);
	remember(b);
}

static void
setup(void)
{
	static const char rules[] =
		"agent anna@example.com name=\"Anna\" groups=billing\n"
		"agent ben@example.com name=\"Ben\"\n"
		"queue billing mailbox=billing@example.com agents=anna@example.com,ben@example.com strategy=round-robin sla=gold\n"
		"queue outage agents=ben@example.com strategy=least-open\n"
		"sla gold first-response=4h resolution=2d\n"
		"segment vip list=\"vip.txt\"\n"
		"rule spam: subject ~ /viagra/i => tag spam, quarantine\n"
		"rule vip: from in \"vip.txt\" => segment vip, priority high, continue\n"
		"rule urgent: subject ~ /\\burgent\\b/i or body ~ /outage|is down/i => priority urgent, queue outage, assign, \\\n"
		"    notify ops@example.com, continue\n"
		"rule money: subject ~ /invoice|refund/i or body ~ /invoice\\s+\\d+/i => queue billing, assign, tag money\n"
		"rule russian: header:Content-Language ~ /^ru/ => language ru, continue\n"
		"rule big: size > 32K => tag big, template none\n";
	static const char tmpl[] = "Subject: {{token}} {{subject}}\n\nDear {{customer_name}} <{{customer_address}}>,\n"
				   "{{status}} {{queue}} {{priority}} {{agent_name}}\n> {{excerpt}}\n{{error}}\n";
	struct sg_diag errs = { 0 };

	dir = sg_fuzz_tmpdir("ingest");
	atexit(cleanup);   /* runs first: the store is closed before its dir goes */
	state = sg_xasprintf("%s/state", dir);
	put("secret", "fuzz-secret-0123456789abcdef\n");
	put("t.rules", rules);
	put("vip.txt", "bigbank.example\n");
	char *t = sg_xasprintf("%s/tmpl", dir), *en = sg_xasprintf("%s/tmpl/en", dir);
	if (mkdir(t, 0700) != 0 || mkdir(en, 0700) != 0)
		abort();
	free(t);
	free(en);
	for (int i = 0; sg_template_names[i] != NULL; i++) {
		char *name = sg_xasprintf("tmpl/en/%s.tmpl", sg_template_names[i]);
		put(name, tmpl);
		free(name);
	}
	char *text = sg_xasprintf("support_address = {\"support@example.com\"}\nstate_dir = \"%s\"\nticket_tag = \"ACME\"\n"
				  "token_secret_file = \"%s/secret\"\nrules_file = \"%s/t.rules\"\ntemplate_dir = \"%s/tmpl\"\n"
				  "db_sync = false\nack = true\nadmin_address = \"admin@example.com\"\n",
				  state, dir, dir, dir);
	put("sg.conf", text);
	free(text);
	char *cpath = sg_xasprintf("%s/sg.conf", dir);
	sg_log_open_stderr("fuzz-ingest");
	sg_log_set_level(getenv("SG_FUZZ_VERBOSE") != NULL ? SG_LOG_INFO : SG_LOG_ERROR);
	conf = sg_conf_load(cpath, &errs);
	free(cpath);
	if (conf == NULL) {
		sg_diag_print(&errs, stderr);
		abort();
	}
	sg_diag_clear(&errs);
	sg_ingest_init();
	shadow = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, ticket_free);
	reset_store();
}

static int
has_crlf(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") != NULL;
}

/* Header values are ready to use: no CR or LF anywhere. */
static void
check_headers(const struct sg_decision *d)
{
	if (has_crlf(d->token) || has_crlf(d->subject) || has_crlf(d->reply_to))
		abort();
	for (size_t i = 0; i < d->nadd; i++)
		if (has_crlf(d->add[i].name) || has_crlf(d->add[i].value))
			abort();
	for (size_t i = 0; i < d->rcpt_add.n; i++)
		if (has_crlf(d->rcpt_add.v[i]))
			abort();
}

static int
was_person(const struct sg_ticket *t, const char *addr)
{
	return addr != NULL && (sg_strlist_has(&t->participants, addr) ||
				(t->requestor != NULL && strcasecmp(t->requestor, addr) == 0));
}

static int
same_people(const struct sg_ticket *a, const struct sg_ticket *b)
{
	if (a->status != b->status || a->participants.n != b->participants.n)
		return 0;
	for (size_t i = 0; i < a->participants.n; i++)
		if (strcmp(a->participants.v[i], b->participants.v[i]) != 0)
			return 0;
	return 1;
}

/* Nobody enters a ticket by knowing an id. */
static void
check_identity(const struct sg_decision *d, const char *sender)
{
	if (d->verdict == SG_V_FOLLOWUP) {
		const struct sg_ticket *before = g_hash_table_lookup(shadow, GUINT_TO_POINTER((guint)d->ticket));
		if (before == NULL)
			abort();   /* a follow-up to a ticket that did not exist */
		int bounce = d->reason != NULL && strstr(d->reason, "bounce") != NULL;
		if (!bounce && !was_person(before, sender))
			abort();   /* a stranger's claim was granted */
	}
	if (d->claimed != 0) {
		const struct sg_ticket *before = g_hash_table_lookup(shadow, GUINT_TO_POINTER((guint)d->claimed));
		struct sg_ticket now = { 0 };
		if (before != NULL && sg_store_ticket_get(st, NULL, d->claimed, &now) == 0 && d->claimed != d->ticket &&
		    !same_people(before, &now))
			abort();   /* a refused claim changed the claimed ticket */
		sg_ticket_clear(&now);
	}
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *raw = (const char *)data;
	struct sg_decision d = { 0 }, again = { 0 };
	struct sg_msginfo *mi = NULL;

	if (size > SG_FUZZ_MAX_INPUT)
		return 0;
	if (st == NULL)
		setup();
	if (++since_reset > SG_FUZZ_RESET)
		reset_store();
	char *sender = NULL;
	if (sg_message_parse(raw, size, &mi) == 0 && mi != NULL && mi->from_addr != NULL)
		sender = sg_xstrdup(mi->from_addr);
	sg_msginfo_free(&mi);

	int rc = ingest(raw, size, &d);
	if (size == 0) {
		if (rc != SG_ING_EPARSE)
			abort();
		free(sender);
		return 0;
	}
	if (rc == SG_ING_OK && d.verdict == SG_V_IGNORED && sender != NULL && sg_conf_is_support(conf, sender, NULL)) {
		/* our own address: nothing stored, so a retry is judged alike */
		if (d.ticket != 0 || ingest(raw, size, &again) != SG_ING_OK || again.verdict != SG_V_IGNORED)
			abort();
		sg_decision_clear(&again);
		sg_decision_clear(&d);
		free(sender);
		return 0;
	}
	if (rc != SG_ING_OK || d.verdict == SG_V_IGNORED || d.ticket == 0)
		abort();
	check_headers(&d);
	check_identity(&d, sender);
	remember(d.ticket);
	remember(d.claimed);

	/* an MTA retry of the same bytes changes nothing */
	rc = ingest(raw, size, &again);
	if (rc != SG_ING_OK || again.verdict != SG_V_DUPLICATE || again.ticket != d.ticket)
		abort();
	check_headers(&again);
	sg_decision_clear(&again);
	sg_decision_clear(&d);
	free(sender);
	return 0;
}
