#!/bin/bash
# bench-milter — Postfix without a milter, with the do-nothing libmilter
# filter (tests/helpers/noop-milter) and with supportgated, measured
# interleaved in one run: one private Postfix on 127.0.0.1 with four
# smtpd ports (none / noop / noopnr / sg, each its own smtpd_milters), all relaying
# to the sink of tests/bench/smtp-load.py, which also drives the SMTP
# sessions (1, 4, 20) at 4 KB and 64 KB with the mix 60% new tickets, 30%
# replies by References, 10% by subject token. supportgated's outbound
# worker delivers the acknowledgements to the same sink during the run.
# A second do-nothing filter, noopnr, negotiates the same no-reply steps
# as supportgated (SMFIP_NR_*: the MTA streams the headers and the body
# without waiting for a reply to each), so sg/noopnr compares like with
# like; noop answers every step (libmilter's default).
# Prints msg/s per run and, per size and session count, the medians and
# the ratios supportgated/noop, supportgated/no-milter and
# supportgated/noopnr; then, per size and session count, p50/p99 at
# half the rate supportgated reached there (client end-of-DATA timings and the
# daemon's histogram from its metrics file).
#
# Usage: make bench-milter     (from the build directory; root, postfix)
#    or: tests/bench/bench-milter.sh BUILD_DIR
# Environment: SG_BENCH_ROUNDS (3), SG_BENCH_DURATION (8 s per run),
#   SG_BENCH_SIZES (4096,65536), SG_BENCH_SESSIONS (1,4,20),
#   SG_BENCH_LATENCY (20 s per latency run; 0: none),
#   SG_BENCH_LATENCY_RATE (msg/s offered in the latency runs instead of
#   half the best: a before/after of two builds at the same load),
#   SG_BENCH_CONF_EXTRA (more lines for supportgate.conf),
#   SG_BENCH_DBCONFIG (DB_CONFIG lines for supportgated's environment),
#   SG_BENCH_TARGETS ("none noop noopnr sg"; a subset to measure less),
#   SG_BENCH_BODY (mixed: text/plain under 16 KB, from 16 KB on 1.5 KB of
#   text and a base64 attachment, as support mail of that size mostly is;
#   line: every size one line repeated, the body of the runs before
#   2026-12-02, for comparing with them),
#   More supportgated daemons, V = B .. G ("sgB"..., each its own state
#   and port, interleaved with the others: before/after of a setting in one
#   run) when any of SG_BENCH_V_DAEMON (another build's supportgated),
#   SG_BENCH_V_CONF (supportgate.conf lines), SG_BENCH_V_DBCONFIG
#   (DB_CONFIG lines for its Berkeley DB environment, e.g.
#   "set_lg_bsize 4194304") is set; the summary adds sgV/sg.
#   SG_BENCH_PIN=MTA_CPUS:FILTER_CPUS (e.g. 0:1): Postfix and the load
#   generator run on the first CPU list, the filters (noop, noopnr and
#   every supportgated) on the second, as on a machine where the filter
#   does not share the MTA's cores (taskset; the summary says so).
#   SG_BENCH_PERF=SECONDS (after the rest: perf record -g on supportgated
#   during a 20-session run of that length, mails of SG_BENCH_PERF_SIZE
#   bytes (65536); the profile by library and the top symbols are printed).
# Everything runs in a temp dir removed at exit (SG_KEEP_TMP=1 keeps it);
# the servers are stopped by pid.
set -u
build=$(cd "${1:?usage: bench-milter.sh BUILD_DIR}" && pwd)
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
SG_TAP=0
. "$top_srcdir/tests/integration/lib.sh"
[ "$(id -u)" -eq 0 ] || { echo "bench-milter: a private Postfix needs root" >&2; exit 77; }
command -v postfix >/dev/null || [ -x /usr/sbin/postfix ] || { echo "bench-milter: postfix not installed" >&2; exit 77; }
PATH=$PATH:/usr/sbin
for b in supportgated tests/helpers/noop-milter; do
	[ -x "$build/$b" ] || { echo "bench-milter: $build/$b missing (make bench-milter builds it)" >&2; exit 1; }
done

sg_tmpdir dir
pnone=$(sg_free_port) pnoop=$(sg_free_port) psg=$(sg_free_port) psink=$(sg_free_port)
mnoop=$(sg_free_port) msg=$(sg_free_port) pnoopnr=$(sg_free_port) mnoopnr=$(sg_free_port)

# the do-nothing filter
"$build/tests/helpers/noop-milter" -p "inet:$mnoop@127.0.0.1" -P "$dir/noop.pid" 2>"$dir/noop.log" &
noop_pid=$!
sg_at_exit "kill $noop_pid 2>/dev/null; wait $noop_pid 2>/dev/null"
sg_wait_for "_sg_port_open $mnoop" 10 || { sg_show_log "noop-milter did not start" "$dir/noop.log"; exit 1; }
"$build/tests/helpers/noop-milter" -n -p "inet:$mnoopnr@127.0.0.1" -P "$dir/noopnr.pid" 2>"$dir/noopnr.log" &
noopnr_pid=$!
sg_at_exit "kill $noopnr_pid 2>/dev/null; wait $noopnr_pid 2>/dev/null"
sg_wait_for "_sg_port_open $mnoopnr" 10 || { sg_show_log "noop-milter -n did not start" "$dir/noopnr.log"; exit 1; }

