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
is "$(cli tickets --customer Alice@Customer.Example | grep -c '^ *[0-9]')" 1 "tickets --customer"
is "$(cli tickets --status new | grep -c '^ *[0-9]')" 2 "tickets --status"
is "$(cli tickets --status closed | grep -c '^ *[0-9]')" 0 "tickets --status closed: none"
cli tickets --status bogus >/dev/null 2>&1
is "$?" 2 "unknown status: exit 2"

# reading like one tool: search, sort, limit, summary lines, widths, --utc
cat > "$dir/cyr.eml" <<'EML'
From: =?utf-8?b?0JDQvdC90LAg0JrRg9C30L3QtdGG0L7QstCw?= <anna@customer.example>
To: support@example.com
Subject: =?utf-8?b?0KHRh9GR0YIg0L3QtSDRgtC+0YI=?=
Message-ID: <cyr.1@customer.example>

Здравствуйте.
EML
is "$(cli ingest "$dir/cyr.eml")" "new ticket 3: new ticket" "a Cyrillic mail opens ticket 3"
list=$(cli tickets)
is "$(tail -1 <<<"$list")" "-- 3 ticket(s) --" "tickets: a summary line"
# columns aligned by display width: the example rules' agents, one with a
# Cyrillic name (in bytes it is twice as wide)
sg_conf_write "$dir/agents.conf" "" "rules_file = \"$top_srcdir/rules/examples/supportgate.rules\""
ag=$("$SG_CLI" -c "$dir/agents.conf" agents)
is "$(python3 -c '
import sys
rows = [r for r in sys.stdin.read().splitlines() if "@" in r or r.startswith("AGENT")]
print(len(rows) > 2, len({r.index(" no ") if " no " in r else r.index(" yes ") if " yes " in r else r.index("AWAY") - 1 for r in rows}))' <<<"$ag")" \
	"True 1" "agents: the AWAY column lines up under a Cyrillic name"
is "$(cli search 'счёт' | grep -c '^ *[0-9]')" 1 "search finds a Cyrillic subject"
is "$(cli search vat | awk '/^ *[0-9]/ {print $1}')" 1 "search is case-insensitive"
is "$(cli search 'Anna' | awk '/^ *[0-9]/ {print $1}')" 3 "search finds a requestor's name"
is "$(cli search mallory --json | python3 -c 'import json,sys; print([t["id"] for t in json.load(sys.stdin)])')" "[2]" \
	"search --json"
cli search >/dev/null 2>&1
is "$?" 2 "search without TEXT: exit 2"
is "$(cli tickets --sort id --reverse --limit 2 | awk '/^ *[0-9]/ {print $1}' | tr '\n' ' ')" "3 2 " "--sort --reverse --limit"
is "$(cli tickets --limit 1 | tail -1)" "-- 3 ticket(s), 1 shown (--limit) --" "--limit says what it left out"
cli tickets --sort colour >/dev/null 2>&1
is "$?" 2 "unknown sort key: exit 2"
created=$(cli show 1 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["created"])')
ok "--utc shows UTC" grep -q "created: *${created%Z}" <(cli --utc show 1 | sed 's/ \([0-9:]*\)Z$/T\1Z/; s/\([0-9]\) \([0-9]\)/\1T\2/')
ok "local time by default (TZ honoured)" grep -q "created: *$(TZ=Asia/Tokyo date -d "$created" '+%Y-%m-%d %H:%M:%S')\$" <(TZ=Asia/Tokyo cli show 1)
is "$(cli outbox | tail -1)" "-- 0 job(s) waiting, 0 dead --" "outbox: a summary line"
is "$(cli outbox --json)" "[]" "outbox --json"
cli queue >/dev/null 2>"$dir/alias.err"
is "$?" 0 "the old name 'queue' still works"
ok "... with a note naming 'outbox'" grep -q "now 'outbox'" "$dir/alias.err"
is "$(cli queues --json)" "[]" "queues --json"
is "$(cli agents --json)" "[]" "agents --json"

