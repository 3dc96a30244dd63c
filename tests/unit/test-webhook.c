/*
 * test-webhook — webhooks without a network: the signature (a known
 * HMAC-SHA256 vector and the header's form), the address filter (SSRF)
 * on a table of addresses, delivery refused at connect time for blocked
 * and private addresses (no packet leaves), the jobs an event makes
 * (payload, lane, no feedback from a webhook's own outcome), and the
 * config checks of a webhook section.
 */
#include "config.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "lib/log.h"
#include "outbound/queue.h"
#include "outbound/webhook.h"
#include "ticket/event.h"
#include "ticket/summary.h"

static const char *dir;
static char *secret_path;

static void
signing(void)
{
	/* RFC 4231, test case 2 */
	char *h = sg_webhook_hmac_hex("Jefe", 4, "what do ya want for nothing?", 28);
	is_str(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "HMAC-SHA256 RFC 4231 vector");
	free(h);
	/* the header: t=TS,v1=HMAC(secret, "TS.BODY") (computed with Python's hmac) */
	char *sig = sg_webhook_signature("whsec-test-0123456789", 21, 1700000000, "{\"a\":1}", 7);
	is_str(sig, "t=1700000000,v1=ba8ec7f38c4e076a99176a1bf98ae9f2f3f4e18412b46a5913ddcf5685932c6a",
	       "signature header over TIMESTAMP.BODY");
	free(sig);
	sig = sg_webhook_signature("whsec-test-0123456789", 21, 1700000001, "{\"a\":1}", 7);
	ok(strstr(sig, "ba8ec7f38c4e") == NULL, "another timestamp, another signature");
	free(sig);
}

static enum sg_addr_class
class_of(const char *text, int *parsed)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

	*parsed = 1;
	if (inet_pton(AF_INET, text, &a4->sin_addr) == 1)
		a4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &a6->sin6_addr) == 1)
		a6->sin6_family = AF_INET6;
	else
		*parsed = 0;
	return sg_webhook_addr_class((struct sockaddr *)&ss, NULL);
}

static void
addresses(void)
{
	static const struct {
		const char *addr;
		enum sg_addr_class cls;
	} cases[] = {
		{ "169.254.169.254", SG_ADDR_BLOCKED },   /* cloud metadata */
		{ "169.254.0.1", SG_ADDR_BLOCKED },
		{ "169.254.255.255", SG_ADDR_BLOCKED },
		{ "100.100.100.200", SG_ADDR_BLOCKED },
		{ "0.0.0.0", SG_ADDR_BLOCKED },
		{ "224.0.0.1", SG_ADDR_BLOCKED },
		{ "255.255.255.255", SG_ADDR_BLOCKED },
		{ "127.0.0.1", SG_ADDR_PRIVATE },
		{ "127.8.9.10", SG_ADDR_PRIVATE },
		{ "10.1.2.3", SG_ADDR_PRIVATE },
		{ "172.16.0.1", SG_ADDR_PRIVATE },
		{ "172.31.255.254", SG_ADDR_PRIVATE },
		{ "192.168.1.1", SG_ADDR_PRIVATE },
		{ "100.64.0.1", SG_ADDR_PRIVATE },
		{ "172.32.0.1", SG_ADDR_PUBLIC },
		{ "169.253.255.255", SG_ADDR_PUBLIC },
		{ "8.8.8.8", SG_ADDR_PUBLIC },
		{ "93.184.216.34", SG_ADDR_PUBLIC },
		{ "::1", SG_ADDR_PRIVATE },
		{ "::", SG_ADDR_BLOCKED },
		{ "fe80::1", SG_ADDR_BLOCKED },
		{ "febf::1", SG_ADDR_BLOCKED },
		{ "fd00:ec2::254", SG_ADDR_BLOCKED },
		{ "fd12:3456::1", SG_ADDR_PRIVATE },
		{ "fc00::1", SG_ADDR_PRIVATE },
		{ "ff02::1", SG_ADDR_BLOCKED },
		{ "::ffff:169.254.169.254", SG_ADDR_BLOCKED },   /* IPv4-mapped */
		{ "::ffff:127.0.0.1", SG_ADDR_PRIVATE },
		{ "::ffff:8.8.8.8", SG_ADDR_PUBLIC },
		{ "64:ff9b::a9fe:a9fe", SG_ADDR_BLOCKED },       /* NAT64 of 169.254.169.254 */
		{ "2001:4860:4860::8888", SG_ADDR_PUBLIC },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int parsed;
		enum sg_addr_class got = class_of(cases[i].addr, &parsed);
		ok(parsed && got == cases[i].cls, "address %s: class %d (got %d)", cases[i].addr, cases[i].cls, got);
	}
	struct sockaddr_un_like {
		sa_family_t family;
	} un = { AF_UNIX };
	is_int(sg_webhook_addr_class((struct sockaddr *)&un, NULL), SG_ADDR_BLOCKED, "not an internet address: blocked");
}

