/*
 * cli — shared pieces of the supportgate command-line tool. Each command
 * lives in its own tools/cli-*.c and is listed in SG_CLI_COMMANDS.
 */
#ifndef SG_CLI_H
#define SG_CLI_H

#include <stddef.h>

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
int sg_cmd_template(int argc, char **argv);
int sg_cmd_rules(int argc, char **argv);
int sg_cmd_queues(int argc, char **argv);
int sg_cmd_agents(int argc, char **argv);
int sg_cmd_set(int argc, char **argv);
int sg_cmd_clock(int argc, char **argv);
int sg_cmd_imap(int argc, char **argv);
int sg_cmd_report(int argc, char **argv);

#define SG_CLI_COMMANDS \
	{ "config", sg_cmd_config, "print the configuration in effect (-d: defaults)", "config [-d]" }, \
	{ "tickets", sg_cmd_tickets, "list tickets", \
	  "tickets [--status S] [--queue Q] [--customer ADDR] [--json]" }, \
	{ "show", sg_cmd_show, "show one ticket with its timeline of messages and events", "show N [--json]" }, \
	{ "ingest", sg_cmd_ingest, "feed one message through the ingest entry point (as the IMAP door does)", \
	  "ingest FILE.eml|- [--from ADDR] [--to ADDR]..." }, \
	{ "db", sg_cmd_db, "check, back up or recover the store", "db verify | db backup DIR | db recover" }, \
	{ "queue", sg_cmd_queue, "the outbound queue: list, show, retry, drop, deliver now", \
	  "queue [list] | queue show ID | queue retry ID|--all | queue drop ID | queue run" }, \
	{ "template", sg_cmd_template, "print the exact message a template gives (sample data or a ticket)", \
	  "template render NAME [--ticket N] [--lang L]" }, \
	{ "rules", sg_cmd_rules, "check a rules file, or show how the rules route a message (store untouched)", \
	  "rules check [FILE] | rules test MESSAGE.eml [--from ADDR] [--to ADDR] [--rules FILE]" }, \
	{ "queues", sg_cmd_queues, "list the queues of the rules file", "queues" }, \
	{ "agents", sg_cmd_agents, "agents with their load: open tickets, assigned today", "agents" }, \
	{ "set", sg_cmd_set, "change a ticket by hand through the ticket operations (events, notices)", \
	  "set N status|priority|queue|assignee|segment|sla|service|reason|tag|note VALUE" }, \
	{ "clock", sg_cmd_clock, "one pass of the ticket timers (automatic close, SLA thresholds), optionally as if later", \
	  "clock run [--in DURATION]" }, \
	{ "imap", sg_cmd_imap, "the IMAP door per mailbox: connection, last error, UID checkpoint, ingested", \
	  "imap status [NAME] [--json]" }, \
	{ "report", sg_cmd_report, "numbers for a period by queue, segment, tier, agent (text, CSV, JSON, HTML charts)", \
	  "report [--from DATE] [--to DATE] [--tz ZONE] [--now TIME] [--csv | --json | --html FILE]" },
#endif
