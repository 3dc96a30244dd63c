/*
 * render_text — the report as aligned plain-text tables (render.h).
 *
 * Each table is collected whole (cells copied), then printed with every
 * column as wide as its widest cell in display columns (sg_report_width),
 * the first columns (group and key) left-aligned, numbers right-aligned.
 * Tables: volume, times (calendar, and business hours when known), SLA
 * by tier, overdue by reason, agents, satisfaction, per day.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "report/render.h"

#define MAXCOL 16

struct table {
	int ncol, nleft;       /* nleft: leading left-aligned columns */
	char **cell;           /* row-major, ncol per row, row 0 the header */
	size_t nrow, cap;
};

static void
t_init(struct table *t, int nleft, int ncol, const char *const *head)
{
	memset(t, 0, sizeof(*t));
	t->ncol = ncol;
	t->nleft = nleft;
	t->cap = 16;
	t->cell = sg_xcalloc(t->cap * (size_t)ncol, sizeof(char *));
	for (int i = 0; i < ncol; i++)
		t->cell[i] = sg_xstrdup(head[i]);
	t->nrow = 1;
}

/* One row of ncol strings. */
static void
t_row(struct table *t, const char *const *v)
{
	if (t->nrow == t->cap) {
		t->cap *= 2;
		t->cell = sg_xreallocarray(t->cell, t->cap * (size_t)t->ncol, sizeof(char *));
	}
	for (int i = 0; i < t->ncol; i++)
		t->cell[t->nrow * (size_t)t->ncol + (size_t)i] = sg_xstrdup(v[i]);
	t->nrow++;
}

static void
pad(FILE *fp, size_t n)
{
	while (n-- > 0)
		fputc(' ', fp);
}

static void
t_print(FILE *fp, struct table *t, const char *title)
{
	size_t w[MAXCOL] = { 0 };

	fprintf(fp, "\n%s\n", title);
	for (size_t r = 0; r < t->nrow; r++)
		for (int c = 0; c < t->ncol; c++) {
			size_t x = sg_report_width(t->cell[r * (size_t)t->ncol + (size_t)c]);
			if (x > w[c])
				w[c] = x;
		}
	if (t->nrow == 1)
		fputs("(none)\n", fp);   /* printed instead of an empty table */
	for (size_t r = 0; r < t->nrow && t->nrow > 1; r++) {
		for (int c = 0; c < t->ncol; c++) {
			const char *s = t->cell[r * (size_t)t->ncol + (size_t)c];
			size_t x = sg_report_width(s);
			if (c > 0)
				fputs("  ", fp);
			if (c < t->nleft) {
				fputs(s, fp);
				if (c < t->ncol - 1)
					pad(fp, w[c] - x);
			} else {
				pad(fp, w[c] - x);
				fputs(s, fp);
			}
		}
		fputc('\n', fp);
	}
	for (size_t i = 0; i < t->nrow * (size_t)t->ncol; i++)
		free(t->cell[i]);
	free(t->cell);
	t->cell = NULL;
}

