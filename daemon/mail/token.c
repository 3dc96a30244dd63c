/*
 * token — see token.h.
 */
#include "config.h"
#include "mail/token.h"

#include <ctype.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

#define SG_MAX_ID_DIGITS 18

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

char *
sg_token_check(uint64_t id, const unsigned char *secret, size_t secretlen)
{
	char num[24];
	GHmac *h;
	guint8 dig[32];
	gsize dlen = sizeof(dig);
	char *out;

	if (secret == NULL || secretlen == 0)
		return NULL;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)id);
	h = g_hmac_new(G_CHECKSUM_SHA256, secret, secretlen);
	g_hmac_update(h, (const guchar *)num, (gssize)strlen(num));
	g_hmac_get_digest(h, dig, &dlen);
	g_hmac_unref(h);
	/* 15 bits: enough to make guessing pointless per attempt, short
	 * enough that people do not mangle it. */
	out = sg_xmalloc(4);
	out[0] = b32[dig[0] >> 3];
	out[1] = b32[((dig[0] & 7) << 2) | (dig[1] >> 6)];
	out[2] = b32[(dig[1] >> 1) & 31];
	out[3] = '\0';
	return out;
}

static int
check_state(uint64_t id, const char *chk, size_t chklen, const unsigned char *secret, size_t secretlen)
{
	char *want;
	int st;

	if (chklen == 0)
		return SG_CHECK_NONE;
	want = sg_token_check(id, secret, secretlen);
	st = want != NULL && chklen == 3 && strncasecmp(want, chk, 3) == 0 ? SG_CHECK_VALID : SG_CHECK_INVALID;
	free(want);
	return st;
}

char *
sg_token_format(const char *tag, uint64_t id, const unsigned char *secret, size_t secretlen)
{
	char *chk = sg_token_check(id, secret, secretlen);
	char *t = chk ? sg_xasprintf("[%s #%llu-%s]", tag, (unsigned long long)id, chk)
		      : sg_xasprintf("[%s #%llu]", tag, (unsigned long long)id);
	free(chk);
	return t;
}

/* Parse digits and an optional -chk at p; returns chars consumed or 0. */
static size_t
parse_num(const char *p, uint64_t *id, const char **chk, size_t *chklen)
{
	const char *s = p;
	uint64_t v = 0;
	size_t nd = 0;

	while (isdigit((unsigned char)*p) && nd < SG_MAX_ID_DIGITS + 1) {
		v = v * 10 + (uint64_t)(*p - '0');
		p++;
		nd++;
	}
	if (nd == 0 || nd > SG_MAX_ID_DIGITS || v == 0)
		return 0;
	*chk = NULL;
	*chklen = 0;
	if (*p == '-') {
		const char *c = p + 1;
		size_t n = 0;
		while (isalnum((unsigned char)c[n]) && n < 8)
			n++;
		if (n > 0) {
			*chk = c;
			*chklen = n;
			p = c + n;
		}
	}
	*id = v;
	return (size_t)(p - s);
}

static void
skip_blanks(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
		(*p)++;
}

/* Find the next token for tag at or after *pos; 1 on success. */
static int
next_token(const char **pos, const char *tag, uint64_t *id, const char **chk, size_t *chklen)
{
	size_t taglen = strlen(tag);
	const char *p;

	while ((p = strchr(*pos, '[')) != NULL) {
		*pos = p + 1;
		p++;
		skip_blanks(&p);
		if (strncasecmp(p, tag, taglen) != 0)
			continue;
		p += taglen;
		skip_blanks(&p);
		if (*p != '#')
			continue;
		p++;
		skip_blanks(&p);
		size_t n = parse_num(p, id, chk, chklen);
		if (n == 0)
			continue;
		p += n;
		skip_blanks(&p);
		if (*p != ']')
			continue;
		*pos = p + 1;
		return 1;
	}
	return 0;
}

int
sg_token_find(const char *subject, const char *tag, const unsigned char *secret,
	      size_t secretlen, uint64_t *id, int *check)
{
	const char *pos = subject, *chk;
	size_t chklen;

	if (subject == NULL || tag == NULL || *tag == '\0')
		return 0;
	if (!next_token(&pos, tag, id, &chk, &chklen))
		return 0;
	*check = check_state(*id, chk, chklen, secret, secretlen);
	return 1;
}

int
sg_token_plus_parse(const char *detail, const unsigned char *secret, size_t secretlen,
		    uint64_t *id, int *check)
{
	const char *chk;
	size_t chklen, n;

	if (detail == NULL)
		return 0;
	n = parse_num(detail, id, &chk, &chklen);
	if (n == 0 || detail[n] != '\0')
		return 0;
	*check = check_state(*id, chk, chklen, secret, secretlen);
	return 1;
}

char *
sg_token_plus_format(const char *support_addr, uint64_t id, const unsigned char *secret, size_t secretlen)
{
	const char *at = strrchr(support_addr, '@');
	char *chk = sg_token_check(id, secret, secretlen);
	char *out;

	if (at == NULL)
		at = support_addr + strlen(support_addr);
	out = sg_xasprintf("%.*s+%llu%s%s%s", (int)(at - support_addr), support_addr,
			   (unsigned long long)id, chk ? "-" : "", chk ? chk : "", at);
	free(chk);
	return out;
}

