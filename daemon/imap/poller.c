/*
 * poller — the threads of the IMAP door (see imap.h), one per mailbox.
 *
 * A thread's life: connect (session.c checks TLS before the password
 * goes), SELECT, read the checkpoint (a new UIDVALIDITY starts it afresh),
 * move what was committed but not moved before a crash, then loop: look
 * for UIDs above the checkpoint, take them page by page, wait (IDLE when
 * offered, else poll_interval), look again. Any network error ends the
 * session; the next attempt waits 1 s, doubling up to reconnect_max, each
 * wait drawn at random between half and all of it (jitter: many gateways
 * behind one server do not come back in step). A session that read the
 * folder resets the wait.
 *
 * One message: fetched alone (memory holds one message at a time, up to
 * size_limit), ingested with the checkpoint written in ingest's own
 * transaction, then moved with the rest of its page. Whatever cannot be
 * taken (too big, refused by the server, empty, an ingest that fails
 * SG_IMAP_RETRIES times for reasons other than the store) is flagged on
 * the server, logged with mailbox and UID, and passed by: the checkpoint
 * moves over it, so the thread never loops on it. A store failure is not
 * the message's fault: that message is tried again after the backoff.
 *
 * Pages bound the work per command: UID windows of SG_IMAP_PAGE (a
 * window that holds nothing doubles the next one, up to SG_IMAP_PAGE_MAX,
 * so a gap of expunged UIDs is crossed quickly), UID and size only, then
 * the bodies one by one.
 */
#include "config.h"
#include "imap/imap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "imap/session.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "lib/lograte.h"
#include "lib/xalloc.h"
#include "store/store.h"

#define MOD "imap"
#define SG_IMAP_PAGE 100
#define SG_IMAP_PAGE_MAX (SG_IMAP_PAGE * 64)
#define SG_IMAP_RETRIES 3
#define SG_IMAP_TXN_RETRIES 8
#define SG_IMAP_DISPOSE_CHUNK 500

/* Outcomes of our own besides enum sg_imap_rc. */
#define RC_STORE     100   /* the store failed: back off, try the same message again */
#define RC_RECONNECT 101   /* the settings changed: a new session at once */

struct poller {
	char *name;
	pthread_t tid;
	int wake[2];                 /* a byte in it: stop */
	pthread_mutex_t lock;        /* stop, fd */
	int stop;
	int fd;                      /* the session's socket, -1: none */
	/* the thread's own */
	struct sg_imap_status status;
	unsigned seed;
	uint32_t fail_uid;
	int fail_count;
};

/* One session: what the thread knows while connected. */
struct run {
	struct poller *p;
	struct sg_conf *c;              /* a reference; replaced when a reload keeps the server */
	const struct sg_mailbox *mb;    /* in c */
	struct sg_imap_session *s;
	struct sg_imap_ckpt ck;         /* as stored */
	char *ident;
	uint32_t scan_from;             /* UIDs below were looked at in this session */
	uint32_t *done;                 /* ingested in the current page, to dispose */
	size_t ndone;
	int progressed;
};

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static struct poller **pollers;
static size_t npollers;
static struct sg_store *the_store;

/* ------------------------------------------------------------- helpers */

static int
stopping(struct poller *p)
{
	int s;

	pthread_mutex_lock(&p->lock);
	s = p->stop;
	pthread_mutex_unlock(&p->lock);
	return s;
}

/* Sleep ms, or less when asked to stop; 1 when asked. */
static int
nap(struct poller *p, long ms)
{
	struct pollfd pf = { .fd = p->wake[0], .events = POLLIN };
	int r;

	do
		r = poll(&pf, 1, ms > 0x7fffffff ? 0x7fffffff : (int)ms);
	while (r < 0 && errno == EINTR);
	return r > 0 || stopping(p);
}

