/*
 * test-retry — daemon/lib/retry.h: no pause before the first attempt,
 * a pause of at most attempt x unit before a retry, random (not the same
 * every time), and from threads at once.
 */
#include "config.h"

#include <pthread.h>
#include <time.h>

#include "lib/retry.h"
#include "tap.h"

static double
now_us(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static double
timed(int attempt, unsigned unit)
{
	double t0 = now_us();
	sg_retry_pause(attempt, unit);
	return now_us() - t0;
}

static void
test_bounds(void)
{
	double mx = 0, mn = 1e9, t;

	ok(timed(0, 100000) < 5000, "attempt 0: no pause");
	ok(timed(3, 0) < 5000, "unit 0: no pause");
	for (int i = 0; i < 40; i++) {
		t = timed(2, 10000);   /* 1 us .. 20 ms */
		mx = t > mx ? t : mx;
		mn = t < mn ? t : mn;
	}
	ok(mx < 20000 + 200000, "attempt 2 of unit 10 ms: at most 20 ms (longest %.0f us; 200 ms allowed for a loaded machine)", mx);
	ok(mx - mn > 2000, "the pauses differ (%.0f..%.0f us)", mn, mx);
}

static void *
pauser(void *arg)
{
	(void)arg;
	for (int i = 1; i <= 5; i++)
		sg_retry_pause(i, 200);
	return NULL;
}

static void
test_threads(void)
{
	pthread_t th[4];
	double t0 = now_us();

	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, pauser, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ok(now_us() - t0 < 500000, "4 threads, 5 retries each: done");
}

static const struct sg_test tests[] = {
	{ "bounds", test_bounds },
	{ "threads", test_threads },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
