/*
 * metrics — see metrics.h.
 */
#include "config.h"
#include "metrics/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/worker.h"
#include "lib/xalloc.h"
#include "store/record.h"
#include "store/store.h"
#include "ticket/event.h"

#define MOD "metrics"

/* Why an acknowledgement (or a notice to the customer) was not sent, in a
 * fixed set of classes so that the label set stays bounded whatever the
 * free text of the trail says. */
enum ack_reason {
	AR_ADDRESS_LIMIT, AR_GLOBAL_LIMIT, AR_ROBOT, AR_OWN_ADDRESS, AR_AUTO_SUBMITTED, AR_NULL_SENDER,
	AR_NO_ADDRESS, AR_LIST, AR_PRECEDENCE, AR_LOOP, AR_AUTO_RESPONSE_SUPPRESS, AR_DSN, AR_NOT_RENDERED,
	AR_OTHER, AR_COUNT
};

static const struct {
	const char *needle, *label;
} ack_reasons[AR_COUNT] = {
	[AR_ADDRESS_LIMIT] = { "rate limit for this address", "address-limit" },
	[AR_GLOBAL_LIMIT] = { "global acknowledgement limit", "global-limit" },
	[AR_ROBOT] = { "robot", "robot" },
	[AR_OWN_ADDRESS] = { "our own addresses", "own-address" },
	[AR_AUTO_SUBMITTED] = { "Auto-Submitted", "auto-submitted" },
	[AR_NULL_SENDER] = { "null return path", "null-sender" },
	[AR_NO_ADDRESS] = { "no usable From", "no-address" },
	[AR_LIST] = { "List-*", "list" },
	[AR_PRECEDENCE] = { "Precedence", "precedence" },
	[AR_LOOP] = { "X-Loop", "loop" },
	[AR_AUTO_RESPONSE_SUPPRESS] = { "X-Auto-Response-Suppress", "auto-response-suppress" },
	[AR_DSN] = { "delivery status notification", "dsn" },
	[AR_NOT_RENDERED] = { "render", "not-rendered" },   /* "nothing rendered", ... */
	[AR_OTHER] = { NULL, "other" },
};

static const char *const door_names[SG_MX_DOORS] = { "milter", "imap", "cli" };
static const char *const verdict_names[SG_MX_VERDICTS + 1] = {
	"new", "follow-up", "duplicate", "ignored", "agent", "status", "error",
};
static const char *const milter_names[SG_MX_MILTER_COUNT] = {
	"accept", "discard", "tempfail", "reject", "internal_error",
};
/* Upper bounds in seconds; the last bucket is +Inf. Fine below 5 ms (a
 * synced commit takes about 0.3-3 ms: a p99 target of 5 ms needs bounds
 * under it); the older bounds from 5 ms up are all still there, so a
 * query on le="0.005" keeps working; 15 and 20 ms tell a tail of a few
 * fsyncs from one of a checkpoint. */
static const double buckets[SG_MX_BUCKETS] = {
	0.00025, 0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5,
	1, 2.5, 5, 10, 30,
};

static struct {
	uint64_t messages[SG_MX_DOORS][SG_MX_VERDICTS + 1];
	uint64_t milter[SG_MX_MILTER_COUNT];
	uint64_t lat_bucket[SG_MX_BUCKETS + 1];
	uint64_t lat_count;
	uint64_t lat_sum_us;
	uint64_t events[SG_EV_COUNT];
	uint64_t acks_sent;
	uint64_t acks_suppressed[AR_COUNT];
	uint64_t sla_warnings, sla_breaches;
} mx;

static int64_t started;

