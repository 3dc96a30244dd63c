/*
 * outbound — see outbound.h.
 */
#include "config.h"
#include "outbound/outbound.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lib/log.h"
#include "lib/retry.h"
#include "lib/worker.h"
#include "ticket/event.h"
#include "lib/xalloc.h"
#include "outbound/queue.h"
#include "outbound/webhook.h"
#include "sched/due.h"
#include "store/store.h"

#define MOD "outbound"
/* Attempts at a job's transaction picked as a deadlock victim. */
#define SG_FINISH_RETRIES 20

char *
sg_outbound_crlf(const char *p, size_t len, size_t *outlen)
{
	char *out = sg_xmalloc(len * 2 + 3);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		if (p[i] == '\r') {
			out[o++] = '\r';
			out[o++] = '\n';
			if (i + 1 < len && p[i + 1] == '\n')
				i++;
		} else if (p[i] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
		} else {
			out[o++] = p[i];
		}
	}
	if (o < 2 || out[o - 2] != '\r' || out[o - 1] != '\n') {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o] = '\0';
	*outlen = o;
	return out;
}

struct upload {
	const char *p;
	size_t len, off;
};

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t want = size * n, left = u->len - u->off;

	if (want > left)
		want = left;
	memcpy(buf, u->p + u->off, want);
	u->off += want;
	return want;
}

/* A literal loopback address or exactly "localhost" (any case). Names
 * that merely start like one (localhost.evil.example, 127.0.0.1.evil.
 * example) resolve through DNS to anywhere: they are not loopback. */
static int
host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n < 2 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= sizeof(buf))
		return 0;
	memcpy(buf, host + 1, n - 2);
	buf[n - 2] = '\0';
	return inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int
sg_outbound_is_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int local = 0;

	if (u == NULL)
		return 0;
	if (curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		local = host_is_loopback(host);
	curl_free(host);
	curl_url_cleanup(u);
	return local;
}

/* libcurl hands every SMTP response line to the header callback: keep
 * the last one before QUIT's 221, the answer to the end of the data. */
struct reply_line {
	char text[512];
};

static size_t
reply_cb(char *p, size_t size, size_t n, void *arg)
{
	struct reply_line *r = arg;
	size_t len = size * n, k = len;

	while (k > 0 && (p[k - 1] == '\r' || p[k - 1] == '\n'))
		k--;
	if (k >= 4 && memcmp(p, "221", 3) == 0)
		return len;
	if (k >= sizeof(r->text))
		k = sizeof(r->text) - 1;
	memcpy(r->text, p, k);
	r->text[k] = '\0';
	return len;
}

char *
sg_outbound_msgid(const char *msg, size_t len, char *buf, size_t size)
{
	const char *p = msg, *end = msg + len;

	buf[0] = '\0';
	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end && p[1] == '\n')) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if ((size_t)(eol - p) > 11 && strncasecmp(p, "Message-ID:", 11) == 0) {
			const char *a = memchr(p, '<', (size_t)(eol - p)), *b = a ? memchr(a, '>', (size_t)(eol - a)) : NULL;
			if (a != NULL && b != NULL && (size_t)(b - a - 1) < size) {
				memcpy(buf, a + 1, (size_t)(b - a - 1));
				buf[b - a - 1] = '\0';
			}
			return buf;
		}
		p = eol + 1;
	}
	return buf;
}

int
sg_outbound_deliver(const struct sg_conf *c, const struct sg_job *j, char **err, int *permanent)
{
	return sg_outbound_deliver_reply(c, j, err, permanent, NULL);
}

/* SMTP connections are kept and reused from one delivery to the next
 * (a share of libcurl's connection cache): a pass that sends several
 * acknowledgements opens one session to the relay, not one each (TCP,
 * banner, EHLO, QUIT, and the relay's per-session work). A connection
 * idle for more than SG_SMTP_IDLE seconds is not reused (Postfix under
 * stress drops idle clients after 10 s); one the relay has closed is
 * noticed before reuse; sg_outbound_release() ends them with QUIT when
 * the queue is idle, so the relay does not time them out. */
