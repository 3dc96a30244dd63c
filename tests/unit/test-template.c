/*
 * test-template — the shipped templates load and render in every
 * language; unknown variables and bad files are load errors with
 * file:line; header injection through values cannot split a header.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "templates/template.h"
#include "fixture.h"

static char *dir;     /* load-errors: its own template dir */

static void
put(const char *rel, const char *text)
{
	char *p = sg_xasprintf("%s/%s", dir, rel);
	char *d = sg_xstrdup(p);
	*strrchr(d, '/') = '\0';
	char *cmd = sg_xasprintf("mkdir -p %s", d);
	if (system(cmd) != 0)
		abort();
	FILE *fp = fopen(p, "w");
	fputs(text, fp);
	fclose(fp);
	free(cmd);
	free(d);
	free(p);
}

static const struct sg_mail_envelope env = {
	.from_name = "ACME Support", .from_addr = "support@example.com",
	.to_name = "Иван Петров", .to_addr = "ivan@klient.example",
	.message_id = "sg.7.abc.x@example.com", .in_reply_to = "m1@klient.example",
	.references = "<m0@klient.example> <m1@klient.example>", .loop_header = "support@example.com",
	.auto_submitted = 1,
};

/* The shipped templates (errors printed), or NULL. */
static struct sg_templates *
load_shipped(struct sg_diag *errs)
{
	char *tdir = sg_xasprintf("%s/templates", top_srcdir());
	struct sg_templates *ts = sg_templates_load(tdir, errs);

	sg_diag_print(errs, stdout);
	free(tdir);
	return ts;
}

static void
sample_values(struct sg_template_values *tv)
{
	sg_template_set(tv, SG_TV_TOKEN, "[ACME #7]");
	sg_template_set(tv, SG_TV_SUBJECT, "Не работает оплата");
	sg_template_set(tv, SG_TV_CUSTOMER_NAME, "Иван");
	sg_template_set(tv, SG_TV_SUPPORT_NAME, "ACME Support");
	sg_template_set(tv, SG_TV_EXCERPT, "Line one\nLine two");
	sg_template_set(tv, SG_TV_STATUS, "open");
}

/* The rendering tests' fixture: the shipped templates, the sample values. */
static struct sg_templates *ts;
static struct sg_template_values tv;

/* Load the fixture: 0, or -1 after one failed point. */
static int
shipped(void)
{
	struct sg_diag errs = { 0 };

	sg_templates_free(&ts);
	ts = load_shipped(&errs);
	sg_diag_clear(&errs);
	memset(&tv, 0, sizeof(tv));
	sample_values(&tv);
	if (ts == NULL)
		ok(0, "shipped templates load");
	return ts != NULL ? 0 : -1;
}

static void
test_shipped(void)
{
	struct sg_diag errs = { 0 };
	size_t len;
	char *m;

	sg_templates_free(&ts);
	ts = load_shipped(&errs);
	ok(ts != NULL && errs.n == 0, "shipped templates load");
	sg_diag_clear(&errs);
	if (ts == NULL)
		return;

	memset(&tv, 0, sizeof(tv));
	sample_values(&tv);
	static const char *langs[] = { "en", "ru" };
	for (int l = 0; l < 2; l++) {
		for (int i = 0; sg_template_names[i] != NULL; i++) {
			ok(sg_templates_has(ts, langs[l], sg_template_names[i]), "%s/%s exists", langs[l], sg_template_names[i]);
			m = sg_template_render(ts, langs[l], sg_template_names[i], &tv, &env, &len);
			struct sg_msginfo *mi = NULL;
			/* status-none answers someone with no ticket: no token to show */
			int ticketless = strcmp(sg_template_names[i], "status-none") == 0;
			ok(m != NULL && sg_message_parse(m, len, &mi) == 0 &&
			   (ticketless || strstr(mi->subject, "[ACME #7]") != NULL) &&
			   strstr(m, "{{") == NULL, "%s/%s renders to a parsable message with the token", langs[l],
			   sg_template_names[i]);
			sg_msginfo_free(&mi);
			free(m);
		}
	}
	sg_templates_free(&ts);
}

static void
test_russian_ack(void)
{
	size_t len;
	char *m;

	if (shipped() != 0)
		return;
	m = sg_template_render(ts, "ru", "ack", &tv, &env, &len);
	struct sg_msginfo *mi = NULL;
	sg_message_parse(m, len, &mi);
	is_str(mi->subject, "[ACME #7] Ваше обращение принято: Не работает оплата", "Russian subject round-trips (RFC 2047)");
	is_str(mi->in_reply_to, "m1@klient.example", "In-Reply-To");
	is_int((long long)mi->references.n, 2, "References");
	is_str(mi->auto_submitted, "auto-replied", "Auto-Submitted: auto-replied");
	is_str(mi->x_loop, "support@example.com", "X-Loop");
	is_str(mi->message_id, "sg.7.abc.x@example.com", "Message-ID");
	ok(strstr(mi->body_text, "Здравствуйте, Иван!") != NULL, "Russian body decoded");
	ok(strstr(m, "charset=utf-8") != NULL, "UTF-8 body");
	ok(strstr(m, "\r\n") != NULL && strstr(m, "\n\n") == NULL, "CRLF line ends");
	sg_msginfo_free(&mi);
	free(m);
	sg_templates_free(&ts);
}

