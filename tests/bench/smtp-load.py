#!/usr/bin/env python3
"""smtp-load — the load generator and sink of tests/bench/bench-milter.sh.

Drives N parallel SMTP sessions (one thread each, Python's socket, one
connection per session kept open for many messages) against one or more
targets (a Postfix smtpd port each), interleaved: for every round, every
size and every session count, each target in turn. In the same process a
sink on 127.0.0.1 takes what Postfix relays and the acknowledgements that
supportgated's outbound worker delivers, counts them, and remembers the
ticket token of each acknowledgement by its recipient (keeping nothing
else: a sink that wrote and synced files would add disk flushes that
compete with the path being measured).

The mail mix, per session: 60% new tickets (each from a new customer
address), 30% replies threaded by References to one of the session's
earlier new tickets (same sender), 10% replies by subject token
("Re: [ACME #N] ...") to an earlier ticket whose acknowledgement has
reached the sink (the token is taken from it). Bodies (--body mixed,
the default): under 16 KB text/plain of support vocabulary, from 16 KB
on multipart/mixed with 1.5 KB of text and a base64 attachment of random
bytes (a screenshot), eight seeded variants per size, the same for every
target; --body line sends one line repeated at every size (the runs
before 2026-12-02). For a target without
supportgated there are no acknowledgements: the token reply carries
"[ACME #1]" so the bytes are alike; for supportgated, a token reply
whose acknowledgement has not arrived yet is sent as a References reply
and counted ("token-fallback").

Throughput: each run lasts --duration seconds (sessions send as fast as
the replies come); msg/s = messages that got 250 / elapsed. Between runs
the Postfix queue is waited empty and the acknowledgements drained.

Latency (--latency-target): after the rounds, that target is driven
open-loop at half its best measured rate, per size and session count (the
median rate of that size and count), arrivals Poisson (each session sends
after exponentially distributed gaps, its stream seeded by its number, so
the sessions do not send in step); reported are the client-side times from the end of DATA
(".") to the 250 (p50, p99, max), and, when --metrics FILE is given, the
daemon's own histogram (supportgate_ingest_latency_seconds: end of
message to the milter's reply) as the difference of two snapshots of the
metrics file, p50/p99 as bucket upper bounds.

Only the Python standard library is used.
"""
import argparse
import os
import random
import re
import socket
import statistics
import sys
import threading
import time

TAG = "ACME"
SUPPORT = "support@example.com"

# ----------------------------------------------------------------- sink


class Sink:
    """SMTP sink: counts relayed mail and acknowledgements (mail to a
    customer address), records customer -> ticket token."""

    tok_re = re.compile(rb"^Subject:[^\r\n]*\[" + TAG.encode() + rb" #(\d+)", re.I | re.M)

    def __init__(self, port):
        self.lock = threading.Lock()
        self.relayed = 0
        self.acks = 0
        self.tokens = {}
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", port))
        self.srv.listen(128)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            c, _ = self.srv.accept()
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self.session, args=(c,), daemon=True).start()

    def session(self, c):
        f = c.makefile("rb")
        out = lambda s: c.sendall(s.encode() + b"\r\n")
        rcpts = []
        try:
            out("220 sink ESMTP")
            while True:
                line = f.readline()
                if not line:
                    return
                v = line[:4].upper()
                if v == b"EHLO":
                    c.sendall(b"250-sink\r\n250-8BITMIME\r\n250 PIPELINING\r\n")
                elif v == b"HELO":
                    out("250 sink")
                elif v == b"MAIL":
                    rcpts = []
                    out("250 ok")
                elif v == b"RCPT":
                    m = re.search(rb"<([^>]*)>", line)
                    rcpts.append((m.group(1) if m else b"").decode("latin-1").lower())
                    out("250 ok")
                elif v == b"DATA":
                    out("354 go")
                    chunks = []
                    while True:
                        l = f.readline()
                        if not l or l in (b".\r\n", b".\n"):
                            break
                        chunks.append(l)
                    head = b"".join(chunks).split(b"\r\n\r\n", 1)[0]
                    self.got(rcpts, head)
                    out("250 stored")
                elif v == b"QUIT":
                    out("221 bye")
                    return
                else:
                    out("250 ok")
        except OSError:
            pass
        finally:
            c.close()

    def got(self, rcpts, head):
        with self.lock:
            if any(r.endswith("@customer.example") for r in rcpts):
                self.acks += 1
                m = self.tok_re.search(head)
                if m:
                    for r in rcpts:
                        self.tokens[r] = int(m.group(1))
            else:
                self.relayed += 1

    def counts(self):
        with self.lock:
            return self.relayed, self.acks

    def token(self, addr):
        with self.lock:
            return self.tokens.get(addr.lower())


