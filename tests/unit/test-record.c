/*
 * test-record — the on-disk format: round trips, the version byte, and
 * refusal of truncated or corrupt input (every prefix of a record); the
 * limits: what a writer is given over them is cut so that it reads back,
 * and a reader refuses each of them (and every enum out of range).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "lib/log.h"
#include "store/record.h"
#include "lib/xalloc.h"
#include "tap.h"

static void
test_ticket(void)
{
	struct sg_ticket t = { 0 }, u = { 0 };
	struct sg_buf b = { 0 };
	int bad = 0;

	t.id = 987654321012ULL;
	t.status = SG_ST_PENDING;
	t.priority = SG_PRIO_URGENT;
	t.subject = sg_xstrdup("Не работает оплата");
	t.requestor = sg_xstrdup("ivan@klient.example");
	t.queue = sg_xstrdup("billing");
	sg_strlist_add(&t.participants, "ivan@klient.example", 1);
	sg_strlist_add(&t.participants, "boss@klient.example", 1);
	sg_strlist_add(&t.tags, "vip", 1);
	t.created = 1700000000;
	t.updated = -5;
	t.linked = 7;
	t.nmessages = 3;
	t.transfers = 2;
	sg_rec_ticket_encode(&b, &t);
	is_int(b.data[0], SG_REC_TICKET_VERSION, "first byte is the ticket version");
	ok(sg_rec_ticket_decode(b.data, b.len, &u) == 0, "ticket decodes");
	is_int((long long)u.id, (long long)t.id, "id");
	is_int(u.status, SG_ST_PENDING, "status");
	is_int(u.priority, SG_PRIO_URGENT, "priority");
	is_str(u.subject, t.subject, "UTF-8 subject");
	ok(u.requestor_name == NULL, "NULL string stays NULL");
	is_str(u.queue, "billing", "queue");
	is_int((long long)u.participants.n, 2, "participants");
	is_str(u.tags.v[0], "vip", "tags");
	is_int(u.updated, -5, "negative i64");
	is_int((long long)u.linked, 7, "linked");
	is_int(u.transfers, 2, "transfers");
	sg_ticket_clear(&u);

	for (size_t n = 0; n < b.len; n++)
		if (sg_rec_ticket_decode(b.data, n, &u) == 0)
			bad++;
	is_int(bad, 0, "every truncated prefix is refused");
	b.data[0] = 99;
	ok(sg_rec_ticket_decode(b.data, b.len, &u) != 0, "unknown version refused");
	b.data[0] = SG_REC_TICKET_VERSION;
	b.data[9] = 42;   /* status byte */
	ok(sg_rec_ticket_decode(b.data, b.len, &u) != 0, "out-of-range status refused");
	free(b.data);
	sg_ticket_clear(&t);
}

/* Version 2: the SLA fields round-trip; a version 1 record (without
 * them) still reads, with them zero. */
