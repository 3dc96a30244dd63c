/*
 * supportgate tickets / show / ingest — reading and feeding tickets.
 *
 * tickets [--status S] [--queue Q] [--customer ADDR] [--sort KEY] [--reverse] [--limit N] [--json]
 * search TEXT [the same options]: subjects, requestors and their names
 * show N [--json]
 * ingest FILE.eml [--from ADDR] [--to ADDR]   (the IMAP door's entry point)
 *
 * JSON is part of the interface (see supportgate(1)); its times are RFC
 * 3339 in UTC; text shows local time (cli-fmt.h).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <strings.h>
#include <time.h>

#include "mail/address.h"
#include "cli.h"
#include "cli-fmt.h"
#include "calendar/calendar.h"
#include "ticket/slatime.h"
#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "mail/message.h"
#include "store/store.h"
#include "mail/token.h"
#include "ticket/summary.h"
#include "lib/xalloc.h"

static json_t *
jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *
jlist(const struct sg_strlist *l)
{
	json_t *a = json_array();
	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, json_string(l->v[i]));
	return a;
}

static json_t *
ticket_json(const struct sg_conf *c, const struct sg_ticket *t)
{
	return sg_ticket_summary_json(c, t);   /* the same fields as a webhook's "ticket" */
}

/* One row of a list: what is shown and sorted on. */
struct row {
	uint64_t id;
	int status, priority;
	int64_t created, updated, due;
	char *queue, *requestor, *subject;
	json_t *json;
};

enum sort_key { SORT_ID, SORT_CREATED, SORT_UPDATED, SORT_PRIORITY, SORT_DUE };

struct list_filter {
	const struct sg_conf *c;
	int status;          /* -1: any */
	const char *queue;
	const char *search;  /* `search TEXT`: subjects, requestors, names */
	int json;
	int sorted;          /* --sort given: collect, then sort */
	enum sort_key key;
	int reverse;
	size_t limit;        /* 0: all */
	struct row *rows;
	size_t n, cap;       /* rows kept */
	size_t matched;      /* all that matched, kept or not */
};

/* Substring for the search, in any letter case (Unicode case folding:
 * "счёт" finds "Счёт"); needle is folded already. */
static int
has_text(const char *hay, const char *needle)
{
	if (hay == NULL || !g_utf8_validate(hay, -1, NULL))
		return hay != NULL && strcasestr(hay, needle) != NULL;
	char *f = g_utf8_casefold(hay, -1);
	int found = strstr(f, needle) != NULL;
	g_free(f);
	return found;
}

static int
list_one(const struct sg_ticket *t, void *arg)
{
	struct list_filter *f = arg;

	if (f->status >= 0 && (int)t->status != f->status)
		return 0;
	if (f->queue != NULL && strcasecmp(f->queue, t->queue ? t->queue : "default") != 0)
		return 0;
	if (f->search != NULL && !has_text(t->subject, f->search) && !has_text(t->requestor, f->search) &&
	    !has_text(t->requestor_name, f->search))
		return 0;
	f->matched++;
	if (!f->sorted && f->limit > 0 && f->n >= f->limit)
		return 0;   /* counted for the summary, not shown */
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->rows = sg_xreallocarray(f->rows, f->cap, sizeof(*f->rows));
	}
	struct row *r = &f->rows[f->n++];
	memset(r, 0, sizeof(*r));
	r->id = t->id;
	r->status = (int)t->status;
	r->priority = (int)t->priority;
	r->created = t->created;
	r->updated = t->updated;
	r->due = t->due;
	if (f->json) {
		r->json = ticket_json(f->c, t);
	} else {
		r->queue = sg_xstrdup(t->queue ? t->queue : "default");
		r->requestor = sg_xstrdup(t->requestor ? t->requestor : "");
		r->subject = sg_xstrdup(t->subject ? t->subject : "");
	}
	return 0;
}

static enum sort_key sort_by;

