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
# As root the daemon refuses to stay root unless the file says so.
as_root=
[ "$(id -u)" -eq 0 ] && as_root='user = "root"'
write_conf() {
	cat > "$conf" <<CONF
socket = "local:$dir/sg.sock"
state_dir = "$dir/state"
pid_file = "$dir/run/sg.pid"
support_address = {"support@example.com"}
log_level = "$1"
$as_root
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
ok "error has file:line" grep -q "$conf:7: no such option 'no_such_key'" "$dir/log"
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

# Safe defaults: as root the daemon becomes user (default supportgate)
# and stays root only with user = "root" written in the file; a refusal
# comes before the socket or the pid file exist.
safe_conf() {   # FILE [LINE]: a config in $dir/safe
	printf '%s\n' "socket = \"local:$dir/safe/sg.sock\"" "state_dir = \"$dir/safe/state\"" \
		"pid_file = \"$dir/safe/sg.pid\"" 'support_address = {"support@example.com"}' "${2:-}" > "$1"
}
mkdir -p "$dir/safe" && chmod 1777 "$dir/safe"
if [ "$(id -u)" -eq 0 ]; then
	safe_conf "$dir/empty.conf" 'user = ""'
	"$SG_DAEMON" -f -c "$dir/empty.conf" 2> "$dir/log7"
	is "$?" 1 "as root with user = \"\": refused"
	ok "the refusal says how to run" grep -q 'refusing to run as root: user is empty.*user = "root"' "$dir/log7"
	ok "nothing was opened before the refusal" test ! -e "$dir/safe/sg.sock" -a ! -e "$dir/safe/sg.pid"
	safe_conf "$dir/default.conf"
	if ! getent passwd supportgate >/dev/null; then
		"$SG_DAEMON" -f -c "$dir/default.conf" 2> "$dir/log8"
		is "$?" 1 "as root with the default user and no such user: refused"
		ok "the refusal names the user and the way out" \
			grep -q 'refusing to run as root: user supportgate does not exist; create it (adduser --system --group supportgate)' "$dir/log8"
		ok "the config check alone accepts the file (the user is looked for at start)" \
			"$SG_DAEMON" -n -c "$dir/default.conf"
	else
		"$SG_DAEMON" -f -c "$dir/default.conf" 2> "$dir/log8" &
		pid=$!
		sg_wait_for "grep -q ready $dir/log8" 10
		is "$(ps -o user= -p "$pid" | tr -d ' ')" supportgate "as root with the default user: runs as supportgate"
		kill -TERM "$pid"; wait "$pid"
		ok "# SKIP the user supportgate exists here" true
		ok "# SKIP the user supportgate exists here" true
	fi
	safe_conf "$dir/root.conf" 'user = "root"'
	"$SG_DAEMON" -f -c "$dir/root.conf" 2> "$dir/log9" &
	pid=$!
	sg_wait_for "grep -q ready $dir/log9" 10
	is "$(ps -o user= -p "$pid" | tr -d ' ')" root "user = \"root\" written in the file: runs as root"
	ok "and says so" grep -q 'running as root: user = "root"' "$dir/log9"
	kill -TERM "$pid"; wait "$pid"
	# Started unprivileged (as nobody, the way the unit starts it as
	# supportgate) with the default user: stays nobody. The socket's
	# directory is setgid group postfix (as the package makes it), so the
	# socket is postfix's without a chown nobody may not do.
	if getent passwd nobody >/dev/null && getent group postfix >/dev/null; then
		mkdir -p "$dir/sgid" && chgrp postfix "$dir/sgid" && chmod 2777 "$dir/sgid"
		sed "s|$dir/safe/sg.sock|$dir/sgid/sg.sock|" "$dir/default.conf" > "$dir/nobody.conf"
		rm -rf "$dir/safe/state"
		setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$SG_DAEMON" -f -c "$dir/nobody.conf" 2> "$dir/log10" &
		pid=$!
		sg_wait_for "grep -q ready $dir/log10" 10
		is "$(ps -o user= -p "$pid" | tr -d ' ')" nobody "started as another user with the default user: keeps it"
		is "$(stat -c %G:%a "$dir/sgid/sg.sock" 2>/dev/null)" postfix:660 "its socket in a setgid directory: group postfix, 0660"
		kill -TERM "$pid"; wait "$pid"
		is "$?" 0 "and exits 0"
	else
		skip 3 "no user nobody or no group postfix"
	fi
else
	skip 11 "the root refusal needs root"
fi

# The systemd watchdog (WatchdogSec=): with WATCHDOG_USEC set, a build with
# sd_notify pings WATCHDOG=1 every half interval on NOTIFY_SOCKET.
if "$SG_DAEMON" -V | grep -q 'systemd notify: yes'; then
	python3 - "$dir/notify.sock" "$dir/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(10)
end = time.time() + 10
with open(sys.argv[2], "w") as out:
    while time.time() < end:
        try:
            out.write(s.recv(4096).decode() + "\n"); out.flush()
        except socket.timeout:
            break
PY
	npid=$!
	sg_wait_for "test -S $dir/notify.sock" 5
	write_conf info
	NOTIFY_SOCKET=$dir/notify.sock WATCHDOG_USEC=2000000 "$SG_DAEMON" -f -c "$conf" 2> "$dir/log11" &
	pid=$!
	sg_wait_for "test \$(grep -c WATCHDOG=1 $dir/notify.log) -ge 3" 10
	ok "READY=1 is sent" grep -q 'READY=1' "$dir/notify.log"
	ok "WATCHDOG=1 every second with WATCHDOG_USEC=2000000" test "$(grep -c WATCHDOG=1 "$dir/notify.log")" -ge 3
	kill -TERM "$pid"; wait "$pid"
	kill "$npid" 2>/dev/null; wait "$npid" 2>/dev/null
else
	skip 2 "built without libsystemd (sd_notify)"
fi

# A regular file where the socket should be is not removed.
echo keep > "$dir/sg.sock"
"$SG_DAEMON" -f -c "$conf" 2> "$dir/log5"
is "$?" 1 "non-socket file at the socket path is an error"
is "$(cat "$dir/sg.sock")" keep "the file is left alone"
done_testing