static void
test_ticket_v2(void)
{
	struct sg_ticket t = { 0 }, u = { 0 };
	struct sg_buf b = { 0 };
	int bad = 0;

	t.id = 42;
	t.status = SG_ST_RESOLVED;
	t.subject = sg_xstrdup("x");
	t.due = 1700090000;
	t.transfers = 1;
	t.first_response_at = 1700001000;
	t.first_response_due = 1700003600;
	t.resolved_at = 1700050000;
	t.paused_since = 0;
	t.paused_secs = 7200;
	t.paused_bsecs = -3;   /* signed, whatever the value */
	t.reopens = 4;
	t.sla_fired = SG_SLA_FR_WARN | SG_SLA_RES_BREACH;
	t.rating = 5;
	t.reason = sg_xstrdup("ждём поставщика");
	t.service = NULL;
	sg_rec_ticket_encode(&b, &t);
	ok(sg_rec_ticket_decode(b.data, b.len, &u) == 0, "version 2 ticket decodes");
	is_int(u.first_response_at, 1700001000, "first_response_at");
	is_int(u.first_response_due, 1700003600, "first_response_due");
	is_int(u.resolved_at, 1700050000, "resolved_at");
	is_int(u.paused_since, 0, "paused_since");
	is_int(u.paused_secs, 7200, "paused_secs");
	is_int(u.paused_bsecs, -3, "paused_bsecs");
	is_int(u.reopens, 4, "reopens");
	is_int(u.sla_fired, SG_SLA_FR_WARN | SG_SLA_RES_BREACH, "sla_fired bits");
	is_int(u.rating, 5, "rating");
	is_str(u.reason, "ждём поставщика", "reason");
	ok(u.service == NULL, "NULL service stays NULL");
	is_int(u.due, 1700090000, "due still there");
	sg_ticket_clear(&u);
	for (size_t n = 0; n < b.len; n++)
		if (sg_rec_ticket_decode(b.data, n, &u) == 0)
			bad++;
	is_int(bad, 0, "every truncated prefix of a version 2 ticket is refused");
	free(b.data);
	memset(&b, 0, sizeof(b));

	/* the same ticket as a version 1 record: the fields up to transfers */
	sg_xfree(&t.reason);
	t.service = sg_xstrdup("password-reset");
	sg_rec_ticket_encode(&b, &t);
	size_t v2tail = 6 * 8 + 4 + 1 + 1 + 4 + (4 + strlen("password-reset"));
	b.data[0] = 1;
	b.len -= v2tail;
	ok(sg_rec_ticket_decode(b.data, b.len, &u) == 0, "version 1 ticket still decodes");
	is_int((long long)u.id, 42, "v1: id");
	is_int(u.transfers, 1, "v1: last v1 field");
	is_int(u.due, 1700090000, "v1: due");
	ok(u.first_response_at == 0 && u.first_response_due == 0 && u.resolved_at == 0 && u.paused_secs == 0 &&
		   u.paused_bsecs == 0 && u.reopens == 0 && u.sla_fired == 0 && u.rating == 0 && u.reason == NULL &&
		   u.service == NULL,
	   "v1: the new fields are zero");
	sg_ticket_clear(&u);
	b.data[0] = SG_REC_TICKET_VERSION + 1;
	ok(sg_rec_ticket_decode(b.data, b.len, &u) != 0, "a later ticket version is refused");
	b.data[0] = 0;
	ok(sg_rec_ticket_decode(b.data, b.len, &u) != 0, "version 0 is refused");
	b.len = 0;

	/* a rating out of range: written as none, refused when read */
	t.rating = 9;
	sg_rec_ticket_encode(&b, &t);
	ok(sg_rec_ticket_decode(b.data, b.len, &u) == 0 && u.rating == 0, "rating 9 written as none");
	sg_ticket_clear(&u);
	b.data[b.len - (4 + strlen("password-reset")) - 4 - 1] = 6;
	ok(sg_rec_ticket_decode(b.data, b.len, &u) != 0, "rating 6 refused");
	free(b.data);
	sg_ticket_clear(&t);
}

/* a corrupt list count must not allocate wildly */
static void
test_list_count(void)
{
	struct sg_buf b = { 0 };

	sg_buf_u32(&b, 0xfffffff0u);
	struct sg_reader r = { b.data, b.len, 0, 0 };
	struct sg_strlist l = { 0 };
	ok(sg_rd_list(&r, &l) != 0 && l.n == 0, "huge list count refused");
	free(b.data);
}

static void
test_message(void)
{
	struct sg_buf b = { 0 };
	struct sg_msgrec m = { .ticket = 5, .seq = 2, .direction = SG_DIR_OUT, .flags = SG_MSG_TRUNCATED,
			       .from = "a@b", .message_id = "x@y", .subject = "s", .date = 1, .received = 2,
			       .size = 99999999999ULL }, m2;
	sg_rec_msg_encode(&b, &m);
	ok(sg_rec_msg_decode(b.data, b.len, &m2) == 0, "message summary decodes");
	ok(m2.ticket == 5 && m2.seq == 2 && m2.direction == SG_DIR_OUT && m2.flags == SG_MSG_TRUNCATED &&
	   m2.size == 99999999999ULL && strcmp(m2.message_id, "x@y") == 0, "message fields round-trip");
	sg_msgrec_clear(&m2);
	ok(sg_rec_msg_decode(b.data, b.len - 1, &m2) != 0, "truncated message refused");
	free(b.data);
}

static void
test_event(void)
{
	struct sg_buf b = { 0 };
	struct sg_event e = { .ticket = 5, .seq = 9, .time = 3, .type = "status", .actor = "system",
			      .detail = NULL }, e2;
	sg_rec_event_encode(&b, &e);
	ok(sg_rec_event_decode(b.data, b.len, &e2) == 0 && e2.seq == 9 && strcmp(e2.type, "status") == 0 &&
	   e2.detail == NULL, "event round-trips");
	sg_event_clear(&e2);
	free(b.data);
}

