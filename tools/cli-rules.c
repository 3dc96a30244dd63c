/*
 * supportgate rules check|test, agents, queues, set — the routing side
 * of the CLI.
 */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <getopt.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notice/ack.h"
#include "mail/address.h"
#include "cli.h"
#include "cli-fmt.h"
#include "ticket/assign.h"
#include "ticket/ops.h"
#include "conf/conf.h"
#include "mail/message.h"
#include "rules/rules.h"
#include "store/store.h"
#include "lib/xalloc.h"

int
sg_cmd_rules(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "check") == 0 && argc <= 3) {
		const char *path = argc == 3 ? argv[2] : sg_cli_conf()->rules_file;
		struct sg_diag errs = { 0 };
		if (path == NULL || *path == '\0') {
			fprintf(stderr, "supportgate: no rules_file configured; name a file\n");
			return 2;
		}
		struct sg_rules *r = sg_rules_load(path, &errs);
		sg_diag_print(&errs, stderr);
		sg_diag_clear(&errs);
		if (r == NULL)
			return 1;
		printf("%s: %zu rules, %zu queues, %zu agents: OK\n", path, sg_rules_count(r), sg_rules_nqueues(r),
		       sg_rules_nagents(r));
		sg_rules_free(&r);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "test") == 0) {
		static const struct option lopts[] = {
			{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
			{ "rules", required_argument, NULL, 'r' }, { NULL, 0, NULL, 0 },
		};
		const char *from = NULL, *rpath = NULL;
		struct sg_strlist to = { 0 };
		int opt;
		optind = 2;
		while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
			if (opt == 'f')
				from = optarg;
			else if (opt == 't')
				sg_strlist_add(&to, optarg, 0);
			else if (opt == 'r')
				rpath = optarg;
			else
				return sg_cli_usage("rules", 2);
		}
		if (optind + 1 != argc)
			return sg_cli_usage("rules", 2);
		const struct sg_conf *c = sg_cli_conf();
		struct sg_rules *own = NULL;
		const struct sg_rules *r = c->rules;
		if (rpath != NULL) {
			struct sg_diag errs = { 0 };
			own = sg_rules_load(rpath, &errs);
			sg_diag_print(&errs, stderr);
			sg_diag_clear(&errs);
			if (own == NULL)
				return 1;
			r = own;
		}
		if (r == NULL) {
			fprintf(stderr, "supportgate: no rules loaded (rules_file or --rules FILE)\n");
			return 1;
		}
		size_t len;
		char *raw = sg_cli_slurp(argv[optind], &len);
		if (raw == NULL) {
			fprintf(stderr, "supportgate: %s: %s\n", argv[optind], strerror(errno));
			return 1;
		}
		struct sg_msginfo *mi = NULL;
		if (sg_message_parse(raw, len, &mi) != 0)
			mi = sg_msginfo_empty(len);
		if (to.n == 0 && c->support_address.n)
			sg_strlist_add(&to, c->support_address.v[0], 0);
		struct sg_rule_input in = {
			.mi = mi, .env_from = from ? from : mi->from_addr, .env_rcpt = (const char *const *)to.v,
			.nrcpt = to.n, .door = "milter", .size = len,
		};
		struct sg_route ro;
		sg_rules_eval(r, &in, &ro, stdout);
		printf("\nroute:\n  queue:     %s\n  priority:  %s\n  sla:       %s\n  segment:   %s\n  assign:    %s\n",
		       ro.queue ? ro.queue : "default", ro.priority >= 0 ? sg_priority_name(ro.priority) : "normal",
		       ro.sla ? ro.sla : "-", ro.segment ? ro.segment : "-",
		       ro.assign ? ro.assign : ro.assign_strategy ? "(queue strategy)" : "-");
		printf("  tags:     ");
		for (size_t i = 0; i < ro.tags.n; i++)
			printf(" %s", ro.tags.v[i]);
		printf("\n  template:  %s\n", ro.no_template ? "none" : ro.template_name ? ro.template_name : "ack");
		if (ro.reject_text)
			printf("  reject:    %s\n", ro.reject_text);
		if (ro.tempfail)
			printf("  tempfail:  yes\n");
		if (ro.quarantine)
			printf("  quarantine: yes\n");
		for (size_t i = 0; i < ro.notify.n; i++)
			printf("  notify:    %s\n", ro.notify.v[i]);
		sg_route_clear(&ro);
		sg_msginfo_free(&mi);
		free(raw);
		sg_strlist_clear(&to);
		sg_rules_free(&own);
		return 0;
	}
	return sg_cli_usage("rules", 2);
}

