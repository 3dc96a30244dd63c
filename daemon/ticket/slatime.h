/*
 * slatime — a ticket's SLA due times and its SLA timers in the due-time
 * index (sched/due.h): what the ticket operations keep in step with
 * every change, and what daemon/sla/clock.c fires.
 *
 * The targets come from the ticket's tier (sla_tier: first response and
 * resolution, its calendar, its warning share) and its service (service:
 * the normative resolution time replaces the tier's, and the service's
 * calendar, when it has one, the tier's). Both count from t->created, on
 * the calendar (NULL: 24x7 UTC): a duration in business seconds, "3bd" in
 * business days (calendar/calendar.h).
 *
 * Due times: first_response_due = created + first-response target;
 * due (resolution) = created + resolution target, moved later by the
 * business time spent pending (paused_bsecs) and by the business time
 * between a resolution and a reopen.
 *
 * Timers, one due-index entry per ticket and kind at most:
 *   SG_DUE_SLA_FR   while no first response has been relayed, the ticket
 *                   is not resolved or closed, and the breach has not
 *                   fired: at the warning (share of the target) until it
 *                   fired, then at the due time;
 *   SG_DUE_SLA_RES  while the ticket is new or open (pending, resolved and
 *                   closed stop the clock): the same for resolution.
 * The entry's time is a function of the ticket and the rules
 * (sg_slatime_next), so an operation computes it before and after its
 * change and moves the entry (sg_slatime_resched) in its transaction; an
 * entry left behind by a rules reload is dropped when it comes due.
 *
 * Nothing here blocks except sg_slatime_resched (the store). No function
 * keeps state.
 */
#ifndef SG_SLATIME_H
#define SG_SLATIME_H

#include <stdint.h>

#include "model/ticket.h"
#include "ticket/event.h"

struct sg_conf;
struct sg_calendar;

enum sg_slatime_kind { SG_SLATIME_FR = 0, SG_SLATIME_RES = 1 };

struct sg_slatime_next {
	int64_t at[2];   /* per kind: when the entry is due, 0 none */
};

/* The calendar the ticket's clocks count on (NULL: 24x7 UTC). */
const struct sg_calendar *sg_slatime_calendar(const struct sg_conf *c, const struct sg_ticket *t);
/* The warning share in percent for the ticket. */
int sg_slatime_warn_pct(const struct sg_conf *c, const struct sg_ticket *t);
/* Recompute first_response_due and due from the tier and service (0 when
 * there is no target). */
void sg_slatime_compute(const struct sg_conf *c, struct sg_ticket *t);
/* The moments the warning of kind fires (0 none). */
int64_t sg_slatime_warn_at(const struct sg_conf *c, const struct sg_ticket *t, enum sg_slatime_kind kind);
/* Where the ticket's timers belong now. */
void sg_slatime_next(const struct sg_conf *c, const struct sg_ticket *t, struct sg_slatime_next *out);
/* Move the entries from before (sg_slatime_next before the change) to
 * where they belong now. Returns 0 or a store code. */
int sg_slatime_resched(struct sg_op *op, const struct sg_ticket *t, const struct sg_slatime_next *before);

#endif
