/*
 * prefilter — required literals of a regular expression, so that a rule
 * whose pattern cannot match a text is skipped without running PCRE2.
 *
 * sg_prefilter_build() reads the pattern source conservatively and
 * returns a set of literals of which at least one must occur in any text
 * the pattern matches (the OR-set of the most selective factor), or NULL
 * when it cannot be sure (lookarounds, \Q, inline options, classes only,
 * optional parts, the x flag, groups nested over 250 deep, a pattern that
 * is not UTF-8 ...). A NULL prefilter means "always run the regex": the
 * prefilter can only save work, never change a result.
 * With caseless patterns the literals are case-folded (g_utf8_casefold:
 * every pair PCRE2 treats as equal folds alike) and must be searched in
 * case-folded text.
 */
#ifndef SG_PREFILTER_H
#define SG_PREFILTER_H

#include <stddef.h>

#include "lib/strlist.h"

struct sg_prefilter {
	struct sg_strlist lits;   /* at least one occurs in every match */
	int caseless;
};

struct sg_prefilter *sg_prefilter_build(const char *pattern, const char *flags);
void sg_prefilter_free(struct sg_prefilter **pf);
/* 1 when the text may match (some literal occurs), 0 when it cannot.
 * text must be case-folded by the caller when pf->caseless. */
int sg_prefilter_may_match(const struct sg_prefilter *pf, const char *text, size_t len);

#endif
