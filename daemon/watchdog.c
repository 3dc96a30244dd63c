/*
 * watchdog — see watchdog.h.
 */
#include "config.h"
#include "watchdog.h"

#include <stdint.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "lib/log.h"
#include "lib/worker.h"
#include "store/schema.h"
#include "store/store.h"

#define MOD "watchdog"

#ifdef HAVE_SYSTEMD
static struct sg_store *wd_store;
static int wd_failing;

/* One pass per half interval: a read of the store (any answer but an
 * error will do), then the ping. Bounded: one B-tree lookup. */
static int
wd_pass(void *arg)
{
	uint64_t v;
	int rc = sg_store_meta_get(wd_store, NULL, SG_META_JOBIDX, &v);

	(void)arg;
	if (rc != 0 && rc != SG_STORE_NOTFOUND) {
		if (!wd_failing)
			sg_error(MOD, "the store does not answer (%d): no watchdog ping; systemd restarts the daemon", rc);
		wd_failing = 1;
		return 0;
	}
	wd_failing = 0;
	sd_notify(0, "WATCHDOG=1");
	return 0;
}

static struct sg_worker wd_worker = SG_WORKER_INIT(wd_pass, NULL, 1);
#endif

int
sg_watchdog_start(struct sg_store *st)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	wd_store = st;
	/* half the interval, at least a second */
	wd_worker.period = usec / 2000000 > 0 ? (int)(usec / 2000000) : 1;
	if (sg_worker_start(&wd_worker) != 0)
		return -1;
	sg_info(MOD, "pinging systemd every %d s (WatchdogSec=%llu ms)", wd_worker.period,
		(unsigned long long)(usec / 1000));
	return 0;
#else
	(void)st;
	return 0;
#endif
}

void
sg_watchdog_stop(void)
{
#ifdef HAVE_SYSTEMD
	sg_worker_stop(&wd_worker);
#endif
}
