#!/bin/bash
# t-diskfull — the state directory fills up while mail flows (a small
# tmpfs mounted inside the test's temp dir: root only; skipped when the
# mount is not allowed). Through the milter (tests/milter/send-n.lua):
#   - the daemon survives a full disk (Berkeley DB's regions are mmap'd:
#     a page without a block behind it used to be SIGBUS);
#   - every message is answered accept (stored) or tempfail (on_store_error:
#     the MTA keeps it), never accepted unstored, never rejected;
#   - nothing half-written: no ticket id twice, every accepted message in
#     the store exactly once, `supportgate db verify` clean;
#   - space returns (the filler is deleted): the next messages are accepted
#     and ticketed by the same daemon, without a restart; the tempfailed
#     ones, sent again as the MTA would, are accepted, each ticketed once.
# Bodies are random letters: compressed (the store keeps messages so) they
# still need the pages that fill the disk.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
MILTERTEST=${MILTERTEST:-$(command -v miltertest)}
[ -n "$MILTERTEST" ] && [ -x "$MILTERTEST" ] || skip_all "miltertest not installed (Debian package miltertest)"
[ "$(id -u)" -eq 0 ] || skip_all "mounting a small tmpfs for the state directory needs root"

sg_tmpdir dir
state=$dir/state
mkdir "$state"
# 160 MB: the environment's regions (~95 MB, reserved at open) and room
# for the store; the filler takes the rest.
if ! mount -t tmpfs -o size=160m,mode=0750 sg-diskfull "$state" 2>"$dir/mount.err"; then
	skip_all "cannot mount a tmpfs here ($(head -1 "$dir/mount.err"))"
fi
sg_at_exit "umount $(printf %q "$state") 2>/dev/null || umount -l $(printf %q "$state")"
sg_conf_write "$dir/sg.conf" "local:$dir/sg.sock"
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"
cli() { timeout 30 "$SG_CLI" -c "$dir/sg.conf" "$@"; }
send() {  # PREFIX COUNT [BODY_KB]: one "N answer" line per message
	SG_SOCKET="unix:$dir/sg.sock" SG_PREFIX=$1 SG_COUNT=$2 SG_BODY_KB=${3:-1} SG_BODY_RANDOM=1 timeout 120 "$MILTERTEST" \
		-s "$top_srcdir/tests/milter/send-n.lua" 2>&1 | tee -a "$dir/send.log"
}
count() { grep -c " $1\$" <<<"$2"; }

r=$(send before 5)
is "$(count accept "$r")" 5 "before: five messages accepted"

# Fill the file system: big blocks, then small ones, until nothing is left.
dd if=/dev/zero of="$state/filler" bs=1M >/dev/null 2>&1
dd if=/dev/zero of="$state/filler2" bs=4k >/dev/null 2>&1
avail=$(df -k --output=avail "$state" | tail -1 | tr -d ' ')
ok "the state directory is full (${avail} KB left)" test "$avail" -le 4

N=20
rfull=$(send full "$N" 32)
accepted=$(count accept "$rfull") tempfailed=$(count tempfail "$rfull")
diag "disk full: $accepted accepted, $tempfailed tempfailed"
is "$((accepted + tempfailed))" "$N" "disk full: every message answered accept or tempfail (none rejected, none lost)"
ok "disk full: the store's writes fail and the milter tempfails" test "$tempfailed" -ge $((N - 2))
ok "the daemon survived the full disk" kill -0 "$sg_daemon_pid"
ok "its log names the cause" grep -q 'No space left on device' "$dir/daemon.log"

rm -f "$state/filler" "$state/filler2"
r=$(send after 3)
is "$(count accept "$r")" 3 "space is back: the same daemon accepts the next messages"
ok "... still the same process" kill -0 "$sg_daemon_pid"
# The MTA sends the tempfailed ones again: each is taken now, and one
# whose commit reached the log buffer before its flush failed (written
# once space returned) is recognised as the same mail, not a second ticket.
r=$(send full "$N" 32)
is "$(count accept "$r")" "$N" "the MTA's retries: all $N accepted"

got=$(cli tickets --json | python3 -c '
import json, sys
ts = json.load(sys.stdin)
print(len(ts) - len({t["id"] for t in ts}))
for t in sorted(t["subject"] or "" for t in ts): print(t)')
is "$(head -1 <<<"$got")" 0 "no ticket id used twice"
want=$( (for i in 1 2 3 4 5; do echo "before $i"; done
	for i in $(seq 1 "$N"); do echo "full $i"; done
	for i in 1 2 3; do echo "after $i"; done) | sort)
is "$(tail -n +2 <<<"$got" | sort)" "$want" "every accepted message is ticketed exactly once, nothing else"
sg_daemon_stop
cli db verify > "$dir/verify.out" 2>&1
is "$?" 0 "the store verifies (db verify)"
done_testing
