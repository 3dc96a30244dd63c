/*
 * conf — see conf.h. The parameter table below is the single source
 * of truth for keys, types, defaults, bounds and their one-line docs.
 */
#include "config.h"
#include "conf/conf.h"

#include <confuse.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/un.h>
#include <netinet/in.h>

#include "lib/log.h"
#include "store/repl.h"
#include "lib/size.h"
#include "rules/rules.h"
#include "templates/template.h"
#include "lib/xalloc.h"

#ifndef SG_SYSCONFDIR
#define SG_SYSCONFDIR "/etc/supportgate"
#endif
#ifndef SG_LOCALSTATEDIR
#define SG_LOCALSTATEDIR "/var/lib/supportgate"
#endif
#ifndef SG_RUNSTATEDIR
#define SG_RUNSTATEDIR "/run"
#endif
#ifndef SG_PKGDATADIR
#define SG_PKGDATADIR "/usr/share/supportgate"
#endif

#define OFF(f) offsetof(struct sg_conf, f)
#define ACTIONS "accept|tempfail|reject"

const struct sg_param sg_conf_params[] = {
	/* daemon */
	{ "socket", SG_PT_STR, "local:/var/spool/postfix/supportgate/supportgated.sock", 0, 0, NULL, OFF(socket),
	  "milter socket: inet:PORT@HOST, inet6:PORT@HOST or local:/path (default: inside Postfix's chroot)" },
	{ "socket_mode", SG_PT_INT, "0660", 0, 0777, NULL, OFF(socket_mode),
	  "permissions of a unix socket (octal): the owner and socket_group may connect, nobody else" },
	{ "socket_group", SG_PT_STR, "postfix", 0, 0, NULL, OFF(socket_group),
	  "group of a unix socket: the MTA's (Debian's Postfix smtpd runs as group postfix); empty: leave it" },
	{ "state_dir", SG_PT_STR, SG_LOCALSTATEDIR, 0, 0, NULL, OFF(state_dir),
	  "directory of the Berkeley DB environment and the spool" },
	{ "user", SG_PT_STR, "supportgate", 0, 0, NULL, OFF(user),
	  "user to run as after binding the socket; started as root the daemon refuses to stay root unless this says root" },
	{ "pid_file", SG_PT_STR, SG_RUNSTATEDIR "/supportgate/supportgated.pid", 0, 0, NULL, OFF(pid_file),
	  "pid file, locked while the daemon runs (empty: none)" },
	{ "syslog_facility", SG_PT_ENUM, "mail", 0, 0,
	  "mail|daemon|user|local0|local1|local2|local3|local4|local5|local6|local7", OFF(syslog_facility),
	  "syslog facility of every line the daemon logs to syslog (see log_target)" },
	{ "log_target", SG_PT_ENUM, "auto", 0, 0, "auto|syslog|stderr", OFF(log_target),
	  "where the daemon logs with -f: auto = syslog under systemd, else stderr; in the background always syslog" },
	{ "syslog_socket", SG_PT_STR, "", 0, 0, NULL, OFF(syslog_socket),
	  "unix datagram socket of the syslog daemon (empty: /dev/log); tests point it at their own" },
	{ "log_level", SG_PT_ENUM, "info", 0, 0, "debug|info|warn|error", OFF(log_level),
	  "least severe level that is logged" },
	/* addresses and tokens */
	{ "support_address", SG_PT_STRLIST, "{}", 0, 0, NULL, OFF(support_address),
	  "support addresses; plus-addresses of them (support+1234@) match too; at least one" },
	{ "support_address_regex", SG_PT_STR, "", 0, 0, NULL, OFF(support_address_regex),
	  "optional PCRE2 regex (case-insensitive) matching further support addresses" },
	{ "ticket_tag", SG_PT_STR, "SUPPORT", 0, 0, NULL, OFF(ticket_tag),
	  "tag in subject tokens: ACME gives [ACME #1234]; letters, digits, . _ -" },
	{ "token_secret_file", SG_PT_STR, "", 0, 0, NULL, OFF(token_secret_file),
	  "file holding a secret (16 bytes or more) that adds a keyed check to tokens" },
	/* tickets */
	{ "reopen_days", SG_PT_INT, "30", 0, 3650, NULL, OFF(reopen_days),
	  "a reply to a ticket closed longer than this opens a new linked ticket" },
	{ "max_message_size", SG_PT_SIZE, "25M", 65536, 1073741824LL, NULL, OFF(max_message_size),
	  "messages up to this size are stored whole; bigger ones truncated with a note" },
	{ "db_sync", SG_PT_BOOL, "true", 0, 0, NULL, OFF(db_sync),
	  "flush every commit to disk; false is faster but a power loss may lose the last commits" },
	/* milter */
	{ "header_prefix", SG_PT_STR, "X-Support-", 0, 0, NULL, OFF(header_prefix),
	  "prefix of the headers added to support mail (X-Support-Ticket, ...)" },
	{ "milter_memory_limit", SG_PT_SIZE, "1M", 4096, 268435456LL, NULL, OFF(milter_memory_limit),
	  "message bytes kept in memory per message before spilling to a file in state_dir" },
	{ "milter_size_limit", SG_PT_SIZE, "100M", 65536, 4294967296LL, NULL, OFF(milter_size_limit),
	  "largest message the milter takes in; larger ones get on_oversize" },
	{ "on_oversize", SG_PT_ENUM, "tempfail", 0, 0, ACTIONS, OFF(on_oversize),
	  "action for support mail over milter_size_limit or with too many headers" },
	{ "on_store_error", SG_PT_ENUM, "tempfail", 0, 0, ACTIONS, OFF(on_store_error),
	  "action when the ticket store fails (tempfail: the MTA keeps the mail and retries)" },
	{ "on_parse_error", SG_PT_ENUM, "accept", 0, 0, ACTIONS, OFF(on_parse_error),
	  "action when a message cannot be parsed (accept: odd mail is never bounced)" },
	{ "on_resource_error", SG_PT_ENUM, "tempfail", 0, 0, ACTIONS, OFF(on_resource_error),
	  "action when a resource runs out (disk, spill file)" },
	{ "on_internal_error", SG_PT_ENUM, "tempfail", 0, 0, ACTIONS, OFF(on_internal_error),
	  "action on any other internal error" },
	/* acknowledgements and outbound mail */
	{ "support_from", SG_PT_STR, "", 0, 0, NULL, OFF(support_from),
	  "sender of all our mail (empty: the first support_address)" },
	{ "support_name", SG_PT_STR, "Support", 0, 0, NULL, OFF(support_name),
	  "display name of support_from" },
	{ "ack", SG_PT_BOOL, "true", 0, 0, NULL, OFF(ack),
	  "acknowledge every new ticket to its requestor (loop guards and rate limits apply)" },
	{ "default_language", SG_PT_STR, "en", 0, 0, NULL, OFF(default_language),
	  "template language when neither the customer nor the message tells" },
	{ "smtp_relay", SG_PT_STR, "smtp://127.0.0.1:25", 0, 0, NULL, OFF(smtp_relay),
	  "where our mail is submitted: smtp://HOST:PORT (STARTTLS required unless HOST is loopback) or smtps://" },
	{ "smtp_user", SG_PT_STR, "", 0, 0, NULL, OFF(smtp_user),
	  "SMTP AUTH user for smtp_relay (empty: no authentication)" },
	{ "smtp_password_file", SG_PT_STR, "", 0, 0, NULL, OFF(smtp_password_file),
	  "file holding the SMTP AUTH password" },
	{ "outbound_retry_min", SG_PT_INT, "60", 1, 3600, NULL, OFF(outbound_retry_min),
	  "seconds before the first retry of a failed delivery; doubles per attempt up to an hour" },
	{ "outbound_max_age", SG_PT_INT, "120", 1, 2400, NULL, OFF(outbound_max_age),
	  "hours a message may wait for the relay before it becomes a dead letter" },
	{ "ack_limit_global", SG_PT_INT, "1000", 1, 1000000, NULL, OFF(ack_limit_global),
	  "acknowledgements per hour over all addresses; beyond it none are sent" },
	{ "admin_address", SG_PT_STR, "", 0, 0, NULL, OFF(admin_address),
	  "where alerts go (acknowledgement limits hit; at most one per address per hour); empty: none" },
	/* agents by mail */
	{ "admins", SG_PT_STRLIST, "{}", 0, 0, NULL, OFF(admins),
	  "agents (addresses declared in the rules) who may act on every ticket" },
	{ "agent_logins", SG_PT_STRLIST, "{}", 0, 0, NULL, OFF(agent_logins),
	  "SMTP AUTH login to agent address, as \"login=address\"; a login not listed is taken as the address" },
	{ "trusted_authserv_id", SG_PT_STRLIST, "{}", 0, 0, NULL, OFF(trusted_authserv_id),
	  "authserv-ids whose Authentication-Results (dkim=pass or dmarc=pass for the agent's domain) prove an agent" },
	{ "assign_notice", SG_PT_BOOL, "false", 0, 0, NULL, OFF(assign_notice),
	  "tell the customer when their ticket is assigned to an agent" },
	{ "autoclose_days", SG_PT_INT, "7", 0, 365, NULL, OFF(autoclose_days),
	  "days after which a resolved ticket is closed (0: never); a reply after that opens a linked ticket" },
	/* personal data */
	{ "retention", SG_PT_INT, "0", 0, 36500, NULL, OFF(retention),
	  "days after closing when a ticket's messages and personal fields are erased (0: keep them)" },
	/* SLA clocks */
	{ "sla_warn_percent", SG_PT_INT, "80", 1, 99, NULL, OFF(sla_warn_percent),
	  "SLA warning at this share (percent) of a target, unless the tier sets warn=" },
	/* reports */
	{ "report_time_zone", SG_PT_STR, "", 0, 0, NULL, OFF(report_time_zone),
	  "time zone of supportgate report's days and periods, e.g. Europe/Berlin (empty: TZ or the system's)" },
	/* later modules */
	{ "rules_file", SG_PT_STR, "", 0, 0, NULL, OFF(rules_file),
	  "rules file (see supportgate.rules(5)); empty: every ticket goes to the default queue" },
	{ "template_dir", SG_PT_STR, SG_SYSCONFDIR "/templates", 0, 0, NULL, OFF(template_dir),
	  "directory of message templates, one folder per language; the default falls back to the shipped ones (see TEMPLATES)" },
	/* metrics */
	{ "metrics_file", SG_PT_STR, "", 0, 0, NULL, OFF(metrics_file),
	  "Prometheus text file the daemon rewrites atomically (node_exporter textfile collector); empty: none" },
	{ "metrics_interval", SG_PT_INT, "60", 1, 86400, NULL, OFF(metrics_interval),
	  "seconds between two writes of metrics_file" },
	/* replication (daemon/store/repl.h): off while replication_local is empty */
	{ "replication_local", SG_PT_STR, "", 0, 0, NULL, OFF(replication_local),
	  "HOST:PORT this node's Berkeley DB replication manager listens on; empty: no replication" },
	{ "replication_peers", SG_PT_STRLIST, "{}", 0, 0, NULL, OFF(replication_peers),
	  "HOST:PORT of the other nodes of the replication group" },
	{ "replication_priority", SG_PT_INT, "100", 0, 1000000, NULL, OFF(replication_priority),
	  "election priority: among the nodes with the most log the highest wins; 0: never master" },
	{ "replication_ack_policy", SG_PT_ENUM, "quorum", 0, 0, "quorum|all|one|none|all_available",
	  OFF(replication_ack_policy),
	  "replicas that must have a commit before the master answers the MTA (quorum: a majority with the master)" },
	{ "replication_creator", SG_PT_BOOL, "false", 0, 0, NULL, OFF(replication_creator),
	  "this node makes the group on its first start (exactly one node; the others join through it)" },
};
const size_t sg_conf_nparams = sizeof(sg_conf_params) / sizeof(sg_conf_params[0]);

