/*
 * rules — see rules.h. Tokenizer, parser (errors with line and column),
 * compiled conditions (PCRE2 with JIT), evaluator.
 */
#include "config.h"
#include "rules/rules.h"

#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <libgen.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "calendar/calendar.h"
#include "mail/address.h"
#include "prefilter.h"
#include "lib/log.h"
#include "lib/lograte.h"
#include "lib/size.h"
#include "lib/xalloc.h"

#define MOD "rules"
#define SG_RULES_MAX_LINE 65536
/* Body conditions see the first 64 KiB of the decoded text: the bound
 * keeps 1,000 rules cheaper than parsing even for huge mails. */
#define SG_RULES_BODY_MAX (64 * 1024)

enum tok_kind { T_END, T_WORD, T_STRING, T_REGEX, T_OP };
struct tok {
	enum tok_kind kind;
	char *text;        /* word, string contents, regex body, operator */
	char *flags;       /* regex flags */
	int col;
};

enum field {
	F_FROM, F_TO, F_CC, F_SUBJECT, F_BODY, F_ENV_FROM, F_ENV_RCPT, F_HEADER, F_ATT_NAME, F_ATT_TYPE,
	F_SIZE, F_SEGMENT, F_QUEUE, F_STATUS, F_DOOR, F_AUTH,
};
static const char *const field_names[] = {
	"from", "to", "cc", "subject", "body", "env-from", "env-rcpt", "header", "attachment-name",
	"attachment-type", "size", "segment", "queue", "status", "door", "auth",
};
enum op { O_MATCH, O_NOMATCH, O_EQ, O_NE, O_IN, O_GT, O_LT };

struct cond {
	enum { C_ALWAYS, C_AND, C_OR, C_NOT, C_TEST } kind;
	struct cond *a, *b;
	enum field field;
	char *header;
	enum op op;
	pcre2_code *re;
	int windows;              /* may be searched in windows of start positions */
	int jit;                  /* JIT-compiled (else the slower interpreter) */
	struct sg_prefilter *pf;  /* required literals, or NULL */
	unsigned *lit_ids;        /* pf's literals as ids into the rules' literal table */
	char *text;            /* regex source or string, for traces */
	size_t list;           /* index into lists for O_IN */
	unsigned long long num;
};

enum act_kind {
	A_QUEUE, A_PRIORITY, A_SLA, A_SEGMENT, A_TAG, A_ASSIGN, A_TEMPLATE, A_LANGUAGE, A_NOTIFY, A_WEBHOOK,
	A_REJECT, A_TEMPFAIL, A_QUARANTINE, A_STOP, A_CONTINUE, A_SERVICE,
};
static const char *const act_names[] = {
	"queue", "priority", "sla", "segment", "tag", "assign", "template", "language", "notify", "webhook",
	"reject", "tempfail", "quarantine", "stop", "continue", "service",
};

struct action {
	enum act_kind kind;
	char *arg;
};

struct rule {
	char *name;
	struct cond *cond;
	struct action *acts;
	size_t nacts;
	int line;
};

struct list_file {
	char *path;
	struct sg_strlist entries;
};

struct segment_def {
	char *name;
	size_t list;
};

struct calendar_def {
	char *name;
	struct sg_calendar *cal;
};

/* calendar NAME: its settings until the line ends */
struct calendar_decl {
	char *hours, *tz, *holidays;
};

/* Where something was declared, for errors found after the load. */
struct decl_at {
	char *file;
	int line, col;
};

struct sg_rules {
	struct rule *rules;
	size_t nrules;
	struct sg_queue_def *queues;
	struct decl_at *queue_at;   /* parallel to queues */
	size_t nqueues;
	struct sg_agent_def *agents;
	size_t nagents;
	struct segment_def *segments;
	size_t nsegments;
	struct sg_sla_tier *slas;
	size_t nslas;
	struct calendar_def *calendars;
	size_t ncalendars;
	struct sg_service_def *services;
	size_t nservices;
	struct list_file *lists;
	size_t nlists;
	size_t nincludes;         /* files read by include, bounded */
	pcre2_match_context *mctx;
	GHashTable *lits;         /* literal -> id + 1, for the prefilter caches */
	unsigned nlits;
};

/* ------------------------------------------------------------ errors */

struct parser {
	struct sg_rules *r;
	struct sg_diag *errs;
	const char *path;
	int line;
	struct tok *toks;
	size_t ntoks, pos;
	int include_depth;   /* of this file: 0 for the top file */
	int cond_depth;      /* of not and ( around the current token */
	const struct parser *parent;   /* the file that included this one */
	dev_t dev;           /* of this file, for include cycles */
	ino_t ino;
};

static void perr(struct parser *p, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
perr(struct parser *p, int col, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sg_diag_add(p->errs, p->path, p->line, col, "%s", msg);
}

/* ------------------------------------------------------------ tokenizer */

static int
is_word_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == '@' || c == '+' || c == '-' || c == ':' || c == '*' ||
	       c >= 0x80;
}

static void
toks_free(struct parser *p)
{
	for (size_t i = 0; i < p->ntoks; i++) {
		free(p->toks[i].text);
		free(p->toks[i].flags);
	}
	free(p->toks);
	p->toks = NULL;
	p->ntoks = p->pos = 0;
}

static void
tok_push(struct parser *p, enum tok_kind k, char *text, char *flags, int col)
{
	p->toks = sg_xreallocarray(p->toks, p->ntoks + 1, sizeof(*p->toks));
	p->toks[p->ntoks].kind = k;
	p->toks[p->ntoks].text = text;
	p->toks[p->ntoks].flags = flags;
	p->toks[p->ntoks].col = col;
	p->ntoks++;
}

static int
tokenize(struct parser *p, const char *s)
{
	size_t i = 0, n = strlen(s);

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		int col = (int)i + 1;
		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
		} else if (c == '#') {
			break;
		} else if (c == '"') {
			GString *g = g_string_new(NULL);
			i++;
			while (i < n && s[i] != '"') {
				if (s[i] == '\\' && i + 1 < n)
					i++;
				g_string_append_c(g, s[i++]);
			}
			if (i >= n) {
				perr(p, col, "unterminated string");
				g_string_free(g, TRUE);
				return -1;
			}
			i++;
			tok_push(p, T_STRING, sg_xstrdup(g->str), NULL, col);
			g_string_free(g, TRUE);
		} else if (c == '/') {
			GString *g = g_string_new(NULL);
			i++;
			while (i < n && s[i] != '/') {
				if (s[i] == '\\' && i + 1 < n && s[i + 1] == '/') {
					g_string_append_c(g, '/');
					i += 2;
					continue;
				}
				if (s[i] == '\\' && i + 1 < n) {
					g_string_append_c(g, s[i++]);
				}
				g_string_append_c(g, s[i++]);
			}
			if (i >= n) {
				perr(p, col, "unterminated regex (missing closing /)");
				g_string_free(g, TRUE);
				return -1;
			}
			i++;
			size_t f = i;
			while (i < n && isalpha((unsigned char)s[i]))
				i++;
			tok_push(p, T_REGEX, sg_xstrdup(g->str), sg_xstrndup(s + f, i - f), col);
			g_string_free(g, TRUE);
		} else if (strncmp(s + i, "=>", 2) == 0 || strncmp(s + i, "!~", 2) == 0 || strncmp(s + i, "!=", 2) == 0) {
			tok_push(p, T_OP, sg_xstrndup(s + i, 2), NULL, col);
			i += 2;
		} else if (strchr("~=<>,()", c) != NULL) {
			tok_push(p, T_OP, sg_xstrndup(s + i, 1), NULL, col);
			i++;
		} else if (is_word_char(c)) {
			size_t st = i;
			/* a '/' or '%' inside a word belongs to it: tz=Europe/Moscow, warn=80% */
			while (i < n && (is_word_char((unsigned char)s[i]) || s[i] == '/' || s[i] == '%'))
				i++;
			tok_push(p, T_WORD, sg_xstrndup(s + st, i - st), NULL, col);
		} else {
			perr(p, col, "unexpected character '%c'", c);
			return -1;
		}
	}
	tok_push(p, T_END, sg_xstrdup(""), NULL, (int)n + 1);
	return 0;
}

static struct tok *
peek(struct parser *p)
{
	return &p->toks[p->pos];
}

static struct tok *
next(struct parser *p)
{
	struct tok *t = &p->toks[p->pos];
	if (t->kind != T_END)
		p->pos++;
	return t;
}

static int
is_op(const struct tok *t, const char *op)
{
	return t->kind == T_OP && strcmp(t->text, op) == 0;
}

static int
is_word(const struct tok *t, const char *w)
{
	return t->kind == T_WORD && strcasecmp(t->text, w) == 0;
}

/* ------------------------------------------------------------ lists */

static char *
resolve(const char *base, const char *file)
{
	if (file[0] == '/')
		return sg_xstrdup(file);
	char *b = sg_xstrdup(base);
	char *d = dirname(b);
	char *r = sg_xasprintf("%s/%s", d, file);
	free(b);
	return r;
}

