/*
 * report-fill — write the report fixture (tests/unit/report-fixture.h)
 * into the store of a config, for tests/integration/t-report.sh.
 * Usage: report-fill CONFIG. Exit 0, or 1 with a message.
 */
#include "config.h"

#include "lib/log.h"
#include "tests/unit/fixture.h"
#include "tests/unit/report-fixture.h"

int
main(int argc, char **argv)
{
	struct sg_diag errs = { 0 };

	sg_log_open_stderr("report-fill");
	sg_log_set_level(SG_LOG_ERROR);
	if (argc != 2) {
		fprintf(stderr, "usage: report-fill CONFIG\n");
		return 1;
	}
	conf = sg_conf_load(argv[1], &errs);
	if (conf == NULL) {
		sg_diag_print(&errs, stderr);
		sg_diag_clear(&errs);
		return 1;
	}
	if (open_store() != 0) {
		fprintf(stderr, "report-fill: cannot open the store\n");
		return 1;
	}
	fill_store();
	close_fixture();
	return 0;
}
