#!/bin/bash
# t-repl — one gateway that survives a machine: three supportgated nodes
# on 127.0.0.1 (own state dirs, milter ports and replication ports) form
# a Berkeley DB replication group (repmgr, ack policy quorum). A private
# Postfix feeds support mail from 4 sessions that retry every 4xx like an
# MTA; its milter is the master's (what a virtual IP that follows the
# master gives, supportgated(8)). In the middle the master is killed
# with -9; the other two elect a master, Postfix is pointed at it (the
# "VIP" moves), the feed goes on. Afterwards:
#   - every mail the client got a 250 for is in the new master's store
#     exactly once (one ticket each);
#   - each new ticket got exactly one acknowledgement (one Message-ID;
#     the one in flight at the kill may be delivered twice);
#   - the old master, restarted, rejoins as a replica and catches up
#     (same log position and the same messages as the master);
#   - a replica's milter answers tempfail, a replica's CLI refuses
#     writes naming the master, `repl status` shows role, master, peers.
# Prints the failover gap (the longest pause between 250s across the
# kill) and the election time. SG_REPL_MAILS mails (default 150; make
# check-slow runs 2000).
. "${top_srcdir:-.}/tests/integration/lib.sh"
: "${SG_DAEMON:=./supportgated}" "${SG_CLI:=./supportgate}"
[ -x "$SG_DAEMON" ] || skip_all "supportgated not built"
[ -x /usr/sbin/postfix ] || skip_all "postfix not installed (Debian package postfix)"
[ "$(id -u)" -eq 0 ] || skip_all "a private Postfix instance needs root"
N=${SG_REPL_MAILS:-150}

sg_tmpdir dir
cp -r "$top_srcdir/templates" "$dir/templates"
aport=$(sg_free_port) sport=$(sg_free_port) pport=$(sg_free_port)
declare -a mport rport pid
for i in 1 2 3; do
	mport[$i]=$(sg_free_port)
	rport[$i]=$(sg_free_port)
done
while [ "${rport[2]}" = "${rport[1]}" ] || [ "${rport[3]}" = "${rport[1]}" ] || [ "${rport[3]}" = "${rport[2]}" ]; do
	rport[3]=$(sg_free_port)
	rport[2]=$(sg_free_port)
done
for i in 1 2 3; do
	mkdir -p "$dir/n$i"
	peers=""
	for j in 1 2 3; do
		[ "$j" = "$i" ] || peers="$peers${peers:+, }\"127.0.0.1:${rport[$j]}\""
	done
	sg_conf_write "$dir/n$i/sg.conf" "inet:${mport[$i]}@127.0.0.1" "template_dir = \"$dir/templates\"" \
		"smtp_relay = \"smtp://127.0.0.1:$aport\"" "outbound_retry_min = 1" "ack_limit_global = 1000000" \
		"replication_local = \"127.0.0.1:${rport[$i]}\"" "replication_peers = {$peers}" \
		"replication_ack_policy = \"quorum\"" "$([ "$i" = 1 ] && echo 'replication_creator = true')"
done
cli() { local n=$1; shift; timeout 60 "$SG_CLI" -c "$dir/n$n/sg.conf" "$@"; }
role() { cli "$1" repl status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["role"])' 2>/dev/null; }
lsn() { cli "$1" repl status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["lsn"])' 2>/dev/null; }

# start N: the node's daemon in the background, until its log says ready
start() {
	local n=$1 c0
	c0=$(grep -c ' ready ' "$dir/n$n/log" 2>/dev/null)
	"$SG_DAEMON" -f -c "$dir/n$n/sg.conf" >>"$dir/n$n/log" 2>&1 {_sg_out}>&- &
	pid[$n]=$!
	echo "${pid[$n]}" > "$dir/n$n/daemon.pid"
	sg_wait_for "test \$(grep -c ' ready ' $dir/n$n/log) -gt ${c0:-0}" 60 ||
		{ sg_show_log "node $n did not start" "$dir/n$n/log"; return 1; }
}
stop_all() {
	local n p
	for n in 1 2 3; do
		p=$(cat "$dir/n$n/daemon.pid" 2>/dev/null) || continue
		kill "$p" 2>/dev/null
	done
	for n in 1 2 3; do
		p=$(cat "$dir/n$n/daemon.pid" 2>/dev/null) || continue
		sg_wait_for "! kill -0 $p" 15 || kill -9 "$p" 2>/dev/null
	done
}
_sg_stop_at_exit stop_all

