/*
 * supportgate — the command-line tool. It reads the daemon's config file
 * and opens the same Berkeley DB environment (multi-process,
 * transactional), so no control protocol is needed.
 *
 * Commands are one table (name, handler, one-line help, usage); each
 * handler parses its own options and prints its usage on --help.
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "cli.h"
#include "cli-fmt.h"
#include "store/store.h"

static const char *conf_path;
static int exit_conf = 1, exit_store = 1;

void
sg_cli_exit_status(int conf_rc, int store_rc)
{
	exit_conf = conf_rc;
	exit_store = store_rc;
}

const char *
sg_cli_conf_path(void)
{
	return conf_path;
}

/* Loaded on first use so `help` and `version` need no config. */
struct sg_conf *
sg_cli_conf(void)
{
	static struct sg_conf *c;
	struct sg_diag errs = { 0 };

	if (c != NULL)
		return c;
	c = sg_conf_load(conf_path, &errs);
	if (c == NULL) {
		sg_diag_print(&errs, stderr);
		sg_diag_clear(&errs);
		exit(exit_conf);
	}
	sg_log_set_level((enum sg_log_level)c->log_level);
	return c;
}

/* Run as root, the tool becomes the store's owner before it opens it,
 * so nothing it creates is root's and out of the daemon's reach: the
 * user written in the config (root stays root), else the owner of an
 * existing state_dir, else the default user when it exists (the one the
 * daemon becomes). Without any of these (a build tree, a test) it stays. */
void
sg_cli_not_as_root(const struct sg_conf *c)
{
	struct stat sb;
	struct passwd *pw = NULL;
	uid_t uid = 0;
	gid_t gid = 0;

	if (geteuid() != 0)
		return;
	if (c->user_set && c->user[0] != '\0') {
		if ((pw = getpwnam(c->user)) == NULL) {
			fprintf(stderr, "supportgate: user '%s' (config) does not exist\n", c->user);
			exit(exit_conf);
		}
	} else if (stat(c->state_dir, &sb) == 0) {
		uid = sb.st_uid;
		gid = sb.st_gid;
	} else if (c->user[0] != '\0') {
		pw = getpwnam(c->user);
	}
	if (pw != NULL) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	if (uid == 0)
		return;
	if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0) {
		fprintf(stderr, "supportgate: run as root, cannot become uid %u, the owner of the store in %s: %s; "
				"run it as that user\n", (unsigned)uid, c->state_dir, strerror(errno));
		exit(exit_store);
	}
}

struct sg_store *
sg_cli_store(const struct sg_conf *c)
{
	struct sg_store *st = NULL;

	struct sg_repl_conf rc;

	sg_cli_not_as_root(c);
	sg_conf_repl(c, &rc);   /* a replicated store: this process joins its site */
	if (sg_store_open_repl(c->state_dir, c->db_sync ? 0 : SG_STORE_NOSYNC, &rc, &st) != 0) {
		fprintf(stderr, "supportgate: cannot open the store in %s\n", c->state_dir);
		exit(exit_store);
	}
	sg_ingest_init();   /* a change made here reacts like one made by the daemon */
	return st;
}

json_t *
sg_cli_jtime(int64_t t)
{
	char buf[40];
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
	return json_string(buf);
}

void
sg_cli_json_print(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2));
	printf("%s\n", s ? s : "null");
	free(s);
	json_decref(v);
}

