/*
 * webhook-sign — the HMAC-SHA256 signature of a webhook body (see
 * webhook.h), with GnuTLS. Apart from webhook.c: only the delivery signs
 * (its timestamp is the moment of sending), so a program that only queues
 * webhooks links no crypto library.
 */
#include "config.h"
#include "outbound/webhook.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"

#define MOD "webhook"

/* ------------------------------------------------------------ signing */

static char *
hex(const unsigned char *d, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = sg_xmalloc(n * 2 + 1);

	for (size_t i = 0; i < n; i++) {
		s[2 * i] = digits[d[i] >> 4];
		s[2 * i + 1] = digits[d[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

/* HMAC-SHA256 over the concatenation of n parts. */
static char *
hmac_parts(const void *key, size_t klen, const void *const *parts, const size_t *lens, size_t n)
{
	unsigned char digest[32];
	gnutls_hmac_hd_t h;

	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, key, klen) < 0)
		sg_panic(MOD, "HMAC-SHA256 is not available from GnuTLS");
	for (size_t i = 0; i < n; i++)
		if (lens[i] > 0 && gnutls_hmac(h, parts[i], lens[i]) < 0)
			sg_panic(MOD, "HMAC-SHA256 failed");
	gnutls_hmac_deinit(h, digest);
	return hex(digest, sizeof(digest));
}

char *
sg_webhook_hmac_hex(const void *key, size_t klen, const void *data, size_t dlen)
{
	const void *parts[1] = { data };
	size_t lens[1] = { dlen };

	return hmac_parts(key, klen, parts, lens, 1);
}

char *
sg_webhook_signature(const void *secret, size_t slen, int64_t ts, const char *body, size_t blen)
{
	char tsbuf[32];
	int n = snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
	const void *parts[3] = { tsbuf, ".", body };
	size_t lens[3] = { (size_t)n, 1, blen };
	char *mac = hmac_parts(secret, slen, parts, lens, 3);
	char *sig = sg_xasprintf("t=%s,v1=%s", tsbuf, mac);

	free(mac);
	return sig;
}

