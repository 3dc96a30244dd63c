/*
 * supportgate outbox (formerly `queue`, still accepted) — the outbound
 * queue: list, show, retry, drop, run;
 * and supportgate template render.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notice/ack.h"
#include "cli.h"
#include "cli-fmt.h"
#include "notice/compose.h"
#include "conf/conf.h"
#include "outbound/queue.h"
#include "store/store.h"
#include "templates/template.h"
#include "mail/token.h"
#include "lib/xalloc.h"

struct job_list {
	json_t *json;          /* array with --json */
	size_t waiting, dead;
	int64_t oldest;        /* creation time of the oldest job, 0 none */
};

static json_t *
job_json(const struct sg_job *j, int with_payload)
{
	json_t *o = json_object(), *rc = json_array();

	for (size_t i = 0; i < j->rcpts.n; i++)
		json_array_append_new(rc, json_string(j->rcpts.v[i]));
	json_object_set_new(o, "id", json_integer((json_int_t)j->id));
	json_object_set_new(o, "ticket", json_integer((json_int_t)j->ticket));
	json_object_set_new(o, "what", json_string(j->what ? j->what : "mail"));
	json_object_set_new(o, "state", json_string(j->state == SG_JOB_DEAD ? "dead" : "queued"));
	json_object_set_new(o, "created", sg_cli_jtime(j->created));
	json_object_set_new(o, "due", sg_cli_jtime(j->due));
	json_object_set_new(o, "attempts", json_integer(j->attempts));
	json_object_set_new(o, "mail_from", json_string(j->mail_from ? j->mail_from : ""));
	json_object_set_new(o, "rcpts", rc);
	json_object_set_new(o, "last_error", j->last_error ? json_string(j->last_error) : json_null());
	if (with_payload)
		json_object_set_new(o, "message", json_stringn_nocheck(j->payload, j->payload_len));
	return o;
}

static int
list_job(const struct sg_job *j, void *arg)
{
	struct job_list *l = arg;
	char due[SG_CLI_TIME_LEN];

	if (j->state == SG_JOB_DEAD)
		l->dead++;
	else
		l->waiting++;
	if (l->oldest == 0 || (j->created != 0 && j->created < l->oldest))
		l->oldest = j->created;
	if (l->json != NULL) {
		json_array_append_new(l->json, job_json(j, 0));
		return 0;
	}
	printf("%6llu  %6llu  %-6s  %-20s  %3u  ", (unsigned long long)j->id, (unsigned long long)j->ticket,
	       j->state == SG_JOB_DEAD ? "dead" : "queued", sg_cli_time(j->due, due, sizeof(due)), j->attempts);
	sg_cli_cell(stdout, j->rcpts.n ? j->rcpts.v[0] : "", 28);
	fputs("  ", stdout);
	sg_cli_cell(stdout, j->last_error ? j->last_error : "", 0);
	fputc('\n', stdout);
	return 0;
}

static int
parse_id(const char *s, uint64_t *id)
{
	char *end;
	errno = 0;
	*id = strtoull(s, &end, 10);
	return errno == 0 && *end == '\0' && *id > 0 ? 0 : -1;
}

/* retry: due now, state queued (a dead letter gets another chance). */
static int
retry_one(struct sg_store *st, uint64_t id)
{
	struct sg_txn *txn;
	struct sg_job j;
	int rc;

	if ((rc = sg_store_txn_begin(st, &txn)) != 0)
		return rc;
	if ((rc = sg_store_job_get(st, txn, id, &j)) == 0) {
		rc = sg_queue_retry(st, txn, &j, (int64_t)time(NULL));
		sg_job_clear(&j);
	}
	if (rc == 0)
		return sg_store_txn_commit(&txn);
	sg_store_txn_abort(&txn);
	return rc;
}

/* drop: the job and its index entries go. */
static int
drop_one(struct sg_store *st, uint64_t id)
{
	struct sg_txn *txn;
	struct sg_job j;
	int rc;

	if ((rc = sg_store_txn_begin(st, &txn)) != 0)
		return rc;
	if ((rc = sg_store_job_get(st, txn, id, &j)) == 0) {
		rc = sg_queue_remove(st, txn, &j);
		sg_job_clear(&j);
	}
	if (rc == 0)
		return sg_store_txn_commit(&txn);
	sg_store_txn_abort(&txn);
	return rc;
}

