/*
 * record — see record.h for the format.
 */
#include "config.h"
#include "store/record.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xalloc.h"

#define MOD "record"

/* The most a writer writes of each record (record.h, Limits): fixed
 * fields, strings and lists at their limits. */
#define STR_MAX_ENC (4 + (uint64_t)SG_REC_MAX_STR)
#define LIST_MAX_ENC (4 + (uint64_t)SG_REC_MAX_LIST_BYTES)
_Static_assert(1 + 8 + 2 + 8 * STR_MAX_ENC + 2 * LIST_MAX_ENC + 4 * 8 + 8 + 3 * 4 + 6 * 8 + 4 + 2 + 2 * STR_MAX_ENC <=
		       SG_REC_MAX_RECORD,
	       "a ticket at its limits fits a record");
_Static_assert(1 + 8 + 4 + 1 + 4 + 3 * STR_MAX_ENC + 3 * 8 <= SG_REC_MAX_RECORD, "a message summary fits");
_Static_assert(1 + 8 + 4 + 8 + 3 * STR_MAX_ENC <= SG_REC_MAX_RECORD, "an event fits");
_Static_assert(1 + 2 * 8 + 2 + 2 * 8 + 4 + 3 * STR_MAX_ENC + LIST_MAX_ENC + 4 + (uint64_t)SG_REC_MAX_PAYLOAD <=
		       SG_REC_MAX_RECORD, "a job at its limits fits a record");
_Static_assert(SG_REC_MAX_RECORD < UINT32_MAX, "lengths fit their u32 words");


static void
buf_need(struct sg_buf *b, size_t n)
{
	if (b->len + n <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + n)
		cap *= 2;
	b->data = sg_xrealloc(b->data, cap);
	b->cap = cap;
}

static void
buf_put(struct sg_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;   /* p may be NULL (a job without payload) */
	buf_need(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void
sg_buf_u8(struct sg_buf *b, uint8_t v)
{
	buf_put(b, &v, 1);
}

void
sg_buf_u32(struct sg_buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };
	buf_put(b, x, 4);
}

void
sg_buf_u64(struct sg_buf *b, uint64_t v)
{
	unsigned char x[8];
	sg_key_u64(x, v);
	buf_put(b, x, 8);
}

void
sg_buf_i64(struct sg_buf *b, int64_t v)
{
	sg_buf_u64(b, (uint64_t)v);
}

/* How much of s a str field keeps: at most SG_REC_MAX_STR bytes, not
 * ending inside a UTF-8 character (a cut one would read back invalid). */
static size_t
str_keep(const char *s)
{
	size_t n = strnlen(s, (size_t)SG_REC_MAX_STR + 1);

	if (n <= SG_REC_MAX_STR)
		return n;
	n = SG_REC_MAX_STR;
	/* s[n] is the first byte left out: back up while it continues a
	 * character (at most 3 bytes; plain bytes otherwise) */
	for (int i = 0; i < 3 && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80; i++)
		n--;
	return n;
}

static void
put_str(struct sg_buf *b, const char *s, size_t n)
{
	sg_buf_u32(b, (uint32_t)n);
	buf_put(b, s, n);
}

void
sg_buf_str(struct sg_buf *b, const char *s)
{
	if (s == NULL) {
		sg_buf_u32(b, UINT32_MAX);
		return;
	}
	put_str(b, s, str_keep(s));
}

/* The entries that fit both list limits are written; the rest is left
 * out (a list is a set of addresses or tags: the first ones matter). */
void
sg_buf_list(struct sg_buf *b, const struct sg_strlist *l)
{
	size_t n = 0, bytes = 0;

	while (n < l->n && n < SG_REC_MAX_LIST) {
		size_t e = 4 + str_keep(l->v[n] ? l->v[n] : "");
		if (bytes + e > SG_REC_MAX_LIST_BYTES)
			break;
		bytes += e;
		n++;
	}
	sg_buf_u32(b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		const char *s = l->v[i] ? l->v[i] : "";
		put_str(b, s, str_keep(s));
	}
}

static const unsigned char *
rd_take(struct sg_reader *r, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		return NULL;
	}
	const unsigned char *p = r->p + r->off;
	r->off += n;
	return p;
}

int
sg_rd_u8(struct sg_reader *r, uint8_t *v)
{
	const unsigned char *p = rd_take(r, 1);
	if (p == NULL)
		return -1;
	*v = p[0];
	return 0;
}