static void
status_save(struct poller *p)
{
	struct sg_conf *c = sg_conf_current();

	p->status.updated = (int64_t)time(NULL);
	p->status.pid = (long)getpid();
	if (c != NULL && sg_imap_status_write(c->state_dir, p->name, &p->status) != 0) {
		char key[128];
		snprintf(key, sizeof(key), "imap-status:%s", p->name);
		if (sg_lograte_allow(key, p->status.updated, 3600, NULL))
			sg_warn(MOD, "mailbox %s: cannot write %s/imap/%s.status: %s", p->name, c->state_dir, p->name,
				strerror(errno));
	}
	sg_conf_unref(&c);
}

/* An error of the session: logged (the same words at most every ten
 * minutes), and kept for `supportgate imap status`. */
static void
report(struct poller *p, int rc, const char *why)
{
	char key[200];
	unsigned more = 0;
	int64_t now = (int64_t)time(NULL);
	enum sg_log_level lvl = rc == SG_IMAP_ETLS || rc == SG_IMAP_EAUTH || rc == RC_STORE ? SG_LOG_ERROR : SG_LOG_WARN;

	snprintf(key, sizeof(key), "imap:%s:%s", p->name, why);
	if (sg_lograte_allow(key, now, 600, &more))
		sg_log(lvl, MOD, "mailbox %s: %s%s", p->name, why, more ? " (repeated since)" : "");
	snprintf(p->status.last_error, sizeof(p->status.last_error), "%s", why);
	p->status.last_error_at = now;
}

static char *
identity(const struct sg_mailbox *mb)
{
	return sg_xasprintf("%s@%s:%ld/%s", mb->user, mb->host, mb->port, mb->folder);
}

/* Write the checkpoint alone (a message that changed no ticket). */
static int
ckpt_write(struct run *r, const struct sg_imap_ckpt *ck)
{
	int rc = SG_STORE_DEADLOCK;

	for (int i = 0; i < SG_IMAP_TXN_RETRIES && rc == SG_STORE_DEADLOCK; i++) {
		struct sg_txn *txn = NULL;
		if ((rc = sg_store_txn_begin(the_store, &txn)) != 0)
			break;
		rc = sg_imap_ckpt_put(the_store, txn, r->p->name, ck);
		if (rc == 0)
			rc = sg_store_txn_commit(&txn);
		sg_store_txn_abort(&txn);
	}
	if (rc != 0) {
		report(r->p, RC_STORE, "cannot write the UID checkpoint to the store");
		return RC_STORE;
	}
	return SG_IMAP_OK;
}

static int
advance(struct run *r, uint32_t uid)
{
	struct sg_imap_ckpt next = r->ck;

	if (uid <= r->ck.last_uid)
		return SG_IMAP_OK;
	next.last_uid = uid;
	if (ckpt_write(r, &next) != SG_IMAP_OK)
		return RC_STORE;
	r->ck.last_uid = uid;
	return SG_IMAP_OK;
}

/* --------------------------------------------------------- one message */

/* Flag it, say why, and go past it. */
static int
skip(struct run *r, uint32_t uid, const char *why)
{
	char qid[96];
	int rc;

	snprintf(qid, sizeof(qid), "%s/%u", r->p->name, uid);
	sg_log_ctx(SG_LOG_WARN, MOD, qid, 0, "mailbox %s: UID %u %s: flagged and left in %s", r->p->name, uid, why,
		   r->mb->folder);
	if ((rc = sg_imap_session_flag_failed(r->s, uid)) == SG_IMAP_ENET)
		return rc;
	if (rc != SG_IMAP_OK)
		sg_warn(MOD, "mailbox %s: UID %u cannot be flagged: %s", r->p->name, uid, sg_imap_session_error(r->s));
	return advance(r, uid);
}

