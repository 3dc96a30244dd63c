/*
 * conf — supportgate.conf: one table declares every parameter.
 *
 * The file is parsed with libconfuse (`key = value`, lists as
 * `key = {"a", "b"}`, `#` comments, `include("other.conf")`). The table in
 * config.c (sg_conf_params) gives each key its type, default, bounds and
 * one documentation line; the man page supportgate.conf(5) must document
 * every key of it (a test checks).
 *
 * sg_conf_load() builds a new immutable struct sg_conf. Every error is
 * appended to errs as "file:line: message"; any error means no config
 * (NULL) so a reload keeps the old one (STYLE.md rule 10). The object is
 * reference counted: readers take sg_conf_ref() for the duration of a
 * message and drop it with sg_conf_unref(); a reload swaps the global
 * pointer with sg_conf_swap().
 */
#ifndef SG_CONF_H
#define SG_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/diag.h"
#include "model/ticket.h"

/* What to do when a class of error happens in the milter (STYLE.md rule 6). */
enum sg_action {
	SG_ACT_ACCEPT = 0,   /* accept the mail unmodified */
	SG_ACT_TEMPFAIL,     /* 4xx: the MTA keeps it and retries */
	SG_ACT_REJECT,       /* 5xx */
};

struct sg_conf {
	int refs;
	char *path;                         /* file it came from */
	/* daemon */
	char *socket;
	long socket_mode;
	char *socket_group;
	char *state_dir;
	char *user;
	char *pid_file;
	char *syslog_facility;
	int log_level;                      /* enum sg_log_level */
	/* addresses and tokens */
	struct sg_strlist support_address;  /* lower-cased */
	char *support_address_regex;        /* "" = none */
	void *support_re;                   /* pcre2_code *, compiled */
	char *ticket_tag;
	char *token_secret_file;
	unsigned char *token_secret;        /* contents of the file, or NULL */
	size_t token_secret_len;
	/* tickets */
	long reopen_days;
	uint64_t max_message_size;
	int db_sync;
	/* milter */
	char *header_prefix;
	uint64_t milter_memory_limit;
	uint64_t milter_size_limit;
	enum sg_action on_oversize;
	enum sg_action on_store_error;
	enum sg_action on_parse_error;
	enum sg_action on_resource_error;
	enum sg_action on_internal_error;
	/* acknowledgements and outbound mail */
	char *support_from;                 /* "" = first support_address */
	char *support_name;
	int ack;
	char *default_language;
	char *smtp_relay;
	char *smtp_user;
	char *smtp_password_file;
	char *smtp_password;                /* contents, or NULL */
	long outbound_retry_min;            /* seconds */
	long outbound_max_age;              /* hours */
	long ack_limit_global;              /* per hour */
	char *admin_address;                /* alerts, or "" */
	/* agents by mail */
	struct sg_strlist admins;           /* lower-cased */
	struct sg_strlist agent_logins;     /* "login=address" */
	struct sg_strlist trusted_authserv_id;
	int assign_notice;
	long autoclose_days;
	/* later modules */
	char *rules_file;
	char *template_dir;
	struct sg_templates *templates;     /* loaded from template_dir, or NULL */
	struct sg_rules *rules;             /* loaded from rules_file, or NULL */
};

enum sg_param_type {
	SG_PT_STR,
	SG_PT_STRLIST,
	SG_PT_INT,
	SG_PT_BOOL,
	SG_PT_SIZE,      /* string with optional K/M/G suffix, stored as uint64 */
	SG_PT_ENUM,      /* string from a fixed set */
};

struct sg_param {
	const char *name;
	enum sg_param_type type;
	const char *def;        /* default as written in a config file */
	long long min, max;     /* bounds for INT and SIZE */
	const char *choices;    /* ENUM: "a|b|c" */
	size_t offset;          /* into struct sg_conf */
	const char *doc;        /* one line for the man page and --help */
};

extern const struct sg_param sg_conf_params[];
extern const size_t sg_conf_nparams;


/*
 * Load and validate path. Returns a new config (refs = 1) or NULL with at
 * least one entry in errs. Does not touch the global config. Reads the
 * token secret file. Never exits.
 */
struct sg_conf *sg_conf_load(const char *path, struct sg_diag *errs);
struct sg_conf *sg_conf_ref(struct sg_conf *c);
void sg_conf_unref(struct sg_conf **c);

/* The daemon's current config: get takes a reference (unref when done);
 * swap installs c (taking over the caller's reference) and drops the old. */
struct sg_conf *sg_conf_current(void);
void sg_conf_swap(struct sg_conf *c);

const char *sg_action_name(enum sg_action a);

/*
 * Is addr (any case, with or without <>) one of our support addresses or
 * a plus-address of one, or matched by support_address_regex? When detail
 * is not NULL and the address had a +detail part, *detail receives a new
 * string (caller frees), else NULL.
 */
int sg_conf_is_support(const struct sg_conf *c, const char *addr, char **detail);

/* The default config file path (SYSCONFDIR/supportgate.conf). */
const char *sg_conf_default_path(void);

#endif
