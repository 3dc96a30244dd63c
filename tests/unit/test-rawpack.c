/*
 * test-rawpack — raw.db's packed values (daemon/store/rawpack.h): text
 * mail is compressed and comes back byte for byte; what does not shrink
 * (random bytes, a few bytes) is stored as it is; every damaged value —
 * empty, an unknown method, a cut frame, a flipped byte (the frame's
 * checksum), a frame with no length or a length over SG_RAW_MAX — is
 * refused without reading past it. Many values in turn and from threads
 * (the contexts are pooled, not per thread).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/rawpack.h"
#include "tap.h"

/* len bytes of mail-like text (seeded). */
static char *
mail_text(size_t len, unsigned seed)
{
	static const char *const w[] = { "printer", "invoice", "the", "blank", "pages", "please", "refund", "login",
		"error", "again", "thanks", "order", "\r\n", "Subject: ", "From: ", "regards" };
	char *s = sg_xmalloc(len + 1);
	size_t n = 0;

	while (n < len) {
		const char *x = w[rand_r(&seed) % 16];
		for (size_t i = 0; x[i] && n < len; i++)
			s[n++] = x[i];
		if (n < len)
			s[n++] = ' ';
	}
	s[len] = '\0';
	return s;
}

static int
roundtrip(const char *raw, size_t len, int want_method, size_t *packed_len)
{
	struct sg_buf b;
	char *back = NULL;
	size_t n = 0;
	int ok = 0;

	if (sg_raw_pack(raw, len, &b) != 0)
		return 0;
	*packed_len = b.len;
	ok = b.len >= 1 && b.data[0] == want_method && sg_raw_packed_len(b.data, b.len) == (long long)len &&
	     sg_raw_unpack(b.data, b.len, 7, &back, &n) == 0 && n == len && memcmp(back, raw, len) == 0 &&
	     back[len] == '\0';
	free(back);
	free(b.data);
	return ok;
}

static void
test_text(void)
{
	size_t sizes[] = { 300, 1000, 4096, 65536, 1 << 20 };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char *t = mail_text(sizes[i], (unsigned)i + 1);
		size_t pl = 0;
		ok(roundtrip(t, sizes[i], SG_RAW_ZSTD, &pl), "text of %zu bytes: compressed, read back the same",
		   sizes[i]);
		ok(pl < sizes[i] * 6 / 10, "text of %zu bytes: %zu bytes packed (under 60%%)", sizes[i], pl);
		free(t);
	}
}

static void
test_stored(void)
{
	size_t pl = 0;
	unsigned seed = 42;
	char *rnd = sg_xmalloc(65536);

	for (size_t i = 0; i < 65536; i++)
		rnd[i] = (char)(rand_r(&seed) & 0xff);
	ok(roundtrip(rnd, 65536, SG_RAW_STORED, &pl) && pl == 65537, "random bytes: stored as they are (one byte more)");
	ok(roundtrip("Subject: hi\r\n\r\nok\r\n", 19, SG_RAW_STORED, &pl) && pl == 20, "a short mail: stored");
	ok(roundtrip("", 0, SG_RAW_STORED, &pl) && pl == 1, "an empty mail: the method byte alone");
	char nul[200] = { 0 };
	ok(roundtrip(nul, sizeof(nul), SG_RAW_ZSTD, &pl), "NUL bytes inside a mail survive");
	free(rnd);
}

/* sg_raw_unpack refuses v; *raw stays NULL. */
static int
refused(const void *v, size_t vl)
{
	char *raw = (char *)1;
	size_t n = 1;
	int rc = sg_raw_unpack(v, vl, 9, &raw, &n);

	if (rc == 0) {
		free(raw);
		return 0;
	}
	return rc == -1 && raw == NULL && n == 0;
}

