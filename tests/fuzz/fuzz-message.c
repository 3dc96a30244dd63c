/* fuzz-message — the GMime-based parser and the header encoder. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail/message.h"
#include "lib/xalloc.h"

#define SG_FUZZ_SEEDS "tests/mail tests/mail/quickstart tests/fuzz/crashes-message"
#include "replay.h"

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sg_msginfo *mi = NULL;

	if (sg_message_parse((const char *)data, size, &mi) == 0 && mi != NULL) {
		char *enc = sg_message_header_encode(mi->subject);
		if (strpbrk(enc, "\r\n") != NULL)
			abort();
		free(enc);
		(void)sg_msginfo_header(mi, "X-Anything");
	}
	sg_msginfo_free(&mi);
	char *s = sg_xstrndup((const char *)data, size);
	char *t = sg_message_html_to_text(s, 65536);
	free(t);
	free(s);
	return 0;
}
