#!/bin/bash
# t-rules — rules through the CLI and the daemon: rules check with
# file:line:col, rules test explaining matches, routing of ingested mail
# (queue, assignee, events naming the rule), queues/agents, set with
# transfers and the ping-pong flag, -n and SIGUSR1 with broken rules.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x "$SG_CLI" ] || skip_all "supportgate not built"

sg_tmpdir dir
cp "$top_srcdir/rules/examples/supportgate.rules" "$top_srcdir/rules/examples/enterprise-domains.txt" \
	"$top_srcdir/rules/examples/holidays-ru.txt" "$dir/"
sg_conf_write "$dir/sg.conf" "local:$dir/sg.sock" "ack = false" "rules_file = \"$dir/supportgate.rules\"" \
	"template_dir = \"$top_srcdir/templates\""
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }
m=$top_srcdir/tests/mail/quickstart

out=$(cli rules check)
is "$?" 0 "rules check: shipped examples are fine"
ok "rules check counts" grep -q '10 rules, 3 queues, 6 agents: OK' <<<"$out"
printf 'rule broken subject ~ /x/ => tag t\nrule b2: subject ~ /(/ => tag t\n' > "$dir/bad.rules"
out=$(cli rules check "$dir/bad.rules" 2>&1)
is "$?" 1 "rules check: broken file exits 1"
ok "error 1 with line:col" grep -q "bad.rules:1:12: expected ':' after the rule name" <<<"$out"
ok "error 2 with line:col" grep -q "bad.rules:2:22: regex: missing closing parenthesis" <<<"$out"

out=$(cli rules test "$m/02-new-ru.eml")
ok "rules test: Russian billing mail matches rule billing" grep -q 'rule billing .*MATCH: subject ~ .* matched "оплат' <<<"$out"
ok "rules test: earlier rules listed as no match" grep -q 'rule lists .*no match' <<<"$out"
ok "rules test: route shows the queue" grep -q '^  queue:     billing' <<<"$out"
out=$(cli rules test "$m/04-out-of-office.eml")
ok "rules test: out-of-office gets no acknowledgement" grep -q '^  template:  none' <<<"$out"
is "$(cli tickets | grep -c '^ *[0-9]')" 0 "rules test does not touch the store"

cli ingest "$m/02-new-ru.eml" >/dev/null
cli ingest "$m/01-new-en.eml" >/dev/null
j=$(cli show 1 --json)
is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["queue"], d["assignee"])' <<<"$j")" \
	"billing anna@example.com" "ticket 1 routed to billing, first agent (round-robin)"
j2=$(cli show 2 --json)
is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["queue"], d["assignee"])' <<<"$j2")" \
	"billing boris@example.com" "ticket 2: next agent"
ok "queue event names the rule" grep -q 'queue .*by rule:billing: default -> billing' <(cli show 1)
ok "IMAP/CLI door: copy forwarded to the assignee through the queue" grep -q 'anna@example.com' <(cli outbox)
ok "forward event on the ticket" grep -q 'forward .*forwarded \[ACME #1\] to anna@example.com' <(cli show 1)
printf 'From: alice@customer.example\nTo: support@example.com\nSubject: Re: URGENT invoice\nMessage-ID: <fu-1@customer.example>\nIn-Reply-To: <qs-01.alice@customer.example>\n\nPlease hurry.\n' > "$dir/fu.eml"
out=$(cli ingest "$dir/fu.eml")
ok "follow-up threads" grep -q '^follow-up ticket 2' <<<"$out"
is "$(cli show 2 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["priority"], d["queue"], d["assignee"])')" \
	"urgent billing boris@example.com" "rules on a follow-up raise the priority, queue and agent stay"
ok "assignee event names the strategy" grep -q 'assignee .*-> anna@example.com (round-robin)' <(cli show 1)
ok "queues lists billing" grep -q '^billing .*billing@example.com .*round-robin' <(cli queues)
ok "agents shows load" grep -qE '^anna@example.com +Anna Berg +no +1 +1' <(cli agents)

cli set 1 queue technical >/dev/null
cli set 1 assignee chen@example.com >/dev/null
ok "two transfers: not flagged yet" test -z "$(cli show 1 | grep ping-pong)"
cli set 1 queue billing >/dev/null
ok "third transfer: flagged ping-pong" grep -q 'ping-pong .*3 transfers' <(cli show 1)
ok "the queue's manager is notified" grep -q 'finance-lead@example.com' <(cli outbox)
is "$(cli show 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["transfers"])')" 3 "transfer counter"
cli set 1 status closed >/dev/null
ok "closing frees the agent's open count" grep -qE '^chen@example.com .* 0 +[0-9]+$' <(cli agents)
cli set 1 status nonsense >/dev/null 2>&1
is "$?" 2 "set with a bad status: exit 2"

# notify action: a notice job to the named address
printf 'rule n: subject ~ /refund/i => tag refund, notify ops@example.com, webhook crm\n' > "$dir/notify.rules"
sed "s|$dir/supportgate.rules|$dir/notify.rules|" "$dir/sg.conf" > "$dir/notify.conf"
"$SG_CLI" -c "$dir/notify.conf" ingest "$m/05-forged-header.eml" >/dev/null
ok "notify action queues a notice" grep -q 'ops@example.com' <("$SG_CLI" -c "$dir/notify.conf" queue)
ok "webhook action is recorded on the ticket" grep -q 'webhook crm requested' <("$SG_CLI" -c "$dir/notify.conf" show 3)

# -n and SIGUSR1 with broken rules
[ -x "$SG_DAEMON" ] || { skip 4 "supportgated not built"; done_testing; }
out=$("$SG_DAEMON" -n -c "$dir/sg.conf" 2>&1)
is "$?" 0 "-n with good rules"
cp "$dir/supportgate.rules" "$dir/good.rules"
sg_daemon_start "$dir/sg.conf" "$dir/daemon.log" || sg_bail "supportgated did not start (the cause is above)"
dpid=$sg_daemon_pid
echo 'rule oops: subject ~ /[/ => tag x' >> "$dir/supportgate.rules"
out=$("$SG_DAEMON" -n -c "$dir/sg.conf" 2>&1)
is "$?" 1 "-n fails on a broken rules file"
kill -USR1 "$dpid"
sg_wait_for "grep -q 'reload failed' $dir/daemon.log" 10
ok "reload with broken rules keeps the old ones, error with line:col" grep -qE 'supportgate.rules:[0-9]+:[0-9]+: regex' "$dir/daemon.log"
ok "daemon still running" kill -0 "$dpid"
done_testing