/* The keys of a `mailbox NAME { ... }` section (the IMAP door). */
#define MOFF(f) offsetof(struct sg_mailbox, f)
const struct sg_param sg_conf_mailbox_params[] = {
	{ "host", SG_PT_STR, "", 0, 0, NULL, MOFF(host),
	  "IMAP server: host name (checked against its certificate) or address; required" },
	{ "port", SG_PT_INT, "0", 0, 65535, NULL, MOFF(port),
	  "server port; 0: 993 with tls = implicit, 143 otherwise" },
	{ "tls", SG_PT_ENUM, "implicit", 0, 0, "implicit|starttls|none", MOFF(tls),
	  "implicit (imaps), starttls (required before login) or none (plain text, loopback hosts only)" },
	{ "tls_ca_file", SG_PT_STR, "", 0, 0, NULL, MOFF(tls_ca_file),
	  "PEM file of the CAs that may sign the server's certificate (empty: the system trust store)" },
	{ "tls_allow_untrusted", SG_PT_BOOL, "false", 0, 0, NULL, MOFF(tls_allow_untrusted),
	  "accept a certificate that no trusted CA signed (self-signed); dates and host name are still checked" },
	{ "tls_allow_wrong_name", SG_PT_BOOL, "false", 0, 0, NULL, MOFF(tls_allow_wrong_name),
	  "accept a certificate issued for another host name" },
	{ "user", SG_PT_STR, "", 0, 0, NULL, MOFF(user),
	  "login name; required" },
	{ "password_file", SG_PT_STR, "", 0, 0, NULL, MOFF(password_file),
	  "file holding the password (sent only after the certificate passed); required" },
	{ "folder", SG_PT_STR, "INBOX", 0, 0, NULL, MOFF(folder),
	  "folder read for new mail" },
	{ "processed", SG_PT_ENUM, "move", 0, 0, "move|seen", MOFF(processed),
	  "ingested mail is moved to processed_folder (move) or flagged \\Seen and left in place (seen)" },
	{ "processed_folder", SG_PT_STR, "Processed", 0, 0, NULL, MOFF(processed_folder),
	  "where processed = move puts ingested mail (created when missing)" },
	{ "poll_interval", SG_PT_INT, "60", 1, 86400, NULL, MOFF(poll_interval),
	  "seconds between checks without IDLE; with IDLE, the longest wait before the folder is checked again" },
	{ "idle", SG_PT_BOOL, "true", 0, 0, NULL, MOFF(idle),
	  "wait with IDLE when the server offers it, so new mail is read at once" },
	{ "timeout", SG_PT_INT, "30", 5, 600, NULL, MOFF(timeout),
	  "seconds one network operation may take before the connection is dropped" },
	{ "reconnect_max", SG_PT_INT, "300", 1, 3600, NULL, MOFF(reconnect_max),
	  "longest wait in seconds between reconnection attempts (from 1 s, doubling, with jitter)" },
	{ "size_limit", SG_PT_SIZE, "100M", 65536, 1073741824LL, NULL, MOFF(size_limit),
	  "larger messages are not fetched: flagged and left in the folder" },
	{ "addresses", SG_PT_STRLIST, "{}", 0, 0, NULL, MOFF(addresses),
	  "support address(es) the mailbox receives mail for (empty: the first support_address)" },
};
const size_t sg_conf_mailbox_nparams = sizeof(sg_conf_mailbox_params) / sizeof(sg_conf_mailbox_params[0]);

