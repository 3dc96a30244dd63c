/*
 * session — see session.h. The libetpan calls of the IMAP door, kept
 * apart from the poller's logic so that what is sent to a server is in
 * one file.
 *
 * TLS: libetpan's GnuTLS stream does the handshake (with SNI, set in the
 * context callback) and verifies nothing; the chain it received is read
 * back with mailstream_low_get_certificate_chain() and judged by
 * sg_imap_tls_verify() before LOGIN is sent. STARTTLS is required when
 * configured: a server that does not offer it is refused, never used in
 * plain text.
 */
#include "config.h"
#include "imap/session.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libetpan/libetpan.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "imap/imap.h"
#include "lib/log.h"
#include "lib/xalloc.h"

struct sg_imap_session {
	mailimap *imap;
	char *host;
	int can_idle, has_move, has_uidplus, kw_ok;
	char caps[64];
	char err[400];
};

static int
ok_code(int r)
{
	return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_AUTHENTICATED || r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

/* Map a libetpan code to ours and remember the words for the log. */
static int
fail(struct sg_imap_session *s, int r, const char *what)
{
	const char *why;
	int rc;

	switch (r) {
	case MAILIMAP_ERROR_CONNECTION_REFUSED: why = "cannot connect"; rc = SG_IMAP_ENET; break;
	case MAILIMAP_ERROR_STREAM: why = "connection closed or timed out"; rc = SG_IMAP_ENET; break;
	case MAILIMAP_ERROR_PARSE: why = "response not understood"; rc = SG_IMAP_ENET; break;
	case MAILIMAP_ERROR_MEMORY: why = "out of memory"; rc = SG_IMAP_ENET; break;
	case MAILIMAP_ERROR_FATAL: why = "the server closed the session"; rc = SG_IMAP_ENET; break;
	case MAILIMAP_ERROR_BAD_STATE: why = "session in the wrong state"; rc = SG_IMAP_ENET; break;
	case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION: why = "the server refuses connections"; rc = SG_IMAP_ENET; break;
	case MAILIMAP_ERROR_SSL: why = "TLS handshake failed"; rc = SG_IMAP_ETLS; break;
	case MAILIMAP_ERROR_STARTTLS: why = "STARTTLS refused"; rc = SG_IMAP_ETLS; break;
	case MAILIMAP_ERROR_LOGIN: why = "login refused"; rc = SG_IMAP_EAUTH; break;
	default: why = "refused"; rc = SG_IMAP_ECMD; break;
	}
	/* The server's own words only where they belong to this command. */
	const char *txt = (rc == SG_IMAP_ECMD || rc == SG_IMAP_EAUTH) && s->imap != NULL ? s->imap->imap_response : NULL;
	char safe[200];
	snprintf(s->err, sizeof(s->err), "%s: %s%s%s", what, why, txt ? ": " : "",
		 txt ? sg_log_safe(safe, sizeof(safe), txt, 160) : "");
	return rc;
}

static int
fail_text(struct sg_imap_session *s, int rc, const char *text)
{
	snprintf(s->err, sizeof(s->err), "%s", text);
	return rc;
}

const char *
sg_imap_session_error(const struct sg_imap_session *s)
{
	return s->err;
}

const char *
sg_imap_session_caps(const struct sg_imap_session *s)
{
	return s->caps;
}

int
sg_imap_session_can_idle(const struct sg_imap_session *s)
{
	return s->can_idle;
}

int
sg_imap_session_fd(struct sg_imap_session *s)
{
	if (s == NULL || s->imap == NULL || s->imap->imap_stream == NULL)
		return -1;
	return mailimap_idle_get_fd(s->imap);
}

static int
is_ip_literal(const char *host)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* SNI: the name we will check the certificate against (not an address). */
static void
tls_context_cb(struct mailstream_ssl_context *ctx, void *data)
{
	struct sg_imap_session *s = data;

	if (!is_ip_literal(s->host))
		(void)mailstream_ssl_set_server_name(ctx, s->host);
}

static int
capabilities(struct sg_imap_session *s)
{
	struct mailimap_capability_data *cap = NULL;
	int r = mailimap_capability(s->imap, &cap);

	if (cap != NULL)
		mailimap_capability_data_free(cap);
	return ok_code(r) ? SG_IMAP_OK : fail(s, r, "CAPABILITY");
}

/* The certificate chain of the TLS stream, judged before any secret. */
static int
verify_peer(struct sg_imap_session *s, const struct sg_mailbox *mb, char **why)
{
	carray *chain = mailstream_low_get_certificate_chain(mailstream_get_low(s->imap->imap_stream));
	size_t n = chain ? carray_count(chain) : 0;
	struct sg_imap_der *der = sg_xcalloc(n ? n : 1, sizeof(*der));
	int rc;

	for (size_t i = 0; i < n; i++) {
		MMAPString *str = carray_get(chain, (unsigned)i);
		der[i].data = (const unsigned char *)str->str;
		der[i].len = str->len;
	}
	rc = sg_imap_tls_verify(der, n, mb->host, mb->tls_ca_file, mb->tls_allow_untrusted, mb->tls_allow_wrong_name,
				why);
	for (size_t i = 0; i < n; i++)
		mmap_string_free(carray_get(chain, (unsigned)i));
	if (chain != NULL)
		carray_free(chain);
	free(der);
	if (rc != 0) {
		snprintf(s->err, sizeof(s->err), "TLS certificate of %s refused: %s", mb->host, *why ? *why : "?");
		return SG_IMAP_ETLS;
	}
	return SG_IMAP_OK;
}

static int
peer_is_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return 0;
}

