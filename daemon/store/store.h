/*
 * store — the ticket store: a transactional Berkeley DB environment in
 * state_dir/db, shared by the daemon and the CLI (multi-process).
 *
 * Files in state_dir/db and every key layout: schema.h. Record formats:
 * record.h. A table missing from an existing store is created on open.
 *
 * Environment: DB_INIT_TXN|LOCK|LOG|MPOOL, DB_THREAD, DB_REGISTER with
 * DB_RECOVER (when a process died inside the environment, the next one to
 * open it recovers it; live members reopen, below), failchk() after open
 * (dead threads of live processes), deadlock detection on every conflict
 * (DB_LOCK_DEFAULT), and no lock is waited for longer than 5 s (then
 * SG_STORE_ERROR: a stuck process cannot stall the milter). Commits are
 * synchronous unless SG_STORE_NOSYNC (DB_TXN_WRITE_NOSYNC: written to the
 * OS, not flushed), or made with sg_store_txn_commit_nowait and then
 * sg_store_flush (group commit: the ingest doors). Log files no longer needed are removed automatically;
 * a checkpoint runs every 500 commits.
 *
 * Failures (store.c's top comment says why each is handled so):
 * - The environment panics under a live process (another process
 *   recovered it): the call that meets it is SG_STORE_ERROR; the next
 *   call waits for the calls in flight to end, then reopens the
 *   environment (recovery included), so a daemon heals without a
 *   restart. A caller sees one failed call (the milter: one tempfail).
 * - The disk fills: a write fails with ENOSPC (SG_STORE_ERROR), the
 *   transaction is not committed, and the next one succeeds once there is
 *   space again. Region files (mmap'd) get all their blocks at open, so a
 *   full disk is never SIGBUS; an open that cannot reserve them fails
 *   (logged). The environment takes about 50 MB of state_dir for them
 *   (most of it the 32 MB cache).
 *   A ticket or job id is never handed out twice: after a failed write
 *   the sequences are read again from the database before the next id.
 * - sg_store_open never hangs: after SG_STORE_OPEN_TIMEOUT seconds (an
 *   environment variable; default 120) it logs a message naming
 *   `supportgate db recover` and ends the process with exit status 1 (a
 *   process stopped inside the environment, holding its registry or a
 *   mutex). An environment that cannot be recovered automatically fails
 *   the open with the same advice.
 *
 * Return codes: 0, SG_STORE_NOTFOUND, SG_STORE_DEADLOCK (abort and retry
 * the whole transaction), SG_STORE_ERROR (already logged). Functions that
 * take a txn accept NULL for a read outside a transaction. Reads inside a
 * transaction lock for write (DB_RMW) so read-modify-write cannot
 * deadlock by lock upgrade. All functions block on disk and locks.
 * Returned structs and strings belong to the caller.
 */
#ifndef SG_STORE_H
#define SG_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/record.h"
#include "store/repl.h"
#include "store/schema.h"
#include "model/ticket.h"

#define SG_STORE_NOTFOUND 1
#define SG_STORE_DEADLOCK 2
#define SG_STORE_ERROR    3
#define SG_STORE_EXISTS   4     /* sg_store_table_put: the key is there */

#define SG_STORE_NOSYNC   0x1u
/* Write raw messages unpacked and never mark a store packed, as releases
 * before packing did (tests of reading such stores; store/rawpack.h). */
#define SG_STORE_PLAIN_RAW 0x2u

struct sg_store;
struct sg_txn;

int sg_store_open(const char *state_dir, unsigned flags, struct sg_store **out);
/* The same as one site of a replication group (repl.h); repl NULL or
 * with an empty local address: exactly sg_store_open. */
int sg_store_open_repl(const char *state_dir, unsigned flags, const struct sg_repl_conf *repl,
		       struct sg_store **out);
/* 1 when this process may write: no replication, or this site is the
 * master now. The milter, the outbound worker and the timer thread ask
 * before each message or pass; a write on a replica fails anyway. */
