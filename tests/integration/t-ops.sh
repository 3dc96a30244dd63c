#!/bin/bash
# t-ops — operations: `ingest` exit statuses (sysexits), `stats`, `db
# export`/`db import` (round trip byte for byte, refusals, line numbers),
# `forget ADDRESS`, the retention timer, the delivery log line (our
# Message-ID and the relay's reply), and the daemon's syslog lines on a
# socket of our own (facility, priority; foreground under systemd).
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_CLI:=./supportgate}"
: "${SG_DAEMON:=./supportgated}"
[ -x "$SG_CLI" ] || skip_all "supportgate not built"
command -v python3 >/dev/null || skip_all "python3 missing"

sg_tmpdir dir
port=$(sg_free_port)
sg_conf_write "$dir/sg.conf" "" "template_dir = \"$top_srcdir/templates\"" \
	"smtp_relay = \"smtp://127.0.0.1:$port\"" "retention = 30" "outbound_max_age = 1"
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }
m=$top_srcdir/tests/mail/quickstart

# ------------------------------------------------------------ ingest exit statuses
cli ingest "$m/01-new-en.eml" >/dev/null 2>&1
is "$?" 0 "ingest: a new ticket exits 0 (EX_OK)"
cli ingest "$dir/missing.eml" >/dev/null 2>&1
is "$?" 66 "ingest: a missing file exits 66 (EX_NOINPUT)"
: > "$dir/empty.eml"
cli ingest "$dir/empty.eml" >/dev/null 2>&1
is "$?" 65 "ingest: an empty message exits 65 (EX_DATAERR)"
cli ingest >/dev/null 2>&1
is "$?" 64 "ingest: no argument exits 64 (EX_USAGE)"
"$SG_CLI" -c "$dir/nonesuch.conf" ingest "$m/01-new-en.eml" >/dev/null 2>&1
is "$?" 75 "ingest: a configuration that does not load exits 75 (EX_TEMPFAIL: the MTA keeps the mail; 78 would bounce it)"
: > "$dir/notadir"
mkdir -p "$dir/bad"
sg_conf_write "$dir/bad/sg.conf" ""
sed -i "s#^state_dir = .*#state_dir = \"$dir/notadir/state\"#" "$dir/bad/sg.conf"
SG_STORE_OPEN_TIMEOUT=10 "$SG_CLI" -c "$dir/bad/sg.conf" ingest "$m/01-new-en.eml" >/dev/null 2>"$dir/err"
is "$?" 75 "ingest: a store that cannot be opened exits 75 (EX_TEMPFAIL: fetchmail keeps the mail)"
ok "ingest: the store error is said" grep -q "cannot open the store" "$dir/err"

# ------------------------------------------------------------ a store with some history
for f in "$m"/0[2-6]*.eml; do cli ingest "$f" >/dev/null 2>&1; done
cli set 1 status resolved >/dev/null 2>&1
cli set 2 status closed >/dev/null 2>&1
ok "a ticket can be closed" cli show 2 --json
is "$(cli show 2 --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" closed \
	"ticket 2 is closed"

