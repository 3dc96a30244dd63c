/*
 * headers — operations on a raw message's header block that must not go
 * through a parser (the bytes are forwarded as they came).
 *
 * sg_headers_strip_prefix(): a copy of raw (len bytes) without the header
 *   fields whose name starts with prefix (case-insensitive), folded
 *   continuation lines included; the body and every other byte are kept.
 *   The header block ends at the first empty line (LF or CRLF). Returns a
 *   new NUL-terminated buffer (caller frees) and its length in *outlen;
 *   *removed (may be NULL) counts the fields dropped. Never fails.
 */
#ifndef SG_HEADERS_H
#define SG_HEADERS_H

#include <stddef.h>

char *sg_headers_strip_prefix(const char *raw, size_t len, const char *prefix, size_t *outlen, size_t *removed);

#endif
