#!/bin/bash
# t-postfix — supportgated behind a real, private Postfix on 127.0.0.1
# (inet milter socket), relaying to a capture sink. A new support mail, a
# reply, a non-support mail and one with forged X-Support headers; mixed
# recipients; rules loaded by SIGUSR1 re-routing support mail; then 200
# messages over one SMTP session (the delayed-ACK pitfall).
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x /usr/sbin/postfix ] || skip_all "postfix not installed (Debian package postfix)"
[ "$(id -u)" -eq 0 ] || skip_all "a private Postfix instance needs root"
mail=$top_srcdir/tests/mail/quickstart

sg_tmpdir dir
sg_stack_start "$dir" || sg_bail "set-up failed (the cause is above)"
cli() { "$SG_CLI" -c "$sg_conf" "$@"; }
ok "postfix, sink and daemon up" kill -0 "$sg_daemon_pid"

send() { sg_send_mail "$sg_pport" "$1" "$2" "$3"; }
ok "new support mail accepted" send alice@customer.example support@example.com "$mail/01-new-en.eml"
sg_wait_for "test \$(sg_sink_count $sg_sink) -ge 1" 20
ok "reply accepted" send alice@customer.example support@example.com "$mail/03-reply-en.eml"
sg_wait_for "test \$(sg_sink_count $sg_sink) -ge 2" 20
ok "non-support mail accepted" send carol@partner.example sales@example.com "$mail/06-not-support.eml"
sg_wait_for "test \$(sg_sink_count $sg_sink) -ge 3" 20
ok "forged-header mail accepted" send mallory@elsewhere.example support@example.com "$mail/05-forged-header.eml"
sg_wait_for "test \$(sg_sink_count $sg_sink) -ge 4" 20
is "$(sg_sink_count "$sg_sink")" 4 "sink received 4 messages"

by_id() { sg_sink_by_id "$sg_sink" "$1"; }
hdr() { sg_hdr "$@"; }
m1=$(by_id qs-01.alice@customer.example)
m3=$(by_id qs-03.alice@customer.example)
m5=$(by_id qs-05.mallory@elsewhere.example)
m6=$(by_id qs-06.carol@partner.example)
is "$(hdr "$m1" Subject)" "[ACME #1] Invoice 2026-114 shows the wrong VAT rate" "new mail: subject carries the token"
is "$(hdr "$m1" X-Support-Ticket)" 1 "new mail: X-Support-Ticket"
is "$(hdr "$m1" X-Support-Queue)" default "new mail: X-Support-Queue"
is "$(hdr "$m1" X-Support-Priority)" normal "new mail: X-Support-Priority"
is "$(hdr "$m1" Reply-To)" support@example.com "new mail: Reply-To is the support address"
is "$(hdr "$m3" X-Support-Ticket)" 1 "reply threads into ticket 1"
is "$(hdr "$m3" Subject)" "[ACME #1] Re: Invoice 2026-114 shows the wrong VAT rate" "reply subject gets the token once"
is "$(grep -c '^X-Support-Ticket:' "$m5")" 1 "forged: exactly one X-Support-Ticket"
is "$(hdr "$m5" X-Support-Ticket)" 2 "forged: our ticket number, not the injected one"
is "$(hdr "$m5" X-Support-Priority)" normal "forged: injected priority removed"
is "$(grep -c '^X-Support-' "$m6")" 0 "non-support: no headers added"
cmp_out=$(diff <(sg_strip_received "$m6") <(tr -d '\r' < "$mail/06-not-support.eml") 2>&1)
is "$cmp_out" "" "non-support mail passes byte-identical (minus Received)"
is "$(sed -n 's/^RCPT //p' "${m6%.eml}.env")" sales@example.com "non-support envelope untouched"
is "$(sed -n 's/^RCPT //p' "${m1%.eml}.env")" support@example.com "support envelope delivered"

# Mixed recipients: ticketed, content left as it came for everyone.
ok "mixed-recipient mail accepted" send dora@customer.example "support@example.com,sales@example.com" "$top_srcdir/tests/mail/multipart-attach.eml"
sg_wait_for "test \$(sg_sink_count $sg_sink) -ge 5" 20
m7=$(by_id att.1@customer.example)
is "$(grep -c '^X-Support-' "$m7")" 0 "mixed: no headers added (other recipients get it unmodified)"
is "$(hdr "$m7" Subject)" "Screenshot of the error" "mixed: subject unchanged"
is "$(sed -n 's/^RCPT //p' "${m7%.eml}.env" | sort | tr '\n' ' ')" "sales@example.com support@example.com " "mixed: both recipients delivered"

