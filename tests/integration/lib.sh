# lib.sh — shared helpers for the shell tests (TAP output for automake's
# tap-driver.sh) and the private mail servers they run on 127.0.0.1.
# Sourced by tests/integration/t-*.sh and tools/quickstart.sh (bash).
#
# TAP:     ok NAME CMD...      run CMD, one test point
#          is GOT WANT NAME    string equality
#          skip N REASON       N skipped points ("ok N # SKIP", not "not ok")
#          skip_all REASON     the whole script skips (exit 0)
#          sg_bail REASON      the whole script fails ("Bail out!", exit 1)
#          done_testing        print the plan, exit 1 if anything failed
# Files:   sg_tmpdir VAR       a per-test temp dir in $VAR, removed at exit
#          sg_own_dir DIR      declare DIR (made if missing) this script's own
#          Every helper below that creates or removes files checks its
#          directory first: never empty, never /, always inside a directory
#          the script owns (sg_tmpdir, sg_own_dir). Anything else fails the
#          script with the reason. A test writes only in its own directory
#          (and in a Postfix spool it made itself, see sg_postfix_start); the
#          one exception is the Sendmail cache of sg_sendmail_fetch.
# Misc:    sg_free_port        a free TCP port on 127.0.0.1
#          sg_wait_for CMD SECONDS   poll CMD (a shell string) until true
#          sg_at_exit CMD      run CMD at exit (before temp dirs go)
#          sg_show_log TITLE FILE [N]  the last N lines of FILE as # comments
# The whole stack (config + daemon + sink + private Postfix):
#          sg_stack_start DIR [CONF-LINE...]   see its comment
# Parts:   sg_conf_write FILE SOCKET [CONF-LINE...]
#          sg_daemon_start CONF LOG / sg_daemon_stop
#          sg_sink_start DIR PORT / sg_sink_stop DIR / sg_sink_count DIR
#          sg_postfix_start DIR SMTPD_PORT RELAY_PORT [MILTER]
#          sg_postfix_stop DIR / sg_postfix_flush DIR / sg_postfix_wait_empty DIR SECS
#          sg_send_mail PORT FROM TO FILE [COUNT]   (COUNT copies, one session)
#          sg_sink_by_id DIR MSGID / sg_hdr FILE NAME  (reading what arrived)
#          sg_sink_list DIR [SKIP] / sg_mail_get FILE WHAT  (decoded, by Python's email)
# SMTP AUTH (agents' identity):
#          sg_dovecot_start DIR LOGIN:PASSWORD... / sg_dovecot_stop DIR
#          sg_postfix_set DIR PARAM=VALUE... / sg_postfix_sasl DIR SOCKET PORT
#          sg_send_mail_auth PORT LOGIN PASSWORD FROM TO FILE
# Servers started by these helpers are stopped at exit, unless
# SG_KEEP_RUNNING=1 (the quick start leaves them running on success).
# Set-up failures print their cause (the server's own log) and return 1.
# SG_TAP=0 before sourcing turns "# " comments and "Bail out!" into plain
# messages on stderr (for tools/quickstart.sh).

_tap_n=0
_tap_failed=0
_sg_cleanup_dirs=()   # removed at exit (sg_tmpdir)
_sg_roots=()          # where helpers may create and remove files
_sg_cleanup_cmds=""
: "${SG_TAP:=1}" "${SG_KEEP_RUNNING:=0}"
# The script's real stdout, for messages from inside $(...) too.
exec {_sg_out}>&1

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

# A comment line: "# text" on stdout for TAP, plain on stderr otherwise.
_sg_say() {
	if [ "$SG_TAP" = 1 ]; then
		echo "# $*" >&"$_sg_out"
	else
		echo "$*" >&2
	fi
}

# sg_bail REASON: the script fails here. Works from inside $(...) and
# subshells too: the message goes to the real stdout and the main shell
# is told to exit.
trap 'exit 1' USR1
sg_bail() {
	if [ "$SG_TAP" = 1 ]; then
		echo "Bail out! $*" >&"$_sg_out"
	else
		echo "error: $*" >&2
	fi
	[ "$BASHPID" != "$$" ] && kill -USR1 "$$" 2>/dev/null
	exit 1
}

# sg_show_log TITLE FILE [N]: why something failed, from its own log.
sg_show_log() {
	local title=$1 file=$2 n=${3:-15} line
	if [ ! -s "$file" ]; then
		_sg_say "$title: $file is empty or missing"
		return 0
	fi
	_sg_say "$title (last lines of $file):"
	tail -n "$n" "$file" | while IFS= read -r line; do _sg_say "  $line"; done
}

_sg_cleanup() {
	eval "$_sg_cleanup_cmds"
	[ "${#_sg_cleanup_dirs[@]}" -gt 0 ] && [ -z "${SG_KEEP_TMP:-}" ] && rm -rf -- "${_sg_cleanup_dirs[@]}"
}
trap _sg_cleanup EXIT