# supportgated: the quick start's configuration, its acknowledgements to the sink
conf=$dir/supportgate.conf
# shellcheck disable=SC2086
sg_conf_write "$conf" "inet:$msg@127.0.0.1" \
	"template_dir = \"$top_srcdir/templates\"" \
	"rules_file = \"$top_srcdir/rules/examples/supportgate.rules\"" \
	"smtp_relay = \"smtp://127.0.0.1:$psink\"" \
	'outbound_retry_min = 2' \
	'ack_limit_global = 1000000' \
	"metrics_file = \"$dir/metrics.prom\"" \
	'metrics_interval = 1' \
	${SG_BENCH_CONF_EXTRA:+"$SG_BENCH_CONF_EXTRA"} || exit 1
if [ -n "${SG_BENCH_DBCONFIG:-}" ]; then
	mkdir -p "$dir/state/db" && printf '%s\n' "$SG_BENCH_DBCONFIG" > "$dir/state/db/DB_CONFIG"
fi
SG_DAEMON=$build/supportgated sg_daemon_start "$conf" "$dir/supportgated.log" || exit 1
echo "supportgated pid $sg_daemon_pid (state $dir/state)"

# more daemons, for a before/after in one run: sgB, sgC, ...
variants=()
for v in B C D E F G; do
	eval "vd=\${SG_BENCH_${v}_DAEMON:-} vc=\${SG_BENCH_${v}_CONF:-} vdb=\${SG_BENCH_${v}_DBCONFIG:-}"
	[ -n "$vd$vc$vdb" ] || continue
	vm=$(sg_free_port) vp=$(sg_free_port)
	mkdir -p "$dir/$v/state/db"
	[ -n "$vdb" ] && printf '%s\n' "$vdb" > "$dir/$v/state/db/DB_CONFIG"
	# shellcheck disable=SC2086
	sg_conf_write "$dir/$v/supportgate.conf" "inet:$vm@127.0.0.1" \
		"template_dir = \"$top_srcdir/templates\"" \
		"rules_file = \"$top_srcdir/rules/examples/supportgate.rules\"" \
		"smtp_relay = \"smtp://127.0.0.1:$psink\"" \
		'outbound_retry_min = 2' \
		'ack_limit_global = 1000000' \
		${vc:+"$vc"} || exit 1
	"${vd:-$build/supportgated}" -f -c "$dir/$v/supportgate.conf" >>"$dir/$v/supportgated.log" 2>&1 &
	vpid=$!
	sg_at_exit "kill $vpid 2>/dev/null; wait $vpid 2>/dev/null"
	sg_wait_for "grep -qw ready $dir/$v/supportgated.log" 20 || { sg_show_log "supportgated $v" "$dir/$v/supportgated.log"; exit 1; }
	echo "supportgated $v pid $vpid: ${vd:-same binary}; conf: ${vc:-same}; DB_CONFIG: ${vdb:-none}"
	variants+=("$v:$vm:$vp:$vpid")
done

# one Postfix, four smtpd ports
pf=$dir/postfix
sg_postfix_start "$pf" "$pnone" "$psink" "" || exit 1
root=$(_sg_postfix_root "$pf")
postconf -c "$root/etc" -Me \
	"127.0.0.1:$pnoop/inet=127.0.0.1:$pnoop inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$mnoop" \
	"127.0.0.1:$pnoopnr/inet=127.0.0.1:$pnoopnr inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$mnoopnr" \
	"127.0.0.1:$psg/inet=127.0.0.1:$psg inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$msg" ||
	exit 1
for x in "${variants[@]}"; do
	IFS=: read -r v vm vp vpid <<<"$x"
	postconf -c "$root/etc" -Me "127.0.0.1:$vp/inet=127.0.0.1:$vp inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$vm" ||
		exit 1
done
postfix -c "$root/etc" reload >/dev/null 2>&1 || exit 1
sg_wait_for "_sg_port_open $pnoop && _sg_port_open $psg" 15 || { sg_show_log "postfix" "$root/maillog"; exit 1; }
echo "postfix: none=$pnone noop=$pnoop noopnr=$pnoopnr sg=$psg, relaying to the sink on $psink"

