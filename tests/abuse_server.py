#!/usr/bin/env python3
"""A hostile HTTP server for sse listen's abuse tests (tests/listen_abuse.bats).

Usage: abuse_server.py MODE [N]. It binds 127.0.0.1 on an ephemeral port,
prints the port, and answers every connection as MODE says:

  headcut N    the first N connections get a status line and part of a
               header, then the connection closes; later ones a good stream
  endless-head a status line, then header lines for ever
  gzip-bomb    Content-Encoding: gzip, a body of a few kilobytes that
               inflates to one 64 MiB line of data
  trickle      a good head, then "data: " and one byte a second, for ever
"""

import gzip
import socket
import sys
import threading
import time

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"


def serve(c, mode, n, count):
    c.recv(65536)
    try:
        if mode == "headcut" and count <= n:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/ev")
        elif mode == "headcut":
            c.sendall(HEAD + b"Connection: close\r\n\r\ndata: whole\n\n")
        elif mode == "endless-head":
            c.sendall(b"HTTP/1.1 200 OK\r\n")
            while True:
                c.sendall(b"X-Junk: " + b"a" * 1000 + b"\r\n")
        elif mode == "gzip-bomb":
            body = gzip.compress(b"data: " + b"0" * (64 << 20), 9)
            c.sendall(HEAD + b"Content-Encoding: gzip\r\nContent-Length: "
                      + str(len(body)).encode() + b"\r\n\r\n" + body)
            time.sleep(5)
        elif mode == "trickle":
            c.sendall(HEAD + b"\r\ndata: ")
            while True:
                c.sendall(b"x")
                time.sleep(1)
    except OSError:
        pass
    c.close()


def main():
    mode = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    print(s.getsockname()[1], flush=True)
    count = 0
    while True:
        c, _ = s.accept()
        count += 1
        threading.Thread(target=serve, args=(c, mode, n, count),
                         daemon=True).start()


main()
