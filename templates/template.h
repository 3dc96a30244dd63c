/*
 * template — message templates: loading, checking and rendering.
 *
 * A template file (template_dir/LANG/NAME.tmpl) holds header lines, a
 * blank line, and a UTF-8 text body; '#' lines before the headers are
 * comments. {{variable}} may appear in header values and the body.
 * Subject is required. A line holding {{?variable}} is left out when
 * that variable is empty (the marker itself prints nothing): "{{?due}}We
 * aim to answer by {{due}}.". Every variable must be one of sg_template_vars;
 * anything else is a load-time error "file:line: unknown variable".
 *
 * Rendering is safe by construction: values are inserted as text, the
 * headers are built by GMime (RFC 2047 for non-ASCII, CR/LF/NUL removed
 * first), the body becomes a text/plain UTF-8 MIME part with the encoding
 * GMime picks (7bit, quoted-printable or base64).
 *
 * sg_templates_load() reads every language folder under dir; errors go to
 * errs (lib/diag.h) as "file:line: message" and make the result NULL. The set
 * is immutable and shared read-only; free with sg_templates_free().
 */
#ifndef SG_TEMPLATE_H
#define SG_TEMPLATE_H

#include <stddef.h>

#include "lib/diag.h"

struct sg_templates;

/* Names of the shipped templates (each language must have all of them). */
extern const char *const sg_template_names[];
/* Names of the variables templates may use ({{name}}). */
extern const char *const sg_template_vars[];

/* The variables, indexed like sg_template_vars: code names them by
 * constant, so a misspelt variable is a compile error, never a blank. */
enum sg_tvar {
	SG_TV_TOKEN,
	SG_TV_ID,
	SG_TV_SUBJECT,
	SG_TV_STATUS,
	SG_TV_QUEUE,
	SG_TV_PRIORITY,
	SG_TV_DUE,
	SG_TV_AGENT_NAME,
	SG_TV_CUSTOMER_NAME,
	SG_TV_CUSTOMER_ADDRESS,
	SG_TV_EXCERPT,
	SG_TV_STATUS_URL,
	SG_TV_SUPPORT_ADDRESS,
	SG_TV_SUPPORT_NAME,
	SG_TV_ERROR,
	SG_TV_CREATED,
	SG_TV_HISTORY,
	SG_TV_COUNT
};

struct sg_template_values {
	const char *v[SG_TV_COUNT];   /* NULL = "" */
};

/* Index of a variable name, or -1. */
int sg_template_var_index(const char *name);
/* Set variable var to value (not copied: it must outlive the render). */
void sg_template_set(struct sg_template_values *tv, enum sg_tvar var, const char *value);

struct sg_templates *sg_templates_load(const char *dir, struct sg_diag *errs);
void sg_templates_free(struct sg_templates **t);
/* Is there a template NAME in language lang? */
int sg_templates_has(const struct sg_templates *t, const char *lang, const char *name);

/* Headers of the mail to build, besides what the template gives. */
struct sg_mail_envelope {
	const char *from_name;      /* display name, UTF-8, may be NULL */
	const char *from_addr;
	const char *to_name;
	const char *to_addr;
	const char *message_id;     /* without <> */
	const char *in_reply_to;    /* without <>, or NULL */
	const char *references;     /* "<a> <b>" already formatted, or NULL */
	const char *loop_header;    /* value of X-Loop, or NULL */
	int auto_submitted;         /* add Auto-Submitted: auto-replied */
};

/* Render NAME in lang (falling back to "en") into a complete RFC 5322
 * message with CRLF line ends. Returns a new string (caller frees) and
 * its length, or NULL when the template does not exist. */
char *sg_template_render(const struct sg_templates *t, const char *lang, const char *name,
			 const struct sg_template_values *tv, const struct sg_mail_envelope *env,
			 size_t *len);

#endif