int
sg_rd_u32(struct sg_reader *r, uint32_t *v)
{
	const unsigned char *p = rd_take(r, 4);
	if (p == NULL)
		return -1;
	*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return 0;
}

int
sg_rd_u64(struct sg_reader *r, uint64_t *v)
{
	const unsigned char *p = rd_take(r, 8);
	if (p == NULL)
		return -1;
	*v = sg_key_get_u64(p);
	return 0;
}

int
sg_rd_i64(struct sg_reader *r, int64_t *v)
{
	uint64_t u;
	if (sg_rd_u64(r, &u) < 0)
		return -1;
	*v = (int64_t)u;
	return 0;
}

int
sg_rd_str(struct sg_reader *r, char **s)
{
	uint32_t n;
	const unsigned char *p;

	*s = NULL;
	if (sg_rd_u32(r, &n) < 0)
		return -1;
	if (n == UINT32_MAX)
		return 0;
	if (n > SG_REC_MAX_STR) {
		r->bad = 1;
		return -1;
	}
	if ((p = rd_take(r, n)) == NULL)
		return -1;
	*s = sg_xmalloc((size_t)n + 1);
	memcpy(*s, p, n);
	(*s)[n] = '\0';
	return 0;
}

int
sg_rd_list(struct sg_reader *r, struct sg_strlist *l)
{
	uint32_t n;
	size_t start;
	char *s;

	if (sg_rd_u32(r, &n) < 0)
		return -1;
	if (n > SG_REC_MAX_LIST) {
		r->bad = 1;
		return -1;
	}
	start = r->off;
	for (uint32_t i = 0; i < n; i++) {
		if (sg_rd_str(r, &s) < 0 || r->off - start > SG_REC_MAX_LIST_BYTES) {
			free(s);
			r->bad = 1;
			sg_strlist_clear(l);
			return -1;
		}
		sg_strlist_add(l, s ? s : "", 0);
		free(s);
	}
	return 0;
}

/* The version byte (1 up to max), and the total: no writer writes a
 * longer record. Returns the version, or -1. */
static int
rd_version_upto(struct sg_reader *r, uint8_t max)
{
	uint8_t v;
	if (r->len > SG_REC_MAX_RECORD || sg_rd_u8(r, &v) < 0 || v < 1 || v > max) {
		r->bad = 1;
		return -1;
	}
	return v;
}

static int
rd_version(struct sg_reader *r)
{
	return rd_version_upto(r, SG_REC_VERSION);
}

/* An enum value for a record: v when below count, else fallback (a bug
 * upstream, logged: the record stays readable). */
static uint8_t
enum_byte(unsigned v, unsigned count, uint8_t fallback, const char *what, uint64_t id)
{
	if (v < count)
		return (uint8_t)v;
	sg_log_ctx(SG_LOG_ERROR, MOD, NULL, id, "%s %u out of range: written as %u", what, v, fallback);
	return fallback;
}

void
sg_rec_ticket_encode(struct sg_buf *b, const struct sg_ticket *t)
{
	sg_buf_u8(b, SG_REC_TICKET_VERSION);
	sg_buf_u64(b, t->id);
	sg_buf_u8(b, enum_byte((unsigned)t->status, SG_ST_COUNT, SG_ST_OPEN, "ticket status", t->id));
	sg_buf_u8(b, enum_byte((unsigned)t->priority, SG_PRIO_COUNT, SG_PRIO_NORMAL, "ticket priority", t->id));
	sg_buf_str(b, t->subject);
	sg_buf_str(b, t->requestor);
	sg_buf_str(b, t->requestor_name);
	sg_buf_str(b, t->queue);
	sg_buf_str(b, t->assignee);
	sg_buf_str(b, t->sla_tier);
	sg_buf_str(b, t->segment);
	sg_buf_str(b, t->language);
	sg_buf_list(b, &t->participants);
	sg_buf_list(b, &t->tags);
	sg_buf_i64(b, t->created);
	sg_buf_i64(b, t->updated);
	sg_buf_i64(b, t->closed_at);
	sg_buf_i64(b, t->due);
	sg_buf_u64(b, t->linked);
	sg_buf_u32(b, t->nmessages);
	sg_buf_u32(b, t->nevents);
	sg_buf_u32(b, t->transfers);
	/* version 2 */
	sg_buf_i64(b, t->first_response_at);
	sg_buf_i64(b, t->first_response_due);
	sg_buf_i64(b, t->resolved_at);
	sg_buf_i64(b, t->paused_since);
	sg_buf_i64(b, t->paused_secs);
	sg_buf_i64(b, t->paused_bsecs);
	sg_buf_u32(b, t->reopens);
	sg_buf_u8(b, t->sla_fired);
	sg_buf_u8(b, enum_byte(t->rating, 6, 0, "ticket rating", t->id));
	sg_buf_str(b, t->reason);
	sg_buf_str(b, t->service);
}

