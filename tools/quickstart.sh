#!/bin/bash
# quickstart.sh — the main job, in one command, on a fresh Debian 12 box:
# install packages (as root), build in build/, then under run/:
#   - write supportgate.conf and start supportgated (milter on 127.0.0.1)
#   - start a capture SMTP sink (stands in for the support mailbox server)
#   - start a private Postfix on 127.0.0.1 with smtpd_milters -> supportgated
#   - start a private Dovecot auth service as Postfix's SASL backend, so
#     the agents (anna, boris) can send with SMTP AUTH
#   - send the sample mails in tests/mail/quickstart/ through Postfix
#   - run the conversation loop on ticket 1 (tests/mail/quickstart/loop/):
#     agent reply, commands, note, errors, a forged agent, customer reply,
#     resolution, rating, a status request; print what each step sent
#   - print the tickets, what the sink received and ticket 1's timeline
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
	sg_dovecot_stop "$run/dovecot"
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
# The log exists before the daemon starts, so sg_daemon_start's wait for
# "ready" can count it (it cannot count a file that is not there yet).
: > "$run/supportgated.log"
sg_stack_ports
sg_stack_start "$run" \
	'# Written by tools/quickstart.sh; see supportgate.conf(5).' \
	'log_level = "info"' \
	'support_name = "ACME Support"' \
	"template_dir = \"$top/templates\"" \
	'# The commented example rules: queues, agents, segments, EN/RU keywords.' \
	"rules_file = \"$top/rules/examples/supportgate.rules\"" \
	'# Agents prove who they are by SMTP AUTH: the login "anna" stands for' \
	'# anna@example.com; a login not listed is taken as the address (boris).' \
	'agent_logins = {"anna=anna@example.com"}' \
	'# Our acknowledgements go out through the same private Postfix; they are' \
	'# not support mail, so the milter lets them pass at DATA.' \
	"smtp_relay = \"smtp://127.0.0.1:$sg_pport\"" \
	'outbound_retry_min = 2' \
	'# Numbers for Prometheus (node_exporter textfile collector), rewritten every 2 s.' \
	"metrics_file = \"$run/metrics.prom\"" \
	'metrics_interval = 2' ||
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
# The agents' passwords (a passwd-file of the private Dovecot).
sg_dovecot_start "$run/dovecot" anna:anna-secret boris@example.com:boris-secret ||
	fail "could not start the private Dovecot (SMTP AUTH for the agents; the cause is above)"
sg_postfix_sasl "$run/postfix" "$sg_dovecot_socket" "$sg_pport" ||
	fail "could not turn on SMTP AUTH in the private Postfix (the cause is above)"
echo "quickstart: SMTP AUTH on 127.0.0.1:$sg_pport through a private Dovecot auth service" \
	"(logins anna / anna-secret, boris@example.com / boris-secret; log run/dovecot/dovecot.log)"

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
seen=$(sg_sink_count "$run/sink")

