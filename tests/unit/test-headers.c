/*
 * test-headers — removing our header fields from raw bytes: folded
 * continuations go with their field, the body is never touched, LF and
 * CRLF mails alike, case-insensitive names.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail/headers.h"
#include "tap.h"

static void
test_strip_prefix(void)
{
	static const struct {
		const char *in, *want, *name;
		size_t removed;
	} cases[] = {
		{ "From: a\r\nX-Support-Ticket: 9\r\nSubject: s\r\n\r\nbody\r\n", "From: a\r\nSubject: s\r\n\r\nbody\r\n",
		  "one field removed", 1 },
		{ "x-support-queue: q\n\tfolded\nFrom: a\n\nX-Support-Ticket: in the body\n",
		  "From: a\n\nX-Support-Ticket: in the body\n", "folded field removed, body untouched", 1 },
		{ "X-Support-A: 1\r\nX-Support-B: 2\r\n continued\r\n\r\n", "\r\n", "every field removed", 2 },
		{ "From: a\r\nX-Supporter: b\r\n\r\n", "From: a\r\nX-Supporter: b\r\n\r\n", "X-Supporter is not ours", 0 },
		{ "From: a\r\nX-Support-Ticket: 1", "From: a\r\n", "no body, no final line end", 1 },
		{ "", "", "empty input", 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len, removed;
		char *out = sg_headers_strip_prefix(cases[i].in, strlen(cases[i].in), "X-Support-", &len, &removed);
		is_str(out, cases[i].want, "%s", cases[i].name);
		ok(len == strlen(cases[i].want) && removed == cases[i].removed, "%s: length and count", cases[i].name);
		free(out);
	}
}

static const struct sg_test tests[] = {
	{ "strip-prefix", test_strip_prefix },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