sg_sink_start "$dir/acks" "$aport" || sg_bail "the acknowledgement sink did not start"
sg_sink_start "$dir/sink" "$sport" || sg_bail "the capture sink did not start"
start 1 || sg_bail "node 1 (the group creator) did not start"
start 2 || sg_bail "node 2 did not start"
start 3 || sg_bail "node 3 did not start"
is "$(role 1) $(role 2) $(role 3)" "master replica replica" "node 1 is master, nodes 2 and 3 replicas"
sg_wait_for "cli 2 repl status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if all(p[\"connected\"] for p in d[\"peers\"]) else 1)'" 20
cli 2 repl status --json > "$dir/status2.json" 2>/dev/null
python3 - "$dir/status2.json" "${rport[1]}" > "$dir/status2.check" <<'PY'
import json, sys
d, p1 = json.load(open(sys.argv[1])), sys.argv[2]
print(d["role"], d["master"] == "127.0.0.1:" + p1, d["nsites"], len(d["peers"]),
      all(p["connected"] for p in d["peers"]), sum(p["master"] for p in d["peers"]), d["ack_policy"])
PY
is "$(cat "$dir/status2.check")" "replica True 3 2 True 1 quorum" \
	"repl status --json on a replica: role, master, 3 sites, both peers connected, one of them the master"
cli 1 repl status > "$dir/status1.txt" 2>/dev/null
ok "repl status (text) on the master says so" grep -q '^role: *master' "$dir/status1.txt"
ok "the master's state_dir/repl.sites says so too" grep -qx 'role master' "$dir/n1/state/repl.sites"

# A replica refuses a change, naming the master; the master takes it.
printf 'From: Early <early@customer.example>\nTo: support@example.com\nSubject: early\nMessage-ID: <early@customer.example>\n\nHello.\n' > "$dir/early.eml"
cli 2 ingest "$dir/early.eml" > "$dir/replica-write.out" 2>&1
ok "ingest on a replica fails" test $? -ne 0
ok "... saying it is a replica and naming the master" \
	grep -q "this node is a replica; the master is 127.0.0.1:${rport[1]}" "$dir/replica-write.out"
ok "ingest on the master works" cli 1 ingest "$dir/early.eml"

# Postfix first points at a replica: its milter answers tempfail.
sg_postfix_start "$dir/postfix" "$pport" "$sport" "inet:127.0.0.1:${mport[2]}" || sg_bail "Postfix did not start"
printf 'From: Probe <probe@customer.example>\nTo: support@example.com\nSubject: probe\nMessage-ID: <probe@customer.example>\n\nHello.\n' > "$dir/probe.eml"
python3 - "$pport" "$dir/probe.eml" > "$dir/probe.out" 2>&1 <<'PY'
import smtplib, sys
s = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=60)
try:
    s.sendmail("probe@customer.example", ["support@example.com"], open(sys.argv[2], "rb").read())
    print("accepted")
except smtplib.SMTPDataError as e:
    print(e.smtp_code, e.smtp_error.decode())
PY
ok "a replica's milter answers tempfail (451), naming the master" grep -q "^451 .*replica (master 127.0.0.1:${rport[1]})" "$dir/probe.out"
sg_postfix_set "$dir/postfix" "smtpd_milters=inet:127.0.0.1:${mport[1]}" || sg_bail "Postfix reload failed"
sleep 1

