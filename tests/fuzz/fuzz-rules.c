/*
 * fuzz-rules — the rules file parser (tokenizer, declarations, conditions,
 * regex compilation, prefilter, includes and list files).
 *
 * Each input is written as-is to t.rules in a private temporary folder and
 * loaded with sg_rules_load(); relative includes and lists resolve inside
 * that folder, which also holds a list file (vip.txt) and an include
 * (inc.rules) for the seeds to name. An input that could name a file
 * outside the folder (a string starting with '/', or a ".." component,
 * looking through the escapes and line joins of the language) is skipped:
 * the target reads nothing but its own files. A loaded rule set is then
 * evaluated against a fixed message, and twice against one with a body
 * of about 1 KiB: searched in one call and in windows of 5 start
 * positions (the regex budget, rules.h), which must give the same trace
 * when no regex hit a limit.
 */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "mail/message.h"
#include "rules/rules.h"

#define SG_FUZZ_SEEDS "tests/fuzz/seeds-rules"
#include "replay.h"

static const char *dir;         /* sg_fuzz_tmpdir: removed at exit */
static char *rules_path;
static struct sg_msginfo *mi, *long_mi;

static void
cleanup(void)
{
	free(rules_path);
	sg_msginfo_free(&mi);
	sg_msginfo_free(&long_mi);
}

static void
put(const char *name, const void *data, size_t len)
{
	free(sg_fuzz_put(name, data, len));
}

static void
setup(void)
{
	static const char msg[] = "From: Boss <boss@bigbank.example>\r\nTo: support@example.com\r\n"
				  "Subject: URGENT invoice 42\r\nList-Id: <x.example>\r\n\r\nplease pay\r\n";
	static const char vip[] = "# vip\nbigbank.example\n@small.example\nboss@x.example\n";
	static const char inc[] = "agent inc@example.com\nqueue inc agents=inc@example.com\n";

	dir = sg_fuzz_tmpdir("rules");
	rules_path = sg_xasprintf("%s/t.rules", dir);
	put("vip.txt", vip, sizeof(vip) - 1);
	put("inc.rules", inc, sizeof(inc) - 1);
	sg_message_parse(msg, sizeof(msg) - 1, &mi);
	GString *g = g_string_new("From: Анна <anna@bigbank.example>\r\nTo: support@example.com\r\nSubject: Re: [ACME #12] "
				  "invoice 4711 überfällig\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
	for (int i = 0; i < 12; i++)
		g_string_append_printf(g, "line %d: order #%d is late, ääö ☃ x%dy urgent-ish; see http://x.example/%d\r\n"
				       "  aaaaaaaaaaaa bbbb  \t\r\n", i, 1000 + i * 37, i, i);
	sg_message_parse(g->str, g->len, &long_mi);
	g_string_free(g, TRUE);
	sg_log_open_stderr("fuzz-rules");
	sg_log_set_level(SG_LOG_ERROR);
	atexit(cleanup);
}

/* Could a string in this input name a path outside the folder? The
 * characters of a string are those of the input less backslashes (escapes,
 * joined lines) and line ends; a NUL hides the rest of its line. */
static int
may_escape(const unsigned char *data, size_t size)
{
	char *s = sg_xmalloc(size + 1);
	size_t n = 0;
	int bad;

	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\0') {
			while (i + 1 < size && data[i + 1] != '\n')
				i++;
			continue;
		}
		if (data[i] != '\\' && data[i] != '\r' && data[i] != '\n')
			s[n++] = (char)data[i];
	}
	s[n] = '\0';
	bad = strstr(s, "\"/") != NULL || strstr(s, "\"..") != NULL || strstr(s, "/..") != NULL;
	free(s);
	return bad;
}

/* One call or windows of start positions: the same rules match, with the
 * same matched text (unless a limit stopped a regex: then where it
 * stopped may differ). */
static void
same_in_windows(const struct sg_rules *r, const struct sg_rule_input *in)
{
	static const struct sg_rules_budget whole = { 0, 0, 0 }, windows = { 0, 0, 5 };
	char *t1 = NULL, *t2 = NULL;
	size_t l1 = 0, l2 = 0;
	struct sg_route r1, r2;
	FILE *f1 = open_memstream(&t1, &l1), *f2 = open_memstream(&t2, &l2);

	if (f1 == NULL || f2 == NULL)
		abort();
	sg_rules_eval_budget(r, in, &r1, f1, &whole);
	sg_rules_eval_budget(r, in, &r2, f2, &windows);
	fclose(f1);
	fclose(f2);
	if (r1.budget_exhausted || r2.budget_exhausted)
		abort();   /* no bound was set */
	if (r1.limit_hits == 0 && r2.limit_hits == 0 && strcmp(t1, t2) != 0) {
		fprintf(stderr, "one call:\n%s\nwindows:\n%s\n", t1, t2);
		abort();
	}
	sg_route_clear(&r1);
	sg_route_clear(&r2);
	free(t1);
	free(t2);
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sg_diag errs = { 0 };

	if (dir == NULL)
		setup();
	if (may_escape(data, size))
		return 0;
	put("t.rules", data, size);
	struct sg_rules *r = sg_rules_load(rules_path, &errs);
	if ((r == NULL) != (errs.n > 0))
		abort();   /* a load fails exactly when it reports why */
	for (size_t i = 0; i < errs.n; i++)
		if (strncmp(errs.v[i], dir, strlen(dir)) != 0)
			abort();   /* every error names a file of ours */
	if (r != NULL) {
		const char *rcpt[1] = { "support@example.com" };
		struct sg_rule_input in = { .mi = mi, .env_from = "boss@bigbank.example", .env_rcpt = rcpt,
					    .nrcpt = 1, .door = "milter", .size = 100 };
		struct sg_route ro;
		sg_rules_eval(r, &in, &ro, NULL);
		sg_route_clear(&ro);
		(void)sg_rules_segment_of(r, "boss@bigbank.example");
		in.mi = long_mi;
		same_in_windows(r, &in);
	}
	sg_rules_free(&r);
	sg_diag_clear(&errs);
	return 0;
}
