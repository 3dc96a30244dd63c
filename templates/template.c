/*
 * template — see template.h.
 */
#include "config.h"
#include "templates/template.h"

#include <dirent.h>
#include <errno.h>
#include <gmime/gmime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "mail/message.h"
#include "lib/xalloc.h"

#define SG_TMPL_MAX (256 * 1024)
#define SG_TMPL_HEADERS 16

const char *const sg_template_names[] = {
	"ack", "followup", "assigned", "pending", "resolved", "closed", "status",
	"command-error", "escalation", "rate-alert", "notify", "rated", "status-none", "handoff", "blind", "sla-breach", "reopened", NULL,
};

const char *const sg_template_vars[] = {
	"token", "id", "subject", "status", "queue", "priority", "due", "agent_name",
	"customer_name", "customer_address", "excerpt", "status_url", "support_address",
	"support_name", "error", "created", "history", NULL,
};
_Static_assert(sizeof(sg_template_vars) / sizeof(sg_template_vars[0]) == SG_TV_COUNT + 1,
	       "sg_template_vars and enum sg_tvar must list the same variables");

struct tmpl {
	char *lang, *name, *path;
	size_t nhdr;
	char *hname[SG_TMPL_HEADERS];
	char *hvalue[SG_TMPL_HEADERS];
	char *body;
};

struct sg_templates {
	struct tmpl *v;
	size_t n;
};

int
sg_template_var_index(const char *name)
{
	for (int i = 0; sg_template_vars[i] != NULL; i++)
		if (strcmp(sg_template_vars[i], name) == 0)
			return i;
	return -1;
}

void
sg_template_set(struct sg_template_values *tv, enum sg_tvar var, const char *value)
{
	if ((unsigned)var < SG_TV_COUNT)
		tv->v[var] = value;
}

static void errf(struct sg_diag *e, const char *path, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
errf(struct sg_diag *e, const char *path, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sg_diag_add(e, path, line, 0, "%s", msg);
}

/* Check every {{var}} in s (which starts at line); report unknown ones. */
static void
check_vars(const char *s, const char *path, int line, struct sg_diag *e)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\n')
			line++;
		if (p[0] != '{' || p[1] != '{')
			continue;
		const char *end = strstr(p + 2, "}}");
		if (end == NULL || memchr(p, '\n', (size_t)(end - p)) != NULL) {
			errf(e, path, line, "unterminated {{");
			return;
		}
		char *name = sg_xstrndup(p + 2, (size_t)(end - p - 2));
		char *n = name;
		while (*n == ' ')
			n++;
		for (char *q = n + strlen(n); q > n && q[-1] == ' '; q--)
			q[-1] = '\0';
		if (sg_template_var_index(n + (*n == '?')) < 0)
			errf(e, path, line, "unknown variable {{%s}}", n);
		free(name);
		p = end + 1;
	}
}

static int
load_one(struct sg_templates *ts, const char *lang, const char *name, const char *path,
	 struct sg_diag *e)
{
	FILE *fp = fopen(path, "rb");
	struct stat sb;
	char *buf, *p;
	size_t n;
	int line = 1, has_subject = 0;
	struct tmpl t = { 0 };