# The feed: 4 sessions, each mail retried on 4xx or a lost connection;
# DIR/accepted gets "time index" per 250.
python3 - "$dir" "$pport" "$N" > "$dir/client.log" 2>&1 <<'PY' &
import os, smtplib, sys, threading, time
d, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lock = threading.Lock()
state = {"next": 0, "retries": 0}
log = open(os.path.join(d, "accepted"), "a", buffering=1)

def worker():
    s = None
    while True:
        with lock:
            i = state["next"]
            if i >= n:
                break
            state["next"] += 1
        frm = "c%d@customer.example" % i
        msg = ("From: Customer %d <%s>\r\nTo: support@example.com\r\nSubject: repl %d\r\n"
               "Message-ID: <repl-%d@customer.example>\r\n\r\nPlease help with case %d.\r\n" % (i, frm, i, i, i))
        msg += ("A line of the body of message %d.\r\n" % i) * 40
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
            log.write("%.3f %d\n" % (time.time(), i))
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
print("retries", state["retries"])
PY
cpid=$!
accepted() { wc -l < "$dir/accepted" 2>/dev/null || echo 0; }
sg_wait_for "test \$(accepted) -ge $((N / 3)) || ! kill -0 $cpid" 300
t_start=$(head -1 "$dir/accepted" | cut -d' ' -f1)
t_kill=$(date +%s.%N)
kill -9 "${pid[1]}"
wait "${pid[1]}" 2>/dev/null
at_kill=$(accepted)
new=""
for _ in $(seq 1 600); do
	for n in 2 3; do   # the file the daemon rewrites each second (what a VRRP check reads)
		grep -qx 'role master' "$dir/n$n/state/repl.sites" 2>/dev/null && { new=$n; break 2; }
	done
	sleep 0.1
done
t_elect=$(date +%s.%N)
[ -n "$new" ] || sg_bail "no new master within 60 s of the kill"
ok "an election made node $new master" test -n "$new"
# the virtual IP moves to the new master
sg_postfix_set "$dir/postfix" "smtpd_milters=inet:127.0.0.1:${mport[$new]}" || sg_bail "Postfix reload failed"
t_vip=$(date +%s.%N)
wait "$cpid"
is "$?" 0 "the client delivered all $N mails"
is "$(accepted)" "$N" "$N mails got a 250"
# the gap: the longest pause between two 250s that ends after the kill
# (the mails whose 250 was on its way at the kill do not hide it)
gap=$(sort -n "$dir/accepted" | awk -v k="$t_kill" 'p != "" && $1 > k && $1 - p > m { m = $1 - p } { p = $1 } END { printf "%.2f", m }')
elect=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$t_elect" "$t_kill")
vip=$(python3 -c "import sys; print('%.2f' % (float(sys.argv[1]) - float(sys.argv[2])))" "$t_vip" "$t_kill")
rate=$(python3 -c "import sys; print('%.1f' % (int(sys.argv[3]) / (float(sys.argv[1]) - float(sys.argv[2]))))" "$t_kill" "$t_start" "$at_kill")
diag "killed the master after $at_kill of $N mails; new master node $new seen ${elect}s after the kill, Postfix pointed at it after ${vip}s"
diag "failover gap (the longest pause between 250s across the kill): ${gap}s; before the kill $rate mails/s; client $(cat "$dir/client.log")"
ok "failover gap under 30 s (${gap}s)" python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 30 else 1)" "$gap"

# The old master rejoins as a replica and catches up.
start 1 || sg_bail "node 1 did not restart"
sg_wait_for "test \"\$(role 1)\" = replica" 60
is "$(role 1)" replica "the old master rejoined as a replica"
sg_wait_for "cli $new stats --json | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)[\"outbound\"][\"waiting\"] == 0 else 1)'" 120
sg_wait_for "test \$(sg_sink_count $dir/acks) -ge $((N + 1))" 120
sleep 2
# (the master's own last records, a checkpoint, reach the replicas with
# its next change: the two replicas are compared, then the data)
other=$((5 - new))
sg_wait_for "test \"\$(lsn 1)\" = \"\$(lsn $other)\"" 30
is "$(lsn 1)" "$(lsn $other)" "the old master caught up: the same log position as the other replica ($(lsn $other))"

