/*
 * ticket — see ticket.h.
 */
#include "config.h"
#include "model/ticket.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const status_names[SG_ST_COUNT] = {
	"new", "open", "pending", "resolved", "closed",
};
static const char *const prio_names[SG_PRIO_COUNT] = {
	"low", "normal", "high", "urgent",
};

const char *
sg_status_name(enum sg_status s)
{
	return (unsigned)s < SG_ST_COUNT ? status_names[s] : "unknown";
}

int
sg_status_parse(const char *name)
{
	for (int i = 0; i < SG_ST_COUNT; i++)
		if (strcasecmp(name, status_names[i]) == 0)
			return i;
	return -1;
}

const char *
sg_priority_name(enum sg_priority p)
{
	return (unsigned)p < SG_PRIO_COUNT ? prio_names[p] : "unknown";
}

int
sg_priority_parse(const char *name)
{
	for (int i = 0; i < SG_PRIO_COUNT; i++)
		if (strcasecmp(name, prio_names[i]) == 0)
			return i;
	return -1;
}

const char *
sg_direction_name(enum sg_direction d)
{
	switch (d) {
	case SG_DIR_IN: return "in";
	case SG_DIR_OUT: return "out";
	case SG_DIR_INTERNAL: return "internal";
	}
	return "unknown";
}

/*
 * Legal moves. Anything may be closed; a closed ticket only comes back by
 * an explicit reopen (to open); resolved reopens on a customer reply.
 */
int
sg_ticket_transition_ok(enum sg_status from, enum sg_status to)
{
	if (from == to)
		return 1;
	switch (from) {
	case SG_ST_NEW:
		return 1;
	case SG_ST_OPEN:
	case SG_ST_PENDING:
		return to != SG_ST_NEW;
	case SG_ST_RESOLVED:
		return to == SG_ST_OPEN || to == SG_ST_CLOSED;
	case SG_ST_CLOSED:
		return to == SG_ST_OPEN;
	}
	return 0;
}

void
sg_ticket_clear(struct sg_ticket *t)
{
	free(t->subject);
	free(t->requestor);
	free(t->requestor_name);
	free(t->queue);
	free(t->assignee);
	free(t->sla_tier);
	free(t->segment);
	free(t->language);
	free(t->reason);
	free(t->service);
	sg_strlist_clear(&t->participants);
	sg_strlist_clear(&t->tags);
	memset(t, 0, sizeof(*t));
}

void
sg_event_clear(struct sg_event *e)
{
	free(e->type);
	free(e->actor);
	free(e->detail);
	memset(e, 0, sizeof(*e));
}