char *
sg_cli_slurp(const char *path, size_t *len)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (fp == NULL)
		return NULL;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = sg_xrealloc(buf, cap + 1);
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
	} while (r > 0);
	int bad = ferror(fp);
	if (fp != stdin)
		fclose(fp);
	if (bad) {
		free(buf);
		errno = EIO;
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct sg_cli_cmd commands[] = {
	{ "help", cmd_help, "list commands, or show one command's usage", "help [COMMAND]" },
	{ "version", cmd_version, "print the version", "version" },
	SG_CLI_COMMANDS
};
static const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

static void
usage(FILE *fp)
{
	fprintf(fp, "usage: supportgate [-c FILE] [--utc] COMMAND [ARGS...]\n"
		    "  -c FILE  configuration file (default %s)\n"
		    "  --utc    times in UTC (default: local time; JSON is always UTC)\n\ncommands:\n",
		sg_conf_default_path());
	for (size_t i = 0; i < ncommands; i++)
		fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(fp, "\n'supportgate COMMAND --help' shows a command's usage.\n");
}

static const struct sg_cli_cmd *
find(const char *name)
{
	for (size_t i = 0; i < ncommands; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
sg_cli_usage(const char *name, int rc)
{
	const struct sg_cli_cmd *cmd = find(name);
	FILE *fp = rc == 0 ? stdout : stderr;

	if (cmd != NULL)
		fprintf(fp, "usage: supportgate %s\n  %s\n", cmd->usage, cmd->help);
	return rc;
}

int
sg_cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int
cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		if (find(argv[1]) == NULL) {
			fprintf(stderr, "supportgate: unknown command '%s'\n", argv[1]);
			return 2;
		}
		return sg_cli_usage(argv[1], 0);
	}
	usage(stdout);
	return 0;
}

static int
cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("supportgate %s\n", PACKAGE_VERSION);
	return 0;
}

/* Signals. Dying inside the store (the default action of SIGINT, SIGTERM,
 * SIGHUP and of SIGPIPE, as in `supportgate tickets | head`) leaves the
 * environment to be recovered by the next process that opens it, which
 * interrupts every call of a running daemon. So the first signal only
 * stops the store work (sg_store_interrupt): the command unwinds, closes
 * the store and the tool exits 128+signal; a second SIGINT/SIGTERM/SIGHUP
 * kills at once. A closed pipe ends the output the same way (its
 * SIGPIPEs never kill). */
static volatile sig_atomic_t got_signal;

static void
on_signal(int sig)
{
	if (got_signal != 0 && sig != SIGPIPE) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	if (got_signal == 0)
		got_signal = sig;
	sg_store_interrupt();
}

static void
catch_signals(void)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;   /* no SA_RESTART: a blocked read returns EINTR */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

/* The command's status, or 128+signal after one (quietly for SIGPIPE:
 * the reader went away, as with any filter). ingest keeps its sysexits
 * status (a pipe(8) retries 75; a stored message is 0). */
static int
finish(const char *cmd, int rc)
{
	fflush(stdout);
	if (got_signal == 0)
		return rc;
	if (got_signal != SIGPIPE)
		fprintf(stderr, "supportgate: interrupted (signal %d)\n", (int)got_signal);
	if (strcmp(cmd, "ingest") == 0)
		return rc == 0 ? 0 : 75;
	return 128 + got_signal;
}

int
main(int argc, char **argv)
{
	const struct sg_cli_cmd *cmd;
	int i = 1, utc = 0;

	sg_log_open_stderr("supportgate");
	sg_log_set_level(SG_LOG_WARN);
	conf_path = getenv("SUPPORTGATE_CONF");
	if (conf_path == NULL)
		conf_path = sg_conf_default_path();
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			conf_path = argv[i + 1];
			i += 2;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--utc") == 0) {
			utc = 1;
			i++;
		} else if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			return cmd_version(0, NULL);
		} else {
			fprintf(stderr, "supportgate: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	sg_cli_fmt_init(utc);
	cmd = find(argv[i]);
	if (cmd == NULL) {
		fprintf(stderr, "supportgate: unknown command '%s' (try 'supportgate help')\n", argv[i]);
		return 2;
	}
	if (cmd->fn != cmd_help && sg_cli_wants_help(argc - i, argv + i))
		return sg_cli_usage(cmd->name, 0);
	optind = 1;
	catch_signals();
	return finish(cmd->name, cmd->fn(argc - i, argv + i));
}
