/*
 * schema — every database file of the store and every key layout in it,
 * in one place. Record (value) formats are in record.h.
 *
 * All files are B-trees in state_dir/db, opened by sg_store_open() in one
 * transactional environment; a file missing from an existing environment
 * (a store written by an older release) is created empty on open. Numbers
 * in keys are big-endian so that B-tree (memcmp) order is numeric order.
 *
 *   file          key                              value
 *   tickets.db    u64 ticket id                    ticket record
 *   messages.db   u64 ticket, u32 seq (a "row")    message summary
 *   raw.db        u64 ticket, u32 seq              the message's bytes, packed
 *                                                  (store/rawpack.h) when meta
 *                                                  format:raw says so
 *   msgid.db      Message-ID (no <>, no NUL)       u8 ver, u64 ticket, u32 seq [, 16-byte content digest]
 *                 (seq 0: a mail we sent and did not keep; no digest: written before
 *                 digests were kept, or our own mail)
 *   customers.db  address (sorted duplicates)      u64 ticket id
 *   events.db     u64 ticket, u32 seq              event record
 *   meta.db       name (below)                     u64, bytes or a DB_SEQUENCE
 *   jobs.db       u64 job id                       outbound job record
 *   due.db        u64 due, u8 kind, u64 id         u64 aux (kind-defined)
 *   jobticket.db  u64 lane, u64 job id             empty
 *   active.db     u64 last time (sorted duplicates)  u64 ticket id
 *
 * active.db is a secondary index of tickets.db (Berkeley DB associate:
 * every write of a ticket, whoever makes it, moves its entry in the same
 * transaction): a ticket's key is UINT64_MAX while it is new, open or
 * pending (any status but resolved and closed), else the latest of its
 * created, resolved_at and closed_at. So the tickets that are open now or
 * were created, resolved or closed at or after a time T are the entries
 * at or after T (sg_store_ticket_foreach_since; the report). The pair
 * (0, ticket 0) marks it complete: a new store gets it at once, a store
 * written before active.db gets the index built from its tickets at open,
 * then the mark. sg_store_is_empty does not look at it.
 * due.db is the due-time index (daemon/sched/due.h): one entry per timer,
 * walked in due order; kinds are listed there. due is a Unix time, a
 * negative one is stored as 0. For SG_DUE_JOB, id is the job id and aux
 * its lane. jobticket.db holds the queued (not dead) jobs that belong to
 * a ticket, by lane: a ticket's mail jobs have lane = the ticket id, its
 * webhook jobs lane = ticket id | bit 63 (SG_LANE_WEBHOOK, outbound/
 * queue.h); so the oldest queued job of a lane is the first key at or
 * after (lane, 0). Stores written before webhooks existed hold mail lanes
 * only, which read the same. Both are maintained by daemon/outbound/queue.c inside
 * the transaction that changes the job; meta SG_META_JOBIDX records that
 * jobs written before the indexes existed have been indexed.
 *
 * meta.db names (u64 values unless said otherwise):
 *   seq:ticket, seq:job        DB_SEQUENCEs of ticket and job ids
 *   rr:QUEUE                   round-robin cursor of a queue
 *   open:AGENT                 open tickets assigned to an agent
 *   day:AGENT:YYYYMMDD         assignments to an agent that (UTC) day
 *   idx:jobs                   version of the job indexes (SG_JOBIDX_VERSION)
 *   stat:YYYYMMDD:NAME         per-day (UTC) counters (daemon/ticket/daystat.h)
 *   idx:retention              the retention (days) the due index was
 *                              filled for (daemon/ticket/erase.h)
 *   format:raw                 SG_RAWFMT_PACKED: every raw.db value is
 *                              packed (store/rawpack.h: compressed or
 *                              stored, a method byte first). Set when a
 *                              store is opened with raw.db empty (a new
 *                              store), or by the write that puts the first
 *                              message into an empty raw.db; never
 *                              removed. Without it (stores written before
 *                              packing) the values are the bytes as they
 *                              are, and new messages are written so too.
 *                              Not exported: `db import` writes into a
 *                              store of its own kind.
 *   kv:NAME                    bytes, through sg_store_kv_get/put (NAME
 *                              without the prefix):
 *     ack:ADDRESS              recent ack send times to ADDRESS, u64 each
 *     ack-global               u64 clock hour, u64 acks sent in it
 *     alert:ADDRESS            u64 time of the last rate-limit alert
 *     imap:MAILBOX             the IMAP door's UID checkpoint of a mailbox
 *                              section: u8 version 1, u32 UIDVALIDITY, u32
 *                              last UID handled, u64 messages ingested,
 *                              then "user@host:port/folder" (daemon/imap/
 *                              imap.h); written in the ingest transaction
 *
 * The names with %s are printf formats; use them as the format argument
 * (sg_xasprintf(SG_META_OPEN, agent)) so the compiler checks the rest.
 */
