/*
 * repl — the store as one site of a Berkeley DB replication group,
 * managed by Berkeley DB's own replication manager (repmgr: TCP between
 * the sites, elections, acknowledgements). Nothing here replicates or
 * votes by itself; it configures repmgr, starts it, and reads its state.
 *
 * Off unless a configuration names the local site: sg_store_open() opens
 * exactly as without this file (no DB_INIT_REP).
 *
 * With it (sg_store_open_repl):
 * - every process opening the environment adds DB_INIT_REP and calls
 *   repmgr_start(DB_REP_ELECTION): the first one (the daemon) owns the
 *   listening socket, a later one (the CLI) is a subordinate process of
 *   the same site. The site list, priority, acknowledgement policy and
 *   timeouts are set before the environment opens.
 * - the daemon's open waits (at most SG_REPL_START_WAIT seconds, an environment
 *   variable; default 30) until this site is master or has finished its
 *   first synchronisation with a master (st_startup_complete), so the
 *   tables it opens are the group's; after the wait it goes on with the
 *   local copy (reads work, writes are refused).
 * - only the master writes: a write on a replica fails inside Berkeley DB
 *   and the store logs "this node is a replica; the master is HOST:PORT".
 *   sg_repl_is_master() answers the question up front.
 * - a commit returns only after the acknowledgement policy is met (or the
 *   ack timeout, 2 s, passes). When it was not met Berkeley DB raises
 *   DB_EVENT_REP_PERM_FAILED in the committing thread; the store then
 *   reports the commit as failed (SG_STORE_ERROR) although it is in the
 *   local log: the milter answers tempfail, the MTA retries, and the
 *   Message-ID index makes the retry a duplicate. So every 250 the MTA
 *   got is on enough sites to survive the loss of the master.
 */
#ifndef SG_REPL_H
#define SG_REPL_H

#include <stddef.h>
#include <stdint.h>

/* Acknowledgement policies (DB_REPMGR_ACKS_*), in the order of the
 * configuration's words "quorum|all|one|none|all_available". */
enum sg_repl_ack {
	SG_REPL_ACK_QUORUM = 0,
	SG_REPL_ACK_ALL,
	SG_REPL_ACK_ONE,
	SG_REPL_ACK_NONE,
	SG_REPL_ACK_ALL_AVAILABLE,
};

/* What the caller configured; strings are borrowed for the call. */
struct sg_repl_conf {
	const char *local;              /* "HOST:PORT"; NULL or "": replication off */
	const char *const *peers;       /* "HOST:PORT" each */
	size_t npeers;
	long priority;                  /* election priority; 0: never master */
	int ack;                        /* enum sg_repl_ack */
	int creator;                    /* makes the group on its first start */
	/* 1: this process runs the site (repmgr_start: the daemon); 0: it
	 * only uses the environment (the CLI: no connections, no votes, and
	 * changes only while the site's daemon runs it as master). */
	int start;
};

#define SG_REPL_MAX_SITES 16

enum sg_repl_role { SG_REPL_OFF = 0, SG_REPL_MASTER, SG_REPL_REPLICA, SG_REPL_UNKNOWN };

/* One site of the group as this site sees it. */
struct sg_repl_site {
	char addr[280];                 /* HOST:PORT */
	int connected;
	int master;
};

struct sg_repl_status {
	int role;                       /* enum sg_repl_role */
	char local[280];
	char master[280];               /* "" while no master is known */
	int startup_complete;
	unsigned nsites;                /* group size repmgr counts */
	uint32_t lsn_file, lsn_offset;  /* master: next LSN it writes; replica: next it expects */
	uint64_t lag_bytes;             /* replica: bytes of log it knows it lacks (0: none known) */
	uint32_t gen;                   /* replication generation (one per elected master) */
	uint64_t elections;
	size_t nsites_list;
	struct sg_repl_site sites[SG_REPL_MAX_SITES];
	/* connections are the daemon's: seen from another process they are
	 * read from the file it rewrites every second (SG_REPL_SITES_FILE);
	 * 0 when that file is older than 5 s (no daemon) */
	int sites_known;
};

/* In state_dir (beside the environment's home), rewritten by the daemon. */
#define SG_REPL_SITES_FILE "repl.sites"

/* A deep copy (NULL for NULL or an empty local: off); free clears. */
struct sg_repl_conf *sg_repl_conf_dup(const struct sg_repl_conf *rc);
void sg_repl_conf_free(struct sg_repl_conf **rc);

/* "HOST:PORT" → host (caller frees) and port; -1 when malformed. */
int sg_repl_addr_parse(const char *s, char **host, unsigned *port);

/* The configuration's ack word as enum sg_repl_ack, -1 if unknown. */
int sg_repl_ack_parse(const char *word);
const char *sg_repl_ack_name(int ack);

/* Used by store.c only (the DB_ENV is the store's). */
struct __db_env;
/* Before DB_ENV->open: sites, policy, priority, timeouts, events. 0 or a
 * Berkeley DB code (logged). */
int sg_repl_env_setup(struct __db_env *env, const struct sg_repl_conf *rc);
/* After DB_ENV->open: repmgr_start, then wait as above. 0 or a code. */
int sg_repl_env_start(struct __db_env *env, int start);
/* 1 when this site is the master now. */
int sg_repl_is_master(struct __db_env *env);
/* The master's HOST:PORT into buf ("unknown" when none). */
void sg_repl_master(struct __db_env *env, char *buf, size_t len);
/* started: this process called repmgr_start; home: the environment's
 * directory (for the sites file when it did not). */
int sg_repl_env_status(struct __db_env *env, int started, const char *home, struct sg_repl_status *out);
/* Write SG_REPL_SITES_FILE beside home (atomically): "role master" or
 * "role replica", "master HOST:PORT" (or "unknown"), then a line
 * "HOST:PORT connected|disconnected" per site of repmgr_site_list. */
int sg_repl_sites_write(struct __db_env *env, const char *home);
/* 1 when replication runs on this site (master or replica), 0 when no
 * process has started it since the environment was opened. */
int sg_repl_running(struct __db_env *env);
/* Around a commit in the calling thread: clear, then 1 when the
 * acknowledgement policy was not met for it. */
void sg_repl_commit_arm(void);
int sg_repl_commit_unacked(void);

#endif
