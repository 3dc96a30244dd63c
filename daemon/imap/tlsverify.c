/*
 * tlsverify — is this the server we mean to give a password to? libetpan
 * (1.9.4, GnuTLS build) completes the handshake without looking at the
 * certificate, so the session hands us the peer's chain and we check it
 * here before anything else is sent: the chain up to a trusted CA (a CA
 * file of the mailbox, or the system trust store), validity dates, the
 * TLS server purpose, and the host name (DNS name or IP address in the
 * subject alternative names). Each check that fails is named in *why, with
 * the certificate's subject and issuer, so the log line says what to fix.
 */
#include "config.h"
#include "imap/imap.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xalloc.h"

#define SG_TLS_MAX_CHAIN 16

/* The bits that mean "no trusted CA vouches for it" (a self-signed or
 * privately issued certificate), which tls_allow_untrusted forgives. */
#define UNTRUSTED_BITS (GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)

static char *
dn_of(gnutls_x509_crt_t crt, int issuer)
{
	gnutls_datum_t d = { NULL, 0 };
	int rc = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0) : gnutls_x509_crt_get_dn3(crt, &d, 0);
	char *s = sg_xstrdup(rc == 0 && d.data != NULL ? (const char *)d.data : "?");

	gnutls_free(d.data);
	return s;
}

static char *
status_text(unsigned status)
{
	gnutls_datum_t out = { NULL, 0 };
	char *s;

	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) < 0 || out.data == NULL)
		return sg_xasprintf("verification status 0x%x", status);
	s = sg_xstrdup((const char *)out.data);
	gnutls_free(out.data);
	return s;
}

/* Dates of every certificate of the chain (the trust list reports them
 * only for a chain it could build). */
static const char *
dates_wrong(gnutls_x509_crt_t *crts, size_t n)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < n; i++) {
		if (gnutls_x509_crt_get_expiration_time(crts[i]) < now)
			return i == 0 ? "the certificate has expired" : "a certificate of the chain has expired";
		if (gnutls_x509_crt_get_activation_time(crts[i]) > now)
			return i == 0 ? "the certificate is not yet valid" : "a certificate of the chain is not yet valid";
	}
	return NULL;
}

