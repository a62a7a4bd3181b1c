#!/usr/bin/env python3
"""Control clients that ask and never read, for test_readers.sh.

hog.py SOCKET N: opens N connections to agorad's control socket, sends a
LIST of every record on each, prints "sent", and reads none of the answers
until a line comes on stdin; then reads the first answer of each and prints
"answered OK BUSY": how many got their records, how many were told busy.
"""
import socket
import struct
import sys

LIST, ERROR, RESPONSE, EBUSY = 8, 0xFFFF, 0x8000, 3


def recv_all(s, n):
    b = b""
    while len(b) < n:
        part = s.recv(n - len(b))
        if not part:
            raise SystemExit("agorad closed a connection before its answer")
        b += part
    return b


def main():
    path, n = sys.argv[1], int(sys.argv[2])
    hogs = []
    for i in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(struct.pack(">HHII", 1, LIST, i + 1, 1) + b"\x80")  # {}: every record
        hogs.append(s)
    print("sent", flush=True)
    sys.stdin.readline()
    ok = busy = 0
    for s in hogs:
        s.settimeout(60)
        _, typ, _, length = struct.unpack(">HHII", recv_all(s, 12))
        body = recv_all(s, length)
        if typ == RESPONSE | LIST:
            ok += 1
        elif typ == ERROR and b"\xa6status\x03" in body and b"busy" in body:
            busy += 1
        else:
            raise SystemExit("an answer neither records nor busy: type %#x %r" % (typ, body[:200]))
    print("answered %d %d" % (ok, busy), flush=True)


main()