/* A 127.0.0.1 port that refuses connections: bound, never listening. */
static int
closed_port(int *fd)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((*fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || bind(*fd, (struct sockaddr *)&a, len) != 0 ||
	    getsockname(*fd, (struct sockaddr *)&a, &len) != 0)
		return -1;
	return ntohs(a.sin_port);
}

static struct sg_job
webhook_job(const char *name)
{
	struct sg_job j = { .id = 7, .kind = SG_JOB_WEBHOOK, .ticket = 1 };

	j.rcpts.n = 0;
	char *r = sg_xasprintf("webhook:%s", name);
	sg_strlist_add(&j.rcpts, r, 0);
	free(r);
	j.mail_from = sg_xstrdup("created");
	j.payload = sg_xstrdup("{\"id\":7}");
	j.payload_len = strlen(j.payload);
	return j;
}

/* Delivery outcomes that need no server: refused before connecting, or
 * a connection refused by a closed loopback port. */
static void
delivery_refused(void)
{
	static const struct {
		const char *hook, *needle;
		int permanent;
	} cases[] = {
		{ "metadata", "cloud metadata", 1 },
		{ "linklocal", "link-local", 1 },
		{ "v6linklocal", "link-local", 1 },
		{ "loopback", "allow_private = true allows it", 1 },
		{ "byname", "allow_private = true allows it", 1 },   /* a name, resolved, then refused */
		{ "ten", "private (10/8)", 1 },
		{ "closed", NULL, 0 },     /* allowed, nobody listens: retried */
		{ "gone", "not configured", 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sg_job j = webhook_job(cases[i].hook);
		char *err = NULL;
		int permanent = -1;
		int rc = sg_webhook_deliver(conf, &j, 1700000000, &err, &permanent);
		ok(rc == -1 && permanent == cases[i].permanent &&
		   (cases[i].needle == NULL || (err && strstr(err, cases[i].needle))),
		   "%s: %s (%s)", cases[i].hook, cases[i].permanent ? "refused for good" : "retried", err ? err : "no error");
		free(err);
		sg_job_clear(&j);
	}
}

/* The job of the last webhook queued: its payload parsed. */
static json_t *
last_webhook(const char *rcpt, int *n)
{
	char *payload = NULL;
	json_t *o;

	*n = jobs_to(rcpt, &payload);
	o = payload ? json_loads(payload, 0, NULL) : NULL;
	free(payload);
	return o;
}

struct lanes {
	uint64_t mail, hook;
};

static int
lane_of(const struct sg_job *j, void *arg)
{
	struct lanes *l = arg;

	if (j->kind == SG_JOB_WEBHOOK)
		l->hook = sg_queue_lane(j);
	else
		l->mail = sg_queue_lane(j);
	return 0;
}

static void
subscribed(void)
{
	struct sg_decision d = { 0 };
	int n;

	ok(ingest_mail((struct sg_ingest_in){ .raw = "From: Carol <carol@customer.example>\nTo: support@example.com\n"
						       "Subject: printer on fire\nMessage-ID: <wh-1@customer.example>\n\nhelp\n" },
		       &d) == SG_ING_OK && d.verdict == SG_V_NEW,
	   "a new ticket");
	json_t *o = last_webhook("webhook:ops", &n);
	is_int(n, 1, "one job for the endpoint subscribed to created");
	ok(o && json_integer_value(json_object_get(o, "id")) > 0, "payload: id is the job id");
	is_str(json_string_value(json_object_get(o, "webhook")), "ops", "payload: webhook name");
	is_str(json_string_value(json_object_get(json_object_get(o, "event"), "type")), "created", "payload: event type");
	json_t *t = json_object_get(o, "ticket");
	is_int(json_integer_value(json_object_get(t, "id")), (long long)d.ticket, "payload: ticket id");
	is_str(json_string_value(json_object_get(t, "subject")), "printer on fire", "payload: ticket subject");
	is_str(json_string_value(json_object_get(t, "requestor")), "carol@customer.example", "payload: requestor");
	ok(json_string_value(json_object_get(t, "token")) && json_object_get(t, "status") &&
	   json_object_get(t, "queue") && json_object_get(t, "created"), "payload: the show --json fields");
	json_decref(o);
	is_int(jobs_to("webhook:metadata", NULL), 0, "no job for an endpoint not subscribed to created");

	/* a mail of the same ticket, queued after the webhook, is the head
	 * of its own lane: a webhook endpoint that is down never holds it */
	struct sg_txn *mt = NULL;
	uint64_t mail_job = 0, head_mail = 0, head_hook = 0;
	ok(sg_store_txn_begin(st, &mt) == 0 &&
	   sg_queue_mail(st, mt, d.ticket, "notice", "support@example.com", "carol@customer.example", "x", 1,
			 1700000000, &mail_job) == 0 && sg_store_txn_commit(&mt) == 0, "a mail job queued");
	struct lanes l = { 0 };
	sg_store_job_foreach(st, lane_of, &l);
	ok(l.mail == d.ticket && l.hook == (d.ticket | SG_LANE_WEBHOOK), "mail and webhooks on separate lanes");
	ok(sg_queue_head(st, NULL, l.mail, &head_mail) == 0 && head_mail == mail_job, "the mail heads the mail lane");
	ok(sg_queue_head(st, NULL, l.hook, &head_hook) == 0 && head_hook != mail_job && head_hook < mail_job,
	   "the older webhook heads the webhook lane");

	/* a webhook's own outcome is not sent to webhooks; the same event type by another actor is */
	struct sg_txn *txn = NULL;
	struct sg_op op = { .st = st, .c = conf, .now = 1700000000, .actor = SG_WEBHOOK_ACTOR };
	int rc = sg_store_txn_begin(st, &txn);
	op.txn = txn;
	if (rc == 0)
		rc = sg_event_emit_id(&op, d.ticket, SG_EV_SENT, "webhook ops delivered");
	op.actor = "system";
	if (rc == 0)
		rc = sg_event_emit_id(&op, d.ticket, SG_EV_SENT, "ack delivered");
	ok(rc == 0 && sg_store_txn_commit(&txn) == 0, "two sent events");
	o = last_webhook("webhook:ops", &n);
	is_int(n, 2, "only the sent event of the system became a webhook");
	is_str(json_string_value(json_object_get(json_object_get(o, "event"), "detail")), "ack delivered",
	       "payload: the event's detail");
	json_decref(o);
	sg_decision_clear(&d);

	/* a detail that is not UTF-8 still arrives, marked */
	json_t *j = sg_json_str("caf\xe9 ok");
	is_str(json_string_value(j), "caf? ok", "a string that is not UTF-8: kept, its bytes marked");
	json_decref(j);
}

/* text with SECRET and SHORT replaced by the secret files' paths */
static char *
subst(const char *text)
{
	const char *p = strstr(text, "SECRET"), *q = strstr(text, "SHORT");

	if (p != NULL)
		return sg_xasprintf("%.*s%s%s", (int)(p - text), text, secret_path, p + 6);
	if (q != NULL)
		return sg_xasprintf("%.*s%s.short%s", (int)(q - text), text, secret_path, q + 5);
	return sg_xstrdup(text);
}

static void
config_checks(void)
{
	static const struct {
		const char *text, *needle;
	} cases[] = {
		{ "url = \"ftp://example.com/\"\nsecret_file = \"SECRET\"", "is not an http:// or https:// URL" },
		{ "secret_file = \"SECRET\"", "is not an http:// or https:// URL" },
		{ "url = \"https://example.com/\"", "a secret file is required" },
		{ "url = \"https://example.com/\"\nsecret_file = \"SHORT\"", "need at least 16" },
		{ "url = \"https://example.com/\"\nsecret_file = \"SECRET\"\nevents = {\"created\", \"bad type!\"}",
		  "is not an event type name" },
		{ "url = \"https://example.com/\"\nsecret_file = \"SECRET\"\nbogus = 1", "bogus" },
	};
	char *conf_dir = sg_test_subdir("conf");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sg_diag errs = { 0 };
		char *body = subst(cases[i].text);
		char *text = sg_xasprintf("support_address = {\"support@example.com\"}\nstate_dir = \"%s\"\n"
					  "webhook crm {\n%s\n}\n", conf_dir, body);
		char *path = sg_test_write(conf_dir, "sg.conf", text);
		struct sg_conf *c = sg_conf_load(path, &errs);
		char *all = errors_text(&errs);
		ok(c == NULL && strstr(all, cases[i].needle) != NULL, "config refused: %s (%s)", cases[i].needle, all);
		sg_conf_unref(&c);
		free(all);
		free(path);
		free(text);
		free(body);
	}
	free(conf_dir);
}

