/*
 * rules — the rule language of supportgate (supportgate.rules(5)).
 *
 * A rules file is a list of lines (a trailing '\' continues a line; '#'
 * starts a comment outside strings and regexes):
 *
 *   queue NAME [mailbox=ADDR] [agents=A,B] [strategy=round-robin|least-open|none]
 *              [sla=TIER] [manager=ADDR] [blind=yes|no]
 *   agent ADDR [name="Full Name"] [groups=Q1,Q2] [away=yes|no]
 *   segment NAME list="FILE" | domains=D1,D2
 *   sla NAME first-response=4h resolution=2d [calendar=NAME] [warn=80%]
 *   calendar NAME hours="mon-fri 09:00-18:00" [tz=ZONE] [holidays="FILE"]
 *   service NAME resolution=4h|3bd [calendar=NAME]
 *   include "FILE"
 *   rule NAME: CONDITION => ACTION, ACTION, ...
 *
 * CONDITION: FIELD OP VALUE combined with and, or, not and parentheses, or
 * the word always. FIELDs: from to cc subject body env-from env-rcpt
 * header:NAME attachment-name attachment-type size segment queue status
 * door auth. OPs: ~ and !~ with /regex/flags (PCRE2, flags i m s x u),
 * = and != with a "string", in "FILE" (one address or domain per line,
 * relative to the rules file), > and < for size (K, M, G suffixes,
 * powers of 1024; a size beyond 64 bits is an error).
 * ACTIONs: queue NAME, priority low|normal|high|urgent, sla NAME,
 * segment NAME, tag WORD, assign [ADDR], template NAME|none,
 * language CODE, notify ADDR, webhook NAME, reject "TEXT", tempfail,
 * quarantine, stop, continue, service NAME. A calendar, a tier's
 * calendar and a rule's service must be declared before their use;
 * holidays="FILE" is relative to the rules file (calendar/calendar.h). Rules run in order; the first match stops
 * unless its actions say continue.
 *
 * Bounds, each a file:line:col error when exceeded:
 *  - includes nest at most SG_RULES_MAX_INCLUDE files deep (the top file
 *    is depth 0), and a rule set reads at most SG_RULES_MAX_INCLUDES files
 *    by include (each include counts); a file including itself, directly
 *    or through others, is an error at that include;
 *  - a list file (in "FILE", segment list="FILE") has lines of at most
 *    SG_RULES_MAX_LIST_LINE bytes and at most SG_RULES_MAX_LIST_ENTRIES
 *    distinct entries (reported with the list's own file:line);
 *  - a condition nests "not" and parentheses at most SG_RULES_MAX_NESTING
 *    deep: the parser, evaluator and free recurse once per level, so this
 *    also bounds their stack (and/or chains of any length cost none);
 *  - an SLA duration is at most SG_RULES_MAX_DURATION days (a due time,
 *    now + duration, never overflows).
 *
 * Compiled once with PCRE2 JIT and explicit match/depth/heap limits; a
 * regex hitting a limit counts as no match and is logged with the rule
 * (at most once per rule and SG_RULES_LOG_WINDOW seconds).
 *
 * Regex work per message is budgeted, so that hostile mail against a
 * catastrophic rule (or a thousand of them) takes bounded time. PCRE2's
 * limits bound the work at one start position of one match, not the
 * sum: a body of 64 KiB gives a pattern 65,536 start positions, and
 * /(?=\w*[bc])/ spends seconds on 64 KiB of 'a' without reaching a
 * limit. So each evaluation has
 *  - a wall-clock bound (SG_RULES_BUDGET_MS), checked before every
 *    pcre2_match() call; texts longer than SG_RULES_RE_WINDOW bytes are
 *    searched in windows of that many start positions (an eighth of it
 *    without JIT; PCRE2's offset limit; the result is the same as one
 *    call), with the check between windows;
 *  - a unit bound (SG_RULES_BUDGET_UNITS): a match stopped by its match,
 *    depth or heap limit spends the match limit it was given (at most
 *    SG_RULES_RE_MATCH_LIMIT units); every match runs with no more than
 *    what is left. This one is deterministic: the time bound depends on
 *    the machine.
 * Once either is spent, every later regex condition of that evaluation
 * counts as no match without running (so "!~" holds; "=", "in" and size
 * conditions are still evaluated), the route says so (budget_exhausted,
 * budget_rule) and one warning is logged (rate-limited per rule by
 * sg_lograte_allow()). A pattern using \G or a (*VERB) is never split
 * into windows (its meaning depends on the start offset): it can only be
 * stopped between matches. Nor can one start position be interrupted:
 * under JIT a simple repeat backtracks without counting against the
 * match limit, so /order\s*#?\s*\d+/i on "order" and 64 KiB of spaces
 * spends about a second at its one start position before the budget
 * can stop anything (the interpreter would count it and stop).
 * Errors: "file:line:col: message", all of them, load fails.
 * A struct sg_rules is immutable after load; free with sg_rules_free().
 */
#ifndef SG_RULES_H
#define SG_RULES_H

#include <stddef.h>
#include <stdio.h>

#include "lib/diag.h"
#include "mail/message.h"
#include "model/ticket.h"

struct sg_rules;

