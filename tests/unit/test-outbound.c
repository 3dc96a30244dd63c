/*
 * test-outbound — the outbound worker on a real store in a temp dir:
 * which relays count as loopback (plain SMTP without STARTTLS), and, with
 * delivery refused by a closed 127.0.0.1 port, what a pass reads and
 * changes: per-ticket order, deferral, dead letters and retry in the
 * due-time index, a store from before the index.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/log.h"
#include "outbound/outbound.h"
#include "tap.h"

static void
test_loopback(void)
{
	static const struct {
		const char *url;
		int local;
	} cases[] = {
		{ "smtp://localhost:25", 1 },
		{ "smtp://localhost", 1 },
		{ "smtp://LocalHost:25", 1 },
		{ "smtp://127.0.0.1:2525", 1 },
		{ "smtp://127.5.5.5", 1 },
		{ "smtp://[::1]", 1 },
		{ "smtp://[::1]:25", 1 },
		{ "smtps://localhost:465", 1 },
		{ "smtp://localhost.evil.example", 0 },
		{ "smtp://localhost.evil.example:25", 0 },
		{ "smtp://127.0.0.1.evil.example", 0 },
		{ "smtp://127.evil.example", 0 },
		{ "smtp://localhost@evil.example:25", 0 },
		{ "smtp://user:localhost@relay.example", 0 },
		{ "smtp://relay.example/localhost", 0 },
		{ "smtp://128.0.0.1", 0 },
		{ "smtp://10.127.0.1", 0 },
		{ "smtp://[::2]", 0 },
		{ "smtp://[::1].evil.example", 0 },
		{ "smtp://relay.example", 0 },
		{ "not a url", 0 },
		{ "", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(sg_outbound_is_loopback(cases[i].url), cases[i].local, "loopback: '%s' -> %d", cases[i].url,
		       cases[i].local);
}

int
main(void)
{
	plan_lazy();
	sg_log_open_stderr("test-outbound");
	sg_log_set_level(SG_LOG_ERROR);
	test_loopback();
	return done_testing();
}
