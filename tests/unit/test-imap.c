/*
 * test-imap — the parts of the IMAP door that need no server (the
 * session with a real Dovecot is tests/integration/t-imap.sh):
 *   ckpt_*      the checkpoint record: format, store, unknown versions
 *   ingest_kv   the checkpoint rides in ingest's transaction, and only there
 *   status      the status file the CLI reads
 *   tls_*       certificate checks on chains made here with GnuTLS: a
 *               private CA, a wrong name, self-signed, expired, garbage,
 *               and what tls_allow_untrusted / tls_allow_wrong_name forgive
 *   conf_*      mailbox sections: defaults, loopback rule, errors
 * Each function builds its own fixture in a directory of its own.
 */
#include "config.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "imap/imap.h"
#include "ingest/ingest.h"
#include "lib/log.h"
#include "lib/xalloc.h"
#include "store/store.h"
#include "tap.h"

static struct sg_conf *
load(const char *dir, const char *text, struct sg_diag *errs)
{
	char *path = sg_test_write(dir, "sg.conf", text);
	struct sg_conf *c = sg_conf_load(path, errs);

	free(path);
	return c;
}

static int
errs_have(const struct sg_diag *e, const char *needle)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->v[i], needle) != NULL)
			return 1;
	return 0;
}

/* ---------------------------------------------------------- checkpoint */

static void
test_ckpt_format(void)
{
	struct sg_imap_ckpt a = { .uidvalidity = 0xdeadbeef, .last_uid = 4242, .ingested = 1ULL << 40,
				  .ident = "support@imap.example:993/INBOX" }, b;
	size_t len;
	char *buf = sg_imap_ckpt_encode(&a, &len);

	is_int((long long)len, 17 + (long long)strlen(a.ident), "encoded length: fixed part + identity");
	is_int((unsigned char)buf[0], SG_IMAP_CKPT_VERSION, "version byte first");
	is_int(sg_imap_ckpt_decode(buf, len, &b), 0, "decodes");
	ok(b.uidvalidity == a.uidvalidity && b.last_uid == a.last_uid && b.ingested == a.ingested, "numbers survive");
	is_str(b.ident, a.ident, "identity survives");
	sg_imap_ckpt_clear(&b);
	buf[0] = 9;
	is_int(sg_imap_ckpt_decode(buf, len, &b), -1, "an unknown version is refused");
	buf[0] = SG_IMAP_CKPT_VERSION;
	is_int(sg_imap_ckpt_decode(buf, 16, &b), -1, "a short record is refused");
	free(buf);
	char *name = sg_imap_ckpt_name("main");
	is_str(name, "imap:main", "kv name");
	free(name);
}

static void
test_ckpt_store(void)
{
	char *dir = sg_test_subdir("ckpt");
	struct sg_store *st = NULL;
	struct sg_txn *txn = NULL;
	struct sg_imap_ckpt ck = { .uidvalidity = 7, .last_uid = 9, .ingested = 3, .ident = "u@h:993/INBOX" }, got;

	if (!ok(sg_store_open(dir, SG_STORE_NOSYNC, &st) == 0, "store opens")) {
		free(dir);
		return;
	}
	is_int(sg_imap_ckpt_get(st, NULL, "main", &got), SG_STORE_NOTFOUND, "no checkpoint yet");
	ok(sg_store_txn_begin(st, &txn) == 0 && sg_imap_ckpt_put(st, txn, "main", &ck) == 0 &&
	   sg_store_txn_commit(&txn) == 0, "written in a transaction");
	is_int(sg_imap_ckpt_get(st, NULL, "main", &got), 0, "read back");
	ok(got.uidvalidity == 7 && got.last_uid == 9 && got.ingested == 3, "same numbers");
	sg_imap_ckpt_clear(&got);
	is_int(sg_imap_ckpt_get(st, NULL, "other", &got), SG_STORE_NOTFOUND, "per mailbox");
	ok(sg_store_txn_begin(st, &txn) == 0 && sg_store_kv_put(st, txn, "imap:bad", "\x09junk", 5) == 0 &&
	   sg_store_txn_commit(&txn) == 0, "an unreadable record");
	is_int(sg_imap_ckpt_get(st, NULL, "bad", &got), SG_STORE_NOTFOUND, "... counts as none (rescan)");
	sg_store_close(&st);
	free(dir);
}

