/*
 * ticket — the ticket data model shared by the store, ingest and the CLI.
 *
 * Plain structs; strings are heap-allocated (xalloc) and owned by the
 * struct. sg_ticket_clear() frees every member and zeroes the struct; it is
 * safe to call twice. Times are Unix seconds (UTC).
 *
 * Status life cycle (PRODUCT.md T3): new -> open -> pending -> resolved ->
 * closed. sg_ticket_transition_ok() says which moves are legal.
 *
 * The SLA fields are kept by the ticket operations (ticket/ops.c) on
 * every status move: resolved_at is set on each move to resolved and kept
 * after a reopen (status says whether it still is); a move out of
 * pending adds the pause to paused_secs/paused_bsecs and clears
 * paused_since; a move from resolved or closed to new/open/pending counts
 * a reopen. first_response_at is set by the first relayed agent reply,
 * rating by each customer rating.
 */
#ifndef SG_TICKET_H
#define SG_TICKET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/strlist.h"

enum sg_status {
	SG_ST_NEW = 0,
	SG_ST_OPEN,
	SG_ST_PENDING,
	SG_ST_RESOLVED,
	SG_ST_CLOSED,
};
#define SG_ST_COUNT 5

enum sg_priority {
	SG_PRIO_LOW = 0,
	SG_PRIO_NORMAL,
	SG_PRIO_HIGH,
	SG_PRIO_URGENT,
};
#define SG_PRIO_COUNT 4

enum sg_direction {
	SG_DIR_IN = 0,       /* from a customer */
	SG_DIR_OUT,          /* from us / an agent to the customer */
	SG_DIR_INTERNAL,     /* agent note, never sent to the customer */
};


struct sg_ticket {
	uint64_t id;
	enum sg_status status;
	enum sg_priority priority;
	char *subject;          /* decoded UTF-8, first message's subject */
	char *requestor;        /* lower-cased address */
	char *requestor_name;   /* display name, UTF-8, may be NULL */
	char *queue;            /* may be NULL: default queue */
	char *assignee;         /* agent address, may be NULL */
	char *sla_tier;
	char *segment;
	char *language;         /* "en", "ru", ... may be NULL */
	struct sg_strlist participants; /* lower-cased addresses, requestor first */
	struct sg_strlist tags;
	int64_t created;
	int64_t updated;
	int64_t closed_at;      /* 0 when not closed */
	int64_t due;            /* SLA resolution due, 0 when none */
	uint64_t linked;        /* earlier ticket this one continues, 0 none */
	uint32_t nmessages;
	uint32_t nevents;
	uint32_t transfers;
	/* SLA and quality (ticket record version 2; zero in older records) */
	int64_t first_response_at;   /* first agent reply relayed to the customer (SG_EV_REPLY), 0 none */
	int64_t first_response_due;  /* SLA first-response due, 0 none (due stays the resolution due) */
	int64_t resolved_at;         /* latest change to resolved, 0 none */
	int64_t paused_since;        /* entered pending (waiting for the customer), 0 when not pending */
	int64_t paused_secs;         /* total calendar seconds spent pending */
	int64_t paused_bsecs;        /* the same in business seconds of the ticket's tier calendar */
	uint32_t reopens;            /* times reopened after resolved/closed */
	uint8_t sla_fired;           /* SG_SLA_* bits: thresholds already fired (exactly once) */
	uint8_t rating;              /* latest customer rating 1..5, 0 none */
	char *reason;                /* overdue reason (agent or system), NULL none */
	char *service;               /* service catalogue entry, NULL none */
};

/* sla_fired bits: each threshold fires once per ticket. */
#define SG_SLA_FR_WARN 0x1u
#define SG_SLA_FR_BREACH 0x2u
#define SG_SLA_RES_WARN 0x4u
#define SG_SLA_RES_BREACH 0x8u

struct sg_event {
	uint64_t ticket;
	uint32_t seq;
	int64_t time;
	char *type;     /* "created", "status", "queue", "assignee", ... */
	char *actor;    /* "system", an address, or "rule:NAME" */
	char *detail;   /* free text, UTF-8 */
};

const char *sg_status_name(enum sg_status s);
int sg_status_parse(const char *name);          /* -1 when unknown */
const char *sg_priority_name(enum sg_priority p);
int sg_priority_parse(const char *name);        /* -1 when unknown */
const char *sg_direction_name(enum sg_direction d);
int sg_ticket_transition_ok(enum sg_status from, enum sg_status to);


void sg_ticket_clear(struct sg_ticket *t);
void sg_event_clear(struct sg_event *e);

#endif
