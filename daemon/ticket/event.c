/*
 * event — see event.h.
 */
#include "config.h"
#include "ticket/event.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/log.h"
#include "store/store.h"

#define MOD "event"

/* The names are the store format: never rename one. */
static const char *const type_names[SG_EV_COUNT] = {
	[SG_EV_CREATED] = "created", [SG_EV_STATUS] = "status", [SG_EV_PRIORITY] = "priority",
	[SG_EV_QUEUE] = "queue", [SG_EV_ASSIGNEE] = "assignee", [SG_EV_TAGS] = "tags",
	[SG_EV_SEGMENT] = "segment", [SG_EV_SLA] = "sla", [SG_EV_NOTE] = "note",
	[SG_EV_LINKED] = "linked", [SG_EV_TOKEN_REFUSED] = "token-refused", [SG_EV_BOUNCE] = "bounce",
	[SG_EV_TRUNCATED] = "truncated", [SG_EV_ACK] = "ack", [SG_EV_ACK_SUPPRESSED] = "ack-suppressed",
	[SG_EV_NOTIFY] = "notify", [SG_EV_FORWARD] = "forward", [SG_EV_WEBHOOK] = "webhook",
	[SG_EV_PINGPONG] = "ping-pong", [SG_EV_SENT] = "sent", [SG_EV_DEAD_LETTER] = "dead-letter",
	[SG_EV_PARTICIPANTS] = "participants", [SG_EV_MSGID_REUSED] = "msgid-reused",
	[SG_EV_REPLY] = "reply", [SG_EV_RATING] = "rating", [SG_EV_STATUS_SENT] = "status-sent",
	[SG_EV_MERGED] = "merged",
	[SG_EV_SLA_WARNING] = "sla-warning", [SG_EV_SLA_BREACH] = "sla-breach", [SG_EV_REOPENED] = "reopened",
	[SG_EV_SERVICE] = "service", [SG_EV_REASON] = "reason",
};

static struct {
	sg_event_fn fn;
	void *arg;
} subs[SG_EV_COUNT][SG_EVENT_MAX_SUBS];
static size_t nsubs[SG_EV_COUNT];

const char *
sg_event_type_name(enum sg_event_type type)
{
	return (unsigned)type < SG_EV_COUNT && type_names[type] ? type_names[type] : "unknown";
}

void
sg_event_subscribe(enum sg_event_type type, sg_event_fn fn, void *arg)
{
	if ((unsigned)type >= SG_EV_COUNT || nsubs[type] >= SG_EVENT_MAX_SUBS)
		sg_panic(MOD, "too many subscribers for event %s", sg_event_type_name(type));
	for (size_t i = 0; i < nsubs[type]; i++)
		if (subs[type][i].fn == fn && subs[type][i].arg == arg)
			return;   /* subscribing twice is harmless */
	subs[type][nsubs[type]].fn = fn;
	subs[type][nsubs[type]].arg = arg;
	nsubs[type]++;
}

void
sg_event_unsubscribe_all(void)
{
	for (size_t i = 0; i < SG_EV_COUNT; i++)
		nsubs[i] = 0;
}

static int
record(struct sg_op *op, uint64_t id, struct sg_ticket *t, enum sg_event_type type, const char *old_value,
       const char *new_value, const char *fmt, va_list ap)
{
	char *detail = NULL;
	int rc;

	if (vasprintf(&detail, fmt, ap) < 0)
		sg_panic(MOD, "out of memory");
	/* A detail is one line of the trail; values from mail may hold CR/LF. */
	for (char *p = detail; *p; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	rc = sg_store_event_add(op->st, op->txn, id, sg_event_type_name(type), op->actor ? op->actor : "system",
				detail);
	struct sg_event_view ev = {
		.type = type, .ticket = id, .actor = op->actor ? op->actor : "system",
		.old_value = old_value, .new_value = new_value, .detail = detail,
	};
	for (size_t i = 0; rc == 0 && i < nsubs[type]; i++)
		rc = subs[type][i].fn(op, t, &ev, subs[type][i].arg);
	free(detail);
	return rc;
}

int
sg_event_emit(struct sg_op *op, struct sg_ticket *t, enum sg_event_type type, const char *old_value,
	      const char *new_value, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record(op, t->id, t, type, old_value, new_value, fmt, ap);
	va_end(ap);
	return rc;
}

int
sg_event_emit_id(struct sg_op *op, uint64_t ticket, enum sg_event_type type, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = record(op, ticket, NULL, type, NULL, NULL, fmt, ap);
	va_end(ap);
	return rc;
}