/* The entry on one list line (lower-cased, a leading '@' dropped), or
 * NULL for a blank or comment line. Edits line. */
static const char *
list_entry(char *line)
{
	char *s = line;

	while (isspace((unsigned char)*s))
		s++;
	s[strcspn(s, " \t\r\n#")] = '\0';
	if (*s == '\0')
		return NULL;
	for (char *q = s; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return s[0] == '@' ? s + 1 : s;
}

/* Read a list file into entries; a problem in a line is reported with
 * the list's own file:line. Returns 0, -1 after such a report, or the
 * errno of a read error (for the caller to report). */
static int
read_list(struct parser *p, FILE *fp, const char *path, struct sg_strlist *entries)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, rc = 0;

	while (rc == 0 && (n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if ((size_t)n > SG_RULES_MAX_LIST_LINE) {
			sg_diag_add(p->errs, path, lineno, 0, "line longer than %d bytes", SG_RULES_MAX_LIST_LINE);
			rc = -1;
		} else if (memchr(line, '\0', (size_t)n) != NULL) {
			sg_diag_add(p->errs, path, lineno, 0, "NUL byte in the line");
			rc = -1;
		} else {
			const char *e = list_entry(line);
			if (e != NULL && entries->n >= SG_RULES_MAX_LIST_ENTRIES && !sg_strlist_has(entries, e)) {
				sg_diag_add(p->errs, path, lineno, 0, "more than %d entries", SG_RULES_MAX_LIST_ENTRIES);
				rc = -1;
			} else if (e != NULL) {
				sg_strlist_add(entries, e, 1);
			}
		}
	}
	if (rc == 0 && ferror(fp))
		rc = errno != 0 ? errno : EIO;
	free(line);
	return rc;
}

/* Index of the list file (read once per rule set), or -1 after reporting
 * at col of the current line. */
static long
load_list(struct parser *p, const char *file, int col)
{
	char *path = resolve(p->path, file);
	struct sg_rules *r = p->r;

	for (size_t i = 0; i < r->nlists; i++)
		if (strcmp(r->lists[i].path, path) == 0) {
			free(path);
			return (long)i;
		}
	FILE *fp = fopen(path, "r");
	if (fp == NULL) {
		perr(p, col, "cannot read list %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	struct list_file lf = { path, { 0 } };
	int rc = read_list(p, fp, path, &lf.entries);
	fclose(fp);
	if (rc != 0) {
		if (rc > 0)
			perr(p, col, "cannot read list %s: %s", path, strerror(rc));
		else
			perr(p, col, "list %s not loaded", file);
		sg_strlist_clear(&lf.entries);
		free(path);
		return -1;
	}
	r->lists = sg_xreallocarray(r->lists, r->nlists + 1, sizeof(*r->lists));
	r->lists[r->nlists] = lf;
	return (long)r->nlists++;
}

/* An address is in a list by itself or by its domain (or a parent domain). */
static int
list_has_addr(const struct list_file *l, const char *addr)
{
	char *a = sg_addr_normalize(addr);
	int hit = 0;

	if (a == NULL)
		return 0;
	if (sg_strlist_has(&l->entries, a))
		hit = 1;
	for (const char *d = sg_addr_domain(a); !hit && d != NULL;) {
		if (sg_strlist_has(&l->entries, d))
			hit = 1;
		d = strchr(d, '.');
		if (d != NULL)
			d++;
	}
	free(a);
	return hit;
}

/* ------------------------------------------------------------ conditions */

/* Recursion only into a: and/or chains lean right (see parse_bin) and
 * are walked along b, so the stack grows with the nesting, not the length. */
static void
cond_free(struct cond *c)
{
	while (c != NULL) {
		struct cond *b = c->b;
		cond_free(c->a);
		if (c->re)
			pcre2_code_free(c->re);
		sg_prefilter_free(&c->pf);
		free(c->lit_ids);
		free(c->header);
		free(c->text);
		free(c);
		c = b;
	}
}

/* A size by the shared parser (digits, K, M or G, an optional B after
 * it). Returns 0, -1 when s is no size, -2 when it is one but does not
 * fit in 64 bits (sg_size_parse() refuses both alike). */
static int
parse_size(const char *s, unsigned long long *out)
{
	uint64_t v;
	size_t digits = strspn(s, "0123456789");
	const char *e = s + digits;

	if (sg_size_parse(s, &v) == 0) {
		*out = v;
		return 0;
	}
	if (*e != '\0' && strchr("kKmMgG", *e) != NULL) {
		e++;
		if (*e == 'b' || *e == 'B')
			e++;
	}
	return digits > 0 && *e == '\0' ? -2 : -1;
}

static struct cond *parse_or(struct parser *p);

/* The field of a test: one of field_names, or header:NAME. Sets
 * c->field (and c->header); returns 0, or -1 after reporting. */
static int
parse_field(struct parser *p, const struct tok *f, struct cond *c)
{
	if (strncasecmp(f->text, "header:", 7) == 0 && f->text[7] != '\0') {
		c->field = F_HEADER;
		c->header = sg_xstrdup(f->text + 7);
		return 0;
	}
	for (size_t i = 0; i < sizeof(field_names) / sizeof(field_names[0]); i++)
		if (strcasecmp(f->text, field_names[i]) == 0 && i != F_HEADER) {
			c->field = (enum field)i;
			return 0;
		}
	perr(p, f->col, "unknown field '%s'", f->text);
	return -1;
}

/* PCRE2 options for the flags of a /regex/flags token. */
static int
regex_options(struct parser *p, const struct tok *v, uint32_t *opts)
{
	*opts = PCRE2_UTF;
	for (const char *fl = v->flags; *fl; fl++) {
		switch (*fl) {
		case 'i': *opts |= PCRE2_CASELESS; break;
		case 'm': *opts |= PCRE2_MULTILINE; break;
		case 's': *opts |= PCRE2_DOTALL; break;
		case 'x': *opts |= PCRE2_EXTENDED; break;
		case 'u': *opts |= PCRE2_UCP; break;
		default:
			perr(p, v->col, "unknown regex flag '%c' (i m s x u)", *fl);
			return -1;
		}
	}
	return 0;
}

/* The regex's required literals (prefilter.h), each numbered once per
 * rule set so that an evaluation caches one answer per literal. */
static void
add_prefilter(struct sg_rules *r, struct cond *c, const struct tok *v)
{
	c->pf = sg_prefilter_build(v->text, v->flags);
	if (c->pf == NULL)
		return;
	c->lit_ids = sg_xcalloc(c->pf->lits.n, sizeof(*c->lit_ids));
	for (size_t li = 0; li < c->pf->lits.n; li++) {
		/* caseless and exact literals are different entries */
		char *k = sg_xasprintf("%c%s", c->pf->caseless ? 'i' : 'e', c->pf->lits.v[li]);
		gpointer id = g_hash_table_lookup(r->lits, k);
		if (id == NULL) {
			id = GUINT_TO_POINTER(++r->nlits);
			g_hash_table_insert(r->lits, k, id);
		} else {
			free(k);
		}
		c->lit_ids[li] = GPOINTER_TO_UINT(id) - 1;
	}
}

/* FIELD ~ /regex/flags and FIELD !~ /regex/flags. */
static int
regex_test(struct parser *p, const struct tok *o, const struct tok *v, struct cond *c)
{
	uint32_t opts;
	int err;
	PCRE2_SIZE off;

	c->op = is_op(o, "~") ? O_MATCH : O_NOMATCH;
	if (v->kind != T_REGEX) {
		perr(p, v->col, "expected /regex/ after %s", o->text);
		return -1;
	}
	if (regex_options(p, v, &opts) < 0)
		return -1;
	/* The offset limit lets the evaluator search a long text in windows
	 * of start positions (the budget in rules.h). \G and the verbs
	 * ((*SKIP), (*COMMIT) ...) depend on where a call starts: such a
	 * pattern always runs in one call. */
	c->windows = strstr(v->text, "\\G") == NULL && strstr(v->text, "(*") == NULL;
	if (c->windows)
		opts |= PCRE2_USE_OFFSET_LIMIT;
	c->re = pcre2_compile((PCRE2_SPTR)v->text, PCRE2_ZERO_TERMINATED, opts, &err, &off, NULL);
	if (c->re == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof(msg));
		perr(p, v->col + 1 + (int)off, "regex: %s", (char *)msg);
		return -1;
	}
	c->jit = pcre2_jit_compile(c->re, PCRE2_JIT_COMPLETE) == 0;  /* else the interpreter */
	add_prefilter(p->r, c, v);
	c->text = sg_xasprintf("/%s/%s", v->text, v->flags);
	return 0;
}

/* FIELD = "string" and FIELD != "string" (a word will do). */
static int
string_test(struct parser *p, const struct tok *o, const struct tok *v, struct cond *c)
{
	c->op = is_op(o, "=") ? O_EQ : O_NE;
	if (v->kind != T_STRING && v->kind != T_WORD) {
		perr(p, v->col, "expected a \"string\" after %s", o->text);
		return -1;
	}
	c->text = sg_xstrdup(v->text);
	return 0;
}

/* FIELD in "FILE". */
static int
list_test(struct parser *p, const struct tok *v, struct cond *c)
{
	c->op = O_IN;
	if (v->kind != T_STRING) {
		perr(p, v->col, "expected a \"file\" after in");
		return -1;
	}
	long li = load_list(p, v->text, v->col);
	if (li < 0)
		return -1;
	c->list = (size_t)li;
	c->text = sg_xasprintf("\"%s\"", v->text);
	return 0;
}

/* size > N and size < N. */
static int
size_test(struct parser *p, const struct tok *o, const struct tok *v, struct cond *c)
{
	c->op = is_op(o, ">") ? O_GT : O_LT;
	int rc = c->field == F_SIZE && v->kind == T_WORD ? parse_size(v->text, &c->num) : -1;
	if (rc == -2) {
		perr(p, v->col, "size '%s' is too large", v->text);
		return -1;
	}
	if (rc < 0) {
		perr(p, o->col, "> and < compare size with a number (e.g. size > 5M)");
		return -1;
	}
	c->text = sg_xstrdup(v->text);
	return 0;
}

/* always, or FIELD OP VALUE. */
static struct cond *
parse_test(struct parser *p)
{
	struct tok *f = next(p);
	struct cond *c = sg_xcalloc(1, sizeof(*c));
	int rc;

	if (is_word(f, "always")) {
		c->kind = C_ALWAYS;
		return c;
	}
	c->kind = C_TEST;
	if (f->kind != T_WORD) {
		perr(p, f->col, "expected a field (from, subject, body, header:NAME, ...)");
		rc = -1;
	} else if (parse_field(p, f, c) < 0) {
		rc = -1;
	} else {
		struct tok *o = next(p), *v = next(p);
		if (is_op(o, "~") || is_op(o, "!~"))
			rc = regex_test(p, o, v, c);
		else if (is_op(o, "=") || is_op(o, "!="))
			rc = string_test(p, o, v, c);
		else if (is_word(o, "in"))
			rc = list_test(p, v, c);
		else if (is_op(o, ">") || is_op(o, "<"))
			rc = size_test(p, o, v, c);
		else {
			perr(p, o->col, "expected an operator (~ !~ = != in > <) after '%s'", f->text);
			rc = -1;
		}
	}
	if (rc < 0) {
		cond_free(c);
		return NULL;
	}
	return c;
}

/* "not X" or "( X )" opens one nesting level, else a test. The parser
 * recurses a bounded number of frames per level, so SG_RULES_MAX_NESTING
 * also bounds its stack (and that of the evaluator and cond_free). */
static struct cond *
parse_not(struct parser *p)
{
	struct tok *t = peek(p);
	int is_not = is_word(t, "not");
	struct cond *c;

	if (!is_not && !is_op(t, "("))
		return parse_test(p);
	if (p->cond_depth >= SG_RULES_MAX_NESTING) {
		perr(p, t->col, "conditions nested deeper than %d (parentheses and not)", SG_RULES_MAX_NESTING);
		return NULL;
	}
	next(p);
	p->cond_depth++;
	c = is_not ? parse_not(p) : parse_or(p);
	p->cond_depth--;
	if (c == NULL)
		return NULL;
	if (is_not) {
		struct cond *n = sg_xcalloc(1, sizeof(*n));
		n->kind = C_NOT;
		n->a = c;
		return n;
	}
	if (!is_op(peek(p), ")")) {
		perr(p, peek(p)->col, "expected )");
		cond_free(c);
		return NULL;
	}
	next(p);
	return c;
}

/* "a and b and c" becomes and(a, and(b, c)): the chain leans right, so
 * eval() and cond_free() walk it in a loop, left to right, however long. */
static struct cond *
parse_bin(struct parser *p, const char *word, int kind, struct cond *(*sub)(struct parser *))
{
	struct cond *first = sub(p), **tail = &first;

	while (first != NULL && is_word(peek(p), word)) {
		next(p);
		struct cond *r = sub(p);
		if (r == NULL) {
			cond_free(first);
			return NULL;
		}
		struct cond *c = sg_xcalloc(1, sizeof(*c));
		c->kind = kind;
		c->a = *tail;
		c->b = r;
		*tail = c;
		tail = &c->b;
	}
	return first;
}

static struct cond *
parse_and(struct parser *p)
{
	return parse_bin(p, "and", C_AND, parse_not);
}

static struct cond *
parse_or(struct parser *p)
{
	return parse_bin(p, "or", C_OR, parse_and);
}

/* ------------------------------------------------------------ declarations */

/* Replace *dst by a copy of v (or NULL). */
static void
set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? sg_xstrdup(v) : NULL;
}

/* 30m, 4h, 2d or minutes. Returns 0, -1 when s is no duration, -2 when
 * it is longer than SG_RULES_MAX_DURATION days (so that a due time,
 * now + duration, can never overflow). */
static int
parse_duration(const char *s, long *out)
{
	char *end;
	long v;
	long mul = 60;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || v < 0)
		return -1;
	if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	if (*end != '\0')
		return -1;
	if (errno == ERANGE || v > SG_RULES_MAX_DURATION * 86400L / mul)
		return -2;
	*out = v * mul;
	return 0;
}