/* Up to a usable, not yet authenticated connection, with TLS checked. */
static int
connect_secure(struct sg_imap_session *s, const struct sg_mailbox *mb, char **why)
{
	uint16_t port = (uint16_t)mb->port;
	int r, rc;

	switch (mb->tls) {
	case SG_IMAP_TLS_IMPLICIT:
		r = mailimap_ssl_connect_with_callback(s->imap, mb->host, port, tls_context_cb, s);
		if (!ok_code(r))
			return fail(s, r, "connect (TLS)");
		return verify_peer(s, mb, why);
	case SG_IMAP_TLS_STARTTLS:
		r = mailimap_socket_connect(s->imap, mb->host, port);
		if (!ok_code(r))
			return fail(s, r, "connect");
		if ((rc = capabilities(s)) != SG_IMAP_OK)
			return rc;
		if (!mailimap_has_extension(s->imap, "STARTTLS"))
			return fail_text(s, SG_IMAP_ETLS, "the server does not offer STARTTLS (tls = starttls): "
					 "not logging in without TLS");
		r = mailimap_socket_starttls_with_callback(s->imap, tls_context_cb, s);
		if (!ok_code(r))
			return fail(s, r, "STARTTLS");
		return verify_peer(s, mb, why);
	default:
		r = mailimap_socket_connect(s->imap, mb->host, port);
		if (!ok_code(r))
			return fail(s, r, "connect");
		if (!peer_is_loopback(sg_imap_session_fd(s)))
			return fail_text(s, SG_IMAP_ETLS, "tls = none, but the server's address is not loopback: "
					 "not logging in in plain text");
		return SG_IMAP_OK;
	}
}

int
sg_imap_session_open(const struct sg_mailbox *mb, struct sg_imap_session **out, char **why)
{
	struct sg_imap_session *s = sg_xcalloc(1, sizeof(*s));
	int r, rc;

	*out = NULL;
	*why = NULL;
	s->host = sg_xstrdup(mb->host);
	if ((s->imap = mailimap_new(0, NULL)) == NULL) {
		rc = fail_text(s, SG_IMAP_ENET, "out of memory for a session");
		goto err;
	}
	mailimap_set_timeout(s->imap, (time_t)mb->timeout);
	if ((rc = connect_secure(s, mb, why)) != SG_IMAP_OK)
		goto err;
	/* Only now, with the peer proven, does the password leave. */
	if ((rc = capabilities(s)) != SG_IMAP_OK)
		goto err;
	if (mailimap_has_extension(s->imap, "LOGINDISABLED")) {
		rc = fail_text(s, SG_IMAP_EAUTH, "the server refuses LOGIN here (LOGINDISABLED)");
		goto err;
	}
	r = mailimap_login(s->imap, mb->user, mb->password);
	if (!ok_code(r)) {
		rc = fail(s, r == MAILIMAP_ERROR_STREAM ? r : MAILIMAP_ERROR_LOGIN, "LOGIN");
		goto err;
	}
	if ((rc = capabilities(s)) != SG_IMAP_OK)   /* they may change after login */
		goto err;
	s->can_idle = mailimap_has_idle(s->imap);
	s->has_move = mailimap_has_extension(s->imap, "MOVE");
	s->has_uidplus = mailimap_has_uidplus(s->imap);
	snprintf(s->caps, sizeof(s->caps), "%s%s%s", s->can_idle ? " IDLE" : "", s->has_move ? " MOVE" : "",
		 s->has_uidplus ? " UIDPLUS" : "");
	*out = s;
	return SG_IMAP_OK;
err:
	free(*why);   /* the whole story is in s->err */
	*why = sg_xstrdup(s->err);
	sg_imap_session_close(&s);
	return rc;
}

