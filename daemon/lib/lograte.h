/*
 * lograte — say a repeated thing once per window, so a flood of mail
 * from one sender leaves a readable log (one line per address and
 * window, not one per message).
 *
 * sg_lograte_allow(): 1 when a line about key may be logged now (and
 *   remembers now for it), 0 when one was logged within window seconds.
 *   *suppressed (may be NULL) receives how many were held back since the
 *   last allowed line, so that line can say "(N more since)". Keys are
 *   hashed into a fixed table of SG_LOGRATE_SLOTS: a collision can only
 *   let a line through early, never hold one back longer than window.
 *   Thread-safe; O(1); never allocates.
 */
#ifndef SG_LOGRATE_H
#define SG_LOGRATE_H

#include <stdint.h>

#define SG_LOGRATE_SLOTS 1024

int sg_lograte_allow(const char *key, int64_t now, int window, unsigned *suppressed);

#endif
