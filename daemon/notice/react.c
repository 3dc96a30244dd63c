/*
 * react — see react.h.
 */
#include "config.h"
#include "notice/react.h"

#include <stdlib.h>

#include "conf/conf.h"
#include "lib/xalloc.h"
#include "rules/rules.h"

int
sg_notice_queue_rendered(struct sg_op *op, struct sg_ticket *t, const char *to, const struct sg_rendered *r,
			 const char *why)
{
	int rc;

	if (r->msg == NULL)
		return 0;
	if ((rc = sg_notice_queue(op, t, "notice", to, r, 0, NULL)) != 0)
		return rc;
	return sg_event_emit(op, t, SG_EV_NOTIFY, NULL, to, "notice to %s: %s", to, why);
}

int
sg_notice_send(struct sg_op *op, struct sg_ticket *t, const struct sg_notice *n, const char *why)
{
	struct sg_rendered r;
	int rc = 0;

	if (sg_notice_render(op->c, t, n, &r) == 0)
		rc = sg_notice_queue_rendered(op, t, n->to, &r, why);
	sg_rendered_clear(&r);
	return rc;
}

/* More than two hands: the queue's manager hears of it at once. */
static int
on_pingpong(struct sg_op *op, struct sg_ticket *t, const struct sg_event_view *ev, void *arg)
{
	const struct sg_rules *r = op->c->rules;
	const struct sg_queue_def *q = r && t && t->queue ? sg_rules_queue(r, t->queue) : NULL;

	(void)ev;
	(void)arg;
	if (q == NULL || q->manager == NULL)
		return 0;
	char *why = sg_xasprintf("passed through %u hands (ping-pong)", t->transfers);
	struct sg_notice n = {
		.template_name = "notify", .lang = op->c->default_language, .to = q->manager, .error = why,
	};
	int rc = sg_notice_send(op, t, &n, why);
	free(why);
	return rc;
}

void
sg_notice_subscribe(void)
{
	sg_event_subscribe(SG_EV_PINGPONG, on_pingpong, NULL);
}
