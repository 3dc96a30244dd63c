#!/bin/sh
# run.sh — build (if needed) and run the benchmarks; figures are ratios
# against baselines measured in the same run. Usage: tests/bench/run.sh [BUILD_DIR]
set -e
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
make -C "$build" tests/bench/bench-store tests/bench/bench-rules tests/bench/bench-outbound tests/bench/bench-metrics \
	tests/bench/bench-sla tests/bench/bench-report >/dev/null
"$build/tests/bench/bench-store" "${SG_BENCH_TICKETS:-100000}"
echo
top_srcdir=$top "$build/tests/bench/bench-rules"
echo
"$build/tests/bench/bench-outbound" "${SG_BENCH_JOBS:-100000}"
echo
"$build/tests/bench/bench-metrics" "${SG_BENCH_TICKETS:-100000}"
echo
bash "$top/tests/bench/bench-door.sh" "$build" "${SG_BENCH_DOOR_MAILS:-200}" 3
echo
top_srcdir=$top "$build/tests/bench/bench-sla" "${SG_BENCH_TICKETS:-100000}"
echo
# the report against reading the tickets table alone (1000000: "in seconds")
"$build/tests/bench/bench-report" "${SG_BENCH_REPORT_TICKETS:-1000000}"
echo
# the ingest core without an MTA, 8 threads, against a bare synced-commit loop and GMime alone
top_srcdir=$top "$build/tests/bench/bench-ingest" "${SG_BENCH_INGEST_MAILS:-4000}" 8
