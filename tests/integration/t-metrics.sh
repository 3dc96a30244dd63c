#!/bin/bash
# t-metrics — the daemon's Prometheus text file: known mail through the
# milter (miltertest: new tickets and duplicates), a status change by the
# CLI, then the numbers in metrics_file, its validity by
# `promtool check metrics` (Debian package prometheus), and its atomic
# replacement (no temp file left, rewritten every metrics_interval).
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x "$SG_DAEMON" ] || skip_all "supportgated not built"
MILTERTEST=${MILTERTEST:-$(command -v miltertest)}
[ -n "$MILTERTEST" ] && [ -x "$MILTERTEST" ] || skip_all "miltertest not installed (Debian package miltertest)"

sg_tmpdir dir
mkdir -p "$dir/textfile"
prom=$dir/textfile/supportgate.prom
sg_conf_write "$dir/sg.conf" "local:$dir/sg.sock" "template_dir = \"$top_srcdir/templates\"" \
	"smtp_relay = \"smtp://127.0.0.1:$(sg_free_port)\"" "outbound_retry_min = 3600" \
	"metrics_file = \"$prom\"" "metrics_interval = 1"
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@" 2>>"$dir/cli.log"; }
val() {  # the value of one series, or "none"
	awk -v s="$1" '$1 == s {print $2; f=1} END {if (!f) print "none"}' "$prom"
}
ok "metrics_file and metrics_interval are valid keys" "$SG_DAEMON" -n -c "$dir/sg.conf"
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"
sg_wait_for "test -s $prom" 10
ok "metrics file written at start" test -s "$prom"

# Three new messages, then the first two again (duplicates), through the milter.
export SG_SOCKET="unix:$dir/sg.sock"
send() { SG_PREFIX=mx SG_FIRST=$1 SG_COUNT=$2 "$MILTERTEST" -s "$top_srcdir/tests/milter/send-n.lua" >>"$dir/send.out" 2>&1; }
ok "three messages sent" send 1 3
ok "two sent again" send 1 2
is "$(grep -c ' accept$' "$dir/send.out")" 5 "all five accepted"
cli set 1 status resolved >/dev/null
sleep 2.5
is "$(val 'supportgate_messages_total{door="milter",verdict="new"}')" 3 "messages: milter new 3"
is "$(val 'supportgate_messages_total{door="milter",verdict="duplicate"}')" 2 "messages: milter duplicate 2"
is "$(val 'supportgate_milter_outcomes_total{outcome="accept"}')" 5 "milter outcomes: accept 5"
is "$(val 'supportgate_milter_outcomes_total{outcome="internal_error"}')" 0 "milter outcomes: internal_error 0"
is "$(val 'supportgate_ingest_latency_seconds_count')" 5 "latency histogram: 5 observations"
is "$(val 'supportgate_ingest_latency_seconds_bucket{le="+Inf"}')" 5 "latency histogram: +Inf bucket 5"
is "$(val 'supportgate_acks_sent_total')" 3 "acks sent: 3 (duplicates get none)"
is "$(val 'supportgate_tickets{queue="default",status="new"}')" 2 "tickets gauge: 2 new (from the store)"
is "$(val 'supportgate_tickets{queue="default",status="resolved"}')" 1 "tickets gauge: 1 resolved by the CLI"
is "$(val 'supportgate_outbound_queued{kind="mail"}')" 4 "outbound: 3 acks and the resolution notice waiting (relay down)"
age=$(val 'supportgate_outbound_oldest_age_seconds{kind="mail"}')
ok "outbound: the oldest job's age ($age s)" test "$age" -ge 0 -a "$age" -lt 120
is "$(val 'supportgate_outbound_dead_letters{kind="mail"}')" 0 "no dead letters"
ok "no temp file left beside it" test -z "$(ls "$dir/textfile" | grep -v '^supportgate.prom$')"
m1=$(stat -c %Y.%i "$prom"); sleep 2.2; m2=$(stat -c %Y.%i "$prom")
ok "rewritten every interval (a new file renamed over it)" test "$m1" != "$m2"

if command -v promtool >/dev/null 2>&1; then
	out=$(promtool check metrics < "$prom" 2>&1)
	is "$?:$out" "0:" "promtool check metrics: valid, no lint warnings"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
else
	skip 1 "promtool not installed (Debian package prometheus)"
fi
done_testing