static void
test_damaged(void)
{
	char *t = mail_text(8192, 5);
	struct sg_buf b;
	unsigned char *v;

	sg_log_set_level(SG_LOG_FATAL);   /* the refusals log errors: expected */
	ok(sg_raw_pack(t, 8192, &b) == 0 && b.data[0] == SG_RAW_ZSTD, "a frame to damage");
	ok(refused("", 0), "empty value refused");
	ok(refused("\x07hello", 6), "unknown method refused");
	ok(sg_raw_packed_len("\x07hello", 6) == -1 && sg_raw_packed_len("", 0) == -1, "... and has no length");
	/* cut: each shorter prefix (a fresh copy, so a read past it is seen
	 * by the sanitizers) */
	int cut_ok = 1;
	for (size_t n = 1; n < b.len; n += (n < 64 ? 1 : 97)) {
		v = sg_xmalloc(n);
		memcpy(v, b.data, n);
		cut_ok &= refused(v, n);
		free(v);
	}
	ok(cut_ok, "every cut frame refused");
	/* one flipped byte in the payload: the checksum (or the decoder) */
	int flip_ok = 1;
	for (size_t i = 20; i < b.len; i += 53) {
		v = sg_xmalloc(b.len);
		memcpy(v, b.data, b.len);
		v[i] ^= 0x10;
		char *raw = NULL;
		size_t n = 0;
		int rc = sg_raw_unpack(v, b.len, 9, &raw, &n);
		flip_ok &= rc == -1 || (n == 8192 && memcmp(raw, t, n) == 0);   /* never other bytes */
		free(raw);
		free(v);
	}
	ok(flip_ok, "a flipped byte is refused, never other bytes");
	/* the checksum's own last byte */
	v = sg_xmalloc(b.len);
	memcpy(v, b.data, b.len);
	v[b.len - 1] ^= 0xff;
	ok(refused(v, b.len), "a damaged checksum refused");
	free(v);
	free(b.data);

	/* a frame that does not say its length: streamed without one */
	ZSTD_CCtx *c = ZSTD_createCCtx();
	unsigned char out[20000];
	out[0] = SG_RAW_ZSTD;
	ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
	ZSTD_outBuffer o = { out + 1, sizeof(out) - 1, 0 };
	ZSTD_inBuffer in = { t, 8192, 0 };
	size_t r = ZSTD_compressStream2(c, &o, &in, ZSTD_e_end);
	ok(r == 0 && ZSTD_getFrameContentSize(out + 1, o.pos) == ZSTD_CONTENTSIZE_UNKNOWN, "a frame without its length");
	ok(refused(out, o.pos + 1), "... refused");
	/* a frame that says more than SG_RAW_MAX (its header alone) */
	ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
	ZSTD_CCtx_setPledgedSrcSize(c, SG_RAW_MAX + 1);
	o = (ZSTD_outBuffer){ out + 1, sizeof(out) - 1, 0 };
	in = (ZSTD_inBuffer){ t, 8192, 0 };
	r = ZSTD_compressStream2(c, &o, &in, ZSTD_e_flush);
	ok(!ZSTD_isError(r) && ZSTD_getFrameContentSize(out + 1, o.pos) == SG_RAW_MAX + 1, "a frame saying 1 GiB + 64 KB + 1");
	ok(refused(out, o.pos + 1) && sg_raw_packed_len(out, o.pos + 1) == -1, "... refused before any allocation");
	/* a frame that says fewer bytes than it holds */
	ZSTD_CCtx_reset(c, ZSTD_reset_session_and_parameters);
	size_t z = ZSTD_compress2(c, out + 1, sizeof(out) - 1, t, 8192);
	ok(!ZSTD_isError(z), "a whole frame");
	ok(!refused(out, z + 1), "... reads");
	ok(refused(out, z), "... one byte short: refused");
	ZSTD_freeCCtx(c);
	sg_log_set_level(SG_LOG_INFO);
	free(t);
}

static void *
packer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	int good = 1;

	for (int i = 0; i < 200; i++) {
		char *t = mail_text(1000 + (size_t)((i * 37 + id * 11) % 20000), id * 1000 + (unsigned)i);
		size_t len = strlen(t), pl;
		good &= roundtrip(t, len, SG_RAW_ZSTD, &pl);
		free(t);
	}
	return (void *)(uintptr_t)good;
}

static void
test_threads(void)
{
	pthread_t th[6];
	void *r;
	int good = 1;

	/* more threads than the pool keeps: contexts are made and freed */
	for (unsigned i = 0; i < 6; i++)
		pthread_create(&th[i], NULL, packer, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], &r);
		good &= (int)(uintptr_t)r;
	}
	ok(good, "6 threads, 200 messages each: every one read back the same");
}

static const struct sg_test tests[] = {
	{ "text", test_text },
	{ "stored", test_stored },
	{ "damaged", test_damaged },
	{ "threads", test_threads },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
