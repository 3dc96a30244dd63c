/*
 * replay.h — a main() for fuzz targets built without libFuzzer: it feeds
 * every file under the given paths (or, with none, the seed folders named
 * by SG_FUZZ_SEEDS relative to $top_srcdir) to LLVMFuzzerTestOneInput and
 * prints one TAP line. In a tree configured with --enable-libfuzzer
 * (config.h defines SG_LIBFUZZER; `make fuzz` makes that tree) the same
 * source links libFuzzer's main() instead: see tests/fuzz/run.sh.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Remove a target's temporary tree (files, folders, depth first). */
__attribute__((unused)) static int
sg_fuzz_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void
sg_fuzz_rmtree(const char *path)
{
	if (path != NULL)
		nftw(path, sg_fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The target's private temp dir (sg_fuzz_tmpdir), removed at exit. */
static char *sg_fuzz_dir;

__attribute__((unused)) static void
sg_fuzz_dir_remove(void)
{
	sg_fuzz_rmtree(sg_fuzz_dir);
	free(sg_fuzz_dir);
	sg_fuzz_dir = NULL;
}

/* Make the target's temp dir, sg-fuzz-NAME.XXXXXX under $TMPDIR (when
 * absolute) or /tmp, removed with everything in it at exit; aborts when
 * it cannot. */
__attribute__((unused)) static const char *
sg_fuzz_tmpdir(const char *name)
{
	const char *tmp = getenv("TMPDIR");
	const char *base = tmp != NULL && *tmp == '/' ? tmp : "/tmp";
	size_t n = strlen(base) + strlen(name) + 32;

	if ((sg_fuzz_dir = malloc(n)) == NULL)
		abort();
	snprintf(sg_fuzz_dir, n, "%s/sg-fuzz-%s.XXXXXX", base, name);
	if (mkdtemp(sg_fuzz_dir) == NULL)
		abort();
	atexit(sg_fuzz_dir_remove);
	return sg_fuzz_dir;
}

/* Write len bytes to NAME under the temp dir (its folders made already),
 * mode 0600 (a secret readable by others only draws a warning); the
 * path, malloc'd. Aborts on failure. */
__attribute__((unused)) static char *
sg_fuzz_put(const char *name, const void *data, size_t len)
{
	size_t n = strlen(sg_fuzz_dir) + strlen(name) + 2;
	char *p = malloc(n);
	int fd;

	if (p == NULL)
		abort();
	snprintf(p, n, "%s/%s", sg_fuzz_dir, name);
	if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 || fchmod(fd, 0600) != 0 ||
	    (len > 0 && write(fd, data, len) != (ssize_t)len) || close(fd) != 0)
		abort();
	return p;
}

#ifndef SG_LIBFUZZER
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static size_t replayed;

static void
replay_path(const char *path, int depth)
{
	struct stat sb;

	if (depth > 5 || stat(path, &sb) != 0)
		return;
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *e;
		if (d == NULL)
			return;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			size_t n = strlen(path) + strlen(e->d_name) + 2;
			char *p = malloc(n);
			snprintf(p, n, "%s/%s", path, e->d_name);
			replay_path(p, depth + 1);
			free(p);
		}
		closedir(d);
		return;
	}
	FILE *fp = fopen(path, "rb");
	if (fp == NULL || sb.st_size > 16 * 1024 * 1024) {
		if (fp)
			fclose(fp);
		return;
	}
	unsigned char *buf = malloc((size_t)sb.st_size + 1);
	size_t n = fread(buf, 1, (size_t)sb.st_size, fp);
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, n);
	/* every prefix of small inputs too: truncation is the classic bug */
	if (n < 4096)
		for (size_t k = 0; k < n; k += 7)
			LLVMFuzzerTestOneInput(buf, k);
	free(buf);
	replayed++;
}

int
main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay_path(argv[i], 0);
	} else {
		const char *top = getenv("top_srcdir");
		char *seeds = strdup(SG_FUZZ_SEEDS), *save = NULL;
		/* strtok_r: the first input sets a target up, and that may
		 * call strtok() (the rules loader did) */
		for (char *s = strtok_r(seeds, " ", &save); s != NULL; s = strtok_r(NULL, " ", &save)) {
			size_t n = strlen(top ? top : ".") + strlen(s) + 2;
			char *p = malloc(n);
			snprintf(p, n, "%s/%s", top ? top : ".", s);
			replay_path(p, 0);
			free(p);
		}
		free(seeds);
	}
	printf("%s - %zu inputs replayed without a crash\n1..1\n", replayed > 0 ? "ok 1" : "not ok 1", replayed);
	return replayed > 0 ? 0 : 1;
}
#endif
