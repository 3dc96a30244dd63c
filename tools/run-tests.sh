#!/bin/sh
# run-tests.sh — the whole test suite on a fresh Debian 12 machine:
#   1. install the Debian packages (as root; otherwise print the apt line)
#   2. autoreconf, configure --enable-werror, make, make check (unit,
#      protocol and integration tests against a private Postfix) in build/
#   3. the same with --enable-sanitizers (ASan + UBSan) in build-asan/
#   4. print one total line: "N passed, N failed, N skipped"
# Logs: build*/test-suite.log and build*/tests/**/*.log. Exit 0 iff all pass.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
jobs=$(nproc 2>/dev/null || echo 2)

sh tools/deps.sh test || exit 1
autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; exit 1; }

status=0
run_suite() {  # dir, configure flags...
	dir=$1; shift
	echo "== $dir: configure $*"
	mkdir -p "$dir" && cd "$dir" || return 1
	if ! ../configure --enable-werror "$@" >configure.out 2>&1; then
		tail -30 configure.out; cd "$top"; return 1
	fi
	if ! make -j"$jobs" >make.out 2>&1; then
		grep -E 'error|warning' make.out | head -40; tail -20 make.out; cd "$top"; return 1
	fi
	make -j"$jobs" check || status=1
	cd "$top"
}

rm -f build/tests/*/*.trs build-asan/tests/*/*.trs 2>/dev/null
run_suite build || status=1
SG_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite build-asan --enable-sanitizers || status=1

# Sum automake's per-test results over both builds.
pass=0 fail=0 skip=0
for trs in $(find build build-asan -name '*.trs' 2>/dev/null); do
	p=$(grep -c '^:test-result: PASS' "$trs"); x=$(grep -c '^:test-result: XFAIL' "$trs")
	f=$(grep -c '^:test-result: FAIL' "$trs"); e=$(grep -c '^:test-result: ERROR' "$trs")
	xp=$(grep -c '^:test-result: XPASS' "$trs"); s=$(grep -c '^:test-result: SKIP' "$trs")
	pass=$((pass + p + x)); fail=$((fail + f + e + xp)); skip=$((skip + s))
done
[ "$fail" -gt 0 ] && status=1
[ "$pass" -eq 0 ] && status=1
# Name each failed test and show the end of its log, so a red run says why
# without the build directories at hand (the names again, last, beside the
# totals).
failed=$(grep -l -E '^:test-result: (FAIL|ERROR|XPASS)' $(find build build-asan -name '*.trs' 2>/dev/null) /dev/null 2>/dev/null)
for trs in $failed; do
	echo "-- last 30 lines of ${trs%.trs}.log"
	tail -30 "${trs%.trs}.log" 2>/dev/null
done
for trs in $failed; do
	echo "failed: ${trs%.trs}"
	grep -E '^(not ok|Bail out!)' "${trs%.trs}.log" 2>/dev/null | head -5 | sed 's/^/  /'
done
for d in build build-asan; do
	[ -f "$d/test-suite.log" ] && grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' "$d/test-suite.log" | tr '\n' ' ' | sed "s|^|$d: |" && echo
done
if [ "$skip" -gt 0 ]; then
	echo "$pass passed, $fail failed, $skip skipped"
else
	echo "$pass passed, $fail failed"
fi
exit $status