/* The keys of a `webhook NAME { ... }` section. */
#define WOFF(f) offsetof(struct sg_webhook, f)
const struct sg_param sg_conf_webhook_params[] = {
	{ "url", SG_PT_STR, "", 0, 0, NULL, WOFF(url),
	  "where events are POSTed: http:// or https:// URL; required" },
	{ "secret_file", SG_PT_STR, "", 0, 0, NULL, WOFF(secret_file),
	  "file holding the HMAC-SHA256 signing secret (16 bytes or more); required" },
	{ "events", SG_PT_STRLIST, "{}", 0, 0, NULL, WOFF(events),
	  "ticket event types sent to this endpoint (created, status, ...); empty: only rule actions" },
	{ "allow_private", SG_PT_BOOL, "false", 0, 0, NULL, WOFF(allow_private),
	  "allow loopback and private addresses (10/8, 172.16/12, 192.168/16, fc00::/7); link-local never" },
	{ "timeout", SG_PT_INT, "10", 1, 300, NULL, WOFF(timeout),
	  "seconds one delivery may take before it counts as failed (and is retried)" },
};
const size_t sg_conf_webhook_nparams = sizeof(sg_conf_webhook_params) / sizeof(sg_conf_webhook_params[0]);

static struct sg_conf *current;
static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
/* Loading is rare and serialised; the error sink is per load. */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sg_diag *load_errs;

const char *
sg_conf_default_path(void)
{
	return SG_SYSCONFDIR "/supportgate.conf";
}

const char *
sg_action_name(enum sg_action a)
{
	switch (a) {
	case SG_ACT_ACCEPT: return "accept";
	case SG_ACT_TEMPFAIL: return "tempfail";
	case SG_ACT_REJECT: return "reject";
	}
	return "?";
}

/* Every problem goes to the caller's list as "file:line: message". */
#define add_err(file, line, ...) sg_diag_add(load_errs, (file) ? (file) : "(config)", (line), 0, __VA_ARGS__)

static void
confuse_errfunc(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	add_err(cfg->filename, cfg->line, "%s", msg);
}

