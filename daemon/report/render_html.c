/*
 * render_html — the report as one self-contained HTML page (render.h):
 * inline CSS, inline SVG, no scripts and no external references, so it
 * opens anywhere (mail attachment, file share) and prints as it shows.
 *
 * Every chart is an <svg id="chart-NAME" data-chart="NAME"> with one
 * <g class="bar" data-series data-label data-value> per bar holding the
 * <rect>, a <title> (tooltip and accessible name) and the number as a
 * <text>, so a reader, a screen reader and a test all see the figures;
 * legend entries (g.legend), group labels (text.lbl) and notes
 * (text.note) carry data-series, data-label and data-note, the axis
 * data-axis.
 * Charts: volume (received and solved per day), response (first-response
 * histogram), load (per agent: open now, assigned, solved), sla
 * (resolution met and breached per tier, compliance in the label),
 * satisfaction (ratings 1..5). Every string from the store is escaped.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "report/render.h"

static void
esc(FILE *fp, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", fp); break;
		case '<': fputs("&lt;", fp); break;
		case '>': fputs("&gt;", fp); break;
		case '"': fputs("&quot;", fp); break;
		case '\'': fputs("&#39;", fp); break;
		default: fputc(*s, fp);
		}
	}
}

static const char *const default_palette[] = { "#3b6ea5", "#6aa84f", "#e69138", "#cc4125", "#8e7cc3" };
static const char *const sla_palette[] = { "#6aa84f", "#cc4125" };   /* met green, breached red */

/* A vertical bar chart: ngroups groups of nseries bars, v[g * nseries + s];
 * note[g] (may be NULL) is printed under the group's label; palette (NULL:
 * the default) gives each series its colour. */
static void
bars(FILE *fp, const char *id, const char *title, int nseries, const char *const *series, size_t ngroups,
     const char *const *labels, const uint64_t *v, const char *const *note, const char *const *palette)
{
	const int bw = 22, gap = 18, top = 30, ph = 160, bottom = 90;
	size_t gw = (size_t)(nseries * bw + gap), longest = 0;
	int left = 40;
	uint64_t max = 0;

	if (palette == NULL)
		palette = default_palette;
	/* labels are rotated 30 degrees, ending under their group: room for the longest */
	for (size_t g = 0; g < ngroups; g++)
		if (sg_report_width(labels[g]) > longest)
			longest = sg_report_width(labels[g]);
	if (longest > 8)
		left += (int)((double)(longest - 8) * 5.2);
	if (left > 200)
		left = 200;
	size_t width = (size_t)left + 20 + (ngroups ? ngroups : 1) * gw;

	if (width < 360)
		width = 360;
	for (size_t i = 0; i < ngroups * (size_t)nseries; i++)
		if (v[i] > max)
			max = v[i];
	fprintf(fp, "<figure><figcaption>");
	esc(fp, title);
	fprintf(fp, "</figcaption>\n<svg id=\"chart-%s\" data-chart=\"%s\" xmlns=\"http://www.w3.org/2000/svg\" "
		    "width=\"%zu\" height=\"%d\" viewBox=\"0 0 %zu %d\" role=\"img\">\n<title>",
		id, id, width, top + ph + bottom, width, top + ph + bottom);
	esc(fp, title);
	fprintf(fp, "</title>\n<line x1=\"%d\" y1=\"%d\" x2=\"%zu\" y2=\"%d\" class=\"axis\" data-axis=\"x\"/>\n", left, top + ph,
		width - 10, top + ph);
	/* legend */
	for (int s = 0; s < nseries && nseries > 1; s++) {
		fputs("<g class=\"legend\" data-series=\"", fp);
		esc(fp, series[s]);
		fprintf(fp, "\"><rect x=\"%d\" y=\"6\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"15\" "
			    "class=\"legend\">",
			left + s * 110, palette[s], left + s * 110 + 14);
		esc(fp, series[s]);
		fputs("</text></g>\n", fp);
	}
	if (ngroups == 0)
		fprintf(fp, "<text x=\"%d\" y=\"%d\" class=\"empty\">no data</text>\n", left + 10, top + ph / 2);
	for (size_t g = 0; g < ngroups; g++) {
		size_t gx = (size_t)left + 10 + g * gw;
		for (int s = 0; s < nseries; s++) {
			uint64_t val = v[g * (size_t)nseries + (size_t)s];
			int h = max ? (int)((double)val / (double)max * (ph - 20) + 0.5) : 0;
			size_t x = gx + (size_t)(s * bw);
			fprintf(fp, "<g class=\"bar\" data-series=\"");
			esc(fp, series[s]);
			fprintf(fp, "\" data-label=\"");
			esc(fp, labels[g]);
			fprintf(fp, "\" data-value=\"%llu\"><title>", (unsigned long long)val);
			esc(fp, labels[g]);
			fputs(" — ", fp);
			esc(fp, series[s]);
			fprintf(fp, ": %llu</title><rect x=\"%zu\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>"
				    "<text x=\"%zu\" y=\"%d\" class=\"val\">%llu</text></g>\n",
				(unsigned long long)val, x, top + ph - h, bw - 3, h, palette[s], x + (size_t)(bw - 3) / 2,
				top + ph - h - 4, (unsigned long long)val);
		}
		size_t cx = gx + (size_t)(nseries * bw) / 2;
		fprintf(fp, "<text x=\"%zu\" y=\"%d\" class=\"lbl\" transform=\"rotate(-30 %zu %d)\" data-label=\"", cx,
			top + ph + 16, cx, top + ph + 16);
		esc(fp, labels[g]);
		fputs("\">", fp);
		esc(fp, labels[g]);
		fputs("</text>\n", fp);
		if (note != NULL && note[g] != NULL) {
			fprintf(fp, "<text x=\"%zu\" y=\"%d\" class=\"note\" data-note=\"", cx, top + ph + bottom - 8);
			esc(fp, note[g]);
			fputs("\">", fp);
			esc(fp, note[g]);
			fputs("</text>\n", fp);
		}
	}
	fputs("</svg></figure>\n", fp);
}