#define SG_SMTP_IDLE 5L

static CURLSH *smtp_share;
static int smtp_used;   /* a delivery since the last release */
static pthread_mutex_t smtp_share_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t smtp_share_once = PTHREAD_ONCE_INIT;

static void
share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *u)
{
	(void)h;
	(void)d;
	(void)a;
	(void)u;
	pthread_mutex_lock(&smtp_share_mu);
}

static void
share_unlock(CURL *h, curl_lock_data d, void *u)
{
	(void)h;
	(void)d;
	(void)u;
	pthread_mutex_unlock(&smtp_share_mu);
}

static void
share_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if ((smtp_share = curl_share_init()) == NULL)
		return;
	if (curl_share_setopt(smtp_share, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
	    curl_share_setopt(smtp_share, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
	    curl_share_setopt(smtp_share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) != CURLSHE_OK) {
		curl_share_cleanup(smtp_share);   /* an older libcurl: a session per mail, as before */
		smtp_share = NULL;
	}
}

void
sg_outbound_release(void)
{
	pthread_once(&smtp_share_once, share_init);
	if (smtp_share == NULL || !smtp_used)
		return;
	smtp_used = 0;
	curl_share_cleanup(smtp_share);   /* closes its connections, with QUIT */
	smtp_share = NULL;
	share_init();
}

int
sg_outbound_deliver_reply(const struct sg_conf *c, const struct sg_job *j, char **err, int *permanent, char **reply)
{
	pthread_once(&smtp_share_once, share_init);
	CURL *curl = curl_easy_init();
	struct reply_line last = { "" };
	struct curl_slist *rcpts = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct upload u;
	size_t len;
	long code = 0;
	CURLcode rc;
	char *from;

	*err = NULL;
	*permanent = 0;
	if (curl == NULL) {
		*err = sg_xstrdup("curl_easy_init failed");
		return -1;
	}
	u.p = sg_outbound_crlf(j->payload, j->payload_len, &len);
	u.len = len;
	u.off = 0;
	from = sg_xasprintf("<%s>", j->mail_from ? j->mail_from : "");
	for (size_t i = 0; i < j->rcpts.n; i++) {
		char *r = sg_xasprintf("<%s>", j->rcpts.v[i]);
		rcpts = curl_slist_append(rcpts, r);
		free(r);
	}
	curl_easy_setopt(curl, CURLOPT_URL, c->smtp_relay);
	curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 300L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (smtp_share != NULL) {
		smtp_used = 1;
		curl_easy_setopt(curl, CURLOPT_SHARE, smtp_share);
		curl_easy_setopt(curl, CURLOPT_MAXAGE_CONN, SG_SMTP_IDLE);
	}
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, reply_cb);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &last);
	if (!sg_outbound_is_loopback(c->smtp_relay) && strncmp(c->smtp_relay, "smtps://", 8) != 0)
		curl_easy_setopt(curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (c->smtp_user[0] != '\0') {
		curl_easy_setopt(curl, CURLOPT_USERNAME, c->smtp_user);
		if (c->smtp_password != NULL)
			curl_easy_setopt(curl, CURLOPT_PASSWORD, c->smtp_password);
	}
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		*err = sg_xasprintf("%s (reply code %ld)", errbuf[0] ? errbuf : curl_easy_strerror(rc), code);
		/* a 5xx final answer is permanent; anything else is worth a retry */
		*permanent = code >= 500 && code < 600;
	}
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(curl);
	if (reply != NULL)
		*reply = rc == CURLE_OK && last.text[0] ? sg_xstrdup(last.text) : NULL;
	free(from);
	free((char *)u.p);
	return rc == CURLE_OK ? 0 : -1;
}