static void
split_list(struct sg_strlist *l, const char *v, int lower)
{
	char *copy = sg_xstrdup(v), *save = NULL;
	/* strtok_r: a reload may parse rules while other threads run */
	for (char *s = strtok_r(copy, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save)) {
		while (*s == ' ')
			s++;
		if (lower)
			for (char *q = s; *q; q++)
				*q = (char)tolower((unsigned char)*q);
		if (*s)
			sg_strlist_add(l, s, 1);
	}
	free(copy);
}

/* key=value pairs after the declaration's name; values may be a word, a
 * "string", or a comma list of words. Calls set() for each. */
static int
parse_kv(struct parser *p, int (*set)(struct parser *, void *, const char *, const char *, int), void *obj)
{
	while (peek(p)->kind != T_END) {
		struct tok *k = next(p);
		if (k->kind != T_WORD || !is_op(peek(p), "=")) {
			perr(p, k->col, "expected key=value");
			return -1;
		}
		next(p);
		struct tok *v = next(p);
		if (v->kind != T_WORD && v->kind != T_STRING) {
			perr(p, v->col, "expected a value for %s", k->text);
			return -1;
		}
		GString *g = g_string_new(v->text);
		while (v->kind == T_WORD && is_op(peek(p), ",")) {
			next(p);
			struct tok *w = next(p);
			if (w->kind != T_WORD) {
				perr(p, w->col, "expected a word after ,");
				g_string_free(g, TRUE);
				return -1;
			}
			g_string_append_printf(g, ",%s", w->text);
		}
		int rc = set(p, obj, k->text, g->str, v->col);
		g_string_free(g, TRUE);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int
set_queue(struct parser *p, void *obj, const char *k, const char *v, int col)
{
	struct sg_queue_def *q = obj;
	if (strcmp(k, "mailbox") == 0) {
		free(q->mailbox);
		q->mailbox = sg_addr_normalize(v);
		if (q->mailbox == NULL) {
			perr(p, col, "mailbox: '%s' is not an address", v);
			return -1;
		}
	} else if (strcmp(k, "agents") == 0) {
		split_list(&q->agents, v, 1);
	} else if (strcmp(k, "strategy") == 0) {
		if (strcmp(v, "round-robin") == 0)
			q->strategy = SG_STRAT_ROUND_ROBIN;
		else if (strcmp(v, "least-open") == 0)
			q->strategy = SG_STRAT_LEAST_OPEN;
		else if (strcmp(v, "none") == 0)
			q->strategy = SG_STRAT_NONE;
		else {
			perr(p, col, "strategy must be round-robin, least-open or none");
			return -1;
		}
	} else if (strcmp(k, "sla") == 0) {
		set_str(&q->sla, v);
	} else if (strcmp(k, "manager") == 0) {
		set_str(&q->manager, v);
	} else if (strcmp(k, "blind") == 0) {
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
			perr(p, col, "blind must be yes or no");
			return -1;
		}
		q->blind = strcmp(v, "yes") == 0;
	} else {
		perr(p, col - (int)strlen(k) - 1, "unknown queue setting '%s' (mailbox agents strategy sla manager blind)", k);
		return -1;
	}
	return 0;
}

static int
set_agent(struct parser *p, void *obj, const char *k, const char *v, int col)
{
	struct sg_agent_def *a = obj;
	if (strcmp(k, "name") == 0) {
		set_str(&a->name, v);
	} else if (strcmp(k, "groups") == 0) {
		split_list(&a->groups, v, 0);
	} else if (strcmp(k, "language") == 0) {
		set_str(&a->language, v);
	} else if (strcmp(k, "away") == 0) {
		if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0) {
			perr(p, col, "away must be yes or no");
			return -1;
		}
		a->away = strcmp(v, "yes") == 0;
	} else {
		perr(p, col, "unknown agent setting '%s' (name groups language away)", k);
		return -1;
	}
	return 0;
}

