/*
 * queue — see queue.h.
 */
#include "config.h"
#include "outbound/queue.h"

#include "store/store.h"

int
sg_queue_add(struct sg_store *st, struct sg_txn *txn, struct sg_job *j)
{
	j->state = SG_JOB_QUEUED;
	return sg_store_job_add(st, txn, j);
}

int
sg_queue_mail(struct sg_store *st, struct sg_txn *txn, uint64_t ticket, const char *what, const char *from,
	      const char *to, const char *msg, size_t len, int64_t now, uint64_t *job_id)
{
	struct sg_job j = { 0 };
	int rc;

	j.ticket = ticket;
	j.kind = SG_JOB_SMTP;
	j.created = j.due = now;
	j.what = (char *)what;
	j.mail_from = (char *)from;
	sg_strlist_add(&j.rcpts, to, 0);
	j.payload = (char *)msg;
	j.payload_len = len;
	rc = sg_queue_add(st, txn, &j);
	sg_strlist_clear(&j.rcpts);
	if (job_id != NULL)
		*job_id = j.id;
	return rc;
}