struct idlist {
	uint64_t *v;
	size_t n;
};

static int
collect_ids(const struct sg_job *j, void *arg)
{
	struct idlist *l = arg;
	l->v = sg_xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = j->id;
	return 0;
}

/* `outbox run`: the delivery pass is supportgate-outbox's (the one
 * program that links libcurl): the one beside this program (a build
 * tree), else the installed one. */
static int
run_helper(const struct sg_conf *c)
{
	char self[4096], path[4200];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *const args[] = { "supportgate-outbox", (char *)sg_cli_conf_path(), NULL };

	path[0] = '\0';
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(path, sizeof(path), "%s/supportgate-outbox", self);
		}
	}
	if (path[0] == '\0' || access(path, X_OK) != 0)
		snprintf(path, sizeof(path), "%s/supportgate-outbox", SG_PKGLIBEXECDIR);
	sg_cli_not_as_root(c);
	fflush(stdout);
	execv(path, args);
	fprintf(stderr, "supportgate: cannot run %s: %s\n", path, strerror(errno));
	return 1;
}

int
sg_cmd_queue_alias(int argc, char **argv)
{
	fprintf(stderr, "supportgate: 'queue' is now 'outbox' (the old name goes in a later release)\n");
	return sg_cmd_queue(argc, argv);
}

int
sg_cmd_queue(int argc, char **argv)
{
	const struct sg_conf *c = sg_cli_conf();
	struct sg_store *st;
	uint64_t id;
	int rc = 0;

	int json = argc > 1 && strcmp(argv[argc - 1], "--json") == 0;
	if (json)
		argc--;
	if (argc == 1 || (argc == 2 && strcmp(argv[1], "list") == 0)) {
		struct job_list l = { .json = json ? json_array() : NULL };
		st = sg_cli_store(c);
		if (!json)
			printf("%6s  %6s  %-6s  %-20s  %3s  %-28s  %s\n", "JOB", "TICKET", "STATE", "DUE", "TRY", "TO",
			       "LAST ERROR");
		rc = sg_store_job_foreach(st, list_job, &l);
		sg_store_close(&st);
		if (json) {
			sg_cli_json_print(l.json);
		} else {
			char old[SG_CLI_TIME_LEN];
			printf("-- %zu job(s) waiting, %zu dead", l.waiting, l.dead);
			if (l.oldest != 0)
				printf(", oldest from %s", sg_cli_time(l.oldest, old, sizeof(old)));
			printf(" --\n");
		}
		return rc == 0 ? 0 : 1;
	}
	if (strcmp(argv[1], "run") == 0 && argc == 2)
		return run_helper(c);
	if (argc != 3)
		return sg_cli_usage("outbox", 2);
	st = sg_cli_store(c);
	if (strcmp(argv[1], "retry") == 0 && strcmp(argv[2], "--all") == 0) {
		struct idlist l = { 0 };
		rc = sg_store_job_foreach(st, collect_ids, &l);
		for (size_t i = 0; rc == 0 && i < l.n; i++)
			rc = retry_one(st, l.v[i]);
		printf("%zu job(s) due now\n", l.n);
		free(l.v);
	} else if (parse_id(argv[2], &id) != 0) {
		fprintf(stderr, "supportgate: '%s' is not a job number\n", argv[2]);
		rc = -2;
	} else if (strcmp(argv[1], "show") == 0) {
		struct sg_job j;
		if ((rc = sg_store_job_get(st, NULL, id, &j)) == 0 && json) {
			sg_cli_json_print(job_json(&j, 1));
			sg_job_clear(&j);
		} else if (rc == 0) {
			char cr[SG_CLI_TIME_LEN], du[SG_CLI_TIME_LEN];
			sg_cli_time(j.created, cr, sizeof(cr));
			sg_cli_time(j.due, du, sizeof(du));
			printf("Job %llu (%s) for ticket %llu: %s, created %s, due %s, %u attempt(s)\n",
			       (unsigned long long)j.id, j.what ? j.what : "mail", (unsigned long long)j.ticket,
			       j.state == SG_JOB_DEAD ? "dead letter" : "queued", cr, du, j.attempts);
			printf("Last error: %s\n", j.last_error ? j.last_error : "-");
			if (j.kind == SG_JOB_WEBHOOK) {   /* rcpts: webhook:NAME; mail_from: the event type */
				const char *name = j.rcpts.n ? j.rcpts.v[0] + strcspn(j.rcpts.v[0], ":") : "";
				const struct sg_webhook *w = *name ? sg_conf_webhook(c, name + 1) : NULL;
				printf("POST %s (webhook %s), event %s\n", w ? w->url : "(not configured)",
				       *name ? name + 1 : "?", j.mail_from ? j.mail_from : "?");
			} else {
				printf("MAIL FROM:<%s>\n", j.mail_from ? j.mail_from : "");
				for (size_t i = 0; i < j.rcpts.n; i++)
					printf("RCPT TO:<%s>\n", j.rcpts.v[i]);
			}
			printf("\n");
			fwrite(j.payload, 1, j.payload_len, stdout);
			sg_job_clear(&j);
		}
	} else if (strcmp(argv[1], "retry") == 0) {
		rc = retry_one(st, id);
		if (rc == 0)
			printf("job %llu due now\n", (unsigned long long)id);
	} else if (strcmp(argv[1], "drop") == 0) {
		rc = drop_one(st, id);
		if (rc == 0)
			printf("job %llu dropped\n", (unsigned long long)id);
	} else {
		rc = -2;
	}
	sg_store_close(&st);
	if (rc == -2)
		return sg_cli_usage("outbox", 2);
	if (rc == SG_STORE_NOTFOUND)
		fprintf(stderr, "supportgate: no such job\n");
	return rc == 0 ? 0 : 1;
}

