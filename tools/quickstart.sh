#!/bin/bash
# quickstart.sh — the main job, in one command, on a fresh Debian 12 box:
# install packages (as root), build in build/, then under run/:
#   - write supportgate.conf and start supportgated (milter on 127.0.0.1)
#   - start a capture SMTP sink (stands in for the support mailbox server)
#   - start a private Postfix on 127.0.0.1 with smtpd_milters -> supportgated
#   - send the sample mails in tests/mail/quickstart/ through Postfix
#   - print the tickets and what the sink received
# Everything it starts keeps running so you can look around; stop it with
#   sh tools/quickstart.sh stop
# Needs bash (the helpers use /dev/tcp); re-run under it when started by sh.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
run=$top/run
cd "$top" || exit 1
. "$top/tests/integration/lib.sh"

stop_all() {
	[ -f "$run/postfix/etc/main.cf" ] && sg_postfix_stop "$run/postfix"
	[ -f "$run/sink/sink.pid" ] && sg_sink_stop "$run/sink"
	if [ -f "$run/supportgated.pid" ]; then
		kill "$(cat "$run/supportgated.pid")" 2>/dev/null
		sg_wait_for "! test -e $run/supportgated.pid" 20
	fi
}

if [ "${1:-}" = stop ]; then
	stop_all
	echo "quickstart: stopped (data kept in $run)"
	exit 0
fi

sh tools/deps.sh test || exit 1
echo "quickstart: building in build/ (log: build/make.out)"
if [ ! -x build/supportgated ]; then
	autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; exit 1; }
	mkdir -p build
	(cd build && ../configure >configure.out 2>&1) || { tail -20 build/configure.out; exit 1; }
fi
make -C build -j"$(nproc)" >build/make.out 2>&1 || { tail -30 build/make.out; exit 1; }

stop_all
rm -rf "$run"
mkdir -p "$run/sink" "$run/postfix"
mport=$(sg_free_port); sport=$(sg_free_port); pport=$(sg_free_port)
cat > "$run/supportgate.conf" <<CONF
# Written by tools/quickstart.sh; see supportgate.conf(5).
socket = "inet:$mport@127.0.0.1"
state_dir = "$run/state"
pid_file = "$run/supportgated.pid"
support_address = {"support@example.com"}
ticket_tag = "ACME"
log_level = "info"
support_name = "ACME Support"
template_dir = "$top/templates"
# The commented example rules: queues, agents, segments, EN/RU keywords.
rules_file = "$top/rules/examples/supportgate.rules"
# Our acknowledgements go out through the same private Postfix; they are
# not support mail, so the milter lets them pass at DATA.
smtp_relay = "smtp://127.0.0.1:$pport"
outbound_retry_min = 2
CONF
ln -sf "$top/build/supportgate" "$run/supportgate-bin"
cat > "$run/supportgate" <<SH
#!/bin/sh
exec "$top/build/supportgate" -c "$run/supportgate.conf" "\$@"
SH
chmod +x "$run/supportgate"

build/supportgated -n -c "$run/supportgate.conf" || exit 1
build/supportgated -f -c "$run/supportgate.conf" 2>"$run/supportgated.log" &
sg_wait_for "grep -q ready $run/supportgated.log" 20 || { cat "$run/supportgated.log"; exit 1; }
echo "quickstart: supportgated listening on inet:$mport@127.0.0.1 (log: run/supportgated.log)"
sg_sink_start "$run/sink" "$sport" || exit 1
echo "quickstart: capture sink on 127.0.0.1:$sport (mail lands in run/sink/)"
sg_postfix_start "$run/postfix" "$pport" "$sport" "inet:127.0.0.1:$mport" || exit 1
echo "quickstart: private Postfix on 127.0.0.1:$pport (spool run/postfix/, log run/postfix/maillog)"

for f in tests/mail/quickstart/*.eml; do
	from=$(sed -n 's/^From:.*<\(.*\)>.*/\1/p;s/^From: *\([^ <]*@[^ >]*\) *$/\1/p' "$f" | head -1)
	to=$(sed -n 's/^To: *\(.*\)$/\1/p' "$f" | head -1)
	sg_send_mail "$pport" "$from" "$to" "$f" && echo "  sent $(basename "$f") to $to"
	sleep 0.3
done
sg_postfix_flush "$run/postfix"
sg_postfix_wait_empty "$run/postfix" 30
# 6 sample mails + 3 acknowledgements (not for the out-of-office reply)
sg_wait_for "test \$(ls $run/sink/*.eml 2>/dev/null | wc -l) -ge 9" 30
sleep 1

echo
echo "== Tickets (run/supportgate tickets)"
"$run/supportgate" tickets
echo
echo "== Agents (run/supportgate agents)"
"$run/supportgate" agents
echo
echo "== What the relay delivered (run/sink/): mail to the support mailbox, and our acknowledgements"
for m in "$run"/sink/*.eml; do
	printf '%s\n' "--- $(basename "$m"): to $(sed -n 's/^RCPT //p' "${m%.eml}.env" | tr '\n' ' ')"
	grep -E '^(Subject|X-Support-[A-Za-z]+|Reply-To|Auto-Submitted|In-Reply-To):' "$m" | sed 's/^/    /'
done
echo
echo "== Timeline of ticket 1 (run/supportgate show 1)"
"$run/supportgate" show 1
echo
echo "quickstart: still running. Try: run/supportgate show 1"
echo "quickstart: stop with: sh tools/quickstart.sh stop"
