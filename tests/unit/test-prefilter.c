/*
 * test-prefilter — the required-literal prefilter of rule regexes: which
 * patterns get literal sets, which are left alone, and a differential
 * check that it never says "cannot match" where PCRE2 finds a match
 * (every pattern against every text, caseless ones on folded text).
 */
#include "config.h"

#include <glib.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "rules/prefilter.h"
#include "tap.h"

static char *
lits(const struct sg_prefilter *pf)
{
	GString *g = g_string_new(NULL);
	for (size_t i = 0; pf && i < pf->lits.n; i++)
		g_string_append_printf(g, "%s%s", i ? "|" : "", pf->lits.v[i]);
	return g_string_free(g, FALSE);
}

static const struct { const char *re, *flags, *want; } sets[] = {
	{ "invoice", "", "invoice" },
	{ "invoice|payment", "i", "invoice|payment" },
	{ "\\b(invoice|bill)s?\\b", "i", "invoice|bill" },
	{ "order\\s+no\\.?\\s*\\d+", "", "order" },
	{ "^re:", "i", "re:" },
	{ "счёт|оплат", "i", "счёт|оплат" },
	{ "Rechnung", "i", "rechnung" },
	{ "(?:urgent|asap)!", "", "urgent|asap" },
	{ "abc?def", "", "def" },
	{ "ab+cd", "", NULL },            /* runs shorter than 3 filter too little */
	{ "invoic+e", "", "invoic" },
	{ "x{2}yz", "", NULL },
	{ "a.b", "", NULL },
	{ "(?=foo)bar", "", NULL },
	{ "(?i)invoice", "", NULL },
	{ "\\Qa.b\\E", "", NULL },
	{ "inv|x", "", NULL },
	{ "(invoice)?", "", NULL },
	{ "(invoice)*total", "", "total" },
	{ "[abc]+", "", NULL },
	{ "invoice", "x", NULL },
	{ "a|", "", NULL },
	{ "\\d{3}-\\d{4}", "", NULL },
	{ "foo\\.bar", "", "foo.bar" },
	{ "(a|b)(cde|fgh)", "", "cde|fgh" },
};

static void
test_literals(void)
{
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct sg_prefilter *pf = sg_prefilter_build(sets[i].re, sets[i].flags);
		char *got = lits(pf);
		if (sets[i].want == NULL)
			ok(pf == NULL, "/%s/%s: no prefilter (got '%s')", sets[i].re, sets[i].flags, got);
		else
			is_str(pf ? got : NULL, sets[i].want, "/%s/%s: literals", sets[i].re, sets[i].flags);
		g_free(got);
		sg_prefilter_free(&pf);
	}
}

/* differential: prefilter "no" must imply PCRE2 "no match" */
static void
test_differential(void)
{
	static const char *texts[] = {
		"Your INVOICE no. 12345 is attached", "payment failed", "Re: Bills", "order   no.42",
		"Счёт на оплату № 5", "СЧЁТ", "RECHNUNG 2026", "urgent!", "ASAP!", "abdef", "abbbcd", "xxyz",
		"foo.bar", "foo-bar", "bcde", "Kelvin \xe2\x84\xaa", "stra\xc3\x9f" "e", "", "nothing here",
	};
	int bad = 0, checked = 0;
	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		struct sg_prefilter *pf = sg_prefilter_build(sets[i].re, sets[i].flags);
		uint32_t opts = PCRE2_UTF;
		if (strchr(sets[i].flags, 'i'))
			opts |= PCRE2_CASELESS;
		if (strchr(sets[i].flags, 'x'))
			opts |= PCRE2_EXTENDED;
		int err;
		PCRE2_SIZE off;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)sets[i].re, PCRE2_ZERO_TERMINATED, opts, &err, &off, NULL);
		if (re == NULL || pf == NULL) {
			sg_prefilter_free(&pf);
			if (re)
				pcre2_code_free(re);
			continue;
		}
		pcre2_match_data *md = pcre2_match_data_create(1, NULL);
		for (size_t t = 0; t < sizeof(texts) / sizeof(texts[0]); t++) {
			int m = pcre2_match(re, (PCRE2_SPTR)texts[t], strlen(texts[t]), 0, 0, md, NULL) >= 0;
			char *f = pf->caseless ? g_utf8_casefold(texts[t], -1) : g_strdup(texts[t]);
			int may = sg_prefilter_may_match(pf, f, strlen(f));
			g_free(f);
			checked++;
			if (m && !may) {
				bad++;
				diag("false negative: /%s/%s on '%s'", sets[i].re, sets[i].flags, texts[t]);
			}
		}
		pcre2_match_data_free(md);
		pcre2_code_free(re);
		sg_prefilter_free(&pf);
	}
	ok(checked > 100, "differential check ran (%d pairs)", checked);
	is_int(bad, 0, "the prefilter never hides a match");
}

/* Patterns the rules never pass (PCRE2 refuses them first) must still be
 * safe: deep nesting costs no stack, invalid UTF-8 is no set. */
static void
test_hostile_patterns(void)
{
	size_t n = 100000;
	char *deep = g_malloc(2 * n + 4);
	memset(deep, '(', n);
	memcpy(deep + n, "abc", 3);
	memset(deep + n + 3, ')', n);
	deep[2 * n + 3] = '\0';
	struct sg_prefilter *pf = sg_prefilter_build(deep, "");
	ok(pf == NULL, "100,000 nested groups: no set, no stack overflow");
	sg_prefilter_free(&pf);
	g_free(deep);
	pf = sg_prefilter_build("((((((((((abc))))))))))", "");
	char *l = lits(pf);
	is_str(l, "abc", "10 nested groups still give their literal");
	g_free(l);
	sg_prefilter_free(&pf);

	char *bad = g_strdup("abcd\xfc");   /* a 6-byte lead byte at the end */
	pf = sg_prefilter_build(bad, "");
	ok(pf == NULL, "a pattern that is not UTF-8 gets no set (and is not read past its end)");
	sg_prefilter_free(&pf);
	g_free(bad);
}

static const struct sg_test tests[] = {
	{ "literals", test_literals },
	{ "differential", test_differential },
	{ "hostile-patterns", test_hostile_patterns },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
