#!/usr/bin/env python3
"""A client that asks for a stream and never reads it: its receive buffer
is small (1 KB), so the server's socket to it fills at once.

Usage: stuck_client.py PORT [PATH]. Prints "sent" once the request is out,
then holds the connection (at most 120 s) without reading a byte."""
import socket
import sys
import time

s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.connect(("127.0.0.1", int(sys.argv[1])))
path = sys.argv[2] if len(sys.argv) > 2 else "/events"
s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
print("sent", flush=True)
time.sleep(120)