static int
cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int
row_cmp(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	int c = 0;

	switch (sort_by) {
	case SORT_CREATED: c = cmp_i64(a->created, b->created); break;
	case SORT_UPDATED: c = cmp_i64(a->updated, b->updated); break;
	case SORT_PRIORITY: c = cmp_i64(b->priority, a->priority); break;   /* urgent first */
	case SORT_DUE:   /* tickets without a due time last */
		c = cmp_i64(a->due ? a->due : INT64_MAX, b->due ? b->due : INT64_MAX);
		break;
	case SORT_ID: break;
	}
	return c != 0 ? c : cmp_i64((int64_t)a->id, (int64_t)b->id);
}

static void
print_rows(struct list_filter *f)
{
	size_t shown = f->limit > 0 && f->n > f->limit ? f->limit : f->n;
	json_t *arr = f->json ? json_array() : NULL;

	if (!f->json)
		printf("%6s  %-8s  %-8s  %-10s  %-28s  %-19s  %s\n", "ID", "STATUS", "PRIO", "QUEUE", "REQUESTOR",
		       "UPDATED", "SUBJECT");
	for (size_t k = 0; k < shown; k++) {
		struct row *r = &f->rows[f->reverse ? f->n - 1 - k : k];
		if (f->json) {
			json_array_append(arr, r->json);
			continue;
		}
		char upd[SG_CLI_TIME_LEN];
		printf("%6llu  %-8s  %-8s  ", (unsigned long long)r->id, sg_status_name((enum sg_status)r->status),
		       sg_priority_name((enum sg_priority)r->priority));
		sg_cli_cell(stdout, r->queue, 10);
		fputs("  ", stdout);
		sg_cli_cell(stdout, r->requestor, 28);
		printf("  %-19s  ", sg_cli_time(r->updated, upd, sizeof(upd)));
		sg_cli_cell(stdout, r->subject, 0);
		fputc('\n', stdout);
	}
	if (f->json) {
		char *s = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(arr);
	} else {
		printf("-- %zu ticket(s)", f->matched);
		if (shown < f->matched)
			printf(", %zu shown (--limit)", shown);
		printf(" --\n");
	}
	for (size_t i = 0; i < f->n; i++) {
		json_decref(f->rows[i].json);
		free(f->rows[i].queue);
		free(f->rows[i].requestor);
		free(f->rows[i].subject);
	}
	free(f->rows);
}

static int
parse_sort(const char *s, enum sort_key *k)
{
	static const struct { const char *n; enum sort_key k; } keys[] = {
		{ "id", SORT_ID }, { "created", SORT_CREATED }, { "updated", SORT_UPDATED },
		{ "priority", SORT_PRIORITY }, { "due", SORT_DUE },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(s, keys[i].n) == 0) {
			*k = keys[i].k;
			return 0;
		}
	return -1;
}

/* The walk for `tickets` and `search`: one customer's tickets through
 * the customer index, otherwise the tickets table in id order. */
static int
walk(struct sg_store *st, const char *customer, struct list_filter *f)
{
	if (customer == NULL)
		return sg_store_ticket_foreach(st, list_one, f);
	uint64_t *ids = NULL;
	size_t n = 0;
	char *addr = sg_addr_normalize(customer);
	int rc = addr ? sg_store_customer_tickets(st, NULL, addr, &ids, &n) : SG_STORE_NOTFOUND;
	if (rc == SG_STORE_NOTFOUND)
		rc = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		struct sg_ticket t = { 0 };
		if (sg_store_ticket_get(st, NULL, ids[i], &t) == 0)
			list_one(&t, f);
		sg_ticket_clear(&t);
	}
	free(ids);
	free(addr);
	return rc;
}

