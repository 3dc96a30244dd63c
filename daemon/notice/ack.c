/*
 * ack — see ack.h.
 */
#include "config.h"
#include "notice/ack.h"

#include <ctype.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/address.h"
#include "conf/conf.h"
#include "lib/log.h"
#include "lib/lograte.h"
#include "lib/xalloc.h"
#include "notice/ratelimit.h"

#define MOD "ack"
#define SG_ACK_REFS 10          /* References we carry over */

/* Does a comma/blank separated list contain word (any case)? */
static int
list_has(const char *list, const char *word)
{
	size_t wl = strlen(word);
	for (const char *p = list; p && *p;) {
		while (*p == ',' || *p == ' ' || *p == '\t' || *p == ';')
			p++;
		size_t l = strcspn(p, ", \t;");
		if (l == wl && strncasecmp(p, word, wl) == 0)
			return 1;
		p += l;
	}
	return 0;
}

/* Auto-Submitted allows a reply only when it says exactly "no", perhaps
 * with a comment (RFC 3834 5: any other value is automatic). */
static int
auto_submitted_no(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strcspn(v, " \t;(");
	if (n != 2 || strncasecmp(v, "no", 2) != 0)
		return 0;
	v += n + strspn(v + n, " \t");
	return *v == '\0' || *v == '(';   /* nothing but a comment may follow */
}

/* An address we must never answer: a robot, or ourselves. */
static const char *
bad_recipient(const struct sg_conf *c, const char *addr)
{
	if (sg_addr_is_robot(addr))
		return "sender is a robot (mailer-daemon, postmaster, owner-, -request, noreply)";
	if (sg_conf_is_support(c, addr, NULL) || (c->support_from[0] != '\0' && strcasecmp(c->support_from, addr) == 0))
		return "sender is one of our own addresses";
	return NULL;
}

const char *
sg_ack_suppressed(const struct sg_conf *c, const struct sg_msginfo *mi, const char *env_from)
{
	const char *to = sg_ack_recipient(mi), *why;

	if (mi->auto_submitted != NULL && !auto_submitted_no(mi->auto_submitted))
		return "Auto-Submitted is not 'no'";
	if (env_from != NULL && (env_from[0] == '\0' || strcmp(env_from, "<>") == 0))
		return "null return path";
	if (mi->from_addr == NULL || to == NULL)
		return "no usable From address";
	/* Both the author and the address the reply would go to. */
	if ((why = bad_recipient(c, mi->from_addr)) != NULL || (why = bad_recipient(c, to)) != NULL)
		return why;
	if (mi->return_path != NULL && strstr(mi->return_path, "<>") != NULL)
		return "null return path";
	if (mi->has_list_headers || sg_msginfo_header(mi, "Mailing-List") != NULL)
		return "List-* or Mailing-List header present";
	if (mi->precedence != NULL &&
	    (list_has(mi->precedence, "bulk") || list_has(mi->precedence, "junk") || list_has(mi->precedence, "list")))
		return "Precedence bulk/junk/list";
	if (mi->x_loop != NULL || sg_msginfo_header(mi, "X-No-Loop") != NULL)
		return "X-Loop or X-No-Loop present";
	if (mi->x_auto_response_suppress != NULL &&
	    (list_has(mi->x_auto_response_suppress, "All") || list_has(mi->x_auto_response_suppress, "OOF") ||
	     list_has(mi->x_auto_response_suppress, "AutoReply")))
		return "X-Auto-Response-Suppress";
	if (mi->is_dsn)
		return "delivery status notification";
	return NULL;
}

const char *
sg_ack_recipient(const struct sg_msginfo *mi)
{
	return mi->reply_to_addr ? mi->reply_to_addr : mi->from_addr;
}

