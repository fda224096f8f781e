#!/usr/bin/env python3
"""A scripted HTTP server for testing SSE clients: exact bytes, chosen chunk
boundaries and delays, statuses, content types, redirects, dropped
connections. Standard library only.

Usage: sse_server.py [--log FILE] [--tls CERT KEY] SCRIPT

It binds 127.0.0.1 on an ephemeral port, prints the port on stdout, and
answers each request with the next response of SCRIPT (the last one is
repeated for any further requests). One request per connection. With
--log, each request is appended to FILE as a JSON line:
{"n": 1, "t": 1700000000.25, "method": "GET", "path": "/",
 "headers": [["Accept", "..."], ...], "body": "..."}: t is when the request
arrived (seconds), the body is decoded as Latin-1 so every byte survives.
With --tls, it speaks HTTPS with that certificate and key (PEM files).

SCRIPT holds responses separated by lines of "---". In a response:

  status CODE [REASON]     default 200 OK
  header Name: value       add a header (replaces a default of that name)
  noheader Name            drop a default header
  framing chunked|close|length
                           chunked (default): each send is one HTTP chunk;
                           close: raw bytes, the end is the connection
                           closing; length: a Content-Length of all sends
  send LITERAL             send bytes: a Python string or bytes literal
                           or an expression of them, e.g.
                           send "data: é\\n\\n", send b"\\xef\\xbb",
                           send "data: " + "x" * 2000 + "\\n\\n"
  repeat N LITERAL         send LITERAL N times in one write, with {i}
                           replaced by the count (0 .. N-1)
  sleep SECS               pause
  rawhead LITERAL          send LITERAL as the whole response head instead
                           of the one made from status and header (e.g.
                           one cut short, with no blank line)
  drop                     reset the connection (RST) and stop
  cut                      close the connection without ending the body
  hang [SECS]              keep the connection open until the client
                           closes it (at most SECS, default 60)
  end                      end the body properly and close (implicit)

Lines starting with # are comments. Default headers: Content-Type:
text/event-stream, Cache-Control: no-cache, Connection: close.
"""

import json
import socket
import ssl
import struct
import sys
import threading
import time


def parse_script(text):
    responses, cur = [], []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "---":
            responses.append(cur)
            cur = []
            continue
        word, _, rest = line.partition(" ")
        cur.append((word, rest))
    responses.append(cur)
    return responses


def literal(arg):
    # an expression over literals, e.g. "data: " + "x" * 2000 + "\n\n"
    v = eval(arg, {"__builtins__": {}})  # the test's own script

    return v.encode("utf-8") if isinstance(v, str) else v


class Server:
    def __init__(self, script, log):
        self.responses = parse_script(script)
        self.log = log
        self.lock = threading.Lock()
        self.count = 0

    def next_response(self, req):
        with self.lock:
            self.count += 1
            n = self.count
            if self.log:
                req["n"] = n
                req["t"] = time.time()
                with open(self.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps(req) + "\n")
            return self.responses[min(n, len(self.responses)) - 1]


def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
        if len(data) > 1 << 20:
            return None
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
    headers = []
    for h in lines[1:]:
        name, _, value = h.partition(":")
        headers.append([name.strip(), value.strip()])
    length = 0
    for name, value in headers:
        if name.lower() == "content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return {"method": method, "path": path, "headers": headers,
            "body": body.decode("latin-1")}


def respond(conn, steps):
    status, reason = 200, "OK"
    headers = [["Content-Type", "text/event-stream"],
               ["Cache-Control", "no-cache"], ["Connection", "close"]]
    framing = "chunked"
    body_steps = []
    rawhead = None
    for word, arg in steps:
        if word == "rawhead":
            rawhead = literal(arg)
        elif word == "status":
            code, _, why = arg.partition(" ")
            status, reason = int(code), why or "Status"
        elif word == "header":
            name, _, value = arg.partition(":")
            headers = [h for h in headers if h[0].lower() != name.lower()]
            headers.append([name.strip(), value.strip()])
        elif word == "noheader":
            headers = [h for h in headers if h[0].lower() != arg.lower()]
        elif word == "framing":
            framing = arg
        else:
            body_steps.append((word, arg))
    if framing == "chunked":
        headers.append(["Transfer-Encoding", "chunked"])
    elif framing == "length":
        total = sum(len(literal(a)) for w, a in body_steps if w == "send")
        headers.append(["Content-Length", str(total)])
    head = "HTTP/1.1 %d %s\r\n" % (status, reason)
    head += "".join("%s: %s\r\n" % (n, v) for n, v in headers) + "\r\n"
    conn.sendall(rawhead if rawhead is not None else head.encode("latin-1"))

    def send(b):
        if framing == "chunked":
            if b:
                conn.sendall(b"%x\r\n" % len(b) + b + b"\r\n")
        else:
            conn.sendall(b)

    for word, arg in body_steps:
        if word == "send":
            send(literal(arg))
        elif word == "repeat":
            count, _, lit = arg.partition(" ")
            tmpl = literal(lit)
            send(b"".join(tmpl.replace(b"{i}", str(i).encode())
                          for i in range(int(count))))
        elif word == "sleep":
            time.sleep(float(arg))
        elif word == "drop":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            return
        elif word == "cut":
            return
        elif word == "hang":
            conn.settimeout(float(arg) if arg else 60.0)
            try:
                while conn.recv(65536):
                    pass
            except OSError:
                pass
            return
        elif word == "end":
            break
        else:
            raise ValueError("unknown step %r" % word)
    if framing == "chunked":
        conn.sendall(b"0\r\n\r\n")


def handle(server, conn, tls):
    try:
        if tls is not None:
            conn = tls.wrap_socket(conn, server_side=True)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        req = read_request(conn)
        if req is not None:
            respond(conn, server.next_response(req))
    except OSError:
        pass
    finally:
        conn.close()


def main():
    args = sys.argv[1:]
    log, tls = None, None
    while len(args) > 1 and args[0].startswith("--"):
        if args[0] == "--log":
            log, args = args[1], args[2:]
        elif args[0] == "--tls" and len(args) > 3:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(args[1], args[2])
            args = args[3:]
        else:
            break
    if len(args) != 1:
        sys.exit("usage: sse_server.py [--log FILE] [--tls CERT KEY] SCRIPT")
    with open(args[0], encoding="utf-8") as f:
        server = Server(f.read(), log)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    print(sock.getsockname()[1], flush=True)
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handle, args=(server, conn, tls),
                         daemon=True).start()


if __name__ == "__main__":
    main()
