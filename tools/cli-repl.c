/*
 * cli-repl — `supportgate repl status [--json]`: this node's place in the
 * replication group (daemon/store/repl.h): its role, the master, every
 * site Berkeley DB's replication manager knows with whether it is
 * connected to this one, the log position (LSN: on the master the next
 * record it writes, on a replica the next it expects; a caught-up
 * replica's equals the master's) and the bytes of log a replica knows it
 * lacks. Read from rep_stat and repmgr_site_list; works on any node.
 * Exit status 0, 1 when replication is not configured or the store
 * cannot be read.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "conf/conf.h"
#include "store/store.h"

static const char *
role_name(int r)
{
	return r == SG_REPL_MASTER ? "master" : r == SG_REPL_REPLICA ? "replica" : r == SG_REPL_OFF ? "off" : "unknown";
}

int
sg_cmd_repl(int argc, char **argv)
{
	struct sg_repl_status rs;
	int json = 0, rc;

	if (argc < 2 || strcmp(argv[1], "status") != 0)
		return sg_cli_usage("repl", 2);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return sg_cli_usage("repl", 2);
	}
	const struct sg_conf *c = sg_cli_conf();
	if (c->replication_local[0] == '\0') {
		fprintf(stderr, "supportgate: replication is not configured (replication_local is empty)\n");
		return 1;
	}
	struct sg_store *st = sg_cli_store(c);
	rc = sg_store_repl_status(st, &rs);
	sg_store_close(&st);
	if (rc != 0) {
		fprintf(stderr, "supportgate: cannot read the replication state\n");
		return 1;
	}
	if (json) {
		json_t *j = json_object(), *sites = json_array();
		json_object_set_new(j, "role", json_string(role_name(rs.role)));
		json_object_set_new(j, "local", json_string(rs.local));
		json_object_set_new(j, "master", rs.master[0] ? json_string(rs.master) : json_null());
		json_object_set_new(j, "startup_complete", json_boolean(rs.startup_complete));
		json_object_set_new(j, "nsites", json_integer(rs.nsites));
		json_object_set_new(j, "lsn", json_sprintf("%u/%u", rs.lsn_file, rs.lsn_offset));
		json_object_set_new(j, "lag_bytes", json_integer((json_int_t)rs.lag_bytes));
		json_object_set_new(j, "generation", json_integer(rs.gen));
		json_object_set_new(j, "elections", json_integer((json_int_t)rs.elections));
		json_object_set_new(j, "ack_policy", json_string(sg_repl_ack_name(c->replication_ack_policy)));
		for (size_t i = 0; i < rs.nsites_list; i++) {
			json_t *s = json_object();
			json_object_set_new(s, "address", json_string(rs.sites[i].addr));
			json_object_set_new(s, "connected", json_boolean(rs.sites[i].connected));
			json_object_set_new(s, "master", json_boolean(rs.sites[i].master));
			json_array_append_new(sites, s);
		}
		json_object_set_new(j, "peers", sites);
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(j);
		return 0;
	}
	printf("role:       %s\n", role_name(rs.role));
	printf("local:      %s\n", rs.local);
	printf("master:     %s\n", rs.master[0] ? rs.master : "(none known)");
	printf("synced:     %s\n", rs.startup_complete ? "yes" : "no (first synchronisation not finished)");
	printf("group:      %u sites, generation %u, %ju elections seen\n", rs.nsites, rs.gen, (uintmax_t)rs.elections);
	printf("lsn:        %u/%u\n", rs.lsn_file, rs.lsn_offset);
	printf("lag:        %ju bytes known missing\n", (uintmax_t)rs.lag_bytes);
	printf("ack policy: %s\n", sg_repl_ack_name(c->replication_ack_policy));
	for (size_t i = 0; i < rs.nsites_list; i++)
		printf("peer:       %-24s %s%s\n", rs.sites[i].addr, rs.sites[i].connected ? "connected" : "disconnected",
		       rs.sites[i].master ? " (master)" : "");
	return 0;
}
