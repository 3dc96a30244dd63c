/*
 * ratelimit — how many automatic mails one address (and everyone) may get
 * (PRODUCT.md T5; RFC 3834 spirit; defaults after Zammad and Znuny).
 *
 * Per recipient, sliding windows over the recent send times: 10 per 10
 * minutes, 25 per hour, 50 per 3 hours, 40 per day; plus `global_max`
 * per clock hour over everyone. The times live in the store (kv
 * "ack:ADDR", "ack-global") and are read for update in the caller's
 * write transaction.
 *
 * sg_ratelimit_check(): *why = NULL when one more mail to addr is fine,
 *   else a static reason; with record set and the mail fine, the send is
 *   counted. Returns 0 or a store code.
 * sg_ratelimit_alert_due(): *due = 1 when the admin has not been told
 *   about addr within the last hour (and records now as the last time),
 *   else 0. Returns 0 or a store code.
 */
#ifndef SG_RATELIMIT_H
#define SG_RATELIMIT_H

#include <stdint.h>

struct sg_store;
struct sg_txn;

int sg_ratelimit_check(struct sg_store *st, struct sg_txn *txn, const char *addr, long global_max, int64_t now,
		       const char **why, int record);
int sg_ratelimit_alert_due(struct sg_store *st, struct sg_txn *txn, const char *addr, int64_t now, int *due);

#endif
