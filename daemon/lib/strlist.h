/*
 * strlist — a growable list of owned C strings.
 *
 * sg_strlist_add(): appends a copy of s; with unique set, nothing happens
 *   when s is already there (compared case-insensitively).
 * sg_strlist_has(): 1 when s is in the list (case-insensitive), else 0.
 * sg_strlist_clear(): frees every string and the array; safe to call twice.
 * A zeroed struct is an empty list. Lookups are linear: lists are short
 * (participants, tags, rule names) and bounded by their owners.
 */
#ifndef SG_STRLIST_H
#define SG_STRLIST_H

#include <stddef.h>

struct sg_strlist {
	char **v;
	size_t n;
};

void sg_strlist_add(struct sg_strlist *l, const char *s, int unique);
int sg_strlist_has(const struct sg_strlist *l, const char *s);
void sg_strlist_clear(struct sg_strlist *l);

#endif
