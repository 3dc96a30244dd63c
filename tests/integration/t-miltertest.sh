#!/bin/bash
# t-miltertest — protocol-level cases with miltertest(8) against the real
# daemon on a unix socket in a temp dir (tests/milter/*.lua). Note:
# miltertest prints nothing on a Lua error() unless run with -v; its exit
# status is what counts.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
MILTERTEST=${MILTERTEST:-$(command -v miltertest)}
[ -n "$MILTERTEST" ] && [ -x "$MILTERTEST" ] || skip_all "miltertest not installed (Debian package miltertest)"

sg_tmpdir dir
sg_conf_write "$dir/sg.conf" "local:$dir/sg.sock" 'milter_memory_limit = "4K"'
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"
export SG_SOCKET="unix:$dir/sg.sock"
lua=$top_srcdir/tests/milter
run() { "$MILTERTEST" -s "$lua/$1.lua" > "$dir/$1.out" 2>&1 || { "$MILTERTEST" -v -s "$lua/$1.lua" 2>&1 | tail -5 | sed 's/^/# /'; return 1; }; }
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }

ok "non-support recipient: accepted at DATA" run t-nonsupport
is "$(cli tickets | grep -c '^ *[0-9]')" 0 "no ticket for non-support mail"
ok "support mail: token, headers, Reply-To, forged header removed" run t-support
is "$(cli tickets | grep -c '^ *[0-9]')" 1 "one ticket"
ok "abort mid-message, then a whole one" run t-abort
ok "aborted message left nothing" test -z "$(cli show 2 --json | grep 'lua-abort@')"
is "$(cli tickets | grep -c '^ *[0-9]')" 2 "only the completed message was ticketed"
ok "big body spilled to disk and ticketed" run t-spill
big=$(cli show 3 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"][0]["size"] > 200000)')
is "$big" True "spilled message stored whole"
ok "spill file does not linger" test -z "$(ls -A "$dir/state/spool" 2>/dev/null)"
rm -rf "$dir/state/spool" && echo "not a directory" > "$dir/state/spool"
ok "spill impossible: tempfail" run t-tempfail
ok "too many headers: tempfail by default" run t-oversize-tempfail
echo 'on_oversize = "accept"' >> "$dir/sg.conf"
kill -USR1 "$sg_daemon_pid"
sg_wait_for "grep -q 'configuration reloaded' $dir/daemon.log" 10
ok "too many headers, on_oversize accept: passes with the forged header removed" run t-oversize-accept
ok "resource error logged with the queue id" grep -q 'cannot create spill file' "$dir/daemon.log"
is "$(cli tickets | grep -c '^ *[0-9]')" 3 "tempfailed mail left no ticket"
done_testing
