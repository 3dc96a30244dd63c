/*
 * aggregate — see aggregate.h for what is counted and on which basis.
 *
 * One walk of the tickets that can count with sg_store_ticket_foreach_since
 * (the period's start; outside a
 * transaction, so the walk never holds locks a writer waits for; the
 * numbers are those of each record as it is read). Per ticket the work
 * is constant: five rows (total + one per dimension) found by hashing
 * the group value, a few counters, at most four time values appended
 * per row. Medians and percentiles come at the end from an in-place
 * selection (quickselect, linear on average and robust to many equal
 * values), not a full sort: with 1,000,000 tickets that is most of the
 * difference between a report and the bare walk (tests/bench).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "model/ticket.h"
#include "report/aggregate.h"
#include "report/period.h"
#include "store/store.h"

const int64_t sg_report_bucket_max[SG_REPORT_NBUCKETS] = {
	15 * 60, 3600, 4 * 3600, 8 * 3600, 24 * 3600, 3 * 86400, INT64_MAX,
};
const char *const sg_report_bucket_label[SG_REPORT_NBUCKETS] = {
	"<15m", "15m-1h", "1h-4h", "4h-8h", "8h-24h", "1d-3d", ">3d",
};

enum { V_FRT = 0, V_RT, V_FRT_B, V_RT_B, V_COUNT };

struct vals {
	int32_t *v[V_COUNT];
	size_t n[V_COUNT], cap[V_COUNT];
	double sum[V_COUNT];
};

/* A dimension: rows in insertion order, an open-addressing index. */
struct dim {
	struct sg_report_row *rows;
	size_t n, cap;
	size_t *slot;         /* row index + 1; 0 empty */
	size_t nslot;         /* power of two, > 2 n */
};

struct agg {
	const struct sg_report_opts *o;
	struct sg_report *r;
	struct dim dims[SG_RD_COUNT];
	struct sg_report_count *reasons;
	size_t nreasons, capreasons;
};

const char *
sg_report_dim_name(enum sg_report_dim d)
{
	switch (d) {
	case SG_RD_QUEUE: return "queue";
	case SG_RD_SEGMENT: return "segment";
	case SG_RD_TIER: return "tier";
	case SG_RD_AGENT: return "agent";
	}
	return "?";
}

static uint64_t
hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct sg_report_row *
dim_row(struct dim *d, const char *key)
{
	size_t i;

	if (key == NULL)
		key = "";
	if (d->nslot == 0 || 2 * (d->n + 1) > d->nslot) {
		size_t ns = d->nslot ? d->nslot * 2 : 64;
		free(d->slot);
		d->slot = sg_xcalloc(ns, sizeof(*d->slot));
		d->nslot = ns;
		for (size_t k = 0; k < d->n; k++) {
			i = hash(d->rows[k].key) & (ns - 1);
			while (d->slot[i] != 0)
				i = (i + 1) & (ns - 1);
			d->slot[i] = k + 1;
		}
	}
	i = hash(key) & (d->nslot - 1);
	while (d->slot[i] != 0) {
		struct sg_report_row *row = &d->rows[d->slot[i] - 1];
		if (strcmp(row->key, key) == 0)
			return row;
		i = (i + 1) & (d->nslot - 1);
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->rows = sg_xreallocarray(d->rows, d->cap, sizeof(*d->rows));
	}
	memset(&d->rows[d->n], 0, sizeof(d->rows[d->n]));
	d->rows[d->n].key = sg_xstrdup(key);
	d->rows[d->n].priv = sg_xcalloc(1, sizeof(struct vals));
	d->slot[i] = ++d->n;
	return &d->rows[d->n - 1];
}

static void
add_val(struct sg_report_row *row, int which, int64_t v)
{
	struct vals *x = row->priv;

	if (v < 0)
		v = 0;          /* clock skew between nodes: never a negative time */
	if (v > INT32_MAX)
		v = INT32_MAX;  /* 68 years */
	if (x->n[which] == x->cap[which]) {
		x->cap[which] = x->cap[which] ? x->cap[which] * 2 : 16;
		x->v[which] = sg_xreallocarray(x->v[which], x->cap[which], sizeof(int32_t));
	}
	x->v[which][x->n[which]++] = (int32_t)v;
	x->sum[which] += (double)v;
}

static void
reason_count(struct agg *a, const char *reason)
{
	if (reason == NULL)
		reason = "";
	for (size_t i = 0; i < a->nreasons; i++)
		if (strcmp(a->reasons[i].key, reason) == 0) {
			a->reasons[i].n++;
			return;
		}
	if (a->nreasons == a->capreasons) {
		a->capreasons = a->capreasons ? a->capreasons * 2 : 8;
		a->reasons = sg_xreallocarray(a->reasons, a->capreasons, sizeof(*a->reasons));
	}
	a->reasons[a->nreasons].key = sg_xstrdup(reason);
	a->reasons[a->nreasons++].n = 1;
}

static int
is_open(const struct sg_ticket *t)
{
	return t->status == SG_ST_NEW || t->status == SG_ST_OPEN || t->status == SG_ST_PENDING;
}

