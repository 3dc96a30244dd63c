/*
 * clock — timers on tickets, kept in the due-time index (sched/due.h):
 * the automatic close of resolved tickets (autoclose_days) and the SLA
 * thresholds (ticket/slatime.h keeps their entries).
 *
 * sg_clock_subscribe(): at start-up (from sg_ingest_init): a ticket
 *   becoming resolved schedules its close, in the same transaction.
 * sg_clock_run_once(): close every resolved ticket whose time has come
 *   (now as given, for tests; the daemon passes time(NULL)), each in its
 *   own transaction through the ticket operations, so the closed notice
 *   and the events follow as for any close. A ticket that was reopened is
 *   left alone (its entry dropped); one changed since its resolution is
 *   rescheduled from its last change. *fired (may be NULL) counts the
 *   closes. Reads only what is due. Returns 0 or a store code.
 * sg_clock_run_sla(): fire every SLA threshold due by now: each entry in
 *   its own transaction, which sets the threshold's sla_fired bit, records
 *   "sla-warning" or "sla-breach" (whose subscribers send the escalation
 *   notices, notice/react.c), sets the system's overdue reason at a breach
 *   when none is set ("not assigned"; "waiting on another team" once the
 *   ticket has been transferred; else "no agent reply"), and moves the
 *   ticket's timer to its next threshold, all committed together: a
 *   threshold fires once per ticket, also across restarts and on another
 *   node sharing the store. A ticket found past its due with the warning
 *   not yet fired gets the breach only (both bits set). An entry that no
 *   longer matches the ticket (a reply came, a rules reload moved the
 *   target) is dropped or moved. *fired counts thresholds fired.
 *   Reads only what is due (at most SG_CLOCK_BATCH entries a kind).
 * sg_clock_start()/sg_clock_stop(): the daemon's timer thread (a pass a
 *   minute: autoclose, then the SLA thresholds).
 */
#ifndef SG_CLOCK_H
#define SG_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct sg_store;
struct sg_conf;

void sg_clock_subscribe(void);
int sg_clock_run_once(struct sg_store *st, const struct sg_conf *c, int64_t now, size_t *fired);
int sg_clock_run_sla(struct sg_store *st, const struct sg_conf *c, int64_t now, size_t *fired);
int sg_clock_start(struct sg_store *st);
void sg_clock_stop(void);

#endif
