/*
 * tap.h — a minimal TAP producer for unit tests, read by automake's
 * tap-driver.sh. Header-only on purpose: each test program includes it once.
 *
 * A test program is a table of named test functions:
 *
 *   static void test_parse(void) { ok(cond, "name %d", i); ... }
 *   static const struct sg_test tests[] = {
 *       { "parse", test_parse },
 *       { "errors", test_errors },
 *   };
 *   int main(void) { setup(); int rc = SG_TEST_RUN(tests); teardown(); return rc; }
 *
 * sg_test_run() prints "# name" before each function it runs, then the
 * plan and the failure count (done_testing). Inside a function:
 *
 *   ok(cond, "name %d", i);      // one test point
 *   is_str(got, want, "name");   // string equality, prints both on failure
 *   is_int(got, want, "name");
 *   diag("text");                // a TAP comment
 *   skip(n, "reason");           // n points "ok N # SKIP reason"
 *   skip_all("reason");          // before any point: "1..0 # SKIP reason", exit 0
 *
 * One test at a time: SG_TEST_ONLY=name runs only the function of that
 * exact name, SG_TEST_ONLY=a,b only those (in table order). A name that is
 * not in the table is a hard error ("Bail out!", exit 1) listing the valid
 * names, so a typo never passes as "nothing failed". Since any function
 * may run alone, each builds the state it needs (a helper or a fresh
 * fixture) instead of relying on the functions before it. Programs without
 * a table may still use plan_lazy() ... return done_testing().
 *
 * Files: sg_test_dir() is the program's own temp dir, made on first use
 * as ${TMPDIR:-/tmp}/sg-PROGRAM.XXXXXX and removed with everything in it
 * when the program exits (kept if SG_KEEP_TMP is set); a test writes
 * nowhere else. sg_test_subdir(name) is a fresh directory in it for one
 * function's fixture; sg_test_write(dir, name, text) writes a file. Both
 * return a malloc'd path (the caller frees); any failure aborts the
 * program with a "Bail out!" naming it. Needs _GNU_SOURCE (config.h).
 */
#ifndef SG_TAP_H
#define SG_TAP_H

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int tap_n, tap_failed;

static void tap_vok(int cond, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void
tap_vok(int cond, const char *fmt, va_list ap)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
}

static int ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static int
ok(int cond, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

static int is_str(const char *got, const char *want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), unused));
static int
is_str(const char *got, const char *want, const char *fmt, ...)
{
	va_list ap;
	int cond = (got == NULL && want == NULL) ||
		   (got != NULL && want != NULL && strcmp(got, want) == 0);
	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		printf("#   got:  '%s'\n#   want: '%s'\n", got ? got : "(null)", want ? want : "(null)");
	return cond;
}

