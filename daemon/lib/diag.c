/*
 * diag — see diag.h.
 */
#include "config.h"
#include "lib/diag.h"

#include <stdarg.h>
#include <stdlib.h>

#include "lib/xalloc.h"

void
sg_diag_add(struct sg_diag *d, const char *file, int line, int col, const char *fmt, ...)
{
	va_list ap;
	char msg[1024];

	if (d == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);   /* a longer message is cut: it is one line of a report */
	va_end(ap);
	d->v = sg_xreallocarray(d->v, d->n + 1, sizeof(char *));
	if (col > 0)
		d->v[d->n++] = sg_xasprintf("%s:%d:%d: %s", file ? file : "(input)", line, col, msg);
	else
		d->v[d->n++] = sg_xasprintf("%s:%d: %s", file ? file : "(input)", line, msg);
}

void
sg_diag_clear(struct sg_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

void
sg_diag_print(const struct sg_diag *d, FILE *fp)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(fp, "%s\n", d->v[i]);
}
