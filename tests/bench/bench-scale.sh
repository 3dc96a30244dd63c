#!/bin/bash
# bench-scale.sh — `make bench-scale`: tests/bench/bench-scale at 10k, 100k
# and SG_SCALE_TICKETS (default 1,000,000) tickets (3 messages of about
# 1 KB raw each per ticket: a 1M store takes about 2.9 GB of disk, a
# third of it raw.db (messages compressed, store/rawpack.h); the backup
# as much again, the export 6.3 GB (the messages as they are); the run
# needs about 15 GB free in SG_SCALE_DIR, default /var/tmp, and about
# 6 minutes on 2 cores, most of it the fill and db export), then on the
# largest store: the daemon's memory (supportgated started on it, mail
# fed through its milter with miltertest and through `supportgate
# ingest`; VmRSS and VmHWM from /proc), and the times of `supportgate db
# verify`, `db backup` and `db export`. Everything is written in one temp dir, deleted at the end.
# Usage: tests/bench/bench-scale.sh [BUILD_DIR]
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
max=${SG_SCALE_TICKETS:-1000000}
mails=${SG_SCALE_MAILS:-200}
tmp=$(mktemp -d "${SG_SCALE_DIR:-/var/tmp}/sg-scale.XXXXXX") || exit 1
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && sleep 1
	rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

cat >"$tmp/t.rules" <<'R'
agent anna@example.com groups=billing
queue billing mailbox=billing@example.com agents=anna@example.com manager=lead@example.com
sla gold first-response=1h resolution=10h
R
{
	echo "socket = \"local:$tmp/sg.sock\""
	[ "$(id -u)" -eq 0 ] && echo 'user = "root"'
	echo "state_dir = \"$tmp/state\""
	echo "pid_file = \"$tmp/supportgated.pid\""
	echo 'support_address = {"support@example.com"}'
	echo 'ticket_tag = "ACME"'
	echo "rules_file = \"$tmp/t.rules\""
	echo "template_dir = \"$top/templates\""
	echo 'smtp_relay = "smtp://127.0.0.1:9"'
} >"$tmp/sg.conf"

"$build/tests/bench/bench-scale" "$tmp" "$max" || exit 1
sg() { "$build/supportgate" -c "$tmp/sg.conf" "$@"; }
secs() {   # secs CMD...: run, print the wall time in seconds
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>"$tmp/cmd.err" || { echo "FAILED: $*"; cat "$tmp/cmd.err"; }
	t1=$(date +%s.%N)
	echo "$t0 $t1" | awk '{ printf "%.1f s", $2 - $1 }'
}

echo
echo "on the $max-ticket store:"
echo "  store: $(du -sm "$tmp/state/db" | cut -f1) MB in state_dir/db (database files, logs, regions)"
mem() {   # mem LABEL: the daemon's VmRSS and VmHWM
	awk -v l="$1" '/^VmRSS|^VmHWM|^RssAnon|^RssFile|^RssShmem/ { v[$1] = $2 } END {
		printf "  daemon %-34s VmRSS %4.0f MB (anon %.0f, file %.0f, shmem %.0f), VmHWM %4.0f MB\n", l,
		       v["VmRSS:"] / 1024, v["RssAnon:"] / 1024, v["RssFile:"] / 1024, v["RssShmem:"] / 1024, v["VmHWM:"] / 1024 }' \
		"/proc/$pid/status"
}
"$build/supportgated" -f -c "$tmp/sg.conf" >>"$tmp/daemon.log" 2>&1 &
pid=$!
for i in $(seq 200); do
	grep -qw ready "$tmp/daemon.log" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -qw ready "$tmp/daemon.log"; then
	echo "  supportgated did not start:"; cat "$tmp/daemon.log"
else
	mem "started"
	if command -v miltertest >/dev/null; then
		SG_SOCKET="local:$tmp/sg.sock" SG_PREFIX=scale SG_COUNT=$mails SG_BODY_KB=1 \
			miltertest -s "$top/tests/milter/send-n.lua" >"$tmp/milter.out" 2>&1
		echo "  milter: $(grep -c ' accept$' "$tmp/milter.out") of $mails new mails accepted"
	else
		echo "  miltertest not found: no mail through the milter"
	fi
	mem "after $mails mails (milter)"
	# follow-ups through the CLI door, to tickets spread over the store
	n=0
	for i in $(seq 1 $((max / 100)) "$max"); do
		printf 'From: c@customer.example\r\nTo: support@example.com\r\nSubject: Re: [ACME #%s] more\r\nMessage-ID: <cli-%s@customer.example>\r\n\r\nand one more thing\r\n' "$i" "$i" |
			sg ingest - >/dev/null 2>>"$tmp/ingest.err" && n=$((n + 1))
	done
	echo "  CLI ingest: $n follow-ups"
	mem "after the CLI follow-ups"
	echo "  the daemon's largest mappings (Rss):"
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = NF >= 6 ? $6 : "[anon]" } /^Rss:/ { r[name] += $2 }
		END { for (n in r) if (r[n] >= 1024) printf "    %6.1f MB  %s\n", r[n] / 1024, n }' "/proc/$pid/smaps" |
		sort -rn | head -8 | sed "s|$tmp|DIR|"
	kill "$pid"
	wait "$pid" 2>/dev/null
	pid=
fi
echo "  db verify: $(secs sg db verify)"
echo "  db backup: $(secs sg db backup "$tmp/backup") ($(du -sm "$tmp/backup" | cut -f1) MB)"
rm -rf -- "$tmp/backup"
echo "  db export: $(secs sg db export "$tmp/export.jsonl") ($(du -sm "$tmp/export.jsonl" | cut -f1) MB)"
exit 0
