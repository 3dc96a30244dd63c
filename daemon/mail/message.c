/*
 * message — see message.h.
 */
#include "config.h"
#include "mail/message.h"

#include <ctype.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/address.h"
#include "lib/xalloc.h"

#define SG_MIME_DEPTH 20
#define SG_MIME_PARTS 200
#define SG_MAX_REFS 50
#define SG_BODY_MAX (1024 * 1024)
#define SG_HDR_MAX 8192
#define SG_MAX_HEADERS 2000

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void
init_once(void)
{
	g_mime_init();
}

void
sg_message_init(void)
{
	pthread_once(&once, init_once);
}

/* Valid UTF-8, no control characters except tab (folded to space),
 * bounded. Returns a new string. */
static char *
clean_line(const char *s, size_t max)
{
	gchar *v;
	char *out;
	size_t o = 0, len;

	if (s == NULL)
		return NULL;
	len = strlen(s);
	v = g_utf8_make_valid(s, (gssize)len);
	len = strlen(v);
	out = sg_xmalloc(len + 1);
	for (size_t i = 0; i < len && o < max; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f) {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		out[o++] = (char)c;
	}
	/* do not cut a UTF-8 sequence in half */
	while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0x80 && o >= max) {
		o--;
	}
	while (o > 0 && ((unsigned char)out[o - 1] & 0xC0) == 0xC0 && o >= max)
		o--;
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	g_free(v);
	if (!g_utf8_validate(out, -1, NULL)) {
		gchar *w = g_utf8_make_valid(out, -1);
		free(out);
		out = sg_xstrdup(w);
		g_free(w);
	}
	return out;
}

/*
 * Decode an unstructured header value (RFC 2047) one encoded word at a
 * time. GMime 3.2 joins adjacent base64 words before decoding, so a word
 * ending in '=' padding swallows the words after it ("=?UTF-8?B?0YI=?=
 * =?UTF-8?B?INC+...?=" loses the second); its own encoder produces such
 * pairs. Whitespace between two encoded words is dropped (RFC 2047 6.2).
 */
static char *
decode_words(const char *raw)
{
	GString *out = g_string_new(NULL);
	char *unfolded = sg_xstrdup(raw), *r;
	size_t o = 0;
	int last_was_word = 0;

	for (size_t i = 0; unfolded[i]; i++)
		if (unfolded[i] != '\r' && unfolded[i] != '\n')
			unfolded[o++] = unfolded[i];
	unfolded[o] = '\0';
	const char *p = unfolded;
	while (*p) {
		const char *w = strstr(p, "=?");
		const char *q1 = w ? strchr(w + 2, '?') : NULL;
		const char *q2 = q1 && q1[1] && q1[2] == '?' ? q1 + 2 : NULL;
		const char *end = q2 ? strstr(q2 + 1, "?=") : NULL;
		if (end == NULL) {
			char *d = g_mime_utils_header_decode_text(NULL, p);
			g_string_append(out, d ? d : p);
			g_free(d);
			break;
		}
		/* text before the word: kept unless it is only blanks between words */
		size_t gap = (size_t)(w - p);
		int blank = strspn(p, " \t") >= gap;
		if (gap > 0 && !(blank && last_was_word)) {
			char *seg = g_strndup(p, gap);
			char *d = g_mime_utils_header_decode_text(NULL, seg);
			g_string_append(out, d ? d : seg);
			g_free(d);
			g_free(seg);
		}
		char *word = g_strndup(w, (gsize)(end + 2 - w));
		char *d = g_mime_utils_header_decode_text(NULL, word);
		g_string_append(out, d ? d : word);
		g_free(d);
		g_free(word);
		last_was_word = 1;
		p = end + 2;
	}
	free(unfolded);
	r = sg_xstrdup(g_strchug(out->str));
	g_string_free(out, TRUE);
	return r;
}

static char *
raw_header(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
	const char *rv = h ? g_mime_header_get_raw_value(h) : NULL;

	return rv != NULL ? decode_words(rv) : NULL;
}

