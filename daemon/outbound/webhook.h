/*
 * webhook — ticket events POSTed as signed JSON to the endpoints named in
 * the configuration (`webhook NAME { url, secret_file, events,
 * allow_private, timeout }`, supportgate.conf(5)), through the durable
 * outbound queue: a webhook is a job (kind SG_JOB_WEBHOOK) created in the
 * transaction of the event, delivered by the outbound worker with the
 * same backoff and dead letters as mail, in creation order per ticket on
 * a lane of its own (queue.h).
 *
 * Jobs. sg_webhook_queue() makes one inside the caller's write
 * transaction: rcpts = { "webhook:NAME" } (what `supportgate queue`
 * shows), what = "webhook NAME (TYPE)", mail_from = TYPE (the event
 * type, for X-Supportgate-Event), payload = the JSON body:
 *   { "id": JOB, "webhook": NAME,
 *     "event": { "type", "time", "actor", "old", "new", "detail" },
 *     "ticket": { the fields of `supportgate show --json` } or null }
 * The body is fixed when the event happens (the ticket as it was then);
 * "id" is the same on every attempt, so a receiver drops the copy it may
 * get twice when the process died between the endpoint's 2xx and the
 * job's removal (at-least-once, like mail). Returns 0 or a store code.
 * sg_webhook_subscribe(): at start-up: every event type whose name an
 *   endpoint lists in `events` is queued to it (read from op->c, so a
 *   reload changes the subscriptions). Events recorded by the actor
 *   SG_WEBHOOK_ACTOR (a webhook's own sent/dead-letter) are never sent.
 *
 * Delivery. sg_webhook_deliver(c, j, now, ...): one POST with
 *   Content-Type: application/json,
 *   X-Supportgate-Event: TYPE, X-Supportgate-Delivery: JOB,
 *   X-Supportgate-Signature: t=NOW,v1=HEX
 * where HEX = lower-case HMAC-SHA256 (GnuTLS) with the endpoint's secret
 * over "NOW.BODY" (the receiver recomputes it and refuses an old t: a
 * replayed request is stale). 2xx: done (0). 4xx other than 408 and 429,
 * a refused address, an endpoint no longer configured: -1 with
 * *permanent = 1 (a dead letter). Anything else: -1, retried. *err is a
 * new string on failure. Blocks up to the endpoint's timeout. No
 * redirects are followed and no proxy is used.
 *
 * Addresses (SSRF). The check runs on the address libcurl is about to
 * connect to (CURLOPT_OPENSOCKETFUNCTION), after its own resolution, so a
 * name that resolves elsewhere at delivery time (DNS rebinding) gains
 * nothing. sg_webhook_addr_class(): SG_ADDR_PUBLIC; SG_ADDR_PRIVATE
 *   (loopback 127/8 and ::1, 10/8, 172.16/12, 192.168/16, 100.64/10,
 *   fc00::/7, fec0::/10: allowed only with allow_private); SG_ADDR_BLOCKED
 *   (never: link-local 169.254/16 and fe80::/10, where the cloud metadata
 *   services live, the metadata addresses 169.254.169.254, 100.100.100.200
 *   and fd00:ec2::254 even with allow_private, 0/8, multicast, reserved
 *   and broadcast, the unspecified address). IPv4-mapped and NAT64
 *   (64:ff9b::/96) IPv6 addresses are judged by their IPv4 address.
 *   *why (may be NULL) gets a static description.
 */
#ifndef SG_WEBHOOK_H
#define SG_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "conf/conf.h"
#include "store/record.h"
#include "ticket/event.h"

#define SG_WEBHOOK_ACTOR "webhook"

enum sg_addr_class { SG_ADDR_PUBLIC = 0, SG_ADDR_PRIVATE, SG_ADDR_BLOCKED };

int sg_webhook_queue(struct sg_op *op, const struct sg_ticket *t, uint64_t ticket, const struct sg_webhook *w,
		     const struct sg_event_view *ev);
void sg_webhook_subscribe(void);
int sg_webhook_deliver(const struct sg_conf *c, const struct sg_job *j, int64_t now, char **err, int *permanent);

enum sg_addr_class sg_webhook_addr_class(const struct sockaddr *sa, const char **why);
/* "t=TS,v1=HEX" for body with secret (new string). */
char *sg_webhook_signature(const void *secret, size_t slen, int64_t ts, const char *body, size_t blen);
/* HEX of HMAC-SHA256(key, data) (new string, 64 characters). */
char *sg_webhook_hmac_hex(const void *key, size_t klen, const void *data, size_t dlen);

#endif
