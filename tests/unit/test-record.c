/*
 * test-record — the on-disk format: round trips, the version byte, and
 * refusal of truncated or corrupt input (every prefix of every record
 * type), the byte layout of the primitives.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "record.h"
#include "xalloc.h"
#include "tap.h"

int
main(void)
{
	struct sg_ticket t = { 0 }, u = { 0 };
	struct sg_buf b = { 0 };
	int bad = 0;

	plan_lazy();
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
	is_int(b.data[0], SG_REC_VERSION, "first byte is the version");
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
	b.data[0] = SG_REC_VERSION;
	b.data[9] = 42;   /* status byte */
	ok(sg_rec_ticket_decode(b.data, b.len, &u) != 0, "out-of-range status refused");
	free(b.data);

	/* a corrupt list count must not allocate wildly */
	memset(&b, 0, sizeof(b));
	sg_buf_u32(&b, 0xfffffff0u);
	struct sg_reader r = { b.data, b.len, 0, 0 };
	struct sg_strlist l = { 0 };
	ok(sg_rd_list(&r, &l) != 0 && l.n == 0, "huge list count refused");
	free(b.data);

	struct sg_msgrec m = { .ticket = 5, .seq = 2, .direction = SG_DIR_OUT, .flags = SG_MSG_TRUNCATED,
			       .from = "a@b", .message_id = "x@y", .subject = "s", .date = 1, .received = 2,
			       .size = 99999999999ULL }, m2;
	memset(&b, 0, sizeof(b));
	sg_rec_msg_encode(&b, &m);
	ok(sg_rec_msg_decode(b.data, b.len, &m2) == 0, "message summary decodes");
	ok(m2.ticket == 5 && m2.seq == 2 && m2.direction == SG_DIR_OUT && m2.flags == SG_MSG_TRUNCATED &&
	   m2.size == 99999999999ULL && strcmp(m2.message_id, "x@y") == 0, "message fields round-trip");
	sg_msgrec_clear(&m2);
	ok(sg_rec_msg_decode(b.data, b.len - 1, &m2) != 0, "truncated message refused");
	free(b.data);

	struct sg_event e = { .ticket = 5, .seq = 9, .time = 3, .type = "status", .actor = "system",
			      .detail = NULL }, e2;
	memset(&b, 0, sizeof(b));
	sg_rec_event_encode(&b, &e);
	ok(sg_rec_event_decode(b.data, b.len, &e2) == 0 && e2.seq == 9 && strcmp(e2.type, "status") == 0 &&
	   e2.detail == NULL, "event round-trips");
	sg_event_clear(&e2);
	free(b.data);

	/* every record type: version byte first, every truncated prefix refused */
	static const char *const kinds[] = { "message", "event", "job" };
	struct sg_job j = { .id = 77, .ticket = 5, .kind = SG_JOB_SMTP, .state = SG_JOB_DEAD, .created = 10,
			    .due = -1, .attempts = 4, .what = "ack", .mail_from = "",
			    .payload = "a\0b\r\n", .payload_len = 5 }, j2;
	sg_strlist_add(&j.rcpts, "x@y.test", 0);
	for (int kind = 0; kind < 3; kind++) {
		memset(&b, 0, sizeof(b));
		if (kind == 0)
			sg_rec_msg_encode(&b, &m);
		else if (kind == 1)
			sg_rec_event_encode(&b, &e);
		else
			sg_rec_job_encode(&b, &j);
		is_int(b.data[0], SG_REC_VERSION, "%s: first byte is the version", kinds[kind]);
		bad = 0;
		for (size_t n = 0; n < b.len; n++) {
			int rc;
			if (kind == 0) {
				if ((rc = sg_rec_msg_decode(b.data, n, &m2)) == 0)
					sg_msgrec_clear(&m2);
			} else if (kind == 1) {
				if ((rc = sg_rec_event_decode(b.data, n, &e2)) == 0)
					sg_event_clear(&e2);
			} else {
				if ((rc = sg_rec_job_decode(b.data, n, &j2)) == 0)
					sg_job_clear(&j2);
			}
			if (rc == 0)
				bad++;
		}
		is_int(bad, 0, "%s: every truncated prefix is refused", kinds[kind]);
		b.data[0] = 2;
		ok((kind == 0 ? sg_rec_msg_decode(b.data, b.len, &m2) :
		    kind == 1 ? sg_rec_event_decode(b.data, b.len, &e2) :
		    sg_rec_job_decode(b.data, b.len, &j2)) != 0, "%s: version 2 refused", kinds[kind]);
		free(b.data);
	}
	memset(&b, 0, sizeof(b));
	sg_rec_job_encode(&b, &j);
	ok(sg_rec_job_decode(b.data, b.len, &j2) == 0, "job decodes");
	ok(j2.id == 77 && j2.ticket == 5 && j2.state == SG_JOB_DEAD && j2.due == -1 && j2.attempts == 4 &&
	   j2.last_error == NULL && strcmp(j2.what, "ack") == 0 && strcmp(j2.mail_from, "") == 0 &&
	   j2.rcpts.n == 1 && strcmp(j2.rcpts.v[0], "x@y.test") == 0, "job fields round-trip");
	ok(j2.payload_len == 5 && memcmp(j2.payload, "a\0b\r\n", 5) == 0 && j2.payload[5] == '\0',
	   "binary payload round-trips, NUL-terminated");
	sg_job_clear(&j2);
	free(b.data);
	sg_strlist_clear(&j.rcpts);

	/* wrong direction byte (offset 1 + 8 + 4) */
	memset(&b, 0, sizeof(b));
	sg_rec_msg_encode(&b, &m);
	b.data[13] = 3;
	ok(sg_rec_msg_decode(b.data, b.len, &m2) != 0, "out-of-range direction refused");
	free(b.data);

	/* primitives: exact byte layout, blob, a string length past the end */
	memset(&b, 0, sizeof(b));
	sg_buf_u32(&b, 0x01020304u);
	sg_buf_i64(&b, -2);
	sg_buf_str(&b, "hi");
	sg_buf_str(&b, NULL);
	sg_buf_blob(&b, "\0\1", 2);
	static const unsigned char want[] = { 1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
					      0, 0, 0, 2, 'h', 'i', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0, 1 };
	ok(b.len == sizeof(want) && memcmp(b.data, want, sizeof(want)) == 0, "big-endian byte layout");
	{
		struct sg_reader rr = { b.data, b.len, 0, 0 };
		uint32_t u32;
		int64_t i64;
		char *s1, *s2;
		const void *bp;
		size_t bn;
		ok(sg_rd_u32(&rr, &u32) == 0 && u32 == 0x01020304u && sg_rd_i64(&rr, &i64) == 0 && i64 == -2 &&
		   sg_rd_str(&rr, &s1) == 0 && strcmp(s1, "hi") == 0 && sg_rd_str(&rr, &s2) == 0 && s2 == NULL &&
		   sg_rd_blob(&rr, &bp, &bn) == 0 && bn == 2 && memcmp(bp, "\0\1", 2) == 0 && rr.off == b.len,
		   "reader reads them back");
		free(s1);
		uint8_t u8;
		ok(sg_rd_u8(&rr, &u8) != 0 && rr.bad, "reading past the end fails and marks the reader bad");
		ok(sg_rd_u32(&rr, &u32) != 0, "a bad reader stays bad");
	}
	b.data[19] = 0x10;   /* NULL marker becomes a 0xff0fffff-byte length */
	{
		struct sg_reader rr = { b.data, b.len, 18, 0 };
		char *s1 = NULL;
		ok(sg_rd_str(&rr, &s1) != 0 && s1 == NULL, "string longer than the buffer refused");
		const void *bp;
		size_t bn;
		struct sg_reader rb = { b.data, b.len - 1, 22, 0 };
		ok(sg_rd_blob(&rb, &bp, &bn) != 0 && bp == NULL && bn == 0, "truncated blob refused");
	}
	free(b.data);

	unsigned char k[12];
	sg_key_row(k, 1, 2);
	unsigned char k2[12];
	sg_key_row(k2, 1, 256);
	ok(memcmp(k, k2, 12) < 0, "row keys sort numerically");
	sg_key_row(k2, 2, 0);
	ok(memcmp(k, k2, 12) < 0, "ticket dominates seq in key order");
	sg_ticket_clear(&t);
	return done_testing();
}
