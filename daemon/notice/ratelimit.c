/*
 * ratelimit — see ratelimit.h.
 */
#include "config.h"
#include "notice/ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/schema.h"
#include "store/store.h"

#define SG_RATE_KEEP 64          /* send times remembered per address (largest limit is 50) */

static const struct {
	int64_t window;
	unsigned max;
} limits[] = {
	{ 600, 10 }, { 3600, 25 }, { 3 * 3600, 50 }, { 86400, 40 },
};

static int
rate_address(struct sg_store *st, struct sg_txn *txn, const char *addr, int64_t now, const char **why, int record)
{
	char *key = sg_xasprintf(SG_KV_ACK, addr), *raw = NULL;
	size_t len = 0, n;
	int64_t times[SG_RATE_KEEP + 1];
	unsigned char buf[(SG_RATE_KEEP + 1) * 8];
	int rc = sg_store_kv_get(st, txn, key, &raw, &len);

	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		goto out;
	n = rc == 0 ? len / 8 : 0;
	if (n > SG_RATE_KEEP)
		n = SG_RATE_KEEP;
	for (size_t i = 0; i < n; i++)
		times[i] = (int64_t)sg_key_get_u64((unsigned char *)raw + i * 8);
	rc = 0;
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]) && *why == NULL; l++) {
		unsigned cnt = 0;
		for (size_t i = 0; i < n; i++)
			cnt += now - times[i] < limits[l].window;
		if (cnt >= limits[l].max)
			*why = "rate limit for this address reached";
	}
	if (*why != NULL || !record)
		goto out;
	if (n == SG_RATE_KEEP) {
		memmove(times, times + 1, (n - 1) * sizeof(times[0]));
		n--;
	}
	times[n++] = now;
	for (size_t i = 0; i < n; i++)
		sg_key_u64(buf + i * 8, (uint64_t)times[i]);
	rc = sg_store_kv_put(st, txn, key, buf, n * 8);
out:
	free(raw);
	free(key);
	return rc;
}

/* Global cap: a counter per clock hour. */
static int
rate_global(struct sg_store *st, struct sg_txn *txn, long max, int64_t now, const char **why, int record)
{
	char *raw = NULL;
	size_t len = 0;
	uint64_t hour = (uint64_t)now / 3600, count = 0;
	unsigned char buf[16];
	int rc = sg_store_kv_get(st, txn, SG_KV_ACK_GLOBAL, &raw, &len);

	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		return rc;
	if (rc == 0 && len == 16 && sg_key_get_u64((unsigned char *)raw) == hour)
		count = sg_key_get_u64((unsigned char *)raw + 8);
	free(raw);
	if (count >= (uint64_t)max) {
		*why = "global acknowledgement limit reached";
		return 0;
	}
	if (!record)
		return 0;
	sg_key_u64(buf, hour);
	sg_key_u64(buf + 8, count + 1);
	return sg_store_kv_put(st, txn, SG_KV_ACK_GLOBAL, buf, 16);
}

int
sg_ratelimit_check(struct sg_store *st, struct sg_txn *txn, const char *addr, long global_max, int64_t now,
		   const char **why, int record)
{
	int rc;

	*why = NULL;
	/* Check both before counting either: a refused mail counts nowhere. */
	if ((rc = rate_address(st, txn, addr, now, why, 0)) != 0 || *why != NULL)
		return rc;
	if ((rc = rate_global(st, txn, global_max, now, why, 0)) != 0 || *why != NULL || !record)
		return rc;
	if ((rc = rate_address(st, txn, addr, now, why, 1)) != 0)
		return rc;
	return rate_global(st, txn, global_max, now, why, 1);
}

int
sg_ratelimit_alert_due(struct sg_store *st, struct sg_txn *txn, const char *addr, int64_t now, int *due)
{
	char *key = sg_xasprintf(SG_KV_ALERT, addr), *raw = NULL;
	size_t len = 0;
	unsigned char buf[8];
	int rc = sg_store_kv_get(st, txn, key, &raw, &len);

	*due = 0;
	if (rc == 0 && len == 8 && now - (int64_t)sg_key_get_u64((unsigned char *)raw) < 3600)
		goto out;
	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		goto out;
	sg_key_u64(buf, (uint64_t)now);
	if ((rc = sg_store_kv_put(st, txn, key, buf, 8)) == 0)
		*due = 1;
out:
	free(raw);
	free(key);
	return rc == SG_STORE_NOTFOUND ? 0 : rc;
}
