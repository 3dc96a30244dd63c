/*
 * test-lograte — one line per key and window: a flood of 2,000 events
 * for one address logs once, counts the rest, and lets a line through
 * again when the window is over; other keys are not held back.
 */
#include "config.h"

#include "lib/lograte.h"
#include "tap.h"

static void
test_flood(void)
{
	unsigned held = 99;
	int allowed = 0;

	for (int i = 0; i < 2000; i++)
		allowed += sg_lograte_allow("ack:flood@customer.example", 1000 + i / 100, 3600, NULL);
	is_int(allowed, 1, "2,000 events within the hour: one line");
	ok(!sg_lograte_allow("ack:flood@customer.example", 4599, 3600, NULL), "still inside the window");
	ok(sg_lograte_allow("ack:flood@customer.example", 4600, 3600, &held), "the window is over: a line again");
	is_int((int)held, 2000, "and it knows how many were held back");
}

static void
test_other_key(void)
{
	unsigned held = 99;

	ok(sg_lograte_allow("ack:other@customer.example", 1010, 3600, &held) && held == 0, "another key is not held back");
}

static const struct sg_test tests[] = {
	{ "flood", test_flood },
	{ "other-key", test_other_key },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