# Run CMD (a shell string) at exit, before temp dirs go.
sg_at_exit() {
	_sg_cleanup_cmds="$1; $_sg_cleanup_cmds"
}

# Register a server's stop command, unless the caller keeps servers running.
_sg_stop_at_exit() {
	[ "$SG_KEEP_RUNNING" = 1 ] || sg_at_exit "$1"
}

_sg_add_root() {
	local real
	real=$(realpath -m -- "$1")
	case "$real" in
	/ | "") sg_bail "lib.sh: refusing / as a work directory" ;;
	esac
	_sg_roots+=("$real")
}

# _sg_guard FUNC DIR: DIR is a place FUNC may create and remove files in:
# not empty, not /, and inside a directory this script owns.
_sg_guard() {
	local fn=$1 d=$2 real root
	[ -n "$d" ] || sg_bail "$fn: empty work directory (a variable not set?); refusing to write"
	real=$(realpath -m -- "$d")
	[ "$real" != / ] || sg_bail "$fn: refusing to work in /"
	for root in "${_sg_roots[@]}"; do
		case "$real/" in
		"$root"/*) return 0 ;;
		esac
	done
	sg_bail "$fn: $d is outside this script's own directories (${_sg_roots[*]:-none: call sg_tmpdir first}); refusing to write"
}

# sg_tmpdir VAR: a fresh temp dir (mode 755: the servers' users read it),
# removed at exit, in $VAR. Not $(sg_tmpdir): a subshell could not
# register it for removal.
sg_tmpdir() {
	local _sg_d   # not a name a caller would pass as VAR
	[ -n "${1:-}" ] || sg_bail "sg_tmpdir: usage: sg_tmpdir VAR (not \$(sg_tmpdir))"
	_sg_d=$(mktemp -d "${TMPDIR:-/tmp}/sg-test.XXXXXX") || sg_bail "sg_tmpdir: mktemp failed in ${TMPDIR:-/tmp}"
	chmod 755 "$_sg_d"
	_sg_cleanup_dirs+=("$_sg_d")
	_sg_add_root "$_sg_d"
	printf -v "$1" '%s' "$_sg_d"
}

# sg_own_dir DIR: DIR (made if missing) belongs to this script: helpers may
# create and remove files below it. Not removed at exit.
sg_own_dir() {
	[ -n "${1:-}" ] || sg_bail "sg_own_dir: empty directory name"
	mkdir -p -- "$1" || sg_bail "sg_own_dir: cannot create $1"
	_sg_add_root "$1"
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

_sg_port_open() {
	(echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ------------------------------------------------------------ the daemon
# sg_conf_write FILE SOCKET [LINE...]: the configuration the tests share:
# SOCKET (omitted when empty), state and pid file next to FILE, the
# support address support@example.com and the tag ACME; then each LINE.
# As root also user = "root": the daemon refuses to stay root without it
# (and the tests' files stay root's); a LINE may name another user.
sg_conf_write() {
	local file=$1 socket=$2 d line
	shift 2
	d=$(dirname -- "$file")
	_sg_guard sg_conf_write "$d"
	{
		[ -n "$socket" ] && echo "socket = \"$socket\""
		[ "$(id -u)" -eq 0 ] && echo 'user = "root"'
		echo "state_dir = \"$d/state\""
		echo "pid_file = \"$d/supportgated.pid\""
		echo 'support_address = {"support@example.com"}'
		echo 'ticket_tag = "ACME"'
		for line in "$@"; do
			echo "$line"
		done
	} > "$file" || sg_bail "sg_conf_write: cannot write $file"
}

_sg_ready_count() {
	# 0 (not nothing) while the log does not exist yet: an empty count
	# made the wait loop's test fail and the start look successful
	local n
	n=$(grep -cw ready "$1" 2>/dev/null)
	echo "${n:-0}"
}

# sg_daemon_start CONF LOG: supportgated -f on CONF, stderr appended to
# LOG; returns once the log says it is ready (pid in sg_daemon_pid). A
# daemon that exits or stays silent for 20 s: its log is shown, 1.
sg_daemon_start() {
	local conf=$1 log=$2 n0 i=0
	_sg_guard sg_daemon_start "$(dirname -- "$log")"
	n0=$(_sg_ready_count "$log")
	# stdout too goes to the log: a server left running must not hold the
	# script's stdout (a pipe reader would wait for it forever).
	"${SG_DAEMON:-./supportgated}" -f -c "$conf" >>"$log" 2>&1 {_sg_out}>&- &
	sg_daemon_pid=$!
	if [ -z "${_sg_daemon_registered:-}" ]; then
		_sg_daemon_registered=1
		_sg_stop_at_exit sg_daemon_stop
	fi
	while [ "$(_sg_ready_count "$log")" -le "${n0:-0}" ]; do
		if ! kill -0 "$sg_daemon_pid" 2>/dev/null || [ "$i" -ge 200 ]; then
			kill -0 "$sg_daemon_pid" 2>/dev/null && _sg_say "supportgated not ready after 20 s"
			sg_show_log "supportgated did not start" "$log"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# sg_daemon_stop: SIGTERM to the daemon sg_daemon_start started, wait.
sg_daemon_stop() {
	[ -n "${sg_daemon_pid:-}" ] || return 0
	kill "$sg_daemon_pid" 2>/dev/null
	sg_wait_for "! kill -0 $sg_daemon_pid" 10 || kill -9 "$sg_daemon_pid" 2>/dev/null
}

# ------------------------------------------------------------ capture sink
# sg_sink_start DIR PORT: tests/integration/sink.py on 127.0.0.1:PORT,
# mail in DIR/msg-*.eml, log DIR/sink.log.
sg_sink_start() {
	local dir=$1 port=$2
	_sg_guard sg_sink_start "$dir"
	mkdir -p "$dir"
	python3 "${top_srcdir:-.}/tests/integration/sink.py" "$dir" "$port" >"$dir/sink.log" 2>&1 {_sg_out}>&- &
	_sg_stop_at_exit "sg_sink_stop $(printf %q "$dir")"
	if ! sg_wait_for "test -s $(printf %q "$dir/sink.pid") && _sg_port_open $port" 10; then
		sg_show_log "capture sink did not start on 127.0.0.1:$port" "$dir/sink.log"
		return 1
	fi
}

sg_sink_stop() {
	local pid
	[ -f "$1/sink.pid" ] || return 0
	_sg_guard sg_sink_stop "$1"
	pid=$(cat "$1/sink.pid")
	kill "$pid" 2>/dev/null
	sg_wait_for "! kill -0 $pid" 5 || kill -9 "$pid" 2>/dev/null
	rm -f "$1/sink.pid"
}

# Messages the sink holds (count)
sg_sink_count() {
	ls "$1"/msg-*.eml 2>/dev/null | wc -l
}

# sg_sink_by_id DIR MSGID: the file in the sink holding that Message-ID.
sg_sink_by_id() {
	grep -l "^Message-ID: <$2>" "$1"/msg-*.eml 2>/dev/null | head -1
}

# sg_hdr FILE NAME: the first NAME header of FILE (unfolded lines only).
sg_hdr() {
	sed -n "s/^$2: //p" "$1" | tr -d '\r' | head -1
}

# --------------------------------------------------------- private Postfix
# sg_postfix_start DIR SMTPD_PORT RELAY_PORT [MILTER]
# A private instance: own config, queue and data dirs, smtpd on
# 127.0.0.1:SMTPD_PORT, everything relayed to 127.0.0.1:RELAY_PORT, no
# chroot, log in DIR/maillog. Never touches /etc/postfix.
# Postfix's own processes (the postfix user) must reach the queue and
# data directories: when that user cannot traverse DIR (a clone in root's
# 0700 home), the instance lives in a fresh /tmp/sg-postfix.XXXXXX (or
# /var/tmp) instead, named in DIR/instance, with DIR/maillog a link to its
# log; sg_postfix_stop copies the log back and removes that directory.
sg_postfix_start() {
	local dir=$1 sport=$2 rport=$3 milter=${4:-} root base
	_sg_guard sg_postfix_start "$dir"
	if [ "$(id -u)" -ne 0 ]; then
		_sg_say "sg_postfix_start: a private Postfix instance needs root"
		return 1
	fi
	mkdir -p "$dir"
	root=$dir
	if ! _sg_postfix_reaches "$dir"; then
		root=""
		for base in /tmp /var/tmp; do
			_sg_postfix_reaches "$base" || continue
			root=$(mktemp -d "$base/sg-postfix.XXXXXX") && break
		done
		if [ -z "$root" ]; then
			_sg_say "sg_postfix_start: the postfix user can reach neither $dir nor /tmp nor /var/tmp"
			return 1
		fi
		_sg_add_root "$root"
		realpath -m -- "$dir" > "$root/owner"
		echo "$root" > "$dir/instance"
		ln -sfn "$root/maillog" "$dir/maillog"
		_sg_say "private Postfix: the postfix user cannot reach $dir; its spool is $root (named in $dir/instance)"
	fi
	_sg_stop_at_exit "sg_postfix_stop $(printf %q "$dir")"
	mkdir -p "$root/etc" "$root/queue" "$root/data"
	chown root:root "$root" "$root/etc" "$root/queue"
	chmod 755 "$root" "$root/etc" "$root/queue"
	chown postfix "$root/data"
	chmod 700 "$root/data"
	cat > "$root/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $root/queue
data_directory = $root/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.sg-test.example
mydomain = sg-test.example
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
relay_domains =
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$rport
smtp_dns_support_level = disabled
disable_dns_lookups = yes
local_transport = error:local delivery disabled
alias_maps =
alias_database =
smtputf8_enable = no
maillog_file = $root/maillog
maillog_file_prefixes = $root
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
smtp_connect_timeout = 5s
smtpd_milters = $milter
non_smtpd_milters =
milter_protocol = 6
milter_default_action = tempfail
milter_connect_macros = j {daemon_name} v {client_addr}
milter_mail_macros = i {auth_type} {auth_authen} {auth_author} {mail_addr}
milter_rcpt_macros = i {rcpt_addr}
milter_end_of_data_macros = i
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s
CF
	cat > "$root/etc/master.cf" <<CF
127.0.0.1:$sport inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
	if ! postfix -c "$root/etc" check >"$dir/check.log" 2>&1; then
		sg_show_log "postfix check failed" "$dir/check.log"
		return 1
	fi
	if ! postfix -c "$root/etc" start >"$dir/start.log" 2>&1 {_sg_out}>&-; then
		sg_show_log "postfix start failed" "$dir/start.log"
		sg_show_log "private Postfix log" "$root/maillog"
		return 1
	fi
	# master can fail after `postfix start` returned (its lock file, a
	# port in use); it says so only in its own log.
	if ! sg_wait_for "_sg_port_open $sport" 15; then
		_sg_say "private Postfix is not listening on 127.0.0.1:$sport after 15 s"
		sg_show_log "postfix start" "$dir/start.log"
		sg_show_log "private Postfix log" "$root/maillog"
		return 1
	fi
}

# Can the postfix user traverse DIR (and every directory above it)?
_sg_postfix_reaches() {
	setpriv --reuid=postfix --regid=postfix --clear-groups -- test -x "$1" 2>/dev/null
}

# The directory the instance of DIR really lives in (DIR itself, or the
# one named in DIR/instance).
_sg_postfix_root() {
	if [ -f "$1/instance" ]; then
		head -1 "$1/instance"
	else
		printf '%s\n' "$1"
	fi
}

sg_postfix_pid() {
	head -1 "$(_sg_postfix_root "$1")/queue/pid/master.pid" 2>/dev/null | tr -d ' '
}

sg_postfix_stop() {
	local dir=$1 root pid
	root=$(_sg_postfix_root "$dir")
	[ -f "$root/etc/main.cf" ] || return 0
	pid=$(sg_postfix_pid "$dir")
	postfix -c "$root/etc" stop >/dev/null 2>&1
	if [ -n "$pid" ]; then
		sg_wait_for "! kill -0 $pid" 10 || kill -9 "$pid" 2>/dev/null
	fi
	[ "$root" = "$dir" ] && return 0
	# A spool elsewhere is removed only when it is one of ours: made by
	# mktemp for this very DIR (its owner file says so).
	_sg_guard sg_postfix_stop "$dir"
	case "$root" in
	/tmp/sg-postfix.?????? | /var/tmp/sg-postfix.??????) ;;
	*) sg_bail "sg_postfix_stop: $dir/instance names $root, not a private Postfix spool; leaving it" ;;
	esac
	[ "$(cat "$root/owner" 2>/dev/null)" = "$(realpath -m -- "$dir")" ] ||
		sg_bail "sg_postfix_stop: $root does not belong to $dir; leaving it"
	_sg_add_root "$root"
	rm -f "$dir/maillog"
	[ -f "$root/maillog" ] && cp "$root/maillog" "$dir/maillog"
	rm -rf -- "$root"
	rm -f "$dir/instance"
}

sg_postfix_flush() {
	postqueue -c "$(_sg_postfix_root "$1")/etc" -f >/dev/null 2>&1
}

# Messages still queued (count)
sg_postfix_queued() {
	local q
	q=$(_sg_postfix_root "$1")/queue
	find "$q/incoming" "$q/active" "$q/deferred" "$q/maildrop" -type f 2>/dev/null | wc -l
}

# Wait until the private queue is empty.
sg_postfix_wait_empty() {
	sg_wait_for "test \$(sg_postfix_queued $(printf %q "$1")) -eq 0" "${2:-30}"
}

# ------------------------------------------------------------- the stack
# sg_stack_ports: free ports for the stack, unless already set:
# sg_mport (milter), sg_sport (sink), sg_pport (Postfix smtpd).
sg_stack_ports() {
	: "${sg_mport:=$(sg_free_port)}" "${sg_sport:=$(sg_free_port)}" "${sg_pport:=$(sg_free_port)}"
}

# sg_stack_start DIR [CONF-LINE...]: config + daemon + sink + private
# Postfix, the way the Postfix tests and the quick start run them:
#   DIR/supportgate.conf   inet milter socket 127.0.0.1:sg_mport, state in
#                          DIR/state, tag ACME (sg_conf_write) + the lines
#   DIR/supportgated.log   the daemon's log (pid in sg_daemon_pid)
#   DIR/sink/              capture sink on 127.0.0.1:sg_sport
#   DIR/postfix/           private Postfix on 127.0.0.1:sg_pport, the
#                          daemon as its milter, relaying to the sink
# Sets sg_conf, sg_log, sg_sink, sg_pf. Returns 1 (the cause printed)
# when a part does not start.
sg_stack_start() {
	local dir=$1
	shift
	sg_stack_ports
	sg_conf=$dir/supportgate.conf sg_log=$dir/supportgated.log
	sg_sink=$dir/sink sg_pf=$dir/postfix
	sg_conf_write "$sg_conf" "inet:$sg_mport@127.0.0.1" "$@"
	if ! "${SG_DAEMON:-./supportgated}" -n -c "$sg_conf" >"$dir/configcheck.log" 2>&1; then
		sg_show_log "supportgated -n: the configuration is refused" "$dir/configcheck.log"
		return 1
	fi
	sg_daemon_start "$sg_conf" "$sg_log" || return 1
	sg_sink_start "$sg_sink" "$sg_sport" || return 1
	sg_postfix_start "$sg_pf" "$sg_pport" "$sg_sport" "inet:127.0.0.1:$sg_mport" || return 1
}

# sg_send_mail PORT FROM TO FILE [COUNT] — COUNT copies over one SMTP
# session (a fresh Message-ID per copy when COUNT > 1). TO may be a
# comma-separated list. Exit 0 when every copy got 250.
sg_send_mail() {
	python3 - "$@" <<'PY'
import smtplib, sys, re
port, frm, to, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
count = int(sys.argv[5]) if len(sys.argv) > 5 else 1
data = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
rcpts = [t.strip() for t in to.split(",") if t.strip()]
s = smtplib.SMTP("127.0.0.1", port, timeout=60)
s.ehlo("client.sg-test.example")
bad = 0
for i in range(count):
    msg = data
    if count > 1:
        msg = re.sub(rb"(?im)^Message-ID:[^\n]*\n", b"", msg, count=1)
        msg = b"Message-ID: <bulk-%d-%d@sg-test.example>\r\n" % (i, hash(path) & 0xffff) + msg
    try:
        s.sendmail(frm, rcpts, msg)
    except smtplib.SMTPException as e:
        print("send %d: %s" % (i, e), file=sys.stderr)
        bad += 1
s.quit()
sys.exit(1 if bad else 0)
PY
}

# Drop the Received headers an MTA prepends (for byte comparisons).
sg_strip_received() {
	python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read().replace(b"\r\n", b"\n")
head, sep, body = data.partition(b"\n\n")
out, skip = [], False
for line in head.split(b"\n"):
    if line[:1] in (b" ", b"\t") and skip:
        continue
    skip = line.lower().startswith(b"received:")
    if not skip:
        out.append(line)
sys.stdout.buffer.write(b"\n".join(out) + sep + body)
PY
}

# ------------------------------------------------- reading what arrived
# sg_sink_list DIR [SKIP]: one line per message in the sink (in arrival
# order, the first SKIP left out): "FILE<TAB>RCPT,RCPT<TAB>From<TAB>Subject",
# headers decoded (RFC 2047) by Python's email package.
sg_sink_list() {
	python3 - "$1" "${2:-0}" <<'PY'
import email, email.policy, glob, os, sys
files = sorted(glob.glob(os.path.join(sys.argv[1], "msg-*.eml")))[int(sys.argv[2]):]
for f in files:
    with open(f, "rb") as fp:
        m = email.message_from_binary_file(fp, policy=email.policy.default)
    try:
        env = open(f[:-4] + ".env").read().split("\n")
    except OSError:
        env = []
    rcpts = ",".join(l[5:] for l in env if l.startswith("RCPT "))
    clean = lambda v: " ".join(str(v or "").split())
    print("%s\t%s\t%s\t%s" % (f, rcpts, clean(m["From"]), clean(m["Subject"])))
PY
}

# sg_mail_get FILE WHAT: a part of a captured message, decoded with
# Python's email package. WHAT is
#   header:NAME   every NAME header, decoded, one per line
#   headers       every header line, decoded ("Name: value")
#   text          the decoded text of every text/* part
#   attachment:N  the decoded bytes of the attachment named N (raw, stdout)
#   parts         one line per leaf part: content type and filename
#   env-from / rcpts   the envelope the sink saw
# Exit 1 when there is no such part or header.
sg_mail_get() {
	python3 - "$1" "$2" <<'PY'
import email, email.policy, sys
path, what = sys.argv[1], sys.argv[2]
if what in ("env-from", "rcpts"):
    env = open(path[:-4] + ".env").read().splitlines()
    want = "MAIL " if what == "env-from" else "RCPT "
    out = [l[5:] for l in env if l.startswith(want)]
    print("\n".join(out))
    sys.exit(0 if out else 1)
with open(path, "rb") as fp:
    m = email.message_from_binary_file(fp, policy=email.policy.default)
clean = lambda v: " ".join(str(v).split())
if what.startswith("header:"):
    vals = m.get_all(what[7:]) or []
    for v in vals:
        print(clean(v))
    sys.exit(0 if vals else 1)
if what == "headers":
    for k, v in m.items():
        print("%s: %s" % (k, clean(v)))
    sys.exit(0)
if what == "text":
    n = 0
    for p in m.walk():
        if p.get_content_maintype() == "text" and not p.is_multipart() and not p.get_filename():
            sys.stdout.write(p.get_content())
            n += 1
    sys.exit(0 if n else 1)
if what == "parts":
    for p in m.walk():
        if not p.is_multipart():
            print("%s %s" % (p.get_content_type(), p.get_filename() or ""))
    sys.exit(0)
if what.startswith("attachment:"):
    for p in m.walk():
        if p.get_filename() == what[11:]:
            sys.stdout.buffer.write(p.get_payload(decode=True))
            sys.exit(0)
    sys.exit(1)
print("sg_mail_get: unknown WHAT %s" % what, file=sys.stderr)
sys.exit(2)
PY
}

# ------------------------------------------- SMTP AUTH: Dovecot + Postfix
# sg_dovecot_start DIR LOGIN:PASSWORD...
# Dovecot's auth service alone (no mail protocols, no listening port) as
# the SASL backend of a private Postfix (smtpd_sasl_type = dovecot):
# config DIR/dovecot.conf, passwd-file DIR/users (one line per
# LOGIN:PASSWORD, PLAIN scheme), log DIR/dovecot.log, base_dir and
# state_dir inside DIR; never /etc/dovecot or /var/lib/dovecot. The
# client socket (mode 0666) is in sg_dovecot_socket. When the postfix
# user (smtpd connects to the socket) or the dovecot user (the auth
# process reads the users file) cannot traverse DIR, the instance lives
# in a fresh /tmp/sg-dovecot.XXXXXX (or /var/tmp) named in DIR/instance,
# removed by sg_dovecot_stop. Stopped at exit unless SG_KEEP_RUNNING=1.
# Returns 1 with the cause printed when it does not start.
sg_dovecot_start() {
	local dir=$1 root base up
	shift
	_sg_guard sg_dovecot_start "$dir"
	if ! command -v dovecot >/dev/null 2>&1; then
		_sg_say "sg_dovecot_start: dovecot is not installed (Debian package dovecot-core)"
		return 1
	fi
	if ! getent passwd dovecot >/dev/null || ! getent passwd dovenull >/dev/null; then
		_sg_say "sg_dovecot_start: the users dovecot and dovenull are missing (reinstall dovecot-core)"
		return 1
	fi
	mkdir -p "$dir"
	root=$dir
	if ! _sg_user_reaches postfix "$dir" || ! _sg_user_reaches dovecot "$dir"; then
		root=""
		for base in /tmp /var/tmp; do
			_sg_user_reaches postfix "$base" && _sg_user_reaches dovecot "$base" || continue
			root=$(mktemp -d "$base/sg-dovecot.XXXXXX") && break
		done
		if [ -z "$root" ]; then
			_sg_say "sg_dovecot_start: the postfix and dovecot users can reach neither $dir nor /tmp nor /var/tmp"
			return 1
		fi
		chmod 755 "$root"
		_sg_add_root "$root"
		realpath -m -- "$dir" > "$root/owner"
		echo "$root" > "$dir/instance"
		ln -sfn "$root/dovecot.log" "$dir/dovecot.log"
		_sg_say "private Dovecot: the postfix or dovecot user cannot reach $dir; its files are in $root (named in $dir/instance)"
	fi
	_sg_stop_at_exit "sg_dovecot_stop $(printf %q "$dir")"
	mkdir -p "$root/run" "$root/state"
	: > "$root/users"
	for up in "$@"; do
		case "$up" in
		*:*) printf '%s:{PLAIN}%s\n' "${up%%:*}" "${up#*:}" >> "$root/users" ;;
		*) _sg_say "sg_dovecot_start: '$up' is not LOGIN:PASSWORD"; return 1 ;;
		esac
	done
	chmod 644 "$root/users"
	cat > "$root/dovecot.conf" <<CF
# A private Dovecot: only its auth service, for a private Postfix's SASL.
base_dir = $root/run
state_dir = $root/state
instance_name = sg-test-$(basename "$root")
log_path = $root/dovecot.log
protocols = none
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
passdb {
  driver = passwd-file
  args = scheme=PLAIN $root/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$root/home/%u
}
service auth {
  unix_listener $root/auth-client {
    mode = 0666
  }
}
CF
	sg_dovecot_socket=$root/auth-client
	if ! dovecot -c "$root/dovecot.conf" >"$dir/dovecot-start.log" 2>&1 {_sg_out}>&-; then
		sg_show_log "dovecot did not start" "$dir/dovecot-start.log"
		sg_show_log "private Dovecot log" "$root/dovecot.log"
		return 1
	fi
	if ! sg_wait_for "test -S $(printf %q "$sg_dovecot_socket") && test -s $(printf %q "$root/run/master.pid")" 10; then
		_sg_say "private Dovecot: no auth socket $sg_dovecot_socket after 10 s"
		sg_show_log "private Dovecot log" "$root/dovecot.log"
		return 1
	fi
}

# sg_dovecot_stop DIR: the master by its pid (SIGTERM, then SIGKILL),
# and the instance's directory when it was made elsewhere.
sg_dovecot_stop() {
	local dir=$1 root pid
	root=$dir
	[ -f "$dir/instance" ] && root=$(head -1 "$dir/instance")
	[ -f "$root/dovecot.conf" ] || return 0
	pid=$(head -1 "$root/run/master.pid" 2>/dev/null | tr -d ' ')
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		sg_wait_for "! kill -0 $pid" 10 || kill -9 "$pid" 2>/dev/null
	fi
	[ "$root" = "$dir" ] && return 0
	_sg_guard sg_dovecot_stop "$dir"
	case "$root" in
	/tmp/sg-dovecot.?????? | /var/tmp/sg-dovecot.??????) ;;
	*) sg_bail "sg_dovecot_stop: $dir/instance names $root, not a private Dovecot directory; leaving it" ;;
	esac
	[ "$(cat "$root/owner" 2>/dev/null)" = "$(realpath -m -- "$dir")" ] ||
		sg_bail "sg_dovecot_stop: $root does not belong to $dir; leaving it"
	_sg_add_root "$root"
	rm -f "$dir/dovecot.log"
	[ -f "$root/dovecot.log" ] && cp "$root/dovecot.log" "$dir/dovecot.log"
	rm -rf -- "$root"
	rm -f "$dir/instance"
}

# Can USER traverse DIR (and every directory above it)?
_sg_user_reaches() {
	setpriv --reuid="$1" --regid="$(id -g "$1" 2>/dev/null || echo nogroup)" --clear-groups -- test -x "$2" 2>/dev/null
}

# sg_postfix_set DIR PARAM=VALUE...: change the private instance's main.cf
# (postconf -e) and reload it. The caller waits for what it needs.
sg_postfix_set() {
	local dir=$1 root
	shift
	root=$(_sg_postfix_root "$dir")
	_sg_guard sg_postfix_set "$dir"
	if ! postconf -c "$root/etc" -e "$@" >"$dir/postconf.log" 2>&1; then
		sg_show_log "postconf -e failed" "$dir/postconf.log"
		return 1
	fi
	if ! postfix -c "$root/etc" reload >"$dir/reload.log" 2>&1 {_sg_out}>&-; then
		sg_show_log "postfix reload failed" "$dir/reload.log"
		sg_show_log "private Postfix log" "$root/maillog"
		return 1
	fi
}

# sg_postfix_sasl DIR SOCKET PORT: SMTP AUTH on the private instance, with
# Dovecot's auth socket SOCKET as its SASL backend (AUTH offered without
# TLS: loopback tests only); returns once smtpd on PORT offers AUTH.
sg_postfix_sasl() {
	local dir=$1 sock=$2 port=$3
	sg_postfix_set "$dir" smtpd_sasl_auth_enable=yes smtpd_sasl_type=dovecot "smtpd_sasl_path=$sock" \
		smtpd_tls_auth_only=no 'smtpd_sasl_security_options=noanonymous' || return 1
	if ! sg_wait_for "_sg_smtp_offers_auth $port" 15; then
		_sg_say "private Postfix on 127.0.0.1:$port does not offer AUTH after 15 s"
		sg_show_log "private Postfix log" "$(_sg_postfix_root "$dir")/maillog"
		return 1
	fi
}

_sg_smtp_offers_auth() {
	python3 - "$1" <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=10)
s.ehlo("client.sg-test.example")
ok = s.has_extn("auth")
s.quit()
sys.exit(0 if ok else 1)
PY
}

# sg_send_mail_auth PORT LOGIN PASSWORD FROM TO FILE: one message over an
# authenticated session (smtplib login(): AUTH PLAIN). TO may be a
# comma-separated list. Exit 0 when the message got 250; the refusal
# (of AUTH or of the message) on stderr otherwise.
sg_send_mail_auth() {
	python3 - "$@" <<'PY'
import smtplib, sys
port, login, password, frm, to, path = sys.argv[1:7]
data = open(path, "rb").read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
rcpts = [t.strip() for t in to.split(",") if t.strip()]
s = smtplib.SMTP("127.0.0.1", int(port), timeout=60)
s.ehlo("client.sg-test.example")
try:
    s.login(login, password)
    s.sendmail(frm, rcpts, data)
except smtplib.SMTPException as e:
    print("send as %s: %s" % (login, e), file=sys.stderr)
    sys.exit(1)
finally:
    try:
        s.quit()
    except smtplib.SMTPException:
        pass
PY
}

# ---------------------------------------------------------------- Sendmail
# Debian's sendmail conflicts with postfix as a package, so the tests fetch
# it with `apt-get download` and unpack it with `dpkg -x` into a cache
# (never installed). It runs as root from there with a generated .cf, in
# its own UTS namespace whose hostname is qualified (sendmail otherwise
# sleeps a minute looking for its FQDN when DNS is unreachable).
SG_SENDMAIL_ROOT=${SG_CACHE:-/var/cache/supportgate-tests}/sendmail

sg_sendmail_fetch() {
	local bin=$SG_SENDMAIL_ROOT/root/usr/libexec/sendmail/sendmail tmp
	[ -x "$bin" ] && return 0
	command -v apt-get >/dev/null && command -v dpkg >/dev/null && command -v m4 >/dev/null || return 1
	mkdir -p "$SG_SENDMAIL_ROOT" || return 1
	tmp=$(mktemp -d)
	chmod 777 "$tmp"
	(cd "$tmp" && apt-get download sendmail-bin sendmail-base sendmail-cf >/dev/null 2>&1) || { rm -rf "$tmp"; return 1; }
	for f in "$tmp"/*.deb; do dpkg -x "$f" "$SG_SENDMAIL_ROOT/root" || return 1; done
	rm -rf "$tmp"
	[ -x "$bin" ]
}

# sg_sendmail_start DIR SMTP_PORT RELAY_PORT MILTER_PORT
sg_sendmail_start() {
	local dir=$1 sport=$2 rport=$3 mport=$4 cf=$SG_SENDMAIL_ROOT/root/usr/share/sendmail/cf
	_sg_guard sg_sendmail_start "$dir"
	mkdir -p "$dir/mqueue"
	chmod 700 "$dir/mqueue"
	echo "hosts files" > "$dir/service.switch"
	cat > "$dir/sg.mc" <<MC
divert(-1)
divert(0)dnl
include(\`$cf/m4/cf.m4')dnl
VERSIONID(\`supportgate integration test')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`mx.sg-test.example')dnl
define(\`SMART_HOST', \`esmtp:[127.0.0.1]')dnl
define(\`ESMTP_MAILER_ARGS', \`TCP \$h $rport')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $rport')dnl
define(\`QUEUE_DIR', \`$dir/mqueue')dnl
define(\`confPID_FILE', \`$dir/sendmail.pid')dnl
define(\`STATUS_FILE', \`$dir/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`')dnl
define(\`confHOST_STATUS_DIRECTORY', \`')dnl
define(\`confSERVICE_SWITCH_FILE', \`$dir/service.switch')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confBIND_OPTS', \`-DNSRCH -DEFNAMES')dnl
define(\`confTO_CONNECT', \`5s')dnl
define(\`confMILTER_MACROS_CONNECT', \`j, _, {daemon_name}, {client_addr}')dnl
define(\`confMILTER_MACROS_ENVFROM', \`i, {auth_type}, {auth_authen}, {mail_addr}')dnl
define(\`confMILTER_MACROS_EOM', \`{msg_id}, i')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`promiscuous_relay')dnl
DAEMON_OPTIONS(\`Port=$sport, Addr=127.0.0.1, Name=MTA')dnl
INPUT_MAIL_FILTER(\`supportgate', \`S=inet:$mport@127.0.0.1, F=T, T=S:30s;R:30s;E:5m')dnl
MAILER(\`smtp')dnl
MC
	m4 "$dir/sg.mc" > "$dir/sg.cf" 2>"$dir/m4.err" || { sg_show_log "m4 failed on sg.mc" "$dir/m4.err"; return 1; }
	_sg_stop_at_exit "sg_sendmail_stop $(printf %q "$dir")"
	if ! unshare -u sh -c "hostname mx.sg-test.example && exec $SG_SENDMAIL_ROOT/root/usr/libexec/sendmail/sendmail -C $dir/sg.cf -bd -q5s" \
		>"$dir/sendmail.log" 2>&1 {_sg_out}>&-; then
		sg_show_log "sendmail did not start" "$dir/sendmail.log"
		return 1
	fi
	if ! sg_wait_for "_sg_port_open $sport" 15; then
		sg_show_log "sendmail is not listening on 127.0.0.1:$sport after 15 s" "$dir/sendmail.log"
		return 1
	fi
}

sg_sendmail_stop() {
	local pid
	pid=$(head -1 "$1/sendmail.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	sg_wait_for "! kill -0 $pid" 10 || kill -9 "$pid" 2>/dev/null
}
