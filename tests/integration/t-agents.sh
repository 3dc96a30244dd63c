#!/bin/bash
# t-agents — the conversation loop by mail (issue 11) through a real,
# private Postfix with SMTP AUTH: Dovecot's auth service (private, a
# passwd-file with two agents) is Postfix's SASL backend, supportgated the
# milter, the capture sink the mailbox server and the daemon's relay. The
# agents are declared in rules/examples/supportgate.rules; they log in with
# Python's smtplib login() (anna as "anna", mapped by agent_logins; boris
# as his address). The mails are tests/mail/quickstart/ (the quick start
# sends the same ones). Every case asserts on what the sink received,
# parsed with Python's email package, and on the store (supportgate show).
# The automatic close runs the daemon's own timer under libfaketime (the
# daemon restarted 2 and 4 days ahead); skipped when faketime is missing.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x /usr/sbin/postfix ] || skip_all "postfix not installed (Debian package postfix)"
[ "$(id -u)" -eq 0 ] || skip_all "a private Postfix instance needs root"
command -v dovecot >/dev/null 2>&1 ||
	skip_all "dovecot not installed (Debian package dovecot-core; sh tools/deps.sh test installs it)"
mail=$top_srcdir/tests/mail/quickstart
loop=$mail/loop

sg_tmpdir dir
: > "$dir/supportgated.log"   # so sg_daemon_start can count "ready" in it from the start
sg_stack_ports
sg_stack_start "$dir" \
	'support_name = "ACME Support"' \
	"template_dir = \"$top_srcdir/templates\"" \
	"rules_file = \"$top_srcdir/rules/examples/supportgate.rules\"" \
	'agent_logins = {"anna=anna@example.com"}' \
	"smtp_relay = \"smtp://127.0.0.1:$sg_sport\"" \
	'outbound_retry_min = 2' \
	'autoclose_days = 1' \
	'reopen_days = 1' || sg_bail "set-up failed (the cause is above)"
sg_dovecot_start "$dir/dovecot" anna:anna-secret boris@example.com:boris-secret ||
	sg_bail "private Dovecot did not start (the cause is above)"
sg_postfix_sasl "$sg_pf" "$sg_dovecot_socket" "$sg_pport" || sg_bail "Postfix SMTP AUTH set-up failed (the cause is above)"
pfroot=$(_sg_postfix_root "$sg_pf")
is "$(postconf -c "$pfroot/etc" -h milter_mail_macros | tr ' ' '\n' | grep -cx '{auth_authen}')" 1 \
	"Postfix hands {auth_authen} to the milter at MAIL FROM"

cli() { "$SG_CLI" -c "$sg_conf" "$@"; }
send() { sg_send_mail "$sg_pport" "$1" support@example.com "$2"; }
send_as() { sg_send_mail_auth "$sg_pport" "$1" "$2" "$3" support@example.com "$4"; }
anna() { send_as anna anna-secret anna@example.com "$1"; }
boris() { send_as boris@example.com boris-secret boris@example.com "$1"; }
# jq-like look-ups in `supportgate show N --json` (a Python expression on t)
tj() { cli show "$1" --json | python3 -c "import json,sys; t=json.load(sys.stdin); print($2)"; }
status() { tj "$1" 't["status"]'; }

# settle: every mail the last step caused has arrived (Postfix's queue
# and the outbound queue empty, the sink holding at least $1 more), then
# 1 s more so a surplus would show. The new messages: $new, one line
# each (sg_sink_list: FILE, RCPTS, From, Subject).
seen=0
settle() {
	sg_wait_for "test \$(sg_sink_count $sg_sink) -ge $((seen + ${1:-0}))" 30
	sg_postfix_wait_empty "$sg_pf" 30
	sg_wait_for "test \$(cli outbox | grep -c '^ *[0-9]') -eq 0" 30
	sleep 1
	new=$(sg_sink_list "$sg_sink" "$seen")
	seen=$(sg_sink_count "$sg_sink")
}
nnew() { [ -n "$new" ] && printf '%s\n' "$new" | wc -l || echo 0; }
# new messages to ADDR (count) / the last one's file
to_n() { [ -n "$new" ] && printf '%s\n' "$new" | awk -F'\t' -v a="$1" '{ n += index("," $2 ",", "," a ",") > 0 } END { print n + 0 }' || echo 0; }
to_file() { printf '%s\n' "$new" | awk -F'\t' -v a="$1" 'index("," $2 ",", "," a ",") > 0 { f = $1 } END { print f }'; }
# what the new messages went to, sorted ("a@x b@y")
new_rcpts() { printf '%s\n' "$new" | cut -f2 | tr ',' '\n' | sed '/^$/d' | sort | tr '\n' ' ' | sed 's/ $//'; }
show_new() { printf '%s\n' "$new" | sed 's/^/#   /'; }
get() { sg_mail_get "$@"; }

