/*
 * supportgated — the supportgate daemon: a milter for Postfix/Sendmail that
 * turns support mail into tickets (see supportgated(8)).
 *
 * Start-up order matters (STYLE.md rule 12): load and check the config,
 * take the pid file lock, open the milter socket and the store as root,
 * then drop privileges, then daemonise-complete and serve.
 *
 * Signals: libmilter owns SIGTERM/SIGINT/SIGHUP (they stop its loop; we
 * then drain and exit 0). SIGUSR1 reloads the configuration atomically in
 * a dedicated thread (build, validate, swap; a broken file keeps the old).
 */
#include "config.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <grp.h>
#include <libmilter/mfapi.h>
#include <pcre2.h>
#include <curl/curl.h>
#include <db.h>
#include <confuse.h>
#include <jansson.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "conf/conf.h"
#include "imap/imap.h"
#include "ingest/ingest.h"
#include "sla/clock.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "milter/milter.h"
#include "outbound/outbound.h"
#include "lib/pidfile.h"
#include "lib/worker.h"
#include "store/store.h"
#include "lib/xalloc.h"
#include "watchdog.h"

#define MOD "main"

static const char *conf_path;
static int to_syslog;   /* log_target resolved at start (see wants_syslog) */

/* Is stderr systemd's journal stream? JOURNAL_STREAM holds its
 * "device:inode" (systemd.exec(5)); the variable alone is inherited by
 * every child, so it is compared with what stderr really is. */
static int
stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &sb) != 0)
		return 0;
	return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

/* log_target: syslog, stderr, or auto: syslog unless in the foreground
 * with stderr not the journal. Under systemd the foreground daemon so
 * logs to syslog too: its lines reach the mail log with their facility
 * and priority, not only the journal's copy of stderr. */
static int
wants_syslog(const struct sg_conf *c, int foreground)
{
	if (!foreground || c->log_target == SG_LOGT_SYSLOG)
		return 1;   /* in the background stderr is /dev/null */
	if (c->log_target == SG_LOGT_STDERR)
		return 0;
	return stderr_is_journal();
}

static void
open_syslog(const struct sg_conf *c)
{
	if (sg_log_open_syslog_at("supportgated", c->syslog_facility, c->syslog_socket) != 0)
		sg_log_open_syslog_at("supportgated", "mail", NULL);
}

static void
notify(const char *state)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, state);
#else
	(void)state;
#endif
}

static void
usage(FILE *fp)
{
	fprintf(fp,
		"usage: supportgated [-c FILE] [-f] [-n] [-V] [-h]\n"
		"  -c FILE  configuration file (default %s)\n"
		"  -f       stay in the foreground; log to stderr unless under systemd (log_target)\n"
		"  -n       check the configuration, print every error as file:line: message, exit 0/1\n"
		"  -V       print version and library versions\n"
		"  -h       this help\n"
		"Signals: SIGUSR1 reloads the configuration; SIGTERM drains and exits.\n",
		sg_conf_default_path());
}

static void
version(void)
{
	unsigned int mmaj = 0, mmin = 0, mpl = 0;
	char pcre[64] = "";
	int dmaj, dmin, dpatch;

	smfi_version(&mmaj, &mmin, &mpl);
	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	db_version(&dmaj, &dmin, &dpatch);
	printf("supportgated %s\n", PACKAGE_VERSION);
	printf("  GMime %u.%u.%u\n", gmime_major_version, gmime_minor_version, gmime_micro_version);
	printf("  PCRE2 %s\n", pcre);
	printf("  %s\n", curl_version());
	printf("  Berkeley DB %d.%d.%d\n", dmaj, dmin, dpatch);
	printf("  libmilter %u.%u.%u\n", mmaj, mmin, mpl);
	printf("  libconfuse %s, jansson %s\n", confuse_version, JANSSON_VERSION);
#ifdef HAVE_SYSTEMD
	printf("  systemd notify: yes\n");
#else
	printf("  systemd notify: no\n");
#endif
}

/* Reload thread: SIGUSR1 is blocked everywhere and received only here. */
static void *
reload_thread(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		struct sg_diag errs = { 0 };
		struct sg_conf *nc;

		notify("RELOADING=1");
		sg_info(MOD, "SIGUSR1: reloading %s", conf_path);
		nc = sg_conf_load(conf_path, &errs);
		if (nc == NULL) {
			for (size_t i = 0; i < errs.n; i++)
				sg_error(MOD, "%s", errs.v[i]);
			sg_error(MOD, "reload failed; keeping the running configuration");
		} else {
			struct sg_conf *old = sg_conf_current();
			if (strcmp(old->socket, nc->socket) != 0 || strcmp(old->state_dir, nc->state_dir) != 0 ||
			    strcmp(old->user, nc->user) != 0)
				sg_warn(MOD, "socket, state_dir and user changes take effect at the next restart");
			if (to_syslog && (strcmp(old->syslog_facility, nc->syslog_facility) != 0 ||
					  strcmp(old->syslog_socket, nc->syslog_socket) != 0))
				open_syslog(nc);
			sg_conf_unref(&old);
			sg_log_set_level((enum sg_log_level)nc->log_level);
			sg_conf_swap(nc);
			sg_imap_reload();   /* mailbox sections added, removed or changed */
			sg_info(MOD, "configuration reloaded");
		}
		sg_diag_clear(&errs);
		notify("READY=1");
	}
	return NULL;
}

