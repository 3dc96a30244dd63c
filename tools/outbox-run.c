/*
 * supportgate-outbox — one delivery pass of the outbound queue, for
 * `supportgate outbox run`, which executes it. Only this program links
 * libcurl (and its two dozen libraries): the `supportgate` tool, run once
 * per mail from a pipe, starts without them.
 *
 * usage: supportgate-outbox CONFIG
 * Prints "sent N, deferred N, dead N, waiting N". Exit 0, 1 on a store or
 * configuration error, 2 on a usage error.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/diag.h"
#include "lib/log.h"
#include "outbound/outbound.h"
#include "store/store.h"

/* As the tool (tools/cli.c): a signal stops the pass and the store is
 * closed, not left to the next process to recover. */
static void
on_signal(int sig)
{
	(void)sig;
	sg_store_interrupt();
}

int
main(int argc, char **argv)
{
	struct sg_diag errs = { 0 };
	struct sg_outbound_stats s = { 0 };
	struct sg_store *st = NULL;
	struct sg_conf *c;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: supportgate-outbox CONFIG (run by 'supportgate outbox run')\n");
		return 2;
	}
	sg_log_open_stderr("supportgate");
	sg_log_set_level(SG_LOG_WARN);
	if ((c = sg_conf_load(argv[1], &errs)) == NULL) {
		sg_diag_print(&errs, stderr);
		sg_diag_clear(&errs);
		return 1;
	}
	sg_log_set_level((enum sg_log_level)c->log_level);
	struct sg_repl_conf repl;

	sg_conf_repl(c, &repl);
	if (sg_store_open_repl(c->state_dir, c->db_sync ? 0 : SG_STORE_NOSYNC, &repl, &st) != 0) {
		fprintf(stderr, "supportgate: cannot open the store in %s\n", c->state_dir);
		sg_conf_unref(&c);
		return 1;
	}
	sg_ingest_init();   /* the events of a delivery react as in the daemon */
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = sg_outbound_run_once(st, c, &s);
	sg_outbound_release();   /* QUIT to the relay, not a dropped session */
	printf("sent %u, deferred %u, dead %u, waiting %u\n", s.sent, s.deferred, s.dead, s.waiting);
	sg_store_close(&st);
	sg_conf_unref(&c);
	return rc == 0 ? 0 : 1;
}
