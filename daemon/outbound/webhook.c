/*
 * webhook — see webhook.h.
 */
#include "config.h"
#include "outbound/webhook.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "outbound/queue.h"
#include "store/store.h"
#include "ticket/summary.h"

#define MOD "webhook"
#define RCPT_PREFIX "webhook:"

/* ------------------------------------------------------------ addresses */

static int
in4(uint32_t a, uint32_t net, int bits)
{
	uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
	return (a & mask) == (net & mask);
}

static enum sg_addr_class
class4(uint32_t a, const char **why)
{
	static const struct {
		uint32_t net;
		int bits;
		enum sg_addr_class cls;
		const char *why;
	} nets[] = {
		/* the metadata services first: blocked even with allow_private */
		{ 0xa9fea9feu, 32, SG_ADDR_BLOCKED, "a cloud metadata address" },       /* 169.254.169.254 */
		{ 0x646464c8u, 32, SG_ADDR_BLOCKED, "a cloud metadata address" },       /* 100.100.100.200 */
		{ 0xa9fe0000u, 16, SG_ADDR_BLOCKED, "link-local (169.254/16)" },
		{ 0x00000000u, 8, SG_ADDR_BLOCKED, "\"this network\" (0/8)" },
		{ 0xe0000000u, 4, SG_ADDR_BLOCKED, "multicast (224/4)" },
		{ 0xf0000000u, 4, SG_ADDR_BLOCKED, "reserved (240/4)" },
		{ 0x7f000000u, 8, SG_ADDR_PRIVATE, "loopback (127/8)" },
		{ 0x0a000000u, 8, SG_ADDR_PRIVATE, "private (10/8)" },
		{ 0xac100000u, 12, SG_ADDR_PRIVATE, "private (172.16/12)" },
		{ 0xc0a80000u, 16, SG_ADDR_PRIVATE, "private (192.168/16)" },
		{ 0x64400000u, 10, SG_ADDR_PRIVATE, "shared address space (100.64/10)" },
		{ 0xc0000000u, 24, SG_ADDR_PRIVATE, "IETF protocol assignments (192.0.0/24)" },
		{ 0xc6120000u, 15, SG_ADDR_PRIVATE, "benchmarking (198.18/15)" },
	};

	for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++)
		if (in4(a, nets[i].net, nets[i].bits)) {
			if (why != NULL)
				*why = nets[i].why;
			return nets[i].cls;
		}
	if (why != NULL)
		*why = "public";
	return SG_ADDR_PUBLIC;
}

static uint32_t
v4_at(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum sg_addr_class
class6(const struct in6_addr *a, const char **why)
{
	static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const unsigned char ec2[16] = { 0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x54 };
	const unsigned char *b = a->s6_addr;
	const char *w = "public";
	enum sg_addr_class cls = SG_ADDR_PUBLIC;

	if (IN6_IS_ADDR_V4MAPPED(a) || memcmp(b, nat64, sizeof(nat64)) == 0)
		return class4(v4_at(b + 12), why);
	if (memcmp(b, ec2, sizeof(ec2)) == 0) {
		w = "a cloud metadata address";
		cls = SG_ADDR_BLOCKED;
	} else if (IN6_IS_ADDR_UNSPECIFIED(a)) {
		w = "the unspecified address (::)";
		cls = SG_ADDR_BLOCKED;
	} else if (IN6_IS_ADDR_LOOPBACK(a)) {
		w = "loopback (::1)";
		cls = SG_ADDR_PRIVATE;
	} else if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
		w = "link-local (fe80::/10)";
		cls = SG_ADDR_BLOCKED;
	} else if (b[0] == 0xff) {
		w = "multicast (ff00::/8)";
		cls = SG_ADDR_BLOCKED;
	} else if ((b[0] & 0xfe) == 0xfc) {
		w = "unique local (fc00::/7)";
		cls = SG_ADDR_PRIVATE;
	} else if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) {
		w = "site-local (fec0::/10)";
		cls = SG_ADDR_PRIVATE;
	} else if (IN6_IS_ADDR_V4COMPAT(a)) {
		w = "IPv4-compatible (::/96)";
		cls = SG_ADDR_BLOCKED;
	}
	if (why != NULL)
		*why = w;
	return cls;
}

