/*
 * strlist — see strlist.h.
 */
#include "config.h"
#include "lib/strlist.h"

#include <stdlib.h>
#include <strings.h>

#include "lib/xalloc.h"

void
sg_strlist_add(struct sg_strlist *l, const char *s, int unique)
{
	if (unique && sg_strlist_has(l, s))
		return;
	l->v = sg_xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = sg_xstrdup(s);
}

int
sg_strlist_has(const struct sg_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

void
sg_strlist_clear(struct sg_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