static int
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (user[0] == '\0')
		return 0;
	pw = getpwnam(user);
	if (pw == NULL) {
		sg_error(MOD, "no such user %s", user);
		return -1;
	}
	if (getuid() == pw->pw_uid)
		return 0;
	if (setgroups(1, &pw->pw_gid) != 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) != 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
		sg_error(MOD, "cannot become %s: %s", user, strerror(errno));
		return -1;
	}
	sg_info(MOD, "running as %s", user);
	return 0;
}

static int
check_only(const char *path)
{
	struct sg_diag errs = { 0 };
	struct sg_conf *c = sg_conf_load(path, &errs);

	sg_diag_print(&errs, stderr);
	sg_diag_clear(&errs);
	if (c == NULL)
		return 1;
	printf("%s: configuration OK\n", path);
	sg_conf_unref(&c);
	return 0;
}

static int
daemonize(void)
{
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	if (freopen("/dev/null", "r", stdin) == NULL || freopen("/dev/null", "w", stdout) == NULL ||
	    freopen("/dev/null", "w", stderr) == NULL)
		return -1;
	return 0;
}

/* Blocked in every thread created from here on: SIGUSR1 is taken by the
 * reload thread, the stop signals by libmilter's signal thread (sigwait);
 * otherwise a stop signal could kill the process through a thread that
 * does not expect it. */
static void
block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/*
 * Safe defaults (supportgated(8), PRIVILEGES): started as root the daemon
 * becomes c->user (default supportgate) once the socket is bound, and
 * stays root only when the file says user = "root" (a uid 0 user). Started
 * as anyone else it keeps that user, unless the file names another one.
 * Checked before anything is opened: a refusal touches nothing. Returns
 * 0 and in *stay whether to keep the current user, or -1 (logged).
 */
static int
check_user(const struct sg_conf *c, int *stay)
{
	struct passwd *pw;

	*stay = 0;
	if (geteuid() != 0) {
		/* already the user (the unit's User=): nothing to hand over */
		*stay = !c->user_set || c->user[0] == '\0' ||
			((pw = getpwnam(c->user)) != NULL && pw->pw_uid == geteuid());
		return 0;   /* a named other user: drop_privileges() says why not */
	}
	if (c->user[0] == '\0') {
		sg_error(MOD, "refusing to run as root: user is empty in %s; set user = \"supportgate\" "
			 "(an unprivileged user), or user = \"root\" to run as root on purpose", c->path);
		return -1;
	}
	pw = getpwnam(c->user);
	if (pw == NULL) {
		sg_error(MOD, "refusing to run as root: user %s does not exist; create it "
			 "(adduser --system --group %s) or set user in %s (user = \"root\" to run as root on purpose)",
			 c->user, c->user, c->path);
		return -1;
	}
	if (pw->pw_uid == 0) {
		if (!c->user_set) {   /* the default never names root; be sure */
			sg_error(MOD, "refusing to run as root without user = \"%s\" in %s", c->user, c->path);
			return -1;
		}
		sg_warn(MOD, "running as root: user = \"%s\" in %s", c->user, c->path);
		*stay = 1;
	}
	return 0;
}

/* Hand the state dir, pid file and socket to the daemon user, then drop. */
static int
become_user(const struct sg_conf *c, struct sg_pidfile *pf, int stay)
{
	if (stay)
		return 0;
	if (c->user[0] != '\0') {
		struct passwd *pw = getpwnam(c->user);
		if (pw != NULL) {
			if ((mkdir(c->state_dir, 0750) == 0 || errno == EEXIST) &&
			    chown(c->state_dir, pw->pw_uid, pw->pw_gid) != 0)
				sg_warn(MOD, "cannot hand %s to %s: %s", c->state_dir, c->user, strerror(errno));
			if (pf != NULL)
				(void)sg_pidfile_chown(pf, pw->pw_uid, pw->pw_gid);
			(void)sg_milter_chown(pw->pw_uid, pw->pw_gid);
		}
	}
	return drop_privileges(c->user);
}

/* The pid file first: a second daemon must touch nothing of the first. */
static int
lock_pidfile(const struct sg_conf *c, struct sg_pidfile **pf)
{
	pid_t holder = 0;

	if (c->pid_file[0] == '\0' || sg_pidfile_open(c->pid_file, pf, &holder) == 0)
		return 0;
	if (errno == EWOULDBLOCK)
		sg_error(MOD, "another supportgated (pid %ld) holds %s", (long)holder, c->pid_file);
	else
		sg_error(MOD, "cannot open pid file %s: %s", c->pid_file, strerror(errno));
	return -1;
}

