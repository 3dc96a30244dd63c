#!/bin/bash
# t-milter-protocol — what supportgated negotiates with the MTA, at the
# byte level (tests/integration/milterc.py plays the MTA): the steps that
# can never refuse (connect, HELO, MAIL, RCPT, each header, end of
# headers, body) go on without a reply when the MTA offers that (milter
# protocol 6, SMFIP_NR_*: the MTA streams them, no round trip per header
# line), DATA and end of message are answered; an MTA that offers no
# no-reply steps gets a reply to every step, as before.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
command -v python3 >/dev/null || skip_all "python3 not installed"

sg_tmpdir dir
sg_conf_write "$dir/sg.conf" "local:$dir/sg.sock" "template_dir = \"$top_srcdir/templates\""
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"
mta() { python3 "$top_srcdir/tests/integration/milterc.py" "unix:$dir/sg.sock" "$@"; }
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }
printf 'From: Alice <alice@customer.example>\nTo: support@example.com\nSubject: Printer on fire\nMessage-ID: <proto-1@customer.example>\nX-Support-Ticket: 99\n\nIt is on fire.\n' > "$dir/m1.eml"
printf 'From: Alice <alice@customer.example>\nTo: support@example.com\nSubject: Still on fire\nMessage-ID: <proto-2@customer.example>\n\nStill.\n' > "$dir/m2.eml"

mta alice@customer.example support@example.com "$dir/m1.eml" > "$dir/p6.out"
is "$?" 0 "protocol 6 MTA: the conversation completes"
proto=$(sed -n 's/^negotiated .*protocol=//p' "$dir/p6.out")
# SMFIP_NR_CONN|HELO|MAIL|RCPT 0xf000, NR_HDR 0x80, NR_EOH|NR_BODY 0xc0000
is "$(( proto & 0xcf080 ))" "$(( 0xcf080 ))" "no-reply asked for connect, HELO, MAIL, RCPT, headers, end of headers, body"
is "$(( proto & 0x10000 ))" 0 "DATA is answered (support or not is decided there)"
for s in conn helo mail rcpt eoh body; do
	is "$(sed -n "s/^$s reply=//p" "$dir/p6.out")" none "$s: no reply"
done
is "$(grep -c '^hdr reply=none' "$dir/p6.out")" 5 "no reply to any of the 5 header lines"
is "$(sed -n 's/^data reply=//p' "$dir/p6.out")" c "DATA: continue"
ok "end of message: our headers added" grep -q '^EOM h X-Support-Ticket|1|' "$dir/p6.out"
ok "end of message: the forged header removed" grep -q '^EOM m .*X-Support-Ticket|' "$dir/p6.out"
is "$(tail -1 "$dir/p6.out" | cut -c1-5)" "EOM a" "end of message: accept, last"
is "$(cli tickets | grep -c '^ *[0-9]')" 1 "the mail opened ticket 1"

mta alice@customer.example support@example.com "$dir/m2.eml" 0x7f > "$dir/p2.out"
is "$?" 0 "an MTA without no-reply steps: the conversation completes"
is "$(sed -n 's/^negotiated .*protocol=//p' "$dir/p2.out")" 0x0 "nothing asked that it did not offer"
is "$(grep -c 'reply=c$' "$dir/p2.out")" 11 "every step answered: connect, HELO, MAIL, RCPT, DATA, 4 headers, end of headers, body"
is "$(tail -1 "$dir/p2.out" | cut -c1-5)" "EOM a" "end of message: accept"
is "$(cli tickets | grep -c '^ *[0-9]')" 2 "the mail opened ticket 2"

mta alice@customer.example bob@example.org "$dir/m2.eml" > "$dir/ns.out"
is "$?" 0 "non-support mail: the conversation ends at DATA"
is "$(sed -n 's/^data reply=//p' "$dir/ns.out")" a "non-support mail: accepted at DATA (headers and body never sent)"
ok "the daemon logged no error" sh -c "! grep -qi 'error' '$dir/daemon.log'"
done_testing
