/*
 * test-metrics — the counters and their exposition: known mail through
 * sg_ingest() (a new ticket acknowledged, one from a robot whose
 * acknowledgement is suppressed, a duplicate, mail for nobody), latency
 * observations in known buckets, milter outcomes; the numbers in the
 * rendered text, the gauges read from the store, and the file written
 * atomically (no temp file left, replaced whole).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "lib/log.h"
#include "metrics/metrics.h"

static const char *dir;

/* The value of the sample called series (name with its labels) in text,
 * or -1 when there is none. */
static double
value(const char *text, const char *series)
{
	size_t n = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, series, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static char *
render(void)
{
	char *text = NULL;

	if (sg_metrics_render(st, 1700000000, &text) != 0)
		return sg_xstrdup("");
	return text;
}

static void
mail_counts(void)
{
	static const char *const nobody[1] = { "sales@example.com" };
	struct sg_decision d = { 0 };
	const char *first = "From: Ann <ann@customer.example>\nTo: support@example.com\nSubject: broken\n"
			    "Message-ID: <mx-1@customer.example>\n\nit broke\n";

	sg_metrics_reset();
	ok(ingest_mail((struct sg_ingest_in){ .raw = first }, &d) == SG_ING_OK && d.verdict == SG_V_NEW, "new ticket");
	ok(ingest_mail((struct sg_ingest_in){ .raw = first }, &d) == SG_ING_OK && d.verdict == SG_V_DUPLICATE,
	   "the same mail again: duplicate");
	ok(ingest_mail((struct sg_ingest_in){ .raw = "From: noreply@shop.example\nTo: support@example.com\n"
						       "Subject: your order\nMessage-ID: <mx-2@shop.example>\n\nshipped\n" },
		       &d) == SG_ING_OK && d.verdict == SG_V_NEW, "a robot's mail: new ticket");
	ok(ingest_mail((struct sg_ingest_in){ .raw = "From: x@y.example\nTo: sales@example.com\nSubject: hi\n\nhi\n",
					      .env_rcpt = nobody, .nrcpt = 1 }, &d) == SG_ING_OK &&
	   d.verdict == SG_V_IGNORED, "mail for nobody: ignored");
	ok(ingest_mail((struct sg_ingest_in){ .raw = "From: Bob <bob@customer.example>\nTo: support@example.com\n"
						       "Subject: imap\nMessage-ID: <mx-3@customer.example>\n\nvia imap\n",
					      .door = SG_DOOR_IMAP }, &d) == SG_ING_OK && d.verdict == SG_V_NEW,
	   "new ticket through the IMAP door");
	sg_decision_clear(&d);

	char *t = render();
	is_int((long long)value(t, "supportgate_messages_total{door=\"milter\",verdict=\"new\"}"), 2, "milter new: 2");
	is_int((long long)value(t, "supportgate_messages_total{door=\"milter\",verdict=\"duplicate\"}"), 1,
	       "milter duplicate: 1");
	is_int((long long)value(t, "supportgate_messages_total{door=\"milter\",verdict=\"ignored\"}"), 1,
	       "milter ignored: 1");
	is_int((long long)value(t, "supportgate_messages_total{door=\"imap\",verdict=\"new\"}"), 1, "imap new: 1");
	is_int((long long)value(t, "supportgate_messages_total{door=\"cli\",verdict=\"new\"}"), 0, "cli new: 0");
	is_int((long long)value(t, "supportgate_acks_sent_total"), 2, "acks sent: 2 (ann, bob)");
	is_int((long long)value(t, "supportgate_acks_suppressed_total{reason=\"robot\"}"), 1, "ack suppressed: robot");
	is_int((long long)value(t, "supportgate_events_total{type=\"created\"}"), 3, "created events: 3");
	is_int((long long)value(t, "supportgate_tickets{queue=\"default\",status=\"new\"}"), 3,
	       "gauge: 3 new tickets in the default queue");
	is_int((long long)value(t, "supportgate_tickets{queue=\"default\",status=\"closed\"}"), 0, "gauge: none closed");
	is_int((long long)value(t, "supportgate_outbound_queued{kind=\"mail\"}"), 2, "gauge: two acks queued");
	is_int((long long)value(t, "supportgate_outbound_oldest_age_seconds{kind=\"webhook\"}"), 0,
	       "gauge: no webhook waiting");
	is_int((long long)value(t, "supportgate_outbound_dead_letters{kind=\"mail\"}"), 0, "gauge: no dead letters");
	is_int((long long)value(t, "supportgate_sla_warnings_total"), 0, "SLA warnings: 0");
	free(t);
}

static void
milter_and_latency(void)
{
	sg_metrics_reset();
	sg_metrics_latency(0.0002);
	sg_metrics_latency(0.003);   /* on a bound: that bucket (le) */
	sg_metrics_latency(0.0045);
	sg_metrics_latency(0.2);
	sg_metrics_latency(0.25);
	sg_metrics_latency(100);
	sg_metrics_milter(SG_MX_ACCEPT);
	sg_metrics_milter(SG_MX_ACCEPT);
	sg_metrics_milter(SG_MX_INTERNAL_ERROR);
	char *t = render();
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_bucket{le=\"0.00025\"}"), 1, "le 0.00025: 1");
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_bucket{le=\"0.002\"}"), 1, "le 0.002: 1");
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_bucket{le=\"0.003\"}"), 2, "le 0.003: 2");
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_bucket{le=\"0.004\"}"), 2, "le 0.004: 2");
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_bucket{le=\"0.005\"}"), 3, "le 0.005: 3");
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_bucket{le=\"0.1\"}"), 3, "le 0.1: 3");
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_bucket{le=\"0.25\"}"), 5, "le 0.25: 5 (cumulative)");
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_bucket{le=\"30\"}"), 5, "le 30: 5");
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_bucket{le=\"+Inf\"}"), 6, "+Inf: 6");
	is_int((long long)value(t, "supportgate_ingest_latency_seconds_count"), 6, "count: 6");
	ok(value(t, "supportgate_ingest_latency_seconds_sum") > 100.4576 &&
	   value(t, "supportgate_ingest_latency_seconds_sum") < 100.4578, "sum: 100.4577");
	/* a valid histogram: bounds strictly rising, counts never falling,
	 * +Inf last and equal to _count, every bucket below 5 ms present */
	{
		const char *p = t, *key = "supportgate_ingest_latency_seconds_bucket{le=\"";
		double prev_le = -1, prev_n = -1;
		int n = 0, rising = 1, inf_last = 0, below5ms = 0;
		while ((p = strstr(p, key)) != NULL) {
			p += strlen(key);
			double le = strncmp(p, "+Inf", 4) == 0 ? 1e300 : strtod(p, NULL);
			const char *v = strchr(p, ' ');
			double cnt = v ? strtod(v + 1, NULL) : -1;
			rising &= le > prev_le && cnt >= prev_n;
			inf_last = le == 1e300;
			below5ms += le < 0.005;
			prev_le = le;
			prev_n = cnt;
			n++;
		}
		is_int(n, SG_MX_BUCKETS + 1, "every bucket and +Inf exposed");
		ok(rising, "bounds rise, cumulative counts do not fall");
		ok(inf_last && prev_n == value(t, "supportgate_ingest_latency_seconds_count"), "+Inf last, equals _count");
		is_int(below5ms, 6, "six buckets below 5 ms (0.25 ms .. 4 ms)");
	}
	is_int((long long)value(t, "supportgate_milter_outcomes_total{outcome=\"accept\"}"), 2, "accept: 2");
	is_int((long long)value(t, "supportgate_milter_outcomes_total{outcome=\"internal_error\"}"), 1,
	       "internal_error: 1");
	is_int((long long)value(t, "supportgate_milter_outcomes_total{outcome=\"tempfail\"}"), 0, "tempfail: 0");
	ok(strstr(t, "# TYPE supportgate_ingest_latency_seconds histogram\n") != NULL, "histogram declared");
	free(t);
}

