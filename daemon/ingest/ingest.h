/*
 * ingest — the one entry point both doors (milter, IMAP, and the CLI's
 * `supportgate ingest`) call with a message. It parses (message.h),
 * identifies the ticket (DESIGN.md "Identity of a message"), records
 * everything in ONE store transaction and returns the decision. When
 * sg_ingest() returns SG_ING_OK the transaction is committed and durable;
 * only then may the door act on the decision (DESIGN.md "commit before you
 * answer").
 *
 * Ownership: the caller owns in (nothing is kept); out is filled with heap
 * memory released by sg_decision_clear() (safe to call twice).
 * Header values in the decision are ready to use: RFC 2047-encoded where
 * needed and free of CR, LF and NUL.
 * Blocking: does disk I/O (Berkeley DB commit with fsync by default).
 */
#ifndef SG_INGEST_H
#define SG_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "model/ticket.h"

struct sg_store;

enum sg_door {
	SG_DOOR_MILTER = 0,
	SG_DOOR_IMAP,
	SG_DOOR_CLI,
};

struct sg_ingest_in {
	const char *raw;            /* whole message, CRLF or LF line ends */
	size_t len;
	const char *env_from;       /* envelope sender, "" for the null path */
	const char *const *env_rcpt;
	size_t nrcpt;
	enum sg_door door;
	const char *auth_user;      /* SMTP AUTH identity ({auth_authen}) or NULL */
	const char *client_addr;    /* or NULL */
	const char *queue_id;       /* MTA queue id ({i}) or NULL, for logs */
	/* Optional door bookkeeping written atomically with the message (the
	 * IMAP door's UID checkpoint): when kv_name is not NULL, every write
	 * transaction sg_ingest() commits also puts kv_val (kv_len bytes)
	 * under kv_name with sg_store_kv_put(). When no transaction runs
	 * (duplicate, ignored, refused, any error) nothing is written: the
	 * door writes it itself if it still wants it. */
	const char *kv_name;
	const void *kv_val;
	size_t kv_len;
};

enum sg_verdict {
	SG_V_NEW = 0,        /* a new ticket was opened */
	SG_V_FOLLOWUP,       /* added to an existing ticket */
	SG_V_DUPLICATE,      /* Message-ID already stored: nothing changed;
	                        the decision still marks the copy like the first */
	SG_V_IGNORED,        /* not support mail (no support recipient) */
	SG_V_AGENT,          /* an agent's reply, commands or note: handled here,
	                        the original goes nowhere (milter: discard) */
	SG_V_STATUS,         /* a customer asked for the status: answered */
};

enum sg_ingest_err {
	SG_ING_OK = 0,
	SG_ING_ESTORE,       /* store failed; nothing committed */
	SG_ING_EPARSE,       /* message unusable; nothing committed */
	SG_ING_ERESOURCE,    /* out of a resource; nothing committed */
	SG_ING_EINTERNAL,
};

struct sg_header_op {
	char *name;
	char *value;
};

struct sg_decision {
	enum sg_verdict verdict;
	uint64_t ticket;
	uint64_t claimed;            /* token number claimed but refused, or 0 */
	char *token;                 /* "[TAG #N]" or with check */
	char *subject;               /* new Subject header value, or NULL: keep */
	char *reply_to;              /* new Reply-To value, or NULL */
	struct sg_header_op *add;    /* headers to add (after removing ours) */
	size_t nadd;
	struct sg_strlist rcpt_add;  /* envelope recipients to add */
	struct sg_strlist rcpt_del;  /* envelope recipients to remove */
	size_t jobs;                 /* outbound jobs created */
	char *reject;                /* rule says reject with this text (milter door) */
	int tempfail;                /* rule says tempfail (milter door) */
	int quarantine;              /* rule says quarantine (milter door) */
	int discard;                 /* handled completely: the MTA drops its copy */
	char *reason;                /* one line explaining the verdict */
	int unparsed;                /* the message could not be parsed: stored raw */
};

const char *sg_verdict_name(enum sg_verdict v);
const char *sg_door_name(enum sg_door d);

/* Register the reactions to ticket events (notices; next webhooks, SLA
 * clocks) once at start-up, before threads: every program that changes
 * tickets calls it (the daemon, the CLI, tests). */
void sg_ingest_init(void);

int sg_ingest(struct sg_store *st, const struct sg_conf *c,
	      const struct sg_ingest_in *in, struct sg_decision *out);
void sg_decision_clear(struct sg_decision *d);

#endif
