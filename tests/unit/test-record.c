/*
 * test-record — the on-disk format: round trips, the version byte, and
 * refusal of truncated or corrupt input (every prefix of a record).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

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

static const struct sg_test tests[] = {
	{ "ticket", test_ticket },
	{ "list-count", test_list_count },
	{ "message", test_message },
	{ "event", test_event },
	{ "row-keys", test_row_keys },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
