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
#define SG_PF_MAX_DEPTH 250  /* groups in groups; PCRE2's own default limit */

struct pf_parser {
	const char *p;
	int bail;                /* saw something we do not understand */
	int depth;               /* groups open around p: bounds the recursion */
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

/* The branch being read: the run of literal characters so far and the
 * most selective set found in it (the caller's). */
struct branch {
	GString *run;
	struct orset *best;
};

/* End the run: it becomes the best set when it is long enough and more
 * selective than the best so far. */
static void
flush_run(struct branch *b)
{
	if (b->run->len >= SG_PF_MIN && (!b->best->valid || b->run->len > shortest(b->best))) {
		orset_clear(b->best);
		b->best->valid = 1;
		sg_strlist_add(&b->best->lits, b->run->str, 0);
	}
	g_string_truncate(b->run, 0);
}

/* An atom that matches no literal (a class, \w, '.', an anchor) ends the
 * run, whatever its quantifier. */
static void
end_run(struct pf_parser *ps, struct branch *b)
{
	flush_run(b);
	(void)quantifier(ps);
}

/* A literal character of n bytes, whose quantifier follows at ps->p: an
 * optional one ends the run without it, a repeated one (+) after it. */
static void
literal(struct pf_parser *ps, struct branch *b, const char *c, size_t n)
{
	int q = quantifier(ps);

	if (q == 1) {
		flush_run(b);
	} else {
		g_string_append_len(b->run, c, (gssize)n);
		if (q == 0)
			flush_run(b);
	}
}

/* "(...)" or "(?:...)": the group's set replaces the best when the group
 * is required and more selective; other (? forms are not understood. */
static void
group(struct pf_parser *ps, struct branch *b)
{
	struct orset cur = { 0 };

	ps->p++;
	if (*ps->p == '?') {
		if (ps->p[1] != ':') {
			ps->bail = 1;   /* lookarounds, options, names */
			return;
		}
		ps->p += 2;
	}
	if (ps->depth >= SG_PF_MAX_DEPTH) {
		ps->bail = 1;
		return;
	}
	flush_run(b);
	ps->depth++;
	parse_alt(ps, &cur);
	ps->depth--;
	if (*ps->p != ')') {
		ps->bail = 1;
		orset_clear(&cur);
		return;
	}
	ps->p++;
	int q = quantifier(ps);
	if (q != 1 && cur.valid && cur.lits.n && (!b->best->valid || shortest(&cur) > shortest(b->best))) {
		orset_clear(b->best);
		*b->best = cur;
		memset(&cur, 0, sizeof(cur));
	}
	orset_clear(&cur);
}

/* "[...]": skipped, it ends the run. */
static void
char_class(struct pf_parser *ps, struct branch *b)
{
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
		return;
	}
	ps->p = q + 1;
	end_run(ps, b);
}

/* A backslash: an escaped punctuation character is itself; \b \w \d \s
 * \p{..} and the like end the run; back references, \Q, \x, \c ... are
 * not understood. */
static void
escape(struct pf_parser *ps, struct branch *b)
{
	char e = ps->p[1];

	if (e == '\0' || e == 'Q' || e == 'x' || e == 'c' || e == 'o' || e == 'N' || e == 'g' || e == 'k' ||
	    (e >= '0' && e <= '9')) {
		ps->bail = 1;
		return;
	}
	ps->p += 2;
	if (!g_ascii_isalnum(e)) {
		literal(ps, b, &e, 1);
		return;
	}
	if ((e == 'p' || e == 'P') && *ps->p == '{') {
		const char *cl = strchr(ps->p, '}');
		if (cl == NULL) {
			ps->bail = 1;
			return;
		}
		ps->p = cl + 1;
	}
	end_run(ps, b);
}

/* One branch: a concatenation until '|' or ')' or the end. */
static void
parse_branch(struct pf_parser *ps, struct orset *best)
{
	struct branch b = { g_string_new(NULL), best };

	best->valid = 0;
	memset(&best->lits, 0, sizeof(best->lits));
	while (*ps->p && *ps->p != '|' && *ps->p != ')' && !ps->bail) {
		char ch = *ps->p;
		if (ch == '(') {
			group(ps, &b);
		} else if (ch == '[') {
			char_class(ps, &b);
		} else if (ch == '\\') {
			escape(ps, &b);
		} else if (strchr("^$.", ch) != NULL) {
			ps->p++;
			end_run(ps, &b);
		} else if (strchr("?*+{", ch) != NULL) {
			ps->bail = 1;   /* quantifier with nothing before it */
		} else {
			/* a literal character (a whole UTF-8 sequence) */
			const char *c = ps->p;
			ps->p = g_utf8_next_char(ps->p);
			literal(ps, &b, c, (size_t)(ps->p - c));
		}
	}
	flush_run(&b);
	g_string_free(b.run, TRUE);
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
	struct pf_parser ps = { pattern, 0, 0 };
	struct orset o;
	int caseless = 0;

	if (!g_utf8_validate(pattern, -1, NULL))
		return NULL;   /* PCRE2 refuses it too; literals are read by UTF-8 sequence */
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