int
sg_cmd_template(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "ticket", required_argument, NULL, 't' }, { "lang", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *lang = NULL;
	uint64_t tid = 0;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		if (opt == 't' && parse_id(optarg, &tid) == 0)
			continue;
		if (opt == 'l') {
			lang = optarg;
			continue;
		}
		return sg_cli_usage("template", 2);
	}
	if (optind + 2 != argc || strcmp(argv[optind], "render") != 0)
		return sg_cli_usage("template", 2);
	const char *name = argv[optind + 1];
	const struct sg_conf *c = sg_cli_conf();
	if (c->templates == NULL) {
		fprintf(stderr, "supportgate: no templates loaded from %s\n", c->template_dir);
		return 1;
	}
	struct sg_ticket t = { 0 };
	if (tid != 0) {
		struct sg_store *st = sg_cli_store(c);
		int rc = sg_store_ticket_get(st, NULL, tid, &t);
		sg_store_close(&st);
		if (rc != 0) {
			fprintf(stderr, "supportgate: no such ticket %llu\n", (unsigned long long)tid);
			return 1;
		}
	} else {
		/* sample data */
		t.id = 1234;
		t.subject = sg_xstrdup("Invoice 2026-114 shows the wrong VAT rate");
		t.requestor = sg_xstrdup("alice@customer.example");
		t.requestor_name = sg_xstrdup("Alice Martin");
		t.created = (int64_t)time(NULL);
	}
	/* The same composer as the daemon: the preview is what would be sent. */
	struct sg_notice n = {
		.template_name = name, .lang = lang, .to = t.requestor ? t.requestor : "customer@example.org",
		.to_name = t.requestor_name,
	};
	struct sg_rendered r;
	struct sg_conf view = *c;
	if (sg_notice_from(c) == NULL)
		view.support_from = "support@localhost";   /* sample sender when none is configured */
	char *msg = sg_notice_render(&view, &t, &n, &r) == 0 ? r.msg : NULL;
	size_t len = r.len;
	int rc = 0;
	if (msg == NULL) {
		fprintf(stderr, "supportgate: no template '%s' (%s)\n", name, r.why ? r.why : "?");
		rc = 1;
	} else {
		fwrite(msg, 1, len, stdout);
	}
	sg_rendered_clear(&r);
	sg_ticket_clear(&t);
	return rc;
}
