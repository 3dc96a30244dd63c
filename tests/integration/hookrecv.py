#!/usr/bin/env python3
"""Webhook receiver for the integration tests (t-webhook.sh).

Listens on 127.0.0.1:PORT and takes POSTs the way an endpoint should: it
checks X-Supportgate-Signature ("t=TS,v1=HEX", HEX = HMAC-SHA256 with the
secret over "TS.BODY", t within 300 seconds of now) and logs one line per
request to DIR/requests:
    ID EVENT TICKET SIG STATUS
(ID the payload's id, EVENT its event type, TICKET its ticket id or -,
SIG ok or bad, STATUS the HTTP status it answered; ID is preceded by the
payload's webhook name: "NAME ID EVENT TICKET SIG STATUS"). The body of
each request is kept as DIR/body-ID.json. A request with a bad signature
is answered 401, one to the path /gone 410 (an endpoint that is gone for
good). While DIR/STATUS holds a number, that status is answered (a
failing endpoint); otherwise 200.

Usage: hookrecv.py DIR PORT SECRET_FILE   (writes DIR/recv.pid)
Only the Python standard library is used.
"""
import hashlib
import hmac
import http.server
import json
import os
import sys
import time

DIR, PORT, SECRET_FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(SECRET_FILE, "rb") as f:
    SECRET = f.read().rstrip(b"\r\n")


def signature_ok(header, body):
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    ts, got = parts.get("t", ""), parts.get("v1", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > 300:
        return False
    want = hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, got)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        ok = signature_ok(self.headers.get("X-Supportgate-Signature", ""), body)
        try:
            doc = json.loads(body)
        except ValueError:
            doc = {}
        status = 200 if ok else 401
        if self.path == "/gone":
            status = 410
        try:
            with open(os.path.join(DIR, "STATUS")) as f:
                status = int(f.read().strip())
        except (OSError, ValueError):
            pass
        ticket = (doc.get("ticket") or {}).get("id", "-")
        event = (doc.get("event") or {}).get("type", "-")
        with open(os.path.join(DIR, "body-%s.json" % doc.get("id", "x")), "wb") as f:
            f.write(body)
        with open(os.path.join(DIR, "requests"), "a") as f:
            f.write("%s %s %s %s %s %d\n" % (doc.get("webhook", "-"), doc.get("id", "-"), event, ticket,
                                               "ok" if ok else "bad", status))
            f.flush()
            os.fsync(f.fileno())
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", PORT), Handler)
with open(os.path.join(DIR, "recv.pid"), "w") as f:
    f.write("%d\n" % os.getpid())
server.serve_forever()
