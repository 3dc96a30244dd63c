/*
 * watchdog — systemd's watchdog (WatchdogSec= in supportgated.service):
 * a thread that proves every half interval that the daemon can still read
 * its store, and only then sends WATCHDOG=1 with sd_notify. A store stuck
 * on a lock or a panicked environment stops the pings, so systemd kills
 * the daemon and Restart=always starts it again (with recovery).
 *
 * sg_watchdog_start(): 0 when started or not wanted (no WATCHDOG_USEC in
 *   the environment, or a build without libsystemd), -1 when the thread
 *   cannot be made. The store must outlive sg_watchdog_stop().
 * sg_watchdog_stop(): joins the thread; safe when never started, twice.
 */
#ifndef SG_WATCHDOG_H
#define SG_WATCHDOG_H

struct sg_store;

int sg_watchdog_start(struct sg_store *st);
void sg_watchdog_stop(void);

#endif
