/*
 * render — a report (aggregate.h) as text, CSV, JSON or one HTML page.
 *
 * Each renderer writes the whole report to fp and returns 0, or -1 when
 * the stream failed (ferror; the caller reports errno). None allocates
 * beyond the call or blocks except on fp.
 *
 * sg_report_text: aligned tables (columns aligned by display width, so
 *   Cyrillic and wide CJK names line up), durations as 1h05m.
 * sg_report_csv: RFC 4180, one header line, one row per (dimension,
 *   key): dimension total|queue|segment|tier|agent|day|overdue_reason,
 *   times in seconds, empty cells where a column does not apply. A cell
 *   that starts with = + - @ gets a leading ' (spreadsheet formulas).
 * sg_report_json: one object (jansson), keys as in the CSV header.
 * sg_report_html: one self-contained page (inline CSS, no scripts, no
 *   external assets) with inline SVG charts, each an <svg id="chart-...">
 *   (volume, response, load, sla, satisfaction) whose bars carry
 *   data-label/data-value, a <title> and their number as text, then the
 *   tables.
 *
 * Helpers shared by the renderers (render_common.c):
 * sg_report_width(s): display width of UTF-8 s (combining marks 0, East
 *   Asian wide 2, else 1; a bad byte counts 1).
 * sg_report_dur(secs, buf, len): "45s", "12m", "1h05m", "2d03h"; "-"
 *   for a negative value (no data).
 * sg_report_date(t, buf, len, with_time): local "YYYY-MM-DD[ HH:MM]".
 * sg_report_key(k): the printed key: "(none)" for "".
 */
#ifndef SG_REPORT_RENDER_H
#define SG_REPORT_RENDER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/aggregate.h"

int sg_report_text(FILE *fp, const struct sg_report *r);
int sg_report_csv(FILE *fp, const struct sg_report *r);
int sg_report_json(FILE *fp, const struct sg_report *r);
int sg_report_html(FILE *fp, const struct sg_report *r);

size_t sg_report_width(const char *s);
void sg_report_dur(double secs, char *buf, size_t len);
void sg_report_date(int64_t t, char *buf, size_t len, int with_time);
const char *sg_report_key(const char *k);
/* a / b * 100, 0 when b is 0 */
double sg_report_pct(uint64_t a, uint64_t b);

#endif