# ------------------------------------------------------------ stats
j=$(cli stats --json 2>/dev/null)
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$j"; }
ntickets=$(cli tickets --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
is "$(py 'd["tickets"]["total"]')" "$ntickets" "stats: the ticket total is what tickets lists"
is "$(py 'd["tickets"]["by_status"]["closed"], d["tickets"]["by_status"]["resolved"]')" "1 1" "stats: by status"
is "$(py 'sum(d["tickets"]["by_queue"]["default"].values())')" "$ntickets" "stats: by queue"
nq=$(cli outbox list 2>/dev/null | grep -c '^ *[0-9]')
is "$(py 'd["outbound"]["waiting"]')" "$nq" "stats: jobs waiting = outbox list"
ok "stats: the oldest job's age is a number" test "$(py 'd["outbound"]["oldest_age"] >= 0')" = True
is "$(py 'd["acks_today"]["sent"]')" "$(cli tickets --json 2>/dev/null | python3 -c '
import json,sys,subprocess
n=0
for t in json.load(sys.stdin):
    s=json.loads(subprocess.run(sys.argv[1:]+["show",str(t["id"]),"--json"],capture_output=True,text=True).stdout)
    n+=sum(1 for e in s["events"] if e["type"]=="ack")
print(n)' "$SG_CLI" -c "$dir/sg.conf")" "stats: acks sent today = ack events"
ok "stats: an auto-reply's acknowledgement counted as suppressed" test "$(py 'd["acks_today"]["suppressed"] >= 1')" = True
is "$(py 'sorted(d["cache"])')" "['customers.db', 'msgid.db', 'raw.db', 'tickets.db']" "stats: cache counters of the indexes and raw.db"
ok "stats: the ingests' Message-ID lookups went through the cache" \
	test "$(py 'd["cache"]["msgid.db"]["hits"] + d["cache"]["msgid.db"]["misses"] > 0')" = True
text=$(cli stats 2>/dev/null)
ok "stats: text has the cache line" grep -qE '^cache: pages found in it msgid.db [0-9.]+%' <<<"$text"
ok "stats: text names tickets, outbound, acknowledgements" \
	grep -q "^outbound: $nq waiting" <<<"$text"
ok "stats: text has the queue table" grep -q '^default ' <<<"$text"

# ------------------------------------------------------------ delivery log line
sg_sink_start "$dir/sink" "$port"
cli outbox run >/dev/null 2>"$dir/run.log"
ok "delivery: mail reached the relay" test "$(sg_sink_count "$dir/sink")" -ge 1
ok "delivery: log line with ticket, our Message-ID and the relay's reply" \
	grep -Eq 'info: outbound: ticket=[0-9]+ job [0-9]+: .* delivered msgid=<sg[^>]+@example.com> relay="250 2.0.0 stored"' "$dir/run.log"
first=$(ls "$dir/sink"/msg-*.eml | head -1)
mid=$(sed -n 's/^Message-ID: <\(.*\)>\r\{0,1\}$/\1/Ip' "$first" | head -1)
ok "delivery: the logged Message-ID is the one the relay got" grep -qF "msgid=<$mid>" "$dir/run.log"
ndeliv=$(grep -c 'delivered msgid=' "$dir/run.log")
is "$(cli stats --json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin)["outbound"]; print(d["delivered_today"], d["waiting"])')" \
	"$ndeliv 0" "stats: delivered today counts the deliveries, none waits"
sg_sink_stop "$dir/sink"

# ------------------------------------------------------------ export / import
cli db export "$dir/e1.jsonl" 2>/dev/null
is "$?" 0 "db export: exit 0"
is "$(head -1 "$dir/e1.jsonl")" '{"supportgate":"export","format":1}' "db export: header line"
for t in ticket message raw event msgid customer meta seq; do
	ok "db export: has $t lines" grep -q "^{\"t\":\"$t\"" "$dir/e1.jsonl"
done
ok "db export: every line is a JSON object" python3 -c '
import json,sys
for l in open(sys.argv[1]): assert isinstance(json.loads(l), dict)' "$dir/e1.jsonl"
raw_ok=$(python3 -c '
import json,sys,base64
for l in open(sys.argv[1]):
    d=json.loads(l)
    if d.get("t")=="raw" and d["ticket"]==1 and d["seq"]==1:
        print(b"Message-ID: <qs-01.alice@customer.example>" in base64.b64decode(d["data"]))' "$dir/e1.jsonl")
is "$raw_ok" True "db export: raw bytes in base64 hold the original message"
cli db export "$dir/e1.jsonl" >/dev/null 2>&1
is "$?" 1 "db export: an existing file is not overwritten"

mkdir -p "$dir/new"
sg_conf_write "$dir/new/sg.conf" "" "template_dir = \"$top_srcdir/templates\""
cli2() { "$SG_CLI" -c "$dir/new/sg.conf" "$@"; }
cli2 db import "$dir/e1.jsonl" 2>"$dir/imp.err"
is "$?" 0 "db import into an empty state dir: exit 0"
cli2 db export > "$dir/e2.jsonl" 2>/dev/null
ok "round trip: export -> import -> export is byte-identical" cmp -s "$dir/e1.jsonl" "$dir/e2.jsonl"
is "$(cli2 tickets 2>/dev/null)" "$(cli tickets 2>/dev/null)" "round trip: the same tickets"
is "$(cli2 show 1 2>/dev/null)" "$(cli show 1 2>/dev/null)" "round trip: the same timeline"
out=$(cli2 ingest "$m/01-new-en.eml" 2>/dev/null)
ok "round trip: the Message-ID index came along (a retry is a duplicate): $out" grep -q '^duplicate ticket 1' <<<"$out"
cat > "$dir/next.eml" <<'EML'
From: Zed <zed@new.example>
To: support@example.com
Subject: after the move
Message-ID: <after-move@new.example>

hello
EML
out=$(cli2 ingest "$dir/next.eml" 2>/dev/null)
is "$out" "new ticket $((ntickets + 1)): new ticket" "round trip: the id sequence continues"
cli2 db import "$dir/e1.jsonl" >/dev/null 2>"$dir/imp2.err"
is "$?" 1 "db import into a non-empty store: refused"
ok "db import: says why" grep -q "not empty" "$dir/imp2.err"

mkdir -p "$dir/noseq"
sg_conf_write "$dir/noseq/sg.conf" ""
grep -v '^{"t":"seq"' "$dir/e1.jsonl" > "$dir/noseq/in.jsonl"
"$SG_CLI" -c "$dir/noseq/sg.conf" db import "$dir/noseq/in.jsonl" >/dev/null 2>&1
out=$("$SG_CLI" -c "$dir/noseq/sg.conf" ingest "$dir/next.eml" 2>/dev/null)
is "$out" "new ticket $((ntickets + 1)): new ticket" "db import without seq lines: ids still go past the imported ones"

bad_import() {   # NAME PYTHON-EXPR-ON-LINE-5 EXPECTED-TEXT
	local d=$dir/bad-$1
	mkdir -p "$d"
	sg_conf_write "$d/sg.conf" ""
	python3 -c '
import json,sys
lines=open(sys.argv[1]).read().split("\n")
d=json.loads(lines[4]); exec(sys.argv[3]); lines[4]=json.dumps(d)
open(sys.argv[2],"w").write("\n".join(lines))' "$dir/e1.jsonl" "$d/in.jsonl" "$2"
	"$SG_CLI" -c "$d/sg.conf" db import "$d/in.jsonl" >/dev/null 2>"$d/err"
	is "$?" 1 "db import: $1 refused"
	ok "db import: $1 reported with its line number" grep -q "in.jsonl:5: $3" "$d/err"
	"$SG_CLI" -c "$d/sg.conf" db import "$dir/e1.jsonl" >/dev/null 2>&1
	is "$?" 0 "db import: $1: nothing was written (the good file imports after it)"
}
is "$(sed -n 5p "$dir/e1.jsonl" | cut -c1-14)" '{"t":"ticket",' "line 5 is a ticket"
bad_import status 'd["status"]="bogus"' "status: unknown"
bad_import unknown-key 'd["extra"]=1' 'unknown key "extra"'
bad_import missing-key 'del d["subject"]' 'missing key "subject"'
bad_import long-string 'd["subject"]="x"*(1024*1024+1)' "subject: longer than"
bad_import nul 'd["subject"]="a\0b"' "subject: holds a NUL byte"
bad_import negative 'd["id"]=-1' "id: not an integer"
bad_import kind 'd["t"]="nonesuch"' 'unknown kind'
mkdir -p "$dir/pipe"
sg_conf_write "$dir/pipe/sg.conf" ""
cat "$dir/e1.jsonl" | "$SG_CLI" -c "$dir/pipe/sg.conf" db import - 2>/dev/null
is "$?" 0 "db import from a pipe (one pass)"
ok "db import from a pipe: the same store" cmp -s "$dir/e1.jsonl" <("$SG_CLI" -c "$dir/pipe/sg.conf" db export 2>/dev/null)

# ------------------------------------------------------------ forget
who=ivan@klient.example
before=$(grep -c "$who" "$dir/e1.jsonl")
ok "forget: the address is in the store before ($before lines)" test "$before" -gt 0
nm=$(cli show 2 --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))')
out=$(cli forget Ivan@Klient.Example 2>/dev/null)
ok "forget: reports what it erased: $out" grep -Eq '^forgotten: [1-9][0-9]* ticket\(s\), [1-9][0-9]* message\(s\) erased' <<<"$out"
cli db export "$dir/e3.jsonl" 2>/dev/null
is "$(grep -ci "$who" "$dir/e3.jsonl")" 0 "forget: the address appears nowhere in the store"
ok "forget: nor the name" sh -c "! grep -q 'Иван' '$dir/e3.jsonl'"
is "$(cli show 2 --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["messages"]))')" "$nm" \
	"forget: the messages still count"
ev=$(cli show 2 --json 2>/dev/null | python3 -c 'import json,sys; print([e["detail"] for e in json.load(sys.stdin)["events"] if e["type"]=="erased"])')
ok "forget: recorded as an event without the address: $ev" grep -q "erased on request" <<<"$ev"
ok "forget: other customers are kept" grep -q "alice@customer.example" "$dir/e3.jsonl"
cli forget not-an-address >/dev/null 2>&1
is "$?" 2 "forget: not an address exits 2"

# ------------------------------------------------------------ retention
cli set 1 status closed >/dev/null 2>&1
cli db export "$dir/e3b.jsonl" 2>/dev/null
out=$(cli clock run --in 29d 2>/dev/null | grep erased)
ok "retention: nothing erased before 30 days: $out" grep -q '^erased 0 ticket' <<<"$out"
ok "retention: ticket 1 still has its raw messages" grep -q '"t":"raw","ticket":1,' <(cli db export 2>/dev/null)
out=$(cli clock run --in 31d 2>/dev/null | grep erased)
ok "retention: erased after 30 days: $out" grep -q '^erased 1 ticket' <<<"$out"
cli db export "$dir/e4.jsonl" 2>/dev/null
ok "retention: no raw message of ticket 1 left" sh -c "! grep -q '\"t\":\"raw\",\"ticket\":1,' '$dir/e4.jsonl'"
is "$(grep -c '"t":"message","ticket":1,' "$dir/e4.jsonl")" "$(grep -c '"t":"message","ticket":1,' "$dir/e3b.jsonl")" \
	"retention: the message summaries (counts, times) stay"
is "$(grep -ci 'alice@customer.example' "$dir/e4.jsonl")" 0 "retention: the requestor's address is gone"
t1=$(cli show 1 --json 2>/dev/null)
is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["requestor"] or "-", d["subject"] or "-")' <<<"$t1")" \
	"closed - -" "retention: status kept, requestor and subject erased"
