/*
 * clock — timers on tickets, kept in the due-time index (sched/due.h):
 * today the automatic close of resolved tickets (autoclose_days); the
 * SLA thresholds come next, as further kinds.
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
 * sg_clock_start()/sg_clock_stop(): the daemon's timer thread (a pass a
 *   minute).
 */
#ifndef SG_CLOCK_H
#define SG_CLOCK_H

#include <stddef.h>
#include <stdint.h>

struct sg_store;
struct sg_conf;

void sg_clock_subscribe(void);
int sg_clock_run_once(struct sg_store *st, const struct sg_conf *c, int64_t now, size_t *fired);
int sg_clock_start(struct sg_store *st);
void sg_clock_stop(void);

#endif