static int
set_segment(struct parser *p, void *obj, const char *k, const char *v, int col)
{
	struct segment_def *s = obj;
	if (strcmp(k, "list") == 0) {
		long li = load_list(p, v, col);
		if (li < 0)
			return -1;
		s->list = (size_t)li;
	} else if (strcmp(k, "domains") == 0) {
		struct sg_rules *r = p->r;
		struct list_file lf = { sg_xasprintf("(inline %s)", s->name), { 0 } };
		split_list(&lf.entries, v, 1);
		r->lists = sg_xreallocarray(r->lists, r->nlists + 1, sizeof(*r->lists));
		r->lists[r->nlists] = lf;
		s->list = r->nlists++;
	} else {
		perr(p, col, "unknown segment setting '%s' (list domains)", k);
		return -1;
	}
	return 0;
}

/* A target: a duration (30m, 4h, 2d) or business days (3bd). */
static int
parse_target(struct parser *p, const char *v, int col, struct sg_sla_target *t)
{
	size_t n = strlen(v);
	int rc;

	t->secs = 0;
	t->bdays = 0;
	if (n > 2 && strcmp(v + n - 2, "bd") == 0) {
		char *copy = sg_xstrndup(v, n - 2);
		long d = 0;
		rc = parse_duration(copy, &d);   /* plain number: minutes */
		free(copy);
		if (rc == 0 && d / 60 > SG_RULES_MAX_DURATION)
			rc = -2;
		if (rc == 0 && strspn(v, "0123456789") != n - 2)
			rc = -1;
		t->bdays = (int)(d / 60);
	} else {
		rc = parse_duration(v, &t->secs);
	}
	if (rc == -2) {
		perr(p, col, "'%s' is longer than %d days", v, SG_RULES_MAX_DURATION);
		return -1;
	}
	if (rc < 0) {
		perr(p, col, "'%s' is not a duration (30m, 4h, 2d, 3bd)", v);
		return -1;
	}
	return 0;
}

static const struct sg_calendar *
find_calendar(struct parser *p, const char *v, int col)
{
	const struct sg_calendar *c = sg_rules_calendar(p->r, v);
	if (c == NULL)
		perr(p, col, "unknown calendar '%s' (declare it before its use)", v);
	return c;
}

static int
set_sla(struct parser *p, void *obj, const char *k, const char *v, int col)
{
	struct sg_sla_tier *s = obj;

	if (strcmp(k, "first-response") == 0)
		return parse_target(p, v, col, &s->first_response);
	if (strcmp(k, "resolution") == 0)
		return parse_target(p, v, col, &s->resolution);
	if (strcmp(k, "calendar") == 0)
		return (s->calendar = find_calendar(p, v, col)) != NULL ? 0 : -1;
	if (strcmp(k, "warn") == 0) {
		char *end;
		long pct = strtol(v, &end, 10);
		if (end == v || (*end != '\0' && strcmp(end, "%") != 0) || pct < 1 || pct > 99) {
			perr(p, col, "warn must be a share of the target from 1%% to 99%%");
			return -1;
		}
		s->warn_pct = (int)pct;
		return 0;
	}
	perr(p, col, "unknown sla setting '%s' (first-response resolution calendar warn)", k);
	return -1;
}

static int
set_service(struct parser *p, void *obj, const char *k, const char *v, int col)
{
	struct sg_service_def *s = obj;

	if (strcmp(k, "resolution") == 0)
		return parse_target(p, v, col, &s->resolution);
	if (strcmp(k, "calendar") == 0)
		return (s->calendar = find_calendar(p, v, col)) != NULL ? 0 : -1;
	perr(p, col, "unknown service setting '%s' (resolution calendar)", k);
	return -1;
}

static int
set_calendar(struct parser *p, void *obj, const char *k, const char *v, int col)
{
	struct calendar_decl *d = obj;
	char **dst = strcmp(k, "hours") == 0 ? &d->hours : strcmp(k, "tz") == 0 ? &d->tz
		   : strcmp(k, "holidays") == 0 ? &d->holidays : NULL;

	if (dst == NULL) {
		perr(p, col, "unknown calendar setting '%s' (hours tz holidays)", k);
		return -1;
	}
	free(*dst);
	*dst = dst == &d->holidays ? resolve(p->path, v) : sg_xstrdup(v);
	return 0;
}

/* ------------------------------------------------------------ rules */

static void
rule_clear(struct rule *ru)
{
	cond_free(ru->cond);
	for (size_t i = 0; i < ru->nacts; i++)
		free(ru->acts[i].arg);
	free(ru->acts);
	free(ru->name);
}

/* "NAME:" or "NAME :" (a "string" name takes the separate colon), not
 * used before. Returns the name (caller frees), or NULL after reporting. */
static char *
parse_rule_name(struct parser *p)
{
	struct tok *nt = next(p);
	char *name;
	size_t nl;

	if (nt->kind != T_WORD && nt->kind != T_STRING) {
		perr(p, nt->col, "expected a rule name");
		return NULL;
	}
	name = sg_xstrdup(nt->text);
	nl = strlen(name);
	if (nt->kind == T_WORD && nl > 0 && name[nl - 1] == ':') {
		name[nl - 1] = '\0';
	} else if (peek(p)->kind == T_WORD && strcmp(peek(p)->text, ":") == 0) {
		next(p);
	} else {
		perr(p, nt->col + (int)nl, "expected ':' after the rule name");
		free(name);
		return NULL;
	}
	for (size_t i = 0; i < p->r->nrules; i++)
		if (strcmp(p->r->rules[i].name, name) == 0) {
			perr(p, nt->col, "rule '%s' defined twice (first at line %d)", name, p->r->rules[i].line);
			free(name);
			return NULL;
		}
	return name;
}

/* One action and its argument, checked against what is declared so far.
 * Returns 0, or -1 after reporting (act then owns nothing). */
static int
parse_action(struct parser *p, struct action *act)
{
	struct tok *a = next(p);
	int ak = -1;

	act->arg = NULL;
	if (a->kind == T_WORD)
		for (size_t i = 0; i < sizeof(act_names) / sizeof(act_names[0]); i++)
			if (strcasecmp(a->text, act_names[i]) == 0)
				ak = (int)i;
	if (ak < 0) {
		perr(p, a->col, "unknown action '%s'", a->text);
		return -1;
	}
	act->kind = (enum act_kind)ak;
	int needs = ak <= A_WEBHOOK || ak == A_REJECT || ak == A_SERVICE;
	int optional = ak == A_ASSIGN;
	if ((needs || optional) && (peek(p)->kind == T_WORD || peek(p)->kind == T_STRING)) {
		act->arg = sg_xstrdup(next(p)->text);
	} else if (needs && !optional) {
		perr(p, peek(p)->col, "action %s needs an argument", act_names[ak]);
		return -1;
	}
	if (ak == A_PRIORITY && sg_priority_parse(act->arg) < 0)
		perr(p, a->col, "priority must be low, normal, high or urgent");
	else if (ak == A_QUEUE && sg_rules_queue(p->r, act->arg) == NULL && strcmp(act->arg, "default") != 0)
		perr(p, a->col + 6, "unknown queue '%s' (declare it before the rule)", act->arg);
	else if (ak == A_ASSIGN && act->arg != NULL && sg_rules_agent(p->r, act->arg) == NULL)
		perr(p, a->col + 7, "unknown agent '%s'", act->arg);
	else if (ak == A_SERVICE && sg_rules_service(p->r, act->arg) == NULL)
		perr(p, a->col + 8, "unknown service '%s' (declare it before the rule)", act->arg);
	else
		return 0;
	sg_xfree(&act->arg);
	return -1;
}

/* rule NAME: CONDITION => ACTION, ACTION, ... */
static void
parse_rule(struct parser *p)
{
	struct rule ru = { .line = p->line };

	ru.name = parse_rule_name(p);
	if (ru.name == NULL)
		return;
	ru.cond = parse_or(p);
	if (ru.cond == NULL)
		goto bad;
	if (!is_op(peek(p), "=>")) {
		perr(p, peek(p)->col, "expected => before the actions");
		goto bad;
	}
	next(p);
	do {
		struct action act;
		if (parse_action(p, &act) < 0)
			goto bad;
		ru.acts = sg_xreallocarray(ru.acts, ru.nacts + 1, sizeof(*ru.acts));
		ru.acts[ru.nacts++] = act;
	} while (is_op(peek(p), ",") && next(p));
	if (peek(p)->kind != T_END) {
		perr(p, peek(p)->col, "unexpected '%s' after the actions", peek(p)->text);
		goto bad;
	}
	p->r->rules = sg_xreallocarray(p->r->rules, p->r->nrules + 1, sizeof(*p->r->rules));
	p->r->rules[p->r->nrules++] = ru;
	return;
bad:
	rule_clear(&ru);
}

