/*
 * supportgate config — print every key of the configuration table with
 * the value in effect (or, with -d, its default), postconf style.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "conf/conf.h"
#include "lib/log.h"

static void
print_value(const void *obj, const struct sg_param *p)
{
	const char *base = (const char *)obj + p->offset;
	char ebuf[32];

	switch (p->type) {
	case SG_PT_STR:
		printf("\"%s\"", *(char *const *)base);
		break;
	case SG_PT_STRLIST: {
		const struct sg_strlist *l = (const struct sg_strlist *)base;
		printf("{");
		for (size_t i = 0; i < l->n; i++)
			printf("%s\"%s\"", i ? ", " : "", l->v[i]);
		printf("}");
		break;
	}
	case SG_PT_INT:
		printf("%ld", *(const long *)base);
		break;
	case SG_PT_BOOL:
		printf("%s", *(const int *)base ? "true" : "false");
		break;
	case SG_PT_SIZE:
		printf("\"%llu\"", (unsigned long long)*(const uint64_t *)base);
		break;
	case SG_PT_ENUM:
		if (strcmp(p->name, "syslog_facility") == 0)
			printf("\"%s\"", *(char *const *)base);
		else if (strcmp(p->name, "log_level") == 0)
			printf("\"%s\"", sg_log_level_name((enum sg_log_level)*(const int *)base));
		else
			printf("\"%s\"", sg_conf_enum_name(p, *(const int *)base, ebuf, sizeof(ebuf)));
		break;
	}
}

int
sg_cmd_config(int argc, char **argv)
{
	int opt, defaults = 0;

	while ((opt = getopt(argc, argv, "d")) != -1) {
		if (opt == 'd')
			defaults = 1;
		else
			return sg_cli_usage("config", 2);
	}
	if (defaults) {
		for (size_t i = 0; i < sg_conf_nparams; i++) {
			const struct sg_param *p = &sg_conf_params[i];
			int quote = p->type != SG_PT_INT && p->type != SG_PT_BOOL && p->type != SG_PT_STRLIST;
			printf("%s = %s%s%s\t# %s\n", p->name, quote ? "\"" : "", p->def, quote ? "\"" : "", p->doc);
		}
		/* the keys of a mailbox NAME { ... } section, as mailbox.KEY */
		for (size_t i = 0; i < sg_conf_mailbox_nparams; i++) {
			const struct sg_param *p = &sg_conf_mailbox_params[i];
			int quote = p->type != SG_PT_INT && p->type != SG_PT_BOOL && p->type != SG_PT_STRLIST;
			printf("mailbox.%s = %s%s%s\t# %s\n", p->name, quote ? "\"" : "", p->def, quote ? "\"" : "",
			       p->doc);
		}
		for (size_t i = 0; i < sg_conf_webhook_nparams; i++) {
			const struct sg_param *p = &sg_conf_webhook_params[i];
			int quote = p->type != SG_PT_INT && p->type != SG_PT_BOOL && p->type != SG_PT_STRLIST;
			printf("webhook.%s = %s%s%s\t# %s\n", p->name, quote ? "\"" : "", p->def, quote ? "\"" : "",
			       p->doc);
		}
		return 0;
	}
	const struct sg_conf *c = sg_cli_conf();
	for (size_t i = 0; i < sg_conf_nparams; i++) {
		printf("%s = ", sg_conf_params[i].name);
		print_value(c, &sg_conf_params[i]);
		printf("\n");
	}
	for (size_t m = 0; m < c->nmailboxes; m++) {
		printf("mailbox %s {\n", c->mailboxes[m].name);
		for (size_t i = 0; i < sg_conf_mailbox_nparams; i++) {
			printf("\t%s = ", sg_conf_mailbox_params[i].name);
			print_value(&c->mailboxes[m], &sg_conf_mailbox_params[i]);
			printf("\n");
		}
		printf("}\n");
	}
	for (size_t w = 0; w < c->nwebhooks; w++) {
		printf("webhook %s {\n", c->webhooks[w].name);
		for (size_t i = 0; i < sg_conf_webhook_nparams; i++) {
			printf("\t%s = ", sg_conf_webhook_params[i].name);
			print_value(&c->webhooks[w], &sg_conf_webhook_params[i]);
			printf("\n");
		}
		printf("}\n");
	}
	return 0;
}
