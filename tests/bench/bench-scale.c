/*
 * bench-scale — the store at 10k, 100k and 1M tickets: a generator and
 * the per-size costs of the operations that must stay flat.
 *
 * Usage: bench-scale DIR [MAX]      (MAX default 1000000; sizes 10k,
 *                                    100k and MAX, those <= MAX)
 *        bench-scale --gen DIR N    (fill only, to N tickets, then exit)
 * DIR/sg.conf is the configuration (tests/bench/bench-scale.sh writes it;
 * its state_dir is the store, which must be empty at the start), and the store is left in place for the
 * script's daemon and `db` measurements; the script deletes DIR.
 *
 * The generator writes through the store API (no SMTP, no parsing), in
 * transactions of GEN_TXN tickets, without fsync (SG_STORE_NOSYNC). Ticket
 * number i (0-based) is created at T0 + 60 i (one ticket a minute: 10k
 * tickets are a week, 1M about 694 days) and has: 3 messages of about
 * 1 KB raw each (the customer's request, the agent's reply, the
 * customer's answer), each indexed by Message-ID; 4 events (created,
 * assignee, reply, status) and a 5th (rating) for the 30% rated; the
 * customer index (customer i / 4: four tickets per customer). All but the
 * newest BACKLOG tickets of each fill are closed (answered, resolved,
 * closed a week later); the backlog is new/open/pending with two SLA
 * timers in the due-time index (due far in the future, so nothing of the
 * generated store is due). Queues, tiers, segments, 50 agents, ratings and
 * fired SLA bits vary as in bench-report.
 *
 * Measured at each size, on the same store grown in place:
 *   lookups: by Message-ID (sg_store_msgid_lookup), by token (the subject
 *     token parsed, the ticket read), by customer (the customer's ticket
 *     ids) — LOOK_PASSES passes of REPS random existing keys each (other
 *     keys each pass), us per lookup, the median pass; then "again":
 *     the last pass's keys a second time (at 1M still mostly page reads:
 *     the B-tree leaves of 3M Message-IDs and 1M tickets do not fit a
 *     32 MB cache, and REPS keys touch more leaves than it holds); "pages read":
 *     the table's pages a pass read into the cache, per lookup, median
 *     (the cache's counter: 1.0 = one leaf a lookup, upper levels cached);
 *     these passes follow a pass of REPS lookups of each kind with other
 *     keys ("first after fill", us per lookup), which gives up the pages
 *     the fill left in the cache, as a running daemon long has)
 *   SLA wake: sg_clock_run_once (autoclose) and sg_clock_run_sla with
 *     nothing due, then sg_clock_run_sla with DUE first-response breaches
 *     due (fired with their notices): median of PASSES passes; between
 *     passes the queued notices are removed as the outbound worker would
 *     deliver them (deliver_all)
 *   report: sg_report_run + text rendering for the week before "now"
 *     (now = the newest ticket's creation), best of 3, the tickets it
 *     read and its time per 1,000 of them: those open now or created,
 *     resolved or closed in the week
 *     (the index active.db); at 10k that is the whole store, from about
 *     30k on it is the same ~2.3 weeks of tickets (closed a week after
 *     their resolution) and the backlog
 *   ingest: FOLLOWUPS follow-ups (sg_ingest, the CLI door, synchronous
 *     commits: the store reopened without SG_STORE_NOSYNC), half to the
 *     open backlog (appended), half to random closed tickets (a new linked
 *     ticket, as for any mail to a ticket closed long ago)
 *   store bytes per ticket: the database files (not logs, not regions)
 *     after a checkpoint, divided by the tickets
 * Each figure is printed with its ratio to the same figure at the first
 * size in the same run (target: within 2x).
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/log.h"
#include "mail/token.h"
#include "outbound/queue.h"
#include "report/aggregate.h"
#include "report/period.h"
#include "report/render.h"
#include "sched/due.h"
#include "sla/clock.h"
#include "ticket/slatime.h"
#include "tests/unit/fixture.h"

#define T0 1733000000LL        /* ticket i is created at T0 + 60 i */
#define HORIZON (T0 + 10LL * 365 * 86400)   /* the backlog's SLA timers */
#define GEN_TXN 2000
#define BACKLOG 1500
#define RAW_SIZE 1024
#define REPS 20000
#define PASSES 5
#define LOOK_PASSES 3     /* lookup passes: the median is printed */
#define DUE 3
#define FOLLOWUPS 1000   /* SG_SCALE_FOLLOWUPS overrides (the smoke test: fewer fsyncs) */

