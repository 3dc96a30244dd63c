/*
 * authres — see authres.h.
 */
#include "config.h"
#include "mail/authres.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/xalloc.h"

/* A copy without (comments), quotes and line breaks. */
static char *
uncomment(const char *v)
{
	char *out = sg_xmalloc(strlen(v) + 1), *o = out;
	int depth = 0;

	for (; *v; v++) {
		if (*v == '\\' && v[1] != '\0') {
			if (depth == 0)
				*o++ = v[1];
			v++;
		} else if (*v == '(') {
			depth++;
		} else if (*v == ')' && depth > 0) {
			depth--;
		} else if (depth == 0 && *v != '"') {
			*o++ = *v == '\r' || *v == '\n' || *v == '\t' ? ' ' : *v;
		}
	}
	*o = '\0';
	return out;
}

/* Does the resinfo (one "method=result prop=value ..." part) say pass for
 * domain by the rule of its method? */
static int
resinfo_pass(char *ri, const char *domain)
{
	char *save = NULL, *tok = strtok_r(ri, " ", &save);
	int dkim = 0, dmarc = 0, pass = 0, match = 0;

	for (int first = 1; tok != NULL; tok = strtok_r(NULL, " ", &save), first = 0) {
		char *eq = strchr(tok, '=');
		if (eq == NULL)
			continue;
		*eq = '\0';
		const char *k = tok, *v = eq + 1;
		if (first) {
			dkim = strcasecmp(k, "dkim") == 0;
			dmarc = strcasecmp(k, "dmarc") == 0;
			pass = strcasecmp(v, "pass") == 0;
		} else if ((dkim && strcasecmp(k, "header.d") == 0) || (dmarc && strcasecmp(k, "header.from") == 0)) {
			match |= strcasecmp(v, domain) == 0;
		}
	}
	return (dkim || dmarc) && pass && match;
}

int
sg_authres_pass(const char *value, const struct sg_strlist *trusted, const char *domain)
{
	if (value == NULL || domain == NULL || trusted == NULL || trusted->n == 0)
		return 0;
	char *v = uncomment(value), *save = NULL;
	char *part = strtok_r(v, ";", &save);
	int ok = 0;

	if (part != NULL) {
		part += strspn(part, " ");
		size_t idl = strcspn(part, " ");
		part[idl] = '\0';   /* the authserv-id; a version may follow */
		if (sg_strlist_has(trusted, part))
			for (char *ri = strtok_r(NULL, ";", &save); ri != NULL && !ok; ri = strtok_r(NULL, ";", &save))
				ok = resinfo_pass(ri, domain);
	}
	free(v);
	return ok;
}