static int
list_cmd(int argc, char **argv, const char *name)
{
	static const struct option lopts[] = {
		{ "status", required_argument, NULL, 's' }, { "queue", required_argument, NULL, 'q' },
		{ "customer", required_argument, NULL, 'C' }, { "json", no_argument, NULL, 'j' },
		{ "limit", required_argument, NULL, 'l' }, { "sort", required_argument, NULL, 'S' },
		{ "reverse", no_argument, NULL, 'r' }, { NULL, 0, NULL, 0 },
	};
	struct list_filter f = { .status = -1 };
	const char *customer = NULL;
	char *folded = NULL;
	int opt, rc = 0;
	char *end;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			f.status = sg_status_parse(optarg);
			if (f.status < 0) {
				fprintf(stderr, "supportgate: unknown status '%s' (new, open, pending, resolved, closed)\n", optarg);
				return 2;
			}
			break;
		case 'q': f.queue = optarg; break;
		case 'C': customer = optarg; break;
		case 'j': f.json = 1; break;
		case 'l':
			f.limit = strtoul(optarg, &end, 10);
			if (*end != '\0' || f.limit == 0) {
				fprintf(stderr, "supportgate: --limit wants a number above 0, not '%s'\n", optarg);
				return 2;
			}
			break;
		case 'S':
			if (parse_sort(optarg, &f.key) != 0) {
				fprintf(stderr, "supportgate: unknown sort key '%s' (id, created, updated, priority, due)\n", optarg);
				return 2;
			}
			f.sorted = 1;
			break;
		case 'r': f.reverse = f.sorted = 1; break;
		default: return sg_cli_usage(name, 2);
		}
	}
	if (strcmp(name, "search") == 0) {
		if (optind + 1 != argc || argv[optind][0] == '\0')
			return sg_cli_usage(name, 2);
		if (!g_utf8_validate(argv[optind], -1, NULL)) {
			fprintf(stderr, "supportgate: search TEXT must be UTF-8\n");
			return 2;
		}
		f.search = folded = g_utf8_casefold(argv[optind++], -1);
	}
	if (optind != argc) {
		g_free(folded);
		return sg_cli_usage(name, 2);
	}
	f.c = sg_cli_conf();
	struct sg_store *st = sg_cli_store(f.c);
	rc = walk(st, customer, &f);
	g_free(folded);
	if (f.sorted) {
		sort_by = f.key;
		if (f.n > 1)
			qsort(f.rows, f.n, sizeof(*f.rows), row_cmp);
	}
	print_rows(&f);
	sg_store_close(&st);
	if (rc != 0) {
		fprintf(stderr, "supportgate: reading tickets failed\n");
		return 1;
	}
	return 0;
}

int
sg_cmd_tickets(int argc, char **argv)
{
	return list_cmd(argc, argv, "tickets");
}

int
sg_cmd_search(int argc, char **argv)
{
	return list_cmd(argc, argv, "search");
}

struct tl_line {
	int64_t time;
	size_t order;
	char *text;
};

struct show_ctx {
	json_t *msgs, *events, *ratings;
	int last_rating;
	int text;
	struct tl_line *tl;   /* text mode: one timeline, sorted by time */
	size_t ntl;
};

static void
tl_add(struct show_ctx *s, int64_t t, char *text)
{
	s->tl = sg_xreallocarray(s->tl, s->ntl + 1, sizeof(*s->tl));
	s->tl[s->ntl].time = t;
	s->tl[s->ntl].order = s->ntl;
	s->tl[s->ntl].text = text;
	s->ntl++;
}

