#!/bin/bash
# t-webhook — webhooks delivered by the daemon's outbound worker to a real
# HTTP receiver on 127.0.0.1 (hookrecv.py) that verifies each signature:
# the rule action and event subscriptions, the payload, the receiver down
# for a while -> every webhook delivered exactly once, in event order,
# once it is back; a permanent 4xx -> a dead letter in `supportgate outbox`;
# a loopback URL without allow_private -> refused (SSRF).
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x "$SG_DAEMON" ] || skip_all "supportgated not built"
command -v python3 >/dev/null || skip_all "python3 not installed"

sg_tmpdir dir
port=$(sg_free_port)
mkdir -p "$dir/recv"
printf 'whsec-0123456789abcdef\n' > "$dir/secret"
chmod 600 "$dir/secret"
printf 'rule refund: subject ~ /refund/i => webhook crm\n' > "$dir/sg.rules"
sg_conf_write "$dir/sg.conf" "local:$dir/sg.sock" "rules_file = \"$dir/sg.rules\"" "outbound_retry_min = 1" \
	"webhook crm { url = \"http://127.0.0.1:$port/hook\"
	  secret_file = \"$dir/secret\"
	  allow_private = true }" \
	"webhook feed { url = \"http://127.0.0.1:$port/hook\"
	  secret_file = \"$dir/secret\"
	  events = {\"created\", \"status\"}
	  allow_private = true }" \
	"webhook gone { url = \"http://127.0.0.1:$port/gone\"
	  secret_file = \"$dir/secret\"
	  events = {\"priority\"}
	  allow_private = true }" \
	"webhook private { url = \"http://127.0.0.1:$port/hook\"
	  secret_file = \"$dir/secret\"
	  events = {\"tags\"} }"
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@" 2>>"$dir/cli.log"; }
mail() {  # n subject
	printf 'From: Customer %s <c%s@customer.example>\nTo: support@example.com\nSubject: %s\nMessage-ID: <hook-%s@customer.example>\n\nPlease help.\n' "$1" "$1" "$2" "$1" > "$dir/m$1.eml"
	cli ingest "$dir/m$1.eml" >/dev/null
}
recv_start() {
	python3 "$top_srcdir/tests/integration/hookrecv.py" "$dir/recv" "$port" "$dir/secret" >>"$dir/recv/recv.log" 2>&1 {_sg_out}>&- &
	recv_pid=$!
	sg_wait_for "(echo > /dev/tcp/127.0.0.1/$port) 2>/dev/null" 10 || sg_show_log "receiver did not start" "$dir/recv/recv.log"
}
recv_stop() {
	[ -n "${recv_pid:-}" ] || return 0
	kill "$recv_pid" 2>/dev/null
	wait "$recv_pid" 2>/dev/null
	recv_pid=
}
sg_at_exit recv_stop
lines() { if [ -f "$dir/recv/requests" ]; then wc -l < "$dir/recv/requests"; else echo 0; fi; }

ok "configuration with webhook sections is valid" "$SG_DAEMON" -n -c "$dir/sg.conf"
recv_start
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"

# A new ticket whose subject a rule sends to crm; feed subscribes to created.
mail 1 "refund for order 7"
sg_wait_for "test \$(lines) -ge 2" 15
is "$(lines)" 2 "two webhooks: the rule's and the subscription's"
is "$(awk '$5 != "ok"' "$dir/recv/requests")" "" "every signature verified by the receiver"
ok "rule action delivered to crm" grep -q '^crm [0-9]* webhook 1 ok 200$' "$dir/recv/requests"
ok "created event delivered to feed" grep -q '^feed [0-9]* created 1 ok 200$' "$dir/recv/requests"
id=$(awk '$1 == "feed" {print $2}' "$dir/recv/requests")
subj=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["ticket"]["subject"], d["ticket"]["token"], d["event"]["actor"])' "$dir/recv/body-$id.json")
is "$subj" "refund for order 7 [ACME #1] c1@customer.example" "payload carries the ticket summary and the event (actor: the requestor)"
is "$(cli outbox | grep -c '^ *[0-9]')" 0 "queue empty after delivery"
ok "delivery recorded on the ticket" grep -q 'sent .*webhook feed (created) to webhook:feed delivered' <(cli show 1)
ok "rule action recorded on the ticket" grep -q 'webhook crm requested; queued' <(cli show 1)

# Receiver down: three status changes wait, in order, and arrive once each.
recv_stop
cli set 1 status open >/dev/null
cli set 1 status pending >/dev/null
cli set 1 status open >/dev/null
sg_wait_for "cli outbox | grep -q 'webhook:feed.*onnect'" 15
ok "receiver down: the first webhook is retried with the connect error" grep -q 'webhook:feed.*onnect' <(cli outbox)
is "$(cli outbox | grep -c 'webhook:feed')" 3 "three webhooks wait in the queue"
sleep 3
is "$(lines)" 2 "nothing delivered while the receiver is down"
recv_start
sg_wait_for "test \$(lines) -ge 5" 30
sleep 2
is "$(lines)" 5 "each waiting webhook delivered exactly once after the receiver returned"
news=$(for i in $(awk 'NR > 2 {print $2}' "$dir/recv/requests"); do
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["event"]["new"])' "$dir/recv/body-$i.json"; done | tr '\n' ' ')
is "$news" "open pending open " "in event order"
is "$(awk 'NR > 2 && $5 != "ok"' "$dir/recv/requests")" "" "signatures of the retried deliveries verified"
is "$(awk '{print $2}' "$dir/recv/requests" | sort | uniq -d)" "" "no delivery id twice"

# A permanent 4xx: a dead letter, shown by supportgate outbox, on the ticket.
cli set 1 priority high >/dev/null
sg_wait_for "cli outbox | grep -q 'dead.*webhook:gone'" 15
ok "410: dead letter in supportgate outbox" grep -q 'dead .*webhook:gone .*HTTP 410' <(cli outbox)
job=$(cli outbox | awk '/webhook:gone/ {print $1}')
ok "queue show names the endpoint and the event" grep -q "^POST http://127.0.0.1:$port/gone (webhook gone), event priority" <(cli outbox show "$job")
ok "dead letter recorded on the ticket" grep -q 'dead-letter .*webhook gone (priority)' <(cli show 1)
is "$(grep -c '^gone ' "$dir/recv/requests")" 1 "tried once, not retried"

# SSRF: loopback without allow_private is refused before connecting.
cli set 1 tag vip >/dev/null 2>&1 || cli set 1 tags vip >/dev/null 2>&1
sg_wait_for "cli outbox | grep -q 'dead.*webhook:private'" 15
ok "loopback URL without allow_private: dead letter, refused" grep -q 'webhook:private .*refused' <(cli outbox)
is "$(grep -c '^private ' "$dir/recv/requests")" 0 "nothing reached the receiver"
done_testing
