/*
 * retry — pauses between deadlock retries. Contract in retry.h.
 */
#include "config.h"

#include "lib/retry.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

void
sg_retry_pause(int attempt, unsigned unit_us)
{
	static __thread unsigned seed;
	struct timespec ts;
	unsigned long long us;

	if (attempt <= 0 || unit_us == 0)
		return;
	if (seed == 0)
		seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&ts ^ 0x9e3779b9u;
	us = (unsigned long long)(rand_r(&seed) % unit_us + 1) * (unsigned)attempt;
	ts.tv_sec = (time_t)(us / 1000000);
	ts.tv_nsec = (long)(us % 1000000) * 1000L;
	nanosleep(&ts, NULL);
}