#ifndef SG_SCHEMA_H
#define SG_SCHEMA_H

#include <stdint.h>

/* The tables, in the order sg_store_open() opens them. */
enum sg_table {
	SG_TB_TICKETS, SG_TB_MESSAGES, SG_TB_RAW, SG_TB_MSGID, SG_TB_CUSTOMERS, SG_TB_EVENTS,
	SG_TB_META, SG_TB_JOBS, SG_TB_DUE, SG_TB_JOBTICKET, SG_TB_ACTIVE, SG_TB_COUNT
};

#define SG_FILE_TICKETS   "tickets.db"
#define SG_FILE_MESSAGES  "messages.db"
#define SG_FILE_RAW       "raw.db"
#define SG_FILE_MSGID     "msgid.db"
#define SG_FILE_CUSTOMERS "customers.db"
#define SG_FILE_EVENTS    "events.db"
#define SG_FILE_META      "meta.db"
#define SG_FILE_JOBS      "jobs.db"
#define SG_FILE_DUE       "due.db"
#define SG_FILE_JOBTICKET "jobticket.db"
#define SG_FILE_ACTIVE    "active.db"

/* meta.db */
#define SG_META_SEQ_TICKET "seq:ticket"
#define SG_META_SEQ_JOB    "seq:job"
#define SG_META_RR         "rr:%s"          /* queue name */
#define SG_META_OPEN       "open:%s"        /* agent address */
#define SG_META_DAY        "day:%s:%s"      /* agent address, YYYYMMDD */
#define SG_META_JOBIDX     "idx:jobs"
#define SG_META_STAT       "stat:%s:%s"     /* YYYYMMDD, counter name */
#define SG_META_RETENTION  "idx:retention"
#define SG_META_FIRST_REPLY "first-reply:%llu"   /* ticket id -> time of the first agent reply */
#define SG_JOBIDX_VERSION  1
#define SG_META_KV         "kv:%s"          /* NAME of sg_store_kv_* */
/* kv names (the store adds the kv: prefix) */
#define SG_KV_ACK          "ack:%s"         /* address */
#define SG_KV_ACK_GLOBAL   "ack-global"
#define SG_KV_ALERT        "alert:%s"       /* address */
#define SG_KV_IMAP         "imap:%s"        /* mailbox section name */
#define SG_META_MERGED     "merged:%llu"    /* ticket id -> the ticket it was merged into */
#define SG_META_RAWFMT     "format:raw"     /* SG_RAWFMT_PACKED: raw.db values are packed (rawpack.h) */
#define SG_RAWFMT_PACKED   1

#define SG_MSGID_VAL_LEN 13
#define SG_MSGID_DIGEST_LEN 16
#define SG_KEY_U64_LEN 8
#define SG_KEY_ROW_LEN 12
#define SG_KEY_DUE_LEN 17
#define SG_KEY_JOBTICKET_LEN 16

static inline void
sg_key_u64(unsigned char out[8], uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		out[i] = (unsigned char)v;
		v >>= 8;
	}
}

static inline uint64_t
sg_key_get_u64(const unsigned char in[8])
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

static inline uint32_t
sg_key_get_u32(const unsigned char in[4])
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
}

/* messages.db, raw.db, events.db: u64 ticket, u32 seq */
static inline void
sg_key_row(unsigned char out[12], uint64_t ticket, uint32_t seq)
{
	sg_key_u64(out, ticket);
	out[8] = (unsigned char)(seq >> 24);
	out[9] = (unsigned char)(seq >> 16);
	out[10] = (unsigned char)(seq >> 8);
	out[11] = (unsigned char)seq;
}

/* due.db: u64 due (negative -> 0), u8 kind, u64 id */
static inline void
sg_key_due(unsigned char out[17], int64_t due, uint8_t kind, uint64_t id)
{
	sg_key_u64(out, due > 0 ? (uint64_t)due : 0);
	out[8] = kind;
	sg_key_u64(out + 9, id);
}

static inline void
sg_key_get_due(const unsigned char in[17], int64_t *due, uint8_t *kind, uint64_t *id)
{
	uint64_t d = sg_key_get_u64(in);

	*due = d > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)d;
	*kind = in[8];
	*id = sg_key_get_u64(in + 9);
}

/* jobticket.db: u64 ticket, u64 job id */
static inline void
sg_key_jobticket(unsigned char out[16], uint64_t ticket, uint64_t id)
{
	sg_key_u64(out, ticket);
	sg_key_u64(out + 8, id);
}

#endif