static int
ingest_one(struct run *r, uint32_t uid, const char *raw, size_t len)
{
	const struct sg_mailbox *mb = r->mb;
	struct sg_imap_ckpt next = r->ck, now;
	struct sg_decision d = { 0 };
	char qid[96], *kv = sg_imap_ckpt_name(r->p->name);
	size_t vlen;
	int rc;

	next.last_uid = uid;
	next.ingested++;
	char *val = sg_imap_ckpt_encode(&next, &vlen);
	snprintf(qid, sizeof(qid), "%s/%u", r->p->name, uid);
	struct sg_ingest_in in = {
		.raw = raw, .len = len, .env_from = NULL, .env_rcpt = (const char *const *)mb->addresses.v,
		.nrcpt = mb->addresses.n, .door = SG_DOOR_IMAP, .queue_id = qid,
		.kv_name = kv, .kv_val = val, .kv_len = vlen,
	};
	int irc = sg_ingest(the_store, r->c, &in, &d);
	free(val);
	free(kv);
	switch (irc) {
	case SG_ING_OK:
		break;
	case SG_ING_EPARSE:
		sg_decision_clear(&d);
		return skip(r, uid, len == 0 ? "is empty" : "cannot be parsed");
	case SG_ING_ESTORE:
		sg_decision_clear(&d);
		report(r->p, RC_STORE, "the store failed while ingesting; trying again after a pause");
		return RC_STORE;
	default:
		sg_decision_clear(&d);
		if (r->p->fail_uid != uid) {
			r->p->fail_uid = uid;
			r->p->fail_count = 0;
		}
		if (++r->p->fail_count >= SG_IMAP_RETRIES)
			return skip(r, uid, "could not be ingested (tried 3 times)");
		report(r->p, RC_STORE, "ingest failed; trying again after a pause");
		return RC_STORE;
	}
	/* Committed with the checkpoint when a transaction ran; a duplicate
	 * (or anything that wrote nothing) moves the checkpoint alone. */
	if ((rc = sg_imap_ckpt_get(the_store, NULL, r->p->name, &now)) != 0 && rc != SG_STORE_NOTFOUND) {
		sg_decision_clear(&d);
		report(r->p, RC_STORE, "cannot read the UID checkpoint");
		return RC_STORE;
	}
	if (rc == 0 && now.last_uid == uid && now.uidvalidity == r->ck.uidvalidity) {
		r->ck.last_uid = uid;
		r->ck.ingested = now.ingested;
		r->p->status.session_ingested++;
		rc = SG_IMAP_OK;
	} else {
		rc = advance(r, uid);
	}
	sg_imap_ckpt_clear(&now);
	if (rc == SG_IMAP_OK && d.unparsed) {
		rc = skip(r, uid, "cannot be parsed (stored raw)");
	} else if (rc == SG_IMAP_OK) {
		r->done[r->ndone++] = uid;
		sg_debug(MOD, "mailbox %s: UID %u: %s, ticket %llu", r->p->name, uid, sg_verdict_name(d.verdict),
			 (unsigned long long)d.ticket);
	}
	sg_decision_clear(&d);
	return rc;
}

static int
take(struct run *r, const struct sg_imap_msg *m)
{
	uint64_t limit = r->mb->size_limit;
	char *raw = NULL, why[128];
	size_t len = 0;
	int rc;

	if (m->size > limit) {
		snprintf(why, sizeof(why), "is larger than size_limit (%u bytes)", m->size);
		return skip(r, m->uid, why);
	}
	rc = sg_imap_session_fetch(r->s, m->uid, limit, &raw, &len);
	if (rc == SG_IMAP_ECMD) {
		snprintf(why, sizeof(why), "cannot be fetched (%.90s)", sg_imap_session_error(r->s));
		return skip(r, m->uid, why);
	}
	if (rc != SG_IMAP_OK)
		return rc;
	if (raw == NULL) {   /* expunged meanwhile by someone else */
		sg_debug(MOD, "mailbox %s: UID %u is gone", r->p->name, m->uid);
		return advance(r, m->uid);
	}
	if (len > limit)
		rc = skip(r, m->uid, "is larger than size_limit");
	else
		rc = ingest_one(r, m->uid, raw, len);
	free(raw);
	return rc;
}

