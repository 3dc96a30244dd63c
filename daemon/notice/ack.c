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
#include "lib/log.h"
#include "outbound/queue.h"
#include "store/record.h"
#include "store/store.h"
#include "templates/template.h"
#include "mail/token.h"
#include "lib/xalloc.h"

#define MOD "ack"
#define SG_ACK_KEEP 64          /* send times remembered per address */
#define SG_ACK_REFS 10          /* References we carry over */

static const struct {
	int64_t window;
	unsigned max;
} limits[] = {
	{ 600, 10 }, { 3600, 25 }, { 3 * 3600, 50 }, { 86400, 40 },
};

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
sg_ack_language(const struct sg_conf *c, const struct sg_ticket *t, const struct sg_msginfo *mi)
{
	if (t->language != NULL && *t->language)
		return t->language;
	if (mi->language_hint != NULL)
		return mi->language_hint;
	return c->default_language;
}

/* Per-address sliding windows over the recent send times (the largest
 * limit is 50, so 64 remembered times are enough). */
static int
rate_address(struct sg_store *st, struct sg_txn *txn, const char *addr, int64_t now, const char **why, int record)
{
	char *key = sg_xasprintf(SG_KV_ACK, addr), *raw = NULL;
	size_t len = 0, n;
	int64_t times[SG_ACK_KEEP + 1];
	unsigned char buf[(SG_ACK_KEEP + 1) * 8];
	int rc = sg_store_kv_get(st, txn, key, &raw, &len);

	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		goto out;
	n = rc == 0 ? len / 8 : 0;
	if (n > SG_ACK_KEEP)
		n = SG_ACK_KEEP;
	for (size_t i = 0; i < n; i++)
		times[i] = (int64_t)sg_key_get_u64((unsigned char *)raw + i * 8);
	rc = 0;
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]) && *why == NULL; l++) {
		unsigned cnt = 0;
		for (size_t i = 0; i < n; i++)
			cnt += now - times[i] < limits[l].window;
		if (cnt >= limits[l].max)
			*why = "rate limit for this address reached";
	}
	if (*why != NULL || !record)
		goto out;
	if (n == SG_ACK_KEEP) {
		memmove(times, times + 1, (n - 1) * sizeof(times[0]));
		n--;
	}
	times[n++] = now;
	for (size_t i = 0; i < n; i++)
		sg_key_u64(buf + i * 8, (uint64_t)times[i]);
	rc = sg_store_kv_put(st, txn, key, buf, n * 8);
out:
	free(raw);
	free(key);
	return rc;
}

/* Global cap: a counter per clock hour. */
static int
rate_global(struct sg_store *st, struct sg_txn *txn, long max, int64_t now, const char **why, int record)
{
	char *raw = NULL;
	size_t len = 0;
	uint64_t hour = (uint64_t)now / 3600, count = 0;
	unsigned char buf[16];
	int rc = sg_store_kv_get(st, txn, SG_KV_ACK_GLOBAL, &raw, &len);

	if (rc != 0 && rc != SG_STORE_NOTFOUND)
		return rc;
	if (rc == 0 && len == 16 && sg_key_get_u64((unsigned char *)raw) == hour)
		count = sg_key_get_u64((unsigned char *)raw + 8);
	free(raw);
	if (count >= (uint64_t)max) {
		*why = "global acknowledgement limit reached";
		return 0;
	}
	if (!record)
		return 0;
	sg_key_u64(buf, hour);
	sg_key_u64(buf + 8, count + 1);
	return sg_store_kv_put(st, txn, SG_KV_ACK_GLOBAL, buf, 16);
}

static char *
excerpt(const char *body)
{
	size_t n = 0, lines = 0;
	const char *p = body ? body : "";

	while (p[n] && n < 600 && lines < 8) {
		if (p[n] == '\n')
			lines++;
		n++;
	}
	while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
		n--;
	char *e = sg_xstrndup(p, n);
	/* quote continuation lines like the first ("> ") */
	GString *g = g_string_new(NULL);
	for (char *q = e; *q; q++) {
		g_string_append_c(g, *q);
		if (*q == '\n' && q[1] != '\0')
			g_string_append(g, "> ");
	}
	free(e);
	e = sg_xstrdup(g->str);
	g_string_free(g, TRUE);
	while (*e && e[strlen(e) - 1] == '\n')
		e[strlen(e) - 1] = '\0';
	return e;
}

