/*
 * store — see store.h.
 *
 * What happens when things go wrong, and why the code below is shaped so:
 *
 * - A process dies inside the environment (kill -9, SIGBUS, the OOM
 *   killer). The next process to open the environment finds the dead
 *   one's slot in __db.register (DB_REGISTER), panics the environment
 *   (every live member sees DB_RUNRECOVERY) and recovers it into fresh
 *   regions. Not failchk in place (DB_FAILCHK): that works in the old
 *   regions, and a latch (a pthread rwlock: no failchk check) the dead
 *   process held there is waited for forever; with Debian's pthread
 *   mutexes it could not repair a member that held locks anyway (their
 *   mutexes, locked, cannot be destroyed), so it fell back to recovery.
 *   The crash suite (tests/slow) hung that way after a kill -9.
 * - failchk (run after open, for dead threads of live processes) asks
 *   is_alive() about every process and thread it finds, and waits for a
 *   mutex whose holder is "alive" by spinning on it: one wrong "alive" is
 *   a process at 100% CPU forever. So is_alive() answers from
 *   facts, not from kill(pid, 0): our own threads from a table of live
 *   ones (thread ids are ours too: pthread_self() values are reused as
 *   soon as a thread exits), other processes from /proc: a zombie is
 *   dead, and so is a pid that does not map this environment's primary
 *   region (the pid of a dead member, reused by an unrelated process).
 * - The environment panics under a live process: every call returns
 *   DB_RUNRECOVERY. The store notices (SG_STORE_ERROR for that call),
 *   and the next call waits for the calls in flight to end (st->gate),
 *   closes every handle and opens again, recovery included, so the
 *   daemon heals without a restart.
 * - The disk fills. Region files are mmap'd and grow by extending the
 *   file: touching a page that has no block behind it is SIGBUS, not an
 *   error. Every region file gets all its blocks at open (fallocate of
 *   the whole mapping), so a full disk is ENOSPC from a write: the
 *   transaction fails, nothing half-written is committed, and the next
 *   one succeeds once space returns.
 * - Opening cannot finish (a process stopped while holding the registry
 *   or a mutex): after SG_STORE_OPEN_TIMEOUT seconds the process exits
 *   with a message naming `supportgate db recover`, rather than hang.
 */
#include "config.h"
#include "store/store.h"

#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/rawpack.h"
#include "store/repl.h"

#define MOD "store"
#define CHECKPOINT_EVERY 500
/* Longest wait for a lock (microseconds); bounds every store call. */
#define SG_LOCK_TIMEOUT (5 * 1000000)
/* Longest wait for the calls in flight before a reopen (seconds), and the
 * least time between two reopen attempts. */
#define SG_REOPEN_WAIT 10
#define SG_REOPEN_EVERY 2
/* Default bound on sg_store_open (seconds); SG_STORE_OPEN_TIMEOUT in the
 * environment overrides it (tests). Recovery of a store checkpointed
 * every CHECKPOINT_EVERY commits takes well under a second. */
#define SG_OPEN_TIMEOUT 120

#define ENV_FLAGS (DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL | DB_THREAD)
/* Normal open: recovery only if a member died (see the top of this file
 * for why not DB_FAILCHK). */
#define ENV_JOIN (ENV_FLAGS | DB_REGISTER | DB_RECOVER)

static const char *const db_files[SG_TB_COUNT] = {
	[SG_TB_TICKETS] = SG_FILE_TICKETS, [SG_TB_MESSAGES] = SG_FILE_MESSAGES, [SG_TB_RAW] = SG_FILE_RAW,
	[SG_TB_MSGID] = SG_FILE_MSGID, [SG_TB_CUSTOMERS] = SG_FILE_CUSTOMERS, [SG_TB_EVENTS] = SG_FILE_EVENTS,
	[SG_TB_META] = SG_FILE_META, [SG_TB_JOBS] = SG_FILE_JOBS, [SG_TB_DUE] = SG_FILE_DUE,
	[SG_TB_JOBTICKET] = SG_FILE_JOBTICKET, [SG_TB_ACTIVE] = SG_FILE_ACTIVE,
};

struct sg_store {
	DB_ENV *env;
	DB *db[SG_TB_COUNT];
	DB_SEQUENCE *seq;
	DB_SEQUENCE *jobseq;
	char *home;
	unsigned flags;             /* sg_store_open's */
	unsigned commits;
	/* Held for reading by every call and by every transaction from
	 * begin to commit/abort; for writing by a reopen, which so never
	 * pulls a handle from under a caller. Prefers writers: a reopen is
	 * not starved by a stream of new calls. */
	pthread_rwlock_t gate;
	pthread_mutex_t reopen_lock;
	int broken;                 /* DB_RUNRECOVERY seen (atomic) */
	/* A sequence get or a commit failed (atomic). A DB_SEQUENCE handle
	 * whose update failed to reach the database (ENOSPC) hands out the
	 * same value again: two tickets under one id. Its handles are then
	 * reopened (reading the record afresh) before the next id is given. */
	int seq_stale;
	time_t reopen_at;           /* last attempt; under reopen_lock */
	/* The checkpoint of every CHECKPOINT_EVERY commits runs in a thread
	 * of its own (ckpt_start), one at a time; close waits for it. */
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_done;
	int ckpt_running;           /* under ckpt_lock */
	/* Our mappings of the region files (reserve_regions): closing a
	 * panicked environment leaves them mapped, and their blocks (the
	 * files are deleted by recovery) in use until unmapped. */
	struct { uintptr_t addr; size_t len; } region[8];
	int nregion;
	/* Replication (repl.h): NULL when off. A replica's table handles
	 * die when replication rolls its log back or re-initialises it
	 * (DB_REP_HANDLE_DEAD): they are reopened on the next call. */
	struct sg_repl_conf *repl;
	int handles_dead;           /* atomic */
	/* raw.db holds packed values (rawpack.h): known at open (meta.db
	 * says so, or open made it so in a new store); while 0 each raw put
	 * and get asks meta.db in its own transaction (raw_packed). */
	int raw_packed;             /* atomic */
};

struct sg_txn {
	struct sg_store *st;
	DB_TXN *t;
};

/* ------------------------------------------------------------------ */
/* Thread identity (DB_ENV->set_thread_id, is_alive)                   */

static pthread_once_t tid_once = PTHREAD_ONCE_INIT;
static pthread_key_t tid_key;
static pthread_mutex_t tid_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long tid_next;
static unsigned long *tid_live;   /* ascending: ids only grow */
static size_t tid_n, tid_cap;

static void
tid_gone(void *p)
{
	unsigned long id = (unsigned long)(uintptr_t)p;

	pthread_mutex_lock(&tid_lock);
	for (size_t i = 0; i < tid_n; i++)
		if (tid_live[i] == id) {
			memmove(tid_live + i, tid_live + i + 1, (tid_n - i - 1) * sizeof(*tid_live));
			tid_n--;
			break;
		}
	pthread_mutex_unlock(&tid_lock);
}

/* Berkeley DB asks for the pid on every mutex and lock it takes: a
 * syscall each time (glibc keeps no copy), 4% of the daemon under load.
 * Kept here, forgotten in a forked child. */
static pid_t pid_cached;

static void
pid_forget(void)
{
	pid_cached = 0;
}

static void
tid_init(void)
{
	pthread_atfork(NULL, NULL, pid_forget);
	/* Ids unique across processes too: a dead member's pid reused by
	 * a later member must not make the dead one's threads look alive. */
	tid_next = ((unsigned long)time(NULL) << 24) | 1;
	pthread_key_create(&tid_key, tid_gone);
}

/* This thread's id, given on first use and dropped when the thread exits. */
static unsigned long
tid_self(void)
{
	void *p;
	unsigned long id;

	pthread_once(&tid_once, tid_init);
	if ((p = pthread_getspecific(tid_key)) != NULL)
		return (unsigned long)(uintptr_t)p;
	pthread_mutex_lock(&tid_lock);
	id = tid_next++;
	if (tid_n == tid_cap) {
		tid_cap = tid_cap ? tid_cap * 2 : 64;
		tid_live = sg_xreallocarray(tid_live, tid_cap, sizeof(*tid_live));
	}
	tid_live[tid_n++] = id;
	pthread_mutex_unlock(&tid_lock);
	pthread_setspecific(tid_key, (void *)(uintptr_t)id);
	return id;
}

static int
tid_alive(unsigned long id)
{
	size_t lo = 0, hi;
	int found = 0;

	pthread_once(&tid_once, tid_init);
	pthread_mutex_lock(&tid_lock);
	hi = tid_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tid_live[mid] == id) {
			found = 1;
			break;
		}
		if (tid_live[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	pthread_mutex_unlock(&tid_lock);
	return found;
}

static void
thread_id(DB_ENV *env, pid_t *pid, db_threadid_t *tid)
{
	(void)env;
	if (pid != NULL) {
		pid_t p = __atomic_load_n(&pid_cached, __ATOMIC_RELAXED);
		if (p == 0) {
			pthread_once(&tid_once, tid_init);   /* the fork handler first */
			p = getpid();
			__atomic_store_n(&pid_cached, p, __ATOMIC_RELAXED);
		}
		*pid = p;
	}
	if (tid != NULL)
		*tid = (db_threadid_t)tid_self();
}

/* Does process pid (not us) have this environment's primary region
 * mapped? No /proc to tell: assume it does (kill said it exists). */
static int
maps_region(DB_ENV *env, pid_t pid)
{
	const char *home = NULL;
	char path[64], *region, *line = NULL;
	size_t cap = 0;
	struct stat sb;
	FILE *fp;
	int found = 0;

	if (env->get_home(env, &home) != 0 || home == NULL)
		return 1;
	region = sg_xasprintf("%s/__db.001", home);
	if (stat(region, &sb) != 0) {
		free(region);
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
	if ((fp = fopen(path, "re")) == NULL) {
		free(region);
		return 1;
	}
	char *real = realpath(region, NULL);
	while (!found && getline(&line, &cap, fp) > 0) {
		unsigned long ino;
		int off = 0;
		if (sscanf(line, "%*s %*s %*s %*s %lu %n", &ino, &off) < 1)
			continue;
		line[strcspn(line, "\n")] = '\0';
		/* the inode, or the path where a file system shows another
		 * inode in maps than stat gives (overlayfs) */
		if ((ino != 0 && ino == (unsigned long)sb.st_ino) ||
		    (off > 0 && real != NULL && strcmp(line + off, real) == 0))
			found = 1;
	}
	free(line);
	free(real);
	fclose(fp);
	free(region);
	return found;
}

/* A process is alive for the environment when it exists, is not a
 * zombie and maps the environment. */
static int
proc_alive(DB_ENV *env, pid_t pid)
{
	char path[64], buf[512];
	FILE *fp;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "re")) != NULL) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
		buf[n] = '\0';
		/* "pid (comm) S ...": comm may hold ')' itself */
		char *p = strrchr(buf, ')');
		if (p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
			return 0;
	} else if (errno == ENOENT) {
		return 0;
	}
	return maps_region(env, pid);
}

static int
is_alive(DB_ENV *env, pid_t pid, db_threadid_t tid, u_int32_t flags)
{
	if (pid == getpid())
		return (flags & DB_MUTEX_PROCESS_ONLY) != 0 || tid_alive((unsigned long)tid);
	/* another process's threads cannot be seen from here: the process */
	return proc_alive(env, pid);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/* sg_store_interrupt(): set from a signal handler, read by every call. */
static volatile sig_atomic_t interrupted;

void
sg_store_interrupt(void)
{
	interrupted = 1;
}

int
sg_store_interrupted(void)
{
	return interrupted != 0;
}

/* In a walk's loop: stop at the next record once interrupted. */
#define WALK_STOP_IF_INTERRUPTED(ret) \
	if (interrupted) {            \
		(ret) = SG_STORE_ERROR; \
		break;                \
	}

static void
mark_broken(struct sg_store *st)
{
	if (st != NULL && !__atomic_exchange_n(&st->broken, 1, __ATOMIC_SEQ_CST))
		sg_error(MOD, "%s: the environment needs recovery: reopening on the next call", st->home);
}

static int
map_err(struct sg_store *st, int rc, const char *what)
{
	switch (rc) {
	case 0:
		return 0;
	case DB_NOTFOUND:
		return SG_STORE_NOTFOUND;
	case DB_LOCK_DEADLOCK:
		return SG_STORE_DEADLOCK;
	case DB_LOCK_NOTGRANTED:
		/* Waited SG_LOCK_TIMEOUT for a lock another process holds: do
		 * not retry (a milter callback must not stall), report. */
		sg_error(MOD, "%s: lock wait timed out", what);
		return SG_STORE_ERROR;
	case DB_RUNRECOVERY:
		sg_error(MOD, "%s: %s", what, db_strerror(rc));
		mark_broken(st);
		return SG_STORE_ERROR;
	case DB_REP_HANDLE_DEAD:
		sg_warn(MOD, "%s: replication replaced the tables under this handle; reopening them", what);
		if (st != NULL)
			__atomic_store_n(&st->handles_dead, 1, __ATOMIC_SEQ_CST);
		return SG_STORE_ERROR;
	default:
		if (st != NULL && st->repl != NULL && st->env != NULL && !sg_repl_is_master(st->env)) {
			char m[300];
			sg_repl_master(st->env, m, sizeof(m));
			sg_error(MOD, "%s: refused: this node is a replica; the master is %s (%s)", what, m,
				 db_strerror(rc));
			return SG_STORE_ERROR;
		}
		sg_error(MOD, "%s: %s", what, db_strerror(rc));
		return SG_STORE_ERROR;
	}
}

static DB_TXN *
tx(struct sg_txn *txn)
{
	return txn != NULL ? txn->t : NULL;
}

static u_int32_t
rmw(struct sg_txn *txn)
{
	return txn != NULL ? DB_RMW : 0;
}

static void
db_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
	(void)env;
	(void)pfx;
	sg_error(MOD, "berkeley db: %s", msg);
}

