# lib.sh — shared helpers for the shell tests (TAP output for automake's
# tap-driver.sh) and the private mail servers they run on 127.0.0.1.
# Sourced by tests/integration/t-*.sh and tools/quickstart.sh.
#
# TAP:     ok NAME CMD...      run CMD, one test point
#          is GOT WANT NAME    string equality
#          skip N REASON       N skipped points ("ok N # SKIP", not "not ok")
#          skip_all REASON     the whole script skips (exit 0)
#          done_testing        print the plan, exit 1 if anything failed
# Misc:    sg_tmpdir           per-test temp dir, removed at exit
#          sg_free_port        a free TCP port on 127.0.0.1
#          sg_wait_for CMD SECONDS   poll CMD (a shell string) until true
# Servers: sg_sink_start DIR PORT / sg_sink_stop DIR   (capture SMTP sink)
#          sg_postfix_start DIR SMTPD_PORT RELAY_PORT [MILTER]
#          sg_postfix_stop DIR / sg_postfix_flush DIR / sg_postfix_wait_empty DIR SECS
#          sg_send_mail PORT FROM TO FILE [COUNT]   (COUNT copies, one session)

_tap_n=0
_tap_failed=0
_sg_cleanup_dirs=""
_sg_cleanup_cmds=""

ok() {
	local name=$1; shift
	_tap_n=$((_tap_n + 1))
	if "$@" >/dev/null 2>&1; then
		echo "ok $_tap_n - $name"
	else
		echo "not ok $_tap_n - $name"
		_tap_failed=$((_tap_failed + 1))
	fi
}

is() {
	_tap_n=$((_tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $_tap_n - $3"
	else
		echo "not ok $_tap_n - $3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
		_tap_failed=$((_tap_failed + 1))
	fi
}

skip() {
	local i
	for i in $(seq 1 "$1"); do
		_tap_n=$((_tap_n + 1))
		echo "ok $_tap_n # SKIP $2"
	done
}

skip_all() {
	echo "1..0 # SKIP $1"
	exit 0
}

diag() {
	echo "# $*"
}

done_testing() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
	exit $?
}

_sg_cleanup() {
	eval "$_sg_cleanup_cmds"
	[ -n "$_sg_cleanup_dirs" ] && [ -z "${SG_KEEP_TMP:-}" ] && rm -rf $_sg_cleanup_dirs
}
trap _sg_cleanup EXIT

# Run CMD (a shell string) at exit, before temp dirs go.
sg_at_exit() {
	_sg_cleanup_cmds="$1; $_sg_cleanup_cmds"
}

sg_tmpdir() {
	local d
	d=$(mktemp -d "${TMPDIR:-/tmp}/sg-test.XXXXXX") || exit 1
	chmod 755 "$d"
	_sg_cleanup_dirs="$_sg_cleanup_dirs $d"
	echo "$d"
}

sg_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

sg_wait_for() {
	local cmd=$1 secs=${2:-10} i=0
	while [ "$i" -lt $((secs * 10)) ]; do
		eval "$cmd" >/dev/null 2>&1 && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
