/*
 * pidfile — see pidfile.h.
 */
#include "config.h"
#include "lib/pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

struct sg_pidfile {
	char *path;
	char *made_dir;     /* the directory, when we created it */
	int fd;
};

/* Returns 1 when the last component was created, 0 when it existed,
 * -1 on error. */
static int
mkdir_p(const char *dir, mode_t mode)
{
	char *d = sg_xstrdup(dir);
	int rc = 0;

	for (char *p = d + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;
			*p = '\0';
			if (mkdir(d, mode) == 0) {
				rc = 1;
			} else if (errno != EEXIST) {
				rc = -1;
				break;
			} else {
				rc = 0;
			}
			*p = c;
			if (c == '\0')
				break;
		}
	}
	free(d);
	return rc;
}

int
sg_pidfile_open(const char *path, struct sg_pidfile **out, pid_t *holder)
{
	char *copy = sg_xstrdup(path);
	int fd, saved;

	*out = NULL;
	if (holder != NULL)
		*holder = 0;
	char *dir = dirname(copy);
	int made = mkdir_p(dir, 0755) == 1;
	char *made_dir = made ? sg_xstrdup(dir) : NULL;
	free(copy);
	/* O_NOFOLLOW: a link planted at the path must not make root write elsewhere */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		free(made_dir);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		saved = errno;
		if (holder != NULL) {
			char buf[32];
			ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
			if (n > 0) {
				buf[n] = '\0';
				*holder = (pid_t)atol(buf);
			}
		}
		close(fd);
		free(made_dir);
		errno = saved;
		return -1;
	}
	*out = sg_xcalloc(1, sizeof(**out));
	(*out)->path = sg_xstrdup(path);
	(*out)->made_dir = made_dir;
	(*out)->fd = fd;
	return 0;
}

int
sg_pidfile_write(struct sg_pidfile *pf)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(pf->fd, 0) != 0 || pwrite(pf->fd, buf, (size_t)n, 0) != n)
		return -1;
	return 0;
}

int
sg_pidfile_chown(struct sg_pidfile *pf, uid_t uid, gid_t gid)
{
	int rc = fchown(pf->fd, uid, gid);

	/* A directory we made for the pid file goes along, so the file can
	 * be removed at exit after privileges are dropped. */
	if (rc == 0 && pf->made_dir != NULL)
		rc = chown(pf->made_dir, uid, gid);
	return rc;
}

void
sg_pidfile_remove(struct sg_pidfile **pfp)
{
	struct sg_pidfile *pf = *pfp;

	if (pf == NULL)
		return;
	*pfp = NULL;
	if (unlink(pf->path) != 0 && errno != ENOENT)
		sg_warn("pidfile", "cannot remove %s: %s", pf->path, strerror(errno));
	close(pf->fd);
	free(pf->path);
	free(pf->made_dir);
	free(pf);
}
