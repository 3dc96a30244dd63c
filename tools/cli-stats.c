/*
 * cli-stats — `supportgate stats [--json]`: the health view an admin
 * runs first. Tickets by status and by queue (one walk of tickets.db),
 * the outbound queue (jobs waiting, the oldest one's age, dead letters:
 * one walk of jobs.db, which holds only mail not yet delivered), and
 * today's (UTC) acknowledgements made and suppressed and tickets' mail
 * delivered and dead, read from the per-day counters (daemon/ticket/daystat.h): two keys, never the
 * event trail. Last, how often the database cache had the pages of the
 * lookup indexes and of the raw messages (read before the walks above,
 * which would count themselves): a low share for the indexes says the
 * cache (set_cachesize in DB_CONFIG) is too small for the store.
 */
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "conf/conf.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "ticket/daystat.h"

struct qrow {
	char *queue;
	uint64_t n[SG_ST_COUNT];
};

/* The tables whose cache counters stats shows. */
static const struct {
	enum sg_table t;
	const char *file;
} cache_tables[] = {
	{ SG_TB_MSGID, SG_FILE_MSGID }, { SG_TB_TICKETS, SG_FILE_TICKETS },
	{ SG_TB_CUSTOMERS, SG_FILE_CUSTOMERS }, { SG_TB_RAW, SG_FILE_RAW },
};
#define NCACHE (sizeof(cache_tables) / sizeof(cache_tables[0]))

struct tally {
	uint64_t total, by_status[SG_ST_COUNT];
	struct qrow *q;
	size_t nq;
	uint64_t waiting, dead;
	int64_t oldest;     /* created time of the oldest waiting job, 0 none */
	uint64_t sent_today, dead_today;
	struct sg_cache_stat cache[SG_TB_COUNT];
};

static int
count_ticket(const struct sg_ticket *t, void *arg)
{
	struct tally *s = arg;
	const char *q = t->queue ? t->queue : "default";
	size_t i;

	if ((unsigned)t->status >= SG_ST_COUNT)
		return 0;
	s->total++;
	s->by_status[t->status]++;
	for (i = 0; i < s->nq && strcmp(s->q[i].queue, q) != 0; i++)
		;
	if (i == s->nq) {
		s->q = sg_xreallocarray(s->q, s->nq + 1, sizeof(*s->q));
		memset(&s->q[s->nq], 0, sizeof(s->q[0]));
		s->q[s->nq++].queue = sg_xstrdup(q);
	}
	s->q[i].n[t->status]++;
	return 0;
}

static int
count_job(const struct sg_job *j, void *arg)
{
	struct tally *s = arg;

	if (j->state == SG_JOB_DEAD) {
		s->dead++;
		return 0;
	}
	s->waiting++;
	if (s->oldest == 0 || j->created < s->oldest)
		s->oldest = j->created;
	return 0;
}

static int
qrow_cmp(const void *a, const void *b)
{
	return strcmp(((const struct qrow *)a)->queue, ((const struct qrow *)b)->queue);
}

static void
print_text(const struct tally *s, int64_t now, const char *day, uint64_t acks, uint64_t supp)
{
	printf("tickets: %llu", (unsigned long long)s->total);
	for (int i = 0; i < SG_ST_COUNT; i++)
		printf("%s%s %llu", i ? ", " : " (", sg_status_name((enum sg_status)i),
		       (unsigned long long)s->by_status[i]);
	printf(")\n");
	if (s->nq > 0) {
		printf("%-20s", "queue");
		for (int i = 0; i < SG_ST_COUNT; i++)
			printf(" %9s", sg_status_name((enum sg_status)i));
		printf("\n");
		for (size_t k = 0; k < s->nq; k++) {
			printf("%-20s", s->q[k].queue);
			for (int i = 0; i < SG_ST_COUNT; i++)
				printf(" %9llu", (unsigned long long)s->q[k].n[i]);
			printf("\n");
		}
	}
	printf("outbound: %llu waiting", (unsigned long long)s->waiting);
	if (s->waiting > 0)
		printf(", oldest %lld s", (long long)(now > s->oldest ? now - s->oldest : 0));
	printf("; %llu dead letter%s\n", (unsigned long long)s->dead, s->dead == 1 ? "" : "s");
	printf("outbound today (%s UTC): %llu delivered, %llu dead\n", day, (unsigned long long)s->sent_today,
	       (unsigned long long)s->dead_today);
	printf("acknowledgements today (%s UTC): %llu sent, %llu suppressed\n", day, (unsigned long long)acks,
	       (unsigned long long)supp);
	printf("cache: pages found in it");
	for (size_t i = 0; i < NCACHE; i++) {
		const struct sg_cache_stat *cs = &s->cache[cache_tables[i].t];
		uint64_t n = cs->hits + cs->misses;
		if (n > 0)
			printf("%s%s %.1f%%", i ? ", " : " ", cache_tables[i].file, 100.0 * (double)cs->hits / (double)n);
		else
			printf("%s%s -", i ? ", " : " ", cache_tables[i].file);
	}
	printf(" (since the environment was created)\n");
}