/* The page's ingested messages: moved (or \Seen). A failure leaves them
 * for the sweep of the next session: they are committed, nothing is lost. */
static int
dispose(struct run *r)
{
	int rc = SG_IMAP_OK;

	for (size_t i = 0; i < r->ndone && rc == SG_IMAP_OK; i += SG_IMAP_DISPOSE_CHUNK) {
		size_t n = r->ndone - i < SG_IMAP_DISPOSE_CHUNK ? r->ndone - i : SG_IMAP_DISPOSE_CHUNK;
		rc = sg_imap_session_dispose(r->s, r->mb, r->done + i, n);
	}
	if (rc != SG_IMAP_OK)
		sg_warn(MOD, "mailbox %s: %zu ingested message(s) not yet %s: %s", r->p->name, r->ndone,
			r->mb->processed == SG_IMAP_SEEN ? "flagged \\Seen" : "moved", sg_imap_session_error(r->s));
	r->ndone = 0;
	return rc == SG_IMAP_ECMD ? SG_IMAP_OK : rc;
}

/* ----------------------------------------------------------- the folder */

static int
scan(struct run *r)
{
	uint32_t top, a, win = SG_IMAP_PAGE;
	int rc;

	if ((rc = sg_imap_session_last_uid(r->s, &top)) != SG_IMAP_OK)
		return rc;
	a = r->ck.last_uid + 1 > r->scan_from ? r->ck.last_uid + 1 : r->scan_from;
	while (a != 0 && a <= top) {
		struct sg_imap_msg *v = NULL;
		size_t n = 0;
		uint32_t b = top - a < win - 1 ? top : a + win - 1;

		if (stopping(r->p))
			return SG_IMAP_ESTOP;
		if ((rc = sg_imap_session_list(r->s, a, b, &v, &n)) != SG_IMAP_OK)
			return rc;
		if (n == 0) {   /* a gap: these UIDs are gone for good (all below top were given out) */
			free(v);
			win = win * 2 > SG_IMAP_PAGE_MAX ? SG_IMAP_PAGE_MAX : win * 2;
			r->scan_from = a = b + 1;
			continue;
		}
		win = SG_IMAP_PAGE;
		sg_info(MOD, "mailbox %s: UIDs %u-%u: %zu message(s)", r->p->name, a, b, n);
		r->done = sg_xreallocarray(r->done, n, sizeof(*r->done));
		r->ndone = 0;
		for (size_t i = 0; i < n && rc == SG_IMAP_OK; i++)
			if (v[i].uid > r->ck.last_uid)
				rc = stopping(r->p) ? SG_IMAP_ESTOP : take(r, &v[i]);
		free(v);
		int drc = r->ndone > 0 ? dispose(r) : SG_IMAP_OK;
		if (rc != SG_IMAP_OK)
			return rc;
		if (drc != SG_IMAP_OK)
			return drc;
		r->progressed = 1;
		r->scan_from = a = b + 1;
	}
	return SG_IMAP_OK;
}

/* The checkpoint of this folder, or a fresh one when there is none, it
 * belongs to another folder, or UIDVALIDITY changed (rescan from 1). */
static int
load_checkpoint(struct run *r, uint32_t uidvalidity)
{
	struct sg_imap_ckpt ck;
	int rc = sg_imap_ckpt_get(the_store, NULL, r->p->name, &ck);

	if (rc != 0 && rc != SG_STORE_NOTFOUND) {
		report(r->p, RC_STORE, "cannot read the UID checkpoint");
		return RC_STORE;
	}
	if (rc == 0 && ck.uidvalidity == uidvalidity && strcmp(ck.ident, r->ident) == 0) {
		r->ck = ck;
		return SG_IMAP_OK;
	}
	if (rc == 0 && strcmp(ck.ident, r->ident) != 0)
		sg_info(MOD, "mailbox %s: now %s (was %s): reading the folder from UID 1", r->p->name, r->ident, ck.ident);
	else if (rc == 0)
		sg_warn(MOD, "mailbox %s: UIDVALIDITY changed from %u to %u: reading the folder again from UID 1 "
			"(messages stored before are recognised and not stored twice)", r->p->name, ck.uidvalidity,
			uidvalidity);
	struct sg_imap_ckpt fresh = {
		.uidvalidity = uidvalidity, .last_uid = 0, .ingested = rc == 0 ? ck.ingested : 0, .ident = r->ident,
	};
	sg_imap_ckpt_clear(&ck);
	if ((rc = ckpt_write(r, &fresh)) != SG_IMAP_OK)
		return rc;
	r->ck = fresh;
	r->ck.ident = sg_xstrdup(r->ident);
	return SG_IMAP_OK;
}

