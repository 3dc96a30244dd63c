/*
 * test-ticket — names, parsing and the status transition table (T3).
 */
#include "config.h"

#include <stdlib.h>

#include "model/ticket.h"
#include "tap.h"

static void
test_names(void)
{
	for (int s = 0; s < SG_ST_COUNT; s++)
		is_int(sg_status_parse(sg_status_name(s)), s, "status %s round-trips", sg_status_name(s));
	for (int p = 0; p < SG_PRIO_COUNT; p++)
		is_int(sg_priority_parse(sg_priority_name(p)), p, "priority %s round-trips", sg_priority_name(p));
	is_int(sg_status_parse("Resolved"), SG_ST_RESOLVED, "status parse ignores case");
	is_int(sg_status_parse("done"), -1, "unknown status");
}

static void
test_transitions(void)
{
	static const struct { int from, to, ok; } tr[] = {
		{ SG_ST_NEW, SG_ST_OPEN, 1 }, { SG_ST_OPEN, SG_ST_PENDING, 1 },
		{ SG_ST_PENDING, SG_ST_OPEN, 1 }, { SG_ST_PENDING, SG_ST_RESOLVED, 1 },
		{ SG_ST_RESOLVED, SG_ST_OPEN, 1 }, { SG_ST_RESOLVED, SG_ST_CLOSED, 1 },
		{ SG_ST_RESOLVED, SG_ST_PENDING, 0 }, { SG_ST_CLOSED, SG_ST_RESOLVED, 0 },
		{ SG_ST_CLOSED, SG_ST_OPEN, 1 }, { SG_ST_OPEN, SG_ST_NEW, 0 },
	};
	for (size_t i = 0; i < sizeof(tr) / sizeof(tr[0]); i++)
		is_int(sg_ticket_transition_ok(tr[i].from, tr[i].to), tr[i].ok, "%s -> %s",
		       sg_status_name(tr[i].from), sg_status_name(tr[i].to));
}

static void
test_strlist(void)
{
	struct sg_strlist l = { 0 };

	sg_strlist_add(&l, "a@x", 1);
	sg_strlist_add(&l, "A@X", 1);
	sg_strlist_add(&l, "b@x", 1);
	is_int((long long)l.n, 2, "unique add ignores case duplicates");
	ok(sg_strlist_has(&l, "B@x"), "has ignores case");
	sg_strlist_clear(&l);
	ok(l.n == 0 && l.v == NULL, "clear empties");
}

static void
test_clear(void)
{
	struct sg_ticket t = { 0 };

	t.subject = malloc(4);
	sg_strlist_add(&t.tags, "vip", 0);
	sg_ticket_clear(&t);
	sg_ticket_clear(&t);
	ok(t.subject == NULL && t.tags.n == 0, "clear is safe twice");
}

static const struct sg_test tests[] = {
	{ "names", test_names },
	{ "transitions", test_transitions },
	{ "strlist", test_strlist },
	{ "clear", test_clear },
};

int
main(void)
{
	return SG_TEST_RUN(tests);
}
