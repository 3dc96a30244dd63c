/*
 * state — what ingest knows about one message on its way through
 * identify.c, route.c and ingest.c (internal to daemon/ingest).
 *
 * Filled in three steps:
 *   1. facts of the message (parse, sender, support recipient, claims);
 *   2. the decision, made BEFORE the write transaction with read-only
 *      lookups: which ticket the message belongs to, what the rules say,
 *      the rendered acknowledgement and notices, a ticket id for a new
 *      ticket;
 *   3. results of the transaction, which only re-checks and writes.
 */
#ifndef SG_INGEST_STATE_H
#define SG_INGEST_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "ingest/ingest.h"
#include "mail/message.h"
#include "model/ticket.h"
#include "notice/compose.h"
#include "cmd/parse.h"
#include "rules/rules.h"
#include "store/schema.h"

struct sg_ingest_state {
	/* 1. facts */
	const struct sg_conf *c;
	const struct sg_ingest_in *in;
	const char *door;               /* sg_door_name(in->door), for rules and events */
	struct sg_msginfo *mi;
	int unparsed;                   /* mi is empty: the bytes did not parse */
	const char *msgid;              /* the message's id, our synthetic one, or the reused one's */
	char *synth_msgid;
	unsigned char digest[SG_MSGID_DIGEST_LEN];  /* content digest kept beside the id */
	int msgid_reused;               /* a known id with other content: stored under its own */
	int dup_discard;                /* a retry of a mail whose first copy went nowhere */
	char *sender;                   /* normalised From (or envelope), or NULL */
	char *support_rcpt;             /* first support recipient, base form */
	uint64_t plus_id;               /* from support+N@, 0 none */
	int plus_check;                 /* enum sg_check */
	/* 2. identification (identify.c): the same lookups before and in the transaction */
	uint64_t ticket;                /* granted claim, 0 = new ticket */
	uint64_t claimed;               /* a claim refused, or 0 */
	int claimed_exists;             /* ... on a ticket that exists */
	const char *agent;              /* the proven agent who writes, or NULL */
	const char *unverified_agent;   /* From is a declared agent, not proven */
	char *why_refused;
	const char *via;                /* how the claim was made */
	int bounce;                     /* a delivery report about our mail */
	uint64_t linked;                /* closed too long ago: new ticket continues it */
	uint64_t identified;            /* what identification answered before the transaction */
	int identified_bounce;
	/* 2. decision (route.c, ingest.c) */
	struct sg_route route;
	int refused;                    /* rules said reject/tempfail: nothing stored */
	int own_mail;                   /* from our own support address: a loop, nothing stored */
	uint64_t new_id;                /* id taken for a new ticket */
	struct sg_rendered ack;         /* rendered acknowledgement, or why not */
	const char *ack_skip;           /* loop guard that suppresses it, or NULL */
	int ack_wanted;
	struct sg_rendered *notices;    /* rule "notify" notices (then blind notices), rendered */
	size_t nnotices;
	const struct sg_queue_def *blind;  /* a blind queue: agents get notices, not the mail */
	/* 2. agents' mail (agent.c) */
	int agent_mode;                 /* enum sg_agent_mode */
	uint64_t agent_target;          /* the ticket the agent's mail is about */
	struct sg_strlist late_errors;  /* refused in the transaction: decide again with them */
	struct sg_cmdlist cmds;
	struct sg_strlist cmd_errors;
	struct sg_rendered relay;       /* the reply as the customer gets it */
	struct sg_rendered agent_reply; /* to the agent: errors, unverified sender */
	/* 2. customers' requests (customer.c) */
	struct sg_rendered *status_answers;
	uint64_t *status_ids;
	size_t nstatus;
	int rating;                     /* 1-5 on a resolved ticket, 0 none */
	/* 3. results */
	enum sg_verdict verdict;
	struct sg_ticket t;
	size_t jobs;
};

#define SG_ING_REDECIDE 100     /* internal: the transaction saw another answer */

/* identify.c */
int sg_identify_recipients(struct sg_ingest_state *s);
int sg_identify(struct sg_store *st, struct sg_txn *txn, struct sg_ingest_state *s);
int sg_identify_is_participant(const struct sg_ticket *t, const char *addr);
#define SG_TICKET_MAX_PARTICIPANTS 25
/* Returns how many addresses the cap kept out. */
size_t sg_identify_add_participants(struct sg_ticket *t, const struct sg_ingest_state *s, int newticket);
char *sg_identify_synthetic_msgid(const char *raw, size_t len);
void sg_identify_digest(struct sg_ingest_state *s);
char *sg_identify_reused_msgid(const struct sg_ingest_state *s);

/* agent.c */
enum sg_agent_mode {
	SG_AGENT_NONE = 0,
	SG_AGENT_REPLY,         /* text for the customer (and maybe commands) */
	SG_AGENT_COMMANDS,      /* only commands: the implied notices go out */
	SG_AGENT_NOTE,          /* #note: kept internal, copied to the queue's agents */
	SG_AGENT_ERROR,         /* a bad command: nothing changes, the agent is told */
	SG_AGENT_UNVERIFIED,    /* From an agent without proof: internal note, sender told */
};
int sg_agent_decide(struct sg_store *st, struct sg_ingest_state *s, const struct sg_ticket *snap);
int sg_agent_write(struct sg_op *op, struct sg_ingest_state *s);
void sg_agent_clear(struct sg_ingest_state *s);

/* keep.c: the message in the ticket's history; *seq its number, *kept
 * the bytes stored (less than in->len when cut at max_message_size). */
int sg_keep_message(struct sg_op *op, struct sg_ingest_state *s, enum sg_direction dir, const char *from,
		    uint32_t *seq, size_t *kept);

/* customer.c */
int sg_customer_is_status_request(const struct sg_ingest_state *s);
int sg_customer_decide_status(struct sg_store *st, struct sg_ingest_state *s);
int sg_customer_write_status(struct sg_op *op, struct sg_ingest_state *s);
void sg_customer_find_rating(struct sg_ingest_state *s);
int sg_customer_write_rating(struct sg_op *op, struct sg_ingest_state *s);
void sg_customer_clear(struct sg_ingest_state *s);

/* route.c */
void sg_route_decide(struct sg_ingest_state *s, const struct sg_ticket *existing);
int sg_route_apply_new(struct sg_op *op, struct sg_ingest_state *s);
int sg_route_apply_followup(struct sg_op *op, struct sg_ingest_state *s);
const char *sg_route_destination(const struct sg_conf *c, const struct sg_ticket *t);
int sg_route_forward(struct sg_op *op, struct sg_ingest_state *s);

#endif
