/*
 * test-config — the configuration table and parser: a good file, every
 * kind of bad value, unknown keys, bounds, includes, support-address
 * matching. Each case writes a file in a temp dir and loads it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/size.h"
#include "lib/log.h"
#include "fixture.h"

static char *
write_file(const char *name, const char *text)
{
	return sg_test_write(sg_test_dir(), name, text);
}

#define BASE "support_address = {\"support@example.com\", \"Help@Example.org\"}\n" \
	     "state_dir = \"/tmp/sg-x\"\n"

/* Load the text made of fmt (printf) as t.conf; return the config (or
 * NULL) and the joined errors. */
static struct sg_conf *load(char **errtext, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct sg_conf *
load(char **errtext, const char *fmt, ...)
{
	struct sg_diag errs = { 0 };
	va_list ap;

	va_start(ap, fmt);
	char *path = vwrite_text(sg_test_dir(), "t.conf", fmt, ap);
	va_end(ap);
	struct sg_conf *c = sg_conf_load(path, &errs);

	*errtext = errors_text(&errs);
	free(path);
	return c;
}

static const struct {
	const char *text;     /* appended to BASE */
	const char *want;     /* substring of the error; NULL = loads */
} cases[] = {
	{ "", NULL },
	{ "socket = \"inet:8891@127.0.0.1\"\n", NULL },
	{ "socket = \"inet:8891\"\n", NULL },
	{ "socket = \"local:/run/sg.sock\"\n", NULL },
	{ "socket = \"inet:99999@localhost\"\n", "t.conf:3: socket: bad port" },
	{ "socket = \"inet:@localhost\"\n", "socket: bad port" },
	{ "socket = \"local:relative.sock\"\n", "t.conf:3: socket: local socket path must be absolute" },
	{ "socket = \"tcp:25\"\n", "is not inet:PORT@HOST" },
	{ "no_such_key = 1\n", "t.conf:3: no such option 'no_such_key'" },
	{ "reopen_days = -1\n", "t.conf:3: reopen_days: -1 is out of range 0..3650" },
	{ "reopen_days = 4000\n", "reopen_days: 4000 is out of range" },
	{ "reopen_days = \"soon\"\n", "t.conf:3:" },
	{ "max_message_size = \"10M\"\n", NULL },
	{ "max_message_size = \"10X\"\n", "max_message_size: '10X' is not a size" },
	{ "max_message_size = \"1K\"\n", "max_message_size: 1K is out of range" },
	{ "log_level = \"chatty\"\n", "t.conf:3: log_level: must be one of debug|info|warn|error" },
	{ "syslog_facility = \"local9\"\n", "syslog_facility: must be one of" },
	{ "on_store_error = \"explode\"\n", "on_store_error: must be one of accept|tempfail|reject" },
	{ "ticket_tag = \"AC ME\"\n", "ticket_tag: 'AC ME' must be" },
	{ "ticket_tag = \"ACME\"\n", NULL },
	{ "header_prefix = \"X-Sup:\"\n", "header_prefix:" },
	{ "db_sync = maybe\n", "t.conf:3:" },
	{ "db_sync = false\n", NULL },
	{ "user = \"no-such-user-sg\"\n", "user: no such user 'no-such-user-sg'" },
	{ "support_address_regex = \"([a-z\"\n", "support_address_regex: missing" },
	{ "token_secret_file = \"/nonexistent/secret\"\n", "token_secret_file: /nonexistent/secret: No such file" },
	{ "support_address = {\"not an address\"}\n", "is not a plain address" },
	{ "support_address = {\"support+x@example.com\"}\n", "contains '+'" },
	{ "state_dir = \"relative\"\n", "state_dir: 'relative' must be an absolute path" },
	{ "socket = \"inet:1@h\" socket_x = 2\n", "no such option 'socket_x'" },
};

static void
test_cases(void)
{
	char *err;
	struct sg_conf *c;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = load(&err, BASE "%s", cases[i].text);
		if (cases[i].want == NULL)
			ok(c != NULL && err[0] == '\0', "case %zu loads: %s", i, err);
		else
			ok(c == NULL && strstr(err, cases[i].want) != NULL,
			   "case %zu rejected with '%s' (got '%s')", i, cases[i].want, err);
		sg_conf_unref(&c);
		free(err);
	}
}

/* Defaults and values */
static void
test_defaults(void)
{
	char *err;
	struct sg_conf *c;

	c = load(&err, BASE "ticket_tag = \"ACME\"\nmax_message_size = \"2M\"\n");
	ok(c != NULL, "config loads");
	if (c != NULL) {
		is_str(c->ticket_tag, "ACME", "ticket_tag read");
		is_int((long long)c->max_message_size, 2 * 1024 * 1024, "size suffix M");
		is_int(c->reopen_days, 30, "default reopen_days");
		is_int(c->db_sync, 1, "default db_sync");
		is_int(c->on_store_error, SG_ACT_TEMPFAIL, "default on_store_error is tempfail");
		is_int(c->on_parse_error, SG_ACT_ACCEPT, "default on_parse_error is accept");
		is_str(c->support_address.v[1], "help@example.org", "addresses lower-cased");
		ok(sg_conf_is_support(c, "support@example.com", NULL), "exact address matches");
		ok(sg_conf_is_support(c, "<SUPPORT@Example.COM>", NULL), "case and brackets ignored");
		char *detail = NULL;
		ok(sg_conf_is_support(c, "support+1234@example.com", &detail), "plus-address matches");
		is_str(detail, "1234", "plus detail returned");
		free(detail);
		ok(!sg_conf_is_support(c, "sales@example.com", NULL), "other address does not match");
		ok(!sg_conf_is_support(c, "support@example.com.evil", NULL), "suffix does not match");
		ok(!sg_conf_is_support(c, "", NULL), "empty does not match");
	}
	sg_conf_unref(&c);
	free(err);
}