static void
file_written(void)
{
	char *mdir = sg_test_subdir("textfile");
	char *path = sg_xasprintf("%s/supportgate.prom", mdir);
	char *tmp = sg_xasprintf("%s.tmp", path);
	size_t len;

	sg_metrics_reset();
	sg_metrics_milter(SG_MX_REJECT);
	ok(sg_metrics_write(st, path, 1700000000) == 0, "written");
	char *text = read_file(path, 1 << 20, &len);
	ok(text && strncmp(text, "# HELP ", 7) == 0 && text[len - 1] == '\n', "a whole exposition");
	is_int((long long)value(text ? text : "", "supportgate_milter_outcomes_total{outcome=\"reject\"}"), 1,
	       "with the counters");
	ok(access(tmp, F_OK) != 0, "no temp file left");
	free(text);
	sg_metrics_milter(SG_MX_REJECT);
	ok(sg_metrics_write(st, path, 1700000000) == 0, "written again");
	text = read_file(path, 1 << 20, &len);
	is_int((long long)value(text ? text : "", "supportgate_milter_outcomes_total{outcome=\"reject\"}"), 2,
	       "replaced with the new numbers");
	free(text);
	char *bad = sg_xasprintf("%s/no/such/dir/x.prom", mdir);
	ok(sg_metrics_write(st, bad, 1700000000) == -1, "an unwritable path fails");
	free(bad);
	free(tmp);
	free(path);
	free(mdir);
}

static const struct sg_test tests[] = {
	{ "mail", mail_counts },
	{ "milter-latency", milter_and_latency },
	{ "file", file_written },
};

int
main(void)
{
	sg_log_open_stderr("test-metrics");
	sg_log_set_level(SG_LOG_ERROR);
	dir = sg_test_dir();
	char *state = sg_xasprintf("%s/state", dir);
	conf = load_conf(dir, "support_address = {\"support@example.com\"}\nstate_dir = \"%s\"\ntemplate_dir = \"%s/templates\"\n",
			 state, top_srcdir());
	int rc = SG_FIXTURE_RUN(tests);
	free(state);
	return rc;
}
