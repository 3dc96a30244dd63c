/*
 * milter — the libmilter filter: translation between milter events and
 * the ingest entry point; nothing about tickets is decided here.
 *
 * sg_milter_setup() registers the filter and opens the socket (as root,
 * before privileges are dropped). A stale unix socket (nobody answers) is
 * removed; a live one, or an inet address in use, is an error. TCP
 * sockets get TCP_NODELAY (see the comment in milter.c).
 * sg_milter_run() runs libmilter's main loop and returns when it stops
 * (within about a second, not after libmilter's 5 s poll: milter.c)
 * (SIGTERM/SIGINT/SIGHUP are libmilter's own stop signals, or
 * sg_milter_stop()). sg_milter_cleanup() removes a unix socket file.
 * All return 0 on success, -1 after logging why.
 */
#ifndef SG_MILTER_H
#define SG_MILTER_H

#include <sys/types.h>

struct sg_store;

/* mode and group (NULL or "": leave it) apply to a unix socket. */
int sg_milter_setup(const char *socket_spec, int backlog, unsigned mode, const char *group);
/* The store that end-of-message hands mail to (owned by the caller). */
void sg_milter_set_store(struct sg_store *st);
/* Give a unix socket (and its directory, when we created it) to the user
 * the daemon is about to become, so the socket can be removed at exit;
 * the socket keeps its group (socket_group), the directory gets gid. */
int sg_milter_chown(uid_t uid, gid_t gid);
int sg_milter_run(void);
void sg_milter_stop(void);
void sg_milter_cleanup(const char *socket_spec);

#endif
