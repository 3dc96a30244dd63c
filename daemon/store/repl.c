/*
 * repl — see repl.h.
 *
 * Timeouts (fixed; the group is on one LAN): the master sends a
 * heartbeat every second and a replica that hears none for 3 s calls an
 * election, so a master that hangs without closing its connections is
 * replaced too (one that dies closes them and the election starts at
 * once). An election waits 2 s for votes, is retried every second, and
 * broken connections are retried every second. A commit waits 2 s for
 * its acknowledgements.
 */
#include "config.h"
#include "store/repl.h"

#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

#define MOD "repl"
#define SG_REPL_START_WAIT 30

static const char *const ack_words[] = { "quorum", "all", "one", "none", "all_available" };
static const int ack_codes[] = { DB_REPMGR_ACKS_QUORUM, DB_REPMGR_ACKS_ALL, DB_REPMGR_ACKS_ONE,
				 DB_REPMGR_ACKS_NONE, DB_REPMGR_ACKS_ALL_AVAILABLE };

/* Set by DB_EVENT_REP_PERM_FAILED, which repmgr raises in the thread
 * whose commit waited for acknowledgements. */
static __thread int perm_failed;

struct sg_repl_conf *
sg_repl_conf_dup(const struct sg_repl_conf *rc)
{
	struct sg_repl_conf *c;
	char **peers;

	if (rc == NULL || rc->local == NULL || rc->local[0] == '\0')
		return NULL;
	c = sg_xcalloc(1, sizeof(*c));
	*c = *rc;
	c->local = sg_xstrdup(rc->local);
	peers = sg_xcalloc(rc->npeers + 1, sizeof(*peers));
	for (size_t i = 0; i < rc->npeers; i++)
		peers[i] = sg_xstrdup(rc->peers[i]);
	c->peers = (const char *const *)peers;
	return c;
}

void
sg_repl_conf_free(struct sg_repl_conf **rcp)
{
	struct sg_repl_conf *c = *rcp;

	if (c == NULL)
		return;
	*rcp = NULL;
	for (size_t i = 0; i < c->npeers; i++)
		free((char *)c->peers[i]);
	free((void *)c->peers);
	free((char *)c->local);
	free(c);
}

int
sg_repl_ack_parse(const char *word)
{
	for (size_t i = 0; i < sizeof(ack_words) / sizeof(ack_words[0]); i++)
		if (strcmp(word, ack_words[i]) == 0)
			return (int)i;
	return -1;
}

const char *
sg_repl_ack_name(int ack)
{
	return ack >= 0 && (size_t)ack < sizeof(ack_words) / sizeof(ack_words[0]) ? ack_words[ack] : "?";
}

int
sg_repl_addr_parse(const char *s, char **host, unsigned *port)
{
	const char *colon = s != NULL ? strrchr(s, ':') : NULL;
	char *end;
	unsigned long p;

	if (colon == NULL || colon == s || colon[1] == '\0')
		return -1;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || p == 0 || p > 65535)
		return -1;
	*host = sg_xstrndup(s, (size_t)(colon - s));
	*port = (unsigned)p;
	return 0;
}

/* The group's ports (every site's), for nodelay(). */
static unsigned site_ports[SG_REPL_MAX_SITES + 1];
static size_t nsite_ports;

static unsigned
sock_port(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)a)->sin_port);
	if (a->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)a)->sin6_port);
	return 0;
}

static int
is_site_port(unsigned p)
{
	for (size_t i = 0; p != 0 && i < nsite_ports; i++)
		if (site_ports[i] == p)
			return 1;
	return 0;
}

/* TCP_NODELAY on repmgr's connections. Berkeley DB 5.3 leaves Nagle on
 * them, and a commit's log record is a small write answered by a small
 * acknowledgement: Nagle holding the next record back until the peer's
 * delayed ACK (40 ms on Linux) capped a quorum commit at 11-23 per
 * second (tests/bench/bench-repl: 23 -> 1,252 commits/s serially, 43 ->
 * 2,281 from 8 threads with it). repmgr has no option for it, so the
 * process's TCP sockets to or from a site's port are found in /proc/self/fd
 * and set; called whenever a connection is made (DB_EVENT_REP_CONNECT_ESTD),
 * after repmgr_start and on each publish of the sites file. */