static uint64_t *ids;           /* ids[i]: the ticket id of ticket number i */
static size_t have;             /* tickets generated */

static const char *const queues[] = { "billing", "tech", "sales", "hardware", "network", "accounts", "field",
	"general" };
static const char *const segments[] = { "enterprise", "smb", "retail" };
static const char *const tiers[] = { "platinum", "gold", "silver", "bronze" };

static int64_t
created_at(uint64_t i)
{
	return T0 + 60 * (int64_t)i;
}

static void
customer(uint64_t i, char *out, size_t len)
{
	snprintf(out, len, "cust%llu@c%llu.example", (unsigned long long)(i / 4), (unsigned long long)(i / 4 % 997));
}

static void
msgid(uint64_t i, int k, char *out, size_t len)
{
	char cust[80];

	customer(i, cust, sizeof(cust));
	if (k == 2)
		snprintf(out, len, "sg.%llu.2@support.example", (unsigned long long)ids[i]);
	else
		snprintf(out, len, "t%llu.%d.%s", (unsigned long long)i, k, cust);
}

/* A message of about RAW_SIZE bytes. */
static char *
raw_mail(const char *from, const char *to, const char *subject, const char *mid, const char *irt)
{
	char *head = sg_xasprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s>\r\n%s%s%s"
				  "Date: Mon, 30 Nov 2026 09:12:00 +0000\r\nMIME-Version: 1.0\r\n"
				  "Content-Type: text/plain; charset=utf-8\r\n\r\n",
				  from, to, subject, mid, irt ? "In-Reply-To: <" : "", irt ? irt : "", irt ? ">\r\n" : "");
	size_t hl = strlen(head), n = hl < RAW_SIZE - 64 ? RAW_SIZE : hl + 64;
	char *raw = sg_xmalloc(n + 1);
	static const char line[] = "Hello, the invoice for last month shows the wrong VAT rate again.\r\n";

	memcpy(raw, head, hl);
	for (size_t at = hl; at < n; at += sizeof(line) - 1)
		memcpy(raw + at, line, at + sizeof(line) - 1 <= n ? sizeof(line) - 1 : n - at);
	raw[n] = '\0';
	free(head);
	return raw;
}

static void
must(int rc, const char *what)
{
	if (rc != 0) {
		fprintf(stderr, "bench-scale: %s failed (%d)\n", what, rc);
		exit(1);
	}
}

static void
add_message(struct sg_txn *txn, uint64_t i, int k, const char *from, const char *subject, int64_t when)
{
	char mid[128], irt[128];
	struct sg_msgrec m = { 0 };

	msgid(i, k, mid, sizeof(mid));
	if (k > 1)
		msgid(i, k - 1, irt, sizeof(irt));
	char *raw = raw_mail(from, k == 2 ? "customer" : "support@example.com", subject, mid, k > 1 ? irt : NULL);
	m.ticket = ids[i];
	m.direction = k == 2 ? SG_DIR_OUT : SG_DIR_IN;
	m.from = (char *)from;
	m.message_id = mid;
	m.subject = (char *)subject;
	m.date = m.received = when;
	m.size = strlen(raw);
	must(sg_store_message_add(st, txn, &m, raw, m.size), "message_add");
	free(raw);
}

/* Ticket number i; open when it is among the newest BACKLOG of a fill
 * ending at `end`. */
