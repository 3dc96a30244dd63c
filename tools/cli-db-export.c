/*
 * cli-db-export — `supportgate db export` and `db import`: the store as
 * JSON lines, so it can move to another machine (or a later storage
 * engine) without Berkeley DB tools.
 *
 * One JSON object per line, compact, keys in a fixed order, every table
 * walked in key order, so two exports of the same store are the same
 * bytes. Line 1 is the header {"supportgate":"export","format":1}; then
 * each line has "t", its kind:
 *   seq       the ticket and job id sequences: name, next (the next id)
 *   ticket    every field of a ticket record (record.h)
 *   message   a message summary; raw: its bytes as they came (base64;
 *             unpacked: the store may keep them compressed, rawpack.h)
 *   event     one entry of a ticket's audit trail
 *   job       an outbound job; payload in base64
 *   msgid, customer, due, jobticket   index entries (schema.h)
 *   meta      a meta.db entry: u64 (8-byte counters) or bytes (base64)
 * A string that is not valid UTF-8 is written as {"b64": "..."}.
 * Every record line is read back as the import reads it before it is
 * written, and must give the very bytes of the record: a field added to
 * a record (record.h) but not here stops the export rather than being
 * lost on the new machine.
 *
 * Import reads such a file into an EMPTY store (refused otherwise: two
 * stores are not merged), validating every line before it writes it:
 * known kind, no unknown or missing keys, strings within the record
 * limits (record.h: SG_REC_MAX_STR, list and payload bounds) and without
 * NUL, enums in range, index keys of their exact lengths. The first bad
 * line stops the import with its line number. A file (not a pipe) is
 * checked whole in a first pass that writes nothing, so a bad line leaves
 * the store empty; the second pass writes in batches (a store error or a
 * key twice can still stop it midway: then the admin empties state_dir
 * and imports again). Lines are bounded (a raw message of the largest
 * record, in base64). The id sequences end past every imported id, even
 * when the seq lines say less.
 *
 * Exit status: 0 done, 1 failure (store, file, a bad line), 2 usage.
 *
 * One line without a store (the import's reading of it, the export's
 * writing of a record): tools/cli-db-import.h, for the fuzz target.
 */
#include "config.h"

#include <errno.h>
#include <glib.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli-db-import.h"
#include "conf/conf.h"
#include "lib/xalloc.h"
#include "store/record.h"
#include "store/store.h"

#define EXPORT_FORMAT 1
#define IMPORT_BATCH 200                                   /* lines per transaction */
#define IMPORT_MAX_LINE ((size_t)SG_REC_MAX_RECORD / 3 * 4 + 65536)
#define META_MAX_NAME 4096

/* The import's state; also used by the export to prove that a line
 * read back gives the very record it came from (verify). */
struct im {
	struct sg_store *st;
	struct sg_txn *txn;
	unsigned long line;
	char err[256];
	uint64_t max_ticket, max_job;       /* ids seen: the sequences go past them */
	const unsigned char *verify;        /* non-NULL: compare with these bytes, write nothing */
	struct sg_db_rec *capture;          /* non-NULL: keep the record here, write nothing */
	int dry;                            /* check only, write nothing */
	size_t verify_len;
};

static int im_ticket(struct im *m, json_t *o);
static int im_message(struct im *m, json_t *o);
static int im_event(struct im *m, json_t *o);
static int im_job(struct im *m, json_t *o);

/* ------------------------------------------------------------------ */
/* Export                                                              */

static json_t *
jbytes(const void *p, size_t n)
{
	gchar *b = g_base64_encode(p, n);
	json_t *j = json_string(b);
	g_free(b);
	return j;
}

/* A store string: null, a JSON string, or {"b64": ...} when not UTF-8. */
static json_t *
jstr_n(const char *s, size_t n)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	if ((j = json_stringn(s, n)) != NULL)
		return j;
	return json_pack("{s:o}", "b64", jbytes(s, n));
}

static json_t *
jstr(const char *s)
{
	return jstr_n(s, s ? strlen(s) : 0);
}

static json_t *
jlist(const struct sg_strlist *l)
{
	json_t *a = json_array();

	for (size_t i = 0; i < l->n; i++)
		json_array_append_new(a, jstr(l->v[i]));
	return a;
}

static const char *const kind_names[SG_JOB_KIND_COUNT] = { "smtp", "webhook" };
static const char *const state_names[SG_JOB_STATE_COUNT] = { "queued", "dead" };

struct ex {
	FILE *out;
	int bad;
	unsigned long lines;
};

/* The line j, read back as the import reads it, must give the record's
 * bytes v again: otherwise the export would lose something (a field a
 * later change added to the record but not here). */
static int
verified(struct ex *x, json_t *j, int (*parse)(struct im *, json_t *), const void *v, size_t vl, const char *what)
{
	struct im m = { .verify = v, .verify_len = vl };

	if (j == NULL || parse(&m, j) == 0)
		return 0;
	fprintf(stderr, "supportgate: db export: a %s record does not survive export and import (%s); stopped\n",
		what, m.err);
	x->bad = 1;
	json_decref(j);
	return 1;
}