/* The checkpoint goes into the transaction that stores the message; a
 * duplicate or a refusal writes nothing. */
static void
test_ingest_kv(void)
{
	char *dir = sg_test_subdir("ingest");
	char *text = sg_xasprintf("support_address = {\"support@example.com\"}\nstate_dir = \"%s/state\"\n"
				  "ticket_tag = \"ACME\"\ndb_sync = false\nack = false\n", dir);
	struct sg_diag errs = { 0 };
	struct sg_conf *c = load(dir, text, &errs);
	struct sg_store *st = NULL;
	struct sg_decision d = { 0 };
	struct sg_imap_ckpt ck = { .uidvalidity = 5, .last_uid = 1, .ingested = 1, .ident = "x" }, got;
	const char *rcpt[] = { "support@example.com" };
	const char *raw = "From: A <a@customer.example>\r\nTo: support@example.com\r\nSubject: hi\r\n"
			  "Message-ID: <kv1@customer.example>\r\n\r\nHello.\r\n";
	size_t vlen;
	char *val = sg_imap_ckpt_encode(&ck, &vlen);
	struct sg_ingest_in in = { .raw = raw, .len = strlen(raw), .env_rcpt = rcpt, .nrcpt = 1, .door = SG_DOOR_IMAP,
				   .queue_id = "main/1", .kv_name = "imap:main", .kv_val = val, .kv_len = vlen };

	free(text);
	sg_diag_clear(&errs);
	if (!ok(c != NULL && sg_store_open(c->state_dir, SG_STORE_NOSYNC, &st) == 0, "config and store")) {
		free(val);
		free(dir);
		return;
	}
	sg_ingest_init();
	is_int(sg_ingest(st, c, &in, &d), SG_ING_OK, "ingested");
	is_int(d.verdict, SG_V_NEW, "new ticket");
	is_int(d.unparsed, 0, "it parsed");
	sg_decision_clear(&d);
	ok(sg_imap_ckpt_get(st, NULL, "main", &got) == 0 && got.last_uid == 1 && got.uidvalidity == 5,
	   "checkpoint written with the ticket");
	sg_imap_ckpt_clear(&got);
	free(val);
	ck.last_uid = 2;
	val = sg_imap_ckpt_encode(&ck, &vlen);
	in.kv_val = val;
	in.kv_len = vlen;
	is_int(sg_ingest(st, c, &in, &d), SG_ING_OK, "the same message again");
	is_int(d.verdict, SG_V_DUPLICATE, "a duplicate");
	sg_decision_clear(&d);
	ok(sg_imap_ckpt_get(st, NULL, "main", &got) == 0 && got.last_uid == 1, "no transaction, no checkpoint");
	sg_imap_ckpt_clear(&got);
	in.raw = "";
	in.len = 0;
	is_int(sg_ingest(st, c, &in, &d), SG_ING_EPARSE, "an empty message is refused");
	sg_decision_clear(&d);
	ok(sg_imap_ckpt_get(st, NULL, "main", &got) == 0 && got.last_uid == 1, "... and writes nothing");
	sg_imap_ckpt_clear(&got);
	in.raw = "\x01\x02";
	in.len = 2;
	in.queue_id = "main/3";
	int rc = sg_ingest(st, c, &in, &d);
	diag("two control bytes: rc %d verdict %s unparsed %d", rc, sg_verdict_name(d.verdict), d.unparsed);
	ok(rc == SG_ING_OK && d.ticket != 0, "bytes that are no message are still stored on a ticket");
	sg_decision_clear(&d);
	free(val);
	sg_store_close(&st);
	sg_conf_unref(&c);
	free(dir);
}

/* -------------------------------------------------------------- status */