json=$(cli tickets --json)
is "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$json")" 3 "store holds 3 tickets (mixed one included)"
is "$(python3 -c 'import json,sys; t=json.load(sys.stdin); print(t[0]["messages"], t[0]["requestor"])' <<<"$json")" \
	"2 alice@customer.example" "ticket 1 has the mail and the reply"
ok "daemon log carries queue id and ticket id" grep -qE 'qid=[0-9A-F]+ ticket=1 ' "$sg_log"

# Rules loaded by SIGUSR1: support mail re-routed to the queue's mailbox
# (or the assignee), the X-Support headers show the queue.
cat > "$dir/sg.rules" <<RULES
agent anna@example.com
queue billing mailbox=billing@example.com agents=anna@example.com strategy=none
queue tech mailbox=tech@example.com agents=anna@example.com strategy=round-robin
rule billing: subject ~ /invoice/i => queue billing, priority high
rule tech: subject ~ /broken/i => queue tech, assign
RULES
echo "rules_file = \"$dir/sg.rules\"" >> "$sg_conf"
kill -USR1 "$sg_daemon_pid"
sg_wait_for "grep -q 'configuration reloaded' $sg_log" 10
n0=$(sg_sink_count "$sg_sink")
printf 'From: erin@customer.example\nTo: support@example.com\nSubject: Invoice missing\nMessage-ID: <route-1@customer.example>\n\nWhere is it?\n' > "$dir/route1.eml"
printf 'From: erin@customer.example\nTo: support@example.com\nSubject: Printer broken\nMessage-ID: <route-2@customer.example>\n\nIt is broken.\n' > "$dir/route2.eml"
ok "routed mail 1 accepted" send erin@customer.example support@example.com "$dir/route1.eml"
ok "routed mail 2 accepted" send erin@customer.example support@example.com "$dir/route2.eml"
sg_wait_for "test \$(sg_sink_count $sg_sink) -ge $((n0 + 2))" 20
r1=$(by_id route-1@customer.example); r2=$(by_id route-2@customer.example)
is "$(sed -n 's/^RCPT //p' "${r1%.eml}.env")" billing@example.com "re-routed to the queue's mailbox"
is "$(hdr "$r1" X-Support-Queue) $(hdr "$r1" X-Support-Priority)" "billing high" "queue and priority headers"
is "$(sed -n 's/^RCPT //p' "${r2%.eml}.env")" anna@example.com "re-routed to the assignee"
sed -i '$d' "$sg_conf"
kill -USR1 "$sg_daemon_pid"
sg_wait_for "test \$(grep -c 'configuration reloaded' $sg_log) -ge 2" 10

# 200 messages over SMTP sessions on an inet socket: no 40 ms stalls. A
# delayed-ACK stall costs 40 ms or more on every message, whatever the
# load; a busy machine only slows some batches: the fastest of five
# batches of 40 tells the two apart.
best=999999; total=0
for b in 1 2 3 4 5; do
	start=$(date +%s%N)
	sg_send_mail "$sg_pport" bulk@customer.example support@example.com "$mail/01-new-en.eml" 40 || { best=-1; break; }
	end=$(date +%s%N)
	per=$(( (end - start) / 40000000 ))
	total=$(( total + (end - start) / 1000000 ))
	[ "$per" -lt "$best" ] && best=$per
done
diag "200 messages in $total ms; the fastest batch of 40: ${best} ms each (with a synced commit per message)"
ok "200 messages over five sessions" test "$best" -ge 0
if [ -n "${SG_SANITIZED:-}" ]; then
	skip 1 "sanitizer build: its own slowness hides a stall (the plain suite checks it)"
else
	ok "well under 40 ms per message in the fastest batch (${best} ms; a delayed-ACK stall costs 40+)" test "$best" -lt 30
fi
sg_wait_for "test \$(sg_sink_count $sg_sink) -ge 207" 60
is "$(sg_sink_count "$sg_sink")" 207 "all 200 delivered"
is "$(cli tickets | grep -c '^ *[0-9]')" 205 "200 more tickets"
done_testing
