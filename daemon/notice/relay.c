/*
 * relay — see relay.h.
 */
#include "config.h"
#include "notice/relay.h"

#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd/parse.h"
#include "conf/conf.h"
#include "lib/xalloc.h"
#include "mail/address.h"
#include "mail/message.h"
#include "mail/token.h"

/* Headers of the agent's mail that travel: the body's own description. */
static int
keep_header(const char *name)
{
	return strncasecmp(name, "Content-", 8) == 0 || strcasecmp(name, "MIME-Version") == 0 ||
	       strcasecmp(name, "Date") == 0 || strcasecmp(name, "Subject") == 0;
}

static void
drop_headers(GMimeObject *obj)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);

	for (int i = g_mime_header_list_get_count(hl); i-- > 0;) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		if (!keep_header(g_mime_header_get_name(h)))
			g_mime_header_list_remove_at(hl, i);
	}
}

/* The first text/plain part, depth first; *alt gets the multipart/
 * alternative holding it, if any. */
static GMimeTextPart *
first_text(GMimeObject *obj, GMimeMultipart **alt, int depth)
{
	if (depth > 16)
		return NULL;
	if (GMIME_IS_TEXT_PART(obj)) {
		GMimeContentType *ct = g_mime_object_get_content_type(obj);
		return g_mime_content_type_is_type(ct, "text", "plain") ? GMIME_TEXT_PART(obj) : NULL;
	}
	if (!GMIME_IS_MULTIPART(obj))
		return NULL;
	GMimeMultipart *mp = GMIME_MULTIPART(obj);
	for (int i = 0; i < g_mime_multipart_get_count(mp); i++) {
		GMimeTextPart *tp = first_text(g_mime_multipart_get_part(mp, i), alt, depth + 1);
		if (tp != NULL) {
			GMimeContentType *ct = g_mime_object_get_content_type(obj);
			if (*alt == NULL && g_mime_content_type_is_type(ct, "multipart", "alternative"))
				*alt = mp;
			return tp;
		}
	}
	return NULL;
}

/* Remove the #command block at the top of the first text part. */
static void
strip_commands(GMimeMessage *msg)
{
	GMimeMultipart *alt = NULL;
	GMimeTextPart *tp = first_text(g_mime_message_get_mime_part(msg), &alt, 0);
	if (tp == NULL)
		return;
	char *text = g_mime_text_part_get_text(tp);
	if (text == NULL)
		return;
	struct sg_cmdlist cl;
	size_t len = strlen(text);
	if (sg_cmd_parse(text, len, &cl) > 0 || cl.errors.n > 0) {
		g_mime_text_part_set_text(tp, text + cl.rest);
		g_mime_part_set_content_encoding(GMIME_PART(tp),
			g_mime_part_get_best_content_encoding(GMIME_PART(tp), GMIME_ENCODING_CONSTRAINT_7BIT));
		for (int i = alt ? g_mime_multipart_get_count(alt) : 0; i-- > 0;) {
			GMimeObject *p = g_mime_multipart_get_part(alt, i);
			if (p != GMIME_OBJECT(tp) && GMIME_IS_TEXT_PART(p) &&
			    g_mime_content_type_is_type(g_mime_object_get_content_type(p), "text", "html"))
				g_mime_multipart_remove_at(alt, i);
		}
	}
	sg_cmdlist_clear(&cl);
	g_free(text);
}

static void
set_addresses(GMimeMessage *msg, const struct sg_conf *c, const struct sg_ticket *t, const char *from,
	      const char *agent_name)
{
	char *name = sg_xasprintf("%s via %s", agent_name, c->support_name[0] ? c->support_name : "support");
	for (char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, name, from);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO, c->support_name, from);
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, t->requestor_name ? t->requestor_name : "", t->requestor);
	for (size_t i = 0; i < t->participants.n; i++)
		if (strcasecmp(t->participants.v[i], t->requestor) != 0)
			g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_CC, "", t->participants.v[i]);
	free(name);
}

static void
set_thread(GMimeMessage *msg, const struct sg_conf *c, const struct sg_ticket *t, const char *in_reply_to,
	   const char *references)
{
	const char *subj = g_mime_message_get_subject(msg);
	char *token = sg_token_format(c->ticket_tag, t->id, c->token_secret, c->token_secret_len);
	char *s = subj && sg_subject_has_token(subj, c->ticket_tag, t->id) ? sg_xstrdup(subj)
									  : sg_subject_add_token(subj ? subj : t->subject, token);
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	g_mime_message_set_subject(msg, s, "utf-8");
	if (in_reply_to != NULL) {
		char *v = sg_xasprintf("<%s>", in_reply_to);
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", v, NULL);
		free(v);
	}
	if (references != NULL && *references)
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", references, NULL);
	free(s);
	free(token);
}

int
sg_relay_compose(const struct sg_conf *c, const struct sg_ticket *t, const char *raw, size_t len,
		 const char *agent_name, int strip, const char *in_reply_to, const char *references,
		 struct sg_rendered *out)
{
	memset(out, 0, sizeof(*out));
	out->from = sg_notice_from(c);
	if (out->from == NULL || t->requestor == NULL || *t->requestor == '\0') {
		out->why = "no sender or recipient address";
		return -1;
	}
	sg_message_init();
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(raw, len);
	GMimeParser *ps = g_mime_parser_new_with_stream(st);
	GMimeMessage *msg = g_mime_parser_construct_message(ps, NULL);
	g_object_unref(ps);
	g_object_unref(st);
	if (msg == NULL) {
		out->why = "the agent's mail cannot be parsed";
		return -1;
	}
	if (strip)
		strip_commands(msg);
	drop_headers(GMIME_OBJECT(msg));
	set_addresses(msg, c, t, out->from, agent_name);
	set_thread(msg, c, t, in_reply_to, references);
	out->message_id = sg_token_msgid_format(t->id, c->token_secret, c->token_secret_len, sg_addr_domain(out->from));
	g_mime_message_set_message_id(msg, out->message_id);
	g_mime_object_set_header(GMIME_OBJECT(msg), "X-Loop", out->from, NULL);
	GMimeFormatOptions *fo = g_mime_format_options_clone(NULL);
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	char *s = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
	g_mime_format_options_free(fo);
	g_object_unref(msg);
	out->msg = sg_xstrdup(s);
	out->len = strlen(s);
	out->lang = NULL;
	g_free(s);
	return 0;
}
