/*
 * daystat — per-day (UTC) counters of what the gateway did, kept in
 * meta.db (SG_META_STAT: "stat:YYYYMMDD:NAME", u64) and incremented by
 * event subscribers inside the transaction that records the event, so a
 * counter is exact (an aborted change counts nothing) and reading a day
 * is one key: `supportgate stats` never walks the event trail.
 *
 * Counted names: "ack" (an acknowledgement queued, SG_EV_ACK),
 * "ack-suppressed" (SG_EV_ACK_SUPPRESSED), "sent" (a ticket's mail the
 * relay accepted, SG_EV_SENT), "dead-letter" (SG_EV_DEAD_LETTER).
 *
 * sg_daystat_subscribe(): at start-up (sg_ingest_init).
 * sg_daystat_get(): the count of name on the UTC day of time `when`
 *   (0 when none); outside or inside a transaction. Returns 0 or a store
 *   code.
 */
#ifndef SG_DAYSTAT_H
#define SG_DAYSTAT_H

#include <stdint.h>

struct sg_store;
struct sg_txn;

#define SG_DAYSTAT_ACK "ack"
#define SG_DAYSTAT_ACK_SUPPRESSED "ack-suppressed"
#define SG_DAYSTAT_SENT "sent"
#define SG_DAYSTAT_DEAD "dead-letter"

void sg_daystat_subscribe(void);
int sg_daystat_get(struct sg_store *st, struct sg_txn *txn, int64_t when, const char *name, uint64_t *v);
/* Add one to name's counter of the day of when, in txn. */
int sg_daystat_add(struct sg_store *st, struct sg_txn *txn, int64_t when, const char *name);

#endif
