/*
 * diag — a list of "file:line[:col]: message" diagnostics, collected by
 * every loader (config, rules, templates) so that all errors of a file
 * are reported at once and a load either succeeds or yields the list.
 *
 * sg_diag_add(): appends one formatted entry (file NULL prints as
 *   "(input)"; col <= 0 omits the column). Never fails (allocation
 *   failure aborts in xalloc).
 * sg_diag_clear(): frees every entry; safe to call twice.
 * sg_diag_print(): one entry per line to fp.
 */
#ifndef SG_DIAG_H
#define SG_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct sg_diag {
	char **v;
	size_t n;
};

void sg_diag_add(struct sg_diag *d, const char *file, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void sg_diag_clear(struct sg_diag *d);
void sg_diag_print(const struct sg_diag *d, FILE *fp);

#endif
