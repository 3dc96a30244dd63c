/*
 * fuzz-template — the template loader and the renderer.
 *
 * A private temporary template folder holds en/ with a minimal valid file
 * for every shipped name; each input is written as-is over en/ack.tmpl and
 * the folder is loaded with sg_templates_load(). A set that loads renders
 * ack with values that try to inject headers: the result must keep one
 * header block, end its lines with CRLF, and have no header line that
 * starts with an injected "Bcc: [abc]@evil.example" (a template may
 * write a Bcc header of its own: tests/fuzz/crashes-template/README.md).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"
#include "templates/template.h"

#define SG_FUZZ_SEEDS "tests/fuzz/seeds-template"
#include "replay.h"

static const char *dir;

static void
put(const char *name, const void *data, size_t len)
{
	char *rel = sg_xasprintf("en/%s.tmpl", name);

	free(sg_fuzz_put(rel, data, len));
	free(rel);
}

static void
setup(void)
{
	static const char minimal[] = "Subject: {{token}} x\n\nbody {{id}}\n";
	dir = sg_fuzz_tmpdir("tmpl");
	char *en = sg_xasprintf("%s/en", dir);
	if (mkdir(en, 0700) != 0)
		abort();
	free(en);
	for (int i = 0; sg_template_names[i] != NULL; i++)
		put(sg_template_names[i], minimal, sizeof(minimal) - 1);
}

/* Does a header line start with one of the Bcc headers the values try
 * to inject ("Bcc: a@evil.example", b@, c@)? */
static int
injected_bcc(const char *line)
{
	if (strncasecmp(line, "Bcc:", 4) != 0)
		return 0;
	line += 4;
	while (*line == ' ' || *line == '\t')
		line++;
	return strchr("abc", *line) != NULL && *line != '\0' && strncasecmp(line + 1, "@evil.example", 13) == 0;
}

/* Does the template itself spell "evil" (any case)? */
static int
says_evil(const unsigned char *data, size_t size)
{
	for (size_t i = 0; i + 4 <= size; i++)
		if (strncasecmp((const char *)data + i, "evil", 4) == 0)
			return 1;
	return 0;
}

/* The rendered message's header block: no bare CR or LF, no injected
 * header (unless the template itself spells the evil address). */
static void
check_render(const char *m, size_t len, int template_says_evil)
{
	const char *end = strstr(m, "\r\n\r\n");

	if (end == NULL || strlen(m) != len)
		abort();
	for (const char *p = m; p < end + 2; p++)
		if ((*p == '\n' && (p == m || p[-1] != '\r')) || (*p == '\r' && p[1] != '\n'))
			abort();
	for (const char *p = m; !template_says_evil && p != NULL && p < end; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)
		if (injected_bcc(p))
			abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sg_diag errs = { 0 };
	struct sg_template_values tv = { 0 };
	struct sg_mail_envelope env = {
		.from_name = "ACME\r\nBcc: a@evil.example", .from_addr = "support@example.com",
		.to_name = "Иван", .to_addr = "ivan@example.com", .message_id = "sg.1.x@example.com",
		.in_reply_to = "m1@example.com\nBcc: b@evil.example", .references = "<m0@example.com>",
		.loop_header = "support@example.com", .auto_submitted = 1,
	};

	if (dir == NULL)
		setup();
	put("ack", data, size);
	struct sg_templates *ts = sg_templates_load(dir, &errs);
	if ((ts == NULL) != (errs.n > 0))
		abort();   /* a load fails exactly when it reports why */
	if (ts != NULL) {
		for (int i = 0; i < SG_TV_COUNT; i++)
			sg_template_set(&tv, (enum sg_tvar)i, i % 2 ? "x\r\nBcc: c@evil.example" : "{{token}}\n\r");
		size_t len;
		char *m = sg_template_render(ts, "ru", "ack", &tv, &env, &len);
		if (m == NULL)
			abort();   /* falls back to en */
		check_render(m, len, says_evil(data, size));
		free(m);
	}
	sg_templates_free(&ts);
	sg_diag_clear(&errs);
	return 0;
}