static const struct sg_param *
table_find(const struct sg_param *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static const struct sg_param *
param_find(const char *name)
{
	return table_find(sg_conf_params, sg_conf_nparams, name);
}

const char *
sg_conf_enum_name(const struct sg_param *p, int idx, char *buf, size_t size)
{
	const char *s = p->choices;

	for (int i = 0; s != NULL && *s; i++) {
		const char *bar = strchr(s, '|');
		size_t l = bar ? (size_t)(bar - s) : strlen(s);
		if (i == idx) {
			snprintf(buf, size, "%.*s", (int)l, s);
			return buf;
		}
		if (bar == NULL)
			break;
		s = bar + 1;
	}
	snprintf(buf, size, "?");
	return buf;
}

static int
enum_index(const char *choices, const char *v)
{
	const char *p = choices;
	int idx = 0;
	size_t vl = strlen(v);

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);
		if (l == vl && strncasecmp(p, v, l) == 0)
			return idx;
		idx++;
		if (!bar)
			break;
		p = bar + 1;
	}
	return -1;
}

static int
valid_socket(const char *s, char *why, size_t whylen)
{
	if (strncmp(s, "local:", 6) == 0 || strncmp(s, "unix:", 5) == 0) {
		const char *path = strchr(s, ':') + 1;
		if (path[0] != '/') {
			snprintf(why, whylen, "local socket path must be absolute");
			return 0;
		}
		if (strlen(path) >= 108) {
			snprintf(why, whylen, "local socket path longer than 107 bytes");
			return 0;
		}
		return 1;
	}
	if (strncmp(s, "inet:", 5) == 0 || strncmp(s, "inet6:", 6) == 0) {
		const char *p = strchr(s, ':') + 1;
		char *end;
		long port;

		errno = 0;
		port = strtol(p, &end, 10);
		if (end == p || errno || port < 1 || port > 65535 ||
		    (*end != '\0' && *end != '@')) {
			snprintf(why, whylen, "bad port in '%s' (want inet:PORT@HOST)", s);
			return 0;
		}
		if (*end == '@' && end[1] == '\0') {
			snprintf(why, whylen, "empty host after '@'");
			return 0;
		}
		return 1;
	}
	snprintf(why, whylen, "'%s' is not inet:PORT@HOST, inet6:PORT@HOST or local:/path", s);
	return 0;
}

static int
valid_token_chars(const char *s, const char *extra)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return 0;
	return 1;
}

/* Per-key checks that need only the value; run during parsing so errors
 * carry the line. */
static int
validate_value(cfg_t *cfg, const struct sg_param *p, const char *v)
{
	char why[256];
	uint64_t size;

	why[0] = '\0';
	switch (p->type) {
	case SG_PT_ENUM:
		if (enum_index(p->choices, v) < 0)
			snprintf(why, sizeof(why), "must be one of %s", p->choices);
		break;
	case SG_PT_SIZE:
		if (sg_size_parse(v, &size) < 0)
			snprintf(why, sizeof(why), "'%s' is not a size (e.g. 512K, 25M, 1G)", v);
		else if ((long long)size < p->min || (long long)size > p->max)
			snprintf(why, sizeof(why), "%s is out of range %lld..%lld bytes", v, p->min, p->max);
		break;
	default:
		break;
	}
	if (why[0] == '\0' && strcmp(p->name, "socket") == 0)
		valid_socket(v, why, sizeof(why));
	if (why[0] == '\0' && strcmp(p->name, "ticket_tag") == 0 &&
	    (!valid_token_chars(v, "._-") || strlen(v) > 32))
		snprintf(why, sizeof(why), "'%s' must be 1-32 letters, digits, '.', '_' or '-'", v);
	if (why[0] == '\0' && strcmp(p->name, "header_prefix") == 0 &&
	    (!valid_token_chars(v, "-") || strlen(v) > 40))
		snprintf(why, sizeof(why), "'%s' must be letters, digits and '-' (at most 40)", v);
	if (why[0] == '\0' && strcmp(p->name, "syslog_socket") == 0 && v[0] != '\0' &&
	    (v[0] != '/' || strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path)))
		snprintf(why, sizeof(why), "must be an absolute path of at most %zu bytes",
			 sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
	if (why[0] == '\0' && strchr(v, '\n') != NULL)
		snprintf(why, sizeof(why), "value contains a line break");
	if (why[0] != '\0') {
		add_err(cfg->filename, cfg->line, "%s: %s", p->name, why);
		return -1;
	}
	return 0;
}

static int
validate_param(cfg_t *cfg, cfg_opt_t *opt, const struct sg_param *p)
{
	int rc = 0;

	if (p == NULL)
		return 0;
	if (p->type == SG_PT_INT) {
		long v = cfg_opt_getnint(opt, 0);
		if (v < p->min || v > p->max) {
			add_err(cfg->filename, cfg->line, "%s: %ld is out of range %lld..%lld",
				p->name, v, p->min, p->max);
		}
		return 0;
	}
	if (p->type == SG_PT_BOOL)
		return 0;
	for (unsigned i = 0; i < cfg_opt_size(opt); i++) {
		const char *v = cfg_opt_getnstr(opt, i);
		if (v != NULL)
			(void)validate_value(cfg, p, v);
	}
	/* Errors are collected, not returned: parsing goes on so that every
	 * error in the file is reported at once. */
	return rc;
}

static int
validate_cb(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_param(cfg, opt, param_find(opt->name));
}

static int
validate_mailbox_cb(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_param(cfg, opt, table_find(sg_conf_mailbox_params, sg_conf_mailbox_nparams, opt->name));
}

static int
validate_webhook_cb(cfg_t *cfg, cfg_opt_t *opt)
{
	return validate_param(cfg, opt, table_find(sg_conf_webhook_params, sg_conf_webhook_nparams, opt->name));
}

static char *
read_secret_min(const char *path, size_t *len, const char *cfgfile, int line, const char *key, size_t min)
{
	FILE *fp = fopen(path, "rb");
	unsigned char buf[4096];
	size_t n;
	struct stat sb;

	if (fp == NULL) {
		add_err(cfgfile, line, "%s: %s: %s", key, path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(fp), &sb) == 0 && (sb.st_mode & S_IROTH))
		sg_warn("config", "%s %s is readable by everyone", key, path);
	n = fread(buf, 1, sizeof(buf), fp);
	fclose(fp);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n < min) {
		add_err(cfgfile, line, "%s: %s holds %zu bytes, need at least %zu", key, path, n, min);
		return NULL;
	}
	*len = n;
	char *s = sg_xmalloc(n + 1);
	memcpy(s, buf, n);
	s[n] = '\0';
	return s;
}

