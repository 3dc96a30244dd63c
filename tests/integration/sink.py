#!/usr/bin/env python3
"""Capture SMTP sink for the integration tests and the quick start.

Stands in for the mailbox server behind Postfix. Each message is written
atomically as DIR/msg-NNNNNN.eml (the bytes as received, dot-unstuffed)
with DIR/msg-NNNNNN.env holding "MAIL <from>" and one "RCPT <to>" line per
recipient. While a file DIR/FAIL exists, every MAIL FROM is answered 451
(a relay that is down); remove it and mail flows again. DIR/FAIL5 makes
it answer 550 (a permanent refusal). DIR/SLOW delays the final 250 by
3 seconds (after the message is stored). DIR/sessions gets a line per
SMTP session (connection), DIR/quits one per QUIT.

Usage: sink.py DIR PORT   (listens on 127.0.0.1; writes DIR/sink.pid)
Only the Python standard library is used.
"""
import asyncio
import os
import sys

DIR, PORT = sys.argv[1], int(sys.argv[2])
counter = [0]


def store(mail_from, rcpts, data):
    counter[0] += 1
    base = os.path.join(DIR, "msg-%06d" % counter[0])
    while os.path.exists(base + ".eml"):
        counter[0] += 1
        base = os.path.join(DIR, "msg-%06d" % counter[0])
    with open(base + ".env.tmp", "w") as f:
        f.write("MAIL %s\n" % mail_from)
        for r in rcpts:
            f.write("RCPT %s\n" % r)
    with open(base + ".eml.tmp", "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.rename(base + ".env.tmp", base + ".env")
    os.rename(base + ".eml.tmp", base + ".eml")


def addr(arg):
    arg = arg.split(":", 1)[1].strip() if ":" in arg else arg
    if arg.startswith("<"):
        arg = arg[1:arg.index(">")] if ">" in arg else arg[1:]
    return arg.split()[0] if arg.split() else ""


async def session(reader, writer):
    def send(line):
        writer.write((line + "\r\n").encode())

    with open(os.path.join(DIR, "sessions"), "a") as f:   # one line per SMTP session
        f.write("session\n")
    send("220 sink.test ESMTP capture sink")
    mail_from, rcpts = None, []
    try:
        while True:
            line = await reader.readline()
            if not line:
                break
            cmd = line.decode("latin-1").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb in ("EHLO", "HELO"):
                send("250-sink.test" if verb == "EHLO" else "250 sink.test")
                if verb == "EHLO":
                    send("250-8BITMIME")
                    send("250 PIPELINING")
            elif verb == "MAIL":
                if os.path.exists(os.path.join(DIR, "FAIL")):
                    send("451 4.3.0 sink is down (FAIL file present)")
                elif os.path.exists(os.path.join(DIR, "FAIL5")):
                    send("550 5.7.1 sink refuses (FAIL5 file present)")
                else:
                    mail_from, rcpts = addr(cmd), []
                    send("250 2.1.0 ok")
            elif verb == "RCPT":
                if mail_from is None:
                    send("503 5.5.1 MAIL first")
                else:
                    rcpts.append(addr(cmd))
                    send("250 2.1.5 ok")
            elif verb == "DATA":
                if not rcpts:
                    send("503 5.5.1 RCPT first")
                    continue
                send("354 end with .")
                await writer.drain()
                chunks = []
                while True:
                    l = await reader.readline()
                    if not l:
                        return
                    if l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    chunks.append(l)
                store(mail_from, rcpts, b"".join(chunks))
                mail_from, rcpts = None, []
                if os.path.exists(os.path.join(DIR, "SLOW")):
                    # stored, but the answer comes late: lets a test kill
                    # the sender between our 250 and its bookkeeping
                    await asyncio.sleep(3)
                send("250 2.0.0 stored")
            elif verb == "RSET":
                mail_from, rcpts = None, []
                send("250 2.0.0 ok")
            elif verb == "NOOP":
                send("250 2.0.0 ok")
            elif verb == "QUIT":
                with open(os.path.join(DIR, "quits"), "a") as f:   # sessions ended by QUIT
                    f.write("quit\n")
                send("221 2.0.0 bye")
                await writer.drain()
                break
            else:
                send("502 5.5.2 not implemented")
            await writer.drain()
    finally:
        writer.close()


async def main():
    server = await asyncio.start_server(session, "127.0.0.1", PORT)
    with open(os.path.join(DIR, "sink.pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    async with server:
        await server.serve_forever()


asyncio.run(main())
