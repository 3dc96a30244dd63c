/*
 * assign — see assign.h.
 */
#include "config.h"
#include "ticket/assign.h"

#include <stdlib.h>
#include <time.h>

#include "lib/xalloc.h"
#include "rules/rules.h"
#include "store/schema.h"
#include "store/store.h"

#define SG_ASSIGN_MAX_CAND 256   /* agents considered per queue */

static char *
day_key(const char *agent, int64_t now)
{
	time_t tt = (time_t)now;
	struct tm tm;
	char day[16];

	strftime(day, sizeof(day), "%Y%m%d", gmtime_r(&tt, &tm));
	return sg_xasprintf(SG_META_DAY, agent, day);
}

static int
get0(struct sg_store *st, struct sg_txn *txn, const char *key, uint64_t *v)
{
	int rc = sg_store_meta_get(st, txn, key, v);

	if (rc == SG_STORE_NOTFOUND) {
		*v = 0;
		return 0;
	}
	return rc;
}

int
sg_assign_pick(struct sg_store *st, struct sg_txn *txn, const struct sg_rules *r, const struct sg_queue_def *q,
	       const char **agent)
{
	const char *cand[SG_ASSIGN_MAX_CAND];
	size_t n = 0, pick;
	uint64_t cursor = 0, best = UINT64_MAX;
	char *key;
	int rc;

	*agent = NULL;
	for (size_t i = 0; i < q->agents.n && n < SG_ASSIGN_MAX_CAND; i++) {
		const struct sg_agent_def *a = sg_rules_agent(r, q->agents.v[i]);
		if (a != NULL && !a->away)
			cand[n++] = a->address;
	}
	if (n == 0 || q->strategy == SG_STRAT_NONE)
		return 0;
	key = sg_xasprintf(SG_META_RR, q->name);
	if ((rc = get0(st, txn, key, &cursor)) != 0)
		goto out;
	pick = (size_t)(cursor % n);
	for (size_t k = 0; q->strategy == SG_STRAT_LEAST_OPEN && k < n; k++) {
		size_t idx = (size_t)((cursor + k) % n);
		uint64_t open = 0;
		char *ok = sg_xasprintf(SG_META_OPEN, cand[idx]);
		rc = get0(st, txn, ok, &open);
		free(ok);
		if (rc != 0)
			goto out;
		if (open < best) {
			best = open;
			pick = idx;
		}
	}
	if ((rc = sg_store_meta_put(st, txn, key, cursor + 1)) == 0)
		*agent = cand[pick];
out:
	free(key);
	return rc;
}

int
sg_assign_count(struct sg_store *st, struct sg_txn *txn, const char *agent, int64_t now, int delta)
{
	char *key = sg_xasprintf(SG_META_OPEN, agent);
	uint64_t v = 0;
	int rc = get0(st, txn, key, &v);

	if (rc == 0) {
		if (delta < 0)
			v = v >= (uint64_t)-delta ? v - (uint64_t)-delta : 0;
		else
			v += (uint64_t)delta;
		rc = sg_store_meta_put(st, txn, key, v);
	}
	free(key);
	if (rc == 0 && delta > 0) {
		key = day_key(agent, now);
		if ((rc = get0(st, txn, key, &v)) == 0)
			rc = sg_store_meta_put(st, txn, key, v + 1);
		free(key);
	}
	return rc;
}

int
sg_assign_load(struct sg_store *st, const char *agent, int64_t now, uint64_t *open, uint64_t *today)
{
	char *key = sg_xasprintf(SG_META_OPEN, agent);
	int rc = get0(st, NULL, key, open);

	free(key);
	if (rc == 0) {
		key = day_key(agent, now);
		rc = get0(st, NULL, key, today);
		free(key);
	}
	return rc;
}
