#!/bin/bash
# t-postfix-crash — kill -9 supportgated again and again while 500
# messages go through a private Postfix (milter_default_action = tempfail;
# the sending client retries 4xx like any MTA), restart it each time, then
# check every message arrived exactly once in the sink and exactly once in
# the store. A crash after commit but before the answer makes the retry a
# duplicate: same ticket, marked the same.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x /usr/sbin/postfix ] || skip_all "postfix not installed (Debian package postfix)"
[ "$(id -u)" -eq 0 ] || skip_all "a private Postfix instance needs root"
N=${SG_CRASH_MESSAGES:-500}

sg_tmpdir dir
sg_stack_start "$dir" || sg_bail "set-up failed (the cause is above)"

# The client: N distinct messages, each retried on 4xx/connection loss.
python3 - "$sg_pport" "$N" > "$dir/client.log" 2>&1 <<'PY' &
import smtplib, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
retries = 0
s = None
for i in range(n):
    msg = ("From: crash%d@customer.example\r\nTo: support@example.com\r\n"
           "Subject: crash test %d\r\nMessage-ID: <crash-%d@customer.example>\r\n\r\nbody %d\r\n" % (i, i, i, i)).encode()
    while True:
        try:
            if s is None:
                s = smtplib.SMTP("127.0.0.1", port, timeout=30)
            s.sendmail("crash%d@customer.example" % i, ["support@example.com"], msg)
            break
        except (smtplib.SMTPException, OSError) as e:
            retries += 1
            try:
                s.close()
            except Exception:
                pass
            s = None
            time.sleep(0.2)
print("retries", retries)
PY
client=$!

kills=0
for round in 1 2 3 4; do
	sleep 0.7
	kill -9 "$sg_daemon_pid" 2>/dev/null && kills=$((kills + 1))
	wait "$sg_daemon_pid" 2>/dev/null
	sleep 0.3
	sg_daemon_start "$sg_conf" "$sg_log" || diag "restart $round failed"
done
wait "$client"
is "$?" 0 "client delivered all $N messages"
diag "daemon killed $kills times; client $(cat "$dir/client.log")"
ok "the daemon was killed at least 3 times" test "$kills" -ge 3
sg_postfix_flush "$sg_pf"
sg_wait_for "test \$(sg_sink_count $sg_sink) -ge $N" 90
sg_postfix_wait_empty "$sg_pf" 30
sleep 1
is "$(sg_sink_count "$sg_sink")" "$N" "sink received exactly $N messages"
dups=$(cat "$sg_sink"/msg-*.eml | grep -i '^Message-ID:' | sort | uniq -d | wc -l)
is "$dups" 0 "no message arrived twice"
unmarked=$(grep -L '^X-Support-Ticket:' "$sg_sink"/msg-*.eml | wc -l)
is "$unmarked" 0 "every delivered copy is marked with its ticket"

json=$("$SG_CLI" -c "$sg_conf" tickets --json)
is "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$json")" "$N" "store holds exactly $N tickets"
is "$(python3 -c 'import json,sys; print(sum(t["messages"] for t in json.load(sys.stdin)))' <<<"$json")" "$N" "and exactly $N messages"
is "$(python3 -c 'import json,sys; print(len({t["subject"] for t in json.load(sys.stdin)}))' <<<"$json")" "$N" "one ticket per message"
ok "environment verifies" "$SG_CLI" -c "$sg_conf" db verify
done_testing
