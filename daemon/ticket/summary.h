/*
 * summary — a ticket as JSON: the fields of `supportgate show --json` and
 * `tickets --json` (the CLI's interface, supportgate(1)) and of the
 * "ticket" object of a webhook payload, so the two never drift apart.
 *
 * sg_ticket_summary_json(): a new jansson object (caller json_decref()s)
 *   with id, token, status, queue, priority, subject, requestor,
 *   requestor_name, assignee, messages, created, updated, linked, and
 *   sla: { tier, service, first_response_due, first_response_at, due,
 *   resolved_at, paused_since, paused_seconds, paused_business_seconds,
 *   reopens, fired (names of the thresholds fired:
 *   "first-response-warning", "first-response-breach",
 *   "resolution-warning", "resolution-breach"), overdue_reason, rating };
 *   times RFC 3339 in UTC, absent values null. Never fails, never blocks.
 * sg_json_time(): an RFC 3339 UTC string, or null for 0.
 * sg_json_str(): a JSON string of s, null for NULL; bytes of a string
 *   that is not UTF-8 become '?' (jansson takes UTF-8 only), so a field is
 *   never dropped.
 */
#ifndef SG_SUMMARY_H
#define SG_SUMMARY_H

#include <jansson.h>
#include <stdint.h>

#include "conf/conf.h"
#include "model/ticket.h"

json_t *sg_ticket_summary_json(const struct sg_conf *c, const struct sg_ticket *t);
json_t *sg_json_time(int64_t t);
json_t *sg_json_str(const char *s);

#endif