static void
test_row_keys(void)
{
	unsigned char k[12];
	sg_key_row(k, 1, 2);
	unsigned char k2[12];
	sg_key_row(k2, 1, 256);
	ok(memcmp(k, k2, 12) < 0, "row keys sort numerically");
	sg_key_row(k2, 2, 0);
	ok(memcmp(k, k2, 12) < 0, "ticket dominates seq in key order");
}

/* ------------------------------------------------------------ limits */

/* A string of n bytes of 2-byte UTF-8 characters ("ж"), plus one 'x'
 * when n is odd: a cut at the limit would fall inside a character. */
static char *
big_utf8(size_t n)
{
	char *s = sg_xmalloc(n + 1);

	for (size_t i = 0; i + 1 < n; i += 2) {
		s[i] = (char)0xd0;
		s[i + 1] = (char)0xb6;
	}
	if (n % 2)
		s[n - 1] = 'x';
	s[n] = '\0';
	return s;
}

static int
within(const char *s, size_t max)
{
	return s != NULL && strlen(s) <= max && g_utf8_validate(s, -1, NULL);
}

/* Values over every limit: written cut, read back whole. */
static void
test_oversized_ticket(void)
{
	struct sg_ticket t = { 0 }, u = { 0 };
	struct sg_buf b = { 0 };

	t.id = 1;
	t.subject = big_utf8(SG_REC_MAX_STR + 1001);   /* odd: the limit is even, inside a character */
	t.requestor_name = big_utf8(3 * SG_REC_MAX_STR);
	t.requestor = sg_xstrdup("a@b.example");
	for (size_t i = 0; i < SG_REC_MAX_LIST + 10; i++) {
		char addr[32];
		snprintf(addr, sizeof(addr), "p%zu@b.example", i);
		sg_strlist_add(&t.participants, addr, 0);
	}
	/* tags: few entries, too many bytes together */
	for (int i = 0; i < 20; i++) {
		char *tag = big_utf8(SG_REC_MAX_STR / 2);
		sg_strlist_add(&t.tags, tag, 0);
		free(tag);
	}
	t.nmessages = 7;
	sg_rec_ticket_encode(&b, &t);
	ok(b.len <= SG_REC_MAX_RECORD, "record within the total (%zu bytes)", b.len);
	ok(sg_rec_ticket_decode(b.data, b.len, &u) == 0, "oversized ticket written and read back");
	ok(within(u.subject, SG_REC_MAX_STR) && strlen(u.subject) >= SG_REC_MAX_STR - 4,
	   "subject cut to the limit on a character boundary (%zu)", u.subject ? strlen(u.subject) : 0);
	ok(within(u.requestor_name, SG_REC_MAX_STR), "name cut");
	is_str(u.requestor, "a@b.example", "fields after a cut string intact");
	is_int((long long)u.participants.n, SG_REC_MAX_LIST, "list cut to the count limit");
	is_str(u.participants.n ? u.participants.v[0] : NULL, "p0@b.example", "first entries kept");
	ok(u.tags.n > 0 && u.tags.n < 20, "list cut to the byte limit (%zu of 20 entries)", u.tags.n);
	is_int(u.nmessages, 7, "fields after the lists intact");
	sg_ticket_clear(&u);
	free(b.data);
	sg_ticket_clear(&t);
}

