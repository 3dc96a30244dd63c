/*
 * keep — the message itself in the ticket's history: raw bytes (cut at
 * max_message_size, flagged), summary, Message-ID indexed with the
 * content digest. One place for the incoming mail and an agent's.
 */
#include "config.h"
#include "ingest/state.h"

#include "store/store.h"

int
sg_keep_message(struct sg_op *op, struct sg_ingest_state *s, enum sg_direction dir, const char *from,
		uint32_t *seq, size_t *kept)
{
	struct sg_msgrec m = { 0 };
	size_t keep = s->in->len;
	int rc;

	m.ticket = s->t.id;
	m.direction = dir;
	m.from = (char *)(from ? from : "");
	m.message_id = (char *)s->msgid;
	m.subject = (char *)(s->mi->subject ? s->mi->subject : "");
	m.date = (int64_t)s->mi->date;
	m.received = op->now;
	m.size = s->in->len;
	m.digest = s->digest;
	if (keep > s->c->max_message_size) {
		keep = (size_t)s->c->max_message_size;
		m.flags |= SG_MSG_TRUNCATED;
	}
	if ((rc = sg_store_message_add(op->st, op->txn, &m, s->in->raw, keep)) == 0)
		s->t.nmessages++;
	*seq = m.seq;
	*kept = keep;
	return rc;
}
