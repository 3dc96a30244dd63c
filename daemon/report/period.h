/*
 * period — the time frame of a report: its time zone and its bounds.
 *
 * Local time is the process's time zone: sg_report_tz_set() sets it (TZ
 * and tzset(), so it is process-wide: call it once at start-up of a tool,
 * never from a daemon thread). Every local-time computation of the
 * report (day buckets, the bounds parsed here) uses it.
 *
 * sg_report_tz_set(zone): "" or NULL keeps the process's zone. A zone
 *   name must exist under the zoneinfo directory (/usr/share/zoneinfo, or
 *   $TZDIR): glibc would otherwise fall back to UTC without a word.
 *   Returns 0 or -1 (unknown or malformed name; nothing changed).
 * sg_report_period(from, to, now, &a, &b, err, errlen): the half-open
 *   interval [a, b) from two optional strings (NULL: default):
 *     YYYY-MM-DD            local midnight of that day; as --to, the
 *                           midnight after it (the day is included)
 *     YYYY-MM-DDTHH:MM[:SS] local time (also with a space instead of T)
 *     @SECONDS              Unix time (at most the end of year 9999)
 *   Defaults: to = now; from = the local midnight six days before the
 *   day of `to` (seven calendar days, today included). Errors (unparsable,
 *   from >= to, longer than SG_REPORT_MAX_DAYS) return -1 with a message
 *   in err. No allocation, no blocking.
 * sg_report_time(s, &t, &date_only): one time in the forms above (a
 *   bare date: its local midnight, *date_only set); 0 or -1.
 * sg_report_day_start(t): the local midnight that starts t's day.
 */
#ifndef SG_REPORT_PERIOD_H
#define SG_REPORT_PERIOD_H

#include <stddef.h>
#include <stdint.h>

#define SG_REPORT_MAX_DAYS 3660

int sg_report_tz_set(const char *zone);
int sg_report_period(const char *from, const char *to, int64_t now, int64_t *a, int64_t *b, char *err,
		     size_t errlen);
int sg_report_time(const char *s, int64_t *t, int *date_only);
int64_t sg_report_day_start(int64_t t);

#endif