static void
test_status(void)
{
	char *dir = sg_test_subdir("status");
	struct sg_imap_status s = { .connected = 1, .idle = 1, .since = 100, .last_poll = 200, .last_error_at = 150,
				    .session_ingested = 12, .pid = 4321 }, r;

	snprintf(s.last_error, sizeof(s.last_error), "line one\nline two");
	is_int(sg_imap_status_write(dir, "main", &s), 0, "written (directory made)");
	is_int(sg_imap_status_read(dir, "main", &r), 0, "read back");
	ok(r.connected == 1 && r.idle == 1 && r.since == 100 && r.last_poll == 200 && r.last_error_at == 150 &&
	   r.session_ingested == 12 && r.pid == 4321, "fields survive");
	is_str(r.last_error, "line one line two", "the error stays on one line");
	is_int(sg_imap_status_read(dir, "other", &r), -1, "no file: -1");
	free(dir);
}

/* ----------------------------------------------------- certificates */

struct cert {
	gnutls_x509_crt_t crt;
	gnutls_x509_privkey_t key;
	gnutls_datum_t der;
};

static void
make_cert(struct cert *out, const char *cn, const char *dns, const char *ip, int ca, const struct cert *issuer,
	  long from, long to)
{
	static unsigned serial = 1;
	unsigned char sn[4] = { 0, 0, 0, (unsigned char)serial++ };
	time_t now = time(NULL);
	char *dn = sg_xasprintf("CN=%s", cn);

	gnutls_x509_privkey_init(&out->key);
	gnutls_x509_privkey_generate(out->key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	gnutls_x509_crt_init(&out->crt);
	gnutls_x509_crt_set_version(out->crt, 3);
	gnutls_x509_crt_set_serial(out->crt, sn, sizeof(sn));
	gnutls_x509_crt_set_activation_time(out->crt, now + from);
	gnutls_x509_crt_set_expiration_time(out->crt, now + to);
	gnutls_x509_crt_set_dn(out->crt, dn, NULL);
	gnutls_x509_crt_set_key(out->crt, out->key);
	gnutls_x509_crt_set_basic_constraints(out->crt, ca, -1);
	if (ca) {
		gnutls_x509_crt_set_key_usage(out->crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	} else {
		gnutls_x509_crt_set_key_usage(out->crt, GNUTLS_KEY_DIGITAL_SIGNATURE);
		gnutls_x509_crt_set_key_purpose_oid(out->crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	}
	if (dns != NULL)
		gnutls_x509_crt_set_subject_alt_name(out->crt, GNUTLS_SAN_DNSNAME, dns, (unsigned)strlen(dns),
						     GNUTLS_FSAN_APPEND);
	if (ip != NULL) {
		unsigned char a[4];
		sscanf(ip, "%hhu.%hhu.%hhu.%hhu", &a[0], &a[1], &a[2], &a[3]);
		gnutls_x509_crt_set_subject_alt_name(out->crt, GNUTLS_SAN_IPADDRESS, a, 4, GNUTLS_FSAN_APPEND);
	}
	if (issuer != NULL)
		gnutls_x509_crt_sign2(out->crt, issuer->crt, issuer->key, GNUTLS_DIG_SHA256, 0);
	else
		gnutls_x509_crt_sign2(out->crt, out->crt, out->key, GNUTLS_DIG_SHA256, 0);
	gnutls_x509_crt_export2(out->crt, GNUTLS_X509_FMT_DER, &out->der);
	free(dn);
}

static void
free_cert(struct cert *c)
{
	gnutls_free(c->der.data);
	gnutls_x509_crt_deinit(c->crt);
	gnutls_x509_privkey_deinit(c->key);
}

static char *
write_pem(const char *dir, const char *name, const struct cert *c)
{
	gnutls_datum_t pem = { NULL, 0 };
	char *path = sg_xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	gnutls_x509_crt_export2(c->crt, GNUTLS_X509_FMT_PEM, &pem);
	if (fp != NULL) {
		fwrite(pem.data, 1, pem.size, fp);
		fclose(fp);
	}
	gnutls_free(pem.data);
	return path;
}

static int
check(const struct cert *leaf, const struct cert *mid, const char *host, const char *ca, int untrusted, int wrong,
      char **why)
{
	struct sg_imap_der chain[2] = { { leaf->der.data, leaf->der.size }, { NULL, 0 } };
	size_t n = 1;

	if (mid != NULL) {
		chain[1].data = mid->der.data;
		chain[1].len = mid->der.size;
		n = 2;
	}
	free(*why);
	*why = NULL;
	return sg_imap_tls_verify(chain, n, host, ca, untrusted, wrong, why);
}

static void
test_tls_private_ca(void)
{
	char *dir = sg_test_subdir("tls-ca");
	struct cert ca, inter, leaf, leaf2;
	char *why = NULL;

	make_cert(&ca, "SG Test CA", NULL, NULL, 1, NULL, -3600, 86400);
	make_cert(&leaf, "imap.example.test", "imap.example.test", NULL, 0, &ca, -3600, 86400);
	make_cert(&inter, "SG Intermediate", NULL, NULL, 1, &ca, -3600, 86400);
	make_cert(&leaf2, "mx.example.test", "mx.example.test", NULL, 0, &inter, -3600, 86400);
	char *cafile = write_pem(dir, "ca.pem", &ca);

	is_int(check(&leaf, NULL, "imap.example.test", cafile, 0, 0, &why), 0, "CA-signed, right name: accepted");
	ok(why == NULL, "nothing to note");
	is_int(check(&leaf, NULL, "IMAP.Example.Test", cafile, 0, 0, &why), 0, "host name compared without case");
	is_int(check(&leaf2, &inter, "mx.example.test", cafile, 0, 0, &why), 0, "through an intermediate the server sends");
	is_int(check(&leaf2, NULL, "mx.example.test", cafile, 0, 0, &why), -1, "intermediate missing: refused");
	is_int(check(&leaf, NULL, "127.0.0.1", cafile, 0, 0, &why), -1, "wrong name: refused");
	ok(why && strstr(why, "not issued for host 127.0.0.1") && strstr(why, "tls_allow_wrong_name"),
	   "the reason names the host and the setting: %s", why ? why : "");
	ok(why && strstr(why, "CN=imap.example.test"), "and the certificate's subject");
	is_int(check(&leaf, NULL, "127.0.0.1", cafile, 0, 1, &why), 0, "wrong name allowed explicitly");
	ok(why && strstr(why, "not for this host name"), "accepted with a note: %s", why ? why : "");
	is_int(check(&leaf, NULL, "imap.example.test", "", 0, 0, &why), -1, "our CA is not in the system store");
	ok(why && (strstr(why, "issuer") || strstr(why, "trust store")), "the reason: %s", why ? why : "");
	is_int(check(&leaf, NULL, "imap.example.test", "/nonexistent/ca.pem", 0, 0, &why), -1, "unreadable CA file");
	ok(why && strstr(why, "/nonexistent/ca.pem"), "names the file");
	free(why);
	free(cafile);
	free_cert(&leaf2);
	free_cert(&inter);
	free_cert(&leaf);
	free_cert(&ca);
	free(dir);
}

static void
test_tls_self_signed(void)
{
	char *dir = sg_test_subdir("tls-self");
	struct cert ca, self, old;
	char *why = NULL;

	make_cert(&ca, "SG Test CA", NULL, NULL, 1, NULL, -3600, 86400);
	make_cert(&self, "127.0.0.2", NULL, "127.0.0.2", 0, NULL, -3600, 86400);
	make_cert(&old, "127.0.0.2", NULL, "127.0.0.2", 0, NULL, -7200, -3600);
	char *cafile = write_pem(dir, "ca.pem", &ca);

	is_int(check(&self, NULL, "127.0.0.2", cafile, 0, 0, &why), -1, "self-signed: refused");
	ok(why && strstr(why, "tls_allow_untrusted"), "the reason says what would accept it: %s", why ? why : "");
	is_int(check(&self, NULL, "127.0.0.2", cafile, 1, 0, &why), 0, "self-signed allowed explicitly");
	ok(why && strstr(why, "no trusted CA"), "accepted with a note");
	is_int(check(&self, NULL, "127.0.0.3", cafile, 1, 0, &why), -1, "allowed untrusted still checks the address");
	ok(why && strstr(why, "127.0.0.3"), "names the address");
	is_int(check(&self, NULL, "127.0.0.3", cafile, 1, 1, &why), 0, "both allowed: accepted");
	is_int(check(&old, NULL, "127.0.0.2", cafile, 1, 1, &why), -1, "expired: refused even when both are allowed");
	ok(why && strstr(why, "expired"), "says expired: %s", why ? why : "");
	struct sg_imap_der junk = { (const unsigned char *)"not a certificate", 17 };
	free(why);
	why = NULL;
	is_int(sg_imap_tls_verify(&junk, 1, "127.0.0.2", cafile, 1, 1, &why), -1, "garbage: refused");
	free(why);
	why = NULL;
	is_int(sg_imap_tls_verify(NULL, 0, "127.0.0.2", cafile, 1, 1, &why), -1, "no certificate: refused");
	free(why);
	free(cafile);
	free_cert(&old);
	free_cert(&self);
	free_cert(&ca);
	free(dir);
}

/* -------------------------------------------------------------- config */

static const char *base_conf = "support_address = {\"support@example.com\", \"help@example.com\"}\n"
			       "state_dir = \"/tmp/sg-unused\"\n";

static void
test_conf_defaults(void)
{
	char *dir = sg_test_subdir("conf-def");
	char *pw = sg_test_write(dir, "pw", "secret\n");
	char *text = sg_xasprintf("%smailbox main {\n host = \"imap.example.com\"\n user = \"u\"\n"
				  " password_file = \"%s\"\n}\nmailbox local-1 {\n host = \"127.0.0.1\"\n tls = \"none\"\n"
				  " user = \"u\"\n password_file = \"%s\"\n addresses = {\"Help@Example.com\"}\n"
				  " processed = \"seen\"\n}\n", base_conf, pw, pw);
	struct sg_diag errs = { 0 };
	struct sg_conf *c = load(dir, text, &errs);

	sg_diag_print(&errs, stdout);
	if (!ok(c != NULL, "two mailboxes load")) {
		sg_diag_clear(&errs);
		free(text);
		free(pw);
		free(dir);
		return;
	}
	is_int((long long)c->nmailboxes, 2, "both sections");
	const struct sg_mailbox *m = sg_conf_mailbox(c, "main"), *l = sg_conf_mailbox(c, "local-1");
	ok(m != NULL && l != NULL && sg_conf_mailbox(c, "nope") == NULL, "found by name");
	if (m != NULL && l != NULL) {
		is_int(m->port, 993, "implicit TLS: port 993");
		is_int(m->tls, SG_IMAP_TLS_IMPLICIT, "TLS by default");
		is_str(m->folder, "INBOX", "folder INBOX");
		is_int(m->processed, SG_IMAP_MOVE, "moved by default");
		is_str(m->password, "secret", "password read, newline dropped");
		ok(m->addresses.n == 1 && strcmp(m->addresses.v[0], "support@example.com") == 0,
		   "addresses: the first support address");
		is_int(m->poll_interval, 60, "poll every minute");
		ok(m->idle && !m->tls_allow_untrusted && !m->tls_allow_wrong_name, "IDLE on, no TLS exceptions");
		is_int(l->port, 143, "plain text: port 143");
		is_int(l->processed, SG_IMAP_SEEN, "processed = seen");
		ok(l->addresses.n == 1 && strcmp(l->addresses.v[0], "help@example.com") == 0, "addresses lower-cased");
	}
	sg_conf_unref(&c);
	sg_diag_clear(&errs);
	free(text);
	free(pw);
	free(dir);
}

static void
test_conf_errors(void)
{
	static const struct {
		const char *section, *want;
	} cases[] = {
		{ "host = \"mail.example.com\"\n tls = \"none\"", "tls = none (plain text) is allowed only for a loopback host" },
		{ "host = \"10.0.0.1\"\n tls = \"none\"", "only for a loopback host" },
		{ "host = \"\"", "host: '' is not a host name" },
		{ "host = \"h\"\n user = \"\"", "user: a login name is required" },
		{ "host = \"h\"\n password_file = \"/nonexistent/pw\"", "/nonexistent/pw" },
		{ "host = \"h\"\n folder = \"Done\"\n processed_folder = \"Done\"", "must name a folder other than folder" },
		{ "host = \"h\"\n addresses = {\"someone@else.example\"}", "is not a support address" },
		{ "host = \"h\"\n tls_ca_file = \"/nonexistent/ca.pem\"", "tls_ca_file" },
		{ "host = \"h\"\n tls = \"maybe\"", "tls: must be one of implicit|starttls|none" },
		{ "host = \"h\"\n poll_interval = 0", "poll_interval: 0 is out of range" },
		{ "host = \"h\"\n size_limit = \"1K\"", "size_limit: 1K is out of range" },
	};
	char *dir = sg_test_subdir("conf-err");
	char *pw = sg_test_write(dir, "pw", "secret\n");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sg_diag errs = { 0 };
		char *text = sg_xasprintf("%smailbox m {\n user = \"u\"\n password_file = \"%s\"\n %s\n}\n", base_conf, pw,
					  cases[i].section);
		struct sg_conf *c = load(dir, text, &errs);
		ok(c == NULL && errs_have(&errs, cases[i].want), "refused: %s", cases[i].want);
		if (c != NULL || !errs_have(&errs, cases[i].want))
			sg_diag_print(&errs, stdout);
		ok(errs.n == 0 || strstr(errs.v[0], "sg.conf:") != NULL, "... as file:line");
		sg_conf_unref(&c);
		sg_diag_clear(&errs);
		free(text);
	}
	struct sg_diag errs = { 0 };
	char *text = sg_xasprintf("%smailbox a {\n host = \"h\"\n user = \"u\"\n password_file = \"%s\"\n}\n"
				  "mailbox a {\n host = \"h2\"\n user = \"u\"\n password_file = \"%s\"\n}\n", base_conf, pw, pw);
	ok(load(dir, text, &errs) == NULL && errs_have(&errs, "duplicate title"), "two sections with one name");
	sg_diag_clear(&errs);
	free(text);
	text = sg_xasprintf("%smailbox a {\n host = \"h\"\n user = \"u\"\n password_file = \"%s\"\n}\n"
			    "mailbox b {\n host = \"h\"\n user = \"u\"\n password_file = \"%s\"\n}\n", base_conf, pw, pw);
	ok(load(dir, text, &errs) == NULL && errs_have(&errs, "reads the same folder as mailbox a"),
	   "two sections on one folder");
	sg_diag_clear(&errs);
	free(text);
	text = sg_xasprintf("%smailbox \"bad name\" {\n host = \"h\"\n user = \"u\"\n password_file = \"%s\"\n}\n", base_conf, pw);
	ok(load(dir, text, &errs) == NULL && errs_have(&errs, "the name must be"), "a name with a space");
	sg_diag_clear(&errs);
	free(text);
	free(pw);
	free(dir);
}

static void
test_conf_loopback(void)
{
	static const struct {
		const char *host;
		int loop;
	} cases[] = {
		{ "localhost", 1 }, { "LOCALHOST", 1 }, { "127.0.0.1", 1 }, { "127.1.2.3", 1 }, { "::1", 1 },
		{ "128.0.0.1", 0 }, { "localhost.example.com", 0 }, { "10.0.0.1", 0 }, { "::2", 0 }, { "", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(sg_conf_host_is_loopback(cases[i].host), cases[i].loop, "loopback '%s'", cases[i].host);
}

static const struct sg_test tests[] = {
	{ "ckpt_format", test_ckpt_format },
	{ "ckpt_store", test_ckpt_store },
	{ "ingest_kv", test_ingest_kv },
	{ "status", test_status },
	{ "tls_private_ca", test_tls_private_ca },
	{ "tls_self_signed", test_tls_self_signed },
	{ "conf_defaults", test_conf_defaults },
	{ "conf_errors", test_conf_errors },
	{ "conf_loopback", test_conf_loopback },
};

int
main(void)
{
	sg_log_open_stderr("test-imap");
	sg_log_set_level(SG_LOG_ERROR);
	return SG_TEST_RUN(tests);
}
