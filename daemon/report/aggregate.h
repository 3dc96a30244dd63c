/*
 * aggregate — the numbers of `supportgate report`, in one pass over the
 * ticket records that can count (sg_store_ticket_foreach_since(from):
 * the tickets open now and those created, resolved or closed at or after
 * the period's start, through the index active.db — so a week's report
 * costs the same on a store of 10k or 1M tickets; never the events;
 * every field read here is kept current by the ticket operations inside
 * their transactions). Rows are those of the values these tickets carry
 * (a queue or agent seen only in older tickets has no row).
 *
 * The period is the half-open interval [from, to) (period.h parses it;
 * local days are the process's time zone). Each ticket lands in the
 * total and in one row per dimension: queue, segment, SLA tier, agent
 * (assignee); an empty value is the row "" (printed "(none)"; the queue
 * "" is the default queue). Per row, on three bases:
 *
 *   received in the period (created in [from, to)):
 *     received; taken (has an assignee); open (still new, open or
 *     pending now); first-response time (first_response_at - created,
 *     tickets with a first response); SLA, from the thresholds the
 *     clocks fired (sla_fired): for tickets with a first_response_due,
 *     first response met (given, SG_SLA_FR_BREACH not fired) or
 *     breached (fired); for tickets with a due, resolution met (solved
 *     now, SG_SLA_RES_BREACH not fired) or breached (fired); a ticket
 *     still running without a breach is neither; transfers (sum) and
 *     ping-pong (tickets with more than 2 transfers); taken_solved
 *     (taken and resolved or closed now).
 *   solved in the period (resolved or closed now, and resolved_at in
 *     [from, to); closed_at for a ticket closed without a recorded
 *     resolution; a reopened ticket that is open again is not solved):
 *     solved; resolution time (resolved_at - created - paused_secs: time
 *     waiting for the customer does not count); reopened (reopens > 0)
 *     and the reopen rate reopened / solved; satisfaction: rated
 *     (rating 1..5), mean, distribution.
 *   now (whatever the period): open_now (new, open or pending);
 *     overdue (open now and SG_SLA_RES_BREACH fired, or due passed while
 *     not paused), also counted by reason ("" = no reason given).
 * For an agent, "assigned in the period" is taken and the completion
 * rate (solved %) is taken_solved / taken.
 *
 * Times are seconds: mean, median (the mean of the two middle values
 * for an even count) and the 90th percentile (nearest rank: the
 * ceil(0.9 n)-th smallest); exact (selection over every value).
 * Business-hours times (frt_b, rt_b; resolution less paused_bsecs) are
 * filled only when opts->business is given (has_business); otherwise
 * their n is 0.
 *
 * The whole-report extras: per local day of the period, received and
 * solved (days[]); the first-response histogram (SG_REPORT_NBUCKETS
 * fixed buckets, upper bounds sg_report_bucket_max[], the last open).
 *
 * sg_report_run(st, opts, &r): 0, or the store's code (logged by the
 *   store); r is filled (free with sg_report_free, also after a
 *   failure). Memory: about 4 bytes per time value per row (a ticket's
 *   times go to the total and its four rows). Blocks on the store.
 * sg_report_free(&r): frees every member; safe twice.
 * sg_report_dim_name(d): "queue", "segment", "tier", "agent".
 */
#ifndef SG_REPORT_AGGREGATE_H
#define SG_REPORT_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

struct sg_store;
struct sg_ticket;

enum sg_report_dim {
	SG_RD_QUEUE = 0,
	SG_RD_SEGMENT,
	SG_RD_TIER,
	SG_RD_AGENT,
};
#define SG_RD_COUNT 4

struct sg_report_times {
	uint64_t n;
	double mean;          /* seconds; 0 when n is 0 */
	double median;
	int64_t p90;
};

struct sg_report_row {
	char *key;            /* "" for none */
	uint64_t received, taken, open, taken_solved;
	uint64_t solved;
	uint64_t open_now, overdue;
	struct sg_report_times frt, rt, frt_b, rt_b;
	uint64_t fr_met, fr_breached, res_met, res_breached;
	uint64_t transfers, pingpong;
	uint64_t reopened;
	uint64_t rated, rating_sum, ratings[5];   /* ratings[k]: how many k+1 */
	void *priv;           /* value lists while aggregating */
};

struct sg_report_count {
	char *key;
	uint64_t n;
};

struct sg_report_day {
	int64_t start;        /* local midnight */
	uint64_t received, solved;
};

#define SG_REPORT_NBUCKETS 7
extern const int64_t sg_report_bucket_max[SG_REPORT_NBUCKETS];   /* seconds; last: INT64_MAX */
extern const char *const sg_report_bucket_label[SG_REPORT_NBUCKETS];

/* Business seconds of ticket t in [a, b) (its tier's calendar); a
 * negative result means unknown and leaves the value out. */
typedef int64_t sg_report_business_fn(void *arg, const struct sg_ticket *t, int64_t a, int64_t b);

struct sg_report_opts {
	int64_t from, to;     /* [from, to) */
	int64_t now;          /* for open_now and overdue */
	const char *time_zone;   /* for the printed header only ("" = local) */
	sg_report_business_fn *business;   /* NULL: calendar time only */
	void *business_arg;
};

struct sg_report {
	int64_t from, to, now;
	char *time_zone;
	int has_business;
	struct sg_report_row total;
	struct sg_report_row *rows[SG_RD_COUNT];   /* sorted by key (bytes) */
	size_t nrows[SG_RD_COUNT];
	struct sg_report_count *overdue_reasons;   /* sorted by key */
	size_t noverdue_reasons;
	struct sg_report_day *days;
	size_t ndays;
	uint64_t frt_hist[SG_REPORT_NBUCKETS];
	uint64_t tickets_read;   /* records read (the tickets that can count) */
};

int sg_report_run(struct sg_store *st, const struct sg_report_opts *opts, struct sg_report *r);
void sg_report_free(struct sg_report *r);
const char *sg_report_dim_name(enum sg_report_dim d);

#endif