/* A formatted cell in one of a few rotating buffers (a row's worth). */
static const char *
f(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *
f(const char *fmt, ...)
{
	static char buf[MAXCOL * 2][64];
	static int k;
	va_list ap;
	char *b = buf[k++ % (MAXCOL * 2)];

	va_start(ap, fmt);
	vsnprintf(b, 64, fmt, ap);
	va_end(ap);
	return b;
}

static const char *
dur(const struct sg_report_times *tm, int which)
{
	static char buf[8][24];
	static int k;
	char *b = buf[k++ % 8];

	if (tm->n == 0)
		return "-";
	sg_report_dur(which == 0 ? tm->mean : which == 1 ? tm->median : (double)tm->p90, b, 24);
	return b;
}

static const char *
pct(uint64_t a, uint64_t b)
{
	return b == 0 ? "-" : f("%.1f%%", sg_report_pct(a, b));
}

/* Calls fn for the total row and then each row of each dimension. */
static void
each_row(const struct sg_report *r, void (*fn)(struct table *, const char *, const struct sg_report_row *),
	 struct table *t)
{
	fn(t, "total", &r->total);
	for (int d = 0; d < SG_RD_COUNT; d++)
		for (size_t i = 0; i < r->nrows[d]; i++)
			fn(t, sg_report_dim_name((enum sg_report_dim)d), &r->rows[d][i]);
}

static const char *
key_of(const char *dim, const struct sg_report_row *row)
{
	return strcmp(dim, "total") == 0 ? "all" : sg_report_key(row->key);
}

static void
row_volume(struct table *t, const char *dim, const struct sg_report_row *row)
{
	const char *v[] = { dim, key_of(dim, row), f("%llu", (unsigned long long)row->received),
		f("%llu", (unsigned long long)row->taken), f("%llu", (unsigned long long)row->solved),
		f("%llu", (unsigned long long)row->open), f("%llu", (unsigned long long)row->open_now),
		f("%llu", (unsigned long long)row->overdue), f("%llu", (unsigned long long)row->transfers),
		f("%llu", (unsigned long long)row->pingpong), f("%llu", (unsigned long long)row->reopened),
		pct(row->reopened, row->solved) };
	t_row(t, v);
}

static void
row_times(struct table *t, const char *dim, const struct sg_report_row *row)
{
	const char *v[] = { dim, key_of(dim, row), f("%llu", (unsigned long long)row->frt.n), dur(&row->frt, 0),
		dur(&row->frt, 1), dur(&row->frt, 2), f("%llu", (unsigned long long)row->rt.n), dur(&row->rt, 0),
		dur(&row->rt, 1), dur(&row->rt, 2) };
	t_row(t, v);
}

static void
row_btimes(struct table *t, const char *dim, const struct sg_report_row *row)
{
	const char *v[] = { dim, key_of(dim, row), f("%llu", (unsigned long long)row->frt_b.n), dur(&row->frt_b, 0),
		dur(&row->frt_b, 1), dur(&row->frt_b, 2), f("%llu", (unsigned long long)row->rt_b.n),
		dur(&row->rt_b, 0), dur(&row->rt_b, 1), dur(&row->rt_b, 2) };
	t_row(t, v);
}

static void
row_csat(struct table *t, const char *dim, const struct sg_report_row *row)
{
	const char *v[] = { dim, key_of(dim, row), f("%llu", (unsigned long long)row->rated),
		row->rated ? f("%.2f", (double)row->rating_sum / (double)row->rated) : "-",
		f("%llu", (unsigned long long)row->ratings[0]), f("%llu", (unsigned long long)row->ratings[1]),
		f("%llu", (unsigned long long)row->ratings[2]), f("%llu", (unsigned long long)row->ratings[3]),
		f("%llu", (unsigned long long)row->ratings[4]) };
	t_row(t, v);
}

int
sg_report_text(FILE *fp, const struct sg_report *r)
{
	struct table t;
	char a[40], b[40];

	sg_report_date(r->from, a, sizeof(a), 1);
	sg_report_date(r->to, b, sizeof(b), 1);
	fprintf(fp, "supportgate report: %s .. %s (%s)%s\n", a, b, *r->time_zone ? r->time_zone : "local time",
		r->has_business ? "" : "; business hours: not available (calendar time only)");
	fprintf(fp, "tickets read: %llu\n", (unsigned long long)r->tickets_read);

	static const char *const hv[] = { "by", "key", "received", "taken", "solved", "open", "open now", "overdue",
		"transfers", "ping-pong", "reopened", "reopen rate" };
	t_init(&t, 2, 12, hv);
	each_row(r, row_volume, &t);
	t_print(fp, &t, "Volume (received, taken, open: tickets created in the period; solved, reopened: solved in it)");

	static const char *const ht[] = { "by", "key", "responded", "FR mean", "FR median", "FR p90", "solved",
		"RES mean", "RES median", "RES p90" };
	t_init(&t, 2, 10, ht);
	each_row(r, row_times, &t);
	t_print(fp, &t, "First response (FR) and resolution (RES) times, calendar time");
	if (r->has_business) {
		t_init(&t, 2, 10, ht);
		each_row(r, row_btimes, &t);
		t_print(fp, &t, "First response (FR) and resolution (RES) times, business hours");
	}

	static const char *const hs[] = { "tier", "FR met", "FR breached", "FR met %", "RES met", "RES breached",
		"RES met %", "overdue" };
	t_init(&t, 1, 8, hs);
	for (size_t i = 0; i < r->nrows[SG_RD_TIER]; i++) {
		const struct sg_report_row *x = &r->rows[SG_RD_TIER][i];
		const char *v[] = { sg_report_key(x->key), f("%llu", (unsigned long long)x->fr_met),
			f("%llu", (unsigned long long)x->fr_breached), pct(x->fr_met, x->fr_met + x->fr_breached),
			f("%llu", (unsigned long long)x->res_met), f("%llu", (unsigned long long)x->res_breached),
			pct(x->res_met, x->res_met + x->res_breached), f("%llu", (unsigned long long)x->overdue) };
		t_row(&t, v);
	}
	t_print(fp, &t, "SLA by tier");

	static const char *const ho[] = { "reason", "overdue" };
	t_init(&t, 1, 2, ho);
	for (size_t i = 0; i < r->noverdue_reasons; i++) {
		const char *v[] = { r->overdue_reasons[i].key[0] ? r->overdue_reasons[i].key : "(no reason given)",
			f("%llu", (unsigned long long)r->overdue_reasons[i].n) };
		t_row(&t, v);
	}
	t_print(fp, &t, "Overdue now, by reason");

	static const char *const ha[] = { "agent", "open now", "assigned", "solved", "solved %", "transfers",
		"ping-pong", "FR median" };
	t_init(&t, 1, 8, ha);
	for (size_t i = 0; i < r->nrows[SG_RD_AGENT]; i++) {
		const struct sg_report_row *x = &r->rows[SG_RD_AGENT][i];
		if (x->key[0] == '\0')
			continue;   /* unassigned: not an agent */
		const char *v[] = { x->key, f("%llu", (unsigned long long)x->open_now), f("%llu", (unsigned long long)x->taken),
			f("%llu", (unsigned long long)x->taken_solved), pct(x->taken_solved, x->taken),
			f("%llu", (unsigned long long)x->transfers), f("%llu", (unsigned long long)x->pingpong),
			dur(&x->frt, 1) };
		t_row(&t, v);
	}
	t_print(fp, &t, "Agents (assigned: tickets of the period; solved %: of those, solved now)");

	static const char *const hc[] = { "by", "key", "rated", "mean", "1", "2", "3", "4", "5" };
	t_init(&t, 2, 9, hc);
	each_row(r, row_csat, &t);
	t_print(fp, &t, "Satisfaction (ratings of tickets solved in the period)");

	static const char *const hd[] = { "day", "received", "solved" };
	t_init(&t, 1, 3, hd);
	for (size_t i = 0; i < r->ndays; i++) {
		char d[40];
		sg_report_date(r->days[i].start, d, sizeof(d), 0);
		const char *v[] = { d, f("%llu", (unsigned long long)r->days[i].received),
			f("%llu", (unsigned long long)r->days[i].solved) };
		t_row(&t, v);
	}
	t_print(fp, &t, "Per day");
	return ferror(fp) ? -1 : 0;
}
