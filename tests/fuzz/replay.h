/*
 * replay.h — a main() for fuzz targets built without libFuzzer: it feeds
 * every file under the given paths (or, with none, the seed folders named
 * by SG_FUZZ_SEEDS relative to $top_srcdir) to LLVMFuzzerTestOneInput and
 * prints one TAP line. In a tree configured with --enable-libfuzzer
 * (config.h defines SG_LIBFUZZER; `make fuzz` makes that tree) the same
 * source links libFuzzer's main() instead: see tests/fuzz/run.sh.
 */
#include <ftw.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

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
