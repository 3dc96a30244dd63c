/*
 * record — the on-disk record format of the store, in one place.
 *
 * Every value the store writes starts with a format version byte
 * (SG_REC_VERSION = 1) so a later release can read an older store. Fields
 * follow in a fixed order per record type:
 *   u8      one byte
 *   u32/u64 big-endian unsigned; i64 big-endian two's complement
 *   str     u32 length + bytes (no NUL); length 0xffffffff = NULL
 *   list    u32 count + that many str
 *
 * Files and key layouts: schema.h (included here; the sg_key_* helpers
 * also serve for the big-endian numbers inside values).
 *
 * Ticket (tickets.db):  ver, u64 id, u8 status, u8 priority, str subject,
 *   str requestor, str requestor_name, str queue, str assignee,
 *   str sla_tier, str segment, str language, list participants, list tags,
 *   i64 created, i64 updated, i64 closed_at, i64 due, u64 linked,
 *   u32 nmessages, u32 nevents, u32 transfers; from version 2
 *   (SG_REC_TICKET_VERSION) also i64 first_response_at,
 *   i64 first_response_due, i64 resolved_at, i64 paused_since,
 *   i64 paused_secs, i64 paused_bsecs, u32 reopens, u8 sla_fired,
 *   u8 rating (0..5), str reason, str service. A version 1 ticket reads
 *   with these zero/NULL; writers always write version 2 (an older
 *   release refuses it rather than rewrite it without the SLA bits).
 * Message summary (messages.db): ver, u64 ticket, u32 seq, u8 direction,
 *   u32 flags, str from, str message_id, str subject, i64 date,
 *   i64 received, u64 size (original size; raw.db may hold less when
 *   SG_MSG_TRUNCATED is set)
 * Event (events.db): ver, u64 ticket, u32 seq, i64 time, str type,
 *   str actor, str detail
 * Message-ID index (msgid.db): ver, u64 ticket, u32 seq
 * Outbound job (jobs.db, key u64 job id): ver, u64 id, u64 ticket,
 *   u8 kind, u8 state, i64 created, i64 due, u32 attempts,
 *   str last_error, str what, str mail_from, list rcpts, blob payload
 *   (blob = u32 length + bytes)
 *
 * Decoders never read past the buffer: truncated or corrupt input, input
 * over a limit (below), or an unknown version, returns -1 and leaves
 * nothing allocated. Bytes after the last field are ignored (a later
 * release may append fields).
 */
#ifndef SG_RECORD_H
#define SG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "model/ticket.h"
#include "store/schema.h"

#define SG_REC_VERSION 1
#define SG_REC_TICKET_VERSION 2   /* tickets only; reads 1 and 2 */

#define SG_MSG_TRUNCATED 0x1u

/*
 * Limits. No input may make a record unreadable: writers enforce the same
 * limits readers check. A reader refuses a str longer than SG_REC_MAX_STR,
 * a list of more than SG_REC_MAX_LIST entries or SG_REC_MAX_LIST_BYTES
 * (its entries with their length words), a payload over
 * SG_REC_MAX_PAYLOAD (a forwarded message of the largest
 * max_message_size, 1 GiB, with our headers), a record over
 * SG_REC_MAX_RECORD, and any enum byte out of range. sg_buf_str() and
 * sg_buf_list() cut what is over (a string on a UTF-8 character boundary,
 * a list after the last entry that fits); the job encoder cuts the
 * payload; every record a writer can produce fits in SG_REC_MAX_RECORD
 * (checked at compile time). Encoders given an enum out of range (a bug)
 * log it and write a valid value: status open, priority normal,
 * direction internal, and a job of an unknown kind or state is written
 * as a dead letter, kept for a person and never run.
 */
#define SG_REC_MAX_STR (1024u * 1024)
#define SG_REC_MAX_LIST 100000u
#define SG_REC_MAX_LIST_BYTES (8u * 1024 * 1024)
#define SG_REC_MAX_PAYLOAD (1024u * 1024 * 1024 + 1024 * 1024)
#define SG_REC_MAX_RECORD (SG_REC_MAX_PAYLOAD + 16u * 1024 * 1024)

/* Summary of one stored message (the raw bytes are kept apart). */
struct sg_msgrec {
	uint64_t ticket;
	uint32_t seq;
	enum sg_direction direction;
	uint32_t flags;
	char *from;
	char *message_id;
	char *subject;
	int64_t date;
	int64_t received;
	uint64_t size;
	/* Not part of the record: the content digest (SG_MSGID_DIGEST_LEN
	 * bytes) kept beside the Message-ID in its index, or NULL. */
	const unsigned char *digest;
};

enum sg_job_kind { SG_JOB_SMTP = 0, SG_JOB_WEBHOOK = 1 };
#define SG_JOB_KIND_COUNT 2
enum sg_job_state { SG_JOB_QUEUED = 0, SG_JOB_DEAD = 1 };
#define SG_JOB_STATE_COUNT 2

/* An outbound job: a rendered message (or webhook payload) to deliver. */
struct sg_job {
	uint64_t id;
	uint64_t ticket;
	uint8_t kind;
	uint8_t state;
	int64_t created;
	int64_t due;
	uint32_t attempts;
	char *last_error;
	char *what;             /* "ack", "notice", ... for logs and events */
	char *mail_from;
	struct sg_strlist rcpts;
	char *payload;          /* NUL-terminated copy, payload_len bytes */
	size_t payload_len;
};

/* A growing byte buffer; owned by the caller, free(b->data) when done. */
struct sg_buf {
	unsigned char *data;
	size_t len, cap;
};

void sg_buf_u8(struct sg_buf *b, uint8_t v);
void sg_buf_u32(struct sg_buf *b, uint32_t v);
void sg_buf_u64(struct sg_buf *b, uint64_t v);
void sg_buf_i64(struct sg_buf *b, int64_t v);
void sg_buf_str(struct sg_buf *b, const char *s);    /* cut to SG_REC_MAX_STR */
void sg_buf_list(struct sg_buf *b, const struct sg_strlist *l);   /* cut to the list limits */

/* A bounds-checked reader; every get returns 0 or -1 (and sets bad). */
struct sg_reader {
	const unsigned char *p;
	size_t len, off;
	int bad;
};
int sg_rd_u8(struct sg_reader *r, uint8_t *v);
int sg_rd_u32(struct sg_reader *r, uint32_t *v);
int sg_rd_u64(struct sg_reader *r, uint64_t *v);
int sg_rd_i64(struct sg_reader *r, int64_t *v);
int sg_rd_str(struct sg_reader *r, char **s);   /* new string or NULL */
int sg_rd_list(struct sg_reader *r, struct sg_strlist *l);

/* Encoders append to b (which may be empty); decoders fill a zeroed struct. */
void sg_rec_ticket_encode(struct sg_buf *b, const struct sg_ticket *t);
int sg_rec_ticket_decode(const void *p, size_t len, struct sg_ticket *t);
void sg_rec_msg_encode(struct sg_buf *b, const struct sg_msgrec *m);
int sg_rec_msg_decode(const void *p, size_t len, struct sg_msgrec *m);
void sg_msgrec_clear(struct sg_msgrec *m);
void sg_rec_event_encode(struct sg_buf *b, const struct sg_event *e);
void sg_rec_job_encode(struct sg_buf *b, const struct sg_job *j);
int sg_rec_job_decode(const void *p, size_t len, struct sg_job *j);
void sg_job_clear(struct sg_job *j);
int sg_rec_event_decode(const void *p, size_t len, struct sg_event *e);

#endif
