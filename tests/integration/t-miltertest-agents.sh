#!/bin/bash
# t-miltertest-agents — the agents' macro cases at the milter protocol
# level (tests/milter/t-agent-*.lua, miltertest(8)) against the real
# daemon on a unix socket, with the example rules' agents and the daemon's
# outbound mail going to the capture sink:
#   {auth_authen} of a declared agent -> handled, original discarded
#   no {auth_authen}, an agent's From  -> unverified note, discarded
#   {auth_authen} an unknown login     -> a customer like any other
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
MILTERTEST=${MILTERTEST:-$(command -v miltertest)}
[ -n "$MILTERTEST" ] && [ -x "$MILTERTEST" ] || skip_all "miltertest not installed (Debian package miltertest)"

sg_tmpdir dir
sport=$(sg_free_port)
sg_sink_start "$dir/sink" "$sport" || sg_bail "capture sink did not start (the cause is above)"
sg_conf_write "$dir/sg.conf" "local:$dir/sg.sock" \
	'support_name = "ACME Support"' \
	"template_dir = \"$top_srcdir/templates\"" \
	"rules_file = \"$top_srcdir/rules/examples/supportgate.rules\"" \
	'agent_logins = {"anna=anna@example.com"}' \
	"smtp_relay = \"smtp://127.0.0.1:$sport\"" \
	'outbound_retry_min = 2'
: > "$dir/daemon.log"   # so sg_daemon_start can count "ready" in it from the start
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"
export SG_SOCKET="unix:$dir/sg.sock"
lua=$top_srcdir/tests/milter
run() { "$MILTERTEST" -s "$lua/$1.lua" > "$dir/$1.out" 2>&1 || { "$MILTERTEST" -v -s "$lua/$1.lua" 2>&1 | tail -5 | sed 's/^/# /'; return 1; }; }
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }
tj() { cli show "$1" --json | python3 -c "import json,sys; t=json.load(sys.stdin); print($2)"; }
# everything queued so far delivered to the sink
drained() { sg_wait_for "test \$(cli outbox | grep -c '^ *[0-9]') -eq 0" 20; }
to_alice() { grep -l '^RCPT alice@customer.example$' "$dir"/sink/msg-*.env 2>/dev/null | wc -l; }

ok "{auth_authen} of an agent: the reply is handled and the original discarded" run t-agent-auth
drained
is "$(to_alice)" 2 "the customer got the acknowledgement and the agent's reply"
reply=$(grep -l '^From: Anna Berg via ACME Support <support@example.com>' "$dir"/sink/msg-*.eml | head -1)
ok "the reply comes from the support address with the agent's name" test -n "$reply"
ok "the reply carries the agent's text" grep -q "corrected invoice is on its way" "$reply"
is "$(tj 1 't["status"]')" open "the agent's reply opened ticket 1"
ok "the daemon logged the discard with the queue id" grep -qE 'qid=AGA001 ticket=1 .*agent' "$dir/daemon.log"

ok "no {auth_authen}, an agent's From: discarded as an unverified note" run t-agent-noauth
drained
is "$(to_alice)" 2 "nothing more reached the customer"
is "$(grep -l 'XX99' "$dir"/sink/msg-*.eml 2>/dev/null | wc -l)" 0 "the text went to nobody"
is "$(tj 1 't["status"]')" open "ticket 1 unchanged (#status closed not applied)"
ok "kept as an unverified internal note" grep -q "unverified sender" <(tj 1 '"\n".join(e["detail"] or "" for e in t["events"])')

ok "{auth_authen} an unknown login: treated as a customer (ticket 2)" run t-agent-unknown
is "$(tj 2 't["requestor"], t["status"]')" "mallory@elsewhere.example new" "ticket 2 is mallory's"
is "$(tj 1 't["status"], t["requestor"]')" "open alice@customer.example" "ticket 1 unchanged"
done_testing
