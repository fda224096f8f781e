#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that cuts connections: fault injection between
an SSE client and its server. Standard library only.

Usage: chaos_proxy.py [--seed N] [--cuts N] [--where head|body|any]
                      [--log FILE] UPSTREAM_PORT

It binds an ephemeral port, prints it on stdout, and relays each accepted
connection to 127.0.0.1:UPSTREAM_PORT. Of the first --cuts connections
(default 50), each is cut at a place chosen at random (from --seed) in
what the server sends:

  head     inside the response head
  body     anywhere in the body, after the head
  framing  inside the chunked framing: a chunk-size line or the CRLF
           that ends a chunk's data
  utf8     inside a multi-byte UTF-8 sequence

--where head cuts in heads only, body in the last three only, any in all
four. A cut sends the client what came before that byte and then ends the
connection with a reset (RST) or a clean close (FIN), at random, and closes
the server's side. Later connections are relayed whole, so that a client
that resumes as it should gets everything in the end.

With --log, each cut is appended to FILE as a line
"cut CONN OFFSET rst|fin KIND", OFFSET counted from the answer's first byte.
"""

import argparse
import random
import select
import socket
import struct
import sys
import threading


def plan(rng, where):
    """A cut: (kind, distance into the body or head, rst|fin, jitter)."""
    kinds = {"head": ["head"], "body": ["body", "framing", "utf8"],
             "any": ["head", "body", "framing", "utf8"]}[where]
    kind = rng.choice(kinds)
    how = rng.choice(["rst", "fin"])
    if kind == "head":
        off = rng.randrange(0, 160)
    elif rng.random() < 0.8:
        # mostly short distances, so that many cuts fit in one run
        off = rng.randrange(0, 20000)
    else:
        off = rng.randrange(0, 200000)
    return kind, off, how, rng.randrange(0, 1000)


def chunk_lines(buf, head_len):
    """(start, length) of each complete chunk-size line in buf."""
    p = head_len
    while True:
        e = buf.find(b"\r\n", p)
        if e < 0:
            return
        try:
            size = int(bytes(buf[p:e]).split(b";")[0], 16)
        except ValueError:
            return
        yield p, e + 2 - p
        if size == 0:
            return
        p = e + 2 + size + 2


def cut_at(cut, buf, head_len):
    """The offset to cut at, once buf (the answer so far) says, else None."""
    kind, off, _, jitter = cut
    if kind == "head":
        if head_len is not None:
            return min(off, head_len - 1)
        return off if len(buf) > off else None
    if head_len is None:
        return None
    start = head_len + off
    if kind == "body":
        return start
    if kind == "utf8":
        for i in range(start, len(buf)):
            if 0x80 <= buf[i] < 0xC0:  # a continuation byte
                return i
        return None
    for p, n in chunk_lines(buf, head_len):
        if p >= start and p > head_len:
            # the CRLF ending the last chunk's data, or the size line
            return p - 2 + jitter % (n + 2)
    return None


def cut_client(conn, how):
    if how == "rst":
        # SO_LINGER with a zero timeout: close() sends RST, drops the queue.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        struct.pack("ii", 1, 0))
    else:
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    conn.close()


def relay(n, client, up_port, cut, log, lock):
    """One connection, both ways, in one thread: a socket that another
    thread is reading from would not really close (no RST, no FIN)."""
    try:
        server = socket.create_connection(("127.0.0.1", up_port))
    except OSError:
        client.close()
        return
    sent = 0
    buf = bytearray()
    head_len = None
    up_open = True
    try:
        while True:
            ready, _, _ = select.select(
                [server, client] if up_open else [server], [], [])
            if client in ready:
                b = client.recv(65536)
                if b:
                    server.sendall(b)
                else:
                    up_open = False
                    server.shutdown(socket.SHUT_WR)
            if server not in ready:
                continue
            b = server.recv(65536)
            if not b:
                break
            if cut is None:
                client.sendall(b)
                continue
            buf += b
            if head_len is None:
                i = buf.find(b"\r\n\r\n")
                if i >= 0:
                    head_len = i + 4
            at = cut_at(cut, buf, head_len)
            if at is not None and at < len(buf):
                client.sendall(buf[sent:at])
                with lock:
                    if log:
                        log.write("cut %d %d %s %s\n" % (n, at, cut[2], cut[0]))
                        log.flush()
                cut_client(client, cut[2])
                server.close()
                return
            # Pass on all that cannot be the place to cut. Unknown yet, it
            # lies ahead, but for a chunk-size line that has not come whole:
            # the CRLF before it may be in the last bytes.
            keep = len(buf)
            if at is None and cut[0] == "framing" and head_len is not None:
                keep = max(sent, len(buf) - 16)
            client.sendall(buf[sent:keep])
            sent = keep
    except OSError:
        pass
    try:
        if cut is not None:
            client.sendall(buf[sent:])
        client.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    client.close()
    server.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cuts", type=int, default=50)
    ap.add_argument("--where", choices=["head", "body", "any"],
                    default="any")
    ap.add_argument("--log")
    ap.add_argument("upstream", type=int)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    log = open(a.log, "a") if a.log else None
    lock = threading.Lock()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(128)
    print(s.getsockname()[1], flush=True)
    n = 0
    while True:
        client, _ = s.accept()
        n += 1
        cut = plan(rng, a.where) if n <= a.cuts else None
        threading.Thread(target=relay,
                         args=(n, client, a.upstream, cut, log, lock),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
