#!/bin/bash
# t-configcheck — `supportgated -n` and the CLI's basic contract.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x "$SG_DAEMON" ] || skip_all "supportgated not built"

sg_tmpdir dir
cat > "$dir/good.conf" <<CONF
socket = "inet:8891@127.0.0.1"
state_dir = "$dir/state"
support_address = {"support@example.com"}
CONF
out=$("$SG_DAEMON" -n -c "$dir/good.conf" 2>&1)
is "$?" 0 "-n on a good file exits 0"
ok "-n says OK" grep -q 'configuration OK' <<<"$out"

cat > "$dir/bad.conf" <<CONF
socket = "inet:99999@127.0.0.1"
state_dir = "$dir/state"
support_address = {"support@example.com"}
log_level = "loud"
CONF
out=$("$SG_DAEMON" -n -c "$dir/bad.conf" 2>&1)
is "$?" 1 "-n on a bad file exits 1"
ok "first error with file:line" grep -q "^$dir/bad.conf:1: socket: bad port" <<<"$out"
ok "every error printed" grep -q "^$dir/bad.conf:4: log_level: must be one of" <<<"$out"

out=$("$SG_DAEMON" -n -c "$dir/missing.conf" 2>&1)
is "$?" 1 "-n on a missing file exits 1"
ok "missing file named" grep -q "missing.conf" <<<"$out"

out=$("$SG_DAEMON" -V)
ok "-V prints library versions" grep -q 'Berkeley DB 5' <<<"$out"
"$SG_DAEMON" -x >/dev/null 2>&1
is "$?" 2 "unknown option exits 2"

"$SG_CLI" no-such-command >/dev/null 2>"$dir/err"
is "$?" 2 "CLI: unknown command exits 2"
ok "CLI: unknown command is named" grep -q "unknown command 'no-such-command'" "$dir/err"
out=$("$SG_CLI" help)
ok "CLI: help lists commands" grep -q 'config' <<<"$out"
out=$("$SG_CLI" config --help)
ok "CLI: per-command --help" grep -q 'usage: supportgate config' <<<"$out"
out=$("$SG_CLI" -c "$dir/good.conf" config)
ok "CLI: config shows values in effect" grep -q '^socket = "inet:8891@127.0.0.1"' <<<"$out"
"$SG_CLI" -c "$dir/bad.conf" config >/dev/null 2>"$dir/err"
is "$?" 1 "CLI: bad config exits 1"
done_testing
