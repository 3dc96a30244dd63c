/*
 * cli — shared pieces of the supportgate command-line tool. Each command
 * lives in its own tools/cli-*.c and is listed in SG_CLI_COMMANDS.
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stddef.h>
#include <stdint.h>

struct sg_conf;

struct sg_cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);   /* argv[0] is the command name */
	const char *help;
	const char *usage;
};

/* The configuration (-c), loaded on first call; exits 1 on errors. */
struct sg_conf *sg_cli_conf(void);
struct sg_store;
/* Open the configured store; exits 1 with a message when it cannot. */
struct sg_store *sg_cli_store(const struct sg_conf *c);
/* The configuration file in use (-c, $SUPPORTGATE_CONF or the default). */
const char *sg_cli_conf_path(void);
/* Run as root: become the store's owner (the configured user, else the
 * owner of state_dir), or exit 1 saying why. Nothing when not root. */
void sg_cli_not_as_root(const struct sg_conf *c);
/* The exit statuses of sg_cli_conf() and sg_cli_store() when they fail
 * (default 1; `ingest` asks for sysexits(3) codes). */
void sg_cli_exit_status(int conf_rc, int store_rc);
struct json_t;
/* A time for JSON output: RFC 3339 in UTC, or null for 0. */
struct json_t *sg_cli_jtime(int64_t t);
/* Print v indented with a newline to standard output; drops v. */
void sg_cli_json_print(struct json_t *v);
/* Read a whole file ("-" = standard input), NUL-terminated; NULL + errno. */
char *sg_cli_slurp(const char *path, size_t *len);
/* Print a command's usage to stdout (rc 0) or stderr; returns rc. */
int sg_cli_usage(const char *name, int rc);
int sg_cli_wants_help(int argc, char **argv);

/* Command handlers, one file each (tools/cli-NAME.c). */
int sg_cmd_config(int argc, char **argv);
int sg_cmd_tickets(int argc, char **argv);
int sg_cmd_show(int argc, char **argv);
int sg_cmd_ingest(int argc, char **argv);
int sg_cmd_db(int argc, char **argv);
int sg_cmd_queue(int argc, char **argv);
int sg_cmd_queue_alias(int argc, char **argv);
int sg_cmd_search(int argc, char **argv);
int sg_cmd_template(int argc, char **argv);
int sg_cmd_rules(int argc, char **argv);
int sg_cmd_queues(int argc, char **argv);
int sg_cmd_agents(int argc, char **argv);
int sg_cmd_set(int argc, char **argv);
int sg_cmd_clock(int argc, char **argv);
int sg_cmd_imap(int argc, char **argv);
int sg_cmd_stats(int argc, char **argv);
int sg_cmd_forget(int argc, char **argv);
/* `db export [FILE]` and `db import FILE` (tools/cli-db-export.c); argv[0] is "export"/"import". */
int sg_cli_db_export(int argc, char **argv);
int sg_cli_db_import(int argc, char **argv);
int sg_cmd_report(int argc, char **argv);
int sg_cmd_repl(int argc, char **argv);

#define SG_CLI_COMMANDS \
	{ "config", sg_cmd_config, "print the configuration in effect (-d: defaults)", "config [-d]" }, \
	{ "tickets", sg_cmd_tickets, "list tickets", \
	  "tickets [--status S] [--queue Q] [--customer ADDR] [--sort id|created|updated|priority|due] [--reverse] " \
	  "[--limit N] [--json]" }, \
	{ "search", sg_cmd_search, "find tickets by subject, requestor or name (the tickets options apply)", \
	  "search TEXT [--status S] [--queue Q] [--sort KEY] [--reverse] [--limit N] [--json]" }, \
	{ "show", sg_cmd_show, "show one ticket with its timeline of messages and events", "show N [--json]" }, \
	{ "ingest", sg_cmd_ingest, "feed one message through the ingest entry point (as the IMAP door does)", \
	  "ingest FILE.eml|- [--from ADDR] [--to ADDR]..." }, \
	{ "db", sg_cmd_db, "check, back up, recover, export or import the store", \
	  "db verify | db backup DIR | db recover | db export [FILE] | db import FILE" }, \
	{ "outbox", sg_cmd_queue, "outgoing mail waiting or dead: list, show, retry, drop, deliver now", \
	  "outbox [list] [--json] | outbox show ID [--json] | outbox retry ID|--all | outbox drop ID | outbox run" }, \
	{ "queue", sg_cmd_queue_alias, "old name of outbox (kept for one release)", "queue ... (see outbox)" }, \
	{ "template", sg_cmd_template, "print the exact message a template gives (sample data or a ticket)", \
	  "template render NAME [--ticket N] [--lang L]" }, \
	{ "rules", sg_cmd_rules, "check a rules file, or show how the rules route a message (store untouched)", \
	  "rules check [FILE] | rules test MESSAGE.eml [--from ADDR] [--to ADDR] [--rules FILE]" }, \
	{ "queues", sg_cmd_queues, "list the routing queues of the rules file", "queues [--json]" }, \
	{ "agents", sg_cmd_agents, "agents with their load: open tickets, assigned today", "agents [--json]" }, \
	{ "set", sg_cmd_set, "change a ticket by hand through the ticket operations (events, notices)", \
	  "set [--as AGENT] N status|priority|queue|assignee|segment|sla|service|reason|tag|note VALUE" }, \
	{ "clock", sg_cmd_clock, "one pass of the ticket timers (automatic close, SLA thresholds), optionally as if later", \
	  "clock run [--in DURATION]" }, \
	{ "imap", sg_cmd_imap, "the IMAP door per mailbox: connection, last error, UID checkpoint, ingested", \
	  "imap status [NAME] [--json]" }, \
	{ "stats", sg_cmd_stats, "health at a glance: tickets by status and queue, outbound queue, acks today", \
	  "stats [--json]" }, \
	{ "forget", sg_cmd_forget, "erase one customer's messages, address and name from every ticket", \
	  "forget ADDRESS" }, \
	{ "report", sg_cmd_report, "numbers for a period by queue, segment, tier, agent (text, CSV, JSON, HTML charts)", \
	  "report [--from DATE] [--to DATE] [--tz ZONE] [--now TIME] [--csv | --json | --html FILE]" }, \
	{ "repl", sg_cmd_repl, "replication: role, master, peers and lag of this node", "repl status [--json]" },
#endif