static void
first_mailbox(InternetAddressList *l, char **addr, char **name)
{
	if (l == NULL)
		return;
	for (int i = 0; i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
			char *n = sg_addr_normalize(a);
			if (n == NULL)
				continue;
			*addr = n;
			if (name != NULL && internet_address_get_name(ia) != NULL &&
			    *internet_address_get_name(ia) != '\0')
				*name = clean_line(internet_address_get_name(ia), 256);
			return;
		}
	}
}

static void
all_mailboxes(InternetAddressList *l, struct sg_strlist *out, int depth)
{
	if (l == NULL || depth > 3)
		return;
	for (int i = 0; i < internet_address_list_length(l) && out->n < 500; i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			char *n = sg_addr_normalize(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
			if (n != NULL)
				sg_strlist_add(out, n, 1);
			free(n);
		} else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			all_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out, depth + 1);
		}
	}
}

/* Parse a References / In-Reply-To value into ids (oldest first). */
static void
parse_ids(const char *value, struct sg_strlist *out)
{
	GMimeReferences *refs;

	if (value == NULL)
		return;
	refs = g_mime_references_parse(NULL, value);
	if (refs == NULL)
		return;
	int n = g_mime_references_length(refs);
	int start = n > SG_MAX_REFS ? n - SG_MAX_REFS : 0;
	for (int i = start; i < n; i++) {
		char *id = clean_line(g_mime_references_get_message_id(refs, i), 998);
		if (id != NULL && *id != '\0')
			sg_strlist_add(out, id, 1);
		free(id);
	}
	g_mime_references_free(refs);
}

struct walk {
	struct sg_msginfo *mi;
	GMimeObject *plain, *html;
	int parts;
};

static void
walk_parts(GMimeObject *obj, struct walk *w, int depth)
{
	if (obj == NULL || depth > SG_MIME_DEPTH || ++w->parts > SG_MIME_PARTS)
		return;
	if (GMIME_IS_MULTIPART(obj)) {
		GMimeMultipart *mp = GMIME_MULTIPART(obj);
		for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
			walk_parts(g_mime_multipart_get_part(mp, i), w, depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(obj)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		sg_strlist_add(&w->mi->attach_types, "message/rfc822", 0);
		sg_strlist_add(&w->mi->attach_names, "", 0);
		(void)inner;   /* not descended into: its body is not ours */
		return;
	}
	if (!GMIME_IS_PART(obj))
		return;
	GMimePart *part = GMIME_PART(obj);
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *fname = g_mime_part_get_filename(part);
	int is_att = g_mime_part_is_attachment(part) || (fname != NULL && *fname != '\0');
	if (is_att) {
		char *mt = ct ? g_mime_content_type_get_mime_type(ct) : NULL;
		char *n = clean_line(fname ? fname : "", 255);
		char *t = clean_line(mt ? mt : "application/octet-stream", 127);
		if (w->mi->attach_names.n < SG_MIME_PARTS) {
			sg_strlist_add(&w->mi->attach_names, n, 0);
			sg_strlist_add(&w->mi->attach_types, t, 0);
		}
		free(n);
		free(t);
		g_free(mt);
		return;
	}
	if (ct != NULL && GMIME_IS_TEXT_PART(obj)) {
		if (w->plain == NULL && g_mime_content_type_is_type(ct, "text", "plain"))
			w->plain = obj;
		else if (w->html == NULL && g_mime_content_type_is_type(ct, "text", "html"))
			w->html = obj;
	}
}

static char *
part_text(GMimeObject *obj)
{
	char *t = g_mime_text_part_get_text(GMIME_TEXT_PART(obj));
	char *out;

	if (t == NULL)
		return NULL;
	gchar *v = g_utf8_make_valid(t, -1);
	g_free(t);
	size_t len = strlen(v);
	if (len > SG_BODY_MAX) {
		len = SG_BODY_MAX;
		while (len > 0 && ((unsigned char)v[len] & 0xC0) == 0x80)
			len--;
	}
	out = sg_xstrndup(v, len);
	g_free(v);
	return out;
}

static const char *
entity(const char *p, char *buf, size_t *adv)
{
	static const struct { const char *n; const char *v; } ents[] = {
		{ "amp;", "&" }, { "lt;", "<" }, { "gt;", ">" }, { "quot;", "\"" }, { "apos;", "'" },
		{ "nbsp;", " " }, { "mdash;", "\xe2\x80\x94" }, { "ndash;", "\xe2\x80\x93" },
		{ "laquo;", "\xc2\xab" }, { "raquo;", "\xc2\xbb" }, { "hellip;", "\xe2\x80\xa6" },
	};
	for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		size_t l = strlen(ents[i].n);
		if (strncasecmp(p, ents[i].n, l) == 0) {
			*adv = l;
			return ents[i].v;
		}
	}
	if (*p == '#') {
		char *end;
		unsigned long cp = (p[1] == 'x' || p[1] == 'X') ? strtoul(p + 2, &end, 16) : strtoul(p + 1, &end, 10);
		if (*end == ';' && cp > 0 && cp < 0x110000 && end - p < 10) {
			int n = g_unichar_to_utf8((gunichar)cp, buf);
			buf[n] = '\0';
			*adv = (size_t)(end - p) + 1;
			return g_utf8_validate(buf, n, NULL) ? buf : "";
		}
	}
	return NULL;
}