static int
load_trust(gnutls_x509_trust_list_t tl, const char *ca_file, char **why)
{
	int rc;

	if (ca_file != NULL && ca_file[0] != '\0') {
		rc = gnutls_x509_trust_list_add_trust_file(tl, ca_file, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
		if (rc <= 0) {
			*why = sg_xasprintf("tls_ca_file %s holds no usable CA certificate%s%s", ca_file,
					    rc < 0 ? ": " : "", rc < 0 ? gnutls_strerror(rc) : "");
			return -1;
		}
		return 0;
	}
	rc = gnutls_x509_trust_list_add_system_trust(tl, 0, 0);
	if (rc <= 0) {
		*why = sg_xasprintf("the system trust store is empty or unreadable%s%s (set tls_ca_file)",
				    rc < 0 ? ": " : "", rc < 0 ? gnutls_strerror(rc) : "");
		return -1;
	}
	return 0;
}

/* What is wrong and what would accept it, in one line. */
static char *
refusal(gnutls_x509_crt_t leaf, const char *host, unsigned status, int name_ok, int allow_untrusted,
	int allow_wrong_name, const char *dates)
{
	char *subject = dn_of(leaf, 0), *issuer = dn_of(leaf, 1), *chain = NULL, *s;
	unsigned left = allow_untrusted ? status & ~UNTRUSTED_BITS : status;
	int name_bad = !name_ok && !allow_wrong_name;
	const char *hint = "";

	if (dates != NULL) {
		chain = sg_xstrdup(dates);
	} else if (left != 0) {
		char *t = status_text(left);
		for (size_t l = strlen(t); l > 0 && (t[l - 1] == ' ' || t[l - 1] == '.'); l--)
			t[l - 1] = '\0';
		/* the commonest case, said plainly */
		int self = (left & GNUTLS_CERT_SIGNER_NOT_FOUND) && gnutls_x509_crt_check_issuer(leaf, leaf);
		chain = sg_xasprintf("%s%s", self ? "the certificate is self-signed: " : "", t);
		free(t);
	}
	if (left & GNUTLS_CERT_SIGNER_NOT_FOUND)
		hint = "; name its CA in tls_ca_file, or set tls_allow_untrusted = true to accept it";
	else if (name_bad && chain == NULL)
		hint = "; set tls_allow_wrong_name = true to accept it";
	s = sg_xasprintf("%s%s%s%s (subject %s, issuer %s)%s", chain ? chain : "", chain && name_bad ? "; " : "",
			 name_bad ? "the certificate is not issued for host " : "", name_bad ? host : "", subject,
			 issuer, hint);
	free(chain);
	free(subject);
	free(issuer);
	return s;
}

int
sg_imap_tls_verify(const struct sg_imap_der *chain, size_t n, const char *host, const char *ca_file,
		   int allow_untrusted, int allow_wrong_name, char **why)
{
	gnutls_x509_crt_t crts[SG_TLS_MAX_CHAIN];
	gnutls_x509_trust_list_t tl = NULL;
	gnutls_typed_vdata_st purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID, .data = (unsigned char *)GNUTLS_KP_TLS_WWW_SERVER, .size = 0,
	};
	unsigned status = 0;
	size_t ncrt = 0;
	int rc = -1;

	*why = NULL;
	if (n == 0) {
		*why = sg_xstrdup("the server sent no certificate");
		return -1;
	}
	if (n > SG_TLS_MAX_CHAIN)
		n = SG_TLS_MAX_CHAIN;
	for (; ncrt < n; ncrt++) {
		gnutls_datum_t d = { (unsigned char *)chain[ncrt].data, (unsigned int)chain[ncrt].len };
		if (gnutls_x509_crt_init(&crts[ncrt]) < 0)
			goto out;
		if (chain[ncrt].len > 0xffffffu || gnutls_x509_crt_import(crts[ncrt], &d, GNUTLS_X509_FMT_DER) < 0) {
			*why = sg_xasprintf("certificate %zu of the server's chain cannot be read", ncrt + 1);
			ncrt++;
			goto out;
		}
	}
	if (gnutls_x509_trust_list_init(&tl, 0) < 0) {
		*why = sg_xstrdup("out of memory for the trust list");
		goto out;
	}
	if (load_trust(tl, ca_file, why) != 0)
		goto out;
	int vr = gnutls_x509_trust_list_verify_crt2(tl, crts, (unsigned)ncrt, &purpose, 1, 0, &status, NULL);
	if (vr < 0) {
		*why = sg_xasprintf("certificate verification failed: %s", gnutls_strerror(vr));
		goto out;
	}
	int name_ok = gnutls_x509_crt_check_hostname2(crts[0], host, 0) != 0;
	const char *dates = status & (GNUTLS_CERT_EXPIRED | GNUTLS_CERT_NOT_ACTIVATED) ? NULL : dates_wrong(crts, ncrt);
	unsigned left = allow_untrusted ? status & ~UNTRUSTED_BITS : status;

	if (left != 0 || dates != NULL || (!name_ok && !allow_wrong_name)) {
		*why = refusal(crts[0], host, status, name_ok, allow_untrusted, allow_wrong_name, dates);
		goto out;
	}
	if (status != 0 || !name_ok)   /* accepted because the mailbox says so: say what was forgiven */
		*why = sg_xasprintf("accepted by configuration:%s%s", status ? " no trusted CA signed it" : "",
				    !name_ok ? (status ? ", and not for this host name" : " not for this host name") : "");
	rc = 0;
out:
	if (tl != NULL)
		gnutls_x509_trust_list_deinit(tl, 1);
	for (size_t i = 0; i < ncrt; i++)
		gnutls_x509_crt_deinit(crts[i]);
	if (rc != 0 && *why == NULL)
		*why = sg_xstrdup("the certificate cannot be checked");
	return rc;
}