static void
print_json(const struct tally *s, int64_t now, const char *day, uint64_t acks, uint64_t supp)
{
	json_t *st = json_object(), *bq = json_object();

	for (int i = 0; i < SG_ST_COUNT; i++)
		json_object_set_new(st, sg_status_name((enum sg_status)i), json_integer((json_int_t)s->by_status[i]));
	for (size_t k = 0; k < s->nq; k++) {
		json_t *o = json_object();
		for (int i = 0; i < SG_ST_COUNT; i++)
			json_object_set_new(o, sg_status_name((enum sg_status)i), json_integer((json_int_t)s->q[k].n[i]));
		json_object_set_new(bq, s->q[k].queue, o);
	}
	json_t *j = json_pack("{s:{s:I, s:o, s:o}, s:{s:I, s:o, s:I, s:I, s:I}, s:{s:s, s:I, s:I}}",
			      "tickets", "total", (json_int_t)s->total, "by_status", st, "by_queue", bq,
			      "outbound", "waiting", (json_int_t)s->waiting,
			      "oldest_age", s->waiting ? json_integer((json_int_t)(now > s->oldest ? now - s->oldest : 0)) : json_null(),
			      "dead", (json_int_t)s->dead, "delivered_today", (json_int_t)s->sent_today,
			      "dead_today", (json_int_t)s->dead_today,
			      "acks_today", "day", day, "sent", (json_int_t)acks, "suppressed", (json_int_t)supp);
	json_t *cache = json_object();
	for (size_t i = 0; i < NCACHE; i++)
		json_object_set_new(cache, cache_tables[i].file,
				    json_pack("{s:I, s:I}", "hits", (json_int_t)s->cache[cache_tables[i].t].hits, "misses",
					      (json_int_t)s->cache[cache_tables[i].t].misses));
	json_object_set_new(j, "cache", cache);
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(j);
}

int
sg_cmd_stats(int argc, char **argv)
{
	struct tally s = { 0 };
	int json = 0, rc;
	uint64_t acks = 0, supp = 0;
	int64_t now = (int64_t)time(NULL);
	char day[16];
	time_t tt = (time_t)now;
	struct tm tm;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else
			return sg_cli_usage("stats", 2);
	}
	const struct sg_conf *c = sg_cli_conf();
	struct sg_store *st = sg_cli_store(c);
	rc = sg_store_cache_stat(st, s.cache);
	if (rc == 0)
		rc = sg_store_ticket_foreach(st, count_ticket, &s);
	if (rc == 0)
		rc = sg_store_job_foreach(st, count_job, &s);
	if (rc == 0)
		rc = sg_daystat_get(st, NULL, now, SG_DAYSTAT_ACK, &acks);
	if (rc == 0)
		rc = sg_daystat_get(st, NULL, now, SG_DAYSTAT_ACK_SUPPRESSED, &supp);
	if (rc == 0)
		rc = sg_daystat_get(st, NULL, now, SG_DAYSTAT_SENT, &s.sent_today);
	if (rc == 0)
		rc = sg_daystat_get(st, NULL, now, SG_DAYSTAT_DEAD, &s.dead_today);
	sg_store_close(&st);
	if (rc != 0) {
		fprintf(stderr, "supportgate: stats: cannot read the store\n");
		rc = 1;
	} else {
		strftime(day, sizeof(day), "%Y-%m-%d", gmtime_r(&tt, &tm));
		if (s.nq > 1)
			qsort(s.q, s.nq, sizeof(*s.q), qrow_cmp);
		if (json)
			print_json(&s, now, day, acks, supp);
		else
			print_text(&s, now, day, acks, supp);
	}
	for (size_t k = 0; k < s.nq; k++)
		free(s.q[k].queue);
	free(s.q);
	return rc;
}
