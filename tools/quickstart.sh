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
# Every step that fails says why (the tail of the failing server's log).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
run=$top/run
cd "$top" || exit 1
# lib.sh: plain messages (no TAP), servers left running, our binaries.
SG_TAP=0 SG_KEEP_RUNNING=1
SG_DAEMON=$top/build/supportgated
top_srcdir=$top
. "$top/tests/integration/lib.sh"

stop_all() {
	local pid
	sg_postfix_stop "$run/postfix"
	sg_sink_stop "$run/sink"
	if [ -f "$run/supportgated.pid" ]; then
		pid=$(cat "$run/supportgated.pid")
		kill "$pid" 2>/dev/null
		sg_wait_for "! kill -0 $pid" 20 || kill -9 "$pid" 2>/dev/null
	fi
}

# A step failed: its cause is printed above; stop what was started.
fail() {
	echo "quickstart: $*" >&2
	stop_all
	exit 1
}

if [ "${1:-}" = stop ]; then
	[ -d "$run" ] || { echo "quickstart: nothing to stop ($run does not exist)"; exit 0; }
	sg_own_dir "$run"
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

if [ -d "$run" ]; then
	sg_own_dir "$run"
	stop_all
	rm -rf -- "$run"
fi
sg_own_dir "$run"
sg_stack_ports
sg_stack_start "$run" \
	'# Written by tools/quickstart.sh; see supportgate.conf(5).' \
	'log_level = "info"' \
	'support_name = "ACME Support"' \
	"template_dir = \"$top/templates\"" \
	'# The commented example rules: queues, agents, segments, EN/RU keywords.' \
	"rules_file = \"$top/rules/examples/supportgate.rules\"" \
	'# Our acknowledgements go out through the same private Postfix; they are' \
	'# not support mail, so the milter lets them pass at DATA.' \
	"smtp_relay = \"smtp://127.0.0.1:$sg_pport\"" \
	'outbound_retry_min = 2' ||
	fail "could not start the daemon, the sink and Postfix (the cause is above); logs in $run"
ln -sf "$top/build/supportgate" "$run/supportgate-bin"
cat > "$run/supportgate" <<SH
#!/bin/sh
exec "$top/build/supportgate" -c "$run/supportgate.conf" "\$@"
SH
chmod +x "$run/supportgate"
echo "quickstart: supportgated listening on inet:$sg_mport@127.0.0.1 (log: run/supportgated.log)"
echo "quickstart: capture sink on 127.0.0.1:$sg_sport (mail lands in run/sink/)"
pfroot=$(_sg_postfix_root "$run/postfix")
if [ "$pfroot" = "$run/postfix" ]; then
	echo "quickstart: private Postfix on 127.0.0.1:$sg_pport (spool run/postfix/, log run/postfix/maillog)"
else
	echo "quickstart: private Postfix on 127.0.0.1:$sg_pport (spool $pfroot, reachable by the postfix user; log run/postfix/maillog)"
fi

for f in tests/mail/quickstart/*.eml; do
	from=$(sed -n 's/^From:.*<\(.*\)>.*/\1/p;s/^From: *\([^ <]*@[^ >]*\) *$/\1/p' "$f" | head -1)
	to=$(sed -n 's/^To: *\(.*\)$/\1/p' "$f" | head -1)
	sg_send_mail "$sg_pport" "$from" "$to" "$f" && echo "  sent $(basename "$f") to $to"
	sleep 0.3
done
sg_postfix_flush "$run/postfix"
sg_postfix_wait_empty "$run/postfix" 30
# 6 sample mails + 3 acknowledgements (not for the out-of-office reply)
if ! sg_wait_for "test \$(sg_sink_count $(printf %q "$run/sink")) -ge 9" 30; then
	echo "quickstart: only $(sg_sink_count "$run/sink") of 9 messages reached the sink after 30 s;" \
		"$(sg_postfix_queued "$run/postfix") still queued in Postfix" >&2
	sg_show_log "private Postfix" "$run/postfix/maillog"
	sg_show_log "supportgated" "$run/supportgated.log"
fi
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