static void
gen_ticket(struct sg_txn *txn, uint64_t i, uint64_t end, unsigned *seed)
{
	char agents[50][40], cust[80], subj[120];
	struct sg_ticket t = { 0 };
	unsigned r = (unsigned)rand_r(seed);
	int64_t c = created_at(i);
	int open = i + BACKLOG >= end;

	for (int a = 0; a < 50; a++)
		snprintf(agents[a], sizeof(agents[a]), "agent%02d@support.example", a);
	must(sg_store_ticket_new_id(st, txn, &t.id), "ticket_new_id");
	ids[i] = t.id;
	customer(i, cust, sizeof(cust));
	snprintf(subj, sizeof(subj), "[ACME #%llu] Invoice %llu shows the wrong VAT rate", (unsigned long long)t.id,
		 (unsigned long long)i);
	t.subject = subj;
	t.requestor = cust;
	t.queue = (char *)queues[r % 8];
	t.segment = (char *)segments[(r >> 3) % 3];
	t.sla_tier = (char *)tiers[(r >> 5) % 4];
	t.assignee = agents[(r >> 11) % 50];
	sg_strlist_add(&t.participants, cust, 0);
	t.created = c;
	t.first_response_due = c + 4 * 3600;
	t.due = c + 24 * 3600;
	t.first_response_at = c + (int64_t)(rand_r(seed) % (8 * 3600));
	t.nmessages = 3;
	t.nevents = 4;
	t.transfers = (uint32_t)(rand_r(seed) % 3);
	if (open) {
		t.status = (enum sg_status)((r >> 25) % 3);
		t.updated = t.first_response_at;
		must(sg_due_set(st, txn, SG_DUE_SLA_FR, t.id, 0, HORIZON, 0), "due_set");
		must(sg_due_set(st, txn, SG_DUE_SLA_RES, t.id, 0, HORIZON, 0), "due_set");
	} else {
		t.status = SG_ST_CLOSED;
		t.resolved_at = t.first_response_at + (int64_t)(rand_r(seed) % (48 * 3600));
		t.closed_at = t.updated = t.resolved_at + 7 * 86400;
		t.sla_fired = (uint8_t)(rand_r(seed) % 16);
		if ((r >> 27) % 10 < 3) {
			t.rating = (uint8_t)(1 + (r >> 20) % 5);
			t.nevents++;
		}
	}
	must(sg_store_ticket_put(st, txn, &t), "ticket_put");
	add_message(txn, i, 1, cust, subj + strlen("[ACME #") + 1, c);
	char *re = sg_xasprintf("Re: %s", subj);
	add_message(txn, i, 2, t.assignee, re, t.first_response_at);
	add_message(txn, i, 3, cust, re, t.first_response_at + 3600);
	free(re);
	must(sg_store_customer_add(st, txn, cust, t.id), "customer_add");
	must(sg_store_event_add(st, txn, t.id, "created", "system", "door=milter"), "event_add");
	must(sg_store_event_add(st, txn, t.id, "assignee", "rule:round-robin", t.assignee), "event_add");
	must(sg_store_event_add(st, txn, t.id, "reply", t.assignee, "seq=2"), "event_add");
	must(sg_store_event_add(st, txn, t.id, "status", t.assignee, open ? "new -> open" : "resolved -> closed"),
	     "event_add");
	if (t.rating)
		must(sg_store_event_add(st, txn, t.id, "rating", cust, "4"), "event_add");
	t.subject = t.requestor = t.queue = t.segment = t.sla_tier = t.assignee = NULL;
	sg_ticket_clear(&t);
}

static void
fill(uint64_t to)
{
	struct sg_txn *txn = NULL;
	unsigned seed = (unsigned)have * 2654435761u + 1;

	ids = sg_xrealloc(ids, to * sizeof(ids[0]));
	for (uint64_t i = have; i < to; i++) {
		if (txn == NULL)
			must(sg_store_txn_begin(st, &txn), "txn_begin");
		gen_ticket(txn, i, to, &seed);
		if ((i + 1) % GEN_TXN == 0)
			must(sg_store_txn_commit(&txn), "txn_commit");
	}
	if (txn != NULL)
		must(sg_store_txn_commit(&txn), "txn_commit");
	have = to;
}