void
sg_imap_session_close(struct sg_imap_session **sp)
{
	struct sg_imap_session *s = *sp;

	*sp = NULL;
	if (s == NULL)
		return;
	if (s->imap != NULL)
		mailimap_free(s->imap);   /* closes the stream: no LOGOUT round trip to a server that may hang */
	free(s->host);
	free(s);
}

int
sg_imap_session_select(struct sg_imap_session *s, const char *folder, uint32_t *uidvalidity)
{
	int r = mailimap_select(s->imap, folder);
	struct mailimap_selection_info *si;

	if (!ok_code(r))
		return fail(s, r, "SELECT");
	si = s->imap->imap_selection_info;
	*uidvalidity = si ? si->sel_uidvalidity : 0;
	s->kw_ok = 0;
	if (si != NULL && si->sel_perm_flags != NULL)
		for (clistiter *it = clist_begin(si->sel_perm_flags); it; it = clist_next(it)) {
			struct mailimap_flag_perm *fp = clist_content(it);
			if (fp->fl_type == MAILIMAP_FLAG_PERM_ALL ||
			    (fp->fl_flag != NULL && fp->fl_flag->fl_type == MAILIMAP_FLAG_KEYWORD &&
			     fp->fl_flag->fl_data.fl_keyword != NULL &&
			     strcasecmp(fp->fl_flag->fl_data.fl_keyword, SG_IMAP_KEYWORD) == 0))
				s->kw_ok = 1;
		}
	return SG_IMAP_OK;
}

static struct mailimap_fetch_type *
fetch_type(int want_size, struct mailimap_fetch_att *extra)
{
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	if (want_size)
		mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
	if (extra != NULL)
		mailimap_fetch_type_new_fetch_att_list_add(ft, extra);
	return ft;
}

/* The static items of one FETCH response we read. */
struct fetched {
	uint32_t uid, size;
	int has_uid, has_body;
	const char *body;
	size_t body_len;
};

static void
read_att(struct mailimap_msg_att *ma, struct fetched *f)
{
	memset(f, 0, sizeof(*f));
	for (clistiter *it = clist_begin(ma->att_list); it; it = clist_next(it)) {
		struct mailimap_msg_att_item *item = clist_content(it);
		struct mailimap_msg_att_static *st;
		if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || (st = item->att_data.att_static) == NULL)
			continue;
		switch (st->att_type) {
		case MAILIMAP_MSG_ATT_UID:
			f->uid = st->att_data.att_uid;
			f->has_uid = 1;
			break;
		case MAILIMAP_MSG_ATT_RFC822_SIZE:
			f->size = st->att_data.att_rfc822_size;
			break;
		case MAILIMAP_MSG_ATT_BODY_SECTION:
			if (st->att_data.att_body_section != NULL) {
				f->has_body = 1;
				f->body = st->att_data.att_body_section->sec_body_part;
				f->body_len = f->body ? st->att_data.att_body_section->sec_length : 0;
			}
			break;
		default:
			break;
		}
	}
}

int
sg_imap_session_last_uid(struct sg_imap_session *s, uint32_t *uid)
{
	clist *result = NULL;
	int r;

	*uid = 0;
	if (!ok_code(r = mailimap_noop(s->imap)))
		return fail(s, r, "NOOP");
	/* libetpan counts EXISTS and EXPUNGE responses: FETCH * on an
	 * empty folder is an error, so do not ask. */
	if (s->imap->imap_selection_info == NULL || s->imap->imap_selection_info->sel_exists == 0)
		return SG_IMAP_OK;
	struct mailimap_set *set = mailimap_set_new_single(0);   /* 0 is "*" */
	struct mailimap_fetch_type *ft = fetch_type(0, NULL);
	r = mailimap_fetch(s->imap, set, ft, &result);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (!ok_code(r))
		return fail(s, r, "FETCH * (UID)");
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct fetched f;
		read_att(clist_content(it), &f);
		if (f.has_uid && f.uid > *uid)
			*uid = f.uid;
	}
	mailimap_fetch_list_free(result);
	return SG_IMAP_OK;
}

