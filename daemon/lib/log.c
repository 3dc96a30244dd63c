/*
 * log — see log.h.
 */
#include "config.h"
#include "lib/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *const level_names[] = {
	"debug", "info", "warn", "error", "fatal", "panic",
};
static const int level_syslog[] = {
	LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR, LOG_CRIT, LOG_ALERT,
};

static enum sg_log_level cur_level = SG_LOG_INFO;
static int use_syslog;
static const char *prog = "supportgate";

/* Our own syslog client (RFC 3164 datagrams on a unix socket, as glibc's
 * syslog() writes them) so that the socket can be chosen: /dev/log, or a
 * test's own receiver. One socket, connected; a failed send reconnects
 * once (the syslog daemon restarted), then the line goes to stderr (the
 * journal under systemd) rather than nowhere. */
static pthread_mutex_t sl_lock = PTHREAD_MUTEX_INITIALIZER;
static int sl_fd = -1;
static int sl_facility = LOG_MAIL;
static char sl_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = "/dev/log";

static const struct {
	const char *name;
	int value;
} facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int
sg_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcasecmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcasecmp(name, "warning") == 0)
		return SG_LOG_WARN;
	return -1;
}

const char *
sg_log_level_name(enum sg_log_level level)
{
	return (unsigned)level <= SG_LOG_PANIC ? level_names[level] : "?";
}

static int
facility_value(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].value;
	return -1;
}

int
sg_log_facility_valid(const char *facility)
{
	return facility_value(facility) >= 0;
}

/* Under sl_lock. */
static void
sl_connect(void)
{
	struct sockaddr_un sa;

	if (sl_fd >= 0)
		close(sl_fd);
	sl_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (sl_fd < 0)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, sl_path, strlen(sl_path) + 1);
	if (connect(sl_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(sl_fd);
		sl_fd = -1;
	}
}

void
sg_log_open_stderr(const char *progname)
{
	pthread_mutex_lock(&sl_lock);
	if (sl_fd >= 0)
		close(sl_fd);
	sl_fd = -1;
	use_syslog = 0;
	prog = progname;
	pthread_mutex_unlock(&sl_lock);
}

int
sg_log_open_syslog_at(const char *progname, const char *facility, const char *socket_path)
{
	int f = facility_value(facility);

	if (f < 0)
		return -1;
	if (socket_path == NULL || socket_path[0] == '\0')
		socket_path = "/dev/log";
	if (strlen(socket_path) >= sizeof(sl_path))
		return -1;
	pthread_mutex_lock(&sl_lock);
	prog = progname;
	sl_facility = f;
	memcpy(sl_path, socket_path, strlen(socket_path) + 1);
	sl_connect();
	use_syslog = 1;
	pthread_mutex_unlock(&sl_lock);
	return 0;
}

int
sg_log_open_syslog(const char *progname, const char *facility)
{
	return sg_log_open_syslog_at(progname, facility, NULL);
}

const char *
sg_log_target(void)
{
	return use_syslog ? sl_path : "stderr";
}

/* "<PRI>Mmm dd hh:mm:ss prog[pid]: line" (RFC 3164; local time, as
 * syslog(3) writes). Returns 0 when sent. */
static int
sl_send(enum sg_log_level level, const char *line)
{
	char msg[2300], stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	int n, rc = -1;

	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", localtime_r(&now, &tm));
	n = snprintf(msg, sizeof(msg), "<%d>%s %s[%ld]: %s", sl_facility | level_syslog[level], stamp, prog,
		     (long)getpid(), line);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	pthread_mutex_lock(&sl_lock);
	for (int attempt = 0; attempt < 2 && rc != 0; attempt++) {
		if (sl_fd < 0 || attempt > 0)
			sl_connect();
		if (sl_fd >= 0 && send(sl_fd, msg, (size_t)n, MSG_NOSIGNAL) == n)
			rc = 0;
	}
	pthread_mutex_unlock(&sl_lock);
	return rc;
}

void
sg_log_set_level(enum sg_log_level level)
{
	cur_level = level;
}

enum sg_log_level
sg_log_get_level(void)
{
	return cur_level;
}

/* Append to a line buffer, never past its end. */
static void
line_vadd(char *buf, size_t size, size_t *off, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));
static void
line_vadd(char *buf, size_t size, size_t *off, const char *fmt, va_list ap)
{
	int n;

	if (*off >= size - 1)
		return;
	n = vsnprintf(buf + *off, size - *off, fmt, ap);
	if (n > 0)
		*off = *off + (size_t)n < size ? *off + (size_t)n : size - 1;
}

static void line_add(char *buf, size_t size, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void
line_add(char *buf, size_t size, size_t *off, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line_vadd(buf, size, off, fmt, ap);
	va_end(ap);
}

void
sg_vlog(enum sg_log_level level, const char *module, const char *qid,
	unsigned long long ticket, const char *fmt, va_list ap)
{
	char line[2048];
	size_t off = 0;

	if (level < cur_level && level < SG_LOG_FATAL)
		return;
	line[0] = '\0';
	if (!use_syslog)
		line_add(line, sizeof(line), &off, "%s[%ld]: ", prog, (long)getpid());
	line_add(line, sizeof(line), &off, "%s: %s:", level_names[level], module);
	if (qid != NULL && *qid != '\0')
		line_add(line, sizeof(line), &off, " qid=%s", qid);
	if (ticket != 0)
		line_add(line, sizeof(line), &off, " ticket=%llu", ticket);
	line_add(line, sizeof(line), &off, " ");
	line_vadd(line, sizeof(line), &off, fmt, ap);
	if (use_syslog) {
		if (sl_send(level, line) == 0)
			return;
		/* no syslog: stderr, with the prefix the line lacks */
		char again[2200];
		snprintf(again, sizeof(again), "%s[%ld]: %s", prog, (long)getpid(), line);
		memcpy(line, again, sizeof(line) < sizeof(again) ? sizeof(line) : sizeof(again));
		line[sizeof(line) - 1] = '\0';
		off = strlen(line);
	}
	/* One write per line so concurrent threads do not interleave. */
	line_add(line, sizeof(line), &off, "\n");
	if (off == sizeof(line) - 1)
		line[off - 1] = '\n';
	if (write(STDERR_FILENO, line, off) < 0) {
		/* nothing sensible to do */
	}
}

void
sg_log(enum sg_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sg_vlog(level, module, NULL, 0, fmt, ap);
	va_end(ap);
}

void
sg_log_ctx(enum sg_log_level level, const char *module, const char *qid,
	   unsigned long long ticket, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sg_vlog(level, module, qid, ticket, fmt, ap);
	va_end(ap);
}

void
sg_fatal(const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sg_vlog(SG_LOG_FATAL, module, NULL, 0, fmt, ap);
	va_end(ap);
	exit(1);
}

void
sg_panic(const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sg_vlog(SG_LOG_PANIC, module, NULL, 0, fmt, ap);
	va_end(ap);
	abort();
}

char *
sg_log_safe(char *buf, size_t size, const char *s, size_t max)
{
	size_t o = 0, i;
	static const char hex[] = "0123456789abcdef";

	if (size == 0)
		return buf;
	if (s == NULL)
		s = "(null)";
	for (i = 0; s[i] != '\0' && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != 0x7f && c != '\\') {
			if (o + 1 >= size)
				break;
			buf[o++] = (char)c;
		} else {
			if (o + 4 >= size)
				break;
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		}
	}
	if (s[i] != '\0' && o + 3 < size) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}