/* Committed before a crash (or a failed move), not yet moved: now. */
static int
sweep(struct run *r)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	int rc = sg_imap_session_leftovers(r->s, r->mb, r->ck.last_uid, &uids, &n);

	if (rc == SG_IMAP_OK && n > 0) {
		sg_info(MOD, "mailbox %s: %zu message(s) at or below UID %u were stored but not yet %s: now", r->p->name, n,
			r->ck.last_uid, r->mb->processed == SG_IMAP_SEEN ? "flagged \\Seen" : "moved");
		free(r->done);
		r->done = uids;
		r->ndone = n;
		uids = NULL;
		rc = dispose(r);
	}
	free(uids);
	return rc == SG_IMAP_ECMD ? SG_IMAP_OK : rc;
}

static int
same_server(const struct sg_mailbox *a, const struct sg_mailbox *b)
{
	return strcmp(a->host, b->host) == 0 && a->port == b->port && a->tls == b->tls &&
	       strcmp(a->tls_ca_file, b->tls_ca_file) == 0 && a->tls_allow_untrusted == b->tls_allow_untrusted &&
	       a->tls_allow_wrong_name == b->tls_allow_wrong_name && strcmp(a->user, b->user) == 0 &&
	       strcmp(a->password, b->password) == 0 && strcmp(a->folder, b->folder) == 0 && a->timeout == b->timeout;
}

/* A reload: keep the session when the server, login and folder are the
 * same (rules, templates, processed, intervals take effect at once). */
static int
reconfigure(struct run *r)
{
	struct sg_conf *nc = sg_conf_current();
	const struct sg_mailbox *nm;

	if (nc == r->c) {
		sg_conf_unref(&nc);
		return SG_IMAP_OK;
	}
	if ((nm = sg_conf_mailbox(nc, r->p->name)) != NULL && same_server(r->mb, nm)) {
		sg_conf_unref(&r->c);
		r->c = nc;
		r->mb = nm;
		return SG_IMAP_OK;
	}
	sg_conf_unref(&nc);
	if (nm != NULL)
		sg_info(MOD, "mailbox %s: server, login or folder changed: reconnecting", r->p->name);
	return RC_RECONNECT;
}

static void
set_fd(struct poller *p, int fd)
{
	pthread_mutex_lock(&p->lock);
	p->fd = fd;
	pthread_mutex_unlock(&p->lock);
}

static int
wait_for_mail(struct run *r)
{
	long ms = r->mb->poll_interval * 1000L;

	r->p->status.idle = r->mb->idle && sg_imap_session_can_idle(r->s);
	if (r->p->status.idle)
		return sg_imap_session_idle(r->s, r->p->wake[0], (int)ms);
	return nap(r->p, ms) ? SG_IMAP_ESTOP : SG_IMAP_OK;
}

/* Connected: select, checkpoint, sweep, then read and wait until an
 * error, a stop or a change of server. */