ok "retention: the erasure is an event" grep -q 'erased (retention)' <<<"$t1"
out=$(cli clock run --in 62d 2>/dev/null | grep erased)
ok "retention: a later pass finds nothing more: $out" grep -q '^erased 0 ticket' <<<"$out"

# ------------------------------------------------------------ the daemon's syslog lines
if [ -x "$SG_DAEMON" ]; then
	sock=$dir/log.sock
	python3 - "$sock" "$dir/syslog.txt" "$dir/recv.pid" >/dev/null 2>&1 {_sg_out}>&- <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[3], "w").write(str(os.getpid()))
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(8192) + b"\n")
PY
	sg_wait_for "test -S '$sock' && test -s '$dir/recv.pid'" 10
	mkdir -p "$dir/badlog"
	sg_conf_write "$dir/badlog/sg.conf" "" 'syslog_socket = "dev/log"' 'log_target = "journal"'
	"$SG_DAEMON" -n -c "$dir/badlog/sg.conf" > "$dir/badlog/out" 2>&1
	is "$?" 1 "a relative syslog_socket and an unknown log_target are refused"
	ok "each with file:line" sh -c "grep -q 'sg.conf:[0-9]*: syslog_socket: must be an absolute path' '$dir/badlog/out' &&
		grep -q 'sg.conf:[0-9]*: log_target: must be one of auto|syslog|stderr' '$dir/badlog/out'"
	sg_at_exit "kill \$(cat '$dir/recv.pid' 2>/dev/null) 2>/dev/null"
	dd=$dir/d
	mkdir -p "$dd"
	sg_conf_write "$dd/sg.conf" "local:$dd/sg.sock" "syslog_socket = \"$sock\"" "syslog_facility = \"local3\""
	: > "$dd/stderr"
	# As systemd starts it: stderr is the journal stream JOURNAL_STREAM names.
	js=$(stat -c '%d:%i' "$dd/stderr")
	JOURNAL_STREAM=$js "$SG_DAEMON" -f -c "$dd/sg.conf" >>"$dd/stderr" 2>&1 &
	dpid=$!
	sg_at_exit "kill $dpid 2>/dev/null"
	sg_wait_for "grep -q 'ready' '$dir/syslog.txt'" 20
	ok "daemon under systemd (foreground): lines go to syslog" grep -q "supportgated\[$dpid\]: info: main: supportgated .* ready" "$dir/syslog.txt"
	ok "with syslog_facility local3 and priority info (<158>)" grep -q "^<158>.*ready" "$dir/syslog.txt"
	ok "and not to stderr" sh -c "! grep -q ready '$dd/stderr'"
	kill "$dpid"
	sg_wait_for "! kill -0 $dpid" 10
	ok "the stop is logged there too" grep -q "^<158>.*stopping" "$dir/syslog.txt"
	# In the foreground outside systemd (a terminal, a test): stderr.
	: > "$dir/syslog.txt"
	"$SG_DAEMON" -f -c "$dd/sg.conf" >>"$dd/stderr" 2>&1 &
	dpid=$!
	sg_at_exit "kill $dpid 2>/dev/null"
	sg_wait_for "grep -q 'ready' '$dd/stderr'" 20
	ok "foreground outside systemd: stderr" grep -q "ready" "$dd/stderr"
	is "$(grep -c ready "$dir/syslog.txt")" 0 "and not syslog"
	kill "$dpid"
	sg_wait_for "! kill -0 $dpid" 10
	# log_target = syslog forces it.
	echo 'log_target = "syslog"' >> "$dd/sg.conf"
	"$SG_DAEMON" -f -c "$dd/sg.conf" >>"$dd/stderr" 2>&1 &
	dpid=$!
	sg_at_exit "kill $dpid 2>/dev/null"
	sg_wait_for "grep -q 'ready' '$dir/syslog.txt'" 20
	ok "log_target = syslog: syslog even in the foreground" grep -q "^<158>.*ready" "$dir/syslog.txt"
	kill "$dpid"
	sg_wait_for "! kill -0 $dpid" 10
	# In the background: syslog, whatever log_target says.
	: > "$dir/syslog.txt"
	sed -i 's/^log_target = .*/log_target = "stderr"/' "$dd/sg.conf"
	"$SG_DAEMON" -c "$dd/sg.conf" >>"$dd/stderr" 2>&1
	sg_wait_for "test -s '$dd/supportgated.pid' && grep -q 'ready' '$dir/syslog.txt'" 20
	bpid=$(cat "$dd/supportgated.pid" 2>/dev/null)
	[ -n "$bpid" ] && sg_at_exit "kill $bpid 2>/dev/null"
	ok "daemon in the background: syslog with its own pid" grep -q "^<158>.*supportgated\[$bpid\]: info: main: .*ready" "$dir/syslog.txt"
	[ -n "$bpid" ] && kill "$bpid"
	sg_wait_for "! kill -0 ${bpid:-0}" 10
else
	skip "supportgated not built" 10
fi
done_testing