static void
mailbox_free(struct sg_mailbox *m)
{
	for (size_t i = 0; i < sg_conf_mailbox_nparams; i++) {
		const struct sg_param *p = &sg_conf_mailbox_params[i];
		char *base = (char *)m + p->offset;
		if (p->type == SG_PT_STR)
			free(*(char **)base);
		else if (p->type == SG_PT_STRLIST)
			sg_strlist_clear((struct sg_strlist *)base);
	}
	if (m->password != NULL) {
		memset(m->password, 0, strlen(m->password));
		free(m->password);
	}
	free(m->name);
}

static void
webhook_free(struct sg_webhook *w)
{
	free(w->url);
	free(w->secret_file);
	sg_strlist_clear(&w->events);
	if (w->secret != NULL) {
		memset(w->secret, 0, w->secret_len);
		free(w->secret);
	}
	free(w->name);
}

static void
config_free(struct sg_conf *c)
{
	for (size_t i = 0; i < sg_conf_nparams; i++) {
		const struct sg_param *p = &sg_conf_params[i];
		char *base = (char *)c + p->offset;
		if (p->type == SG_PT_STR || (p->type == SG_PT_ENUM && strcmp(p->name, "syslog_facility") == 0))
			free(*(char **)base);
		else if (p->type == SG_PT_STRLIST)
			sg_strlist_clear((struct sg_strlist *)base);
	}
	if (c->support_re != NULL)
		pcre2_code_free(c->support_re);
	if (c->token_secret != NULL) {
		memset(c->token_secret, 0, c->token_secret_len);
		free(c->token_secret);
	}
	if (c->smtp_password != NULL) {
		memset(c->smtp_password, 0, strlen(c->smtp_password));
		free(c->smtp_password);
	}
	for (size_t i = 0; i < c->nmailboxes; i++)
		mailbox_free(&c->mailboxes[i]);
	free(c->mailboxes);
	for (size_t i = 0; i < c->nwebhooks; i++)
		webhook_free(&c->webhooks[i]);
	free(c->webhooks);
	sg_templates_free(&c->templates);
	sg_rules_free(&c->rules);
	free(c->path);
	free(c);
}

/* Count lines so that checks on absent keys can point at the end. */
static int
file_lines(const char *path)
{
	FILE *fp = fopen(path, "r");
	int c, n = 1;

	if (fp == NULL)
		return 0;
	while ((c = getc(fp)) != EOF)
		if (c == '\n')
			n++;
	fclose(fp);
	return n;
}

/* Copy the values of the keys in table t from cfg into the struct at obj. */
static void
fill_table(void *obj, const struct sg_param *t, size_t n, cfg_t *cfg)
{
	for (size_t i = 0; i < n; i++) {
		const struct sg_param *p = &t[i];
		char *base = (char *)obj + p->offset;
		switch (p->type) {
		case SG_PT_STR:
			*(char **)base = sg_xstrdup(cfg_getstr(cfg, p->name) ? cfg_getstr(cfg, p->name) : "");
			break;
		case SG_PT_STRLIST: {
			struct sg_strlist *l = (struct sg_strlist *)base;
			for (unsigned j = 0; j < cfg_size(cfg, p->name); j++) {
				char *lc = sg_xstrdup(cfg_getnstr(cfg, p->name, j));
				for (char *q = lc; *q; q++)
					*q = (char)tolower((unsigned char)*q);
				sg_strlist_add(l, lc, 1);
				free(lc);
			}
			break;
		}
		case SG_PT_INT:
			*(long *)base = cfg_getint(cfg, p->name);
			break;
		case SG_PT_BOOL:
			*(int *)base = cfg_getbool(cfg, p->name) ? 1 : 0;
			break;
		case SG_PT_SIZE: {
			uint64_t v = 0;
			(void)sg_size_parse(cfg_getstr(cfg, p->name), &v);
			*(uint64_t *)base = v;
			break;
		}
		case SG_PT_ENUM:
			if (strcmp(p->name, "syslog_facility") == 0)
				*(char **)base = sg_xstrdup(cfg_getstr(cfg, p->name));
			else if (strcmp(p->name, "log_level") == 0)
				*(int *)base = sg_log_level_parse(cfg_getstr(cfg, p->name));
			else
				*(int *)base = enum_index(p->choices, cfg_getstr(cfg, p->name));
			break;
		}
	}
}

static void
fill_from_cfg(struct sg_conf *c, cfg_t *cfg)
{
	fill_table(c, sg_conf_params, sg_conf_nparams, cfg);
	/* safe defaults: was user written in the file (root only then)? */
	c->user_set = (cfg_getopt(cfg, "user")->flags & CFGF_MODIFIED) != 0;
	c->nmailboxes = cfg_size(cfg, "mailbox");
	c->mailboxes = c->nmailboxes ? sg_xcalloc(c->nmailboxes, sizeof(*c->mailboxes)) : NULL;
	for (size_t i = 0; i < c->nmailboxes; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "mailbox", (unsigned)i);
		fill_table(&c->mailboxes[i], sg_conf_mailbox_params, sg_conf_mailbox_nparams, sec);
		c->mailboxes[i].name = sg_xstrdup(cfg_title(sec) ? cfg_title(sec) : "");
		c->mailboxes[i].line = sec->line;
	}
	c->nwebhooks = cfg_size(cfg, "webhook");
	c->webhooks = c->nwebhooks ? sg_xcalloc(c->nwebhooks, sizeof(*c->webhooks)) : NULL;
	for (size_t i = 0; i < c->nwebhooks; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "webhook", (unsigned)i);
		fill_table(&c->webhooks[i], sg_conf_webhook_params, sg_conf_webhook_nparams, sec);
		c->webhooks[i].name = sg_xstrdup(cfg_title(sec) ? cfg_title(sec) : "");
		c->webhooks[i].line = sec->line;
	}
}

