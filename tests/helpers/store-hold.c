/*
 * store-hold — a store writer that dies on purpose (tests only).
 *
 *   store-hold STATE_DIR hold      open the store, begin a write
 *                                  transaction, write a ticket, a message
 *                                  and an event, print "holding" and wait
 *                                  (the test kills it with SIGKILL: a
 *                                  process that died holding locks)
 *   store-hold STATE_DIR loop [N]  commit N messages (default: forever),
 *                                  printing "committed K" after each (the
 *                                  test kills it at a random moment: in a
 *                                  mutex, mid-log-write, between commits)
 *   store-hold STATE_DIR idle      open the store, print "open", wait: a
 *                                  live process in the environment (like
 *                                  the daemon) while another one dies
 *   store-hold STATE_DIR wedge     without opening the store, take the
 *                                  lock a process holds on __db.register
 *                                  while it opens the environment, print
 *                                  "wedged" and wait: a process stopped
 *                                  in the middle of its open (opening the
 *                                  store must give up, not hang)
 * Exit: 0 at the end of loop N, 2 store open failed, 3 a write failed.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"

static int
write_one(struct sg_store *st, struct sg_txn *txn, long k)
{
	struct sg_ticket t = { 0 };
	struct sg_msgrec m = { 0 };
	char *mid = sg_xasprintf("hold-%ld-%ld@store-hold.test", (long)getpid(), k);
	int rc;

	if ((rc = sg_store_ticket_new_id(st, txn, &t.id)) != 0)
		goto out;
	t.subject = sg_xstrdup("held");
	t.requestor = sg_xstrdup("hold@store-hold.test");
	t.nmessages = 1;
	m.ticket = t.id;
	m.message_id = mid;
	m.from = "hold@store-hold.test";
	m.subject = "held";
	if ((rc = sg_store_message_add(st, txn, &m, "raw bytes", 9)) == 0 &&
	    (rc = sg_store_event_add(st, txn, t.id, "created", "test", NULL)) == 0 &&
	    (rc = sg_store_customer_add(st, txn, "hold@store-hold.test", t.id)) == 0)
		rc = sg_store_ticket_put(st, txn, &t);
out:
	sg_ticket_clear(&t);
	free(mid);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sg_store *st = NULL;
	struct sg_txn *txn = NULL;

	if (argc < 3) {
		fprintf(stderr, "usage: store-hold STATE_DIR hold|loop [N]|idle\n");
		return 2;
	}
	sg_log_open_stderr("store-hold");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[2], "wedge") == 0) {
		/* Berkeley DB's registry lock: byte 1 of __db.register,
		 * held exclusively by a process while it opens. */
		char *reg = sg_xasprintf("%s/db/__db.register", argv[1]);
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1, .l_len = 1 };
		int fd = open(reg, O_RDWR);
		free(reg);
		if (fd < 0 || fcntl(fd, F_SETLKW, &fl) != 0)
			return 2;
		printf("wedged\n");
		for (;;)
			pause();
	}
	if (sg_store_open(argv[1], 0, &st) != 0)
		return 2;
	if (strcmp(argv[2], "idle") == 0) {
		printf("open\n");
		for (;;)
			pause();
	}
	if (strcmp(argv[2], "hold") == 0) {
		if (sg_store_txn_begin(st, &txn) != 0 || write_one(st, txn, 0) != 0)
			return 3;
		printf("holding\n");
		for (;;)
			pause();
	}
	long n = argc > 3 ? atol(argv[3]) : -1;
	for (long k = 0; n < 0 || k < n; k++) {
		int rc = sg_store_txn_begin(st, &txn);
		if (rc == 0 && (rc = write_one(st, txn, k)) == 0)
			rc = sg_store_txn_commit(&txn);
		else
			sg_store_txn_abort(&txn);
		if (rc != 0 && rc != SG_STORE_DEADLOCK)
			return 3;
		printf("committed %ld\n", k);
	}
	sg_store_close(&st);
	return 0;
}