/* Berkeley DB's informational messages (failchk's "Freeing locks ...")
 * go to the log, never to a CLI's stdout. */
static void
db_msgcall(const DB_ENV *env, const char *msg)
{
	(void)env;
	sg_info(MOD, "berkeley db: %s", msg);
}

static int
mkdir_p(const char *path)
{
	char *d = sg_xstrdup(path);
	int rc = 0;

	for (char *p = d + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(d, 0750) != 0 && errno != EEXIST)
				rc = -1;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	free(d);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Opening                                                             */

/* A DB_ENV on home opened with open_flags; the Berkeley DB code, 0 on
 * success (*out set). */
#define SG_STORE_CACHE_MB 32

static int
env_create(const char *home, unsigned flags, const struct sg_repl_conf *repl, u_int32_t open_flags, DB_ENV **out)
{
	DB_ENV *env;
	int rc;

	*out = NULL;
	if ((rc = db_env_create(&env, 0)) != 0)
		return rc;
	env->set_errcall(env, db_errcall);
	env->set_msgcall(env, db_msgcall);
	/* The cache is most of the daemon's memory: its region is mapped and
	 * paged in whole at creation (DB_REGION_INIT), so RSS = cache + ~20 MB.
	 * 32 MB holds every table's internal pages at 1M tickets when the
	 * raw messages give way first (set_cache_priority), so a cold lookup
	 * reads one leaf page, from the OS page cache (tests/bench/
	 * bench-scale); with 64 MB the daemon passed 100 MB RSS. A DB_CONFIG
	 * in the home (set_cachesize) overrides it for a newly created
	 * environment. */
	env->set_cachesize(env, 0, SG_STORE_CACHE_MB * 1024 * 1024, 1);
	env->set_lk_detect(env, DB_LOCK_DEFAULT);
	env->set_timeout(env, SG_LOCK_TIMEOUT, DB_SET_LOCK_TIMEOUT);
	env->set_thread_count(env, 256);
	env->set_thread_id(env, thread_id);
	env->set_isalive(env, is_alive);
	env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1);
	env->set_lk_max_locks(env, 20000);
	env->set_lk_max_objects(env, 20000);
	/* Regions are written out when created: a full disk then is an
	 * error from open, not a fault later (reserve_regions does the rest). */
	env->set_flags(env, DB_REGION_INIT, 1);
	if (flags & SG_STORE_NOSYNC)
		env->set_flags(env, DB_TXN_WRITE_NOSYNC, 1);
	if (repl != NULL) {   /* repl.h: off unless configured */
		if ((rc = sg_repl_env_setup(env, repl)) != 0) {
			env->close(env, 0);
			return rc;
		}
		open_flags |= DB_INIT_REP;
	}
	if ((rc = env->open(env, home, open_flags, 0640)) != 0) {
		env->close(env, 0);
		return rc;
	}
	if (repl != NULL && (rc = sg_repl_env_start(env, repl->start)) != 0) {
		env->close(env, 0);
		return rc;
	}
	*out = env;
	return 0;
}

/* Commits are flushed unless the caller asked otherwise: a DB_CONFIG in
 * the home (set_flags DB_TXN_NOSYNC) must not turn durability off behind
 * db_sync = true. */
static void
enforce_sync(struct sg_store *st)
{
	u_int32_t f = 0;

	if (st->flags & SG_STORE_NOSYNC)
		return;
	if (st->env->get_flags(st->env, &f) == 0 && (f & (DB_TXN_NOSYNC | DB_TXN_WRITE_NOSYNC)) != 0) {
		sg_warn(MOD, "%s: DB_CONFIG turns synchronous commits off; turning them back on (db_sync = true)",
			st->home);
		st->env->set_flags(st->env, DB_TXN_NOSYNC | DB_TXN_WRITE_NOSYNC, 0);
	}
}

int
sg_store_durable(struct sg_store *st)
{
	u_int32_t f = 0;

	if (st == NULL || st->env == NULL || st->env->get_flags(st->env, &f) != 0)
		return 0;
	return (f & (DB_TXN_NOSYNC | DB_TXN_WRITE_NOSYNC)) == 0;
}

/* Give every region file all the blocks its mapping may touch (see the
 * top of this file). Sizes come from our own mappings of the files. A
 * file system without fallocate keeps the old behaviour, with a warning. */
static int
reserve_regions(struct sg_store *st)
{
	static int warned;
	FILE *fp = fopen("/proc/self/maps", "re");
	char *line = NULL, *home = realpath(st->home, NULL);
	size_t cap = 0, hl;
	int rc = 0;

	if (fp == NULL || home == NULL) {
		if (fp != NULL)
			fclose(fp);
		free(home);
		return 0;
	}
	hl = strlen(home);
	while (rc == 0 && getline(&line, &cap, fp) > 0) {
		unsigned long lo, hi;
		int off = 0, fd;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 || off == 0)
			continue;
		char *path = line + off;
		path[strcspn(path, "\n")] = '\0';
		if (strncmp(path, home, hl) != 0 || strncmp(path + hl, "/__db.", 6) != 0)
			continue;
		if (st->nregion < (int)(sizeof(st->region) / sizeof(st->region[0]))) {
			st->region[st->nregion].addr = lo;
			st->region[st->nregion++].len = hi - lo;
		}
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0)
			continue;
		if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)(hi - lo)) != 0) {
			if (errno == ENOSPC || errno == EDQUOT) {
				sg_error(MOD, "%s: no space for the environment's regions (%lu MB): free space in %s",
					 path, (hi - lo) >> 20, st->home);
				rc = -1;
			} else if (!warned) {
				warned = 1;
				sg_warn(MOD, "%s: cannot reserve region space (%s): a full disk may crash this process",
					path, strerror(errno));
			}
		}
		close(fd);
	}
	free(line);
	free(home);
	fclose(fp);
	return rc;
}

static void dbt_set(DBT *d, const void *p, size_t n);

/* active.db (schema.h): the key of a ticket record. */
static uint64_t
active_time(const void *rec, size_t len)
{
	struct sg_ticket t;
	uint64_t k = UINT64_MAX;

	if (sg_rec_ticket_decode(rec, len, &t) != 0)
		return k;       /* corrupt: always visited (and skipped there) */
	if (t.status == SG_ST_RESOLVED || t.status == SG_ST_CLOSED) {
		int64_t m = t.created;
		if (t.resolved_at > m)
			m = t.resolved_at;
		if (t.closed_at > m)
			m = t.closed_at;
		k = m > 0 ? (uint64_t)m : 0;
	}
	sg_ticket_clear(&t);
	return k;
}

/* The associate callback: Berkeley DB calls it for every write of a
 * ticket (the old record's key is removed, the new one's put). */
static int
active_key(DB *sec, const DBT *pkey, const DBT *pdata, DBT *result)
{
	unsigned char *k = malloc(8);

	(void)sec;
	(void)pkey;
	if (k == NULL)
		return ENOMEM;
	sg_key_u64(k, active_time(pdata->data, pdata->size));
	memset(result, 0, sizeof(*result));
	result->data = k;
	result->size = 8;
	result->flags = DB_DBT_APPMALLOC;
	return 0;
}

#define ACTIVE_BATCH 1000

/* The mark "built" in active.db: key 0, ticket 0 (no ticket has id 0,
 * and a walk from a time > 0 never reaches key 0). */
static int
active_mark(struct sg_store *st, DB_TXN *t, int put)
{
	DB *ac = st->db[SG_TB_ACTIVE];
	unsigned char zero[8] = { 0 }, dz[8] = { 0 };
	DBT k, v;

	dbt_set(&k, zero, 8);
	dbt_set(&v, dz, 8);
	if (put) {
		int rc = ac->put(ac, t, &k, &v, DB_NODUPDATA);
		return rc == DB_KEYEXIST ? 0 : rc;
	}
	v.ulen = 8;
	v.flags = DB_DBT_USERMEM;
	return ac->get(ac, t, &k, &v, DB_GET_BOTH);
}

/* A store written before active.db (no mark in it): fill it from
 * tickets.db, ACTIVE_BATCH tickets a transaction (lock table), before it
 * is associated; then mark it built. A new store is marked at once (its
 * empty index is complete). Another process building at the same time
 * puts the same pairs (DB_KEYEXIST: ignored). */
static int
build_active(struct sg_store *st)
{
	DB *tk = st->db[SG_TB_TICKETS], *ac = st->db[SG_TB_ACTIVE];
	unsigned char from[8] = { 0 }, buf[8];
	uint64_t n = 0;
	int rc, more = 1;

	if ((rc = active_mark(st, NULL, 0)) == 0)
		return 0;
	if (rc != DB_NOTFOUND)
		return map_err(st, rc, "reading " SG_FILE_ACTIVE);
	while (more) {
		DB_TXN *t;
		DBC *c;
		DBT key, val, ak, av;
		int i = 0;
		if ((rc = st->env->txn_begin(st->env, NULL, &t, 0)) != 0)
			return map_err(st, rc, "txn_begin");
		if ((rc = tk->cursor(tk, t, &c, 0)) != 0) {
			t->abort(t);
			return map_err(st, rc, "cursor");
		}
		dbt_set(&key, from, 8);
		key.ulen = 8;
		key.flags = DB_DBT_USERMEM;
		memset(&val, 0, sizeof(val));
		rc = c->get(c, &key, &val, DB_SET_RANGE);
		for (; rc == 0 && i < ACTIVE_BATCH; i++, n++) {
			sg_key_u64(buf, active_time(val.data, val.size));
			dbt_set(&ak, buf, 8);
			dbt_set(&av, from, 8);
			rc = ac->put(ac, t, &ak, &av, DB_NODUPDATA);
			if (rc == DB_KEYEXIST)
				rc = 0;
			if (rc == 0)
				rc = c->get(c, &key, &val, DB_NEXT);
		}
		c->close(c);
		more = rc == 0;
		if (rc == DB_NOTFOUND)
			rc = 0;
		if (rc == 0 && !more)
			rc = active_mark(st, t, 1);
		if (rc == 0)
			rc = t->commit(t, 0);
		else
			t->abort(t);
		if (rc != 0)
			return map_err(st, rc, "building " SG_FILE_ACTIVE);
	}
	if (n > 0)
		sg_info(MOD, "%s: built %s for %llu tickets", st->home, SG_FILE_ACTIVE, (unsigned long long)n);
	return 0;
}

/* Which pages the cache gives up first. Every mail is looked up by its
 * Message-ID, References, token (the ticket) and sender (customers), so
 * those B-trees are what must stay cached; a raw message is written once
 * and read only to show or export it, yet its pages (a 4 KB overflow page
 * per ~1 KB message) are most of what passes through the cache. Without
 * this, at 1M tickets the raw pages written by ingest pushed even the
 * indexes' internal pages out, and a cold lookup read 2-3 pages instead of
 * one leaf (tests/bench/bench-scale). */
static void
set_cache_priority(DB *db, enum sg_table t)
{
	DB_CACHE_PRIORITY p;
	DB_MPOOLFILE *mpf = db->get_mpf(db);

	switch (t) {
	case SG_TB_RAW:
		p = DB_PRIORITY_VERY_LOW;
		break;
	case SG_TB_EVENTS:
	case SG_TB_MESSAGES:
		p = DB_PRIORITY_LOW;
		break;
	case SG_TB_MSGID:
	case SG_TB_TICKETS:
	case SG_TB_CUSTOMERS:
		p = DB_PRIORITY_HIGH;
		break;
	default:
		p = DB_PRIORITY_DEFAULT;
		break;
	}
	if (mpf != NULL)
		(void)mpf->set_priority(mpf, p);
}