# --------------------------------------------------------------- sender

class Smtp:
    """One SMTP session; send() returns (ok, seconds from '.' to reply)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=120)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.s.makefile("rb")
        self.reply()
        self.cmd(b"EHLO client.example.org")

    def reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise OSError("connection closed")
            if line[3:4] != b"-":
                return int(line[:3]), line

    def cmd(self, c):
        self.s.sendall(c + b"\r\n")
        return self.reply()

    def send(self, frm, rcpt, data):
        # MAIL, RCPT and DATA pipelined: Postfix offers PIPELINING
        self.s.sendall(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (frm.encode(), rcpt.encode()))
        codes = [self.reply()[0] for _ in range(3)]
        if codes[2] != 354:
            if codes[0] == 250:
                self.cmd(b"RSET")
            return False, 0.0, codes
        self.s.sendall(data)
        t0 = time.monotonic()
        self.s.sendall(b".\r\n")
        code, line = self.reply()
        return code == 250, time.monotonic() - t0, [code]

    def close(self):
        try:
            self.cmd(b"QUIT")
        except OSError:
            pass
        self.s.close()


WORDS = ("the printer on third floor still prints blank pages after I replaced toner cartridge yesterday "
         "morning and restarted it twice our invoice for November shows wrong amount please check account "
         "number customer since 2019 order was shipped but never arrived tracking says delivered to another "
         "address could you send refund or replacement login page returns error 500 when password reset link "
         "expires too early can not access dashboard from mobile app version update broke export of reports "
         "we need this fixed before Friday because team depends on it thanks for quick reply best regards "
         "attached screenshot shows message kind Monday support ticket again same problem happened this week "
         "colleague also sees it in browser Firefox Chrome network office VPN connection drops every few "
         "minutes license key renewal contract expires next month whom should contact about upgrade").split()


def text(rnd, n):
    """n bytes of plain text: sentences of support vocabulary in lines of
    at most 78 bytes (none starting with '.'), CRLF ends. Word salad from
    a small vocabulary compresses about as well as real prose (zstd -1:
    ~0.35 of its size), unlike one repeated line (~0.01)."""
    out, line, size = [], [], 0
    while size < n:
        w = rnd.choice(WORDS)
        if len(" ".join(line + [w])) > 78:
            out.append(" ".join(line))
            size += len(out[-1]) + 2
            line = []
        line.append(w.capitalize() if not line and rnd.random() < 0.3 else w)
        if rnd.random() < 0.08:
            line[-1] += "."
    body = "\r\n".join(out).encode()[:max(0, n - 2)]
    return body + b"\r\n"


BODIES = {}   # (size, variant) -> (content headers, body)
VARIANTS = 8


def body_of(size, head_len, variant):
    """The content headers and body of a mail of about size bytes, one of
    VARIANTS per size (seeded, so every run and target sends the same
    bytes). Under 16 KB: text/plain. From 16 KB on, as support mail of
    that size mostly is: multipart/mixed, 1.5 KB of text and a base64
    attachment (a screenshot: random bytes, which no compressor shrinks
    below base64's 3/4) filling the rest."""
    k = (size, variant)
    if k not in BODIES:
        rnd = random.Random(size * 100 + variant)
        need = max(64, size - head_len - 120)
        if size < 16384:
            BODIES[k] = (["Content-Type: text/plain; charset=utf-8"], text(rnd, need))
        else:
            b = "sgbench%d" % variant
            att = bytes(rnd.getrandbits(8) for _ in range((need - 1900) * 3 * 76 // (4 * 78)))
            import base64
            enc = base64.encodebytes(att).replace(b"\n", b"\r\n")
            parts = [b"--" + b.encode(), b"Content-Type: text/plain; charset=utf-8", b"", text(rnd, 1500),
                     b"--" + b.encode(), b"Content-Type: image/png; name=\"screenshot.png\"",
                     b"Content-Transfer-Encoding: base64",
                     b"Content-Disposition: attachment; filename=\"screenshot.png\"", b"", enc,
                     b"--" + b.encode() + b"--", b""]
            BODIES[k] = (['Content-Type: multipart/mixed; boundary="%s"' % b], b"\r\n".join(parts))
    return BODIES[k]


LINE = b"I wrote to you about the printer on the third floor, it still prints blank pages. "
BODY = "mixed"


def build(size, hdrs, variant=0):
    if BODY == "line":   # the body of the runs before 2026-12-02: one line repeated
        head = ("\r\n".join(hdrs + ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8"]) +
                "\r\n\r\n").encode()
        need = max(64, size - len(head))
        body = (LINE * (need // len(LINE) + 1))[:need]
        lines = [body[i:i + 78] for i in range(0, len(body), 80)]
        return head + b"\r\n".join(lines) + b"\r\n"
    ctype, body = body_of(size, len("\r\n".join(hdrs)) + 40, variant % VARIANTS)
    head = ("\r\n".join(hdrs + ["MIME-Version: 1.0"] + ctype) + "\r\n\r\n").encode()
    return head + body


class Session(threading.Thread):
    def __init__(self, ctx, target, idx, size, deadline, rate, results):
        super().__init__(daemon=True)
        self.ctx, self.t, self.idx, self.size = ctx, target, idx, size
        self.deadline, self.rate, self.res = deadline, rate, results
        self.ok = self.err = self.fallback = 0
        self.kinds = [0, 0, 0]
        self.lat = []

    def message(self, n):
        t = self.t
        hist = t["hist"].setdefault(self.idx, [])
        k = n % 10
        run = t["runid"]
        mid = "%s.%d.%d@customer.example" % (run, self.idx, n)
        date = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        if k < 6 or not hist:
            cust = "c%s-%d-%d@customer.example" % (run, self.idx, n)
            subj = "printer %d on floor %d prints blank pages" % (n, self.idx)
            hdrs = ["Subject: " + subj]
            kind = 0
        else:
            cust, omid, subj = random.choice(hist[-50:])
            tok = None
            if k == 9:
                tok = self.ctx.sink.token(cust) if t["sg"] else 1
                if tok is None:
                    self.fallback += 1
            if tok is not None:
                hdrs = ["Subject: Re: [%s #%d] %s" % (TAG, tok, subj)]
                kind = 2
            else:
                hdrs = ["Subject: Re: " + subj, "References: <%s>" % omid]
                kind = 1
        hdrs = ["From: Customer <%s>" % cust, "To: Support <%s>" % SUPPORT, "Date: " + date,
                "Message-ID: <%s>" % mid] + hdrs
        return cust, mid, kind, hdrs

    def run(self):
        t = self.t
        n = 0
        # open loop: Poisson arrivals (exponential gaps, each session its
        # own seeded stream and a random phase), so sessions do not all
        # send at the same instant as they did with one fixed period
        rnd = random.Random(self.idx)
        next_at = time.monotonic() + (rnd.uniform(0, 1.0 / self.rate) if self.rate else 0.0)
        try:
            conn = Smtp(t["port"])
        except OSError as e:
            print("session %d: %s" % (self.idx, e), file=sys.stderr)
            self.err += 1
            return
        while time.monotonic() < self.deadline:
            if self.rate:
                d = next_at - time.monotonic()
                if d > 0:
                    time.sleep(d)
                if time.monotonic() >= self.deadline:
                    break
                next_at += rnd.expovariate(self.rate)
            n += 1
            cust, mid, kind, hdrs = self.message(n)
            data = build(self.size, hdrs, n)
            try:
                ok, lat, codes = conn.send(cust, SUPPORT, data)
            except OSError as e:
                print("session %d: %s" % (self.idx, e), file=sys.stderr)
                self.err += 1
                break
            if ok:
                self.ok += 1
                self.kinds[kind] += 1
                self.lat.append(lat)
                if kind == 0:
                    t["hist"].setdefault(self.idx, []).append((cust, mid, hdrs[-1][9:]))
            else:
                self.err += 1
                if self.err <= 3:
                    print("%s session %d: refused %s" % (t["name"], self.idx, codes), file=sys.stderr)
        conn.close()


# ---------------------------------------------------------------- runs

def queue_empty(qdir):
    for sub in ("incoming", "active", "deferred", "maildrop"):
        for _, _, files in os.walk(os.path.join(qdir, sub)):
            if files:
                return False
    return True


class Ctx:
    pass


def drain(ctx, timeout=120):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if ctx.qdir is None or queue_empty(ctx.qdir):
            # acks: every new ticket at a supportgated target gets one
            if ctx.sink.counts()[1] >= ctx.acks_expected:
                return True
        time.sleep(0.1)
    print("drain: queue or acknowledgements not settled after %d s (acks %d of %d)"
          % (timeout, ctx.sink.counts()[1], ctx.acks_expected), file=sys.stderr)
    return False


def one_run(ctx, t, size, sessions, duration, rate=0.0):
    # unique per process too: a second invocation against the same daemon
    # (the perf run) must not send the first one's Message-IDs again
    t["runid"] = "%s%d%s" % (t["name"], ctx.runs, ctx.tag)
    ctx.runs += 1
    t0 = time.monotonic()
    deadline = t0 + duration
    ss = [Session(ctx, t, i, size, deadline, rate / sessions if rate else 0.0, None) for i in range(sessions)]
    for s in ss:
        s.start()
    for s in ss:
        s.join()
    el = time.monotonic() - t0
    ok = sum(s.ok for s in ss)
    t["total"] = t.get("total", 0) + ok
    err = sum(s.err for s in ss)
    kinds = [sum(s.kinds[i] for s in ss) for i in range(3)]
    fb = sum(s.fallback for s in ss)
    lat = sorted(x for s in ss for x in s.lat)
    if t["sg"]:
        ctx.acks_expected += kinds[0]
    drain(ctx)
    return ok, err, el, kinds, fb, lat


def pct(v, p):
    if not v:
        return float("nan")
    return v[min(len(v) - 1, int(p / 100.0 * len(v)))]


# ------------------------------------------------------------- metrics

def read_hist(path):
    """{le: cumulative count} of supportgate_ingest_latency_seconds."""
    h = {}
    try:
        with open(path) as f:
            for line in f:
                m = re.match(r'supportgate_ingest_latency_seconds_bucket\{le="([^"]+)"\} (\d+)', line)
                if m:
                    h[m.group(1)] = int(m.group(2))
    except OSError:
        pass
    return h


def fresh_hist(path, wait=10):
    """A snapshot written after now (the writer rewrites it every few s)."""
    try:
        m0 = os.stat(path).st_mtime_ns
    except OSError:
        m0 = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < wait:
        try:
            if os.stat(path).st_mtime_ns != m0:
                break
        except OSError:
            pass
        time.sleep(0.1)
    return read_hist(path)


def hist_pct(h0, h1, p):
    les = sorted(h1, key=lambda k: float("inf") if k == "+Inf" else float(k))
    total = h1.get("+Inf", 0) - h0.get("+Inf", 0)
    if total <= 0:
        return None, 0
    for le in les:
        if h1[le] - h0.get(le, 0) >= p / 100.0 * total:
            return le, total
    return "+Inf", total


# ----------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sink-port", type=int, required=True)
    ap.add_argument("--target", action="append", required=True,
                    help="NAME=PORT (a Postfix smtpd); NAME sg marks the supportgated one")
    ap.add_argument("--sizes", default="4096,65536")
    ap.add_argument("--sessions", default="1,4,20")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=8)
    ap.add_argument("--queue-dir", help="the Postfix queue directory (waited empty between runs)")
    ap.add_argument("--metrics", help="supportgated's metrics_file")
    ap.add_argument("--latency-target", help="NAME of the target measured at half its best rate")
    ap.add_argument("--latency-duration", type=float, default=20)
    ap.add_argument("--latency-rate", type=float, default=0,
                    help="offer this many msg/s in the latency runs instead of half the best (before/after at one load)")
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--body", choices=("mixed", "line"), default="mixed",
                    help="mixed: text, or text and an attachment from 16 KB on; line: one line repeated")
    a = ap.parse_args()
    global BODY
    BODY = a.body

    ctx = Ctx()
    ctx.sink = Sink(a.sink_port)
    ctx.qdir = a.queue_dir
    ctx.runs = 0
    ctx.tag = "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(4))
    ctx.acks_expected = 0
    targets = []
    for spec in a.target:
        name, port = spec.split("=")
        targets.append({"name": name, "port": int(port), "sg": name.startswith("sg"), "hist": {}})
    sizes = [int(x) for x in a.sizes.split(",")]
    sessions = [int(x) for x in a.sessions.split(",")]

    print("smtp-load: targets %s; sizes %s; sessions %s; %d rounds of %.0f s runs, interleaved"
          % (" ".join("%s=%d" % (t["name"], t["port"]) for t in targets), sizes, sessions, a.rounds, a.duration))
    sys.stdout.flush()
    if a.warmup > 0:
        for t in targets:
            one_run(ctx, t, sizes[0], max(sessions), a.warmup)
    rates = {}
    for r in range(1, a.rounds + 1):
        for size in sizes:
            for n in sessions:
                for t in targets:
                    ok, err, el, kinds, fb, lat = one_run(ctx, t, size, n, a.duration)
                    rate = ok / el
                    rates.setdefault((t["name"], size, n), []).append(rate)
                    print("RUN round=%d target=%s size=%d sessions=%d ok=%d err=%d s=%.2f msg/s=%.1f"
                          " new=%d ref=%d token=%d token-fallback=%d eod-p50=%.1fms eod-p99=%.1fms"
                          % (r, t["name"], size, n, ok, err, el, rate, kinds[0], kinds[1], kinds[2], fb,
                             pct(lat, 50) * 1e3, pct(lat, 99) * 1e3))
                    sys.stdout.flush()
    relayed, acks = ctx.sink.counts()
    print("sink: %d relayed, %d acknowledgements (expected %d)" % (relayed, acks, ctx.acks_expected))
    print()
    print("SUMMARY (median msg/s over %d rounds; ratios of the medians)" % a.rounds)
    names = [t["name"] for t in targets]
    print("%-6s %-8s " % ("size", "sessions") + " ".join("%9s" % n for n in names) +
          ("   sg/noop  sg/none" if "sg" in names else "") +
          ("  sg/noopnr" if "sg" in names and "noopnr" in names else "") +
          "".join("   %7s" % (v + "/sg") for v in names if v.startswith("sg") and v != "sg"))
    for size in sizes:
        for n in sessions:
            med = {nm: statistics.median(rates[(nm, size, n)]) for nm in names}
            line = "%-6d %-8d " % (size, n) + " ".join("%9.1f" % med[nm] for nm in names)
            if "sg" in names:
                line += "   %7.2f  %7.2f" % (med["sg"] / med["noop"] if "noop" in med else float("nan"),
                                              med["sg"] / med["none"] if "none" in med else float("nan"))
                if "noopnr" in med:
                    line += "   %8.2f" % (med["sg"] / med["noopnr"])
            for v in names:
                if v.startswith("sg") and v != "sg" and "sg" in names:
                    line += "   %7.2f" % (med[v] / med["sg"])
            print(line)
    sys.stdout.flush()

    if a.latency_target:
        t = next(t for t in targets if t["name"] == a.latency_target)
        for size in sizes:
            for n in sessions:
                best = statistics.median(rates[(t["name"], size, n)])
                half = a.latency_rate if a.latency_rate else best / 2
                h0 = fresh_hist(a.metrics) if a.metrics else {}
                ok, err, el, kinds, fb, lat = one_run(ctx, t, size, n, a.latency_duration, rate=half)
                h1 = fresh_hist(a.metrics) if a.metrics else {}
                fmt = ("LATENCY target=%s size=%d sessions=%d offered=%.1f/s (" +
                       ("fixed; best %.1f" if a.latency_rate else "half of %.1f") + ") got=%.1f/s err=%d"
                       " client end-of-DATA->250: p50=%.2fms p99=%.2fms max=%.2fms")
                line = (fmt % (t["name"], size, n, half, best, ok / el, err, pct(lat, 50) * 1e3, pct(lat, 99) * 1e3,
                           lat[-1] * 1e3 if lat else float("nan")))
                if a.metrics:
                    p50, tot = hist_pct(h0, h1, 50)
                    p99, _ = hist_pct(h0, h1, 99)
                    line += " daemon histogram (eom->reply, %d obs): p50<=%ss p99<=%ss" % (tot, p50, p99)
                print(line)
                sys.stdout.flush()
    for t in targets:
        print("TOTAL target=%s accepted=%d" % (t["name"], t.get("total", 0)))
    relayed, acks = ctx.sink.counts()
    print("sink at end: %d relayed, %d acknowledgements (expected %d)" % (relayed, acks, ctx.acks_expected))


if __name__ == "__main__":
    main()
