/*
 * render_json — the report as one JSON object (jansson; render.h):
 *   { "from", "to", "now" (ISO 8601 UTC and local), "time_zone",
 *     "business_hours": bool, "tickets_read",
 *     "total": ROW, "by": { "queue": [ROW...], "segment", "tier", "agent" },
 *     "overdue_by_reason": [ {"reason", "count"} ],
 *     "days": [ {"date", "received", "solved"} ],
 *     "first_response_histogram": [ {"bucket", "max_seconds" (null for
 *       the last), "count"} ] }
 * ROW: the CSV columns by name; times as objects {"n", "mean", "median",
 * "p90"} in seconds (business-hours ones null without a calendar).
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/render.h"

#define JU(v) json_integer((json_int_t)(v))

/* A string from the store: one that is not valid UTF-8 (an old record,
 * a hand-edited rules file) gets '?' for each bad byte instead of
 * vanishing from the object. */
static json_t *
jstr(const char *s)
{
	json_t *j = json_string(s);

	if (j == NULL) {
		char *c = strdup(s);
		if (c == NULL)
			abort();
		for (unsigned char *p = (unsigned char *)c; *p; p++)
			if (*p >= 0x80)
				*p = '?';
		j = json_string(c);
		free(c);
	}
	return j;
}

static json_t *
jtimes(const struct sg_report_times *t, int known)
{
	if (!known)
		return json_null();
	return json_pack("{s:I,s:f,s:f,s:I}", "n", (json_int_t)t->n, "mean", t->mean, "median", t->median, "p90",
			 (json_int_t)t->p90);
}

static json_t *
jrow(const struct sg_report *r, const struct sg_report_row *x)
{
	json_t *o = json_object(), *dist = json_array();

	json_object_set_new(o, "key", jstr(x->key));
	json_object_set_new(o, "received", JU(x->received));
	json_object_set_new(o, "taken", JU(x->taken));
	json_object_set_new(o, "solved", JU(x->solved));
	json_object_set_new(o, "open", JU(x->open));
	json_object_set_new(o, "open_now", JU(x->open_now));
	json_object_set_new(o, "overdue", JU(x->overdue));
	json_object_set_new(o, "taken_solved", JU(x->taken_solved));
	json_object_set_new(o, "solved_pct", x->taken ? json_real(sg_report_pct(x->taken_solved, x->taken)) : json_null());
	json_object_set_new(o, "frt", jtimes(&x->frt, 1));
	json_object_set_new(o, "rt", jtimes(&x->rt, 1));
	json_object_set_new(o, "frt_b", jtimes(&x->frt_b, r->has_business));
	json_object_set_new(o, "rt_b", jtimes(&x->rt_b, r->has_business));
	json_object_set_new(o, "fr_met", JU(x->fr_met));
	json_object_set_new(o, "fr_breached", JU(x->fr_breached));
	json_object_set_new(o, "res_met", JU(x->res_met));
	json_object_set_new(o, "res_breached", JU(x->res_breached));
	json_object_set_new(o, "transfers", JU(x->transfers));
	json_object_set_new(o, "pingpong", JU(x->pingpong));
	json_object_set_new(o, "reopened", JU(x->reopened));
	json_object_set_new(o, "reopen_rate", x->solved ? json_real(sg_report_pct(x->reopened, x->solved)) : json_null());
	json_object_set_new(o, "rated", JU(x->rated));
	json_object_set_new(o, "rating_mean",
			    x->rated ? json_real((double)x->rating_sum / (double)x->rated) : json_null());
	for (int i = 0; i < 5; i++)
		json_array_append_new(dist, JU(x->ratings[i]));
	json_object_set_new(o, "ratings", dist);
	return o;
}

static json_t *
jtime(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[40];

	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&tt, &tm));
	return json_string(buf);
}

int
sg_report_json(FILE *fp, const struct sg_report *r)
{
	json_t *o = json_object(), *by = json_object(), *a;
	int rc;

	json_object_set_new(o, "from", jtime(r->from));
	json_object_set_new(o, "to", jtime(r->to));
	json_object_set_new(o, "now", jtime(r->now));
	json_object_set_new(o, "time_zone", jstr(r->time_zone));
	json_object_set_new(o, "business_hours", json_boolean(r->has_business));
	json_object_set_new(o, "tickets_read", JU(r->tickets_read));
	json_object_set_new(o, "total", jrow(r, &r->total));
	for (int d = 0; d < SG_RD_COUNT; d++) {
		a = json_array();
		for (size_t i = 0; i < r->nrows[d]; i++)
			json_array_append_new(a, jrow(r, &r->rows[d][i]));
		json_object_set_new(by, sg_report_dim_name((enum sg_report_dim)d), a);
	}
	json_object_set_new(o, "by", by);
	a = json_array();
	for (size_t i = 0; i < r->noverdue_reasons; i++)
		json_array_append_new(a, json_pack("{s:o,s:I}", "reason", jstr(r->overdue_reasons[i].key), "count",
						   (json_int_t)r->overdue_reasons[i].n));
	json_object_set_new(o, "overdue_by_reason", a);
	a = json_array();
	for (size_t i = 0; i < r->ndays; i++) {
		char day[40];
		sg_report_date(r->days[i].start, day, sizeof(day), 0);
		json_array_append_new(a, json_pack("{s:s,s:I,s:I}", "date", day, "received",
						   (json_int_t)r->days[i].received, "solved", (json_int_t)r->days[i].solved));
	}
	json_object_set_new(o, "days", a);
	a = json_array();
	for (int b = 0; b < SG_REPORT_NBUCKETS; b++)
		json_array_append_new(a, json_pack("{s:s,s:o,s:I}", "bucket", sg_report_bucket_label[b], "max_seconds",
						   b < SG_REPORT_NBUCKETS - 1 ? JU(sg_report_bucket_max[b]) : json_null(),
						   "count", (json_int_t)r->frt_hist[b]));
	json_object_set_new(o, "first_response_histogram", a);
	rc = json_dumpf(o, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', fp);
	json_decref(o);
	return rc != 0 || ferror(fp) ? -1 : 0;
}