/* Tell admin_address once per address per hour that acks were stopped. */
static int
alert_admin(struct sg_store *st, struct sg_txn *txn, const struct sg_conf *c, const struct sg_ticket *t,
	    const char *to, const char *why, const char *from, int64_t now)
{
	char *key, *raw = NULL, *msg, *mid, *token;
	size_t len = 0;
	unsigned char buf[8];
	int rc;

	if (c->admin_address[0] == '\0' || c->templates == NULL || from == NULL)
		return 0;
	key = sg_xasprintf(SG_KV_ALERT, to);
	rc = sg_store_kv_get(st, txn, key, &raw, &len);
	if (rc == 0 && len == 8 && now - (int64_t)sg_key_get_u64((unsigned char *)raw) < 3600) {
		free(raw);
		free(key);
		return 0;
	}
	free(raw);
	if (rc != 0 && rc != SG_STORE_NOTFOUND) {
		free(key);
		return rc;
	}
	sg_key_u64(buf, (uint64_t)now);
	if ((rc = sg_store_kv_put(st, txn, key, buf, 8)) != 0) {
		free(key);
		return rc;
	}
	free(key);
	token = sg_token_format(c->ticket_tag, t->id, c->token_secret, c->token_secret_len);
	mid = sg_token_msgid_format(t->id, c->token_secret, c->token_secret_len, sg_addr_domain(from));
	struct sg_template_values tv = { 0 };
	sg_template_set(&tv, SG_TV_TOKEN, token);
	sg_template_set(&tv, SG_TV_SUBJECT, t->subject);
	sg_template_set(&tv, SG_TV_CUSTOMER_ADDRESS, to);
	sg_template_set(&tv, SG_TV_ERROR, why);
	struct sg_mail_envelope env = {
		.from_name = c->support_name, .from_addr = from, .to_addr = c->admin_address,
		.message_id = mid, .loop_header = from, .auto_submitted = 1,
	};
	msg = sg_template_render(c->templates, c->default_language, "rate-alert", &tv, &env, &len);
	if (msg != NULL)
		rc = sg_queue_mail(st, txn, t->id, "rate-limit alert", from, c->admin_address, msg, len, now, NULL);
	free(msg);
	free(mid);
	free(token);
	return rc;
}

int
sg_ack_queue(struct sg_store *st, struct sg_txn *txn, const struct sg_conf *c, struct sg_ticket *t,
	     const struct sg_msginfo *mi, const char *msgid, int64_t now, int *queued)
{
	const char *why = NULL;
	const char *to = mi->reply_to_addr ? mi->reply_to_addr : mi->from_addr;
	const char *from = c->support_from[0] ? c->support_from : c->support_address.n ? c->support_address.v[0] : NULL;
	char *detail;
	int rc;

	*queued = 0;
	if (c->templates == NULL)
		why = "no templates loaded";
	else if (from == NULL || to == NULL)
		why = "no sender or recipient address";
	if (why == NULL) {
		rc = rate_address(st, txn, to, now, &why, 0);
		if (rc == 0 && why == NULL)
			rc = rate_global(st, txn, c->ack_limit_global, now, &why, 0);
		if (rc != 0)
			return rc;
	}
	if (why != NULL) {
		detail = sg_xasprintf("no acknowledgement: %s", why);
		rc = sg_store_event_add(st, txn, t->id, "ack-suppressed", "system", detail);
		sg_log_ctx(SG_LOG_WARN, MOD, NULL, t->id, "%s (to %s)", detail, to ? to : "?");
		free(detail);
		if (rc == 0 && to != NULL && strstr(why, "limit") != NULL)
			rc = alert_admin(st, txn, c, t, to, why, from, now);
		return rc;
	}
	if ((rc = rate_address(st, txn, to, now, &why, 1)) != 0 ||
	    (rc = rate_global(st, txn, c->ack_limit_global, now, &why, 1)) != 0)
		return rc;

	const char *lang = sg_ack_language(c, t, mi);
	char *token = sg_token_format(c->ticket_tag, t->id, c->token_secret, c->token_secret_len);
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)t->id);
	char *ex = excerpt(mi->body_text);
	struct sg_template_values tv = { 0 };
	sg_template_set(&tv, SG_TV_TOKEN, token);
	sg_template_set(&tv, SG_TV_ID, idbuf);
	sg_template_set(&tv, SG_TV_SUBJECT, t->subject);
	sg_template_set(&tv, SG_TV_STATUS, sg_status_name(t->status));
	sg_template_set(&tv, SG_TV_QUEUE, t->queue ? t->queue : "default");
	sg_template_set(&tv, SG_TV_PRIORITY, sg_priority_name(t->priority));
	sg_template_set(&tv, SG_TV_CUSTOMER_NAME, t->requestor_name ? t->requestor_name : to);
	sg_template_set(&tv, SG_TV_CUSTOMER_ADDRESS, to);
	sg_template_set(&tv, SG_TV_EXCERPT, ex);
	sg_template_set(&tv, SG_TV_SUPPORT_ADDRESS, from);
	sg_template_set(&tv, SG_TV_SUPPORT_NAME, c->support_name);

	char *our_id = sg_token_msgid_format(t->id, c->token_secret, c->token_secret_len, sg_addr_domain(from));
	GString *refs = g_string_new(NULL);
	size_t start = mi->references.n > SG_ACK_REFS - 1 ? mi->references.n - (SG_ACK_REFS - 1) : 0;
	for (size_t i = start; i < mi->references.n; i++)
		g_string_append_printf(refs, "%s<%s>", refs->len ? " " : "", mi->references.v[i]);
	g_string_append_printf(refs, "%s<%s>", refs->len ? " " : "", msgid);
	struct sg_mail_envelope env = {
		.from_name = c->support_name, .from_addr = from,
		.to_name = t->requestor_name, .to_addr = to,
		.message_id = our_id, .in_reply_to = msgid, .references = refs->str,
		.loop_header = from, .auto_submitted = 1,
	};
	size_t len = 0;
	char *msg = sg_template_render(c->templates, lang, "ack", &tv, &env, &len);
	g_string_free(refs, TRUE);
	free(ex);
	rc = 0;
	if (msg == NULL) {
		rc = sg_store_event_add(st, txn, t->id, "ack-suppressed", "system", "no acknowledgement: template 'ack' missing");
		goto out;
	}

	/* The ack is part of the ticket's history, and replies to it thread. */
	struct sg_msgrec m = { 0 };
	m.ticket = t->id;
	m.direction = SG_DIR_OUT;
	m.from = (char *)from;
	m.message_id = our_id;
	m.subject = t->subject;
	m.date = now;
	m.received = now;
	m.size = len;
	if ((rc = sg_store_message_add(st, txn, &m, msg, len)) != 0)
		goto out;
	t->nmessages++;

	uint64_t job_id = 0;
	rc = sg_queue_mail(st, txn, t->id, "acknowledgement", from, to, msg, len, now, &job_id);
	if (rc == 0) {
		detail = sg_xasprintf("acknowledgement (%s) queued to %s as job %llu", lang, to, (unsigned long long)job_id);
		rc = sg_store_event_add(st, txn, t->id, "ack", "system", detail);
		free(detail);
	}
	if (rc == 0)
		*queued = 1;
