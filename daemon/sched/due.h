/*
 * due — the due-time index: every timer of every kind in one B-tree of
 * the store (due.db: key u64 due, u8 kind, u64 id; value u64 aux; see
 * store/schema.h), kept in the same environment and the same transactions
 * as the records the timers belong to. A cursor walks it in due order, so
 * a wake reads only the entries that are due and stops at the first later
 * one: its cost does not grow with what is scheduled for later.
 *
 * Kinds (one byte in the key, stored on disk: never renumber):
 *   SG_DUE_JOB        an outbound job: id = job id, aux = its ticket (0:
 *                     none). Maintained by daemon/outbound/queue.c.
 *   SG_DUE_AUTOCLOSE  a resolved ticket to close: id = ticket id.
 *                     Maintained by daemon/sla/clock.c.
 *   SG_DUE_SLA_FR     a ticket's next first-response threshold (warning,
 *                     then breach): id = ticket id. Maintained by
 *                     daemon/ticket/slatime.c, fired by daemon/sla/clock.c.
 *   SG_DUE_SLA_RES    the same for the resolution target.
 *   5..               free.
 * The index holds no payload: whoever owns a kind reads its own record
 * when an entry is due, and keeps the entry and the record in step inside
 * one transaction (a job and its entry commit, or abort, together).
 *
 * Functions return 0 or a store code (store.h: SG_STORE_DEADLOCK means
 * the caller retries its whole transaction). They block on disk and locks.
 *
 * sg_due_set(st, txn, kind, id, old_due, new_due, aux): inside the
 *   caller's write transaction, schedule (kind, id) at new_due with aux,
 *   first removing the entry at old_due (0: there is none; a missing one is
 *   not an error). Setting the same due again replaces aux.
 * sg_due_del(st, txn, kind, id, due): remove the entry; SG_STORE_NOTFOUND
 *   if there is none (callers that do not care ignore it).
 * sg_due_scan(st, kind, now, max, cb, arg): outside any transaction, call
 *   cb for each entry of kind with due <= now, in (due, id) order, at most
 *   max of them. Entries of other kinds that are due are stepped over (one
 *   key each); the walk stops at the first key due after now. cb must not
 *   use the store (the cursor is open): collect, then act. A non-zero
 *   return from cb stops the scan and is returned.
 */
#ifndef SG_DUE_H
#define SG_DUE_H

#include <stddef.h>
#include <stdint.h>

struct sg_store;
struct sg_txn;

enum sg_due_kind {
	SG_DUE_JOB = 1,
	SG_DUE_AUTOCLOSE = 2,   /* id = ticket: close it autoclose_days after resolution (daemon/sla) */
	SG_DUE_SLA_FR = 3,      /* id = ticket: first-response warning or breach (ticket/slatime.h) */
	SG_DUE_SLA_RES = 4,     /* id = ticket: resolution warning or breach */
};

struct sg_due_entry {
	int64_t due;
	uint8_t kind;
	uint64_t id;
	uint64_t aux;
};

typedef int sg_due_cb(const struct sg_due_entry *e, void *arg);

int sg_due_set(struct sg_store *st, struct sg_txn *txn, uint8_t kind, uint64_t id, int64_t old_due,
	       int64_t new_due, uint64_t aux);
int sg_due_del(struct sg_store *st, struct sg_txn *txn, uint8_t kind, uint64_t id, int64_t due);
int sg_due_scan(struct sg_store *st, uint8_t kind, int64_t now, size_t max, sg_due_cb *cb, void *arg);

/* The due entries of kind, collected (scan first, act after: the scan's
 * cursor must be closed before the caller writes). Free with
 * sg_due_list_clear. */
struct sg_due_list {
	struct sg_due_entry *v;
	size_t n;
};
int sg_due_collect(struct sg_store *st, uint8_t kind, int64_t now, size_t max, struct sg_due_list *out);
void sg_due_list_clear(struct sg_due_list *l);

#endif
