/*
 * cli-forget — `supportgate forget ADDRESS`: erase one customer's
 * messages, address and name across every ticket (sg_ticket_forget in
 * daemon/ticket/erase.c), leaving anonymous counts; each ticket records an
 * "erased" event that does not name the address.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf/conf.h"
#include "store/store.h"
#include "ticket/erase.h"

int
sg_cmd_forget(int argc, char **argv)
{
	size_t nt = 0, nm = 0;
	const struct passwd *pw;
	char actor[300];
	int rc;

	if (argc != 2)
		return sg_cli_usage("forget", 2);
	const struct sg_conf *c = sg_cli_conf();
	struct sg_store *st = sg_cli_store(c);
	pw = getpwuid(getuid());
	/* the invoking login from the password database, as `set` records it */
	if (pw != NULL)
		snprintf(actor, sizeof(actor), "cli:%s", pw->pw_name);
	else
		snprintf(actor, sizeof(actor), "cli:uid %u", (unsigned)getuid());
	rc = sg_ticket_forget(st, c, argv[1], actor, &nt, &nm);
	sg_store_close(&st);
	if (rc == SG_OP_INVALID) {
		fprintf(stderr, "supportgate: forget: '%s' is not an address\n", argv[1]);
		return 2;
	}
	if (rc != 0) {
		fprintf(stderr, "supportgate: forget: store error after %zu ticket(s); run it again\n", nt);
		return 1;
	}
	printf("forgotten: %zu ticket(s), %zu message(s) erased\n", nt, nm);
	return 0;
}