# CPU pinning: the filters apart from Postfix and the load generator
pin_mta=() pin=${SG_BENCH_PIN:-}
if [ -n "$pin" ]; then
	command -v taskset >/dev/null || { echo "bench-milter: SG_BENCH_PIN needs taskset (util-linux)" >&2; exit 1; }
	mcpus=${pin%%:*} fcpus=${pin#*:}
	[ -n "$mcpus" ] && [ -n "$fcpus" ] && [ "$mcpus" != "$pin" ] ||
		{ echo "bench-milter: SG_BENCH_PIN=MTA_CPUS:FILTER_CPUS, e.g. 0:1" >&2; exit 1; }
	fpids="$noop_pid $noopnr_pid $sg_daemon_pid"
	for x in "${variants[@]}"; do fpids="$fpids ${x##*:}"; done
	for p in $fpids; do
		taskset -a -cp "$fcpus" "$p" >/dev/null || { echo "bench-milter: taskset $fcpus on pid $p failed" >&2; exit 1; }
	done
	# Postfix's master and what runs under it now; what it starts later inherits
	mpids=$(sg_postfix_pid "$pf")
	todo=$mpids
	while [ -n "$todo" ]; do
		kids=$(for p in $todo; do pgrep -P "$p"; done)
		mpids="$mpids $kids" todo=$kids
	done
	for p in $mpids; do taskset -a -cp "$mcpus" "$p" >/dev/null 2>&1; done
	pin_mta=(taskset -c "$mcpus")
	echo "pinned: Postfix (master $(sg_postfix_pid "$pf")) and the load generator on CPUs $mcpus; filters ($fpids) on CPUs $fcpus"
fi

lat=${SG_BENCH_LATENCY:-20}
latargs=()
case " ${SG_BENCH_TARGETS:-none noop noopnr sg} " in *" sg "*) ;; *) lat=0 ;; esac
[ "$lat" != 0 ] && latargs=(--latency-target sg --latency-duration "$lat" --metrics "$dir/metrics.prom"
	${SG_BENCH_LATENCY_RATE:+--latency-rate "$SG_BENCH_LATENCY_RATE"})
targs=()
for t in ${SG_BENCH_TARGETS:-none noop noopnr sg}; do
	case $t in
	none) targs+=(--target "none=$pnone") ;;
	noop) targs+=(--target "noop=$pnoop") ;;
	noopnr) targs+=(--target "noopnr=$pnoopnr") ;;
	sg) targs+=(--target "sg=$psg") ;;
	esac
done
for x in "${variants[@]}"; do
	IFS=: read -r v vm vp vpid <<<"$x"
	targs+=(--target "sg$v=$vp")
done
"${pin_mta[@]}" python3 "$top_srcdir/tests/bench/smtp-load.py" --sink-port "$psink" "${targs[@]}" \
	--sizes "${SG_BENCH_SIZES:-4096,65536}" --sessions "${SG_BENCH_SESSIONS:-1,4,20}" \
	--rounds "${SG_BENCH_ROUNDS:-3}" --duration "${SG_BENCH_DURATION:-8}" \
	--queue-dir "$root/queue" --body "${SG_BENCH_BODY:-mixed}" "${latargs[@]}" | tee "$dir/load.out"
rc=${PIPESTATUS[0]}
# CPU per accepted message of each filter process (user+system, warm-up
# and latency runs included): steadier than msg/s on a shared machine
cpu_ms() {  # PID NAME
	local ticks n
	ticks=$(awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null)
	n=$(sed -n "s/^TOTAL target=$2 accepted=//p" "$dir/load.out")
	[ -n "$ticks" ] && [ "${n:-0}" -gt 0 ] &&
		awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="$n" -v w="$2" \
			'BEGIN { printf "cpu: %s %.1f s for %d messages: %.2f ms/msg\n", w, t / hz, n, 1000 * t / hz / n }'
}
cpu_ms "$noop_pid" noop
cpu_ms "$noopnr_pid" noopnr
cpu_ms "$sg_daemon_pid" sg
for x in "${variants[@]}"; do
	IFS=: read -r v vm vp vpid <<<"$x"
	cpu_ms "$vpid" "sg$v"
done
if [ -n "${SG_BENCH_PERF:-}" ] && command -v perf >/dev/null; then
	perf record -g -p "$sg_daemon_pid" -o "$dir/perf.data" -- sleep "$SG_BENCH_PERF" >"$dir/perf.log" 2>&1 &
	perf_pid=$!
	"${pin_mta[@]}" python3 "$top_srcdir/tests/bench/smtp-load.py" --sink-port "$psink" --target "sg=$psg" --sizes "${SG_BENCH_PERF_SIZE:-65536}" \
		--body "${SG_BENCH_BODY:-mixed}" --sessions 20 --rounds 1 --duration "$SG_BENCH_PERF" --warmup 0 --queue-dir "$root/queue" | grep '^RUN'
	wait "$perf_pid"
	echo "perf: supportgated by library (children excluded)"
	perf report -i "$dir/perf.data" --stdio --no-children --sort dso 2>/dev/null | grep -E '^ +[0-9]' | head -15
	echo "perf: top symbols"
	perf report -i "$dir/perf.data" --stdio --no-children --sort dso,sym -g none 2>/dev/null |
		grep -E '^ +[0-9]' | head -40
fi
grep -E '^supportgate_messages_total\{door="milter"' "$dir/metrics.prom" | awk '$NF != "0"' | sed 's/^/metrics: /'
n_err=$(grep -c ': error: ' "$dir/supportgated.log")
echo "supportgated log: $n_err error lines; state $(du -sh "$dir/state" | cut -f1)"
grep ': error: ' "$dir/supportgated.log" | head -5 | sed 's/^/supportgated log: /'
exit $rc
