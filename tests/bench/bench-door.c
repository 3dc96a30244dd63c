/*
 * bench-door — the in-process half of tests/bench/bench-door.sh: the same
 * mails the script feeds to `supportgate ingest` one process each, here
 * through sg_ingest() in one process, each in its own synced transaction
 * (what the daemon does per mail). Prints "in-process N mails/s".
 * Usage: bench-door CONFIG FILE...
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/diag.h"
#include "lib/log.h"
#include "store/store.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	*len = fread(buf, 1, (size_t)n, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

int
main(int argc, char **argv)
{
	struct sg_diag errs = { 0 };
	struct sg_store *st = NULL;
	struct timespec a, b;

	if (argc < 3) {
		fprintf(stderr, "usage: bench-door CONFIG FILE...\n");
		return 2;
	}
	sg_log_open_stderr("bench-door");
	sg_log_set_level(SG_LOG_ERROR);
	struct sg_conf *c = sg_conf_load(argv[1], &errs);
	if (c == NULL) {
		sg_diag_print(&errs, stderr);
		return 1;
	}
	sg_log_set_level(SG_LOG_ERROR);
	if (sg_store_open(c->state_dir, 0, &st) != 0)
		return 1;
	sg_ingest_init();
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 2; i < argc; i++) {
		size_t len = 0;
		char *raw = slurp(argv[i], &len);
		const char *rcpt[] = { "support@example.com" };
		struct sg_ingest_in in = { .raw = raw, .len = len, .env_rcpt = rcpt, .nrcpt = 1, .door = SG_DOOR_CLI };
		struct sg_decision d = { 0 };
		if (raw == NULL || sg_ingest(st, c, &in, &d) != SG_ING_OK) {
			fprintf(stderr, "bench-door: %s failed\n", argv[i]);
			return 1;
		}
		sg_decision_clear(&d);
		free(raw);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("in-process %.1f mails/s\n", (double)(argc - 2) / secs);
	sg_store_close(&st);
	sg_conf_unref(&c);
	return 0;
}