int64_t
sg_outbound_backoff(const struct sg_conf *c, uint32_t attempts)
{
	int64_t wait = c->outbound_retry_min;

	for (uint32_t i = 1; i < attempts && wait < 3600; i++)
		wait *= 2;
	if (wait > 3600)
		wait = 3600;
	/* +-20% jitter so many deferred jobs do not retry in lock-step */
	int64_t span = wait / 5;
	if (span > 0)
		wait += (int64_t)(random() % (2 * span + 1)) - span;
	return wait > 0 ? wait : 1;
}

/* Apply one delivery outcome to job j (read in txn); *detail (new
 * string) describes it for the ticket's events and the log. */
static int
record_outcome(struct sg_store *st, struct sg_txn *txn, const struct sg_conf *c, struct sg_job *j, int ok,
	       const char *err, int permanent, int64_t now, char **detail)
{
	const char *what = j->what ? j->what : "mail", *to = j->rcpts.n ? j->rcpts.v[0] : "?";
	/* A webhook's own outcome is recorded by the actor "webhook", whose
	 * events are never sent to webhooks (no endpoint feeds itself). */
	struct sg_op op = { .st = st, .txn = txn, .c = c, .now = now,
			    .actor = j->kind == SG_JOB_WEBHOOK ? SG_WEBHOOK_ACTOR : "system" };
	int rc;

	if (ok) {
		*detail = sg_xasprintf("%s to %s delivered", what, to);
		rc = sg_queue_remove(st, txn, j);
		if (rc == 0 && j->ticket)
			rc = sg_event_emit_id(&op, j->ticket, SG_EV_SENT, "%s", *detail);
		return rc;
	}
	j->attempts++;
	free(j->last_error);
	j->last_error = sg_xstrdup(err ? err : "unknown error");
	if (permanent || now - j->created > (int64_t)c->outbound_max_age * 3600) {
		*detail = sg_xasprintf("%s to %s is a dead letter after %u attempt(s): %s", what, to, j->attempts,
				       j->last_error);
		rc = sg_queue_dead(st, txn, j);
		if (rc == 0 && j->ticket)
			rc = sg_event_emit_id(&op, j->ticket, SG_EV_DEAD_LETTER, "%s", *detail);
		return rc;
	}
	return sg_queue_defer(st, txn, j, now + sg_outbound_backoff(c, j->attempts));
}

/* Record the outcome of one delivery in one transaction. */
static int
finish(struct sg_store *st, const struct sg_conf *c, uint64_t id, int ok, const char *err, int permanent,
       int64_t now, struct sg_outbound_stats *stats, const char *msgid, const char *reply)
{
	int rc = SG_STORE_DEADLOCK;

	/* the mail is out: losing this record would send it again, and the
	 * doors' transactions win every deadlock (sg_store_txn_waited), so
	 * retry long, with growing pauses (up to ~1 s in all) */
	for (int a = 0; a < SG_FINISH_RETRIES && rc == SG_STORE_DEADLOCK; a++) {
		struct sg_txn *txn = NULL;
		struct sg_job j;
		char *detail = NULL;

		sg_retry_pause(a, 5000);
		if ((rc = sg_store_txn_begin(st, &txn)) != 0)
			break;
		if ((rc = sg_store_job_get(st, txn, id, &j)) != 0) {
			sg_store_txn_abort(&txn);
			if (rc == SG_STORE_NOTFOUND)
				rc = 0;   /* dropped meanwhile */
			break;
		}
		if (j.state != SG_JOB_QUEUED) {   /* another worker's dead letter meanwhile */
			sg_store_txn_abort(&txn);
			sg_job_clear(&j);
			break;
		}
		rc = record_outcome(st, txn, c, &j, ok, err, permanent, now, &detail);
		if (rc == 0)
			rc = sg_store_txn_commit(&txn);
		else
			sg_store_txn_abort(&txn);
		if (rc == 0) {
			if (ok) {
				stats->sent++;
				char sid[200], srep[300];
				sg_log_ctx(SG_LOG_INFO, MOD, NULL, j.ticket, "job %llu: %s msgid=<%s> relay=\"%s\"",
					   (unsigned long long)id, detail, sg_log_safe(sid, sizeof(sid), msgid, 150),
					   sg_log_safe(srep, sizeof(srep), reply ? reply : "", 250));
			} else if (j.state == SG_JOB_DEAD) {
				stats->dead++;
				sg_log_ctx(SG_LOG_WARN, MOD, NULL, j.ticket, "job %llu: %s", (unsigned long long)id, detail);
			} else {
				stats->deferred++;
				sg_log_ctx(SG_LOG_INFO, MOD, NULL, j.ticket, "job %llu deferred (attempt %u, next in %llds): %s",
					   (unsigned long long)id, j.attempts, (long long)(j.due - now), j.last_error);
			}
		}
		free(detail);
		sg_job_clear(&j);
	}
	return rc;
}

