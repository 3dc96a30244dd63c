#!/bin/bash
# t-imap — the IMAP door against a private Dovecot on 127.0.0.1 and
# 127.0.0.2 (started by this script with `dovecot -c`, stopped by pid;
# passwd-file users, maildirs in the temp dir, a CA made here):
#   - every mailbox.KEY is documented; supportgated -n checks the sections
#   - TLS: a wrong host name, a self-signed certificate, a CA the system
#     does not know and STARTTLS to a wrong name are refused before the
#     password is sent (Dovecot sees no login); each is accepted only with
#     its explicit setting; plain text on loopback when set
#   - new mail -> ticket, acknowledgement in the sink, moved to Processed;
#     a reply threads into the same ticket; IDLE latency measured
#   - broken messages (empty, unparsable, too big) flagged and passed by
#   - a restart reads copies of processed mail again: nothing twice
#   - kill -9 after the commit and before the move: after the restart no
#     duplicate, and the messages end in Processed
#   - a recreated folder (new UIDVALIDITY) is read again, nothing twice
#   - Dovecot down for 30 s while mail arrives: reconnect, all taken once
#   - IDLE and MOVE switched off in Dovecot: polling, COPY + UID EXPUNGE
#   - a 5,000-message folder in pages with bounded memory (RSS printed)
# Environment: SG_IMAP_BULK (default 5000) sizes the big folder.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x "$SG_DAEMON" ] || skip_all "supportgated not built"
srcdir=$(realpath "${top_srcdir:-.}")
man5=$srcdir/doc/supportgate.conf.5
BULK=${SG_IMAP_BULK:-5000}

# ----------------------------------------------------- needs no server
keys=$("$SG_CLI" config -d | sed -n 's/^mailbox\.\([a-z_]*\) = .*/\1/p')
ok "config -d lists the mailbox keys ($(wc -w <<<"$keys"))" test "$(wc -w <<<"$keys")" -gt 10
missing=""
for k in $keys; do
	grep -q "^\.B mailbox\.$k\$" "$man5" || missing="$missing $k"
done
is "$missing" "" "every mailbox key is documented in supportgate.conf(5)"
extra=""
for k in $(sed -n 's/^\.B mailbox\.\([a-z_]*\)$/\1/p' "$man5"); do
	grep -qx "$k" <<<"$keys" || extra="$extra $k"
done
is "$extra" "" "no stale mailbox keys in the man page"

sg_tmpdir dir
echo s3cret > "$dir/pw"
chmod 600 "$dir/pw"
sg_conf_write "$dir/bad.conf" "" 'mailbox remote {' 'host = "imap.example.com"' 'tls = "none"' 'user = "u"' \
	"password_file = \"$dir/pw\"" '}' 'mailbox nopw {' 'host = "localhost"' 'user = "u"' '}'
out=$("$SG_DAEMON" -n -c "$dir/bad.conf" 2>&1)
is "$?" 1 "-n refuses plain text to a remote host"
ok "... with file:line and the reason" grep -q "^$dir/bad.conf:[0-9]*: mailbox remote: tls = none (plain text) is allowed only for a loopback host" <<<"$out"
ok "... and a section without password_file" grep -q "mailbox nopw: password_file: a password file is required" <<<"$out"

if ! command -v dovecot >/dev/null || ! command -v openssl >/dev/null; then
	diag "dovecot or openssl not installed (Debian packages dovecot-imapd, openssl): server tests skipped"
	done_testing
fi
if [ "$(id -u)" -ne 0 ]; then
	diag "a private Dovecot that switches to the mail user needs root: server tests skipped"
	done_testing
fi

# ------------------------------------------------------- private Dovecot
dv=$dir/dv
mkdir -p "$dv/run" "$dv/mail"
chown nobody:nogroup "$dv/mail"
dv_imap=$(sg_free_port)
dv_imaps=$(sg_free_port)
[ "$dv_imap" = "$dv_imaps" ] && dv_imaps=$((dv_imap + 1))
sport=$(sg_free_port)
imapc() { python3 "$srcdir/tests/integration/imapc.py" "$dv_imap" support "$@"; }
drop() { python3 "$srcdir/tests/integration/imapc.py" - - "$@" && chown -R nobody:nogroup "$dv/mail"; }
support_dir=$dv/mail/support/.Support

