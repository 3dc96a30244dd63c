/*
 * metrics — counters the daemon keeps while it works, and their
 * Prometheus text exposition written to a file for node_exporter's
 * textfile collector (no HTTP server).
 *
 * Counters are process-wide uint64 values changed with relaxed atomic
 * adds: one instruction on the per-message path, no lock, safe from every
 * thread (milter workers, IMAP pollers, the outbound worker). They start
 * at 0 with the process (Prometheus treats a restart as a counter reset).
 *
 * What is counted, and by whom:
 *   messages by door and verdict   sg_metrics_message(), from sg_ingest()
 *                                  (verdict SG_MX_VERDICT_ERROR: failed)
 *   milter replies by class        sg_metrics_milter(), from the milter's
 *                                  end-of-message callback
 *   ingest latency                 sg_metrics_latency(): seconds from the
 *                                  end of message to the reply, in fixed
 *                                  buckets (SG_MX_BUCKETS: 0.25 ms .. 30 s)
 *   events by type, acks sent and  an event subscriber on every type
 *   suppressed (by reason class),  (sg_metrics_subscribe(), from
 *   SLA warnings and breaches      sg_ingest_init()); SLA events are
 *                                  counted by their stored names
 *                                  "sla-warning" and "sla-breach".
 * Subscribers run inside the change's transaction, so an event whose
 * transaction is retried after a deadlock is counted once per attempt;
 * deadlocks are rare (one writer per ticket), and the counts are for
 * rates, not for accounting (that is `supportgate report`).
 *
 * Gauges are read from the store when the file is written: tickets by
 * status and queue (one pass over tickets.db), outbound jobs queued per
 * kind and the age of the oldest, dead letters (one pass over jobs.db).
 *
 * sg_metrics_render(st, now, out): the whole exposition as a new string
 *   (*out, caller frees); st may be NULL (counters only). 0 or a store
 *   code. Blocks on the store.
 * sg_metrics_write(st, path, now): render, write path.tmp in the same
 *   directory, fsync, rename over path, fsync the directory: a reader
 *   sees the old file or the new one, never a part. 0, or -1 with errno
 *   logged.
 * sg_metrics_start(st): the writer thread: every metrics_interval seconds
 *   while metrics_file is set (both re-read from the current configuration
 *   each second, so a reload turns it on, off or elsewhere).
 * sg_metrics_stop(): stop it (safe when never started).
 * sg_metrics_reset(): tests only.
 */
#ifndef SG_METRICS_H
#define SG_METRICS_H

#include <stdint.h>

struct sg_store;

/* Doors and verdicts: the values of enum sg_door and enum sg_verdict
 * (ingest/ingest.h, which checks the counts at compile time). */
#define SG_MX_DOORS 3
#define SG_MX_VERDICTS 6
#define SG_MX_VERDICT_ERROR SG_MX_VERDICTS

enum sg_mx_milter {
	SG_MX_ACCEPT = 0,
	SG_MX_DISCARD,          /* handled in full (an agent's mail) */
	SG_MX_TEMPFAIL,
	SG_MX_REJECT,
	SG_MX_INTERNAL_ERROR,   /* ingest failed; the reply followed on_*_error */
	SG_MX_MILTER_COUNT
};

#define SG_MX_BUCKETS 21

void sg_metrics_message(unsigned door, unsigned verdict);
void sg_metrics_milter(enum sg_mx_milter outcome);
void sg_metrics_latency(double seconds);

void sg_metrics_subscribe(void);
void sg_metrics_reset(void);

int sg_metrics_render(struct sg_store *st, int64_t now, char **out);
int sg_metrics_write(struct sg_store *st, const char *path, int64_t now);
int sg_metrics_start(struct sg_store *st);
void sg_metrics_stop(void);

#endif
