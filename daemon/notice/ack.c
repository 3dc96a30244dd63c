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

const char *
sg_ack_suppressed(const struct sg_conf *c, const struct sg_msginfo *mi, const char *env_from)
{
	const char *from = mi->from_addr;

	if (mi->auto_submitted != NULL && strncasecmp(mi->auto_submitted, "no", 2) != 0)
		return "Auto-Submitted is not 'no'";
	if (env_from != NULL && (env_from[0] == '\0' || strcmp(env_from, "<>") == 0))
		return "null return path";
	if (from == NULL)
		return "no usable From address";
	if (sg_addr_is_robot(from) || (mi->return_path != NULL && strstr(mi->return_path, "<>") != NULL))
		return "sender is a robot (mailer-daemon, postmaster, owner-, -request, noreply)";
	if (mi->has_list_headers)
		return "List-* header present";
	if (mi->precedence != NULL &&
	    (list_has(mi->precedence, "bulk") || list_has(mi->precedence, "junk") || list_has(mi->precedence, "list")))
		return "Precedence bulk/junk/list";
	if (mi->x_loop != NULL)
		return "X-Loop present";
	if (mi->x_auto_response_suppress != NULL &&
	    (list_has(mi->x_auto_response_suppress, "All") || list_has(mi->x_auto_response_suppress, "OOF") ||
	     list_has(mi->x_auto_response_suppress, "AutoReply")))
		return "X-Auto-Response-Suppress";
	if (mi->is_dsn)
		return "delivery status notification";
	if (sg_conf_is_support(c, from, NULL) ||
	    (c->support_from[0] != '\0' && strcasecmp(c->support_from, from) == 0))
		return "sender is one of our own addresses";
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
	struct sg_notice n = {
		.template_name = template_name ? template_name : "ack",
		.to = sg_ack_recipient(mi), .to_name = t->requestor_name,
		.excerpt_text = mi->body_text, .in_reply_to = msgid, .references = refs->str,
	};
	int rc = sg_notice_render(c, t, &n, r);
	g_string_free(refs, TRUE);
	return rc;
}

/* Tell admin_address once per address per hour that acks were stopped.
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
	if ((rc = sg_ratelimit_alert_due(op->st, op->txn, to, op->now, &due)) != 0 || !due)
		return rc;
	struct sg_notice n = {
		.template_name = "rate-alert", .lang = c->default_language, .to = c->admin_address, .error = why,
	};
	struct sg_ticket view = *t;
	view.requestor = (char *)to;   /* the alert names the address that was limited */
	if (sg_notice_render(c, &view, &n, &r) != 0)
		return 0;
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
		sg_log_ctx(SG_LOG_WARN, MOD, op->queue_id, t->id, "no acknowledgement: %s (to %s)", why, to ? to : "?");
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