int
sg_conf_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

const struct sg_mailbox *
sg_conf_mailbox(const struct sg_conf *c, const char *name)
{
	for (size_t i = 0; c != NULL && i < c->nmailboxes; i++)
		if (strcmp(c->mailboxes[i].name, name) == 0)
			return &c->mailboxes[i];
	return NULL;
}

static int
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* A mailbox section as a whole: required keys, the loopback rule for
 * plain text, files, and the addresses it stands for. */
static void
check_mailbox(struct sg_conf *c, struct sg_mailbox *m, const char *path)
{
	const char *n = m->name;
	int eof = m->line;   /* errors point at the section */

	if (!valid_token_chars(n, "._-") || strlen(n) > 64)
		add_err(path, eof, "mailbox \"%s\": the name must be 1-64 letters, digits, '.', '_' or '-'", n);
	if (m->host[0] == '\0' || strpbrk(m->host, " \t/") != NULL || has_ctl(m->host))
		add_err(path, eof, "mailbox %s: host: '%s' is not a host name or address", n, m->host);
	if (m->tls == SG_IMAP_TLS_NONE && m->host[0] != '\0' && !sg_conf_host_is_loopback(m->host))
		add_err(path, eof, "mailbox %s: tls = none (plain text) is allowed only for a loopback host "
			"(localhost, 127.0.0.0/8, ::1), not '%s'", n, m->host);
	if (m->port == 0)
		m->port = m->tls == SG_IMAP_TLS_IMPLICIT ? 993 : 143;
	if (m->user[0] == '\0' || has_ctl(m->user))
		add_err(path, eof, "mailbox %s: user: a login name is required", n);
	if (m->password_file[0] == '\0') {
		add_err(path, eof, "mailbox %s: password_file: a password file is required", n);
	} else {
		size_t len;
		char *key = sg_xasprintf("mailbox %s: password_file", n);
		m->password = read_secret_min(m->password_file, &len, path, eof, key, 1);
		free(key);
	}
	if (m->tls_ca_file[0] != '\0' && access(m->tls_ca_file, R_OK) != 0)
		add_err(path, eof, "mailbox %s: tls_ca_file: %s: %s", n, m->tls_ca_file, strerror(errno));
	if (m->folder[0] == '\0' || has_ctl(m->folder))
		add_err(path, eof, "mailbox %s: folder: a folder name is required", n);
	if (m->processed == SG_IMAP_MOVE &&
	    (m->processed_folder[0] == '\0' || has_ctl(m->processed_folder) || strcmp(m->processed_folder, m->folder) == 0))
		add_err(path, eof, "mailbox %s: processed_folder: '%s' must name a folder other than folder", n,
			m->processed_folder);
	for (size_t i = 0; i < m->addresses.n; i++)
		if (!sg_conf_is_support(c, m->addresses.v[i], NULL))
			add_err(path, eof, "mailbox %s: addresses: '%s' is not a support address (support_address, "
				"support_address_regex)", n, m->addresses.v[i]);
	if (m->addresses.n == 0) {
		if (c->support_address.n > 0)
			sg_strlist_add(&m->addresses, c->support_address.v[0], 1);
		else
			add_err(path, eof, "mailbox %s: addresses: name the support address(es) this mailbox receives", n);
	}
	for (struct sg_mailbox *o = c->mailboxes; o < m; o++)
		if (strcasecmp(o->host, m->host) == 0 && o->port == m->port && strcmp(o->user, m->user) == 0 &&
		    strcmp(o->folder, m->folder) == 0)
			add_err(path, eof, "mailbox %s: reads the same folder as mailbox %s", n, o->name);
}

const struct sg_webhook *
sg_conf_webhook(const struct sg_conf *c, const char *name)
{
	for (size_t i = 0; c != NULL && i < c->nwebhooks; i++)
		if (strcmp(c->webhooks[i].name, name) == 0)
			return &c->webhooks[i];
	return NULL;
}

/* A webhook section: name, URL syntax (the addresses it resolves to are
 * checked at each delivery, daemon/outbound/webhook.c), the secret. */
static void
check_webhook(struct sg_webhook *w, const char *path)
{
	const char *n = w->name;
	int eof = w->line;

	if (!valid_token_chars(n, "._-") || strlen(n) > 64)
		add_err(path, eof, "webhook \"%s\": the name must be 1-64 letters, digits, '.', '_' or '-'", n);
	if ((strncmp(w->url, "http://", 7) != 0 && strncmp(w->url, "https://", 8) != 0) ||
	    strpbrk(w->url, " \t") != NULL || has_ctl(w->url) || strlen(w->url) > 2048)
		add_err(path, eof, "webhook %s: url: '%s' is not an http:// or https:// URL", n, w->url);
	if (w->secret_file[0] == '\0') {
		add_err(path, eof, "webhook %s: secret_file: a secret file is required", n);
	} else {
		char *key = sg_xasprintf("webhook %s: secret_file", n);
		w->secret = read_secret_min(w->secret_file, &w->secret_len, path, eof, key, 16);
		free(key);
	}
	for (size_t i = 0; i < w->events.n; i++)
		if (!valid_token_chars(w->events.v[i], "-") || strlen(w->events.v[i]) > 64)
			add_err(path, eof, "webhook %s: events: '%s' is not an event type name", n, w->events.v[i]);
}

