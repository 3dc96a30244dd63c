/*
 * calendar — business hours: weekly opening hours in an IANA time zone,
 * less a list of holidays; the clock SLA targets are counted on.
 *
 * A calendar is built once (when the rules are loaded) and immutable
 * after: every function is thread-safe and never blocks (no file access,
 * no locale, no TZ environment). The time zone is read from the tz
 * database's compiled file ($TZDIR or /usr/share/zoneinfo, "TZif"
 * versions 1-4): its transitions, then its POSIX TZ footer for times
 * after the last one. Footer rules of the form Mm.w.d[/time] are
 * followed (every zone in use today); a footer of another form (Jn, n)
 * keeps the offset of the last transition. This is a pragmatic choice:
 * localtime_r() would need TZ set process-wide, which is neither
 * thread-safe nor per calendar.
 *
 * sg_calendar_new(name, hours, tz, holidays_path, &err)
 *   hours: groups separated by ',' or ';', each "DAYS RANGE [RANGE...]":
 *   DAYS is a day (mon tue wed thu fri sat sun) or a span "mon-fri"
 *   (wrapping "sat-sun"/"fri-mon" allowed); RANGE is "HH:MM-HH:MM" in
 *   local time, end after start, "24:00" allowed as an end. A day named
 *   twice takes the union. "24x7" (or NULL) is always open. On the day
 *   of a change to or from daylight saving time a local time that does
 *   not exist (in the gap) stands for the change itself, one that
 *   occurs twice for its first occurrence: 01:30-02:15 on a spring
 *   forward at 02:00 is open 30 minutes.
 *   tz: an IANA name ("Europe/Moscow"; NULL or "UTC" for UTC). A zone
 *   file breaking RFC 8536 (transitions not ascending, a UTC offset
 *   outside -25h..+26h) is refused.
 *   holidays_path: NULL, or a file of ISO dates (YYYY-MM-DD) one per
 *   line; '#' starts a comment; at most SG_CAL_MAX_HOLIDAYS. A holiday
 *   is closed all day (local date).
 *   Returns the calendar (free with sg_calendar_free), or NULL with *err
 *   (new string, the caller frees) saying what is wrong (a bad range, an
 *   unknown zone, "holidays:LINE: ..."). A calendar open no hour of the
 *   week is an error.
 *
 * All times are Unix seconds (UTC). A NULL calendar is 24x7 UTC.
 * sg_calendar_add(c, t, n): the moment when n business seconds have
 *   passed from t (n <= 0: t). From outside the hours the count starts
 *   at the next opening; when exactly n seconds are used up at a
 *   closing, that closing is the answer (not the next opening).
 * sg_calendar_add_days(c, t, n): n business days from t: on the n-th
 *   business day after t's, at the same business offset into the day
 *   (cut to that day's hours). From outside the hours (or at an opening)
 *   the answer is the closing of the n-th business day counting t's next
 *   one as the first: a request on Friday night due in 1 business day is
 *   due Monday at closing.
 * sg_calendar_between(c, a, b): business seconds in [a, b) (0 when
 *   b <= a).
 * sg_calendar_offset(c, t): the zone's UTC offset in seconds at t.
 * sg_calendar_format(c, t, buf, size): "YYYY-MM-DD HH:MM +HHMM" in the
 *   calendar's zone (UTC without a calendar).
 * Work per call: one step per local day crossed (bounded: at most
 *   SG_CAL_MAX_DAYS days are walked; a longer span is cut there), a
 *   binary search in the zone's transitions and the holidays per day.
 */
#ifndef SG_CALENDAR_H
#define SG_CALENDAR_H

#include <stddef.h>
#include <stdint.h>

#define SG_CAL_MAX_HOLIDAYS 10000
#define SG_CAL_MAX_RANGES 8          /* opening ranges per weekday */
#define SG_CAL_MAX_DAYS (40 * 366)   /* days one call walks at most */

struct sg_calendar;

struct sg_calendar *sg_calendar_new(const char *name, const char *hours, const char *tz, const char *holidays_path,
				    char **err);
void sg_calendar_free(struct sg_calendar **c);
const char *sg_calendar_name(const struct sg_calendar *c);

int64_t sg_calendar_add(const struct sg_calendar *c, int64_t t, int64_t n);
int64_t sg_calendar_add_days(const struct sg_calendar *c, int64_t t, int n);
int64_t sg_calendar_between(const struct sg_calendar *c, int64_t a, int64_t b);
int32_t sg_calendar_offset(const struct sg_calendar *c, int64_t t);
void sg_calendar_format(const struct sg_calendar *c, int64_t t, char *buf, size_t size);

#endif
