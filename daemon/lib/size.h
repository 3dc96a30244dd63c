/*
 * size — "25M"-style sizes, shared by the config and the rules language.
 *
 * sg_size_parse(): decimal digits with an optional K, M or G suffix
 *   (powers of 1024) and an optional trailing B; leading blanks allowed.
 *   Returns 0 and sets *out, or -1 on a malformed value or when the value
 *   does not fit in 64 bits (checked before multiplying).
 */
#ifndef SG_SIZE_H
#define SG_SIZE_H

#include <stdint.h>

int sg_size_parse(const char *s, uint64_t *out);

#endif