/* Open (creating if missing) every table: a store from an older release
 * that lacks one gets it, empty, in the same environment. */
static int
open_tables(struct sg_store *st)
{
	/* a replica cannot create files: it has the master's (repl.h) */
	u_int32_t create = st->repl == NULL || sg_repl_is_master(st->env) ? DB_CREATE : 0;
	int rc;

	for (int i = 0; i < SG_TB_COUNT; i++) {
		if ((rc = db_create(&st->db[i], st->env, 0)) != 0)
			return map_err(st, rc, "db_create");
		if (i == SG_TB_CUSTOMERS || i == SG_TB_ACTIVE)
			st->db[i]->set_flags(st->db[i], DB_DUP | DB_DUPSORT);
		rc = st->db[i]->open(st->db[i], NULL, db_files[i], NULL, DB_BTREE,
				     create | DB_AUTO_COMMIT | DB_THREAD, 0640);
		if (rc != 0)
			return map_err(st, rc, db_files[i]);
		set_cache_priority(st->db[i], (enum sg_table)i);
	}
	if (build_active(st) != 0)
		return SG_STORE_ERROR;
	rc = st->db[SG_TB_TICKETS]->associate(st->db[SG_TB_TICKETS], NULL, st->db[SG_TB_ACTIVE], active_key, 0);
	return map_err(st, rc, "associate " SG_FILE_ACTIVE);
}

/* A DB_SEQUENCE in meta.db under name, starting at 1. */
static int
open_sequence(struct sg_store *st, const char *name, DB_SEQUENCE **out)
{
	DBT key;
	int rc;

	if ((rc = db_sequence_create(out, st->db[SG_TB_META], 0)) != 0)
		return map_err(st, rc, "db_sequence_create");
	(*out)->initial_value(*out, 1);
	memset(&key, 0, sizeof(key));
	key.data = (void *)name;
	key.size = (u_int32_t)strlen(name);
	rc = (*out)->open(*out, NULL, &key,
			  (st->repl == NULL || sg_repl_is_master(st->env) ? DB_CREATE : 0) | DB_THREAD | DB_AUTO_COMMIT);
	return map_err(st, rc, "sequence open");
}

/* Recovery regardless of DB_REGISTER, for an environment that panicked
 * under live processes (DB_REGISTER finds nobody dead, so would only
 * attach and fail). One process at a time: flock on a file of its own
 * (never fcntl on __db.register: closing any descriptor of that file
 * would drop this process's registry lock). */
static int
force_recovery(const char *home, unsigned flags)
{
	char *lk = sg_xasprintf("%s/sg-recover.lock", home);
	int fd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC, 0640), rc;
	DB_ENV *env;

	free(lk);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	sg_warn(MOD, "%s: the environment panicked: running recovery", home);
	rc = env_create(home, flags, NULL, ENV_FLAGS | DB_RECOVER, &env);
	if (rc == 0)
		env->close(env, 0);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* After closing a panicked environment: unmap what Berkeley DB left
 * mapped (it does not touch the regions of a panicked environment), each
 * range only if it still maps a region file, so never memory that took
 * its place. */
static void
unmap_regions(struct sg_store *st)
{
	FILE *fp = fopen("/proc/self/maps", "re");
	char *line = NULL;
	size_t cap = 0;

	if (fp == NULL)
		return;
	while (getline(&line, &cap, fp) > 0) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || strstr(line, "/__db.") == NULL)
			continue;
		for (int i = 0; i < st->nregion; i++)
			if (st->region[i].addr == lo && st->region[i].len == hi - lo)
				munmap((void *)lo, hi - lo);
	}
	free(line);
	fclose(fp);
	st->nregion = 0;
}

/* Close every handle. Of a panicked environment Berkeley DB frees
 * nothing (every call, close included, returns DB_RUNRECOVERY at its
 * entry): about 90 KB stay allocated per panic, a few per process life. */
static void
close_tables(struct sg_store *st)
{
	if (st->seq != NULL)
		st->seq->close(st->seq, 0);
	if (st->jobseq != NULL)
		st->jobseq->close(st->jobseq, 0);
	st->seq = st->jobseq = NULL;
	for (int i = SG_TB_COUNT - 1; i >= 0; i--)
		if (st->db[i] != NULL) {
			st->db[i]->close(st->db[i], DB_NOSYNC);
			st->db[i] = NULL;
		}
}

static void
close_handles(struct sg_store *st)
{
	/* Every commit is already in the synced log, and the cache lives in
	 * the shared region files: a close writes no pages (DB_NOSYNC) and
	 * checkpoints only when 1 MB of log or a minute has passed since the
	 * last one, so a short-lived process (`supportgate ingest` from a
	 * pipe) costs one log sync, not a sync of every file; the daemon
	 * checkpoints as it goes (CHECKPOINT_EVERY), and
	 * sg_store_checkpoint() forces one. */
	close_tables(st);
	if (st->env != NULL) {
		if (!st->broken)
			st->env->txn_checkpoint(st->env, 1024, 1, 0);
		st->env->close(st->env, 0);
		st->env = NULL;
		if (st->broken)
			unmap_regions(st);
	}
	st->nregion = 0;
}

/* The environment, regions, tables and sequences of st->home: 0 or
 * SG_STORE_ERROR (logged, naming what to do). */
static int raw_format_open(struct sg_store *st);

static int
open_handles(struct sg_store *st)
{
	int rc = env_create(st->home, st->flags, st->repl, ENV_JOIN, &st->env);

	if (rc == DB_RUNRECOVERY && (rc = force_recovery(st->home, st->flags)) == 0)
		rc = env_create(st->home, st->flags, st->repl, ENV_JOIN, &st->env);
	if (rc == DB_RUNRECOVERY) {
		sg_error(MOD, "%s: the environment cannot be recovered automatically: stop supportgated, "
			 "then run `supportgate db recover`", st->home);
		return SG_STORE_ERROR;
	}
	if (rc != 0)
		return map_err(NULL, rc, st->home);
	if (reserve_regions(st) != 0)
		return SG_STORE_ERROR;
	enforce_sync(st);
	sg_debug(MOD, "%s: open; commits %s", st->home,
		 sg_store_durable(st) ? "are flushed to disk" : "are written, not flushed (db_sync = false)");
	/* A process that died inside the environment leaves locks and
	 * transactions behind: failchk releases or aborts them (open
	 * recovered from dead processes; this is for dead threads of live
	 * ones). */
	if ((rc = st->env->failchk(st->env, 0)) != 0)
		return map_err(st, rc, "failchk");
	if (open_tables(st) != 0 || open_sequence(st, SG_META_SEQ_TICKET, &st->seq) != 0 ||
	    open_sequence(st, SG_META_SEQ_JOB, &st->jobseq) != 0 || raw_format_open(st) != 0)
		return SG_STORE_ERROR;
	return 0;
}

/* sg_store_open never hangs: a watchdog ends the process when opening
 * takes longer than the bound (a process stopped while holding the
 * registry or a region mutex: nothing here can break that wait). */
struct watchdog {
	pthread_mutex_t m;
	pthread_cond_t c;
	int done;
	int secs;
	const char *home;
};

static void *
watchdog_main(void *arg)
{
	struct watchdog *w = arg;
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += w->secs;
	pthread_mutex_lock(&w->m);
	while (!w->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&w->c, &w->m, &ts);
	if (!w->done) {
		sg_error(MOD, "%s: the store did not open within %d s: a process is stuck inside the environment; "
			 "stop it and supportgated, then run `supportgate db recover`", w->home, w->secs);
		_exit(1);
	}
	pthread_mutex_unlock(&w->m);
	return NULL;
}

static int
open_timeout(void)
{
	const char *s = getenv("SG_STORE_OPEN_TIMEOUT");
	int v = s != NULL ? atoi(s) : 0;

	return v > 0 ? v : SG_OPEN_TIMEOUT;
}

int
sg_store_open(const char *state_dir, unsigned flags, struct sg_store **out)
{
	return sg_store_open_repl(state_dir, flags, NULL, out);
}

int
sg_store_open_repl(const char *state_dir, unsigned flags, const struct sg_repl_conf *repl, struct sg_store **out)
{
	struct sg_store *st = sg_xcalloc(1, sizeof(*st));
	struct watchdog w = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, open_timeout(), NULL };
	pthread_rwlockattr_t ra;
	pthread_t wt;
	int rc, watching;

	*out = NULL;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->gate, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&st->reopen_lock, NULL);
	pthread_mutex_init(&st->ckpt_lock, NULL);
	pthread_cond_init(&st->ckpt_done, NULL);
	st->flags = flags;
	st->repl = sg_repl_conf_dup(repl);
	st->home = sg_xasprintf("%s/db", state_dir);
	if (mkdir_p(st->home) != 0) {
		sg_error(MOD, "cannot create %s: %s", st->home, strerror(errno));
		sg_store_close(&st);
		return SG_STORE_ERROR;
	}
	w.home = st->home;
	watching = pthread_create(&wt, NULL, watchdog_main, &w) == 0;
	rc = open_handles(st);
	if (watching) {
		pthread_mutex_lock(&w.m);
		w.done = 1;
		pthread_cond_signal(&w.c);
		pthread_mutex_unlock(&w.m);
		pthread_join(wt, NULL);
	}
	if (rc != 0) {
		sg_store_close(&st);
		return SG_STORE_ERROR;
	}
	*out = st;
	return 0;
}

void
sg_store_close(struct sg_store **stp)
{
	struct sg_store *st = *stp;

	if (st == NULL)
		return;
	*stp = NULL;
	pthread_mutex_lock(&st->ckpt_lock);
	while (st->ckpt_running)
		pthread_cond_wait(&st->ckpt_done, &st->ckpt_lock);
	pthread_mutex_unlock(&st->ckpt_lock);
	close_handles(st);
	pthread_rwlock_destroy(&st->gate);
	pthread_mutex_destroy(&st->reopen_lock);
	pthread_mutex_destroy(&st->ckpt_lock);
	pthread_cond_destroy(&st->ckpt_done);
	sg_repl_conf_free(&st->repl);
	free(st->home);
	free(st);
}

/* ------------------------------------------------------------------ */
/* The gate: every call inside it; a reopen alone                      */

/* Calls made by a thread already inside (a read outside its own
 * transaction, with the transaction open) do not lock again: with a
 * writer waiting, a second read lock would wait for the writer, which
 * waits for the first. Per thread, per store (tests open several). */
#define GATE_SLOTS 8
static __thread struct gate_hold {
	struct sg_store *st;
	unsigned depth;
} gate_held[GATE_SLOTS];

static struct gate_hold *
gate_slot(struct sg_store *st, int take)
{
	struct gate_hold *free_slot = NULL;

	for (int i = 0; i < GATE_SLOTS; i++) {
		if (gate_held[i].st == st && gate_held[i].depth > 0)
			return &gate_held[i];
		if (free_slot == NULL && gate_held[i].depth == 0)
			free_slot = &gate_held[i];
	}
	return take ? free_slot : NULL;
}

/* Close the sequence handles and open them again: their values are
 * read from the database (st->seq_stale). */
static int
reopen_sequences(struct sg_store *st)
{
	if (st->seq != NULL)
		st->seq->close(st->seq, 0);
	if (st->jobseq != NULL)
		st->jobseq->close(st->jobseq, 0);
	st->seq = st->jobseq = NULL;
	if (open_sequence(st, SG_META_SEQ_TICKET, &st->seq) != 0 ||
	    open_sequence(st, SG_META_SEQ_JOB, &st->jobseq) != 0)
		return SG_STORE_ERROR;
	sg_info(MOD, "%s: sequences reread after a failed write", st->home);
	return 0;
}

/* Close the tables and sequences and open them again (a replica's
 * handles after DB_REP_HANDLE_DEAD), in the same environment. */
static int
reopen_tables(struct sg_store *st)
{
	close_tables(st);
	if (open_tables(st) != 0 || open_sequence(st, SG_META_SEQ_TICKET, &st->seq) != 0 ||
	    open_sequence(st, SG_META_SEQ_JOB, &st->jobseq) != 0 || raw_format_open(st) != 0)
		return SG_STORE_ERROR;
	return 0;
}

/* A call of ours that waits, in a panicked environment, for a lock a
 * dead process held never returns: lock waits end only when a deadlock
 * detector run finds them expired (SG_LOCK_TIMEOUT), and in a panicked
 * environment every call is refused, the detector's too. Such a wait
 * happens when a process dies holding a lock a daemon thread waits for
 * and another process recovers the environment before the wait expired
 * (t-failchk). The regions are ours alone now (the recovering process
 * made new ones), so run the detector once in them, panic ignored
 * (DB_NOPANIC, set only for this call): it ends the expired waits with
 * DB_LOCK_NOTGRANTED and their calls return. Nothing of ours calls into
 * a broken environment meanwhile (gate_in, txn commit and abort check
 * st->broken), so nothing writes its log. The number of waits ended. */