static int
msg_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct sg_imap_msg *)a)->uid, y = ((const struct sg_imap_msg *)b)->uid;

	return x < y ? -1 : x > y;
}

int
sg_imap_session_list(struct sg_imap_session *s, uint32_t from, uint32_t to, struct sg_imap_msg **v, size_t *n)
{
	clist *result = NULL;
	struct mailimap_set *set = mailimap_set_new_interval(from, to);
	struct mailimap_fetch_type *ft = fetch_type(1, NULL);
	int r = mailimap_uid_fetch(s->imap, set, ft, &result);
	size_t k = 0;

	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	*v = NULL;
	*n = 0;
	if (!ok_code(r))
		return fail(s, r, "UID FETCH (UID RFC822.SIZE)");
	*v = sg_xcalloc(clist_count(result) + 1, sizeof(**v));
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct fetched f;
		read_att(clist_content(it), &f);
		/* unsolicited FETCH responses (flag changes) and n:* answers
		 * for the last message fall outside the range */
		if (f.has_uid && f.uid >= from && f.uid <= to) {
			(*v)[k].uid = f.uid;
			(*v)[k].size = f.size;
			k++;
		}
	}
	mailimap_fetch_list_free(result);
	qsort(*v, k, sizeof(**v), msg_cmp);
	size_t w = 0;
	for (size_t i = 0; i < k; i++)   /* one entry per UID */
		if (w == 0 || (*v)[i].uid != (*v)[w - 1].uid)
			(*v)[w++] = (*v)[i];
	k = w;
	*n = k;
	return SG_IMAP_OK;
}

int
sg_imap_session_fetch(struct sg_imap_session *s, uint32_t uid, uint64_t limit, char **raw, size_t *len)
{
	clist *result = NULL;
	uint32_t want = limit >= UINT32_MAX - 1 ? UINT32_MAX : (uint32_t)limit + 1;
	struct mailimap_set *set = mailimap_set_new_single(uid);
	struct mailimap_fetch_att *body = mailimap_fetch_att_new_body_peek_section_partial(mailimap_section_new(NULL), 0, want);
	struct mailimap_fetch_type *ft = fetch_type(0, body);
	int r = mailimap_uid_fetch(s->imap, set, ft, &result);

	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	*raw = NULL;
	*len = 0;
	if (!ok_code(r))
		return fail(s, r, "UID FETCH BODY.PEEK[]");
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct fetched f;
		read_att(clist_content(it), &f);
		if (!f.has_uid || f.uid != uid || !f.has_body)
			continue;
		*raw = sg_xmalloc(f.body_len + 1);
		if (f.body_len > 0)
			memcpy(*raw, f.body, f.body_len);
		(*raw)[f.body_len] = '\0';
		*len = f.body_len;
		break;
	}
	mailimap_fetch_list_free(result);
	return SG_IMAP_OK;
}

/* A UID set from ascending UIDs, runs as ranges. */
static struct mailimap_set *
uid_set(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		mailimap_set_add_interval(set, uids[i], uids[j]);
		i = j + 1;
	}
	return set;
}

static int
add_flags(struct sg_imap_session *s, struct mailimap_set *set, int flagged, int seen, int deleted, int keyword)
{
	struct mailimap_flag_list *fl = mailimap_flag_list_new_empty();
	struct mailimap_store_att_flags *sa;
	int r;

	if (flagged)
		mailimap_flag_list_add(fl, mailimap_flag_new_flagged());
	if (seen)
		mailimap_flag_list_add(fl, mailimap_flag_new_seen());
	if (deleted)
		mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	if (keyword)
		mailimap_flag_list_add(fl, mailimap_flag_new_flag_keyword(sg_xstrdup(SG_IMAP_KEYWORD)));
	sa = mailimap_store_att_flags_new_add_flags_silent(fl);
	r = mailimap_uid_store(s->imap, set, sa);
	mailimap_store_att_flags_free(sa);
	return ok_code(r) ? SG_IMAP_OK : fail(s, r, "UID STORE +FLAGS");
}

int
sg_imap_session_flag_failed(struct sg_imap_session *s, uint32_t uid)
{
	struct mailimap_set *set = mailimap_set_new_single(uid);
	int rc = add_flags(s, set, 1, 0, 0, s->kw_ok);

	mailimap_set_free(set);
	return rc;
}

static int
trycreate(struct sg_imap_session *s)
{
	return s->imap->imap_response_info != NULL && s->imap->imap_response_info->rsp_trycreate;
}

