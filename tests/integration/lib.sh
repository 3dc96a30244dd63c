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

# ------------------------------------------------------------ capture sink
sg_sink_start() {
	local dir=$1 port=$2
	mkdir -p "$dir"
	python3 "${top_srcdir:-.}/tests/integration/sink.py" "$dir" "$port" >"$dir/sink.log" 2>&1 &
	sg_wait_for "test -s $dir/sink.pid && (echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null" 10
}

sg_sink_stop() {
	local pid
	[ -f "$1/sink.pid" ] || return 0
	pid=$(cat "$1/sink.pid")
	kill "$pid" 2>/dev/null
	sg_wait_for "! kill -0 $pid" 5 || kill -9 "$pid" 2>/dev/null
	rm -f "$1/sink.pid"
}

# Messages the sink holds (count)
sg_sink_count() {
	ls "$1"/msg-*.eml 2>/dev/null | wc -l
}

# --------------------------------------------------------- private Postfix
# sg_postfix_start DIR SMTPD_PORT RELAY_PORT [MILTER]
# A private instance: own config, queue and data dirs in DIR, smtpd on
# 127.0.0.1:SMTPD_PORT, everything relayed to 127.0.0.1:RELAY_PORT, no
# chroot, log in DIR/maillog. Never touches /etc/postfix.
sg_postfix_start() {
	local dir=$1 sport=$2 rport=$3 milter=${4:-}
	mkdir -p "$dir/etc" "$dir/queue" "$dir/data"
	chown root:root "$dir" "$dir/etc" "$dir/queue"
	chmod 755 "$dir" "$dir/etc" "$dir/queue"
	chown postfix "$dir/data"
	chmod 700 "$dir/data"
	cat > "$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
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
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
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
	cat > "$dir/etc/master.cf" <<CF
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
	postfix -c "$dir/etc" check >"$dir/check.log" 2>&1 || { cat "$dir/check.log" >&2; return 1; }
	postfix -c "$dir/etc" start >"$dir/start.log" 2>&1 || { cat "$dir/start.log" >&2; return 1; }
	sg_wait_for "(echo > /dev/tcp/127.0.0.1/$sport) 2>/dev/null" 15
}

sg_postfix_pid() {
	head -1 "$1/queue/pid/master.pid" 2>/dev/null | tr -d ' '
}

sg_postfix_stop() {
	local dir=$1 pid
	pid=$(sg_postfix_pid "$dir")
	postfix -c "$dir/etc" stop >/dev/null 2>&1
	if [ -n "$pid" ]; then
		sg_wait_for "! kill -0 $pid" 10 || kill -9 "$pid" 2>/dev/null
	fi
}

sg_postfix_flush() {
	postqueue -c "$1/etc" -f >/dev/null 2>&1
}

# Wait until the private queue is empty.
sg_postfix_wait_empty() {
	sg_wait_for "test -z \"\$(find $1/queue/incoming $1/queue/active $1/queue/deferred $1/queue/maildrop -type f 2>/dev/null)\"" "${2:-30}"
}

# Messages still queued (count)
sg_postfix_queued() {
	find "$1/queue/incoming" "$1/queue/active" "$1/queue/deferred" "$1/queue/maildrop" -type f 2>/dev/null | wc -l
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
	m4 "$dir/sg.mc" > "$dir/sg.cf" 2>"$dir/m4.err" || return 1
	unshare -u sh -c "hostname mx.sg-test.example && exec $SG_SENDMAIL_ROOT/root/usr/libexec/sendmail/sendmail -C $dir/sg.cf -bd -q5s" \
		>"$dir/sendmail.log" 2>&1 || return 1
	sg_wait_for "(echo > /dev/tcp/127.0.0.1/$sport) 2>/dev/null" 15
}

sg_sendmail_stop() {
	local pid
	pid=$(head -1 "$1/sendmail.pid" 2>/dev/null)
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null
	sg_wait_for "! kill -0 $pid" 10 || kill -9 "$pid" 2>/dev/null
}
