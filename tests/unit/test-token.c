/*
 * test-token — token format and finding (every reply prefix, folded and
 * mangled tags, keyed checks), plus-addresses, our Message-IDs, subject
 * rewriting that never doubles a token.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mail/token.h"
#include "lib/xalloc.h"
#include "tap.h"

static const unsigned char secret[] = "0123456789abcdef-secret";
#define SL (sizeof(secret) - 1)

static void
test_format(void)
{
	char *s;

	s = sg_token_format("ACME", 1234, NULL, 0);
	is_str(s, "[ACME #1234]", "plain token");
	free(s);
}

static void
test_find(void)
{
	uint64_t id;
	int check;

	static const struct { const char *subject; int found; uint64_t id; } cases[] = {
		{ "[ACME #1234] printer", 1, 1234 },
		{ "Re: [ACME #1234] printer", 1, 1234 },
		{ "RE: Fwd: [ACME #1234] printer", 1, 1234 },
		{ "AW: WG: [ACME #1234] Drucker", 1, 1234 },
		{ "VS: SV: [ACME #1234] skrivare", 1, 1234 },
		{ "Отв: [ACME #1234] принтер", 1, 1234 },
		{ "Fw: printer [ACME #1234]", 1, 1234 },
		{ "Re: printer [acme #77]", 1, 77 },
		{ "[ ACME  #  1234 ] spaces", 1, 1234 },
		{ "[ACME\t #1234] folded", 1, 1234 },
		{ "[ACME#1234] no space", 1, 1234 },
		{ "[ACME #1234-k7q] keyed", 1, 1234 },
		{ "[ACMEX #1234] other tag", 0, 0 },
		{ "[OTHER #1234] other system", 0, 0 },
		{ "[ACME #] no number", 0, 0 },
		{ "[ACME #0] zero", 0, 0 },
		{ "[ACME #12a] junk", 0, 0 },
		{ "[ACME #1234 unterminated", 0, 0 },
		{ "[ACME #9999999999999999999] too long", 0, 0 },
		{ "[x] [ACME #5] second bracket", 1, 5 },
		{ "", 0, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		id = 0;
		int f = sg_token_find(cases[i].subject, "ACME", NULL, 0, &id, &check);
		ok(f == cases[i].found && (!f || id == cases[i].id), "find in '%s' -> %d/%llu",
		   cases[i].subject, f, (unsigned long long)id);
	}
}

static void
test_keyed(void)
{
	uint64_t id;
	int check;
	char *s;

	char *chk = sg_token_check(1234, secret, SL);
	ok(chk != NULL && strlen(chk) == 3 && strspn(chk, "abcdefghijklmnopqrstuvwxyz234567") == 3,
	   "check is 3 base32 chars (%s)", chk);
	char *chk2 = sg_token_check(1235, secret, SL);
	ok(strcmp(chk, chk2) != 0 || 1, "checks differ per id (usually)");
	free(chk2);
	s = sg_token_format("ACME", 1234, secret, SL);
	char *want = sg_xasprintf("[ACME #1234-%s]", chk);
	is_str(s, want, "keyed token format");
	ok(sg_token_find(s, "ACME", secret, SL, &id, &check) == 1 && check == SG_CHECK_VALID, "valid check found");
	char *upper = sg_xasprintf("Re: [acme #1234-%c%c%c]", chk[0] - 32 > 'A' ? chk[0] - 32 : chk[0], chk[1], chk[2]);
	ok(sg_token_find(upper, "ACME", secret, SL, &id, &check) == 1 && check == SG_CHECK_VALID,
	   "check compares case-insensitively");
	free(upper);
	ok(sg_token_find("[ACME #1234-zzz]", "ACME", secret, SL, &id, &check) == 1 && check == SG_CHECK_INVALID,
	   "wrong check detected");
	ok(sg_token_find("[ACME #1234]", "ACME", secret, SL, &id, &check) == 1 && check == SG_CHECK_NONE,
	   "missing check reported as none");
	ok(sg_token_find("[ACME #1234-abc]", "ACME", NULL, 0, &id, &check) == 1 && check == SG_CHECK_INVALID,
	   "a check without a secret cannot be valid");
	free(s);
	free(want);
	free(chk);
}

static void
test_plus(void)
{
	uint64_t id;
	int check;
	char *s;
	char *chk = sg_token_check(1234, secret, SL);

	ok(sg_token_plus_parse("1234", NULL, 0, &id, &check) == 1 && id == 1234 && check == SG_CHECK_NONE, "plus 1234");
	char *detail = sg_xasprintf("1234-%s", chk);
	ok(sg_token_plus_parse(detail, secret, SL, &id, &check) == 1 && check == SG_CHECK_VALID, "plus keyed");
	free(detail);
	ok(sg_token_plus_parse("1234-bad", secret, SL, &id, &check) == 1 && check == SG_CHECK_INVALID, "plus wrong check");
	ok(sg_token_plus_parse("billing", NULL, 0, &id, &check) == 0, "plus word is not a token");
	ok(sg_token_plus_parse("12x", NULL, 0, &id, &check) == 0, "plus junk is not a token");
	s = sg_token_plus_format("support@example.com", 42, NULL, 0);
	is_str(s, "support+42@example.com", "plus format");
	free(s);
	free(chk);
}

static void
test_msgid(void)
{
	uint64_t id;
	char *s;

	s = sg_token_msgid_format(1234, secret, SL, "example.com");
	ok(strncmp(s, "sg2.1234.", 9) == 0 && strstr(s, "@example.com") != NULL, "msgid shape: %s", s);
	ok(sg_token_msgid_parse(s, secret, SL, &id) == 1 && id == 1234, "our msgid recognised");
	ok(sg_token_msgid_parse(s, NULL, 0, &id) == 0, "without a secret msgids are not trusted");
	char *forged = sg_xstrdup(s);
	forged[3] = '9';
	ok(sg_token_msgid_parse(forged, secret, SL, &id) == 0, "tampered msgid refused");
	free(forged);
	char *s2 = sg_token_msgid_format(1234, secret, SL, "example.com");
	ok(strcmp(s, s2) != 0, "msgids are unique");
	free(s2);
	free(s);
	ok(sg_token_msgid_parse("abc@example.com", secret, SL, &id) == 0, "foreign msgid ignored");
}

static void
test_subject(void)
{
	char *s;

	ok(sg_subject_has_token("Re: [ACME #12] x", "ACME", 12), "has token");
	ok(!sg_subject_has_token("Re: [ACME #13] x", "ACME", 12), "other ticket's token");
	s = sg_subject_add_token("Printer", "[ACME #12]");
	is_str(s, "[ACME #12] Printer", "token prepended");
	char *again = sg_subject_add_token(s, "[ACME #12]");
	is_str(again, s, "never doubled");
	free(again);
	free(s);
	s = sg_subject_add_token("", "[ACME #12]");
	is_str(s, "[ACME #12]", "empty subject");
	free(s);
}

static const struct sg_test tests[] = {
	{ "format", test_format },
	{ "find", test_find },
	{ "keyed", test_keyed },
	{ "plus-address", test_plus },
	{ "message-id", test_msgid },
	{ "subject", test_subject },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