char *
sg_message_html_to_text(const char *html, size_t max)
{
	size_t len = strlen(html), o = 0;
	char *out = sg_xmalloc(len + 1);
	const char *p = html;
	char ebuf[8];

	while (*p && o < max && o < len) {
		if (*p == '<') {
			const char *tag = p + 1;
			int skip = strncasecmp(tag, "script", 6) == 0 ? 1 : strncasecmp(tag, "style", 5) == 0 ? 2 : 0;
			int brk = strncasecmp(tag, "br", 2) == 0 || strncasecmp(tag, "p", 1) == 0 ||
				  strncasecmp(tag, "/p", 2) == 0 || strncasecmp(tag, "div", 3) == 0 ||
				  strncasecmp(tag, "/div", 4) == 0 || strncasecmp(tag, "li", 2) == 0 ||
				  strncasecmp(tag, "tr", 2) == 0 || strncasecmp(tag, "h", 1) == 0;
			const char *end = strchr(p, '>');
			if (end == NULL)
				break;
			p = end + 1;
			if (skip) {
				const char *close = strcasestr(p, skip == 1 ? "</script" : "</style");
				if (close == NULL)
					break;
				end = strchr(close, '>');
				if (end == NULL)
					break;
				p = end + 1;
			}
			if (brk && o > 0 && out[o - 1] != '\n')
				out[o++] = '\n';
			continue;
		}
		if (*p == '&') {
			size_t adv = 0;
			const char *v = entity(p + 1, ebuf, &adv);
			if (v != NULL) {
				size_t vl = strlen(v);
				if (o + vl > len)
					break;
				memcpy(out + o, v, vl);
				o += vl;
				p += 1 + adv;
				continue;
			}
		}
		if (*p == '\r' || *p == '\n' || *p == '\t') {
			if (o > 0 && out[o - 1] != ' ' && out[o - 1] != '\n')
				out[o++] = ' ';
			p++;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	gchar *v = g_utf8_make_valid(out, -1);
	free(out);
	out = sg_xstrdup(v);
	g_free(v);
	return out;
}

/* Cyrillic share of letters decides "ru". */
static const char *
guess_language(const struct sg_msginfo *mi, const char *charset)
{
	if (mi->content_language != NULL) {
		if (strncasecmp(mi->content_language, "ru", 2) == 0)
			return "ru";
		if (strncasecmp(mi->content_language, "en", 2) == 0)
			return "en";
	}
	if (charset != NULL && (strcasecmp(charset, "koi8-r") == 0 || strcasecmp(charset, "windows-1251") == 0 ||
				strcasecmp(charset, "cp1251") == 0))
		return "ru";
	size_t cyr = 0, lat = 0;
	const char *texts[2] = { mi->subject, mi->body_text };
	for (int t = 0; t < 2; t++) {
		const char *s = texts[t];
		for (size_t i = 0; s != NULL && s[i] && i < 4096;) {
			gunichar c = g_utf8_get_char(s + i);
			if (c >= 0x400 && c <= 0x4ff)
				cyr++;
			else if (c < 0x80 && isalpha((int)c))
				lat++;
			i = (size_t)(g_utf8_next_char(s + i) - s);
		}
	}
	if (cyr > 0 && cyr * 2 >= lat)
		return "ru";
	return NULL;
}

static char *
hdr_clean(GMimeObject *obj, const char *name)
{
	const char *v = g_mime_object_get_header(obj, name);
	return v != NULL ? clean_line(v, SG_HDR_MAX) : NULL;
}

/* The GMime message of raw, or NULL. GMime 3.2 mis-decodes RFC 2047
 * words folded with CRLF (a word after "\r\n " is dropped), so the
 * parser sees LF line ends. The copy is needed anyway: the stream must
 * own its bytes. */
static GMimeMessage *
gmime_parse(const char *raw, size_t len)
{
	GByteArray *ba = g_byte_array_sized_new((guint)(len < G_MAXUINT ? len : 0));
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

	for (size_t i = 0, start = 0; i <= len; i++) {
		if (i == len || (raw[i] == '\r' && i + 1 < len && raw[i + 1] == '\n')) {
			g_byte_array_append(ba, (const guint8 *)raw + start, (guint)(i - start));
			start = i + 1;
		}
	}
	stream = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_seek(stream, 0, GMIME_STREAM_SEEK_SET);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

/* The headers supportgate looks at by name: subject, addresses,
 * Message-IDs, date, and those that mark automatic mail. */
static void
read_named_headers(struct sg_msginfo *mi, GMimeMessage *msg)
{
	GMimeObject *obj = GMIME_OBJECT(msg);
	char *subj = raw_header(obj, "Subject");

	mi->subject = clean_line(subj ? subj : "", SG_HDR_MAX);
	free(subj);
	first_mailbox(g_mime_message_get_from(msg), &mi->from_addr, &mi->from_name);
	first_mailbox(g_mime_message_get_reply_to(msg), &mi->reply_to_addr, NULL);
	all_mailboxes(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), &mi->to, 0);
	all_mailboxes(g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_CC), &mi->cc, 0);
	if (g_mime_message_get_message_id(msg) != NULL) {
		mi->message_id = clean_line(g_mime_message_get_message_id(msg), 998);
		if (mi->message_id[0] == '\0')
			sg_xfree(&mi->message_id);
	}
	struct sg_strlist irt = { 0 };
	parse_ids(g_mime_object_get_header(obj, "In-Reply-To"), &irt);
	if (irt.n > 0)
		mi->in_reply_to = sg_xstrdup(irt.v[irt.n - 1]);
	sg_strlist_clear(&irt);
	parse_ids(g_mime_object_get_header(obj, "References"), &mi->references);
	GDateTime *dt = g_mime_message_get_date(msg);
	if (dt != NULL)
		mi->date = (time_t)g_date_time_to_unix(dt);
	mi->auto_submitted = hdr_clean(obj, "Auto-Submitted");
	mi->precedence = hdr_clean(obj, "Precedence");
	mi->list_id = hdr_clean(obj, "List-Id");
	mi->return_path = hdr_clean(obj, "Return-Path");
	mi->content_language = hdr_clean(obj, "Content-Language");
	mi->x_loop = hdr_clean(obj, "X-Loop");
	mi->x_auto_response_suppress = hdr_clean(obj, "X-Auto-Response-Suppress");
}

/* Every header, decoded and cleaned, for header:NAME conditions (at most
 * SG_MAX_HEADERS). */
static void
read_all_headers(struct sg_msginfo *mi, GMimeObject *obj)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int nh = hl ? g_mime_header_list_get_count(hl) : 0;

	for (int i = 0; i < nh && i < SG_MAX_HEADERS; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *name = g_mime_header_get_name(h);
		const char *value = g_mime_header_get_raw_value(h);
		if (name == NULL)
			continue;
		if (strncasecmp(name, "List-", 5) == 0)
			mi->has_list_headers = 1;
		char *n = clean_line(name, 200);
		char *dv = value ? decode_words(value) : NULL;
		char *v = clean_line(dv ? dv : "", SG_HDR_MAX);
		sg_strlist_add(&mi->hdr_names, n, 0);
		sg_strlist_add(&mi->hdr_values, v, 0);
		free(n);
		free(v);
		free(dv);
	}
}

