/*
 * rawpack — how raw.db holds a message's bytes: compressed with
 * Zstandard when that saves space, as they are otherwise.
 *
 * A packed value is one method byte and its payload:
 *   SG_RAW_STORED (0)  the message's bytes as they are
 *   SG_RAW_ZSTD   (1)  one Zstandard frame holding the bytes, with their
 *                      length and a checksum of them (so a damaged value
 *                      is an error, never other bytes)
 * Stores made before packing hold the bytes with no method byte; the
 * store knows which kind it has (schema.h, SG_META_RAWFMT) and calls
 * these only for packed stores.
 *
 * sg_raw_pack(): the packed value of raw[0..len) into *out (sg_buf,
 *   malloc'd; the caller frees out->data). Zstandard at level 1 (fast;
 *   support mail shrinks to about half, text to a third); the bytes
 *   are stored as they are when the frame would not save at least 1/16
 *   (attachments already compressed, base64 of them saves a quarter and
 *   is kept compressed). Returns 0, or -1 on a compressor error (logged;
 *   nothing is written).
 * sg_raw_unpack(): the message's bytes of a packed value into a new
 *   NUL-terminated malloc'd buffer (*raw, *rawlen without the NUL).
 *   Refuses (-1, logged with ticket) an empty value, an unknown method,
 *   a frame that does not say its length or says more than SG_RAW_MAX,
 *   a damaged frame (checksum) and one whose length differs from what it
 *   said. Never reads past v[0..vlen).
 * sg_raw_packed_len(): the message's length a packed value holds (from
 *   the frame's header, not decompressing), or -1 as sg_raw_unpack
 *   would refuse its header.
 */
#ifndef SG_RAWPACK_H
#define SG_RAWPACK_H

#include <stddef.h>
#include <stdint.h>

#include "store/record.h"

#define SG_RAW_STORED 0
#define SG_RAW_ZSTD   1
/* max_message_size is at most 1 GiB; the bytes stored are cut there. */
#define SG_RAW_MAX (1024ull * 1024 * 1024 + 65536)

int sg_raw_pack(const char *raw, size_t len, struct sg_buf *out);
int sg_raw_unpack(const void *v, size_t vlen, uint64_t ticket, char **raw, size_t *rawlen);
long long sg_raw_packed_len(const void *v, size_t vlen);

#endif