int sg_store_writable(struct sg_store *st);
/* Role, master, sites and lag (repl.h); SG_STORE_NOTFOUND when off. */
int sg_store_repl_status(struct sg_store *st, struct sg_repl_status *out);
/* The daemon: rewrite the sites file (repl.h) — every second. */
int sg_store_repl_publish(struct sg_store *st);
/* The master's HOST:PORT, or "unknown". */
void sg_store_repl_master(struct sg_store *st, char *buf, size_t len);
void sg_store_close(struct sg_store **st);
/* Stop this process's store work soon, from a signal handler (it only
 * sets a flag): a walk stops at its next record and every new call
 * returns SG_STORE_ERROR (a transaction already begun may finish), so the
 * caller unwinds and sg_store_close() still closes. A process that dies
 * inside the environment instead (the default action of SIGINT, SIGPIPE
 * of `supportgate tickets | head`) leaves it to be recovered by the next
 * one to open it, which interrupts every call of a running daemon. */
void sg_store_interrupt(void);
int sg_store_interrupted(void);
/* 1 when commits are flushed to disk: neither DB_TXN_NOSYNC nor
 * DB_TXN_WRITE_NOSYNC is set on the environment handle. Without
 * SG_STORE_NOSYNC that holds even against a DB_CONFIG in the home that
 * sets them (the store turns them off again, with a warning). */
int sg_store_durable(struct sg_store *st);

int sg_store_txn_begin(struct sg_store *st, struct sg_txn **txn);
/* A transaction someone is waiting on (a door's ingest: an SMTP client
 * until the 250): in a deadlock with background work (the outbound
 * worker, the clock) Berkeley DB's detector aborts the other one, which
 * retries unseen, instead of this (DB_TXN->set_priority; default
 * transactions have 100, these SG_TXN_PRIORITY_WAITED). 0 or
 * SG_STORE_ERROR. */
#define SG_TXN_PRIORITY_WAITED 200
int sg_store_txn_waited(struct sg_txn *txn);
/* Commit (durable unless NOSYNC) and free; *txn is cleared either way. */
int sg_store_txn_commit(struct sg_txn **txn);
/* Commit and free without waiting for the disk: the commit is in the
 * log buffer, visible to other transactions, and durable only after
 * sg_store_flush() (call it before telling anyone, e.g. the MTA's 250).
 * Threads that commit so and then flush share one log write and fsync
 * (group commit) instead of one each. Under replication it is
 * sg_store_txn_commit (the replicas' acknowledgement is the durability
 * there). */
int sg_store_txn_commit_nowait(struct sg_txn **txn);
/* Every commit so far on disk (log write and fsync; one for all the
 * threads waiting at once). 0, or SG_STORE_ERROR (logged). Nothing to do
 * for a store opened SG_STORE_NOSYNC. */
int sg_store_flush(struct sg_store *st);
/* Abort and free; safe on NULL / cleared pointers. */
void sg_store_txn_abort(struct sg_txn **txn);

/* Next ticket id from the sequence (monotonic, starts at 1). */
int sg_store_ticket_new_id(struct sg_store *st, struct sg_txn *txn, uint64_t *id);
int sg_store_ticket_get(struct sg_store *st, struct sg_txn *txn, uint64_t id, struct sg_ticket *out);
int sg_store_ticket_put(struct sg_store *st, struct sg_txn *txn, const struct sg_ticket *t);
/* Calls cb for every ticket in id order, outside any transaction; a
 * non-zero return from cb stops the walk and is returned. */
int sg_store_ticket_foreach(struct sg_store *st, int (*cb)(const struct sg_ticket *, void *), void *arg);

/* Every ticket that is open now (any status but resolved and closed) or
 * whose created, resolved_at or closed_at is at or after since, through
 * the index active.db (schema.h): the cost follows those tickets, not
 * the store. Outside any transaction, in no particular order, each ticket
 * once; cb's non-zero return stops the walk and is returned. A ticket
 * changed while the walk runs is seen as it was or as it became, or (its
 * entry moved behind the walk's cursor meanwhile) not at all: for
 * reports, not for anything that must see every ticket. since <= 0 is
 * sg_store_ticket_foreach, and so is a since at or before the first
 * ticket's creation (every ticket would be read: the plain walk is
 * faster). */