/* The body text (the text/plain part, else the HTML one as text, else
 * ""), attachments and the DSN flag. Returns the charset the text was
 * declared in (owned by msg), or NULL. */
static const char *
read_body(struct sg_msginfo *mi, GMimeMessage *msg)
{
	GMimeObject *body = g_mime_message_get_mime_part(msg);
	struct walk w = { 0 };
	const char *charset = NULL;

	if (body != NULL) {
		GMimeContentType *ct = g_mime_object_get_content_type(body);
		if (ct != NULL && g_mime_content_type_is_type(ct, "multipart", "report"))
			mi->is_dsn = 1;
		w.mi = mi;
		walk_parts(body, &w, 0);
		if (w.plain != NULL) {
			mi->body_text = part_text(w.plain);
			charset = g_mime_object_get_content_type_parameter(w.plain, "charset");
		} else if (w.html != NULL) {
			char *h = part_text(w.html);
			if (h != NULL)
				mi->body_text = sg_message_html_to_text(h, SG_BODY_MAX);
			free(h);
			charset = g_mime_object_get_content_type_parameter(w.html, "charset");
		}
	}
	if (mi->body_text == NULL)
		mi->body_text = sg_xstrdup("");
	return charset;
}

int
sg_message_parse(const char *raw, size_t len, struct sg_msginfo **out)
{
	GMimeMessage *msg;
	struct sg_msginfo *mi;
	const char *charset;

	*out = NULL;
	sg_message_init();
	msg = gmime_parse(raw, len);
	if (msg == NULL)
		return -1;
	mi = sg_xcalloc(1, sizeof(*mi));
	mi->size = len;
	read_named_headers(mi, msg);
	read_all_headers(mi, GMIME_OBJECT(msg));
	charset = read_body(mi, msg);
	mi->language_hint = guess_language(mi, charset);
	g_object_unref(msg);
	*out = mi;
	return 0;
}

