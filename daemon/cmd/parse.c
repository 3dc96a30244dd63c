/*
 * parse — see parse.h.
 */
#include "config.h"
#include "cmd/parse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"
#include "model/ticket.h"

static const struct {
	const char *name;
	enum sg_cmd_kind kind;
	int arg;            /* 1: required, 0: none, -1: optional */
} table[] = {
	{ "status", SG_CMD_STATUS, 1 }, { "assign", SG_CMD_ASSIGN, 1 }, { "take", SG_CMD_TAKE, 0 },
	{ "queue", SG_CMD_QUEUE, 1 }, { "priority", SG_CMD_PRIORITY, 1 }, { "tag", SG_CMD_TAG, 1 },
	{ "note", SG_CMD_NOTE, 0 }, { "sla", SG_CMD_SLA, 1 }, { "quiet", SG_CMD_QUIET, 0 },
	{ "merge", SG_CMD_MERGE, 1 }, { "reason", SG_CMD_REASON, 1 }, { "service", SG_CMD_SERVICE, 1 },
};

const char *
sg_cmd_name(enum sg_cmd_kind k)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].kind == k)
			return table[i].name;
	return "?";
}

static void
err(struct sg_cmdlist *out, const char *line, const char *why)
{
	char *e = sg_xasprintf("%s: %s", line, why);
	sg_strlist_add(&out->errors, e, 0);
	free(e);
}

/* Values checked here are the ones that need no ticket or rules. */
static const char *
check_value(enum sg_cmd_kind k, const char *arg)
{
	int s;

	switch (k) {
	case SG_CMD_STATUS:
		s = sg_status_parse(arg);
		return s < 0 || s == SG_ST_NEW ? "status is open, pending, resolved or closed" : NULL;
	case SG_CMD_PRIORITY:
		return sg_priority_parse(arg) < 0 ? "priority is low, normal, high or urgent" : NULL;
	case SG_CMD_MERGE: {
		const char *p = arg + (*arg == '#');
		return p[strspn(p, "0123456789")] != '\0' || *p == '\0' || *p == '0' ? "merge takes a ticket number" : NULL;
	}
	case SG_CMD_TAG:
		for (const char *p = arg; *p;) {
			p += strspn(p, " \t");
			if (*p && *p != '+' && *p != '-')
				return "tags are +word to add, -word to remove";
			p += strcspn(p, " \t");
		}
		return NULL;
	default:
		return NULL;
	}
}

static void
one(struct sg_cmdlist *out, const char *line)
{
	const char *p = line + 1;
	size_t nl = strcspn(p, " \t");
	const char *arg = p + nl;

	arg += strspn(arg, " \t");
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strlen(table[i].name) != nl || strncasecmp(p, table[i].name, nl) != 0)
			continue;
		if (table[i].arg == 1 && *arg == '\0') {
			err(out, line, "needs an argument");
			return;
		}
		if (table[i].arg == 0 && *arg != '\0') {
			err(out, line, "takes no argument");
			return;
		}
		const char *why = *arg ? check_value(table[i].kind, arg) : NULL;
		if (why != NULL) {
			err(out, line, why);
			return;
		}
		if (out->n >= SG_CMD_MAX) {
			err(out, line, "too many commands in one mail");
			return;
		}
		struct sg_cmd *c = &out->v[out->n++];
		c->kind = table[i].kind;
		c->arg = *arg ? sg_xstrdup(arg) : NULL;
		c->line = sg_xstrdup(line);
		out->note |= c->kind == SG_CMD_NOTE;
		out->quiet |= c->kind == SG_CMD_QUIET;
		return;
	}
	err(out, line, "unknown command (status, assign, take, queue, priority, tag, note, sla, quiet, merge, reason, service)");
}

size_t
sg_cmd_parse(const char *text, size_t len, struct sg_cmdlist *out)
{
	size_t p = 0;
	int started = 0;

	memset(out, 0, sizeof(*out));
	while (p < len) {
		const char *nl = memchr(text + p, '\n', len - p);
		size_t e = nl ? (size_t)(nl - text) : len, ll = e - p;
		while (ll > 0 && (text[p + ll - 1] == '\r' || text[p + ll - 1] == ' ' || text[p + ll - 1] == '\t'))
			ll--;
		if (ll == 0 && !started) {          /* blank lines before the block */
			p = nl ? e + 1 : len;
			continue;
		}
		if (ll == 0 || text[p] != '#')     /* the first other line ends the block */
			break;
		started = 1;
		if (ll > SG_CMD_LINE_MAX) {
			err(out, "#...", "line too long");
		} else {
			char *line = sg_xstrndup(text + p, ll);
			one(out, line);
			free(line);
		}
		p = nl ? e + 1 : len;
	}
	/* Only blank lines after the block: a command-only mail. */
	size_t q = p;
	while (q < len && (text[q] == '\r' || text[q] == '\n' || text[q] == ' ' || text[q] == '\t'))
		q++;
	out->rest = q == len ? len : p;
	return out->n;
}

void
sg_cmdlist_clear(struct sg_cmdlist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].arg);
		free(l->v[i].line);
	}
	sg_strlist_clear(&l->errors);
	memset(l, 0, sizeof(*l));
}
