/*
 * conf — supportgate.conf: one table declares every parameter.
 *
 * The file is parsed with libconfuse (`key = value`, lists as
 * `key = {"a", "b"}`, `#` comments, `include("other.conf")`). The table in
 * config.c (sg_conf_params) gives each key its type, default, bounds and
 * one documentation line; the man page supportgate.conf(5) must document
 * every key of it (a test checks). `mailbox NAME { ... }` sections (the
 * IMAP door) have their own table, sg_conf_mailbox_params, documented as
 * mailbox.KEY; each section becomes a struct sg_mailbox in c->mailboxes.
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

/* IMAP door (daemon/imap): how a mailbox is reached and what happens to
 * the mail once it is ingested. */
enum sg_imap_tls {
	SG_IMAP_TLS_IMPLICIT = 0,   /* TLS from the first byte (imaps, port 993) */
	SG_IMAP_TLS_STARTTLS,       /* plain connect, STARTTLS required before login */
	SG_IMAP_TLS_NONE,           /* plain text: loopback hosts only, set explicitly */
};

enum sg_imap_processed {
	SG_IMAP_MOVE = 0,           /* MOVE (or COPY + \Deleted + UID EXPUNGE) to processed_folder */
	SG_IMAP_SEEN,               /* leave it in place with \Seen */
};

/* One `webhook NAME { ... }` section (daemon/outbound/webhook.h); the
 * keys are in sg_conf_webhook_params. */
struct sg_webhook {
	char *name;                         /* the section title: letters, digits, . _ - */
	int line;
	char *url;                          /* http:// or https:// */
	char *secret_file;
	char *secret;                       /* contents of secret_file */
	size_t secret_len;
	struct sg_strlist events;           /* event type names it is sent */
	int allow_private;                  /* loopback and private addresses allowed */
	long timeout;                       /* seconds per delivery */
};

/* One `mailbox NAME { ... }` section; the keys are in sg_conf_mailbox_params. */
struct sg_mailbox {
	char *name;                         /* the section title: letters, digits, . _ - */
	int line;                           /* the line that ends the section, for messages */
	char *host;
	long port;                          /* 0 in the file: 993 (implicit) or 143 */
	int tls;                            /* enum sg_imap_tls */
	char *tls_ca_file;                  /* "" = the system trust store */
	int tls_allow_untrusted;
	int tls_allow_wrong_name;
	char *user;
	char *password_file;
	char *password;                     /* contents of password_file */
	char *folder;
	int processed;                      /* enum sg_imap_processed */
	char *processed_folder;
	long poll_interval;                 /* seconds */
	int idle;
	long timeout;                       /* seconds per network operation */
	long reconnect_max;                 /* seconds: longest wait between attempts */
	uint64_t size_limit;
	struct sg_strlist addresses;        /* lower-cased; never empty after load */
};

enum sg_log_target {
	SG_LOGT_AUTO = 0,   /* syslog, except in the foreground outside systemd */
	SG_LOGT_SYSLOG,
	SG_LOGT_STDERR,
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
	int user_set;                       /* user written in the file (not the default) */
	char *pid_file;
	char *syslog_facility;
	int log_level;                      /* enum sg_log_level */
	int log_target;                     /* enum sg_log_target */
	char *syslog_socket;                /* "" = /dev/log */
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
	/* personal data */
	long retention;                     /* days after closing; 0: keep */
	/* SLA clocks (daemon/sla) */
	long sla_warn_percent;              /* warning at this share of a target, 1..99 */
	/* reports */
	char *report_time_zone;             /* "" = TZ / the system's zone */
	/* later modules */
	char *rules_file;
	char *template_dir;
	struct sg_templates *templates;     /* loaded from template_dir, or NULL */
	struct sg_rules *rules;             /* loaded from rules_file, or NULL */
	/* IMAP door: the mailbox sections, in file order */
	struct sg_mailbox *mailboxes;
	size_t nmailboxes;
	/* metrics (daemon/metrics) and webhook sections (daemon/outbound) */
	char *metrics_file;                 /* "" = none */
	long metrics_interval;              /* seconds */
	struct sg_webhook *webhooks;
	size_t nwebhooks;
	/* replication (daemon/store/repl.h) */
	char *replication_local;            /* "" = off */
	struct sg_strlist replication_peers;
	long replication_priority;
	int replication_ack_policy;         /* enum sg_repl_ack */
	int replication_creator;
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
	size_t offset;          /* into struct sg_conf (struct sg_mailbox for mailbox keys) */
	const char *doc;        /* one line for the man page and --help */
};

extern const struct sg_param sg_conf_params[];
extern const size_t sg_conf_nparams;
/* The keys of a `mailbox NAME { ... }` section (offsets into struct
 * sg_mailbox); documented in supportgate.conf(5) as mailbox.KEY. */
extern const struct sg_param sg_conf_mailbox_params[];
extern const size_t sg_conf_mailbox_nparams;

/* The keys of a `webhook NAME { ... }` section (offsets into struct
 * sg_webhook); documented in supportgate.conf(5) as webhook.KEY. */
extern const struct sg_param sg_conf_webhook_params[];
extern const size_t sg_conf_webhook_nparams;
/* The webhook section called name, or NULL. */
const struct sg_webhook *sg_conf_webhook(const struct sg_conf *c, const char *name);

/* The name of choice idx of an ENUM parameter, written to buf ("?" when
 * out of range); returns buf. */
const char *sg_conf_enum_name(const struct sg_param *p, int idx, char *buf, size_t size);
/* The mailbox section called name, or NULL. */
const struct sg_mailbox *sg_conf_mailbox(const struct sg_conf *c, const char *name);
/* Is host a loopback name or address (localhost, 127.0.0.0/8, ::1)?
 * Syntax only: no resolver is asked. */
int sg_conf_host_is_loopback(const char *host);


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

/* The replication settings as the store takes them (strings borrowed
 * from c); out->local NULL when replication is off. */
struct sg_repl_conf;
void sg_conf_repl(const struct sg_conf *c, struct sg_repl_conf *out);

#endif