# ---------------------------------------------------------------- 1
# A customer writes: a ticket, the copy to the assignee, the acknowledgement.
ok "customer mail accepted" send alice@customer.example "$mail/01-new-en.eml"
settle 2
is "$(new_rcpts)" "alice@customer.example anna@example.com" "customer mail: the copy to the assignee and the ack to the customer"
ack=$(to_file alice@customer.example)
is "$(get "$ack" header:Subject)" "[ACME #1] We received your request: Invoice 2026-114 shows the wrong VAT rate" \
	"the acknowledgement carries the token"
ok "the acknowledgement carries the due date" grep -q "We aim to resolve it by" <(get "$ack" text)
is "$(status 1)" new "ticket 1 is new"
is "$(tj 1 't["assignee"]')" anna@example.com "assigned to anna (round-robin in billing)"

# ---------------------------------------------------------------- 2
# Anna replies with SMTP AUTH (login "anna", mapped by agent_logins) and
# an attachment: exactly one reply reaches the customer, from the support
# address, in the customer's thread, without any address of hers.
ok "agent reply accepted (AUTH as anna)" anna "$loop/10-agent-reply.eml"
settle 1
is "$(nnew)" 1 "agent reply: the sink receives exactly one message" || show_new
r=$(to_file alice@customer.example)
is "$(get "$r" rcpts | sort | tr '\n' ' ')" "alice@customer.example bob@customer.example " \
	"to the customer and the Cc participant"
is "$(get "$r" header:From)" "Anna Berg via ACME Support <support@example.com>" "From: the agent's name via the support address"
is "$(get "$r" env-from)" support@example.com "envelope sender: the support address"
is "$(get "$r" header:Subject)" "Re: [ACME #1] Invoice 2026-114 shows the wrong VAT rate" "the subject carries the token"
is "$(get "$r" header:In-Reply-To)" "<qs-01.alice@customer.example>" "In-Reply-To: the customer's mail"
ok "References continue the customer's thread" grep -qF "<qs-01.alice@customer.example>" <(get "$r" header:References)
is "$(grep -ciE 'anna@|anna\.berg@|home\.example|qs-10\.anna' "$r")" 0 "no address of the agent in the raw message"
is "$(cat <(get "$r" headers) <(get "$r" text) | grep -ciE 'anna@|anna\.berg@|home\.example')" 0 \
	"nor in its decoded headers and text"
ok "the text travels" grep -q "The corrected invoice 2026-114-R is" <(get "$r" text)
get "$loop/10-agent-reply.eml" attachment:invoice-2026-114-R.pdf > "$dir/att.sent"
get "$r" attachment:invoice-2026-114-R.pdf > "$dir/att.got"
ok "the attachment arrives byte for byte" cmp "$dir/att.sent" "$dir/att.got"
ok "(the attachment is not empty: $(wc -c < "$dir/att.sent") bytes)" test -s "$dir/att.sent"
is "$(sg_sink_by_id "$sg_sink" qs-10.anna@example.com)" "" "the agent's original reaches no mailbox"
ok "Postfix saw the login and the milter's DISCARD" \
	sh -c "grep -q 'sasl_username=anna' '$sg_pf/maillog' && grep -q 'milter-discard' '$sg_pf/maillog'"
is "$(status 1)" open "the first reply opens the ticket"
ok "the first response is recorded" grep -q "first response" <(tj 1 '"\n".join(e["detail"] or "" for e in t["events"] if e["type"] == "reply")')