static int
tl_cmp(const void *a, const void *b)
{
	const struct tl_line *x = a, *y = b;
	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
show_msg(const struct sg_msgrec *m, void *arg)
{
	struct show_ctx *s = arg;
	char when[SG_CLI_TIME_LEN];

	sg_cli_time(m->received, when, sizeof(when));
	if (s->text) {
		tl_add(s, m->received, sg_xasprintf("  %s  message %u %-8s from %s  <%s>%s\n      %s\n", when, m->seq,
						    sg_direction_name(m->direction), m->from, m->message_id,
						    (m->flags & SG_MSG_TRUNCATED) ? " (truncated)" : "", m->subject));
		return 0;
	}
	json_t *o = json_object();
	json_object_set_new(o, "seq", json_integer(m->seq));
	json_object_set_new(o, "direction", json_string(sg_direction_name(m->direction)));
	json_object_set_new(o, "from", jstr(m->from));
	json_object_set_new(o, "message_id", jstr(m->message_id));
	json_object_set_new(o, "date", sg_cli_jtime(m->date ? m->date : m->received));
	json_object_set_new(o, "received", sg_cli_jtime(m->received));
	json_object_set_new(o, "subject", jstr(m->subject));
	json_object_set_new(o, "size", json_integer((json_int_t)m->size));
	json_object_set_new(o, "truncated", json_boolean(m->flags & SG_MSG_TRUNCATED));
	json_array_append_new(s->msgs, o);
	return 0;
}

static int
show_event(const struct sg_event *e, void *arg)
{
	struct show_ctx *s = arg;
	char when[SG_CLI_TIME_LEN];

	sg_cli_time(e->time, when, sizeof(when));
	/* a rating event's detail is "N: comment" (ingest/customer.c) */
	int rating = strcmp(e->type, "rating") == 0 && e->detail && e->detail[0] >= '1' && e->detail[0] <= '5' ?
		     e->detail[0] - '0' : 0;
	if (rating)
		s->last_rating = rating;
	if (s->text) {
		tl_add(s, e->time, sg_xasprintf("  %s  event   %-14s by %s: %s\n", when, e->type, e->actor,
						e->detail ? e->detail : ""));
		return 0;
	}
	if (rating) {
		json_t *r = json_object();
		json_object_set_new(r, "rating", json_integer(rating));
		json_object_set_new(r, "comment", jstr(e->detail[1] == ':' ? e->detail + 2 + (e->detail[2] == ' ') : ""));
		json_object_set_new(r, "by", jstr(e->actor));
		json_object_set_new(r, "time", sg_cli_jtime(e->time));
		json_array_append_new(s->ratings, r);
	}
	json_t *o = json_object();
	json_object_set_new(o, "type", jstr(e->type));
	json_object_set_new(o, "actor", jstr(e->actor));
	json_object_set_new(o, "time", sg_cli_jtime(e->time));
	json_object_set_new(o, "detail", jstr(e->detail));
	json_array_append_new(s->events, o);
	return 0;
}

/* The SLA fields (ticket/slatime.h) that are set, as text lines (the
 * JSON has them in the summary's "sla" object). */
static void
sla_text(const struct sg_conf *c, const struct sg_ticket *t)
{
	const struct sg_calendar *cal = sg_slatime_calendar(c, t);
	char a[40], b[40];

	if (t->sla_tier || t->service)
		printf("  sla:          %s%s%s\n", t->sla_tier ? t->sla_tier : "-", t->service ? ", service " : "",
		       t->service ? t->service : "");
	if (t->first_response_due) {
		sg_calendar_format(cal, t->first_response_due, a, sizeof(a));
		if (t->first_response_at)
			sg_calendar_format(cal, t->first_response_at, b, sizeof(b));
		printf("  1st response: due %s, %s%s%s\n", a, t->first_response_at ? "given " : "",
		       t->first_response_at ? b : "none yet",
		       t->sla_fired & SG_SLA_FR_BREACH ? " (breached)" : t->sla_fired & SG_SLA_FR_WARN ? " (warned)" : "");
	}
	if (t->due) {
		sg_calendar_format(cal, t->due, a, sizeof(a));
		printf("  due:          %s%s\n", a,
		       t->sla_fired & SG_SLA_RES_BREACH ? " (breached)" : t->sla_fired & SG_SLA_RES_WARN ? " (warned)" : "");
	}
	if (t->paused_secs || t->paused_since)
		printf("  paused:       %llds in all%s\n", (long long)t->paused_secs, t->paused_since ? ", pending now" : "");
	if (t->reopens)
		printf("  reopens:      %u\n", t->reopens);
	if (t->reason)
		printf("  overdue:      %s\n", t->reason);
}

int
sg_cmd_show(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "json", no_argument, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	int opt, json = 0, rc;
	char *end;
	unsigned long long id;
	struct sg_ticket t = { 0 };
	struct show_ctx sc = { 0 };

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		if (opt == 'j')
			json = 1;
		else
			return sg_cli_usage("show", 2);
	}
	if (optind + 1 != argc)
		return sg_cli_usage("show", 2);
	errno = 0;
	id = strtoull(argv[optind][0] == '#' ? argv[optind] + 1 : argv[optind], &end, 10);
	if (errno || *end != '\0' || id == 0) {
		fprintf(stderr, "supportgate: '%s' is not a ticket number\n", argv[optind]);
		return 2;
	}
	const struct sg_conf *c = sg_cli_conf();
	struct sg_store *st = sg_cli_store(c);
	rc = sg_store_ticket_get(st, NULL, id, &t);
	if (rc != 0) {
		fprintf(stderr, "supportgate: %s ticket %llu\n", rc == SG_STORE_NOTFOUND ? "no such" : "cannot read", id);
		sg_store_close(&st);
		return 1;
	}
	if (json) {
		json_t *o = ticket_json(c, &t);
		sc.msgs = json_array();
		sc.events = json_array();
		sc.ratings = json_array();
		json_object_set_new(o, "participants", jlist(&t.participants));
		json_object_set_new(o, "tags", jlist(&t.tags));
		json_object_set_new(o, "sla_tier", jstr(t.sla_tier));
		json_object_set_new(o, "segment", jstr(t.segment));
		json_object_set_new(o, "language", jstr(t.language));
		json_object_set_new(o, "transfers", json_integer(t.transfers));
		json_object_set_new(o, "closed", sg_cli_jtime(t.closed_at));
		json_object_set_new(o, "due", sg_cli_jtime(t.due));
		rc = sg_store_message_foreach(st, NULL, id, show_msg, &sc);
		if (rc == 0)
			rc = sg_store_event_foreach(st, NULL, id, show_event, &sc);
		json_object_set_new(o, "messages", sc.msgs);
		json_object_set_new(o, "message_count", json_integer(t.nmessages));
		json_object_set_new(o, "events", sc.events);
		json_object_set_new(o, "ratings", sc.ratings);
		char *s = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		char *token = sg_token_format(c->ticket_tag, t.id, c->token_secret, c->token_secret_len);
		char cr[SG_CLI_TIME_LEN], up[SG_CLI_TIME_LEN];
		sg_cli_time(t.created, cr, sizeof(cr));
		sg_cli_time(t.updated, up, sizeof(up));
		printf("Ticket %s %s\n", token, t.subject ? t.subject : "");
		printf("  status:       %s\n  priority:     %s\n  queue:        %s\n  assignee:     %s\n",
		       sg_status_name(t.status), sg_priority_name(t.priority), t.queue ? t.queue : "default",
		       t.assignee ? t.assignee : "-");
		printf("  requestor:    %s%s%s%s\n", t.requestor_name ? t.requestor_name : "",
		       t.requestor_name ? " <" : "", t.requestor ? t.requestor : "", t.requestor_name ? ">" : "");
		printf("  participants:");
		for (size_t i = 0; i < t.participants.n; i++)
			printf(" %s", t.participants.v[i]);
		printf("\n  tags:        ");
		for (size_t i = 0; i < t.tags.n; i++)
			printf(" %s", t.tags.v[i]);
		printf("\n  created:      %s\n  updated:      %s\n", cr, up);
		if (t.linked)
			printf("  continues:    #%llu\n", (unsigned long long)t.linked);
		sla_text(c, &t);
		printf("Timeline:\n");
		free(token);
		sc.text = 1;
		rc = sg_store_message_foreach(st, NULL, id, show_msg, &sc);
		if (rc == 0)
			rc = sg_store_event_foreach(st, NULL, id, show_event, &sc);
		if (sc.ntl > 1)
			qsort(sc.tl, sc.ntl, sizeof(*sc.tl), tl_cmp);
		for (size_t i = 0; i < sc.ntl; i++) {
			fputs(sc.tl[i].text, stdout);
			free(sc.tl[i].text);
		}
		if (sc.last_rating)
			printf("Rating: %d of 5 (the latest)\n", sc.last_rating);
		free(sc.tl);
	}
	sg_ticket_clear(&t);
	sg_store_close(&st);
	return rc == 0 ? 0 : 1;
}