/* Bytes of the database files in the state dir's db/. */
static double
store_bytes(const char *state_dir)
{
	char *d = sg_xasprintf("%s/db", state_dir);
	DIR *dp = opendir(d);
	struct dirent *de;
	double sum = 0;

	while (dp != NULL && (de = readdir(dp)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n > 3 && strcmp(de->d_name + n - 3, ".db") == 0) {
			char *p = sg_xasprintf("%s/%s", d, de->d_name);
			struct stat sb;
			if (stat(p, &sb) == 0)
				sum += (double)sb.st_size;
			free(p);
		}
	}
	if (dp != NULL)
		closedir(dp);
	free(d);
	return sum;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

enum { M_MSGID, M_TOKEN, M_CUST, M_PG_MSGID, M_PG_TOKEN, M_PG_CUST, M_MSGID2, M_TOKEN2, M_CUST2, M_FIRST,
	M_AUTOCLOSE, M_SLA0, M_SLA3, M_REPORT, M_READ, M_REPORT_K, M_INGEST, M_BYTES, M_COUNT };
static const char *const mname[M_COUNT] = { "lookup msgid", "lookup token", "lookup customer",
	"  pages read (msgid)", "  pages read (token)", "  pages read (cust.)",
	"  again (msgid)", "  again (token)", "  again (customer)", "  first after fill",
	"autoclose pass", "SLA pass, none due", "SLA pass, 3 due", "report (week)", "  tickets it read",
	"  per 1k tickets", "ingest follow-up", "store bytes/ticket" };
static const char *const munit[M_COUNT] = { "us", "us", "us", "", "", "", "us", "us", "us", "us", "ms", "ms", "ms",
	"ms", "", "ms", "ms", "B" };

/* Pages of table t read into the cache since the last call for t (the
 * cache's own counter, sg_store_cache_stat). */
static double
pages_read(enum sg_table t)
{
	static uint64_t last[SG_TB_COUNT];
	struct sg_cache_stat c[SG_TB_COUNT];
	double d;

	must(sg_store_cache_stat(st, c), "cache_stat");
	d = (double)(c[t].misses - last[t]);
	last[t] = c[t].misses;
	return d;
}

/* One lookup of each kind for ticket number i (k: which of its three
 * Message-IDs); every answer is checked. */
static void
look_msgid(uint64_t i, int k)
{
	char key[160];
	uint64_t tid;
	uint32_t seq;

	msgid(i, k, key, sizeof(key));
	if (sg_store_msgid_lookup(st, NULL, key, &tid, &seq) != 0 || tid != ids[i])
		must(1, "msgid lookup");
}

static void
look_token(uint64_t i)
{
	char key[160];
	uint64_t id;
	int check;
	struct sg_ticket t;

	snprintf(key, sizeof(key), "Re: [ACME #%llu] Invoice", (unsigned long long)ids[i]);
	if (sg_token_find(key, "ACME", NULL, 0, &id, &check) != 1 || sg_store_ticket_get(st, NULL, id, &t) != 0)
		must(1, "token lookup");
	sg_ticket_clear(&t);
}

static void
look_customer(uint64_t i)
{
	char key[160];
	uint64_t *v;
	size_t n;

	customer(i, key, sizeof(key));
	if (sg_store_customer_tickets(st, NULL, key, &v, &n) != 0 || n == 0)
		must(1, "customer lookup");
	free(v);
}

/* The first lookups after the fill: REPS of each kind, keys of another
 * seed than lookups()'s, us per lookup over all. Right after a bulk fill
 * the cache holds the fill's pages and the first misses pay for giving
 * them up (at 1M about 25 us a miss, against 3-8 us later); a daemon is
 * past that, so the cold figures are measured after this pass. */
static double
first_after_fill(void)
{
	unsigned seed = 4242;
	double t0 = now_ns();

	for (int r = 0; r < REPS; r++) {
		uint64_t i = (uint64_t)rand_r(&seed) % have;
		look_msgid(i, 1 + rand_r(&seed) % 3);
		look_token(i);
		look_customer(i);
	}
	return (now_ns() - t0) / REPS / 3 / 1e3;
}

/* REPS random lookups of each kind (keys from seed) into m[0..2]: called
 * twice with the same seed, the second figures are the same lookups with
 * their pages in memory as far as the cache holds them. pg, when not
 * NULL, gets the pages each kind read into the cache per lookup (the
 * table's leaves that were not cached: 1.0 = one page a lookup). */
static void
lookups(double *m, double *pg, unsigned seed)
{
	pages_read(SG_TB_MSGID);
	pages_read(SG_TB_TICKETS);
	pages_read(SG_TB_CUSTOMERS);
	double t0 = now_ns();

	for (int r = 0; r < REPS; r++) {
		uint64_t i = (uint64_t)rand_r(&seed) % have;
		look_msgid(i, 1 + rand_r(&seed) % 3);
	}
	m[M_MSGID] = (now_ns() - t0) / REPS / 1e3;
	if (pg != NULL)
		pg[0] = pages_read(SG_TB_MSGID) / REPS;
	t0 = now_ns();
	for (int r = 0; r < REPS; r++)
		look_token((uint64_t)rand_r(&seed) % have);
	m[M_TOKEN] = (now_ns() - t0) / REPS / 1e3;
	if (pg != NULL)
		pg[1] = pages_read(SG_TB_TICKETS) / REPS;
	t0 = now_ns();
	for (int r = 0; r < REPS; r++)
		look_customer((uint64_t)rand_r(&seed) % have);
	m[M_CUST] = (now_ns() - t0) / REPS / 1e3;
	if (pg != NULL)
		pg[2] = pages_read(SG_TB_CUSTOMERS) / REPS;
}

/* LOOK_PASSES passes of lookups(), other keys each; m[0..2] and pg[0..2]
 * get each figure's median; then "again" (m2) repeats the last pass. */
static void
lookup_passes(double *m, double *pg, double *m2)
{
	double v[6][LOOK_PASSES];

	for (int p = 0; p < LOOK_PASSES; p++) {
		double x[3], g[3];
		lookups(x, g, 777 + (unsigned)p);
		for (int j = 0; j < 3; j++) {
			v[j][p] = x[j];
			v[3 + j][p] = g[j];
		}
	}
	for (int j = 0; j < 6; j++) {
		qsort(v[j], LOOK_PASSES, sizeof(v[j][0]), cmp_double);
		(j < 3 ? m : pg)[j % 3] = v[j][LOOK_PASSES / 2];
	}
	lookups(m2, NULL, 777 + LOOK_PASSES - 1);
}

/* A gold ticket created two hours before now: its first response is
 * overdue (as bench-sla's). */
static void
due_ticket(struct sg_txn *txn, int64_t now)
{
	struct sg_ticket t = { 0 };
	struct sg_slatime_next next;

	must(sg_store_ticket_new_id(st, txn, &t.id), "ticket_new_id");
	t.status = SG_ST_OPEN;
	t.subject = sg_xstrdup("Invoice 2026-114 shows the wrong VAT rate");
	t.requestor = sg_xstrdup("late@customer.example");
	t.queue = sg_xstrdup("billing");
	t.assignee = sg_xstrdup("anna@example.com");
	t.sla_tier = sg_xstrdup("gold");
	sg_strlist_add(&t.participants, "late@customer.example", 0);
	t.created = t.updated = now - 7200;
	t.nmessages = 1;
	sg_slatime_compute(conf, &t);
	sg_slatime_next(conf, &t, &next);
	must(sg_store_ticket_put(st, txn, &t), "ticket_put");
	must(sg_due_set(st, txn, SG_DUE_SLA_FR, t.id, 0, next.at[SG_SLATIME_FR], 0), "due_set");
	sg_ticket_clear(&t);
}

/* What the daemon's outbound worker does meanwhile: deliver (here:
 * remove) every queued job — the notices of the SLA passes, the acks of
 * the follow-ups. Left queued, their due entries (due at the pass's now)
 * would pile up in the due index ahead of every later size's timers. */
static void
deliver_all(void)
{
	struct sg_due_list d;

	must(sg_due_collect(st, SG_DUE_JOB, INT64_MAX, 1000000, &d), "due_collect");
	for (size_t i = 0; i < d.n; i++) {
		struct sg_txn *txn;
		struct sg_job j;
		must(sg_store_txn_begin(st, &txn), "txn_begin");
		if (sg_store_job_get(st, txn, d.v[i].id, &j) == 0) {
			must(sg_queue_remove(st, txn, &j), "queue_remove");
			sg_job_clear(&j);
		}
		must(sg_store_txn_commit(&txn), "txn_commit");
	}
	sg_due_list_clear(&d);
}

static void
clock_passes(double *m, int64_t now)
{
	double a[PASSES], s0[PASSES], s3[PASSES];
	size_t fired;

	/* Warm-up, and whatever an earlier size's due tickets left (their
	 * resolution timers come due later). */
	deliver_all();
	for (int k = 0; k < 5; k++) {
		size_t f1 = 0, f2 = 0;
		must(sg_clock_run_once(st, conf, now, &f1), "run_once");
		must(sg_clock_run_sla(st, conf, now, &f2), "run_sla");
		if (f1 + f2 == 0)
			break;
	}
	for (int p = 0; p < PASSES; p++) {
		double t0 = now_ns();
		must(sg_clock_run_once(st, conf, now, &fired), "run_once");
		a[p] = now_ns() - t0;
		if (fired != 0)
			must(1, "autoclose pass: something was due");
		t0 = now_ns();
		must(sg_clock_run_sla(st, conf, now, &fired), "run_sla");
		s0[p] = now_ns() - t0;
		if (fired != 0)
			must(1, "SLA pass: something was due");
		struct sg_txn *txn;
		must(sg_store_txn_begin(st, &txn), "txn_begin");
		for (int k = 0; k < DUE; k++)
			due_ticket(txn, now);
		must(sg_store_txn_commit(&txn), "txn_commit");
		t0 = now_ns();
		must(sg_clock_run_sla(st, conf, now, &fired), "run_sla");
		s3[p] = now_ns() - t0;
		if (fired != DUE) {
			fprintf(stderr, "bench-scale: SLA pass fired %zu, want %d\n", fired, DUE);
			exit(1);
		}
		deliver_all();
	}
	qsort(a, PASSES, sizeof(a[0]), cmp_double);
	qsort(s0, PASSES, sizeof(s0[0]), cmp_double);
	qsort(s3, PASSES, sizeof(s3[0]), cmp_double);
	m[M_AUTOCLOSE] = a[PASSES / 2] / 1e6;
	m[M_SLA0] = s0[PASSES / 2] / 1e6;
	m[M_SLA3] = s3[PASSES / 2] / 1e6;
}

static void
report_week(double *m, int64_t now)
{
	struct sg_report_opts o = { 0 };
	FILE *null = fopen("/dev/null", "w");

	o.from = now - 7 * 86400;
	o.to = now;
	o.now = now;
	o.time_zone = "UTC";
	m[M_REPORT] = 1e300;
	for (int rep = 0; rep < 3; rep++) {
		struct sg_report r;
		double t0 = now_ns();
		must(sg_report_run(st, &o, &r), "report");
		if (null != NULL)
			sg_report_text(null, &r);
		double t = (now_ns() - t0) / 1e6;
		if (r.total.received == 0)
			must(1, "report: no ticket in the week");
		m[M_READ] = (double)r.tickets_read;
		sg_report_free(&r);
		if (t < m[M_REPORT])
			m[M_REPORT] = t;
	}
	if (null != NULL)
		fclose(null);
	m[M_REPORT_K] = m[M_READ] > 0 ? m[M_REPORT] / m[M_READ] * 1000 : 0;
}

static void
followups(double *m, const char *state_dir, size_t size)
{
	unsigned seed = 99 + (unsigned)size;
	const char *rc[1] = { "support@example.com" };

	const char *env = getenv("SG_SCALE_FOLLOWUPS");
	int nf = env != NULL && atoi(env) > 0 ? atoi(env) : FOLLOWUPS;

	sg_store_close(&st);
	must(sg_store_open(state_dir, 0, &st), "open (synchronous)");
	double t0 = now_ns();
	for (int k = 0; k < nf; k++) {
		uint64_t i = k % 2 ? have - 1 - (uint64_t)rand_r(&seed) % (BACKLOG / 2)
				   : (uint64_t)rand_r(&seed) % (have - BACKLOG);
		char cust[80], mid[160], irt[128], subj[160];
		customer(i, cust, sizeof(cust));
		snprintf(mid, sizeof(mid), "fu.%zu.%d.%s", size, k, cust);
		msgid(i, 2, irt, sizeof(irt));
		snprintf(subj, sizeof(subj), "Re: [ACME #%llu] Invoice %llu shows the wrong VAT rate",
			 (unsigned long long)ids[i], (unsigned long long)i);
		char *raw = raw_mail(cust, "support@example.com", subj, mid, irt);
		struct sg_ingest_in in = { .raw = raw, .len = strlen(raw), .env_from = cust, .env_rcpt = rc,
					   .nrcpt = 1, .door = SG_DOOR_CLI };
		struct sg_decision d = { 0 };
		if (sg_ingest(st, conf, &in, &d) != SG_ING_OK ||
		    (d.verdict != SG_V_FOLLOWUP && d.verdict != SG_V_NEW)) {
			fprintf(stderr, "bench-scale: follow-up %d: verdict %d\n", k, (int)d.verdict);
			exit(1);
		}
		sg_decision_clear(&d);
		free(raw);
	}
	m[M_INGEST] = (now_ns() - t0) / nf / 1e6;
	sg_store_close(&st);
	must(sg_store_open(state_dir, SG_STORE_NOSYNC, &st), "open");
}

int
main(int argc, char **argv)
{
	int gen_only = argc > 1 && strcmp(argv[1], "--gen") == 0;
	const char *dir = argc > 1 + gen_only ? argv[1 + gen_only] : NULL;
	uint64_t max = argc > 2 + gen_only ? strtoull(argv[2 + gen_only], NULL, 10) : 1000000;
	uint64_t sizes[3] = { 10000, 100000, max };
	double m[3][M_COUNT];
	struct sg_diag errs = { 0 };

	if (dir == NULL || max < 2 * BACKLOG) {
		fprintf(stderr, "usage: bench-scale DIR [MAX] | bench-scale --gen DIR N\n");
		return 2;
	}
	sg_log_open_stderr("bench-scale");
	sg_log_set_level(SG_LOG_ERROR);
	sg_report_tz_set("UTC");
	char *path = sg_xasprintf("%s/sg.conf", dir);
	conf = sg_conf_load(path, &errs);
	sg_diag_print(&errs, stderr);
	sg_diag_clear(&errs);
	free(path);
	if (conf == NULL)
		return 1;
	const char *sd = conf->state_dir;
	int empty = 0;
	if (sg_store_open(sd, SG_STORE_NOSYNC, &st) != 0)
		return 1;
	if (sg_store_is_empty(st, &empty) != 0 || !empty) {
		fprintf(stderr, "bench-scale: %s: the store is not empty (the generator starts from nothing)\n", sd);
		return 1;
	}
	if (gen_only) {
		double t0 = now_ns();
		fill(max);
		sg_store_checkpoint(st);
		printf("generated %llu tickets in %.1f s, %.0f store bytes per ticket\n", (unsigned long long)max,
		       (now_ns() - t0) / 1e9, store_bytes(sd) / (double)max);
		sg_store_close(&st);
		return 0;
	}
	sg_ingest_init();
	size_t nsizes = 0;
	for (size_t k = 0; k < 3; k++) {
		if (sizes[k] > max || (nsizes > 0 && sizes[k] <= sizes[nsizes - 1]))
			continue;
		uint64_t n = sizes[k];
		double t0 = now_ns();
		fill(n);
		double tf = (now_ns() - t0) / 1e9;
		sg_store_checkpoint(st);
		int64_t now = created_at(n - 1) + 60;
		double *x = m[nsizes];
		x[M_BYTES] = store_bytes(sd) / (double)n;
		x[M_FIRST] = first_after_fill();
		lookup_passes(x, x + M_PG_MSGID, x + M_MSGID2);
		clock_passes(x, now);
		report_week(x, now);
		followups(x, sd, n);
		printf("(%llu tickets, %llu messages: generated in %.1f s, measured in %.1f s)\n", (unsigned long long)n,
		       (unsigned long long)n * 3, tf, (now_ns() - t0) / 1e9 - tf);
		fflush(stdout);
		sizes[nsizes++] = n;
	}
	sg_store_checkpoint(st);
	printf("\nbytes per ticket by file at %llu tickets:", (unsigned long long)have);
	for (int t = 0; t < SG_TB_COUNT; t++) {
		static const char *const files[] = { SG_FILE_TICKETS, SG_FILE_MESSAGES, SG_FILE_RAW, SG_FILE_MSGID,
			SG_FILE_CUSTOMERS, SG_FILE_EVENTS, SG_FILE_META, SG_FILE_JOBS, SG_FILE_DUE, SG_FILE_JOBTICKET,
			SG_FILE_ACTIVE };
		char *p = sg_xasprintf("%s/db/%s", sd, files[t]);
		struct stat sb;
		if (stat(p, &sb) == 0 && sb.st_size >= (off_t)have)
			printf(" %s %.0f", files[t], (double)sb.st_size / (double)have);
		free(p);
	}
	printf("\n");
	printf("\nscale: each figure and its ratio to the %llu-ticket figure (target: within 2x)\n",
	       (unsigned long long)sizes[0]);
	printf("%-20s", "tickets");
	for (size_t k = 0; k < nsizes; k++)
		printf(" %10llu %7s", (unsigned long long)sizes[k], "");
	printf("\n");
	for (int j = 0; j < M_COUNT; j++) {
		printf("%-20s", mname[j]);
		for (size_t k = 0; k < nsizes; k++) {
			char v[32];
			snprintf(v, sizeof(v), "%.*f %s", m[k][j] < 10 ? 2 : m[k][j] < 100 ? 1 : 0, m[k][j], munit[j]);
			if (m[0][j] > 0)
				printf(" %10s %6.2fx", v, m[k][j] / m[0][j]);
			else
				printf(" %10s %7s", v, "");   /* pages read at the first size: 0 */
		}
		printf("\n");
	}
	close_fixture();
	free(ids);
	return 0;
}
