#!/bin/bash
# t-durability — an accepted message is on disk, measured rather than
# assumed: no other test notices commits that skip the flush (kill -9
# loses nothing while the OS survives). tests/helpers/sync-count.so,
# LD_PRELOADed into supportgated, counts the calls that flush Berkeley
# DB's log files (fsync, fdatasync, ...) and the log bytes written since
# the last flush; messages go through the milter one at a time
# (tests/milter/send-n.lua), and after each answer the log must be
# flushed to its end (a commit that skips the flush leaves its record
# behind, even when some other transaction flushed before it). Right
# after the last answer the daemon is killed with -9 and the environment's
# region files are removed, as a machine crash loses them (Berkeley DB's
# log buffer lives there: a commit that was not even written is lost with
# it); after recovery every accepted message must be in the store.
#   1. db_sync = true: no unflushed log after any answer, at least one log
#      flush per accepted message, and the store reports its environment
#      without DB_TXN_NOSYNC and DB_TXN_WRITE_NOSYNC;
#   2. the same with a DB_CONFIG in the environment that turns
#      DB_TXN_NOSYNC on: the store turns it off again, and says so;
#   3. the control: db_sync = false flushes far less than once per
#      message, so the measure does see a commit that is not flushed.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
MILTERTEST=${MILTERTEST:-$(command -v miltertest)}
SHIM=${top_builddir:-.}/tests/helpers/sync-count.so
[ -n "$MILTERTEST" ] && [ -x "$MILTERTEST" ] || skip_all "miltertest not installed (Debian package miltertest)"
[ -f "$SHIM" ] || skip_all "tests/helpers/sync-count.so not built (make check builds it)"
# The shim is loaded ahead of the sanitizers' runtime.
[ -n "${SG_SANITIZED:-}" ] && export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
N=20

sg_tmpdir dir
# count FILE KEY: a value of the shim's count file (0 before any)
count() { local v; v=$(sed -n "s/^$2 //p" "$1" 2>/dev/null); echo "${v:-0}"; }

# settle FILE: until FILE has not changed for half a second (at most 10 s)
settle() {
	local i prev=x cur
	for i in $(seq 1 20); do
		cur=$(cat "$1" 2>/dev/null)
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
		sleep 0.5
	done
}

# run_case NAME [CONF-LINE...]: a daemon on a fresh state under the shim,
# N messages through it one by one, kill -9, regions removed; sets accepted, flushes (log
# flushes while the N messages were committed), unflushed_after (answers
# after which the log was not flushed to its end) and stored (tickets in
# the store after the kill, the warm-up message included).
run_case() {
	local name=$1 d=$dir/$1 before r i
	shift
	mkdir -p "$d"
	sg_conf_write "$d/sg.conf" "local:$d/sg.sock" 'log_level = "debug"' "$@"
	[ -n "${dbconfig:-}" ] && mkdir -p "$d/state/db" && printf '%s\n' "$dbconfig" > "$d/state/db/DB_CONFIG"
	export LD_PRELOAD=$SHIM SG_SYNC_COUNT_FILE=$d/syncs
	sg_daemon_start "$d/sg.conf" "$d/daemon.log" || sg_bail "supportgated did not start (the cause is above)"
	unset LD_PRELOAD SG_SYNC_COUNT_FILE
	# start-up work (creating the tables, the worker's first pass) is
	# not counted: one message first, then wait for the counts to settle
	SG_SOCKET="unix:$d/sg.sock" SG_PREFIX="$name-warmup" timeout 30 "$MILTERTEST" \
		-s "$top_srcdir/tests/milter/send-n.lua" >/dev/null 2>&1
	settle "$d/syncs"
	before=$(count "$d/syncs" log)
	accepted=0 unflushed_after=0
	for i in $(seq 1 "$N"); do
		r=$(SG_SOCKET="unix:$d/sg.sock" SG_PREFIX="$name" SG_FIRST=$i timeout 30 "$MILTERTEST" \
			-s "$top_srcdir/tests/milter/send-n.lua" 2>&1)
		[ "$r" = "$i accept" ] && accepted=$((accepted + 1))
		[ "$(count "$d/syncs" unflushed)" -eq 0 ] || unflushed_after=$((unflushed_after + 1))
	done
	flushes=$(( $(count "$d/syncs" log) - before ))
	# at once, nothing in between that could flush for it (the next
	# case has a store of its own); then lose the regions like a crash
	kill -9 "$sg_daemon_pid"
	wait "$sg_daemon_pid" 2>/dev/null
	rm -f "$d/state/db"/__db.0*
	stored=$(timeout 30 "$SG_CLI" -c "$d/sg.conf" tickets --json 2>>"$d/cli.err" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
	diag "$name: $accepted accepted, $flushes log flushes, log left unflushed after $unflushed_after answers," \
		"$stored stored after kill -9"
}

run_case sync 'db_sync = true'
is "$accepted" "$N" "db_sync = true: all $N messages accepted"
is "$unflushed_after" 0 "db_sync = true: the log is flushed to its end before every answer"
is "$stored" "$((accepted + 1))" "db_sync = true: kill -9 right after the last answer, regions lost: nothing lost"
ok "db_sync = true: at least one log flush per accepted message ($flushes)" test "$flushes" -ge "$accepted"
ok "db_sync = true: the environment has neither DB_TXN_NOSYNC nor DB_TXN_WRITE_NOSYNC" \
	grep -q 'commits are flushed to disk' "$dir/sync/daemon.log"

dbconfig='set_flags DB_TXN_NOSYNC' run_case dbconfig 'db_sync = true'
is "$accepted" "$N" "DB_CONFIG with DB_TXN_NOSYNC: all $N messages accepted"
is "$unflushed_after" 0 "DB_CONFIG with DB_TXN_NOSYNC: the log is flushed before every answer"
is "$stored" "$((accepted + 1))" "DB_CONFIG with DB_TXN_NOSYNC: kill -9, regions lost: nothing lost"
ok "DB_CONFIG with DB_TXN_NOSYNC: still one log flush per message ($flushes)" test "$flushes" -ge "$accepted"
ok "... the store turned the flag off and said so" grep -q 'DB_CONFIG turns synchronous commits off' "$dir/dbconfig/daemon.log"

run_case nosync 'db_sync = false'
is "$accepted" "$N" "db_sync = false: all $N messages accepted"
ok "control: db_sync = false flushes far less than once per message ($flushes)" test "$flushes" -lt $((N / 2))
ok "control: ... and leaves the log unflushed after answers ($unflushed_after of $N)" test "$unflushed_after" -gt $((N / 2))
ok "... and the store says its commits are not flushed" grep -q 'written, not flushed' "$dir/nosync/daemon.log"
done_testing
