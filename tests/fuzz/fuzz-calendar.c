/*
 * fuzz-calendar — business hours (daemon/calendar/calendar.c): the
 * weekly hours string, the holidays file and the TZif zone file reader
 * (header counts, the 32-bit block, the 64-bit block of versions 2+, the
 * POSIX TZ footer), then the arithmetic on the calendar they make.
 *
 * Input: byte 0 is a set of flags: bit 0 reads the zone from the input
 * (else UTC), bit 1 reads the holidays (else none), bit 2 leaves the
 * hours out ("24x7"). Then the hours up to the first '\n'; the holidays
 * file up to the first NUL byte; the zone file after it. The zone file
 * and the holidays are written to a private temporary folder, which is
 * $TZDIR while sg_calendar_new() runs: the zone goes through the
 * production loader (zone_load: the path, the read, the parse).
 *
 * A calendar that loads is asked, from two times derived from the input
 * (one any time 1900-2200, one near the usual daylight saving changes),
 * with amounts derived from it too (bounded by twenty times what two
 * weeks hold, so no call is cut at SG_CAL_MAX_DAYS):
 *  - add(t, n) >= t + n and is monotonic in n and in t;
 *  - between(t, add(t, n)) == n (what add counts, between counts back),
 *    and between is additive and at most the wall-clock span;
 *  - add_days(t, k) >= t and is monotonic in k;
 *  - the offset is within RFC 8536's bounds (-25h, +26h) and format()
 *    gives a NUL-terminated line within its buffer.
 * Any breach abort()s.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "calendar/calendar.h"
#include "lib/xalloc.h"

#define SG_FUZZ_SEEDS "tests/fuzz/seeds-calendar tests/fuzz/crashes-calendar"
#include "replay.h"

static const char *dir;

static void
setup(void)
{
	dir = sg_fuzz_tmpdir("calendar");
	char *z = sg_xasprintf("%s/Fuzz", dir);
	if (mkdir(z, 0700) != 0)
		abort();
	free(z);
}

/* Days since 1970-01-01 of a date (as calendar.c, H. Hinnant). */
static int64_t
civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static uint64_t
mix(uint64_t *h)
{
	*h ^= *h >> 33;
	*h *= 0xff51afd7ed558ccdULL;
	*h ^= *h >> 33;
	return *h;
}

static void
check_at(const struct sg_calendar *c, int64_t t, uint64_t *h)
{
	/* what two weeks hold bounds the amounts: no call reaches the cut */
	int64_t w = sg_calendar_between(c, t, t + 14 * 86400);
	if (w < 0 || w > 14 * 86400)
		abort();
	int64_t n1 = 1 + (int64_t)(mix(h) % (uint64_t)(w * 20 + 1));
	int64_t n2 = n1 + (int64_t)(mix(h) % (uint64_t)(w + 1));
	int64_t e1 = sg_calendar_add(c, t, n1), e2 = sg_calendar_add(c, t, n2);

	if (e1 < t + n1 || e2 < e1 || (n2 > n1 && e2 <= e1))
		abort();
	if (sg_calendar_between(c, t, e1) != n1 || sg_calendar_between(c, t, e2) != n2)
		abort();   /* add and between disagree */
	if (sg_calendar_between(c, e1, e2) != n2 - n1)
		abort();
	int64_t m = t + (int64_t)(mix(h) % 86400);   /* a later start never finishes earlier */
	if (sg_calendar_add(c, m, n1) < e1)
		abort();
	if (sg_calendar_add(c, t, 0) != t || sg_calendar_between(c, e1, t) != 0)
		abort();
	int k = 1 + (int)(mix(h) % 10);
	int64_t d1 = sg_calendar_add_days(c, t, k), d2 = sg_calendar_add_days(c, t, k + 1);
	if (d1 < t || d2 < d1)
		abort();
	int32_t off = sg_calendar_offset(c, t);
	if (off <= -25 * 3600 || off >= 26 * 3600)
		abort();
	char buf[40];
	memset(buf, 'x', sizeof(buf));
	sg_calendar_format(c, t, buf, sizeof(buf));
	if (memchr(buf, '\0', sizeof(buf)) == NULL || strlen(buf) < 22)
		abort();
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	uint64_t h = 1469598103934665603ULL;
	char *err = NULL, *hours = NULL, *holidays = NULL;
	const char *tz = NULL;

	if (size < 1)
		return 0;
	if (dir == NULL)
		setup();
	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * 1099511628211ULL;
	unsigned flags = data[0];
	const unsigned char *p = data + 1, *end = data + size;
	const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
	const unsigned char *hend = nl ? nl : end;
	if (!(flags & 4))
		hours = sg_xstrndup((const char *)p, (size_t)(hend - p));
	p = nl ? nl + 1 : end;
	const unsigned char *nul = memchr(p, '\0', (size_t)(end - p));
	const unsigned char *dend = nul ? nul : end;
	if (flags & 2)
		holidays = sg_fuzz_put("holidays", p, (size_t)(dend - p));
	p = nul ? nul + 1 : end;
	if (flags & 1) {
		free(sg_fuzz_put("Fuzz/Zone", p, (size_t)(end - p)));
		tz = "Fuzz/Zone";
		setenv("TZDIR", dir, 1);
	}
	struct sg_calendar *c = sg_calendar_new("fuzz", hours, tz, holidays, &err);
	unsetenv("TZDIR");
	if ((c == NULL) != (err != NULL) || (err != NULL && err[0] == '\0'))
		abort();   /* fails exactly when it says why */
	if (c != NULL) {
		int64_t t = -2208988800LL + (int64_t)(mix(&h) % (300ULL * 365 * 86400));
		check_at(c, t, &h);
		/* near a daylight saving change: the last days of March or
		 * October, the first ones of April or November, any hour */
		static const int months[] = { 3, 4, 10, 11 };
		int mo = months[mix(&h) % 4], d = mo == 3 || mo == 10 ? 24 + (int)(mix(&h) % 8) : 1 + (int)(mix(&h) % 8);
		int64_t y = 1970 + (int64_t)(mix(&h) % 80);
		check_at(c, civil(y, mo, d) * 86400 + (int64_t)(mix(&h) % 86400) - 43200, &h);
		sg_calendar_free(&c);
	}
	free(err);
	free(hours);
	free(holidays);
	return 0;
}