/* Checks that look at the whole config (absent keys, files, users). */
static void
check_semantics(struct sg_conf *c, const char *path)
{
	int eof = file_lines(path);

	if (c->support_address.n == 0 && c->support_address_regex[0] == '\0')
		add_err(path, eof, "support_address: at least one support address is required");
	for (size_t i = 0; i < c->support_address.n; i++) {
		const char *a = c->support_address.v[i];
		const char *at = strchr(a, '@');
		if (at == NULL || at == a || at[1] == '\0' || strchr(at + 1, '@') != NULL ||
		    strpbrk(a, " \t<>,;\"") != NULL)
			add_err(path, eof, "support_address: '%s' is not a plain address (local@domain)", a);
		else if (memchr(a, '+', (size_t)(at - a)) != NULL)
			add_err(path, eof, "support_address: '%s' contains '+'; list the base address, plus-addresses match by themselves", a);
	}
	if (c->support_address_regex[0] != '\0') {
		int err;
		PCRE2_SIZE off;
		c->support_re = pcre2_compile((PCRE2_SPTR)c->support_address_regex, PCRE2_ZERO_TERMINATED,
					      PCRE2_CASELESS | PCRE2_UTF, &err, &off, NULL);
		if (c->support_re == NULL) {
			PCRE2_UCHAR msg[256];
			pcre2_get_error_message(err, msg, sizeof(msg));
			add_err(path, eof, "support_address_regex: %s at offset %zu", (char *)msg, (size_t)off);
		}
	}
	/* The default user is looked for only when the daemon starts as root
	 * (supportgated(8), PRIVILEGES): the file may be checked elsewhere. */
	if (c->user_set && c->user[0] != '\0' && getpwnam(c->user) == NULL)
		add_err(path, eof, "user: no such user '%s'", c->user);
	if (c->state_dir[0] != '/')
		add_err(path, eof, "state_dir: '%s' must be an absolute path", c->state_dir);
	if (c->token_secret_file[0] != '\0')
		c->token_secret = (unsigned char *)read_secret_min(c->token_secret_file, &c->token_secret_len, path, eof,
								   "token_secret_file", 16);
	if (c->rules_file[0] != '\0' && load_errs != NULL)
		c->rules = sg_rules_load(c->rules_file, load_errs);
	if (strncmp(c->smtp_relay, "smtp://", 7) != 0 && strncmp(c->smtp_relay, "smtps://", 8) != 0)
		add_err(path, eof, "smtp_relay: '%s' is not smtp://HOST[:PORT] or smtps://HOST[:PORT]", c->smtp_relay);
	if (c->smtp_password_file[0] != '\0') {
		size_t n;
		c->smtp_password = read_secret_min(c->smtp_password_file, &n, path, eof, "smtp_password_file", 1);
	}
	if (c->support_from[0] != '\0' && (strchr(c->support_from, '@') == NULL || strpbrk(c->support_from, " <>\r\n") != NULL))
		add_err(path, eof, "support_from: '%s' is not a plain address", c->support_from);
	for (size_t i = 0; i < c->nmailboxes; i++)
		check_mailbox(c, &c->mailboxes[i], path);
	for (size_t i = 0; i < c->nwebhooks; i++)
		check_webhook(&c->webhooks[i], path);
	if (c->replication_local[0] != '\0') {
		char *h;
		unsigned port;
		if (sg_repl_addr_parse(c->replication_local, &h, &port) != 0)
			add_err(path, eof, "replication_local: '%s' is not HOST:PORT", c->replication_local);
		else
			free(h);
		for (size_t i = 0; i < c->replication_peers.n; i++) {
			if (sg_repl_addr_parse(c->replication_peers.v[i], &h, &port) != 0)
				add_err(path, eof, "replication_peers: '%s' is not HOST:PORT", c->replication_peers.v[i]);
			else
				free(h);
		}
		if (c->replication_peers.n == 0 && !c->replication_creator)
			add_err(path, eof, "replication_peers: a node that is not replication_creator needs peers to join");
		if (c->replication_peers.n + 1 > SG_REPL_MAX_SITES)
			add_err(path, eof, "replication_peers: at most %d nodes in a group", SG_REPL_MAX_SITES);
	}
	/* Templates: a missing folder is an error unless it is the built-in
	 * default (then acknowledgements are off, with a warning). */
	struct stat tsb;
	if (stat(c->template_dir, &tsb) != 0 && strcmp(c->template_dir, SG_SYSCONFDIR "/templates") == 0 &&
	    stat(SG_PKGDATADIR "/templates", &tsb) == 0) {
		/* the default: the admin's copy in SYSCONFDIR, else the shipped set */
		free(c->template_dir);
		c->template_dir = sg_xstrdup(SG_PKGDATADIR "/templates");
	}
	if (stat(c->template_dir, &tsb) != 0 && strcmp(c->template_dir, SG_SYSCONFDIR "/templates") == 0) {
		if (c->ack)
			sg_warn("config", "%s does not exist: no acknowledgements are sent", c->template_dir);
	} else if (load_errs != NULL) {
		c->templates = sg_templates_load(c->template_dir, load_errs);
	}
}

/* libconfuse options for the keys of table t, with extra zeroed slots at
 * the end for the caller (CFG_END, sections, functions). */
static cfg_opt_t *
table_opts(const struct sg_param *t, size_t n, size_t extra)
{
	cfg_opt_t *opts = sg_xcalloc(n + extra, sizeof(cfg_opt_t));

	for (size_t i = 0; i < n; i++) {
		const struct sg_param *p = &t[i];
		switch (p->type) {
		case SG_PT_STRLIST:
			opts[i] = (cfg_opt_t)CFG_STR_LIST((char *)p->name, (char *)p->def, CFGF_NONE);
			break;
		case SG_PT_INT:
			opts[i] = (cfg_opt_t)CFG_INT((char *)p->name, strtol(p->def, NULL, 0), CFGF_NONE);   /* base 0: socket_mode is octal */
			break;
		case SG_PT_BOOL:
			opts[i] = (cfg_opt_t)CFG_BOOL((char *)p->name, strcmp(p->def, "true") == 0 ? cfg_true : cfg_false, CFGF_NONE);
			break;
		default:
			opts[i] = (cfg_opt_t)CFG_STR((char *)p->name, (char *)p->def, CFGF_NONE);
			break;
		}
	}
	return opts;
}

