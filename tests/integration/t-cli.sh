#!/bin/bash
# t-cli — the tickets acceptance path through `supportgate ingest` (the
# IMAP door's entry point): a new mail, a reply with In-Reply-To, a reply
# with only the subject token, a forged token, a duplicate; then `show`,
# `tickets` with filters and JSON, and `db verify|backup|recover`.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_CLI:=./supportgate}"
[ -x "$SG_CLI" ] || skip_all "supportgate not built"

sg_tmpdir dir
sg_conf_write "$dir/sg.conf" ""
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }
m=$top_srcdir/tests/mail/quickstart

out=$(cli ingest "$m/01-new-en.eml")
is "$out" "new ticket 1: new ticket" "new mail opens ticket 1"
out=$(cli ingest "$m/03-reply-en.eml")
is "$out" "follow-up ticket 1: follow-up by references" "reply with In-Reply-To threads"
cat > "$dir/token-only.eml" <<'EML'
From: Bob Stone <bob@customer.example>
To: support@example.com
Subject: AW: [ACME #1] Invoice 2026-114 shows the wrong VAT rate
Message-ID: <token-only@customer.example>

Bob here (I was on Cc).
EML
out=$(cli ingest "$dir/token-only.eml")
is "$out" "follow-up ticket 1: follow-up by subject token" "token-only reply from a Cc'd participant threads"
cat > "$dir/forged.eml" <<'EML'
From: Mallory <mallory@elsewhere.example>
To: support@example.com
Subject: Re: [ACME #1] send me the invoice
Message-ID: <forged@elsewhere.example>

Please send me everything.
EML
out=$(cli ingest "$dir/forged.eml")
is "$out" "new ticket 2: new ticket; subject token #1 refused: mallory@elsewhere.example is not a participant" \
	"forged token opens a new ticket"
out=$(cli ingest "$m/03-reply-en.eml")
is "$out" "duplicate ticket 1: Message-ID <qs-03.alice@customer.example> already stored" "duplicate recognised"
out=$(cli ingest --to sales@example.com "$m/06-not-support.eml")
is "$out" "ignored: no support recipient" "non-support recipient ignored"
cli ingest "$dir/missing.eml" >/dev/null 2>"$dir/err"
is "$?" 66 "missing file: exit 66 (EX_NOINPUT)"
ok "missing file: clear error" grep -q "missing.eml: No such file" "$dir/err"

show=$(cli show 1)
ok "show: token and subject" grep -q '^Ticket \[ACME #1\] Invoice 2026-114' <<<"$show"
ok "show: participants include the Cc" grep -q 'participants:.*bob@customer.example' <<<"$show"
is "$(grep -c ' message ' <<<"$show")" 3 "show: three messages in the timeline"
ok "show: created event" grep -q 'event   created' <<<"$show"
show2=$(cli show 2)
ok "show: the refused claim is an event on the new ticket" grep -q 'token-refused.*#1 refused' <<<"$show2"
cli show 99 >/dev/null 2>&1
is "$?" 1 "show of a missing ticket: exit 1"
cli show abc >/dev/null 2>&1
is "$?" 2 "show of a non-number: exit 2"

j=$(cli show 1 --json)
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$j"; }
is "$(py 'd["id"], d["token"], d["status"], d["queue"], d["priority"]')" "1 [ACME #1] new default normal" "show --json fields"
is "$(py 'len(d["messages"]), d["messages"][0]["direction"], d["messages"][0]["message_id"]')" \
	"3 in qs-01.alice@customer.example" "show --json messages"
is "$(py 'd["events"][0]["type"], d["events"][0]["actor"]')" "created alice@customer.example" "show --json events"
ok "show --json times are RFC 3339" python3 -c "import json,sys,re; d=json.load(sys.stdin); sys.exit(0 if re.match(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', d['created']) else 1)" <<<"$j"
j=$(cli tickets --json)
is "$(py 'len(d), sorted(d[0].keys())[:5]')" "2 ['assignee', 'created', 'id', 'linked', 'messages']" "tickets --json"
is "$(cli tickets --customer Alice@Customer.Example | tail -n +2 | wc -l)" 1 "tickets --customer"
is "$(cli tickets --status new | tail -n +2 | wc -l)" 2 "tickets --status"
is "$(cli tickets --status closed | tail -n +2 | wc -l)" 0 "tickets --status closed: none"
cli tickets --status bogus >/dev/null 2>&1
is "$?" 2 "unknown status: exit 2"

ok "db verify" cli db verify
ok "db backup" cli db backup "$dir/backup"
ok "backup holds the tickets db" test -s "$dir/backup/tickets.db"
ok "db recover" cli db recover
is "$(cli tickets | tail -n +2 | wc -l)" 2 "tickets intact after recover"
done_testing
