/*
 * retention — the lifetime of personal data (GDPR, Russia's 152-FZ):
 * `retention` days after a ticket is closed, its raw messages and
 * personal fields are erased through sg_op_erase() (ticket/erase.h);
 * counts and times stay for reports. 0 (the default) keeps everything.
 *
 * Timers live in the due-time index (sched/due.h, kind SG_DUE_RETENTION,
 * id = ticket, due = closed_at + retention days), set by a subscriber in
 * the transaction that closes the ticket, so a pass reads only what is
 * due. Tickets closed before retention was set (or changed) are
 * scheduled once by a single walk of tickets.db, when the value the index
 * was filled for (meta SG_META_RETENTION) differs from the configured
 * one; every later pass costs one meta read plus the due entries.
 *
 * sg_retention_subscribe(): at start-up (sg_ingest_init): closing
 *   schedules; an "erased" event drops the ticket's mail not yet sent
 *   (queued jobs and dead letters of the ticket; with forget, also any
 *   job to the forgotten address).
 * sg_retention_run_once(): erase every closed ticket whose time has come
 *   (now as given, for tests), each in its own transaction; a ticket
 *   reopened is left alone (its entry dropped; closing again schedules
 *   anew), one closed later is rescheduled, one already erased skipped.
 *   *erased (may be NULL) counts the tickets erased. At most
 *   SG_RETENTION_BATCH per pass. Returns 0 or a store code.
 */
#ifndef SG_RETENTION_H
#define SG_RETENTION_H

#include <stddef.h>
#include <stdint.h>

struct sg_store;
struct sg_conf;

#define SG_RETENTION_BATCH 1000

void sg_retention_subscribe(void);
int sg_retention_run_once(struct sg_store *st, const struct sg_conf *c, int64_t now, size_t *erased);

#endif