int sg_store_ticket_foreach_since(struct sg_store *st, int64_t since,
				  int (*cb)(const struct sg_ticket *, void *), void *arg);

/* Store raw bytes and the summary; assigns m->seq (1, 2, ... per ticket)
 * and indexes m->message_id unless empty. A Message-ID already indexed is
 * SG_STORE_ERROR: callers look it up first. The raw bytes are kept
 * compressed in a store marked packed (every store made since; schema.h
 * format:raw), as they are in one made before; get gives them back as
 * they came either way (a damaged value: SG_STORE_ERROR, logged). */
int sg_store_message_add(struct sg_store *st, struct sg_txn *txn, struct sg_msgrec *m,
			 const char *raw, size_t rawlen);
int sg_store_message_get(struct sg_store *st, struct sg_txn *txn, uint64_t ticket, uint32_t seq,
			 struct sg_msgrec *m, char **raw, size_t *rawlen);
int sg_store_message_foreach(struct sg_store *st, struct sg_txn *txn, uint64_t ticket,
			     int (*cb)(const struct sg_msgrec *, void *), void *arg);
int sg_store_msgid_lookup(struct sg_store *st, struct sg_txn *txn, const char *msgid,
			  uint64_t *ticket, uint32_t *seq);
/* The same, with the content digest stored beside the id (*has_digest 0
 * for entries written before digests were kept, and for our own mail). */
int sg_store_msgid_digest(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t *ticket,
			  uint32_t *seq, unsigned char digest[SG_MSGID_DIGEST_LEN], int *has_digest);
/* Index the Message-ID of a mail we sent without keeping it in the
 * ticket's history (notices, alerts): seq 0 means "ours, not stored", so
 * a bounce or reply to it still finds the ticket. */
int sg_store_msgid_add(struct sg_store *st, struct sg_txn *txn, const char *msgid, uint64_t ticket);

int sg_store_customer_add(struct sg_store *st, struct sg_txn *txn, const char *addr, uint64_t id);
/* *ids is a new array (caller frees) in ascending order. */
int sg_store_customer_tickets(struct sg_store *st, struct sg_txn *txn, const char *addr,
			      uint64_t **ids, size_t *n);

/* Append an event (time = now) to a ticket's audit trail. */
int sg_store_event_add(struct sg_store *st, struct sg_txn *txn, uint64_t ticket,
		       const char *type, const char *actor, const char *detail);
int sg_store_event_foreach(struct sg_store *st, struct sg_txn *txn, uint64_t ticket,
			   int (*cb)(const struct sg_event *, void *), void *arg);

/* Outbound jobs. add assigns j->id (monotonic: id order = creation order). */
int sg_store_job_add(struct sg_store *st, struct sg_txn *txn, struct sg_job *j);
int sg_store_job_get(struct sg_store *st, struct sg_txn *txn, uint64_t id, struct sg_job *j);
int sg_store_job_put(struct sg_store *st, struct sg_txn *txn, const struct sg_job *j);
int sg_store_job_del(struct sg_store *st, struct sg_txn *txn, uint64_t id);
/* Every job in id order, outside a transaction; cb's non-zero stops. */
int sg_store_job_foreach(struct sg_store *st, int (*cb)(const struct sg_job *, void *), void *arg);

/* Small byte values by name (in meta.db under SG_META_KV, schema.h). */
int sg_store_kv_get(struct sg_store *st, struct sg_txn *txn, const char *key, char **val, size_t *len);
int sg_store_kv_put(struct sg_store *st, struct sg_txn *txn, const char *key, const void *val, size_t len);

/* Ordered indexes (SG_TB_DUE, SG_TB_JOBTICKET; any other table is
 * SG_STORE_ERROR): sets of keys with a small value, key layouts in
 * schema.h, maintained by the modules named there. put replaces; del of
 * a missing key is SG_STORE_NOTFOUND. walk reads from the first key >=
 * from (flen bytes; flen 0: the first key) in key order with one cursor;
 * cb sees key and value (valid during the call only) and returns 0 to go
 * on: a non-zero return stops the walk and is returned, so the cost is
 * what cb reads. cb must not use the store: the cursor holds a page lock. */
