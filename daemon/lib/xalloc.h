/*
 * xalloc — allocation that never returns NULL.
 *
 * Every allocator here aborts the process (after logging) when memory is
 * exhausted, so callers never check for NULL (STYLE.md rule 7). Sizes are
 * checked for overflow. Returned memory is owned by the caller and freed
 * with free(); sg_xfree() frees and clears the pointer.
 */
#ifndef SG_XALLOC_H
#define SG_XALLOC_H

#include <stddef.h>

void *sg_xmalloc(size_t n);
void *sg_xcalloc(size_t nmemb, size_t size);
void *sg_xrealloc(void *p, size_t n);
/* Grow an array of nmemb elements of size to at least need elements. */
void *sg_xreallocarray(void *p, size_t nmemb, size_t size);
char *sg_xstrdup(const char *s);
char *sg_xstrndup(const char *s, size_t n);
/* printf into a new string. */
char *sg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Free *pp and set it to NULL; safe on NULL and on an already-cleared pointer. */
#define sg_xfree(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

#endif