static void
test_fallback(void)
{
	size_t len;
	char *m;

	if (shipped() != 0)
		return;
	m = sg_template_render(ts, "de", "ack", &tv, &env, &len);
	ok(m != NULL && strstr(m, "We received your request") != NULL, "unknown language falls back to en");
	free(m);
	sg_templates_free(&ts);
}

/* injection through values */
static void
test_injection(void)
{
	size_t len;
	char *m;

	if (shipped() != 0)
		return;
	sg_template_set(&tv, SG_TV_SUBJECT, "x\r\nBcc: victim@example.com");
	sg_template_set(&tv, SG_TV_CUSTOMER_NAME, "a\r\n\r\n<html>");
	struct sg_mail_envelope evil = env;
	evil.to_name = "Eve\r\nBcc: victim2@example.com";
	m = sg_template_render(ts, "en", "ack", &tv, &evil, &len);
	ok(m != NULL, "renders with hostile values");
	is_int(header_count(m, "Bcc"), 0, "CRLF in a value never makes a Bcc header");
	is_int(header_count(m, "Subject"), 1, "exactly one Subject");
	is_int(header_count(m, "To"), 1, "exactly one To");
	free(m);
	char nul[] = "pre\0post";
	sg_template_set(&tv, SG_TV_SUBJECT, nul);
	m = sg_template_render(ts, "en", "ack", &tv, &env, &len);
	ok(m != NULL && strlen(m) == len, "NUL in a value cannot cut the message");
	free(m);
	sg_templates_free(&ts);
	ok(ts == NULL, "free clears");
}

static void
test_load_errors(void)
{
	struct sg_diag errs = { 0 };

	sg_templates_free(&ts);
	dir = sg_test_subdir("load-errors");
	for (int i = 0; sg_template_names[i] != NULL; i++) {
		char *rel = sg_xasprintf("en/%s.tmpl", sg_template_names[i]);
		put(rel, "Subject: ok {{token}}\n\nbody\n");
		free(rel);
	}
	ts = sg_templates_load(dir, &errs);
	ok(ts != NULL, "a minimal set loads");
	sg_templates_free(&ts);
	put("en/ack.tmpl", "# comment\nSubject: hi {{tokn}}\n\nline\n{{ nope }}\n");
	ts = sg_templates_load(dir, &errs);
	ok(ts == NULL && errs.n == 2, "two errors reported");
	ok(errs.n > 0 && strstr(errs.v[0], "en/ack.tmpl:2: unknown variable {{tokn}}") != NULL, "header error with line: %s",
	   errs.n ? errs.v[0] : "");
	ok(errs.n > 1 && strstr(errs.v[1], "en/ack.tmpl:5: unknown variable {{nope}}") != NULL, "body error with line: %s",
	   errs.n > 1 ? errs.v[1] : "");
	sg_diag_clear(&errs);
	put("en/ack.tmpl", "X-Note: no subject\n\nbody\n");
	ts = sg_templates_load(dir, &errs);
	ok(ts == NULL && errs.n == 1 && strstr(errs.v[0], "no Subject header") != NULL, "Subject required");
	sg_diag_clear(&errs);
	put("en/ack.tmpl", "Subject: a\nFrom: evil@x\n\nbody {{unterminated\n");
	ts = sg_templates_load(dir, &errs);
	ok(ts == NULL && errs.n == 2, "From refused and unterminated {{ reported");
	sg_diag_clear(&errs);
	char *p = sg_xasprintf("%s/en/closed.tmpl", dir);
	unlink(p);
	free(p);
	put("en/ack.tmpl", "Subject: a\n\nb\n");
	ts = sg_templates_load(dir, &errs);
	ok(ts == NULL && errs.n == 1 && strstr(errs.v[0], "closed.tmpl") != NULL, "missing en template reported");
	sg_diag_clear(&errs);

	free(dir);
	sg_templates_free(&ts);
}

static const struct sg_test tests[] = {
	{ "shipped", test_shipped },
	{ "russian-ack", test_russian_ack },
	{ "fallback", test_fallback },
	{ "injection", test_injection },
	{ "load-errors", test_load_errors },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
