/*
 * imap — the second door (DESIGN.md "One pipeline, two doors"): one poller
 * thread per `mailbox NAME { ... }` section of supportgate.conf reads new
 * mail over IMAP with libetpan, hands each message to sg_ingest() (door
 * SG_DOOR_IMAP, no envelope sender, the mailbox's addresses as
 * recipients) and, once the ticket change is committed, moves it to the
 * processed folder (or flags it \Seen). Nothing about tickets is decided
 * here: what the milter does inline (the copy to the queue's mailbox or
 * the assignee, marking) ingest does through the outbound queue for this
 * door.
 *
 * Files of the folder:
 *   poller.c     the threads: reconnect with backoff and jitter, IDLE or
 *                poll, pages of new UIDs, the checkpoint, stop and reload
 *   session.c    one IMAP session (internal header session.h): connect,
 *                TLS, login, select, list, fetch, flag, move
 *   tlsverify.c  the certificate chain and host name, with GnuTLS
 *   checkpoint.c the UID checkpoint record (kv imap:NAME, store/schema.h)
 *   status.c     the status file `supportgate imap status` reads
 *
 * The checkpoint: UIDVALIDITY and the highest UID handled, per mailbox,
 * written in the same store transaction as the ticket change (through
 * sg_ingest_in.kv_name), or alone for a message that changed nothing
 * (duplicate, skipped). UIDs above it are new; a message at or below it
 * still in the folder was committed and not yet moved (a crash between
 * commit and move) and is moved when the session starts. A new
 * UIDVALIDITY rescans the folder from UID 1; the Message-ID index (or
 * the content hash of a message without one) makes that create nothing
 * twice.
 */
#ifndef SG_IMAP_H
#define SG_IMAP_H

#include <stddef.h>
#include <stdint.h>

struct sg_store;
struct sg_txn;

/* ------------------------------------------------------- the pollers
 * sg_imap_start(st): a poller thread per mailbox of the current config
 *   (sg_conf_current()); 0, or -1 when a thread cannot be created. Call
 *   after sg_ingest_init() and after privileges are dropped. Never blocks
 *   on the network: connecting is the threads' work.
 * sg_imap_reload(): after a configuration swap: pollers for new mailbox
 *   sections start, those of removed sections stop; a changed section is
 *   taken up by its poller (reconnecting when the server, the login or
 *   the folder changed).
 * sg_imap_stop(): stop every poller and wait for them; a session in the
 *   middle of a network operation is cut (at most a message's commit
 *   finishes first). Safe to call when none were started. */
int sg_imap_start(struct sg_store *st);
void sg_imap_reload(void);
void sg_imap_stop(void);

/* ------------------------------------------------------ checkpoint.c
 * The record under kv SG_KV_IMAP (store/schema.h), NAME the mailbox:
 *   u8 version (1), u32 uidvalidity, u32 last uid, u64 ingested,
 *   then the identity "user@host:port/folder" (the rest).
 * A record whose identity differs from the mailbox's is another folder's:
 * the poller starts afresh. */
struct sg_imap_ckpt {
	uint32_t uidvalidity;
	uint32_t last_uid;
	uint64_t ingested;       /* messages that changed tickets, all time */
	char *ident;
};

#define SG_IMAP_CKPT_VERSION 1

/* Encode into a new buffer (*len bytes; caller frees). */
char *sg_imap_ckpt_encode(const struct sg_imap_ckpt *ck, size_t *len);
/* 0, or -1 when the bytes are not a checkpoint of a known version. On
 * success ck->ident is a new string (sg_imap_ckpt_clear frees it). */
int sg_imap_ckpt_decode(const void *buf, size_t len, struct sg_imap_ckpt *ck);
void sg_imap_ckpt_clear(struct sg_imap_ckpt *ck);
/* The kv name of a mailbox's checkpoint (new string). */
char *sg_imap_ckpt_name(const char *mailbox);
/* Read (txn may be NULL) or write the checkpoint of mailbox: store codes
 * (store.h); get answers SG_STORE_NOTFOUND for none or an unreadable one. */
int sg_imap_ckpt_get(struct sg_store *st, struct sg_txn *txn, const char *mailbox, struct sg_imap_ckpt *ck);
int sg_imap_ckpt_put(struct sg_store *st, struct sg_txn *txn, const char *mailbox, const struct sg_imap_ckpt *ck);

/* ---------------------------------------------------------- status.c
 * What a poller says about itself, in STATE_DIR/imap/NAME.status (text,
 * one "key value" per line, replaced atomically; not flushed to disk:
 * it describes a running daemon). The CLI adds the checkpoint. */
struct sg_imap_status {
	int connected;
	int idle;                /* waiting with IDLE (else polling) */
	int64_t since;           /* connected (or disconnected) since */
	int64_t last_poll;       /* last time the folder was checked */
	int64_t last_error_at;
	uint64_t session_ingested;  /* since the daemon started */
	int64_t updated;
	long pid;
	char last_error[256];    /* one line, "" for none */
};

/* Write (the directory is created) or read; 0 or -1 with errno. */
int sg_imap_status_write(const char *state_dir, const char *mailbox, const struct sg_imap_status *s);
int sg_imap_status_read(const char *state_dir, const char *mailbox, struct sg_imap_status *s);

/* -------------------------------------------------------- tlsverify.c
 * Check a server's certificate chain (DER, leaf first) for host. ca_file
 * "" means the system trust store. allow_untrusted accepts a chain no
 * trusted CA signed (self-signed; dates are still checked);
 * allow_wrong_name accepts a certificate for another name. Returns 0
 * (accepted; *why NULL, or a note when something was allowed) or -1
 * (refused; *why says why). *why is a new string or NULL; caller frees.
 * Blocks only on reading ca_file or the trust store. */
struct sg_imap_der {
	const unsigned char *data;
	size_t len;
};
int sg_imap_tls_verify(const struct sg_imap_der *chain, size_t n, const char *host, const char *ca_file,
		       int allow_untrusted, int allow_wrong_name, char **why);

#endif
