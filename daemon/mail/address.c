/*
 * address — see address.h.
 */
#include "config.h"
#include "mail/address.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

#define SG_ADDR_MAX 320

char *
sg_addr_normalize(const char *s)
{
	size_t len;
	const char *at;
	char *out;

	if (s == NULL)
		return NULL;
	while (isspace((unsigned char)*s) || *s == '<')
		s++;
	len = strlen(s);
	while (len > 0 && (isspace((unsigned char)s[len - 1]) || s[len - 1] == '>'))
		len--;
	if (len == 0 || len > SG_ADDR_MAX)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';')
			return NULL;
	}
	at = memchr(s, '@', len);
	if (at == NULL || at == s || at == s + len - 1 || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
		return NULL;
	out = sg_xstrndup(s, len);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

int
sg_addr_is_robot(const char *addr)
{
	static const char *const exact[] = {
		"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply",
		"no_reply", "bounce", "bounces", "root",
	};
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);

	for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
		if (strlen(exact[i]) == n && strncasecmp(addr, exact[i], n) == 0)
			return 1;
	if (n >= 6 && strncasecmp(addr, "owner-", 6) == 0)
		return 1;
	if (n >= 8 && strncasecmp(addr + n - 8, "-request", 8) == 0)
		return 1;
	if (n >= 8 && strncasecmp(addr, "bounces+", 8) == 0)
		return 1;
	return 0;
}

const char *
sg_addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');
	return at != NULL && at[1] != '\0' ? at + 1 : NULL;
}
