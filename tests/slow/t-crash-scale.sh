#!/bin/bash
# t-crash-scale — the crash suite at scale (make check-slow; not part of
# make check: it takes minutes). SG_SLOW_MESSAGES (default 10000) support
# mails flow through a private Postfix (milter_default_action = tempfail)
# from 4 client sessions that retry every 4xx like an MTA, while
# supportgated is killed with -9 at SG_SLOW_KILLS (default 10) random
# moments spread over the flow and restarted each time. Acknowledgements
# go to a relay of their own (a second capture sink). Afterwards:
#   - every message is in the store exactly once (one ticket each);
#   - the sink behind Postfix got each message exactly once (each sent
#     Message-ID seen once), marked with its ticket;
#   - each new ticket got exactly one acknowledgement, threaded to it;
#   - the outbound queue is empty and `supportgate db verify` is clean.
# Then the same with the acknowledgement relay down (451) for the first
# half of the flow. Prints the time each part took.
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x /usr/sbin/postfix ] || skip_all "postfix not installed (Debian package postfix)"
[ "$(id -u)" -eq 0 ] || skip_all "a private Postfix instance needs root"
N=${SG_SLOW_MESSAGES:-10000}
KILLS=${SG_SLOW_KILLS:-10}

sg_tmpdir top

# client DIR PORT TAG: N messages over 4 sessions, each retried on 4xx or
# a lost connection; DIR/progress holds the count accepted so far.
client() {
	python3 - "$1" "$2" "$3" "$N" <<'PY'
import os, smtplib, sys, threading, time
d, port, tag, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
lock = threading.Lock()
state = {"next": 0, "done": 0, "retries": 0}

def progress():
    tmp = os.path.join(d, "progress.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % state["done"])
    os.rename(tmp, os.path.join(d, "progress"))

def worker():
    s = None
    while True:
        with lock:
            i = state["next"]
            if i >= n:
                break
            state["next"] += 1
        frm = "%s-c%d@customer.example" % (tag, i)
        msg = ("From: Customer %d <%s>\r\nTo: support@example.com\r\nSubject: %s scale %d\r\n"
               "Message-ID: <%s-%d@customer.example>\r\n\r\nPlease help with case %d.\r\n"
               % (i, frm, tag, i, tag, i, i)) + ("A line of the body of message %d.\r\n" % i) * 12
        while True:
            try:
                if s is None:
                    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
                s.sendmail(frm, ["support@example.com"], msg.encode())
                break
            except (smtplib.SMTPException, OSError):
                with lock:
                    state["retries"] += 1
                try:
                    s.close()
                except Exception:
                    pass
                s = None
                time.sleep(0.2)
        with lock:
            state["done"] += 1
            if state["done"] % 20 == 0:
                progress()
    if s is not None:
        try:
            s.quit()
        except Exception:
            pass

ts = [threading.Thread(target=worker) for _ in range(4)]
for t in ts:
    t.start()
for t in ts:
    t.join()
progress()
print("retries", state["retries"])
PY
}

progress() { cat "$1/progress" 2>/dev/null || echo 0; }
# outbox_jobs CONF: the jobs in the outbound queue, waiting or dead
# (outbox --json lists them all; its text listing ends with a summary line)
outbox_jobs() {
	timeout 60 "$SG_CLI" -c "$1" outbox --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'
}

# scenario NAME RELAY_DOWN(0|1)
scenario() {
	local name=$1 down=$2 dir=$top/$1 t0 t1 t2 cpid watcher kills=0 restart_max=0 k th
	mkdir -p "$dir"
	unset sg_mport sg_sport sg_pport
	local aport
	aport=$(sg_free_port)
	cp -r "$top_srcdir/templates" "$dir/templates"
	sg_sink_start "$dir/acks" "$aport" || sg_bail "$name: the acknowledgement sink did not start"
	[ "$down" = 1 ] && touch "$dir/acks/FAIL"
	sg_stack_start "$dir" "template_dir = \"$dir/templates\"" "smtp_relay = \"smtp://127.0.0.1:$aport\"" \
		"outbound_retry_min = 1" "ack_limit_global = 1000000" || sg_bail "$name: set-up failed (the cause is above)"
	t0=$(date +%s)
	client "$dir" "$sg_pport" "$name" > "$dir/client.log" 2>&1 &
	cpid=$!
	if [ "$down" = 1 ]; then   # the relay comes back at half the flow
		( while [ "$(progress "$dir")" -lt $((N / 2)) ] && kill -0 "$cpid" 2>/dev/null; do sleep 0.1; done
		  rm -f "$dir/acks/FAIL"; echo "relay back at $(progress "$dir") messages" > "$dir/relay.log" ) &
		watcher=$!
	fi
	# the kill moments: KILLS progress counts spread over the flow
	local moments
	moments=$(python3 -c "import random,sys; n=int(sys.argv[1]); print(' '.join(map(str, sorted(random.sample(range(n//20, n*19//20), int(sys.argv[2]))))))" "$N" "$KILLS")
	for th in $moments; do
		while [ "$(progress "$dir")" -lt "$th" ] && kill -0 "$cpid" 2>/dev/null; do sleep 0.05; done
		kill -0 "$cpid" 2>/dev/null || break
		sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
		kill -9 "$sg_daemon_pid" 2>/dev/null && kills=$((kills + 1))
		wait "$sg_daemon_pid" 2>/dev/null
		k=$(date +%s%N)
		sg_daemon_start "$sg_conf" "$sg_log" || diag "$name: restart after kill $kills failed"
		k=$(( ($(date +%s%N) - k) / 1000000 ))
		[ "$k" -gt "$restart_max" ] && restart_max=$k
	done
	wait "$cpid"
	is "$?" 0 "$name: the client delivered all $N messages"
	if [ "$down" = 1 ]; then
		wait "$watcher"
		diag "$name: $(cat "$dir/relay.log")"
	fi
	t1=$(date +%s)
	diag "$name: $N messages in $((t1 - t0)) s; daemon killed $kills times (slowest restart ${restart_max} ms); client $(cat "$dir/client.log")"
	is "$kills" "$KILLS" "$name: the daemon was killed $KILLS times"

	sg_postfix_flush "$sg_pf"
	sg_wait_for "test \$(sg_sink_count $sg_sink) -ge $N" 900
	sg_postfix_wait_empty "$sg_pf" 300
	sg_wait_for "test \$(sg_sink_count $dir/acks) -ge $N" 900
	sg_wait_for "test \"\$(outbox_jobs $sg_conf)\" = 0" 300
	sleep 2
	t2=$(date +%s)
	diag "$name: support copies and acknowledgements delivered $((t2 - t1)) s after the last message"

	python3 - "$sg_sink" "$N" "$name" > "$dir/sink.check" 2>&1 <<'PY'
import collections, glob, re, sys
d, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen, unmarked = collections.Counter(), 0
for f in glob.glob(d + "/msg-*.eml"):
    head = open(f, "rb").read().split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    m = re.search(rb"(?im)^Message-ID:\s*<([^>]*)>", head)
    seen[m.group(1).decode() if m else "(none)"] += 1
    if not re.search(rb"(?im)^X-Support-Ticket:", head):
        unmarked += 1
want = {"%s-%d@customer.example" % (tag, i) for i in range(n)}
print("missing", len(want - set(seen)))
print("twice", sum(1 for k, v in seen.items() if v > 1))
print("foreign", len(set(seen) - want))
print("unmarked", unmarked)
PY
	is "$(grep -E '^(missing|twice|foreign)' "$dir/sink.check" | tr '\n' ' ')" "missing 0 twice 0 foreign 0 " \
		"$name: the sink got every sent Message-ID exactly once"
	is "$(sed -n 's/^unmarked //p' "$dir/sink.check")" 0 "$name: every delivered copy is marked with its ticket"

	# A ticket's history holds the customer's message and our
	# acknowledgement: 2 each. A duplicate would be a third message or
	# a second ticket with the same subject; 25 tickets are opened to
	# check what the two are.
	timeout 120 "$SG_CLI" -c "$sg_conf" tickets --json > "$dir/tickets.json" 2>"$dir/tickets.err"
	python3 - "$dir/tickets.json" "$N" "$name" > "$dir/store.check" 2>&1 <<'PY'
import json, sys
ts, n, tag = json.load(open(sys.argv[1])), int(sys.argv[2]), sys.argv[3]
want = {"%s scale %d" % (tag, i) for i in range(n)}
subjects = [t["subject"] for t in ts]
print("tickets", len(ts))
print("subjects", len(set(subjects) & want), "duplicates", len(subjects) - len(set(subjects)))
print("not-two-messages", sum(1 for t in ts if t["messages"] != 2))
PY
	is "$(tr '\n' ' ' < "$dir/store.check")" "tickets $N subjects $N duplicates 0 not-two-messages 0 " \
		"$name: the store holds every message exactly once, one ticket each (with its acknowledgement)"
	local bad=0 id
	# (ticket ids have gaps: an id taken by an ingest a kill cut short)
	for id in $(python3 -c 'import json,random,sys; ids=[t["id"] for t in json.load(open(sys.argv[1]))]; print(" ".join(map(str, random.sample(ids, min(25, len(ids))))))' "$dir/tickets.json"); do
		timeout 60 "$SG_CLI" -c "$sg_conf" show "$id" --json > "$dir/show.json" 2>"$dir/show.err"
		python3 - "$name" "$dir/show.json" <<'PY' || { bad=$((bad + 1)); diag "$name: ticket $id: $(head -c 600 "$dir/show.json" "$dir/show.err" | tr '\n' ' ')"; }
import json, re, sys
t = json.load(open(sys.argv[2]))
i = re.search(r"scale (\d+)$", t["subject"]).group(1)
d = sorted((m["direction"], m["message_id"] or "") for m in t["messages"])
sys.exit(0 if len(d) == 2 and d[0] == ("in", "%s-%s@customer.example" % (sys.argv[1], i)) and d[1][0] == "out" else 1)
PY
	done
	is "$bad" 0 "$name: 25 tickets opened: the customer's message once, and our acknowledgement"

	python3 - "$dir/acks" "$N" "$name" > "$dir/acks.check" 2>&1 <<'PY'
import collections, glob, re, sys
d, n, tag = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ids, deliveries, wrong = collections.defaultdict(set), collections.Counter(), 0
for f in glob.glob(d + "/msg-*.env"):
    rcpts = [l[5:].strip() for l in open(f) if l.startswith("RCPT ")]
    head = open(f[:-4] + ".eml", "rb").read().split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    irt = re.search(rb"(?im)^In-Reply-To:\s*<([^>]*)>", head)
    mid = re.search(rb"(?im)^Message-ID:\s*<([^>]*)>", head)
    for r in rcpts:
        ids[r].add(mid.group(1) if mid else b"")
        deliveries[r] += 1
        m = re.match(r"%s-c(\d+)@customer\.example$" % re.escape(tag), r)
        if not m or not irt or irt.group(1).decode() != "%s-%s@customer.example" % (tag, m.group(1)):
            wrong += 1
want = {"%s-c%d@customer.example" % (tag, i) for i in range(n)}
print("without", len(want - set(ids)))
print("several", sum(1 for v in ids.values() if len(v) > 1))
print("unthreaded", wrong)
print("redelivered", sum(1 for v in deliveries.values() if v > 1))
PY
	is "$(grep -v redelivered "$dir/acks.check" | tr '\n' ' ')" "without 0 several 0 unthreaded 0 " \
		"$name: each new ticket got exactly one acknowledgement (one Message-ID), threaded to its message"
	# An acknowledgement the relay took just before a kill, not yet
	# recorded as sent, is sent again after the restart (the same
	# message, same Message-ID): at most the one in flight per kill.
	local again
	again=$(sed -n 's/^redelivered //p' "$dir/acks.check")
	diag "$name: acknowledgements delivered twice (a kill between the relay's 250 and the commit): $again"
	ok "$name: at most one acknowledgement redelivered per kill ($again for $kills)" test "${again:-99}" -le "$kills"
	is "$(outbox_jobs "$sg_conf")" 0 "$name: the outbound queue is empty"

	sg_daemon_stop
	timeout 300 "$SG_CLI" -c "$sg_conf" db verify > "$dir/verify.out" 2>&1
	is "$?" 0 "$name: supportgate db verify is clean"
	sg_postfix_stop "$sg_pf"
	sg_sink_stop "$sg_sink"
	sg_sink_stop "$dir/acks"
	diag "$name: $(( $(date +%s) - t0 )) s in all"
}

start=$(date +%s)
scenario relay-up 0
scenario relay-down 1
diag "crash suite: $(( $(date +%s) - start )) s for both scenarios, $N messages and $KILLS kills each"
done_testing