static const struct sg_test tests[] = {
	{ "signing", signing },
	{ "addresses", addresses },
	{ "delivery-refused", delivery_refused },
	{ "subscribed", subscribed },
	{ "config", config_checks },
};

int
main(void)
{
	int fd, port;

	sg_log_open_stderr("test-webhook");
	sg_log_set_level(SG_LOG_ERROR);
	dir = sg_test_dir();
	if ((port = closed_port(&fd)) < 0)
		return 1;
	char *state = sg_xasprintf("%s/state", dir);
	secret_path = sg_test_write(dir, "secret", "0123456789abcdef-secret\n");
	free(sg_test_write(dir, "secret.short", "tooshort\n"));
	conf = load_conf(dir,
			 "support_address = {\"support@example.com\"}\nstate_dir = \"%s\"\n"
			 "webhook ops { url = \"http://169.254.169.254/latest/meta-data/\"\n secret_file = \"%s\"\n"
			 "  events = {\"created\", \"sent\"} }\n"
			 "webhook metadata { url = \"http://169.254.169.254/\"\n secret_file = \"%s\"\n allow_private = true }\n"
			 "webhook linklocal { url = \"http://169.254.10.10:8080/hook\"\n secret_file = \"%s\"\n allow_private = true }\n"
			 "webhook v6linklocal { url = \"http://[fe80::1]/hook\"\n secret_file = \"%s\"\n allow_private = true }\n"
			 "webhook loopback { url = \"http://127.0.0.1:%d/hook\"\n secret_file = \"%s\" }\n"
			 "webhook byname { url = \"http://localhost:%d/hook\"\n secret_file = \"%s\" }\n"
			 "webhook ten { url = \"http://10.0.0.1/hook\"\n secret_file = \"%s\"\n timeout = 2 }\n"
			 "webhook closed { url = \"http://127.0.0.1:%d/hook\"\n secret_file = \"%s\"\n allow_private = true }\n",
			 state, secret_path, secret_path, secret_path, secret_path, port, secret_path, port, secret_path,
			 secret_path, port, secret_path);
	int rc = SG_FIXTURE_RUN(tests);
	close(fd);
	free(state);
	free(secret_path);
	return rc;
}