static int is_int(long long got, long long want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), unused));
static int
is_int(long long got, long long want, const char *fmt, ...)
{
	va_list ap;
	int cond = got == want;
	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		printf("#   got:  %lld\n#   want: %lld\n", got, want);
	return cond;
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void
diag(const char *fmt, ...)
{
	va_list ap;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static void skip(int n, const char *why) __attribute__((unused));
static void
skip(int n, const char *why)
{
	for (int i = 0; i < n; i++)
		printf("ok %d # SKIP %s\n", ++tap_n, why);
	fflush(stdout);
}

static void skip_all(const char *why) __attribute__((noreturn, unused));
static void
skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(0);
}

static void plan_lazy(void) __attribute__((unused));
static void
plan_lazy(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static int done_testing(void) __attribute__((unused));
static int
done_testing(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

/* ------------------------------------------------------------ temp files */
static char *tap_dir;        /* sg_test_dir(), NULL until first use */
static pid_t tap_dir_owner;  /* only the process that made it removes it */

static void tap_fatal(const char *what, const char *path) __attribute__((noreturn));
static void
tap_fatal(const char *what, const char *path)
{
	printf("Bail out! %s %s: %s\n", what, path, strerror(errno));
	fflush(stdout);
	exit(1);
}

static int
tap_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

static void
tap_dir_cleanup(void)
{
	if (tap_dir == NULL || getpid() != tap_dir_owner || getenv("SG_KEEP_TMP") != NULL)
		return;
	if (nftw(tap_dir, tap_rm, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "cannot remove %s: %s\n", tap_dir, strerror(errno));
}

static const char *sg_test_dir(void) __attribute__((unused));
static const char *
sg_test_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (tap_dir != NULL)
		return tap_dir;
	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if (asprintf(&tap_dir, "%s/sg-%s.XXXXXX", tmp, program_invocation_short_name) < 0)
		abort();
	if (mkdtemp(tap_dir) == NULL)
		tap_fatal("cannot make the temp dir", tap_dir);
	tap_dir_owner = getpid();
	atexit(tap_dir_cleanup);
	return tap_dir;
}

static char *sg_test_subdir(const char *name) __attribute__((unused));
static char *
sg_test_subdir(const char *name)
{
	char *d;

	if (asprintf(&d, "%s/%s", sg_test_dir(), name) < 0)
		abort();
	if (mkdir(d, 0700) != 0)
		tap_fatal("cannot make", d);
	return d;
}

static char *sg_test_write(const char *dir, const char *name, const char *text) __attribute__((unused));
static char *
sg_test_write(const char *dir, const char *name, const char *text)
{
	char *path;
	FILE *fp;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	if ((fp = fopen(path, "w")) == NULL)
		tap_fatal("cannot write", path);
	fputs(text, fp);
	if (fclose(fp) != 0)
		tap_fatal("cannot write", path);
	return path;
}

/* ------------------------------------------------------------ the table */
struct sg_test {
	const char *name;     /* what SG_TEST_ONLY names; unique in a table */
	void (*fn)(void);
};

#define SG_TEST_RUN(table) sg_test_run((table), sizeof(table) / sizeof((table)[0]))

static void tap_bail(const struct sg_test *tests, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
tap_bail(const struct sg_test *tests, size_t n, const char *fmt, ...)
{
	va_list ap;
	/* One line on stdout for the TAP driver, the same on stderr for a
	 * person running the program by hand. */
	for (int out = 0; out < 2; out++) {
		FILE *fp = out ? stderr : stdout;
		fputs("Bail out! ", fp);
		va_start(ap, fmt);
		vfprintf(fp, fmt, ap);
		va_end(ap);
		fputs("; valid names:", fp);
		for (size_t i = 0; i < n; i++)
			fprintf(fp, "%s %s", i ? "," : "", tests[i].name);
		fputc('\n', fp);
		fflush(fp);
	}
}

/* Is name one of the comma-separated words of list? Blanks around words
 * are ignored; an empty word matches nothing. */
static int
tap_listed(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *end = p + strcspn(p, ",");
		const char *e = end;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > p && (size_t)(e - p) == len && strncmp(p, name, len) == 0)
			return 1;
		p = end;
	}
	return 0;
}

/* Run the table (or the part SG_TEST_ONLY selects); returns the exit
 * status: 0 when every point passed, 1 on a failure or a bad selection. */
static int sg_test_run(const struct sg_test *tests, size_t n) __attribute__((unused));
static int
sg_test_run(const struct sg_test *tests, size_t n)
{
	const char *only = getenv("SG_TEST_ONLY");

	plan_lazy();
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(tests[i].name, tests[j].name) == 0) {
				tap_bail(tests, n, "test name '%s' appears twice in the table", tests[i].name);
				return 1;
			}
	if (only != NULL && only[0] == '\0')
		only = NULL;
	if (only != NULL) {
		/* Every word must name a test: check each against the table. */
		const char *p = only;
		int any = 0;
		while (*p != '\0') {
			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			size_t wl = strcspn(p, ",");
			while (wl > 0 && (p[wl - 1] == ' ' || p[wl - 1] == '\t'))
				wl--;
			if (wl == 0)
				break;
			size_t i;
			for (i = 0; i < n; i++)
				if (strlen(tests[i].name) == wl && strncmp(tests[i].name, p, wl) == 0)
					break;
			if (i == n) {
				tap_bail(tests, n, "SG_TEST_ONLY: no test named '%.*s' in this program", (int)wl, p);
				return 1;
			}
			any = 1;
			p += strcspn(p, ",");
		}
		if (!any) {
			tap_bail(tests, n, "SG_TEST_ONLY='%s' names no test", only);
			return 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (only != NULL && !tap_listed(only, tests[i].name))
			continue;
		printf("# %s\n", tests[i].name);
		fflush(stdout);
		tests[i].fn();
	}
	return done_testing();
}

#endif