static int
emit(struct ex *x, json_t *j)
{
	if (j == NULL) {
		x->bad = 1;
		return 1;
	}
	if (json_dumpf(j, x->out, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0 || fputc('\n', x->out) == EOF)
		x->bad = 1;
	json_decref(j);
	x->lines++;
	return x->bad;
}

static int
corrupt(struct ex *x, const char *what)
{
	fprintf(stderr, "supportgate: db export: a corrupt %s record; stopped\n", what);
	x->bad = 1;
	return 1;
}

static int
ex_ticket(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	struct ex *x = arg;
	struct sg_ticket t = { 0 };

	(void)k;
	(void)kl;
	if (sg_rec_ticket_decode(v, vl, &t) != 0)
		return corrupt(x, "ticket");
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			      " s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			      "t", "ticket", "id", (json_int_t)t.id, "status", sg_status_name(t.status),
			      "priority", sg_priority_name(t.priority), "subject", jstr(t.subject),
			      "requestor", jstr(t.requestor), "requestor_name", jstr(t.requestor_name),
			      "queue", jstr(t.queue), "assignee", jstr(t.assignee), "sla_tier", jstr(t.sla_tier),
			      "segment", jstr(t.segment), "language", jstr(t.language),
			      "participants", jlist(&t.participants), "tags", jlist(&t.tags),
			      "created", (json_int_t)t.created, "updated", (json_int_t)t.updated,
			      "closed_at", (json_int_t)t.closed_at, "due", (json_int_t)t.due,
			      "linked", (json_int_t)t.linked, "nmessages", (json_int_t)t.nmessages,
			      "nevents", (json_int_t)t.nevents, "transfers", (json_int_t)t.transfers);
	/* the SLA clocks' fields (ticket record version 2) */
	json_object_set_new(j, "first_response_at", json_integer((json_int_t)t.first_response_at));
	json_object_set_new(j, "first_response_due", json_integer((json_int_t)t.first_response_due));
	json_object_set_new(j, "resolved_at", json_integer((json_int_t)t.resolved_at));
	json_object_set_new(j, "paused_since", json_integer((json_int_t)t.paused_since));
	json_object_set_new(j, "paused_secs", json_integer((json_int_t)t.paused_secs));
	json_object_set_new(j, "paused_bsecs", json_integer((json_int_t)t.paused_bsecs));
	json_object_set_new(j, "reopens", json_integer((json_int_t)t.reopens));
	json_object_set_new(j, "sla_fired", json_integer((json_int_t)t.sla_fired));
	json_object_set_new(j, "rating", json_integer((json_int_t)t.rating));
	json_object_set_new(j, "reason", jstr(t.reason));
	json_object_set_new(j, "service", jstr(t.service));
	sg_ticket_clear(&t);
	return verified(x, j, im_ticket, v, vl, "ticket") || emit(x, j);
}

static int
ex_message(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	struct ex *x = arg;
	struct sg_msgrec m = { 0 };

	(void)k;
	(void)kl;
	if (sg_rec_msg_decode(v, vl, &m) != 0)
		return corrupt(x, "message");
	json_t *j = json_pack("{s:s, s:I, s:I, s:s, s:I, s:o, s:o, s:o, s:I, s:I, s:I}", "t", "message",
			      "ticket", (json_int_t)m.ticket, "seq", (json_int_t)m.seq,
			      "direction", sg_direction_name(m.direction), "flags", (json_int_t)m.flags,
			      "from", jstr(m.from), "message_id", jstr(m.message_id), "subject", jstr(m.subject),
			      "date", (json_int_t)m.date, "received", (json_int_t)m.received,
			      "size", (json_int_t)m.size);
	sg_msgrec_clear(&m);
	return verified(x, j, im_message, v, vl, "message") || emit(x, j);
}

static int
ex_raw(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	struct ex *x = arg;

	if (kl != SG_KEY_ROW_LEN)
		return corrupt(x, "raw message");
	return emit(x, json_pack("{s:s, s:I, s:I, s:o}", "t", "raw", "ticket", (json_int_t)sg_key_get_u64(k),
				 "seq", (json_int_t)sg_key_get_u32(k + 8), "data", jbytes(v, vl)));
}

static int
ex_event(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	struct ex *x = arg;
	struct sg_event e = { 0 };

	(void)k;
	(void)kl;
	if (sg_rec_event_decode(v, vl, &e) != 0)
		return corrupt(x, "event");
	json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o}", "t", "event", "ticket", (json_int_t)e.ticket,
			      "seq", (json_int_t)e.seq, "time", (json_int_t)e.time, "type", jstr(e.type),
			      "actor", jstr(e.actor), "detail", jstr(e.detail));
	sg_event_clear(&e);
	return verified(x, j, im_event, v, vl, "event") || emit(x, j);
}

static int
ex_job(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	struct ex *x = arg;
	struct sg_job jb = { 0 };

	(void)k;
	(void)kl;
	if (sg_rec_job_decode(v, vl, &jb) != 0)
		return corrupt(x, "job");
	json_t *j = json_pack("{s:s, s:I, s:I, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o}", "t", "job",
			      "id", (json_int_t)jb.id, "ticket", (json_int_t)jb.ticket,
			      "kind", kind_names[jb.kind % SG_JOB_KIND_COUNT],
			      "state", state_names[jb.state % SG_JOB_STATE_COUNT], "created", (json_int_t)jb.created,
			      "due", (json_int_t)jb.due, "attempts", (json_int_t)jb.attempts,
			      "last_error", jstr(jb.last_error), "what", jstr(jb.what), "mail_from", jstr(jb.mail_from),
			      "rcpts", jlist(&jb.rcpts), "payload", jbytes(jb.payload, jb.payload_len));
	sg_job_clear(&jb);
	return verified(x, j, im_job, v, vl, "job") || emit(x, j);
}

static int
ex_msgid(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	return emit(arg, json_pack("{s:s, s:o, s:o}", "t", "msgid", "id", jstr_n((const char *)k, kl),
				   "value", jbytes(v, vl)));
}

static int
ex_customer(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	if (vl != 8)
		return corrupt(arg, "customer index");
	return emit(arg, json_pack("{s:s, s:o, s:I}", "t", "customer", "address", jstr_n((const char *)k, kl),
				   "ticket", (json_int_t)sg_key_get_u64(v)));
}

static int
ex_due(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	int64_t due;
	uint8_t kind;
	uint64_t id;

	if (kl != SG_KEY_DUE_LEN || vl != 8)
		return corrupt(arg, "due index");
	sg_key_get_due(k, &due, &kind, &id);
	return emit(arg, json_pack("{s:s, s:I, s:i, s:I, s:I}", "t", "due", "due", (json_int_t)due, "kind", (int)kind,
				   "id", (json_int_t)id, "aux", (json_int_t)sg_key_get_u64(v)));
}

