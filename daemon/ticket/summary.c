/*
 * summary — see summary.h.
 */
#include "config.h"
#include "ticket/summary.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/token.h"

json_t *
sg_json_time(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[40];

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

json_t *
sg_json_str(const char *s)
{
	json_t *v;

	if (s == NULL)
		return json_null();
	if ((v = json_string(s)) != NULL)
		return v;
	/* not UTF-8 (a header stored raw): keep the ASCII, mark the rest */
	char *copy = strdup(s);
	if (copy == NULL)
		return json_null();
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v != NULL ? v : json_null();
}

#define jstr sg_json_str

/* The SLA state (ticket/slatime.h), one object. */
static json_t *
sla_json(const struct sg_ticket *t)
{
	static const struct {
		unsigned bit;
		const char *name;
	} bits[] = {
		{ SG_SLA_FR_WARN, "first-response-warning" }, { SG_SLA_FR_BREACH, "first-response-breach" },
		{ SG_SLA_RES_WARN, "resolution-warning" }, { SG_SLA_RES_BREACH, "resolution-breach" },
	};
	json_t *o = json_object(), *fired = json_array();

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (t->sla_fired & bits[i].bit)
			json_array_append_new(fired, json_string(bits[i].name));
	json_object_set_new(o, "tier", jstr(t->sla_tier));
	json_object_set_new(o, "service", jstr(t->service));
	json_object_set_new(o, "first_response_due", sg_json_time(t->first_response_due));
	json_object_set_new(o, "first_response_at", sg_json_time(t->first_response_at));
	json_object_set_new(o, "due", sg_json_time(t->due));
	json_object_set_new(o, "resolved_at", sg_json_time(t->resolved_at));
	json_object_set_new(o, "paused_since", sg_json_time(t->paused_since));
	json_object_set_new(o, "paused_seconds", json_integer(t->paused_secs));
	json_object_set_new(o, "paused_business_seconds", json_integer(t->paused_bsecs));
	json_object_set_new(o, "reopens", json_integer(t->reopens));
	json_object_set_new(o, "fired", fired);
	json_object_set_new(o, "overdue_reason", jstr(t->reason));
	json_object_set_new(o, "rating", t->rating ? json_integer(t->rating) : json_null());
	return o;
}

json_t *
sg_ticket_summary_json(const struct sg_conf *c, const struct sg_ticket *t)
{
	char *token = sg_token_format(c->ticket_tag, t->id, c->token_secret, c->token_secret_len);
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer((json_int_t)t->id));
	json_object_set_new(o, "token", json_string(token));
	json_object_set_new(o, "status", json_string(sg_status_name(t->status)));
	json_object_set_new(o, "queue", json_string(t->queue ? t->queue : "default"));
	json_object_set_new(o, "priority", json_string(sg_priority_name(t->priority)));
	json_object_set_new(o, "subject", jstr(t->subject));
	json_object_set_new(o, "requestor", jstr(t->requestor));
	json_object_set_new(o, "requestor_name", jstr(t->requestor_name));
	json_object_set_new(o, "assignee", jstr(t->assignee));
	json_object_set_new(o, "messages", json_integer(t->nmessages));
	json_object_set_new(o, "created", sg_json_time(t->created));
	json_object_set_new(o, "updated", sg_json_time(t->updated));
	json_object_set_new(o, "linked", t->linked ? json_integer((json_int_t)t->linked) : json_null());
	json_object_set_new(o, "sla", sla_json(t));
	free(token);
	return o;
}
