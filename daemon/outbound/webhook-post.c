/*
 * webhook-post — the delivery of one webhook job over HTTP(S) with
 * libcurl (see webhook.h). Apart from webhook.c so that a program that
 * only queues webhooks (the supportgate tool, through ingest) does not
 * link libcurl.
 */
#include "config.h"
#include "outbound/webhook.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/xalloc.h"
#include "outbound/queue.h"
#include "store/store.h"

#define RCPT_PREFIX "webhook:"   /* as in webhook.c */

/* ------------------------------------------------------------ delivery */

struct sockcheck {
	int allow_private;
	enum sg_addr_class cls;       /* of the last address refused */
	const char *refused;          /* why it was refused */
	char addr[INET6_ADDRSTRLEN];
};

static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct sockcheck *sc = arg;
	const char *why = NULL;
	enum sg_addr_class cls = sg_webhook_addr_class(&a->addr, &why);

	(void)purpose;
	if (cls == SG_ADDR_BLOCKED || (cls == SG_ADDR_PRIVATE && !sc->allow_private)) {
		const void *raw = a->family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)(void *)&a->addr)->sin6_addr
							 : (const void *)&((struct sockaddr_in *)(void *)&a->addr)->sin_addr;
		if (inet_ntop(a->family, raw, sc->addr, sizeof(sc->addr)) == NULL)
			snprintf(sc->addr, sizeof(sc->addr), "?");
		sc->refused = why;
		sc->cls = cls;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype, a->protocol);
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static int
permanent_status(long code)
{
	return code >= 400 && code < 500 && code != 408 && code != 429;
}

int
sg_webhook_deliver(const struct sg_conf *c, const struct sg_job *j, int64_t now, char **err, int *permanent)
{
	const char *name = j->rcpts.n && strncmp(j->rcpts.v[0], RCPT_PREFIX, strlen(RCPT_PREFIX)) == 0
				   ? j->rcpts.v[0] + strlen(RCPT_PREFIX) : "";
	const struct sg_webhook *w = sg_conf_webhook(c, name);
	struct sockcheck sc = { 0 };
	struct curl_slist *hdr = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	long code = 0;
	CURLcode rc;
	CURL *curl;
	char *h;

	*err = NULL;
	*permanent = 0;
	if (w == NULL) {
		*err = sg_xasprintf("webhook %s is not configured (any more)", name);
		*permanent = 1;
		return -1;
	}
	if ((curl = curl_easy_init()) == NULL) {
		*err = sg_xstrdup("curl_easy_init failed");
		return -1;
	}
	sc.allow_private = w->allow_private;
	char *sig = sg_webhook_signature(w->secret, w->secret_len, now, j->payload ? j->payload : "", j->payload_len);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Expect:");
	h = sg_xasprintf("X-Supportgate-Signature: %s", sig);
	hdr = curl_slist_append(hdr, h);
	free(h);
	/* the event type is a stored name: letters and '-' only */
	h = sg_xasprintf("X-Supportgate-Event: %s", j->mail_from && !strpbrk(j->mail_from, "\r\n") ? j->mail_from : "");
	hdr = curl_slist_append(hdr, h);
	free(h);
	h = sg_xasprintf("X-Supportgate-Delivery: %llu", (unsigned long long)j->id);
	hdr = curl_slist_append(hdr, h);
	free(h);
	curl_easy_setopt(curl, CURLOPT_URL, w->url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_PROXY, "");            /* no proxy from the environment */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &sc);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, j->payload ? j->payload : "");
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->payload_len);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "supportgate/" PACKAGE_VERSION);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, w->timeout);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, w->timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK && sc.refused != NULL) {
		*err = sg_xasprintf("refused: %s resolves to %s, %s%s", w->url, sc.addr, sc.refused,
				    sc.cls == SG_ADDR_PRIVATE ? " (allow_private = true allows it)" : "");
		*permanent = 1;
	} else if (rc != CURLE_OK) {
		*err = sg_xasprintf("%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
	} else if (code < 200 || code > 299) {
		*err = sg_xasprintf("%s answered HTTP %ld", w->url, code);
		*permanent = permanent_status(code);
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(curl);
	free(sig);
	return *err == NULL ? 0 : -1;
}
