/*
 * milter — see milter.h.
 *
 * Shape (STYLE.md rule 11, after OpenDKIM): a connection context holds the
 * client facts; a message context holds the envelope and the collected
 * message; callbacks only collect and hand over; sg_msgctx_free() is the
 * one cleanup and is safe to call twice. The smfiDesc table is at the end.
 *
 * Cost for non-support mail: envrcpt only compares the recipient with the
 * configured addresses; the DATA callback returns SMFIS_ACCEPT when no
 * support recipient was seen, so headers and body are never transferred.
 *
 * Mixed messages (support and other recipients): the support recipients
 * are ticketed and re-routed; the message itself (headers, subject) is
 * left as it came, so the other recipients receive it unmodified. See
 * supportgated(8).
 *
 * The message is kept in memory up to milter_memory_limit, then spilled to
 * a temp file in state_dir/spool, unlinked at once; at end of message it is
 * mapped read-only and handed to sg_ingest().
 */
#include "config.h"
#include "milter/milter.h"

#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "metrics/metrics.h"
#include "outbound/outbound.h"
#include "store/store.h"
#include "lib/xalloc.h"

#define MOD "milter"
/* Headers per message and bytes per header we accept (bounds, rule 8). */
#define SG_MAX_HEADERS 2000
#define SG_MAX_OURS 64              /* forged X-Support-* headers we remove per message */
/* The steps that never refuse and so need no reply (cb_negotiate, go_on). */
#define SG_NOREPLY_STEPS (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | \
			  SMFIP_NR_EOH | SMFIP_NR_BODY)

static struct sg_store *the_store;
/* Set once we own the listening socket: only then may cleanup remove it. */
static int socket_owned;
/* libmilter keeps the socket spec pointer until it stops. */
static char *listen_spec;
/* The unix socket's directory when we created it (so it may be handed to
 * the unprivileged user), else NULL. */
static char *made_dir;

struct sg_connctx {
	char *conn_client;              /* client address, for logs and rules */
	struct sg_msgctx *conn_msg;
	unsigned long conn_noreply;     /* SMFIP_NR_* the MTA agreed to (cb_negotiate) */
	int conn_tempfail;              /* MAIL could not be taken: tempfail at DATA */
};

struct sg_msgctx {
	struct sg_conf *msg_conf;       /* reference held for the message */
	char *msg_qid;
	char *msg_from;
	char *msg_auth;
	struct sg_strlist msg_rcpt;
	int msg_support;                /* a support recipient was seen */
	int msg_nonsupport;             /* another recipient was seen */
	size_t msg_nheaders;
	struct sg_strlist msg_ours;     /* names of our X-Support-* headers seen, in order */
	/* the message: memory first, then the spill file */
	char *msg_buf;
	size_t msg_len, msg_cap;
	int msg_fd;
	uint64_t msg_size;              /* total bytes seen */
	int msg_oversize;
	int msg_spool_failed;           /* the copy could not be kept: decided at eom */
	int msg_ours_overflow;          /* too many of our headers to remove: never accept */
};

void
sg_milter_set_store(struct sg_store *st)
{
	the_store = st;
}

static const char *
qid_of(const struct sg_msgctx *m)
{
	return m != NULL && m->msg_qid != NULL ? m->msg_qid : "NOQUEUE";
}

static void
sg_msgctx_free(struct sg_msgctx **mp)
{
	struct sg_msgctx *m = *mp;

	if (m == NULL)
		return;
	*mp = NULL;
	sg_conf_unref(&m->msg_conf);
	free(m->msg_qid);
	free(m->msg_from);
	free(m->msg_auth);
	sg_strlist_clear(&m->msg_rcpt);
	sg_strlist_clear(&m->msg_ours);
	free(m->msg_buf);
	if (m->msg_fd >= 0)
		close(m->msg_fd);
	free(m);
}

static struct sg_connctx *
conn_get(SMFICTX *ctx)
{
	return smfi_getpriv(ctx);
}

