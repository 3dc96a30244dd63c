/*
 * xalloc — see xalloc.h. The one place where out-of-memory is handled.
 */
#include "config.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

static void sg_oom(size_t n) __attribute__((noreturn));

static void
sg_oom(size_t n)
{
	/* Logging may itself allocate; write directly. */
	fprintf(stderr, "supportgate: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
sg_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		sg_oom(n);
	return p;
}

void *
sg_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (p == NULL)
		sg_oom(nmemb * size);
	return p;
}

void *
sg_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (q == NULL)
		sg_oom(n);
	return q;
}

void *
sg_xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		sg_oom(SIZE_MAX);
	return sg_xrealloc(p, nmemb * size);
}

char *
sg_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = sg_xmalloc(n);
	memcpy(d, s, n);
	return d;
}

char *
sg_xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = sg_xmalloc(len + 1);
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *
sg_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		sg_oom(strlen(fmt));
	return s;
}