struct sg_conf *
sg_conf_load(const char *path, struct sg_diag *errs)
{
	cfg_opt_t *opts, *mbopts, *whopts;
	cfg_t *cfg;
	struct sg_conf *c = NULL;
	size_t before = errs->n;
	int rc;

	pthread_mutex_lock(&load_lock);
	load_errs = errs;

	mbopts = table_opts(sg_conf_mailbox_params, sg_conf_mailbox_nparams, 1);
	mbopts[sg_conf_mailbox_nparams] = (cfg_opt_t)CFG_END();
	whopts = table_opts(sg_conf_webhook_params, sg_conf_webhook_nparams, 1);
	whopts[sg_conf_webhook_nparams] = (cfg_opt_t)CFG_END();
	opts = table_opts(sg_conf_params, sg_conf_nparams, 4);
	opts[sg_conf_nparams] = (cfg_opt_t)CFG_SEC("mailbox", mbopts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	opts[sg_conf_nparams + 1] = (cfg_opt_t)CFG_FUNC("include", cfg_include);
	opts[sg_conf_nparams + 2] = (cfg_opt_t)CFG_SEC("webhook", whopts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	opts[sg_conf_nparams + 3] = (cfg_opt_t)CFG_END();

	cfg = cfg_init(opts, CFGF_NONE);
	if (cfg == NULL) {
		add_err(path, 0, "cannot initialise the configuration parser");
		goto out;
	}
	cfg_set_error_function(cfg, confuse_errfunc);
	for (size_t i = 0; i < sg_conf_nparams; i++)
		cfg_set_validate_func(cfg, sg_conf_params[i].name, validate_cb);
	for (size_t i = 0; i < sg_conf_mailbox_nparams; i++) {
		char *name = sg_xasprintf("mailbox|%s", sg_conf_mailbox_params[i].name);
		cfg_set_validate_func(cfg, name, validate_mailbox_cb);
		free(name);
	}
	for (size_t i = 0; i < sg_conf_webhook_nparams; i++) {
		char *name = sg_xasprintf("webhook|%s", sg_conf_webhook_params[i].name);
		cfg_set_validate_func(cfg, name, validate_webhook_cb);
		free(name);
	}

	if (access(path, R_OK) != 0) {
		add_err(path, 0, "cannot read configuration: %s", strerror(errno));
		goto out;
	}
	rc = cfg_parse(cfg, path);
	if (rc != CFG_SUCCESS || errs->n > before) {
		if (errs->n == before)
			add_err(path, 0, "cannot parse configuration");
		goto out;
	}
	c = sg_xcalloc(1, sizeof(*c));
	c->refs = 1;
	c->path = sg_xstrdup(path);
	fill_from_cfg(c, cfg);
	check_semantics(c, path);
	if (errs->n > before) {
		config_free(c);
		c = NULL;
	}
out:
	if (cfg != NULL)
		cfg_free(cfg);
	free(opts);
	free(mbopts);
	free(whopts);
	load_errs = NULL;
	pthread_mutex_unlock(&load_lock);
	return c;
}

struct sg_conf *
sg_conf_ref(struct sg_conf *c)
{
	if (c != NULL)
		__atomic_add_fetch(&c->refs, 1, __ATOMIC_SEQ_CST);
	return c;
}

void
sg_conf_unref(struct sg_conf **cp)
{
	struct sg_conf *c = *cp;

	*cp = NULL;
	if (c != NULL && __atomic_sub_fetch(&c->refs, 1, __ATOMIC_SEQ_CST) == 0)
		config_free(c);
}

struct sg_conf *
sg_conf_current(void)
{
	struct sg_conf *c;

	pthread_mutex_lock(&current_lock);
	c = sg_conf_ref(current);
	pthread_mutex_unlock(&current_lock);
	return c;
}

void
sg_conf_swap(struct sg_conf *c)
{
	struct sg_conf *old;

	pthread_mutex_lock(&current_lock);
	old = current;
	current = c;
	pthread_mutex_unlock(&current_lock);
	sg_conf_unref(&old);
}

int
sg_conf_is_support(const struct sg_conf *c, const char *addr, char **detail)
{
	size_t len;
	char *a, *at, *plus;
	int hit = 0;

	if (detail != NULL)
		*detail = NULL;
	while (*addr == '<' || isspace((unsigned char)*addr))
		addr++;
	len = strlen(addr);
	while (len > 0 && (addr[len - 1] == '>' || isspace((unsigned char)addr[len - 1])))
		len--;
	if (len == 0 || len > 512)
		return 0;
	a = sg_xstrndup(addr, len);
	for (char *q = a; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	if (sg_strlist_has(&c->support_address, a)) {
		hit = 1;
		goto out;
	}
	at = strrchr(a, '@');
	plus = at ? memchr(a, '+', (size_t)(at - a)) : NULL;
	if (plus != NULL) {
		char *base = sg_xasprintf("%.*s%s", (int)(plus - a), a, at);
		if (sg_strlist_has(&c->support_address, base)) {
			hit = 1;
			if (detail != NULL)
				*detail = sg_xstrndup(plus + 1, (size_t)(at - plus - 1));
		}
		free(base);
		if (hit)
			goto out;
	}
	if (c->support_re != NULL) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(c->support_re, NULL);
		if (md == NULL)
			sg_panic("config", "out of memory for match data");
		hit = pcre2_match(c->support_re, (PCRE2_SPTR)a, strlen(a), 0, 0, md, NULL) >= 0;
		pcre2_match_data_free(md);
	}
out:
	free(a);
	return hit;
}

void
sg_conf_repl(const struct sg_conf *c, struct sg_repl_conf *out)
{
	memset(out, 0, sizeof(*out));
	if (c == NULL || c->replication_local == NULL || c->replication_local[0] == '\0')
		return;
	out->local = c->replication_local;
	out->peers = (const char *const *)c->replication_peers.v;
	out->npeers = c->replication_peers.n;
	out->priority = c->replication_priority;
	out->ack = c->replication_ack_policy;
	out->creator = c->replication_creator;
}
