/*
 * due — see due.h.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "sched/due.h"

#include "lib/xalloc.h"

#include "lib/log.h"
#include "store/schema.h"
#include "store/store.h"

#define MOD "due"

/* Returned by the walk callback to end the scan normally. */
#define SCAN_END (-1)

int
sg_due_set(struct sg_store *st, struct sg_txn *txn, uint8_t kind, uint64_t id, int64_t old_due, int64_t new_due,
	   uint64_t aux)
{
	unsigned char k[SG_KEY_DUE_LEN], v[8];
	int rc;

	if (old_due != 0 && old_due != new_due) {
		rc = sg_due_del(st, txn, kind, id, old_due);
		if (rc != 0 && rc != SG_STORE_NOTFOUND)
			return rc;
	}
	sg_key_due(k, new_due, kind, id);
	sg_key_u64(v, aux);
	return sg_store_index_put(st, txn, SG_TB_DUE, k, sizeof(k), v, sizeof(v));
}

int
sg_due_del(struct sg_store *st, struct sg_txn *txn, uint8_t kind, uint64_t id, int64_t due)
{
	unsigned char k[SG_KEY_DUE_LEN];

	sg_key_due(k, due, kind, id);
	return sg_store_index_del(st, txn, SG_TB_DUE, k, sizeof(k));
}

struct scan {
	uint8_t kind;
	int64_t now;
	size_t max, seen;
	sg_due_cb *cb;
	void *arg;
	int ret;   /* cb's non-zero answer */
};

static int
scan_one(const unsigned char *key, size_t klen, const unsigned char *val, size_t vlen, void *arg)
{
	struct scan *s = arg;
	struct sg_due_entry e;

	if (s->seen >= s->max)
		return SCAN_END;
	if (klen != SG_KEY_DUE_LEN) {
		sg_error(MOD, "due index: key of %zu bytes skipped", klen);
		return 0;
	}
	sg_key_get_due(key, &e.due, &e.kind, &e.id);
	if (e.due > s->now)
		return SCAN_END;   /* every later key is later still */
	if (e.kind != s->kind)
		return 0;
	e.aux = vlen == 8 ? sg_key_get_u64(val) : 0;
	s->seen++;
	if ((s->ret = s->cb(&e, s->arg)) != 0)
		return SCAN_END;
	return 0;
}

int
sg_due_scan(struct sg_store *st, uint8_t kind, int64_t now, size_t max, sg_due_cb *cb, void *arg)
{
	struct scan s = { kind, now, max, 0, cb, arg, 0 };
	unsigned char from[SG_KEY_DUE_LEN];
	int rc;

	if (max == 0)
		return 0;
	sg_key_due(from, 0, 0, 0);
	rc = sg_store_index_walk(st, NULL, SG_TB_DUE, from, sizeof(from), scan_one, &s);
	if (rc == SCAN_END)
		rc = 0;
	return rc != 0 ? rc : s.ret;
}

static int
collect(const struct sg_due_entry *e, void *arg)
{
	struct sg_due_list *d = arg;

	d->v = sg_xreallocarray(d->v, d->n + 1, sizeof(*d->v));
	d->v[d->n++] = *e;
	return 0;
}

int
sg_due_collect(struct sg_store *st, uint8_t kind, int64_t now, size_t max, struct sg_due_list *out)
{
	memset(out, 0, sizeof(*out));
	return sg_due_scan(st, kind, now, max, collect, out);
}

void
sg_due_list_clear(struct sg_due_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

struct next {
	uint8_t lo, hi;
	size_t steps, max;
	int64_t at;
};

static int
next_one(const unsigned char *key, size_t klen, const unsigned char *val, size_t vlen, void *arg)
{
	struct next *n = arg;
	int64_t due;
	uint8_t kind;
	uint64_t id;

	(void)val;
	(void)vlen;
	if (klen != SG_KEY_DUE_LEN || n->steps++ >= n->max)
		return SCAN_END;
	sg_key_get_due(key, &due, &kind, &id);
	if (kind >= n->lo && kind <= n->hi) {
		n->at = due;
		return SCAN_END;
	}
	return 0;
}

int
sg_due_next(struct sg_store *st, uint8_t lo, uint8_t hi, int64_t after, size_t max, int64_t *at)
{
	struct next n = { lo, hi, 0, max, 0 };
	unsigned char from[SG_KEY_DUE_LEN];
	int rc;

	*at = 0;
	sg_key_due(from, after + 1, 0, 0);
	rc = sg_store_index_walk(st, NULL, SG_TB_DUE, from, sizeof(from), next_one, &n);
	if (rc == SCAN_END)
		rc = 0;
	*at = n.at;
	return rc;
}