static int
connected(struct run *r)
{
	uint32_t uidvalidity = 0;
	int rc;

	if ((rc = sg_imap_session_select(r->s, r->mb->folder, &uidvalidity)) != SG_IMAP_OK)
		return rc;
	if ((rc = load_checkpoint(r, uidvalidity)) != SG_IMAP_OK || (rc = sweep(r)) != SG_IMAP_OK)
		return rc;
	r->p->status.connected = 1;
	r->p->status.since = (int64_t)time(NULL);
	r->p->status.last_error[0] = '\0';
	for (;;) {
		if ((rc = scan(r)) != SG_IMAP_OK)
			return rc;
		r->progressed = 1;
		r->p->status.last_poll = (int64_t)time(NULL);
		r->p->status.idle = r->mb->idle && sg_imap_session_can_idle(r->s);
		status_save(r->p);
		if ((rc = reconfigure(r)) != SG_IMAP_OK || (rc = wait_for_mail(r)) != SG_IMAP_OK)
			return rc;
		if (stopping(r->p))
			return SG_IMAP_ESTOP;
	}
}

static int
session(struct poller *p, struct sg_conf **cp, int *progressed)
{
	struct run r = { .p = p, .c = *cp, .mb = sg_conf_mailbox(*cp, p->name) };
	char *why = NULL;
	int rc;

	*progressed = 0;
	r.ident = identity(r.mb);
	rc = sg_imap_session_open(r.mb, &r.s, &why);
	if (rc != SG_IMAP_OK) {
		report(p, rc, why ? why : "cannot connect");
		free(why);
		free(r.ident);
		return rc;
	}
	if (why != NULL)
		sg_warn(MOD, "mailbox %s: TLS certificate of %s %s", p->name, r.mb->host, why);
	free(why);
	set_fd(p, sg_imap_session_fd(r.s));
	sg_info(MOD, "mailbox %s: logged in to %s:%ld as %s (%s;%s)", p->name, r.mb->host, r.mb->port, r.mb->user,
		r.mb->tls == SG_IMAP_TLS_IMPLICIT ? "TLS" : r.mb->tls == SG_IMAP_TLS_STARTTLS ? "STARTTLS" : "plain text",
		sg_imap_session_caps(r.s)[0] ? sg_imap_session_caps(r.s) : " no IDLE, MOVE or UIDPLUS");
	rc = stopping(p) ? SG_IMAP_ESTOP : connected(&r);
	if (rc != SG_IMAP_OK && rc != SG_IMAP_ESTOP && rc != RC_RECONNECT && rc != RC_STORE)
		report(p, rc, sg_imap_session_error(r.s));
	set_fd(p, -1);
	sg_imap_session_close(&r.s);
	p->status.connected = 0;
	p->status.since = (int64_t)time(NULL);
	*cp = r.c;
	*progressed = r.progressed;
	sg_imap_ckpt_clear(&r.ck);
	free(r.done);
	free(r.ident);
	return rc;
}

static void *
poller_main(void *arg)
{
	struct poller *p = arg;
	long delay = 0;

	p->status.since = (int64_t)time(NULL);
	status_save(p);
	while (!stopping(p)) {
		struct sg_conf *c = sg_conf_current();
		const struct sg_mailbox *mb = sg_conf_mailbox(c, p->name);
		int progressed = 0, rc;

		if (mb == NULL) {   /* removed by a reload */
			sg_conf_unref(&c);
			break;
		}
		rc = session(p, &c, &progressed);
		status_save(p);   /* connected or not, and the last error, for the CLI */
		mb = sg_conf_mailbox(c, p->name);
		long max = mb != NULL ? mb->reconnect_max : 60;
		sg_conf_unref(&c);
		if (rc == SG_IMAP_ESTOP || stopping(p))
			break;
		if (rc == RC_RECONNECT) {
			delay = 0;
			continue;
		}
		if (progressed)
			delay = 0;
		delay = delay == 0 ? 1 : delay * 2 > max ? max : delay * 2;
		long ms = delay * 500L + (long)(rand_r(&p->seed) % (unsigned)(delay * 500L + 1));
		sg_debug(MOD, "mailbox %s: next attempt in %ld ms", p->name, ms);
		if (nap(p, ms))
			break;
	}
	p->status.connected = 0;
	status_save(p);
	sg_info(MOD, "mailbox %s: poller stopped", p->name);
	return NULL;
}

