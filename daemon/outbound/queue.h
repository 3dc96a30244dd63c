/*
 * queue — the durable outbound queue's state: the one place where a job
 * is created, rescheduled, made a dead letter, retried or removed.
 *
 * A queued job is in two indexes besides jobs.db (store/schema.h): the
 * due-time index (sched/due.h, kind SG_DUE_JOB, at j->due, aux = its
 * lane), which the worker scans for what is due, and, when it has a
 * ticket, the (lane, job id) index, whose first entry for a lane is that
 * lane's oldest queued job. A ticket has two lanes, each delivered in
 * creation order on its own: its mail (lane = ticket id) and its webhooks
 * (lane = ticket id | SG_LANE_WEBHOOK), so an endpoint that is down holds
 * back the ticket's later webhooks but never its mail. A dead letter is in
 * neither index. Every function below
 * changes the job and its index entries inside the caller's write
 * transaction: they commit, or abort, together. Returns 0 or a store code
 * (SG_STORE_DEADLOCK: the caller retries the whole transaction). Jobs and
 * their strings stay the caller's. All block on disk and locks.
 *
 * sg_queue_add(): store job j as queued (j->id is assigned, monotonic: id
 *   order = creation order) and index it at j->due.
 * sg_queue_mail(): the common case: one SMTP message (rendered bytes msg of
 *   len, not copied) from `from` to `to` about ticket, due now; *job_id
 *   (may be NULL) receives the new id.
 * The transitions take a job j read in the same transaction
 * (sg_store_job_get with txn, so its due and state are what is indexed):
 * sg_queue_defer(): due again at `due` (a deferral, or a job held behind
 *   an older one of its ticket); j->due is updated.
 * sg_queue_dead(): a dead letter: kept, out of both indexes.
 * sg_queue_retry(): queued again and due at `now` (a dead letter too).
 * sg_queue_remove(): delivered or dropped: the job and its entries go.
 * sg_queue_lane(): the lane of job j (0: no ticket).
 * sg_queue_head(): *id = the oldest queued job of lane (one cursor
 *   positioning, whatever the queue holds); SG_STORE_NOTFOUND if none.
 * sg_queue_reindex(): index the jobs of a store written before the
 *   indexes existed. Once per store (meta SG_META_JOBIDX records it); after
 *   that one meta read. Runs its own transactions (batches of 100 jobs).
 */
#ifndef SG_QUEUE_H
#define SG_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "store/record.h"

struct sg_store;
struct sg_txn;

int sg_queue_add(struct sg_store *st, struct sg_txn *txn, struct sg_job *j);
int sg_queue_mail(struct sg_store *st, struct sg_txn *txn, uint64_t ticket, const char *what, const char *from,
		  const char *to, const char *msg, size_t len, int64_t now, uint64_t *job_id);

int sg_queue_defer(struct sg_store *st, struct sg_txn *txn, struct sg_job *j, int64_t due);
int sg_queue_dead(struct sg_store *st, struct sg_txn *txn, struct sg_job *j);
int sg_queue_retry(struct sg_store *st, struct sg_txn *txn, struct sg_job *j, int64_t now);
int sg_queue_remove(struct sg_store *st, struct sg_txn *txn, const struct sg_job *j);
/* Ticket ids come from a sequence and never reach bit 63. */
#define SG_LANE_WEBHOOK (UINT64_C(1) << 63)
uint64_t sg_queue_lane(const struct sg_job *j);
int sg_queue_head(struct sg_store *st, struct sg_txn *txn, uint64_t lane, uint64_t *id);
int sg_queue_reindex(struct sg_store *st);

#endif
