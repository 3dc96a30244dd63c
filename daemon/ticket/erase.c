/*
 * erase — see erase.h.
 */
#include "config.h"
#include "ticket/erase.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf/conf.h"
#include "lib/xalloc.h"
#include "mail/address.h"
#include "store/store.h"

#define SG_OP_RETRIES 8   /* as ops.c: a transaction retried on deadlock */

#define SG_ERASED_ACTOR "erased"
#define SG_ERASED_TEXT "[erased]"

struct collect_msgs {
	struct sg_msgrec *v;
	size_t n;
};

static int
collect_msg(const struct sg_msgrec *m, void *arg)
{
	struct collect_msgs *c = arg;

	c->v = sg_xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	memset(&c->v[c->n], 0, sizeof(c->v[0]));
	c->v[c->n].ticket = m->ticket;
	c->v[c->n].seq = m->seq;
	c->v[c->n].direction = m->direction;
	c->v[c->n].flags = m->flags;
	c->v[c->n].from = m->from ? sg_xstrdup(m->from) : NULL;
	c->v[c->n].message_id = m->message_id ? sg_xstrdup(m->message_id) : NULL;
	c->v[c->n].subject = m->subject ? sg_xstrdup(m->subject) : NULL;
	c->v[c->n].date = m->date;
	c->v[c->n].received = m->received;
	c->v[c->n].size = m->size;
	c->n++;
	return 0;
}

struct collect_evs {
	struct sg_event *v;
	size_t n;
};

static int
collect_ev(const struct sg_event *e, void *arg)
{
	struct collect_evs *c = arg;

	c->v = sg_xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n].ticket = e->ticket;
	c->v[c->n].seq = e->seq;
	c->v[c->n].time = e->time;
	c->v[c->n].type = e->type ? sg_xstrdup(e->type) : NULL;
	c->v[c->n].actor = e->actor ? sg_xstrdup(e->actor) : NULL;
	c->v[c->n].detail = e->detail ? sg_xstrdup(e->detail) : NULL;
	c->n++;
	return 0;
}

/* s with every (case-insensitive) occurrence of each needle replaced by
 * SG_ERASED_TEXT: a new string, or NULL when nothing matched. */
static char *
scrub(const char *s, const struct sg_strlist *needles)
{
	GString *g = NULL;
	const char *p = s;

	if (s == NULL)
		return NULL;
	while (*p) {
		size_t hit = 0;
		for (size_t i = 0; i < needles->n && hit == 0; i++) {
			size_t l = strlen(needles->v[i]);
			if (l > 0 && strncasecmp(p, needles->v[i], l) == 0)
				hit = l;
		}
		if (hit > 0) {
			if (g == NULL)
				g = g_string_new_len(s, p - s);
			g_string_append(g, SG_ERASED_TEXT);
			p += hit;
		} else {
			if (g != NULL)
				g_string_append_c(g, *p);
			p++;
		}
	}
	if (g == NULL)
		return NULL;
	char *r = sg_xstrdup(g->str);
	g_string_free(g, TRUE);
	return r;
}

/* Does the message's From (a header value: "Name <addr>" or addr) name
 * one of the addresses? */
static int
from_is(const char *from, const struct sg_strlist *addrs)
{
	if (from == NULL)
		return 0;
	for (size_t i = 0; i < addrs->n; i++)
		if (strcasestr(from, addrs->v[i]) != NULL)
			return 1;
	return 0;
}

int
sg_ticket_erased(const struct sg_ticket *t)
{
	return (t->requestor == NULL || t->requestor[0] == '\0') && (t->subject == NULL || t->subject[0] == '\0') &&
	       t->requestor_name == NULL && t->participants.n == 0;
}

