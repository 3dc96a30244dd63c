/*
 * test-corpus — every message of the real-world corpus goes through the
 * parser and through ingest without a crash (run under ASan in CI), each
 * yields exactly one ticket or a duplicate verdict, and decoded subjects
 * are valid UTF-8 without line breaks.
 *
 * Corpora: tests/mail (always) and the shared corpus of the team when it
 * exists (SG_CORPUS_DIR, default $top_srcdir/../shared/corpus); its
 * absence is a skip, not a failure. One TAP point per directory.
 */
#include "config.h"

#include <dirent.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/log.h"
#include "fixture.h"

#define MAX_FILE (32 * 1024 * 1024)

struct tally {
	size_t files, parsed, tickets, dups, ignored, bad_subject, errors;
};

static void
one_file(const char *path, void *arg)
{
	struct tally *t = arg;
	size_t n;
	char *buf = read_file(path, MAX_FILE, &n);
	struct sg_msginfo *mi = NULL;
	struct sg_decision d = { 0 };

	if (buf == NULL)
		return;
	t->files++;
	if (sg_message_parse(buf, n, &mi) == 0 && mi != NULL) {
		t->parsed++;
		if (!g_utf8_validate(mi->subject, -1, NULL) || strpbrk(mi->subject, "\r\n") != NULL) {
			t->bad_subject++;
			diag("bad subject from %s", path);
		}
	}
	sg_msginfo_free(&mi);

	int rc = ingest_mail((struct sg_ingest_in){ .raw = buf, .len = n, .env_from = "", .door = SG_DOOR_CLI }, &d);
	if (rc == SG_ING_OK && (d.verdict == SG_V_NEW || d.verdict == SG_V_FOLLOWUP) && d.ticket > 0)
		t->tickets++;
	else if (rc == SG_ING_OK && d.verdict == SG_V_DUPLICATE)
		t->dups++;
	else if (rc == SG_ING_EPARSE)
		t->ignored++;
	else {
		t->errors++;
		diag("ingest of %s: rc %d verdict %d", path, rc, d.verdict);
	}
	sg_decision_clear(&d);
	free(buf);
}

static void
check_dir(const char *label, const char *dir)
{
	struct tally t = { 0 };
	clock_t c0 = clock();

	for_each_mail(dir, 6, one_file, &t);
	diag("%s: %zu files, %zu parsed, %zu ticketed, %zu duplicates, %zu unparsable, %.1fs",
	     label, t.files, t.parsed, t.tickets, t.dups, t.ignored, (double)(clock() - c0) / CLOCKS_PER_SEC);
	ok(t.files > 0 && t.errors == 0 && t.bad_subject == 0 && t.ignored == 0 && t.tickets + t.dups == t.files,
	   "%s: every message ingested once (%zu files)", label, t.files);
}

static void
test_own_mail(void)
{
	char *own = sg_xasprintf("%s/tests/mail", top_srcdir());
	check_dir("tests/mail", own);
	free(own);
}

static void
test_shared_corpus(void)
{
	const char *shared = getenv("SG_CORPUS_DIR");
	char *def = sg_xasprintf("%s/../shared/corpus", top_srcdir());
	struct stat sb;
	if (shared == NULL)
		shared = def;
	if (stat(shared, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(shared);
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char *p = sg_xasprintf("%s/%s", shared, e->d_name);
			if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
				check_dir(e->d_name, p);
			free(p);
		}
		closedir(d);
	} else {
		skip(1, "shared corpus absent (set SG_CORPUS_DIR to a folder of .eml files)");
	}
	free(def);
}

static const struct sg_test tests[] = {
	{ "own-mail", test_own_mail },
	{ "shared-corpus", test_shared_corpus },
};

int
main(void)
{
	const char *tmp = sg_test_dir();
	int rc;

	sg_log_open_stderr("test-corpus");
	sg_log_set_level(SG_LOG_ERROR);
	conf = load_conf(tmp, "support_address = {\"support@example.com\"}\nstate_dir = \"%s\"\ndb_sync = false\n", tmp);
	if (open_store() != 0)
		return 1;

	rc = SG_TEST_RUN(tests);
	close_fixture();
	return rc;
}