int
sg_ack_prepare(const struct sg_conf *c, const struct sg_ticket *t, const struct sg_msginfo *mi, const char *msgid,
	       const char *template_name, struct sg_rendered *r)
{
	/* Thread under the customer's message, keeping the newest references. */
	GString *refs = g_string_new(NULL);
	size_t start = mi->references.n > SG_ACK_REFS - 1 ? mi->references.n - (SG_ACK_REFS - 1) : 0;
	for (size_t i = start; i < mi->references.n; i++)
		g_string_append_printf(refs, "%s<%s>", refs->len ? " " : "", mi->references.v[i]);
	g_string_append_printf(refs, "%s<%s>", refs->len ? " " : "", msgid);
	/* The body is quoted back only to its author: a Reply-To elsewhere
	 * must not turn the acknowledgement into a reflector of any text. */
	const char *to = sg_ack_recipient(mi);
	int to_author = to != NULL && mi->from_addr != NULL && strcasecmp(to, mi->from_addr) == 0;
	struct sg_notice n = {
		.template_name = template_name ? template_name : "ack",
		.to = to, .to_name = to_author ? t->requestor_name : NULL,
		.excerpt_text = to_author ? mi->body_text : NULL, .in_reply_to = msgid, .references = refs->str,
	};
	int rc = sg_notice_render(c, t, &n, r);
	g_string_free(refs, TRUE);
	return rc;
}

/* Tell admin_address once per address (once for the global cap) per
 * hour that acks were stopped.
 * Rendered here, under the write lock: it happens at most once an hour
 * per address, never on the common path. */
static int
alert_admin(struct sg_op *op, struct sg_ticket *t, const char *to, const char *why)
{
	const struct sg_conf *c = op->c;
	struct sg_rendered r;
	int due = 0, rc;

	if (c->admin_address[0] == '\0' || c->templates == NULL)
		return 0;
	/* The global cap is one event for the admin, not one per sender. */
	const char *about = strstr(why, "global") != NULL ? "*" : to;
	if ((rc = sg_ratelimit_alert_due(op->st, op->txn, about, op->now, &due)) != 0 || !due)
		return rc;
	struct sg_notice n = {
		.template_name = "rate-alert", .lang = c->default_language, .to = c->admin_address, .error = why,
	};
	struct sg_ticket view = *t;
	view.requestor = (char *)to;   /* the alert names the address that was limited */
	if (sg_notice_render(c, &view, &n, &r) == 0)
		rc = sg_notice_queue(op, t, "rate-limit alert", c->admin_address, &r, 0, NULL);
	sg_rendered_clear(&r);
	return rc;
}

int
sg_ack_queue(struct sg_op *op, struct sg_ticket *t, const struct sg_msginfo *mi, const struct sg_rendered *r,
	     int *queued)
{
	const char *to = sg_ack_recipient(mi), *why = r->why;
	uint64_t job = 0;
	int rc = 0;

	*queued = 0;
	if (why == NULL && r->msg == NULL)
		why = "nothing rendered";
	if (why == NULL && (rc = sg_ratelimit_check(op->st, op->txn, to, op->c->ack_limit_global, op->now, &why, 1)) != 0)
		return rc;
	if (why != NULL) {
		/* Once per address and hour in the log; every time in the trail. */
		char *key = sg_xasprintf("log-ack:%s:%s", to ? to : "?", why);
		unsigned held = 0;
		if (sg_lograte_allow(key, op->now, 3600, &held))
			sg_log_ctx(SG_LOG_WARN, MOD, op->queue_id, t->id, "no acknowledgement: %s (to %s; %u more since)",
				   why, to ? to : "?", held);
		free(key);
		rc = sg_event_emit(op, t, SG_EV_ACK_SUPPRESSED, NULL, NULL, "no acknowledgement: %s", why);
		if (rc == 0 && to != NULL && strstr(why, "limit") != NULL)
			rc = alert_admin(op, t, to, why);
		return rc;
	}
	if ((rc = sg_notice_queue(op, t, "acknowledgement", to, r, SG_NOTICE_HISTORY, &job)) != 0)
		return rc;
	*queued = 1;
	return sg_event_emit(op, t, SG_EV_ACK, NULL, to, "acknowledgement (%s) queued to %s as job %llu", r->lang, to,
			     (unsigned long long)job);
}
