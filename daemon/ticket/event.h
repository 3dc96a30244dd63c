/*
 * event — typed ticket events, recorded inside the transaction that makes
 * the change, and the reactions subscribed to them (DESIGN.md "Events").
 *
 * Every change to a ticket goes through a ticket operation (ops.h), and
 * every operation records one event of a declared type here. Recording an
 * event appends it to the ticket's audit trail (events.db, the type's
 * stable name as written in older stores) and then runs, in the same
 * transaction, each subscriber of that type in subscription order:
 * notices (notice/), and next webhooks, SLA clocks and metrics. A
 * subscriber's error aborts the change like a store error (the caller
 * retries the whole transaction on SG_STORE_DEADLOCK), so a reaction
 * exists iff the change that caused it was committed.
 *
 * struct sg_op is one change in progress: the store, its write
 * transaction, the configuration, one clock reading for the whole change,
 * who acts ("system", "rule:NAME", an agent's address, the CLI user) and
 * the MTA queue id for logs. Reactions add the outbound jobs they create
 * to op->jobs.
 *
 * sg_event_subscribe(): at start-up, before any thread records events
 *   (the table is not locked). At most SG_EVENT_MAX_SUBS per type; more is
 *   a programming error (panic).
 * sg_event_unsubscribe_all(): tests only.
 * sg_event_emit(): record type on ticket t (t->id; t is the ticket as it
 *   is after the change, not yet written: subscribers may add to it, e.g.
 *   a notice stored in its history). old/new (may be NULL) are the values
 *   before and after for subscribers; detail is printf-formatted for the
 *   trail. Returns 0 or a store code.
 * sg_event_emit_id(): the same for a ticket that is not loaded (outbound
 *   results, the other side of a link); subscribers get t == NULL.
 * Both block on the store.
 */
#ifndef SG_EVENT_H
#define SG_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "model/ticket.h"

struct sg_store;
struct sg_txn;
struct sg_conf;

enum sg_event_type {
	SG_EV_CREATED = 0,      /* "created": a new ticket */
	SG_EV_STATUS,           /* "status" */
	SG_EV_PRIORITY,         /* "priority" */
	SG_EV_QUEUE,            /* "queue" */
	SG_EV_ASSIGNEE,         /* "assignee" */
	SG_EV_TAGS,             /* "tags" */
	SG_EV_SEGMENT,          /* "segment" */
	SG_EV_SLA,              /* "sla" */
	SG_EV_NOTE,             /* "note": internal comment */
	SG_EV_LINKED,           /* "linked": continues / continued in */
	SG_EV_TOKEN_REFUSED,    /* "token-refused": a claim not granted */
	SG_EV_BOUNCE,           /* "bounce": a delivery report about our mail */
	SG_EV_TRUNCATED,        /* "truncated": stored cut to max_message_size */
	SG_EV_ACK,              /* "ack": acknowledgement queued */
	SG_EV_ACK_SUPPRESSED,   /* "ack-suppressed" */
	SG_EV_NOTIFY,           /* "notify": a notice queued */
	SG_EV_FORWARD,          /* "forward": copy to the assignee/queue (IMAP door) */
	SG_EV_WEBHOOK,          /* "webhook" */
	SG_EV_PINGPONG,         /* "ping-pong": more than two transfers */
	SG_EV_SENT,             /* "sent": an outbound job delivered */
	SG_EV_DEAD_LETTER,      /* "dead-letter" */
	SG_EV_PARTICIPANTS,     /* "participants": the cap kept someone out */
	SG_EV_MSGID_REUSED,     /* "msgid-reused": a known Message-ID, other content */
	SG_EV_REPLY,            /* "reply": an agent's reply relayed to the customer */
	SG_EV_RATING,           /* "rating": the customer's 1-5 and comment */
	SG_EV_STATUS_SENT,      /* "status-sent": a status notice queued to the customer */
	SG_EV_MERGED,           /* "merged": one ticket merged into another (on both) */
	SG_EV_SLA_WARNING,      /* "sla-warning": a share of an SLA target passed (new_value "first-response"/"resolution") */
	SG_EV_SLA_BREACH,       /* "sla-breach": an SLA target missed (new_value as above) */
	SG_EV_REOPENED,         /* "reopened": back from resolved/closed (a quality signal) */
	SG_EV_SERVICE,          /* "service": the service catalogue entry */
	SG_EV_REASON,           /* "reason": the overdue reason */
	SG_EV_COUNT
};

#define SG_EVENT_MAX_SUBS 8

struct sg_op {
	struct sg_store *st;
	struct sg_txn *txn;
	const struct sg_conf *c;
	int64_t now;
	const char *actor;
	const char *queue_id;   /* MTA queue id or NULL */
	int quiet;              /* #quiet: reactions send nothing to the customer */
	size_t jobs;            /* outbound jobs made by this change */
};

struct sg_event_view {
	enum sg_event_type type;
	uint64_t ticket;
	const char *actor;
	const char *old_value;  /* may be NULL */
	const char *new_value;  /* may be NULL */
	const char *detail;
};

typedef int (*sg_event_fn)(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg);

const char *sg_event_type_name(enum sg_event_type type);
void sg_event_subscribe(enum sg_event_type type, sg_event_fn fn, void *arg);
void sg_event_unsubscribe_all(void);

int sg_event_emit(struct sg_op *op, struct sg_ticket *t, enum sg_event_type type, const char *old_value,
		  const char *new_value, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
int sg_event_emit_id(struct sg_op *op, uint64_t ticket, enum sg_event_type type, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
