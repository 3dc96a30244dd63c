/*
 * log — graded logging for the daemon, the CLI and the tests.
 *
 * Levels: debug, info, warn, error, fatal (startup and tools only: exits 1),
 * panic (a broken invariant: aborts). Every line names its module; callers
 * that know them add the MTA queue id and ticket id with sg_log_ctx().
 * Output goes to stderr (foreground, tools) or syslog (daemon; a socket
 * of our choosing, see sg_log_open_syslog_at). Untrusted
 * strings must pass through sg_log_safe() before being logged: it escapes
 * control characters and truncates.
 *
 * Thread-safe: each line is formatted into a local buffer and written with
 * one call. Never call sg_fatal() from a milter callback or a worker.
 */
#ifndef SG_LOG_H
#define SG_LOG_H

#include <stdarg.h>
#include <stddef.h>

enum sg_log_level {
	SG_LOG_DEBUG = 0,
	SG_LOG_INFO,
	SG_LOG_WARN,
	SG_LOG_ERROR,
	SG_LOG_FATAL,
	SG_LOG_PANIC,
};

/* Parse "debug", "info", ... ; returns -1 when unknown. */
int sg_log_level_parse(const char *name);
const char *sg_log_level_name(enum sg_log_level level);

/* Log to stderr with the program name as prefix (the default). */
void sg_log_open_stderr(const char *progname);
/* Log to syslog with the given facility name ("mail", "local0", ...).
 * Returns 0, or -1 when the facility name is unknown (nothing changes). */
int sg_log_open_syslog(const char *progname, const char *facility);
/* The same, sending to the unix datagram socket socket_path (NULL or "":
 * /dev/log). The daemon's own client writes RFC 3164 lines
 * ("<PRI>Mmm dd hh:mm:ss prog[pid]: level: module: ...", PRI = facility
 * + priority: debug, info, warning, err, crit, alert) and, when the
 * socket cannot be reached even after a reconnect, writes the line to
 * stderr instead. Returns -1 (nothing changes) for an unknown facility
 * or a path too long for a socket address. */
int sg_log_open_syslog_at(const char *progname, const char *facility, const char *socket_path);
/* "stderr" or the syslog socket path in use. */
const char *sg_log_target(void);
int sg_log_facility_valid(const char *facility);
void sg_log_set_level(enum sg_log_level level);
enum sg_log_level sg_log_get_level(void);

void sg_log(enum sg_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same, with MTA queue id and ticket id (either may be NULL / 0). */
void sg_log_ctx(enum sg_log_level level, const char *module, const char *qid,
		unsigned long long ticket, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void sg_vlog(enum sg_log_level level, const char *module, const char *qid,
	     unsigned long long ticket, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

#define sg_debug(mod, ...) sg_log(SG_LOG_DEBUG, mod, __VA_ARGS__)
#define sg_info(mod, ...)  sg_log(SG_LOG_INFO, mod, __VA_ARGS__)
#define sg_warn(mod, ...)  sg_log(SG_LOG_WARN, mod, __VA_ARGS__)
#define sg_error(mod, ...) sg_log(SG_LOG_ERROR, mod, __VA_ARGS__)
void sg_fatal(const char *module, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void sg_panic(const char *module, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));

/*
 * Escape control characters and non-printables of an untrusted string into
 * buf (size bytes, always NUL-terminated), truncating with "..." beyond
 * max input bytes. Returns buf. UTF-8 bytes >= 0x80 are kept.
 */
char *sg_log_safe(char *buf, size_t size, const char *s, size_t max);

#endif
