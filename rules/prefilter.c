/*
 * prefilter — see prefilter.h.
 *
 * A small recursive reader of PCRE2 syntax: an alternation's OR-set is
 * the union of its branches' sets (any branch without one spoils it); a
 * branch (concatenation) picks the factor whose set is most selective
 * (longest shortest literal); a factor is a run of literal characters, or
 * a group (its alternation), and anything optional (?, *, {0,}) or not
 * understood yields no set. Every "no set" is safe: the regex runs.
 */
#include "config.h"
#include "prefilter.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"

#define SG_PF_MIN 3          /* literals shorter than this filter too little */
#define SG_PF_MAX_LITS 64

struct pf_parser {
	const char *p;
	int bail;                /* saw something we do not understand */
};

/* An OR-set; NULL-able through the 'valid' flag. */
struct orset {
	int valid;
	struct sg_strlist lits;
};

static size_t
shortest(const struct orset *o)
{
	size_t m = (size_t)-1;
	for (size_t i = 0; i < o->lits.n; i++)
		if (strlen(o->lits.v[i]) < m)
			m = strlen(o->lits.v[i]);
	return o->lits.n ? m : 0;
}

static void orset_clear(struct orset *o) { sg_strlist_clear(&o->lits); o->valid = 0; }

static void parse_alt(struct pf_parser *ps, struct orset *out);

/* Is the next thing a quantifier that makes the previous atom optional?
 * Consumes it. Returns 1 optional, 0 required (e.g. '+', {1,}), -1 none. */
static int
quantifier(struct pf_parser *ps)
{
	const char *p = ps->p;
	int opt = -1;

	if (*p == '?' || *p == '*') {
		opt = 1;
		p++;
	} else if (*p == '+') {
		opt = 0;
		p++;
	} else if (*p == '{') {
		const char *e = strchr(p, '}');
		if (e == NULL) {
			ps->bail = 1;
			return -1;
		}
		opt = p[1] == '0' || p[1] == ',';
		p = e + 1;
	}
	if (opt >= 0 && (*p == '?' || *p == '+'))
		p++;   /* lazy / possessive */
	ps->p = p;
	return opt;
}

/* One branch: a concatenation until '|' or ')' or end. */
static void
parse_branch(struct pf_parser *ps, struct orset *best)
{
	GString *run = g_string_new(NULL);
	struct orset cur = { 0 };

	best->valid = 0;
	memset(&best->lits, 0, sizeof(best->lits));
#define FLUSH_RUN() do { \
		if (run->len >= SG_PF_MIN && (!best->valid || run->len > shortest(best))) { \
			orset_clear(best); best->valid = 1; sg_strlist_add(&best->lits, run->str, 0); } \
		g_string_truncate(run, 0); } while (0)

	while (*ps->p && *ps->p != '|' && *ps->p != ')' && !ps->bail) {
		char ch = *ps->p;
		if (ch == '(') {
			ps->p++;
			if (*ps->p == '?') {
				/* (?: is a plain group; lookarounds, options, names: give up */
				if (ps->p[1] == ':')
					ps->p += 2;
				else {
					ps->bail = 1;
					break;
				}
			}
			FLUSH_RUN();
			parse_alt(ps, &cur);
			if (*ps->p != ')') {
				ps->bail = 1;
				orset_clear(&cur);
				break;
			}
			ps->p++;
			int q = quantifier(ps);
			if (q != 1 && cur.valid && cur.lits.n && (!best->valid || shortest(&cur) > shortest(best))) {
				orset_clear(best);
				*best = cur;
				memset(&cur, 0, sizeof(cur));
			}
			orset_clear(&cur);
			continue;
		}
		if (ch == '[') {
			/* a class: skip it, it ends the run */
			const char *q = ps->p + 1;
			if (*q == '^')
				q++;
			if (*q == ']')
				q++;
			while (*q && *q != ']') {
				if (*q == '\\' && q[1])
					q++;
				q++;
			}
			if (*q != ']') {
				ps->bail = 1;
				break;
			}
			ps->p = q + 1;
			FLUSH_RUN();
			(void)quantifier(ps);
			continue;
		}
		if (ch == '\\') {
			char e = ps->p[1];
			if (e == '\0' || e == 'Q' || e == 'x' || e == 'c' || e == 'o' || e == 'N' || e == 'g' || e == 'k' ||
			    (e >= '0' && e <= '9')) {
				ps->bail = 1;
				break;
			}
			if (g_ascii_isalnum(e)) {
				/* \b \w \d \s \p{..} ...: not a literal; ends the run */
				ps->p += 2;
				if ((e == 'p' || e == 'P') && *ps->p == '{') {
					const char *cl = strchr(ps->p, '}');
					if (cl == NULL) {
						ps->bail = 1;
						break;
					}
					ps->p = cl + 1;
				}
				FLUSH_RUN();
				(void)quantifier(ps);
				continue;
			}
			/* an escaped punctuation character is itself */
			ps->p += 2;
			int q = quantifier(ps);
			if (q == 1) {
				FLUSH_RUN();
			} else {
				g_string_append_c(run, e);
				if (q == 0)
					FLUSH_RUN();
			}
			continue;
		}
		if (strchr("^$.", ch) != NULL) {
			ps->p++;
			FLUSH_RUN();
			(void)quantifier(ps);
			continue;
		}
		if (strchr("?*+{", ch) != NULL) {
			ps->bail = 1;   /* quantifier with nothing before it */
			break;
		}
		/* a literal character (a whole UTF-8 sequence) */
		const char *nx = g_utf8_next_char(ps->p);
		size_t clen = (size_t)(nx - ps->p);
		char one[8];
		memcpy(one, ps->p, clen);
		one[clen] = '\0';
		ps->p = nx;
		int q = quantifier(ps);
		if (q == 1) {
			FLUSH_RUN();
		} else {
			g_string_append(run, one);
			if (q == 0)
				FLUSH_RUN();
		}
	}
	FLUSH_RUN();
