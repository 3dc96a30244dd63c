#!/bin/bash
# t-bench-scale — a smoke run of the scale generator and benchmark
# (tests/bench/bench-scale, `make bench-scale` runs it to 1M tickets) at
# 5,000 tickets (its sizes are 10k, 100k and MAX, those <= MAX): every
# measurement runs and checks what it found (each lookup finds its
# ticket, the SLA pass fires exactly the breaches made due, the
# follow-ups are follow-ups or new tickets), the report reads the week's
# tickets, and the store it leaves is one the CLI reads and `db verify`
# passes.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_CLI:=./supportgate}"
: "${top_builddir:=.}"
bench=$top_builddir/tests/bench/bench-scale
[ -x "$SG_CLI" ] || skip_all "supportgate not built"
[ -x "$bench" ] || skip_all "tests/bench/bench-scale not built"

sg_tmpdir dir
printf 'agent anna@example.com groups=billing\nqueue billing mailbox=billing@example.com agents=anna@example.com manager=lead@example.com\nsla gold first-response=1h resolution=10h\n' >"$dir/t.rules"
sg_conf_write "$dir/sg.conf" "" "rules_file = \"$dir/t.rules\"" "template_dir = \"$top_srcdir/templates\"" \
	'smtp_relay = "smtp://127.0.0.1:9"'
cli() { "$SG_CLI" -c "$dir/sg.conf" "$@"; }

out=$(SG_SCALE_FOLLOWUPS=100 "$bench" "$dir" 5000 2>"$dir/bench.err")
ok "bench-scale at 5,000 tickets runs to its end" test $? -eq 0 || sed 's/^/# /' "$dir/bench.err"
printf '%s\n' "$out" | sed 's/^/# /'
for row in "lookup msgid" "lookup token" "lookup customer" "SLA pass, 3 due" "report (week)" "  per 1k tickets" "ingest follow-up"; do
	ok "a figure for $row" bash -c 'printf "%s\n" "$1" | grep -q "^$2 .* 1.00x"' _ "$out" "$row"
done
ok "the cache's pages read per lookup are printed" bash -c 'printf "%s\n" "$1" | grep -qE "^  pages read \(msgid\) +[0-9.]+ "' _ "$out"
read_n=$(printf '%s\n' "$out" | awk '/tickets it read/ { print $4 }')
ok "the week's report read the 5,000 tickets and the 100 follow-ups' new ones ($read_n)" \
	test "${read_n:-0}" -ge 5000 -a "${read_n:-0}" -le 5100
is "$("$bench" "$dir" 5000 2>&1 >/dev/null | grep -c 'not empty')" 1 "a second run refuses the filled store"
ok "the CLI reads a generated ticket" bash -c '"$@" | grep -q "Invoice 4999 shows"' _ "$SG_CLI" -c "$dir/sg.conf" show 5000
ok "db verify passes on the generated store" cli db verify
done_testing