# the actor of a change by hand is the invoking login, not $USER
USER=somebody-else cli set 1 priority high >/dev/null
is "$(cli show 1 --json | python3 -c 'import json,sys; print([e["actor"] for e in json.load(sys.stdin)["events"] if e["type"] == "priority"][-1])')" \
	"cli:$(id -un)" "set records the login (cli:LOGIN), not \$USER"
cli set --as nobody@example.com 1 priority low >/dev/null 2>"$dir/as.err"
is "$?" 2 "--as someone who is not an agent: refused"
ok "... saying so" grep -q "not an agent" "$dir/as.err"

# run as root, the tool works as the store's owner: nothing it makes is root's
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	sg_tmpdir odir
	chmod 755 "$odir"
	sg_conf_write "$odir/sg.conf" ""
	sed -i '/^user *=/d' "$odir/sg.conf"   # no user written: the store's owner decides
	state=$(sed -n 's/^ *state_dir *= *"\{0,1\}\([^"]*\)"\{0,1\}/\1/p' "$odir/sg.conf")
	mkdir -p "$state" && chown nobody: "$state"
	"$SG_CLI" -c "$odir/sg.conf" ingest "$m/01-new-en.eml" >/dev/null
	is "$?" 0 "root's ingest into nobody's store works"
	is "$(find "$state" -user root | wc -l)" 0 "... and leaves no root-owned file in it"
else
	skip "not root (or no user nobody): the drop to the store's owner is not tried"
fi

# the tool starts without libcurl or GnuTLS (a pipe runs it once per mail)
if command -v ldd >/dev/null 2>&1; then
	is "$(ldd "$SG_CLI" | grep -c 'libcurl\|libgnutls')" 0 "the tool links neither libcurl nor GnuTLS"
else
	skip "ldd not available"
fi

# A signal or a closed pipe does not kill the tool inside the store: it
# closes the store and exits 128+signal. (Killed inside, it left its slot
# in the environment's register, and the next process to open the store
# ran recovery, which interrupts every call of a running daemon.)
sg_tmpdir pdir
sg_conf_write "$pdir/sg.conf" ""
for i in $(seq 1 150); do
	printf 'From: c%d@x.example\nTo: support@example.com\nSubject: pipe %d\nMessage-ID: <pipe%d@x.example>\n\nbody\n' \
		"$i" "$i" "$i" | "$SG_CLI" -c "$pdir/sg.conf" ingest - >/dev/null 2>&1
done
preg=$(find "$pdir" -name __db.register | head -1)
( "$SG_CLI" -c "$pdir/sg.conf" tickets --json 2>/dev/null & echo $! > "$pdir/p1.pid"; wait $!; echo $? > "$pdir/p1.rc" ) | head -c 10 >/dev/null
is "$(cat "$pdir/p1.rc")" 141 "tickets --json | head: the tool ends by SIGPIPE's status (141)"
ok "... after closing the store (no slot of its pid left in the register)" \
	test -f "$preg" -a -n "$(cat "$pdir/p1.pid")" -a "$(grep -cw "$(cat "$pdir/p1.pid")" "$preg")" = 0
( "$SG_CLI" -c "$pdir/sg.conf" tickets --json 2>"$pdir/p2.err" & echo $! > "$pdir/p2.pid"; wait $!; echo $? > "$pdir/p2.rc" ) |
	(sleep 2; cat >/dev/null) &
reader=$!
sg_wait_for "test -s $pdir/p2.pid" 10
sleep 0.5   # it writes into the full pipe now
kill -INT "$(cat "$pdir/p2.pid")"
wait "$reader"
is "$(cat "$pdir/p2.rc")" 130 "SIGINT while it writes: exit status 130"
ok "... saying it was interrupted" grep -q "interrupted" "$pdir/p2.err"
ok "... after closing the store" test "$(grep -cw "$(cat "$pdir/p2.pid")" "$preg")" = 0
is "$("$SG_CLI" -c "$pdir/sg.conf" tickets | grep -c '^ *[0-9]')" 150 "every ticket still there"

ok "db verify" cli db verify
ok "db backup" cli db backup "$dir/backup"
ok "backup holds the tickets db" test -s "$dir/backup/tickets.db"
ok "db recover" cli db recover
is "$(cli tickets | grep -c '^ *[0-9]')" 3 "tickets intact after recover"
done_testing
