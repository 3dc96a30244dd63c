/*
 * checkpoint — the IMAP door's UID checkpoint record (see imap.h): the
 * format, and its place in the store (kv imap:NAME, store/schema.h).
 * Numbers are big-endian, like every number the store keeps.
 */
#include "config.h"
#include "imap/imap.h"

#include <stdlib.h>
#include <string.h>

#include "lib/xalloc.h"
#include "store/store.h"

#define CKPT_FIXED 17   /* version, uidvalidity, last uid, ingested */

static void
put_be(unsigned char *p, uint64_t v, int bytes)
{
	for (int i = bytes - 1; i >= 0; i--) {
		p[i] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t
get_be(const unsigned char *p, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes; i++)
		v = v << 8 | p[i];
	return v;
}

char *
sg_imap_ckpt_encode(const struct sg_imap_ckpt *ck, size_t *len)
{
	size_t il = ck->ident ? strlen(ck->ident) : 0;
	unsigned char *b = sg_xmalloc(CKPT_FIXED + il + 1);

	b[0] = SG_IMAP_CKPT_VERSION;
	put_be(b + 1, ck->uidvalidity, 4);
	put_be(b + 5, ck->last_uid, 4);
	put_be(b + 9, ck->ingested, 8);
	if (il > 0)
		memcpy(b + CKPT_FIXED, ck->ident, il);
	b[CKPT_FIXED + il] = '\0';
	*len = CKPT_FIXED + il;
	return (char *)b;
}

int
sg_imap_ckpt_decode(const void *buf, size_t len, struct sg_imap_ckpt *ck)
{
	const unsigned char *b = buf;

	memset(ck, 0, sizeof(*ck));
	if (len < CKPT_FIXED || b[0] != SG_IMAP_CKPT_VERSION || memchr(b + CKPT_FIXED, '\0', len - CKPT_FIXED) != NULL)
		return -1;
	ck->uidvalidity = (uint32_t)get_be(b + 1, 4);
	ck->last_uid = (uint32_t)get_be(b + 5, 4);
	ck->ingested = get_be(b + 9, 8);
	ck->ident = sg_xstrndup((const char *)b + CKPT_FIXED, len - CKPT_FIXED);
	return 0;
}

void
sg_imap_ckpt_clear(struct sg_imap_ckpt *ck)
{
	free(ck->ident);
	memset(ck, 0, sizeof(*ck));
}

char *
sg_imap_ckpt_name(const char *mailbox)
{
	return sg_xasprintf(SG_KV_IMAP, mailbox);
}

int
sg_imap_ckpt_get(struct sg_store *st, struct sg_txn *txn, const char *mailbox, struct sg_imap_ckpt *ck)
{
	char *name = sg_imap_ckpt_name(mailbox), *v = NULL;
	size_t len = 0;
	int rc = sg_store_kv_get(st, txn, name, &v, &len);

	free(name);
	memset(ck, 0, sizeof(*ck));
	if (rc != 0)
		return rc;
	/* A record this release cannot read is treated as none: the folder
	 * is rescanned and the Message-ID index keeps that harmless. */
	if (sg_imap_ckpt_decode(v, len, ck) != 0)
		rc = SG_STORE_NOTFOUND;
	free(v);
	return rc;
}

int
sg_imap_ckpt_put(struct sg_store *st, struct sg_txn *txn, const char *mailbox, const struct sg_imap_ckpt *ck)
{
	char *name = sg_imap_ckpt_name(mailbox);
	size_t len;
	char *v = sg_imap_ckpt_encode(ck, &len);
	int rc = sg_store_kv_put(st, txn, name, v, len);

	free(v);
	free(name);
	return rc;
}