#define SG_RULES_MAX_INCLUDE 8
#define SG_RULES_MAX_INCLUDES 100
#define SG_RULES_MAX_NESTING 64
#define SG_RULES_MAX_LIST_LINE 4096
#define SG_RULES_MAX_LIST_ENTRIES 10000
#define SG_RULES_MAX_DURATION 3650   /* days */
/* Per match (pcre2_set_match_limit/depth_limit/heap_limit, heap in KiB). */
#define SG_RULES_RE_MATCH_LIMIT 200000
#define SG_RULES_RE_DEPTH_LIMIT 2000
#define SG_RULES_RE_HEAP_LIMIT 8192
/* Per evaluation: wall-clock milliseconds and match-limit units of regex
 * work (16 matches stopped by a limit), and the start positions searched
 * by one pcre2_match() call on a long text. */
#define SG_RULES_BUDGET_MS 250
#define SG_RULES_BUDGET_UNITS (16UL * SG_RULES_RE_MATCH_LIMIT)
#define SG_RULES_RE_WINDOW 1024
/* One warning per rule and window about limits and the budget. */
#define SG_RULES_LOG_WINDOW 600

enum sg_strategy { SG_STRAT_NONE = 0, SG_STRAT_ROUND_ROBIN, SG_STRAT_LEAST_OPEN };

struct sg_queue_def {
	char *name, *mailbox, *sla, *manager;
	struct sg_strlist agents;
	enum sg_strategy strategy;
	int blind;          /* agents get a short notice, the mail only after #take */
};

struct sg_agent_def {
	char *address, *name;
	char *language;     /* notices to this agent: "en", "ru", ... or NULL (default_language) */
	struct sg_strlist groups;
	int away;
};

struct sg_calendar;

/* An SLA target: a duration (secs, counted in business time on the
 * calendar) or a number of business days (bdays, "3bd"); at most one is
 * non-zero, both zero means no target. */
struct sg_sla_target {
	long secs;
	int bdays;
};

/* sla NAME first-response=D resolution=D [calendar=NAME] [warn=P%] */
struct sg_sla_tier {
	char *name;
	struct sg_sla_target first_response, resolution;
	const struct sg_calendar *calendar;   /* NULL: 24x7 UTC */
	int warn_pct;                         /* 1..99, 0: sla_warn_percent of the config */
};

/* service NAME resolution=D [calendar=NAME] */
struct sg_service_def {
	char *name;
	struct sg_sla_target resolution;
	const struct sg_calendar *calendar;   /* NULL: the tier's */
};

/* What the rules decided for one message. */
struct sg_route {
	char *queue, *sla, *segment, *template_name, *language, *assign, *reject_text;
	char *service;                 /* service NAME, or NULL */
	int priority;                  /* -1: unchanged */
	int assign_strategy;           /* "assign" without an address */
	int no_template;               /* template none */
	int tempfail, quarantine;
	struct sg_strlist tags, notify, webhooks, matched;
	unsigned limit_hits;           /* regex runs stopped by a match/depth/heap limit */
	int budget_exhausted;          /* regex budget spent: later regexes counted as no match */
	char *budget_rule;             /* the first rule whose regex work it cut or skipped, or NULL */
};

/* The regex budget of one evaluation (see above); 0 in a field means no
 * bound of that kind (window: never split a text). */
struct sg_rules_budget {
	long ms;
	unsigned long units;
	size_t window;
};

/* Facts the conditions look at. */
struct sg_rule_input {
	const struct sg_msginfo *mi;
	const char *env_from;
	const char *const *env_rcpt;
	size_t nrcpt;
	const char *door;              /* "milter", "imap", "cli" */
	const char *auth;
	const struct sg_ticket *ticket;  /* follow-ups, else NULL */
	size_t size;
	const char *queue_id;          /* MTA queue id for log lines, or NULL */
};

struct sg_rules *sg_rules_load(const char *path, struct sg_diag *errs);
void sg_rules_free(struct sg_rules **r);
/* Evaluate with the default budget (SG_RULES_BUDGET_*); trace (may be
 * NULL) gets one line per rule evaluated, and one when the budget runs
 * out. Never fails; out is always filled (free with sg_route_clear()). */
void sg_rules_eval(const struct sg_rules *r, const struct sg_rule_input *in, struct sg_route *out, FILE *trace);
/* The same with another budget (NULL: the default), for tests and tools. */
void sg_rules_eval_budget(const struct sg_rules *r, const struct sg_rule_input *in, struct sg_route *out, FILE *trace,
			  const struct sg_rules_budget *budget);
void sg_route_clear(struct sg_route *r);

size_t sg_rules_count(const struct sg_rules *r);
const struct sg_queue_def *sg_rules_queue(const struct sg_rules *r, const char *name);
const struct sg_queue_def *sg_rules_queue_at(const struct sg_rules *r, size_t i);
size_t sg_rules_nqueues(const struct sg_rules *r);
const struct sg_agent_def *sg_rules_agent(const struct sg_rules *r, const char *addr);
const struct sg_agent_def *sg_rules_agent_at(const struct sg_rules *r, size_t i);
size_t sg_rules_nagents(const struct sg_rules *r);
/* SLA tier targets in seconds; 0 when the tier is unknown. */
int sg_rules_sla(const struct sg_rules *r, const char *name, long *first_response, long *resolution);
/* The tier, service or calendar of that name (case-insensitive), or NULL;
 * owned by the rule set. */
const struct sg_sla_tier *sg_rules_tier(const struct sg_rules *r, const char *name);
const struct sg_service_def *sg_rules_service(const struct sg_rules *r, const char *name);
const struct sg_calendar *sg_rules_calendar(const struct sg_rules *r, const char *name);
/* Segment of an address by the segment declarations, or NULL. */
const char *sg_rules_segment_of(const struct sg_rules *r, const char *addr);

#endif
