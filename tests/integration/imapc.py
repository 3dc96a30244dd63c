#!/usr/bin/env python3
"""IMAP and maildir helper for t-imap.sh (the private Dovecot's side).

Usage: imapc.py PORT USER COMMAND ARGS...   (plain IMAP on 127.0.0.1:PORT,
password s3cret) or imapc.py - - COMMAND ARGS... for the maildir commands.

  append FOLDER FILE            APPEND the file (LF or CRLF); prints its UID
  count FOLDER...               messages in each folder, one line each
  uidvalidity FOLDER            its UIDVALIDITY
  flags FOLDER                  "UID FLAGS..." per message
  copy FROM TO                  COPY every message of FROM into TO
  recreate FOLDER FROM          DELETE and CREATE FOLDER, then copy FROM into it
  latency FOLDER LOG N QID      APPEND N messages one at a time; for each, the
                                seconds until LOG holds "qid=QID/UID "; prints them
  bulk DIR N TAG [FROM]         N messages (Message-ID <TAG-i@...>) as files in the
                                maildir folder DIR (new/), for delivery without IMAP
  put DIR FILE                  FILE as one message in maildir DIR (new/)
Only the standard library is used.
"""
import imaplib
import os
import re
import sys
import time

PASSWORD = "s3cret"


def connect(port, user):
    m = imaplib.IMAP4("127.0.0.1", int(port))
    m.login(user, PASSWORD)
    return m


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def maildir_put(folder, data, n=[0]):
    n[0] += 1
    name = "%d.P%dQ%d.sgtest" % (time.time(), os.getpid(), n[0])
    tmp = os.path.join(folder, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, os.path.join(folder, "new", name))


def main():
    port, user, cmd, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    if cmd == "bulk":
        folder, n, tag = args[0], int(args[1]), args[2]
        sender = args[3] if len(args) > 3 else "bulk@customer.example"
        for i in range(n):
            maildir_put(folder, ("From: Bulk <%s>\r\nTo: support@example.com\r\nSubject: %s %d\r\n"
                                 "Message-ID: <%s-%d@customer.example>\r\n\r\nmessage %d of %d\r\n"
                                 % (sender, tag, i, tag, i, i, n)).encode())
        return
    if cmd == "put":
        maildir_put(args[0], open(args[1], "rb").read())
        return
    m = connect(port, user)
    if cmd == "append":
        typ, d = m.append(args[0], None, None, crlf(open(args[1], "rb").read()))
        print(re.search(rb"APPENDUID \d+ (\d+)", d[0]).group(1).decode())
    elif cmd == "count":
        for f in args:
            typ, d = m.select(f, readonly=True)
            print(d[0].decode() if typ == "OK" else "-1")
    elif cmd == "uidvalidity":
        typ, d = m.status(args[0], "(UIDVALIDITY)")
        print(re.search(rb"UIDVALIDITY (\d+)", d[0]).group(1).decode())
    elif cmd == "flags":
        typ, d = m.select(args[0], readonly=True)
        if int(d[0]) > 0:
            typ, d = m.uid("FETCH", "1:*", "(FLAGS)")
            for item in d:
                mm = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", item) or re.search(rb"FLAGS \(([^)]*)\) UID (\d+)", item)
                if mm:
                    a, b = mm.group(1), mm.group(2)
                    uid, flags = (a, b) if a.isdigit() else (b, a)
                    print(uid.decode(), flags.decode())
    elif cmd == "copy":
        typ, d = m.select(args[0])
        if int(d[0]) > 0:
            m.copy("1:*", args[1])
    elif cmd == "recreate":
        m.delete(args[0])
        time.sleep(1.1)   # a new second: Dovecot gives a new UIDVALIDITY anyway, this makes it obvious
        m.create(args[0])
        typ, d = m.select(args[1])
        if int(d[0]) > 0:
            m.copy("1:*", args[0])
    elif cmd == "latency":
        folder, log, n, qid = args[0], args[1], int(args[2]), args[3]
        out = []
        for i in range(n):
            msg = ("From: Waiting %d <wait%d@customer.example>\r\nTo: support@example.com\r\n"
                   "Subject: how fast %d\r\nMessage-ID: <lat-%d-%d@customer.example>\r\n\r\nping\r\n"
                   % (i, i, i, i, int(time.time() * 1000))).encode()
            t0 = time.time()
            typ, d = m.append(folder, None, None, msg)
            uid = re.search(rb"APPENDUID \d+ (\d+)", d[0]).group(1).decode()
            needle, seen = "qid=%s/%s " % (qid, uid), None
            while time.time() - t0 < 15:
                with open(log, errors="replace") as f:
                    if needle in f.read():
                        seen = time.time()
                        break
                time.sleep(0.01)
            out.append("%.3f" % (seen - t0) if seen else "99")
            time.sleep(0.5)
        print(" ".join(out))
    else:
        sys.exit("unknown command " + cmd)
    m.logout()


main()
