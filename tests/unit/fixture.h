/*
 * fixture.h — what the unit tests (and tests/bench) share around a real
 * store: a config written in a temp dir, the store it names, mail fed
 * through sg_ingest(), and questions about what that left behind.
 * Header-only like tap.h, which it includes: every function is static
 * and marked unused, so a program takes what it needs. Needs config.h
 * first, as tap.h does. The names are short on purpose (a test reads
 * events(id, "bounce")); a program that includes this header does not
 * define its own st, conf, ticket, events, ... .
 *
 * Memory: "malloc'd" below means the caller frees it with free(); the
 * rest is owned here.
 *
 * The fixture: two globals, as each test had them before.
 *   st, conf              the open store and its config, NULL when closed
 *   load_conf(dir, fmt, ...)  write the text of fmt (printf) as DIR/sg.conf
 *                         and load it; its errors are printed on stdout
 *                         (non-TAP lines). Returns the config or NULL; the
 *                         caller holds its reference (usually: conf = ...)
 *   open_store()          open conf's state_dir (no fsync) as st: 0, or -1
 *                         with the fixture closed (also when conf is NULL)
 *   close_fixture()       close st, drop conf, clear ticket()'s copy; safe
 *                         to call twice
 *   SG_FIXTURE_RUN(table) for a program whose tests share the one fixture
 *                         main() configured: open_store() (on failure the
 *                         plan ends there), sg_ingest_init(), SG_TEST_RUN,
 *                         close_fixture(); returns the exit status
 *
 * Mail in:
 *   ingest_mail(in, d)    sg_ingest() of in (a struct sg_ingest_in, by
 *                         value) on st and conf, with what in leaves out
 *                         filled: len = strlen(raw); no recipient: one,
 *                         support@example.com. d is cleared first, so it
 *                         must start zeroed; the caller clears it at the
 *                         end. Returns sg_ingest's code.
 *   parse(raw)            sg_message_parse() of a NUL-terminated message:
 *                         the result or NULL, freed with sg_msginfo_free()
 *
 * Questions about the store st:
 *   events(id, type)      how many events of type (NULL: of any type) are
 *                         on ticket id
 *   events_detail(id, type, &detail)  the same; *detail (when detail is
 *                         not NULL) gets the detail of the last one,
 *                         malloc'd, or NULL
 *   count_jobs(), count_tickets()  how many there are
 *   jobs_to(to, &last)    how many jobs have `to` among their recipients;
 *                         *last (when last is not NULL) gets the newest
 *                         one's payload, malloc'd, or NULL
 *   job_with(to, needle)  is there a job to `to` whose payload holds needle?
 *   ticket(id)            ticket id as read now (zeroed when there is none),
 *                         in one static copy that the next call and
 *                         close_fixture() overwrite: the caller frees nothing
 *   mail_msgid(mail, out) the Message-Id of a mail we rendered ("Message-Id:
 *                         <...>") into out, a char[200]; out is unchanged
 *                         when mail is NULL or has none
 *   header_count(mail, name)  how many fields called name (any case) the
 *                         header block of mail has (CRLF or LF line ends)
 *
 * Files and time:
 *   top_srcdir()          $top_srcdir, or "." when it is unset (not freed)
 *   read_file(path, max, &len)  the whole file, malloc'd and NUL-terminated
 *                         (len does not count the NUL); NULL when it cannot
 *                         be read or has more than max bytes
 *   read_mail(rel, &len)  read_file() of $top_srcdir/tests/mail/REL,
 *                         malloc'd; a file that cannot be read is a
 *                         "Bail out!" (exit 1)
 *   for_each_mail(dir, levels, fn, arg)  fn(path, arg) for each regular
 *                         file in dir and in its folders down to levels
 *                         below it (0: dir alone), in readdir order, but
 *                         for hidden names and .tsv/.md files (a corpus's
 *                         notes); path lives only during the call
 *   vwrite_text(dir, name, fmt, ap)  sg_test_write() of the text of fmt
 *                         and ap: the file's path, malloc'd
 *   errors_text(&errs)    the errors, each followed by "; " ("" for none),
 *                         malloc'd; errs is cleared
 *   now_ns()              CLOCK_MONOTONIC in nanoseconds
 */
#ifndef SG_FIXTURE_H
#define SG_FIXTURE_H

#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/diag.h"
#include "lib/xalloc.h"
#include "mail/message.h"
#include "store/store.h"
#include "tap.h"

static struct sg_store *st __attribute__((unused));
static struct sg_conf *conf __attribute__((unused));
static struct sg_ticket fixture_ticket;     /* what ticket() returns */

