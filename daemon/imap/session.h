/*
 * session — one IMAP session of a poller (internal to daemon/imap): the
 * libetpan calls and nothing about tickets. One thread uses a session.
 *
 * Every function returns an enum sg_imap_rc. ENET means the connection
 * is lost (closed, timed out, a response that does not parse): the
 * caller closes the session and reconnects. ECMD means the server said
 * NO or BAD to one command; the connection is still usable. The words of
 * the last failure are in sg_imap_session_error(). Every call blocks on
 * the network for at most the mailbox's timeout per operation, except
 * sg_imap_session_idle (see there).
 *
 * sg_imap_session_open(mb, &s): connect, TLS as mb->tls says, check the
 *   certificate (tlsverify.c) BEFORE the password is sent, log in, read
 *   the capabilities. Plain text (tls = none) is refused unless the peer
 *   address really is loopback. On failure *s is NULL and *why (new
 *   string, caller frees) says what went wrong; ETLS: TLS or the
 *   certificate; EAUTH: the login; ENET: the connection. A note about a
 *   certificate accepted by tls_allow_* is left in *why on success.
 * sg_imap_session_select(s, folder, &uidvalidity): SELECT the folder.
 * sg_imap_session_last_uid(s, &uid): the UID of the newest message (0: the
 *   folder is empty), after a NOOP so that new mail is seen.
 * sg_imap_session_list(s, from, to, &v, &n): UID and RFC822.SIZE of the
 *   messages with from <= UID <= to, ascending (new array, caller frees;
 *   UIDs outside the range that a server sends anyway are dropped).
 * sg_imap_session_fetch(s, uid, limit, &raw, &len): the whole message
 *   (BODY.PEEK[]: \Seen is not set), at most limit + 1 bytes so a
 *   message larger than announced is seen as such. *raw NULL (and OK)
 *   when the message no longer exists. *raw is a new buffer.
 * sg_imap_session_flag_failed(s, uid): \Flagged and the keyword
 *   SG_IMAP_KEYWORD (when the folder allows keywords) on a message the
 *   door could not take, so people see it and the door leaves it alone.
 * sg_imap_session_dispose(s, mb, uids, n): what mb->processed says for the
 *   ingested messages: MOVE (or COPY, \Deleted, UID EXPUNGE; plain EXPUNGE
 *   when the server lacks UIDPLUS) to mb->processed_folder, created when
 *   the server answers TRYCREATE; or \Seen.
 * sg_imap_session_leftovers(s, mb, last, &uids, &n): messages with UID <=
 *   last still waiting for dispose (not flagged failed; with processed =
 *   seen, only unseen ones): committed before a crash, not yet moved.
 * sg_imap_session_idle(s, wake_fd, timeout_ms): IDLE until the server
 *   says something, wake_fd is readable, or timeout_ms passes; then DONE.
 *   Returns OK (look for new mail now) or ESTOP (wake_fd) or an error.
 */
#ifndef SG_IMAP_SESSION_H
#define SG_IMAP_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

#define SG_IMAP_KEYWORD "$SupportgateFailed"

enum sg_imap_rc {
	SG_IMAP_OK = 0,
	SG_IMAP_ENET,
	SG_IMAP_ECMD,
	SG_IMAP_ETLS,
	SG_IMAP_EAUTH,
	SG_IMAP_ESTOP,
};

struct sg_imap_msg {
	uint32_t uid;
	uint32_t size;
};

struct sg_imap_session;

int sg_imap_session_open(const struct sg_mailbox *mb, struct sg_imap_session **out, char **why);
void sg_imap_session_close(struct sg_imap_session **s);
/* The socket (for the stopper's shutdown()), or -1. */
int sg_imap_session_fd(struct sg_imap_session *s);
int sg_imap_session_can_idle(const struct sg_imap_session *s);
const char *sg_imap_session_error(const struct sg_imap_session *s);
/* "MOVE", "UIDPLUS" ...: what the server offers that we use, for the log. */
const char *sg_imap_session_caps(const struct sg_imap_session *s);

int sg_imap_session_select(struct sg_imap_session *s, const char *folder, uint32_t *uidvalidity);
int sg_imap_session_last_uid(struct sg_imap_session *s, uint32_t *uid);
int sg_imap_session_list(struct sg_imap_session *s, uint32_t from, uint32_t to, struct sg_imap_msg **v, size_t *n);
int sg_imap_session_fetch(struct sg_imap_session *s, uint32_t uid, uint64_t limit, char **raw, size_t *len);
int sg_imap_session_flag_failed(struct sg_imap_session *s, uint32_t uid);
int sg_imap_session_dispose(struct sg_imap_session *s, const struct sg_mailbox *mb, const uint32_t *uids, size_t n);
int sg_imap_session_leftovers(struct sg_imap_session *s, const struct sg_mailbox *mb, uint32_t last, uint32_t **uids,
			      size_t *n);
int sg_imap_session_idle(struct sg_imap_session *s, int wake_fd, int timeout_ms);

#endif