int
sg_cmd_ingest(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL;
	struct sg_strlist to = { 0 };
	struct sg_ingest_in in;
	struct sg_decision d;
	int opt, rc;
	size_t len;
	char *raw;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'f': from = optarg; break;
		case 't': sg_strlist_add(&to, optarg, 0); break;
		default: return sg_cli_usage("ingest", EX_USAGE);
		}
	}
	if (optind + 1 != argc)
		return sg_cli_usage("ingest", EX_USAGE);
	/* A pipe or fetchmail reads the exit status as sysexits(3), and
	 * Postfix retries on EX_TEMPFAIL but bounces on the others. So every
	 * failure that is ours, not the message's (configuration, store,
	 * resources, a bug, a broken input pipe), is EX_TEMPFAIL: the mail
	 * waits in the MTA's queue until the admin has fixed it, as the
	 * milter's tempfail defaults keep it. */
	sg_cli_exit_status(EX_TEMPFAIL, EX_TEMPFAIL);
	raw = sg_cli_slurp(argv[optind], &len);
	if (raw == NULL) {
		int e = errno;
		fprintf(stderr, "supportgate: %s: %s\n", argv[optind], strerror(e));
		return e == ENOENT || e == EACCES || e == ENOTDIR ? EX_NOINPUT : EX_TEMPFAIL;
	}
	const struct sg_conf *c = sg_cli_conf();
	/* Envelope defaults: From header and the first support address. */
	char *from_hdr = NULL;
	if (from == NULL) {
		struct sg_msginfo *mi = NULL;
		if (sg_message_parse(raw, len, &mi) == 0 && mi != NULL && mi->from_addr != NULL)
			from_hdr = sg_xstrdup(mi->from_addr);
		sg_msginfo_free(&mi);
		from = from_hdr ? from_hdr : "";
	}
	if (to.n == 0 && c->support_address.n > 0)
		sg_strlist_add(&to, c->support_address.v[0], 0);

	struct sg_store *st = sg_cli_store(c);
	memset(&in, 0, sizeof(in));
	in.raw = raw;
	in.len = len;
	in.env_from = from;
	in.env_rcpt = (const char *const *)to.v;
	in.nrcpt = to.n;
	in.door = SG_DOOR_CLI;
	rc = sg_ingest(st, c, &in, &d);
	if (rc == SG_ING_OK) {
		if (d.ticket)
			printf("%s ticket %llu%s%s\n", sg_verdict_name(d.verdict), (unsigned long long)d.ticket,
			       d.reason ? ": " : "", d.reason ? d.reason : "");
		else
			printf("%s: %s\n", sg_verdict_name(d.verdict), d.reason ? d.reason : "");
	} else {
		fprintf(stderr, "supportgate: ingest failed (%s)\n",
			rc == SG_ING_EPARSE ? "message cannot be parsed" :
			rc == SG_ING_ESTORE ? "store error" : "internal error");
	}
	sg_decision_clear(&d);
	sg_store_close(&st);
	sg_strlist_clear(&to);
	free(from_hdr);
	free(raw);
	switch (rc) {
	case SG_ING_OK: return EX_OK;
	case SG_ING_EPARSE: return EX_DATAERR;
	default: return EX_TEMPFAIL;   /* store, resource, internal */
	}
}

