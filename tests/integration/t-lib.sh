#!/bin/bash
# t-lib — the helpers of lib.sh themselves: a temp dir is removed at exit,
# every helper that writes refuses an empty work directory, /, and any
# directory outside the script's own (also from inside $(...)), and a
# private Postfix whose work directory the postfix user cannot traverse
# (a clone in root's 0700 home) runs from a reachable spool of its own,
# removed by sg_postfix_stop.
. "${top_srcdir:-.}/tests/integration/lib.sh"
lib=${top_srcdir:-.}/tests/integration/lib.sh

sg_tmpdir dir
ok "sg_tmpdir makes the directory" test -d "$dir"
mkdir "$dir/outside"

# child SCRIPT: run SCRIPT in a fresh bash with lib.sh loaded; its stdout
# in $dir/child.out, its exit status returned.
child() {
	TMPDIR=$dir bash -c ". '$lib'; $1" >"$dir/child.out" 2>"$dir/child.err"
}

child 'sg_tmpdir d; echo "$d"'
is "$?" 0 "a script with a temp dir exits 0"
made=$(cat "$dir/child.out")
ok "its temp dir is made inside TMPDIR" grep -q "^$dir/sg-test\." "$dir/child.out"
ok "and removed when the script exits" test ! -e "$made"

child 'sg_tmpdir d; _sg_guard probe ""; echo reached'
is "$?" 1 "empty work directory: the script fails"
ok "with Bail out! and the reason" grep -q '^Bail out! probe: empty work directory' "$dir/child.out"
ok "and stops there" test -z "$(grep reached "$dir/child.out")"

child 'sg_tmpdir d; _sg_guard probe /; echo reached'
is "$?" 1 "/ as work directory: the script fails"
ok "refusing / is named" grep -q '^Bail out! probe: refusing to work in /$' "$dir/child.out"

child "sg_tmpdir d; sg_conf_write '$dir/outside/sg.conf' ''"
is "$?" 1 "writing outside the script's own directories fails"
ok "the reason names the directory" grep -qF "$dir/outside is outside this script's own directories" "$dir/child.out"
ok "nothing was written there" test ! -e "$dir/outside/sg.conf"

child "sg_tmpdir d; sg_conf_write \"\$d/../outside/sg.conf\" ''"
is "$?" 1 "a .. path out of the temp dir is refused"
ok "nothing was written through .." test ! -e "$dir/outside/sg.conf"

child "sg_tmpdir d; ln -s '$dir/outside' \"\$d/link\"; sg_sink_start \"\$d/link\" 1"
is "$?" 1 "a symlink out of the temp dir is refused"
ok "nothing was written through the link" test -z "$(ls -A "$dir/outside")"

child 'sg_tmpdir d; x=$(_sg_guard probe ""); echo reached'
is "$?" 1 "a refusal inside \$(...) fails the whole script"
ok "its Bail out! still reaches the output" grep -q '^Bail out! probe: empty' "$dir/child.out"
ok "the script stops there" test -z "$(grep reached "$dir/child.out")"

child "sg_tmpdir d; sg_conf_write \"\$d/sg.conf\" 'local:/x.sock' 'log_level = \"debug\"'; cat \"\$d/sg.conf\""
is "$?" 0 "sg_conf_write inside the temp dir works"
ok "with the socket and the extra line" grep -q '^log_level = "debug"' "$dir/child.out"

child 'sg_tmpdir d; sg_daemon_start "$d/none.conf" "$d/d.log"'
is "$?" 1 "a daemon that cannot start: 1"
ok "its log is shown" grep -q '^# supportgated did not start' "$dir/child.out"

# A private Postfix from a directory the postfix user cannot traverse.
if [ "$(id -u)" -ne 0 ] || [ ! -x /usr/sbin/postfix ]; then
	skip 6 "a private Postfix needs root and postfix installed"
	done_testing
fi
mkdir -m 700 "$dir/private"
pf=$dir/private/postfix
port=$(sg_free_port)
sg_postfix_start "$pf" "$port" "$(sg_free_port)" || sg_bail "private Postfix under a 0700 directory did not start (the cause is above)"
root=$(cat "$pf/instance" 2>/dev/null)
ok "the spool moved to a reachable directory" test -n "$root" -a -d "$root/queue"
ok "named sg-postfix.* under /tmp or /var/tmp" grep -qE '^/(var/)?tmp/sg-postfix\.' "$pf/instance"
ok "Postfix listens" _sg_port_open "$port"
sg_postfix_stop "$pf"
ok "sg_postfix_stop removes that spool" test ! -e "$root"
ok "and keeps the log" grep -q 'starting the Postfix mail system' "$pf/maillog"
ok "Postfix is stopped" test -z "$(_sg_port_open "$port" && echo up)"
done_testing