/* Is e the entry of job j as stored? (due.db keeps a negative due as 0.) */
static int
entry_of(const struct sg_job *j, const struct sg_due_entry *e)
{
	return j != NULL && j->state == SG_JOB_QUEUED && (j->due > 0 ? j->due : 0) == e->due;
}

/* One transaction on the job of a due entry; fn gets the job as stored
 * (NULL when it is gone) and changes it through queue.c. */
static int
with_job(struct sg_store *st, const struct sg_due_entry *e,
	 int (*fn)(struct sg_store *, struct sg_txn *, const struct sg_due_entry *, struct sg_job *))
{
	int rc = SG_STORE_DEADLOCK;

	for (int a = 0; a < SG_FINISH_RETRIES && rc == SG_STORE_DEADLOCK; a++) {
		struct sg_txn *txn = NULL;
		struct sg_job j;
		int got;

		sg_retry_pause(a, 5000);
		if ((rc = sg_store_txn_begin(st, &txn)) != 0)
			break;
		got = sg_store_job_get(st, txn, e->id, &j);
		if (got != 0 && got != SG_STORE_NOTFOUND) {
			sg_store_txn_abort(&txn);
			rc = got;
			continue;
		}
		rc = fn(st, txn, e, got == 0 ? &j : NULL);
		if (got == 0)
			sg_job_clear(&j);
		if (rc == 0)
			rc = sg_store_txn_commit(&txn);
		else
			sg_store_txn_abort(&txn);
	}
	return rc;
}

/* An entry whose job is gone, dead or due at another time: remove it.
 * (Only a bug, or an older release changing jobs behind the index's back,
 * leaves one: every change in this release goes through queue.c.) */
static int
drop_entry(struct sg_store *st, struct sg_txn *txn, const struct sg_due_entry *e, struct sg_job *j)
{
	if (entry_of(j, e))
		return 0;   /* repaired meanwhile */
	sg_warn(MOD, "job %llu: stale due-index entry removed", (unsigned long long)e->id);
	int rc = sg_due_del(st, txn, SG_DUE_JOB, e->id, e->due);
	return rc == SG_STORE_NOTFOUND ? 0 : rc;
}

/* A due job held behind an older queued job of its ticket: it waits at
 * least until that one is due again, so that later passes do not read it
 * again and again meanwhile. */
static int
hold(struct sg_store *st, struct sg_txn *txn, const struct sg_due_entry *e, struct sg_job *j)
{
	struct sg_job h;
	uint64_t head;
	int rc;

	if (!entry_of(j, e))
		return 0;
	if ((rc = sg_queue_head(st, txn, sg_queue_lane(j), &head)) != 0 || head == j->id)
		return rc == SG_STORE_NOTFOUND ? 0 : rc;
	if ((rc = sg_store_job_get(st, txn, head, &h)) != 0)
		return rc == SG_STORE_NOTFOUND ? 0 : rc;
	if (h.due > j->due)
		rc = sg_queue_defer(st, txn, j, h.due);
	sg_job_clear(&h);
	return rc;
}