/* ------------------------------------------------------ start and stop */

static struct poller *
spawn(const char *name)
{
	struct poller *p = sg_xcalloc(1, sizeof(*p));

	p->name = sg_xstrdup(name);
	p->fd = -1;
	p->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)p;
	pthread_mutex_init(&p->lock, NULL);
	if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		sg_error(MOD, "mailbox %s: cannot create a pipe: %s", name, strerror(errno));
		goto fail;
	}
	if (pthread_create(&p->tid, NULL, poller_main, p) != 0) {
		sg_error(MOD, "mailbox %s: cannot start its poller thread", name);
		close(p->wake[0]);
		close(p->wake[1]);
		goto fail;
	}
	return p;
fail:
	pthread_mutex_destroy(&p->lock);
	free(p->name);
	free(p);
	return NULL;
}

static void
tell_stop(struct poller *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	if (write(p->wake[1], "x", 1) < 0) {
		/* the pipe already holds a byte: the thread will see it */
	}
	/* Cut a network operation in progress; the socket stays open (and
	 * its number ours) until the thread itself closes the session,
	 * which it does only after clearing fd under this lock. */
	if (p->fd >= 0)
		shutdown(p->fd, SHUT_RDWR);
	pthread_mutex_unlock(&p->lock);
}

static void
reap(struct poller *p)
{
	pthread_join(p->tid, NULL);
	close(p->wake[0]);
	close(p->wake[1]);
	pthread_mutex_destroy(&p->lock);
	free(p->name);
	free(p);
}

/* Under reg_lock: pollers for the sections that have none. */
static int
start_missing(const struct sg_conf *c)
{
	int rc = 0;

	for (size_t i = 0; c != NULL && i < c->nmailboxes; i++) {
		const char *name = c->mailboxes[i].name;
		size_t j;
		for (j = 0; j < npollers; j++)
			if (strcmp(pollers[j]->name, name) == 0)
				break;
		if (j < npollers && !stopping(pollers[j]))
			continue;
		if (j < npollers) {   /* removed, then added again: the old one first */
			reap(pollers[j]);
			pollers[j] = pollers[--npollers];
		}
		struct poller *p = spawn(name);
		if (p == NULL) {
			rc = -1;
			continue;
		}
		pollers = sg_xreallocarray(pollers, npollers + 1, sizeof(*pollers));
		pollers[npollers++] = p;
		sg_info(MOD, "mailbox %s: poller started", name);
	}
	return rc;
}

int
sg_imap_start(struct sg_store *st)
{
	struct sg_conf *c = sg_conf_current();
	int rc;

	the_store = st;
	pthread_mutex_lock(&reg_lock);
	rc = start_missing(c);
	pthread_mutex_unlock(&reg_lock);
	sg_conf_unref(&c);
	return rc;
}

void
sg_imap_reload(void)
{
	struct sg_conf *c = sg_conf_current();

	pthread_mutex_lock(&reg_lock);
	if (the_store != NULL) {
		for (size_t i = 0; i < npollers; i++)
			if (sg_conf_mailbox(c, pollers[i]->name) == NULL && !stopping(pollers[i])) {
				sg_info(MOD, "mailbox %s: removed from the configuration: stopping its poller",
					pollers[i]->name);
				tell_stop(pollers[i]);
			}
		(void)start_missing(c);
	}
	pthread_mutex_unlock(&reg_lock);
	sg_conf_unref(&c);
}

void
sg_imap_stop(void)
{
	pthread_mutex_lock(&reg_lock);
	for (size_t i = 0; i < npollers; i++)
		tell_stop(pollers[i]);
	for (size_t i = 0; i < npollers; i++)
		reap(pollers[i]);
	free(pollers);
	pollers = NULL;
	npollers = 0;
	the_store = NULL;
	pthread_mutex_unlock(&reg_lock);
}