static void
test_oversized_others(void)
{
	struct sg_buf b = { 0 };
	char *big = big_utf8(SG_REC_MAX_STR + 3);

	struct sg_msgrec m = { .ticket = 5, .seq = 2, .from = big, .message_id = big, .subject = big, .size = 9 }, m2;
	sg_rec_msg_encode(&b, &m);
	ok(sg_rec_msg_decode(b.data, b.len, &m2) == 0 && within(m2.subject, SG_REC_MAX_STR) && m2.size == 9,
	   "oversized message summary read back");
	sg_msgrec_clear(&m2);
	b.len = 0;

	struct sg_event e = { .ticket = 5, .seq = 9, .time = 3, .type = "note", .actor = big, .detail = big }, e2;
	sg_rec_event_encode(&b, &e);
	ok(sg_rec_event_decode(b.data, b.len, &e2) == 0 && within(e2.detail, SG_REC_MAX_STR) && e2.seq == 9,
	   "oversized event read back");
	sg_event_clear(&e2);
	b.len = 0;

	struct sg_job j = { .id = 3, .ticket = 5, .kind = SG_JOB_SMTP, .state = SG_JOB_QUEUED, .last_error = big,
			    .what = "ack", .mail_from = big, .payload = "body", .payload_len = 4 }, j2;
	for (size_t i = 0; i < SG_REC_MAX_LIST + 1; i++)
		sg_strlist_add(&j.rcpts, "r@b.example", 0);
	sg_rec_job_encode(&b, &j);
	ok(sg_rec_job_decode(b.data, b.len, &j2) == 0 && j2.rcpts.n == SG_REC_MAX_LIST && within(j2.last_error, SG_REC_MAX_STR) &&
	   j2.payload_len == 4 && strcmp(j2.payload, "body") == 0, "oversized job read back");
	sg_job_clear(&j2);
	sg_strlist_clear(&j.rcpts);
	free(b.data);
	free(big);
}

/* A reader refuses what no writer writes: a string, a list, a payload or
 * a record over its limit. */
static void
test_reader_limits(void)
{
	struct sg_buf b = { 0 };
	struct sg_strlist l = { 0 };
	char *s = NULL;

	/* a string one byte over, with its bytes present */
	sg_buf_u32(&b, SG_REC_MAX_STR + 1);
	for (size_t i = 0; i < SG_REC_MAX_STR + 1; i++)
		sg_buf_u8(&b, 'a');
	struct sg_reader r = { b.data, b.len, 0, 0 };
	ok(sg_rd_str(&r, &s) != 0 && s == NULL && r.bad, "string over the limit refused");
	b.len = 0;

	/* a list whose entries are each fine but too many bytes together */
	size_t per = SG_REC_MAX_STR, n = SG_REC_MAX_LIST_BYTES / per + 1;
	sg_buf_u32(&b, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		sg_buf_u32(&b, (uint32_t)per);
		for (size_t k = 0; k < per; k++)
			sg_buf_u8(&b, 'b');
	}
	struct sg_reader r2 = { b.data, b.len, 0, 0 };
	ok(sg_rd_list(&r2, &l) != 0 && r2.bad && l.n == 0, "list over its byte limit refused, nothing left allocated");
	sg_strlist_clear(&l);
	b.len = 0;

	/* a job whose payload length is over the limit */
	struct sg_job j = { .id = 1, .what = "x" }, j2;
	sg_rec_job_encode(&b, &j);
	b.len -= 4;   /* the payload length, last */
	sg_buf_u32(&b, (uint32_t)SG_REC_MAX_PAYLOAD + 1);
	ok(sg_rec_job_decode(b.data, b.len, &j2) != 0, "payload over the limit refused");
	b.len = 0;

	/* a record longer than any writer writes */
	struct sg_event e = { .ticket = 1, .type = "t" }, e2;
	sg_rec_event_encode(&b, &e);
	size_t real = b.len;
	ok(sg_rec_event_decode(b.data, (size_t)SG_REC_MAX_RECORD + 1, &e2) != 0,
	   "record over the total refused before it is read");
	ok(sg_rec_event_decode(b.data, real, &e2) == 0, "the same record at its size reads");
	sg_event_clear(&e2);
	free(b.data);
}

/* Every enum read back is range-checked; a writer given one out of range
 * writes a valid value instead (and logs it). */