/* ------------------------------------------------------------ lines and files */

/* The NAME word after a declaration's keyword, or NULL after reporting. */
static const struct tok *
decl_name(struct parser *p, const char *what)
{
	const struct tok *n = next(p);

	if (n->kind != T_WORD) {
		perr(p, n->col, "expected %s", what);
		return NULL;
	}
	return n;
}

static void
decl_queue(struct parser *p)
{
	const struct tok *n = decl_name(p, "a queue name");
	struct sg_rules *r = p->r;

	if (n == NULL)
		return;
	struct sg_queue_def q = { .name = sg_xstrdup(n->text), .strategy = SG_STRAT_ROUND_ROBIN };
	if (sg_rules_queue(r, q.name) != NULL)
		perr(p, n->col, "queue '%s' declared twice", q.name);
	parse_kv(p, set_queue, &q);
	r->queues = sg_xreallocarray(r->queues, r->nqueues + 1, sizeof(*r->queues));
	r->queue_at = sg_xreallocarray(r->queue_at, r->nqueues + 1, sizeof(*r->queue_at));
	r->queue_at[r->nqueues] = (struct decl_at){ sg_xstrdup(p->path), p->line, n->col };
	r->queues[r->nqueues++] = q;
}

static void
decl_agent(struct parser *p)
{
	const struct tok *n = next(p);
	char *addr = n->kind == T_WORD || n->kind == T_STRING ? sg_addr_normalize(n->text) : NULL;
	struct sg_rules *r = p->r;

	if (addr == NULL) {
		perr(p, n->col, "expected the agent's address");
		return;
	}
	struct sg_agent_def a = { .address = addr };
	parse_kv(p, set_agent, &a);
	r->agents = sg_xreallocarray(r->agents, r->nagents + 1, sizeof(*r->agents));
	r->agents[r->nagents++] = a;
}

static void
decl_segment(struct parser *p)
{
	const struct tok *n = decl_name(p, "a segment name");
	struct sg_rules *r = p->r;

	if (n == NULL)
		return;
	struct segment_def s = { sg_xstrdup(n->text), (size_t)-1 };
	parse_kv(p, set_segment, &s);
	r->segments = sg_xreallocarray(r->segments, r->nsegments + 1, sizeof(*r->segments));
	r->segments[r->nsegments++] = s;
}

static void
decl_sla(struct parser *p)
{
	const struct tok *n = decl_name(p, "an SLA tier name");
	struct sg_rules *r = p->r;

	if (n == NULL)
		return;
	if (sg_rules_tier(r, n->text) != NULL)
		perr(p, n->col, "sla '%s' declared twice", n->text);
	struct sg_sla_tier s = { .name = sg_xstrdup(n->text) };
	parse_kv(p, set_sla, &s);
	r->slas = sg_xreallocarray(r->slas, r->nslas + 1, sizeof(*r->slas));
	r->slas[r->nslas++] = s;
}

static void
decl_service(struct parser *p)
{
	const struct tok *n = decl_name(p, "a service name");
	struct sg_rules *r = p->r;

	if (n == NULL)
		return;
	if (sg_rules_service(r, n->text) != NULL)
		perr(p, n->col, "service '%s' declared twice", n->text);
	struct sg_service_def s = { .name = sg_xstrdup(n->text) };
	if (parse_kv(p, set_service, &s) == 0 && s.resolution.secs == 0 && s.resolution.bdays == 0)
		perr(p, n->col, "service %s needs resolution=DURATION", s.name);
	r->services = sg_xreallocarray(r->services, r->nservices + 1, sizeof(*r->services));
	r->services[r->nservices++] = s;
}

/* calendar NAME hours="..." tz=ZONE holidays="FILE": built now, so a bad
 * zone or holiday file fails the load (and a reload keeps the old rules). */
static void
decl_calendar(struct parser *p)
{
	const struct tok *n = decl_name(p, "a calendar name");
	struct sg_rules *r = p->r;
	struct calendar_decl d = { 0 };
	char *err = NULL;

	if (n == NULL)
		return;
	int col = n->col;
	char *name = sg_xstrdup(n->text);
	if (sg_rules_calendar(r, name) != NULL)
		perr(p, col, "calendar '%s' declared twice", name);
	if (parse_kv(p, set_calendar, &d) == 0) {
		if (d.hours == NULL)
			perr(p, col, "calendar %s needs hours=\"mon-fri 09:00-18:00\" (or \"24x7\")", name);
		else {
			struct sg_calendar *cal = sg_calendar_new(name, d.hours, d.tz, d.holidays, &err);
			if (cal == NULL)
				perr(p, col, "calendar %s: %s", name, err);
			else {
				r->calendars = sg_xreallocarray(r->calendars, r->ncalendars + 1, sizeof(*r->calendars));
				r->calendars[r->ncalendars++] = (struct calendar_def){ name, cal };
				name = NULL;
			}
		}
	}
	free(err);
	free(name);
	free(d.hours);
	free(d.tz);
	free(d.holidays);
}

static int load_file(struct sg_rules *r, const char *path, struct sg_diag *errs, const struct parser *parent);

/* Is path one of the files being read (this one or one including it)? */
static int
include_cycle(const struct parser *p, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0)
		return 0;   /* load_file() reports it */
	for (; p != NULL; p = p->parent)
		if (p->dev == sb.st_dev && p->ino == sb.st_ino)
			return 1;
	return 0;
}

/* include "FILE": relative to this file, within the include bounds. */
static void
decl_include(struct parser *p)
{
	const struct tok *f = next(p);
	struct sg_rules *r = p->r;
	int err = 0;

	if (f->kind != T_STRING) {
		perr(p, f->col, "expected include \"FILE\"");
		return;
	}
	if (p->include_depth >= SG_RULES_MAX_INCLUDE) {
		perr(p, f->col, "includes nested deeper than %d", SG_RULES_MAX_INCLUDE);
		return;
	}
	if (r->nincludes >= SG_RULES_MAX_INCLUDES) {
		perr(p, f->col, "more than %d files included", SG_RULES_MAX_INCLUDES);
		return;
	}
	char *path = resolve(p->path, f->text);
	if (include_cycle(p, path))
		perr(p, f->col, "include \"%s\" forms a cycle (that file is already being read)", f->text);
	else
		err = load_file(r, path, p->errs, p);
	if (err != 0)
		perr(p, f->col, "cannot read include \"%s\": %s", f->text, strerror(err));
	free(path);
}

/* One logical line: a declaration, chosen by its first word. */
static void
parse_line(struct parser *p, const char *text)
{
	static const struct {
		const char *word;
		void (*parse)(struct parser *);
	} decls[] = {
		{ "rule", parse_rule }, { "queue", decl_queue }, { "agent", decl_agent },
		{ "segment", decl_segment }, { "sla", decl_sla }, { "include", decl_include },
		{ "calendar", decl_calendar }, { "service", decl_service },
	};
	const size_t ndecls = sizeof(decls) / sizeof(decls[0]);

	if (tokenize(p, text) == 0 && peek(p)->kind != T_END) {
		struct tok *kw = next(p);
		size_t i = 0;
		while (i < ndecls && !is_word(kw, decls[i].word))
			i++;
		if (i < ndecls)
			decls[i].parse(p);
		else
			perr(p, kw->col, "expected rule, queue, agent, segment, sla, calendar, service or include");
	}
	toks_free(p);
}

/* Parse one logical line (continued lines joined), which began on
 * physical line start. */
static void
parse_logical(struct parser *p, int start, const GString *text)
{
	const gchar *bad;

	p->line = start;
	if (!g_utf8_validate(text->str, (gssize)text->len, &bad))
		perr(p, (int)(bad - text->str) + 1, "not valid UTF-8");
	else
		parse_line(p, text->str);
}

/* Every logical line of fp: a trailing '\' joins the next physical line
 * (also on the last line of the file). A NUL byte or a logical line over
 * SG_RULES_MAX_LINE is reported once and the logical line skipped.
 * Returns 0, or the errno of a read error. */