typedef int sg_store_index_cb(const unsigned char *key, size_t klen, const unsigned char *val, size_t vlen,
			      void *arg);
int sg_store_index_put(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *key, size_t klen,
		       const void *val, size_t vlen);
int sg_store_index_del(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *key, size_t klen);
int sg_store_index_walk(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *from, size_t flen,
			sg_store_index_cb *cb, void *arg);

int sg_store_meta_get(struct sg_store *st, struct sg_txn *txn, const char *key, uint64_t *v);
int sg_store_meta_put(struct sg_store *st, struct sg_txn *txn, const char *key, uint64_t v);

/*
 * Whole tables, by key and value bytes (export, import, erasure; the
 * layouts are schema.h's and record.h's, and the caller keeps indexes in
 * step). walk: every pair of table t in key order, as sg_store_index_walk
 * (cb's non-zero return stops the walk and is returned; cb may use the
 * store only in the same txn). put: a new key (SG_STORE_EXISTS when it is
 * there; customers.db: a new pair). replace: put or overwrite (not
 * customers.db). del: a key (not customers.db; SG_STORE_NOTFOUND).
 * raw.db's values are the messages' bytes both ways: the store packs
 * what is put and unpacks what is walked (store/rawpack.h), so an export
 * holds the mail, not this engine's encoding of it; a value that does not
 * unpack stops the walk (SG_STORE_ERROR, logged with its ticket).
 */
int sg_store_table_walk(struct sg_store *st, struct sg_txn *txn, enum sg_table t, sg_store_index_cb *cb, void *arg);
int sg_store_table_put(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *key, size_t klen,
		       const void *val, size_t vlen);
int sg_store_table_replace(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *key, size_t klen,
			   const void *val, size_t vlen);
int sg_store_table_del(struct sg_store *st, struct sg_txn *txn, enum sg_table t, const void *key, size_t klen);
/* Remove (addr, id) from customers.db, or every pair of addr when id is
 * 0. SG_STORE_NOTFOUND when there was none. */
int sg_store_customer_del(struct sg_store *st, struct sg_txn *txn, const char *addr, uint64_t id);
int sg_store_kv_del(struct sg_store *st, struct sg_txn *txn, const char *key);
/* The sequences SG_META_SEQ_TICKET and SG_META_SEQ_JOB: peek reads the
 * next value to be handed out (as stored); advance moves it forward to
 * next (never back), outside a transaction (import). */
int sg_store_seq_peek(struct sg_store *st, const char *name, uint64_t *next);
int sg_store_seq_advance(struct sg_store *st, const char *name, uint64_t next);
/* *empty = 1 when no table holds a key besides the two sequences and
 * meta format:raw (schema.h), and neither sequence has handed out an id. */
int sg_store_is_empty(struct sg_store *st, int *empty);

/* Maintenance (CLI). verify: DB->verify of every file, report to fp;
 * run it while no daemon writes. backup: DB_ENV->backup (hot, consistent:
 * database files then logs) into dir, created if needed. recover: open
 * the environment alone with DB_RECOVER_FATAL; refused (SG_STORE_ERROR,
 * logged with their pids) while other processes use the environment. */
/* Write every changed page to the database files now (a forced
 * checkpoint): before reading the files directly (sg_store_verify). */
int sg_store_checkpoint(struct sg_store *st);
/* The cache's counters of every table's file since the environment was
 * created (one Berkeley DB memp_stat): out[t] = pages of table t found in
 * the cache, pages read into it (zero for a file not open). 0, or
 * SG_STORE_ERROR. */
struct sg_cache_stat {
	uint64_t hits, misses;
};
int sg_store_cache_stat(struct sg_store *st, struct sg_cache_stat out[SG_TB_COUNT]);
int sg_store_verify(const char *state_dir, FILE *fp);
int sg_store_backup(struct sg_store *st, const char *dir);
int sg_store_recover(const char *state_dir);

#endif
