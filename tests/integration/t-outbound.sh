#!/bin/bash
# t-outbound — acknowledgements delivered by the daemon's outbound worker
# to a real SMTP peer on 127.0.0.1 (the capture sink): delivered bytes
# (threading headers, lone dots survive SMTP), relay down -> retried ->
# delivered, 550 -> dead letter recorded on the ticket -> retry by hand;
# messages due together share one SMTP session.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x "$SG_DAEMON" ] || skip_all "supportgated not built"

sg_tmpdir dir
sport=$(sg_free_port)
# Templates: the shipped ones, with an ack whose body has SMTP-hostile lines.
cp -r "$top_srcdir/templates" "$dir/templates"
printf 'Subject: {{token}} received\n\nLine one\n.\n..\n.dot start\nend {{token}}\n' > "$dir/templates/en/ack.tmpl"
sg_conf_write "$dir/sg.conf" "local:$dir/sg.sock" "template_dir = \"$dir/templates\"" \
	"smtp_relay = \"smtp://127.0.0.1:$sport\"" "outbound_retry_min = 1"
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }
mail() {  # n: a new mail from customer n
	printf 'From: Customer %s <c%s@customer.example>\nTo: support@example.com\nSubject: help %s\nMessage-ID: <out-%s@customer.example>\n\nPlease help.\n' "$1" "$1" "$1" "$1" > "$dir/m$1.eml"
	cli ingest "$dir/m$1.eml" >/dev/null
}
sg_sink_start "$dir/sink" "$sport" || sg_bail "the capture sink did not start (the cause is above)"
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"

mail 1
sg_wait_for "test \$(sg_sink_count $dir/sink) -ge 1" 15
is "$(sg_sink_count "$dir/sink")" 1 "acknowledgement delivered by the worker"
f=$dir/sink/msg-000001.eml
is "$(sed -n 's/^RCPT //p' "${f%.eml}.env")" c1@customer.example "to the requestor"
is "$(sed -n 's/^MAIL //p' "${f%.eml}.env")" support@example.com "from the support address"
ok "threaded to the customer's mail" grep -q '^In-Reply-To: <out-1@customer.example>' "$f"
ok "Auto-Submitted: auto-replied" grep -q '^Auto-Submitted: auto-replied' "$f"
ok "lone dot line survives SMTP" grep -qx $'.\r' "$f"
ok "double dot line survives SMTP" grep -qx $'..\r' "$f"
ok "text after the dots arrived" grep -q 'end \[ACME #1\]' "$f"
is "$(cli outbox | grep -c '^ *[0-9]')" 0 "queue empty after delivery"
ok "sent event on the ticket" grep -q 'sent .*delivered' <(cli show 1)

# Relay down: deferred, then delivered when it returns.
touch "$dir/sink/FAIL"
mail 2
sg_wait_for "cli outbox | grep -q '451'" 15
ok "relay down: job deferred with the 451 text" grep -q '451' <(cli outbox)
rm -f "$dir/sink/FAIL"
sg_wait_for "test \$(sg_sink_count $dir/sink) -ge 2" 20
is "$(sg_sink_count "$dir/sink")" 2 "delivered once the relay is back"
is "$(cli outbox | grep -c '^ *[0-9]')" 0 "queue empty again"

# Permanent refusal: dead letter, recorded on the ticket; retry by hand.
touch "$dir/sink/FAIL5"
mail 3
sg_wait_for "cli outbox | grep -qE '^ *[0-9]+ +[0-9]+ +dead'" 15
ok "550: dead letter" grep -qE '^ *[0-9]+ +[0-9]+ +dead' <(cli outbox)
ok "dead letter recorded on the ticket with the reply" grep -q 'dead-letter.*550' <(cli show 3)
rm -f "$dir/sink/FAIL5"
job=$(cli outbox | awk 'NR==2 {print $1}')
ok "queue show prints the message" grep -q 'MAIL FROM:<support@example.com>' <(cli outbox show "$job")
ok "queue retry" cli outbox retry "$job"
sg_wait_for "test \$(sg_sink_count $dir/sink) -ge 3" 20
is "$(sg_sink_count "$dir/sink")" 3 "retried dead letter delivered"

# Per-ticket order and drop
touch "$dir/sink/FAIL"
mail 4
sg_wait_for "cli outbox | grep -q 451" 15
job=$(cli outbox | awk 'NR==2 {print $1}')
ok "queue drop" cli outbox drop "$job"
is "$(cli outbox | grep -c '^ *[0-9]')" 0 "dropped job gone"
rm -f "$dir/sink/FAIL"
# kill -9 between the relay's acceptance and the job's removal: the same
# message (same Message-ID) goes out once more after the restart.
touch "$dir/sink/SLOW"
before=$(sg_sink_count "$dir/sink")
mail 5
sg_wait_for "test \$(sg_sink_count $dir/sink) -gt $before" 15
kill -9 "$sg_daemon_pid"
wait "$sg_daemon_pid" 2>/dev/null
rm -f "$dir/sink/SLOW"
ok "job still queued after the crash" grep -q 'c5@customer.example' <(cli outbox)
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || diag "restart after kill -9 failed"
sg_wait_for "test \$(sg_sink_count $dir/sink) -ge $((before + 2))" 20
sleep 1
is "$(sg_sink_count "$dir/sink")" "$((before + 2))" "resent exactly once more"
is "$(grep -h '^Message-Id:' $(grep -l 'c5@customer.example' "$dir"/sink/*.env | sed 's/\.env$/.eml/') | sort -u | wc -l)" 1 \
	"both copies carry the same Message-ID"
is "$(cli outbox | grep -c '^ *[0-9]')" 0 "queue empty after the resend"

# Several messages due at once go over one SMTP session (the relay's
# connection is kept and reused): 4 acknowledgements held back by a relay
# that is down, then released together.
touch "$dir/sink/FAIL"
for n in 11 12 13 14; do mail "$n"; done
sg_wait_for "test \$(cli outbox | grep -c 451) -ge 4" 20
rm -f "$dir/sink/FAIL"
before=$(sg_sink_count "$dir/sink")
s0=$(wc -l < "$dir/sink/sessions")
cli outbox retry --all >/dev/null
sg_wait_for "test \$(sg_sink_count $dir/sink) -ge $((before + 4))" 20
is "$(sg_sink_count "$dir/sink")" "$((before + 4))" "the 4 held acknowledgements delivered"
sessions=$(( $(wc -l < "$dir/sink/sessions") - s0 ))
ok "... over at most 2 SMTP sessions, not one each ($sessions)" test "$sessions" -le 2
q=$(cat "$dir/sink/quits" 2>/dev/null | wc -l)
sg_wait_for "test \$(cat $dir/sink/quits 2>/dev/null | wc -l) -gt $q" 10
ok "once the queue is idle the kept session ends with QUIT" test "$(cat "$dir/sink/quits" 2>/dev/null | wc -l)" -gt "$q"

ok "template render with sample data" grep -q '^Subject: \[ACME #1234\] received' <(cli template render ack)
ok "template render for a ticket" grep -q 'c1@customer.example' <(cli template render resolved --ticket 1)
done_testing
