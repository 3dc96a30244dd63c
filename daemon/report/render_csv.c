/*
 * render_csv — the report as CSV (render.h): one header line, one line
 * per (dimension, key). Times are seconds (mean and median with one
 * decimal), rates percentages with one decimal; a cell that does not
 * apply is empty (business-hours times without a calendar, the counters
 * of a day or an overdue reason line).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "report/render.h"

static const char header[] =
	"dimension,key,received,taken,solved,open,open_now,overdue,taken_solved,solved_pct,"
	"frt_n,frt_mean,frt_median,frt_p90,rt_n,rt_mean,rt_median,rt_p90,"
	"frt_b_n,frt_b_mean,frt_b_median,frt_b_p90,rt_b_n,rt_b_mean,rt_b_median,rt_b_p90,"
	"fr_met,fr_breached,res_met,res_breached,transfers,pingpong,reopened,reopen_rate,"
	"rated,rating_mean,rating_1,rating_2,rating_3,rating_4,rating_5\n";
#define NCOLS 41

/* RFC 4180 quoting; a leading = + - @ (a formula to a spreadsheet) gets a ' first. */
static void
cell(FILE *fp, const char *s)
{
	int formula = s[0] != '\0' && strchr("=+-@", s[0]) != NULL;
	int quote = formula || strpbrk(s, ",\"\r\n") != NULL;

	if (!quote) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	if (formula)
		fputc('\'', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
times(FILE *fp, const struct sg_report_times *t, int known)
{
	if (!known)
		fputs(",,,,", fp);
	else if (t->n == 0)
		fputs(",0,,,", fp);
	else
		fprintf(fp, ",%llu,%.1f,%.1f,%lld", (unsigned long long)t->n, t->mean, t->median, (long long)t->p90);
}

static void
row(FILE *fp, const struct sg_report *r, const char *dim, const struct sg_report_row *x)
{
#define U(v) (unsigned long long)(v)
	cell(fp, dim);
	fputc(',', fp);
	cell(fp, strcmp(dim, "total") == 0 ? "all" : x->key);
	fprintf(fp, ",%llu,%llu,%llu,%llu,%llu,%llu,%llu,", U(x->received), U(x->taken), U(x->solved), U(x->open),
		U(x->open_now), U(x->overdue), U(x->taken_solved));
	if (x->taken > 0)
		fprintf(fp, "%.1f", sg_report_pct(x->taken_solved, x->taken));
	times(fp, &x->frt, 1);
	times(fp, &x->rt, 1);
	times(fp, &x->frt_b, r->has_business);
	times(fp, &x->rt_b, r->has_business);
	fprintf(fp, ",%llu,%llu,%llu,%llu,%llu,%llu,%llu,", U(x->fr_met), U(x->fr_breached), U(x->res_met),
		U(x->res_breached), U(x->transfers), U(x->pingpong), U(x->reopened));
	if (x->solved > 0)
		fprintf(fp, "%.1f", sg_report_pct(x->reopened, x->solved));
	fprintf(fp, ",%llu,", U(x->rated));
	if (x->rated > 0)
		fprintf(fp, "%.2f", (double)x->rating_sum / (double)x->rated);
	for (int i = 0; i < 5; i++)
		fprintf(fp, ",%llu", U(x->ratings[i]));
	fputc('\n', fp);
#undef U
}

/* dimension,key then the value in column col (0-based), empty elsewhere. */
static void
sparse(FILE *fp, const char *dim, const char *key, const int *cols, const unsigned long long *vals, int n)
{
	int k = 0;

	cell(fp, dim);
	fputc(',', fp);
	cell(fp, key);
	for (int c = 2; c < NCOLS; c++) {
		fputc(',', fp);
		if (k < n && cols[k] == c)
			fprintf(fp, "%llu", vals[k++]);
	}
	fputc('\n', fp);
}

int
sg_report_csv(FILE *fp, const struct sg_report *r)
{
	fputs(header, fp);
	row(fp, r, "total", &r->total);
	for (int d = 0; d < SG_RD_COUNT; d++)
		for (size_t i = 0; i < r->nrows[d]; i++)
			row(fp, r, sg_report_dim_name((enum sg_report_dim)d), &r->rows[d][i]);
	for (size_t i = 0; i < r->ndays; i++) {
		char day[40];
		static const int cols[] = { 2, 4 };   /* received, solved */
		unsigned long long v[] = { r->days[i].received, r->days[i].solved };
		sg_report_date(r->days[i].start, day, sizeof(day), 0);
		sparse(fp, "day", day, cols, v, 2);
	}
	for (size_t i = 0; i < r->noverdue_reasons; i++) {
		static const int cols[] = { 7 };       /* overdue */
		unsigned long long v[] = { r->overdue_reasons[i].n };
		sparse(fp, "overdue_reason", r->overdue_reasons[i].key, cols, v, 1);
	}
	for (int b = 0; b < SG_REPORT_NBUCKETS; b++) {
		static const int cols[] = { 10 };      /* frt_n */
		unsigned long long v[] = { r->frt_hist[b] };
		sparse(fp, "frt_bucket", sg_report_bucket_label[b], cols, v, 1);
	}
	return ferror(fp) ? -1 : 0;
}