/* Try the job of one due entry: order check, delivery, outcome. */
static int
run_one(struct sg_store *st, const struct sg_conf *c, const struct sg_due_entry *e, struct sg_outbound_stats *stats)
{
	struct sg_job j;
	char *err = NULL;
	uint64_t head;
	int rc, permanent = 0, ok;

	/* Per ticket and lane (mail, webhooks), creation order: only the
	 * lane's oldest queued job may go (e->aux is the lane). */
	if (e->aux != 0) {
		rc = sg_queue_head(st, NULL, e->aux, &head);
		if (rc != 0 && rc != SG_STORE_NOTFOUND)
			return rc;
		if (rc == 0 && head != e->id) {
			stats->waiting++;
			return with_job(st, e, hold);
		}
	}
	if ((rc = sg_store_job_get(st, NULL, e->id, &j)) != 0 && rc != SG_STORE_NOTFOUND)
		return rc;
	if (rc != 0 || !entry_of(&j, e)) {
		if (rc == 0)
			sg_job_clear(&j);
		return with_job(st, e, drop_entry);
	}
	char msgid[256], *reply = NULL;
	msgid[0] = '\0';
	if (j.kind == SG_JOB_WEBHOOK) {
		ok = sg_webhook_deliver(c, &j, (int64_t)time(NULL), &err, &permanent) == 0;
	} else {
		sg_outbound_msgid(j.payload, j.payload_len, msgid, sizeof(msgid));
		ok = sg_outbound_deliver_reply(c, &j, &err, &permanent, &reply) == 0;
	}
	sg_job_clear(&j);
	rc = finish(st, c, e->id, ok, err, permanent, (int64_t)time(NULL), stats, msgid, reply);
	free(reply);
	free(err);
	return rc;
}

int
sg_outbound_run_once(struct sg_store *st, const struct sg_conf *c, struct sg_outbound_stats *stats)
{
	struct sg_due_list d = { 0 };
	int rc;

	memset(stats, 0, sizeof(*stats));
	if ((rc = sg_queue_reindex(st)) != 0)
		return rc;
	rc = sg_due_collect(st, SG_DUE_JOB, (int64_t)time(NULL), SG_OUTBOUND_BATCH, &d);
	/* ingest commits its jobs before it flushes them (group commit):
	 * send nothing whose cause is not on disk yet */
	if (rc == 0 && d.n > 0)
		rc = sg_store_flush(st);
	stats->more = d.n == SG_OUTBOUND_BATCH;
	for (size_t i = 0; rc == 0 && i < d.n; i++)
		rc = run_one(st, c, &d.v[i], stats);
	sg_due_list_clear(&d);
	return rc;
}

static struct sg_store *wstore;

/* One pass with the configuration in effect; 1 when a full batch says more is due. */
static int
outbound_pass(void *arg)
{
	struct sg_conf *c = sg_conf_current();
	struct sg_outbound_stats s = { 0 };

	(void)arg;
	/* only the master sends (replication: the jobs are in the
	 * replicated store, so a new master goes on where this one stopped) */
	if (c != NULL && sg_store_writable(wstore))
		sg_outbound_run_once(wstore, c, &s);
	sg_conf_unref(&c);
	if (s.sent + s.deferred + s.dead == 0)
		sg_outbound_release();   /* idle: the kept SMTP session ends now */
	return s.more != 0;
}

static struct sg_worker worker = SG_WORKER_INIT(outbound_pass, NULL, 1);

int
sg_outbound_start(struct sg_store *st)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	wstore = st;
	return sg_worker_start(&worker);
}

void
sg_outbound_kick(void)
{
	sg_worker_kick(&worker);
}

void
sg_outbound_stop(void)
{
	sg_worker_stop(&worker);
}
