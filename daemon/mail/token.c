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

char *
sg_token_msgid_format(uint64_t id, const unsigned char *secret, size_t secretlen, const char *domain)
{
	char rnd[13];
	char *chk = sg_token_check(id, secret, secretlen);
	char *out;

	for (int i = 0; i < 12; i++)
		rnd[i] = b32[g_random_int_range(0, 32)];
	rnd[12] = '\0';
	out = sg_xasprintf("sg.%llu.%s.%s@%s", (unsigned long long)id, rnd, chk ? chk : "x",
			   domain ? domain : "localhost");
	free(chk);
	return out;
}

int
sg_token_msgid_parse(const char *msgid, const unsigned char *secret, size_t secretlen, uint64_t *id)
{
	const char *p, *dot, *chk, *c2;
	size_t cl, n;

	if (msgid == NULL || secret == NULL || strncmp(msgid, "sg.", 3) != 0)
		return 0;
	p = msgid + 3;
	n = parse_num(p, id, &c2, &cl);
	if (n == 0 || p[n] != '.')
		return 0;
	dot = strchr(p + n + 1, '.');
	if (dot == NULL)
		return 0;
	chk = dot + 1;
	cl = strcspn(chk, "@");
	if (chk[cl] != '@')
		return 0;
	return check_state(*id, chk, cl, secret, secretlen) == SG_CHECK_VALID;
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