# Certificates: a CA of ours, a server certificate it signs for
# "localhost" only, and a self-signed one for 127.0.0.2.
ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
(
	cd "$dv" || exit 1
	openssl req -x509 $ec -keyout ca.key -out ca.crt -subj "/CN=SG Test CA" -days 2 \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
	openssl req $ec -keyout srv.key -out srv.csr -subj "/CN=localhost" &&
	printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > srv.ext &&
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile srv.ext &&
	openssl req -x509 $ec -keyout self.key -out self.crt -subj "/CN=127.0.0.2" -days 2 \
		-addext "subjectAltName=IP:127.0.0.2"
) > "$dv/certs.log" 2>&1 || { sg_show_log "openssl failed" "$dv/certs.log"; sg_bail "cannot make certificates"; }

for u in support tls1 tls2 tls3 tls4 tls5 tls6 tls7 tls8; do echo "$u:{PLAIN}s3cret"; done > "$dv/users"

# dv_conf [LINE...]: the private Dovecot's configuration plus LINEs.
dv_conf() {
	cat > "$dv/dovecot.conf" <<EOF
base_dir = $dv/run
log_path = $dv/dovecot.log
instance_name = sg-test-$$
protocols = imap
listen = 127.0.0.1, 127.0.0.2
ssl = yes
ssl_cert = <$dv/srv.crt
ssl_key = <$dv/srv.key
local 127.0.0.2 {
  ssl_cert = <$dv/self.crt
  ssl_key = <$dv/self.key
}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_verbose = yes
first_valid_uid = 1
mail_location = maildir:$dv/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN $dv/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dv/mail/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    port = $dv_imap
  }
  inet_listener imaps {
    port = $dv_imaps
    ssl = yes
  }
}
service anvil {
  chroot =
}
namespace inbox {
  inbox = yes
  mailbox Support {
    auto = create
  }
  mailbox Processed {
    auto = create
  }
}
EOF
	local line
	for line in "$@"; do echo "$line"; done >> "$dv/dovecot.conf"
}

dv_start() {
	dovecot -c "$dv/dovecot.conf" >>"$dv/start.log" 2>&1 {_sg_out}>&- ||
		{ sg_show_log "dovecot did not start" "$dv/dovecot.log"; return 1; }
	sg_wait_for "_sg_port_open $dv_imap && _sg_port_open $dv_imaps" 15 ||
		{ sg_show_log "dovecot is not listening" "$dv/dovecot.log"; return 1; }
}

