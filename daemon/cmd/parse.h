/*
 * parse — agents' commands in the body of a mail (PRODUCT.md A2).
 *
 * Grammar (supportgate-commands(5)): after any blank lines at the very
 * top of the text, a block of lines each starting with '#':
 *
 *   #status open|pending|resolved|closed     #assign ADDRESS|NAME
 *   #take                                    #queue NAME
 *   #priority low|normal|high|urgent         #tag +word -word ...
 *   #note                                    #sla TIER
 *   #quiet                                   #merge N
 *   #reason TEXT (overdue reason; "-" clears) #service NAME
 *
 * The first line that does not start with '#' ends the block; what
 * follows is the reply text. Command names are case-insensitive; a line
 * "#" followed by a space is not a command (a shell-style comment is
 * still an unknown command: agents learn fast when told).
 *
 * sg_cmd_parse(): parse text (len bytes, UTF-8, LF or CRLF). Pure, no
 *   allocation beyond the result, bounded: at most SG_CMD_MAX commands,
 *   lines up to SG_CMD_LINE_MAX bytes (longer is an error). Syntax errors
 *   (unknown command, missing or bad argument) go to out->errors as
 *   "#line: why", one per bad line; the whole block is still read so
 *   every error is reported at once. out->rest is the offset of the text
 *   after the block (== len when the mail is only commands, after
 *   trailing blank lines). Returns the number of commands.
 * sg_cmdlist_clear(): frees; safe twice.
 */
#ifndef SG_CMD_PARSE_H
#define SG_CMD_PARSE_H

#include <stddef.h>

#include "lib/strlist.h"

#define SG_CMD_MAX 32
#define SG_CMD_LINE_MAX 998

enum sg_cmd_kind {
	SG_CMD_STATUS = 0,
	SG_CMD_ASSIGN,
	SG_CMD_TAKE,
	SG_CMD_QUEUE,
	SG_CMD_PRIORITY,
	SG_CMD_TAG,
	SG_CMD_NOTE,
	SG_CMD_SLA,
	SG_CMD_QUIET,
	SG_CMD_MERGE,
	SG_CMD_REASON,
	SG_CMD_SERVICE,
};

struct sg_cmd {
	enum sg_cmd_kind kind;
	char *arg;          /* trimmed argument, or NULL */
	char *line;         /* the line as written, for error replies */
};

struct sg_cmdlist {
	struct sg_cmd v[SG_CMD_MAX];
	size_t n;
	struct sg_strlist errors;
	size_t rest;        /* offset of the text after the block */
	int note, quiet;    /* #note / #quiet present */
};

size_t sg_cmd_parse(const char *text, size_t len, struct sg_cmdlist *out);
void sg_cmdlist_clear(struct sg_cmdlist *l);
const char *sg_cmd_name(enum sg_cmd_kind k);

#endif