static int
ex_jobticket(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	(void)v;
	if (kl != SG_KEY_JOBTICKET_LEN || vl != 0)
		return corrupt(arg, "job index");
	return emit(arg, json_pack("{s:s, s:I, s:I}", "t", "jobticket", "ticket", (json_int_t)sg_key_get_u64(k),
				   "job", (json_int_t)sg_key_get_u64(k + 8)));
}

static int
is_seq_name(const unsigned char *k, size_t kl)
{
	return (kl == strlen(SG_META_SEQ_TICKET) && memcmp(k, SG_META_SEQ_TICKET, kl) == 0) ||
	       (kl == strlen(SG_META_SEQ_JOB) && memcmp(k, SG_META_SEQ_JOB, kl) == 0);
}

/* meta format:raw says how this store keeps raw.db (schema.h), not what
 * it holds: the export has the messages' bytes, the importing store its
 * own kind. */
static int
is_format_name(const unsigned char *k, size_t kl)
{
	return kl == strlen(SG_META_RAWFMT) && memcmp(k, SG_META_RAWFMT, kl) == 0;
}

static int
ex_meta(const unsigned char *k, size_t kl, const unsigned char *v, size_t vl, void *arg)
{
	if (is_seq_name(k, kl) || is_format_name(k, kl))
		return 0;   /* sequences are written as "seq" lines; the format is the store's own */
	/* a counter; 8 bytes beyond the import's u64 range (0..INT64_MAX)
	 * go as bytes, or the line would not read back */
	if (vl == 8 && !(kl >= 3 && memcmp(k, "kv:", 3) == 0) && sg_key_get_u64(v) <= (uint64_t)INT64_MAX)
		return emit(arg, json_pack("{s:s, s:o, s:I}", "t", "meta", "name", jstr_n((const char *)k, kl),
					   "u64", (json_int_t)sg_key_get_u64(v)));
	return emit(arg, json_pack("{s:s, s:o, s:o}", "t", "meta", "name", jstr_n((const char *)k, kl),
				   "bytes", jbytes(v, vl)));
}

/* The tables in the order of the file, each with its writer. */
static const struct {
	enum sg_table t;
	sg_store_index_cb *cb;
} order[] = {
	{ SG_TB_TICKETS, ex_ticket }, { SG_TB_MESSAGES, ex_message }, { SG_TB_RAW, ex_raw },
	{ SG_TB_EVENTS, ex_event }, { SG_TB_JOBS, ex_job }, { SG_TB_MSGID, ex_msgid },
	{ SG_TB_CUSTOMERS, ex_customer }, { SG_TB_DUE, ex_due }, { SG_TB_JOBTICKET, ex_jobticket },
	{ SG_TB_META, ex_meta },
};