static int
unstick(struct sg_store *st)
{
	int aborted = 0, rc;

	if (st->env == NULL)
		return 0;
	st->env->set_flags(st->env, DB_NOPANIC, 1);
	rc = st->env->lock_detect(st->env, 0, DB_LOCK_EXPIRE, &aborted);
	st->env->set_flags(st->env, DB_NOPANIC, 0);
	if (rc != 0)
		sg_error(MOD, "%s: ending the lock waits stuck in the old environment: %s", st->home, db_strerror(rc));
	else
		sg_warn(MOD, "%s: %d lock wait%s stuck in the old environment ended", st->home, aborted,
			aborted == 1 ? "" : "s");
	return rc == 0 ? aborted : 0;
}

/* Repair what a failure left behind, alone in the gate (no call or
 * transaction in flight): a broken environment is closed and opened
 * again (recovery included), stale sequences are reread. Waits at most
 * SG_REOPEN_WAIT for the calls in flight (a thread stuck in the old
 * environment: give up, try again later) and reopens an environment at
 * most every SG_REOPEN_EVERY seconds. */
static void
repair(struct sg_store *st)
{
	struct timespec ts;
	time_t now = time(NULL);
	int broken;

	pthread_mutex_lock(&st->reopen_lock);
	broken = __atomic_load_n(&st->broken, __ATOMIC_SEQ_CST);
	if ((!broken && !__atomic_load_n(&st->seq_stale, __ATOMIC_SEQ_CST) &&
	     !__atomic_load_n(&st->handles_dead, __ATOMIC_SEQ_CST)) ||
	    (broken && now - st->reopen_at < SG_REOPEN_EVERY)) {
		pthread_mutex_unlock(&st->reopen_lock);
		return;
	}
	if (broken)
		st->reopen_at = now;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SG_REOPEN_WAIT;
	if (pthread_rwlock_timedwrlock(&st->gate, &ts) != 0 &&
	    (!broken || unstick(st) == 0 || (ts.tv_sec += SG_REOPEN_WAIT, pthread_rwlock_timedwrlock(&st->gate, &ts) != 0))) {
		sg_error(MOD, "%s: a call is stuck in the store; not repaired (if this lasts, restart supportgated)",
			 st->home);
		pthread_mutex_unlock(&st->reopen_lock);
		return;
	}
	if (broken) {
		close_handles(st);
		if (open_handles(st) == 0) {
			__atomic_store_n(&st->broken, 0, __ATOMIC_SEQ_CST);
			__atomic_store_n(&st->seq_stale, 0, __ATOMIC_SEQ_CST);
			sg_warn(MOD, "%s: environment reopened after recovery", st->home);
		} else {
			close_handles(st);
		}
	} else if (__atomic_load_n(&st->handles_dead, __ATOMIC_SEQ_CST)) {
		if (reopen_tables(st) == 0) {
			__atomic_store_n(&st->handles_dead, 0, __ATOMIC_SEQ_CST);
			__atomic_store_n(&st->seq_stale, 0, __ATOMIC_SEQ_CST);
			sg_info(MOD, "%s: tables reopened after a replication rollback", st->home);
		}
	} else if (reopen_sequences(st) == 0) {
		__atomic_store_n(&st->seq_stale, 0, __ATOMIC_SEQ_CST);
	}
	pthread_rwlock_unlock(&st->gate);
	pthread_mutex_unlock(&st->reopen_lock);
}

/* Enter the gate: 0, or SG_STORE_ERROR when the environment is broken
 * and could not be reopened (the caller does not exit). */
static int
gate_in(struct sg_store *st)
{
	struct gate_hold *h = gate_slot(st, 0);

	if (h != NULL) {
		if (__atomic_load_n(&st->broken, __ATOMIC_SEQ_CST))
			return SG_STORE_ERROR;   /* no call into a broken environment */
		h->depth++;
		return 0;
	}
	if (interrupted)
		return SG_STORE_ERROR;   /* sg_store_interrupt(): no new call */
	if (__atomic_load_n(&st->broken, __ATOMIC_SEQ_CST) || __atomic_load_n(&st->seq_stale, __ATOMIC_SEQ_CST) ||
	    __atomic_load_n(&st->handles_dead, __ATOMIC_SEQ_CST))
		repair(st);
	pthread_rwlock_rdlock(&st->gate);
	if (st->env == NULL || __atomic_load_n(&st->broken, __ATOMIC_SEQ_CST)) {
		pthread_rwlock_unlock(&st->gate);
		return SG_STORE_ERROR;
	}
	if ((h = gate_slot(st, 1)) != NULL) {   /* no slot: hold untracked (never seen) */
		h->st = st;
		h->depth = 1;
	}
	return 0;
}

static void
gate_out(struct sg_store *st)
{
	struct gate_hold *h = gate_slot(st, 0);

	if (h == NULL) {
		pthread_rwlock_unlock(&st->gate);
		return;
	}
	if (--h->depth == 0) {
		h->st = NULL;
		pthread_rwlock_unlock(&st->gate);
	}
}

/* ------------------------------------------------------------------ */
/* Transactions (each one inside the gate from begin to end)           */

/* The periodic checkpoint, off the committing thread: inline it held
 * that message's reply for the whole flush of dirty pages (tens of MB
 * with 64 KB mail), well past any latency target. Inside the gate like
 * every call, so a reopen waits for it. */
static void *
ckpt_main(void *arg)
{
	struct sg_store *st = arg;

	if (gate_in(st) == 0) {
		st->env->txn_checkpoint(st->env, 0, 0, 0);
		gate_out(st);
	}
	pthread_mutex_lock(&st->ckpt_lock);
	st->ckpt_running = 0;
	pthread_cond_broadcast(&st->ckpt_done);
	pthread_mutex_unlock(&st->ckpt_lock);
	return NULL;
}

/* Start one unless one is running; without a thread, checkpoint here. */
static void
ckpt_start(struct sg_store *st)
{
	pthread_attr_t a;
	pthread_t t;
	int started = 0;

	pthread_mutex_lock(&st->ckpt_lock);
	if (st->ckpt_running) {
		pthread_mutex_unlock(&st->ckpt_lock);
		return;
	}
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	st->ckpt_running = started = pthread_create(&t, &a, ckpt_main, st) == 0;
	pthread_attr_destroy(&a);
	pthread_mutex_unlock(&st->ckpt_lock);
	if (!started)
		st->env->txn_checkpoint(st->env, 0, 0, 0);
}

int
sg_store_txn_begin(struct sg_store *st, struct sg_txn **out)
{
	struct sg_txn *txn;
	int rc;

	*out = NULL;
	if (gate_in(st) != 0)
		return SG_STORE_ERROR;
	if (st->repl != NULL && !sg_repl_running(st->env)) {
		/* no daemon runs this site: a change here would be this
		 * node's alone, and undone when it rejoins the group */
		sg_error(MOD, "%s: refused: replication is not running on this node (is supportgated running?)", st->home);
		gate_out(st);
		return SG_STORE_ERROR;
	}
	txn = sg_xcalloc(1, sizeof(*txn));
	if ((rc = st->env->txn_begin(st->env, NULL, &txn->t, 0)) != 0) {
		free(txn);
		rc = map_err(st, rc, "txn_begin");
		gate_out(st);
		return rc;
	}
	txn->st = st;
	*out = txn;
	return 0;
}

int
sg_store_txn_waited(struct sg_txn *txn)
{
	if (txn == NULL || txn->t == NULL)
		return SG_STORE_ERROR;
	return map_err(txn->st, txn->t->set_priority(txn->t, SG_TXN_PRIORITY_WAITED), "txn priority");
}

static int
commit_flags(struct sg_txn **txnp, int nowait)
{
	struct sg_txn *txn = *txnp;
	struct sg_store *st;
	u_int32_t flags = 0;
	int rc;

	if (txn == NULL)
		return SG_STORE_ERROR;
	*txnp = NULL;
	st = txn->st;
	if (__atomic_load_n(&st->broken, __ATOMIC_SEQ_CST)) {
		/* panicked: the handle is abandoned with the regions (unstick) */
		free(txn);
		gate_out(st);
		return SG_STORE_ERROR;
	}
	if (st->repl != NULL)
		sg_repl_commit_arm();
	else if (nowait && !(st->flags & SG_STORE_NOSYNC))
		flags = DB_TXN_NOSYNC;   /* sg_store_flush() makes it durable */
	rc = txn->t->commit(txn->t, flags);
	if (rc != 0)
		__atomic_store_n(&st->seq_stale, 1, __ATOMIC_SEQ_CST);
	if (rc == 0 && st->repl != NULL && sg_repl_commit_unacked()) {
		/* in the local log, not on enough sites: not durable as the
		 * policy defines it, so not a success (repl.h) */
		sg_error(MOD, "commit not acknowledged by the replicas in time (ack policy %s)",
			 sg_repl_ack_name(st->repl->ack));
		free(txn);
		gate_out(st);
		return SG_STORE_ERROR;
	}
	if (rc == 0 && __atomic_add_fetch(&st->commits, 1, __ATOMIC_RELAXED) % CHECKPOINT_EVERY == 0)
		ckpt_start(st);
	free(txn);
	rc = map_err(st, rc, "commit");
	gate_out(st);
	return rc;
}

int
sg_store_txn_commit(struct sg_txn **txnp)
{
	return commit_flags(txnp, 0);
}

int
sg_store_txn_commit_nowait(struct sg_txn **txnp)
{
	return commit_flags(txnp, 1);
}

void
sg_store_txn_abort(struct sg_txn **txnp)
{
	struct sg_txn *txn = *txnp;
	struct sg_store *st;

	if (txn == NULL)
		return;
	*txnp = NULL;
	st = txn->st;
	if (!__atomic_load_n(&st->broken, __ATOMIC_SEQ_CST))
		txn->t->abort(txn->t);   /* broken: abandoned with the regions */
	free(txn);
	gate_out(st);
}

/* The public calls below are gate_in(); the call; gate_out(). */
#define GATED(st, call)                         \
	do {                                    \
		int rc_;                        \
		if (gate_in(st) != 0)           \
			return SG_STORE_ERROR;  \
		rc_ = (call);                   \
		gate_out(st);                   \
		return rc_;                     \
	} while (0)

static int
flush_in(struct sg_store *st)
{
	return map_err(st, st->env->log_flush(st->env, NULL), "log flush");
}

int
sg_store_flush(struct sg_store *st)
{
	if (st->flags & SG_STORE_NOSYNC)
		return 0;
	GATED(st, flush_in(st));
}

static void
dbt_set(DBT *d, const void *p, size_t n)
{
	memset(d, 0, sizeof(*d));
	d->data = (void *)p;
	d->size = (u_int32_t)n;
}

static void
dbt_malloc(DBT *d)
{
	memset(d, 0, sizeof(*d));
	d->flags = DB_DBT_MALLOC;
}

/* The next value of a sequence (see seq_stale). */
static int
seq_next(struct sg_store *st, struct sg_txn *txn, DB_SEQUENCE *seq, const char *what, uint64_t *v)
{
	db_seq_t got;
	int rc;

	if (__atomic_load_n(&st->seq_stale, __ATOMIC_SEQ_CST)) {
		sg_error(MOD, "%s: not taken: the sequence is being reread after a failed write", what);
		return SG_STORE_ERROR;
	}
	/* Outside a transaction the value is taken by an auto-commit that
	 * need not reach the disk on its own: the log is written in order, so
	 * the synced commit that uses the value makes it durable too, and a
	 * value whose user never committed is only a gap. */
	if ((rc = seq->get(seq, tx(txn), 1, &got, txn == NULL ? DB_TXN_NOSYNC : 0)) != 0) {
		if (rc != DB_LOCK_DEADLOCK && rc != DB_LOCK_NOTGRANTED)
			__atomic_store_n(&st->seq_stale, 1, __ATOMIC_SEQ_CST);
		return map_err(st, rc, what);
	}
	*v = (uint64_t)got;
	return 0;
}

static int
ticket_new_id_in(struct sg_store *st, struct sg_txn *txn, uint64_t *id)
{
	return seq_next(st, txn, st->seq, "sequence get", id);
}

int
sg_store_ticket_new_id(struct sg_store *st, struct sg_txn *txn, uint64_t *id)
{
	GATED(st, ticket_new_id_in(st, txn, id));
}

