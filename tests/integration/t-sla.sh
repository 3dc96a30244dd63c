#!/bin/bash
# t-sla — SLA clocks through the CLI on a real store: a tier's due times
# at creation (show, the acknowledgement's {{due}}), `clock run --in`
# firing the first-response warning and then the breach, each once (a
# second pass fires nothing), the escalation notices queued to the
# assignee and the manager, the system's overdue reason, and
# `set N reason TEXT`.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_CLI:=./supportgate}"
[ -x "$SG_CLI" ] || skip_all "supportgate not built"

sg_tmpdir dir
cat > "$dir/t.rules" <<'RULES'
agent anna@example.com groups=billing
queue billing mailbox=billing@example.com agents=anna@example.com strategy=round-robin manager=lead@example.com
calendar always hours="24x7" tz=UTC
sla gold first-response=1h resolution=10h calendar=always
rule billing: subject ~ /invoice/i => queue billing, assign, sla gold
RULES
sg_conf_write "$dir/sg.conf" "" "rules_file = \"$dir/t.rules\"" "template_dir = \"$top_srcdir/templates\"" \
	"db_sync = false"
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }

cat > "$dir/new.eml" <<'EML'
From: Carol <carol@customer.example>
To: support@example.com
Subject: Invoice is wrong
Message-ID: <sla-1@customer.example>

The total is off.
EML
out=$(cli ingest "$dir/new.eml")
is "$out" "new ticket 1: new ticket" "a new ticket"
j=$(cli show 1 --json)
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$j"; }
is "$(py 'd["sla_tier"], d["sla_fired"], d["overdue_reason"]')" "gold 0 None" "tier set, nothing fired"
ok "first-response due an hour after creation" python3 -c "
import json,sys,datetime as dt
d=json.load(sys.stdin); p=lambda s: dt.datetime.strptime(s,'%Y-%m-%dT%H:%M:%SZ')
sys.exit(0 if (p(d['first_response_due'])-p(d['created'])).total_seconds()==3600 and (p(d['due'])-p(d['created'])).total_seconds()==36000 else 1)" <<<"$j"
ok "show prints the due time" grep -q '^  due:  ' <<<"$(cli show 1)"
ok "the acknowledgement shows the due date" grep -q 'We aim to resolve it by 20' <<<"$(cli template render ack --ticket 1)"

is "$(cli clock run --in 30m | tail -1)" "fired 0 SLA threshold(s)" "+30m: nothing yet"
is "$(cli clock run --in 50m | tail -1)" "fired 1 SLA threshold(s)" "+50m: the first-response warning"
is "$(cli clock run --in 55m | tail -1)" "fired 0 SLA threshold(s)" "a second pass: nothing again"
is "$(cli clock run --in 61m | tail -1)" "fired 1 SLA threshold(s)" "+61m: the breach"
is "$(cli clock run --in 62m | tail -1)" "fired 0 SLA threshold(s)" "once only"
j=$(cli show 1 --json)
is "$(py 'd["sla_fired"], d["overdue_reason"]')" "3 no agent reply" "both first-response bits; the system's reason"
is "$(py '[e["type"] for e in d["events"] if e["type"].startswith("sla-")]')" "['sla-warning', 'sla-breach']" \
	"one warning and one breach event"
q=$(cli queue)
ok "escalation queued to the assignee" grep -q 'anna@example.com' <<<"$q"
ok "and the breach to the manager" grep -q 'lead@example.com' <<<"$q"

out=$(cli set 1 reason waiting for the bank)
is "$?" 0 "set N reason TEXT"
is "$(cli show 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["overdue_reason"])')" \
	"waiting for the bank" "the reason is the agent's now"
ok "shipped example rules load" cli rules check "$top_srcdir/rules/examples/supportgate.rules"
done_testing