cli "$new" db export > "$dir/master.jsonl" 2>"$dir/export.err" || diag "export: $(cat "$dir/export.err")"
cli 1 db export > "$dir/old.jsonl" 2>"$dir/export1.err" || diag "export (old master): $(cat "$dir/export1.err")"
python3 - "$dir/master.jsonl" "$dir/accepted" "$N" > "$dir/store.check" <<'PY'
import collections, json, sys
msgs, tickets = collections.Counter(), 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("t") == "message" and r.get("direction") == "in":
        msgs[r["message_id"]] += 1
    if r.get("t") == "ticket":
        tickets += 1
acc = {"repl-%s@customer.example" % l.split()[1] for l in open(sys.argv[2])}
print("accepted", len(acc), "missing", sum(1 for m in acc if msgs[m] == 0),
      "twice", sum(1 for m in acc if msgs[m] > 1), "tickets", tickets)
PY
is "$(cat "$dir/store.check")" "accepted $N missing 0 twice 0 tickets $((N + 1))" \
	"every mail that got a 250 is in the new master's store exactly once, one ticket each"
python3 - "$dir/master.jsonl" "$dir/old.jsonl" > "$dir/same.check" <<'PY'
import json, sys
def ids(p):
    return sorted(json.loads(l).get("message_id") or "" for l in open(p) if '"t":"message"' in l)
a, b = ids(sys.argv[1]), ids(sys.argv[2])
print(len(a), len(b), a == b)
PY
read -r na nb same < "$dir/same.check"
is "$same" True "the old master holds the same messages as the new one ($nb of $na)"

python3 - "$dir/acks" "$N" > "$dir/acks.check" 2>&1 <<'PY'
import collections, glob, re, sys
d, n = sys.argv[1], int(sys.argv[2])
ids, deliveries, wrong = collections.defaultdict(set), collections.Counter(), 0
for f in glob.glob(d + "/msg-*.env"):
    rcpts = [l[5:].strip() for l in open(f) if l.startswith("RCPT ")]
    head = open(f[:-4] + ".eml", "rb").read().split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    irt = re.search(rb"(?im)^In-Reply-To:\s*<([^>]*)>", head)
    mid = re.search(rb"(?im)^Message-ID:\s*<([^>]*)>", head)
    for r in rcpts:
        ids[r].add(mid.group(1) if mid else b"")
        deliveries[r] += 1
        m = re.match(r"c(\d+)@customer\.example$", r)
        if m and (not irt or irt.group(1).decode() != "repl-%s@customer.example" % m.group(1)):
            wrong += 1
want = {"c%d@customer.example" % i for i in range(n)}
print("without", len(want - set(ids)))
print("several", sum(1 for v in ids.values() if len(v) > 1))
print("unthreaded", wrong)
print("redelivered", sum(1 for v in deliveries.values() if v > 1))
PY
is "$(grep -v redelivered "$dir/acks.check" | tr '\n' ' ')" "without 0 several 0 unthreaded 0 " \
	"each new ticket got exactly one acknowledgement (one Message-ID), threaded to its message"
again=$(sed -n 's/^redelivered //p' "$dir/acks.check")
diag "acknowledgements delivered twice (sent by the old master, not yet marked sent at the kill): $again"
ok "at most one acknowledgement redelivered ($again)" test "${again:-99}" -le 1

# The support copies Postfix relayed: each accepted mail once.
sg_postfix_flush "$dir/postfix"
sg_wait_for "test \$(sg_sink_count $dir/sink) -ge $N" 120
is "$(sg_sink_count "$dir/sink")" "$N" "Postfix relayed each accepted mail once"
sg_postfix_stop "$dir/postfix"
stop_all
done_testing