static int
ticket_get_in(struct sg_store *st, struct sg_txn *txn, uint64_t id, struct sg_ticket *out)
{
	unsigned char k[8];
	DBT key, val;
	int rc;

	sg_key_u64(k, id);
	dbt_set(&key, k, 8);
	dbt_malloc(&val);
	rc = st->db[SG_TB_TICKETS]->get(st->db[SG_TB_TICKETS], tx(txn), &key, &val, rmw(txn));
	if (rc != 0)
		return map_err(st, rc, "ticket get");
	rc = sg_rec_ticket_decode(val.data, val.size, out);
	free(val.data);
	if (rc != 0) {
		sg_log_ctx(SG_LOG_ERROR, MOD, NULL, id, "corrupt ticket record");
		return SG_STORE_ERROR;
	}
	return 0;
}

int
sg_store_ticket_get(struct sg_store *st, struct sg_txn *txn, uint64_t id, struct sg_ticket *out)
{
	GATED(st, ticket_get_in(st, txn, id, out));
}

static int
ticket_put_in(struct sg_store *st, struct sg_txn *txn, const struct sg_ticket *t)
{
	unsigned char k[8];
	struct sg_buf b = { 0 };
	DBT key, val;
	int rc;

	sg_key_u64(k, t->id);
	sg_rec_ticket_encode(&b, t);
	dbt_set(&key, k, 8);
	dbt_set(&val, b.data, b.len);
	rc = st->db[SG_TB_TICKETS]->put(st->db[SG_TB_TICKETS], tx(txn), &key, &val, 0);
	free(b.data);
	return map_err(st, rc, "ticket put");
}

int
sg_store_ticket_put(struct sg_store *st, struct sg_txn *txn, const struct sg_ticket *t)
{
	GATED(st, ticket_put_in(st, txn, t));
}

