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

/* Past the encoded word at p ("=?charset?enc?text?=", no blanks or
 * controls inside), or NULL when p does not start one. */
static const char *
encoded_word_end(const char *p)
{
	const char *q;

	if (p[0] != '=' || p[1] != '?')
		return NULL;
	for (q = p + 2; *q && *q != '?'; q++)
		if ((unsigned char)*q <= 0x20)
			return NULL;
	if (*q != '?' || q == p + 2 || !strchr("BbQq", q[1]) || q[1] == '\0' || q[2] != '?')
		return NULL;
	for (q += 3; *q && !(q[0] == '?' && q[1] == '='); q++)
		if ((unsigned char)*q <= 0x20)
			return NULL;
	return *q ? q + 2 : NULL;
}

/* Copy the quoted string, comment or angle address at p to out (line
 * ends dropped); returns the position after it. */
static const char *
copy_delimited(GString *out, const char *p)
{
	char close = *p == '"' ? '"' : *p == '(' ? ')' : '>';
	int depth = 1;

	g_string_append_c(out, *p++);
	for (; *p; p++) {
		if (*p == '\r' || *p == '\n')
			continue;
		if (*p == '\\' && close != '>' && p[1] != '\0' && p[1] != '\r' && p[1] != '\n') {
			g_string_append_c(out, *p++);
			g_string_append_c(out, *p);
			continue;
		}
		g_string_append_c(out, *p);
		if (close == ')' && *p == '(')
			depth++;
		else if (*p == close && --depth == 0)
			return p + 1;
	}
	return p;
}

/*
 * An address field made safe to hand to GMime's address parser: every run
 * of encoded words outside quoted strings, comments and angle brackets is
 * replaced by a quoted string of its decoded text, controls made blanks.
 * GMime tokenizes the raw value first, so an encoded word whose text
 * holds ':', '@', '<' or ',' ("=?utf-8?q?Evil=0D=0ABcc:_x@y?= <a@b>",
 * not allowed in a phrase by RFC 2047 but sent all the same) made a group
 * of the display name and lost the address; decoded first, it is a name.
 */
static char *
address_field_safe(const char *raw)
{
	GString *out = g_string_sized_new(strlen(raw) + 16);
	const char *p = raw;

	while (*p) {
		const char *end;
		if (*p == '\r' || *p == '\n') {   /* unfold */
			p++;
			continue;
		}
		if (*p == '"' || *p == '(' || *p == '<') {
			/* copied as they are: GMime reads their insides as text */
			p = copy_delimited(out, p);
			continue;
		}
		if ((end = encoded_word_end(p)) == NULL) {
			g_string_append_c(out, *p++);
			continue;
		}
		/* a run: words with only blanks between them */
		for (;;) {
			const char *q = end + strspn(end, " \t\r\n"), *e2 = encoded_word_end(q);
			if (e2 == NULL)
				break;
			end = e2;
		}
		char *run = sg_xstrndup(p, (size_t)(end - p));
		char *dec = decode_words(run);
		char *text = clean_line(dec, SG_HDR_MAX);
		g_string_append_c(out, '"');
		for (const char *t = text; *t; t++) {
			if (*t == '"' || *t == '\\')
				g_string_append_c(out, '\\');
			g_string_append_c(out, *t);
		}
		g_string_append_c(out, '"');
		free(text);
		free(dec);
		free(run);
		p = end;
	}
	char *r = sg_xstrdup(out->str);
	g_string_free(out, TRUE);
	return r;
}

/* The address in the last <...> of a raw value, when GMime found no
 * mailbox at all in it: the author is kept, the name is not. */
static char *
angle_addr(const char *raw)
{
	const char *lt = strrchr(raw, '<');
	const char *gt = lt ? strchr(lt, '>') : NULL;

	if (gt == NULL)
		return NULL;
	char *in = sg_xstrndup(lt + 1, (size_t)(gt - lt - 1));
	char *a = sg_addr_normalize(in);
	free(in);
	return a;
}

/* The mailboxes of every field called name (To, Cc: all of them), each
 * value made safe first. */
