#!/bin/bash
# t-postfix-log — an admin follows a mail from Postfix's log to the ticket
# and back: a private Postfix (its own maillog) with supportgated as its
# milter, and the daemon's own mail submitted through that same Postfix.
# The daemon's line for the incoming mail carries Postfix's queue id and
# the ticket; its line for the acknowledgement carries the Message-ID and
# the relay's reply, whose queue id Postfix logs with that Message-ID.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x /usr/sbin/postfix ] || skip_all "postfix not installed (Debian package postfix)"
[ "$(id -u)" -eq 0 ] || skip_all "a private Postfix instance needs root"
mail=$top_srcdir/tests/mail/quickstart

sg_tmpdir dir
sg_stack_ports
sg_stack_start "$dir" "template_dir = \"$top_srcdir/templates\"" "smtp_relay = \"smtp://127.0.0.1:$sg_pport\"" ||
	sg_bail "set-up failed (the cause is above)"
ok "postfix, sink and daemon up" kill -0 "$sg_daemon_pid"

ok "new support mail accepted" sg_send_mail "$sg_pport" alice@customer.example support@example.com "$mail/01-new-en.eml"
# the mail itself and the acknowledgement, both through Postfix to the sink
sg_wait_for "test \$(sg_sink_count $sg_sink) -ge 2" 30
is "$(sg_sink_count "$sg_sink")" 2 "the sink got the mail and the acknowledgement"
maillog=$sg_pf/maillog
sg_wait_for "grep -q 'queued as' '$sg_log'" 20

# Postfix -> ticket: the queue id Postfix gave the incoming mail.
in_qid=$(sed -n 's/.* \([0-9A-F]\{6,\}\): message-id=<qs-01\.alice@customer\.example>.*/\1/p' "$maillog" | head -1)
ok "postfix logged the incoming mail's queue id ($in_qid)" test -n "$in_qid"
ok "the daemon's line for it names that queue id, the ticket and the verdict" \
	grep -qE "info: ingest: qid=$in_qid ticket=1 new from=<alice@customer.example>" "$sg_log"

# Ticket -> Postfix: the acknowledgement's Message-ID and the relay's queue id.
line=$(grep -E 'info: outbound: ticket=1 job [0-9]+: .*delivered msgid=' "$sg_log" | head -1)
ok "the delivery line: $line" test -n "$line"
ack_mid=$(sed -n 's/.* msgid=<\([^>]*\)>.*/\1/p' <<<"$line")
out_qid=$(sed -n 's/.*relay="250 .*queued as \([0-9A-F]\{6,\}\)".*/\1/p' <<<"$line")
ok "it names the relay's queue id ($out_qid)" test -n "$out_qid"
ok "Postfix logged that queue id with the same Message-ID" grep -q "$out_qid: message-id=<$ack_mid>" "$maillog"
ok "and the acknowledgement the sink got has that Message-ID" \
	grep -qil "^Message-ID: <$ack_mid>" "$sg_sink"/msg-*.eml
done_testing
