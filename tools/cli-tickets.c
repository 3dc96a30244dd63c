/*
 * supportgate tickets / show / ingest — reading and feeding tickets.
 *
 * tickets [--status S] [--queue Q] [--customer ADDR] [--json]
 * show N [--json]
 * ingest FILE.eml [--from ADDR] [--to ADDR]   (the IMAP door's entry point)
 *
 * JSON is part of the interface (see supportgate(1)); times are RFC 3339
 * in UTC.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/address.h"
#include "cli.h"
#include "calendar/calendar.h"
#include "ticket/slatime.h"
#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "mail/message.h"
#include "store/store.h"
#include "mail/token.h"
#include "lib/xalloc.h"

static void
rfc3339(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
}

static json_t *
jtime(int64_t t)
{
	char buf[40];

	if (t == 0)
		return json_null();
	rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

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
	char *token = sg_token_format(c->ticket_tag, t->id, c->token_secret, c->token_secret_len);
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer((json_int_t)t->id));
	json_object_set_new(o, "token", json_string(token));
	json_object_set_new(o, "status", json_string(sg_status_name(t->status)));
	json_object_set_new(o, "queue", json_string(t->queue ? t->queue : "default"));
	json_object_set_new(o, "priority", json_string(sg_priority_name(t->priority)));
	json_object_set_new(o, "subject", jstr(t->subject));
	json_object_set_new(o, "requestor", jstr(t->requestor));
	json_object_set_new(o, "requestor_name", jstr(t->requestor_name));
	json_object_set_new(o, "assignee", jstr(t->assignee));
	json_object_set_new(o, "messages", json_integer(t->nmessages));
	json_object_set_new(o, "created", jtime(t->created));
	json_object_set_new(o, "updated", jtime(t->updated));
	json_object_set_new(o, "linked", t->linked ? json_integer((json_int_t)t->linked) : json_null());
	free(token);
	return o;
}

struct list_filter {
	const struct sg_conf *c;
	int status;          /* -1: any */
	const char *queue;
	json_t *json;        /* array when --json */
	size_t n;
};

static int
list_one(const struct sg_ticket *t, void *arg)
{
	struct list_filter *f = arg;

	if (f->status >= 0 && (int)t->status != f->status)
		return 0;
	if (f->queue != NULL && strcasecmp(f->queue, t->queue ? t->queue : "default") != 0)
		return 0;
	f->n++;
	if (f->json != NULL) {
		json_array_append_new(f->json, ticket_json(f->c, t));
	} else {
		char upd[40];
		rfc3339(t->updated, upd, sizeof(upd));
		printf("%6llu  %-8s  %-8s  %-10s  %-28.28s  %s  %s\n", (unsigned long long)t->id,
		       sg_status_name(t->status), sg_priority_name(t->priority), t->queue ? t->queue : "default",
		       t->requestor ? t->requestor : "", upd, t->subject ? t->subject : "");
	}
	return 0;
}

int
sg_cmd_tickets(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "status", required_argument, NULL, 's' }, { "queue", required_argument, NULL, 'q' },
		{ "customer", required_argument, NULL, 'C' }, { "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct list_filter f = { .status = -1 };
	const char *customer = NULL;
	int opt, json = 0, rc = 0;

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
		case 'j': json = 1; break;
		default: return sg_cli_usage("tickets", 2);
		}
	}
	if (optind != argc)
		return sg_cli_usage("tickets", 2);
	f.c = sg_cli_conf();
	struct sg_store *st = sg_cli_store(f.c);
	if (json)
		f.json = json_array();
	else
		printf("%6s  %-8s  %-8s  %-10s  %-28s  %-20s  %s\n", "ID", "STATUS", "PRIO", "QUEUE",
		       "REQUESTOR", "UPDATED", "SUBJECT");
	if (customer != NULL) {
		uint64_t *ids = NULL;
		size_t n = 0;
		char *addr = sg_addr_normalize(customer);
		rc = addr ? sg_store_customer_tickets(st, NULL, addr, &ids, &n) : SG_STORE_NOTFOUND;
		if (rc == SG_STORE_NOTFOUND)
			rc = 0;
		for (size_t i = 0; rc == 0 && i < n; i++) {
			struct sg_ticket t = { 0 };
			if (sg_store_ticket_get(st, NULL, ids[i], &t) == 0)
				list_one(&t, &f);
			sg_ticket_clear(&t);
		}
		free(ids);
		free(addr);
	} else {
		rc = sg_store_ticket_foreach(st, list_one, &f);
	}
	if (json) {
		char *s = json_dumps(f.json, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(f.json);
	}
	sg_store_close(&st);
	if (rc != 0) {
		fprintf(stderr, "supportgate: reading tickets failed\n");
		return 1;
	}
	return 0;
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
	char when[40];

	rfc3339(m->received, when, sizeof(when));
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
	json_object_set_new(o, "date", jtime(m->date ? m->date : m->received));
	json_object_set_new(o, "received", jtime(m->received));
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
	char when[40];

	rfc3339(e->time, when, sizeof(when));
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
		json_object_set_new(r, "time", jtime(e->time));
		json_array_append_new(s->ratings, r);
	}
	json_t *o = json_object();
	json_object_set_new(o, "type", jstr(e->type));
	json_object_set_new(o, "actor", jstr(e->actor));
	json_object_set_new(o, "time", jtime(e->time));
	json_object_set_new(o, "detail", jstr(e->detail));
	json_array_append_new(s->events, o);
	return 0;
}

/* The SLA fields (ticket/slatime.h): JSON members, and text lines for
 * what is set. */
static void
sla_json(json_t *o, const struct sg_ticket *t)
{
	json_object_set_new(o, "service", jstr(t->service));
	json_object_set_new(o, "first_response_due", jtime(t->first_response_due));
	json_object_set_new(o, "first_response_at", jtime(t->first_response_at));
	json_object_set_new(o, "resolved_at", jtime(t->resolved_at));
	json_object_set_new(o, "paused_since", jtime(t->paused_since));
	json_object_set_new(o, "paused_seconds", json_integer(t->paused_secs));
	json_object_set_new(o, "paused_business_seconds", json_integer(t->paused_bsecs));
	json_object_set_new(o, "reopens", json_integer(t->reopens));
	json_object_set_new(o, "sla_fired", json_integer(t->sla_fired));
	json_object_set_new(o, "rating", t->rating ? json_integer(t->rating) : json_null());
	json_object_set_new(o, "overdue_reason", jstr(t->reason));
}

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
		json_object_set_new(o, "closed", jtime(t.closed_at));
		json_object_set_new(o, "due", jtime(t.due));
		sla_json(o, &t);
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
		char cr[40], up[40];
		rfc3339(t.created, cr, sizeof(cr));
		rfc3339(t.updated, up, sizeof(up));
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
		default: return sg_cli_usage("ingest", 2);
		}
	}
	if (optind + 1 != argc)
		return sg_cli_usage("ingest", 2);
	raw = sg_cli_slurp(argv[optind], &len);
	if (raw == NULL) {
		fprintf(stderr, "supportgate: %s: %s\n", argv[optind], strerror(errno));
		return 1;
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
	return rc == SG_ING_OK ? 0 : 1;
}

int
sg_cmd_db(int argc, char **argv)
{
	if (argc < 2)
		return sg_cli_usage("db", 2);
	const struct sg_conf *c = sg_cli_conf();
	if (strcmp(argv[1], "verify") == 0 && argc == 2) {
		int rc = sg_store_verify(c->state_dir, stdout);
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
