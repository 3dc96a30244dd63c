/*
 * cli-clock — `supportgate clock run [--in DURATION]`: one pass of the
 * ticket timers (automatic close, then the SLA thresholds), as the
 * daemon's timer thread makes each minute. --in 8d runs it as if that
 * much time had passed (to see what will happen, or in tests); the
 * changes it makes are real.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "conf/conf.h"
#include "sla/clock.h"
#include "store/store.h"

/* "30s", "15m", "4h", "8d" -> seconds; -1 when malformed. */
static long
duration(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || v < 0 || v > 3650L * 86400)
		return -1;
	switch (*end) {
	case '\0': case 's': return v;
	case 'm': return v * 60;
	case 'h': return v * 3600;
	case 'd': return v * 86400;
	default: return -1;
	}
}

int
sg_cmd_clock(int argc, char **argv)
{
	long ahead = 0;

	if (argc < 2 || strcmp(argv[1], "run") != 0)
		return sg_cli_usage("clock", 2);
	if (argc == 4 && strcmp(argv[2], "--in") == 0)
		ahead = duration(argv[3]);
	else if (argc != 2)
		return sg_cli_usage("clock", 2);
	if (ahead < 0) {
		fprintf(stderr, "supportgate: '%s' is not a duration (30s, 15m, 4h, 8d)\n", argv[3]);
		return 2;
	}
	const struct sg_conf *c = sg_cli_conf();
	struct sg_store *st = sg_cli_store(c);
	size_t fired = 0, sla = 0;
	int rc = sg_clock_run_once(st, c, (int64_t)time(NULL) + ahead, &fired);
	if (rc == 0)
		rc = sg_clock_run_sla(st, c, (int64_t)time(NULL) + ahead, &sla);
	sg_store_close(&st);
	if (rc != 0) {
		fprintf(stderr, "supportgate: timer pass failed\n");
		return 1;
	}
	printf("closed %zu ticket(s)\n", fired);
	printf("fired %zu SLA threshold(s)\n", sla);
	return 0;
}