int
sg_cmd_db(int argc, char **argv)
{
	if (argc < 2)
		return sg_cli_usage("db", 2);
	if (strcmp(argv[1], "export") == 0)
		return sg_cli_db_export(argc - 1, argv + 1);
	if (strcmp(argv[1], "import") == 0)
		return sg_cli_db_import(argc - 1, argv + 1);
	const struct sg_conf *c = sg_cli_conf();
	if (strcmp(argv[1], "verify") == 0 && argc == 2) {
		/* the files are read directly: the cache's changes first */
		struct sg_store *st = sg_cli_store(c);
		int rc = sg_store_checkpoint(st);
		sg_store_close(&st);
		if (rc != 0)
			fprintf(stderr, "supportgate: cannot write the cache to the files before verifying\n");
		rc = rc == 0 ? sg_store_verify(c->state_dir, stdout) : rc;
		printf("%s\n", rc == 0 ? "verify: OK" : "verify: FAILED");
		return rc == 0 ? 0 : 1;
	}
	if (strcmp(argv[1], "backup") == 0 && argc == 3) {
		struct sg_store *st = sg_cli_store(c);
		int rc = sg_store_backup(st, argv[2]);
		sg_store_close(&st);
		printf("%s\n", rc == 0 ? "backup: done" : "backup: FAILED");
		return rc == 0 ? 0 : 1;
	}
	if (strcmp(argv[1], "recover") == 0 && argc == 2) {
		int rc = sg_store_recover(c->state_dir);
		printf("%s\n", rc == 0 ? "recover: done" : "recover: FAILED");
		return rc == 0 ? 0 : 1;
	}
	return sg_cli_usage("db", 2);
}