# ---------------------------------------------------------------- 3
# Commands only (boris, login = his address): the state changes, the
# customer gets only the notice the change implies.
ok "command-only mail accepted (AUTH as boris@example.com)" boris "$loop/11-agent-pending.eml"
settle 1
is "$(new_rcpts)" "alice@customer.example" "command-only: one mail, to the customer" || show_new
p=$(to_file alice@customer.example)
is "$(get "$p" header:Subject)" "[ACME #1] We need more information from you" "it is the pending notice"
ok "supportgate show: pending" grep -qE '^ *status:? *pending' <(cli show 1)
is "$(tj 1 't["status"], "vat" in t["tags"]')" "pending True" "status pending, tag vat"
ok "the commands are not echoed" test "$(grep -c '#status' "$p")" -eq 0

# ---------------------------------------------------------------- 4
# #note: nothing to the customer, a copy to the queue's other agent.
ok "#note accepted" anna "$loop/12-agent-note.eml"
settle 1
is "$(to_n alice@customer.example)" 0 "#note: nothing to the customer"
is "$(new_rcpts)" "boris@example.com" "#note: a copy to boris only" || show_new
ok "the note's text reaches boris" grep -q "key account" <(get "$(to_file boris@example.com)" text)
is "$(status 1)" pending "#note changes nothing"

# ---------------------------------------------------------------- 5
# A bad command: one error mail to the agent, nothing else.
ok "bad command accepted" anna "$loop/13-agent-bad-command.eml"
settle 1
is "$(new_rcpts)" "anna@example.com" "bad command: exactly one mail, to the agent" || show_new
e=$(to_file anna@example.com)
ok "the error quotes the bad line" grep -qF "#status done" <(get "$e" text)
is "$(grep -c 'must reach nobody' "$e")" 0 "the error does not carry the rest of the mail"
is "$(tj 1 't["status"], t["priority"]')" "pending normal" "nothing changed, not even the good command"

# ---------------------------------------------------------------- 6
# A forged agent From without AUTH: relayed nowhere, the ticket unchanged.
n_events=$(tj 1 'len(t["events"])')
ok "forged agent mail accepted by SMTP" send mallory@elsewhere.example "$loop/14-forged-agent.eml"
settle 0
is "$(to_n alice@customer.example)$(to_n bob@customer.example)" 00 "forged: nothing reaches the customer"
is "$(printf '%s\n' "$new" | cut -f2 | sed '/^$/d' | grep -cvx 'anna@example.com')" 0 "forged: at most the real agent hears of it" || show_new
is "$(sg_sink_by_id "$sg_sink" qs-14.mallory@elsewhere.example)" "" "forged: the mail itself reaches no mailbox"
is "$(cat "$sg_sink"/msg-*.eml | grep -c 'XX00')" 0 "forged: its text is relayed to nobody"
is "$(tj 1 't["status"], t["priority"], t["assignee"]')" "pending normal anna@example.com" "forged: the ticket is unchanged"
ok "forged: kept as an unverified internal note" \
	grep -q "unverified sender" <(tj 1 '"\n".join(e["detail"] or "" for e in t["events"]['"$n_events"':])')
if [ "$(to_n anna@example.com)" = 1 ]; then
	ok "forged: the real agent is told why" grep -q "could not be proven" <(get "$(to_file anna@example.com)" text)
fi

# ---------------------------------------------------------------- 7
# A Russian customer: Russian acknowledgement.
ok "Russian customer mail accepted" send ivan@klient.example "$mail/02-new-ru.eml"
settle 2
ru=$(to_file ivan@klient.example)
ok "Russian acknowledgement: subject" grep -q "Ваше обращение принято" <(get "$ru" header:Subject)
ok "Russian acknowledgement: text" grep -q "Спасибо за обращение" <(get "$ru" text)
is "$(tj 2 't["language"]')" ru "ticket 2 is in Russian"
printf '%s\n' 'From: Boris Orlov <boris@example.com>' 'To: support@example.com' 'Subject: [ACME #2]' \
	'Message-ID: <t-agents-ru.boris@example.com>' 'MIME-Version: 1.0' 'Content-Type: text/plain; charset=utf-8' '' \
	'#status pending' > "$dir/ru-pending.eml"
ok "command-only mail on the Russian ticket accepted" boris "$dir/ru-pending.eml"
settle 1
is "$(new_rcpts)" "ivan@klient.example" "one notice, to the Russian customer" || show_new
is "$(get "$(to_file ivan@klient.example)" header:Subject)" "[ACME #2] Нам нужны дополнительные сведения" \
	"the pending notice is in Russian"

