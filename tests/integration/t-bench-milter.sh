#!/bin/bash
# t-bench-milter — a smoke run of the milter benchmark (tests/bench/
# bench-milter.sh; `make bench-milter` runs it in full): one round of
# 2 s per target at 4 KB and 2 sessions, a 2 s latency run, the filters
# pinned apart from Postfix when there are two CPUs. Checks that every
# target accepted mail without an error, that the summary has its ratios,
# that the latency line has the daemon's histogram, and that every
# acknowledgement supportgated queued reached the sink.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${top_builddir:=.}"
[ "$(id -u)" -eq 0 ] || skip_all "a private Postfix needs root"
command -v postfix >/dev/null || [ -x /usr/sbin/postfix ] || skip_all "postfix not installed"
command -v python3 >/dev/null || skip_all "python3 not installed"
[ -x "$top_builddir/tests/helpers/noop-milter" ] || skip_all "tests/helpers/noop-milter not built"

sg_tmpdir dir
pin=""
[ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null && pin=0:1
TMPDIR=$dir SG_BENCH_ROUNDS=1 SG_BENCH_DURATION=2 SG_BENCH_SIZES=4096 SG_BENCH_SESSIONS=2 SG_BENCH_LATENCY=2 \
	SG_BENCH_PIN=$pin bash "$top_srcdir/tests/bench/bench-milter.sh" "$top_builddir" >"$dir/out" 2>&1
ok "bench-milter runs to its end" test $? -eq 0 || sed 's/^/# /' "$dir/out"
for t in none noop noopnr sg; do
	ok "$t: mail accepted, no error" grep -qE "^RUN round=1 target=$t size=4096 sessions=2 ok=[1-9][0-9]* err=0 " "$dir/out" ||
		grep -E "^RUN round=1 target=$t |session [0-9]+: " "$dir/out" | sed 's/^/# /'
done
ok "the summary has msg/s and the ratios" grep -qE '^4096 +2 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+$' "$dir/out"
ok "p50/p99 from the client and the daemon's histogram" \
	grep -qE '^LATENCY target=sg size=4096 sessions=2 .*p99=[0-9.]+ms .*daemon histogram \(eom->reply, [1-9][0-9]* obs\): p50<=' "$dir/out"
acks=$(sed -n 's/^sink at end: [0-9]* relayed, \([0-9]*\) acknowledgements (expected \([0-9]*\))$/\1 \2/p' "$dir/out")
read -r got want <<<"$acks"
ok "every acknowledgement reached the sink ($got of ${want:-?})" test -n "$got" -a "${got:-0}" -gt 0 -a "$got" = "$want"
ok "CPU ms per message of supportgated" grep -qE '^cpu: sg [0-9.]+ s for [0-9]+ messages: [0-9.]+ ms/msg$' "$dir/out"
if [ -n "$pin" ]; then
	ok "Postfix and the load on CPU 0, the filters on CPU 1" grep -q '^pinned: Postfix (master [0-9]*) and the load generator on CPUs 0; filters' "$dir/out"
fi
ok "the daemon logged no error" grep -q '^supportgated log: 0 error lines' "$dir/out" ||
	grep -E '^(RUN|LATENCY|supportgated log|sink)' "$dir/out" | sed 's/^/# /'
done_testing