/* When the ticket was solved, or 0 when it is not solved now. */
static int64_t
solved_at(const struct sg_ticket *t)
{
	if (t->status != SG_ST_RESOLVED && t->status != SG_ST_CLOSED)
		return 0;
	if (t->resolved_at > 0)
		return (int64_t)t->resolved_at;
	return t->status == SG_ST_CLOSED ? (int64_t)t->closed_at : 0;
}

static size_t
day_index(const struct sg_report *r, int64_t t)
{
	size_t lo = 0, hi = r->ndays;   /* the last day whose start <= t */

	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (r->days[mid].start <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* A ticket's derived values, computed once and added to five rows (the
 * business function, the costly part, runs once per value, not per row). */
struct tvals {
	int64_t created, solved;
	int open, overdue, received, solved_in, taken;
	int has[V_COUNT];
	int64_t v[V_COUNT];
	int bucket;           /* first-response histogram bucket, -1 none */
};

static void
derive(const struct sg_report_opts *o, const struct sg_ticket *t, struct tvals *x)
{
	unsigned fired = t->sla_fired;

	memset(x, 0, sizeof(*x));
	x->created = t->created;
	x->solved = solved_at(t);
	x->open = is_open(t);
	x->overdue = x->open && ((fired & SG_SLA_RES_BREACH) != 0 ||
				 (t->due > 0 && t->due < o->now && t->paused_since == 0));
	x->received = x->created >= o->from && x->created < o->to;
	x->solved_in = x->solved > 0 && x->solved >= o->from && x->solved < o->to;
	x->taken = t->assignee != NULL && *t->assignee != '\0';
	x->bucket = -1;
	if (x->received && t->first_response_at > 0) {
		int64_t frt = t->first_response_at - x->created;
		x->has[V_FRT] = 1;
		x->v[V_FRT] = frt;
		x->bucket = 0;
		while (x->bucket < SG_REPORT_NBUCKETS - 1 && frt >= sg_report_bucket_max[x->bucket])
			x->bucket++;
		if (o->business != NULL) {
			x->v[V_FRT_B] = o->business(o->business_arg, t, x->created, t->first_response_at);
			x->has[V_FRT_B] = x->v[V_FRT_B] >= 0;
		}
	}
	if (x->solved_in) {
		x->has[V_RT] = 1;
		x->v[V_RT] = x->solved - x->created - t->paused_secs;
		if (o->business != NULL) {
			int64_t bs = o->business(o->business_arg, t, x->created, x->solved);
			x->has[V_RT_B] = bs >= 0;
			x->v[V_RT_B] = bs - t->paused_bsecs;
		}
	}
}

/* What one ticket adds to one row. */
static void
add_ticket(struct sg_report_row *row, const struct sg_ticket *t, const struct tvals *x)
{
	unsigned fired = t->sla_fired;

	for (int k = 0; k < V_COUNT; k++)
		if (x->has[k])
			add_val(row, k, x->v[k]);
	if (x->open) {
		row->open_now++;
		row->overdue += x->overdue;
	}
	if (x->received) {
		row->received++;
		if (x->taken) {
			row->taken++;
			row->taken_solved += x->solved > 0;
		}
		row->open += x->open;
		if (t->first_response_due > 0) {
			if (fired & SG_SLA_FR_BREACH)
				row->fr_breached++;
			else if (t->first_response_at > 0)
				row->fr_met++;
		}
		if (t->due > 0) {
			if (fired & SG_SLA_RES_BREACH)
				row->res_breached++;
			else if (x->solved > 0)
				row->res_met++;
		}
		row->transfers += t->transfers;
		row->pingpong += t->transfers > 2;
	}
	if (x->solved_in) {
		row->solved++;
		row->reopened += t->reopens > 0;
		if (t->rating >= 1 && t->rating <= 5) {
			row->rated++;
			row->rating_sum += t->rating;
			row->ratings[t->rating - 1]++;
		}
	}
}

static int
visit(const struct sg_ticket *t, void *arg)
{
	struct agg *a = arg;
	const char *keys[SG_RD_COUNT] = { t->queue, t->segment, t->sla_tier, t->assignee };
	struct tvals x;

	a->r->tickets_read++;
	derive(a->o, t, &x);
	add_ticket(&a->r->total, t, &x);
	for (int d = 0; d < SG_RD_COUNT; d++)
		add_ticket(dim_row(&a->dims[d], keys[d]), t, &x);
	/* the whole-report extras */
	if (x.overdue)
		reason_count(a, t->reason);
	if (x.bucket >= 0)
		a->r->frt_hist[x.bucket]++;
	if (x.received)
		a->r->days[day_index(a->r, x.created)].received++;
	if (x.solved_in)
		a->r->days[day_index(a->r, x.solved)].solved++;
	return 0;
}

static void
swap32(int32_t *x, int32_t *y)
{
	int32_t t = *x;
	*x = *y;
	*y = t;
}

/* The k-th smallest of v[0..n) (0-based), reordering v. */
static int32_t
select_k(int32_t *v, size_t n, size_t k)
{
	ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;

	while (lo < hi) {
		ptrdiff_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		int32_t x = v[lo], y = v[mid], z = v[hi], pivot;
		pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				swap32(&v[i], &v[j]);
				i++;
				j--;
			}
		}
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			return v[kk];   /* between j and i: equal to the pivot */
	}
	return v[kk];
}

