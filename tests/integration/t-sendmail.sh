#!/bin/bash
# t-sendmail — the same milter behind a real Sendmail 8.17 (Debian's
# binary, fetched with apt-get download and unpacked, never installed, as
# it conflicts with postfix): INPUT_MAIL_FILTER with F=T, a new support
# mail, a reply, a non-support mail, a forged X-Support header.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ "$(id -u)" -eq 0 ] || skip_all "sendmail -bd needs root"
command -v unshare >/dev/null || skip_all "unshare not found (Debian package util-linux)"
sg_sendmail_fetch || skip_all "cannot fetch sendmail with apt-get download (no Debian mirror reachable?)"
mail=$top_srcdir/tests/mail/quickstart

sg_tmpdir dir
mport=$(sg_free_port); sport=$(sg_free_port); smport=$(sg_free_port)
sg_conf_write "$dir/sg.conf" "inet:$mport@127.0.0.1"
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"
sg_sink_start "$dir/sink" "$sport" || sg_bail "the capture sink did not start (the cause is above)"
# Sendmail runs from an unpacked package, not an installed one: a start
# failure here is the environment's (a library missing), so a skip.
sg_sendmail_start "$dir/sm" "$smport" "$sport" "$mport" || skip_all "sendmail did not start: $(tail -3 "$dir/sm/sendmail.log" 2>/dev/null)"
ok "sendmail, sink and daemon up" kill -0 "$sg_daemon_pid"

ok "new support mail accepted by sendmail" sg_send_mail "$smport" alice@customer.example support@example.com "$mail/01-new-en.eml"
ok "reply accepted" sg_send_mail "$smport" alice@customer.example support@example.com "$mail/03-reply-en.eml"
ok "non-support mail accepted" sg_send_mail "$smport" carol@partner.example sales@example.com "$mail/06-not-support.eml"
ok "forged-header mail accepted" sg_send_mail "$smport" mallory@elsewhere.example support@example.com "$mail/05-forged-header.eml"
sg_wait_for "test \$(sg_sink_count $dir/sink) -ge 4" 30
is "$(sg_sink_count "$dir/sink")" 4 "sink received 4 messages"

by_id() { sg_sink_by_id "$dir/sink" "$1"; }
hdr() { sg_hdr "$@"; }
m1=$(by_id qs-01.alice@customer.example); m3=$(by_id qs-03.alice@customer.example)
m5=$(by_id qs-05.mallory@elsewhere.example); m6=$(by_id qs-06.carol@partner.example)
is "$(hdr "$m1" Subject)" "[ACME #1] Invoice 2026-114 shows the wrong VAT rate" "subject token"
is "$(hdr "$m1" X-Support-Ticket)" 1 "X-Support-Ticket"
is "$(hdr "$m1" Reply-To)" support@example.com "Reply-To"
is "$(hdr "$m3" X-Support-Ticket)" 1 "reply threads"
is "$(grep -c '^X-Support-Ticket:' "$m5")" 1 "forged header replaced, one X-Support-Ticket"
is "$(hdr "$m5" X-Support-Ticket)" 2 "forged: our ticket number"
is "$(grep -c '^X-Support-' "$m6")" 0 "non-support mail untouched"
ok "sendmail's queue id reaches the log" grep -qE 'qid=[0-9A-Za-z]{10,} ticket=1 ' "$dir/daemon.log"
is "$("$SG_CLI" -c "$dir/sg.conf" tickets | grep -c '^ *[0-9]')" 2 "store holds 2 tickets"
done_testing
