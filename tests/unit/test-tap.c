/*
 * test-tap — the test table runner of tap.h: every function runs with a
 * "# name" comment before it, SG_TEST_ONLY picks one or several by exact
 * name, and a name that is not in the table (or a table with a name twice)
 * is a hard error listing the valid names. Each case runs the runner in a
 * child process with its stdout on a pipe.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static void alpha(void) { ok(1, "alpha point"); }
static void beta(void) { ok(1, "beta point"); is_int(2, 2, "beta second point"); }
static void gamma_(void) { ok(1, "gamma point"); }
static void failing(void) { ok(0, "a failing point"); }

static const struct sg_test inner[] = {
	{ "alpha", alpha },
	{ "beta", beta },
	{ "gamma", gamma_ },
};

/* Run table under SG_TEST_ONLY=only (NULL: unset) in a child; return its
 * stdout (static buffer) and exit status. */
static const char *
run(const struct sg_test *table, size_t n, const char *only, int *status)
{
	static char out[8192];
	int p[2];
	ssize_t got, len = 0;
	pid_t pid;

	out[0] = '\0';
	*status = -1;
	if (pipe(p) != 0)
		return out;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return out;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(p[1], 1);
		if (null >= 0)
			dup2(null, 2);
		close(p[0]);
		if (only != NULL)
			setenv("SG_TEST_ONLY", only, 1);
		else
			unsetenv("SG_TEST_ONLY");
		tap_n = tap_failed = 0;
		_exit(sg_test_run(table, n));
	}
	close(p[1]);
	while (len < (ssize_t)sizeof(out) - 1 && (got = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += got;
	out[len] = '\0';
	close(p[0]);
	waitpid(pid, status, 0);
	return out;
}

static int
exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_all(void)
{
	int st;
	const char *out = run(inner, 3, NULL, &st);

	ok(strstr(out, "# alpha\nok 1 - alpha point\n# beta\nok 2 - beta point\nok 3 - beta second point\n"
			"# gamma\nok 4 - gamma point\n1..4\n") == out, "unset: every function, each after its name");
	is_int(exit_code(st), 0, "unset: exit 0");
	out = run(inner, 3, "", &st);
	ok(strstr(out, "1..4\n") != NULL, "empty SG_TEST_ONLY runs everything");
}

static void
test_one(void)
{
	int st;
	const char *out = run(inner, 3, "beta", &st);

	is_str(out, "# beta\nok 1 - beta point\nok 2 - beta second point\n1..2\n", "one name: only that function");
	is_int(exit_code(st), 0, "one name: exit 0");
	out = run(inner, 3, "alph", &st);
	ok(strstr(out, "alpha point") == NULL && exit_code(st) == 1, "a prefix is not a name");
}

static void
test_list(void)
{
	int st;
	const char *out = run(inner, 3, "gamma, alpha", &st);

	is_str(out, "# alpha\nok 1 - alpha point\n# gamma\nok 2 - gamma point\n1..2\n",
	       "a comma list (blanks ignored): those functions, in table order");
	is_int(exit_code(st), 0, "list: exit 0");
}

static void
test_unknown(void)
{
	int st;
	const char *out = run(inner, 3, "alpha,delta", &st);

	ok(strncmp(out, "Bail out! ", 10) == 0, "unknown name: Bail out!");
	ok(strstr(out, "'delta'") != NULL, "the unknown name is quoted");
	ok(strstr(out, "valid names: alpha, beta, gamma") != NULL, "the valid names are listed");
	ok(strstr(out, "alpha point") == NULL, "nothing ran");
	is_int(exit_code(st), 1, "unknown name: exit 1");
	out = run(inner, 3, ",", &st);
	ok(strncmp(out, "Bail out! ", 10) == 0 && exit_code(st) == 1, "a list without a name is an error");
}

static void
test_duplicate(void)
{
	static const struct sg_test twice[] = { { "alpha", alpha }, { "alpha", beta } };
	int st;
	const char *out = run(twice, 2, NULL, &st);

	ok(strncmp(out, "Bail out! ", 10) == 0 && strstr(out, "'alpha' appears twice") != NULL,
	   "a name twice in a table is an error");
	is_int(exit_code(st), 1, "duplicate name: exit 1");
}

static void
test_failure(void)
{
	static const struct sg_test bad[] = { { "alpha", alpha }, { "failing", failing } };
	int st;
	const char *out = run(bad, 2, NULL, &st);

	ok(strstr(out, "not ok 2 - a failing point\n1..2\n# 1 of 2 failed\n") != NULL, "a failure is counted");
	is_int(exit_code(st), 1, "a failure: exit 1");
	run(bad, 2, "alpha", &st);
	is_int(exit_code(st), 0, "the failing function not selected: exit 0");
}

static const struct sg_test tests[] = {
	{ "all", test_all },
	{ "one", test_one },
	{ "list", test_list },
	{ "unknown", test_unknown },
	{ "duplicate", test_duplicate },
	{ "failure", test_failure },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
