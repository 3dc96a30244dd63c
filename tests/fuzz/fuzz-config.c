/*
 * fuzz-config — supportgate.conf: libconfuse, the parameter table's
 * validation, the semantic checks and the files a config names (token
 * secret, SMTP password, rules, templates, include()).
 *
 * A private temporary folder holds a secret, a password, a rules file
 * with its list, a template folder (tmpl/en/) and a config to include
 * (inc.conf). Each input has every "@DIR@" replaced by that folder's path,
 * is written to t.conf there and loaded with sg_conf_load() while the
 * working directory is the folder, so relative names ("secret",
 * include("inc.conf")) find those files and nothing else. To read only
 * its own files, the target skips an input that could name a path
 * outside the folder: a '/' that could start a value (one not inside a
 * word such as "@DIR@/x" or smtp://host), "..", '~' (libconfuse expands
 * it in include()), or a backslash or '$' (an escape could spell any of
 * those). While a load runs the working directory is the folder: a
 * crash artifact written then lands there unless -artifact_prefix is
 * absolute (tests/fuzz/run.sh passes one).
 *
 * A load fails exactly when it reports why; a loaded config answers
 * sg_conf_is_support() for a few addresses.
 */
#include "config.h"

#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "templates/template.h"

#define SG_FUZZ_SEEDS "tests/fuzz/seeds-config"
#include "replay.h"

static const char *dir;

static void
put(const char *name, const void *data, size_t len)
{
	free(sg_fuzz_put(name, data, len));
}

static void
setup(void)
{
	static const char secret[] = "0123456789abcdef0123456789abcdef\n";
	static const char rules[] = "agent anna@example.com name=\"Anna\" groups=billing\n"
				    "queue billing agents=anna@example.com strategy=least-open sla=gold\n"
				    "sla gold first-response=4h resolution=2d\n"
				    "segment vip list=\"vip.txt\"\n"
				    "rule money: subject ~ /invoice/i => queue billing, tag money\n";
	static const char inc[] = "ticket_tag = \"INC\"\nsupport_address = {\"help@example.org\"}\n";
	static const char tmpl[] = "Subject: {{token}} {{subject}}\n\nHello {{customer_name}}\n";

	dir = sg_fuzz_tmpdir("config");
	put("secret", secret, sizeof(secret) - 1);
	put("short-secret", "tooshort\n", 9);
	put("password", "s3cret\n", 7);
	put("t.rules", rules, sizeof(rules) - 1);
	put("vip.txt", "bigbank.example\n", 16);
	put("inc.conf", inc, sizeof(inc) - 1);
	char *t = sg_xasprintf("%s/tmpl", dir), *en = sg_xasprintf("%s/tmpl/en", dir);
	if (mkdir(t, 0700) != 0 || mkdir(en, 0700) != 0)
		abort();
	free(t);
	free(en);
	for (int i = 0; sg_template_names[i] != NULL; i++) {
		char *name = sg_xasprintf("tmpl/en/%s.tmpl", sg_template_names[i]);
		put(name, tmpl, sizeof(tmpl) - 1);
		free(name);
	}
	sg_log_open_stderr("fuzz-config");
	sg_log_set_level(SG_LOG_ERROR);
}

/* Could this input name a file outside the folder? A relative name
 * without ".." stays inside; an absolute one starts with '/' right after
 * a quote, a blank, '=', '{', ',' or '(': so a '/' is only taken inside
 * a word ("@DIR@/x", smtp://host, a/b). */
static int
may_escape(const unsigned char *data, size_t size)
{
	int in_word = 0;

	for (size_t i = 0; i < size; i++) {
		unsigned char ch = data[i];
		if (ch == '~' || ch == '\\' || ch == '$')
			return 1;
		if (ch == '.' && i + 1 < size && data[i + 1] == '.')
			return 1;
		if (ch == '/' && !in_word)
			return 1;
		in_word = g_ascii_isalnum(ch) || (ch != 0 && strchr(":.-_@/", ch) != NULL);
	}
	return 0;
}

/* The input with every "@DIR@" replaced by the folder. */
static char *
expand(const unsigned char *data, size_t size, size_t *outlen)
{
	size_t dl = strlen(dir), n = 0, cap = size + 1;
	char *out;

	for (size_t i = 0; i + 5 <= size; i++)
		if (memcmp(data + i, "@DIR@", 5) == 0)
			cap += dl;
	out = sg_xmalloc(cap);
	for (size_t i = 0; i < size;) {
		if (i + 5 <= size && memcmp(data + i, "@DIR@", 5) == 0) {
			memcpy(out + n, dir, dl);
			n += dl;
			i += 5;
		} else {
			out[n++] = (char)data[i++];
		}
	}
	*outlen = n;
	return out;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sg_diag errs = { 0 };
	size_t len;

	if (dir == NULL)
		setup();
	if (may_escape(data, size))
		return 0;
	char *text = expand(data, size, &len);
	put("t.conf", text, len);
	free(text);
	char *path = sg_xasprintf("%s/t.conf", dir);
	int here = open(".", O_RDONLY | O_DIRECTORY);
	if (here < 0 || chdir(dir) != 0)
		abort();
	struct sg_conf *c = sg_conf_load(path, &errs);
	if (fchdir(here) != 0)
		abort();
	close(here);
	if ((c == NULL) != (errs.n > 0))
		abort();   /* a load fails exactly when it reports why */
	if (c != NULL) {
		static const char *const addrs[] = { "support@example.com", "<Support+12-abc@Example.COM>", "help@example.org",
						     "x@y", "", "@", "a+@b" };
		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			char *detail = NULL;
			(void)sg_conf_is_support(c, addrs[i], &detail);
			free(detail);
		}
		struct sg_conf *ref = sg_conf_ref(c);
		sg_conf_unref(&ref);
		if (c->refs != 1)
			abort();
	}
	sg_conf_unref(&c);
	sg_diag_clear(&errs);
	free(path);
	return 0;
}