static void
chart_volume(FILE *fp, const struct sg_report *r)
{
	static const char *const series[] = { "received", "solved" };
	char **lab = sg_xcalloc(r->ndays + 1, sizeof(char *));
	uint64_t *v = sg_xcalloc(2 * r->ndays + 1, sizeof(uint64_t));

	for (size_t i = 0; i < r->ndays; i++) {
		lab[i] = sg_xmalloc(16);
		sg_report_date(r->days[i].start, lab[i], 16, 0);
		v[2 * i] = r->days[i].received;
		v[2 * i + 1] = r->days[i].solved;
	}
	bars(fp, "volume", "Volume per day: received and solved", 2, series, r->ndays, (const char *const *)lab, v,
	     NULL, NULL);
	for (size_t i = 0; i < r->ndays; i++)
		free(lab[i]);
	free(lab);
	free(v);
}

static void
chart_response(FILE *fp, const struct sg_report *r)
{
	static const char *const series[] = { "tickets" };

	bars(fp, "response", "First-response time distribution (tickets received in the period)", 1, series,
	     SG_REPORT_NBUCKETS, sg_report_bucket_label, r->frt_hist, NULL, NULL);
}

static void
chart_load(FILE *fp, const struct sg_report *r)
{
	static const char *const series[] = { "open now", "assigned", "solved" };
	size_t n = 0, na = r->nrows[SG_RD_AGENT];
	const char **lab = sg_xcalloc(na + 1, sizeof(char *));
	char **note = sg_xcalloc(na + 1, sizeof(char *));
	uint64_t *v = sg_xcalloc(3 * na + 1, sizeof(uint64_t));

	for (size_t i = 0; i < na; i++) {
		const struct sg_report_row *x = &r->rows[SG_RD_AGENT][i];
		if (x->key[0] == '\0')
			continue;
		lab[n] = x->key;
		v[3 * n] = x->open_now;
		v[3 * n + 1] = x->taken;
		v[3 * n + 2] = x->taken_solved;
		note[n] = x->taken ? sg_xasprintf("%.0f%% solved", sg_report_pct(x->taken_solved, x->taken))
				   : sg_xstrdup("-");
		n++;
	}
	bars(fp, "load", "Load per agent: open now, assigned in the period, of those solved", 3, series, n, lab, v,
	     (const char *const *)note, NULL);
	for (size_t i = 0; i < n; i++)
		free(note[i]);
	free(note);
	free(lab);
	free(v);
}

