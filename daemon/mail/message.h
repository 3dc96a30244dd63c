/*
 * message — what ingest and the rules need to know about a mail, parsed
 * with GMime 3.
 *
 * sg_message_parse() never fails on odd input: GMime is lenient and every
 * field may simply be missing. It returns -1 only for input it cannot turn
 * into a message at all (then *out is NULL). Every string in the struct is
 * valid UTF-8 and carries no CR, LF or NUL (single-line fields); body_text
 * keeps its line breaks. Bounds: MIME depth 20, 200 parts, references 50
 * (the newest), body_text 1 MiB, any header value 8 KiB, 2000 headers.
 * Memory: GMime is shown a bounded copy (any line 64 KiB, each header
 * block 1 MiB and 5000 fields, 2000 MIME delimiters), so a parse costs
 * about the message's size plus a few MiB whatever its shape; what was
 * left out is in parse_cut (sg_msginfo_cut_note() says it in one line).
 * Address fields keep their address when a display name is hostile (an
 * encoded CR/LF, ':' or '@' in it): the name is cleaned or dropped.
 * Line ends may be CRLF, LF, or CR alone when the first line ends so.
 *
 * sg_message_header_encode() turns UTF-8 text into a header value safe to
 * hand to an MTA: CR/LF/NUL become spaces, non-ASCII becomes RFC 2047.
 *
 * The struct and its strings belong to the caller: sg_msginfo_free(&mi).
 * Thread-safe after sg_message_init() (called by parse on first use).
 */
#ifndef SG_MESSAGE_H
#define SG_MESSAGE_H

#include <stddef.h>
#include <time.h>

#include "model/ticket.h"

struct sg_msginfo {
	char *subject;              /* decoded, "" when absent */
	char *from_addr;            /* normalised, or NULL */
	char *from_name;
	char *reply_to_addr;
	struct sg_strlist to, cc;   /* normalised addresses */
	char *message_id;           /* without <>, or NULL */
	char *in_reply_to;          /* first id, without <> */
	struct sg_strlist references;  /* oldest first */
	time_t date;                /* 0 when absent or unparsable */
	char *auto_submitted;
	char *precedence;
	char *list_id;
	char *return_path;
	char *content_language;
	char *x_loop;
	char *x_auto_response_suppress;
	int has_list_headers;       /* any List-* header */
	int is_dsn;                 /* multipart/report */
	char *body_text;            /* text/plain preferred, HTML as text */
	struct sg_strlist attach_names, attach_types;
	size_t size;
	const char *language_hint;  /* "ru", "en" or NULL (static string) */
	struct sg_strlist hdr_names, hdr_values;  /* every header, decoded */
	/* What the parser was not shown (the bytes stored and forwarded stay
	 * whole; message.c has the bounds): SG_CUT_* bits, how many lines
	 * were cut and how many header fields dropped. 0 when none. */
	unsigned parse_cut;
	size_t cut_lines, cut_fields;
};

#define SG_CUT_LINES  0x1u   /* lines over 64 KiB cut */
#define SG_CUT_FIELDS 0x2u   /* header fields over 1 MiB / 5000 per block dropped */
#define SG_CUT_TAIL   0x4u   /* the rest after 2000 MIME delimiters not parsed */

void sg_message_init(void);
int sg_message_parse(const char *raw, size_t len, struct sg_msginfo **out);
/* An info with every field empty, for mail GMime cannot read at all. */
struct sg_msginfo *sg_msginfo_empty(size_t size);
void sg_msginfo_free(struct sg_msginfo **mi);
/* What the parse left out, one line for an event ("parsed in part: ..."),
 * or NULL when nothing was; the caller frees. */
char *sg_msginfo_cut_note(const struct sg_msginfo *mi);
/* First value of header name (case-insensitive), or NULL. */
const char *sg_msginfo_header(const struct sg_msginfo *mi, const char *name);
char *sg_message_header_encode(const char *utf8);
/* Plain text from HTML: tags dropped, entities decoded, script/style skipped. */
char *sg_message_html_to_text(const char *html, size_t max);

#endif
