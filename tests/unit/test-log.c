/*
 * test-log — level parsing, the safe-string escaper, and that lines carry
 * module, queue id and ticket id (stderr captured through a pipe).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
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

/* A private syslog receiver: a unix datagram socket in a temp dir. */
static int
receiver(char *path, size_t size)
{
	struct sockaddr_un sa;
	char dir[] = "/tmp/test-log.XXXXXX";
	int fd;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, size, "%s/log.sock", dir);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	struct timeval tv = { 2, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static const char *
receive(int fd)
{
	static char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
test_syslog(void)
{
	char path[200], want[64], dir[200];
	int fd = receiver(path, sizeof(path));
	const char *got;

	ok(fd >= 0, "receiver bound");
	if (fd < 0)
		return;
	sg_log_set_level(SG_LOG_INFO);
	is_int(sg_log_open_syslog_at("test-log", "nonesuch", path), -1, "unknown facility refused");
	is_int(sg_log_open_syslog_at("test-log", "mail", path), 0, "syslog on our socket");
	is_str(sg_log_target(), path, "target is the socket");
	sg_log_ctx(SG_LOG_WARN, "milter", "4Xyz12", 1234, "hello %d", 7);
	got = receive(fd);
	snprintf(want, sizeof(want), "<%d>", LOG_MAIL | LOG_WARNING);
	ok(strncmp(got, want, strlen(want)) == 0, "mail.warning priority first: %s", got);
	snprintf(want, sizeof(want), " test-log[%ld]: ", (long)getpid());
	ok(strstr(got, want) != NULL, "program and pid");
	ok(strstr(got, "warn: milter: qid=4Xyz12 ticket=1234 hello 7") != NULL, "the same line as on stderr");
	ok(strchr(got, '\n') == NULL, "one datagram, no newline");
	sg_log(SG_LOG_ERROR, "store", "bad");
	got = receive(fd);
	snprintf(want, sizeof(want), "<%d>", LOG_MAIL | LOG_ERR);
	ok(strncmp(got, want, strlen(want)) == 0, "mail.err: %s", got);
	sg_debug("store", "invisible");
	sg_info("ingest", "visible");
	got = receive(fd);
	ok(strstr(got, "info: ingest: visible") != NULL && strncmp(got, "<22>", 4) == 0, "debug filtered, info sent: %s",
	   got);
	is_int(sg_log_open_syslog_at("test-log", "local3", path), 0, "another facility");
	sg_info("x", "y");
	got = receive(fd);
	snprintf(want, sizeof(want), "<%d>", LOG_LOCAL3 | LOG_INFO);
	ok(strncmp(got, want, strlen(want)) == 0, "local3.info: %s", got);
	/* The receiver goes away: the line is not lost, it goes to stderr. */
	close(fd);
	unlink(path);
	char *out = capture(emit_ctx);
	ok(strstr(out, "test-log[") != NULL && strstr(out, "warn: milter: qid=4Xyz12 ticket=1234 hello 7\n") != NULL,
	   "no syslog: the line on stderr: %s", out);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	rmdir(dir);
	sg_log_open_stderr("test-log");
	is_str(sg_log_target(), "stderr", "back to stderr");
}

static const struct sg_test tests[] = {
	{ "levels", test_levels },
	{ "safe-string", test_safe_string },
	{ "context", test_context },
	{ "syslog", test_syslog },
};

int
main(void)
{
	sg_log_open_stderr("test-log");
	return SG_TEST_RUN(tests);
}
