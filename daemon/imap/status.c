/*
 * status — a poller's own account of itself, for `supportgate imap
 * status` (another process): STATE_DIR/imap/NAME.status, "key value"
 * lines, written to a temporary file and renamed over the old one so a
 * reader sees one whole version. Not fsync'ed: it describes the running
 * daemon and means nothing after a crash. No libetpan here: the CLI
 * links this file alone.
 */
#include "config.h"
#include "imap/imap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/xalloc.h"

static char *
status_dir(const char *state_dir)
{
	return sg_xasprintf("%s/imap", state_dir);
}

/* The error text on one line, without characters that break the format. */
static void
put_line(FILE *fp, const char *key, const char *v)
{
	fprintf(fp, "%s ", key);
	for (; *v; v++)
		fputc((unsigned char)*v < 0x20 ? ' ' : *v, fp);
	fputc('\n', fp);
}

int
sg_imap_status_write(const char *state_dir, const char *mailbox, const struct sg_imap_status *s)
{
	char *dir = status_dir(state_dir);
	char *path = sg_xasprintf("%s/%s.status", dir, mailbox);
	char *tmp = sg_xasprintf("%s.tmp", path);
	int rc = -1, saved;
	FILE *fp;

	if (mkdir(dir, 0750) != 0 && errno != EEXIST)
		goto out;
	if ((fp = fopen(tmp, "w")) == NULL)
		goto out;
	fprintf(fp, "connected %d\nidle %d\nsince %" PRId64 "\nlast_poll %" PRId64 "\nlast_error_at %" PRId64
		    "\nsession_ingested %" PRIu64 "\nupdated %" PRId64 "\npid %ld\n",
		s->connected, s->idle, s->since, s->last_poll, s->last_error_at, s->session_ingested, s->updated, s->pid);
	put_line(fp, "last_error", s->last_error);
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		goto out;
	}
	rc = 0;
out:
	saved = errno;
	free(tmp);
	free(path);
	free(dir);
	errno = saved;
	return rc;
}

int
sg_imap_status_read(const char *state_dir, const char *mailbox, struct sg_imap_status *s)
{
	char *dir = status_dir(state_dir);
	char *path = sg_xasprintf("%s/%s.status", dir, mailbox);
	char line[512];
	FILE *fp = fopen(path, "r");
	int saved = errno;

	free(path);
	free(dir);
	memset(s, 0, sizeof(*s));
	if (fp == NULL) {
		errno = saved;
		return -1;
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *sp = strchr(line, ' ');
		if (sp == NULL)
			continue;
		*sp++ = '\0';
		sp[strcspn(sp, "\n")] = '\0';
		if (strcmp(line, "connected") == 0)
			s->connected = atoi(sp);
		else if (strcmp(line, "idle") == 0)
			s->idle = atoi(sp);
		else if (strcmp(line, "since") == 0)
			s->since = strtoll(sp, NULL, 10);
		else if (strcmp(line, "last_poll") == 0)
			s->last_poll = strtoll(sp, NULL, 10);
		else if (strcmp(line, "last_error_at") == 0)
			s->last_error_at = strtoll(sp, NULL, 10);
		else if (strcmp(line, "session_ingested") == 0)
			s->session_ingested = strtoull(sp, NULL, 10);
		else if (strcmp(line, "updated") == 0)
			s->updated = strtoll(sp, NULL, 10);
		else if (strcmp(line, "pid") == 0)
			s->pid = strtol(sp, NULL, 10);
		else if (strcmp(line, "last_error") == 0)
			snprintf(s->last_error, sizeof(s->last_error), "%s", sp);
	}
	fclose(fp);
	return 0;
}