int
sg_op_erase(struct sg_op *op, struct sg_ticket *t, const char *addr, unsigned *nmsg)
{
	struct sg_strlist people = { 0 }, needles = { 0 };
	struct collect_msgs ms = { 0 };
	struct collect_evs es = { 0 };
	int whole = addr == NULL || (t->requestor != NULL && strcasecmp(t->requestor, addr) == 0);
	unsigned n = 0;
	int rc;

	/* Whose data goes: everyone of the ticket, or one person. */
	if (addr == NULL) {
		if (t->requestor != NULL && t->requestor[0] != '\0')
			sg_strlist_add(&people, t->requestor, 1);
		for (size_t i = 0; i < t->participants.n; i++)
			sg_strlist_add(&people, t->participants.v[i], 1);
	} else {
		sg_strlist_add(&people, addr, 1);
	}
	for (size_t i = 0; i < people.n; i++)
		sg_strlist_add(&needles, people.v[i], 1);
	if (whole && t->requestor_name != NULL && strlen(t->requestor_name) >= 3)
		sg_strlist_add(&needles, t->requestor_name, 1);

	rc = sg_store_message_foreach(op->st, op->txn, t->id, collect_msg, &ms);
	for (size_t i = 0; rc == 0 && i < ms.n; i++) {
		struct sg_msgrec *m = &ms.v[i];
		unsigned char k[SG_KEY_ROW_LEN];
		int had_raw;

		if (!whole && !from_is(m->from, &people))
			continue;
		sg_key_row(k, t->id, m->seq);
		rc = sg_store_table_del(op->st, op->txn, SG_TB_RAW, k, sizeof(k));
		had_raw = rc == 0;
		if (rc == SG_STORE_NOTFOUND)
			rc = 0;
		/* A Message-ID that spells the person's address goes too (its
		 * index entry with it: a retried copy is then a new message). */
		char *mid_scrubbed = rc == 0 ? scrub(m->message_id, &people) : NULL;
		if (mid_scrubbed != NULL) {
			free(mid_scrubbed);
			rc = sg_store_table_del(op->st, op->txn, SG_TB_MSGID, m->message_id, strlen(m->message_id));
			if (rc == SG_STORE_NOTFOUND)
				rc = 0;
			free(m->message_id);
			m->message_id = sg_xstrdup("");
			had_raw = 1;
		}
		if (rc == 0 && (had_raw || (m->from != NULL && *m->from) || (m->subject != NULL && *m->subject))) {
			struct sg_buf b = { 0 };
			free(m->from);
			m->from = sg_xstrdup("");
			free(m->subject);
			m->subject = sg_xstrdup("");
			sg_rec_msg_encode(&b, m);
			rc = sg_store_table_replace(op->st, op->txn, SG_TB_MESSAGES, k, sizeof(k), b.data, b.len);
			free(b.data);
			n++;
		}
	}
	if (rc == 0)
		rc = sg_store_event_foreach(op->st, op->txn, t->id, collect_ev, &es);
	for (size_t i = 0; rc == 0 && i < es.n; i++) {
		struct sg_event *e = &es.v[i];
		char *d = scrub(e->detail, &needles);
		int actor = e->actor != NULL && sg_strlist_has(&people, e->actor);

		if (d == NULL && !actor)
			continue;
		if (d != NULL) {
			free(e->detail);
			e->detail = d;
		}
		if (actor) {
			free(e->actor);
			e->actor = sg_xstrdup(SG_ERASED_ACTOR);
		}
		struct sg_buf b = { 0 };
		unsigned char k[SG_KEY_ROW_LEN];
		sg_rec_event_encode(&b, e);
		sg_key_row(k, t->id, e->seq);
		rc = sg_store_table_replace(op->st, op->txn, SG_TB_EVENTS, k, sizeof(k), b.data, b.len);
		free(b.data);
	}
	/* The ticket's own fields, the customers index, and the rate-limit
	 * state kept under the address (kv ack:, alert:; hours long). */
	for (size_t i = 0; rc == 0 && i < people.n; i++) {
		char *k1 = sg_xasprintf(SG_KV_ACK, people.v[i]), *k2 = sg_xasprintf(SG_KV_ALERT, people.v[i]);
		rc = sg_store_customer_del(op->st, op->txn, people.v[i], t->id);
		if (rc == 0 || rc == SG_STORE_NOTFOUND)
			rc = sg_store_kv_del(op->st, op->txn, k1);
		if (rc == 0 || rc == SG_STORE_NOTFOUND)
			rc = sg_store_kv_del(op->st, op->txn, k2);
		if (rc == SG_STORE_NOTFOUND)
			rc = 0;
		free(k1);
		free(k2);
	}
	if (rc == 0) {
		if (whole) {
			free(t->requestor);
			t->requestor = sg_xstrdup("");
			free(t->subject);
			t->subject = sg_xstrdup("");
			sg_xfree(&t->requestor_name);
			sg_xfree(&t->reason);   /* an agent's free text about the case */
		}
		for (size_t k = 0; k < t->participants.n;) {
			if (addr == NULL || strcasecmp(t->participants.v[k], addr) == 0) {
				free(t->participants.v[k]);
				memmove(&t->participants.v[k], &t->participants.v[k + 1],
					(t->participants.n - k - 1) * sizeof(char *));
				t->participants.n--;
			} else {
				k++;
			}
		}
		t->updated = op->now;
		rc = sg_event_emit(op, t, SG_EV_ERASED, NULL, addr, "personal data erased%s: %u message(s)",
				   addr == NULL ? " (retention)" : " on request", n);
	}
	for (size_t i = 0; i < ms.n; i++)
		sg_msgrec_clear(&ms.v[i]);
	free(ms.v);
	for (size_t i = 0; i < es.n; i++)
		sg_event_clear(&es.v[i]);
	free(es.v);
	sg_strlist_clear(&people);
	sg_strlist_clear(&needles);
	if (nmsg != NULL)
		*nmsg = n;
	return rc;
}