int
sg_rec_ticket_decode(const void *p, size_t len, struct sg_ticket *t)
{
	struct sg_reader r = { p, len, 0, 0 };
	uint8_t st = 0, pr = 0;
	int ver;

	memset(t, 0, sizeof(*t));
	ver = rd_version_upto(&r, SG_REC_TICKET_VERSION);
	sg_rd_u64(&r, &t->id);
	sg_rd_u8(&r, &st);
	sg_rd_u8(&r, &pr);
	sg_rd_str(&r, &t->subject);
	sg_rd_str(&r, &t->requestor);
	sg_rd_str(&r, &t->requestor_name);
	sg_rd_str(&r, &t->queue);
	sg_rd_str(&r, &t->assignee);
	sg_rd_str(&r, &t->sla_tier);
	sg_rd_str(&r, &t->segment);
	sg_rd_str(&r, &t->language);
	sg_rd_list(&r, &t->participants);
	sg_rd_list(&r, &t->tags);
	sg_rd_i64(&r, &t->created);
	sg_rd_i64(&r, &t->updated);
	sg_rd_i64(&r, &t->closed_at);
	sg_rd_i64(&r, &t->due);
	sg_rd_u64(&r, &t->linked);
	sg_rd_u32(&r, &t->nmessages);
	sg_rd_u32(&r, &t->nevents);
	sg_rd_u32(&r, &t->transfers);
	if (ver >= 2) {   /* a version 1 record has none: they stay zero */
		sg_rd_i64(&r, &t->first_response_at);
		sg_rd_i64(&r, &t->first_response_due);
		sg_rd_i64(&r, &t->resolved_at);
		sg_rd_i64(&r, &t->paused_since);
		sg_rd_i64(&r, &t->paused_secs);
		sg_rd_i64(&r, &t->paused_bsecs);
		sg_rd_u32(&r, &t->reopens);
		sg_rd_u8(&r, &t->sla_fired);
		sg_rd_u8(&r, &t->rating);
		sg_rd_str(&r, &t->reason);
		sg_rd_str(&r, &t->service);
	}
	if (r.bad || st >= SG_ST_COUNT || pr >= SG_PRIO_COUNT || t->rating > 5) {
		sg_ticket_clear(t);
		return -1;
	}
	t->status = (enum sg_status)st;
	t->priority = (enum sg_priority)pr;
	return 0;
}

void
sg_rec_msg_encode(struct sg_buf *b, const struct sg_msgrec *m)
{
	sg_buf_u8(b, SG_REC_VERSION);
	sg_buf_u64(b, m->ticket);
	sg_buf_u32(b, m->seq);
	sg_buf_u8(b, enum_byte((unsigned)m->direction, SG_DIR_INTERNAL + 1, SG_DIR_INTERNAL, "message direction", m->ticket));
	sg_buf_u32(b, m->flags);
	sg_buf_str(b, m->from);
	sg_buf_str(b, m->message_id);
	sg_buf_str(b, m->subject);
	sg_buf_i64(b, m->date);
	sg_buf_i64(b, m->received);
	sg_buf_u64(b, m->size);
}

int
sg_rec_msg_decode(const void *p, size_t len, struct sg_msgrec *m)
{
	struct sg_reader r = { p, len, 0, 0 };
	uint8_t dir = 0;

	memset(m, 0, sizeof(*m));
	rd_version(&r);
	sg_rd_u64(&r, &m->ticket);
	sg_rd_u32(&r, &m->seq);
	sg_rd_u8(&r, &dir);
	sg_rd_u32(&r, &m->flags);
	sg_rd_str(&r, &m->from);
	sg_rd_str(&r, &m->message_id);
	sg_rd_str(&r, &m->subject);
	sg_rd_i64(&r, &m->date);
	sg_rd_i64(&r, &m->received);
	sg_rd_u64(&r, &m->size);
	if (r.bad || dir > SG_DIR_INTERNAL) {
		sg_msgrec_clear(m);
		return -1;
	}
	m->direction = (enum sg_direction)dir;
	return 0;
}

