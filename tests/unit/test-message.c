/*
 * test-message — GMime parsing of the test mail in tests/mail: charsets
 * and RFC 2047, HTML-only bodies, attachments, DSNs, list mail, header
 * injection attempts, garbage; plus address utilities.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/address.h"
#include "mail/message.h"
#include "lib/xalloc.h"
#include "tap.h"

static struct sg_msginfo *
parse_file(const char *name)
{
	const char *top = getenv("top_srcdir");
	char *path = sg_xasprintf("%s/tests/mail/%s", top ? top : ".", name);
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t n = 0;
	struct sg_msginfo *mi = NULL;

	if (fp != NULL) {
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
	}
	free(path);
	if (n == 0 || sg_message_parse(buf, n, &mi) != 0)
		return NULL;
	return mi;
}

static int
clean(const char *s)
{
	return s != NULL && strpbrk(s, "\r\n") == NULL;
}

static void
test_koi8(void)
{
	struct sg_msginfo *mi;

	mi = parse_file("ru-koi8.eml");
	ok(mi != NULL, "koi8-r mail parses");
	if (mi) {
		is_str(mi->subject, "Помощь со счётом", "koi8-r RFC 2047 subject decoded to UTF-8");
		is_str(mi->from_addr, "ivan@klient.example", "From address");
		is_str(mi->from_name, "Иван", "encoded display name");
		ok(strstr(mi->body_text, "не работает оплата") != NULL, "8-bit koi8-r body converted");
		is_str(mi->language_hint, "ru", "Russian detected");
		is_str(mi->message_id, "koi8.1@klient.example", "Message-ID without brackets");
	}
	sg_msginfo_free(&mi);
	ok(mi == NULL, "free clears the pointer");
}

static void
test_html_only(void)
{
	struct sg_msginfo *mi;

	mi = parse_file("html-only.eml");
	ok(mi != NULL, "HTML-only mail parses");
	if (mi) {
		is_str(mi->subject, "Order № 778 missing", "Q-encoded UTF-8 subject");
		ok(strstr(mi->body_text, "Order 778 & 779 never arrived.") != NULL, "HTML converted, entities decoded: %s", mi->body_text);
		ok(strstr(mi->body_text, "alert") == NULL && strstr(mi->body_text, "color") == NULL, "script and style dropped");
		ok(strstr(mi->body_text, "Regards — Tom") != NULL, "&mdash;");
		ok(mi->language_hint == NULL, "no language guessed for English");
	}
	sg_msginfo_free(&mi);
}

static void
test_multipart(void)
{
	struct sg_msginfo *mi;

	mi = parse_file("multipart-attach.eml");
	ok(mi != NULL, "multipart mail parses");
	if (mi) {
		is_str(mi->body_text, "See the attached screenshot.", "text/plain preferred over HTML");
		is_int((long long)mi->attach_names.n, 1, "one attachment");
		if (mi->attach_names.n == 1) {
			is_str(mi->attach_names.v[0], "error.png", "attachment name");
			is_str(mi->attach_types.v[0], "image/png", "attachment type");
		}
		is_int((long long)mi->cc.n, 2, "two Cc");
		ok(sg_strlist_has(&mi->cc, "dee@customer.example"), "Cc normalised to lower case");
		is_str(mi->reply_to_addr, "helpdesk-replies@customer.example", "Reply-To");
		is_str(mi->in_reply_to, "b@y", "In-Reply-To");
		ok(mi->references.n == 2 && strcmp(mi->references.v[0], "a@x") == 0, "References in order");
		ok(mi->date == 1795345200, "Date parsed (%lld)", (long long)mi->date);
		ok(!mi->is_dsn && !mi->has_list_headers, "not a DSN, not a list");
	}
	sg_msginfo_free(&mi);
}

static void
test_dsn(void)
{
	struct sg_msginfo *mi;

	mi = parse_file("dsn.eml");
	ok(mi != NULL && mi->is_dsn, "multipart/report recognised as DSN");
	ok(mi != NULL && mi->auto_submitted != NULL && strcmp(mi->auto_submitted, "auto-replied") == 0, "Auto-Submitted read");
	ok(mi != NULL && sg_addr_is_robot(mi->from_addr), "MAILER-DAEMON is a robot");
	sg_msginfo_free(&mi);
}

static void
test_list(void)
{
	struct sg_msginfo *mi;

	mi = parse_file("list.eml");
	ok(mi != NULL && mi->has_list_headers && mi->list_id != NULL, "List-* headers seen");
	ok(mi != NULL && strcmp(mi->precedence, "list") == 0, "Precedence read");
	ok(mi != NULL && sg_msginfo_header(mi, "list-unsubscribe") != NULL, "any header by name");
	sg_msginfo_free(&mi);
}

static void
test_injection(void)
{
	struct sg_msginfo *mi;

	mi = parse_file("injection.eml");
	ok(mi != NULL, "injection attempt parses");
	if (mi) {
		ok(clean(mi->subject), "encoded CRLF in subject removed: '%s'", mi->subject);
		ok(strstr(mi->subject, "Bcc:") != NULL, "text kept on one line");
	}
	sg_msginfo_free(&mi);
}

static void
test_garbage(void)
{
	struct sg_msginfo *mi;

	mi = parse_file("garbage.eml");
	ok(mi == NULL || clean(mi->subject), "garbage does not crash");
	sg_msginfo_free(&mi);

	ok(sg_message_parse("", 0, &mi) != 0 || mi != NULL, "empty input handled");
	sg_msginfo_free(&mi);
}

/* GMime 3.2 joins adjacent base64 words; a padded first word used to
 * swallow the next one. */