static int
read_lines(struct parser *p, FILE *fp)
{
	GString *logical = g_string_new(NULL);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int lineno = 0, start = 0, joined = 0, skip = 0, err;

	while ((n = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		int cont = n > 0 && line[n - 1] == '\\';
		if (cont)
			line[--n] = ' ';
		if (!joined)
			start = lineno;
		joined = cont;
		const char *nul = memchr(line, '\0', (size_t)n);
		if (skip) {
			/* the rest of a logical line already reported */
		} else if (nul != NULL) {
			p->line = lineno;
			perr(p, (int)(nul - line) + 1, "NUL byte in the line");
			skip = 1;
		} else if (logical->len + (size_t)n > SG_RULES_MAX_LINE) {
			p->line = start;
			perr(p, 1, "line longer than %d bytes", SG_RULES_MAX_LINE);
			skip = 1;
		} else {
			g_string_append_len(logical, line, n);
		}
		if (cont)
			continue;
		if (!skip)
			parse_logical(p, start, logical);
		g_string_truncate(logical, 0);
		skip = 0;
	}
	err = ferror(fp) ? errno : 0;
	if (joined && !skip)
		parse_logical(p, start, logical);
	free(line);
	g_string_free(logical, TRUE);
	return err;
}

/* Read and parse one rules file. Returns 0, or an errno value when it
 * cannot be opened or read: the caller reports that where the file was
 * named (errors inside the file are reported here). */
static int
load_file(struct sg_rules *r, const char *path, struct sg_diag *errs, const struct parser *parent)
{
	FILE *fp = fopen(path, "r");
	struct parser p = { .r = r, .errs = errs, .path = path, .parent = parent,
			    .include_depth = parent != NULL ? parent->include_depth + 1 : 0 };
	struct stat sb;
	int err;

	if (fp == NULL)
		return errno;
	if (parent != NULL)
		r->nincludes++;
	if (fstat(fileno(fp), &sb) == 0) {
		p.dev = sb.st_dev;
		p.ino = sb.st_ino;
	}
	err = read_lines(&p, fp);
	fclose(fp);
	return err;
}

struct sg_rules *
sg_rules_load(const char *path, struct sg_diag *errs)
{
	struct sg_rules *r = sg_xcalloc(1, sizeof(*r));
	size_t before = errs->n;

	r->mctx = pcre2_match_context_create(NULL);
	r->lits = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	pcre2_set_match_limit(r->mctx, SG_RULES_RE_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, SG_RULES_RE_DEPTH_LIMIT);
	pcre2_set_heap_limit(r->mctx, SG_RULES_RE_HEAP_LIMIT);
	int err = load_file(r, path, errs, NULL);
	if (err != 0)
		sg_diag_add(errs, path, 0, 0, "cannot read: %s", strerror(err));
	/* cross checks, reported where the queue was declared */
	for (size_t i = 0; i < r->nqueues; i++)
		for (size_t j = 0; j < r->queues[i].agents.n; j++)
			if (sg_rules_agent(r, r->queues[i].agents.v[j]) == NULL)
				sg_diag_add(errs, r->queue_at[i].file, r->queue_at[i].line, r->queue_at[i].col,
					    "queue %s: agent %s is not declared", r->queues[i].name, r->queues[i].agents.v[j]);
	if (errs->n > before) {
		sg_rules_free(&r);
		return NULL;
	}
	return r;
}

void
sg_rules_free(struct sg_rules **rp)
{
	struct sg_rules *r = *rp;

	if (r == NULL)
		return;
	*rp = NULL;
	for (size_t i = 0; i < r->nrules; i++)
		rule_clear(&r->rules[i]);
	free(r->rules);
	for (size_t i = 0; i < r->nqueues; i++) {
		free(r->queues[i].name);
		free(r->queues[i].mailbox);
		free(r->queues[i].sla);
		free(r->queues[i].manager);
		sg_strlist_clear(&r->queues[i].agents);
		free(r->queue_at[i].file);
	}
	free(r->queues);
	free(r->queue_at);
	for (size_t i = 0; i < r->nagents; i++) {
		free(r->agents[i].address);
		free(r->agents[i].name);
		free(r->agents[i].language);
		sg_strlist_clear(&r->agents[i].groups);
	}
	free(r->agents);
	for (size_t i = 0; i < r->nsegments; i++)
		free(r->segments[i].name);
	free(r->segments);
	for (size_t i = 0; i < r->nslas; i++)
		free(r->slas[i].name);
	free(r->slas);
	for (size_t i = 0; i < r->nservices; i++)
		free(r->services[i].name);
	free(r->services);
	for (size_t i = 0; i < r->ncalendars; i++) {
		free(r->calendars[i].name);
		sg_calendar_free(&r->calendars[i].cal);
	}
	free(r->calendars);
	for (size_t i = 0; i < r->nlists; i++) {
		free(r->lists[i].path);
		sg_strlist_clear(&r->lists[i].entries);
	}
	free(r->lists);
	pcre2_match_context_free(r->mctx);
	if (r->lits != NULL)
		g_hash_table_destroy(r->lits);
	free(r);
}

/* ------------------------------------------------------------ lookups */

size_t sg_rules_count(const struct sg_rules *r) { return r->nrules; }
size_t sg_rules_nqueues(const struct sg_rules *r) { return r->nqueues; }
size_t sg_rules_nagents(const struct sg_rules *r) { return r->nagents; }
const struct sg_queue_def *sg_rules_queue_at(const struct sg_rules *r, size_t i) { return i < r->nqueues ? &r->queues[i] : NULL; }
const struct sg_agent_def *sg_rules_agent_at(const struct sg_rules *r, size_t i) { return i < r->nagents ? &r->agents[i] : NULL; }

const struct sg_queue_def *
sg_rules_queue(const struct sg_rules *r, const char *name)
{
	for (size_t i = 0; name != NULL && i < r->nqueues; i++)
		if (strcasecmp(r->queues[i].name, name) == 0)
			return &r->queues[i];
	return NULL;
}

const struct sg_agent_def *
sg_rules_agent(const struct sg_rules *r, const char *addr)
{
	for (size_t i = 0; addr != NULL && i < r->nagents; i++)
		if (strcasecmp(r->agents[i].address, addr) == 0)
			return &r->agents[i];
	return NULL;
}

static long
target_secs(const struct sg_sla_target *t)
{
	return t->bdays ? t->bdays * 86400L : t->secs;
}

int
sg_rules_sla(const struct sg_rules *r, const char *name, long *first, long *resolution)
{
	const struct sg_sla_tier *s = sg_rules_tier(r, name);

	*first = s ? target_secs(&s->first_response) : 0;
	*resolution = s ? target_secs(&s->resolution) : 0;
	return s != NULL;
}

const struct sg_sla_tier *
sg_rules_tier(const struct sg_rules *r, const char *name)
{
	for (size_t i = 0; r != NULL && name != NULL && i < r->nslas; i++)
		if (strcasecmp(r->slas[i].name, name) == 0)
			return &r->slas[i];
	return NULL;
}

const struct sg_service_def *
sg_rules_service(const struct sg_rules *r, const char *name)
{
	for (size_t i = 0; r != NULL && name != NULL && i < r->nservices; i++)
		if (strcasecmp(r->services[i].name, name) == 0)
			return &r->services[i];
	return NULL;
}

const struct sg_calendar *
sg_rules_calendar(const struct sg_rules *r, const char *name)
{
	for (size_t i = 0; r != NULL && name != NULL && i < r->ncalendars; i++)
		if (strcasecmp(r->calendars[i].name, name) == 0)
			return r->calendars[i].cal;
	return NULL;
}

const char *
sg_rules_segment_of(const struct sg_rules *r, const char *addr)
{
	for (size_t i = 0; addr != NULL && i < r->nsegments; i++)
		if (r->segments[i].list < r->nlists && list_has_addr(&r->lists[r->segments[i].list], addr))
			return r->segments[i].name;
	return NULL;
}

/* ------------------------------------------------------------ evaluation */

/* The texts tested in one evaluation, each case-folded at most once, with
 * the answers for literals already searched in them: real rule sets repeat
 * their keywords, so most searches become a hash lookup. */
struct text_entry {
	const char *src;
	size_t srclen;
	int caseless;
	char *folded;            /* owned, when caseless */
	const char *t;
	size_t tl;
	unsigned char *seen;     /* per literal id: 0 unknown, 1 absent, 2 present */
};

struct hdr_entry {
	const char *name;        /* as written in a condition */
	size_t *idx;             /* positions of that header in the message */
	size_t n;
};

struct body_cache {
	struct text_entry *v;
	size_t n;
	unsigned nlits;
	struct hdr_entry *h;     /* header lookups done so far */
	size_t nh;
};

/* Where header name occurs in the message; found once per evaluation. */
static const struct hdr_entry *
hdr_lookup(struct body_cache *bc, const struct sg_msginfo *mi, const char *name)
{
	for (size_t i = 0; i < bc->nh; i++)
		if (strcasecmp(bc->h[i].name, name) == 0)
			return &bc->h[i];
	bc->h = sg_xreallocarray(bc->h, bc->nh + 1, sizeof(*bc->h));
	struct hdr_entry *h = &bc->h[bc->nh++];
	h->name = name;
	h->idx = NULL;
	h->n = 0;
	for (size_t i = 0; i < mi->hdr_names.n; i++)
		if (strcasecmp(mi->hdr_names.v[i], name) == 0) {
			h->idx = sg_xreallocarray(h->idx, h->n + 1, sizeof(*h->idx));
			h->idx[h->n++] = i;
		}
	return h;
}

/* Case-folded text for the literal prefilter. Mail is mostly ASCII, and
 * an ASCII text folds to its lower case (Unicode's case folding maps only
 * A-Z there): a byte loop, where g_utf8_casefold() took 18% of the daemon
 * on 64 KB mail. Any other byte: GLib's full folding. g_free() either. */
static char *
fold_text(const char *src, size_t len)
{
	char *r;

	for (size_t i = 0; i < len; i++)
		if ((unsigned char)src[i] >= 0x80)
			return g_utf8_casefold(src, (gssize)len);
	r = g_malloc(len + 1);
	for (size_t i = 0; i < len; i++)
		r[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] + ('a' - 'A')) : src[i];
	r[len] = '\0';
	return r;
}