dv_stop() {
	local pid
	pid=$(cat "$dv/run/master.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	sg_wait_for "! kill -0 $pid" 10 || kill -9 "$pid" 2>/dev/null
	sg_wait_for "! _sg_port_open $dv_imap" 5
}

dv_conf
sg_at_exit dv_stop
dv_start || sg_bail "the private Dovecot did not start (the cause is above)"
diag "$(dovecot --version | head -1): imap 127.0.0.1:$dv_imap, imaps :$dv_imaps (127.0.0.2: self-signed)"

cli() { "$SG_CLI" -c "$conf" "$@"; }
tickets() { cli tickets | grep -c '^ *[0-9]'; }
logged() { grep -c -- "$1" "$log" 2>/dev/null || true; }

# mbox NAME HOST PORT TLS USER [LINE...]: a mailbox section.
mbox() {
	local name=$1 host=$2 port=$3 tls=$4 user=$5
	shift 5
	printf '%s\n' "mailbox $name {" "host = \"$host\"" "port = $port" "tls = \"$tls\"" "user = \"$user\"" \
		"password_file = \"$dir/pw\"" "poll_interval = 3" "reconnect_max = 2" "$@" "}"
}

# ------------------------------------------------------------------ TLS
t=$dir/tls
mkdir -p "$t"
conf=$t/sg.conf log=$t/daemon.log
ca="tls_ca_file = \"$dv/ca.crt\""
mapfile -t sections < <(
	mbox wrongname 127.0.0.1 "$dv_imaps" implicit tls1 "$ca"
	mbox selfsigned 127.0.0.2 "$dv_imaps" implicit tls2 "$ca"
	mbox unknownca localhost "$dv_imaps" implicit tls3
	mbox stls-wrongname 127.0.0.1 "$dv_imap" starttls tls4 "$ca"
	mbox allow-name 127.0.0.1 "$dv_imaps" implicit tls5 "$ca" "tls_allow_wrong_name = true"
	mbox allow-self 127.0.0.2 "$dv_imaps" implicit tls6 "tls_allow_untrusted = true"
	mbox stls-ok localhost "$dv_imap" starttls tls7 "$ca"
	mbox plain 127.0.0.1 "$dv_imap" none tls8
)
sg_conf_write "$conf" "local:$t/sg.sock" "${sections[@]}"
"$SG_DAEMON" -n -c "$conf" >"$t/check.log" 2>&1
is "$?" 0 "-n accepts eight mailbox sections"
sg_daemon_start "$conf" "$log" || sg_bail "supportgated did not start (the cause is above)"
sg_wait_for "test \$(logged 'logged in to') -ge 4 && test \$(logged 'refused') -ge 4" 20
sg_daemon_stop
ok "wrong host name refused, and said so" grep -q "mailbox wrongname: TLS certificate of 127.0.0.1 refused: the certificate is not issued for host 127.0.0.1 (subject CN=localhost, issuer CN=SG Test CA); set tls_allow_wrong_name = true" "$log"
ok "self-signed refused, and said so" grep -q "mailbox selfsigned: TLS certificate of 127.0.0.2 refused: the certificate is self-signed: .*tls_allow_untrusted = true" "$log"
ok "a CA not in the system store refused" grep -q "mailbox unknownca: TLS certificate of localhost refused: .*issuer is unknown" "$log"
ok "STARTTLS to a wrong name refused" grep -q "mailbox stls-wrongname: TLS certificate of 127.0.0.1 refused" "$log"
for u in tls1 tls2 tls3 tls4; do
	is "$(grep -c "<$u>" "$dv/dovecot.log")" 0 "refused certificate: Dovecot never saw user $u (no password sent)"
done
ok "the right name with our CA logs in (STARTTLS)" grep -q "mailbox stls-ok: logged in to localhost:$dv_imap as tls7 (STARTTLS; IDLE MOVE UIDPLUS)" "$log"
ok "wrong name accepted with tls_allow_wrong_name" grep -q "mailbox allow-name: logged in to 127.0.0.1" "$log"
ok "... with a warning" grep -q "mailbox allow-name: TLS certificate of 127.0.0.1 accepted by configuration: not for this host name" "$log"
ok "self-signed accepted with tls_allow_untrusted" grep -q "mailbox allow-self: logged in to 127.0.0.2" "$log"
ok "plain text on loopback when set" grep -q "mailbox plain: logged in to 127.0.0.1:$dv_imap as tls8 (plain text;" "$log"
js=$(cli imap status --json)
ok "imap status --json: the refusal is the last error" python3 -c '
import json, sys
m = {x["name"]: x for x in json.load(sys.stdin)}
assert "not issued for host" in m["wrongname"]["last_error"] and not m["wrongname"]["connected"]
assert m["allow-name"]["last_error"] is None and m["allow-name"]["uidvalidity"] > 0
' <<<"$js"

# ----------------------------------------------------------- the door
sg_sink_start "$dir/sink" "$sport" || sg_bail "the capture sink did not start"
m=$dir/main
mkdir -p "$m"
conf=$m/sg.conf log=$m/daemon.log
mapfile -t sections < <(mbox main localhost "$dv_imaps" implicit support "$ca" 'folder = "Support"' \
	'size_limit = "64K"')
sg_conf_write "$conf" "local:$m/sg.sock" "template_dir = \"$srcdir/templates\"" \
	"smtp_relay = \"smtp://127.0.0.1:$sport\"" "outbound_retry_min = 1" "${sections[@]}"
sg_daemon_start "$conf" "$log" || sg_bail "supportgated did not start (the cause is above)"
sg_wait_for "grep -q 'mailbox main: logged in' $log" 10
printf 'From: Alice <alice@customer.example>\nTo: support@example.com\nSubject: printer broken\nMessage-ID: <a1@customer.example>\n\nIt prints nothing.\n' > "$dir/a1.eml"
uid=$(imapc append Support "$dir/a1.eml")
sg_wait_for "test \$(tickets) -ge 1" 10
is "$(tickets)" 1 "new mail: one ticket"
ok "... read through the IMAP door" grep -q "qid=main/$uid ticket=1 new from=<alice@customer.example>" "$log"
sg_wait_for "test \$(sg_sink_count $dir/sink) -ge 1" 15
ok "acknowledgement in the outbound sink" grep -q '^RCPT alice@customer.example' "$dir/sink/msg-000001.env"
sg_wait_for "test \$(imapc count Processed) -ge 1" 10
is "$(imapc count Support Processed | tr '\n' ' ')" "0 1 " "moved to Processed"
ack_id=$(sed -n 's/^Message-I[dD]: <\(.*\)>\r\?$/\1/p' "$dir/sink/msg-000001.eml" | head -1)
printf 'From: Alice <alice@customer.example>\nTo: support@example.com\nSubject: Re: [ACME #1] printer broken\nMessage-ID: <a2@customer.example>\nIn-Reply-To: <%s>\n\nStill nothing.\n' "$ack_id" > "$dir/a2.eml"
imapc append Support "$dir/a2.eml" >/dev/null
sg_wait_for "grep -q 'msgid=<a2@customer.example>' $log" 10
is "$(tickets)" 1 "the reply made no new ticket"
is "$(cli show 1 --json | python3 -c '
import json, sys
print(" ".join(m["message_id"] for m in json.load(sys.stdin)["messages"] if m["direction"] == "in"))')" \
	"a1@customer.example a2@customer.example" "the reply threads into ticket 1"

# IDLE latency: append, then time until the ingest line is in the log.
lat=$(imapc latency Support "$log" 5 main)
diag "IDLE latency (APPEND to committed ticket), seconds: $lat"
max=$(tr ' ' '\n' <<<"$lat" | sort -n | tail -1)
ok "IDLE: every message ingested within 2 s (max $max s)" python3 -c "import sys; sys.exit(0 if $max < 2.0 else 1)"
sg_wait_for "test \$(imapc count Support) -eq 0" 10
js=$(cli imap status --json)
ok "imap status: connected with IDLE, checkpoint and counts" python3 -c '
import json, sys
x = json.load(sys.stdin)[0]
assert x["connected"] and x["mode"] == "idle", x
assert x["last_uid"] >= 7 and x["ingested"] == 7 and x["ingested_since_start"] == 7, x
assert x["last_poll"] and x["last_error"] is None, x
' <<<"$js"
ok "imap status (text)" grep -q '^main  *yes, idle' <(cli imap status)

# Broken mail: empty, not a message at all, too big; then a good one.
: > "$dir/empty.eml"
printf '\001\002\003' > "$dir/junk.eml"
python3 -c 'import sys; sys.stdout.write("From: big@customer.example\nSubject: big\nMessage-ID: <big@customer.example>\n\n" + "x" * 80000 + "\n")' > "$dir/big.eml"
printf 'From: Bob <bob@customer.example>\nTo: support@example.com\nSubject: after the broken ones\nMessage-ID: <b1@customer.example>\n\nHello.\n' > "$dir/b1.eml"
before=$(tickets)
drop put "$support_dir" "$dir/empty.eml"   # Dovecot refuses to APPEND 0 bytes; a maildir file is taken
sg_wait_for "grep -q 'is empty: flagged' $log" 10
for f in junk big; do imapc append Support "$dir/$f.eml" > "$dir/$f.uid"; done
imapc append Support "$dir/b1.eml" >/dev/null
sg_wait_for "grep -q 'msgid=<b1@customer.example>' $log" 15
ok "the message after the broken ones is ingested" grep -q 'msgid=<b1@customer.example>' "$log"
is "$(tickets)" "$((before + 2))" "tickets: the unparsable bytes (stored raw) and the good one"
ok "empty message logged with mailbox and UID" grep -q "mailbox main: UID [0-9]* is empty: flagged and left in Support" "$log"
ok "unparsable message stored raw and flagged" grep -q "mailbox main: UID $(cat "$dir/junk.uid") cannot be parsed (stored raw): flagged" "$log"
ok "too big: not fetched, flagged" grep -q "mailbox main: UID $(cat "$dir/big.uid") is larger than size_limit" "$log"
sg_wait_for "test \$(imapc count Support) -le 3" 10
flags=$(imapc flags Support)
diag "left in Support: $(tr '\n' ';' <<<"$flags")"
is "$(grep -c 'Flagged.*SupportgateFailed\|SupportgateFailed.*Flagged' <<<"$flags")" 3 "the three broken ones stay, flagged"

# A restart, and copies of processed mail in the folder again: nothing twice.
sg_daemon_stop
n0=$(tickets)
imapc copy Processed Support
sg_daemon_start "$conf" "$log" || diag "restart failed"
sg_wait_for "test \$(imapc count Support) -le 3" 20
is "$(imapc count Support)" 3 "after a restart the copies are read and moved"
is "$(tickets)" "$n0" "... as duplicates: no new ticket"

# kill -9 after the commit and before the move: the poller moves a page
# (100 UIDs) after its messages are committed; SIGSTOP as soon as the
# first commit is logged freezes it with committed messages not yet moved.
sg_daemon_stop
n0=$(tickets)
p0=$(imapc count Processed)
CRASH=400
drop bulk "$support_dir" $CRASH crash
lines0=$(logged 'qid=main/')
stored0=$(grep -cE 'qid=main/[0-9]+ ticket=[1-9][0-9]* (new|follow-up) ' "$log" 2>/dev/null || true)
rm -f "$m/supportgated.pid"
# The watcher starts first and finds the daemon by its pid file: the
# poller begins before the daemon says it is ready.
ready0=$(logged ' ready (pid')
python3 - "$log" "$m/supportgated.pid" "$lines0" "$ready0" > "$m/watcher.log" 2>&1 <<'PY' &
import os, signal, sys, time
log, pidfile, n0, r0 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t0, pid = time.time(), 0
while time.time() - t0 < 30:
    if not pid:
        try:
            pid = int(open(pidfile).read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.001)
        continue
    text = open(log, errors="replace").read()
    # after "ready" (so the start helper sees it), at the first commit
    if text.count(" ready (pid") > r0 and text.count("qid=main/") > n0:
        os.kill(pid, signal.SIGSTOP)
        print("stopped", pid)
        break
    time.sleep(0.001)
PY
watcher=$!
sg_daemon_start "$conf" "$log" || diag "restart failed"
wait "$watcher"
diag "watcher: $(cat "$m/watcher.log")"
# stored: the lines of mail that made or joined a ticket (not every line
# with a qid: an error or a warning names one too)
committed=$(( $(grep -cE 'qid=main/[0-9]+ ticket=[1-9][0-9]* (new|follow-up) ' "$log" 2>/dev/null || true) - stored0 ))
kill -9 "$sg_daemon_pid"
kill -CONT "$sg_daemon_pid" 2>/dev/null
wait "$sg_daemon_pid" 2>/dev/null
# A MOVE sent just before the stop may still be carried out by Dovecot:
# count what was moved once the count is steady, after the kill (2 s
# without a change: a loaded machine's Dovecot once finished one after a
# 0.5 s pause, and the test then expected a sweep of a message already
# moved)
p1=$(imapc count Processed) same=0
while [ "$same" -lt 4 ]; do
	sleep 0.5
	p=$(imapc count Processed)
	if [ "$p" = "$p1" ]; then same=$((same + 1)); else p1=$p same=0; fi
done
diag "kill -9 with $committed of $CRASH committed and $((p1 - p0)) moved"
left=$((committed - (p1 - p0)))
if [ "$left" -gt 0 ]; then
	ok "killed between commit and move (committed $committed > moved $((p1 - p0)))" true
else
	skip 1 "stopped right after a move: nothing committed is left to sweep this time"
fi
after=$(wc -l < "$log")
sg_daemon_start "$conf" "$log" || diag "restart after kill -9 failed"
sg_wait_for "test \$(imapc count Processed) -ge $((p0 + CRASH))" 60
is "$(tickets)" "$((n0 + CRASH))" "after kill -9 and restart: $CRASH tickets, none twice"
is "$(imapc count Support Processed | tr '\n' ' ')" "3 $((p0 + CRASH)) " "all $CRASH in Processed, only the broken ones left"
if [ "$left" -gt 0 ]; then
	# by the sweep of what is at or below the checkpoint, or (when the next
	# session fetched them first) as duplicates: never a second ticket
	swept='mailbox main: [0-9]* message\(s\) at or below UID [0-9]* were stored but not yet moved: now|qid=main/[0-9]+ ticket=[0-9]+ duplicate'
	ok "the committed ones were moved by the next session" grep -qE "$swept" <(tail -n +"$((after + 1))" "$log")
	tail -n +"$((after + 1))" "$log" | grep -qE "$swept" ||
		diag "after the restart: $(tail -n +"$((after + 1))" "$log" | grep -E 'qid=main/|mailbox main' | head -3)"
else
	skip 1 "nothing was left to sweep"
fi
ok "one ticket per message" python3 -c "
import json, sys, collections
c = collections.Counter(t['subject'] for t in json.load(sys.stdin) if t['subject'].startswith('crash '))
assert len(c) == $CRASH and max(c.values()) == 1, c
" < <(cli tickets --json)

# A new UIDVALIDITY: the folder recreated with the processed mail in it.
sg_daemon_stop
n0=$(tickets)
uv0=$(imapc uidvalidity Support)
imapc recreate Support Processed
uv1=$(imapc uidvalidity Support)
ok "the folder has a new UIDVALIDITY ($uv0 -> $uv1)" test "$uv0" != "$uv1"
inbox=$(imapc count Support)
sg_daemon_start "$conf" "$log" || diag "restart failed"
sg_wait_for "test \$(imapc count Support) -eq 0" 60
ok "UIDVALIDITY change noticed" grep -q "mailbox main: UIDVALIDITY changed from $uv0 to $uv1: reading the folder again from UID 1" "$log"
is "$(imapc count Support)" 0 "all $inbox messages read again and moved"
is "$(tickets)" "$n0" "... without a new ticket"

# Dovecot down for 30 s while mail arrives.
n0=$(tickets)
dv_stop
drop bulk "$support_dir" 3 outage
sleep 30
js=$(cli imap status --json)
ok "while Dovecot is down: not connected, the error kept" python3 -c '
import json, sys
x = json.load(sys.stdin)[0]
assert not x["connected"] and x["last_error"], x
' <<<"$js"
diag "last error while down: $(python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["last_error"])' <<<"$js")"
dv_start || sg_bail "Dovecot did not start again"
t0=$(date +%s)
sg_wait_for "test \$(tickets) -ge $((n0 + 3))" 30
diag "ingested $(( $(date +%s) - t0 )) s after Dovecot came back"
is "$(tickets)" "$((n0 + 3))" "after the outage: the 3 messages, once each"
ok "reconnect attempts were logged" grep -q "mailbox main: connect (TLS): cannot connect" "$log"

# IDLE and MOVE switched off in Dovecot: polling, COPY + UID EXPUNGE.
dv_stop
dv_conf "imap_capability = IMAP4rev1 LITERAL+ UIDPLUS"
dv_start || sg_bail "Dovecot did not start again"
sg_wait_for "grep -q 'logged in to localhost:$dv_imaps as support (TLS; UIDPLUS)' $log" 90
ok "without IDLE and MOVE in the capabilities" grep -q "logged in to localhost:$dv_imaps as support (TLS; UIDPLUS)" "$log"
n0=$(tickets)
p0=$(imapc count Processed)
printf 'From: Carol <carol@customer.example>\nTo: support@example.com\nSubject: polled\nMessage-ID: <c1@customer.example>\n\nHi.\n' > "$dir/c1.eml"
imapc append Support "$dir/c1.eml" >/dev/null
sg_wait_for "test \$(imapc count Processed) -gt $p0" 60
is "$(tickets)" "$((n0 + 1))" "poll mode: ingested"
is "$(imapc count Support Processed | tr '\n' ' ')" "0 $((p0 + 1)) " "... and moved with COPY + UID EXPUNGE"
ok "imap status says polling" grep -q '^main  *yes, polling' <(cli imap status)

# A reload (SIGUSR1): a section added starts its poller, a removed one
# stops; the others keep their sessions.
cp "$conf" "$conf.orig"
mbox second 127.0.0.1 "$dv_imap" none tls8 >> "$conf"
kill -USR1 "$sg_daemon_pid"
sg_wait_for "grep -q 'mailbox second: logged in' $log" 10
ok "reload: an added section starts its poller" grep -q "mailbox second: logged in to 127.0.0.1:$dv_imap as tls8" "$log"
cp "$conf.orig" "$conf"
kill -USR1 "$sg_daemon_pid"
sg_wait_for "grep -q 'mailbox second: poller stopped' $log" 10
ok "reload: a removed section's poller stops" grep -q "mailbox second: removed from the configuration: stopping its poller" "$log"
ok "... and the other section keeps its session" test "$(logged 'mailbox main: server, login or folder changed')" -eq 0

# A big folder, in pages, with bounded memory.
sg_daemon_stop
dv_stop
dv_conf
dv_start || sg_bail "Dovecot did not start again"
n0=$(tickets)
drop bulk "$support_dir" "$BULK" big
sg_daemon_start "$conf" "$log" || diag "restart failed"
rss0=$(ps -o rss= -p "$sg_daemon_pid" | tr -d ' ')
t0=$(date +%s)
sg_wait_for "test \$(imapc count Support) -eq 0" $((60 + BULK / 10))
t1=$(date +%s)
rss1=$(ps -o rss= -p "$sg_daemon_pid" | tr -d ' ')
pages=$(grep -c "mailbox main: UIDs [0-9]*-[0-9]*: [0-9]* message(s)" "$log")
diag "$BULK messages in $((t1 - t0)) s; RSS ${rss0} kB at start, ${rss1} kB after; $pages page lines in the log"
is "$(tickets)" "$((n0 + BULK))" "$BULK messages: $BULK tickets"
ok "read in pages of at most 100 UIDs" test "$(grep -c "mailbox main: UIDs [0-9]*-[0-9]*: 100 message(s)" "$log")" -ge $((BULK / 100 - 1))
if [ -n "${SG_SANITIZED:-}" ]; then
	# AddressSanitizer keeps freed memory in quarantine (256 MB by default)
	ok "memory bounded (ASan build: quarantine included, under 384 MB)" test $((rss1 - rss0)) -lt 393216
else
	ok "memory bounded: RSS grew by less than 64 MB" test $((rss1 - rss0)) -lt 65536
fi

sg_daemon_stop
ok "the poller stopped with the daemon" grep -q "mailbox main: poller stopped" "$log"
san=$(grep -h -E 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$t/daemon.log" "$m/daemon.log")
is "$san" "" "no sanitizer report in the daemon's logs"
done_testing
