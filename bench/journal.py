#!/usr/bin/env python3
"""make bench: sse serve --journal, ingestion and restart.

Usage: bench/journal.py [--quick]

Ingestion: N lines through `sse serve`, from the first fed to the last
one at a client (flat out, the journal in this machine's temporary
directory), without a
journal, with one at the default --fsync (1 s) and with --fsync always:
the best of three runs each, as ratios in one run (issue 11's targets:
at least 0.8x and 0.3x). Restart: a journal of 1,000,000 events
(--history 1000000), the time from starting the server to the first
client served (target: under 1 s). Every process started is waited for
or stopped by PID.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SSE = os.path.abspath(os.environ.get("SSE_BIN", os.path.join(ROOT, "sse")))
HIST = ["--history", "1000000", "--history-bytes", "256M"]


def serving(p):
    """The port once the server p says it serves."""
    for line in p.stderr:
        if line.startswith("sse: serving "):
            return int(line.rsplit(":", 1)[1].strip().rstrip("/"))
    raise RuntimeError("the server did not start")


def ingest(lines, n, journal, extra):
    """Seconds from the first line fed to the last one at a client (best
    of three): the journal is written before a client sees an event."""
    best = None
    last = f"data: event {n} ".encode()
    for _ in range(3):
        args = [SSE, "serve", "-p", "0", "--no-viewer", "--backlog", "0"] + HIST
        if journal:
            shutil.rmtree(journal, ignore_errors=True)
            args += ["--journal", journal] + extra
        inp = open(lines, "rb")
        r, w = os.pipe()
        p = subprocess.Popen(args, stdin=r, stderr=subprocess.PIPE, text=True)
        os.close(r)
        try:
            s = socket.create_connection(("127.0.0.1", serving(p)))
            s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(4096)  # the head: connected
            t0 = time.monotonic()
            feeder = subprocess.Popen(["cat"], stdin=inp, stdout=w)
            os.close(w)
            w = -1
            buf = b""
            while last not in buf:
                buf = buf[-200:] + s.recv(1 << 20)
            t = time.monotonic() - t0
            feeder.wait()
            s.close()
        finally:
            if w != -1:
                os.close(w)
            inp.close()
            p.terminate()
            p.wait()
        best = t if best is None or t < best else best
    return best


def restart(journal):
    """Seconds from starting a server on journal to a client served."""
    t0 = time.monotonic()
    p = subprocess.Popen([SSE, "serve", "-p", "0", "--no-viewer", "--journal", journal] + HIST,
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        s = socket.create_connection(("127.0.0.1", serving(p)))
        s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        while b"data: " not in s.recv(65536):
            pass
        t = time.monotonic() - t0
        s.close()
        return t
    finally:
        p.terminate()
        p.wait()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    n = 200_000 if a.quick else 2_000_000
    tmp = tempfile.mkdtemp(prefix="sse-bench-journal-")
    try:
        lines = os.path.join(tmp, "lines")
        with open(lines, "w") as f:
            for i in range(1, n + 1):
                f.write(f"event {i} {'x' * 40}\n")
        j = os.path.join(tmp, "j")
        none = ingest(lines, n, None, [])
        dflt = ingest(lines, n, j, [])
        always = ingest(lines, n, j, ["--fsync", "always"])
        shutil.rmtree(j, ignore_errors=True)
        ingest_once = [SSE, "serve", "-p", "0", "--exit-on-eof", "--journal", j] + HIST
        with open(lines, "rb") as inp:  # 1M held: the history's bound
            subprocess.run(ingest_once, stdin=inp, stderr=subprocess.DEVNULL, check=True)
        back = restart(j)
        rows = [
            ("journal: ingest, no journal (events/s)", n / none, ""),
            ("journal: ingest, --journal (default fsync) / none", none / dflt, ">= 0.8"),
            ("journal: ingest, --fsync always / none", none / always, ">= 0.3"),
            ("journal: restart, first client served (s)", back, "< 1"),
        ]
        for name, v, target in rows:
            print(f"{name:<52} {v:>12.2f}  {target}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
