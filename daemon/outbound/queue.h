/*
 * queue — the producing side of the durable outbound queue.
 *
 * sg_queue_add(): inside the caller's write transaction, store job j as
 *   queued (j->id is assigned, monotonic: id order = creation order) and
 *   make it findable by its due time, so the worker reads only what is
 *   due. The job exists iff the caller's transaction commits. Returns 0
 *   or a store code (SG_STORE_DEADLOCK: the caller retries the whole
 *   transaction). j and its strings stay the caller's.
 * sg_queue_mail(): the common case: one SMTP message (rendered bytes msg of
 *   len, not copied) from `from` to `to` about ticket, due now; *job_id
 *   (may be NULL) receives the new id.
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

#endif