char *
sg_db_rec_export(const struct sg_db_rec *rec)
{
	struct ex x = { 0 };
	char *out = NULL;
	size_t n = 0;
	int rc = -1;

	if ((x.out = open_memstream(&out, &n)) == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((int)order[i].t == rec->table)
			rc = order[i].cb(rec->key, rec->klen, rec->val, rec->vlen, &x);
	if (fclose(x.out) != 0 || rc != 0 || x.bad || x.lines != 1) {
		free(out);
		return NULL;
	}
	out[n - 1] = '\0';   /* the newline */
	return out;
}

static int
db_export(int argc, char **argv)
{
	const struct sg_conf *c;
	struct sg_store *st;
	struct ex x = { 0 };
	uint64_t tnext = 0, jnext = 0;
	int rc;

	if (argc > 2)
		return sg_cli_usage("db", 2);
	x.out = stdout;
	if (argc == 2 && strcmp(argv[1], "-") != 0 && (x.out = fopen(argv[1], "wx")) == NULL) {
		fprintf(stderr, "supportgate: db export: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	c = sg_cli_conf();
	st = sg_cli_store(c);
	rc = sg_store_seq_peek(st, SG_META_SEQ_TICKET, &tnext);
	if (rc == 0)
		rc = sg_store_seq_peek(st, SG_META_SEQ_JOB, &jnext);
	if (rc == 0) {
		emit(&x, json_pack("{s:s, s:i}", "supportgate", "export", "format", EXPORT_FORMAT));
		emit(&x, json_pack("{s:s, s:s, s:I}", "t", "seq", "name", SG_META_SEQ_TICKET, "next", (json_int_t)tnext));
		emit(&x, json_pack("{s:s, s:s, s:I}", "t", "seq", "name", SG_META_SEQ_JOB, "next", (json_int_t)jnext));
	}
	/* Outside a transaction: a whole store's read locks would not fit
	 * the lock table. Stop the daemon for an exact copy (the man page). */
	for (size_t i = 0; rc == 0 && !x.bad && i < sizeof(order) / sizeof(order[0]); i++)
		rc = sg_store_table_walk(st, NULL, order[i].t, order[i].cb, &x);
	if (fflush(x.out) != 0 || ferror(x.out))
		x.bad = 1;
	if (x.out != stdout && fclose(x.out) != 0)
		x.bad = 1;
	sg_store_close(&st);
	if (rc != 0 || x.bad) {
		fprintf(stderr, "supportgate: db export: FAILED\n");
		return 1;
	}
	fprintf(stderr, "db export: %lu lines\n", x.lines);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Import                                                              */


static int
bad(struct im *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int
bad(struct im *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(m->err, sizeof(m->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* Base64 text to bytes, at most max of them. */
static int
get_bytes(struct im *m, json_t *j, const char *what, size_t max, unsigned char **out, size_t *n)
{
	const char *s = json_string_value(j);
	size_t sl = s ? json_string_length(j) : 0;

	if (s == NULL)
		return bad(m, "%s: not a base64 string", what);
	if (sl / 4 * 3 > max + 3)
		return bad(m, "%s: over %zu bytes", what, max);
	for (size_t i = 0; i < sl; i++)
		if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/' && s[i] != '=')
			return bad(m, "%s: not base64", what);
	if (sl % 4 != 0)
		return bad(m, "%s: not base64", what);
	gsize got = 0;
	*out = sl ? g_base64_decode(s, &got) : (unsigned char *)g_strdup("");
	*n = got;
	if (got > max) {
		g_free(*out);
		*out = NULL;
		return bad(m, "%s: over %zu bytes", what, max);
	}
	return 0;
}

/* A store string (null allowed when nullable); a new string in *out. */
static int
get_str(struct im *m, json_t *j, const char *what, int nullable, char **out)
{
	*out = NULL;
	if (json_is_null(j)) {
		if (!nullable)
			return bad(m, "%s: null not allowed", what);
		return 0;
	}
	if (json_is_object(j)) {
		json_t *b = json_object_get(j, "b64");
		unsigned char *p = NULL;
		size_t n = 0;
		if (b == NULL || json_object_size(j) != 1)
			return bad(m, "%s: an object must be {\"b64\": ...}", what);
		if (get_bytes(m, b, what, SG_REC_MAX_STR, &p, &n) != 0)
			return -1;
		if (memchr(p, '\0', n) != NULL) {
			g_free(p);
			return bad(m, "%s: holds a NUL byte", what);
		}
		*out = sg_xmalloc(n + 1);
		memcpy(*out, p, n);
		(*out)[n] = '\0';
		g_free(p);
		return 0;
	}
	if (!json_is_string(j))
		return bad(m, "%s: not a string", what);
	size_t n = json_string_length(j);
	if (n > SG_REC_MAX_STR)
		return bad(m, "%s: longer than %u bytes", what, SG_REC_MAX_STR);
	if (strlen(json_string_value(j)) != n)
		return bad(m, "%s: holds a NUL byte", what);
	*out = sg_xstrdup(json_string_value(j));
	return 0;
}

static int
get_list(struct im *m, json_t *j, const char *what, struct sg_strlist *l)
{
	size_t bytes = 4, i;
	json_t *e;

	if (!json_is_array(j))
		return bad(m, "%s: not an array", what);
	if (json_array_size(j) > SG_REC_MAX_LIST)
		return bad(m, "%s: more than %u entries", what, SG_REC_MAX_LIST);
	json_array_foreach(j, i, e) {
		char *s = NULL;
		if (get_str(m, e, what, 0, &s) != 0)
			return -1;
		bytes += 4 + strlen(s);
		if (bytes > SG_REC_MAX_LIST_BYTES) {
			free(s);
			return bad(m, "%s: over %u bytes", what, SG_REC_MAX_LIST_BYTES);
		}
		sg_strlist_add(l, s, 0);
		free(s);
	}
	return 0;
}

static int
get_u64(struct im *m, json_t *j, const char *what, uint64_t max, uint64_t *out)
{
	if (!json_is_integer(j) || json_integer_value(j) < 0 || (uint64_t)json_integer_value(j) > max)
		return bad(m, "%s: not an integer in 0..%llu", what, (unsigned long long)max);
	*out = (uint64_t)json_integer_value(j);
	return 0;
}

static int
get_i64(struct im *m, json_t *j, const char *what, int64_t *out)
{
	if (!json_is_integer(j))
		return bad(m, "%s: not an integer", what);
	*out = (int64_t)json_integer_value(j);
	return 0;
}

static int
name_index(const char *s, const char *const *names, int n)
{
	for (int i = 0; s != NULL && i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

/* The line's object must have exactly these keys (besides "t"). */
static int
keys_exact(struct im *m, json_t *o, const char *const *keys)
{
	size_t n = 1;

	for (size_t i = 0; keys[i] != NULL; i++, n++)
		if (json_object_get(o, keys[i]) == NULL)
			return bad(m, "missing key \"%s\"", keys[i]);
	if (json_object_size(o) != n) {
		const char *k;
		json_t *v;
		json_object_foreach(o, k, v) {
			int known = strcmp(k, "t") == 0;
			for (size_t i = 0; keys[i] != NULL && !known; i++)
				known = strcmp(k, keys[i]) == 0;
			if (!known)
				return bad(m, "unknown key \"%s\"", k);
		}
	}
	return 0;
}

#define G(k) json_object_get(o, k)
#define U32MAX 0xffffffffULL
#define U64MAX ((uint64_t)INT64_MAX)

static int
put(struct im *m, enum sg_table t, const void *k, size_t kl, const void *v, size_t vl)
{
	if (m->capture != NULL) {
		if (m->capture->key != NULL)
			return bad(m, "a second record in one line");
		m->capture->table = (int)t;
		m->capture->key = sg_xmalloc(kl + 1);
		memcpy(m->capture->key, k, kl);
		m->capture->klen = kl;
		m->capture->val = sg_xmalloc(vl + 1);
		memcpy(m->capture->val, v, vl);
		m->capture->vlen = vl;
		return 0;
	}
	if (m->verify != NULL)
		return vl == m->verify_len && memcmp(v, m->verify, vl) == 0 ? 0 : bad(m, "the bytes differ");
	if (m->dry)
		return 0;
	int rc = sg_store_table_put(m->st, m->txn, t, k, kl, v, vl);

	if (rc == SG_STORE_EXISTS)
		return bad(m, "a second entry under the same key");
	if (rc != 0)
		return bad(m, "store error (%d)", rc);
	return 0;
}

static int
im_ticket(struct im *m, json_t *o)
{
	static const char *const keys[] = { "id", "status", "priority", "subject", "requestor", "requestor_name",
		"queue", "assignee", "sla_tier", "segment", "language", "participants", "tags", "created", "updated",
		"closed_at", "due", "linked", "nmessages", "nevents", "transfers", "first_response_at",
		"first_response_due", "resolved_at", "paused_since", "paused_secs", "paused_bsecs", "reopens",
		"sla_fired", "rating", "reason", "service", NULL };
	struct sg_ticket t = { 0 };
	uint64_t u;
	int rc = keys_exact(m, o, keys), s, p;

	if (rc == 0 && (s = json_is_string(G("status")) ? sg_status_parse(json_string_value(G("status"))) : -1) < 0)
		rc = bad(m, "status: unknown");
	if (rc == 0 && (p = json_is_string(G("priority")) ? sg_priority_parse(json_string_value(G("priority"))) : -1) < 0)
		rc = bad(m, "priority: unknown");
	if (rc == 0) {
		t.status = (enum sg_status)s;
		t.priority = (enum sg_priority)p;
	}
	if (rc == 0)
		rc = get_u64(m, G("id"), "id", U64MAX, &t.id);
	if (rc == 0 && t.id == 0)
		rc = bad(m, "id: 0");
	if (rc == 0)
		rc = get_str(m, G("subject"), "subject", 1, &t.subject);
	if (rc == 0)
		rc = get_str(m, G("requestor"), "requestor", 1, &t.requestor);
	if (rc == 0)
		rc = get_str(m, G("requestor_name"), "requestor_name", 1, &t.requestor_name);
	if (rc == 0)
		rc = get_str(m, G("queue"), "queue", 1, &t.queue);
	if (rc == 0)
		rc = get_str(m, G("assignee"), "assignee", 1, &t.assignee);
	if (rc == 0)
		rc = get_str(m, G("sla_tier"), "sla_tier", 1, &t.sla_tier);
	if (rc == 0)
		rc = get_str(m, G("segment"), "segment", 1, &t.segment);
	if (rc == 0)
		rc = get_str(m, G("language"), "language", 1, &t.language);
	if (rc == 0)
		rc = get_list(m, G("participants"), "participants", &t.participants);
	if (rc == 0)
		rc = get_list(m, G("tags"), "tags", &t.tags);
	if (rc == 0)
		rc = get_i64(m, G("created"), "created", &t.created);
	if (rc == 0)
		rc = get_i64(m, G("updated"), "updated", &t.updated);
	if (rc == 0)
		rc = get_i64(m, G("closed_at"), "closed_at", &t.closed_at);
	if (rc == 0)
		rc = get_i64(m, G("due"), "due", &t.due);
	if (rc == 0)
		rc = get_u64(m, G("linked"), "linked", U64MAX, &t.linked);
	if (rc == 0 && (rc = get_u64(m, G("nmessages"), "nmessages", U32MAX, &u)) == 0)
		t.nmessages = (uint32_t)u;
	if (rc == 0 && (rc = get_u64(m, G("nevents"), "nevents", U32MAX, &u)) == 0)
		t.nevents = (uint32_t)u;
	if (rc == 0 && (rc = get_u64(m, G("transfers"), "transfers", U32MAX, &u)) == 0)
		t.transfers = (uint32_t)u;
	if (rc == 0)
		rc = get_i64(m, G("first_response_at"), "first_response_at", &t.first_response_at);
	if (rc == 0)
		rc = get_i64(m, G("first_response_due"), "first_response_due", &t.first_response_due);
	if (rc == 0)
		rc = get_i64(m, G("resolved_at"), "resolved_at", &t.resolved_at);
	if (rc == 0)
		rc = get_i64(m, G("paused_since"), "paused_since", &t.paused_since);
	if (rc == 0)
		rc = get_i64(m, G("paused_secs"), "paused_secs", &t.paused_secs);
	if (rc == 0)
		rc = get_i64(m, G("paused_bsecs"), "paused_bsecs", &t.paused_bsecs);
	if (rc == 0 && (rc = get_u64(m, G("reopens"), "reopens", U32MAX, &u)) == 0)
		t.reopens = (uint32_t)u;
	if (rc == 0 && (rc = get_u64(m, G("sla_fired"), "sla_fired", 15, &u)) == 0)
		t.sla_fired = (uint8_t)u;
	if (rc == 0 && (rc = get_u64(m, G("rating"), "rating", 5, &u)) == 0)
		t.rating = (uint8_t)u;
	if (rc == 0)
		rc = get_str(m, G("reason"), "reason", 1, &t.reason);
	if (rc == 0)
		rc = get_str(m, G("service"), "service", 1, &t.service);
	if (rc == 0) {
		struct sg_buf b = { 0 };
		unsigned char k[8];
		sg_rec_ticket_encode(&b, &t);
		sg_key_u64(k, t.id);
		if (t.id > m->max_ticket)
			m->max_ticket = t.id;
		rc = put(m, SG_TB_TICKETS, k, 8, b.data, b.len);
		free(b.data);
	}
	sg_ticket_clear(&t);
	return rc;
}

static int
im_message(struct im *m, json_t *o)
{
	static const char *const keys[] = { "ticket", "seq", "direction", "flags", "from", "message_id", "subject",
		"date", "received", "size", NULL };
	static const char *const dirs[] = { "in", "out", "internal" };
	struct sg_msgrec r = { 0 };
	uint64_t u;
	int rc = keys_exact(m, o, keys), d = -1;

	if (rc == 0 && (d = name_index(json_string_value(G("direction")), dirs, 3)) < 0)
		rc = bad(m, "direction: unknown");
	r.direction = (enum sg_direction)(d < 0 ? 0 : d);
	if (rc == 0)
		rc = get_u64(m, G("ticket"), "ticket", U64MAX, &r.ticket);
	if (rc == 0 && (rc = get_u64(m, G("seq"), "seq", U32MAX, &u)) == 0)
		r.seq = (uint32_t)u;
	if (rc == 0 && (rc = get_u64(m, G("flags"), "flags", U32MAX, &u)) == 0)
		r.flags = (uint32_t)u;
	if (rc == 0)
		rc = get_str(m, G("from"), "from", 1, &r.from);
	if (rc == 0)
		rc = get_str(m, G("message_id"), "message_id", 1, &r.message_id);
	if (rc == 0)
		rc = get_str(m, G("subject"), "subject", 1, &r.subject);
	if (rc == 0)
		rc = get_i64(m, G("date"), "date", &r.date);
	if (rc == 0)
		rc = get_i64(m, G("received"), "received", &r.received);
	if (rc == 0)
		rc = get_u64(m, G("size"), "size", U64MAX, &r.size);
	if (rc == 0) {
		struct sg_buf b = { 0 };
		unsigned char k[SG_KEY_ROW_LEN];
		sg_rec_msg_encode(&b, &r);
		sg_key_row(k, r.ticket, r.seq);
		rc = put(m, SG_TB_MESSAGES, k, sizeof(k), b.data, b.len);
		free(b.data);
	}
	sg_msgrec_clear(&r);
	return rc;
}

static int
im_raw(struct im *m, json_t *o)
{
	static const char *const keys[] = { "ticket", "seq", "data", NULL };
	uint64_t ticket = 0, seq = 0;
	unsigned char *p = NULL, k[SG_KEY_ROW_LEN];
	size_t n = 0;
	int rc = keys_exact(m, o, keys);

	if (rc == 0)
		rc = get_u64(m, G("ticket"), "ticket", U64MAX, &ticket);
	if (rc == 0)
		rc = get_u64(m, G("seq"), "seq", U32MAX, &seq);
	if (rc == 0)
		rc = get_bytes(m, G("data"), "data", SG_REC_MAX_PAYLOAD, &p, &n);
	if (rc == 0) {
		sg_key_row(k, ticket, (uint32_t)seq);
		rc = put(m, SG_TB_RAW, k, sizeof(k), p, n);
	}
	g_free(p);
	return rc;
}

static int
im_event(struct im *m, json_t *o)
{
	static const char *const keys[] = { "ticket", "seq", "time", "type", "actor", "detail", NULL };
	struct sg_event e = { 0 };
	uint64_t u;
	int rc = keys_exact(m, o, keys);

	if (rc == 0)
		rc = get_u64(m, G("ticket"), "ticket", U64MAX, &e.ticket);
	if (rc == 0 && (rc = get_u64(m, G("seq"), "seq", U32MAX, &u)) == 0)
		e.seq = (uint32_t)u;
	if (rc == 0)
		rc = get_i64(m, G("time"), "time", &e.time);
	if (rc == 0)
		rc = get_str(m, G("type"), "type", 1, &e.type);
	if (rc == 0)
		rc = get_str(m, G("actor"), "actor", 1, &e.actor);
	if (rc == 0)
		rc = get_str(m, G("detail"), "detail", 1, &e.detail);
	if (rc == 0) {
		struct sg_buf b = { 0 };
		unsigned char k[SG_KEY_ROW_LEN];
		sg_rec_event_encode(&b, &e);
		sg_key_row(k, e.ticket, e.seq);
		rc = put(m, SG_TB_EVENTS, k, sizeof(k), b.data, b.len);
		free(b.data);
	}
	sg_event_clear(&e);
	return rc;
}

static int
im_job(struct im *m, json_t *o)
{
	static const char *const keys[] = { "id", "ticket", "kind", "state", "created", "due", "attempts",
		"last_error", "what", "mail_from", "rcpts", "payload", NULL };
	struct sg_job j = { 0 };
	unsigned char *p = NULL;
	uint64_t u;
	int rc = keys_exact(m, o, keys), kind = -1, state = -1;

	if (rc == 0 && (kind = name_index(json_string_value(G("kind")), kind_names, SG_JOB_KIND_COUNT)) < 0)
		rc = bad(m, "kind: unknown");
	if (rc == 0 && (state = name_index(json_string_value(G("state")), state_names, SG_JOB_STATE_COUNT)) < 0)
		rc = bad(m, "state: unknown");
	j.kind = (uint8_t)(kind < 0 ? 0 : kind);
	j.state = (uint8_t)(state < 0 ? 0 : state);
	if (rc == 0)
		rc = get_u64(m, G("id"), "id", U64MAX, &j.id);
	if (rc == 0)
		rc = get_u64(m, G("ticket"), "ticket", U64MAX, &j.ticket);
	if (rc == 0)
		rc = get_i64(m, G("created"), "created", &j.created);
	if (rc == 0)
		rc = get_i64(m, G("due"), "due", &j.due);
	if (rc == 0 && (rc = get_u64(m, G("attempts"), "attempts", U32MAX, &u)) == 0)
		j.attempts = (uint32_t)u;
	if (rc == 0)
		rc = get_str(m, G("last_error"), "last_error", 1, &j.last_error);
	if (rc == 0)
		rc = get_str(m, G("what"), "what", 1, &j.what);
	if (rc == 0)
		rc = get_str(m, G("mail_from"), "mail_from", 1, &j.mail_from);
	if (rc == 0)
		rc = get_list(m, G("rcpts"), "rcpts", &j.rcpts);
	if (rc == 0 && (rc = get_bytes(m, G("payload"), "payload", SG_REC_MAX_PAYLOAD, &p, &j.payload_len)) == 0) {
		j.payload = sg_xmalloc(j.payload_len + 1);
		memcpy(j.payload, p, j.payload_len);
		j.payload[j.payload_len] = '\0';
	}
	g_free(p);
	if (rc == 0) {
		struct sg_buf b = { 0 };
		unsigned char k[8];
		sg_rec_job_encode(&b, &j);
		sg_key_u64(k, j.id);
		if (j.id > m->max_job)
			m->max_job = j.id;
		rc = put(m, SG_TB_JOBS, k, 8, b.data, b.len);
		free(b.data);
	}
	sg_job_clear(&j);
	return rc;
}

static int
im_msgid(struct im *m, json_t *o)
{
	static const char *const keys[] = { "id", "value", NULL };
	char *id = NULL;
	unsigned char *v = NULL;
	size_t n = 0;
	int rc = keys_exact(m, o, keys);

	if (rc == 0)
		rc = get_str(m, G("id"), "id", 0, &id);
	if (rc == 0 && id[0] == '\0')
		rc = bad(m, "id: empty");
	if (rc == 0)
		rc = get_bytes(m, G("value"), "value", SG_MSGID_VAL_LEN + SG_MSGID_DIGEST_LEN, &v, &n);
	if (rc == 0 && ((n != SG_MSGID_VAL_LEN && n != SG_MSGID_VAL_LEN + SG_MSGID_DIGEST_LEN) || v[0] != SG_REC_VERSION))
		rc = bad(m, "value: not a Message-ID index entry");
	if (rc == 0)
		rc = put(m, SG_TB_MSGID, id, strlen(id), v, n);
	free(id);
	g_free(v);
	return rc;
}

static int
im_customer(struct im *m, json_t *o)
{
	static const char *const keys[] = { "address", "ticket", NULL };
	char *a = NULL;
	uint64_t id = 0;
	unsigned char v[8];
	int rc = keys_exact(m, o, keys);

	if (rc == 0)
		rc = get_str(m, G("address"), "address", 0, &a);
	if (rc == 0 && a[0] == '\0')
		rc = bad(m, "address: empty");
	if (rc == 0)
		rc = get_u64(m, G("ticket"), "ticket", U64MAX, &id);
	if (rc == 0) {
		sg_key_u64(v, id);
		rc = put(m, SG_TB_CUSTOMERS, a, strlen(a), v, 8);
	}
	free(a);
	return rc;
}

static int
im_due(struct im *m, json_t *o)
{
	static const char *const keys[] = { "due", "kind", "id", "aux", NULL };
	uint64_t due = 0, kind = 0, id = 0, aux = 0;
	unsigned char k[SG_KEY_DUE_LEN], v[8];
	int rc = keys_exact(m, o, keys);

	if (rc == 0)
		rc = get_u64(m, G("due"), "due", U64MAX, &due);
	if (rc == 0)
		rc = get_u64(m, G("kind"), "kind", 255, &kind);
	if (rc == 0)
		rc = get_u64(m, G("id"), "id", U64MAX, &id);
	if (rc == 0)
		rc = get_u64(m, G("aux"), "aux", U64MAX, &aux);
	if (rc == 0) {
		sg_key_due(k, (int64_t)due, (uint8_t)kind, id);
		sg_key_u64(v, aux);
		rc = put(m, SG_TB_DUE, k, sizeof(k), v, 8);
	}
	return rc;
}

static int
im_jobticket(struct im *m, json_t *o)
{
	static const char *const keys[] = { "ticket", "job", NULL };
	uint64_t ticket = 0, job = 0;
	unsigned char k[SG_KEY_JOBTICKET_LEN];
	int rc = keys_exact(m, o, keys);

	if (rc == 0)
		rc = get_u64(m, G("ticket"), "ticket", U64MAX, &ticket);
	if (rc == 0)
		rc = get_u64(m, G("job"), "job", U64MAX, &job);
	if (rc == 0) {
		sg_key_jobticket(k, ticket, job);
		rc = put(m, SG_TB_JOBTICKET, k, sizeof(k), "", 0);
	}
	return rc;
}

static int
im_meta(struct im *m, json_t *o)
{
	char *name = NULL;
	unsigned char *v = NULL, u8[8];
	size_t n = 0;
	uint64_t u = 0;
	int rc = 0;

	if (json_object_size(o) != 3 || G("name") == NULL || (G("u64") == NULL && G("bytes") == NULL))
		return bad(m, "meta: needs name and one of u64, bytes");
	if ((rc = get_str(m, G("name"), "name", 0, &name)) != 0)
		return rc;
	if (name[0] == '\0' || strlen(name) > META_MAX_NAME || is_seq_name((unsigned char *)name, strlen(name)) ||
	    is_format_name((unsigned char *)name, strlen(name)))
		rc = bad(m, "name: empty, too long, a sequence or the store's format");
	if (rc == 0 && G("u64") != NULL) {
		if ((rc = get_u64(m, G("u64"), "u64", U64MAX, &u)) == 0) {
			sg_key_u64(u8, u);
			rc = put(m, SG_TB_META, name, strlen(name), u8, 8);
		}
	} else if (rc == 0 && (rc = get_bytes(m, G("bytes"), "bytes", SG_REC_MAX_STR, &v, &n)) == 0) {
		rc = put(m, SG_TB_META, name, strlen(name), v, n);
	}
	free(name);
	g_free(v);
	return rc;
}

/* Sequences are set after the last batch (outside a transaction). */
struct seqs {
	uint64_t ticket, job;
};

static int
im_seq(struct im *m, json_t *o, struct seqs *s)
{
	static const char *const keys[] = { "name", "next", NULL };
	const char *name;
	uint64_t next = 0;
	int rc = keys_exact(m, o, keys);

	if (rc == 0)
		rc = get_u64(m, G("next"), "next", U64MAX, &next);
	if (rc != 0)
		return rc;
	name = json_string_value(G("name"));
	if (name != NULL && strcmp(name, SG_META_SEQ_TICKET) == 0)
		s->ticket = next;
	else if (name != NULL && strcmp(name, SG_META_SEQ_JOB) == 0)
		s->job = next;
	else
		return bad(m, "seq: unknown name");
	return 0;
}

/* One line, at most max bytes; 1 at the end of the file, -1 when too long. */
static int
read_line(FILE *fp, char **buf, size_t *cap, size_t *len, size_t max)
{
	int ch;

	*len = 0;
	while ((ch = getc_unlocked(fp)) != EOF && ch != '\n') {
		if (*len >= max)
			return -1;
		if (*len + 1 >= *cap) {
			*cap = *cap ? *cap * 2 : 65536;
			*buf = sg_xrealloc(*buf, *cap);
		}
		(*buf)[(*len)++] = (char)ch;
	}
	if (ch == EOF && *len == 0)
		return 1;
	if (*cap == 0)
		*buf = sg_xrealloc(*buf, *cap = 16);
	(*buf)[*len] = '\0';
	return 0;
}

static int
import_line(struct im *m, json_t *o, struct seqs *s)
{
	const char *t = json_string_value(json_object_get(o, "t"));

	if (t == NULL)
		return bad(m, "no \"t\"");
	if (strcmp(t, "ticket") == 0) return im_ticket(m, o);
	if (strcmp(t, "message") == 0) return im_message(m, o);
	if (strcmp(t, "raw") == 0) return im_raw(m, o);
	if (strcmp(t, "event") == 0) return im_event(m, o);
	if (strcmp(t, "job") == 0) return im_job(m, o);
	if (strcmp(t, "msgid") == 0) return im_msgid(m, o);
	if (strcmp(t, "customer") == 0) return im_customer(m, o);
	if (strcmp(t, "due") == 0) return im_due(m, o);
	if (strcmp(t, "jobticket") == 0) return im_jobticket(m, o);
	if (strcmp(t, "meta") == 0) return im_meta(m, o);
	if (strcmp(t, "seq") == 0) return im_seq(m, o, s);
	return bad(m, "unknown kind \"%.40s\"", t);
}

/* A line's JSON object; NULL with m->err saying why. */
static json_t *
line_object(struct im *m, const char *buf, size_t len)
{
	json_error_t je;
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);

	if (o == NULL) {
		bad(m, "not JSON: %s", je.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		bad(m, "not a JSON object");
		json_decref(o);
		return NULL;
	}
	return o;
}

void
sg_db_rec_clear(struct sg_db_rec *rec)
{
	free(rec->key);
	free(rec->val);
	*rec = (struct sg_db_rec){ .table = -1 };
}

int
sg_db_line_parse(const char *line, size_t len, struct sg_db_rec *rec, char *err, size_t errlen)
{
	struct im m = { .dry = 1, .capture = rec };
	struct seqs s = { 1, 1 };
	json_t *o;
	int rc = -1;

	*rec = (struct sg_db_rec){ .table = -1 };
	if ((o = line_object(&m, line, len)) != NULL) {
		rc = import_line(&m, o, &s);
		json_decref(o);
	}
	if (rc != 0) {
		sg_db_rec_clear(rec);
		snprintf(err, errlen, "%s", m.err);
	}
	return rc;
}

/* One pass over the file. dry: parse and check every line, write
 * nothing (the first pass, when the file can be read twice). */
static int
import_pass(struct im *m, FILE *fp, struct seqs *s, unsigned long *n)
{
	char *buf = NULL;
	size_t cap = 0, len = 0;
	int rc = 0, r, header = 0;
	unsigned long batch = 0;

	m->line = 0;
	*n = 0;
	while (rc == 0 && (r = read_line(fp, &buf, &cap, &len, IMPORT_MAX_LINE)) != 1) {
		json_t *o;

		m->line++;
		if (r < 0) {
			rc = bad(m, "line longer than %zu bytes", IMPORT_MAX_LINE);
			break;
		}
		if ((o = line_object(m, buf, len)) == NULL) {
			rc = -1;
			break;
		}
		if (!header) {
			const char *h = json_string_value(json_object_get(o, "supportgate"));
			json_t *f = json_object_get(o, "format");
			if (h == NULL || strcmp(h, "export") != 0 || !json_is_integer(f))
				rc = bad(m, "not a supportgate export (no header line)");
			else if (json_integer_value(f) != EXPORT_FORMAT)
				rc = bad(m, "export format %lld; this release reads %d", (long long)json_integer_value(f),
					 EXPORT_FORMAT);
			header = 1;
		} else {
			if (!m->dry && m->txn == NULL && (rc = sg_store_txn_begin(m->st, &m->txn)) != 0)
				rc = bad(m, "store error (%d)", rc);
			if (rc == 0)
				rc = import_line(m, o, s);
			(*n)++;
			if (rc == 0 && !m->dry && ++batch >= IMPORT_BATCH) {
				if (sg_store_txn_commit(&m->txn) != 0)
					rc = bad(m, "commit failed");
				batch = 0;
			}
		}
		json_decref(o);
	}
	if (rc == 0 && !header)
		rc = bad(m, "empty file");
	if (rc == 0 && ferror(fp))
		rc = bad(m, "read error");
	if (rc == 0 && m->txn != NULL && sg_store_txn_commit(&m->txn) != 0)
		rc = bad(m, "commit failed");
	sg_store_txn_abort(&m->txn);
	free(buf);
	return rc;
}

static int
db_import(int argc, char **argv)
{
	struct im m = { 0 };
	struct seqs s = { 1, 1 };
	FILE *fp;
	int rc = 0, empty = 0;
	unsigned long n = 0;

	if (argc != 2)
		return sg_cli_usage("db", 2);
	fp = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "r");
	if (fp == NULL) {
		fprintf(stderr, "supportgate: db import: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	const struct sg_conf *c = sg_cli_conf();
	m.st = sg_cli_store(c);
	if (sg_store_is_empty(m.st, &empty) != 0 || !empty) {
		fprintf(stderr, "supportgate: db import: the store in %s is not empty; import only into a new state_dir\n",
			c->state_dir);
		rc = 1;
	}
	/* A file that can be read twice is checked whole before anything is
	 * written: a bad line then leaves the store empty. */
	if (rc == 0 && fseeko(fp, 0, SEEK_SET) == 0) {
		m.dry = 1;
		rc = import_pass(&m, fp, &s, &n);
		m.dry = 0;
		if (rc == 0 && fseeko(fp, 0, SEEK_SET) != 0)
			rc = bad(&m, "cannot read the file again: %s", strerror(errno));
		s.ticket = s.job = 1;
		m.max_ticket = m.max_job = 0;
	}
	if (rc == 0)
		rc = import_pass(&m, fp, &s, &n);
	/* Never hand out an id that a record already has, whatever the
	 * seq lines said (or if they were left out). */
	if (s.ticket <= m.max_ticket)
		s.ticket = m.max_ticket + 1;
	if (s.job <= m.max_job)
		s.job = m.max_job + 1;
	if (rc == 0 && (sg_store_seq_advance(m.st, SG_META_SEQ_TICKET, s.ticket) != 0 ||
			sg_store_seq_advance(m.st, SG_META_SEQ_JOB, s.job) != 0))
		rc = bad(&m, "cannot set the id sequences");
	if (rc != 0 && m.err[0] != '\0')
		fprintf(stderr, "supportgate: db import: %s:%lu: %s\n", argv[1], m.line, m.err);
	else if (rc == 0)
		fprintf(stderr, "db import: %lu records\n", n);
	if (fp != stdin)
		fclose(fp);
	sg_store_close(&m.st);
	return rc == 0 ? 0 : 1;
}

int
sg_cli_db_export(int argc, char **argv)
{
	return db_export(argc, argv);
}

int
sg_cli_db_import(int argc, char **argv)
{
	return db_import(argc, argv);
}
