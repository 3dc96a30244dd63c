/*
 * supportgate imap status [--json] [NAME] — the IMAP door per mailbox
 * section: connected or not (as the running daemon last wrote it), the
 * last error, UIDVALIDITY and the last UID handled (the checkpoint in
 * the store), messages ingested (all time, and since the daemon
 * started), when the folder was last checked.
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "conf/conf.h"
#include "imap/imap.h"
#include "store/store.h"

static const char *
when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0)
		return "-";
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
	return buf;
}

/* The status file says connected only while the daemon that wrote it runs. */
static int
daemon_alive(const struct sg_imap_status *s)
{
	return s->pid > 0 && (kill((pid_t)s->pid, 0) == 0 || errno == EPERM);
}

static json_t *
mailbox_json(const struct sg_mailbox *mb, const struct sg_imap_status *s, int have_status,
	     const struct sg_imap_ckpt *ck, int have_ck)
{
	json_t *o = json_object();
	int alive = have_status && daemon_alive(s);

	json_object_set_new(o, "name", json_string(mb->name));
	json_object_set_new(o, "server", json_string(mb->host));
	json_object_set_new(o, "port", json_integer(mb->port));
	json_object_set_new(o, "folder", json_string(mb->folder));
	json_object_set_new(o, "daemon_running", json_boolean(alive));
	json_object_set_new(o, "connected", json_boolean(alive && s->connected));
	json_object_set_new(o, "mode", alive && s->connected ? json_string(s->idle ? "idle" : "poll") : json_null());
	json_object_set_new(o, "last_error", have_status && s->last_error[0] ? json_string(s->last_error) : json_null());
	json_object_set_new(o, "last_error_at", sg_cli_jtime(have_status ? s->last_error_at : 0));
	json_object_set_new(o, "uidvalidity", have_ck ? json_integer(ck->uidvalidity) : json_null());
	json_object_set_new(o, "last_uid", have_ck ? json_integer(ck->last_uid) : json_null());
	json_object_set_new(o, "ingested", json_integer(have_ck ? (json_int_t)ck->ingested : 0));
	json_object_set_new(o, "ingested_since_start", json_integer(alive ? (json_int_t)s->session_ingested : 0));
	json_object_set_new(o, "last_poll", sg_cli_jtime(have_status ? s->last_poll : 0));
	return o;
}

static void
mailbox_line(const struct sg_mailbox *mb, const struct sg_imap_status *s, int have_status,
	     const struct sg_imap_ckpt *ck, int have_ck)
{
	char poll[40], uv[16] = "-", lu[16] = "-";
	int alive = have_status && daemon_alive(s);
	const char *conn = !alive ? "no (daemon not running)" : s->connected ? (s->idle ? "yes, idle" : "yes, polling") : "no";

	if (have_ck) {
		snprintf(uv, sizeof(uv), "%u", ck->uidvalidity);
		snprintf(lu, sizeof(lu), "%u", ck->last_uid);
	}
	printf("%-12s  %-24s  %-11s  %-8s  %8llu  %-20s  %s\n", mb->name, conn, uv, lu,
	       have_ck ? (unsigned long long)ck->ingested : 0ULL, when(have_status ? s->last_poll : 0, poll, sizeof(poll)),
	       have_status && s->last_error[0] ? s->last_error : "-");
}

int
sg_cmd_imap(int argc, char **argv)
{
	const char *only = NULL;
	int json = 0, found = 0;

	if (sg_cli_wants_help(argc, argv))
		return sg_cli_usage("imap", 0);
	if (argc < 2 || strcmp(argv[1], "status") != 0)
		return sg_cli_usage("imap", 2);
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (only == NULL && argv[i][0] != '-')
			only = argv[i];
		else
			return sg_cli_usage("imap", 2);
	}
	const struct sg_conf *c = sg_cli_conf();
	struct sg_store *st = sg_cli_store(c);
	json_t *arr = json ? json_array() : NULL;

	if (!json)
		printf("%-12s  %-24s  %-11s  %-8s  %8s  %-20s  %s\n", "MAILBOX", "CONNECTED", "UIDVALIDITY", "LAST-UID",
		       "INGESTED", "LAST-POLL", "LAST-ERROR");
	for (size_t i = 0; i < c->nmailboxes; i++) {
		const struct sg_mailbox *mb = &c->mailboxes[i];
		struct sg_imap_status s;
		struct sg_imap_ckpt ck;
		if (only != NULL && strcmp(only, mb->name) != 0)
			continue;
		found++;
		int have_status = sg_imap_status_read(c->state_dir, mb->name, &s) == 0;
		int have_ck = sg_imap_ckpt_get(st, NULL, mb->name, &ck) == 0;
		if (json)
			json_array_append_new(arr, mailbox_json(mb, &s, have_status, &ck, have_ck));
		else
			mailbox_line(mb, &s, have_status, &ck, have_ck);
		sg_imap_ckpt_clear(&ck);
	}
	sg_store_close(&st);
	if (json) {
		char *out = json_dumps(arr, JSON_INDENT(2));
		printf("%s\n", out);
		free(out);
		json_decref(arr);
	}
	if (only != NULL && found == 0) {
		fprintf(stderr, "supportgate: no mailbox section named '%s'\n", only);
		return 1;
	}
	return 0;
}