	if (fp == NULL || fstat(fileno(fp), &sb) != 0) {
		errf(e, path, 0, "cannot read: %s", strerror(errno));
		if (fp)
			fclose(fp);
		return -1;
	}
	if (sb.st_size > SG_TMPL_MAX) {
		errf(e, path, 0, "template larger than %d bytes", SG_TMPL_MAX);
		fclose(fp);
		return -1;
	}
	buf = sg_xmalloc((size_t)sb.st_size + 1);
	n = fread(buf, 1, (size_t)sb.st_size, fp);
	fclose(fp);
	buf[n] = '\0';
	if (strlen(buf) != n || !g_utf8_validate(buf, (gssize)n, NULL)) {
		errf(e, path, 1, "template is not valid UTF-8 text");
		free(buf);
		return -1;
	}
	p = buf;
	/* comments, then headers up to the first blank line */
	while (*p) {
		char *eol = strchr(p, '\n');
		size_t l = eol ? (size_t)(eol - p) : strlen(p);
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0) {
			p = eol ? eol + 1 : p + strlen(p);
			line++;
			break;
		}
		if (*p == '#' && t.nhdr == 0) {
			/* comment */
		} else {
			char *colon = memchr(p, ':', l);
			if (colon == NULL || colon == p) {
				errf(e, path, line, "expected 'Header: value' (end the headers with a blank line)");
			} else if (t.nhdr == SG_TMPL_HEADERS) {
				errf(e, path, line, "too many headers");
			} else {
				char *hn = sg_xstrndup(p, (size_t)(colon - p));
				char *hv = sg_xstrndup(colon + 1, l - (size_t)(colon + 1 - p));
				char *v = hv;
				while (*v == ' ' || *v == '\t')
					v++;
				for (char *c = hn; *c; c++)
					if (*c <= ' ' || *c >= 127)
						errf(e, path, line, "bad header name '%s'", hn);
				if (strcasecmp(hn, "Subject") == 0)
					has_subject = 1;
				if (strcasecmp(hn, "From") == 0 || strcasecmp(hn, "To") == 0 ||
				    strcasecmp(hn, "Message-ID") == 0)
					errf(e, path, line, "%s is set by supportgate, not by templates", hn);
				check_vars(v, path, line, e);
				t.hname[t.nhdr] = hn;
				t.hvalue[t.nhdr] = sg_xstrdup(v);
				t.nhdr++;
				free(hv);
			}
		}
		line++;
		if (eol == NULL) {
			p += strlen(p);
			break;
		}
		p = eol + 1;
	}
	if (!has_subject)
		errf(e, path, 1, "no Subject header");
	check_vars(p, path, line, e);
	t.body = sg_xstrdup(p);
	t.lang = sg_xstrdup(lang);
	t.name = sg_xstrdup(name);
	t.path = sg_xstrdup(path);
	ts->v = sg_xreallocarray(ts->v, ts->n + 1, sizeof(*ts->v));
	ts->v[ts->n++] = t;
	free(buf);
	return 0;
}

struct sg_templates *
sg_templates_load(const char *dir, struct sg_diag *errs)
{
	struct sg_templates *ts = sg_xcalloc(1, sizeof(*ts));
	size_t before = errs->n;
	DIR *d = opendir(dir);
	struct dirent *de;
	int langs = 0;

	if (d == NULL) {
		errf(errs, dir, 0, "cannot open template directory: %s", strerror(errno));
		sg_templates_free(&ts);
		return NULL;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strlen(de->d_name) > 16)
			continue;
		char *ld = sg_xasprintf("%s/%s", dir, de->d_name);
		struct stat sb;
		if (stat(ld, &sb) == 0 && S_ISDIR(sb.st_mode)) {
			langs++;
			for (int i = 0; sg_template_names[i] != NULL; i++) {
				char *path = sg_xasprintf("%s/%s.tmpl", ld, sg_template_names[i]);
				if (access(path, F_OK) == 0)
					load_one(ts, de->d_name, sg_template_names[i], path, errs);
				else if (strcmp(de->d_name, "en") == 0)
					errf(errs, path, 0, "missing (every template must exist in en/)");
				free(path);
			}
		}
		free(ld);
	}
	closedir(d);
	if (langs == 0)
		errf(errs, dir, 0, "no language folders (en/, ru/, ...)");
	if (errs->n > before) {
		sg_templates_free(&ts);
		return NULL;
	}
	return ts;
}

void
sg_templates_free(struct sg_templates **tp)
{
	struct sg_templates *ts = *tp;

	if (ts == NULL)
		return;
	*tp = NULL;
	for (size_t i = 0; i < ts->n; i++) {
		struct tmpl *t = &ts->v[i];
		for (size_t h = 0; h < t->nhdr; h++) {
			free(t->hname[h]);
			free(t->hvalue[h]);
		}
		free(t->body);
		free(t->lang);
		free(t->name);
		free(t->path);
	}
	free(ts->v);
	free(ts);
}

static const struct tmpl *
find(const struct sg_templates *ts, const char *lang, const char *name)
{
	for (size_t i = 0; i < ts->n; i++)
		if (strcmp(ts->v[i].name, name) == 0 && lang != NULL && strcmp(ts->v[i].lang, lang) == 0)
			return &ts->v[i];
	return NULL;
}

int
sg_templates_has(const struct sg_templates *ts, const char *lang, const char *name)
{
	return find(ts, lang, name) != NULL;
}