static void
inc(uint64_t *v, uint64_t by)
{
	__atomic_add_fetch(v, by, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

void
sg_metrics_message(unsigned door, unsigned verdict)
{
	if (door < SG_MX_DOORS && verdict <= SG_MX_VERDICTS)
		inc(&mx.messages[door][verdict], 1);
}

void
sg_metrics_milter(enum sg_mx_milter outcome)
{
	if ((unsigned)outcome < SG_MX_MILTER_COUNT)
		inc(&mx.milter[outcome], 1);
}

void
sg_metrics_latency(double seconds)
{
	size_t b = 0;

	if (!(seconds >= 0))
		seconds = 0;
	while (b < SG_MX_BUCKETS && seconds > buckets[b])
		b++;
	/* one bucket per observation; the exposition makes them cumulative */
	inc(&mx.lat_bucket[b], 1);
	inc(&mx.lat_count, 1);
	inc(&mx.lat_sum_us, (uint64_t)(seconds * 1e6 + 0.5));
}

static enum ack_reason
ack_reason_of(const char *detail)
{
	for (int i = 0; i < AR_OTHER; i++)
		if (detail != NULL && strstr(detail, ack_reasons[i].needle) != NULL)
			return (enum ack_reason)i;
	return AR_OTHER;
}

/* One subscriber for every type: counts only, never fails the change. */
static int
on_event(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	const char *name = sg_event_type_name(ev->type);

	(void)op;
	(void)t;
	(void)arg;
	if ((unsigned)ev->type < SG_EV_COUNT)
		inc(&mx.events[ev->type], 1);
	if (ev->type == SG_EV_ACK)
		inc(&mx.acks_sent, 1);
	else if (ev->type == SG_EV_ACK_SUPPRESSED)
		inc(&mx.acks_suppressed[ack_reason_of(ev->detail)], 1);
	else if (strcmp(name, "sla-warning") == 0)
		inc(&mx.sla_warnings, 1);
	else if (strcmp(name, "sla-breach") == 0)
		inc(&mx.sla_breaches, 1);
	return 0;
}

void
sg_metrics_subscribe(void)
{
	if (started == 0)
		started = (int64_t)time(NULL);
	for (int i = 0; i < SG_EV_COUNT; i++)
		sg_event_subscribe((enum sg_event_type)i, on_event, NULL);
}

void
sg_metrics_reset(void)
{
	memset(&mx, 0, sizeof(mx));
}

/* ------------------------------------------------------------ exposition */

struct out {
	char *p;
	size_t len, cap;
};

static void __attribute__((format(printf, 2, 3)))
put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			sg_panic(MOD, "vsnprintf failed");
		if ((size_t)n < o->cap - o->len)
			break;
		o->cap = o->cap * 2 + (size_t)n + 1;
		o->p = sg_xrealloc(o->p, o->cap);
	}
	o->len += (size_t)n;
}

/* A label value as the text format wants it: \ " and newline escaped. */
static char *
label(const char *s)
{
	size_t n = 0;
	char *r, *q;

	for (const char *p = s; *p; p++)
		n += (*p == '\\' || *p == '"' || *p == '\n') ? 2 : 1;
	r = q = sg_xmalloc(n + 1);
	for (const char *p = s; *p; p++) {
		if (*p == '\\' || *p == '"' || *p == '\n')
			*q++ = '\\';
		*q++ = *p == '\n' ? 'n' : *p;
	}
	*q = '\0';
	return r;
}