static void
finish_times(struct sg_report_times *tm, int32_t *v, size_t n, double sum)
{
	memset(tm, 0, sizeof(*tm));
	if (n == 0)
		return;
	tm->n = n;
	tm->mean = sum / (double)n;
	if (n % 2 == 1) {
		tm->median = select_k(v, n, n / 2);
	} else {
		int32_t lo = select_k(v, n, n / 2 - 1), hi = v[n / 2];
		for (size_t i = n / 2; i < n; i++)   /* after selection: all >= lo */
			if (v[i] < hi)
				hi = v[i];
		tm->median = ((double)lo + (double)hi) / 2.0;
	}
	tm->p90 = select_k(v, n, (9 * n + 9) / 10 - 1);
}

static void
finish_row(struct sg_report_row *row)
{
	struct vals *x = row->priv;

	if (x == NULL)
		return;
	finish_times(&row->frt, x->v[V_FRT], x->n[V_FRT], x->sum[V_FRT]);
	finish_times(&row->rt, x->v[V_RT], x->n[V_RT], x->sum[V_RT]);
	finish_times(&row->frt_b, x->v[V_FRT_B], x->n[V_FRT_B], x->sum[V_FRT_B]);
	finish_times(&row->rt_b, x->v[V_RT_B], x->n[V_RT_B], x->sum[V_RT_B]);
	for (int i = 0; i < V_COUNT; i++)
		free(x->v[i]);
	free(x);
	row->priv = NULL;
}

static int
cmp_row(const void *x, const void *y)
{
	return strcmp(((const struct sg_report_row *)x)->key, ((const struct sg_report_row *)y)->key);
}

static int
cmp_count(const void *x, const void *y)
{
	return strcmp(((const struct sg_report_count *)x)->key, ((const struct sg_report_count *)y)->key);
}

static void
make_days(struct sg_report *r)
{
	size_t cap = 0;

	for (int64_t d = sg_report_day_start(r->from); d < r->to && r->ndays <= SG_REPORT_MAX_DAYS + 1;) {
		if (r->ndays == cap) {
			cap = cap ? cap * 2 : 16;
			r->days = sg_xreallocarray(r->days, cap, sizeof(*r->days));
		}
		memset(&r->days[r->ndays], 0, sizeof(r->days[0]));
		r->days[r->ndays++].start = d;
		/* the next local midnight: a day is 23 to 25 hours long */
		int64_t next = sg_report_day_start(d + 26 * 3600);
		if (next <= d)
			next = d + 86400;
		d = next;
	}
}

int
sg_report_run(struct sg_store *st, const struct sg_report_opts *opts, struct sg_report *r)
{
	struct agg a;
	int rc;

	memset(r, 0, sizeof(*r));
	memset(&a, 0, sizeof(a));
	r->from = opts->from;
	r->to = opts->to;
	r->now = opts->now;
	r->time_zone = sg_xstrdup(opts->time_zone != NULL ? opts->time_zone : "");
	r->has_business = opts->business != NULL;
	r->total.key = sg_xstrdup("");
	r->total.priv = sg_xcalloc(1, sizeof(struct vals));
	make_days(r);
	a.o = opts;
	a.r = r;
	rc = sg_store_ticket_foreach_since(st, opts->from, visit, &a);
	finish_row(&r->total);
	for (int d = 0; d < SG_RD_COUNT; d++) {
		for (size_t i = 0; i < a.dims[d].n; i++)
			finish_row(&a.dims[d].rows[i]);
		if (a.dims[d].n > 1)   /* qsort's array may not be NULL, even empty */
			qsort(a.dims[d].rows, a.dims[d].n, sizeof(*a.dims[d].rows), cmp_row);
		r->rows[d] = a.dims[d].rows;
		r->nrows[d] = a.dims[d].n;
		free(a.dims[d].slot);
	}
	if (a.nreasons > 1)
		qsort(a.reasons, a.nreasons, sizeof(*a.reasons), cmp_count);
	r->overdue_reasons = a.reasons;
	r->noverdue_reasons = a.nreasons;
	return rc;
}

static void
free_row(struct sg_report_row *row)
{
	finish_row(row);
	sg_xfree(&row->key);
}

void
sg_report_free(struct sg_report *r)
{
	free_row(&r->total);
	for (int d = 0; d < SG_RD_COUNT; d++) {
		for (size_t i = 0; i < r->nrows[d]; i++)
			free_row(&r->rows[d][i]);
		sg_xfree(&r->rows[d]);
		r->nrows[d] = 0;
	}
	for (size_t i = 0; i < r->noverdue_reasons; i++)
		free(r->overdue_reasons[i].key);
	sg_xfree(&r->overdue_reasons);
	r->noverdue_reasons = 0;
	sg_xfree(&r->days);
	r->ndays = 0;
	sg_xfree(&r->time_zone);
}