/* The keyed check of our Message-IDs: 65 bits (13 base32 characters) of
 * HMAC-SHA256(secret, "msgid:" id "." random). It covers the random
 * part, so nothing a customer sees (a subject token, another ticket's
 * Message-ID) helps to forge one. */
#define SG_MSGID_RND 16
#define SG_MSGID_MAC 13

static void
msgid_mac(uint64_t id, const char *rnd, size_t rndlen, const unsigned char *secret, size_t secretlen,
	  char out[SG_MSGID_MAC + 1])
{
	char num[32];
	guint8 dig[32];
	gsize dlen = sizeof(dig);
	GHmac *h = g_hmac_new(G_CHECKSUM_SHA256, secret, secretlen);

	snprintf(num, sizeof(num), "msgid:%llu.", (unsigned long long)id);
	g_hmac_update(h, (const guchar *)num, (gssize)strlen(num));
	g_hmac_update(h, (const guchar *)rnd, (gssize)rndlen);
	g_hmac_get_digest(h, dig, &dlen);
	g_hmac_unref(h);
	for (int i = 0; i < SG_MSGID_MAC; i++) {   /* 5 bits each from the digest's bit stream */
		unsigned bit = (unsigned)i * 5, byte = bit / 8, sh = bit % 8;
		unsigned v = ((unsigned)dig[byte] << 8 | dig[byte + 1]) >> (11 - sh);
		out[i] = b32[v & 31];
	}
	out[SG_MSGID_MAC] = '\0';
}

char *
sg_token_msgid_format(uint64_t id, const unsigned char *secret, size_t secretlen, const char *domain)
{
	char rnd[SG_MSGID_RND + 1], mac[SG_MSGID_MAC + 1] = "x";

	for (int i = 0; i < SG_MSGID_RND; i++)
		rnd[i] = b32[g_random_int_range(0, 32)];
	rnd[SG_MSGID_RND] = '\0';
	if (secret != NULL && secretlen > 0)
		msgid_mac(id, rnd, SG_MSGID_RND, secret, secretlen, mac);
	return sg_xasprintf("sg2.%llu.%s.%s@%s", (unsigned long long)id, rnd, mac, domain ? domain : "localhost");
}

/* Mail in the wild still carries the first format, sg.ID.RANDOM.CHK@,
 * whose 15-bit check covers only the id: read as a claim like any other
 * (the sender must still be one of the ticket's people). */
static int
msgid_parse_v1(const char *msgid, const unsigned char *secret, size_t secretlen, uint64_t *id)
{
	const char *p = msgid + 3, *dot, *chk, *c2;
	size_t cl, n = parse_num(p, id, &c2, &cl);

	if (n == 0 || p[n] != '.' || (dot = strchr(p + n + 1, '.')) == NULL)
		return 0;
	chk = dot + 1;
	cl = strcspn(chk, "@");
	if (chk[cl] != '@')
		return 0;
	return check_state(*id, chk, cl, secret, secretlen) == SG_CHECK_VALID;
}

int
sg_token_msgid_parse(const char *msgid, const unsigned char *secret, size_t secretlen, uint64_t *id)
{
	const char *p, *c2;
	size_t cl, n;
	char mac[SG_MSGID_MAC + 1];

	if (msgid == NULL || secret == NULL || secretlen == 0)
		return 0;
	if (strncmp(msgid, "sg.", 3) == 0)
		return msgid_parse_v1(msgid, secret, secretlen, id);
	if (strncmp(msgid, "sg2.", 4) != 0)
		return 0;
	p = msgid + 4;
	if ((n = parse_num(p, id, &c2, &cl)) == 0 || p[n] != '.')
		return 0;
	const char *rnd = p + n + 1;
	if (strspn(rnd, b32) != SG_MSGID_RND || rnd[SG_MSGID_RND] != '.')
		return 0;
	const char *got = rnd + SG_MSGID_RND + 1;
	if (strspn(got, b32) != SG_MSGID_MAC || got[SG_MSGID_MAC] != '@')
		return 0;
	msgid_mac(*id, rnd, SG_MSGID_RND, secret, secretlen, mac);
	/* constant time: the comparison leaks nothing about the right check */
	unsigned diff = 0;
	for (int i = 0; i < SG_MSGID_MAC; i++)
		diff |= (unsigned)(mac[i] ^ got[i]);
	return diff == 0;
}

int
sg_subject_has_token(const char *subject, const char *tag, uint64_t id)
{
	const char *pos = subject, *chk;
	size_t chklen;
	uint64_t found;

	if (subject == NULL)
		return 0;
	while (next_token(&pos, tag, &found, &chk, &chklen))
		if (found == id)
			return 1;
	return 0;
}

char *
sg_subject_add_token(const char *subject, const char *token)
{
	if (subject == NULL || *subject == '\0')
		return sg_xstrdup(token);
	if (strstr(subject, token) != NULL)
		return sg_xstrdup(subject);
	return sg_xasprintf("%s %s", token, subject);
}