/* ------------------------------------------------------------ files */

static const char *top_srcdir(void) __attribute__((unused));
static const char *
top_srcdir(void)
{
	const char *top = getenv("top_srcdir");

	return top != NULL ? top : ".";
}

static char *read_file(const char *path, size_t max, size_t *len) __attribute__((unused));
static char *
read_file(const char *path, size_t max, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct stat sb;
	char *buf;

	if (fp == NULL)
		return NULL;
	if (fstat(fileno(fp), &sb) != 0 || (size_t)sb.st_size > max) {
		fclose(fp);
		return NULL;
	}
	buf = sg_xmalloc((size_t)sb.st_size + 1);
	*len = fread(buf, 1, (size_t)sb.st_size, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

static char *read_mail(const char *rel, size_t *len) __attribute__((unused));
static char *
read_mail(const char *rel, size_t *len)
{
	char *path = sg_xasprintf("%s/tests/mail/%s", top_srcdir(), rel);
	char *raw = read_file(path, SIZE_MAX, len);

	if (raw == NULL)
		tap_fatal("cannot read", path);
	free(path);
	return raw;
}

static void for_each_mail(const char *dir, int levels, void (*fn)(const char *path, void *arg), void *arg)
	__attribute__((unused));
static void
for_each_mail(const char *dir, int levels, void (*fn)(const char *path, void *arg), void *arg)
{
	DIR *d = levels >= 0 ? opendir(dir) : NULL;
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *p = sg_xasprintf("%s/%s", dir, e->d_name);
		struct stat sb;
		if (stat(p, &sb) == 0) {
			if (S_ISDIR(sb.st_mode))
				for_each_mail(p, levels - 1, fn, arg);
			else if (S_ISREG(sb.st_mode) && !strstr(e->d_name, ".tsv") && !strstr(e->d_name, ".md"))
				fn(p, arg);
		}
		free(p);
	}
	closedir(d);
}

static char *errors_text(struct sg_diag *errs) __attribute__((unused));
static char *
errors_text(struct sg_diag *errs)
{
	size_t len = 1;
	char *text;

	for (size_t i = 0; i < errs->n; i++)
		len += strlen(errs->v[i]) + 2;
	text = sg_xcalloc(1, len);
	for (size_t i = 0; i < errs->n; i++) {
		strcat(text, errs->v[i]);
		strcat(text, "; ");
	}
	sg_diag_clear(errs);
	return text;
}

static char *vwrite_text(const char *dir, const char *name, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0), unused));
static char *
vwrite_text(const char *dir, const char *name, const char *fmt, va_list ap)
{
	char *text, *path;

	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	path = sg_test_write(dir, name, text);
	free(text);
	return path;
}

static double now_ns(void) __attribute__((unused));
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* ------------------------------------------------------------ the fixture */

static struct sg_conf *load_conf(const char *dir, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), unused));
static struct sg_conf *
load_conf(const char *dir, const char *fmt, ...)
{
	struct sg_diag errs = { 0 };
	va_list ap;

	va_start(ap, fmt);
	char *path = vwrite_text(dir, "sg.conf", fmt, ap);
	va_end(ap);
	struct sg_conf *c = sg_conf_load(path, &errs);
	sg_diag_print(&errs, stdout);
	sg_diag_clear(&errs);
	free(path);
	return c;
}

static void close_fixture(void) __attribute__((unused));
static void
close_fixture(void)
{
	sg_ticket_clear(&fixture_ticket);
	sg_store_close(&st);
	sg_conf_unref(&conf);
}

static int open_store(void) __attribute__((unused));
static int
open_store(void)
{
	if (conf == NULL || sg_store_open(conf->state_dir, SG_STORE_NOSYNC, &st) != 0) {
		close_fixture();
		return -1;
	}
	return 0;
}

#define SG_FIXTURE_RUN(table) fixture_run((table), sizeof(table) / sizeof((table)[0]))

static int fixture_run(const struct sg_test *tests, size_t n) __attribute__((unused));
static int
fixture_run(const struct sg_test *tests, size_t n)
{
	int rc;

	if (open_store() != 0)
		return done_testing();
	sg_ingest_init();
	rc = sg_test_run(tests, n);
	close_fixture();
	return rc;
}

/* ------------------------------------------------------------ mail in */

static int ingest_mail(struct sg_ingest_in in, struct sg_decision *d) __attribute__((unused));
static int
ingest_mail(struct sg_ingest_in in, struct sg_decision *d)
{
	static const char *const support[1] = { "support@example.com" };

	if (in.len == 0 && in.raw != NULL)
		in.len = strlen(in.raw);
	if (in.nrcpt == 0) {
		in.env_rcpt = support;
		in.nrcpt = 1;
	}
	sg_decision_clear(d);
	return sg_ingest(st, conf, &in, d);
}