static struct text_entry *
text_entry(struct body_cache *bc, const char *src, size_t len, int caseless)
{
	for (size_t i = 0; i < bc->n; i++)
		if (bc->v[i].src == src && bc->v[i].srclen == len && bc->v[i].caseless == caseless)
			return &bc->v[i];
	bc->v = sg_xreallocarray(bc->v, bc->n + 1, sizeof(*bc->v));
	struct text_entry *f = &bc->v[bc->n++];
	f->src = src;
	f->srclen = len;
	f->caseless = caseless;
	f->folded = caseless ? fold_text(src, len) : NULL;
	f->t = caseless ? f->folded : src;
	f->tl = caseless ? strlen(f->folded) : len;
	f->seen = sg_xcalloc(bc->nlits ? bc->nlits : 1, 1);
	return f;
}

static int
text_may_match(struct text_entry *f, const struct cond *c)
{
	const struct sg_prefilter *pf = c->pf;

	for (size_t i = 0; i < pf->lits.n; i++) {
		const char *lit = pf->lits.v[i];
		unsigned char *v = &f->seen[c->lit_ids[i]];
		if (*v == 0)
			*v = memmem(f->t, f->tl, lit, strlen(lit)) != NULL ? 2 : 1;
		if (*v == 2)
			return 1;
	}
	return 0;
}

/* The regex budget of one evaluation (rules.h). */
struct budget {
	struct sg_rules_budget b;
	pcre2_match_context *mctx;     /* a copy of the rules' one: limits change per call */
	struct timespec deadline;
	unsigned long units;           /* left, when b.units */
	const char *rule;              /* where it ran out, or NULL while some is left */
	const char *why;
	unsigned limit_hits;
};

struct evalctx {
	const struct sg_rules *r;
	pcre2_match_data *md;          /* one per evaluation, reused by every test */
	size_t body_len;               /* bounded length of the body text */
	struct body_cache *bc;         /* case-folded body, made on first need */
	const struct sg_rule_input *in;
	const struct sg_route *route;
	struct budget *budget;
	const char *rule;
	char why[256];
};

/* One warning per key and SG_RULES_LOG_WINDOW: a flood of hostile mail
 * against the same rule leaves one line, with the count held back. */
static void warn_rated(const struct evalctx *e, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
warn_rated(const struct evalctx *e, const char *kind, const char *fmt, ...)
{
	char *key = sg_xasprintf("rules-%s:%s", kind, e->rule);
	unsigned held = 0;
	char msg[512];
	va_list ap;

	if (sg_lograte_allow(key, (int64_t)time(NULL), SG_RULES_LOG_WINDOW, &held)) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		if (held > 0)
			sg_log_ctx(SG_LOG_WARN, MOD, e->in->queue_id, 0, "%s (%u more since)", msg, held);
		else
			sg_log_ctx(SG_LOG_WARN, MOD, e->in->queue_id, 0, "%s", msg);
	}
	free(key);
}

/* Is the budget spent? Marks it (and warns once) when it has just run out. */
static int
budget_spent(struct evalctx *e)
{
	struct budget *bu = e->budget;
	struct timespec now;

	if (bu->rule != NULL)
		return 1;
	if (bu->b.units > 0 && bu->units == 0) {
		bu->why = "match-limit units";
	} else if (bu->b.ms > 0 && clock_gettime(CLOCK_MONOTONIC, &now) == 0 &&
		   (now.tv_sec > bu->deadline.tv_sec ||
		    (now.tv_sec == bu->deadline.tv_sec && now.tv_nsec >= bu->deadline.tv_nsec))) {
		bu->why = "time";
	} else {
		return 0;
	}
	bu->rule = e->rule;
	warn_rated(e, "budget", "rule %s: regex budget of this message spent (%s; the budget is %ld ms, %lu units): "
		   "later regex conditions count as no match", e->rule, bu->why, bu->b.ms, bu->b.units);
	return 1;
}

/* pcre2_match() within the budget: a text longer than the window is
 * searched window by window (start positions [start, start + window],
 * by the offset limit), which finds the same leftmost match as one call
 * but lets the budget stop a search that would take seconds. Returns
 * what pcre2_match() returned, or PCRE2_ERROR_NOMATCH when the budget
 * stopped it. */
static int
re_match(struct evalctx *e, const struct cond *c, const char *v, size_t vlen)
{
	struct budget *bu = e->budget;
	size_t start = 0, win = bu->b.window;
	/* the interpreter is about ten times slower per start position */
	if (!c->jit && win > 8)
		win /= 8;
	int split = c->windows && win > 0 && vlen > win;

	for (;;) {
		if (budget_spent(e))
			return PCRE2_ERROR_NOMATCH;
		uint32_t limit = SG_RULES_RE_MATCH_LIMIT;
		if (bu->b.units > 0 && bu->units < limit)
			limit = (uint32_t)bu->units;
		pcre2_set_match_limit(bu->mctx, limit);
		pcre2_set_offset_limit(bu->mctx, split ? start + win : PCRE2_UNSET);
		int rc = pcre2_match(c->re, (PCRE2_SPTR)v, vlen, start, PCRE2_NO_UTF_CHECK, e->md, bu->mctx);
		if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT) {
			bu->limit_hits++;
			if (bu->b.units > 0)
				bu->units -= limit;
			warn_rated(e, "limit", "rule %s: regex %s hit its limit on %s: counted as no match", e->rule,
				   c->text, field_names[c->field]);
			return PCRE2_ERROR_NOMATCH;
		}
		if (rc != PCRE2_ERROR_NOMATCH || !split || vlen - start <= win)
			return rc;
		/* the next window starts on the next character */
		start += win + 1;
		while (start < vlen && ((unsigned char)v[start] & 0xC0) == 0x80)
			start++;
	}
}

static int
test_value_len(struct evalctx *e, const struct cond *c, const char *v, size_t vlen)
{
	if (v == NULL) {
		v = "";
		vlen = 0;
	}
	switch (c->op) {
	case O_MATCH:
	case O_NOMATCH: {
		pcre2_match_data *md = e->md;
		int rc;
		/* skip the regex when none of its required literals occurs */
		if (c->pf != NULL && !text_may_match(text_entry(e->bc, v, vlen, c->pf->caseless), c))
			return 0;
		rc = re_match(e, c, v, vlen);
		if (rc >= 0 && e->why[0] == '\0') {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
			char safe[80];
			char *m = sg_xstrndup(v + ov[0], ov[1] - ov[0] < 60 ? ov[1] - ov[0] : 60);
			snprintf(e->why, sizeof(e->why), "%s%s%s ~ %s matched \"%s\"", field_names[c->field],
				 c->header ? ":" : "", c->header ? c->header : "", c->text, sg_log_safe(safe, sizeof(safe), m, 60));
			free(m);
		}
		return rc >= 0;
	}
	case O_EQ:
	case O_NE:
		if (strcasecmp(v, c->text) == 0) {
			if (e->why[0] == '\0')
				snprintf(e->why, sizeof(e->why), "%s = \"%.80s\"", field_names[c->field], c->text);
			return 1;
		}
		return 0;
	case O_IN:
		if (list_has_addr(&e->r->lists[c->list], v)) {
			if (e->why[0] == '\0')
				snprintf(e->why, sizeof(e->why), "%s %.80s in %s", field_names[c->field], v, c->text);
			return 1;
		}
		return 0;
	default:
		return 0;
	}
}

/* Values that did not come through the UTF-8 cleaning of message.c
 * (envelope, addresses, door, auth) are checked here once, because the
 * patterns are matched with PCRE2_NO_UTF_CHECK. */
static int
test_value(struct evalctx *e, const struct cond *c, const char *v)
{
	size_t n = v ? strlen(v) : 0;
	if (v != NULL && !g_utf8_validate(v, (gssize)n, NULL))
		return 0;
	return test_value_len(e, c, v, n);
}

/* Trusted: made valid UTF-8 by message.c (subject, body, header values,
 * attachment names). */
static int
test_text(struct evalctx *e, const struct cond *c, const char *v)
{
	return test_value_len(e, c, v, v ? strlen(v) : 0);
}

static int
test_list(struct evalctx *e, const struct cond *c, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (test_value(e, c, v[i]))
			return 1;
	return 0;
}