echo
echo "== What the relay delivered (run/sink/): mail to the support mailbox, and our acknowledgements"
for m in "$run"/sink/*.eml; do
	printf '%s\n' "--- $(basename "$m"): to $(sed -n 's/^RCPT //p' "${m%.eml}.env" | tr '\n' ' ')"
	grep -E '^(Subject|X-Support-[A-Za-z]+|Reply-To|Auto-Submitted|In-Reply-To):' "$m" | sed 's/^/    /'
done

# qs_settle: what the last mail caused has reached the sink (the daemon's
# outbound queue drained into Postfix, Postfix's queue empty); says why
# when not.
qs_settle() {
	if ! sg_wait_for "test \$($(printf %q "$run/supportgate") outbox 2>/dev/null | grep -c '^ *[0-9]') -eq 0" 30; then
		echo "quickstart: the outbound queue still holds mail after 30 s (run/supportgate outbox):" >&2
		"$run/supportgate" outbox >&2
		sg_show_log "supportgated" "$run/supportgated.log"
	fi
	if ! sg_postfix_wait_empty "$run/postfix" 30; then
		echo "quickstart: $(sg_postfix_queued "$run/postfix") message(s) still queued in Postfix after 30 s" >&2
		sg_show_log "private Postfix" "$run/postfix/maillog"
	fi
}

# step FILE LOGIN ENVELOPE-FROM WHAT: send tests/mail/quickstart/loop/FILE
# (with SMTP AUTH as LOGIN, or without when LOGIN is -), wait, print what
# the sink received because of it.
step() {
	local f=tests/mail/quickstart/loop/$1 login=$2 env=$3 what=$4 pw line
	echo "* $what"
	echo "  $1 from $env$([ "$login" = - ] && echo ", no AUTH" || echo ", AUTH as $login")"
	if [ "$login" = - ]; then
		sg_send_mail "$sg_pport" "$env" support@example.com "$f"
	else
		case $login in
		anna) pw=anna-secret ;;
		boris@example.com) pw=boris-secret ;;
		esac
		sg_send_mail_auth "$sg_pport" "$login" "$pw" "$env" support@example.com "$f"
	fi || {
		echo "quickstart: Postfix did not accept $1 (the reason is above)" >&2
		sg_show_log "private Postfix" "$run/postfix/maillog"
		sg_show_log "private Dovecot" "$run/dovecot/dovecot.log"
		return 1
	}
	qs_settle
	sleep 0.5
	sg_sink_list "$run/sink" "$seen" | while IFS=$'\t' read -r file rcpts from subject; do
		printf '    -> %s: %s\n' "${rcpts//,/, }" "$subject"
		[ "${from#*via}" != "$from" ] && printf '       From: %s\n' "$from"
	done
	[ "$(sg_sink_count "$run/sink")" -gt "$seen" ] || echo "    -> (nothing sent)"
	seen=$(sg_sink_count "$run/sink")
}

echo
echo "== The conversation loop on ticket 1 (tests/mail/quickstart/loop/; -> what the sink received)"
loop_failed=0
while IFS='|' read -r -u 3 file login env what; do
	[ -n "$file" ] || continue
	step "$file" "$login" "$env" "$what" || { loop_failed=1; break; }
done 3<<'STEPS'
10-agent-reply.eml|anna|anna@example.com|Anna (the assignee) answers from her mail client, with an attachment: one mail to the customer and the Cc, from the support address, her own address nowhere; her original is discarded
11-agent-pending.eml|boris@example.com|boris@example.com|Boris sends commands only (#status pending, #tag +vat): the customer gets just the pending notice
12-agent-note.eml|anna|anna@example.com|Anna writes #note: an internal note, copied to the queue's other agent, nothing to the customer
13-agent-bad-command.eml|anna|anna@example.com|Anna mistypes a command (#status done): she alone gets an error, nothing changes
14-forged-agent.eml|-|mallory@elsewhere.example|Someone forges Anna's From without SMTP AUTH: kept as an unverified note, relayed nowhere (the real Anna is told once)
15-customer-reply.eml|-|alice@customer.example|Alice answers the pending notice: the ticket is open again, her mail goes to Anna
16-agent-resolve.eml|anna|anna@example.com|Anna resolves with a reply (#status resolved): the reply, then the resolution notice with the rating invitation
17-customer-rating.eml|-|alice@customer.example|Alice rates the help ("4 thanks, quick help"): stored as a rating, thanked, the ticket stays resolved
18-customer-status.eml|-|ivan@klient.example|Ivan asks for the status of his requests (subject "Статус"): an answer in Russian, no new ticket
STEPS
[ "$loop_failed" = 0 ] || fail "the conversation loop stopped (the cause is above); logs in $run"
autoclose=$(sed -n 's/^autoclose_days *= *//p' "$run/supportgate.conf" | tail -1)
echo "  (Ticket 1 closes by itself ${autoclose:-7} days after its resolution (autoclose_days); a customer mail"
echo "   after that reopens it, or opens a linked ticket once reopen_days have passed."
echo "   tests/integration/t-agents.sh runs both with the daemon's clock moved on.)"

echo
echo "== Service levels: two days later (run/supportgate clock run --in 2d)"
echo "  (Every ticket has first-response and resolution targets from its SLA tier on the tier's"
echo "   business-hours calendar (rules/examples/supportgate.rules); a warning at 80% and a breach"
echo "   each fire once, with an event, an overdue reason and escalation mail.)"
"$run/supportgate" clock run --in 2d 2>/dev/null | sed 's/^/  /'
# the notices are due "two days later" too: send them now
"$run/supportgate" outbox retry --all >/dev/null
qs_settle
sleep 0.5
sg_sink_list "$run/sink" "$seen" | while IFS=$'\t' read -r file rcpts from subject; do
	printf '    -> %s: %s\n' "${rcpts//,/, }" "$subject"
done
seen=$(sg_sink_count "$run/sink")

echo
echo "== Tickets (run/supportgate tickets)"
"$run/supportgate" tickets
echo
echo "== Agents (run/supportgate agents)"
"$run/supportgate" agents
echo
echo "== Ticket 1, the whole conversation (run/supportgate show 1)"
"$run/supportgate" show 1
echo
echo "== Health at a glance (run/supportgate stats)"
"$run/supportgate" stats
echo
echo "== The managers' numbers for the last 7 days (run/supportgate report)"
"$run/supportgate" report
"$run/supportgate" report --html "$run/report.html" >/dev/null &&
	echo "  The same with charts: open run/report.html in a browser (one self-contained page)."
echo
echo "== Metrics for Prometheus (run/metrics.prom, rewritten every 2 s)"
sg_wait_for "test -s $(printf %q "$run/metrics.prom")" 10
grep -E '^supportgate_(messages_total|acks_sent_total|tickets)' "$run/metrics.prom" | awk '$NF != "0"' | head -12 | sed 's/^/  /'
echo
echo "quickstart: still running. Try: run/supportgate show 1 --json, run/supportgate outbox, ls run/sink/"
echo "quickstart: agents can send as anna / anna-secret or boris@example.com / boris-secret on 127.0.0.1:$sg_pport"
echo "quickstart: stop with: sh tools/quickstart.sh stop"