# ---------------------------------------------------------------- 8
# The full loop: the customer answers (reopened), the agent resolves with
# a reply (resolution notice with the rating invitation), the customer
# rates (stays resolved), asks for status.
ok "customer reply accepted" send alice@customer.example "$loop/15-customer-reply.eml"
settle 1
is "$(status 1)" open "the customer's reply reopens the pending ticket"
is "$(to_n anna@example.com)" 1 "the customer's reply reaches the assignee"

ok "agent resolves with a reply" anna "$loop/16-agent-resolve.eml"
settle 2
is "$(status 1)" resolved "#status resolved"
is "$(to_n alice@customer.example)" 2 "the customer gets the reply and the resolution notice" || show_new
res="" rep=""
for f in $(printf '%s\n' "$new" | cut -f1); do
	grep -q "1 (not at all) to 5" <(get "$f" text) && res=$f || rep=$f
done
ok "the resolution notice invites a rating" test -n "$res"
is "$(get "$res" header:Subject)" "[ACME #1] Your request has been resolved" "resolution notice: subject"
ok "the reply carries the agent's text, without the command" \
	sh -c "grep -q 'the VAT id is on file' '$rep' && ! grep -q '#status' '$rep'"
is "$(get "$rep" header:In-Reply-To)" "<qs-15.alice@customer.example>" "the reply answers the customer's latest mail"

ok "rating accepted" send alice@customer.example "$loop/17-customer-rating.eml"
settle 1
ok "show --json: a rating event" grep -q "^4: 4 thanks" <(tj 1 '"\n".join(e["detail"] or "" for e in t["events"] if e["type"] == "rating")')
is "$(status 1)" resolved "the ticket stays resolved"
is "$(get "$(to_file alice@customer.example)" header:Subject)" "[ACME #1] Thank you for your rating" "the customer is thanked"

n_tickets=$(cli tickets --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
ok "status request accepted" send ivan@klient.example "$loop/18-customer-status.eml"
settle 1
is "$(new_rcpts)" "ivan@klient.example" "status request: one answer, to the sender only" || show_new
ok "the answer names his open ticket" grep -qF "[ACME #2]" <(get "$(to_file ivan@klient.example)" text)
is "$(cli tickets --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" "$n_tickets" \
	"a status request opens nothing"

# ---------------------------------------------------------------- 9
# The automatic close, by the daemon's own timer (a pass at start, then
# every minute), with the daemon's clock moved on by libfaketime: 2 days
# later the resolved ticket is closed (autoclose_days = 1); 4 days later
# (reopen_days = 1) a customer mail about it opens a linked ticket.
ftlib=""
for f in /usr/lib/*/faketime/libfaketimeMT.so.1 /usr/lib/faketime/libfaketimeMT.so.1; do
	[ -f "$f" ] && ftlib=$f && break
done
later() {  # OFFSET: restart the daemon with its clock moved on
	sg_daemon_stop
	LD_PRELOAD=$ftlib FAKETIME="$1" DONT_FAKE_MONOTONIC=1 \
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
		sg_daemon_start "$sg_conf" "$sg_log"
}
if [ -z "$ftlib" ]; then
	skip 8 "libfaketime not installed (Debian package faketime): the automatic close is not run"
else
	ok "daemon restarted 2 days later" later +2d
	sg_wait_for "grep -q 'closed automatically' $sg_log" 20
	settle 1
	is "$(status 1)" closed "closed by the timer after autoclose_days"
	ok "the customer gets the closed notice" grep -q "is now closed" <(get "$(to_file alice@customer.example)" text)
	# two days on, the other open tickets' SLA timers fire too (escalations
	# to their agents and the queue's manager): apart from those, only the
	# closed notice
	is "$(printf '%s\n' "$new" | awk -F'\t' 'index($4, "SLA ") == 0' | cut -f2 | tr ',' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//')" \
		"alice@customer.example" "only the closed notice besides SLA escalations" || show_new
	ok "daemon restarted 4 days later" later +4d
	ok "a later customer mail about ticket 1 accepted" send alice@customer.example "$loop/after-close.eml"
	settle 2
	is "$(status 1)" closed "ticket 1 stays closed"
	is "$(tj 3 't["linked"], t["requestor"]')" "1 alice@customer.example" "the later mail opens ticket 3, linked to 1"
fi

done_testing