static int
json_flag(int argc, char **argv, const char *name, int *json)
{
	*json = argc == 2 && strcmp(argv[1], "--json") == 0;
	return argc == 1 || *json ? 0 : sg_cli_usage(name, 2);
}

static const char *
strategy_name(int s)
{
	return s == SG_STRAT_ROUND_ROBIN ? "round-robin" : s == SG_STRAT_LEAST_OPEN ? "least-open" : "none";
}

int
sg_cmd_queues(int argc, char **argv)
{
	int json;
	if (json_flag(argc, argv, "queues", &json) != 0)
		return 2;
	const struct sg_conf *c = sg_cli_conf();
	size_t n = c->rules ? sg_rules_nqueues(c->rules) : 0;
	json_t *arr = json ? json_array() : NULL;
	if (!json && c->rules == NULL) {
		printf("no rules_file: every ticket goes to the queue 'default'\n");
		return 0;
	}
	if (!json)
		printf("%-16s  %-30s  %-12s  %-8s  %s\n", "QUEUE", "MAILBOX", "STRATEGY", "SLA", "AGENTS");
	for (size_t i = 0; i < n; i++) {
		const struct sg_queue_def *q = sg_rules_queue_at(c->rules, i);
		if (json) {
			json_t *o = json_object(), *ag = json_array();
			for (size_t j = 0; j < q->agents.n; j++)
				json_array_append_new(ag, json_string(q->agents.v[j]));
			json_object_set_new(o, "name", json_string(q->name));
			json_object_set_new(o, "mailbox", q->mailbox ? json_string(q->mailbox) : json_null());
			json_object_set_new(o, "strategy", json_string(strategy_name(q->strategy)));
			json_object_set_new(o, "sla", q->sla ? json_string(q->sla) : json_null());
			json_object_set_new(o, "manager", q->manager ? json_string(q->manager) : json_null());
			json_object_set_new(o, "blind", json_boolean(q->blind));
			json_object_set_new(o, "agents", ag);
			json_array_append_new(arr, o);
			continue;
		}
		sg_cli_cell(stdout, q->name, 16);
		fputs("  ", stdout);
		sg_cli_cell(stdout, q->mailbox ? q->mailbox : "-", 30);
		printf("  %-12s  ", strategy_name(q->strategy));
		sg_cli_cell(stdout, q->sla ? q->sla : "-", 8);
		fputs(" ", stdout);
		for (size_t j = 0; j < q->agents.n; j++)
			printf(" %s", q->agents.v[j]);
		printf("\n");
	}
	if (json)
		sg_cli_json_print(arr);
	else
		printf("-- %zu queue(s) --\n", n);
	return 0;
}

