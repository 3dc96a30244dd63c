#!/bin/bash
# t-repl-2000 — tests/integration/t-repl.sh at the size of issue 15: a
# private Postfix feeds 2,000 support mails to a three-node replication
# group, the master is killed with -9 a third of the way in (make
# check-slow; make check runs the same test with 150 mails).
export SG_REPL_MAILS=${SG_REPL_MAILS:-2000}
exec bash "${top_srcdir:-.}/tests/integration/t-repl.sh"
