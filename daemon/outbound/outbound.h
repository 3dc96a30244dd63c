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
 * (kept, shown by `supportgate queue`, recorded on the ticket). Every
 * change of a job goes through queue.h, in one transaction with its index
 * entries.
 *
 * sg_outbound_run_once() makes one pass (blocking network I/O) and is
 * what the daemon's worker thread and `supportgate queue run` call. A pass
 * reads only the due jobs, from the due-time index (sched/due.h), at most
 * SG_OUTBOUND_BATCH of them in due order (stats->more: the batch was full,
 * pass again at once); deferred jobs that are not due cost nothing, so a
 * pass costs the same with 100,000 of them as with 10. Per ticket and lane
 * (mail, webhooks: queue.h), jobs go out in creation order: a due job
 * whose lane has an older queued job (one lookup in the (lane, job)
 * index) is counted in stats->waiting and
 * not tried; it is rescheduled to the older job's due time so it is not
 * read again before then. The first pass on a store written before the
 * index existed indexes its jobs (sg_queue_reindex).
 *
 * sg_outbound_is_loopback(url): 1 when the URL's host (libcurl's URL
 * parser) is an address in 127.0.0.0/8, [::1], or exactly "localhost":
 * only then may a plain smtp:// relay go without STARTTLS. Any other name,
 * however it starts, and any unparsable URL: 0.
 */
#ifndef SG_OUTBOUND_H
#define SG_OUTBOUND_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "store/record.h"

struct sg_store;

#define SG_OUTBOUND_BATCH 1000

struct sg_outbound_stats {
	unsigned sent, deferred, dead;
	unsigned waiting;   /* due, but held behind an older job of their ticket */
	unsigned more;      /* 1: the batch was full, more may be due */
};

/* Deliver one job. Returns 0 on success; else -1 with *err (new string)
 * and *permanent set when the relay refused for good (5xx). */
int sg_outbound_deliver(const struct sg_conf *c, const struct sg_job *j, char **err, int *permanent);
/* Close the kept SMTP sessions (QUIT), e.g. when nothing more is due: a
 * delivery keeps its session for the next one (outbound.c). Called by
 * the worker when a pass finds nothing to send, and before a process
 * that delivered exits. Not while a delivery runs. */
void sg_outbound_release(void);
/* The same; on success *reply (new string, may be NULL) is the relay's
 * answer to the message ("250 2.0.0 Ok: queued as 4Xyz"), for the log
 * line that ties our Message-ID to the relay's queue id. */
int sg_outbound_deliver_reply(const struct sg_conf *c, const struct sg_job *j, char **err, int *permanent,
			      char **reply);
/* The Message-ID (without <>) in the header of msg, copied into buf
 * (size bytes), or "" when there is none. Returns buf. */
char *sg_outbound_msgid(const char *msg, size_t len, char *buf, size_t size);
/* CRLF-normalised copy of a message (bare CR and bare LF become CRLF). */
char *sg_outbound_crlf(const char *p, size_t len, size_t *outlen);
/* Seconds to wait before attempt n+1 (n >= 1), with +-20% jitter. */
int64_t sg_outbound_backoff(const struct sg_conf *c, uint32_t attempts);
int sg_outbound_is_loopback(const char *url);

int sg_outbound_run_once(struct sg_store *st, const struct sg_conf *c, struct sg_outbound_stats *stats);
/* The worker thread: a pass every second, or at once after a kick. */
int sg_outbound_start(struct sg_store *st);
void sg_outbound_kick(void);
void sg_outbound_stop(void);

#endif
