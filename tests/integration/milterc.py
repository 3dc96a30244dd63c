#!/usr/bin/env python3
"""milterc — the MTA side of the milter protocol (version 6), enough to
check what a filter negotiates and which steps it answers.

Used by tests/integration/t-milter-protocol.sh. Speaks to SOCKET
(unix:/path or inet:PORT@HOST), offers every protocol flag Postfix offers
(the no-reply steps included) and runs one message through it:

  milterc.py SOCKET FROM RCPT MSGFILE [OFFER]

OFFER: the protocol flags offered, as a number (default 0x1fffff; 0x7f is
an MTA of milter protocol 2, which knows no no-reply steps).

Prints, one per line:
  negotiated version=V actions=0xA protocol=0xP
  STEP reply=X          (X: the reply's command letter, or "none" when the
                         filter sent nothing within the wait; a step it
                         asked not to receive is "skipped")
  EOM X [args]          (every reply to end of message, in order)
Exit status 0 when the conversation completed, 1 on a protocol error.
Only the Python standard library is used.
"""
import socket
import struct
import sys

SMFIP_NR = {"conn": 0x1000, "helo": 0x2000, "mail": 0x4000, "rcpt": 0x8000,
            "data": 0x10000, "eoh": 0x40000, "body": 0x80000, "hdr": 0x80}
SMFIP_NO = {"conn": 0x1, "helo": 0x2, "mail": 0x4, "rcpt": 0x8, "body": 0x10, "hdr": 0x20,
            "eoh": 0x40, "data": 0x200}
OFFER_PROTO = 0x1fffff          # every step flag and every no-reply flag
OFFER_ACTIONS = 0x1ff
WAIT = 0.3                      # how long "no reply" is waited for


def connect(spec):
    if spec.startswith("unix:") or spec.startswith("local:"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(spec.split(":", 1)[1])
    else:
        port, host = spec.split(":", 1)[1].split("@")
        s = socket.create_connection((host, int(port)))
    return s


def send(s, cmd, data=b""):
    s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("filter closed the connection")
        b += c
    return b


def recv(s, timeout=10.0):
    """One packet (cmd, data), or None when nothing came within timeout."""
    s.settimeout(timeout)
    try:
        head = s.recv(4, socket.MSG_PEEK)
    except socket.timeout:
        return None
    finally:
        s.settimeout(10.0)
    if not head:
        raise EOFError("filter closed the connection")
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    body = recv_exact(s, n)
    return body[:1], body[1:]


def z(*parts):
    return b"".join(p.encode() + b"\0" for p in parts)


def main():
    spec, mfrom, rcpt, path = sys.argv[1:5]
    offer = int(sys.argv[5], 0) if len(sys.argv) > 5 else OFFER_PROTO
    raw = open(path, "rb").read().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1][1] += b"\r\n" + line
        else:
            k, _, v = line.partition(b":")
            headers.append([k, v.lstrip()])
    s = connect(spec)
    send(s, b"O", struct.pack(">III", 6, OFFER_ACTIONS, offer))
    r = recv(s)
    if r is None or r[0] != b"O":
        print("negotiation: no answer")
        return 1
    ver, act, proto = struct.unpack(">III", r[1][:12])
    print("negotiated version=%d actions=0x%x protocol=0x%x" % (ver, act, proto))

    def step(name, cmd, data):
        if name in SMFIP_NO and proto & SMFIP_NO[name]:
            print("%s reply=skipped" % name)
            return None
        send(s, cmd, data)
        nr = name in SMFIP_NR and proto & SMFIP_NR[name]
        r = recv(s, WAIT if nr else 10.0)
        print("%s reply=%s" % (name, "none" if r is None else r[0].decode()))
        return r

    # macros as Postfix sends them before each step
    send(s, b"D", b"C" + z("{client_addr}", "127.0.0.1"))
    step("conn", b"C", z("client.example") + b"4" + struct.pack(">H", 25) + z("127.0.0.1"))
    step("helo", b"H", z("client.example"))
    send(s, b"D", b"M" + z("i", "PROTO01"))
    step("mail", b"M", z("<%s>" % mfrom))
    step("rcpt", b"R", z("<%s>" % rcpt))
    send(s, b"D", b"T" + z("i", "PROTO01"))
    r = step("data", b"T", b"")
    if r is not None and r[0] in (b"a", b"t", b"r", b"d"):
        return 0
    for k, v in headers:
        step("hdr", b"L", k + b"\0" + v + b"\0")
    step("eoh", b"N", b"")
    step("body", b"B", body.replace(b"\n", b"\r\n"))
    send(s, b"D", b"E" + z("i", "PROTO01"))
    send(s, b"E", b"")
    while True:
        r = recv(s)
        if r is None:
            print("EOM: no final reply")
            return 1
        print("EOM %s %s" % (r[0].decode(), r[1].replace(b"\0", b"|").decode("utf-8", "replace")))
        if r[0] in (b"a", b"c", b"t", b"r", b"d", b"y"):
            break
    send(s, b"Q", b"")
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