static void
head(struct out *o, const char *name, const char *type, const char *help)
{
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
counters(struct out *o)
{
	head(o, "supportgate_messages_total", "counter", "Messages ingested, by door and verdict (error: ingest failed).");
	for (int d = 0; d < SG_MX_DOORS; d++)
		for (int v = 0; v <= SG_MX_VERDICTS; v++)
			put(o, "supportgate_messages_total{door=\"%s\",verdict=\"%s\"} %llu\n", door_names[d],
			    verdict_names[v], (unsigned long long)get(&mx.messages[d][v]));
	head(o, "supportgate_milter_outcomes_total", "counter",
	     "End-of-message replies of the milter, by class (internal_error: ingest failed, on_*_error answered).");
	for (int i = 0; i < SG_MX_MILTER_COUNT; i++)
		put(o, "supportgate_milter_outcomes_total{outcome=\"%s\"} %llu\n", milter_names[i],
		    (unsigned long long)get(&mx.milter[i]));
	head(o, "supportgate_ingest_latency_seconds", "histogram",
	     "Milter end of message to reply (parse, rules, commit, header changes).");
	uint64_t cum = 0;
	for (int b = 0; b < SG_MX_BUCKETS; b++) {
		cum += get(&mx.lat_bucket[b]);
		put(o, "supportgate_ingest_latency_seconds_bucket{le=\"%g\"} %llu\n", buckets[b], (unsigned long long)cum);
	}
	cum += get(&mx.lat_bucket[SG_MX_BUCKETS]);
	put(o, "supportgate_ingest_latency_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	put(o, "supportgate_ingest_latency_seconds_sum %.6f\n", (double)get(&mx.lat_sum_us) / 1e6);
	/* _count equals the +Inf bucket: the buckets were read first, and an
	 * observation racing with this write shows up in both next time */
	put(o, "supportgate_ingest_latency_seconds_count %llu\n", (unsigned long long)cum);
	head(o, "supportgate_acks_sent_total", "counter", "Acknowledgements queued to customers.");
	put(o, "supportgate_acks_sent_total %llu\n", (unsigned long long)get(&mx.acks_sent));
	head(o, "supportgate_acks_suppressed_total", "counter",
	     "Acknowledgements and customer notices not sent, by reason.");
	for (int i = 0; i < AR_COUNT; i++)
		put(o, "supportgate_acks_suppressed_total{reason=\"%s\"} %llu\n", ack_reasons[i].label,
		    (unsigned long long)get(&mx.acks_suppressed[i]));
	head(o, "supportgate_sla_warnings_total", "counter", "SLA warning thresholds reached (events sla-warning).");
	put(o, "supportgate_sla_warnings_total %llu\n", (unsigned long long)get(&mx.sla_warnings));
	head(o, "supportgate_sla_breaches_total", "counter", "SLA targets breached (events sla-breach).");
	put(o, "supportgate_sla_breaches_total %llu\n", (unsigned long long)get(&mx.sla_breaches));
	head(o, "supportgate_events_total", "counter", "Ticket events recorded by this process, by type.");
	for (int i = 0; i < SG_EV_COUNT; i++)
		put(o, "supportgate_events_total{type=\"%s\"} %llu\n", sg_event_type_name((enum sg_event_type)i),
		    (unsigned long long)get(&mx.events[i]));
}

/* Tickets by (queue, status): a handful of queues, so a short list. */
struct qcount {
	char *queue;
	uint64_t n[SG_ST_COUNT];
};
struct tally {
	struct qcount *q;
	size_t nq;
};

static int
count_ticket(const struct sg_ticket *t, void *arg)
{
	struct tally *ta = arg;
	const char *q = t->queue ? t->queue : "default";
	size_t i;

	for (i = 0; i < ta->nq && strcmp(ta->q[i].queue, q) != 0; i++)
		;
	if (i == ta->nq) {
		ta->q = sg_xreallocarray(ta->q, ta->nq + 1, sizeof(*ta->q));
		memset(&ta->q[i], 0, sizeof(ta->q[i]));
		ta->q[i].queue = sg_xstrdup(q);
		ta->nq++;
	}
	if ((unsigned)t->status < SG_ST_COUNT)
		ta->q[i].n[t->status]++;
	return 0;
}

struct jobtally {
	uint64_t queued[SG_JOB_KIND_COUNT], dead[SG_JOB_KIND_COUNT];
	int64_t oldest[SG_JOB_KIND_COUNT];   /* creation time, 0: none */
};

static int
count_job(const struct sg_job *j, void *arg)
{
	struct jobtally *jt = arg;
	unsigned k = j->kind < SG_JOB_KIND_COUNT ? j->kind : 0;

	if (j->state == SG_JOB_DEAD) {
		jt->dead[k]++;
	} else {
		jt->queued[k]++;
		if (jt->oldest[k] == 0 || j->created < jt->oldest[k])
			jt->oldest[k] = j->created;
	}
	return 0;
}

static const char *const kind_names[SG_JOB_KIND_COUNT] = { "mail", "webhook" };

static int
gauges(struct out *o, struct sg_store *st, int64_t now)
{
	struct tally ta = { 0 };
	struct jobtally jt = { 0 };
	int rc;

	if ((rc = sg_store_ticket_foreach(st, count_ticket, &ta)) == 0)
		rc = sg_store_job_foreach(st, count_job, &jt);
	if (rc == 0) {
		head(o, "supportgate_tickets", "gauge", "Tickets in the store, by queue and status.");
		for (size_t i = 0; i < ta.nq; i++) {
			char *q = label(ta.q[i].queue);
			for (int s = 0; s < SG_ST_COUNT; s++)
				put(o, "supportgate_tickets{queue=\"%s\",status=\"%s\"} %llu\n", q,
				    sg_status_name((enum sg_status)s), (unsigned long long)ta.q[i].n[s]);
			free(q);
		}
		head(o, "supportgate_outbound_queued", "gauge", "Outbound jobs waiting for delivery, by kind.");
		for (int k = 0; k < SG_JOB_KIND_COUNT; k++)
			put(o, "supportgate_outbound_queued{kind=\"%s\"} %llu\n", kind_names[k],
			    (unsigned long long)jt.queued[k]);
		head(o, "supportgate_outbound_oldest_age_seconds", "gauge",
		     "Age of the oldest outbound job waiting for delivery, by kind (0: none).");
		for (int k = 0; k < SG_JOB_KIND_COUNT; k++)
			put(o, "supportgate_outbound_oldest_age_seconds{kind=\"%s\"} %lld\n", kind_names[k],
			    (long long)(jt.oldest[k] && now > jt.oldest[k] ? now - jt.oldest[k] : 0));
		head(o, "supportgate_outbound_dead_letters", "gauge",
		     "Outbound jobs given up (dead letters, see supportgate queue), by kind.");
		for (int k = 0; k < SG_JOB_KIND_COUNT; k++)
			put(o, "supportgate_outbound_dead_letters{kind=\"%s\"} %llu\n", kind_names[k],
			    (unsigned long long)jt.dead[k]);
	}
	for (size_t i = 0; i < ta.nq; i++)
		free(ta.q[i].queue);
	free(ta.q);
	return rc;
}

int
sg_metrics_render(struct sg_store *st, int64_t now, char **out)
{
	struct out o = { sg_xmalloc(4096), 0, 4096 };
	int rc = 0;

	o.p[0] = '\0';
	counters(&o);
	if (st != NULL && (rc = gauges(&o, st, now)) != 0) {
		free(o.p);
		*out = NULL;
		return rc;
	}
	head(&o, "supportgate_start_time_seconds", "gauge", "When this supportgated started (Unix time).");
	put(&o, "supportgate_start_time_seconds %lld\n", (long long)started);
	*out = o.p;
	return 0;
}

static int
fsync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? sg_xstrdup(".") : slash == path ? sg_xstrdup("/") :
		    sg_xstrndup(path, (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY), rc = -1;

	if (fd >= 0) {
		rc = fsync(fd);
		close(fd);
	}
	free(dir);
	return rc;
}

int
sg_metrics_write(struct sg_store *st, const char *path, int64_t now)
{
	char *text = NULL, *tmp;
	int fd, rc;
	size_t off = 0, len;

	if ((rc = sg_metrics_render(st, now, &text)) != 0) {
		sg_error(MOD, "%s not written: store error %d", path, rc);
		return -1;
	}
	len = strlen(text);
	/* the same directory, so that rename() replaces path atomically; a
	 * name node_exporter skips (it reads *.prom only) */
	tmp = sg_xasprintf("%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		sg_error(MOD, "cannot create %s: %s", tmp, strerror(errno));
		goto fail;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			sg_error(MOD, "cannot write %s: %s", tmp, strerror(errno));
			close(fd);
			goto fail_unlink;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		sg_error(MOD, "cannot flush %s: %s", tmp, strerror(errno));
		goto fail_unlink;
	}
	if (rename(tmp, path) != 0) {
		sg_error(MOD, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto fail_unlink;
	}
	if (fsync_dir(path) != 0)
		sg_warn(MOD, "cannot flush the directory of %s: %s", path, strerror(errno));
	free(tmp);
	free(text);
	return 0;
fail_unlink:
	unlink(tmp);
fail:
	free(tmp);
	free(text);
	return -1;
}

/* ------------------------------------------------------------ the writer */

static struct sg_store *wstore;
static int64_t last_write;

static int
writer_pass(void *arg)
{
	struct sg_conf *c = sg_conf_current();
	int64_t now = (int64_t)time(NULL);

	(void)arg;
	if (c != NULL && c->metrics_file[0] != '\0' && now - last_write >= c->metrics_interval) {
		last_write = now;
		(void)sg_metrics_write(wstore, c->metrics_file, now);
	}
	sg_conf_unref(&c);
	return 0;
}

static struct sg_worker writer = SG_WORKER_INIT(writer_pass, NULL, 1);

int
sg_metrics_start(struct sg_store *st)
{
	if (started == 0)
		started = (int64_t)time(NULL);
	wstore = st;
	last_write = 0;
	return sg_worker_start(&writer);
}

void
sg_metrics_stop(void)
{
	sg_worker_stop(&writer);
}