void
sg_msgrec_clear(struct sg_msgrec *m)
{
	free(m->from);
	free(m->message_id);
	free(m->subject);
	memset(m, 0, sizeof(*m));
}

void
sg_rec_event_encode(struct sg_buf *b, const struct sg_event *e)
{
	sg_buf_u8(b, SG_REC_VERSION);
	sg_buf_u64(b, e->ticket);
	sg_buf_u32(b, e->seq);
	sg_buf_i64(b, e->time);
	sg_buf_str(b, e->type);
	sg_buf_str(b, e->actor);
	sg_buf_str(b, e->detail);
}

int
sg_rec_event_decode(const void *p, size_t len, struct sg_event *e)
{
	struct sg_reader r = { p, len, 0, 0 };

	memset(e, 0, sizeof(*e));
	rd_version(&r);
	sg_rd_u64(&r, &e->ticket);
	sg_rd_u32(&r, &e->seq);
	sg_rd_i64(&r, &e->time);
	sg_rd_str(&r, &e->type);
	sg_rd_str(&r, &e->actor);
	sg_rd_str(&r, &e->detail);
	if (r.bad) {
		sg_event_clear(e);
		return -1;
	}
	return 0;
}

void
sg_rec_job_encode(struct sg_buf *b, const struct sg_job *j)
{
	size_t plen = j->payload_len;
	uint8_t state = enum_byte(j->state, SG_JOB_STATE_COUNT, SG_JOB_DEAD, "job state", j->ticket);

	if (j->kind >= SG_JOB_KIND_COUNT)
		state = SG_JOB_DEAD;   /* nobody knows how to run it */
	if (plen > SG_REC_MAX_PAYLOAD) {
		sg_log_ctx(SG_LOG_ERROR, MOD, NULL, j->ticket, "job %llu: payload of %zu bytes cut to %u",
			   (unsigned long long)j->id, plen, SG_REC_MAX_PAYLOAD);
		plen = SG_REC_MAX_PAYLOAD;
	}
	sg_buf_u8(b, SG_REC_VERSION);
	sg_buf_u64(b, j->id);
	sg_buf_u64(b, j->ticket);
	sg_buf_u8(b, enum_byte(j->kind, SG_JOB_KIND_COUNT, SG_JOB_SMTP, "job kind", j->ticket));
	sg_buf_u8(b, state);
	sg_buf_i64(b, j->created);
	sg_buf_i64(b, j->due);
	sg_buf_u32(b, j->attempts);
	sg_buf_str(b, j->last_error);
	sg_buf_str(b, j->what);
	sg_buf_str(b, j->mail_from);
	sg_buf_list(b, &j->rcpts);
	sg_buf_u32(b, (uint32_t)plen);
	buf_put(b, j->payload, plen);
}

int
sg_rec_job_decode(const void *p, size_t len, struct sg_job *j)
{
	struct sg_reader r = { p, len, 0, 0 };
	uint32_t plen = 0;
	const unsigned char *pp;

	memset(j, 0, sizeof(*j));
	rd_version(&r);
	sg_rd_u64(&r, &j->id);
	sg_rd_u64(&r, &j->ticket);
	sg_rd_u8(&r, &j->kind);
	sg_rd_u8(&r, &j->state);
	sg_rd_i64(&r, &j->created);
	sg_rd_i64(&r, &j->due);
	sg_rd_u32(&r, &j->attempts);
	sg_rd_str(&r, &j->last_error);
	sg_rd_str(&r, &j->what);
	sg_rd_str(&r, &j->mail_from);
	sg_rd_list(&r, &j->rcpts);
	sg_rd_u32(&r, &plen);
	pp = plen <= SG_REC_MAX_PAYLOAD ? rd_take(&r, plen) : NULL;
	if (r.bad || pp == NULL || j->kind >= SG_JOB_KIND_COUNT || j->state >= SG_JOB_STATE_COUNT) {
		sg_job_clear(j);
		return -1;
	}
	j->payload = sg_xmalloc((size_t)plen + 1);
	memcpy(j->payload, pp, plen);
	j->payload[plen] = '\0';
	j->payload_len = plen;
	return 0;
}

void
sg_job_clear(struct sg_job *j)
{
	free(j->last_error);
	free(j->what);
	free(j->mail_from);
	sg_strlist_clear(&j->rcpts);
	free(j->payload);
	memset(j, 0, sizeof(*j));
}
