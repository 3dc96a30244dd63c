/*
 * noop-milter — a do-nothing libmilter filter, the floor any filter that
 * reads the message stands on (tests/bench/bench-milter.sh runs it beside
 * Postfix without a milter and with supportgated).
 *
 * It registers the callbacks supportgated registers (connect, helo, envfrom,
 * envrcpt, DATA, header, eoh, body, eom, abort, close, negotiate) and the
 * same action flags, asks for the body (so the MTA sends all of it), keeps
 * nothing but a byte count, and accepts at end of message. On an inet
 * socket TCP_NODELAY is set on the listener, as supportgated does
 * (a filter without it waits for delayed ACKs, ~40 ms a reply).
 *
 * Usage: noop-milter [-n] -p SPEC [-P PIDFILE]
 *   -n: negotiate the same no-reply steps as supportgated (SMFIP_NR_*:
 *   the MTA streams headers and body without waiting for a reply each);
 *   without it every step is answered (libmilter's default).
 *   SPEC in libmilter syntax: inet:PORT@127.0.0.1 or unix:/path.
 * Stops on SIGTERM/SIGINT (libmilter's own handling).
 */
#include <errno.h>
#include <libmilter/mfapi.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

struct conn {
	unsigned long long bytes;
	int in_msg;
	unsigned long noreply;   /* SMFIP_NR_* agreed with the MTA (-n) */
};

/* -n: ask for no replies where supportgated does (milter/milter.c
 * cb_negotiate): connect, HELO, MAIL, RCPT, headers, end of headers,
 * body. */
#define NR_FLAGS (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
static int want_noreply;

static struct conn *
conn_make(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c != NULL)
			smfi_setpriv(ctx, c);
	}
	return c;
}

static sfsistat
go_on(SMFICTX *ctx, unsigned long bit)
{
	struct conn *c = smfi_getpriv(ctx);
	return c != NULL && (c->noreply & bit) != 0 ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *sa)
{
	(void)host;
	(void)sa;
	if (conn_make(ctx) == NULL)
		return SMFIS_TEMPFAIL;
	return go_on(ctx, SMFIP_NR_CONN);
}

static sfsistat
cb_helo(SMFICTX *ctx, char *name)
{
	(void)name;
	return go_on(ctx, SMFIP_NR_HELO);
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn *c = smfi_getpriv(ctx);
	(void)argv;
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	c->bytes = 0;
	c->in_msg = 1;
	return go_on(ctx, SMFIP_NR_MAIL);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	(void)ctx;
	(void)argv;
	return go_on(ctx, SMFIP_NR_RCPT);
}

static sfsistat
cb_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn *c = smfi_getpriv(ctx);
	if (c != NULL)
		c->bytes += strlen(name) + strlen(value) + 4;
	return go_on(ctx, SMFIP_NR_HDR);
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	(void)ctx;
	return go_on(ctx, SMFIP_NR_EOH);
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct conn *c = smfi_getpriv(ctx);
	(void)p;
	if (c != NULL)
		c->bytes += n;
	return go_on(ctx, SMFIP_NR_BODY);
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	if (c != NULL)
		c->in_msg = 0;
	return SMFIS_ACCEPT;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	if (c != NULL)
		c->in_msg = 0;
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	free(smfi_getpriv(ctx));
	smfi_setpriv(ctx, NULL);
	return SMFIS_CONTINUE;
}

#define FLAGS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_ADDRCPT | SMFIF_DELRCPT | SMFIF_CHGBODY | SMFIF_QUARANTINE)

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1, unsigned long f2, unsigned long f3,
	     unsigned long *pf0, unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void)f2;
	(void)f3;
	*pf0 = FLAGS & f0;
	*pf1 = 0;   /* every step, the body included */
	if (want_noreply) {
		struct conn *c = conn_make(ctx);
		*pf1 = (NR_FLAGS | SMFIP_NOUNKNOWN) & f1;
		if (c != NULL)
			c->noreply = *pf1 & NR_FLAGS;
	}
	*pf2 = 0;
	*pf3 = 0;
	return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
	.xxfi_name = "noop",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = FLAGS,
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
	.xxfi_data = cb_data,
	.xxfi_negotiate = cb_negotiate,
};

/* libmilter does not expose its listening descriptor: find it. */
static void
listener_nodelay(void)
{
	int on = 1;

	for (int fd = 3; fd < 1024; fd++) {
		int acc = 0, dom = 0;
		socklen_t len = sizeof(acc);
		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) != 0 || !acc)
			continue;
		len = sizeof(dom);
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) == 0 && (dom == AF_INET || dom == AF_INET6))
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	}
}

int
main(int argc, char **argv)
{
	const char *spec = NULL, *pidfile = NULL;
	int opt;

	while ((opt = getopt(argc, argv, "np:P:")) != -1) {
		switch (opt) {
		case 'p':
			spec = optarg;
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'n':
			want_noreply = 1;
			break;
		default:
			fprintf(stderr, "usage: noop-milter [-n] -p SPEC [-P PIDFILE]\n");
			return 2;
		}
	}
	if (spec == NULL) {
		fprintf(stderr, "usage: noop-milter [-n] -p SPEC [-P PIDFILE]\n");
		return 2;
	}
	if (strncmp(spec, "unix:", 5) == 0)
		(void)unlink(spec + 5);
	if (smfi_setconn((char *)spec) == MI_FAILURE || smfi_register(filter) == MI_FAILURE) {
		fprintf(stderr, "noop-milter: bad socket %s\n", spec);
		return 1;
	}
	smfi_setbacklog(128);
	if (smfi_opensocket(0) == MI_FAILURE) {
		fprintf(stderr, "noop-milter: cannot listen on %s: %s\n", spec, strerror(errno));
		return 1;
	}
	if (strncmp(spec, "inet", 4) == 0)
		listener_nodelay();
	else if (strncmp(spec, "unix:", 5) == 0)
		(void)chmod(spec + 5, 0666);
	if (pidfile != NULL) {
		FILE *fp = fopen(pidfile, "w");
		if (fp == NULL || fprintf(fp, "%ld\n", (long)getpid()) < 0 || fclose(fp) != 0) {
			fprintf(stderr, "noop-milter: cannot write %s\n", pidfile);
			return 1;
		}
	}
	fprintf(stderr, "noop-milter: listening on %s\n", spec);
	return smfi_main() == MI_SUCCESS ? 0 : 1;
}