static InternetAddressList *
address_fields(GMimeObject *obj, const char *name, int first_only)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	int nh = hl ? g_mime_header_list_get_count(hl) : 0;
	InternetAddressList *all = NULL;

	for (int i = 0; i < nh; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *hn = g_mime_header_get_name(h), *rv = g_mime_header_get_raw_value(h);
		if (hn == NULL || rv == NULL || strcasecmp(hn, name) != 0)
			continue;
		char *safe = address_field_safe(rv);
		InternetAddressList *l = internet_address_list_parse(NULL, safe);
		free(safe);
		if (l == NULL)
			continue;
		if (all == NULL) {
			all = l;
		} else {
			internet_address_list_append(all, l);
			g_object_unref(l);
		}
		if (first_only)
			break;
	}
	return all;
}

/* The first mailbox of the first field called name (From, Reply-To): its
 * address, and its display name when name_out is not NULL. A field in
 * which GMime finds no mailbox still gives the address in its <...>. */
static void
first_mailbox(GMimeObject *obj, const char *name, char **addr, char **name_out)
{
	InternetAddressList *l = address_fields(obj, name, 1);

	for (int i = 0; l != NULL && i < internet_address_list_length(l); i++) {
		InternetAddress *ia = internet_address_list_get_address(l, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		char *n = sg_addr_normalize(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
		if (n == NULL)
			continue;
		*addr = n;
		const char *dn = internet_address_get_name(ia);
		if (name_out != NULL && dn != NULL && *dn != '\0') {
			*name_out = clean_line(dn, 256);
			if (**name_out == '\0')
				sg_xfree(name_out);
		}
		break;
	}
	if (l != NULL)
		g_object_unref(l);
	if (*addr == NULL) {
		GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
		GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
		const char *rv = h ? g_mime_header_get_raw_value(h) : NULL;
		if (rv != NULL)
			*addr = angle_addr(rv);
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

static void
field_mailboxes(GMimeObject *obj, const char *name, struct sg_strlist *out)
{
	InternetAddressList *l = address_fields(obj, name, 0);

	all_mailboxes(l, out, 0);
	if (l != NULL)
		g_object_unref(l);
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

/*
 * The text of a leaf part in UTF-8, at most SG_BODY_MAX bytes: decoded
 * (base64, quoted-printable, uuencode) and converted from its declared
 * charset through a filter stream read only as far as needed, so a 30 MB
 * body costs what is kept, not three copies of itself. NULs are dropped
 * (the text is a C string); bytes that are not UTF-8 become U+FFFD.
 */
static char *
part_text(GMimeObject *obj)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(GMIME_PART(obj));
	GMimeStream *src = dw ? g_mime_data_wrapper_get_stream(dw) : NULL;
	const char *charset = g_mime_object_get_content_type_parameter(obj, "charset");
	GMimeFilter *f;
	char chunk[16384];
	ssize_t n;

	if (src == NULL)
		return NULL;
	GMimeStream *fs = g_mime_stream_filter_new(src);
	switch (g_mime_data_wrapper_get_encoding(dw)) {
	case GMIME_CONTENT_ENCODING_BASE64:
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
	case GMIME_CONTENT_ENCODING_UUENCODE:
		f = g_mime_filter_basic_new(g_mime_data_wrapper_get_encoding(dw), FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
		break;
	default:
		break;
	}
	/* UTF-8 is not converted (iconv would go to UCS-4 and back, 3% of
	 * the daemon on 64 KB mail): g_utf8_make_valid below mends it. */
	if (charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0 && g_ascii_strcasecmp(charset, "utf8") != 0 &&
	    (f = g_mime_filter_charset_new(charset, "utf-8")) != NULL) {
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), f);
		g_object_unref(f);
	}
	GByteArray *buf = g_byte_array_new();
	g_mime_stream_reset(src);
	/* a few bytes over the bound, so the cut below sees whole characters */
	while (buf->len < SG_BODY_MAX + 8 && (n = g_mime_stream_read(fs, chunk, sizeof(chunk))) > 0) {
		for (const char *p = chunk, *end = chunk + n; p < end;) {
			const char *z = memchr(p, '\0', (size_t)(end - p));
			size_t run = (size_t)((z ? z : end) - p);
			g_byte_array_append(buf, (const guint8 *)p, (guint)run);
			p += run + (z != NULL);
		}
	}
	g_object_unref(fs);
	g_mime_stream_reset(src);
	gchar *v = buf->len ? g_utf8_make_valid((const char *)buf->data, (gssize)buf->len) : g_strdup("");
	g_byte_array_free(buf, TRUE);
	size_t len = strlen(v);
	if (len > SG_BODY_MAX) {
		len = SG_BODY_MAX;
		while (len > 0 && ((unsigned char)v[len] & 0xC0) == 0x80)
			len--;
	}
	char *out = sg_xstrndup(v, len);
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

/*
 * The parse copy: what GMime is shown of raw. GMime keeps several copies
 * of every header (raw, unfolded, decoded) and an object per field and
 * per part, so its memory follows the shape of the input, not its size:
 * a 50 MB header line cost ~260 MB, 50 MB of short fields 1.8 GB and 8 s,
 * 100k tiny parts 200 MB. The copy is bounded before GMime sees it; the
 * stored and forwarded bytes are the caller's and stay whole.
 *   - any line: at most SG_PARSE_LINE_MAX bytes, the rest of it is cut;
 *   - header blocks (the message's, and together those of MIME parts and
 *     attached messages): at most SG_PARSE_HDR_BYTES bytes and
 *     SG_PARSE_HDR_FIELDS fields each; fields beyond are dropped;
 *   - after SG_PARSE_DELIMS lines that may be MIME delimiters ("--" at
 *     the start of a line, once a multipart type was declared) the rest
 *     is not parsed (walk_parts looks at SG_MIME_PARTS parts anyway).
 * A header block is what GMime reads as one: from its start to the first
 * empty line (GMime skips lines that are not fields, it does not stop at
 * them). Line ends become LF: GMime 3.2 mis-decodes RFC 2047 words folded
 * with CRLF (a word after "\r\n " is dropped). A message whose first line
 * ends in a lone CR (old Mac mail) has CR line ends throughout.
 */
#define SG_PARSE_LINE_MAX (64 * 1024)
#define SG_PARSE_HDR_BYTES (1024 * 1024)
#define SG_PARSE_HDR_FIELDS 5000
#define SG_PARSE_DELIMS 2000

struct hdr_budget {
	size_t bytes, fields;
};

/*
 * GMime 3.2.13 leaks 128 bytes for every header field in which a domain
 * literal is followed by a comment left open at the end of the field
 * ("To: s@[x](": tests/fuzz/crashes-message/). The parse copy closes such
 * a comment at the end of its field, so a flood of them costs nothing;
 * the stored raw message is never changed. A NUL in a header line, which
 * ends the field for GMime, becomes a blank in the copy so both read the
 * same field.
 */
struct lit_comment {
	size_t depth;           /* open comments */
	int after_lit;          /* a "]" then only blanks so far */
	int lit;                /* a comment opened right after a literal */
	int quoted, esc;
};

static void
lit_comment_scan(struct lit_comment *lc, const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char c = line[i];
		if (lc->esc) {
			lc->esc = 0;
			continue;
		}
		if (c == '\\') {
			lc->esc = 1;
			lc->after_lit = 0;
		} else if (c == '"' && lc->depth == 0) {
			lc->quoted = !lc->quoted;
			lc->after_lit = 0;
		} else if (lc->quoted) {
			continue;
		} else if (c == ']') {
			lc->after_lit = 1;
		} else if (c == '(') {
			if (lc->after_lit && lc->depth == 0)
				lc->lit = 1;
			lc->depth++;
			lc->after_lit = 0;
		} else if (c == ')') {
			if (lc->depth > 0)
				lc->depth--;
			lc->after_lit = 0;
		} else if (c != ' ' && c != '\t') {
			lc->after_lit = 0;
		}
	}
}

/* The field in the copy has ended: close what GMime would leak on. */
static void
lit_comment_end(struct lit_comment *lc, GByteArray *ba)
{
	if (lc->lit && lc->depth > 0) {
		int nl = ba->len > 0 && ba->data[ba->len - 1] == '\n';
		if (nl)
			g_byte_array_set_size(ba, ba->len - 1);
		for (size_t i = 0; i < lc->depth; i++)
			g_byte_array_append(ba, (const guint8 *)")", 1);
		if (nl)
			g_byte_array_append(ba, (const guint8 *)"\n", 1);
	}
	memset(lc, 0, sizeof(*lc));
}

struct copy_state {
	struct sg_msginfo *mi;
	GByteArray *ba;
	enum { CP_TOP, CP_HDR, CP_BODY } where;
	struct hdr_budget top, nested;
	int dropping;           /* the current field is dropped (budget) */
	int ctype_next;         /* Content-Type with its value on the next line */
	int next_is_msg;        /* this block declared message/: headers follow */
	int multipart;          /* some block declared multipart/ */
	size_t delims;
	struct lit_comment lc;  /* the current field's comments (GMime's leak) */
};

/* Is line a Content-Type field? Returns its value (after the colon and
 * blanks) or NULL. GMime accepts blanks before the colon. */
static const char *
ctype_value(const char *line, size_t len, size_t *vlen)
{
	size_t n = 0;

	while (n < len && line[n] != ':')
		n++;
	if (n == len)
		return NULL;
	size_t name = n;
	while (name > 0 && (line[name - 1] == ' ' || line[name - 1] == '\t'))
		name--;
	if (name != 12 || strncasecmp(line, "Content-Type", 12) != 0)
		return NULL;
	n++;
	while (n < len && (line[n] == ' ' || line[n] == '\t'))
		n++;
	*vlen = len - n;
	return line + n;
}

static void
note_ctype(struct copy_state *cs, const char *v, size_t vlen)
{
	if (vlen >= 8 && strncasecmp(v, "message/", 8) == 0)
		cs->next_is_msg = 1;
	if (vlen >= 10 && strncasecmp(v, "multipart/", 10) == 0)
		cs->multipart = 1;
}

/* One line of a header block (without its line end, already cut to
 * SG_PARSE_LINE_MAX). Returns 1 to keep it in the copy. */
static int
header_line(struct copy_state *cs, const char *line, size_t len)
{
	struct hdr_budget *b = cs->where == CP_TOP ? &cs->top : &cs->nested;
	int cont = len > 0 && (line[0] == ' ' || line[0] == '\t');

	if (!cont || !cs->dropping) {
		int fits = b->bytes + len + 1 <= SG_PARSE_HDR_BYTES && (cont || b->fields < SG_PARSE_HDR_FIELDS);
		if (!fits) {
			cs->mi->cut_fields++;
			cs->mi->parse_cut |= SG_CUT_FIELDS;
		}
		cs->dropping = !fits;
	}
	if (cs->dropping)
		return 0;
	b->bytes += len + 1;
	if (cont) {
		if (cs->ctype_next) {
			size_t o = 0;
			while (o < len && (line[o] == ' ' || line[o] == '\t'))
				o++;
			note_ctype(cs, line + o, len - o);
		}
		cs->ctype_next = 0;
		return 1;
	}
	b->fields++;
	size_t vlen = 0;
	const char *v = ctype_value(line, len, &vlen);
	cs->ctype_next = v != NULL && vlen == 0;
	if (v != NULL)
		note_ctype(cs, v, vlen);
	return 1;
}

/* Copy one line (without its line end) as the bounds allow. Returns -1
 * at the delimiter past SG_PARSE_DELIMS: the rest is not copied. */
static int
copy_line(struct copy_state *cs, const char *line, size_t len, int has_end)
{
	size_t keep = len;

	if (keep > SG_PARSE_LINE_MAX) {
		keep = SG_PARSE_LINE_MAX;
		cs->mi->cut_lines++;
		cs->mi->parse_cut |= SG_CUT_LINES;
	}
	if (cs->where != CP_BODY && (len == 0 || (line[0] != ' ' && line[0] != '\t')))
		lit_comment_end(&cs->lc, cs->ba);
	if (cs->where != CP_TOP && cs->multipart && len >= 2 && line[0] == '-' && line[1] == '-') {
		/* a delimiter, perhaps: a part's header block follows */
		if (++cs->delims > SG_PARSE_DELIMS) {
			cs->mi->parse_cut |= SG_CUT_TAIL;
			return -1;
		}
		cs->where = CP_HDR;
		cs->dropping = cs->ctype_next = cs->next_is_msg = 0;
	} else if (cs->where != CP_BODY && len == 0) {
		/* the end of a header block; an attached message's follows */
		cs->where = cs->next_is_msg ? CP_HDR : CP_BODY;
		cs->dropping = cs->ctype_next = cs->next_is_msg = 0;
	} else if (cs->where != CP_BODY && !header_line(cs, line, keep)) {
		return 0;
	}
	if (cs->where != CP_BODY && len > 0 && memchr(line, '\0', keep) != NULL) {
		guint at = cs->ba->len;
		g_byte_array_append(cs->ba, (const guint8 *)line, (guint)keep);
		for (guint i = at; i < cs->ba->len; i++)
			if (cs->ba->data[i] == '\0')
				cs->ba->data[i] = ' ';
		lit_comment_scan(&cs->lc, (const char *)cs->ba->data + at, keep);
	} else {
		if (cs->where != CP_BODY)
			lit_comment_scan(&cs->lc, line, keep);
		g_byte_array_append(cs->ba, (const guint8 *)line, (guint)keep);
	}
	if (has_end)
		g_byte_array_append(cs->ba, (const guint8 *)"\n", 1);
	return 0;
}

/* Does the first line end in a lone CR? */
static int
cr_line_ends(const char *raw, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (raw[i] == '\n')
			return 0;
		if (raw[i] == '\r')
			return i + 1 == len || raw[i + 1] != '\n';
	}
	return 0;
}

static GByteArray *
parse_copy(const char *raw, size_t len, struct sg_msginfo *mi)
{
	struct copy_state cs = { .mi = mi, .where = CP_TOP };
	int cr = cr_line_ends(raw, len);
	size_t p = 0;

	if (len >= G_MAXUINT) {   /* what a GByteArray holds */
		len = G_MAXUINT - 1;
		mi->parse_cut |= SG_CUT_TAIL;
	}
	/* Sized for the whole input: pages never written (a cut line) are
	 * never touched, so they cost address space, not memory. */
	cs.ba = g_byte_array_sized_new((guint)len);
	while (p < len) {
		size_t e, next, ll;
		if (!cr) {
			const char *nl = memchr(raw + p, '\n', len - p);
			e = nl ? (size_t)(nl - raw) : len;
			next = nl ? e + 1 : len;
			ll = e - p;
			if (nl != NULL && ll > 0 && raw[e - 1] == '\r')
				ll--;
		} else {
			for (e = p; e < len && raw[e] != '\r' && raw[e] != '\n'; e++)
				;
			next = e < len ? e + 1 : len;
			if (e + 1 < len && raw[e] == '\r' && raw[e + 1] == '\n')
				next++;
			ll = e - p;
		}
		if (copy_line(&cs, raw + p, ll, e < len) < 0)
			break;
		p = next;
	}
	if (cs.where != CP_BODY)
		lit_comment_end(&cs.lc, cs.ba);
	return cs.ba;
}

/* The GMime message of raw, or NULL; what the copy left out is noted in
 * mi. */
static GMimeMessage *
gmime_parse(const char *raw, size_t len, struct sg_msginfo *mi)
{
	GByteArray *ba = parse_copy(raw, len, mi);
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *msg;

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
	first_mailbox(obj, "From", &mi->from_addr, &mi->from_name);
	first_mailbox(obj, "Reply-To", &mi->reply_to_addr, NULL);
	field_mailboxes(obj, "To", &mi->to);
	field_mailboxes(obj, "Cc", &mi->cc);
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
	mi = sg_xcalloc(1, sizeof(*mi));
	mi->size = len;
	msg = gmime_parse(raw, len, mi);
	if (msg == NULL) {
		free(mi);
		return -1;
	}
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

char *
sg_msginfo_cut_note(const struct sg_msginfo *mi)
{
	GString *g;

	if (mi->parse_cut == 0)
		return NULL;
	g = g_string_new("parsed in part (the raw message is as it came):");
	if (mi->parse_cut & SG_CUT_LINES)
		g_string_append_printf(g, " %zu line(s) over %d KiB cut;", mi->cut_lines, SG_PARSE_LINE_MAX / 1024);
	if (mi->parse_cut & SG_CUT_FIELDS)
		g_string_append_printf(g, " %zu header field(s) over %d KiB or %d fields per header block dropped;",
				       mi->cut_fields, SG_PARSE_HDR_BYTES / 1024, SG_PARSE_HDR_FIELDS);
	if (mi->parse_cut & SG_CUT_TAIL)
		g_string_append_printf(g, " the rest after %d MIME delimiters not read;", SG_PARSE_DELIMS);
	g_string_truncate(g, g->len - 1);   /* the last ';' */
	char *r = sg_xstrdup(g->str);
	g_string_free(g, TRUE);
	return r;
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
