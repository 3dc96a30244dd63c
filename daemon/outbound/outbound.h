/*
 * outbound — the durable outbound queue's delivery side.
 *
 * Jobs are created only inside the ingest (and later command/SLA)
 * transactions, so a job exists iff the ticket change that caused it was
 * committed. This module delivers them: SMTP through libcurl to
 * smtp_relay (CRLF line ends enforced here, dot-stuffing by libcurl),
 * STARTTLS required unless the relay is a loopback address.
 *
 * A job is deleted only after the relay's final 2xx; a crash between the
 * relay's answer and the delete sends the same message (same Message-ID)
 * once more: at-least-once, deduplicated by the receiving side's
 * threading. Temporary failures retry with exponential backoff and
 * jitter; a 5xx answer or outbound_max_age makes the job a dead letter
 * (kept, shown by `supportgate queue`, recorded on the ticket).
 * Per ticket, jobs go out in creation order: a job waits while an older
 * one of the same ticket is still queued.
 *
 * sg_outbound_run_once() makes one pass (blocking network I/O) and is
 * what the daemon's worker thread and `supportgate queue run` call.
 */
#ifndef SG_OUTBOUND_H
#define SG_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "store/record.h"

struct sg_store;

struct sg_outbound_stats {
	unsigned sent, deferred, dead, waiting;
};

/* Deliver one job. Returns 0 on success; else -1 with *err (new string)
 * and *permanent set when the relay refused for good (5xx). */
int sg_outbound_deliver(const struct sg_conf *c, const struct sg_job *j, char **err, int *permanent);
/* CRLF-normalised copy of a message (bare CR and bare LF become CRLF). */
char *sg_outbound_crlf(const char *p, size_t len, size_t *outlen);
/* Seconds to wait before attempt n+1 (n >= 1), with +-20% jitter. */
int64_t sg_outbound_backoff(const struct sg_conf *c, uint32_t attempts);

int sg_outbound_run_once(struct sg_store *st, const struct sg_conf *c, struct sg_outbound_stats *stats);
/* The worker thread: a pass every second, or at once after a kick. */
int sg_outbound_start(struct sg_store *st);
void sg_outbound_kick(void);
void sg_outbound_stop(void);

#endif
