/*
 * fuzz-import — one line of `supportgate db import`: jansson's parser,
 * the kinds and their keys, base64 (GLib), strings and lists within the
 * record limits, and the record encoders (store/record.c), through
 * sg_db_line_parse() (tools/cli-db-import.h): the import's own code,
 * compiled from tools/cli-db-export.c, without a store.
 *
 * The input is one line (bytes after a newline are cut, as the import
 * reads lines). Invariants (abort() when one breaks):
 *  - a line that fails says why (a NUL-terminated, non-empty message)
 *    and leaves no record; a record line that imports names a table and
 *    key (a "seq" line: none);
 *  - the file's round-trip rule: the record a line imports is exported
 *    (sg_db_rec_export(), the export's own writer with its read-back
 *    check), that line imports to the very same table, key and bytes,
 *    and exports to itself again (the export is a fixed point: a line
 *    in the export's form reads back to itself).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"
#include "tools/cli-db-import.h"

#define SG_FUZZ_SEEDS "tests/fuzz/seeds-import tests/fuzz/crashes-import"
#include "replay.h"

/* cli-db-export.c's commands need the CLI's config and store; the
 * functions fuzzed here never call them. */
struct sg_conf *
sg_cli_conf(void)
{
	abort();
}

struct sg_store *
sg_cli_store(const struct sg_conf *c)
{
	(void)c;
	abort();
}

int
sg_cli_usage(const char *name, int rc)
{
	(void)name;
	(void)rc;
	abort();
}

static int
same(const struct sg_db_rec *a, const struct sg_db_rec *b)
{
	return a->table == b->table && a->klen == b->klen && a->vlen == b->vlen &&
	       memcmp(a->key, b->key, a->klen) == 0 && memcmp(a->val, b->val, a->vlen) == 0;
}

int
LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct sg_db_rec r, r2;
	char err[256];
	const unsigned char *nl = memchr(data, '\n', size);
	size_t len = nl != NULL ? (size_t)(nl - data) : size;

	memset(err, 0x5a, sizeof(err));
	if (sg_db_line_parse((const char *)data, len, &r, err, sizeof(err)) != 0) {
		if (r.key != NULL || r.val != NULL || memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0')
			abort();
		return 0;
	}
	if (r.table < 0) {   /* a seq line */
		if (r.key != NULL)
			abort();
		return 0;
	}
	if (r.key == NULL || r.val == NULL)
		abort();
	char *line = sg_db_rec_export(&r);
	if (line == NULL)
		abort();   /* imported, but the export refuses the record */
	if (sg_db_line_parse(line, strlen(line), &r2, err, sizeof(err)) != 0 || !same(&r, &r2))
		abort();   /* the exported line does not give the same record */
	char *again = sg_db_rec_export(&r2);
	if (again == NULL || strcmp(again, line) != 0)
		abort();
	sg_db_rec_clear(&r);
	sg_db_rec_clear(&r2);
	free(line);
	free(again);
	return 0;
}