enum sg_addr_class
sg_webhook_addr_class(const struct sockaddr *sa, const char **why)
{
	if (sa->sa_family == AF_INET)
		return class4(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr), why);
	if (sa->sa_family == AF_INET6)
		return class6(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, why);
	if (why != NULL)
		*why = "not an internet address";
	return SG_ADDR_BLOCKED;
}

/* ------------------------------------------------------------ jobs */

int
sg_webhook_queue(struct sg_op *op, const struct sg_ticket *t, uint64_t ticket, const struct sg_webhook *w,
		 const struct sg_event_view *ev)
{
	const char *type = sg_event_type_name(ev->type);
	struct sg_job j = { 0 };
	json_t *o = json_object(), *e = json_object();
	char *body;
	int rc;

	json_object_set_new(e, "type", json_string(type));
	json_object_set_new(e, "time", sg_json_time(op->now));
	json_object_set_new(e, "actor", sg_json_str(ev->actor));
	json_object_set_new(e, "old", sg_json_str(ev->old_value));
	json_object_set_new(e, "new", sg_json_str(ev->new_value));
	json_object_set_new(e, "detail", sg_json_str(ev->detail));
	json_object_set_new(o, "id", json_integer(0));
	json_object_set_new(o, "webhook", json_string(w->name));
	json_object_set_new(o, "event", e);
	json_object_set_new(o, "ticket", t != NULL ? sg_ticket_summary_json(op->c, t) : json_null());

	j.ticket = ticket;
	j.kind = SG_JOB_WEBHOOK;
	j.created = j.due = op->now;
	j.what = sg_xasprintf("webhook %s (%s)", w->name, type);
	j.mail_from = sg_xstrdup(type);   /* the event type, for the X-Supportgate-Event header */
	char *rcpt = sg_xasprintf(RCPT_PREFIX "%s", w->name);
	sg_strlist_add(&j.rcpts, rcpt, 0);
	free(rcpt);
	/* The id is the job's, known once it is added: add, then write the
	 * body that names it (both in this transaction). */
	j.payload = sg_xstrdup("{}");
	j.payload_len = 2;
	if ((rc = sg_queue_add(op->st, op->txn, &j)) == 0) {
		json_object_set_new(o, "id", json_integer((json_int_t)j.id));
		body = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
		if (body == NULL)
			sg_panic(MOD, "out of memory");
		free(j.payload);
		j.payload = sg_xstrdup(body);
		j.payload_len = strlen(body);
		free(body);
		rc = sg_store_job_put(op->st, op->txn, &j);
	}
	if (rc == 0) {
		op->jobs++;
		sg_log_ctx(SG_LOG_DEBUG, MOD, op->queue_id, ticket, "%s queued as job %llu", j.what,
			   (unsigned long long)j.id);
	}
	json_decref(o);
	j.payload_len = 0;
	sg_job_clear(&j);
	return rc;
}

static int
on_event(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	const char *type = sg_event_type_name(ev->type);
	struct sg_ticket loaded = { 0 };
	const struct sg_ticket *tv = t;
	int rc = 0, have = 0;

	(void)arg;
	if (op->c == NULL || op->c->nwebhooks == 0 || (ev->actor && strcmp(ev->actor, SG_WEBHOOK_ACTOR) == 0))
		return 0;
	for (size_t i = 0; rc == 0 && i < op->c->nwebhooks; i++) {
		const struct sg_webhook *w = &op->c->webhooks[i];
		if (!sg_strlist_has(&w->events, type))
			continue;
		if (tv == NULL && !have && ev->ticket != 0) {
			/* an event on a ticket not loaded (outbound results): the
			 * summary as committed so far in this transaction */
			have = 1;
			rc = sg_store_ticket_get(op->st, op->txn, ev->ticket, &loaded);
			if (rc == 0)
				tv = &loaded;
			else if (rc == SG_STORE_NOTFOUND)
				rc = 0;
		}
		if (rc == 0)
			rc = sg_webhook_queue(op, tv, ev->ticket, w, ev);
	}
	sg_ticket_clear(&loaded);
	return rc;
}

void
sg_webhook_subscribe(void)
{
	for (int i = 0; i < SG_EV_COUNT; i++)
		sg_event_subscribe((enum sg_event_type)i, on_event, NULL);
}