/* Socket, daemon mode, pid file, privileges: everything before mail. */
static int
set_up(const struct sg_conf *c, int foreground, struct sg_pidfile **pf, int stay)
{
	if (sg_milter_setup(c->socket, 128, (unsigned)c->socket_mode, c->socket_group) != 0)
		return -1;
	if (!foreground) {
		if (daemonize() != 0) {
			sg_error(MOD, "cannot daemonise: %s", strerror(errno));
			return -1;
		}
		if (to_syslog)
			open_syslog(c);
	}
	if (*pf != NULL && sg_pidfile_write(*pf) != 0) {
		sg_error(MOD, "cannot write pid file: %s", strerror(errno));
		return -1;
	}
	return become_user(c, *pf, stay);
}

/* Replication: the connections to the other sites are this process's;
 * `supportgate repl status` reads them from a file rewritten each second. */
static struct sg_store *repl_store;

static int
repl_pass(void *arg)
{
	(void)arg;
	sg_store_repl_publish(repl_store);
	return 0;
}

static struct sg_worker repl_worker = SG_WORKER_INIT(repl_pass, NULL, 1);

/* Store, reactions, worker threads; then the milter loop until a stop. */
static int
serve(const struct sg_conf *c, struct sg_store **st)
{
	pthread_t rt;

	struct sg_repl_conf repl;

	sg_conf_repl(c, &repl);   /* off (repl.local NULL) unless configured */
	repl.start = 1;           /* the daemon runs the site (repl.h) */
	if (sg_store_open_repl(c->state_dir, c->db_sync ? 0 : SG_STORE_NOSYNC, &repl, st) != 0) {
		sg_error(MOD, "cannot open the store in %s", c->state_dir);
		return -1;
	}
	sg_milter_set_store(*st);
	sg_ingest_init();   /* reactions to ticket events, before any thread */
	if (sg_outbound_start(*st) != 0) {
		sg_error(MOD, "cannot start the outbound worker");
		return -1;
	}
	if (sg_clock_start(*st) != 0) {
		sg_error(MOD, "cannot start the timer thread");
		return -1;
	}
	if (sg_metrics_start(*st) != 0) {   /* metrics_file, when set */
		sg_error(MOD, "cannot start the metrics writer");
		return -1;
	}
	if (sg_imap_start(*st) != 0) {   /* the IMAP door: a thread per mailbox, none blocks the milter */
		sg_error(MOD, "cannot start the IMAP pollers");
		return -1;
	}
	repl_store = *st;
	if (repl.local != NULL && sg_worker_start(&repl_worker) != 0) {   /* sites file for `repl status` */
		sg_error(MOD, "cannot start the replication status thread");
		return -1;
	}
	if (sg_watchdog_start(*st) != 0) {   /* WatchdogSec= pings, when systemd asks */
		sg_error(MOD, "cannot start the watchdog thread");
		return -1;
	}
	if (pthread_create(&rt, NULL, reload_thread, NULL) != 0) {
		sg_error(MOD, "cannot start the reload thread");
		return -1;
	}
	pthread_detach(rt);
	sg_info(MOD, "supportgated %s ready (pid %ld)", PACKAGE_VERSION, (long)getpid());
	notify("READY=1");
	int rc = sg_milter_run();
	if (rc != 0)
		sg_error(MOD, "milter loop failed");
	notify("STOPPING=1");
	sg_info(MOD, "stopping");
	return rc;
}

int
main(int argc, char **argv)
{
	int opt, foreground = 0, check = 0, rc = 1, stay = 0;
	struct sg_diag errs = { 0 };
	struct sg_conf *c;
	struct sg_pidfile *pf = NULL;
	struct sg_store *st = NULL;

	conf_path = sg_conf_default_path();
	while ((opt = getopt(argc, argv, "c:fnVh")) != -1) {
		switch (opt) {
		case 'c': conf_path = optarg; break;
		case 'f': foreground = 1; break;
		case 'n': check = 1; break;
		case 'V': version(); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	sg_log_open_stderr("supportgated");
	if (check)
		return check_only(conf_path);
	if ((c = sg_conf_load(conf_path, &errs)) == NULL) {
		sg_diag_print(&errs, stderr);
		sg_diag_clear(&errs);
		return 1;
	}
	sg_log_set_level((enum sg_log_level)c->log_level);
	to_syslog = wants_syslog(c, foreground);
	if (to_syslog && foreground)
		open_syslog(c);   /* daemon mode: after detaching (set_up) */
	sg_conf_swap(c);
	block_signals();
	if (check_user(c, &stay) != 0 || lock_pidfile(c, &pf) != 0)
		return 1;
	if (set_up(c, foreground, &pf, stay) == 0 && serve(c, &st) == 0)
		rc = 0;
	sg_watchdog_stop();
	sg_imap_stop();
	sg_metrics_stop();
	sg_clock_stop();
	sg_outbound_stop();
	sg_worker_stop(&repl_worker);
	sg_store_close(&st);
	c = sg_conf_current();
	if (c != NULL) {
		sg_milter_cleanup(c->socket);
		sg_conf_unref(&c);
	}
	sg_pidfile_remove(&pf);
	sg_conf_swap(NULL);
	return rc;
}
