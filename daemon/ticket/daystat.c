/*
 * daystat — see daystat.h.
 */
#include "config.h"
#include "ticket/daystat.h"

#include <stdio.h>
#include <time.h>

#include "store/store.h"
#include "ticket/event.h"

static void
key(char *buf, size_t size, int64_t when, const char *name)
{
	time_t tt = (time_t)when;
	struct tm tm;
	char day[16];

	strftime(day, sizeof(day), "%Y%m%d", gmtime_r(&tt, &tm));
	snprintf(buf, size, SG_META_STAT, day, name);
}

int
sg_daystat_get(struct sg_store *st, struct sg_txn *txn, int64_t when, const char *name, uint64_t *v)
{
	char k[128];
	int rc;

	key(k, sizeof(k), when, name);
	rc = sg_store_meta_get(st, txn, k, v);
	if (rc == SG_STORE_NOTFOUND) {
		*v = 0;
		return 0;
	}
	return rc;
}

int
sg_daystat_add(struct sg_store *st, struct sg_txn *txn, int64_t when, const char *name)
{
	char k[128];
	uint64_t v = 0;
	int rc;

	key(k, sizeof(k), when, name);
	rc = sg_store_meta_get(st, txn, k, &v);
	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		return rc;
	return sg_store_meta_put(st, txn, k, (rc == 0 ? v : 0) + 1);
}

static int
on_event(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	(void)t;
	(void)ev;
	return sg_daystat_add(op->st, op->txn, op->now, (const char *)arg);
}

void
sg_daystat_subscribe(void)
{
	sg_event_subscribe(SG_EV_ACK, on_event, (void *)SG_DAYSTAT_ACK);
	sg_event_subscribe(SG_EV_ACK_SUPPRESSED, on_event, (void *)SG_DAYSTAT_ACK_SUPPRESSED);
	sg_event_subscribe(SG_EV_SENT, on_event, (void *)SG_DAYSTAT_SENT);
	sg_event_subscribe(SG_EV_DEAD_LETTER, on_event, (void *)SG_DAYSTAT_DEAD);
}
