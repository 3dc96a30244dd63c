/*
 * bench-rules — 1,000 rules with realistic regexes evaluated against real
 * mail, as a ratio to GMime parsing the same messages in the same run
 * (the target: evaluating the rules costs less than parsing).
 * Usage: bench-rules [DIR...]   (default: $top_srcdir/tests/mail and the
 * shared corpus when present)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "rules/rules.h"
#include "tests/unit/fixture.h"

struct msgs {
	char **raw;
	size_t *len;
	size_t n;
};

/* for_each_mail: keep each message of 1 byte to 2 MB */
static void
collect(const char *path, void *arg)
{
	struct msgs *m = arg;
	size_t len;
	char *raw = read_file(path, 2000000 - 1, &len);

	if (raw == NULL || len == 0) {
		free(raw);
		return;
	}
	m->raw = sg_xreallocarray(m->raw, m->n + 1, sizeof(char *));
	m->len = sg_xreallocarray(m->len, m->n + 1, sizeof(size_t));
	m->raw[m->n] = raw;
	m->len[m->n] = len;
	m->n++;
}

int
main(int argc, char **argv)
{
	static const char *words[] = { "invoice", "payment", "refund", "error", "crash", "password", "login", "delivery",
				       "order", "счёт", "оплат", "не работает", "ошибк", "договор", "доставк", "urgent",
				       "contract", "price", "quote", "license", "upgrade", "backup", "server", "outage" };
	static const char *fields[] = { "subject", "body", "from", "header:X-Mailer", "to" };
	const size_t nw = sizeof(words) / sizeof(words[0]);
	struct msgs m = { 0 };

	sg_log_open_stderr("bench-rules");
	sg_log_set_level(SG_LOG_ERROR);
	char *rf = sg_xasprintf("%s/bench.rules", sg_test_dir());
	FILE *fp = fopen(rf, "w");
	unsigned seed = 7;
	for (int i = 0; i < 1000; i++) {
		const char *a = words[rand_r(&seed) % nw], *b = words[rand_r(&seed) % nw], *c = words[rand_r(&seed) % nw];
		fprintf(fp, "rule r%d: %s ~ /\\b(%s|%s)\\w*\\s+(no\\.?\\s*)?\\d{%d,}|%s-%d/i and not subject ~ /^re:/i => tag t%d, continue\n",
			i, fields[rand_r(&seed) % 5], a, b, 2 + i % 4, c, i, i % 50);
	}
	fclose(fp);
	struct sg_diag errs = { 0 };
	struct sg_rules *r = sg_rules_load(rf, &errs);
	if (r == NULL) {
		sg_diag_print(&errs, stderr);
		return 1;
	}
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			for_each_mail(argv[i], 5, collect, &m);
	} else {
		char *own = sg_xasprintf("%s/tests/mail", top_srcdir());
		char *shared = sg_xasprintf("%s/../shared/corpus", top_srcdir());
		for_each_mail(own, 5, collect, &m);
		for_each_mail(shared, 5, collect, &m);
		free(own);
		free(shared);
	}
	if (m.n == 0)
		return 1;
	struct sg_msginfo **mi = sg_xcalloc(m.n, sizeof(*mi));
	const char *rc[1] = { "support@example.com" };
	size_t matched = 0;
	enum { ROUNDS = 5 };
	double parse_r[ROUNDS], eval_r[ROUNDS], ratio[ROUNDS];
	/* Parse and evaluate in alternating rounds so machine noise hits both
	 * alike; report the median round. */
	for (int round = 0; round < ROUNDS; round++) {
		double t0 = now_ns();
		for (size_t i = 0; i < m.n; i++) {
			sg_msginfo_free(&mi[i]);
			if (sg_message_parse(m.raw[i], m.len[i], &mi[i]) != 0)
				mi[i] = sg_msginfo_empty(m.len[i]);
		}
		parse_r[round] = (now_ns() - t0) / (double)m.n;
		matched = 0;
		t0 = now_ns();
		for (size_t i = 0; i < m.n; i++) {
			struct sg_rule_input in = { .mi = mi[i], .env_rcpt = rc, .nrcpt = 1, .door = "milter", .size = m.len[i] };
			struct sg_route ro;
			sg_rules_eval(r, &in, &ro, NULL);
			matched += ro.matched.n;
			sg_route_clear(&ro);
		}
		eval_r[round] = (now_ns() - t0) / (double)m.n;
		ratio[round] = eval_r[round] / parse_r[round];
	}
	int med = 0;
	for (int a = 0; a < ROUNDS; a++) {
		int below = 0;
		for (int b = 0; b < ROUNDS; b++)
			below += ratio[b] < ratio[a];
		if (below == ROUNDS / 2)
			med = a;
	}
	double parse = parse_r[med], eval = eval_r[med];
	printf("rules: 1000 rules (PCRE2 JIT) over %zu messages, %zu rule matches, median of %d rounds\n", m.n, matched, ROUNDS);
	printf("  GMime parse (baseline): %8.1f us/msg\n", parse / 1000);
	printf("  rule evaluation:        %8.1f us/msg  %5.2fx parse %s\n", eval / 1000, eval / parse,
	       eval < parse ? "(target met: cheaper than parsing)" : "(target missed)");
	for (size_t i = 0; i < m.n; i++) {
		sg_msginfo_free(&mi[i]);
		free(m.raw[i]);
	}
	free(mi);
	free(m.raw);
	free(m.len);
	sg_rules_free(&r);
	free(rf);
	return 0;
}