static int
ticket_foreach_in(struct sg_store *st, int (*cb)(const struct sg_ticket *, void *), void *arg)
{
	DBC *c;
	DBT key, val;
	int rc, ret = 0;

	if ((rc = st->db[SG_TB_TICKETS]->cursor(st->db[SG_TB_TICKETS], NULL, &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	while ((rc = c->get(c, &key, &val, DB_NEXT)) == 0) {
		struct sg_ticket t;
		WALK_STOP_IF_INTERRUPTED(ret);
		if (sg_rec_ticket_decode(val.data, val.size, &t) != 0) {
			sg_error(MOD, "corrupt ticket record skipped");
			continue;
		}
		ret = cb(&t, arg);
		sg_ticket_clear(&t);
		if (ret != 0)
			break;
	}
	c->close(c);
	if (ret != 0)
		return ret;
	return rc == DB_NOTFOUND ? 0 : map_err(st, rc, "ticket walk");
}

int
sg_store_ticket_foreach(struct sg_store *st, int (*cb)(const struct sg_ticket *, void *), void *arg)
{
	GATED(st, ticket_foreach_in(st, cb, arg));
}

/* A set of ticket ids (open addressing; 0 is never a ticket id). */
struct idset {
	uint64_t *v;
	size_t n, cap;      /* cap: a power of two, > 2 n */
};

/* 1 when id was added, 0 when it was there. */
static int
idset_add(struct idset *s, uint64_t id)
{
	if (2 * (s->n + 1) > s->cap) {
		struct idset o = *s;
		s->cap = o.cap ? o.cap * 2 : 1024;
		s->v = sg_xcalloc(s->cap, sizeof(*s->v));
		s->n = 0;
		for (size_t i = 0; i < o.cap; i++)
			if (o.v[i] != 0)
				idset_add(s, o.v[i]);
		free(o.v);
	}
	size_t i = (size_t)(id * 0x9E3779B97F4A7C15ULL >> 20) & (s->cap - 1);
	while (s->v[i] != 0) {
		if (s->v[i] == id)
			return 0;
		i = (i + 1) & (s->cap - 1);
	}
	s->v[i] = id;
	s->n++;
	return 1;
}

/* The creation time of the first ticket (the oldest, but for imported
 * ones), INT64_MIN when there is none or it cannot be read. */
static int64_t
first_created(struct sg_store *st)
{
	DBC *c;
	DBT key, val;
	int64_t t = INT64_MIN;

	if (st->db[SG_TB_TICKETS]->cursor(st->db[SG_TB_TICKETS], NULL, &c, 0) != 0)
		return t;
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	if (c->get(c, &key, &val, DB_FIRST) == 0) {
		struct sg_ticket tk;
		if (sg_rec_ticket_decode(val.data, val.size, &tk) == 0) {
			t = tk.created;
			sg_ticket_clear(&tk);
		}
	}
	c->close(c);
	return t;
}

static int
ticket_since_in(struct sg_store *st, int64_t since, int (*cb)(const struct sg_ticket *, void *), void *arg)
{
	DB *ac = st->db[SG_TB_ACTIVE];
	unsigned char from[8];
	struct idset seen = { 0 };
	DBC *c;
	DBT sk, pk, val;
	int rc, ret = 0;

	if (since <= 0 || since <= first_created(st))
		return ticket_foreach_in(st, cb, arg);   /* every ticket: the plain walk reads in page order */
	if ((rc = ac->cursor(ac, NULL, &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	sg_key_u64(from, (uint64_t)since);
	dbt_set(&sk, from, 8);
	sk.ulen = 8;
	sk.flags = DB_DBT_USERMEM;
	memset(&pk, 0, sizeof(pk));
	memset(&val, 0, sizeof(val));
	for (rc = c->pget(c, &sk, &pk, &val, DB_SET_RANGE); rc == 0; rc = c->pget(c, &sk, &pk, &val, DB_NEXT)) {
		struct sg_ticket t;
		WALK_STOP_IF_INTERRUPTED(ret);
		if (pk.size != 8 || !idset_add(&seen, sg_key_get_u64(pk.data)))
			continue;
		if (sg_rec_ticket_decode(val.data, val.size, &t) != 0) {
			sg_error(MOD, "corrupt ticket record skipped");
			continue;
		}
		ret = cb(&t, arg);
		sg_ticket_clear(&t);
		if (ret != 0)
			break;
	}
	c->close(c);
	free(seen.v);
	if (ret != 0)
		return ret;
	return rc == DB_NOTFOUND ? 0 : map_err(st, rc, "ticket walk (" SG_FILE_ACTIVE ")");
}

int
sg_store_ticket_foreach_since(struct sg_store *st, int64_t since, int (*cb)(const struct sg_ticket *, void *),
			      void *arg)
{
	GATED(st, ticket_since_in(st, since, cb, arg));
}

/* Next per-ticket sequence number in a (ticket,seq)-keyed db: last + 1.
 * Read with DB_RMW inside a transaction so two writers serialise. */
static int
next_seq(struct sg_store *st, int which, struct sg_txn *txn, uint64_t ticket, uint32_t *seq)
{
	unsigned char k[12];
	DBC *c;
	DBT key, val;
	int rc;

	if ((rc = st->db[which]->cursor(st->db[which], tx(txn), &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	sg_key_row(k, ticket + 1, 0);
	memset(&key, 0, sizeof(key));
	key.data = k;
	key.size = 12;
	key.ulen = 12;
	key.flags = DB_DBT_USERMEM;
	memset(&val, 0, sizeof(val));
	val.flags = DB_DBT_PARTIAL;   /* keys only */
	rc = c->get(c, &key, &val, DB_SET_RANGE | rmw(txn));
	if (rc == 0)
		rc = c->get(c, &key, &val, DB_PREV | rmw(txn));
	else if (rc == DB_NOTFOUND)
		rc = c->get(c, &key, &val, DB_LAST | rmw(txn));
	*seq = 1;
	if (rc == 0 && key.size == 12 && sg_key_get_u64(k) == ticket)
		*seq = sg_key_get_u32(k + 8) + 1;
	c->close(c);
	if (rc == DB_NOTFOUND)
		rc = 0;
	return map_err(st, rc, "next seq");
}

static int
msgid_put(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t ticket, uint32_t seq,
	  const unsigned char *digest)
{
	unsigned char ix[SG_MSGID_VAL_LEN + SG_MSGID_DIGEST_LEN];
	DBT key, val;
	int rc;

	ix[0] = SG_REC_VERSION;
	sg_key_row(ix + 1, ticket, seq);
	if (digest != NULL)
		memcpy(ix + SG_MSGID_VAL_LEN, digest, SG_MSGID_DIGEST_LEN);
	dbt_set(&key, msgid, strlen(msgid));
	dbt_set(&val, ix, digest != NULL ? sizeof(ix) : SG_MSGID_VAL_LEN);
	rc = st->db[SG_TB_MSGID]->put(st->db[SG_TB_MSGID], tx(txn), &key, &val, DB_NOOVERWRITE);
	if (rc == DB_KEYEXIST) {
		sg_log_ctx(SG_LOG_ERROR, MOD, NULL, ticket, "Message-ID already indexed");
		return SG_STORE_ERROR;
	}
	return map_err(st, rc, "msgid put");
}

/* ------------------------------------------------------------------ */
/* raw.db: packed values (rawpack.h) in stores that say so             */

static int meta_put_in(struct sg_store *st, struct sg_txn *txn, const char *name, uint64_t v);

/* *packed = 1 when meta.db (as txn sees it) marks raw.db packed. */
static int
raw_flag(struct sg_store *st, struct sg_txn *txn, int *packed)
{
	unsigned char buf[8];
	uint64_t v;
	DBT key, val;
	int rc;

	*packed = 0;
	if (__atomic_load_n(&st->raw_packed, __ATOMIC_ACQUIRE)) {
		*packed = 1;
		return 0;
	}
	/* a read lock, not meta_get_in's write lock: every ingest asks */
	dbt_set(&key, SG_META_RAWFMT, strlen(SG_META_RAWFMT));
	memset(&val, 0, sizeof(val));
	val.data = buf;
	val.ulen = sizeof(buf);
	val.flags = DB_DBT_USERMEM;
	rc = st->db[SG_TB_META]->get(st->db[SG_TB_META], tx(txn), &key, &val, 0);
	if (rc == DB_NOTFOUND)
		return 0;
	if (rc != 0)
		return map_err(st, rc, "meta get " SG_META_RAWFMT);
	v = val.size == 8 ? sg_key_get_u64(buf) : 0;
	if (v != SG_RAWFMT_PACKED) {
		sg_error(MOD, "%s: meta %s is %llu: a later release's format; this one cannot read its messages",
			 st->home, SG_META_RAWFMT, (unsigned long long)v);
		return SG_STORE_ERROR;
	}
	*packed = 1;
	return 0;
}

/* *empty = 1 when raw.db holds no message (as txn sees it). */
static int
raw_empty(struct sg_store *st, struct sg_txn *txn, int *empty)
{
	DB *db = st->db[SG_TB_RAW];
	DBC *c;
	DBT key, val;
	int rc;

	if ((rc = db->cursor(db, tx(txn), &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	val.flags = DB_DBT_PARTIAL;    /* the key is enough */
	key.flags = DB_DBT_PARTIAL;
	rc = c->get(c, &key, &val, DB_FIRST);
	c->close(c);
	*empty = rc == DB_NOTFOUND;
	return rc == 0 || rc == DB_NOTFOUND ? 0 : map_err(st, rc, "raw first");
}

/* Whether a message written in txn is packed: yes in a store marked so;
 * in an unmarked one, yes when raw.db is empty (the mark is put in the
 * same transaction), else no (a store written before packing keeps its
 * kind). SG_STORE_PLAIN_RAW handles write as those stores did. */
static int
raw_packed_write(struct sg_store *st, struct sg_txn *txn, int *packed)
{
	int rc, empty = 0;

	*packed = 0;
	if (st->flags & SG_STORE_PLAIN_RAW)
		return 0;
	if ((rc = raw_flag(st, txn, packed)) != 0 || *packed)
		return rc;
	if ((rc = raw_empty(st, txn, &empty)) != 0 || !empty)
		return rc;
	if ((rc = meta_put_in(st, txn, SG_META_RAWFMT, SG_RAWFMT_PACKED)) != 0)
		return rc;
	*packed = 1;
	return 0;
}

/* At open: a store marked packed is known so for the handle's life; a
 * store with an empty raw.db (a new one) is marked now, when this site
 * may write. Otherwise each raw put and get asks (raw_flag). */
static int
raw_format_open(struct sg_store *st)
{
	struct sg_txn t = { st, NULL };
	int rc, packed = 0;

	__atomic_store_n(&st->raw_packed, 0, __ATOMIC_RELEASE);
	if ((rc = raw_flag(st, NULL, &packed)) != 0)
		return rc;
	if (!packed && !(st->flags & SG_STORE_PLAIN_RAW) && (st->repl == NULL || sg_repl_is_master(st->env))) {
		if ((rc = st->env->txn_begin(st->env, NULL, &t.t, 0)) != 0)
			return map_err(st, rc, "txn_begin");
		rc = raw_packed_write(st, &t, &packed);
		if (rc == 0)
			rc = map_err(st, t.t->commit(t.t, 0), "commit");
		else
			t.t->abort(t.t);
		if (rc != 0)
			return rc;
	}
	if (packed)
		__atomic_store_n(&st->raw_packed, 1, __ATOMIC_RELEASE);
	return 0;
}

/* Put raw[0..len) under key, packed when the store is. */
static int
raw_put(struct sg_store *st, struct sg_txn *txn, DBT *key, const char *raw, size_t len, u_int32_t flags)
{
	struct sg_buf b = { 0 };
	DBT val;
	int rc, packed;

	if ((rc = raw_packed_write(st, txn, &packed)) != 0)
		return rc;
	if (packed && sg_raw_pack(raw, len, &b) != 0) {
		sg_log_ctx(SG_LOG_ERROR, MOD, NULL, key->size >= 8 ? sg_key_get_u64(key->data) : 0,
			   "raw message of %zu bytes not stored: it could not be packed", len);
		return SG_STORE_ERROR;
	}
	dbt_set(&val, packed ? (const void *)b.data : raw, packed ? b.len : len);
	rc = st->db[SG_TB_RAW]->put(st->db[SG_TB_RAW], tx(txn), key, &val, flags);
	free(b.data);
	if (rc == DB_KEYEXIST)
		return SG_STORE_EXISTS;
	return map_err(st, rc, "raw put");
}

/* The message's bytes of value v (malloc'd, NUL-terminated; v is taken:
 * freed or returned). */
static int
raw_value(int packed, uint64_t ticket, void *v, size_t vlen, char **raw, size_t *rawlen)
{
	int rc;

	if (packed) {
		rc = sg_raw_unpack(v, vlen, ticket, raw, rawlen);
		free(v);
		return rc == 0 ? 0 : SG_STORE_ERROR;
	}
	*raw = sg_xrealloc(v, vlen + 1);
	(*raw)[vlen] = '\0';
	*rawlen = vlen;
	return 0;
}

static int
message_add_in(struct sg_store *st, struct sg_txn *txn, struct sg_msgrec *m,
		     const char *raw, size_t rawlen)
{
	unsigned char k[12];
	struct sg_buf b = { 0 };
	DBT key, val;
	int rc;

	if ((rc = next_seq(st, SG_TB_MESSAGES, txn, m->ticket, &m->seq)) != 0)
		return rc;
	sg_key_row(k, m->ticket, m->seq);
	dbt_set(&key, k, 12);
	sg_rec_msg_encode(&b, m);
	dbt_set(&val, b.data, b.len);
	rc = st->db[SG_TB_MESSAGES]->put(st->db[SG_TB_MESSAGES], tx(txn), &key, &val, DB_NOOVERWRITE);
	free(b.data);
	if (rc == DB_KEYEXIST)
		return SG_STORE_DEADLOCK;   /* a concurrent writer took the seq: retry */
	if (rc != 0)
		return map_err(st, rc, "message put");
	if ((rc = raw_put(st, txn, &key, raw, rawlen, 0)) != 0)
		return rc;
	if (m->message_id == NULL || m->message_id[0] == '\0')
		return 0;
	return msgid_put(st, txn, m->message_id, m->ticket, m->seq, m->digest);
}

int
sg_store_message_add(struct sg_store *st, struct sg_txn *txn, struct sg_msgrec *m,
		     const char *raw, size_t rawlen)
{
	GATED(st, message_add_in(st, txn, m, raw, rawlen));
}

static int
msgid_add_in(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t ticket)
{
	return msgid_put(st, txn, msgid, ticket, 0, NULL);
}

int
sg_store_msgid_add(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t ticket)
{
	GATED(st, msgid_add_in(st, txn, msgid, ticket));
}

static int
message_get_in(struct sg_store *st, struct sg_txn *txn, uint64_t ticket, uint32_t seq,
		     struct sg_msgrec *m, char **raw, size_t *rawlen)
{
	unsigned char k[12];
	DBT key, val;
	int rc, packed;

	sg_key_row(k, ticket, seq);
	dbt_set(&key, k, 12);
	dbt_malloc(&val);
	if ((rc = st->db[SG_TB_MESSAGES]->get(st->db[SG_TB_MESSAGES], tx(txn), &key, &val, 0)) != 0)
		return map_err(st, rc, "message get");
	rc = sg_rec_msg_decode(val.data, val.size, m);
	free(val.data);
	if (rc != 0)
		return SG_STORE_ERROR;
	if (raw == NULL)
		return 0;
	if ((rc = raw_flag(st, txn, &packed)) != 0) {
		sg_msgrec_clear(m);
		return rc;
	}
	dbt_malloc(&val);
	if ((rc = st->db[SG_TB_RAW]->get(st->db[SG_TB_RAW], tx(txn), &key, &val, 0)) != 0) {
		sg_msgrec_clear(m);
		return map_err(st, rc, "raw get");
	}
	if ((rc = raw_value(packed, ticket, val.data, val.size, raw, rawlen)) != 0)
		sg_msgrec_clear(m);
	return rc;
}

int
sg_store_message_get(struct sg_store *st, struct sg_txn *txn, uint64_t ticket, uint32_t seq,
		     struct sg_msgrec *m, char **raw, size_t *rawlen)
{
	GATED(st, message_get_in(st, txn, ticket, seq, m, raw, rawlen));
}

/* Walk a (ticket,seq)-keyed db for one ticket. */
static int
walk_rows(struct sg_store *st, int which, struct sg_txn *txn, uint64_t ticket,
	  int (*each)(const void *, size_t, void *), void *arg)
{
	unsigned char k[12];
	DBC *c;
	DBT key, val;
	int rc, ret = 0;
	u_int32_t op = DB_SET_RANGE;

	if ((rc = st->db[which]->cursor(st->db[which], tx(txn), &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	sg_key_row(k, ticket, 0);
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	key.data = k;
	key.size = 12;
	key.ulen = 12;
	key.flags = DB_DBT_USERMEM;
	while ((rc = c->get(c, &key, &val, op)) == 0) {
		op = DB_NEXT;
		WALK_STOP_IF_INTERRUPTED(ret);
		if (key.size != 12 || sg_key_get_u64(k) != ticket)
			break;
		if ((ret = each(val.data, val.size, arg)) != 0)
			break;
	}
	c->close(c);
	if (ret != 0)
		return ret;
	return rc == 0 || rc == DB_NOTFOUND ? 0 : map_err(st, rc, "walk");
}

struct msg_walk {
	int (*cb)(const struct sg_msgrec *, void *);
	void *arg;
};

static int
msg_each(const void *p, size_t n, void *arg)
{
	struct msg_walk *w = arg;
	struct sg_msgrec m;
	int ret;

	if (sg_rec_msg_decode(p, n, &m) != 0)
		return 0;
	ret = w->cb(&m, w->arg);
	sg_msgrec_clear(&m);
	return ret;
}

static int
message_foreach_in(struct sg_store *st, struct sg_txn *txn, uint64_t ticket,
			 int (*cb)(const struct sg_msgrec *, void *), void *arg)
{
	struct msg_walk w = { cb, arg };
	return walk_rows(st, SG_TB_MESSAGES, txn, ticket, msg_each, &w);
}

int
sg_store_message_foreach(struct sg_store *st, struct sg_txn *txn, uint64_t ticket,
			 int (*cb)(const struct sg_msgrec *, void *), void *arg)
{
	GATED(st, message_foreach_in(st, txn, ticket, cb, arg));
}

static int
msgid_digest_in(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t *ticket, uint32_t *seq,
		      unsigned char digest[SG_MSGID_DIGEST_LEN], int *has_digest)
{
	unsigned char ix[SG_MSGID_VAL_LEN + SG_MSGID_DIGEST_LEN];
	DBT key, val;
	int rc;

	if (msgid == NULL || *msgid == '\0')
		return SG_STORE_NOTFOUND;
	dbt_set(&key, msgid, strlen(msgid));
	memset(&val, 0, sizeof(val));
	val.data = ix;
	val.ulen = sizeof(ix);
	val.flags = DB_DBT_USERMEM;
	rc = st->db[SG_TB_MSGID]->get(st->db[SG_TB_MSGID], tx(txn), &key, &val, rmw(txn));
	if (rc != 0)
		return map_err(st, rc, "msgid get");
	/* Entries before the digest was kept are 13 bytes: no digest. */
	if ((val.size != SG_MSGID_VAL_LEN && val.size != sizeof(ix)) || ix[0] != SG_REC_VERSION)
		return SG_STORE_ERROR;
	*ticket = sg_key_get_u64(ix + 1);
	*seq = sg_key_get_u32(ix + 9);
	if (has_digest != NULL)
		*has_digest = val.size == sizeof(ix);
	if (digest != NULL && val.size == sizeof(ix))
		memcpy(digest, ix + SG_MSGID_VAL_LEN, SG_MSGID_DIGEST_LEN);
	return 0;
}

int
sg_store_msgid_digest(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t *ticket, uint32_t *seq,
		      unsigned char digest[SG_MSGID_DIGEST_LEN], int *has_digest)
{
	GATED(st, msgid_digest_in(st, txn, msgid, ticket, seq, digest, has_digest));
}

static int
msgid_lookup_in(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t *ticket, uint32_t *seq)
{
	return sg_store_msgid_digest(st, txn, msgid, ticket, seq, NULL, NULL);
}

int
sg_store_msgid_lookup(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t *ticket, uint32_t *seq)
{
	GATED(st, msgid_lookup_in(st, txn, msgid, ticket, seq));
}

static int
customer_add_in(struct sg_store *st, struct sg_txn *txn, const char *addr, uint64_t id)
{
	unsigned char k[8];
	DBT key, val;
	int rc;

	sg_key_u64(k, id);
	dbt_set(&key, addr, strlen(addr));
	dbt_set(&val, k, 8);
	rc = st->db[SG_TB_CUSTOMERS]->put(st->db[SG_TB_CUSTOMERS], tx(txn), &key, &val, DB_NODUPDATA);
	return rc == DB_KEYEXIST ? 0 : map_err(st, rc, "customer put");
}

int
sg_store_customer_add(struct sg_store *st, struct sg_txn *txn, const char *addr, uint64_t id)
{
	GATED(st, customer_add_in(st, txn, addr, id));
}

static int
customer_tickets_in(struct sg_store *st, struct sg_txn *txn, const char *addr,
			  uint64_t **ids, size_t *n)
{
	DBC *c;
	DBT key, val;
	int rc;
	u_int32_t op = DB_SET;

	*ids = NULL;
	*n = 0;
	if ((rc = st->db[SG_TB_CUSTOMERS]->cursor(st->db[SG_TB_CUSTOMERS], tx(txn), &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	dbt_set(&key, addr, strlen(addr));
	memset(&val, 0, sizeof(val));
	while ((rc = c->get(c, &key, &val, op)) == 0) {
		op = DB_NEXT_DUP;
		if (val.size != 8)
			continue;
		*ids = sg_xreallocarray(*ids, *n + 1, sizeof(**ids));
		(*ids)[(*n)++] = sg_key_get_u64(val.data);
	}
	c->close(c);
	return rc == DB_NOTFOUND ? (*n ? 0 : SG_STORE_NOTFOUND) : map_err(st, rc, "customer walk");
}

int
sg_store_customer_tickets(struct sg_store *st, struct sg_txn *txn, const char *addr,
			  uint64_t **ids, size_t *n)
{
	GATED(st, customer_tickets_in(st, txn, addr, ids, n));
}

static int
event_add_in(struct sg_store *st, struct sg_txn *txn, uint64_t ticket,
		   const char *type, const char *actor, const char *detail)
{
	struct sg_event e = { 0 };
	unsigned char k[12];
	struct sg_buf b = { 0 };
	DBT key, val;
	int rc;

	if ((rc = next_seq(st, SG_TB_EVENTS, txn, ticket, &e.seq)) != 0)
		return rc;
	e.ticket = ticket;
	e.time = (int64_t)time(NULL);
	e.type = (char *)type;
	e.actor = (char *)actor;
	e.detail = (char *)detail;
	sg_rec_event_encode(&b, &e);
	sg_key_row(k, ticket, e.seq);
	dbt_set(&key, k, 12);
	dbt_set(&val, b.data, b.len);
	rc = st->db[SG_TB_EVENTS]->put(st->db[SG_TB_EVENTS], tx(txn), &key, &val, DB_NOOVERWRITE);
	free(b.data);
	if (rc == DB_KEYEXIST)
		return SG_STORE_DEADLOCK;
	return map_err(st, rc, "event put");
}

int
sg_store_event_add(struct sg_store *st, struct sg_txn *txn, uint64_t ticket,
		   const char *type, const char *actor, const char *detail)
{
	GATED(st, event_add_in(st, txn, ticket, type, actor, detail));
}

struct ev_walk {
	int (*cb)(const struct sg_event *, void *);
	void *arg;
};

static int
ev_each(const void *p, size_t n, void *arg)
{
	struct ev_walk *w = arg;
	struct sg_event e;
	int ret;

	if (sg_rec_event_decode(p, n, &e) != 0)
		return 0;
	ret = w->cb(&e, w->arg);
	sg_event_clear(&e);
	return ret;
}

static int
event_foreach_in(struct sg_store *st, struct sg_txn *txn, uint64_t ticket,
		       int (*cb)(const struct sg_event *, void *), void *arg)
{
	struct ev_walk w = { cb, arg };
	return walk_rows(st, SG_TB_EVENTS, txn, ticket, ev_each, &w);
}

int
sg_store_event_foreach(struct sg_store *st, struct sg_txn *txn, uint64_t ticket,
		       int (*cb)(const struct sg_event *, void *), void *arg)
{
	GATED(st, event_foreach_in(st, txn, ticket, cb, arg));
}

static int
job_add_in(struct sg_store *st, struct sg_txn *txn, struct sg_job *j)
{
	int rc = seq_next(st, txn, st->jobseq, "job sequence", &j->id);

	return rc != 0 ? rc : sg_store_job_put(st, txn, j);
}

int
sg_store_job_add(struct sg_store *st, struct sg_txn *txn, struct sg_job *j)
{
	GATED(st, job_add_in(st, txn, j));
}

static int
job_get_in(struct sg_store *st, struct sg_txn *txn, uint64_t id, struct sg_job *j)
{
	unsigned char k[8];
	DBT key, val;
	int rc;

	sg_key_u64(k, id);
	dbt_set(&key, k, 8);
	dbt_malloc(&val);
	if ((rc = st->db[SG_TB_JOBS]->get(st->db[SG_TB_JOBS], tx(txn), &key, &val, rmw(txn))) != 0)
		return map_err(st, rc, "job get");
	rc = sg_rec_job_decode(val.data, val.size, j);
	free(val.data);
	return rc == 0 ? 0 : SG_STORE_ERROR;
}

int
sg_store_job_get(struct sg_store *st, struct sg_txn *txn, uint64_t id, struct sg_job *j)
{
	GATED(st, job_get_in(st, txn, id, j));
}

static int
job_put_in(struct sg_store *st, struct sg_txn *txn, const struct sg_job *j)
{
	unsigned char k[8];
	struct sg_buf b = { 0 };
	DBT key, val;
	int rc;

	sg_key_u64(k, j->id);
	sg_rec_job_encode(&b, j);
	dbt_set(&key, k, 8);
	dbt_set(&val, b.data, b.len);
	rc = st->db[SG_TB_JOBS]->put(st->db[SG_TB_JOBS], tx(txn), &key, &val, 0);
	free(b.data);
	return map_err(st, rc, "job put");
}

int
sg_store_job_put(struct sg_store *st, struct sg_txn *txn, const struct sg_job *j)
{
	GATED(st, job_put_in(st, txn, j));
}

static int
job_del_in(struct sg_store *st, struct sg_txn *txn, uint64_t id)
{
	unsigned char k[8];
	DBT key;

	sg_key_u64(k, id);
	dbt_set(&key, k, 8);
	return map_err(st, st->db[SG_TB_JOBS]->del(st->db[SG_TB_JOBS], tx(txn), &key, 0), "job del");
}

int
sg_store_job_del(struct sg_store *st, struct sg_txn *txn, uint64_t id)
{
	GATED(st, job_del_in(st, txn, id));
}

static int
job_foreach_in(struct sg_store *st, int (*cb)(const struct sg_job *, void *), void *arg)
{
	DBC *c;
	DBT key, val;
	int rc, ret = 0;

	if ((rc = st->db[SG_TB_JOBS]->cursor(st->db[SG_TB_JOBS], NULL, &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	while ((rc = c->get(c, &key, &val, DB_NEXT)) == 0) {
		struct sg_job j;
		WALK_STOP_IF_INTERRUPTED(ret);
		if (sg_rec_job_decode(val.data, val.size, &j) != 0)
			continue;
		ret = cb(&j, arg);
		sg_job_clear(&j);
		if (ret != 0)
			break;
	}
	c->close(c);
	if (ret != 0)
		return ret;
	return rc == DB_NOTFOUND ? 0 : map_err(st, rc, "job walk");
}

int
sg_store_job_foreach(struct sg_store *st, int (*cb)(const struct sg_job *, void *), void *arg)
{
	GATED(st, job_foreach_in(st, cb, arg));
}

/* The tables sg_store_index_* may touch: the ordered indexes, never a
 * table with records of its own. */
static int
is_index(enum sg_table t)
{
	if (t == SG_TB_DUE || t == SG_TB_JOBTICKET)
		return 1;
	sg_error(MOD, "table %d is not an index", (int)t);
	return 0;
}

/* One key and value into table t (overwriting), in txn. */
static int
put_pair(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen, const void *v,
	 size_t vlen, const char *what)
{
	DBT key, val;

	dbt_set(&key, k, klen);
	dbt_set(&val, v, vlen);
	return map_err(st, st->db[t]->put(st->db[t], tx(txn), &key, &val, 0), what);
}

static int
index_put_in(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen,
		   const void *v, size_t vlen)
{
	if (!is_index(t))
		return SG_STORE_ERROR;
	return put_pair(st, txn, t, k, klen, v, vlen, "index put");
}

int
sg_store_index_put(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen,
		   const void *v, size_t vlen)
{
	GATED(st, index_put_in(st, txn, t, k, klen, v, vlen));
}

static int
index_del_in(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen)
{
	DBT key;

	if (!is_index(t))
		return SG_STORE_ERROR;
	dbt_set(&key, k, klen);
	return map_err(st, st->db[t]->del(st->db[t], tx(txn), &key, 0), "index del");
}

int
sg_store_index_del(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen)
{
	GATED(st, index_del_in(st, txn, t, k, klen));
}

static int
index_walk_in(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *from, size_t flen,
		    sg_store_index_cb *cb, void *arg)
{
	DBC *c;
	DBT key, val;
	int rc, ret = 0;
	u_int32_t op = flen > 0 ? DB_SET_RANGE : DB_FIRST;

	if (!is_index(t))
		return SG_STORE_ERROR;
	if ((rc = st->db[t]->cursor(st->db[t], tx(txn), &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	/* found keys and values come back in the cursor's own memory, valid
	 * until the next get: from is only read */
	dbt_set(&key, from, flen);
	memset(&val, 0, sizeof(val));
	while ((rc = c->get(c, &key, &val, op | rmw(txn))) == 0) {
		op = DB_NEXT;
		WALK_STOP_IF_INTERRUPTED(ret);
		if ((ret = cb(key.data, key.size, val.data, val.size, arg)) != 0)
			break;
	}
	c->close(c);
	if (ret != 0)
		return ret;
	return rc == DB_NOTFOUND ? 0 : map_err(st, rc, "index walk");
}

int
sg_store_index_walk(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *from, size_t flen,
		    sg_store_index_cb *cb, void *arg)
{
	GATED(st, index_walk_in(st, txn, t, from, flen, cb, arg));
}

static int
kv_get_in(struct sg_store *st, struct sg_txn *txn, const char *name, char **v, size_t *len)
{
	char *k = sg_xasprintf(SG_META_KV, name);
	DBT key, val;
	int rc;

	dbt_set(&key, k, strlen(k));
	dbt_malloc(&val);
	rc = st->db[SG_TB_META]->get(st->db[SG_TB_META], tx(txn), &key, &val, rmw(txn));
	free(k);
	if (rc != 0)
		return map_err(st, rc, "kv get");
	*v = val.data;
	*len = val.size;
	return 0;
}

int
sg_store_kv_get(struct sg_store *st, struct sg_txn *txn, const char *name, char **v, size_t *len)
{
	GATED(st, kv_get_in(st, txn, name, v, len));
}

static int
kv_put_in(struct sg_store *st, struct sg_txn *txn, const char *name, const void *v, size_t len)
{
	char *k = sg_xasprintf(SG_META_KV, name);
	DBT key, val;
	int rc;

	dbt_set(&key, k, strlen(k));
	dbt_set(&val, v, len);
	rc = st->db[SG_TB_META]->put(st->db[SG_TB_META], tx(txn), &key, &val, 0);
	free(k);
	return map_err(st, rc, "kv put");
}

int
sg_store_kv_put(struct sg_store *st, struct sg_txn *txn, const char *name, const void *v, size_t len)
{
	GATED(st, kv_put_in(st, txn, name, v, len));
}

static int
meta_get_in(struct sg_store *st, struct sg_txn *txn, const char *name, uint64_t *v)
{
	unsigned char buf[8];
	DBT key, val;
	int rc;

	dbt_set(&key, name, strlen(name));
	memset(&val, 0, sizeof(val));
	val.data = buf;
	val.ulen = 8;
	val.flags = DB_DBT_USERMEM;
	rc = st->db[SG_TB_META]->get(st->db[SG_TB_META], tx(txn), &key, &val, rmw(txn));
	if (rc != 0)
		return map_err(st, rc, "meta get");
	if (val.size != 8)
		return SG_STORE_ERROR;
	*v = sg_key_get_u64(buf);
	return 0;
}

int
sg_store_meta_get(struct sg_store *st, struct sg_txn *txn, const char *name, uint64_t *v)
{
	GATED(st, meta_get_in(st, txn, name, v));
}

static int
meta_put_in(struct sg_store *st, struct sg_txn *txn, const char *name, uint64_t v)
{
	unsigned char buf[8];
	DBT key, val;

	sg_key_u64(buf, v);
	dbt_set(&key, name, strlen(name));
	dbt_set(&val, buf, 8);
	return map_err(st, st->db[SG_TB_META]->put(st->db[SG_TB_META], tx(txn), &key, &val, 0), "meta put");
}

int
sg_store_meta_put(struct sg_store *st, struct sg_txn *txn, const char *name, uint64_t v)
{
	GATED(st, meta_put_in(st, txn, name, v));
}

static int
checkpoint_in(struct sg_store *st)
{
	return map_err(st, st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE), "checkpoint");
}

int
sg_store_checkpoint(struct sg_store *st)
{
	GATED(st, checkpoint_in(st));
}

static int
cache_stat_in(struct sg_store *st, struct sg_cache_stat out[SG_TB_COUNT])
{
	DB_MPOOL_STAT *g = NULL;
	DB_MPOOL_FSTAT **f = NULL;
	int rc;

	memset(out, 0, SG_TB_COUNT * sizeof(*out));
	if ((rc = st->env->memp_stat(st->env, &g, &f, 0)) != 0)
		return map_err(st, rc, "memp_stat");
	for (size_t i = 0; f != NULL && f[i] != NULL; i++)
		for (int t = 0; t < SG_TB_COUNT; t++)
			if (f[i]->file_name != NULL && strcmp(f[i]->file_name, db_files[t]) == 0) {
				out[t].hits += f[i]->st_cache_hit;
				out[t].misses += f[i]->st_cache_miss;
				break;
			}
	free(g);
	free(f);
	return 0;
}

int
sg_store_cache_stat(struct sg_store *st, struct sg_cache_stat out[SG_TB_COUNT])
{
	GATED(st, cache_stat_in(st, out));
}

int
sg_store_verify(const char *state_dir, FILE *fp)
{
	int bad = 0;

	for (int i = 0; i < SG_TB_COUNT; i++) {
		char *path = sg_xasprintf("%s/db/%s", state_dir, db_files[i]);
		DB *db;
		int rc;

		if (access(path, R_OK) != 0) {
			fprintf(fp, "%s: missing\n", path);
			bad = 1;
			free(path);
			continue;
		}
		if ((rc = db_create(&db, NULL, 0)) == 0)
			rc = db->verify(db, path, NULL, NULL, 0);   /* verify frees the handle */
		fprintf(fp, "%s: %s\n", db_files[i], rc == 0 ? "ok" : db_strerror(rc));
		if (rc != 0)
			bad = 1;
		free(path);
	}
	return bad ? SG_STORE_ERROR : 0;
}

static int
backup_in(struct sg_store *st, const char *dir)
{
	int rc;

	if (mkdir_p(dir) != 0) {
		sg_error(MOD, "cannot create %s: %s", dir, strerror(errno));
		return SG_STORE_ERROR;
	}
	st->env->txn_checkpoint(st->env, 0, 0, DB_FORCE);
	rc = st->env->backup(st->env, dir, DB_CREATE | DB_BACKUP_CLEAN);
	return map_err(st, rc, "backup");
}

int
sg_store_backup(struct sg_store *st, const char *dir)
{
	GATED(st, backup_in(st, dir));
}

/* Processes other than us holding a lock on home's __db.register (every
 * member of the environment holds one while it has it open), from
 * /proc/locks: reading that never opens the registry, whose closing would
 * drop our own lock. Up to max pids into pids; the count found. */
static size_t
env_users(const char *home, long *pids, size_t max)
{
	char *reg = sg_xasprintf("%s/__db.register", home), *line = NULL;
	struct stat sb;
	size_t cap = 0, n = 0;
	FILE *fp;

	if (stat(reg, &sb) != 0 || (fp = fopen("/proc/locks", "re")) == NULL) {
		free(reg);
		return 0;
	}
	free(reg);
	while (getline(&line, &cap, fp) > 0) {
		char kind[16];
		long pid;
		unsigned long ino;
		const char *p = strstr(line, "-> ");   /* a waiter is a user too */
		if (sscanf(p != NULL ? p + 3 : strchr(line, ':') + 1, "%15s %*s %*s %ld %*x:%*x:%lu", kind, &pid,
			   &ino) != 3 || strcmp(kind, "POSIX") != 0 || ino != (unsigned long)sb.st_ino ||
		    pid == (long)getpid())
			continue;
		int seen = 0;
		for (size_t i = 0; i < n && i < max; i++)
			seen |= pids[i] == pid;
		if (!seen) {
			if (n < max)
				pids[n] = pid;
			n++;
		}
	}
	free(line);
	fclose(fp);
	return n;
}

int
sg_store_recover(const char *state_dir)
{
	char *home = sg_xasprintf("%s/db", state_dir), *lk;
	long pids[8];
	size_t n = env_users(home, pids, 8);
	DB_ENV *env = NULL;
	int rc, fd;

	if (n > 0) {
		char list[8 * 24] = "";
		for (size_t i = 0; i < n && i < 8; i++) {
			size_t len = strlen(list);
			snprintf(list + len, sizeof(list) - len, "%s%ld", i ? ", " : "", pids[i]);
		}
		sg_error(MOD, "%s: %zu process(es) use the environment (pid %s%s): stop them (supportgated "
			 "first), then recover", home, n, list, n > 8 ? ", ..." : "");
		free(home);
		return SG_STORE_ERROR;
	}
	lk = sg_xasprintf("%s/sg-recover.lock", home);
	fd = open(lk, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	free(lk);
	if (fd >= 0)
		flock(fd, LOCK_EX);
	rc = env_create(home, 0, NULL, ENV_FLAGS | DB_RECOVER_FATAL, &env);
	if (rc == 0)
		env->close(env, 0);
	else
		sg_error(MOD, "%s: recovery failed: %s", home, db_strerror(rc));
	if (fd >= 0)
		close(fd);
	free(home);
	return rc == 0 ? 0 : SG_STORE_ERROR;
}

/* ------------------------------------------------------------------ */
/* Whole tables (export, import) and erasure                          */

static int
table_walk_in(struct sg_store *st, struct sg_txn *txn, enum sg_table t, sg_store_index_cb *cb, void *arg)
{
	DBC *c;
	DBT key, val;
	int rc, ret = 0, packed = 0;

	if ((unsigned)t >= SG_TB_COUNT)
		return SG_STORE_ERROR;
	if (t == SG_TB_RAW && (rc = raw_flag(st, txn, &packed)) != 0)
		return rc;
	if ((rc = st->db[t]->cursor(st->db[t], tx(txn), &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	memset(&key, 0, sizeof(key));
	memset(&val, 0, sizeof(val));
	while ((rc = c->get(c, &key, &val, DB_NEXT)) == 0) {
		WALK_STOP_IF_INTERRUPTED(ret);
		if (packed) {   /* the message's bytes, as a store without packing gives them */
			char *raw;
			size_t n;
			if (sg_raw_unpack(val.data, val.size, key.size >= 8 ? sg_key_get_u64(key.data) : 0, &raw,
					  &n) != 0) {
				ret = SG_STORE_ERROR;
				break;
			}
			ret = cb(key.data, key.size, (const unsigned char *)raw, n, arg);
			free(raw);
		} else {
			ret = cb(key.data, key.size, val.data, val.size, arg);
		}
		if (ret != 0)
			break;
	}
	c->close(c);
	if (ret != 0)
		return ret;
	return rc == DB_NOTFOUND ? 0 : map_err(st, rc, "table walk");
}

int
sg_store_table_walk(struct sg_store *st, struct sg_txn *txn, enum sg_table t, sg_store_index_cb *cb, void *arg)
{
	GATED(st, table_walk_in(st, txn, t, cb, arg));
}

static int
table_put_in(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen, const void *v,
	     size_t vlen)
{
	DBT key, val;
	int rc;

	if ((unsigned)t >= SG_TB_COUNT || klen == 0)
		return SG_STORE_ERROR;
	dbt_set(&key, k, klen);
	if (t == SG_TB_RAW)
		return raw_put(st, txn, &key, v, vlen, DB_NOOVERWRITE);
	dbt_set(&val, v, vlen);
	rc = st->db[t]->put(st->db[t], tx(txn), &key, &val, t == SG_TB_CUSTOMERS ? DB_NODUPDATA : DB_NOOVERWRITE);
	if (rc == DB_KEYEXIST)
		return SG_STORE_EXISTS;
	return map_err(st, rc, "table put");
}

int
sg_store_table_put(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen,
		   const void *v, size_t vlen)
{
	GATED(st, table_put_in(st, txn, t, k, klen, v, vlen));
}

static int
table_del_in(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen)
{
	DBT key;

	if ((unsigned)t >= SG_TB_COUNT || t == SG_TB_CUSTOMERS)
		return SG_STORE_ERROR;
	dbt_set(&key, k, klen);
	return map_err(st, st->db[t]->del(st->db[t], tx(txn), &key, 0), "table del");
}

int
sg_store_table_del(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen)
{
	GATED(st, table_del_in(st, txn, t, k, klen));
}

static int
table_replace_in(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen, const void *v,
		 size_t vlen)
{
	if ((unsigned)t >= SG_TB_COUNT || t == SG_TB_CUSTOMERS || klen == 0)
		return SG_STORE_ERROR;
	if (t == SG_TB_RAW) {
		DBT key;
		dbt_set(&key, k, klen);
		return raw_put(st, txn, &key, v, vlen, 0);
	}
	return put_pair(st, txn, t, k, klen, v, vlen, "table replace");
}

int
sg_store_table_replace(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *k, size_t klen,
		       const void *v, size_t vlen)
{
	GATED(st, table_replace_in(st, txn, t, k, klen, v, vlen));
}

/* One (address, ticket) pair of customers.db, or every pair of the
 * address when id is 0. */
static int
customer_del_in(struct sg_store *st, struct sg_txn *txn, const char *addr, uint64_t id)
{
	DB *db = st->db[SG_TB_CUSTOMERS];
	unsigned char k[8];
	DBC *c;
	DBT key, val;
	int rc;

	dbt_set(&key, addr, strlen(addr));
	if (id == 0) {
		rc = db->del(db, tx(txn), &key, 0);
		return map_err(st, rc, "customer del");
	}
	if ((rc = db->cursor(db, tx(txn), &c, 0)) != 0)
		return map_err(st, rc, "cursor");
	sg_key_u64(k, id);
	dbt_set(&val, k, 8);
	rc = c->get(c, &key, &val, DB_GET_BOTH | rmw(txn));
	if (rc == 0)
		rc = c->del(c, 0);
	c->close(c);
	return map_err(st, rc, "customer del");
}

int
sg_store_customer_del(struct sg_store *st, struct sg_txn *txn, const char *addr, uint64_t id)
{
	GATED(st, customer_del_in(st, txn, addr, id));
}

static int
kv_del_in(struct sg_store *st, struct sg_txn *txn, const char *name)
{
	char *k = sg_xasprintf(SG_META_KV, name);
	DBT key;
	int rc;

	dbt_set(&key, k, strlen(k));
	rc = st->db[SG_TB_META]->del(st->db[SG_TB_META], tx(txn), &key, 0);
	free(k);
	return map_err(st, rc, "kv del");
}

int
sg_store_kv_del(struct sg_store *st, struct sg_txn *txn, const char *name)
{
	GATED(st, kv_del_in(st, txn, name));
}

static DB_SEQUENCE *
seq_handle(struct sg_store *st, const char *name)
{
	if (strcmp(name, SG_META_SEQ_TICKET) == 0)
		return st->seq;
	if (strcmp(name, SG_META_SEQ_JOB) == 0)
		return st->jobseq;
	return NULL;
}

static int
seq_peek_in(struct sg_store *st, const char *name, uint64_t *next)
{
	DB_SEQUENCE *s = seq_handle(st, name);
	DB_SEQUENCE_STAT *sp = NULL;
	int rc;

	if (s == NULL)
		return SG_STORE_ERROR;
	if ((rc = s->stat(s, &sp, 0)) != 0)
		return map_err(st, rc, "sequence stat");
	*next = (uint64_t)sp->st_value;
	free(sp);
	return 0;
}

int
sg_store_seq_peek(struct sg_store *st, const char *name, uint64_t *next)
{
	GATED(st, seq_peek_in(st, name, next));
}

static int
seq_advance_in(struct sg_store *st, const char *name, uint64_t next)
{
	DB_SEQUENCE *s = seq_handle(st, name);
	uint64_t cur;
	db_seq_t got;
	int rc;

	if (s == NULL || (rc = seq_peek_in(st, name, &cur)) != 0)
		return SG_STORE_ERROR;
	while (cur < next) {
		uint64_t step = next - cur > INT32_MAX ? INT32_MAX : next - cur;
		if ((rc = s->get(s, NULL, (int32_t)step, &got, 0)) != 0)
			return map_err(st, rc, "sequence advance");
		cur += step;
	}
	return 0;
}

int
sg_store_seq_advance(struct sg_store *st, const char *name, uint64_t next)
{
	GATED(st, seq_advance_in(st, name, next));
}

struct empty_walk {
	int empty;
};

static int
meta_not_seq(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	struct empty_walk *w = arg;

	(void)v;
	(void)vl;
	if ((kl == strlen(SG_META_SEQ_TICKET) && memcmp(k, SG_META_SEQ_TICKET, kl) == 0) ||
	    (kl == strlen(SG_META_SEQ_JOB) && memcmp(k, SG_META_SEQ_JOB, kl) == 0) ||
	    (kl == strlen(SG_META_RAWFMT) && memcmp(k, SG_META_RAWFMT, kl) == 0))
		return 0;   /* what every store has from its first open */
	w->empty = 0;
	return 1;
}

static int
any_key(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	(void)k;
	(void)kl;
	(void)v;
	(void)vl;
	((struct empty_walk *)arg)->empty = 0;
	return 1;
}

int
sg_store_is_empty(struct sg_store *st, int *empty)
{
	struct empty_walk w = { 1 };
	uint64_t a = 1, b = 1;
	int rc = 0;

	for (int t = 0; rc == 0 && w.empty && t < SG_TB_COUNT; t++) {
		if (t == SG_TB_ACTIVE)
			continue;   /* an index of tickets.db, and its built mark */
		rc = sg_store_table_walk(st, NULL, (enum sg_table)t, t == SG_TB_META ? meta_not_seq : any_key, &w);
		if (rc == 1)
			rc = 0;
	}
	if (rc == 0 && w.empty && (rc = sg_store_seq_peek(st, SG_META_SEQ_TICKET, &a)) == 0)
		rc = sg_store_seq_peek(st, SG_META_SEQ_JOB, &b);
	*empty = w.empty && a <= 1 && b <= 1;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Replication (repl.h)                                                */

int
sg_store_writable(struct sg_store *st)
{
	int w;

	if (st == NULL || st->repl == NULL)
		return 1;
	if (gate_in(st) != 0)
		return 0;
	w = sg_repl_is_master(st->env);
	gate_out(st);
	return w;
}

int
sg_store_repl_status(struct sg_store *st, struct sg_repl_status *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (st->repl == NULL)
		return SG_STORE_NOTFOUND;
	if (gate_in(st) != 0)
		return SG_STORE_ERROR;
	rc = sg_repl_env_status(st->env, st->repl->start, st->home, out);
	gate_out(st);
	return map_err(st, rc, "replication status");
}

void
sg_store_repl_master(struct sg_store *st, char *buf, size_t len)
{
	snprintf(buf, len, "unknown");
	if (st == NULL || st->repl == NULL || gate_in(st) != 0)
		return;
	sg_repl_master(st->env, buf, len);
	gate_out(st);
}

int
sg_store_repl_publish(struct sg_store *st)
{
	int rc;

	if (st == NULL || st->repl == NULL || !st->repl->start)
		return 0;
	if (gate_in(st) != 0)
		return SG_STORE_ERROR;
	rc = sg_repl_sites_write(st->env, st->home);
	gate_out(st);
	return rc == 0 ? 0 : SG_STORE_ERROR;
}