/* Substitute {{var}}; values are inserted as they are. */
static char *
expand(const char *s, const struct sg_template_values *tv)
{
	GString *out = g_string_new(NULL);
	char *r;

	while (*s) {
		const char *open = strstr(s, "{{");
		const char *close = open ? strstr(open + 2, "}}") : NULL;
		if (open == NULL || close == NULL) {
			g_string_append(out, s);
			break;
		}
		g_string_append_len(out, s, open - s);
		char *name = g_strstrip(g_strndup(open + 2, (gsize)(close - open - 2)));
		int cond = name[0] == '?';
		int i = sg_template_var_index(name + cond);
		int empty = i < 0 || tv->v[i] == NULL || tv->v[i][0] == '\0';
		g_free(name);
		s = close + 2;
		if (cond && empty) {
			/* {{?var}}: the whole line goes when var is empty */
			const char *lf = strrchr(out->str, '\n');
			g_string_truncate(out, lf ? (gsize)(lf - out->str) + 1 : 0);
			const char *nl = strchr(s, '\n');
			s = nl ? nl + 1 : s + strlen(s);
		} else if (!cond && !empty) {
			g_string_append(out, tv->v[i]);
		}
	}
	r = sg_xstrdup(out->str);
	g_string_free(out, TRUE);
	return r;
}

/* One line of text for a header: CR, LF, NUL and controls become spaces. */
static char *
one_line(const char *s)
{
	char *r = sg_xstrdup(s);
	for (char *p = r; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return r;
}

char *
sg_template_render(const struct sg_templates *ts, const char *lang, const char *name,
		   const struct sg_template_values *tv, const struct sg_mail_envelope *env, size_t *len)
{
	const struct tmpl *t = find(ts, lang, name);
	GMimeMessage *msg;
	GMimeTextPart *part;
	GMimeFormatOptions *fo;
	char *out, *s;

	if (t == NULL)
		t = find(ts, "en", name);
	if (t == NULL)
		return NULL;
	sg_message_init();
	msg = g_mime_message_new(TRUE);
	s = one_line(env->from_name ? env->from_name : "");
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_FROM, s, env->from_addr);
	free(s);
	s = one_line(env->to_name ? env->to_name : "");
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO, s, env->to_addr);
	free(s);
	g_mime_message_set_message_id(msg, env->message_id);
	GDateTime *now = g_date_time_new_now_utc();
	g_mime_message_set_date(msg, now);
	g_date_time_unref(now);
	if (env->in_reply_to != NULL) {
		char *v = sg_xasprintf("<%s>", env->in_reply_to);
		s = one_line(v);
		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", s, "utf-8");
		free(s);
		free(v);
	}
	if (env->references != NULL) {
		s = one_line(env->references);
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", s, "utf-8");
		free(s);
	}
	if (env->auto_submitted)
		g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted", "auto-replied", "utf-8");
	if (env->loop_header != NULL) {
		s = one_line(env->loop_header);
		g_mime_object_set_header(GMIME_OBJECT(msg), "X-Loop", s, "utf-8");
		free(s);
	}
	for (size_t h = 0; h < t->nhdr; h++) {
		char *v = expand(t->hvalue[h], tv);
		char *line = one_line(v);
		if (strcasecmp(t->hname[h], "Subject") == 0)
			g_mime_message_set_subject(msg, line, "utf-8");
		else
			g_mime_object_set_header(GMIME_OBJECT(msg), t->hname[h], line, "utf-8");
		free(line);
		free(v);
	}
	char *body = expand(t->body, tv);
	gchar *valid = g_utf8_make_valid(body, -1);
	part = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(part, valid);
	g_mime_part_set_content_encoding(GMIME_PART(part),
		g_mime_part_get_best_content_encoding(GMIME_PART(part), GMIME_ENCODING_CONSTRAINT_7BIT));
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));
	g_object_unref(part);
	g_free(valid);
	free(body);

	fo = g_mime_format_options_clone(NULL);
	g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
	s = g_mime_object_to_string(GMIME_OBJECT(msg), fo);
	g_mime_format_options_free(fo);
	g_object_unref(msg);
	out = sg_xstrdup(s);
	g_free(s);
	*len = strlen(out);
	return out;
}
