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
#include "store/store.h"
#include "lib/xalloc.h"

#define MOD "main"

static const char *conf_path;

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
		"  -f       stay in the foreground and log to stderr\n"
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

/* Hand the state dir, pid file and socket to the daemon user, then drop. */
static int
become_user(const struct sg_conf *c, struct sg_pidfile *pf)
{
	if (c->user[0] != '\0') {
		struct passwd *pw = getpwnam(c->user);
		if (pw != NULL) {
			if (mkdir(c->state_dir, 0750) == 0 || errno == EEXIST)
				(void)chown(c->state_dir, pw->pw_uid, pw->pw_gid);
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
set_up(const struct sg_conf *c, int foreground, struct sg_pidfile **pf)
{
	if (sg_milter_setup(c->socket, 128, (unsigned)c->socket_mode, c->socket_group) != 0)
		return -1;
	if (!foreground) {
		if (daemonize() != 0) {
			sg_error(MOD, "cannot daemonise: %s", strerror(errno));
			return -1;
		}
		if (sg_log_open_syslog("supportgated", c->syslog_facility) != 0)
			sg_log_open_syslog("supportgated", "mail");
	}
	if (*pf != NULL && sg_pidfile_write(*pf) != 0) {
		sg_error(MOD, "cannot write pid file: %s", strerror(errno));
		return -1;
	}
	return become_user(c, *pf);
}

/* Store, reactions, worker threads; then the milter loop until a stop. */
static int
serve(const struct sg_conf *c, struct sg_store **st)
{
	pthread_t rt;

	if (sg_store_open(c->state_dir, c->db_sync ? 0 : SG_STORE_NOSYNC, st) != 0) {
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
	int opt, foreground = 0, check = 0, rc = 1;
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
	sg_conf_swap(c);
	block_signals();
	if (lock_pidfile(c, &pf) != 0)
		return 1;
	if (set_up(c, foreground, &pf) == 0 && serve(c, &st) == 0)
		rc = 0;
	sg_imap_stop();
	sg_metrics_stop();
	sg_clock_stop();
	sg_outbound_stop();
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
