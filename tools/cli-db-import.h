/*
 * cli-db-import — one line of `supportgate db export`/`db import`
 * (tools/cli-db-export.c) without a store: what the import writes for a
 * line, and the line the export writes for a stored record. The commands
 * run this very code; the fuzz target (tests/fuzz/fuzz-import.c) calls it
 * directly.
 *
 * sg_db_line_parse(line, len, &rec, err, errlen): one record line (any
 *   line after the header) read exactly as the import's checking pass
 *   reads it: JSON, its kind, the kind's keys, bounds and encodings.
 *   Returns 0 with rec filled (rec.table: the table the import writes to,
 *   or -1 for a "seq" line, which stores nothing by itself), or -1 with a
 *   message in err (NUL-terminated, cut to errlen) and rec empty. Writes
 *   nothing, never blocks; the work is bounded by len.
 * sg_db_rec_export(rec): the line `db export` writes for that record (a
 *   new string without the newline; the caller frees), or NULL when the
 *   export refuses it (a corrupt record, or one that would not read back
 *   to the same bytes) or skips it (a sequence in meta.db).
 * sg_db_rec_clear(&rec): frees rec's bytes and empties it (twice is safe).
 */
#ifndef SG_CLI_DB_IMPORT_H
#define SG_CLI_DB_IMPORT_H

#include <stddef.h>

struct sg_db_rec {
	int table;               /* enum sg_table, or -1 */
	unsigned char *key, *val;
	size_t klen, vlen;
};

int sg_db_line_parse(const char *line, size_t len, struct sg_db_rec *rec, char *err, size_t errlen);
char *sg_db_rec_export(const struct sg_db_rec *rec);
void sg_db_rec_clear(struct sg_db_rec *rec);

#endif
