/*
 * assign — which agent gets a ticket, and the agents' load counters.
 *
 * sg_assign_pick(): an agent of queue q by its strategy, skipping agents
 *   marked away; NULL when the queue has none or strategy none.
 *   Round-robin keeps a cursor per queue in the store and advances it;
 *   least-open takes the agent with the fewest open tickets (ties broken
 *   in round-robin order). Runs inside the caller's write transaction:
 *   the cursor and counters are read for update. *agent points into the
 *   rules (valid while the config lives).
 * sg_assign_count(): agent's open-ticket counter += delta (never below
 *   0); delta > 0 also counts an assignment for today (UTC).
 * sg_assign_load(): the counters for reports (`supportgate agents`),
 *   outside a transaction. Missing counters are 0.
 * Returns 0 or a store code.
 */
#ifndef SG_ASSIGN_H
#define SG_ASSIGN_H

#include <stdint.h>

struct sg_store;
struct sg_txn;
struct sg_rules;
struct sg_queue_def;

int sg_assign_pick(struct sg_store *st, struct sg_txn *txn, const struct sg_rules *r, const struct sg_queue_def *q,
		   const char **agent);
int sg_assign_count(struct sg_store *st, struct sg_txn *txn, const char *agent, int64_t now, int delta);
int sg_assign_load(struct sg_store *st, const char *agent, int64_t now, uint64_t *open, uint64_t *today);

#endif
