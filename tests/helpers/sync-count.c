/*
 * sync-count — an LD_PRELOAD shim for the durability test (t-durability):
 * watches what the process it is loaded into writes to Berkeley DB's log
 * files (a name starting "log.") and when it flushes them, and after each
 * such call rewrites $SG_SYNC_COUNT_FILE with
 *
 *   log N         flushes of log files (fsync, fdatasync, syncfs,
 *                 sync_file_range)
 *   all N         flushes of any file (msync MS_SYNC too)
 *   unflushed N   bytes written to log files since their last flush
 *
 * A commit is durable when the log up to its record is on disk: with
 * synchronous commits, a process at rest after a commit has 0 unflushed
 * log bytes; a commit that skips the flush leaves its record unflushed.
 * Counting flushes alone would not tell (another transaction's flush, an
 * auto-committed sequence, can hide one that skipped it).
 *
 * Built as a plain shared object (no sanitizers: it is loaded before any
 * runtime). Descriptors above MAXFD are not watched.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXFD 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long n_log, n_all;
static unsigned long long pending[MAXFD];   /* unflushed log bytes per fd */
static unsigned long long orphaned;         /* ... of log fds closed unflushed */
static __thread int inside;                 /* our own calls are not watched */

typedef ssize_t write_fn(int, const void *, size_t);
typedef ssize_t pwrite_fn(int, const void *, size_t, off_t);
typedef ssize_t writev_fn(int, const struct iovec *, int);
typedef int fd_fn(int);
typedef int range_fn(int, off_t, off_t, unsigned int);
typedef int msync_fn(void *, size_t, int);
static void *p_write, *p_pwrite, *p_pwrite64, *p_writev, *p_close, *p_fsync, *p_fdatasync, *p_syncfs,
	*p_range, *p_msync;

/* The next definition of a libc function (a race only looks it up twice). */
static void *
real(void **cache, const char *name)
{
	if (*cache == NULL)
		*cache = dlsym(RTLD_NEXT, name);
	return *cache;
}

static int
is_log(int fd)
{
	char link[64], path[4096];
	const char *base;
	ssize_t n;

	if (fd < 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if ((n = readlink(link, path, sizeof(path) - 1)) <= 0)
		return 0;
	path[n] = '\0';
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	return strncmp(base, "log.", 4) == 0;
}

/* Replace the count file (write aside, rename: a reader never sees it
 * half-written); lock held. */
static void
report(void)
{
	const char *file = getenv("SG_SYNC_COUNT_FILE");
	unsigned long long unflushed = orphaned;
	char buf[160], tmp[4096];
	int out, len;

	if (file == NULL || snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp))
		return;
	for (int i = 0; i < MAXFD; i++)
		unflushed += pending[i];
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return;
	len = snprintf(buf, sizeof(buf), "log %lu\nall %lu\nunflushed %llu\n", n_log, n_all, unflushed);
	write_fn *w = (write_fn *)real(&p_write, "write");
	int written = w(out, buf, (size_t)len) == len;
	((fd_fn *)real(&p_close, "close"))(out);
	if (written)
		rename(tmp, file);
}

static void
wrote(int fd, ssize_t n)
{
	if (inside || n <= 0 || fd < 0 || fd >= MAXFD)
		return;
	inside = 1;
	if (is_log(fd)) {
		pthread_mutex_lock(&lock);
		pending[fd] += (unsigned long long)n;
		report();
		pthread_mutex_unlock(&lock);
	}
	inside = 0;
}

static void
flushed(int fd)
{
	if (inside)
		return;
	inside = 1;
	pthread_mutex_lock(&lock);
	n_all++;
	if (is_log(fd)) {
		n_log++;
		if (fd < MAXFD)
			pending[fd] = 0;
	}
	report();
	pthread_mutex_unlock(&lock);
	inside = 0;
}

ssize_t
write(int fd, const void *buf, size_t len)
{
	ssize_t n = ((write_fn *)real(&p_write, "write"))(fd, buf, len);
	wrote(fd, n);
	return n;
}

ssize_t
pwrite(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n = ((pwrite_fn *)real(&p_pwrite, "pwrite"))(fd, buf, len, off);
	wrote(fd, n);
	return n;
}

ssize_t
pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	ssize_t n = ((pwrite_fn *)real(&p_pwrite64, "pwrite64"))(fd, buf, len, off);
	wrote(fd, n);
	return n;
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	ssize_t n = ((writev_fn *)real(&p_writev, "writev"))(fd, iov, cnt);
	wrote(fd, n);
	return n;
}

int
close(int fd)
{
	if (!inside && fd >= 0 && fd < MAXFD) {
		pthread_mutex_lock(&lock);
		orphaned += pending[fd];
		pending[fd] = 0;
		pthread_mutex_unlock(&lock);
	}
	return ((fd_fn *)real(&p_close, "close"))(fd);
}

int
fsync(int fd)
{
	int rc = ((fd_fn *)real(&p_fsync, "fsync"))(fd);
	flushed(fd);
	return rc;
}

int
fdatasync(int fd)
{
	int rc = ((fd_fn *)real(&p_fdatasync, "fdatasync"))(fd);
	flushed(fd);
	return rc;
}

int
syncfs(int fd)
{
	int rc = ((fd_fn *)real(&p_syncfs, "syncfs"))(fd);
	flushed(fd);
	return rc;
}

int
sync_file_range(int fd, off_t off, off_t len, unsigned int flags)
{
	int rc = ((range_fn *)real(&p_range, "sync_file_range"))(fd, off, len, flags);
	flushed(fd);
	return rc;
}

int
msync(void *addr, size_t len, int flags)
{
	int rc = ((msync_fn *)real(&p_msync, "msync"))(addr, len, flags);
	if (flags & MS_SYNC)
		flushed(-1);
	return rc;
}
