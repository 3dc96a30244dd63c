/*
 * token — ticket tokens in subjects, plus-addresses and our Message-IDs.
 *
 *   subject token   [TAG #1234]       or keyed [TAG #1234-k7q]
 *   plus-address    support+1234@     or keyed support+1234-k7q@
 *   Message-ID      sg2.1234.<random>.<mac>@domain   (older: sg.1234.<random>.<check>@)
 *
 * The keyed check of tokens is the first 3 characters (base32, a-z2-7)
 * of HMAC-SHA256(secret, decimal id); it exists only when a secret is
 * configured. Our Message-IDs carry their own 65-bit MAC over the id AND
 * the 16-character random part, so a leaked token or Message-ID does not
 * help to forge another. Finding is tolerant the way Request Tracker's is: the token
 * may sit anywhere (after Re:, AW:, Fwd:, WG:, VS:, Отв: ... prefixes),
 * with blanks around '#' and inside the brackets (a folded long subject),
 * and the tag compares case-insensitively.
 *
 * All returned strings are new (caller frees). No function blocks.
 */
#ifndef SG_TOKEN_H
#define SG_TOKEN_H

#include <stddef.h>
#include <stdint.h>

enum sg_check {
	SG_CHECK_NONE = 0,    /* token carries no check */
	SG_CHECK_VALID,
	SG_CHECK_INVALID,     /* a check that does not match (or no secret to verify) */
};

/* 3-character check, or NULL when secret is NULL. */
char *sg_token_check(uint64_t id, const unsigned char *secret, size_t secretlen);
char *sg_token_format(const char *tag, uint64_t id, const unsigned char *secret, size_t secretlen);
/* 1 and *id, *check when a token with this tag is in subject; else 0. */
int sg_token_find(const char *subject, const char *tag, const unsigned char *secret,
		  size_t secretlen, uint64_t *id, int *check);
/* detail is the part after '+': "1234" or "1234-k7q". */
int sg_token_plus_parse(const char *detail, const unsigned char *secret, size_t secretlen,
			uint64_t *id, int *check);
char *sg_token_plus_format(const char *support_addr, uint64_t id, const unsigned char *secret,
			   size_t secretlen);
/* Message-IDs of our outbound mail (without <>). */
char *sg_token_msgid_format(uint64_t id, const unsigned char *secret, size_t secretlen,
			    const char *domain);
/* 1 when msgid is ours with a valid check (requires a secret), else 0. */
int sg_token_msgid_parse(const char *msgid, const unsigned char *secret, size_t secretlen,
			 uint64_t *id);
/* Does subject already carry a token for ticket id (any check)? */
int sg_subject_has_token(const char *subject, const char *tag, uint64_t id);
/* "[TAG #N] subject" (RT's convention), never doubling a token. */
char *sg_subject_add_token(const char *subject, const char *token);

#endif
