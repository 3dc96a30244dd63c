#!/bin/sh
# run.sh — run the libFuzzer binaries that `make fuzz` built, one after
# the other, each for a bounded time, and print what each did.
#
# Usage: run.sh FUZZ_TREE [SECONDS] [TARGET...]
#   FUZZ_TREE  the tree configured with --enable-libfuzzer (fuzz-build/)
#   SECONDS    per target (-max_total_time); empty: $FUZZ_SECONDS or 60
#   TARGET     message token record rules template config ingest calendar
#              period import (default: all)
# Environment: top_srcdir (the seeds), FUZZ_ARGS (more libFuzzer options,
# e.g. "-runs=1000000" to stop at a number of executions).
#
# Each target starts from its seeds in the source tree and its corpus
# grown by earlier runs (FUZZ_TREE/corpus/TARGET: only there does
# libFuzzer write). A crash, leak or timeout leaves its input in
# FUZZ_TREE/crashes/TARGET/ and its log in FUZZ_TREE/logs/TARGET.log; the
# script then exits 1 after the other targets have run. One line per
# target: executions, executions per second, coverage (libFuzzer's cov:
# edges and ft: features), corpus size, result.
set -u

tree=${1:?usage: run.sh FUZZ_TREE [SECONDS] [TARGET...]}
shift
secs=${1:-${FUZZ_SECONDS:-60}}
[ $# -gt 0 ] && shift
targets=${*:-message token record rules template config ingest calendar period import}
src=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}

case $secs in
'' | *[!0-9]*) echo "run.sh: SECONDS must be a number, not '$secs'" >&2; exit 2 ;;
esac

# The seeds and options of a target.
target_args() {
	case $1 in
	message) echo "$src/tests/mail $src/tests/mail/quickstart -max_len=65536 -dict=$src/tests/fuzz/mail.dict" ;;
	token) echo "$src/tests/fuzz/seeds-token" ;;
	record) echo "$src/tests/fuzz/seeds-record" ;;
	rules) echo "$src/tests/fuzz/seeds-rules -dict=$src/tests/fuzz/rules.dict" ;;
	template) echo "$src/tests/fuzz/seeds-template" ;;
	config) echo "$src/tests/fuzz/seeds-config -dict=$src/tests/fuzz/config.dict" ;;
	ingest) echo "$src/tests/fuzz/seeds-ingest $src/tests/fuzz/corpus-ingest -max_len=65536 -dict=$src/tests/fuzz/mail.dict" ;;
	calendar) echo "$src/tests/fuzz/seeds-calendar -max_len=8192 -dict=$src/tests/fuzz/calendar.dict" ;;
	period) echo "$src/tests/fuzz/seeds-period -max_len=256" ;;
	import) echo "$src/tests/fuzz/seeds-import -max_len=8192 -dict=$src/tests/fuzz/import.dict" ;;
	*) return 1 ;;
	esac
}

# leaks inside third-party libraries (each one explained in the file)
LSAN_OPTIONS="suppressions=$src/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS

tmp=$tree/tmp
rm -rf "$tmp"
mkdir -p "$tmp" "$tree/logs" || exit 1
failed=0
printf '%-9s %12s %9s %7s %7s %7s  %s\n' target executions exec/s cov ft corpus result
for t in $targets; do
	bin=$tree/tests/fuzz/fuzz-$t
	if ! args=$(target_args "$t"); then
		echo "run.sh: no target '$t'" >&2
		failed=1
		continue
	fi
	if [ ! -x "$bin" ]; then
		echo "run.sh: $bin is missing (make fuzz-bin builds it)" >&2
		failed=1
		continue
	fi
	corpus=$tree/corpus/$t
	crashes=$tree/crashes/$t
	log=$tree/logs/$t.log
	mkdir -p "$corpus" "$crashes"
	# shellcheck disable=SC2086 # args and FUZZ_ARGS are word lists
	TMPDIR=$tmp top_srcdir=$src "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/" ${FUZZ_ARGS:-} "$corpus" $args >"$log" 2>&1
	rc=$?
	# the last status line ("#N DONE cov: ..." or the last "#N ..."), and the stats
	status=$(grep -E '^#[0-9]+' "$log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(printf '%s\n' "$status" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(printf '%s\n' "$status" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	ncorp=$(find "$corpus" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		result=ok
	else
		result="FAILED (exit $rc; see $log, inputs in $crashes/)"
		failed=1
	fi
	printf '%-9s %12s %9s %7s %7s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
		"$ncorp" "$result"
done
rm -rf "$tmp"
exit $failed