int
sg_cmd_agents(int argc, char **argv)
{
	int json;
	if (json_flag(argc, argv, "agents", &json) != 0)
		return 2;
	const struct sg_conf *c = sg_cli_conf();
	size_t n = c->rules ? sg_rules_nagents(c->rules) : 0;
	if (!json && n == 0) {
		printf("no agents declared\n");
		return 0;
	}
	struct sg_store *st = sg_cli_store(c);
	int64_t now = (int64_t)time(NULL);
	json_t *arr = json ? json_array() : NULL;
	if (!json)
		printf("%-32s  %-24s  %-5s  %6s  %8s\n", "AGENT", "NAME", "AWAY", "OPEN", "TODAY");
	for (size_t i = 0; i < n; i++) {
		const struct sg_agent_def *a = sg_rules_agent_at(c->rules, i);
		uint64_t open = 0, today = 0;
		(void)sg_assign_load(st, a->address, now, &open, &today);
		if (json) {
			json_t *o = json_object();
			json_object_set_new(o, "address", json_string(a->address));
			json_object_set_new(o, "name", a->name ? json_string(a->name) : json_null());
			json_object_set_new(o, "away", json_boolean(a->away));
			json_object_set_new(o, "open", json_integer((json_int_t)open));
			json_object_set_new(o, "assigned_today", json_integer((json_int_t)today));
			json_array_append_new(arr, o);
			continue;
		}
		sg_cli_cell(stdout, a->address, 32);
		fputs("  ", stdout);
		sg_cli_cell(stdout, a->name ? a->name : "", 24);
		printf("  %-5s  %6llu  %8llu\n", a->away ? "yes" : "no", (unsigned long long)open, (unsigned long long)today);
	}
	sg_store_close(&st);
	if (json)
		sg_cli_json_print(arr);
	else
		printf("-- %zu agent(s) --\n", n);
	return 0;
}

/* supportgate set N FIELD VALUE: a change by hand through the ticket
 * operations (the same the daemon and agents' commands use). */
/* Who made a change by hand: the login of the invoking user (from the
 * password database, not $USER, which anyone sets), and with --as the
 * agent it was done for, who must be a known agent. */
static char *
cli_actor(const struct sg_conf *c, const char *as)
{
	struct passwd *pw = getpwuid(getuid());
	char login[64];

	if (pw != NULL)
		snprintf(login, sizeof(login), "%s", pw->pw_name);
	else
		snprintf(login, sizeof(login), "uid %u", (unsigned)getuid());
	if (as == NULL)
		return sg_xasprintf("cli:%s", login);
	char *a = sg_addr_normalize(as);
	if (a == NULL || c->rules == NULL || sg_rules_agent(c->rules, a) == NULL) {
		fprintf(stderr, "supportgate: --as %s: not an agent of the rules file\n", as);
		free(a);
		return NULL;
	}
	char *r = sg_xasprintf("%s (cli:%s)", a, login);
	free(a);
	return r;
}

int
sg_cmd_set(int argc, char **argv)
{
	const char *as = NULL;

	if (argc >= 3 && strcmp(argv[1], "--as") == 0) {
		as = argv[2];
		argv += 2;
		argc -= 2;
	}
	/* a reason or note may be given as several words */
	int words = argc > 4 && (strcmp(argv[2], "reason") == 0 || strcmp(argv[2], "note") == 0);
	if (argc != 4 && !words)
		return sg_cli_usage("set", 2);
	char *end;
	errno = 0;
	unsigned long long id = strtoull(argv[1], &end, 10);
	if (errno || *end || id == 0) {
		fprintf(stderr, "supportgate: '%s' is not a ticket number\n", argv[1]);
		return 2;
	}
	const struct sg_conf *c = sg_cli_conf();
	char *actor = cli_actor(c, as);
	if (actor == NULL)
		return 2;
	struct sg_store *st = sg_cli_store(c);
	char *done = NULL, *why = NULL;
	GString *value = g_string_new(argv[3]);
	for (int i = 4; i < argc; i++)
		g_string_append_printf(value, " %s", argv[i]);
	int rc = sg_ticket_change(st, c, id, argv[2], value->str, actor, &done, &why);
	g_string_free(value, TRUE);

	sg_store_close(&st);
	if (rc == 0)
		printf("ticket %llu: %s %s\n", id, argv[2], done);
	else if (rc == SG_OP_INVALID)
		fprintf(stderr, "supportgate: %s\n", why);
	else if (rc == SG_STORE_NOTFOUND)
		fprintf(stderr, "supportgate: no such ticket %llu\n", id);
	free(done);
	free(why);
	free(actor);
	if (rc == SG_OP_INVALID)
		return sg_cli_usage("set", 2);
	return rc == 0 ? 0 : 1;
}