/* The connection context: made by cb_negotiate (the first callback of a
 * connection) or, with an MTA that does not negotiate, by cb_connect. */
static struct sg_connctx *
conn_make(SMFICTX *ctx)
{
	struct sg_connctx *cc = conn_get(ctx);

	if (cc == NULL) {
		cc = sg_xcalloc(1, sizeof(*cc));
		smfi_setpriv(ctx, cc);
	}
	return cc;
}

/* "Go on" for a step the MTA agreed not to wait for (SMFIP_NR_*, milter
 * protocol 6: Postfix >= 2.6, Sendmail >= 8.14): libmilter then sends no
 * reply, so the MTA streams those steps (every header line is one) without
 * a round trip each. Only steps that can never refuse are negotiated so;
 * what they find is acted on at DATA or end of message. */
static sfsistat
go_on(SMFICTX *ctx, unsigned long nr_bit)
{
	struct sg_connctx *cc = conn_get(ctx);

	return cc != NULL && (cc->conn_noreply & nr_bit) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static char *
macro_dup(SMFICTX *ctx, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)name);
	return v != NULL && *v != '\0' ? sg_xstrdup(v) : NULL;
}

static sfsistat
tempfail(SMFICTX *ctx, const char *why)
{
	smfi_setreply(ctx, "451", "4.3.0", (char *)why);
	return SMFIS_TEMPFAIL;
}

static int strip_our_headers(SMFICTX *ctx, struct sg_msgctx *m);

/* Every accept path removes our headers first: a forged X-Support-Ticket
 * never reaches a mailbox. When that fails, the MTA keeps the mail. */
static sfsistat
accept_clean(SMFICTX *ctx, struct sg_msgctx *m)
{
	if (m->msg_ours_overflow || strip_our_headers(ctx, m) != 0) {
		sg_log_ctx(SG_LOG_WARN, MOD, qid_of(m), 0, "cannot remove forged %s headers: tempfail",
			   m->msg_conf->header_prefix);
		return tempfail(ctx, "Support desk cannot clean this message, try later");
	}
	return SMFIS_ACCEPT;
}

/* At end of message only (headers can be changed there alone). */
static sfsistat
action_status(SMFICTX *ctx, struct sg_msgctx *m, enum sg_action a, const char *why)
{
	switch (a) {
	case SG_ACT_ACCEPT:
		return accept_clean(ctx, m);
	case SG_ACT_REJECT:
		smfi_setreply(ctx, "550", "5.7.1", (char *)why);
		return SMFIS_REJECT;
	case SG_ACT_TEMPFAIL:
	default:
		return tempfail(ctx, why);
	}
}

/* Append bytes to the message, spilling to disk past the memory limit.
 * Returns 0, or -1 when the spill file cannot be written. */