out:
	free(msg);
	free(our_id);
	free(token);
	return rc;
}

int
sg_ack_notice(struct sg_store *st, struct sg_txn *txn, const struct sg_conf *c, const struct sg_ticket *t,
	      const char *addr, const char *why, const char *excerpt_text, int64_t now)
{
	const char *from = c->support_from[0] ? c->support_from : c->support_address.n ? c->support_address.v[0] : NULL;
	char *to = sg_addr_normalize(addr);
	int rc = 0;

	if (c->templates == NULL || from == NULL || to == NULL) {
		free(to);
		return 0;
	}
	char *token = sg_token_format(c->ticket_tag, t->id, c->token_secret, c->token_secret_len);
	char *mid = sg_token_msgid_format(t->id, c->token_secret, c->token_secret_len, sg_addr_domain(from));
	char *ex = excerpt(excerpt_text);
	struct sg_template_values tv = { 0 };
	sg_template_set(&tv, SG_TV_TOKEN, token);
	sg_template_set(&tv, SG_TV_SUBJECT, t->subject);
	sg_template_set(&tv, SG_TV_QUEUE, t->queue ? t->queue : "default");
	sg_template_set(&tv, SG_TV_PRIORITY, sg_priority_name(t->priority));
	sg_template_set(&tv, SG_TV_AGENT_NAME, t->assignee ? t->assignee : "-");
	sg_template_set(&tv, SG_TV_CUSTOMER_NAME, t->requestor_name ? t->requestor_name : t->requestor);
	sg_template_set(&tv, SG_TV_CUSTOMER_ADDRESS, t->requestor);
	sg_template_set(&tv, SG_TV_EXCERPT, ex);
	sg_template_set(&tv, SG_TV_ERROR, why);
	struct sg_mail_envelope env = {
		.from_name = c->support_name, .from_addr = from, .to_addr = to,
		.message_id = mid, .loop_header = from, .auto_submitted = 1,
	};
	size_t len = 0;
	char *msg = sg_template_render(c->templates, c->default_language, "notify", &tv, &env, &len);
	if (msg != NULL) {
		rc = sg_queue_mail(st, txn, t->id, "notice", from, to, msg, len, now, NULL);
		if (rc == 0) {
			char *detail = sg_xasprintf("notice to %s: %s", to, why);
			rc = sg_store_event_add(st, txn, t->id, "notify", "system", detail);
			free(detail);
		}
	}
	free(msg);
	free(ex);
	free(mid);
	free(token);
	free(to);
	return rc;
}
