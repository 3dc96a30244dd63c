/*
 * known-bugs.h — inputs that trip known bugs in libraries supportgate
 * uses, for the fuzz targets to skip, so that a long run goes on finding
 * new things while the known one stays reported (each has its folder
 * under tests/fuzz/crashes-TARGET/ with a reproducer and a README).
 *
 * sg_fuzz_gmime_leak(): GMime 3.2.13 (Debian 12) leaks a 128-byte
 * GString when an address header has a domain literal followed by a
 * comment that is not closed before the end of the header field:
 * "To: s@[x](" (tests/fuzz/crashes-message/; a NUL ends the field for
 * GMime, tests/fuzz/crashes-ingest/). The test is wider than
 * the bug (any "]" then blanks then "(" left open in a header field,
 * anywhere in the input) and says nothing about other leaks, which
 * LeakSanitizer still reports.
 */
#ifndef SG_FUZZ_KNOWN_BUGS_H
#define SG_FUZZ_KNOWN_BUGS_H

#include <stddef.h>

static int
sg_fuzz_gmime_leak(const unsigned char *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i] != ']')
			continue;
		size_t j = i + 1;
		while (j < n && (d[j] == ' ' || d[j] == '\t' || d[j] == '\r' || d[j] == '\n'))
			j++;
		if (j >= n || d[j] != '(')
			continue;
		/* is the comment closed before the header field ends? */
		int depth = 0;
		for (; j < n; j++) {
			if (d[j] == '\\') {
				j++;
				continue;
			}
			if (d[j] == '(')
				depth++;
			else if (d[j] == ')' && --depth == 0)
				break;
			else if (d[j] == '\0' ||
				 (d[j] == '\n' && (j + 1 >= n || (d[j + 1] != ' ' && d[j + 1] != '\t'))))
				break;   /* GMime's header values end at a NUL too */
		}
		if (depth > 0)
			return 1;
	}
	return 0;
}

#endif
