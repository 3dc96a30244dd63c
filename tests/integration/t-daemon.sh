#!/bin/bash
# t-daemon — supportgated as a process: pid file, second instance refused,
# SIGUSR1 with a broken config keeps the old one, SIGUSR1 with a good one
# swaps, SIGTERM exits 0 and removes socket and pid file, stale socket
# removed at start, a live socket is never stolen.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}"
[ -x "$SG_DAEMON" ] || skip_all "supportgated not built"

sg_tmpdir dir
conf=$dir/sg.conf
write_conf() {
	cat > "$conf" <<CONF
socket = "local:$dir/sg.sock"
state_dir = "$dir/state"
pid_file = "$dir/run/sg.pid"
support_address = {"support@example.com"}
log_level = "$1"
CONF
}
write_conf info

"$SG_DAEMON" -f -c "$conf" 2> "$dir/log" &
pid=$!
sg_wait_for "test -S $dir/sg.sock && test -s $dir/run/sg.pid" 10
ok "socket and pid file created" test -S "$dir/sg.sock"
is "$(stat -c %a "$dir/sg.sock")" 660 "the socket is not world-writable (socket_mode 0660)"
if getent group postfix >/dev/null; then
	is "$(stat -c %G "$dir/sg.sock")" postfix "its group is the MTA's (socket_group postfix)"
else
	ok "# SKIP no group postfix on this machine" true
fi
is "$(cat "$dir/run/sg.pid" 2>/dev/null)" "$pid" "pid file holds the daemon's pid"

"$SG_DAEMON" -f -c "$conf" 2> "$dir/log2"
rc=$?
is "$rc" 1 "a second instance exits 1"
ok "second instance names the holder" grep -q "another supportgated (pid $pid)" "$dir/log2"

# Broken config: the daemon keeps running on the old one.
echo 'no_such_key = 1' >> "$conf"
kill -USR1 "$pid"
sg_wait_for "grep -q 'reload failed' $dir/log" 10
ok "broken reload is reported" grep -q 'reload failed; keeping the running configuration' "$dir/log"
ok "error has file:line" grep -q "$conf:6: no such option 'no_such_key'" "$dir/log"
ok "daemon still running after broken reload" kill -0 "$pid"
ok "socket still there" test -S "$dir/sg.sock"

# Good config with a change: swapped in.
write_conf debug
kill -USR1 "$pid"
sg_wait_for "grep -q 'configuration reloaded' $dir/log" 10
ok "good reload swaps the configuration" grep -q 'configuration reloaded' "$dir/log"

# A live socket is never removed by a second daemon (other pid file).
sed "s|$dir/run/sg.pid|$dir/run/other.pid|" "$conf" > "$dir/other.conf"
"$SG_DAEMON" -f -c "$dir/other.conf" 2> "$dir/log3"
is "$?" 1 "socket in use: second daemon fails"
ok "socket in use is named" grep -q 'in use' "$dir/log3"
ok "first daemon still serves" kill -0 "$pid"

kill -TERM "$pid"
wait "$pid"
is "$?" 0 "SIGTERM exits 0"
ok "socket removed" test ! -e "$dir/sg.sock"
ok "pid file removed" test ! -e "$dir/run/sg.pid"

# A stale socket (nobody listening) is removed at start.
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$dir/sg.sock"
ok "stale socket prepared" test -S "$dir/sg.sock"
"$SG_DAEMON" -f -c "$conf" 2> "$dir/log4" &
pid=$!
sg_wait_for "grep -q 'ready' $dir/log4" 10
ok "daemon starts over a stale socket" grep -q 'removing stale socket' "$dir/log4"
kill -TERM "$pid"
wait "$pid"
is "$?" 0 "second run exits 0"

# Privilege drop: as root with user = nobody the daemon runs unprivileged,
# and still removes its socket (in a directory it created) at exit.
if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
	cat > "$dir/drop.conf" <<CONF
socket = "local:$dir/sockdir/sg.sock"
state_dir = "$dir/dropstate"
pid_file = "$dir/droprun/sg.pid"
support_address = {"support@example.com"}
user = "nobody"
CONF
	"$SG_DAEMON" -f -c "$dir/drop.conf" 2> "$dir/log6" &
	pid=$!
	sg_wait_for "grep -q ready $dir/log6" 10
	is "$(ps -o user= -p "$pid" | tr -d ' ')" nobody "daemon runs as the configured user"
	ok "state dir handed to the user" test "$(stat -c %U "$dir/dropstate")" = nobody
	kill -TERM "$pid"
	wait "$pid"
	is "$?" 0 "unprivileged daemon exits 0"
	ok "its socket is removed" test ! -e "$dir/sockdir/sg.sock"
	ok "its pid file is removed" test ! -e "$dir/droprun/sg.pid"
else
	skip 5 "privilege drop needs root and a nobody user"
fi

# A regular file where the socket should be is not removed.
echo keep > "$dir/sg.sock"
"$SG_DAEMON" -f -c "$conf" 2> "$dir/log5"
is "$?" 1 "non-socket file at the socket path is an error"
is "$(cat "$dir/sg.sock")" keep "the file is left alone"
done_testing