static int
msg_append(struct sg_msgctx *m, const void *p, size_t n)
{
	const struct sg_conf *c = m->msg_conf;

	m->msg_size += n;
	if (m->msg_size > c->milter_size_limit) {
		m->msg_oversize = 1;
		return 0;
	}
	if (m->msg_fd < 0 && m->msg_len + n > c->milter_memory_limit) {
		char *dir = sg_xasprintf("%s/spool", c->state_dir);
		(void)mkdir(dir, 0700);
		m->msg_fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (m->msg_fd < 0) {
			/* O_TMPFILE unsupported: classic mkstemp + unlink */
			char *tmpl = sg_xasprintf("%s/msg.XXXXXX", dir);
			m->msg_fd = mkstemp(tmpl);
			if (m->msg_fd >= 0)
				unlink(tmpl);
			free(tmpl);
		}
		free(dir);
		if (m->msg_fd < 0) {
			sg_log_ctx(SG_LOG_ERROR, MOD, qid_of(m), 0, "cannot create spill file: %s", strerror(errno));
			return -1;
		}
		if (m->msg_len > 0 && write(m->msg_fd, m->msg_buf, m->msg_len) != (ssize_t)m->msg_len)
			goto werr;
		sg_xfree(&m->msg_buf);
		m->msg_len = m->msg_cap = 0;
	}
	if (m->msg_fd >= 0) {
		const char *q = p;
		while (n > 0) {
			ssize_t w = write(m->msg_fd, q, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto werr;
			q += w;
			n -= (size_t)w;
		}
		return 0;
	}
	if (m->msg_len + n > m->msg_cap) {
		size_t cap = m->msg_cap ? m->msg_cap : 8192;
		while (cap < m->msg_len + n)
			cap *= 2;
		m->msg_buf = sg_xrealloc(m->msg_buf, cap);
		m->msg_cap = cap;
	}
	memcpy(m->msg_buf + m->msg_len, p, n);
	m->msg_len += n;
	return 0;
werr:
	sg_log_ctx(SG_LOG_ERROR, MOD, qid_of(m), 0, "cannot write spill file: %s", strerror(errno));
	return -1;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	struct sg_connctx *cc = conn_make(ctx);

	free(cc->conn_client);
	cc->conn_client = macro_dup(ctx, "{client_addr}");
	if (cc->conn_client == NULL && host != NULL)
		cc->conn_client = sg_xstrdup(host);
	return go_on(ctx, SMFIP_NR_CONN);
}

/* Registered only so HELO can go on without a reply (SMFIP_NR_HELO): a
 * filter without the callback makes libmilter answer it. */
static sfsistat
cb_helo(SMFICTX *ctx, char *name)
{
	(void)name;
	return go_on(ctx, SMFIP_NR_HELO);
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct sg_connctx *cc = conn_get(ctx);
	struct sg_msgctx *m;

	if (cc == NULL)
		return SMFIS_TEMPFAIL;      /* no context: MAIL is never negotiated as no-reply then */
	sg_msgctx_free(&cc->conn_msg);
	cc->conn_tempfail = 0;
	m = sg_xcalloc(1, sizeof(*m));
	m->msg_fd = -1;
	m->msg_conf = sg_conf_current();
	if (m->msg_conf == NULL) {
		free(m);
		/* answered at DATA when MAIL gets no reply (support mail or
		 * not: without a configuration we cannot tell) */
		cc->conn_tempfail = 1;
		return (cc->conn_noreply & SMFIP_NR_MAIL) != 0 ? SMFIS_NOREPLY : SMFIS_TEMPFAIL;
	}
	m->msg_from = sg_xstrdup(argv[0] != NULL ? argv[0] : "");
	m->msg_auth = macro_dup(ctx, "{auth_authen}");
	m->msg_qid = macro_dup(ctx, "i");
	cc->conn_msg = m;
	return go_on(ctx, SMFIP_NR_MAIL);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct sg_connctx *cc = conn_get(ctx);
	struct sg_msgctx *m = cc ? cc->conn_msg : NULL;

	if (m == NULL || argv[0] == NULL)
		return go_on(ctx, SMFIP_NR_RCPT);
	if (sg_conf_is_support(m->msg_conf, argv[0], NULL)) {
		m->msg_support = 1;
		if (m->msg_rcpt.n < 1000)
			sg_strlist_add(&m->msg_rcpt, argv[0], 0);
	} else {
		m->msg_nonsupport = 1;
	}
	return go_on(ctx, SMFIP_NR_RCPT);
}

/* Registered so Postfix does not hold a lone DATA packet back (Nagle +
 * delayed ACK, MTA-NOTES.md) and so non-support mail stops here. */
static sfsistat
cb_data(SMFICTX *ctx)
{
	struct sg_connctx *cc = conn_get(ctx);
	struct sg_msgctx *m = cc ? cc->conn_msg : NULL;

	if (cc != NULL && cc->conn_tempfail) {
		cc->conn_tempfail = 0;
		return tempfail(ctx, "Support desk configuration not loaded, try later");
	}
	if (m == NULL || !m->msg_support) {
		if (cc != NULL)
			sg_msgctx_free(&cc->conn_msg);
		return SMFIS_ACCEPT;
	}
	/* The queue id is known by now in Postfix. */
	if (m->msg_qid == NULL)
		m->msg_qid = macro_dup(ctx, "i");
	/* A replica of a replication group does not write: the MTA keeps
	 * the mail and retries (at the master, supportgated(8)). */
	if (!sg_store_writable(the_store)) {
		char master[300], why[400];
		sg_store_repl_master(the_store, master, sizeof(master));
		snprintf(why, sizeof(why), "Support desk node is a replica (master %s), try later", master);
		sg_log_ctx(SG_LOG_INFO, MOD, qid_of(m), 0, "tempfail: this node is a replica; the master is %s", master);
		sg_msgctx_free(&cc->conn_msg);
		return tempfail(ctx, why);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct sg_connctx *cc = conn_get(ctx);
	struct sg_msgctx *m = cc ? cc->conn_msg : NULL;
	const char *pfx;

	if (m == NULL)
		return go_on(ctx, SMFIP_NR_HDR);
	pfx = m->msg_conf->header_prefix;
	if (strncasecmp(name, pfx, strlen(pfx)) == 0) {
		/* Remember it for removal at end of message, also past the
		 * header limit; do not store it in the raw copy either, so it
		 * can never steer ingest. */
		if (m->msg_ours.n < SG_MAX_OURS)
			sg_strlist_add(&m->msg_ours, name, 0);
		else
			m->msg_ours_overflow = 1;
		return go_on(ctx, SMFIP_NR_HDR);
	}
	if (++m->msg_nheaders > SG_MAX_HEADERS) {
		m->msg_oversize = 1;
		return go_on(ctx, SMFIP_NR_HDR);
	}
	if (msg_append(m, name, strlen(name)) < 0 || msg_append(m, ": ", 2) < 0 ||
	    msg_append(m, value, strlen(value)) < 0 || msg_append(m, "\r\n", 2) < 0)
		m->msg_spool_failed = 1;
	return go_on(ctx, SMFIP_NR_HDR);
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct sg_connctx *cc = conn_get(ctx);
	struct sg_msgctx *m = cc ? cc->conn_msg : NULL;

	if (m != NULL && msg_append(m, "\r\n", 2) < 0)
		m->msg_spool_failed = 1;
	return go_on(ctx, SMFIP_NR_EOH);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct sg_connctx *cc = conn_get(ctx);
	struct sg_msgctx *m = cc ? cc->conn_msg : NULL;

	if (m != NULL && !m->msg_spool_failed && msg_append(m, p, n) < 0)
		m->msg_spool_failed = 1;
	return go_on(ctx, SMFIP_NR_BODY);
}

/* Remove every incoming header with our prefix: a customer must not be
 * able to inject X-Support-Ticket and the like. Indexes count per name. */
static int
strip_our_headers(SMFICTX *ctx, struct sg_msgctx *m)
{
	int rc = 0;

	/* Delete from the last occurrence backwards so indexes stay valid. */
	for (size_t i = m->msg_ours.n; i-- > 0;) {
		int idx = 0;
		for (size_t j = 0; j <= i; j++)
			if (strcasecmp(m->msg_ours.v[j], m->msg_ours.v[i]) == 0)
				idx++;
		if (smfi_chgheader(ctx, m->msg_ours.v[i], idx, NULL) != MI_SUCCESS) {
			sg_log_ctx(SG_LOG_WARN, MOD, qid_of(m), 0, "cannot remove header %s", m->msg_ours.v[i]);
			rc = -1;
		}
	}
	return rc;
}

static int
apply_decision(SMFICTX *ctx, struct sg_msgctx *m, const struct sg_decision *d)
{
	int rc = 0;

	for (size_t i = 0; i < d->rcpt_add.n; i++)
		if (smfi_addrcpt(ctx, d->rcpt_add.v[i]) != MI_SUCCESS)
			rc = -1;
	for (size_t i = 0; i < d->rcpt_del.n; i++)
		if (smfi_delrcpt(ctx, d->rcpt_del.v[i]) != MI_SUCCESS)
			rc = -1;
	if (m->msg_nonsupport)
		return rc;  /* mixed message: content stays as it came */
	for (size_t i = 0; i < d->nadd; i++)
		if (smfi_addheader(ctx, d->add[i].name, d->add[i].value) != MI_SUCCESS)
			rc = -1;
	if (d->subject != NULL && smfi_chgheader(ctx, "Subject", 1, d->subject) != MI_SUCCESS)
		rc = -1;
	if (d->reply_to != NULL && smfi_chgheader(ctx, "Reply-To", 1, d->reply_to) != MI_SUCCESS)
		rc = -1;
	return rc;
}

/* An accepted decision: our headers, quarantine, the ticket's marks. */
static sfsistat
answer_ok(SMFICTX *ctx, struct sg_msgctx *m, const struct sg_decision *d)
{
	if (d->reject != NULL) {
		sg_log_ctx(SG_LOG_INFO, MOD, qid_of(m), 0, "rejected: %s", d->reason ? d->reason : "");
		smfi_setreply(ctx, "550", "5.7.1", d->reject);
		return SMFIS_REJECT;
	}
	if (d->tempfail) {
		sg_log_ctx(SG_LOG_INFO, MOD, qid_of(m), 0, "tempfailed: %s", d->reason ? d->reason : "");
		smfi_setreply(ctx, "451", "4.7.1", "Please try again later");
		return SMFIS_TEMPFAIL;
	}
	if (d->discard) {
		/* Handled in full and committed (an agent's mail: its relayed
		 * copy is queued): the MTA's own copy goes nowhere. */
		sg_log_ctx(SG_LOG_INFO, MOD, qid_of(m), d->ticket, "%s: %s", sg_verdict_name(d->verdict),
			   d->reason ? d->reason : "");
		if (d->jobs > 0)
			sg_outbound_kick();
		return SMFIS_DISCARD;
	}
	if (d->quarantine)
		(void)smfi_quarantine(ctx, "supportgate rule: quarantine");
	/* A duplicate (the MTA retrying after a crash) is marked like the
	 * first copy: no second ticket, same headers. A modification the MTA
	 * refuses could leave the support copy going nowhere: tempfail, and
	 * the retry (a duplicate by then) applies the same marks. */
	sfsistat st = accept_clean(ctx, m);
	if (st == SMFIS_ACCEPT && d->verdict != SG_V_IGNORED && apply_decision(ctx, m, d) < 0) {
		sg_log_ctx(SG_LOG_WARN, MOD, qid_of(m), d->ticket, "the MTA refused a modification: tempfail");
		st = tempfail(ctx, "Support desk could not mark this message, try later");
	}
	if (st != SMFIS_ACCEPT)
		return st;
	sg_log_ctx(SG_LOG_INFO, MOD, qid_of(m), d->ticket, "%s: %s", sg_verdict_name(d->verdict),
		   d->reason ? d->reason : "");
	if (d->jobs > 0)
		sg_outbound_kick();
	return SMFIS_ACCEPT;
}

/* Ingest failed: the configured action for its class (STYLE.md rule 6). */
static sfsistat
answer_error(SMFICTX *ctx, struct sg_msgctx *m, int rc)
{
	const struct sg_conf *c = m->msg_conf;
	sfsistat st;

	switch (rc) {
	case SG_ING_ESTORE:
		st = action_status(ctx, m, c->on_store_error, "Support desk store unavailable, try later");
		break;
	case SG_ING_EPARSE:
		st = action_status(ctx, m, c->on_parse_error, "Message could not be parsed");
		break;
	case SG_ING_ERESOURCE:
		st = action_status(ctx, m, c->on_resource_error, "Support desk out of resources, try later");
		break;
	default:
		st = action_status(ctx, m, c->on_internal_error, "Support desk internal error, try later");
		break;
	}
	sg_log_ctx(SG_LOG_ERROR, MOD, qid_of(m), 0, "ingest failed (%d): answering %s", rc,
		   st == SMFIS_ACCEPT ? "accept" : st == SMFIS_REJECT ? "reject" : "tempfail");
	return st;
}

/* The reply's class and the time from end of message to the reply. */
static void
count_reply(sfsistat st, int failed, const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	sg_metrics_latency((double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9);
	sg_metrics_milter(failed ? SG_MX_INTERNAL_ERROR : st == SMFIS_ACCEPT ? SG_MX_ACCEPT
			  : st == SMFIS_DISCARD ? SG_MX_DISCARD : st == SMFIS_REJECT ? SG_MX_REJECT : SG_MX_TEMPFAIL);
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct sg_connctx *cc = conn_get(ctx);
	struct sg_msgctx *m = cc ? cc->conn_msg : NULL;
	struct sg_decision d = { 0 };
	const char *raw;
	void *map = MAP_FAILED;
	size_t len = 0;
	sfsistat st;
	struct timespec t0;
	int failed = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (m == NULL)
		return SMFIS_ACCEPT;
	if (m->msg_oversize) {
		sg_log_ctx(SG_LOG_WARN, MOD, qid_of(m), 0, "message of %llu bytes over milter_size_limit: %s",
			   (unsigned long long)m->msg_size, sg_action_name(m->msg_conf->on_oversize));
		st = action_status(ctx, m, m->msg_conf->on_oversize, "Message too large for the support desk");
		goto out;
	}
	if (m->msg_spool_failed) {
		sg_log_ctx(SG_LOG_ERROR, MOD, qid_of(m), 0, "cannot spool message: %s",
			   sg_action_name(m->msg_conf->on_resource_error));
		st = action_status(ctx, m, m->msg_conf->on_resource_error, "cannot spool message");
		failed = 1;
		goto out;
	}
	if (m->msg_fd >= 0) {
		struct stat sb;
		if (fstat(m->msg_fd, &sb) != 0 || sb.st_size == 0 ||
		    (map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, m->msg_fd, 0)) == MAP_FAILED) {
			sg_log_ctx(SG_LOG_ERROR, MOD, qid_of(m), 0, "cannot map spill file: %s", strerror(errno));
			st = action_status(ctx, m, m->msg_conf->on_resource_error, "cannot read spooled message");
			failed = 1;
			goto out;
		}
		raw = map;
		len = (size_t)sb.st_size;
	} else {
		raw = m->msg_buf ? m->msg_buf : "";
		len = m->msg_len;
	}
	struct sg_ingest_in in = {
		.raw = raw, .len = len, .env_from = m->msg_from,
		.env_rcpt = (const char *const *)m->msg_rcpt.v, .nrcpt = m->msg_rcpt.n,
		.door = SG_DOOR_MILTER, .auth_user = m->msg_auth, .client_addr = cc->conn_client,
		.queue_id = m->msg_qid,
	};
	int rc = sg_ingest(the_store, m->msg_conf, &in, &d);
	st = rc == SG_ING_OK ? answer_ok(ctx, m, &d) : answer_error(ctx, m, rc);
	sg_decision_clear(&d);
	if (rc != SG_ING_OK)
		failed = 1;
out:
	if (map != MAP_FAILED)
		munmap(map, len);
	sg_msgctx_free(&cc->conn_msg);
	count_reply(st, failed, &t0);
	return st;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct sg_connctx *cc = conn_get(ctx);

	if (cc != NULL)
		sg_msgctx_free(&cc->conn_msg);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct sg_connctx *cc = conn_get(ctx);

	if (cc != NULL) {
		sg_msgctx_free(&cc->conn_msg);
		free(cc->conn_client);
		free(cc);
		smfi_setpriv(ctx, NULL);
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
	     unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	*pf0 = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGBODY |
	       SMFIF_QUARANTINE;
#if defined(HAVE_DECL_SMFI_SETSYMLIST) && HAVE_DECL_SMFI_SETSYMLIST
	/* our macros come by our own request, whatever the MTA's global
	 * milter_*_macros lists say (they belong to the admin's other milters) */
	*pf0 |= SMFIF_SETSYMLIST;
#endif
	*pf0 &= f0;
	/* Every step but DATA and end of message goes on without a reply
	 * when the MTA can do that (see go_on); no unknown commands (we have
	 * no callback for them). */
	*pf1 = (SG_NOREPLY_STEPS | SMFIP_NOUNKNOWN) & f1;
	conn_make(ctx)->conn_noreply = *pf1 & SG_NOREPLY_STEPS;
	*pf2 = 0;
	*pf3 = 0;
#if defined(HAVE_DECL_SMFI_SETSYMLIST) && HAVE_DECL_SMFI_SETSYMLIST
	smfi_setsymlist(ctx, SMFIM_CONNECT, "{client_addr}");
	smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
	smfi_setsymlist(ctx, SMFIM_DATA, "i");
	smfi_setsymlist(ctx, SMFIM_EOM, "i");
#endif
	return SMFIS_CONTINUE;
}

static struct smfiDesc sg_filter = {
	.xxfi_name = "supportgate",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT |
		      SMFIF_CHGBODY | SMFIF_QUARANTINE
#if defined(HAVE_DECL_SMFI_SETSYMLIST) && HAVE_DECL_SMFI_SETSYMLIST
		      | SMFIF_SETSYMLIST
#endif
		      ,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

static const char *
unix_path(const char *spec)
{
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	return NULL;
}

/* A unix socket file nobody answers on is stale and may go; a live one or
 * a file that is not a socket stays and is an error. */
static int
clear_stale_socket(const char *path)
{
	struct stat sb;
	struct sockaddr_un sun;
	int fd, rc;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(sb.st_mode)) {
		sg_error(MOD, "%s exists and is not a socket; not removing it", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		sg_error(MOD, "%s is in use by a running process", path);
		return -1;
	}
	sg_info(MOD, "removing stale socket %s", path);
	return unlink(path);
}

/* libmilter does not expose its listening descriptor: find it. */
static int
listening_fd(void)
{
	for (int fd = 3; fd < 1024; fd++) {
		int acc = 0;
		socklen_t len = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && acc)
			return fd;
	}
	return -1;
}

/* On Linux accepted sockets inherit TCP_NODELAY from the listener.
 * Without it the filter's small replies wait for delayed ACKs (~40 ms
 * each). 1 when set (an inet listener). */
static int
listener_nodelay(int fd)
{
	int on = 1, dom = 0;
	socklen_t len = sizeof(dom);

	return fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 &&
	       (dom == AF_INET || dom == AF_INET6) && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == 0;
}

/*
 * A quick stop. libmilter's stop (its signal thread on SIGTERM, or
 * smfi_stop) sets a flag its accept loop reads only when its poll()
 * returns: every stop waited out the poll's 5 s timeout (systemctl
 * restart, each test's daemon). A thread watches the flag through
 * libmilter's mi_stop() (exported by libmilter.so, not in its header:
 * weak, so without it the stop is only slower) and, once set, shuts
 * down a copy of the listening descriptor (wake_fd), which wakes the
 * poll: the loop ends at once. After a stop no connection is accepted
 * either way.
 */
extern int mi_stop(void) __attribute__((weak));

static int wake_fd = -1;
static volatile int running;

static void
wake_prepare(int fd)
{
	if (fd >= 0 && mi_stop != NULL)
		wake_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

static void *
wake_main(void *arg)
{
	struct timespec tick = { 0, 50 * 1000000 };

	(void)arg;
	while (running) {
		nanosleep(&tick, NULL);
		if (mi_stop() != 0) {   /* MILTER_CONT is 0 */
			shutdown(wake_fd, SHUT_RDWR);
			break;
		}
	}
	return NULL;
}

/* The unix socket: only its owner and group (the MTA's) may connect. */
static int
socket_access(const char *path, unsigned mode, const char *group)
{
	if (group != NULL && *group != '\0') {
		struct group *gr = getgrnam(group);
		struct stat sb;
		if (gr == NULL)
			sg_warn(MOD, "socket_group %s does not exist; %s keeps its group", group, path);
		else if (lstat(path, &sb) == 0 && sb.st_gid == gr->gr_gid)
			;   /* already (a setgid directory): nothing to change, no privilege needed */
		else if (lchown(path, (uid_t)-1, gr->gr_gid) != 0) {
			sg_error(MOD, "cannot give %s to group %s: %s (start as root, or make its directory "
				 "setgid group %s)", path, group, strerror(errno), group);
			return -1;
		}
	}
	if (chmod(path, (mode_t)mode) != 0) {
		sg_error(MOD, "cannot set mode %04o on %s: %s", mode, path, strerror(errno));
		return -1;
	}
	return 0;
}

int
sg_milter_setup(const char *spec, int backlog, unsigned mode, const char *group)
{
	const char *path = unix_path(spec);
	char *conn;

	if (path != NULL) {
		char *dir = sg_xstrdup(path);
		char *slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			if (mkdir(dir, 0755) == 0) {
				free(made_dir);
				made_dir = sg_xstrdup(dir);
			}
		}
		free(dir);
		if (clear_stale_socket(path) != 0)
			return -1;
	}
	/* libmilter spells unix sockets "unix:" or "local:" and inet ones as we do. */
	free(listen_spec);
	listen_spec = conn = sg_xstrdup(spec);
	if (smfi_setconn(conn) == MI_FAILURE) {
		sg_error(MOD, "bad socket specification %s", spec);
		return -1;
	}
	if (smfi_register(sg_filter) == MI_FAILURE) {
		sg_error(MOD, "smfi_register failed");
		return -1;
	}
	if (backlog > 0)
		smfi_setbacklog(backlog);
	if (smfi_opensocket(0) == MI_FAILURE) {
		sg_error(MOD, "cannot listen on %s: %s", spec,
			 errno ? strerror(errno) : "address in use or not permitted");
		return -1;
	}
	socket_owned = 1;
	int lfd = listening_fd();   /* libmilter does not expose it */
	wake_prepare(lfd);
	if (path != NULL) {
		if (socket_access(path, mode, group) != 0)
			return -1;
	} else if (!listener_nodelay(lfd)) {
		sg_warn(MOD, "could not set TCP_NODELAY on %s", spec);
	}
	sg_info(MOD, "listening on %s", spec);
	return 0;
}

int
sg_milter_chown(uid_t uid, gid_t gid)
{
	const char *path = listen_spec ? unix_path(listen_spec) : NULL;
	int rc = 0;

	if (path == NULL)
		return 0;
	if (lchown(path, uid, (gid_t)-1) != 0)   /* its group stays socket_group's */
		rc = -1;
	if (made_dir != NULL && chown(made_dir, uid, gid) != 0)
		rc = -1;
	if (rc != 0)
		sg_warn(MOD, "cannot hand %s to the daemon user: %s (it may stay behind at exit)", path, strerror(errno));
	return rc;
}

int
sg_milter_run(void)
{
	pthread_t w;
	int rc, watching;

	running = 1;
	watching = wake_fd >= 0 && pthread_create(&w, NULL, wake_main, NULL) == 0;
	rc = smfi_main() == MI_SUCCESS ? 0 : -1;
	running = 0;
	if (watching)
		pthread_join(w, NULL);
	if (wake_fd >= 0) {
		close(wake_fd);
		wake_fd = -1;
	}
	return rc;
}

void
sg_milter_stop(void)
{
	smfi_stop();
}

void
sg_milter_cleanup(const char *spec)
{
	const char *path = unix_path(spec);

	sg_xfree(&made_dir);
	if (!socket_owned) {
		sg_xfree(&listen_spec);
		return;
	}
	sg_xfree(&listen_spec);
	socket_owned = 0;
	if (path != NULL && unlink(path) != 0 && errno != ENOENT)
		sg_warn(MOD, "cannot remove %s: %s", path, strerror(errno));
}
