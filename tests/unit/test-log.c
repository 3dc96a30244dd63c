/*
 * test-log — level parsing, the safe-string escaper, and that lines carry
 * module, queue id and ticket id (stderr captured through a pipe).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "tap.h"

static char *
capture(void (*fn)(void))
{
	static char buf[4096];
	int p[2], saved;
	ssize_t n;

	if (pipe(p) != 0)
		return NULL;
	saved = dup(2);
	dup2(p[1], 2);
	fn();
	dup2(saved, 2);
	close(saved);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void emit_ctx(void) { sg_log_ctx(SG_LOG_WARN, "milter", "4Xyz12", 1234, "hello %d", 7); }
static void emit_debug(void) { sg_debug("store", "invisible"); }

static void
test_levels(void)
{
	is_int(sg_log_level_parse("debug"), SG_LOG_DEBUG, "debug parses");
	is_int(sg_log_level_parse("WARNING"), SG_LOG_WARN, "warning alias");
	is_int(sg_log_level_parse("loud"), -1, "unknown level");
	ok(sg_log_facility_valid("local3") && !sg_log_facility_valid("local9"), "facilities");
}

static void
test_safe_string(void)
{
	char buf[64];

	is_str(sg_log_safe(buf, sizeof(buf), "a\r\nb\\", 100), "a\\x0d\\x0ab\\x5c", "control chars escaped");
	is_str(sg_log_safe(buf, sizeof(buf), "abcdef", 3), "abc...", "truncated with ellipsis");
	is_str(sg_log_safe(buf, 8, "abcdefghijkl", 100), "abcdefg", "bounded by buffer");
	is_str(sg_log_safe(buf, sizeof(buf), "привет", 100), "привет", "UTF-8 kept");
}

static void
test_context(void)
{
	char *out;

	sg_log_set_level(SG_LOG_INFO);
	out = capture(emit_ctx);
	ok(strstr(out, "warn: milter: qid=4Xyz12 ticket=1234 hello 7") != NULL, "context in line: %s", out);
	out = capture(emit_debug);
	is_str(out, "", "debug suppressed at info");
	sg_log_set_level(SG_LOG_DEBUG);
	out = capture(emit_debug);
	ok(strstr(out, "debug: store: invisible") != NULL, "debug shown at debug");
}

static const struct sg_test tests[] = {
	{ "levels", test_levels },
	{ "safe-string", test_safe_string },
	{ "context", test_context },
};

int
main(void)
{
	sg_log_open_stderr("test-log");
	return SG_TEST_RUN(tests);
}