static void
nodelay(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		struct sockaddr_storage la, ra;
		socklen_t ll = sizeof(la), rl = sizeof(ra);
		int fd = atoi(e->d_name), type = 0, one = 1;
		socklen_t tl = sizeof(type);
		if (fd <= 2 || fd == dirfd(d) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
		    type != SOCK_STREAM || getsockname(fd, (struct sockaddr *)&la, &ll) != 0 ||
		    getpeername(fd, (struct sockaddr *)&ra, &rl) != 0)
			continue;
		if (is_site_port(sock_port(&la)) || is_site_port(sock_port(&ra)))
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	closedir(d);
}

static void
event_cb(DB_ENV *env, u_int32_t ev, void *info)
{
	(void)env;
	(void)info;
	switch (ev) {
	case DB_EVENT_REP_CONNECT_ESTD:
		nodelay();
		break;
	case DB_EVENT_REP_PERM_FAILED:
		perm_failed = 1;
		break;
	case DB_EVENT_REP_MASTER:
		sg_info(MOD, "this site is now the master");
		break;
	case DB_EVENT_REP_CLIENT:
		sg_info(MOD, "this site is now a replica");
		break;
	case DB_EVENT_REP_NEWMASTER:
		sg_info(MOD, "a new master was elected (site %d)", info != NULL ? *(int *)info : -1);
		break;
	case DB_EVENT_REP_STARTUPDONE:
		sg_info(MOD, "replica caught up with the master");
		break;
	case DB_EVENT_REP_ELECTION_FAILED:
		sg_warn(MOD, "election failed (not enough sites); retrying");
		break;
	case DB_EVENT_REP_DUPMASTER:
		sg_warn(MOD, "two masters met; this one steps down");
		break;
	case DB_EVENT_REP_JOIN_FAILURE:
		sg_error(MOD, "cannot join the replication group (no helper or master reachable)");
		break;
	default:
		break;
	}
}

static int
add_site(DB_ENV *env, const char *addr, int local, int creator)
{
	DB_SITE *site;
	char *host;
	unsigned port;
	int rc;

	if (sg_repl_addr_parse(addr, &host, &port) != 0) {
		sg_error(MOD, "'%s' is not HOST:PORT", addr);
		return EINVAL;
	}
	rc = env->repmgr_site(env, host, port, &site, 0);
	free(host);
	if (rc == 0 && nsite_ports < SG_REPL_MAX_SITES + 1 && !is_site_port(port))
		site_ports[nsite_ports++] = port;
	if (rc != 0) {
		sg_error(MOD, "site %s: %s", addr, db_strerror(rc));
		return rc;
	}
	if (local) {
		rc = site->set_config(site, DB_LOCAL_SITE, 1);
		if (rc == 0 && creator)
			rc = site->set_config(site, DB_GROUP_CREATOR, 1);
	} else {
		rc = site->set_config(site, DB_BOOTSTRAP_HELPER, 1);
	}
	site->close(site);
	if (rc != 0)
		sg_error(MOD, "site %s: %s", addr, db_strerror(rc));
	return rc;
}

int
sg_repl_env_setup(DB_ENV *env, const struct sg_repl_conf *rc)
{
	int r;

	if ((r = env->set_event_notify(env, event_cb)) != 0 || (r = add_site(env, rc->local, 1, rc->creator)) != 0)
		return r;
	for (size_t i = 0; i < rc->npeers; i++)
		if ((r = add_site(env, rc->peers[i], 0, 0)) != 0)
			return r;
	if ((r = env->repmgr_set_ack_policy(env, ack_codes[rc->ack >= 0 && rc->ack <= 4 ? rc->ack : 0])) != 0 ||
	    (r = env->rep_set_priority(env, (u_int32_t)rc->priority)) != 0)
		goto fail;
	if (getenv("SG_REPL_VERBOSE") != NULL) {   /* Berkeley DB's own trace, to the log */
		env->set_verbose(env, DB_VERB_REP_ELECT, 1);
		env->set_verbose(env, DB_VERB_REPMGR_MISC, 1);
		env->set_verbose(env, DB_VERB_REPMGR_CONNFAIL, 1);
	}
	env->rep_set_timeout(env, DB_REP_ACK_TIMEOUT, 2000000);
	env->rep_set_timeout(env, DB_REP_HEARTBEAT_SEND, 1000000);
	env->rep_set_timeout(env, DB_REP_HEARTBEAT_MONITOR, 3000000);
	env->rep_set_timeout(env, DB_REP_ELECTION_TIMEOUT, 2000000);
	env->rep_set_timeout(env, DB_REP_ELECTION_RETRY, 1000000);
	env->rep_set_timeout(env, DB_REP_CONNECTION_RETRY, 1000000);
	return 0;
fail:
	sg_error(MOD, "replication settings: %s", db_strerror(r));
	return r;
}