static int
eval_test(struct evalctx *e, const struct cond *c)
{
	const struct sg_rule_input *in = e->in;
	const struct sg_msginfo *mi = in->mi;
	int hit = 0;

	if (c->op == O_GT || c->op == O_LT) {
		hit = c->op == O_GT ? in->size > c->num : in->size < c->num;
		if (hit && e->why[0] == '\0')
			snprintf(e->why, sizeof(e->why), "size %zu %s %s", in->size, c->op == O_GT ? ">" : "<", c->text);
		return hit;
	}
	switch (c->field) {
	case F_FROM: hit = test_value(e, c, mi->from_addr); break;
	case F_TO: hit = test_list(e, c, (const char *const *)mi->to.v, mi->to.n); break;
	case F_CC: hit = test_list(e, c, (const char *const *)mi->cc.v, mi->cc.n); break;
	case F_SUBJECT: hit = test_text(e, c, mi->subject); break;
	case F_BODY:
		hit = test_value_len(e, c, mi->body_text, e->body_len);
		break;
	case F_ENV_FROM: hit = test_value(e, c, in->env_from); break;
	case F_ENV_RCPT: hit = test_list(e, c, in->env_rcpt, in->nrcpt); break;
	case F_HEADER: {
		const struct hdr_entry *h = hdr_lookup(e->bc, mi, c->header);
		for (size_t i = 0; i < h->n && !hit; i++)
			hit = test_text(e, c, mi->hdr_values.v[h->idx[i]]);
		break;
	}
	case F_ATT_NAME: hit = test_list(e, c, (const char *const *)mi->attach_names.v, mi->attach_names.n); break;
	case F_ATT_TYPE: hit = test_list(e, c, (const char *const *)mi->attach_types.v, mi->attach_types.n); break;
	case F_SEGMENT: {
		const char *seg = e->route->segment ? e->route->segment
				: in->ticket && in->ticket->segment ? in->ticket->segment
				: sg_rules_segment_of(e->r, mi->from_addr);
		hit = test_value(e, c, seg);
		break;
	}
	case F_QUEUE:
		hit = test_value(e, c, e->route->queue ? e->route->queue : in->ticket && in->ticket->queue ? in->ticket->queue : "default");
		break;
	case F_STATUS: hit = test_value(e, c, in->ticket ? sg_status_name(in->ticket->status) : "new"); break;
	case F_DOOR: hit = test_value(e, c, in->door); break;
	case F_AUTH: hit = test_value(e, c, in->auth); break;
	default: break;
	}
	return (c->op == O_NOMATCH || c->op == O_NE) ? !hit : hit;
}

/* Left to right with short cut; and/or chains lean right (parse_bin) and
 * are followed along b in this loop, so only nesting costs stack. */
static int
eval(struct evalctx *e, const struct cond *c)
{
	for (;;) {
		switch (c->kind) {
		case C_ALWAYS: return 1;
		case C_AND:
			if (!eval(e, c->a))
				return 0;
			c = c->b;
			continue;
		case C_OR:
			if (eval(e, c->a))
				return 1;
			c = c->b;
			continue;
		case C_NOT: return !eval(e, c->a);
		case C_TEST: return eval_test(e, c);
		}
		return 0;
	}
}

/* A matched rule's actions, in order. Returns 1 when the rules after it
 * are evaluated too (its last stop/continue says continue). */
static int
apply_actions(const struct rule *ru, struct sg_route *out)
{
	int cont = 0;

	for (size_t j = 0; j < ru->nacts; j++) {
		const struct action *a = &ru->acts[j];
		switch (a->kind) {
		case A_QUEUE: set_str(&out->queue, a->arg); break;
		case A_PRIORITY: out->priority = sg_priority_parse(a->arg); break;
		case A_SLA: set_str(&out->sla, a->arg); break;
		case A_SEGMENT: set_str(&out->segment, a->arg); break;
		case A_TAG: sg_strlist_add(&out->tags, a->arg, 1); break;
		case A_ASSIGN:
			set_str(&out->assign, a->arg);
			out->assign_strategy = a->arg == NULL;
			break;
		case A_TEMPLATE:
			out->no_template = strcmp(a->arg, "none") == 0;
			set_str(&out->template_name, out->no_template ? NULL : a->arg);
			break;
		case A_LANGUAGE: set_str(&out->language, a->arg); break;
		case A_NOTIFY: sg_strlist_add(&out->notify, a->arg, 1); break;
		case A_WEBHOOK: sg_strlist_add(&out->webhooks, a->arg, 1); break;
		case A_REJECT: set_str(&out->reject_text, a->arg); break;
		case A_TEMPFAIL: out->tempfail = 1; break;
		case A_QUARANTINE: out->quarantine = 1; break;
		case A_STOP: cont = 0; break;
		case A_CONTINUE: cont = 1; break;
		case A_SERVICE: set_str(&out->service, a->arg); break;
		}
	}
	return cont;
}

void
sg_rules_eval(const struct sg_rules *r, const struct sg_rule_input *in, struct sg_route *out, FILE *trace)
{
	sg_rules_eval_budget(r, in, out, trace, NULL);
}

void
sg_rules_eval_budget(const struct sg_rules *r, const struct sg_rule_input *in, struct sg_route *out, FILE *trace,
		     const struct sg_rules_budget *budget)
{
	static const struct sg_rules_budget defaults = { SG_RULES_BUDGET_MS, SG_RULES_BUDGET_UNITS, SG_RULES_RE_WINDOW };

	memset(out, 0, sizeof(*out));
	out->priority = -1;
	if (r == NULL)
		return;
	/* Only the whole match is read, so one small ovector serves every
	 * pattern (pcre2_match fills what fits and returns 0 for the rest). */
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	struct budget bu = { .b = budget != NULL ? *budget : defaults, .mctx = pcre2_match_context_copy(r->mctx) };
	if (md == NULL || bu.mctx == NULL)
		sg_panic(MOD, "out of memory for match data");
	bu.units = bu.b.units;
	if (bu.b.ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &bu.deadline);
		bu.deadline.tv_sec += bu.b.ms / 1000;
		bu.deadline.tv_nsec += (bu.b.ms % 1000) * 1000000L;
		if (bu.deadline.tv_nsec >= 1000000000L) {
			bu.deadline.tv_sec++;
			bu.deadline.tv_nsec -= 1000000000L;
		}
	}
	size_t bl = in->mi && in->mi->body_text ? strnlen(in->mi->body_text, SG_RULES_BODY_MAX + 1) : 0;
	if (bl > SG_RULES_BODY_MAX) {
		bl = SG_RULES_BODY_MAX;
		while (bl > 0 && ((unsigned char)in->mi->body_text[bl] & 0xC0) == 0x80)
			bl--;
	}
	struct body_cache bc = { NULL, 0, r->nlits, NULL, 0 };
	for (size_t i = 0; i < r->nrules; i++) {
		const struct rule *ru = &r->rules[i];
		struct evalctx e = { r, md, bl, &bc, in, out, &bu, ru->name, "" };
		int hit = eval(&e, ru->cond);
		if (trace != NULL)
			fprintf(trace, "rule %-20s line %-4d %s%s%s\n", ru->name, ru->line, hit ? "MATCH" : "no match",
				hit && e.why[0] ? ": " : "", hit ? e.why : "");
		if (!hit)
			continue;
		sg_strlist_add(&out->matched, ru->name, 0);
		if (!apply_actions(ru, out))
			break;
	}
	pcre2_match_data_free(md);
	pcre2_match_context_free(bu.mctx);
	out->limit_hits = bu.limit_hits;
	if (bu.rule != NULL) {
		out->budget_exhausted = 1;
		out->budget_rule = sg_xstrdup(bu.rule);
		if (trace != NULL)
			fprintf(trace, "regex budget spent (%s) at rule %s: later regex conditions counted as no match\n",
				bu.why, bu.rule);
	}
	for (size_t i = 0; i < bc.n; i++) {
		g_free(bc.v[i].folded);
		free(bc.v[i].seen);
	}
	free(bc.v);
	for (size_t i = 0; i < bc.nh; i++)
		free(bc.h[i].idx);
	free(bc.h);
	if (out->segment == NULL && in->mi != NULL) {
		const char *seg = sg_rules_segment_of(r, in->mi->from_addr);
		if (seg != NULL)
			out->segment = sg_xstrdup(seg);
	}
	if (out->sla == NULL && out->queue != NULL) {
		const struct sg_queue_def *q = sg_rules_queue(r, out->queue);
		if (q != NULL && q->sla != NULL)
			out->sla = sg_xstrdup(q->sla);
	}
}

void
sg_route_clear(struct sg_route *r)
{
	free(r->queue);
	free(r->sla);
	free(r->service);
	free(r->segment);
	free(r->template_name);
	free(r->language);
	free(r->assign);
	free(r->reject_text);
	free(r->budget_rule);
	sg_strlist_clear(&r->tags);
	sg_strlist_clear(&r->notify);
	sg_strlist_clear(&r->webhooks);
	sg_strlist_clear(&r->matched);
	memset(r, 0, sizeof(*r));
	r->priority = -1;
}
