/* fuzz-token — subject tokens, plus-addresses, Message-IDs, addresses. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail/address.h"
#include "mail/token.h"
#include "lib/xalloc.h"

#define SG_FUZZ_SEEDS "tests/fuzz/seeds-token"
#include "replay.h"

static const unsigned char secret[] = "fuzz-secret-0123456789";

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *s = sg_xstrndup((const char *)data, size);
	uint64_t id;
	int check;

	(void)sg_token_find(s, "ACME", secret, sizeof(secret) - 1, &id, &check);
	(void)sg_token_find(s, "ACME", NULL, 0, &id, &check);
	(void)sg_token_plus_parse(s, secret, sizeof(secret) - 1, &id, &check);
	(void)sg_token_msgid_parse(s, secret, sizeof(secret) - 1, &id);
	(void)sg_subject_has_token(s, "ACME", 1);
	char *t = sg_subject_add_token(s, "[ACME #1]");
	free(t);
	char *a = sg_addr_normalize(s);
	if (a != NULL) {
		if (strpbrk(a, "\r\n <>") != NULL)
			abort();
		(void)sg_addr_is_robot(a);
		free(a);
	}
	free(s);
	return 0;
}
