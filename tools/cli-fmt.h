/*
 * cli-fmt — how the supportgate tool prints for people: times in the
 * local time zone (or UTC with the global --utc), columns aligned by
 * display width (a Cyrillic or CJK name takes the columns it shows in,
 * not its bytes), a summary line under each list.
 *
 * sg_cli_fmt_init(): once, from main(): the locale's character type
 *   (C.UTF-8 when the environment's is not UTF-8) and the time zone.
 * sg_cli_time(): "2026-12-02 09:15:03" local, "2026-12-02 06:15:03Z" in UTC;
 *   "-" for 0. buf of at least SG_CLI_TIME_LEN.
 * sg_cli_width(): display columns of a UTF-8 string (invalid bytes and
 *   control characters count one column each and print as '?').
 * sg_cli_cell(): s cut to at most width columns (an ellipsis marks a
 *   cut), then blanks up to width; width 0 prints s whole. Control
 *   characters never reach the terminal.
 * JSON output stays UTC (RFC 3339) whatever --utc says.
 */
#ifndef SG_CLI_FMT_H
#define SG_CLI_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SG_CLI_TIME_LEN 40

void sg_cli_fmt_init(int utc);
const char *sg_cli_time(int64_t t, char *buf, size_t len);
int sg_cli_width(const char *s);
void sg_cli_cell(FILE *fp, const char *s, int width);

#endif