static void
test_encoded_words(void)
{
	struct sg_msginfo *mi = NULL;

	const char *padded = "From: a@b.example\r\nSubject: =?UTF-8?B?0YI=?=\r\n =?UTF-8?B?INC+0L/Qu9Cw0YLQsA==?=\r\n\r\nx\r\n";
	ok(sg_message_parse(padded, strlen(padded), &mi) == 0 && strcmp(mi->subject, "т оплата") == 0,
	   "adjacent base64 words with padding both decoded: '%s'", mi ? mi->subject : "");
	sg_msginfo_free(&mi);
	const char *mixed = "From: a@b.example\r\nSubject: Re: =?ISO-8859-1?Q?Caf=E9?= bill  =?UTF-8?Q?=E2=82=AC?=\r\n\r\nx\r\n";
	ok(sg_message_parse(mixed, strlen(mixed), &mi) == 0 && strcmp(mi->subject, "Re: Café bill  €") == 0,
	   "text between words kept, charsets mixed: '%s'", mi ? mi->subject : "");
	sg_msginfo_free(&mi);
}

/* header encoding is safe by construction */
static void
test_header_encode(void)
{
	char *s;

	s = sg_message_header_encode("x\r\nBcc: victim@example.com");
	ok(clean(s), "CRLF cannot split an encoded header: %s", s);
	free(s);
	s = sg_message_header_encode("[ACME #5] Не работает");
	ok(clean(s) && strstr(s, "=?") != NULL && strstr(s, "[ACME #5]") != NULL, "non-ASCII becomes RFC 2047: %s", s);
	free(s);
	char nul[] = { 'a', 0, 'b', 0 };
	s = sg_message_header_encode(nul);
	is_str(s, "a", "NUL ends the value");
	free(s);
}

static void
test_addresses(void)
{
	char *s;

	s = sg_addr_normalize(" <Alice@Example.COM> ");
	is_str(s, "alice@example.com", "normalise");
	free(s);
	ok(sg_addr_normalize("no-at-sign") == NULL, "no @");
	ok(sg_addr_normalize("a@") == NULL && sg_addr_normalize("@b") == NULL, "empty parts");
	ok(sg_addr_normalize("a b@c") == NULL, "blank inside");
	ok(sg_addr_normalize("a@b\r\nBcc: x@y") == NULL, "CRLF inside");
	static const char *robots[] = { "MAILER-DAEMON@x", "postmaster@x", "owner-list@x", "list-request@x",
					"noreply@x", "no-reply@x", "DoNotReply@x" };
	for (size_t i = 0; i < sizeof(robots) / sizeof(robots[0]); i++)
		ok(sg_addr_is_robot(robots[i]), "robot: %s", robots[i]);
	ok(!sg_addr_is_robot("alice@x") && !sg_addr_is_robot("requestor@x"), "humans are not robots");
	is_str(sg_addr_domain("a@b.example"), "b.example", "domain");
}

static const struct sg_test tests[] = {
	{ "koi8-r", test_koi8 },
	{ "html-only", test_html_only },
	{ "multipart", test_multipart },
	{ "dsn", test_dsn },
	{ "list", test_list },
	{ "injection", test_injection },
	{ "garbage", test_garbage },
	{ "encoded-words", test_encoded_words },
	{ "header-encode", test_header_encode },
	{ "addresses", test_addresses },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