/* Regex addresses */
static void
test_regex(void)
{
	char *err;
	struct sg_conf *c;

	c = load(&err, BASE "support_address_regex = \"^(help|desk)-[a-z]+@example\\\\.net$\"\n");
	ok(c != NULL, "regex config loads: %s", err);
	if (c != NULL) {
		ok(sg_conf_is_support(c, "Desk-Billing@example.net", NULL), "regex matches case-insensitively");
		ok(!sg_conf_is_support(c, "desk-billing@example.netx", NULL), "regex anchored");
	}
	sg_conf_unref(&c);
	free(err);
}

/* Includes: errors carry the included file's name and line */
static void
test_include(void)
{
	char *err;
	struct sg_conf *c;

	char *inc = write_file("inc.conf", "\nreopen_days = 7\n");
	c = load(&err, BASE "include(\"%s\")\n", inc);
	ok(c != NULL && c->reopen_days == 7, "include is read: %s", err);
	sg_conf_unref(&c);
	free(err);
	free(inc);
	inc = write_file("bad.conf", "\n\nreopen_days = 99999\n");
	c = load(&err, BASE "include(\"%s\")\n", inc);
	ok(c == NULL && strstr(err, "bad.conf:3: reopen_days") != NULL, "error in include names it: %s", err);
	sg_conf_unref(&c);
	free(err);
	free(inc);
}

/* Missing support address is an error at end of file */
static void
test_required_address(void)
{
	char *err;
	struct sg_conf *c;

	c = load(&err, "state_dir = \"/tmp/x\"\n");
	ok(c == NULL && strstr(err, "support_address: at least one") != NULL, "support_address required");
	free(err);
}

/* Secret file */
static void
test_secret(void)
{
	char *err;
	struct sg_conf *c;

	char *sec = write_file("secret", "0123456789abcdef0123\n");
	c = load(&err, BASE "token_secret_file = \"%s\"\n", sec);
	ok(c != NULL && c->token_secret_len == 20, "secret read without the newline");
	sg_conf_unref(&c);
	free(err);
	free(sec);
	sec = write_file("short", "abc\n");
	c = load(&err, BASE "token_secret_file = \"%s\"\n", sec);
	ok(c == NULL && strstr(err, "need at least 16") != NULL, "short secret refused");
	free(err);
	free(sec);
}

/* Missing file */
static void
test_missing_file(void)
{
	struct sg_conf *c;
	struct sg_diag errs = { 0 };

	c = sg_conf_load("/nonexistent/supportgate.conf", &errs);
	ok(c == NULL && errs.n == 1 && strstr(errs.v[0], "cannot read configuration") != NULL,
	   "missing file is an error");
	sg_diag_clear(&errs);
}

/* Sizes */
static void
test_sizes(void)
{
	uint64_t v;
	ok(sg_size_parse("512K", &v) == 0 && v == 524288, "512K");
	ok(sg_size_parse("1G", &v) == 0 && v == 1073741824ULL, "1G");
	ok(sg_size_parse("12", &v) == 0 && v == 12, "plain bytes");
	ok(sg_size_parse("-1", &v) < 0, "negative refused");
	ok(sg_size_parse("99999999999999999999G", &v) < 0, "overflow refused");
}

/* Refcount and swap */
static void
test_refcount(void)
{
	char *err;
	struct sg_conf *c;

	c = load(&err, BASE);
	free(err);
	sg_conf_swap(c);
	struct sg_conf *cur = sg_conf_current();
	ok(cur == c && cur->refs == 2, "current takes a reference");
	sg_conf_swap(NULL);
	ok(cur->refs == 1, "swap drops the global reference, reader keeps its own");
	sg_conf_unref(&cur);
	ok(cur == NULL, "unref clears the pointer");
}

/* Safe defaults: the daemon's user is supportgate unless the file says
 * otherwise, and whether the file said it is known (root only then). */
static void
test_safe_defaults(void)
{
	char *err;
	struct sg_conf *c;

	c = load(&err, BASE);
	ok(c != NULL, "a file without user loads (the default user is looked up at start only)");
	if (c != NULL) {
		is_str(c->user, "supportgate", "default user is supportgate");
		is_int(c->user_set, 0, "not written in the file");
		is_int(c->socket_mode, 0660, "default socket_mode 0660");
		is_str(c->socket_group, "postfix", "default socket_group postfix");
		is_str(c->socket, "local:/var/spool/postfix/supportgate/supportgated.sock",
		       "default socket inside Postfix's chroot");
	}
	sg_conf_unref(&c);
	free(err);
	c = load(&err, BASE "user = \"root\"\n");
	ok(c != NULL && c->user_set == 1 && strcmp(c->user, "root") == 0, "user = \"root\" written: known as written");
	sg_conf_unref(&c);
	free(err);
	c = load(&err, BASE "user = \"supportgate\"\n");
	ok(c == NULL || c->user_set == 1, "the default written out counts as written");
	sg_conf_unref(&c);
	free(err);
}

static const struct sg_test tests[] = {
	{ "safe-defaults", test_safe_defaults },
	{ "cases", test_cases },
	{ "defaults", test_defaults },
	{ "regex", test_regex },
	{ "include", test_include },
	{ "required-address", test_required_address },
	{ "secret", test_secret },
	{ "missing-file", test_missing_file },
	{ "sizes", test_sizes },
	{ "refcount", test_refcount },
};

int
main(void)
{
	sg_log_open_stderr("test-config");
	return SG_TEST_RUN(tests);
}
