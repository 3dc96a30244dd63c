/*
 * fuzz-period — the bounds of `supportgate report --from/--to`:
 * sg_report_period(), sg_report_time() and sg_report_day_start()
 * (daemon/report/period.c) in a few time zones.
 *
 * Input: byte 0 picks the zone (bits 0-2: UTC, Europe/Berlin,
 * America/New_York, Australia/Lord_Howe, Asia/Kolkata, America/Sao_Paulo;
 * a zone the machine lacks stays UTC), bit 3 leaves --from out, bit 4
 * --to; byte 1 is the size of the err buffer (1..256). The rest is
 * "FROM\nTO" (no newline: FROM only). "now" is derived from the input
 * (a time between 2000 and 2100).
 *
 * Invariants (abort() when one breaks):
 *  - success: a < b and the period at most SG_REPORT_MAX_DAYS days (plus
 *    a DST hour); failure: err is a NUL-terminated, non-empty message
 *    within its size, and nothing is written past it;
 *  - the same input gives the same answer (no hidden state);
 *  - a time that parses has a day start at most it and less than 25
 *    hours before it; a bare date is its own day start's day.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "report/period.h"

#define SG_FUZZ_SEEDS "tests/fuzz/seeds-period tests/fuzz/crashes-period"
#include "replay.h"

static const char *const zones[] = { "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
				     "Asia/Kolkata", "America/Sao_Paulo", "UTC", "UTC" };

static void
check_time(const char *s)
{
	int64_t t, t2;
	int date_only, d2;

	if (sg_report_time(s, &t, &date_only) != 0)
		return;
	if (sg_report_time(s, &t2, &d2) != 0 || t2 != t || d2 != date_only)
		abort();   /* not deterministic */
	int64_t ds = sg_report_day_start(t);
	if (ds > t || ds <= t - 25 * 3600)
		abort();
	if (date_only && sg_report_day_start(ds) != ds)
		abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char err[512], err2[512];
	int64_t a = 0, b = 0, a2 = 0, b2 = 0;
	uint64_t h = 1469598103934665603ULL;

	if (size < 2)
		return 0;
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	if (sg_report_tz_set(zones[data[0] & 7]) != 0)
		(void)sg_report_tz_set("UTC");
	size_t errlen = (size_t)data[1] % 256 + 1;
	char *text = sg_xstrndup((const char *)data + 2, size - 2);
	char *nl = strchr(text, '\n'), *from = text, *to = NULL;
	if (nl != NULL) {
		*nl = '\0';
		to = nl + 1;
	}
	if (data[0] & 8)
		from = NULL;
	if (data[0] & 16)
		to = NULL;
	int64_t now = 946684800 + (int64_t)(h % (100ULL * 365 * 86400));

	memset(err, 0x5a, sizeof(err));
	memset(err2, 0x5a, sizeof(err2));
	int rc = sg_report_period(from, to, now, &a, &b, err, errlen);
	int rc2 = sg_report_period(from, to, now, &a2, &b2, err2, errlen);
	for (size_t i = errlen; i < sizeof(err); i++)
		if (err[i] != 0x5a)
			abort();   /* written past the buffer */
	if (rc != rc2)
		abort();
	if (rc == 0) {
		if (a >= b || b - a > (int64_t)SG_REPORT_MAX_DAYS * 86400 + 3600 || a != a2 || b != b2)
			abort();
	} else {
		if (rc != -1 || memchr(err, '\0', errlen) == NULL || memcmp(err, err2, strlen(err) + 1) != 0)
			abort();
		if (errlen > 1 && err[0] == '\0')
			abort();   /* a failure says why */
	}
	if (from != NULL)
		check_time(from);
	if (to != NULL)
		check_time(to);
	free(text);
	return 0;
}