static struct sg_msginfo *parse(const char *raw) __attribute__((unused));
static struct sg_msginfo *
parse(const char *raw)
{
	struct sg_msginfo *mi = NULL;

	sg_message_parse(raw, strlen(raw), &mi);
	return mi;
}

/* ------------------------------------------------------------ questions */

struct fixture_events {
	const char *type;     /* NULL: any */
	int n;
	char *detail;         /* of the last one */
};

static int
fixture_events_cb(const struct sg_event *e, void *arg)
{
	struct fixture_events *c = arg;

	if (c->type == NULL || strcmp(e->type, c->type) == 0) {
		c->n++;
		free(c->detail);
		c->detail = e->detail != NULL ? sg_xstrdup(e->detail) : NULL;
	}
	return 0;
}

static int events_detail(uint64_t id, const char *type, char **detail) __attribute__((unused));
static int
events_detail(uint64_t id, const char *type, char **detail)
{
	struct fixture_events c = { type, 0, NULL };

	sg_store_event_foreach(st, NULL, id, fixture_events_cb, &c);
	if (detail != NULL)
		*detail = c.detail;
	else
		free(c.detail);
	return c.n;
}

static int events(uint64_t id, const char *type) __attribute__((unused));
static int
events(uint64_t id, const char *type)
{
	return events_detail(id, type, NULL);
}

static int
fixture_count_ticket(const struct sg_ticket *t, void *arg)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

static int count_tickets(void) __attribute__((unused));
static int
count_tickets(void)
{
	int n = 0;

	sg_store_ticket_foreach(st, fixture_count_ticket, &n);
	return n;
}

static int
fixture_has_rcpt(const struct sg_job *j, const char *to)
{
	for (size_t i = 0; i < j->rcpts.n; i++)
		if (strcmp(j->rcpts.v[i], to) == 0)
			return 1;
	return 0;
}

struct fixture_jobs {
	const char *to;       /* NULL: any recipient */
	const char *needle;   /* NULL: any payload */
	int n;
	char **last;          /* NULL, or where the newest payload goes */
};

static int
fixture_jobs_cb(const struct sg_job *j, void *arg)
{
	struct fixture_jobs *k = arg;

	if ((k->to != NULL && !fixture_has_rcpt(j, k->to)) || (k->needle != NULL && strstr(j->payload, k->needle) == NULL))
		return 0;
	k->n++;
	if (k->last != NULL) {
		free(*k->last);
		*k->last = sg_xstrdup(j->payload);
	}
	return 0;
}

static int
fixture_jobs(const char *to, const char *needle, char **last)
{
	struct fixture_jobs k = { to, needle, 0, last };

	if (last != NULL)
		*last = NULL;
	sg_store_job_foreach(st, fixture_jobs_cb, &k);
	return k.n;
}

static int count_jobs(void) __attribute__((unused));
static int
count_jobs(void)
{
	return fixture_jobs(NULL, NULL, NULL);
}

static int jobs_to(const char *to, char **last) __attribute__((unused));
static int
jobs_to(const char *to, char **last)
{
	return fixture_jobs(to, NULL, last);
}

static int job_with(const char *to, const char *needle) __attribute__((unused));
static int
job_with(const char *to, const char *needle)
{
	return fixture_jobs(to, needle, NULL) > 0;
}

static struct sg_ticket *ticket(uint64_t id) __attribute__((unused));
static struct sg_ticket *
ticket(uint64_t id)
{
	sg_ticket_clear(&fixture_ticket);
	sg_store_ticket_get(st, NULL, id, &fixture_ticket);
	return &fixture_ticket;
}

static void mail_msgid(const char *mail, char out[200]) __attribute__((unused));
static void
mail_msgid(const char *mail, char out[200])
{
	const char *p = mail != NULL ? strstr(mail, "Message-Id: <") : NULL;

	if (p != NULL)
		sscanf(p, "Message-Id: <%199[^>]>", out);
}

static int header_count(const char *mail, const char *name) __attribute__((unused));
static int
header_count(const char *mail, const char *name)
{
	size_t nl = strlen(name);
	int n = 0;

	for (const char *p = mail; *p != '\0' && *p != '\r' && *p != '\n';) {
		n += strncasecmp(p, name, nl) == 0 && p[nl] == ':';
		const char *e = strchr(p, '\n');
		if (e == NULL)
			break;
		p = e + 1;
	}
	return n;
}

#endif