/* MOVE or COPY into folder; a missing folder is created once. */
static int
transfer(struct sg_imap_session *s, struct mailimap_set *set, const char *folder, int move)
{
	for (int attempt = 0;; attempt++) {
		int r = move ? mailimap_uid_move(s->imap, set, folder) : mailimap_uid_copy(s->imap, set, folder);
		if (ok_code(r))
			return SG_IMAP_OK;
		if (attempt > 0 || !trycreate(s) || r == MAILIMAP_ERROR_STREAM)
			return fail(s, r, move ? "UID MOVE" : "UID COPY");
		sg_info("imap", "creating folder %s", folder);
		r = mailimap_create(s->imap, folder);
		if (!ok_code(r))
			return fail(s, r, "CREATE");
	}
}

int
sg_imap_session_dispose(struct sg_imap_session *s, const struct sg_mailbox *mb, const uint32_t *uids, size_t n)
{
	struct mailimap_set *set;
	int rc, r;

	if (n == 0)
		return SG_IMAP_OK;
	set = uid_set(uids, n);
	if (mb->processed == SG_IMAP_SEEN) {
		rc = add_flags(s, set, 0, 1, 0, 0);
	} else if (s->has_move) {
		rc = transfer(s, set, mb->processed_folder, 1);
	} else if ((rc = transfer(s, set, mb->processed_folder, 0)) == SG_IMAP_OK &&
		   (rc = add_flags(s, set, 0, 1, 1, 0)) == SG_IMAP_OK) {
		/* Without UIDPLUS only a plain EXPUNGE exists: in a folder the
		 * door reads, \Deleted mail is meant to go anyway. */
		r = s->has_uidplus ? mailimap_uid_expunge(s->imap, set) : mailimap_expunge(s->imap);
		rc = ok_code(r) ? SG_IMAP_OK : fail(s, r, "EXPUNGE");
	}
	mailimap_set_free(set);
	return rc;
}

static struct mailimap_search_key *
flag_key(int type)
{
	return mailimap_search_key_new(type, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
				       NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL);
}

static int
u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int
sg_imap_session_leftovers(struct sg_imap_session *s, const struct sg_mailbox *mb, uint32_t last, uint32_t **uids,
			  size_t *n)
{
	struct mailimap_search_key *key;
	clist *result = NULL;
	size_t k = 0;
	int r;

	*uids = NULL;
	*n = 0;
	if (last == 0)
		return SG_IMAP_OK;
	key = mailimap_search_key_new_multiple_empty();
	mailimap_search_key_multiple_add(key, mailimap_search_key_new_uid(mailimap_set_new_interval(1, last)));
	if (s->kw_ok)
		mailimap_search_key_multiple_add(key, mailimap_search_key_new_unkeyword(sg_xstrdup(SG_IMAP_KEYWORD)));
	else
		mailimap_search_key_multiple_add(key, flag_key(MAILIMAP_SEARCH_KEY_UNFLAGGED));
	if (mb->processed == SG_IMAP_SEEN)
		mailimap_search_key_multiple_add(key, flag_key(MAILIMAP_SEARCH_KEY_UNSEEN));
	r = mailimap_uid_search(s->imap, NULL, key, &result);
	mailimap_search_key_free(key);
	if (!ok_code(r))
		return fail(s, r, "UID SEARCH");
	*uids = sg_xcalloc(clist_count(result) + 1, sizeof(**uids));
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		uint32_t *u = clist_content(it);
		if (u != NULL && *u >= 1 && *u <= last)
			(*uids)[k++] = *u;
	}
	mailimap_search_result_free(result);
	qsort(*uids, k, sizeof(**uids), u32_cmp);
	*n = k;
	return SG_IMAP_OK;
}

int
sg_imap_session_idle(struct sg_imap_session *s, int wake_fd, int timeout_ms)
{
	int r = mailimap_idle(s->imap), fd;

	if (!ok_code(r))
		return fail(s, r, "IDLE");
	fd = mailimap_idle_get_fd(s->imap);
	/* Bytes libetpan already read past the continuation are news too:
	 * poll() would not see them. */
	if (s->imap->imap_stream->read_buffer_len == 0) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = wake_fd, .events = POLLIN } };
		int pr;
		do
			pr = poll(p, 2, timeout_ms);
		while (pr < 0 && errno == EINTR);
		if (pr > 0 && (p[1].revents & POLLIN))
			return SG_IMAP_ESTOP;
	}
	r = mailimap_idle_done(s->imap);
	return ok_code(r) ? SG_IMAP_OK : fail(s, r, "IDLE DONE");
}