struct forget_walk {
	const char *addr;
	uint64_t *ids;
	size_t n;
};

static void
add_id(struct forget_walk *w, uint64_t id)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->ids[i] == id)
			return;
	w->ids = sg_xreallocarray(w->ids, w->n + 1, sizeof(*w->ids));
	w->ids[w->n++] = id;
}

static int
forget_pick(const struct sg_ticket *t, void *arg)
{
	struct forget_walk *w = arg;

	if ((t->requestor != NULL && strcasecmp(t->requestor, w->addr) == 0) || sg_strlist_has(&t->participants, w->addr))
		add_id(w, t->id);
	return 0;
}

int
sg_ticket_forget(struct sg_store *st, const struct sg_conf *c, const char *address, const char *actor,
		 size_t *ntickets, size_t *nmsg)
{
	char *addr = sg_addr_normalize(address);
	struct forget_walk w = { 0 };
	uint64_t *ids = NULL;
	size_t n = 0;
	int rc;

	*ntickets = *nmsg = 0;
	if (addr == NULL)
		return SG_OP_INVALID;
	w.addr = addr;
	rc = sg_store_customer_tickets(st, NULL, addr, &ids, &n);
	if (rc == SG_STORE_NOTFOUND)
		rc = 0;
	for (size_t i = 0; i < n; i++)
		add_id(&w, ids[i]);
	free(ids);
	if (rc == 0)
		rc = sg_store_ticket_foreach(st, forget_pick, &w);
	for (size_t i = 0; rc == 0 && i < w.n; i++) {
		rc = SG_STORE_DEADLOCK;
		for (int a = 0; a < SG_OP_RETRIES && rc == SG_STORE_DEADLOCK; a++) {
			struct sg_op op = { .st = st, .c = c, .now = (int64_t)time(NULL), .actor = actor };
			struct sg_ticket t = { 0 };
			unsigned m = 0;

			if ((rc = sg_store_txn_begin(st, &op.txn)) != 0)
				break;
			rc = sg_store_ticket_get(st, op.txn, w.ids[i], &t);
			if (rc == 0)
				rc = sg_op_erase(&op, &t, addr, &m);
			if (rc == 0)
				rc = sg_store_ticket_put(st, op.txn, &t);
			if (rc == 0)
				rc = sg_store_txn_commit(&op.txn);
			sg_store_txn_abort(&op.txn);
			sg_ticket_clear(&t);
			if (rc == SG_STORE_NOTFOUND)
				rc = 0;   /* gone meanwhile */
			else if (rc == 0) {
				(*ntickets)++;
				*nmsg += m;
			}
		}
	}
	/* The index entries left (a ticket gone) and the rate-limit state. */
	if (rc == 0) {
		char *k1 = sg_xasprintf(SG_KV_ACK, addr), *k2 = sg_xasprintf(SG_KV_ALERT, addr);
		struct sg_txn *txn = NULL;
		if ((rc = sg_store_txn_begin(st, &txn)) == 0) {
			int r1 = sg_store_customer_del(st, txn, addr, 0);
			int r2 = sg_store_kv_del(st, txn, k1);
			int r3 = sg_store_kv_del(st, txn, k2);
			rc = r1 && r1 != SG_STORE_NOTFOUND ? r1 : r2 && r2 != SG_STORE_NOTFOUND ? r2 :
			     r3 && r3 != SG_STORE_NOTFOUND ? r3 : 0;
			if (rc == 0)
				rc = sg_store_txn_commit(&txn);
			sg_store_txn_abort(&txn);
		}
		free(k1);
		free(k2);
	}
	free(w.ids);
	free(addr);
	return rc;
}
