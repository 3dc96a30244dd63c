#!/bin/bash
# t-failchk — a process that dies inside the store stalls nobody, while
# supportgated runs on it (every wait below has a hard timeout):
#   1. a writer killed -9 while holding locks, left a zombie (its parent
#      does not reap it): `supportgate tickets` finishes and lists what
#      was committed, and the daemon tickets mail again without a restart
#      (it reopens the environment the next process recovered);
#   2. writers killed at random moments (inside a commit, a log write, a
#      mutex): the same, every round;
#   3. a process stuck in the middle of its own open (it holds the
#      registry lock): opening gives up with a message naming
#      `supportgate db recover` instead of hanging;
#   4. `db recover` refuses while the daemon uses the store (naming its
#      pid) and works once it is stopped; the store verifies, and every
#      message the milter accepted is in it exactly once.
# tests/helpers/store-hold is the writer; tests/milter/send-n.lua the MTA.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
MILTERTEST=${MILTERTEST:-$(command -v miltertest)}
HOLD=${top_builddir:-.}/tests/helpers/store-hold
[ -n "$MILTERTEST" ] && [ -x "$MILTERTEST" ] || skip_all "miltertest not installed (Debian package miltertest)"
[ -x "$HOLD" ] || skip_all "tests/helpers/store-hold not built (make check builds it)"
ROUNDS=${SG_FAILCHK_ROUNDS:-3}

sg_tmpdir dir
sg_conf_write "$dir/sg.conf" "local:$dir/sg.sock"
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"
state=$dir/state
cli() { timeout 30 "$SG_CLI" -c "$dir/sg.conf" "$@"; }
# send PREFIX N: message N of PREFIX through the milter; like an MTA,
# retry a tempfail (the answer while the daemon reopens) a few times.
send() {
	local i r
	for i in 1 2 3 4 5; do
		r=$(SG_SOCKET="unix:$dir/sg.sock" SG_PREFIX=$1 SG_FIRST=$2 timeout 30 "$MILTERTEST" \
			-s "$top_srcdir/tests/milter/send-n.lua" 2>&1)
		echo "$r" >> "$dir/send.log"
		case $r in *" accept") return 0 ;; esac
		sleep 1
	done
	return 1
}
subjects() { cli tickets --json | python3 -c 'import json,sys; print("\n".join(t["subject"] or "" for t in json.load(sys.stdin)))'; }
# A timed command that must finish: its exit status, 124 on timeout.
timed() { local s=$1; shift; timeout "$s" "$@" >"$dir/timed.out" 2>&1; }

ok "before: the daemon tickets mail" send before 1

# --- 1. a writer dies holding locks and stays a zombie
sh -c "\"$HOLD\" \"$state\" hold > \"$dir/hold.out\" 2>&1 & echo \$! > \"$dir/hold.pid\"; exec sleep 300" &
keeper=$!
sg_at_exit "kill $keeper 2>/dev/null"
sg_wait_for "grep -q holding $dir/hold.out" 10 || sg_show_log "store-hold did not start" "$dir/hold.out"
hold_pid=$(cat "$dir/hold.pid")
kill -9 "$hold_pid"
sg_wait_for "grep -q '^State:.*Z' /proc/$hold_pid/status" 5
ok "the writer died holding locks and is a zombie (nobody reaped it)" grep -q '^State:.*Z' "/proc/$hold_pid/status"
timed 30 "$SG_CLI" -c "$dir/sg.conf" tickets --json
is "$?" 0 "supportgate tickets finishes within 30 s"
is "$(subjects | grep -c .)" 1 "it lists the committed ticket, not the dead writer's"
ok "the daemon tickets mail again, without a restart" send after-zombie 1
ok "the daemon is still the same process" kill -0 "$sg_daemon_pid"
kill "$keeper" 2>/dev/null
wait "$keeper" 2>/dev/null

# --- 2. writers killed at random moments
stuck=0 lost=0
for round in $(seq 1 "$ROUNDS"); do
	"$HOLD" "$state" loop > "$dir/loop.out" 2>&1 &
	writer=$!
	sleep "0.$((RANDOM % 8 + 1))"
	kill -9 "$writer"
	wait "$writer" 2>/dev/null
	timed 30 "$SG_CLI" -c "$dir/sg.conf" tickets || stuck=$((stuck + 1))
	send "round$round" 1 || lost=$((lost + 1))
done
diag "$ROUNDS writers killed at random moments"
is "$stuck" 0 "supportgate tickets finished every round"
is "$lost" 0 "the daemon ticketed the message sent after every round"

# --- 3. a process stuck while opening: give up, do not hang
"$HOLD" "$state" wedge > "$dir/wedge.out" 2>&1 &
wedge=$!
sg_at_exit "kill $wedge 2>/dev/null"
sg_wait_for "grep -q wedged $dir/wedge.out" 10
timed 30 env SG_STORE_OPEN_TIMEOUT=2 "$SG_CLI" -c "$dir/sg.conf" tickets
rc=$?
ok "a wedged environment: the CLI gives up (no hang), failing" test "$rc" -ne 0 -a "$rc" -ne 124
ok "... with a message naming supportgate db recover" grep -q 'supportgate db recover' "$dir/timed.out"
kill "$wedge"
wait "$wedge" 2>/dev/null

# --- 4. recover only when alone; then everything is there once
timed 30 "$SG_CLI" -c "$dir/sg.conf" db recover
ok "db recover refuses while the daemon runs" test $? -ne 0
ok "... naming the daemon's pid" grep -q "pid $sg_daemon_pid" "$dir/timed.out"
sg_daemon_stop
timed 60 "$SG_CLI" -c "$dir/sg.conf" db recover
is "$?" 0 "db recover works once the daemon is stopped"
timed 60 "$SG_CLI" -c "$dir/sg.conf" db verify
is "$?" 0 "the store verifies"
want=$( (echo "before 1"; echo "after-zombie 1"; for r in $(seq 1 "$ROUNDS"); do echo "round$r 1"; done) | sort)
is "$(subjects | grep -v '^held$' | sort)" "$want" "every message the milter accepted is in the store exactly once"
dups=$(cli tickets --json | python3 -c 'import json,sys; ids=[t["id"] for t in json.load(sys.stdin)]; print(len(ids)-len(set(ids)))')
is "$dups" 0 "no ticket id is used twice"
done_testing