#undef FLUSH_RUN
	g_string_free(run, TRUE);
	orset_clear(&cur);
}

/* An alternation: every branch must give a set; the union is the set. */
static void
parse_alt(struct pf_parser *ps, struct orset *out)
{
	int ok = 1;

	out->valid = 0;
	memset(&out->lits, 0, sizeof(out->lits));
	for (;;) {
		struct orset b;
		parse_branch(ps, &b);
		if (!b.valid || ps->bail)
			ok = 0;
		for (size_t i = 0; ok && i < b.lits.n; i++)
			sg_strlist_add(&out->lits, b.lits.v[i], 0);
		orset_clear(&b);
		if (*ps->p != '|')
			break;
		ps->p++;
	}
	out->valid = ok && out->lits.n > 0 && out->lits.n <= SG_PF_MAX_LITS;
	if (!out->valid)
		sg_strlist_clear(&out->lits);
}

struct sg_prefilter *
sg_prefilter_build(const char *pattern, const char *flags)
{
	struct pf_parser ps = { pattern, 0 };
	struct orset o;
	int caseless = 0;

	for (const char *f = flags; f && *f; f++) {
		if (*f == 'x')
			return NULL;
		if (*f == 'i')
			caseless = 1;
	}
	parse_alt(&ps, &o);
	if (ps.bail || *ps.p != '\0' || !o.valid) {
		orset_clear(&o);
		return NULL;
	}
	struct sg_prefilter *pf = sg_xcalloc(1, sizeof(*pf));
	pf->caseless = caseless;
	for (size_t i = 0; i < o.lits.n; i++) {
		if (caseless) {
			gchar *l = g_utf8_casefold(o.lits.v[i], -1);
			sg_strlist_add(&pf->lits, l, 1);
			g_free(l);
		} else {
			sg_strlist_add(&pf->lits, o.lits.v[i], 1);
		}
	}
	orset_clear(&o);
	return pf;
}

void
sg_prefilter_free(struct sg_prefilter **pfp)
{
	if (*pfp == NULL)
		return;
	sg_strlist_clear(&(*pfp)->lits);
	free(*pfp);
	*pfp = NULL;
}

int
sg_prefilter_may_match(const struct sg_prefilter *pf, const char *text, size_t len)
{
	for (size_t i = 0; i < pf->lits.n; i++)
		if (memmem(text, len, pf->lits.v[i], strlen(pf->lits.v[i])) != NULL)
			return 1;
	return 0;
}
