/*
 * headers — see headers.h.
 */
#include "config.h"
#include "mail/headers.h"

#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

char *
sg_headers_strip_prefix(const char *raw, size_t len, const char *prefix, size_t *outlen, size_t *removed)
{
	char *out = sg_xmalloc(len + 1);
	size_t pl = strlen(prefix), o = 0, p = 0, dropped = 0;
	int dropping = 0, in_headers = 1;

	while (p < len) {
		const char *nl = memchr(raw + p, '\n', len - p);
		size_t e = nl ? (size_t)(nl - raw) + 1 : len;   /* one line, with its end */
		const char *line = raw + p;
		size_t ll = e - p;
		if (in_headers && (ll == 1 || (ll == 2 && line[0] == '\r')))
			in_headers = 0;   /* the empty line: the body follows */
		else if (in_headers && (line[0] == ' ' || line[0] == '\t'))
			;                 /* a continuation keeps the verdict of its field */
		else if (in_headers) {
			dropping = ll >= pl && strncasecmp(line, prefix, pl) == 0;
			dropped += (size_t)dropping;
		}
		if (!(in_headers && dropping)) {
			memcpy(out + o, line, ll);
			o += ll;
		}
		if (!in_headers)
			dropping = 0;
		p = e;
	}
	out[o] = '\0';
	*outlen = o;
	if (removed != NULL)
		*removed = dropped;
	return out;
}