static int
wait_secs(void)
{
	const char *s = getenv("SG_REPL_START_WAIT");
	int v = s != NULL ? atoi(s) : -1;

	return v >= 0 ? v : SG_REPL_START_WAIT;
}

int
sg_repl_env_start(DB_ENV *env, int start)
{
	struct timespec pause = { 0, 50 * 1000000 };
	time_t until = time(NULL) + wait_secs();
	DB_REP_STAT *rs;
	int rc;

	/* Another process (the CLI) starts repmgr as a subordinate of the
	 * site's daemon, so its commits are sent and acknowledged like the
	 * daemon's; with no daemon running the site it stays out (it would
	 * become the site, and could be elected, for the length of a
	 * command) and can only read. */
	if (!start && !sg_repl_running(env))
		return 0;
	/* A site joining the group for the first time is refused
	 * (DB_REP_UNAVAIL) while the master adds another one: try again. */
	while ((rc = env->repmgr_start(env, 3, DB_REP_ELECTION)) == DB_REP_UNAVAIL && time(NULL) < until)
		nanosleep(&pause, NULL);
	if (rc != 0 && rc != DB_REP_IGNORE) {
		sg_error(MOD, "repmgr_start: %s", db_strerror(rc));
		return rc;
	}
	nodelay();
	if (!start)   /* a subordinate: the site's state is its daemon's business */
		return 0;
	for (;;) {
		int ready = 0;
		if (env->rep_stat(env, &rs, 0) == 0) {
			ready = rs->st_status == DB_REP_MASTER || (rs->st_status == DB_REP_CLIENT && rs->st_startup_complete);
			free(rs);
		}
		if (ready)
			return 0;
		if (time(NULL) >= until) {
			sg_warn(MOD, "no master after %d s: going on with the local copy (read only)", wait_secs());
			return 0;
		}
		nanosleep(&pause, NULL);
	}
}

int
sg_repl_is_master(DB_ENV *env)
{
	DB_REP_STAT *rs;
	int m = 0;

	if (env->rep_stat(env, &rs, 0) == 0) {
		m = rs->st_status == DB_REP_MASTER;
		free(rs);
	}
	return m;
}

static void
site_addr(DB_ENV *env, int eid, char *buf, size_t len)
{
	DB_SITE *s;
	const char *host;
	u_int port;

	snprintf(buf, len, "unknown");
	if (eid < 0 || env->repmgr_site_by_eid(env, eid, &s) != 0)
		return;
	if (s->get_address(s, &host, &port) == 0)
		snprintf(buf, len, "%s:%u", host, port);
	s->close(s);
}

void
sg_repl_master(DB_ENV *env, char *buf, size_t len)
{
	DB_REP_STAT *rs;

	snprintf(buf, len, "unknown");
	if (env->rep_stat(env, &rs, 0) != 0)
		return;
	if (rs->st_status == DB_REP_MASTER) {
		DB_SITE *s;
		const char *host;
		u_int port;
		if (env->repmgr_local_site(env, &s) == 0) {
			if (s->get_address(s, &host, &port) == 0)
				snprintf(buf, len, "%s:%u", host, port);
			s->close(s);
		}
	} else if (rs->st_master != DB_EID_INVALID) {
		site_addr(env, (int)rs->st_master, buf, len);
	}
	free(rs);
}

int
sg_repl_running(DB_ENV *env)
{
	DB_REP_STAT *rs;
	int r = 0;

	if (env->rep_stat(env, &rs, 0) == 0) {
		r = rs->st_status == DB_REP_MASTER || rs->st_status == DB_REP_CLIENT;
		free(rs);
	}
	return r;
}

/* Beside the environment's home, not in it: every file in the home is
 * taken for a database by a master initialising a new replica. */
static char *
sites_path(const char *home)
{
	const char *slash = strrchr(home, '/');

	if (slash == NULL)
		return sg_xasprintf("%s", SG_REPL_SITES_FILE);
	return sg_xasprintf("%.*s/%s", (int)(slash - home), home, SG_REPL_SITES_FILE);
}