static void
chart_sla(FILE *fp, const struct sg_report *r)
{
	static const char *const series[] = { "met", "breached" };
	size_t nt = r->nrows[SG_RD_TIER];
	const char **lab = sg_xcalloc(nt + 1, sizeof(char *));
	char **note = sg_xcalloc(nt + 1, sizeof(char *));
	uint64_t *v = sg_xcalloc(2 * nt + 1, sizeof(uint64_t));

	for (size_t i = 0; i < nt; i++) {
		const struct sg_report_row *x = &r->rows[SG_RD_TIER][i];
		lab[i] = sg_report_key(x->key);
		v[2 * i] = x->res_met;
		v[2 * i + 1] = x->res_breached;
		note[i] = x->res_met + x->res_breached
				  ? sg_xasprintf("%.0f%% met", sg_report_pct(x->res_met, x->res_met + x->res_breached))
				  : sg_xstrdup("-");
	}
	bars(fp, "sla", "Resolution SLA per tier: met and breached", 2, series, nt, lab, v, (const char *const *)note, sla_palette);
	for (size_t i = 0; i < nt; i++)
		free(note[i]);
	free(note);
	free(lab);
	free(v);
}

static void
chart_satisfaction(FILE *fp, const struct sg_report *r)
{
	static const char *const series[] = { "ratings" };
	static const char *const lab[] = { "1", "2", "3", "4", "5" };
	char title[120];

	if (r->total.rated)
		snprintf(title, sizeof(title), "Satisfaction: %llu ratings, mean %.2f",
			 (unsigned long long)r->total.rated, (double)r->total.rating_sum / (double)r->total.rated);
	else
		snprintf(title, sizeof(title), "Satisfaction: no ratings");
	bars(fp, "satisfaction", title, 1, series, 5, lab, r->total.ratings, NULL, NULL);
}

static void
td_dur(FILE *fp, const struct sg_report_times *t, int which)
{
	char b[32];

	if (t->n == 0)
		snprintf(b, sizeof(b), "-");
	else
		sg_report_dur(which == 0 ? t->mean : which == 1 ? t->median : (double)t->p90, b, sizeof(b));
	fprintf(fp, "<td>%s</td>", b);
}

static void
tr(FILE *fp, const char *dim, const struct sg_report_row *x, int business)
{
	fprintf(fp, "<tr data-dim=\"%s\" data-key=\"", dim);
	esc(fp, x->key);
	fprintf(fp, "\"><th>%s</th><th>", dim);
	esc(fp, strcmp(dim, "total") == 0 ? "all" : sg_report_key(x->key));
	fprintf(fp, "</th><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>",
		(unsigned long long)x->received, (unsigned long long)x->taken, (unsigned long long)x->solved,
		(unsigned long long)x->open, (unsigned long long)x->open_now, (unsigned long long)x->overdue);
	for (int k = 0; k < 3; k++)
		td_dur(fp, &x->frt, k);
	for (int k = 0; k < 3; k++)
		td_dur(fp, &x->rt, k);
	if (business) {
		for (int k = 0; k < 3; k++)
			td_dur(fp, &x->frt_b, k);
		for (int k = 0; k < 3; k++)
			td_dur(fp, &x->rt_b, k);
	}
	fprintf(fp, "<td>%llu/%llu</td><td>%llu/%llu</td><td>%llu</td><td>%llu</td><td>%llu</td>",
		(unsigned long long)x->fr_met, (unsigned long long)x->fr_breached, (unsigned long long)x->res_met,
		(unsigned long long)x->res_breached, (unsigned long long)x->transfers, (unsigned long long)x->pingpong,
		(unsigned long long)x->reopened);
	if (x->rated)
		fprintf(fp, "<td>%.2f (%llu)</td></tr>\n", (double)x->rating_sum / (double)x->rated,
			(unsigned long long)x->rated);
	else
		fputs("<td>-</td></tr>\n", fp);
}