static void
test_enums(void)
{
	struct sg_buf b = { 0 };
	struct sg_ticket t = { .id = 1, .status = SG_ST_OPEN, .priority = SG_PRIO_HIGH }, u;
	struct sg_msgrec m = { .ticket = 1, .direction = SG_DIR_INTERNAL }, m2;
	struct sg_job j = { .id = 1, .kind = SG_JOB_WEBHOOK, .state = SG_JOB_DEAD }, j2;

	sg_rec_ticket_encode(&b, &t);
	ok(sg_rec_ticket_decode(b.data, b.len, &u) == 0 && u.status == SG_ST_OPEN && u.priority == SG_PRIO_HIGH,
	   "ticket enums round-trip");
	sg_ticket_clear(&u);
	b.data[9] = SG_ST_COUNT;
	ok(sg_rec_ticket_decode(b.data, b.len, &u) != 0, "status %d refused", SG_ST_COUNT);
	b.data[9] = SG_ST_CLOSED;
	b.data[10] = SG_PRIO_COUNT;
	ok(sg_rec_ticket_decode(b.data, b.len, &u) != 0, "priority %d refused", SG_PRIO_COUNT);
	b.data[10] = 0xff;
	ok(sg_rec_ticket_decode(b.data, b.len, &u) != 0, "priority 255 refused");
	b.len = 0;

	sg_rec_msg_encode(&b, &m);
	ok(sg_rec_msg_decode(b.data, b.len, &m2) == 0 && m2.direction == SG_DIR_INTERNAL, "direction round-trips");
	sg_msgrec_clear(&m2);
	b.data[13] = SG_DIR_INTERNAL + 1;   /* ver, u64 ticket, u32 seq, u8 direction */
	ok(sg_rec_msg_decode(b.data, b.len, &m2) != 0, "direction %d refused", SG_DIR_INTERNAL + 1);
	b.len = 0;

	sg_rec_job_encode(&b, &j);
	ok(sg_rec_job_decode(b.data, b.len, &j2) == 0 && j2.kind == SG_JOB_WEBHOOK && j2.state == SG_JOB_DEAD,
	   "job kind and state round-trip");
	sg_job_clear(&j2);
	b.data[17] = SG_JOB_KIND_COUNT;   /* ver, u64 id, u64 ticket, u8 kind, u8 state */
	ok(sg_rec_job_decode(b.data, b.len, &j2) != 0, "job kind %d refused", SG_JOB_KIND_COUNT);
	b.data[17] = SG_JOB_SMTP;
	b.data[18] = SG_JOB_STATE_COUNT;
	ok(sg_rec_job_decode(b.data, b.len, &j2) != 0, "job state %d refused", SG_JOB_STATE_COUNT);
	b.data[18] = 0x80;
	ok(sg_rec_job_decode(b.data, b.len, &j2) != 0, "job state 128 refused");
	b.len = 0;

	/* writers: out of range in, a readable record out */
	t.status = (enum sg_status)9;
	t.priority = (enum sg_priority)-1;
	sg_rec_ticket_encode(&b, &t);
	int rc = sg_rec_ticket_decode(b.data, b.len, &u);
	ok(rc == 0 && u.status == SG_ST_OPEN && u.priority == SG_PRIO_NORMAL,
	   "ticket with bad enums written readable: open, normal (status %d, priority %d)", u.status, u.priority);
	sg_ticket_clear(&u);
	b.len = 0;
	m.direction = (enum sg_direction)7;
	sg_rec_msg_encode(&b, &m);
	ok(sg_rec_msg_decode(b.data, b.len, &m2) == 0, "message with a bad direction written readable");
	sg_msgrec_clear(&m2);
	b.len = 0;
	j.kind = 200;
	j.state = SG_JOB_QUEUED;
	sg_rec_job_encode(&b, &j);
	ok(sg_rec_job_decode(b.data, b.len, &j2) == 0 && j2.state == SG_JOB_DEAD,
	   "job of an unknown kind written readable, as a dead letter");
	sg_job_clear(&j2);
	b.len = 0;
	j.kind = SG_JOB_SMTP;
	j.state = 9;
	sg_rec_job_encode(&b, &j);
	ok(sg_rec_job_decode(b.data, b.len, &j2) == 0 && j2.state == SG_JOB_DEAD, "job of an unknown state: dead letter");
	sg_job_clear(&j2);
	free(b.data);
}

static const struct sg_test tests[] = {
	{ "ticket", test_ticket },
	{ "ticket-v2", test_ticket_v2 },
	{ "list-count", test_list_count },
	{ "message", test_message },
	{ "event", test_event },
	{ "row-keys", test_row_keys },
	{ "oversized-ticket", test_oversized_ticket },
	{ "oversized-others", test_oversized_others },
	{ "reader-limits", test_reader_limits },
	{ "enums", test_enums },
};

int
main(void)
{
	sg_log_open_stderr("test-record");
	sg_log_set_level(SG_LOG_PANIC);   /* the clamped enums are logged as errors: expected here */
	return SG_TEST_RUN(tests);
}
