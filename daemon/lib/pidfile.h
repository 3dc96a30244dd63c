/*
 * pidfile — a locked pid file, so a second daemon refuses to start.
 *
 * sg_pidfile_open() creates the file (and its directory, mode 0755), takes
 * an exclusive flock() without waiting and keeps the descriptor open. The
 * flock belongs to the open file description, so it survives fork(): open
 * before daemonising, then call sg_pidfile_write() in the child.
 * Returns 0; -1 with errno set (EWOULDBLOCK: another instance holds it,
 * *holder receives its pid when readable).
 */
#ifndef SG_PIDFILE_H
#define SG_PIDFILE_H

#include <sys/types.h>

struct sg_pidfile;

int sg_pidfile_open(const char *path, struct sg_pidfile **out, pid_t *holder);
int sg_pidfile_write(struct sg_pidfile *pf);
/* Let another user (after privilege drop) remove the file at exit: the
 * file, and its directory when sg_pidfile_open() created it. */
int sg_pidfile_chown(struct sg_pidfile *pf, uid_t uid, gid_t gid);
/* Unlink the file, release the lock and free; safe on NULL. */
void sg_pidfile_remove(struct sg_pidfile **pf);

#endif