int
sg_report_html(FILE *fp, const struct sg_report *r)
{
	char a[40], b[40];

	sg_report_date(r->from, a, sizeof(a), 1);
	sg_report_date(r->to, b, sizeof(b), 1);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>supportgate report ", fp);
	fprintf(fp, "%s .. %s</title>\n", a, b);
	fputs("<style>\nbody{font-family:sans-serif;margin:1.5em;color:#222;background:#fff}\n"
	      "h1{font-size:1.4em}figure{display:inline-block;margin:0 1.5em 1.5em 0;vertical-align:top}\n"
	      "figcaption{font-weight:bold;margin-bottom:.3em}svg{background:#fafafa;border:1px solid #ddd}\n"
	      ".axis{stroke:#888}.val{font-size:10px;text-anchor:middle;fill:#222}\n"
	      ".lbl{font-size:10px;text-anchor:end;fill:#444}.note{font-size:10px;fill:#444;text-anchor:middle}\n"
	      ".legend{font-size:11px;fill:#222}.empty{fill:#888}\n"
	      "table{border-collapse:collapse;font-size:.85em;margin-top:1em}"
	      "td,th{border:1px solid #ccc;padding:2px 6px}td{text-align:right}th{text-align:left;background:#f0f0f0}\n"
	      "</style></head><body>\n", fp);
	fprintf(fp, "<h1>supportgate report</h1>\n<p id=\"period\" data-from=\"%lld\" data-to=\"%lld\">%s .. %s (",
		(long long)r->from, (long long)r->to, a, b);
	esc(fp, *r->time_zone ? r->time_zone : "local time");
	fprintf(fp, ")%s. Tickets read: %llu.</p>\n",
		r->has_business ? "" : "; business hours not available, calendar time only",
		(unsigned long long)r->tickets_read);
	fprintf(fp, "<p id=\"summary\" data-received=\"%llu\" data-solved=\"%llu\" data-open=\"%llu\">Received %llu, "
		    "taken %llu, solved %llu, still open %llu; overdue now %llu.</p>\n",
		(unsigned long long)r->total.received, (unsigned long long)r->total.solved,
		(unsigned long long)r->total.open, (unsigned long long)r->total.received,
		(unsigned long long)r->total.taken, (unsigned long long)r->total.solved, (unsigned long long)r->total.open,
		(unsigned long long)r->total.overdue);
	chart_volume(fp, r);
	chart_response(fp, r);
	chart_load(fp, r);
	chart_sla(fp, r);
	chart_satisfaction(fp, r);

	fputs("<table id=\"groups\"><tr><th>by</th><th>key</th><th>received</th><th>taken</th><th>solved</th>"
	      "<th>open</th><th>open now</th><th>overdue</th><th>FR mean</th><th>FR median</th><th>FR p90</th>"
	      "<th>RES mean</th><th>RES median</th><th>RES p90</th>",
	      fp);
	if (r->has_business)
		fputs("<th>FR mean (bh)</th><th>FR median (bh)</th><th>FR p90 (bh)</th><th>RES mean (bh)</th>"
		      "<th>RES median (bh)</th><th>RES p90 (bh)</th>",
		      fp);
	fputs("<th>FR SLA met/breached</th><th>RES SLA met/breached</th><th>transfers</th><th>ping-pong</th>"
	      "<th>reopened</th><th>satisfaction</th></tr>\n",
	      fp);
	tr(fp, "total", &r->total, r->has_business);
	for (int d = 0; d < SG_RD_COUNT; d++)
		for (size_t i = 0; i < r->nrows[d]; i++)
			tr(fp, sg_report_dim_name((enum sg_report_dim)d), &r->rows[d][i], r->has_business);
	fputs("</table>\n<table id=\"overdue\"><tr><th>overdue reason</th><th>tickets</th></tr>\n", fp);
	for (size_t i = 0; i < r->noverdue_reasons; i++) {
		fputs("<tr><th>", fp);
		esc(fp, r->overdue_reasons[i].key[0] ? r->overdue_reasons[i].key : "(no reason given)");
		fprintf(fp, "</th><td>%llu</td></tr>\n", (unsigned long long)r->overdue_reasons[i].n);
	}
	fputs("</table>\n</body></html>\n", fp);
	return ferror(fp) ? -1 : 0;
}