struct sg_msginfo *
sg_msginfo_empty(size_t size)
{
	struct sg_msginfo *mi = sg_xcalloc(1, sizeof(*mi));

	mi->size = size;
	mi->subject = sg_xstrdup("");
	mi->body_text = sg_xstrdup("");
	return mi;
}

void
sg_msginfo_free(struct sg_msginfo **mip)
{
	struct sg_msginfo *mi = *mip;

	if (mi == NULL)
		return;
	*mip = NULL;
	free(mi->subject);
	free(mi->from_addr);
	free(mi->from_name);
	free(mi->reply_to_addr);
	sg_strlist_clear(&mi->to);
	sg_strlist_clear(&mi->cc);
	free(mi->message_id);
	free(mi->in_reply_to);
	sg_strlist_clear(&mi->references);
	free(mi->auto_submitted);
	free(mi->precedence);
	free(mi->list_id);
	free(mi->return_path);
	free(mi->content_language);
	free(mi->x_loop);
	free(mi->x_auto_response_suppress);
	free(mi->body_text);
	sg_strlist_clear(&mi->attach_names);
	sg_strlist_clear(&mi->attach_types);
	sg_strlist_clear(&mi->hdr_names);
	sg_strlist_clear(&mi->hdr_values);
	free(mi);
}

const char *
sg_msginfo_header(const struct sg_msginfo *mi, const char *name)
{
	for (size_t i = 0; i < mi->hdr_names.n; i++)
		if (strcasecmp(mi->hdr_names.v[i], name) == 0)
			return mi->hdr_values.v[i];
	return NULL;
}

char *
sg_message_header_encode(const char *utf8)
{
	char *clean = clean_line(utf8 ? utf8 : "", SG_HDR_MAX);
	int ascii = 1;
	char *out;

	sg_message_init();
	for (const char *p = clean; *p; p++)
		if ((unsigned char)*p >= 0x80)
			ascii = 0;
	if (ascii)
		return clean;
	char *enc = g_mime_utils_header_encode_text(NULL, clean, "utf-8");
	free(clean);
	/* GMime may fold long encodings; a header value we hand out must be
	 * one line: unfold (the MTA folds again if it wants). */
	out = sg_xstrdup(enc ? enc : "");
	g_free(enc);
	size_t o = 0;
	for (size_t i = 0; out[i]; i++) {
		if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0')
			continue;
		out[o++] = out[i];
	}
	out[o] = '\0';
	return out;
}
