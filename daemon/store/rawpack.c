/*
 * rawpack — raw.db's values: Zstandard frames or the bytes as they are.
 * Contract in rawpack.h.
 */
#include "config.h"

#include "store/rawpack.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "lib/log.h"
#include "lib/xalloc.h"

#define MOD "store"
#define LEVEL 1

/* Contexts are kept for the next message (making one sets up about 1 MB
 * of tables at level 1), a few of each kind, under a lock: the milter's
 * threads come and go with SMTP sessions, so per-thread contexts would
 * leak. */
#define POOL 4
struct pool {
	void *v[POOL];
	int n;
};
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pool cpool, dpool;

/* A kept context, or NULL (make one). */
static void *
pool_pop(struct pool *p)
{
	void *x = NULL;

	pthread_mutex_lock(&pool_lock);
	if (p->n > 0)
		x = p->v[--p->n];
	pthread_mutex_unlock(&pool_lock);
	return x;
}

/* Keep x for the next message; 0 when the pool is full (free it). */
static int
pool_push(struct pool *p, void *x)
{
	int kept = 0;

	pthread_mutex_lock(&pool_lock);
	if (p->n < POOL) {
		p->v[p->n++] = x;
		kept = 1;
	}
	pthread_mutex_unlock(&pool_lock);
	return kept;
}

static ZSTD_CCtx *
cctx_get(void)
{
	ZSTD_CCtx *c = pool_pop(&cpool);

	if (c != NULL)
		return c;
	if ((c = ZSTD_createCCtx()) == NULL)
		return NULL;
	if (ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, LEVEL)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)) ||
	    ZSTD_isError(ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 1))) {
		ZSTD_freeCCtx(c);
		return NULL;
	}
	return c;
}

static void
stored(const char *raw, size_t len, struct sg_buf *out)
{
	out->data = sg_xmalloc(len + 1);
	out->data[0] = SG_RAW_STORED;
	if (len > 0)
		memcpy(out->data + 1, raw, len);
	out->len = out->cap = len + 1;
}

int
sg_raw_pack(const char *raw, size_t len, struct sg_buf *out)
{
	ZSTD_CCtx *c;
	size_t cap, z;

	memset(out, 0, sizeof(*out));
	if (len < 64) {            /* a frame's header and checksum eat the gain */
		stored(raw, len, out);
		return 0;
	}
	if ((c = cctx_get()) == NULL) {
		sg_log(SG_LOG_ERROR, MOD, "raw pack: no Zstandard context (memory)");
		return -1;
	}
	cap = ZSTD_compressBound(len) + 1;
	out->data = sg_xmalloc(cap);
	z = ZSTD_compress2(c, out->data + 1, cap - 1, raw, len);
	if (!pool_push(&cpool, c))
		ZSTD_freeCCtx(c);
	if (ZSTD_isError(z)) {
		sg_log(SG_LOG_ERROR, MOD, "raw pack: %s", ZSTD_getErrorName(z));
		free(out->data);
		memset(out, 0, sizeof(*out));
		return -1;
	}
	if (z > len - len / 16) {  /* saves too little to be worth a decompression */
		free(out->data);
		stored(raw, len, out);
		return 0;
	}
	out->data[0] = SG_RAW_ZSTD;
	out->len = z + 1;
	out->cap = cap;
	return 0;
}

long long
sg_raw_packed_len(const void *v, size_t vlen)
{
	const unsigned char *p = v;
	unsigned long long n;

	if (vlen < 1)
		return -1;
	if (p[0] == SG_RAW_STORED)
		return (long long)(vlen - 1);
	if (p[0] != SG_RAW_ZSTD)
		return -1;
	n = ZSTD_getFrameContentSize(p + 1, vlen - 1);
	if (n == ZSTD_CONTENTSIZE_UNKNOWN || n == ZSTD_CONTENTSIZE_ERROR || n > SG_RAW_MAX)
		return -1;
	return (long long)n;
}

int
sg_raw_unpack(const void *v, size_t vlen, uint64_t ticket, char **raw, size_t *rawlen)
{
	const unsigned char *p = v;
	long long n = sg_raw_packed_len(v, vlen);
	size_t got;
	char *b;

	*raw = NULL;
	*rawlen = 0;
	if (n < 0) {
		sg_log_ctx(SG_LOG_ERROR, MOD, NULL, ticket, "raw message unreadable: %s",
			   vlen < 1 ? "empty value" : p[0] > SG_RAW_ZSTD ? "unknown method" : "frame without a valid length");
		return -1;
	}
	b = sg_xmalloc((size_t)n + 1);
	if (p[0] == SG_RAW_STORED) {
		if (n > 0)
			memcpy(b, p + 1, (size_t)n);
		got = (size_t)n;
	} else {
		ZSTD_DCtx *d = pool_pop(&dpool);

		if (d == NULL)
			d = ZSTD_createDCtx();
		if (d == NULL) {
			sg_log_ctx(SG_LOG_ERROR, MOD, NULL, ticket, "raw unpack: no Zstandard context (memory)");
			free(b);
			return -1;
		}
		got = ZSTD_decompressDCtx(d, b, (size_t)n, p + 1, vlen - 1);
		if (!pool_push(&dpool, d))
			ZSTD_freeDCtx(d);
		if (ZSTD_isError(got) || got != (size_t)n) {
			sg_log_ctx(SG_LOG_ERROR, MOD, NULL, ticket, "raw message unreadable: %s",
				   ZSTD_isError(got) ? ZSTD_getErrorName(got) : "length differs from its frame's");
			free(b);
			return -1;
		}
	}
	b[got] = '\0';
	*raw = b;
	*rawlen = got;
	return 0;
}