int
sg_repl_sites_write(DB_ENV *env, const char *home)
{
	DB_REPMGR_SITE *list = NULL;
	u_int n = 0;
	char *path, *tmp;
	FILE *fp;
	int rc = 0;

	nodelay();   /* a connection the event missed (made before the handler ran) */
	if (env->repmgr_site_list(env, &n, &list) != 0)
		return -1;
	path = sites_path(home);
	tmp = sg_xasprintf("%s.tmp", path);
	if ((fp = fopen(tmp, "we")) == NULL) {
		rc = -1;
	} else {
		char master[300];
		sg_repl_master(env, master, sizeof(master));
		/* role and master first: a health check (keepalived) reads
		 * them without opening the environment */
		fprintf(fp, "role %s\nmaster %s\n", sg_repl_is_master(env) ? "master" : "replica", master);
		for (u_int i = 0; i < n; i++)
			fprintf(fp, "%s:%u %s\n", list[i].host, list[i].port,
				list[i].status == DB_REPMGR_CONNECTED ? "connected" : "disconnected");
		if (fclose(fp) != 0 || rename(tmp, path) != 0)
			rc = -1;
	}
	if (rc != 0)
		unlink(tmp);
	free(list);
	free(tmp);
	free(path);
	return rc;
}

/* The daemon's view of its connections, when fresh. */
static void
sites_read(const char *home, struct sg_repl_status *out)
{
	char *path = sites_path(home), line[400], addr[300], state[32];
	struct stat sb;
	FILE *fp;

	if (stat(path, &sb) == 0 && time(NULL) - sb.st_mtime <= 5 && (fp = fopen(path, "re")) != NULL) {
		out->sites_known = 1;
		while (fgets(line, sizeof(line), fp) != NULL)
			if (sscanf(line, "%299s %31s", addr, state) == 2)
				for (size_t i = 0; i < out->nsites_list; i++)
					if (strcmp(out->sites[i].addr, addr) == 0)
						out->sites[i].connected = strcmp(state, "connected") == 0;
		fclose(fp);
	}
	free(path);
}

int
sg_repl_env_status(DB_ENV *env, int started, const char *home, struct sg_repl_status *out)
{
	DB_REP_STAT *rs;
	DB_REPMGR_SITE *list = NULL;
	DB_SITE *s;
	const char *host;
	u_int port, n = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = env->rep_stat(env, &rs, 0)) != 0)
		return rc;
	out->role = rs->st_status == DB_REP_MASTER ? SG_REPL_MASTER :
		    rs->st_status == DB_REP_CLIENT ? SG_REPL_REPLICA : SG_REPL_UNKNOWN;
	out->startup_complete = rs->st_startup_complete != 0 || rs->st_status == DB_REP_MASTER;
	out->lsn_file = rs->st_next_lsn.file;
	out->lsn_offset = rs->st_next_lsn.offset;
	out->gen = rs->st_gen;
	out->elections = rs->st_elections;
	/* A replica knows it lacks log when a later record arrived before
	 * the one it expects (waiting_lsn); within one log file that gap is
	 * bytes, across files it is at least the rest of the current one. */
	if (out->role == SG_REPL_REPLICA && rs->st_waiting_lsn.file != 0) {
		if (rs->st_waiting_lsn.file == rs->st_next_lsn.file && rs->st_waiting_lsn.offset > rs->st_next_lsn.offset)
			out->lag_bytes = rs->st_waiting_lsn.offset - rs->st_next_lsn.offset;
		else if (rs->st_waiting_lsn.file > rs->st_next_lsn.file)
			out->lag_bytes = (uint64_t)(rs->st_waiting_lsn.file - rs->st_next_lsn.file) * 10485760u;
	}
	free(rs);
	sg_repl_master(env, out->master, sizeof(out->master));
	if (strcmp(out->master, "unknown") == 0)
		out->master[0] = '\0';
	if (env->repmgr_local_site(env, &s) == 0) {
		if (s->get_address(s, &host, &port) == 0)
			snprintf(out->local, sizeof(out->local), "%s:%u", host, port);
		s->close(s);
	}
	if (env->repmgr_site_list(env, &n, &list) == 0) {
		for (u_int i = 0; i < n && out->nsites_list < SG_REPL_MAX_SITES; i++) {
			struct sg_repl_site *o = &out->sites[out->nsites_list++];
			snprintf(o->addr, sizeof(o->addr), "%s:%u", list[i].host, list[i].port);
			o->connected = list[i].status == DB_REPMGR_CONNECTED;
			o->master = strcmp(o->addr, out->master) == 0;
		}
		free(list);
	}
	out->nsites = (unsigned)out->nsites_list + 1;
	out->sites_known = started;
	if (!started)
		sites_read(home, out);
	return 0;
}

void
sg_repl_commit_arm(void)
{
	perm_failed = 0;
}

int
sg_repl_commit_unacked(void)
{
	return perm_failed;
}
